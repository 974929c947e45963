/* proto-adapters/mqtt/mqtt.c — the MQTT adapter: options, connecting, reconnecting, closing.
 *
 *   pub mqtt://host[:port]/topic      each message is a PUBLISH (-q, -r, -t, -H, --jsonl)
 *   sub mqtt://host[:port]/filter     each PUBLISH received is a message (-t adds filters)
 *   client mqtt://host/request/topic  MQTT 5 requests with a response topic (rr.c)
 *   server mqtt://host/request/topic  answers them: --exec, --echo or -d (rr.c)
 *
 * mqtts:// is TLS; mqtt+ws:// and mqtt+wss:// carry MQTT in WebSocket frames to --ws-path
 * (the URL's path is the topic). mqtt:// and mqtts:// run on libmosquitto (mosq.c), the
 * WebSocket schemes on paho (paho.c): mqtt.h says why. */
#include "mqtt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data.h"
#include "err.h"
#include "log.h"
#include "xalloc.h"

static const struct oc_adopt mqtt_opts[] = {
	{ "mqtt-version", OC_ARG_STR, "V", "mqtt: protocol version, 5 (default) or 3.1.1", true },
	{ "content-type", OC_ARG_STR, "TYPE", "mqtt: content type of each message (MQTT 5)", true },
	{ "expiry", OC_ARG_SECS, "S", "mqtt: message expiry interval (MQTT 5)", true },
	{ "will-topic", OC_ARG_STR, "T", "mqtt: topic of the will, sent if we vanish", true },
	{ "will-payload", OC_ARG_STR, "DATA", "mqtt: payload of the will", true },
	{ "will-qos", OC_ARG_STR, "N", "mqtt: QoS of the will (0)", true },
	{ "will-retain", OC_ARG_FLAG, NULL, "mqtt: the will is retained", true },
	{ "keepalive", OC_ARG_SECS, "S", "mqtt: keepalive interval (60)", true },
	{ "session", OC_ARG_STR, "NAME",
	  "mqtt: persistent session NAME (the client id): what arrives while away comes next time",
	  true },
	{ "session-expiry", OC_ARG_SECS, "S", "mqtt: how long the broker keeps the session (86400)",
	  true },
	{ "no-retained", OC_ARG_FLAG, NULL, "mqtt: skip retained messages", true },
	{ "retained-only", OC_ARG_FLAG, NULL, "mqtt: print the retained messages, then exit", true },
	{ "ws-path", OC_ARG_STR, "PATH", "mqtt+ws: the WebSocket path (/mqtt)", true },
	{ 0 },
};

#define DEFAULT_KEEPALIVE 60
#define DEFAULT_SESSION_EXPIRY 86400

static bool scheme_is(const struct oc_ep *ep, const char *s)
{
	return !strcmp(ep->spec->url.scheme, s);
}

static bool is_tls(const struct oc_ep *ep)
{
	return scheme_is(ep, "mqtts") || scheme_is(ep, "mqtt+wss");
}

static bool is_ws(const struct oc_ep *ep)
{
	return scheme_is(ep, "mqtt+ws") || scheme_is(ep, "mqtt+wss");
}

const char *mqtt_url_topic(const struct oc_ep *ep)
{
	const char *p = ep->spec->url.path;
	if (!p)
		return "";
	return *p == '/' ? p + 1 : p;
}

int mqtt_filters(const struct mqtt *w, const char **out, int max)
{
	int n = 0;
	if (w->ep->role == OC_ROLE_CLIENT) { /* a requester hears only its responses */
		out[n++] = w->reply_topic;
		return n;
	}
	if (*mqtt_url_topic(w->ep))
		out[n++] = mqtt_url_topic(w->ep);
	size_t i = 0;
	const char *t;
	while (n < max && (t = oc_cfg_next(w->ep->cfg, "topic", &i)))
		out[n++] = t;
	return n;
}

int mqtt_reason_err(int reason)
{
	/* 0x86 bad user name or password, 0x87 not authorized; MQTT 3.1.1's CONNACK 4 and 5 */
	if (reason == 0x86 || reason == 0x87 || reason == 4 || reason == 5)
		return OC_EAUTH;
	return OC_EPEER;
}

static int parse_qos(struct oc_ep *ep, const char *v, const char *what, int *out)
{
	if (!v) {
		*out = 0;
		return 0;
	}
	if (strlen(v) != 1 || v[0] < '0' || v[0] > '2') {
		oc_ep_seterr(ep, OC_EUSAGE, "invalid value '%s' for %s: expected 0, 1 or 2", v, what);
		return OC_EUSAGE;
	}
	*out = v[0] - '0';
	return 0;
}

static int mqtt_check(struct oc_ep *ep)
{
	const struct oc_url *u = &ep->spec->url;
	int q;
	if (!u->host || !*u->host) {
		oc_ep_seterr(ep, OC_EUSAGE, "'%s' needs a broker host", ep->name);
		return OC_EUSAGE;
	}
	if (parse_qos(ep, ep->cfg->qos, "--qos", &q) || parse_qos(ep, oc_ep_opt(ep, "will-qos"),
								    "--will-qos", &q))
		return OC_EUSAGE;
	const char *v = oc_ep_opt(ep, "mqtt-version");
	if (v && strcmp(v, "5") && strcmp(v, "3.1.1")) {
		oc_ep_seterr(ep, OC_EUSAGE, "invalid value '%s' for --mqtt-version: expected 5 or 3.1.1",
			     v);
		return OC_EUSAGE;
	}
	bool v5 = !v || !strcmp(v, "5");
	bool rr = ep->role == OC_ROLE_CLIENT || ep->role == OC_ROLE_SERVER;
	if (rr && !v5) {
		oc_ep_seterr(ep, OC_EUSAGE, "'%s': request/response needs MQTT 5", ep->name);
		return OC_EUSAGE;
	}
	bool has_topic = *mqtt_url_topic(ep) || oc_cfg_next(ep->cfg, "topic", &(size_t){ 0 });
	if (!has_topic && !ep->cfg->jsonl) {
		oc_ep_seterr(ep, OC_EUSAGE, "'%s' needs a topic: in the URL's path or with -t",
			     ep->name);
		return OC_EUSAGE;
	}
	if (oc_ep_opt(ep, "will-payload") && !oc_ep_opt(ep, "will-topic")) {
		oc_ep_seterr(ep, OC_EUSAGE, "--will-payload needs --will-topic");
		return OC_EUSAGE;
	}
	return 0;
}

/* ---- what the transports ask ------------------------------------------------------------- */

void mqtt_will(const struct mqtt *w, const char **topic, const char **payload, int *qos,
	       bool *retain)
{
	const char *wq = oc_ep_opt(w->ep, "will-qos"), *wp = oc_ep_opt(w->ep, "will-payload");
	*topic = oc_ep_opt(w->ep, "will-topic");
	*payload = wp ? wp : "";
	*qos = wq ? wq[0] - '0' : 0;
	*retain = oc_ep_opt_flag(w->ep, "will-retain");
}

unsigned mqtt_session_expiry(const struct mqtt *w)
{
	const char *v = oc_ep_opt(w->ep, "session-expiry");
	return v ? (unsigned)strtod(v, NULL) : DEFAULT_SESSION_EXPIRY;
}

/* A publisher's session is ours: what a lost connection interrupted is published again
 * (send.c). paho resending a kept session's publishes after a reconnect read freed memory
 * (paho 1.3.11 under AddressSanitizer, 2 runs in 5), so a publisher starts clean with
 * either library; --session still names its client id. */
bool mqtt_keeps_session(const struct mqtt *w)
{
	return w->session && w->ep->role != OC_ROLE_PUB;
}

/* ---- connecting -------------------------------------------------------------------------- */

static void retry_cb(uv_timer_t *t)
{
	struct mqtt *w = t->data;
	oc_uv_close_free(w->retry);
	w->retry = NULL;
	if (!w->closing) {
		w->connecting = true;
		w->tr->reconnect(w);
	}
}

static void reconnect_later(struct mqtt *w, const char *why)
{
	if (w->retry)
		return;
	uint64_t ms = oc_backoff_next(&w->backoff);
	oc_verbose("'%s': %s; reconnecting in %llu ms", w->ep->name, why, (unsigned long long)ms);
	w->retry = xmalloc(sizeof(*w->retry));
	uv_timer_init(uv_default_loop(), w->retry);
	w->retry->data = w;
	uv_timer_start(w->retry, retry_cb, ms, 0);
}

void mqtt_failed(struct mqtt *w, int err, const char *why)
{
	w->connecting = false;
	if (w->closing || w->ended)
		return;
	/* A refusal of our credentials will not change by trying again. */
	if (w->ep->cfg->reconnect && err != OC_EAUTH && err != OC_EUSAGE) {
		reconnect_later(w, why);
		return;
	}
	w->ended = true;
	oc_ep_fail(w->ep, err, "'%s': %s", w->ep->name, why);
}

/* The libraries say "connect failure" or an errno whatever went wrong: a connection of our
 * own tells a refused or unresolvable broker (6, 5) from one that took the connection and
 * then failed the TLS handshake (7) or answered no CONNACK (9). */
static void probed(void *data, int result)
{
	struct mqtt *w = data;
	w->probe = NULL;
	if (result == OC_ERESOLVE)
		mqtt_failed(w, result, "cannot resolve the broker's host");
	else if (result)
		mqtt_failed(w, result, "cannot connect to the broker");
	else if (w->tls)
		mqtt_failed(w, OC_ETLS, w->tls_error ? w->tls_why : "the TLS handshake failed");
	else
		mqtt_failed(w, OC_EPROTO, "the peer answered no MQTT CONNACK");
}

static void probe(struct mqtt *w)
{
	if (w->probe)
		return; /* one is telling already */
	const struct oc_url *u = &w->ep->spec->url;
	w->probe = oc_tcp_probe_start(u->host, w->port, w->ep->cfg, probed, w);
	if (!w->probe)
		probed(w, OC_ERESOLVE);
}

static void connect_refused(struct mqtt *w, const struct mqtt_conn *r)
{
	char why[320];
	int err = r->err;
	if (r->reason >= 0x80 || (r->reason > 0 && r->reason < 6)) {
		static const char *const v3[] = { "", "unacceptable protocol version",
						  "identifier rejected", "server unavailable",
						  "bad user name or password", "not authorized" };
		err = mqtt_reason_err(r->reason);
		snprintf(why, sizeof(why), "the broker refused the connection: %s (%d)",
			 r->reason >= 0x80 ? w->tr->reason_str(r->reason) : v3[r->reason],
			 r->reason);
	} else if (w->tls_error) {
		err = OC_ETLS;
		snprintf(why, sizeof(why), "TLS failed: %s", w->tls_why);
	} else if (err) {
		snprintf(why, sizeof(why), "%s", r->why);
	} else {
		probe(w);
		return;
	}
	mqtt_failed(w, err, why);
}

void mqtt_connect_done(struct mqtt *w, const struct mqtt_conn *r)
{
	if (w->closing)
		return;
	if (!r->ok) {
		connect_refused(w, r);
		return;
	}
	w->connecting = false;
	w->connected = true;
	w->receive_max = r->receive_max;
	oc_backoff_reset(&w->backoff);
	oc_verbose("'%s': connected (MQTT %s%s)", w->ep->name, w->v5 ? "5" : "3.1.1",
		   r->session ? ", session present" : "");
	if (w->ep->role == OC_ROLE_PUB && !w->ready_sent) {
		w->ready_sent = true;
		oc_ep_ready(w->ep);
	}
	mqtt_send_pump(w);
}

void mqtt_lost(struct mqtt *w, bool stalled)
{
	if (w->closing || !w->connected)
		return;
	w->connected = w->subscribed = false;
	/* Our own flow control (a sink blocked past the keepalive) is no lost connection: take
	 * the session up again, --reconnect or not. */
	if (w->ep->cfg->reconnect && w->tr->auto_reconnect) {
		oc_verbose("'%s': lost the connection to the broker; reconnecting", w->ep->name);
		return;
	}
	if (w->ep->cfg->reconnect)
		reconnect_later(w, "lost the connection to the broker");
	else if (stalled)
		reconnect_later(w, "the connection dropped while output was blocked");
	else
		mqtt_failed(w, OC_EINCOMPLETE, "lost the connection to the broker");
}

/* ---- opening ----------------------------------------------------------------------------- */

static void pick_client_id(struct mqtt *w)
{
	static unsigned seq;
	const char *session = oc_ep_opt(w->ep, "session");
	w->session = session != NULL;
	if (session)
		snprintf(w->client_id, sizeof(w->client_id), "%s", session);
	else if (w->ep->cfg->client_id)
		snprintf(w->client_id, sizeof(w->client_id), "%s", w->ep->cfg->client_id);
	else
		snprintf(w->client_id, sizeof(w->client_id), "omnicat-%ld-%u", (long)getpid(), ++seq);
}

/* -u wins over the URL's user, whose password may be in the URL too. */
static int pick_credentials(struct mqtt *w)
{
	const struct oc_cfg *cfg = w->ep->cfg;
	const struct oc_url *u = &w->ep->spec->url;
	char err[400];
	const char *user = cfg->user ? cfg->user : u->password ? NULL : u->user;
	int r = oc_cfg_password(cfg, user, &w->password, err, sizeof(err));
	if (r) {
		oc_ep_seterr(w->ep, r, "%s", err);
		return r;
	}
	if (cfg->user) {
		snprintf(w->user, sizeof(w->user), "%.*s", (int)strcspn(cfg->user, ":"), cfg->user);
		w->pass = strchr(cfg->user, ':') ? strchr(cfg->user, ':') + 1 : w->password;
	} else if (u->user) {
		snprintf(w->user, sizeof(w->user), "%s", u->user);
		w->pass = u->password ? u->password : w->password;
	}
	return 0;
}

static int mqtt_open(struct oc_ep *ep)
{
	struct mqtt *w = ep->priv;
	const struct oc_url *u = &ep->spec->url;
	w->ep = ep;
	const char *v = oc_ep_opt(ep, "mqtt-version");
	w->v5 = !(v && !strcmp(v, "3.1.1"));
	parse_qos(ep, ep->cfg->qos, "--qos", &w->qos);
	v = oc_ep_opt(ep, "keepalive");
	w->keepalive = v ? (int)strtod(v, NULL) : DEFAULT_KEEPALIVE;
	w->tls = is_tls(ep);
	w->ws = is_ws(ep);
	w->port = u->port >= 0 ? u->port : w->ws ? (w->tls ? 443 : 80) : (w->tls ? 8883 : 1883);
	snprintf(w->host, sizeof(w->host), "%s", u->host);
	pick_client_id(w);
	w->paused = true;
	int r = pick_credentials(w);
	if (r)
		return r;
	size_t i = 0;
	const char *t = oc_cfg_next(ep->cfg, "topic", &i);
	w->topic = t ? t : mqtt_url_topic(ep);
	mqtt_rr_init(w);
	w->tr = w->ws ? &mqtt_tr_paho : &mqtt_tr_mosq;
	w->connecting = true;
	return w->tr->open(w);
}

/* ---- the rest of the vtable -------------------------------------------------------------- */

static void mqtt_write(struct oc_ep *ep, struct oc_msg *m)
{
	struct mqtt *w = ep->priv;
	if (ep->role == OC_ROLE_CLIENT || ep->role == OC_ROLE_SERVER)
		mqtt_rr_write(w, m);
	else
		mqtt_send_write(w, m);
}

static void mqtt_pause(struct oc_ep *ep)
{
	struct mqtt *w = ep->priv;
	w->paused = true;
	if (w->tr)
		w->tr->rx_flow(w);
}

static void mqtt_resume(struct oc_ep *ep)
{
	struct mqtt *w = ep->priv;
	w->paused = false;
	mqtt_recv_resume(w);
	if (w->tr)
		w->tr->rx_flow(w);
}

static void mqtt_shutdown(struct oc_ep *ep)
{
	struct mqtt *w = ep->priv;
	w->shut = true;
	mqtt_send_pump(w); /* reports flushed once nothing is left */
}

void mqtt_finish(struct mqtt *w)
{
	mqtt_send_release(w);
	mqtt_recv_release(w);
	mqtt_rr_release(w);
	if (w->retry)
		oc_uv_close_free(w->retry);
	if (w->quiet)
		oc_uv_close_free(w->quiet);
	w->retry = w->quiet = NULL;
	mqtt_props_release(&w->pubprops);
	mqtt_props_release(&w->fixprops);
	free(w->password);
	oc_ep_closed(w->ep);
}

/* A DISCONNECT (so the broker drops the will), then the transport goes; mqtt_finish(). */
static void mqtt_close(struct oc_ep *ep)
{
	struct mqtt *w = ep->priv;
	w->closing = true;
	if (w->probe)
		oc_tcp_probe_cancel(w->probe);
	w->probe = NULL;
	mqtt_send_drop(w);
	if (w->tr)
		w->tr->close(w);
	else
		mqtt_finish(w);
}

static void mqtt_version(char *buf, size_t len)
{
	char a[64], b[64];
	mqtt_tr_mosq.version(a, sizeof(a));
	mqtt_tr_paho.version(b, sizeof(b));
	snprintf(buf, len, "%s (mqtt, mqtts), %s (mqtt+ws, mqtt+wss)", a, b);
}

const struct oc_adapter oc_adapter_mqtt = {
	.name = "mqtt",
	.flags = OC_AF_CLIENT | OC_AF_SERVER | OC_AF_PUB | OC_AF_SUB | OC_AF_REQUEST |
		 OC_AF_HEADERS | OC_AF_TLS | OC_AF_AUTH | OC_AF_TOPICS | OC_AF_ONEWAY,
	.opts = mqtt_opts,
	.priv_size = sizeof(struct mqtt),
	.check = mqtt_check,
	.open = mqtt_open,
	.write = mqtt_write,
	.pause = mqtt_pause,
	.resume = mqtt_resume,
	.shutdown = mqtt_shutdown,
	.close = mqtt_close,
	.version = mqtt_version,
};
