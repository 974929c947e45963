/* proto-adapters/mqtt/paho.c — the transport for mqtt+ws:// and mqtt+wss://: paho.mqtt.c's
 * MQTTAsync (libmosquitto has no WebSocket client).
 *
 * Threads. paho runs its own threads and has no external-loop API; its callbacks run there.
 * They touch nothing of omnicat's but what `lock` guards and core/handoff.h, which runs the
 * real work on the loop thread, in posting order.
 *
 * Acknowledgements. paho acknowledges a QoS 1 PUBLISH (PUBACK; QoS 2: PUBREC) as it queues
 * it, before the message-arrived callback runs; a message is removed from its queue (and,
 * with a session, from its file store) only when the callback returns 1. So the callback
 * returns 1 only once the loop has written the message downstream, and blocks until then:
 * paho reads no further packet meanwhile, so at most one acknowledged message is unwritten,
 * and with --session it is on disk (paho's file persistence) and delivered again after a
 * crash. A callback that must give up (closing) returns 0: paho keeps the message.
 *
 * paho holds its one process-wide lock while the callback runs, so any paho call from
 * another thread waits for the callback to return. The callback may therefore wait for the
 * loop only when the loop needs nothing from paho meanwhile: a subscriber that is the
 * process's only paho client (may_park()); it subscribes from paho's own thread (a
 * session's messages may come before the SUBACK) and wakes the callback before it
 * disconnects. Requesters, responders and a relay between two paho endpoints hand their
 * arrivals over without waiting (the broker's window, not ours, bounds them); at QoS 0 a
 * parked subscriber's callback waits only while RX_WINDOW messages are unwritten. */
#include "mqtt.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <MQTTAsync.h>

#include "err.h"
#include "handoff.h"
#include "log.h"
#include "xalloc.h"

/* paho counts queued publishes by walking its command list on every send, so a long list
 * costs per message: what we hand over at once is bounded (and is plenty on any link). */
#define MAX_BUFFERED 512
#define RX_WINDOW 1024 /* QoS 0 arrivals not yet written, at most */

struct paho {
	MQTTAsync cli;               /* paho's client, NULL before open and after destroy */
	struct oc_handoff *ho;       /* paho's threads → the loop */
	char uri[400];               /* paho's server URI: ws://, wss:// */
	_Atomic unsigned nconnected; /* connects paho reported (on_reconnected()) */
	/* arrivals; lock and cond guard the fields marked [L] and the waits */
	pthread_mutex_t lock;
	pthread_cond_t cond;         /* an arrival was written, or stop */
	_Atomic unsigned outstanding;/* arrivals posted, not yet written */
	_Atomic unsigned waiting;    /* callbacks waiting for the window to move */
	_Atomic bool stop;           /* callbacks give up waiting (closing) */
	bool stalled;                /* [L] a callback waited past the keepalive */
};

/* paho clients open in this process (see may_park()). */
static _Atomic unsigned clients;

static bool may_park(const struct mqtt *w)
{
	return w->ep->role == OC_ROLE_SUB && clients == 1;
}

static struct paho *P(const struct mqtt *w)
{
	return w->t;
}

/* ---- properties -------------------------------------------------------------------------- */

static void to_paho(const struct mqtt_props *np, MQTTProperties *out)
{
	for (unsigned i = 0; np && i < np->n; i++) {
		const struct mqtt_prop *p = &np->v[i];
		MQTTProperty q = { .identifier = p->id };
		if (p->id == MQTT_P_EXPIRY) {
			q.value.integer4 = p->num;
		} else {
			q.value.data.data = (char *)p->s;
			q.value.data.len = (int)p->slen;
			q.value.value.data = (char *)p->v;
			q.value.value.len = (int)p->vlen;
		}
		MQTTProperties_add(out, &q);
	}
}

/* Pointing into props. */
static void from_paho(const MQTTProperties *props, struct mqtt_props *out)
{
	for (int i = 0; i < props->count; i++) {
		const MQTTProperty *p = &props->array[i];
		mqtt_props_add(out, p->identifier, p->value.data.data, (size_t)p->value.data.len,
			       p->value.value.data, (size_t)p->value.value.len, 0);
	}
}

/* ---- connecting -------------------------------------------------------------------------- */

struct conn_result {
	struct mqtt *w;
	struct mqtt_conn r;
};

static void connected_on_loop(void *arg)
{
	struct conn_result *c = arg;
	struct mqtt *w = c->w;
	if (c->r.ok) {
		pthread_mutex_lock(&P(w)->lock);
		P(w)->stalled = false;
		pthread_mutex_unlock(&P(w)->lock);
	}
	mqtt_connect_done(w, &c->r);
	free(c);
}

static void subscribe(struct mqtt *w);

static void post_result(struct mqtt *w, struct conn_result *c)
{
	c->w = w;
	oc_handoff_post(P(w)->ho, connected_on_loop, c); /* c is the loop's now */
	if (c->r.ok && w->ep->role != OC_ROLE_PUB)
		subscribe(w);
}

static void on_connect_ok5(void *ctx, MQTTAsync_successData5 *resp)
{
	struct conn_result *c = xcalloc(1, sizeof(*c));
	c->r.ok = true;
	c->r.session = resp && resp->alt.connect.sessionPresent;
	c->r.receive_max = 65535; /* MQTT 5's default when the CONNACK does not say */
	if (resp && MQTTProperties_hasProperty(&resp->properties,
					       MQTTPROPERTY_CODE_RECEIVE_MAXIMUM))
		c->r.receive_max = MQTTProperties_getNumericValue(&resp->properties,
								  MQTTPROPERTY_CODE_RECEIVE_MAXIMUM);
	post_result(ctx, c);
}

static void on_connect_ok(void *ctx, MQTTAsync_successData *resp)
{
	struct conn_result *c = xcalloc(1, sizeof(*c));
	c->r.ok = true;
	c->r.session = resp && resp->alt.connect.sessionPresent;
	post_result(ctx, c);
}

static void failed(struct mqtt *w, int code, int reason, const char *msg)
{
	struct conn_result *c = xcalloc(1, sizeof(*c));
	c->r.reason = reason;
	if (code == MQTTASYNC_BAD_MQTT_OPTION || code == MQTTASYNC_BAD_STRUCTURE)
		c->r.err = OC_EUSAGE;
	snprintf(c->r.why, sizeof(c->r.why), "%s", msg ? msg : MQTTAsync_strerror(code));
	post_result(w, c);
}

static void on_connect_fail5(void *ctx, MQTTAsync_failureData5 *resp)
{
	/* a CONNACK's refusal comes as the code ("CONNACK return code"), not the reason */
	failed(ctx, resp ? resp->code : 0,
	       !resp ? 0 : resp->reasonCode ? resp->reasonCode : resp->code > 0 ? resp->code : 0,
	       resp ? resp->message : NULL);
}

static void on_connect_fail(void *ctx, MQTTAsync_failureData *resp)
{
	/* 3.1.1: a positive code is the CONNACK's return code */
	failed(ctx, resp ? resp->code : 0, resp && resp->code > 0 ? resp->code : 0,
	       resp ? resp->message : NULL);
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
	pthread_mutex_lock(&P(w)->lock);
	bool stalled = P(w)->stalled;
	pthread_mutex_unlock(&P(w)->lock);
	mqtt_lost(w, stalled);
}

/* paho reconnected by itself (--reconnect): as after our own connect. It calls this after
 * every connect, the first included, which on_connect_ok*() report already. */
static void on_reconnected(void *ctx, char *cause)
{
	struct mqtt *w = ctx;
	if (atomic_fetch_add(&P(w)->nconnected, 1) == 0)
		return;
	struct conn_result *c = xcalloc(1, sizeof(*c));
	c->r.ok = true;
	c->r.receive_max = w->receive_max; /* the CONNACK's is not passed here: as before */
	post_result(w, c);
}

static void on_lost(void *ctx, char *cause)
{
	struct mqtt *w = ctx;
	oc_handoff_post(P(w)->ho, lost_on_loop, w);
}

static void set_options(struct mqtt *w, MQTTAsync_connectOptions *co, MQTTProperties *props)
{
	const struct oc_cfg *cfg = w->ep->cfg;
	bool keep = mqtt_keeps_session(w);
	co->keepAliveInterval = w->keepalive;
	/* --reconnect after a lost connection is paho's own: reconnecting from outside while its
	 * threads still settle the old connection's publishes made them read freed memory. */
	co->automaticReconnect = cfg->reconnect;
	co->minRetryInterval = 1;
	co->maxRetryInterval = 5;
	co->connectTimeout = cfg->connect_timeout > 0 ? (int)(cfg->connect_timeout + 0.999) : 30;
	co->context = w;
	if (w->v5) {
		co->cleanstart = !keep;
		co->onSuccess5 = on_connect_ok5;
		co->onFailure5 = on_connect_fail5;
		if (keep) {
			MQTTProperty p = { .identifier = MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL };
			p.value.integer4 = mqtt_session_expiry(w);
			MQTTProperties_add(props, &p);
			co->connectProperties = props;
		}
	} else {
		co->cleansession = !keep;
		co->onSuccess = on_connect_ok;
		co->onFailure = on_connect_fail;
	}
	if (w->user[0]) {
		co->username = w->user;
		co->password = w->pass;
	}
}

static void connect_now(struct mqtt *w)
{
	const struct oc_cfg *cfg = w->ep->cfg;
	MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
	MQTTAsync_connectOptions co5 = MQTTAsync_connectOptions_initializer5;
	MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
	MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
	MQTTProperties props = MQTTProperties_initializer;
	if (w->v5)
		co = co5;
	set_options(w, &co, &props);
	const char *wt, *wp;
	int wq;
	bool wr;
	mqtt_will(w, &wt, &wp, &wq, &wr);
	if (wt) {
		will.topicName = wt;
		will.message = NULL;
		will.payload.data = wp;
		will.payload.len = (int)strlen(wp);
		will.qos = wq;
		will.retained = wr;
		co.will = &will;
	}
	if (w->tls) {
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
	oc_verbose("'%s': connecting to %s as '%s' (%s)", w->ep->name, P(w)->uri, w->client_id,
		   w->tr->name);
	int rc = MQTTAsync_connect(P(w)->cli, &co);
	MQTTProperties_free(&props);
	if (rc != MQTTASYNC_SUCCESS)
		mqtt_failed(w, OC_ECONNECT, MQTTAsync_strerror(rc));
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
	size_t n = strlen(path);
	snprintf(path + n, sizeof(path) - n, "/mqtt");
	mkdir(path, 0700);
	return xstrdup(path);
}

static void make_uri(struct mqtt *w)
{
	char hp[300];
	oc_url_hostport(w->host, w->port, hp, sizeof(hp));
	const char *path = oc_ep_opt(w->ep, "ws-path");
	if (!path)
		path = "/mqtt";
	snprintf(P(w)->uri, sizeof(P(w)->uri), "%s://%s%s%s", w->tls ? "wss" : "ws", hp,
		 *path == '/' ? "" : "/", path);
}

int paho_on_arrived(void *ctx, char *topic, int tlen, MQTTAsync_message *pm);

static int paho_open(struct mqtt *w)
{
	struct paho *t = xcalloc(1, sizeof(*t));
	w->t = t;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->cond, NULL);
	make_uri(w);
	MQTTAsync_createOptions cro = MQTTAsync_createOptions_initializer;
	cro.MQTTVersion = w->v5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1;
	cro.maxBufferedMessages = MAX_BUFFERED;
	/* The file store keeps a subscriber's acknowledged, unwritten arrival over a crash; a
	 * publisher's session is ours (mqtt_keeps_session()). */
	char *dir = w->session && w->ep->role == OC_ROLE_SUB ? store_dir() : NULL;
	int r = MQTTAsync_createWithOptions(&t->cli, t->uri, w->client_id,
					    dir ? MQTTCLIENT_PERSISTENCE_DEFAULT
						: MQTTCLIENT_PERSISTENCE_NONE,
					    dir, &cro);
	free(dir);
	if (r != MQTTASYNC_SUCCESS) {
		t->cli = NULL;
		oc_ep_seterr(w->ep, OC_EUSAGE, "'%s': %s", w->ep->name, MQTTAsync_strerror(r));
		return OC_EUSAGE;
	}
	clients++;
	t->ho = oc_handoff_new();
	MQTTAsync_setCallbacks(t->cli, w, on_lost, paho_on_arrived, NULL);
	MQTTAsync_setConnected(t->cli, w, on_reconnected);
	connect_now(w);
	return 0;
}

/* ---- publishing -------------------------------------------------------------------------- */

/* A completion on its way to the loop. */
struct done {
	struct mqtt *w;
	struct mqtt_send *s;
	bool ok;
	int reason;
};

static void done_on_loop(void *arg)
{
	struct done *d = arg;
	mqtt_send_done(d->w, d->s, d->ok, d->reason);
	free(d);
}

static void post_done(struct done *d, bool ok, int reason)
{
	d->ok = ok;
	d->reason = reason;
	oc_handoff_post(P(d->w)->ho, done_on_loop, d);
}

static void on_sent5(void *ctx, MQTTAsync_successData5 *resp)
{
	int reason = resp ? resp->reasonCode : 0;
	post_done(ctx, reason < 0x80, reason);
}

static void on_failed5(void *ctx, MQTTAsync_failureData5 *resp)
{
	post_done(ctx, false, resp ? resp->reasonCode : 0);
}

static void on_sent(void *ctx, MQTTAsync_successData *resp)
{
	post_done(ctx, true, 0);
}

static void on_failed(void *ctx, MQTTAsync_failureData *resp)
{
	post_done(ctx, false, 0);
}

static int send_message(struct mqtt *w, const struct mqtt_pub *p, struct done *d, char *why,
			size_t whylen)
{
	MQTTAsync_message pm = MQTTAsync_message_initializer;
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	pm.payload = (void *)p->data;
	pm.payloadlen = (int)p->len;
	pm.qos = p->qos;
	pm.retained = p->retain;
	ro.context = d;
	if (w->v5) {
		to_paho(p->props, &pm.properties);
		ro.onSuccess5 = d ? on_sent5 : NULL;
		ro.onFailure5 = d ? on_failed5 : NULL;
	} else {
		ro.onSuccess = d ? on_sent : NULL;
		ro.onFailure = d ? on_failed : NULL;
	}
	int rc = MQTTAsync_sendMessage(P(w)->cli, p->topic, &pm, &ro);
	MQTTProperties_free(&pm.properties);
	if (rc == MQTTASYNC_SUCCESS)
		return 0;
	if (rc == MQTTASYNC_DISCONNECTED || rc == MQTTASYNC_MAX_BUFFERED_MESSAGES)
		return MQTT_PUB_AGAIN;
	snprintf(why, whylen, "%s", MQTTAsync_strerror(rc));
	return OC_EUSAGE;
}

static int paho_publish(struct mqtt *w, struct mqtt_send *s, const struct mqtt_pub *p,
			char *why, size_t whylen)
{
	struct done *d = NULL;
	if (p->want_done) {
		d = xcalloc(1, sizeof(*d));
		d->w = w;
		d->s = s;
	}
	int rc = send_message(w, p, d, why, whylen);
	if (rc)
		free(d);
	return rc;
}

static int paho_publish_raw(struct mqtt *w, const struct mqtt_pub *p, char *why, size_t whylen)
{
	int rc = send_message(w, p, NULL, why, whylen);
	return rc == MQTT_PUB_AGAIN ? (snprintf(why, whylen, "not connected"), OC_ECONNECT) : rc;
}

/* ---- arrivals ---------------------------------------------------------------------------- */

/* An arrival on its way from paho's thread to the loop, in one block with its topic and
 * payload (one allocation per message: paho's thread allocates, the loop frees). Its
 * owners: the loop until the message is written and, when the callback waits for that
 * (parked), the callback too; then refs, done and delivered are under the lock. */
struct rx {
	struct mqtt_rxref ref; /* first: the token */
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

static void rx_free(struct rx *r)
{
	if (r->has_props)
		MQTTProperties_free(&r->props);
	free(r);
}

/* The window of unwritten QoS 0 arrivals has room again: wake a callback waiting for it. */
static void window_moved(struct paho *t)
{
	unsigned left = atomic_fetch_sub(&t->outstanding, 1) - 1;
	if (atomic_load(&t->waiting) && left <= RX_WINDOW) {
		pthread_mutex_lock(&t->lock);
		pthread_cond_broadcast(&t->cond);
		pthread_mutex_unlock(&t->lock);
	}
}

/* The message is written (or will never be): release it, and wake a parked callback. */
static void paho_rx_done(struct mqtt_rxref *token, bool delivered)
{
	struct rx *r = (struct rx *)token;
	struct paho *t = P(r->ref.w);
	if (!r->parked) { /* the loop's alone: nobody waits for this one */
		rx_free(r);
		window_moved(t);
		return;
	}
	pthread_mutex_lock(&t->lock);
	r->done = true;
	r->delivered = delivered;
	if (--r->refs == 0)
		rx_free(r);
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
	window_moved(t);
}

static void arrived_on_loop(void *arg)
{
	struct rx *r = arg;
	struct mqtt_props props = { 0 };
	if (r->has_props)
		from_paho(&r->props, &props);
	struct mqtt_in in = { .topic = r->topic, .data = r->data, .len = r->len, .qos = r->qos,
			      .msgid = r->msgid, .retained = r->retained, .props = &props };
	mqtt_arrived(r->ref.w, &in, &r->ref); /* r may be gone after this */
	mqtt_props_release(&props);
}

/* Wait on the cond for at most a second (so a stall is noticed). */
static void wait_a_second(struct paho *t)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 1;
	pthread_cond_timedwait(&t->cond, &t->lock, &ts);
}

static struct rx *rx_new(struct mqtt *w, char *topic, int tlen, MQTTAsync_message *pm,
			 bool park)
{
	size_t tl = tlen > 0 ? (size_t)tlen : strlen(topic), len = (size_t)pm->payloadlen;
	struct rx *r = xmalloc(sizeof(*r) + tl + 1 + len);
	memset(r, 0, sizeof(*r));
	r->ref.w = w;
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
	return r;
}

/* Parked: until the loop wrote r. Returns whether it was. */
static bool wait_written(struct mqtt *w, struct rx *r)
{
	struct paho *t = P(w);
	int waited = 0;
	pthread_mutex_lock(&t->lock);
	while (!r->done && !atomic_load(&t->stop)) {
		wait_a_second(t);
		if (++waited > w->keepalive)
			t->stalled = true; /* the broker will drop us: see mqtt_lost() */
	}
	bool ok = r->done && r->delivered;
	if (--r->refs == 0)
		rx_free(r);
	pthread_mutex_unlock(&t->lock);
	return ok;
}

static void wait_window(struct paho *t)
{
	pthread_mutex_lock(&t->lock);
	atomic_fetch_add(&t->waiting, 1);
	while (atomic_load(&t->outstanding) > RX_WINDOW && !atomic_load(&t->stop))
		pthread_cond_wait(&t->cond, &t->lock);
	atomic_fetch_sub(&t->waiting, 1);
	pthread_mutex_unlock(&t->lock);
}

/* paho's thread, with each PUBLISH: copy, hand to the loop and maybe wait (the top). */
int paho_on_arrived(void *ctx, char *topic, int tlen, MQTTAsync_message *pm)
{
	struct mqtt *w = ctx;
	struct paho *t = P(w);
	bool park = may_park(w);
	if (atomic_load(&t->stop))
		return 0; /* closing: paho keeps it */
	struct rx *r = rx_new(w, topic, tlen, pm, park);
	bool parked = r->parked; /* an r that is not parked is the loop's once posted */
	atomic_fetch_add(&t->outstanding, 1);
	oc_handoff_post(t->ho, arrived_on_loop, r);
	bool ok = true;
	if (parked)
		ok = wait_written(w, r);
	else if (park && atomic_load(&t->outstanding) > RX_WINDOW)
		wait_window(t);
	if (!ok)
		return 0; /* not written: paho keeps it (and its file, with --session) */
	MQTTAsync_freeMessage(&pm);
	MQTTAsync_free(topic);
	return 1;
}

static void paho_rx_flow(struct mqtt *w)
{
	/* paho's thread is held by the callbacks' waits, not by pausing */
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
	mqtt_subscribed(s->w, s->reason, s->code ? MQTTAsync_strerror(s->code) : NULL);
	free(s);
}

static void post_sub(struct mqtt *w, int reason, int code)
{
	struct sub_result *s = xcalloc(1, sizeof(*s));
	s->w = w;
	s->reason = reason;
	s->code = code;
	oc_handoff_post(P(w)->ho, subscribed_on_loop, s);
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
 * paho_on_arrived(), holding paho's lock, so the loop must not be the one calling paho. */
static void subscribe(struct mqtt *w)
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
	if (w->v5) {
		ro.onSuccess5 = on_sub_ok5;
		ro.onFailure5 = on_sub_fail5;
		ro.subscribeOptionsCount = n;
		ro.subscribeOptionsList = opts;
	} else {
		ro.onSuccess = on_sub_ok;
		ro.onFailure = on_sub_fail;
	}
	int rc = MQTTAsync_subscribeMany(P(w)->cli, n, (char *const *)filters, qos, &ro);
	if (rc != MQTTASYNC_SUCCESS)
		post_sub(w, 0, rc);
}

/* ---- closing ----------------------------------------------------------------------------- */

/* Everything is quiet: paho goes, then the hand-over (running what is still posted, which
 * only frees now), then the rest. */
static void finish(struct mqtt *w)
{
	struct paho *t = P(w);
	if (t->cli) {
		MQTTAsync_destroy(&t->cli);
		clients--;
	}
	if (t->ho)
		oc_handoff_close(t->ho);
	mqtt_send_release(w); /* paho is gone: its completions will not come */
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
	free(t);
	w->t = NULL;
	mqtt_finish(w);
}

static void disconnected_on_loop(void *arg)
{
	finish(arg);
}

static void on_disconnect_done(void *ctx, MQTTAsync_successData *resp)
{
	struct mqtt *w = ctx;
	oc_handoff_post(P(w)->ho, disconnected_on_loop, w);
}

static void on_disconnect_failed(void *ctx, MQTTAsync_failureData *resp)
{
	struct mqtt *w = ctx;
	oc_handoff_post(P(w)->ho, disconnected_on_loop, w);
}

/* Closing: wake and release the callbacks waiting for writes (they return 0). */
static void stop_arrivals(struct paho *t)
{
	pthread_mutex_lock(&t->lock);
	atomic_store(&t->stop, true);
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
}

/* A DISCONNECT (so the broker drops the will), then paho is destroyed. Blocked arrivals
 * are released first: they return 0 and paho keeps their messages. */
static void paho_close(struct mqtt *w)
{
	struct paho *t = P(w);
	if (!t->cli) {
		finish(w);
		return;
	}
	stop_arrivals(t);
	MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
	d.timeout = 1000;
	d.context = w;
	d.onSuccess = on_disconnect_done;
	d.onFailure = on_disconnect_failed;
	if (!w->connected || MQTTAsync_disconnect(t->cli, &d) != MQTTASYNC_SUCCESS)
		finish(w);
}

static void paho_reconnect(struct mqtt *w)
{
	connect_now(w);
}

static const char *paho_reason_str(int reason)
{
	return MQTTReasonCode_toString(reason);
}

static void paho_version(char *buf, size_t len)
{
	MQTTAsync_nameValue *nv = MQTTAsync_getVersionInfo();
	const char *ver = "?";
	for (; nv && nv->name; nv++)
		if (!strcmp(nv->name, "Version"))
			ver = nv->value;
	snprintf(buf, len, "paho.mqtt.c %s", ver);
}

const struct mqtt_tr mqtt_tr_paho = {
	.name = "paho",
	.open = paho_open,
	.reconnect = paho_reconnect,
	.auto_reconnect = true,
	.publish = paho_publish,
	.publish_raw = paho_publish_raw,
	.cover_qos0 = true,
	.rx_done = paho_rx_done,
	.rx_flow = paho_rx_flow,
	.close = paho_close,
	.reason_str = paho_reason_str,
	.version = paho_version,
};
