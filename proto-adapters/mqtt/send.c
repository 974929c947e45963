/* proto-adapters/mqtt/send.c — publishing.
 *
 * Written messages wait in a ring until paho takes them; at most MAX_INFLIGHT are with paho
 * at once (queued in its command list or waiting for PUBACK/PUBCOMP), in a list in the order
 * handed over. A completion comes back on paho's thread, is handed to the loop, and reports
 * the message sent (the core's queue accounting, which makes a fast producer wait) or
 * refused. paho writes one client's publishes in order, so at QoS 0 only every COVER-th
 * publish (and the last of a burst) asks for a completion, which then stands for the QoS 0
 * publishes before it: a callback and a hand-over per message was a third of the cost. A publish that the lost
 * connection interrupted goes back to the front of the ring when we reconnect. */
#include "mqtt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "msgq.h"
#include "xalloc.h"

#define MAX_INFLIGHT 256
#define COVER 32 /* QoS 0 publishes per completion callback, at most */

/* One publish with paho: the message and its completion. */
struct mqtt_send {
	struct mqtt *w;
	struct oc_msg *m;
	struct mqtt_send *prev, *next;
	bool covered;  /* QoS 0 without a callback: completed by a later one's */
	bool ok;
	int code;    /* paho's error code */
	int reason;  /* the PUBACK/PUBREC reason (MQTT 5) */
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
	if (w->inflight_tail)
		w->inflight_tail->next = s;
	else
		w->inflight = s;
	w->inflight_tail = s;
	w->ninflight++;
}

void mqtt_props_from_msg(struct mqtt *w, const struct oc_msg *m, MQTTProperties *props)
{
	const struct oc_cfg *cfg = w->ep->cfg;
	size_t i = 0, nl;
	const char *h, *v;
	/* -H first, then the message's own headers (--jsonl) */
	while ((h = oc_cfg_next_header(cfg, &i, &nl, &v))) {
		MQTTProperty p = { .identifier = MQTTPROPERTY_CODE_USER_PROPERTY };
		p.value.data.data = (char *)h;
		p.value.data.len = (int)nl;
		p.value.value.data = (char *)v;
		p.value.value.len = (int)strlen(v);
		MQTTProperties_add(props, &p);
	}
	for (unsigned k = 0; m && k < m->nhdrs; k++) {
		MQTTProperty p = { .identifier = MQTTPROPERTY_CODE_USER_PROPERTY };
		p.value.data.data = (char *)m->hdrs[k].name;
		p.value.data.len = (int)strlen(m->hdrs[k].name);
		p.value.value.data = (char *)m->hdrs[k].value;
		p.value.value.len = (int)strlen(m->hdrs[k].value);
		MQTTProperties_add(props, &p);
	}
	const char *ct = m && m->f[OC_F_CONTENT_TYPE] ? m->f[OC_F_CONTENT_TYPE]
						       : oc_ep_opt(w->ep, "content-type");
	if (ct) {
		MQTTProperty p = { .identifier = MQTTPROPERTY_CODE_CONTENT_TYPE };
		p.value.data.data = (char *)ct;
		p.value.data.len = (int)strlen(ct);
		MQTTProperties_add(props, &p);
	}
	if (m && m->f[OC_F_ID] && w->ep->role == OC_ROLE_PUB) { /* --jsonl "id" */
		MQTTProperty p = { .identifier = MQTTPROPERTY_CODE_CORRELATION_DATA };
		p.value.data.data = (char *)m->f[OC_F_ID];
		p.value.data.len = (int)strlen(m->f[OC_F_ID]);
		MQTTProperties_add(props, &p);
	}
	const char *exp = oc_ep_opt(w->ep, "expiry");
	if (exp) {
		MQTTProperty p = { .identifier = MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL };
		p.value.integer4 = (unsigned)strtod(exp, NULL);
		MQTTProperties_add(props, &p);
	}
}

static void maybe_flushed(struct mqtt *w)
{
	if (w->shut && !w->q.len && !w->ninflight && !w->closing && !w->ended && !w->flushed) {
		w->flushed = true;
		oc_ep_flushed(w->ep);
	}
}

/* One publish's outcome, on the loop. */
static void complete(struct mqtt *w, struct mqtt_send *s, bool ok, int reason)
{
	unlink_send(s);
	if (w->closing) {
		oc_msg_unref(s->m);
	} else if (ok) {
		oc_ep_sent(w->ep, s->m);
	} else if (reason >= 0x80) {
		char why[300];
		snprintf(why, sizeof(why), "the broker refused a message on '%s': %s (0x%02x)",
			 s->m->f[OC_F_TOPIC] ? s->m->f[OC_F_TOPIC] : "", MQTTReasonCode_toString(reason),
			 (unsigned)reason);
		oc_ep_dropped(w->ep, s->m);
		if (!w->ended) {
			w->ended = true;
			oc_ep_fail(w->ep, mqtt_reason_err(reason), "'%s': %s", w->ep->name, why);
		}
	} else if (w->ep->cfg->reconnect || w->session) {
		/* interrupted by a lost connection: again after the reconnect */
		oc_msgq_push_front(&w->q, s->m);
	} else {
		oc_ep_dropped(w->ep, s->m);
	}
	free(s);
}

static void completed_on_loop(void *arg)
{
	struct mqtt_send *s = arg;
	struct mqtt *w = s->w;
	/* the QoS 0 publishes handed over before s went out before it */
	for (struct mqtt_send *c = w->inflight, *n; c && c != s; c = n) {
		n = c->next;
		if (c->covered)
			complete(w, c, s->ok, 0);
	}
	complete(w, s, s->ok, s->reason);
	mqtt_send_pump(w);
}

static void on_sent5(void *ctx, MQTTAsync_successData5 *resp)
{
	struct mqtt_send *s = ctx;
	s->reason = resp ? resp->reasonCode : 0;
	s->ok = s->reason < 0x80;
	oc_handoff_post(s->w->ho, completed_on_loop, s);
}

static void on_failed5(void *ctx, MQTTAsync_failureData5 *resp)
{
	struct mqtt_send *s = ctx;
	s->code = resp ? resp->code : 0;
	s->reason = resp ? resp->reasonCode : 0;
	oc_handoff_post(s->w->ho, completed_on_loop, s);
}

static void on_sent(void *ctx, MQTTAsync_successData *resp)
{
	struct mqtt_send *s = ctx;
	s->ok = true;
	oc_handoff_post(s->w->ho, completed_on_loop, s);
}

static void on_failed(void *ctx, MQTTAsync_failureData *resp)
{
	struct mqtt_send *s = ctx;
	s->code = resp ? resp->code : 0;
	oc_handoff_post(s->w->ho, completed_on_loop, s);
}

/* The topic of a message: its own (--jsonl), else -t, else the URL's. */
static const char *topic_of(struct mqtt *w, const struct oc_msg *m)
{
	if (m->f[OC_F_TOPIC] && *m->f[OC_F_TOPIC])
		return m->f[OC_F_TOPIC];
	size_t i = 0;
	const char *opt = oc_cfg_next(w->ep->cfg, "topic", &i);
	return opt ? opt : mqtt_url_topic(w->ep);
}

/* Hand m to paho; last: no more follow now (its completion must be asked for). Returns
 * false when paho would not take it now (not connected). */
static bool publish(struct mqtt *w, struct oc_msg *m, bool last)
{
	struct mqtt_send *s = xcalloc(1, sizeof(*s));
	s->w = w;
	s->m = m;
	MQTTAsync_message pm = MQTTAsync_message_initializer;
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	pm.payload = (void *)m->data;
	pm.payloadlen = (int)m->len;
	pm.qos = (m->flags & OC_MSG_QOS) && m->qos >= 0 && m->qos <= 2 ? m->qos : w->qos;
	pm.retained = (m->flags & OC_MSG_RETAIN) ? m->retain : w->ep->cfg->retain;
	s->covered = pm.qos == 0 && !last && w->uncovered + 1 < COVER;
	w->uncovered = s->covered ? w->uncovered + 1 : 0;
	ro.context = s;
	if (mqtt_is_v5(w)) {
		mqtt_props_from_msg(w, m, &pm.properties);
		if (w->ep->role == OC_ROLE_CLIENT)
			mqtt_rr_request_props(w, m, &pm.properties);
		ro.onSuccess5 = s->covered ? NULL : on_sent5;
		ro.onFailure5 = s->covered ? NULL : on_failed5;
	} else {
		ro.onSuccess = s->covered ? NULL : on_sent;
		ro.onFailure = s->covered ? NULL : on_failed;
	}
	const char *topic = topic_of(w, m);
	int rc = MQTTAsync_sendMessage(w->cli, topic, &pm, &ro);
	MQTTProperties_free(&pm.properties);
	if (rc == MQTTASYNC_SUCCESS) {
		oc_trace_bytes(w->ep->name, "published", m->data, m->len);
		append_send(w, s);
		return true;
	}
	if (s->covered)
		w->uncovered--;
	free(s);
	if (rc == MQTTASYNC_DISCONNECTED || rc == MQTTASYNC_MAX_BUFFERED_MESSAGES)
		return false;
	oc_ep_dropped(w->ep, m);
	w->ended = true;
	oc_ep_fail(w->ep, OC_EUSAGE, "'%s': cannot publish to '%s': %s", w->ep->name, topic,
		   MQTTAsync_strerror(rc));
	return true;
}

/* How many publishes paho may hold. With MQTT 5 the broker's Receive Maximum bounds the
 * QoS 1 and 2 publishes in flight; paho parks the rest in its command list and, once a
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
		if (!publish(w, m, !w->q.len || w->ninflight + 1 >= max)) {
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

int mqtt_send_raw(struct mqtt *w, const char *topic, const void *data, size_t len, int qos,
		  MQTTProperties *props)
{
	MQTTAsync_message pm = MQTTAsync_message_initializer;
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	pm.payload = (void *)data;
	pm.payloadlen = (int)len;
	pm.qos = qos;
	if (props)
		pm.properties = *props;
	return MQTTAsync_sendMessage(w->cli, topic, &pm, &ro);
}

void mqtt_send_drop(struct mqtt *w)
{
	struct oc_msg *m;
	while ((m = oc_msgq_pop(&w->q)))
		oc_ep_dropped(w->ep, m);
}

/* paho is gone: what it never completed will not complete. */
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
