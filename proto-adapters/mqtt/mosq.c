/* proto-adapters/mqtt/mosq.c — the transport for mqtt:// and mqtts://: libmosquitto (2.0)
 * driven from our loop through its external-loop API.
 *
 * The client's socket is a uv_poll: readable → mosquitto_loop_read(), writable →
 * mosquitto_loop_write(); a one-second timer runs mosquitto_loop_misc() (keepalive). Its
 * callbacks run inside those calls, on the loop thread, so there is no hand-over and no
 * lock. A publisher's client object lives for one connection: a lost connection destroys
 * it, and what it had in flight goes back to the send queue (send.c), as with paho; a
 * subscriber keeps its client (keeps_client()).
 *
 * Ack after write. libmosquitto answers a QoS 1 PUBLISH (PUBACK; QoS 2: PUBREC) as it
 * parses it, before on_message. In "threaded" mode (mosquitto_threaded_set(true): we promise
 * to drive it, nothing more) it only queues what it sends and writes nothing until
 * mosquitto_loop_write(). So we call loop_write only while every arrival handed on has been
 * written downstream (outstanding == 0): the acknowledgements of a batch read leave together,
 * after the batch is written, and a crash or a blocked stdout leaves them unsent — the
 * broker sends those messages again (with --session) and nothing acknowledged is lost. QoS 2
 * is weaker: libmosquitto hands a message over only at its PUBREL, which comes after our
 * PUBREC, and keeps it in memory meanwhile; a crash loses the QoS 2 messages acknowledged
 * with a PUBREC and not yet written (at most the broker's in-flight window for us). The
 * same gate batches our own writes: the publishes queued while handling one read leave in one
 * go. A QoS 1/2 arrival that was dropped, not written (closing, -c reached), poisons the
 * queue: such a client is closed without a DISCONNECT (so no acknowledgement leaves; the
 * broker sends a will, if any, and with --session the unacknowledged messages again).
 *
 * Reading stops while the owner is paused or RX_WINDOW arrivals are not yet written, so a
 * blocked sink stops our reading, and the socket, rather than growing a queue. While writes
 * wait for a blocked sink no PINGREQ leaves either: past the keepalive the broker drops us,
 * and mqtt.c takes the session up again (stalled).
 *
 * Limits: the broker's name is resolved synchronously by libmosquitto (getaddrinfo) when
 * connecting; --keepalive below 5 s is 5 s (libmosquitto's minimum). */
#include "mqtt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "defer.h"
#include "err.h"
#include "log.h"
#include "xalloc.h"

#define RX_WINDOW 1024   /* arrivals handed on and not yet written, at most */
#define READ_BATCH 256   /* packets read per readable event, at most */
#define CLOSE_WAIT_MS 1000 /* for the DISCONNECT to leave, at most */

struct mosq {
	struct mqtt *w;
	struct mosquitto *mq;     /* this connection's client, or NULL */
	uv_poll_t *poll;          /* its socket, or NULL */
	int events;               /* what poll waits for now */
	uv_timer_t *tick;         /* mosquitto_loop_misc() every second */
	uv_timer_t *close_wait;   /* closing: the DISCONNECT's deadline */
	struct oc_defer later;    /* after a library call: what its callbacks asked for */
	unsigned in_lib;          /* inside a libmosquitto call (its callbacks may run) */
	unsigned outstanding;     /* arrivals handed on, not yet written */
	uint64_t blocked_since;   /* when outstanding last left 0 (uv_now) */
	bool poisoned;            /* a QoS 1/2 arrival was dropped: acknowledge nothing more */
	struct mqtt_rxref q0, q12;/* the arrivals' tokens: which one tells the QoS */
	bool acked;               /* CONNACK seen on this connection */
	bool down;                /* this connection ended (on_disconnect): tear it down */
	int down_rc;              /* why */
	struct mqtt_props in;     /* an arrival's properties (reused) */
	char *scratch;            /* NUL-terminated copies for libmosquitto's property calls */
	size_t scratch_cap;
};

static void tear_down(struct mosq *t);
static void update_poll(struct mosq *t);
static void release(struct mosq *t);

/* ---- driving the library ----------------------------------------------------------------- */

/* A publisher's reading is acknowledgements only; the others' is arrivals, which the
 * owner's pause and the window hold back. */
static bool may_read(const struct mosq *t)
{
	if (t->w->ep->role == OC_ROLE_PUB || !t->acked)
		return true;
	return !t->w->paused && !t->w->closing && t->outstanding < RX_WINDOW;
}

/* Our acknowledgements (and everything else queued) may leave only once every arrival
 * handed on was written: see the top. */
static bool may_write(const struct mosq *t)
{
	return t->outstanding == 0 && !t->poisoned;
}

/* A library call failed: the connection is gone. Most failures come through
 * on_disconnect, but a failed TLS handshake only returns MOSQ_ERR_TLS. */
static void gone_if(struct mosq *t, int rc)
{
	if (rc && !t->down) {
		t->down = true;
		t->down_rc = rc;
	}
}

static void lib_write(struct mosq *t)
{
	if (!t->mq || t->down || !may_write(t) || !mosquitto_want_write(t->mq))
		return;
	t->in_lib++;
	int rc = mosquitto_loop_write(t->mq, 1); /* writes every queued packet until EAGAIN */
	t->in_lib--;
	gone_if(t, rc);
}

static void lib_read(struct mosq *t)
{
	for (int i = 0; i < READ_BATCH && t->mq && !t->down && may_read(t); i++) {
		t->in_lib++;
		errno = 0;
		int rc = mosquitto_loop_read(t->mq, 1);
		int e = errno;
		t->in_lib--;
		gone_if(t, rc);
		if (rc || e == EAGAIN || e == EWOULDBLOCK)
			break;
	}
}

/* What callbacks asked for, once out of the library: tear a dead connection down, write
 * what is queued, wait for the right events. */
static void after_lib(struct oc_defer *d)
{
	struct mosq *t = (struct mosq *)((char *)d - offsetof(struct mosq, later));
	if (t->in_lib)
		return;
	if (t->down) {
		tear_down(t);
		return;
	}
	lib_write(t);
	if (t->down)
		tear_down(t);
	else
		update_poll(t);
}

static void io_cb(uv_poll_t *p, int status, int events)
{
	struct mosq *t = p->data;
	/* an error (status < 0) shows in the read; before the CONNACK a writable socket may
	 * be TLS's handshake waiting to go on, which only loop_read drives */
	if (status < 0 || (events & UV_READABLE) || !t->acked)
		lib_read(t);
	if (!t->down && (events & UV_WRITABLE))
		lib_write(t);
	after_lib(&t->later);
}

static void update_poll(struct mosq *t)
{
	if (!t->poll)
		return;
	int ev = (may_read(t) ? UV_READABLE : 0) |
		 (may_write(t) && mosquitto_want_write(t->mq) ? UV_WRITABLE : 0);
	if (ev == t->events)
		return;
	t->events = ev;
	if (ev)
		uv_poll_start(t->poll, ev, io_cb);
	else
		uv_poll_stop(t->poll);
}

static void tick_cb(uv_timer_t *tm)
{
	struct mosq *t = tm->data;
	if (!t->poll || t->down) /* no connection now (a kept client waits for its next) */
		return;
	t->in_lib++;
	mosquitto_loop_misc(t->mq);
	t->in_lib--;
	after_lib(&t->later);
}

/* ---- callbacks (inside a library call) --------------------------------------------------- */

/* After each CONNACK (a kept session has its subscriptions, but a new one has not). */
static void subscribe(struct mosq *t)
{
	struct mqtt *w = t->w;
	const char *filters[64];
	int n = mqtt_filters(w, filters, 64);
	/* MQTT 5's retain handling: --no-retained asks for none; 3.1.1 filters them (recv.c) */
	bool none = w->v5 && oc_ep_opt_flag(w->ep, "no-retained");
	int opts = none ? MQTT_SUB_OPT_SEND_RETAIN_NEVER : 0;
	w->nfilters = n;
	int rc = mosquitto_subscribe_multiple(t->mq, NULL, n, (char *const *)filters, w->qos, opts,
					      NULL);
	if (rc)
		mqtt_subscribed(w, 0, mosquitto_strerror(rc));
}

static void on_connect(struct mosquitto *mq, void *ud, int rc, int flags,
		       const mosquitto_property *props)
{
	struct mosq *t = ud;
	struct mqtt *w = t->w;
	struct mqtt_conn r = { .ok = rc == 0, .reason = rc, .session = flags & 1 };
	if (rc == 0 && w->v5) {
		uint16_t rm = 65535; /* MQTT 5's default when the CONNACK does not say */
		mosquitto_property_read_int16(props, MQTT_PROP_RECEIVE_MAXIMUM, &rm, false);
		r.receive_max = rm;
	}
	t->acked = true;
	/* a log callback makes libmosquitto format a line (malloc + vsnprintf) for every
	 * packet: only the handshake's TLS errors are wanted (on_log) */
	mosquitto_log_callback_set(mq, NULL);
	mqtt_connect_done(w, &r);
	if (rc == 0 && w->ep->role != OC_ROLE_PUB && !w->closing)
		subscribe(t);
	oc_defer_schedule(&t->later);
}

static void on_subscribe(struct mosquitto *mq, void *ud, int mid, int n, const int *granted,
			 const mosquitto_property *props)
{
	struct mosq *t = ud;
	int reason = 0;
	for (int i = 0; i < n; i++)
		if (granted[i] >= 0x80 && reason < 0x80)
			reason = granted[i];
	mqtt_subscribed(t->w, reason, NULL);
}

static void on_disconnect(struct mosquitto *mq, void *ud, int rc, const mosquitto_property *p)
{
	struct mosq *t = ud;
	t->down = true;
	t->down_rc = rc;
	oc_defer_schedule(&t->later);
}

static void on_publish(struct mosquitto *mq, void *ud, int mid, int reason,
		       const mosquitto_property *props)
{
	struct mosq *t = ud;
	struct mqtt_send *s = mqtt_send_find(t->w, mid);
	if (s)
		mqtt_send_done(t->w, s, reason < 0x80, reason);
	oc_defer_schedule(&t->later);
}

/* A property list into our neutral one. libmosquitto's readers return copies: they are
 * freed after the arrival (free_in()). */
static void read_props(struct mosq *t, const mosquitto_property *props)
{
	t->in.n = 0;
	for (const mosquitto_property *p = props; p; p = mosquitto_property_next(p)) {
		int id = mosquitto_property_identifier(p);
		char *a = NULL, *b = NULL;
		void *bin = NULL;
		uint16_t blen = 0;
		if (id == MQTT_P_USER && mosquitto_property_read_string_pair(p, id, &a, &b, false))
			mqtt_props_add(&t->in, id, a, strlen(a), b, strlen(b), 0);
		else if ((id == MQTT_P_CONTENT_TYPE || id == MQTT_P_RESPONSE_TOPIC) &&
			 mosquitto_property_read_string(p, id, &a, false))
			mqtt_props_add(&t->in, id, a, strlen(a), NULL, 0, 0);
		else if (id == MQTT_P_CORRELATION &&
			 mosquitto_property_read_binary(p, id, &bin, &blen, false))
			mqtt_props_add(&t->in, id, bin, blen, NULL, 0, 0);
	}
}

static void free_in(struct mosq *t)
{
	for (unsigned i = 0; i < t->in.n; i++) {
		free((char *)t->in.v[i].s);
		free((char *)t->in.v[i].v);
	}
	t->in.n = 0;
}

static void on_message(struct mosquitto *mq, void *ud, const struct mosquitto_message *pm,
		       const mosquitto_property *props)
{
	struct mosq *t = ud;
	read_props(t, props);
	struct mqtt_in in = {
		.topic = pm->topic,
		.data = pm->payload,
		.len = (size_t)pm->payloadlen,
		.qos = pm->qos,
		.msgid = pm->qos ? pm->mid : 0,
		.retained = pm->retain,
		.props = &t->in,
	};
	if (t->outstanding++ == 0)
		t->blocked_since = uv_now(uv_default_loop());
	mqtt_arrived(t->w, &in, pm->qos ? &t->q12 : &t->q0);
	free_in(t);
}

/* libmosquitto tells why a TLS handshake failed only in its log; set until the CONNACK. */
static void on_log(struct mosquitto *mq, void *ud, int level, const char *str)
{
	struct mosq *t = ud;
	if (level == MOSQ_LOG_ERR && !strncmp(str, "OpenSSL Error", 13) && !t->w->tls_error) {
		snprintf(t->w->tls_why, sizeof(t->w->tls_why), "%s", str);
		t->w->tls_error = true;
	}
}

/* ---- arrivals written -------------------------------------------------------------------- */

static void mosq_rx_done(struct mqtt_rxref *token, bool delivered)
{
	struct mqtt *w = token->w;
	struct mosq *t = w->t;
	if (!t)
		return; /* closed already */
	t->outstanding--;
	if (!delivered && token == &t->q12)
		t->poisoned = true;
	if (t->outstanding == 0 || t->outstanding == RX_WINDOW - 1)
		oc_defer_schedule(&t->later); /* acknowledge, read again */
}

static void mosq_rx_flow(struct mqtt *w)
{
	struct mosq *t = w->t;
	if (t)
		oc_defer_schedule(&t->later);
}

/* ---- connecting -------------------------------------------------------------------------- */

/* A NUL-terminated copy of s in the scratch buffer at offset off (libmosquitto's property
 * calls take C strings; -H's names are not terminated). */
static const char *scratch_str(struct mosq *t, size_t off, const char *s, size_t len)
{
	if (off + len + 1 > t->scratch_cap) {
		t->scratch_cap = (off + len + 1) * 2;
		t->scratch = xrealloc(t->scratch, t->scratch_cap);
	}
	memcpy(t->scratch + off, s, len);
	t->scratch[off + len] = 0;
	return t->scratch + off;
}

static int set_tls(struct mosq *t)
{
	const struct oc_cfg *cfg = t->w->ep->cfg;
	const char *key = cfg->cert ? (cfg->key ? cfg->key : cfg->cert) : NULL;
	int rc = mosquitto_tls_set(t->mq, cfg->cacert, cfg->cacert ? NULL : "/etc/ssl/certs",
				   cfg->cert, key, NULL);
	if (!rc && cfg->insecure) { /* -k: no chain and no host name check, like curl */
		rc = mosquitto_tls_opts_set(t->mq, 0 /* SSL_VERIFY_NONE */, NULL, NULL);
		if (!rc)
			rc = mosquitto_tls_insecure_set(t->mq, true);
	}
	return rc;
}

static int set_will(struct mosq *t)
{
	const char *topic, *payload;
	int qos;
	bool retain;
	mqtt_will(t->w, &topic, &payload, &qos, &retain);
	if (!topic)
		return 0;
	return mosquitto_will_set_v5(t->mq, topic, (int)strlen(payload), payload, qos, retain,
				     NULL);
}

static int make_client(struct mosq *t)
{
	struct mqtt *w = t->w;
	t->mq = mosquitto_new(w->client_id, !mqtt_keeps_session(w), t);
	if (!t->mq)
		return MOSQ_ERR_NOMEM;
	mosquitto_threaded_set(t->mq, true); /* we drive it; it writes only when told (top) */
	mosquitto_int_option(t->mq, MOSQ_OPT_PROTOCOL_VERSION,
			     w->v5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
	/* libmosquitto announces a Receive Maximum of 20 and counts a QoS 2 arrival against it
	 * until its PUBCOMP; a broker told max_inflight_messages 0 sends more, which libmosquitto
	 * takes for a protocol error. MQTT 5's own default: our window (RX_WINDOW and the
	 * withheld acknowledgements) is what bounds us. */
	mosquitto_int_option(t->mq, MOSQ_OPT_RECEIVE_MAXIMUM, 65535);
	mosquitto_connect_v5_callback_set(t->mq, on_connect);
	mosquitto_disconnect_v5_callback_set(t->mq, on_disconnect);
	mosquitto_publish_v5_callback_set(t->mq, on_publish);
	mosquitto_message_v5_callback_set(t->mq, on_message);
	mosquitto_subscribe_v5_callback_set(t->mq, on_subscribe);
	mosquitto_log_callback_set(t->mq, on_log);
	int rc = 0;
	if (w->user[0])
		rc = mosquitto_username_pw_set(t->mq, w->user, w->pass);
	if (!rc)
		rc = set_will(t);
	if (!rc && w->tls)
		rc = set_tls(t);
	return rc;
}

/* libmosquitto 2.0 has no asynchronous connect with MQTT 5 properties; but
 * mosquitto_connect_bind_v5() keeps the properties before it checks the port, so a call
 * with port -1 stores them and fails without connecting, and connect_bind_async() then
 * sends them. Only --session needs one (its expiry). */
static void keep_connect_props(struct mosq *t)
{
	struct mqtt *w = t->w;
	if (!w->v5 || !mqtt_keeps_session(w))
		return;
	mosquitto_property *props = NULL;
	mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL,
				     mqtt_session_expiry(w));
	mosquitto_connect_bind_v5(t->mq, w->host, -1, 60, NULL, props);
	mosquitto_property_free_all(&props);
}

static void connect_failed(struct mosq *t, int rc)
{
	struct mqtt_conn r = { .ok = false };
	if (rc == MOSQ_ERR_EAI) {
		mqtt_failed(t->w, OC_ERESOLVE, "cannot resolve the broker's host");
		return;
	}
	if (rc == MOSQ_ERR_INVAL || rc == MOSQ_ERR_NOT_SUPPORTED) {
		r.err = OC_EUSAGE;
		snprintf(r.why, sizeof(r.why), "%s", mosquitto_strerror(rc));
	}
	mqtt_connect_done(t->w, &r);
}

/* A subscriber or responder keeps its client over reconnects: libmosquitto keeps the QoS 2
 * arrivals that wait for their PUBREL, which a new client would answer without delivering.
 * A publisher's (and requester's) in-flight publishes are ours to send again (send.c), so
 * they get a new client each time, which forgets what the old one had in flight. */
static bool keeps_client(const struct mosq *t)
{
	return t->w->ep->role == OC_ROLE_SUB || t->w->ep->role == OC_ROLE_SERVER;
}

static int connect_async(struct mosq *t)
{
	struct mqtt *w = t->w;
	if (t->mq)
		return mosquitto_reconnect_async(t->mq);
	int rc = make_client(t);
	if (rc)
		return rc;
	keep_connect_props(t);
	int ka = w->keepalive < 5 ? 5 : w->keepalive;
	return mosquitto_connect_bind_async(t->mq, w->host, w->port, ka, NULL);
}

static void start_connect(struct mosq *t)
{
	struct mqtt *w = t->w;
	w->tls_error = false;
	t->acked = t->down = t->poisoned = false;
	t->events = 0;
	oc_verbose("'%s': connecting to %s:%d as '%s' (%s)", w->ep->name, w->host, w->port,
		   w->client_id, w->tr->name);
	if (t->mq) /* a kept client: its log callback went with its last CONNACK */
		mosquitto_log_callback_set(t->mq, on_log);
	int rc = connect_async(t);
	if (rc) {
		if (t->mq)
			mosquitto_destroy(t->mq);
		t->mq = NULL;
		connect_failed(t, rc);
		return;
	}
	t->poll = xmalloc(sizeof(*t->poll));
	uv_poll_init_socket(uv_default_loop(), t->poll, mosquitto_socket(t->mq));
	t->poll->data = t;
	update_poll(t);
}

/* The connection ended (on_disconnect, now out of the library): the socket's poll goes, and
 * the client unless it is kept (keeps_client()); what it had in flight goes back to the
 * queue; mqtt.c decides what next. */
static void tear_down(struct mosq *t)
{
	struct mqtt *w = t->w;
	bool acked = t->acked;
	/* our writes held past the keepalive by a sink that takes nothing (see the top) */
	uint64_t blocked_ms = uv_now(uv_default_loop()) - t->blocked_since;
	bool stalled = t->outstanding > 0 && blocked_ms >= (uint64_t)w->keepalive * 1000;
	int rc = t->down_rc;
	if (t->poll)
		oc_uv_close_free(t->poll);
	t->poll = NULL;
	if (t->mq && (w->closing || !keeps_client(t))) {
		mosquitto_destroy(t->mq);
		t->mq = NULL;
	}
	t->down = false;
	if (w->closing) {
		release(t);
		mqtt_finish(w);
		return;
	}
	mqtt_send_interrupted(w);
	if (!acked) { /* failed before a CONNACK; mqtt.c's probe tells why, unless TLS did */
		struct mqtt_conn r = { .ok = false };
		if (rc == MOSQ_ERR_TLS || w->tls_error) {
			r.err = OC_ETLS;
			snprintf(r.why, sizeof(r.why), "TLS failed");
		}
		if (w->connecting)
			mqtt_connect_done(w, &r);
		return;
	}
	if (!w->connected)
		return; /* the CONNACK refused us: reported */
	oc_verbose("'%s': connection ended: %s", w->ep->name, mosquitto_strerror(rc));
	mqtt_lost(w, stalled);
}

/* ---- the transport ----------------------------------------------------------------------- */

static int mosq_open(struct mqtt *w)
{
	static bool lib_ready;
	if (!lib_ready) {
		mosquitto_lib_init();
		lib_ready = true;
	}
	struct mosq *t = xcalloc(1, sizeof(*t));
	t->w = w;
	t->q0.w = t->q12.w = w;
	w->t = t;
	oc_defer_init(&t->later, after_lib);
	t->tick = xmalloc(sizeof(*t->tick));
	uv_timer_init(uv_default_loop(), t->tick);
	t->tick->data = t;
	uv_timer_start(t->tick, tick_cb, 1000, 1000);
	start_connect(t);
	return 0;
}

static void mosq_reconnect(struct mqtt *w)
{
	struct mosq *t = w->t;
	if (!t->poll) /* else a connection is under way already */
		start_connect(t);
}

static int add_props(struct mosq *t, const struct mqtt_props *np, mosquitto_property **out)
{
	int rc = 0;
	for (unsigned i = 0; np && i < np->n && !rc; i++) {
		const struct mqtt_prop *p = &np->v[i];
		switch (p->id) {
		case MQTT_P_USER: {
			const char *n = scratch_str(t, 0, p->s, p->slen);
			size_t off = p->slen + 1;
			const char *v = scratch_str(t, off, p->v, p->vlen);
			n = t->scratch; /* scratch may have moved */
			rc = mosquitto_property_add_string_pair(out, p->id, n, v);
			break;
		}
		case MQTT_P_CONTENT_TYPE:
		case MQTT_P_RESPONSE_TOPIC:
			rc = mosquitto_property_add_string(out, p->id,
							   scratch_str(t, 0, p->s, p->slen));
			break;
		case MQTT_P_CORRELATION:
			rc = mosquitto_property_add_binary(out, p->id, p->s, (uint16_t)p->slen);
			break;
		case MQTT_P_EXPIRY:
			rc = mosquitto_property_add_int32(out, p->id, p->num);
			break;
		default:
			break;
		}
	}
	return rc;
}

/* Publish p; its mid in *mid. 0, MQTT_PUB_AGAIN or an OC_E*. */
static int publish_now(struct mqtt *w, const struct mqtt_pub *p, int *mid, char *why,
		       size_t whylen)
{
	struct mosq *t = w->t;
	if (!t->mq || t->down)
		return MQTT_PUB_AGAIN;
	mosquitto_property *props = NULL;
	int rc = add_props(t, p->props, &props);
	if (!rc)
		rc = mosquitto_publish_v5(t->mq, mid, p->topic, (int)p->len, p->data, p->qos,
					  p->retain, props);
	mosquitto_property_free_all(&props);
	if (rc == MOSQ_ERR_NO_CONN)
		return MQTT_PUB_AGAIN;
	if (rc) {
		snprintf(why, whylen, "%s", mosquitto_strerror(rc));
		return rc == MOSQ_ERR_NOMEM ? OC_EIO : OC_EUSAGE;
	}
	oc_defer_schedule(&t->later); /* written once out of what we are doing */
	return 0;
}

static int mosq_publish(struct mqtt *w, struct mqtt_send *s, const struct mqtt_pub *p,
			char *why, size_t whylen)
{
	int mid = 0;
	int rc = publish_now(w, p, &mid, why, whylen);
	if (!rc)
		mqtt_send_set_id(s, mid);
	return rc;
}

static int mosq_publish_raw(struct mqtt *w, const struct mqtt_pub *p, char *why, size_t whylen)
{
	int mid;
	int rc = publish_now(w, p, &mid, why, whylen);
	return rc == MQTT_PUB_AGAIN ? (snprintf(why, whylen, "not connected"), OC_ECONNECT) : rc;
}

static void close_wait_cb(uv_timer_t *tm)
{
	struct mosq *t = tm->data;
	t->down = true;
	after_lib(&t->later);
}

static void release(struct mosq *t)
{
	oc_defer_cancel(&t->later);
	oc_uv_close_free(t->tick);
	if (t->close_wait)
		oc_uv_close_free(t->close_wait);
	mqtt_props_release(&t->in);
	free(t->scratch);
	t->w->t = NULL;
	free(t);
}

/* A DISCONNECT when we may write (else the broker would take our held acknowledgements
 * with it: see the top), then the client goes; mqtt_finish(). */
static void mosq_close(struct mqtt *w)
{
	struct mosq *t = w->t;
	bool graceful = t->mq && t->acked && !t->down && may_write(t);
	if (graceful && mosquitto_disconnect(t->mq) == MOSQ_ERR_SUCCESS) {
		t->close_wait = xmalloc(sizeof(*t->close_wait));
		uv_timer_init(uv_default_loop(), t->close_wait);
		t->close_wait->data = t;
		uv_timer_start(t->close_wait, close_wait_cb, CLOSE_WAIT_MS, 0);
		/* on_disconnect (the DISCONNECT written) or the deadline: tear_down() finishes */
		oc_defer_schedule(&t->later);
		return;
	}
	t->down = true;
	tear_down(t);
}

static const char *mosq_reason_str(int reason)
{
	return mosquitto_reason_string(reason);
}

static void mosq_version(char *buf, size_t len)
{
	int a, b, c;
	mosquitto_lib_version(&a, &b, &c);
	snprintf(buf, len, "libmosquitto %d.%d.%d", a, b, c);
}

const struct mqtt_tr mqtt_tr_mosq = {
	.name = "libmosquitto",
	.open = mosq_open,
	.reconnect = mosq_reconnect,
	.auto_reconnect = false,
	.publish = mosq_publish,
	.publish_raw = mosq_publish_raw,
	.cover_qos0 = false,
	.rx_done = mosq_rx_done,
	.rx_flow = mosq_rx_flow,
	.close = mosq_close,
	.reason_str = mosq_reason_str,
	.version = mosq_version,
};
