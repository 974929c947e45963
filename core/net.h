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
