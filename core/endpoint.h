/* core/endpoint.h — an open thing messages are read from and/or written to (DESIGN §1).
 *
 * An endpoint is opened from a URL by the adapter registered for its scheme, in a role. Its
 * owner (a pump, a hub, a relay) sets the event table and then talks to it through the
 * owner calls below; the adapter reports through the adapter calls. Lifecycle:
 *
 *   oc_ep_create()  parse and check the URL and options; no I/O
 *   oc_ep_open()    start connecting/listening   → ready | error
 *   oc_ep_write()   queue a message (bounded)     → drain when it was full and is not now
 *   oc_ep_pause/resume()  backpressure on what it delivers  → msg ... eof
 *   oc_ep_shutdown()      no more writes          → flushed
 *   oc_ep_close()         release                 → closed (the endpoint is freed after)
 *
 * Outbound accounting is done here, not in each adapter: oc_ep_write() counts a message and
 * its bytes in, oc_ep_sent()/oc_ep_dropped() count it out, and oc_ep_full() compares with the
 * limits, so every adapter gets the same bounded queue (DESIGN §6). */
#ifndef OC_ENDPOINT_H
#define OC_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

#include "defer.h"
#include "msg.h"
#include "options.h"
#include "url.h"

struct oc_adapter;
struct oc_scheme;
struct oc_ep;

/* What the owner wants of an endpoint. */
enum oc_role {
	OC_ROLE_CLIENT, /* connect; read and write */
	OC_ROLE_SERVER, /* listen */
	OC_ROLE_PUB,    /* connect; write only */
	OC_ROLE_SUB,    /* connect; read only */
};

/* Events, delivered to the owner on the loop thread. Any may be NULL. */
struct oc_ep_events {
	void (*ready)(struct oc_ep *ep);                     /* connected / listening */
	void (*msg)(struct oc_ep *ep, struct oc_msg *m);     /* arrived; the callee owns m */
	void (*drain)(struct oc_ep *ep);                     /* was full, takes more now */
	void (*eof)(struct oc_ep *ep);                       /* nothing more will arrive */
	void (*flushed)(struct oc_ep *ep);                   /* after shutdown: all written */
	void (*error)(struct oc_ep *ep);                     /* failed: ep->err, ep->errmsg */
	void (*accept)(struct oc_ep *lst, struct oc_ep *c);  /* OC_AF_CONNS: a new connection;
							      * the callee must set its events */
	void (*closed)(struct oc_ep *ep);                    /* closed (always on a later loop
							      * turn than oc_ep_close); freed
							      * after return */
};

/* Parsed URL, scheme and options, shared by a listener and the connections it accepts. */
struct oc_epspec {
	unsigned refs;                 /* endpoints using it */
	struct oc_url url;             /* parsed URL */
	const struct oc_scheme *scheme;/* its scheme row */
	struct oc_cfg cfg;             /* options for this endpoint */
};

/* Endpoint state flags. */
#define OC_EPF_READY 0x01    /* ready fired */
#define OC_EPF_EOF 0x02      /* eof fired */
#define OC_EPF_FAILED 0x04   /* error fired */
#define OC_EPF_SHUTDOWN 0x08 /* shutdown requested */
#define OC_EPF_CLOSING 0x10  /* close requested */
#define OC_EPF_PAUSED 0x20   /* paused by the owner */
#define OC_EPF_FULL 0x40     /* reported full to a writer; drain is owed */
#define OC_EPF_OPENED 0x80   /* the adapter's open succeeded: close goes through it */

struct oc_ep {
	const struct oc_adapter *ad;      /* protocol implementation */
	struct oc_epspec *spec;           /* URL, scheme, options (shared with children) */
	const struct oc_cfg *cfg;         /* = &spec->cfg */
	enum oc_role role;                /* what it was opened for */
	const char *name;                 /* for messages: the URL (password masked) or peer */
	char peer[64];                    /* connections: remote "host:port" or "unix:N" */
	struct oc_ep *parent;             /* the listener that accepted it, or NULL */
	const struct oc_ep_events *ev;    /* owner's events */
	void *owner;                      /* owner's pointer */
	unsigned flags;                   /* OC_EPF_* */
	size_t qmsgs, qbytes;             /* messages and bytes written but not yet sent */
	size_t qmax_msgs, qmax_bytes;     /* full at or above either */
	int err;                          /* OC_E* of the failure */
	char errmsg[320];                 /* one line naming the endpoint */
	struct oc_msg *ctx;               /* what it was opened for (a connection's peer, a
					   * request): --exec passes its metadata on; or NULL */
	uv_timer_t *connect_timer;        /* --connect-timeout while not ready, or NULL */
	struct oc_defer err_later;        /* delivers the error event */
	struct oc_defer closed_later;     /* delivers the closed event, then frees */
	void *priv;                       /* adapter state (ad->priv_size bytes) */
};

/* Default queue limits: enough to batch well, small enough to keep memory flat. */
#define OC_QUEUE_MSGS 4096
#define OC_QUEUE_BYTES (4u * 1024 * 1024)

/* ---- owner calls ------------------------------------------------------------------------- */

/* Parse url, find its adapter, check role and options. Returns 0 and *out, or an OC_E* with a
 * one-line message in err. cfg is copied. */
int oc_ep_create(const char *url, const struct oc_cfg *cfg, enum oc_role role, struct oc_ep **out,
		 char *err, size_t errlen);
/* The adapter that would serve url in role, or NULL (unknown or not built): lets a command
 * choose its wiring before creating anything. */
const struct oc_adapter *oc_adapter_of(const char *url, enum oc_role role);
/* An endpoint of an adapter that has no scheme (core's hub, -d data); name is for messages. */
struct oc_ep *oc_ep_new_internal(const struct oc_adapter *ad, const struct oc_cfg *cfg,
				 const char *name);
/* True (and err set) when an option given applies to none of the endpoints it was given
 * for: a core option whose adapter capability they lack (-k without TLS), or an adapter
 * option given for all that none of them knows. */
bool oc_ep_options_unused(struct oc_ep *const *eps, int n, char *err, size_t errlen);
void oc_ep_set_events(struct oc_ep *ep, const struct oc_ep_events *ev, void *owner);
/* Start it; 0 or an OC_E* (ep->errmsg says why; no event fires then). */
int oc_ep_open(struct oc_ep *ep);
/* Queue m (the endpoint takes the caller's reference). Returns 0; after shutdown, close or
 * failure the message is dropped and an OC_E* returned. */
int oc_ep_write(struct oc_ep *ep, struct oc_msg *m);
/* Full: the owner should stop feeding it until drain. Marks that a drain is owed. */
bool oc_ep_full(struct oc_ep *ep);
void oc_ep_pause(struct oc_ep *ep);
void oc_ep_resume(struct oc_ep *ep);
void oc_ep_shutdown(struct oc_ep *ep);
void oc_ep_close(struct oc_ep *ep);
/* Whether its adapter has capability flag f (OC_AF_*). */
bool oc_ep_has(const struct oc_ep *ep, unsigned f);
/* True when the scheme is a "-listen" spelling or the role is server. */
bool oc_ep_listens(const struct oc_ep *ep);

/* ---- adapter calls ----------------------------------------------------------------------- */

/* A connection accepted by listener lst: a new endpoint sharing its spec and adapter, with
 * zeroed state. The adapter fills it and calls oc_ep_accepted(). */
struct oc_ep *oc_ep_child(struct oc_ep *lst);
void oc_ep_accepted(struct oc_ep *lst, struct oc_ep *c);
void oc_ep_ready(struct oc_ep *ep);
/* Deliver a message upward (stamps its arrival time when unset). */
void oc_ep_emit(struct oc_ep *ep, struct oc_msg *m);
void oc_ep_sent(struct oc_ep *ep, struct oc_msg *m);
void oc_ep_dropped(struct oc_ep *ep, struct oc_msg *m);
/* Re-test fullness and fire drain when owed (aggregating adapters whose full() changed). */
void oc_ep_check_drain(struct oc_ep *ep);
void oc_ep_eof(struct oc_ep *ep);
void oc_ep_flushed(struct oc_ep *ep);
/* Record the error (first one wins) without firing anything. */
void oc_ep_seterr(struct oc_ep *ep, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Record the error and fire the error event (once, on the next loop turn). After it, the
 * endpoint emits nothing more. */
void oc_ep_fail(struct oc_ep *ep, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void oc_ep_closed(struct oc_ep *ep);
/* Set ep->peer and make it the endpoint's display name. */
void oc_ep_set_peer(struct oc_ep *ep, const char *peer);

/* Close a malloc'd libuv handle and free it once closed. */
void oc_uv_close_free(void *handle);

/* Adapter option of this endpoint (see adapter.h), or NULL. */
const char *oc_ep_opt(const struct oc_ep *ep, const char *key);
bool oc_ep_opt_flag(const struct oc_ep *ep, const char *key);

#endif
