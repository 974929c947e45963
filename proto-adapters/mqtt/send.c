/* proto-adapters/mqtt/send.c — publishing, the same for both transports.
 *
 * Written messages wait in a ring until the transport takes them; at most MAX_INFLIGHT are
 * with it at once (queued in the library or waiting for PUBACK/PUBCOMP), in a list in the
 * order handed over. A completion (mqtt_send_done(), on the loop) reports the message sent
 * (the core's queue accounting, which makes a fast producer wait) or refused. With paho a
 * completion is a callback on its thread and a hand-over, so only every COVER-th QoS 0
 * publish (and the last of a burst) asks for one, which then stands for the QoS 0 publishes
 * before it (paho writes one client's publishes in order); libmosquitto tells each publish
 * on our thread for nothing. A publish that a lost connection interrupted goes back to the
 * front of the ring when we reconnect. */
#include "mqtt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "msgq.h"
#include "xalloc.h"

#define MAX_INFLIGHT 256
#define COVER 32 /* QoS 0 publishes per completion, at most (transports with cover_qos0) */

/* One publish with the transport: the message and its completion. */
struct mqtt_send {
	struct mqtt *w;
	struct oc_msg *m;
	struct mqtt_send *prev, *next;
	int id;        /* the transport's id for it (libmosquitto's mid), or 0 */
	bool covered;  /* QoS 0 without a completion: completed by a later one's */
};

static void unlink_send(struct mqtt_send *s)
{
	struct mqtt *w = s->w;
	if (s->prev)
		s->prev->next = s->next;
	else
		w->inflight = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		w->inflight_tail = s->prev;
	w->ninflight--;
}

static void append_send(struct mqtt *w, struct mqtt_send *s)
{
	s->prev = w->inflight_tail;
	s->next = NULL;
	if (w->inflight_tail)
		w->inflight_tail->next = s;
	else
		w->inflight = s;
	w->inflight_tail = s;
	w->ninflight++;
}

void mqtt_send_set_id(struct mqtt_send *s, int id)
{
	s->id = id;
}

/* Completions come mostly in order: the search usually ends at the head. */
struct mqtt_send *mqtt_send_find(struct mqtt *w, int id)
{
	for (struct mqtt_send *s = w->inflight; s; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

/* ---- properties -------------------------------------------------------------------------- */

void mqtt_props_add(struct mqtt_props *p, int id, const char *s, size_t slen, const char *v,
		    size_t vlen, unsigned num)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 8;
		p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
	}
	p->v[p->n++] = (struct mqtt_prop){ id, s, slen, v, vlen, num };
}

const struct mqtt_prop *mqtt_props_get(const struct mqtt_props *p, int id)
{
	for (unsigned i = 0; p && i < p->n; i++)
		if (p->v[i].id == id)
			return &p->v[i];
	return NULL;
}

void mqtt_props_release(struct mqtt_props *p)
{
	free(p->v);
	*p = (struct mqtt_props){ 0 };
}

/* What every message of this endpoint carries: -H as user properties, then --content-type
 * and --expiry; read from the options once, not per message. */
static void fixed_props(struct mqtt *w)
{
	struct mqtt_props *p = &w->fixprops;
	size_t i = 0, nl;
	const char *h, *v;
	w->fixprops_done = true;
	while ((h = oc_cfg_next_header(w->ep->cfg, &i, &nl, &v)))
		mqtt_props_add(p, MQTT_P_USER, h, nl, v, strlen(v), 0);
	const char *ct = oc_ep_opt(w->ep, "content-type");
	if (ct)
		mqtt_props_add(p, MQTT_P_CONTENT_TYPE, ct, strlen(ct), NULL, 0, 0);
	const char *exp = oc_ep_opt(w->ep, "expiry");
	if (exp)
		mqtt_props_add(p, MQTT_P_EXPIRY, NULL, 0, NULL, 0, (unsigned)strtod(exp, NULL));
}

void mqtt_props_from_msg(struct mqtt *w, const struct oc_msg *m, struct mqtt_props *props)
{
	if (!w->fixprops_done)
		fixed_props(w);
	const struct mqtt_props *fx = &w->fixprops;
	unsigned k = 0;
	/* -H first, then the message's own headers (--jsonl) */
	for (; k < fx->n && fx->v[k].id == MQTT_P_USER; k++)
		mqtt_props_add(props, MQTT_P_USER, fx->v[k].s, fx->v[k].slen, fx->v[k].v,
			       fx->v[k].vlen, 0);
	for (unsigned i = 0; m && i < m->nhdrs; i++)
		mqtt_props_add(props, MQTT_P_USER, m->hdrs[i].name, strlen(m->hdrs[i].name),
			       m->hdrs[i].value, strlen(m->hdrs[i].value), 0);
	const char *ct = m ? m->f[OC_F_CONTENT_TYPE] : NULL;
	for (; k < fx->n; k++) /* the option's content type unless the message has one */
		if (fx->v[k].id != MQTT_P_CONTENT_TYPE || !ct)
			mqtt_props_add(props, fx->v[k].id, fx->v[k].s, fx->v[k].slen, NULL, 0,
				       fx->v[k].num);
	if (ct)
		mqtt_props_add(props, MQTT_P_CONTENT_TYPE, ct, strlen(ct), NULL, 0, 0);
	if (m && m->f[OC_F_ID] && w->ep->role == OC_ROLE_PUB) /* --jsonl "id" */
		mqtt_props_add(props, MQTT_P_CORRELATION, m->f[OC_F_ID], strlen(m->f[OC_F_ID]),
			       NULL, 0, 0);
}

/* ---- completions ------------------------------------------------------------------------- */

static void maybe_flushed(struct mqtt *w)
{
	if (w->shut && !w->q.len && !w->ninflight && !w->closing && !w->ended && !w->flushed) {
		w->flushed = true;
		oc_ep_flushed(w->ep);
	}
}

static void refused(struct mqtt *w, struct oc_msg *m, int reason)
{
	char why[300];
	snprintf(why, sizeof(why), "the broker refused a message on '%s': %s (0x%02x)",
		 m->f[OC_F_TOPIC] ? m->f[OC_F_TOPIC] : w->topic, w->tr->reason_str(reason),
		 (unsigned)reason);
	oc_ep_dropped(w->ep, m);
	if (!w->ended) {
		w->ended = true;
		oc_ep_fail(w->ep, mqtt_reason_err(reason), "'%s': %s", w->ep->name, why);
	}
}

/* One publish's outcome. */
static void complete(struct mqtt *w, struct mqtt_send *s, bool ok, int reason)
{
	unlink_send(s);
	if (w->closing)
		oc_msg_unref(s->m);
	else if (ok)
		oc_ep_sent(w->ep, s->m);
	else if (reason >= 0x80)
		refused(w, s->m, reason);
	else if (w->ep->cfg->reconnect || w->session)
		oc_msgq_push_front(&w->q, s->m); /* interrupted: again after the reconnect */
	else
		oc_ep_dropped(w->ep, s->m);
	free(s);
}

void mqtt_send_done(struct mqtt *w, struct mqtt_send *s, bool ok, int reason)
{
	/* the QoS 0 publishes handed over before s went out before it */
	for (struct mqtt_send *c = w->inflight, *n; c && c != s; c = n) {
		n = c->next;
		if (c->covered)
			complete(w, c, ok, 0);
	}
	complete(w, s, ok, reason);
	mqtt_send_pump(w);
}

/* Last first, each to the front of the ring: they go again in their order. */
void mqtt_send_interrupted(struct mqtt *w)
{
	while (w->inflight_tail)
		complete(w, w->inflight_tail, false, 0);
}

/* ---- handing over ------------------------------------------------------------------------ */

/* Hand m to the transport; last: no more follow now (its completion must be asked for).
 * Returns false when it would not take it now (not connected). */
static bool publish(struct mqtt *w, struct oc_msg *m, bool last)
{
	struct mqtt_send *s = xcalloc(1, sizeof(*s));
	s->w = w;
	s->m = m;
	struct mqtt_pub p = {
		.topic = m->f[OC_F_TOPIC] && *m->f[OC_F_TOPIC] ? m->f[OC_F_TOPIC] : w->topic,
		.data = m->data,
		.len = m->len,
		.qos = (m->flags & OC_MSG_QOS) && m->qos >= 0 && m->qos <= 2 ? m->qos : w->qos,
		.retain = (m->flags & OC_MSG_RETAIN) ? m->retain : w->ep->cfg->retain,
	};
	s->covered = w->tr->cover_qos0 && p.qos == 0 && !last && w->uncovered + 1 < COVER;
	p.want_done = !s->covered;
	if (w->v5) {
		w->pubprops.n = 0;
		mqtt_props_from_msg(w, m, &w->pubprops);
		if (w->ep->role == OC_ROLE_CLIENT)
			mqtt_rr_request_props(w, m, &w->pubprops);
		p.props = &w->pubprops;
	}
	append_send(w, s); /* first: a transport may complete it at once */
	char why[200];
	int rc = w->tr->publish(w, s, &p, why, sizeof(why));
	if (rc == 0) {
		w->uncovered = s->covered ? w->uncovered + 1 : 0;
		oc_trace_bytes(w->ep->name, "published", m->data, m->len);
		return true;
	}
	unlink_send(s);
	free(s);
	if (rc == MQTT_PUB_AGAIN)
		return false;
	oc_ep_dropped(w->ep, m);
	w->ended = true;
	oc_ep_fail(w->ep, rc, "'%s': cannot publish to '%s': %s", w->ep->name, p.topic, why);
	return true;
}

/* How many publishes the library may hold. With MQTT 5 the broker's Receive Maximum bounds
 * the QoS 1 and 2 publishes in flight; paho parks the rest in its command list and, once a
 * PUBACK frees a place, only looks again on its next timed wake-up (up to a second, which
 * made 2000 QoS 1 messages take 12 s). Handing over no more than fits keeps each of our
 * sends the signal that wakes paho's sender. */
static unsigned inflight_max(const struct mqtt *w)
{
	if (w->receive_max > 0 && (unsigned)w->receive_max < MAX_INFLIGHT && w->qos > 0)
		return (unsigned)w->receive_max;
	return MAX_INFLIGHT;
}

void mqtt_send_pump(struct mqtt *w)
{
	unsigned max = inflight_max(w);
	while (w->connected && !w->closing && !w->ended && w->q.len && w->ninflight < max) {
		struct oc_msg *m = oc_msgq_pop(&w->q);
		if (!publish(w, m, w->q.len == 0 || w->ninflight + 1 >= max)) {
			oc_msgq_push_front(&w->q, m);
			break;
		}
	}
	maybe_flushed(w);
}

void mqtt_send_write(struct mqtt *w, struct oc_msg *m)
{
	oc_msgq_push(&w->q, m);
	mqtt_send_pump(w);
}

void mqtt_send_drop(struct mqtt *w)
{
	struct oc_msg *m;
	while ((m = oc_msgq_pop(&w->q)))
		oc_ep_dropped(w->ep, m);
}

/* The transport is gone: what it never completed will not complete. */
void mqtt_send_release(struct mqtt *w)
{
	while (w->inflight) {
		struct mqtt_send *s = w->inflight;
		unlink_send(s);
		oc_msg_unref(s->m);
		free(s);
	}
	mqtt_send_drop(w);
	oc_msgq_release(&w->q);
}

bool mqtt_send_idle(const struct mqtt *w)
{
	return !w->q.len && !w->ninflight;
}
