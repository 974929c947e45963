/* proto-adapters/mqtt/mqtt.c — the MQTT adapter: options, connecting, reconnecting, closing.
 *
 *   pub mqtt://host[:port]/topic      each message is a PUBLISH (-q, -r, -t, -H, --jsonl)
 *   sub mqtt://host[:port]/filter     each PUBLISH received is a message (-t adds filters)
 *   client mqtt://host/request/topic  MQTT 5 requests with a response topic (rr.c)
 *   server mqtt://host/request/topic  answers them: --exec, --echo or -d (rr.c)
 *
 * mqtts:// is TLS; mqtt+ws:// and mqtt+wss:// carry MQTT in WebSocket frames to --ws-path
 * (the URL's path is the topic). See mqtt.h for the threads and the acknowledgements. */
#include "mqtt.h"

#include <errno.h>
#include <stdatomic.h>
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
/* paho counts queued publishes by walking its command list on every send, so a long list
 * costs per message: what we hand over at once is bounded (and is plenty on any link). */
#define MAX_BUFFERED 512

/* paho clients open in this process (see mqtt_may_park()). */
static _Atomic unsigned clients;

bool mqtt_may_park(const struct mqtt *w)
{
	return w->ep->role == OC_ROLE_SUB && clients == 1;
}

bool mqtt_is_v5(const struct mqtt *w)
{
	return w->version == MQTTVERSION_5;
}

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

/* ---- connecting -------------------------------------------------------------------------- */

struct conn_result {
	struct mqtt *w;
	bool ok;
	int code;      /* paho's error code (failure) */
	int reason;    /* MQTT 5 reason / 3.1.1 return code, 0 when none */
	bool session;  /* session present (success) */
	int receive_max; /* MQTT 5: how many QoS 1 and 2 publishes the broker takes at once */
	char why[200];
};

static void connect_now(struct mqtt *w);

static void retry_cb(uv_timer_t *t)
{
	struct mqtt *w = t->data;
	oc_uv_close_free(w->retry);
	w->retry = NULL;
	if (!w->closing)
		connect_now(w);
}

static void reconnect_later(struct mqtt *w, const char *why)
{
	uint64_t ms = oc_backoff_next(&w->backoff);
	oc_verbose("'%s': %s; reconnecting in %llu ms", w->ep->name, why, (unsigned long long)ms);
	w->retry = xmalloc(sizeof(*w->retry));
	uv_timer_init(uv_default_loop(), w->retry);
	w->retry->data = w;
	uv_timer_start(w->retry, retry_cb, ms, 0);
}

void mqtt_failed(struct mqtt *w, int err, const char *why)
{
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

/* paho says "TCP/TLS connect failure" whatever went wrong: a connection of our own tells a
 * refused or unresolvable broker (6, 5) from one that took the connection and then failed
 * the TLS handshake (7) or answered no CONNACK (9). */
static void probed(void *data, int result)
{
	struct mqtt *w = data;
	w->probe = NULL;
	w->connecting = false;
	if (result == OC_ERESOLVE)
		mqtt_failed(w, result, "cannot resolve the broker's host");
	else if (result)
		mqtt_failed(w, result, "cannot connect to the broker");
	else if (is_tls(w->ep))
		mqtt_failed(w, OC_ETLS, "the TLS handshake failed");
	else
		mqtt_failed(w, OC_EPROTO, "the peer answered no MQTT CONNACK");
}

static void probe(struct mqtt *w)
{
	const struct oc_url *u = &w->ep->spec->url;
	w->probe = oc_tcp_probe_start(u->host, w->port, w->ep->cfg, probed, w);
	if (!w->probe)
		probed(w, OC_ERESOLVE);
}

static void connected_on_loop(void *arg)
{
	struct conn_result *r = arg;
	struct mqtt *w = r->w;
	if (w->closing) {
		free(r);
		return;
	}
	if (!r->ok) {
		int err = OC_ECONNECT;
		char why[320];
		if (r->reason >= 0x80 || (r->reason > 0 && r->reason < 6)) {
			err = mqtt_reason_err(r->reason);
			static const char *const v3[] = { "", "unacceptable protocol version",
							  "identifier rejected", "server unavailable",
							  "bad user name or password", "not authorized" };
			snprintf(why, sizeof(why), "the broker refused the connection: %s (%d)",
				 r->reason >= 0x80 ? MQTTReasonCode_toString(r->reason) : v3[r->reason],
				 r->reason);
		} else if (w->tls_error) {
			err = OC_ETLS;
			snprintf(why, sizeof(why), "TLS failed: %s", w->tls_why);
		} else if (r->code == MQTTASYNC_BAD_MQTT_OPTION || r->code == MQTTASYNC_BAD_STRUCTURE) {
			err = OC_EUSAGE;
			snprintf(why, sizeof(why), "%s", r->why);
		} else {
			free(r);
			probe(w);
			return;
		}
		w->connecting = false;
		free(r);
		mqtt_failed(w, err, why);
		return;
	}
	w->connecting = false;
	w->connected = true;
	w->receive_max = r->receive_max;
	oc_backoff_reset(&w->backoff);
	oc_verbose("'%s': connected (MQTT %s%s)", w->ep->name, mqtt_is_v5(w) ? "5" : "3.1.1",
		   r->session ? ", session present" : "");
	free(r);
	pthread_mutex_lock(&w->lock);
	w->stalled = false;
	pthread_mutex_unlock(&w->lock);
	if (w->ep->role == OC_ROLE_PUB && !w->ready_sent) {
		w->ready_sent = true;
		oc_ep_ready(w->ep);
	}
	mqtt_send_pump(w);
}

static struct conn_result *result_new(struct mqtt *w, bool ok)
{
	struct conn_result *r = xcalloc(1, sizeof(*r));
	r->w = w;
	r->ok = ok;
	return r;
}

static void on_connect_ok5(void *ctx, MQTTAsync_successData5 *resp)
{
	struct mqtt *w = ctx;
	struct conn_result *r = result_new(w, true);
	r->session = resp && resp->alt.connect.sessionPresent;
	r->receive_max = 65535; /* MQTT 5's default when the CONNACK does not say */
	if (resp && MQTTProperties_hasProperty(&resp->properties,
					       MQTTPROPERTY_CODE_RECEIVE_MAXIMUM))
		r->receive_max = MQTTProperties_getNumericValue(&resp->properties,
								MQTTPROPERTY_CODE_RECEIVE_MAXIMUM);
	oc_handoff_post(w->ho, connected_on_loop, r); /* r is the loop's now */
	if (w->ep->role != OC_ROLE_PUB)
		mqtt_subscribe(w);
}

static void on_connect_ok(void *ctx, MQTTAsync_successData *resp)
{
	struct mqtt *w = ctx;
	struct conn_result *r = result_new(w, true);
	r->session = resp && resp->alt.connect.sessionPresent;
	oc_handoff_post(w->ho, connected_on_loop, r); /* r is the loop's now */
	if (w->ep->role != OC_ROLE_PUB)
		mqtt_subscribe(w);
}

static void on_connect_fail5(void *ctx, MQTTAsync_failureData5 *resp)
{
	struct conn_result *r = result_new(ctx, false);
	if (resp) {
		r->code = resp->code;
		/* a CONNACK's refusal comes as the code ("CONNACK return code"), not the reason */
		r->reason = resp->reasonCode ? resp->reasonCode : resp->code > 0 ? resp->code : 0;
		snprintf(r->why, sizeof(r->why), "%s",
			 resp->message ? resp->message : MQTTAsync_strerror(resp->code));
	}
	oc_handoff_post(r->w->ho, connected_on_loop, r);
}

static void on_connect_fail(void *ctx, MQTTAsync_failureData *resp)
{
	struct conn_result *r = result_new(ctx, false);
	if (resp) {
		r->code = resp->code;
		/* 3.1.1: a positive code is the CONNACK's return code */
		r->reason = resp->code > 0 ? resp->code : 0;
		snprintf(r->why, sizeof(r->why), "%s",
			 resp->message ? resp->message : MQTTAsync_strerror(resp->code));
	}
	oc_handoff_post(r->w->ho, connected_on_loop, r);
}

/* paho's TLS layer tells why a handshake failed only here (the connect failure says
 * "TCP/TLS connect failure"): keep the first line. Runs on paho's thread; read on the loop
 * after the failure's hand-over, which orders the two. */
static int on_tls_error(const char *str, size_t len, void *u)
{
	struct mqtt *w = u;
	if (!w->tls_error) {
		snprintf(w->tls_why, sizeof(w->tls_why), "%.*s", (int)strcspn(str, "\n"), str);
		w->tls_error = true;
	}
	return 0;
}

static void lost_on_loop(void *arg)
{
	struct mqtt *w = arg;
	if (w->closing || !w->connected)
		return;
	w->connected = w->subscribed = false;
	pthread_mutex_lock(&w->lock);
	bool stalled = w->stalled;
	pthread_mutex_unlock(&w->lock);
	/* With --reconnect paho reconnects by itself (see connect_now()); on_reconnected()
	 * tells. Our own flow control (a sink blocked past the keepalive) is no lost
	 * connection: take the session up again, --reconnect or not. */
	if (w->ep->cfg->reconnect) {
		oc_verbose("'%s': lost the connection to the broker; reconnecting", w->ep->name);
		return;
	}
	if (stalled && !w->retry) {
		reconnect_later(w, "the connection dropped while output was blocked");
		return;
	}
	mqtt_failed(w, OC_EINCOMPLETE, "lost the connection to the broker");
}

/* paho reconnected by itself (--reconnect): as after our own connect. It calls this after
 * every connect, the first included, which on_connect_ok*() report already. */
static void on_reconnected(void *ctx, char *cause)
{
	struct mqtt *w = ctx;
	if (atomic_fetch_add(&w->nconnected, 1) == 0)
		return;
	struct conn_result *r = result_new(w, true);
	r->receive_max = w->receive_max; /* the CONNACK's is not passed here: as before */
	oc_handoff_post(w->ho, connected_on_loop, r);
	if (w->ep->role != OC_ROLE_PUB)
		mqtt_subscribe(w);
}

static void on_lost(void *ctx, char *cause)
{
	struct mqtt *w = ctx;
	oc_handoff_post(w->ho, lost_on_loop, w);
}

static void connect_now(struct mqtt *w)
{
	struct oc_ep *ep = w->ep;
	const struct oc_cfg *cfg = ep->cfg;
	MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
	MQTTAsync_connectOptions co5 = MQTTAsync_connectOptions_initializer5;
	MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
	MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
	MQTTProperties props = MQTTProperties_initializer;
	if (mqtt_is_v5(w))
		co = co5;
	co.keepAliveInterval = w->keepalive;
	/* --reconnect after a lost connection is paho's own: reconnecting from outside while its
	 * threads still settle the old connection's publishes made them read freed memory. */
	co.automaticReconnect = cfg->reconnect;
	co.minRetryInterval = 1;
	co.maxRetryInterval = 5;
	co.connectTimeout = cfg->connect_timeout > 0 ? (int)(cfg->connect_timeout + 0.999) : 30;
	co.context = w;
	/* A publisher's session is ours: what a lost connection interrupted is published again
	 * (send.c). paho resending a kept session's publishes after a reconnect read freed
	 * memory (paho 1.3.11 under AddressSanitizer, 2 runs in 5), so a publisher starts
	 * clean; --session still names its client id. */
	bool keep = w->session && ep->role != OC_ROLE_PUB;
	if (mqtt_is_v5(w)) {
		co.cleanstart = !keep;
		co.onSuccess5 = on_connect_ok5;
		co.onFailure5 = on_connect_fail5;
		if (keep) {
			const char *v = oc_ep_opt(ep, "session-expiry");
			MQTTProperty p = { .identifier = MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL };
			p.value.integer4 = v ? (unsigned)strtod(v, NULL) : DEFAULT_SESSION_EXPIRY;
			MQTTProperties_add(&props, &p);
			co.connectProperties = &props;
		}
	} else {
		co.cleansession = !keep;
		co.onSuccess = on_connect_ok;
		co.onFailure = on_connect_fail;
	}
	const struct oc_url *u = &ep->spec->url;
	if (cfg->user) {
		snprintf(w->user, sizeof(w->user), "%.*s", (int)strcspn(cfg->user, ":"), cfg->user);
		co.username = w->user;
		co.password = strchr(cfg->user, ':') ? strchr(cfg->user, ':') + 1 : w->password;
	} else if (u->user) {
		co.username = u->user;
		co.password = u->password ? u->password : w->password;
	}
	const char *wt = oc_ep_opt(ep, "will-topic");
	if (wt) {
		const char *wp = oc_ep_opt(ep, "will-payload"), *wq = oc_ep_opt(ep, "will-qos");
		will.topicName = wt;
		will.message = NULL;
		will.payload.data = wp ? wp : "";
		will.payload.len = wp ? (int)strlen(wp) : 0;
		will.qos = wq ? wq[0] - '0' : 0;
		will.retained = oc_ep_opt_flag(ep, "will-retain");
		co.will = &will;
	}
	if (is_tls(ep)) {
		ssl.trustStore = cfg->cacert;
		ssl.keyStore = cfg->cert;
		ssl.privateKey = cfg->key ? cfg->key : NULL;
		ssl.enableServerCertAuth = !cfg->insecure;
		ssl.verify = !cfg->insecure; /* the host name too, like curl */
		ssl.CApath = cfg->cacert ? NULL : "/etc/ssl/certs";
		ssl.ssl_error_cb = on_tls_error;
		ssl.ssl_error_context = w;
		co.ssl = &ssl;
	}
	w->tls_error = false;
	w->connecting = true;
	oc_verbose("'%s': connecting to %s as '%s'", ep->name, w->uri, w->client_id);
	int rc = MQTTAsync_connect(w->cli, &co);
	MQTTProperties_free(&props);
	if (rc != MQTTASYNC_SUCCESS) {
		w->connecting = false;
		mqtt_failed(w, OC_ECONNECT, MQTTAsync_strerror(rc));
	}
}

/* A subscriber's --session keeps paho's record of unfinished messages in files, so an
 * arrival that was acknowledged but not yet written survives a crash: $XDG_STATE_HOME/omnicat/mqtt, else
 * ~/.local/state/omnicat/mqtt, else the current directory. */
static char *store_dir(void)
{
	const char *base = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char path[4096];
	if (base && *base)
		snprintf(path, sizeof(path), "%s/omnicat", base);
	else if (home && *home)
		snprintf(path, sizeof(path), "%s/.local/state/omnicat", home);
	else
		return xstrdup(".");
	/* each level, so a missing ~/.local/state is made too */
	for (char *s = path + 1; *s; s++)
		if (*s == '/') {
			*s = 0;
			mkdir(path, 0700);
			*s = '/';
		}
	mkdir(path, 0700);
	strcat(path, "/mqtt");
	mkdir(path, 0700);
	return xstrdup(path);
}

static void make_uri(struct mqtt *w)
{
	const struct oc_url *u = &w->ep->spec->url;
	bool tls = is_tls(w->ep), ws = is_ws(w->ep);
	int port = u->port >= 0 ? u->port : ws ? (tls ? 443 : 80) : (tls ? 8883 : 1883);
	char hp[300];
	w->port = port;
	oc_url_hostport(u->host, port, hp, sizeof(hp));
	const char *path = oc_ep_opt(w->ep, "ws-path");
	if (!path)
		path = "/mqtt";
	if (ws)
		snprintf(w->uri, sizeof(w->uri), "%s://%s%s%s", tls ? "wss" : "ws", hp,
			 *path == '/' ? "" : "/", path);
	else
		snprintf(w->uri, sizeof(w->uri), "%s://%s", tls ? "ssl" : "tcp", hp);
}

static int mqtt_open(struct oc_ep *ep)
{
	struct mqtt *w = ep->priv;
	static unsigned seq;
	char err[400];
	w->ep = ep;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	const char *v = oc_ep_opt(ep, "mqtt-version");
	w->version = v && !strcmp(v, "3.1.1") ? MQTTVERSION_3_1_1 : MQTTVERSION_5;
	parse_qos(ep, ep->cfg->qos, "--qos", &w->qos);
	v = oc_ep_opt(ep, "keepalive");
	w->keepalive = v ? (int)strtod(v, NULL) : DEFAULT_KEEPALIVE;
	const char *session = oc_ep_opt(ep, "session");
	w->session = session != NULL;
	if (session)
		snprintf(w->client_id, sizeof(w->client_id), "%s", session);
	else if (ep->cfg->client_id)
		snprintf(w->client_id, sizeof(w->client_id), "%s", ep->cfg->client_id);
	else
		snprintf(w->client_id, sizeof(w->client_id), "omnicat-%ld-%u", (long)getpid(), ++seq);
	w->paused = true;
	/* -u wins over the URL's user, whose password may be in the URL too */
	const struct oc_url *u = &ep->spec->url;
	const char *user = ep->cfg->user ? ep->cfg->user : u->password ? NULL : u->user;
	int r = oc_cfg_password(ep->cfg, user, &w->password, err, sizeof(err));
	if (r) {
		oc_ep_seterr(ep, r, "%s", err);
		return r;
	}
	mqtt_rr_init(w);
	make_uri(w);
	MQTTAsync_createOptions cro = MQTTAsync_createOptions_initializer;
	cro.MQTTVersion = w->version;
	cro.maxBufferedMessages = MAX_BUFFERED;
	/* The file store keeps a subscriber's acknowledged, unwritten arrival over a crash; a
	 * publisher's session is ours (connect_now()). */
	char *dir = w->session && ep->role == OC_ROLE_SUB ? store_dir() : NULL;
	r = MQTTAsync_createWithOptions(&w->cli, w->uri, w->client_id,
					dir ? MQTTCLIENT_PERSISTENCE_DEFAULT : MQTTCLIENT_PERSISTENCE_NONE,
					dir, &cro);
	free(dir);
	if (r != MQTTASYNC_SUCCESS) {
		w->cli = NULL;
		oc_ep_seterr(ep, OC_EUSAGE, "'%s': %s", ep->name, MQTTAsync_strerror(r));
		return OC_EUSAGE;
	}
	clients++;
	w->ho = oc_handoff_new();
	MQTTAsync_setCallbacks(w->cli, w, on_lost, mqtt_on_arrived, NULL);
	MQTTAsync_setConnected(w->cli, w, on_reconnected);
	connect_now(w);
	return 0;
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
	((struct mqtt *)ep->priv)->paused = true;
}

static void mqtt_resume(struct oc_ep *ep)
{
	struct mqtt *w = ep->priv;
	w->paused = false;
	mqtt_recv_resume(w);
}

static void mqtt_shutdown(struct oc_ep *ep)
{
	struct mqtt *w = ep->priv;
	w->shut = true;
	mqtt_send_pump(w); /* reports flushed once nothing is left */
}

/* Everything is quiet: paho goes, then the hand-over (running what is still posted, which
 * only frees now), then the rest. */
static void finish(struct mqtt *w)
{
	if (w->cli) {
		MQTTAsync_destroy(&w->cli);
		clients--;
	}
	if (w->ho)
		oc_handoff_close(w->ho);
	w->ho = NULL;
	mqtt_send_release(w);
	mqtt_recv_release(w);
	mqtt_rr_release(w);
	if (w->retry)
		oc_uv_close_free(w->retry);
	if (w->quiet)
		oc_uv_close_free(w->quiet);
	w->retry = w->quiet = NULL;
	free(w->password);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	oc_ep_closed(w->ep);
}

static void disconnected_on_loop(void *arg)
{
	finish(arg);
}

static void on_disconnect_done(void *ctx, MQTTAsync_successData *resp)
{
	struct mqtt *w = ctx;
	oc_handoff_post(w->ho, disconnected_on_loop, w);
}

static void on_disconnect_failed(void *ctx, MQTTAsync_failureData *resp)
{
	struct mqtt *w = ctx;
	oc_handoff_post(w->ho, disconnected_on_loop, w);
}

/* A DISCONNECT (so the broker drops the will), then paho is destroyed. Blocked arrivals
 * are released first: they return 0 and paho keeps their messages. */
static void mqtt_close(struct oc_ep *ep)
{
	struct mqtt *w = ep->priv;
	w->closing = true;
	if (w->probe)
		oc_tcp_probe_cancel(w->probe);
	w->probe = NULL;
	if (!w->cli) {
		finish(w);
		return;
	}
	mqtt_recv_stop(w);
	mqtt_send_drop(w);
	MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
	d.timeout = 1000;
	d.context = w;
	d.onSuccess = on_disconnect_done;
	d.onFailure = on_disconnect_failed;
	if (!w->connected || MQTTAsync_disconnect(w->cli, &d) != MQTTASYNC_SUCCESS)
		finish(w);
}

static void mqtt_version(char *buf, size_t len)
{
	MQTTAsync_nameValue *nv = MQTTAsync_getVersionInfo();
	const char *ver = "?";
	for (; nv && nv->name; nv++)
		if (!strcmp(nv->name, "Version"))
			ver = nv->value;
	snprintf(buf, len, "paho.mqtt.c %s", ver);
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
