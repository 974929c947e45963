/* proto-adapters/mqtt/mqtt.h — MQTT 3.1.1 and 5, one adapter over two client libraries,
 * shared between the adapter's files:
 *
 *   mqtt.c   the vtable: options, connect results, reconnect, close
 *   send.c   publishing: a bounded hand-over of written messages to the library, completions
 *   recv.c   arrivals: messages built from what the library got, subscriptions, retained
 *   rr.c     MQTT 5 request/response: `client` (requester) and `server` (responder)
 *   mosq.c   transport for mqtt:// and mqtts://: libmosquitto driven from our loop
 *   paho.c   transport for mqtt+ws:// and mqtt+wss://: paho.mqtt.c's MQTTAsync (threads)
 *
 * Why two libraries. paho's MQTTAsync runs its own threads (no external-loop API, paho#485):
 * each message crosses threads under locks, and on this machine's two CPUs that cost 4-6×
 * the CPU of mosquitto's clients (bench/mqtt: 0.3× their rate). libmosquitto has an
 * external-loop API (mosquitto_socket + loop_read/write/misc), so it runs on our loop thread
 * with no hand-over at all; it has no WebSocket client, so paho stays for mqtt+ws(s)://. A
 * transport (struct mqtt_tr) does connect, publish, subscribe, disconnect and flow control;
 * everything MQTT means to omnicat (options, exit codes, the send queue, messages built from
 * arrivals, request/response) is shared here and knows neither library.
 *
 * Threads. Everything here runs on the loop thread. paho.c's callbacks run on paho's
 * threads and hand their results over (core/handoff.h) before calling into shared code.
 *
 * Acknowledgements: a QoS 1/2 arrival is acknowledged to the broker only once the message
 * was written downstream (ack after write), so with --session a crash loses nothing the
 * broker was told we have. How each transport does that: mosq.c and paho.c say. */
#ifndef OC_MQTT_H
#define OC_MQTT_H

#include <stdbool.h>

#include "adapter.h"
#include "msgq.h"
#include "net.h"

struct mqtt_send;
struct rr_wait;
struct mqtt;

/* MQTT 5 property identifiers (the spec's numbers; both libraries use them). */
enum {
	MQTT_P_EXPIRY = 2,        /* message expiry interval */
	MQTT_P_CONTENT_TYPE = 3,
	MQTT_P_RESPONSE_TOPIC = 8,
	MQTT_P_CORRELATION = 9,
	MQTT_P_SESSION_EXPIRY = 17,
	MQTT_P_RECEIVE_MAX = 33,
	MQTT_P_USER = 38,
};

/* One property, library-neutral: strings are not owned. */
struct mqtt_prop {
	int id;            /* MQTT_P_* */
	const char *s;     /* string/binary value; a user property's name */
	size_t slen;
	const char *v;     /* a user property's value */
	size_t vlen;
	unsigned num;      /* numeric value */
};

/* A list of them, grown as needed and reused (no allocation per message once grown). */
struct mqtt_props {
	struct mqtt_prop *v;
	unsigned n, cap;
};

void mqtt_props_add(struct mqtt_props *p, int id, const char *s, size_t slen, const char *v,
		    size_t vlen, unsigned num);
const struct mqtt_prop *mqtt_props_get(const struct mqtt_props *p, int id);
void mqtt_props_release(struct mqtt_props *p);

/* A PUBLISH to send. */
struct mqtt_pub {
	const char *topic;
	const void *data;
	size_t len;
	int qos;
	bool retain;
	const struct mqtt_props *props; /* MQTT 5 only, may be NULL */
	bool want_done;                 /* completion wanted (else covered by a later one) */
};

/* A PUBLISH received. */
struct mqtt_in {
	const char *topic;
	const void *data;
	size_t len;
	int qos;
	int msgid;                      /* packet id (QoS 1 and 2), 0 if none */
	bool retained;
	const struct mqtt_props *props; /* may be NULL */
};

/* What a connect came to. */
struct mqtt_conn {
	bool ok;
	int reason;      /* refused: MQTT 5 reason / 3.1.1 return code, 0 when none */
	int err;         /* not refused: an OC_E* known for sure (OC_ETLS, OC_EUSAGE, OC_EPEER),
			  * or 0: a probe of our own tells (mqtt.c) */
	bool session;    /* session present */
	int receive_max; /* MQTT 5: publishes the broker takes at once, 0 if unknown */
	char why[240];   /* the library's words */
};

/* Publish results. */
#define MQTT_PUB_AGAIN 1 /* not now (not connected, library full): keep it queued */

/* Each arrival handed to the shared code carries a token, given back through the
 * transport's rx_done once the message is written or dropped; it begins with this. */
struct mqtt_rxref {
	struct mqtt *w;
};

/* A transport: one client library. All on the loop thread. */
struct mqtt_tr {
	const char *name;             /* the library, for -v */
	/* Make the client and start connecting; a synchronous failure returns an OC_E* with
	 * ep's error set. Later: mqtt_connect_done(), mqtt_subscribed(), mqtt_lost(). */
	int (*open)(struct mqtt *w);
	/* Connect again after a failure (--reconnect). */
	void (*reconnect)(struct mqtt *w);
	/* With --reconnect, a lost connection is taken up again by the library itself. */
	bool auto_reconnect;
	/* 0 (completion later: mqtt_send_done(w, s, ...)), MQTT_PUB_AGAIN, or an OC_E* with
	 * why filled. */
	int (*publish)(struct mqtt *w, struct mqtt_send *s, const struct mqtt_pub *p, char *why,
		       size_t whylen);
	/* Publish with no completion (rr answers); 0 or an OC_E* with why. */
	int (*publish_raw)(struct mqtt *w, const struct mqtt_pub *p, char *why, size_t whylen);
	/* Whether a QoS 0 publish may go without asking its completion (paho: completions are
	 * costly hand-overs; libmosquitto tells each one for free). */
	bool cover_qos0;
	/* The arrival behind token is written (delivered) or dropped. */
	void (*rx_done)(struct mqtt_rxref *token, bool delivered);
	/* Paused or resumed: take arrivals in or stop (after w->paused changed). */
	void (*rx_flow)(struct mqtt *w);
	/* DISCONNECT and release; mqtt_finish() once done (possibly later). */
	void (*close)(struct mqtt *w);
	const char *(*reason_str)(int reason);
	void (*version)(char *buf, size_t len);
};

extern const struct mqtt_tr mqtt_tr_mosq, mqtt_tr_paho;

struct mqtt {
	struct oc_ep *ep;
	const struct mqtt_tr *tr;    /* the transport */
	void *t;                     /* its state */
	char host[256];              /* the broker's host */
	int port;                    /* the broker's port */
	struct oc_tcp_probe *probe;  /* telling why a connect failed, or NULL */
	char client_id[128];
	char user[256];              /* user name, or "" */
	const char *pass;            /* its password, or NULL (points into cfg or password) */
	char *password;              /* from --password-file or OMNICAT_PASSWORD */
	bool v5;                     /* MQTT 5, else 3.1.1 */
	int qos;                     /* -q */
	int keepalive;               /* seconds */
	bool session;                /* --session: persistent session */
	bool tls, ws;                /* the scheme's */
	bool tls_error;              /* the TLS layer reported an error (exit 7) */
	char tls_why[200];           /* its text */

	/* state */
	bool connecting, connected;  /* a connect is under way / CONNACK accepted */
	bool subscribed;             /* SUBACK seen (sub, rr) */
	int nfilters;                /* in the last SUBSCRIBE */
	int receive_max;             /* the broker's Receive Maximum (MQTT 5), 0 if none */
	bool ready_sent;             /* oc_ep_ready() fired */
	bool shut;                   /* no more writes: flush, then flushed */
	bool flushed;                /* oc_ep_flushed() fired */
	bool closing;                /* close requested: winding down */
	bool paused;                 /* the owner wants no messages now */
	bool ended;                  /* eof or failure reported */
	struct oc_backoff backoff;   /* --reconnect delays */
	uv_timer_t *retry;           /* reconnect timer, or NULL */
	uv_timer_t *quiet;           /* --retained-only: end after the retained ones */
	struct mqtt_props pubprops;  /* the publish being built (reused) */
	struct mqtt_props fixprops;  /* -H, --content-type, --expiry: the same for every
				      * message, read from the options once */
	bool fixprops_done;          /* fixprops built */

	/* publishing (send.c) */
	struct oc_msgq q;            /* written, not yet handed to the library */
	struct mqtt_send *inflight;  /* handed over, not yet completed, in order */
	struct mqtt_send *inflight_tail;
	unsigned ninflight;
	unsigned uncovered;          /* QoS 0 publishes since the last with a completion */
	const char *topic;           /* -t's first, else the URL's: where messages go */

	/* arrivals (recv.c) */
	struct oc_msgq held;         /* arrived while paused */

	/* request/response (rr.c) */
	char *reply_topic;           /* client: where responses come back */
	unsigned long next_corr;     /* client: correlation numbers */
	struct rr_wait *waits;       /* client: requests in order, answered or not */
	struct rr_wait **waits_tail;
	unsigned long next_req;      /* server: request ids */
	struct rr_wait *open_reqs;   /* server: requests not yet answered */
	char *fixed;                 /* server: -d answer */
	size_t fixed_len;
};

/* mqtt.c */
/* The URL's topic: its path without the leading '/'. */
const char *mqtt_url_topic(const struct oc_ep *ep);
/* The topic filters of a subscribing endpoint: the URL's and each -t, into out (at most
 * max); returns how many. */
int mqtt_filters(const struct mqtt *w, const char **out, int max);
/* The will's settings, NULL topic when none. */
void mqtt_will(const struct mqtt *w, const char **topic, const char **payload, int *qos,
	       bool *retain);
/* The session expiry to ask for (MQTT 5, with --session). */
unsigned mqtt_session_expiry(const struct mqtt *w);
/* Whether this connection keeps a session at the broker (--session, not a publisher). */
bool mqtt_keeps_session(const struct mqtt *w);
/* A connect's outcome (the transport's report). */
void mqtt_connect_done(struct mqtt *w, const struct mqtt_conn *r);
/* The connection dropped; stalled: while our output was blocked (our flow control). */
void mqtt_lost(struct mqtt *w, bool stalled);
/* The connection failed or was refused: report err with why, or reconnect. */
void mqtt_failed(struct mqtt *w, int err, const char *why);
/* What a reason code (MQTT 5) or return code means, in our exit codes. */
int mqtt_reason_err(int reason);
/* The transport is done closing: release everything, report closed. */
void mqtt_finish(struct mqtt *w);

/* send.c */
void mqtt_send_write(struct mqtt *w, struct oc_msg *m);
/* Hand what is queued to the library, as far as the in-flight bound allows. */
void mqtt_send_pump(struct mqtt *w);
/* A publish's outcome: ok, or the reason (MQTT 5) / 0 (interrupted). */
void mqtt_send_done(struct mqtt *w, struct mqtt_send *s, bool ok, int reason);
/* The transport's id for s (libmosquitto's message id). */
void mqtt_send_set_id(struct mqtt_send *s, int id);
/* The in-flight publish with that id, or NULL. */
struct mqtt_send *mqtt_send_find(struct mqtt *w, int id);
/* Drop what is queued (closing); in-flight entries are freed with the transport. */
void mqtt_send_drop(struct mqtt *w);
/* What is in flight failed with the connection (transports that forget it). */
void mqtt_send_interrupted(struct mqtt *w);
void mqtt_send_release(struct mqtt *w);
bool mqtt_send_idle(const struct mqtt *w);
/* A message's properties (MQTT 5): -H then its headers, content type, expiry, into props. */
void mqtt_props_from_msg(struct mqtt *w, const struct oc_msg *m, struct mqtt_props *props);

/* recv.c */
/* An arrival: token comes back through tr->rx_done once it is written or dropped. */
void mqtt_arrived(struct mqtt *w, const struct mqtt_in *in, struct mqtt_rxref *token);
/* The SUBACK's outcome: reason (MQTT 5, or 0x80 for a 3.1.1 failure), or a library error
 * text (why non-NULL). */
void mqtt_subscribed(struct mqtt *w, int reason, const char *why);
void mqtt_recv_resume(struct mqtt *w);
void mqtt_recv_release(struct mqtt *w);

/* rr.c */
void mqtt_rr_init(struct mqtt *w);
/* client: a request written; server: an answer written (matched by id). */
void mqtt_rr_write(struct mqtt *w, struct oc_msg *m);
/* A requester's publish: its response topic and correlation data. */
void mqtt_rr_request_props(struct mqtt *w, const struct oc_msg *m, struct mqtt_props *props);
/* An arrival for a requester or responder; takes m. */
void mqtt_rr_arrived(struct mqtt *w, struct oc_msg *m, const struct mqtt_props *props);
bool mqtt_rr_idle(const struct mqtt *w);
void mqtt_rr_release(struct mqtt *w);

#endif
