/* proto-adapters/mqtt/recv.c — arrivals and subscriptions.
 *
 * paho's thread calls mqtt_on_arrived() with each PUBLISH. It copies what it needs (paho's
 * message stays paho's), hands the copy to the loop and, at QoS 1 and 2, waits until the
 * loop has written the message downstream (mqtt.h says why); at QoS 0 it waits only while
 * RX_WINDOW messages are unwritten, so a blocked sink stops paho's reading, and the socket,
 * rather than growing a queue. */
#include "mqtt.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "log.h"
#include "msgq.h"
#include "xalloc.h"

#define RX_WINDOW 1024         /* QoS 0 arrivals not yet written, at most */
#define RETAINED_QUIET_MS 500  /* --retained-only: the retained ones came this long ago */

/* An arrival on its way from paho's thread to the loop, in one block with its topic and
 * payload (one allocation per message: paho's thread allocates, the loop frees). Its
 * owners: the loop until the message is written and, when the callback waits for that
 * (parked), the callback too; then refs, done and delivered are under w->lock. */
struct mqtt_rx {
	struct mqtt *w;
	bool parked;        /* the callback waits for it (set before it is posted) */
	int refs;           /* 2 while parked, else 1 */
	bool done;          /* written or given up */
	bool delivered;     /* written */
	int qos;
	int msgid;          /* the packet id (QoS 1 and 2), 0 if none */
	bool retained;
	bool has_props;
	MQTTProperties props;
	size_t len;         /* payload bytes at data */
	char *data;         /* into the block, after the topic */
	char topic[];
};

static void rx_free(struct mqtt_rx *r)
{
	if (r->has_props)
		MQTTProperties_free(&r->props);
	free(r);
}

/* The window of unwritten QoS 0 arrivals has room again: wake a callback waiting for it. */
static void window_moved(struct mqtt *w)
{
	unsigned left = atomic_fetch_sub(&w->outstanding, 1) - 1;
	if (atomic_load(&w->waiting) && left <= RX_WINDOW) {
		pthread_mutex_lock(&w->lock);
		pthread_cond_broadcast(&w->cond);
		pthread_mutex_unlock(&w->lock);
	}
}

/* The message is written (or will never be): release it, and wake a parked callback. */
static void rx_finish(struct mqtt_rx *r, bool delivered)
{
	struct mqtt *w = r->w;
	if (!r->parked) { /* the loop's alone: nobody waits for this one */
		rx_free(r);
		window_moved(w);
		return;
	}
	pthread_mutex_lock(&w->lock);
	r->done = true;
	r->delivered = delivered;
	if (--r->refs == 0)
		rx_free(r);
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	window_moved(w);
}

static void rx_written(struct oc_msg *m, void *arg)
{
	rx_finish(arg, (m->flags & OC_MSG_DELIVERED) != 0);
}

/* ---- the loop's side --------------------------------------------------------------------- */

void mqtt_recv_resume(struct mqtt *w)
{
	while (!w->paused && w->held.len && !w->closing)
		oc_ep_emit(w->ep, oc_msgq_pop(&w->held));
}

static void retained_done(struct mqtt *w)
{
	if (!w->ended && !w->closing) {
		w->ended = true;
		oc_ep_eof(w->ep);
	}
}

static void quiet_cb(uv_timer_t *t)
{
	retained_done(t->data);
}

/* --retained-only: the run ends once RETAINED_QUIET_MS pass without a retained message
 * (they come right after the SUBACK), or at the first message that is not retained. */
static void retained_quiet_restart(struct mqtt *w)
{
	if (!w->quiet) {
		w->quiet = xmalloc(sizeof(*w->quiet));
		uv_timer_init(uv_default_loop(), w->quiet);
		w->quiet->data = w;
	}
	uv_timer_start(w->quiet, quiet_cb, RETAINED_QUIET_MS, 0);
}

static void props_to_msg(struct oc_msg *m, const MQTTProperties *props)
{
	for (int i = 0; i < props->count; i++) {
		const MQTTProperty *p = &props->array[i];
		switch (p->identifier) {
		case MQTTPROPERTY_CODE_USER_PROPERTY:
			oc_msg_add_header(m, p->value.data.data, (size_t)p->value.data.len,
					  p->value.value.data, (size_t)p->value.value.len);
			break;
		case MQTTPROPERTY_CODE_CONTENT_TYPE:
			oc_msg_set(m, OC_F_CONTENT_TYPE, p->value.data.data, (size_t)p->value.data.len);
			break;
		case MQTTPROPERTY_CODE_CORRELATION_DATA:
			oc_msg_set(m, OC_F_ID, p->value.data.data, (size_t)p->value.data.len);
			break;
		default:
			break;
		}
	}
}

static void arrived_on_loop(void *arg)
{
	struct mqtt_rx *r = arg;
	struct mqtt *w = r->w;
	struct oc_ep *ep = w->ep;
	if (w->closing || w->ended) {
		rx_finish(r, false);
		return;
	}
	bool retained_only = oc_ep_opt_flag(ep, "retained-only");
	if (r->retained && oc_ep_opt_flag(ep, "no-retained")) { /* 3.1.1 has no retain handling */
		rx_finish(r, true);
		return;
	}
	if (retained_only && !r->retained) {
		rx_finish(r, false);
		retained_done(w);
		return;
	}
	struct oc_msg *m = oc_msg_new();
	oc_msg_set_payload_copy(m, r->data, r->len);
	oc_msg_set_str(m, OC_F_TOPIC, r->topic);
	oc_msg_set_qos(m, r->qos);
	oc_msg_set_retain(m, r->retained);
	if (r->msgid) { /* the packet id: its correlation data, if any, replaces it below */
		char id[16];
		snprintf(id, sizeof(id), "%d", r->msgid);
		oc_msg_set_str(m, OC_F_ID, id);
	}
	if (r->has_props)
		props_to_msg(m, &r->props);
	oc_trace_bytes(ep->name, "received", m->data, m->len);
	if (retained_only)
		retained_quiet_restart(w);
	if (ep->role == OC_ROLE_CLIENT) {
		/* A requester's responses are answered by the order of its requests, not the
		 * order of arrival: holding paho's thread for one would block the other. */
		rx_finish(r, true);
		mqtt_rr_arrived(w, m, NULL);
		return;
	}
	m->on_done = rx_written;
	m->done_arg = r;
	if (ep->role == OC_ROLE_SERVER) {
		mqtt_rr_arrived(w, m, r->has_props ? &r->props : NULL);
		return;
	}
	if (w->paused || w->held.len)
		oc_msgq_push(&w->held, m);
	else
		oc_ep_emit(ep, m);
}

/* ---- paho's side ------------------------------------------------------------------------- */

/* Wait on the cond for at most a second (so a stall is noticed). */
static void wait_a_second(struct mqtt *w)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 1;
	pthread_cond_timedwait(&w->cond, &w->lock, &ts);
}

int mqtt_on_arrived(void *ctx, char *topic, int tlen, MQTTAsync_message *pm)
{
	struct mqtt *w = ctx;
	bool park = mqtt_may_park(w);
	if (atomic_load(&w->stop))
		return 0; /* closing: paho keeps it */
	size_t tl = tlen > 0 ? (size_t)tlen : strlen(topic), len = (size_t)pm->payloadlen;
	struct mqtt_rx *r = xmalloc(sizeof(*r) + tl + 1 + len);
	memset(r, 0, sizeof(*r));
	r->w = w;
	r->qos = pm->qos;
	r->msgid = pm->qos ? pm->msgid : 0;
	r->retained = pm->retained;
	r->parked = park && pm->qos;
	r->refs = r->parked ? 2 : 1;
	memcpy(r->topic, topic, tl);
	r->topic[tl] = 0;
	r->data = r->topic + tl + 1;
	memcpy(r->data, pm->payload, len);
	r->len = len;
	if (pm->properties.count) {
		r->has_props = true;
		r->props = MQTTProperties_copy(&pm->properties);
	}
	bool parked = r->parked; /* an r that is not parked is the loop's once posted */
	atomic_fetch_add(&w->outstanding, 1);
	oc_handoff_post(w->ho, arrived_on_loop, r);

	bool ok = true;
	if (parked) {
		int waited = 0;
		pthread_mutex_lock(&w->lock);
		while (!r->done && !atomic_load(&w->stop)) {
			wait_a_second(w);
			if (++waited > w->keepalive)
				w->stalled = true; /* the broker will drop us: see lost_on_loop() */
		}
		ok = r->done && r->delivered;
		if (--r->refs == 0)
			rx_free(r);
		pthread_mutex_unlock(&w->lock);
	} else if (park && atomic_load(&w->outstanding) > RX_WINDOW) {
		pthread_mutex_lock(&w->lock);
		atomic_fetch_add(&w->waiting, 1);
		while (atomic_load(&w->outstanding) > RX_WINDOW && !atomic_load(&w->stop))
			pthread_cond_wait(&w->cond, &w->lock);
		atomic_fetch_sub(&w->waiting, 1);
		pthread_mutex_unlock(&w->lock);
	}
	if (!ok)
		return 0; /* not written: paho keeps it (and its file, with --session) */
	MQTTAsync_freeMessage(&pm);
	MQTTAsync_free(topic);
	return 1;
}

void mqtt_recv_stop(struct mqtt *w)
{
	pthread_mutex_lock(&w->lock);
	atomic_store(&w->stop, true);
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

void mqtt_recv_release(struct mqtt *w)
{
	oc_msgq_release(&w->held);
}

/* ---- subscribing ------------------------------------------------------------------------- */

struct sub_result {
	struct mqtt *w;
	int reason; /* the first failure's reason code, 0 if none */
	int code;   /* paho's error, 0 if none */
};

static void subscribed_on_loop(void *arg)
{
	struct sub_result *s = arg;
	struct mqtt *w = s->w;
	int reason = s->reason, code = s->code;
	free(s);
	if (w->closing || w->ended)
		return;
	if (reason >= 0x80 || code) {
		char why[200];
		snprintf(why, sizeof(why), "the broker refused the subscription: %s (0x%02x)",
			 reason ? MQTTReasonCode_toString(reason) : MQTTAsync_strerror(code),
			 (unsigned)reason);
		w->ended = true;
		oc_ep_fail(w->ep, reason == 0x87 ? OC_EAUTH : OC_EPEER, "'%s': %s", w->ep->name, why);
		return;
	}
	w->subscribed = true;
	const char *filters[64];
	int n = mqtt_filters(w, filters, 64);
	for (int i = 0; i < n; i++)
		oc_verbose("'%s': subscribed to '%s' (QoS %d)", w->ep->name, filters[i], w->qos);
	if (oc_ep_opt_flag(w->ep, "retained-only"))
		retained_quiet_restart(w);
	if (!w->ready_sent) {
		w->ready_sent = true;
		oc_ep_ready(w->ep);
	}
}

static void post_sub(struct mqtt *w, int reason, int code)
{
	struct sub_result *s = xcalloc(1, sizeof(*s));
	s->w = w;
	s->reason = reason;
	s->code = code;
	oc_handoff_post(w->ho, subscribed_on_loop, s);
}

static void on_sub_ok5(void *ctx, MQTTAsync_successData5 *resp)
{
	struct mqtt *w = ctx;
	int reason = resp ? resp->reasonCode : 0;
	/* paho fills the list only for several filters (else the union holds nothing) */
	for (int i = 0; resp && w->nfilters > 1 && i < resp->alt.sub.reasonCodeCount; i++)
		if (resp->alt.sub.reasonCodes[i] >= 0x80 && reason < 0x80)
			reason = resp->alt.sub.reasonCodes[i];
	post_sub(ctx, reason, 0);
}

static void on_sub_fail5(void *ctx, MQTTAsync_failureData5 *resp)
{
	int reason = resp ? resp->reasonCode : 0;
	post_sub(ctx, reason, reason >= 0x80 ? 0 : resp ? resp->code : -1);
}

static void on_sub_ok(void *ctx, MQTTAsync_successData *resp)
{
	post_sub(ctx, resp && resp->alt.qos == 0x80 ? 0x80 : 0, 0);
}

static void on_sub_fail(void *ctx, MQTTAsync_failureData *resp)
{
	post_sub(ctx, 0x80, 0);
}

/* Called on paho's thread, from the connect's success callback (paho's own pattern): a
 * session's queued messages may arrive before the SUBACK and be waiting in
 * mqtt_on_arrived(), holding paho's lock, so the loop must not be the one calling paho. */
void mqtt_subscribe(struct mqtt *w)
{
	const char *filters[64];
	int qos[64];
	MQTTSubscribe_options opts[64];
	int n = mqtt_filters(w, filters, 64);
	w->nfilters = n; /* read by on_sub_ok5(), on paho's thread too */
	bool no_retained = oc_ep_opt_flag(w->ep, "no-retained");
	for (int i = 0; i < n; i++) {
		qos[i] = w->qos;
		opts[i] = (MQTTSubscribe_options)MQTTSubscribe_options_initializer;
		opts[i].retainHandling = no_retained ? 2 : 0; /* 2: send no retained messages */
	}
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	ro.context = w;
	if (mqtt_is_v5(w)) {
		ro.onSuccess5 = on_sub_ok5;
		ro.onFailure5 = on_sub_fail5;
		ro.subscribeOptionsCount = n;
		ro.subscribeOptionsList = opts;
	} else {
		ro.onSuccess = on_sub_ok;
		ro.onFailure = on_sub_fail;
	}
	int rc = MQTTAsync_subscribeMany(w->cli, n, (char *const *)filters, qos, &ro);
	if (rc != MQTTASYNC_SUCCESS)
		post_sub(w, 0, rc);
}
