/* proto-adapters/mqtt/rr.c — MQTT 5 request/response (mosquitto_rr's job, and its server).
 *
 * Requester (`client`): each message written is published to the URL's topic with a
 * response topic of our own (omnicat/reply/CLIENT-ID, the only subscription) and a
 * correlation number. Responses are matched by that number and emitted in the order of the
 * requests, each with its request's id; the endpoint ends once shut down and all answered.
 *
 * Responder (`server`): each request on the URL's topic is emitted (to stdout) with an id of
 * ours, and answered on its response topic with its correlation data: by a --exec child per
 * request (its output), --echo (the request's payload) or -d (a fixed payload; none: empty). */
#include "mqtt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect.h"
#include "data.h"
#include "err.h"
#include "log.h"
#include "xalloc.h"

#define EXEC_MAX_OUT (16u * 1024 * 1024) /* a --exec child's answer, at most */

/* A request: the requester's (waiting for its response) or the responder's (being answered). */
struct rr_wait {
	struct rr_wait *next;
	struct mqtt *w;
	char corr[24];              /* requester: our correlation number */
	char *id;                   /* requester: the request's own id, or NULL */
	struct oc_msg *answer;      /* requester: the response, once here */
	const struct oc_msg *req;   /* requester: the request, until published */
	char *reply_to;             /* responder: the response topic */
	char *corr_data;            /* responder: the correlation data to send back, or NULL */
	size_t corr_len;
	struct oc_collect *exec;    /* responder: the --exec child */
};

void mqtt_rr_init(struct mqtt *w)
{
	struct oc_ep *ep = w->ep;
	w->waits_tail = &w->waits;
	if (ep->role == OC_ROLE_CLIENT) {
		size_t n = strlen(w->client_id) + 32;
		w->reply_topic = xmalloc(n);
		snprintf(w->reply_topic, n, "omnicat/reply/%s", w->client_id);
	}
	if (ep->role == OC_ROLE_SERVER && ep->cfg->data) {
		char err[300];
		if (oc_data_load(ep->cfg->data, &w->fixed, &w->fixed_len, err, sizeof(err)))
			oc_notice("%s", err);
	}
}

static void wait_free(struct rr_wait *r)
{
	if (r->exec)
		oc_collect_cancel(r->exec);
	if (r->answer)
		oc_msg_unref(r->answer);
	free(r->id);
	free(r->reply_to);
	free(r->corr_data);
	free(r);
}

/* ---- requester --------------------------------------------------------------------------- */

void mqtt_rr_request_props(struct mqtt *w, const struct oc_msg *m, struct mqtt_props *props)
{
	for (struct rr_wait *r = w->waits; r; r = r->next) {
		if (r->req != m)
			continue;
		r->req = NULL; /* published: the pointer may be reused */
		mqtt_props_add(props, MQTT_P_RESPONSE_TOPIC, w->reply_topic, strlen(w->reply_topic),
			       NULL, 0, 0);
		mqtt_props_add(props, MQTT_P_CORRELATION, r->corr, strlen(r->corr), NULL, 0, 0);
		return;
	}
}

/* Responses go out in request order; after the last, with input ended, the end. */
static void emit_answered(struct mqtt *w)
{
	while (w->waits && w->waits->answer && !w->closing) {
		struct rr_wait *r = w->waits;
		w->waits = r->next;
		if (!w->waits)
			w->waits_tail = &w->waits;
		struct oc_msg *m = r->answer;
		r->answer = NULL;
		if (r->id)
			oc_msg_set_str(m, OC_F_ID, r->id);
		wait_free(r);
		oc_ep_emit(w->ep, m);
	}
	if (w->shut && !w->waits && mqtt_send_idle(w) && !w->ended && !w->closing) {
		w->ended = true;
		oc_ep_eof(w->ep);
	}
}

static void request_write(struct mqtt *w, struct oc_msg *m)
{
	struct rr_wait *r = xcalloc(1, sizeof(*r));
	r->w = w;
	snprintf(r->corr, sizeof(r->corr), "%lu", ++w->next_corr);
	r->id = m->f[OC_F_ID] ? xstrdup(m->f[OC_F_ID]) : NULL;
	r->req = m;
	*w->waits_tail = r;
	w->waits_tail = &r->next;
	mqtt_send_write(w, m);
}

static void response_arrived(struct mqtt *w, struct oc_msg *m)
{
	const char *corr = m->f[OC_F_ID];
	for (struct rr_wait *r = w->waits; corr && r; r = r->next) {
		if (!r->answer && !strcmp(r->corr, corr)) {
			r->answer = m;
			emit_answered(w);
			return;
		}
	}
	oc_verbose("'%s': a response nobody waits for (correlation '%s')", w->ep->name,
		   corr ? corr : "none");
	oc_msg_unref(m);
}

/* ---- responder --------------------------------------------------------------------------- */

static void answer(struct rr_wait *r, const void *data, size_t len)
{
	struct mqtt *w = r->w;
	struct mqtt_props props = { 0 };
	char why[200] = "not connected";
	if (r->corr_data)
		mqtt_props_add(&props, MQTT_P_CORRELATION, r->corr_data, r->corr_len, NULL, 0, 0);
	struct mqtt_pub p = { .topic = r->reply_to, .data = data, .len = len, .qos = w->qos,
			      .props = &props };
	int rc = w->connected ? w->tr->publish_raw(w, &p, why, sizeof(why)) : OC_ECONNECT;
	mqtt_props_release(&props);
	if (rc)
		oc_notice("'%s': cannot answer on '%s': %s", w->ep->name, r->reply_to, why);
}

static void unlink_req(struct rr_wait *r)
{
	struct mqtt *w = r->w;
	for (struct rr_wait **p = &w->open_reqs; *p; p = &(*p)->next)
		if (*p == r) {
			*p = r->next;
			return;
		}
}

static void exec_done(void *ud, int result, char *out, size_t len, const char *errmsg)
{
	struct rr_wait *r = ud;
	r->exec = NULL;
	if (result)
		oc_notice("%s", errmsg); /* no answer: the requester's timeout tells it */
	else
		answer(r, out, len);
	free(out);
	unlink_req(r);
	wait_free(r);
}

static void request_arrived(struct mqtt *w, struct oc_msg *m, const struct mqtt_props *props)
{
	const struct oc_cfg *cfg = w->ep->cfg;
	const struct mqtt_prop *rt = mqtt_props_get(props, MQTT_P_RESPONSE_TOPIC);
	const struct mqtt_prop *cd = mqtt_props_get(props, MQTT_P_CORRELATION);
	char id[32];
	snprintf(id, sizeof(id), "%lu", ++w->next_req);
	oc_msg_set_str(m, OC_F_ID, id);
	if (!rt) {
		oc_verbose("'%s': a request without a response topic: not answered", w->ep->name);
		oc_ep_emit(w->ep, m);
		return;
	}
	struct rr_wait *r = xcalloc(1, sizeof(*r));
	r->w = w;
	r->reply_to = xmemdup(rt->s, rt->slen);
	if (cd) {
		r->corr_data = xmemdup(cd->s, cd->slen);
		r->corr_len = cd->slen;
	}
	if (cfg->exec || cfg->exec_shell) {
		char err[400] = "";
		r->next = w->open_reqs;
		w->open_reqs = r;
		r->exec = oc_collect_exec(cfg, m, EXEC_MAX_OUT, exec_done, r, err, sizeof(err));
		if (!r->exec && err[0]) {
			oc_notice("%s", err);
			unlink_req(r);
			wait_free(r);
		}
	} else {
		if (cfg->echo)
			answer(r, m->data, m->len);
		else
			answer(r, w->fixed ? w->fixed : "", w->fixed_len);
		wait_free(r);
	}
	oc_ep_emit(w->ep, m);
}

/* ---- both -------------------------------------------------------------------------------- */

void mqtt_rr_write(struct mqtt *w, struct oc_msg *m)
{
	if (w->ep->role == OC_ROLE_CLIENT) {
		request_write(w, m);
		return;
	}
	oc_ep_dropped(w->ep, m); /* a responder answers by itself */
}

void mqtt_rr_arrived(struct mqtt *w, struct oc_msg *m, const struct mqtt_props *props)
{
	if (w->ep->role == OC_ROLE_CLIENT)
		response_arrived(w, m);
	else
		request_arrived(w, m, props);
}

bool mqtt_rr_idle(const struct mqtt *w)
{
	return !w->waits;
}

void mqtt_rr_release(struct mqtt *w)
{
	while (w->waits) {
		struct rr_wait *r = w->waits;
		w->waits = r->next;
		wait_free(r);
	}
	while (w->open_reqs) {
		struct rr_wait *r = w->open_reqs;
		w->open_reqs = r->next;
		wait_free(r);
	}
	free(w->reply_topic);
	free(w->fixed);
	w->reply_topic = w->fixed = NULL;
}
