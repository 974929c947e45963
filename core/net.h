/* core/net.h — name resolution and socket addresses, shared by the socket adapters. */
#ifndef OC_NET_H
#define OC_NET_H

#include <netdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "endpoint.h"

struct oc_resolve;
/* status is 0 with ai (free with uv_freeaddrinfo) or a libuv error; UV_ECANCELED after
 * oc_resolve_cancel(). */
typedef void (*oc_resolve_cb)(struct oc_resolve *r, int status, struct addrinfo *ai);

struct oc_resolve {
	uv_getaddrinfo_t req; /* libuv request */
	oc_resolve_cb cb;     /* completion */
	void *data;           /* caller's pointer */
	bool active;          /* a request is in flight */
};

/* Resolve host and port for socktype (SOCK_STREAM/SOCK_DGRAM), honouring -4/-6; passive for
 * a listener. Returns 0 (cb will run) or a libuv error. */
int oc_resolve_start(struct oc_resolve *r, const char *host, int port, int socktype,
		     const struct oc_cfg *cfg, bool passive, oc_resolve_cb cb);
void oc_resolve_cancel(struct oc_resolve *r);

/* "1.2.3.4:5" or "[::1]:5". */
void oc_sockaddr_str(const struct sockaddr *sa, char *out, size_t outlen);

/* The host a listener binds: the URL's, else loopback (DESIGN §3), ::1 with -6. */
const char *oc_listen_host(const struct oc_ep *ep);

/* A TCP listener for an endpoint: resolve the listen address (the URL's host, else loopback),
 * bind, listen; then oc_ep_ready(ep) and, with -v, "listening on 'host:port'" (the real port
 * when 0 was asked for). Failures are reported with oc_ep_fail(ep). Connections arrive on
 * on_conn with the server handle's data = the owner's pointer. */
struct oc_tcp_listener {
	uv_tcp_t tcp;               /* listening socket */
	struct oc_resolve res;      /* resolving its address */
	struct oc_ep *ep;           /* the endpoint it listens for */
	uv_connection_cb on_conn;   /* accepted connections */
	void *data;                 /* the owner's pointer (tcp.data) */
	bool open;                  /* tcp initialised and not closed */
	bool closing;               /* oc_tcp_listener_close() called */
	void (*closed)(struct oc_tcp_listener *l); /* after close, once nothing is pending */
	char where[300];            /* "host:port": asked for, then bound */
};

/* Start listening on port. Returns 0, or an OC_E* with the endpoint's error set (nothing to
 * close then). */
int oc_tcp_listen(struct oc_tcp_listener *l, struct oc_ep *ep, int port, uv_connection_cb on_conn,
		  void *data);
/* Stop; closed(l) runs once the socket and any lookup are finished (at once when nothing was
 * open). */
void oc_tcp_listener_close(struct oc_tcp_listener *l, void (*closed)(struct oc_tcp_listener *l));

/* Can a TCP connection to host:port be made? For libraries that fail a connect with one
 * message for every cause (paho: "TCP/TLS connect failure"): cb gets 0 when the connection
 * was made (then closed at once), OC_ERESOLVE or OC_ECONNECT. The probe frees itself;
 * cancel it with oc_tcp_probe_cancel() (cb is not called then). */
struct oc_tcp_probe;
typedef void (*oc_tcp_probe_cb)(void *data, int result);
struct oc_tcp_probe *oc_tcp_probe_start(const char *host, int port, const struct oc_cfg *cfg,
					oc_tcp_probe_cb cb, void *data);
void oc_tcp_probe_cancel(struct oc_tcp_probe *p);

/* Backoff for --reconnect: 100 ms doubling to a 5 s cap, with jitter. */
struct oc_backoff {
	unsigned attempt; /* failures since the last success */
};
uint64_t oc_backoff_next(struct oc_backoff *b);
static inline void oc_backoff_reset(struct oc_backoff *b)
{
	b->attempt = 0;
}

#endif
