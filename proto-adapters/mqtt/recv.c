/* proto-adapters/mqtt/recv.c — arrivals and subscriptions, the same for both transports.
 *
 * A transport hands each PUBLISH received to mqtt_arrived() on the loop with a token; the
 * token goes back through the transport's rx_done once the message was written downstream
 * (or dropped), which is when the transport lets the broker have its acknowledgement and
 * takes more (mosq.c, paho.c). */
#include "mqtt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "msgq.h"
#include "xalloc.h"

#define RETAINED_QUIET_MS 500 /* --retained-only: the retained ones came this long ago */

static void rx_written(struct oc_msg *m, void *arg)
{
	struct mqtt_rxref *token = arg;
	token->w->tr->rx_done(token, (m->flags & OC_MSG_DELIVERED) != 0);
}

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

static void props_to_msg(struct oc_msg *m, const struct mqtt_props *props)
{
	for (unsigned i = 0; props && i < props->n; i++) {
		const struct mqtt_prop *p = &props->v[i];
		switch (p->id) {
		case MQTT_P_USER:
			oc_msg_add_header(m, p->s, p->slen, p->v, p->vlen);
			break;
		case MQTT_P_CONTENT_TYPE:
			oc_msg_set(m, OC_F_CONTENT_TYPE, p->s, p->slen);
			break;
		case MQTT_P_CORRELATION:
			oc_msg_set(m, OC_F_ID, p->s, p->slen);
			break;
		default:
			break;
		}
	}
}

static struct oc_msg *msg_from(const struct mqtt_in *in)
{
	struct oc_msg *m = oc_msg_new();
	oc_msg_set_payload_copy(m, in->data, in->len);
	oc_msg_set_str(m, OC_F_TOPIC, in->topic);
	oc_msg_set_qos(m, in->qos);
	oc_msg_set_retain(m, in->retained);
	if (in->msgid) { /* the packet id: its correlation data, if any, replaces it below */
		char id[16];
		snprintf(id, sizeof(id), "%d", in->msgid);
		oc_msg_set_str(m, OC_F_ID, id);
	}
	props_to_msg(m, in->props);
	return m;
}

/* Whether an arrival is for the user at all (--no-retained, --retained-only); if not,
 * token is done with. */
static bool wanted(struct mqtt *w, const struct mqtt_in *in, struct mqtt_rxref *token)
{
	if (w->closing || w->ended) {
		w->tr->rx_done(token, false);
		return false;
	}
	if (in->retained && oc_ep_opt_flag(w->ep, "no-retained")) { /* 3.1.1 has no retain
								     * handling */
		w->tr->rx_done(token, true);
		return false;
	}
	if (oc_ep_opt_flag(w->ep, "retained-only")) {
		if (!in->retained) {
			w->tr->rx_done(token, false);
			retained_done(w);
			return false;
		}
		retained_quiet_restart(w);
	}
	return true;
}

void mqtt_arrived(struct mqtt *w, const struct mqtt_in *in, struct mqtt_rxref *token)
{
	struct oc_ep *ep = w->ep;
	if (!wanted(w, in, token))
		return;
	struct oc_msg *m = msg_from(in);
	oc_trace_bytes(ep->name, "received", m->data, m->len);
	if (ep->role == OC_ROLE_CLIENT) {
		/* A requester's responses are answered by the order of its requests, not the
		 * order of arrival: holding one back would block the others. */
		w->tr->rx_done(token, true);
		mqtt_rr_arrived(w, m, NULL);
		return;
	}
	m->on_done = rx_written;
	m->done_arg = token;
	if (ep->role == OC_ROLE_SERVER)
		mqtt_rr_arrived(w, m, in->props);
	else if (w->paused || w->held.len)
		oc_msgq_push(&w->held, m);
	else
		oc_ep_emit(ep, m);
}

void mqtt_recv_release(struct mqtt *w)
{
	oc_msgq_release(&w->held);
}

/* ---- subscribing ------------------------------------------------------------------------- */

void mqtt_subscribed(struct mqtt *w, int reason, const char *why)
{
	if (w->closing || w->ended)
		return;
	if (reason >= 0x80 || why) {
		w->ended = true;
		oc_ep_fail(w->ep, reason == 0x87 ? OC_EAUTH : OC_EPEER,
			   "'%s': the broker refused the subscription: %s (0x%02x)", w->ep->name,
			   why ? why : w->tr->reason_str(reason), (unsigned)reason);
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
