/* proto-adapters/mqtt/mqtt.h — MQTT 3.1.1 and 5 on paho.mqtt.c's MQTTAsync, shared between
 * the adapter's files:
 *
 *   mqtt.c   the vtable: options, connect (TLS, WebSocket, will, session), reconnect, close
 *   send.c   publishing: a bounded hand-over of written messages to paho, completions
 *   recv.c   arrivals: paho's thread → the loop, ack-after-write, subscriptions, retained
 *   rr.c     MQTT 5 request/response: `client` (requester) and `server` (responder)
 *
 * Threads. paho runs its own threads and has no external-loop API; its callbacks run there.
 * They touch nothing of omnicat's but what `lock` guards and core/handoff.h, which runs the
 * real work on the loop thread, in posting order. Everything else here runs on the loop.
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
 * process's only paho client (mqtt_may_park()); it subscribes from paho's own thread (a
 * session's messages may come before the SUBACK) and wakes the callback before it
 * disconnects. Requesters, responders and a relay between two MQTT endpoints hand their
 * arrivals over without waiting (the broker's window, not ours, bounds them). */
#ifndef OC_MQTT_H
#define OC_MQTT_H

#include <pthread.h>
#include <stdbool.h>

#include <MQTTAsync.h>

#include "adapter.h"
#include "handoff.h"
#include "msgq.h"
#include "net.h"

struct mqtt_rx;
struct mqtt_send;
struct rr_wait;

struct mqtt {
	struct oc_ep *ep;
	MQTTAsync cli;               /* paho's client, NULL before open and after destroy */
	struct oc_handoff *ho;       /* paho's threads → the loop */
	char uri[400];               /* paho's server URI: tcp://, ssl://, ws://, wss:// */
	int port;                    /* the broker's */
	struct oc_tcp_probe *probe;  /* telling why a connect failed, or NULL */
	char client_id[128];
	char user[256];              /* -u's user name */
	char *password;              /* from --password-file or OMNICAT_PASSWORD */
	int version;                 /* MQTTVERSION_5 or MQTTVERSION_3_1_1 */
	int qos;                     /* -q */
	int keepalive;               /* seconds */
	bool session;                /* --session: persistent session, file store */
	bool tls_error;              /* paho's TLS layer reported an error (exit 7) */
	char tls_why[200];           /* its text */

	/* state, loop thread */
	bool connecting, connected;  /* a connect is under way / CONNACK accepted */
	bool subscribed;             /* SUBACK seen (sub, rr) */
	int nfilters;                /* in the last SUBSCRIBE */
	int receive_max;             /* the broker's Receive Maximum (MQTT 5), 0 if none */
	_Atomic unsigned nconnected; /* connects paho reported (on_reconnected()) */
	bool ready_sent;             /* oc_ep_ready() fired */
	bool shut;                   /* no more writes: flush, then flushed */
	bool flushed;                /* oc_ep_flushed() fired */
	bool closing;                /* ws close requested: winding down */
	bool paused;                 /* the owner wants no messages now */
	bool ended;                  /* eof or failure reported */
	struct oc_backoff backoff;   /* --reconnect delays */
	uv_timer_t *retry;           /* reconnect timer, or NULL */
	uv_timer_t *quiet;           /* --retained-only: end after the retained ones */

	/* publishing (send.c) */
	struct oc_msgq q;            /* written, not yet handed to paho */
	struct mqtt_send *inflight;  /* handed to paho, not yet completed, in order */
	struct mqtt_send *inflight_tail;
	unsigned ninflight;
	unsigned uncovered;          /* QoS 0 publishes since the last with a callback */

	/* arrivals (recv.c); lock and cond guard the fields marked [L] and the waits */
	pthread_mutex_t lock;
	pthread_cond_t cond;         /* an arrival was written, or stop */
	_Atomic unsigned outstanding;/* arrivals posted, not yet written */
	_Atomic unsigned waiting;    /* callbacks waiting for the window to move */
	_Atomic bool stop;           /* callbacks give up waiting (closing) */
	bool stalled;                /* [L] a callback waited past the keepalive */
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
bool mqtt_is_v5(const struct mqtt *w);
/* Whether arrivals may wait in paho's thread for the loop's writes (see the top). */
bool mqtt_may_park(const struct mqtt *w);
/* The URL's topic: its path without the leading '/'. */
const char *mqtt_url_topic(const struct oc_ep *ep);
/* The topic filters of a subscribing endpoint: the URL's and each -t, into out (at most
 * max); returns how many. */
int mqtt_filters(const struct mqtt *w, const char **out, int max);
/* The connection failed or was refused: report err with why, or reconnect. */
void mqtt_failed(struct mqtt *w, int err, const char *why);
/* What a reason code (MQTT 5) or return code means, in our exit codes. */
int mqtt_reason_err(int reason);

/* send.c */
void mqtt_send_write(struct mqtt *w, struct oc_msg *m);
/* Hand what is queued to paho, as far as the in-flight bound allows (after a connect, a
 * completion, a write). */
void mqtt_send_pump(struct mqtt *w);
/* Publish outside the queue (rr answers): topic, payload and properties given. */
int mqtt_send_raw(struct mqtt *w, const char *topic, const void *data, size_t len, int qos,
		  MQTTProperties *props);
/* Drop what is queued or in flight (closing); in-flight entries are freed once paho is gone. */
void mqtt_send_drop(struct mqtt *w);
void mqtt_send_release(struct mqtt *w);
bool mqtt_send_idle(const struct mqtt *w);
/* A message's properties (MQTT 5): user properties from headers, content type, expiry. */
void mqtt_props_from_msg(struct mqtt *w, const struct oc_msg *m, MQTTProperties *props);

/* recv.c */
int mqtt_on_arrived(void *ctx, char *topic, int tlen, MQTTAsync_message *pm);
void mqtt_subscribe(struct mqtt *w);
void mqtt_recv_resume(struct mqtt *w);
/* Closing: wake and release the callbacks waiting for writes (they return 0). */
void mqtt_recv_stop(struct mqtt *w);
void mqtt_recv_release(struct mqtt *w);

/* rr.c */
void mqtt_rr_init(struct mqtt *w);
/* client: a request written; server: an answer written (matched by id). */
void mqtt_rr_write(struct mqtt *w, struct oc_msg *m);
/* A requester's publish: its response topic and correlation data. */
void mqtt_rr_request_props(struct mqtt *w, const struct oc_msg *m, MQTTProperties *props);
/* An arrival for a requester or responder; takes m. */
void mqtt_rr_arrived(struct mqtt *w, struct oc_msg *m, MQTTProperties *props);
bool mqtt_rr_idle(const struct mqtt *w);
void mqtt_rr_release(struct mqtt *w);

#endif
