/* proto-adapters/udp.c — datagrams: udp://host:port and udp-listen://[host]:port.
 *
 * One message is one datagram, both ways; framing does not apply. A message larger than a
 * datagram can carry is an error naming its size, never a silent truncation.
 *
 *   udp://host:port    a connected socket: sends to host:port, receives only from it. A
 *                      "port unreachable" answer is reported as connection refused (6).
 *   udp-listen://...   binds (127.0.0.1 unless a host is given). Each new source address
 *                      becomes a peer endpoint (OC_AF_CONNS), as TCP connections do: a
 *                      server broadcasts to the peers it has heard from, a relay gives each
 *                      its own target (a DNS-style forwarder). Writes to a peer go out of
 *                      the listening socket to its address.
 *
 * A datagram client has no end of its own: after its input ended (shutdown), it keeps
 * receiving answers until LINGER_MS pass without one, then ends (socat's -t, 0.5 s).
 *
 * The listening socket is shared by the listener and its peers and reference counted, so
 * either may close first. A datagram socket cannot pause one peer: while any peer is paused
 * the socket stops receiving (the kernel buffers, then drops — that is UDP).
 * Library: libuv. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "err.h"
#include "log.h"
#include "net.h"
#include "xalloc.h"

#define LINGER_MS 500
#define HELD_MAX 256 /* datagrams kept for a paused peer */
#define UDP_MAX_V4 65507
#define UDP_MAX_V6 65527

struct udp_ep;

/* A socket shared by a listener and its peers. */
struct udp_sock {
	uv_udp_t h;              /* the socket */
	unsigned refs;           /* endpoints using it */
	struct udp_ep *owner;    /* the listener, or the client; NULL once it closed */
	struct udp_ep *peers;    /* listener: peer endpoints by address */
	unsigned npaused;        /* endpoints that asked not to receive */
	bool receiving;          /* uv_udp_recv_start is on */
	int family;              /* AF_INET or AF_INET6 */
	char buf[65536];         /* receive buffer: every datagram is copied out of it */
};

struct udp_ep {
	struct oc_ep *ep;                /* this endpoint */
	struct udp_sock *sock;           /* its socket (NULL before open or after close) */
	struct sockaddr_storage addr;    /* peer endpoints: the peer's address */
	struct udp_ep *next_peer;        /* listener's peer list */
	bool is_peer;                    /* a listener's peer: writes go to addr */
	bool paused;                     /* counted in sock->npaused */
	struct oc_msg **held;            /* peers: datagrams that came while paused */
	unsigned nheld;                  /* entries in held */
	bool shut;                       /* shutdown requested */
	unsigned sending;                /* uv_udp_send requests in flight */
	struct oc_resolve res;           /* name resolution */
	uv_timer_t *linger;              /* client after shutdown: ends it after quiet */
	bool closing;                    /* close requested */
	char where[300];                 /* "host:port", for messages */
};

struct send_req {
	uv_udp_send_t req;   /* libuv request */
	struct udp_ep *u;    /* sender */
	struct oc_msg *m;    /* the datagram */
};

static int udp_check(struct oc_ep *ep)
{
	const struct oc_url *u = &ep->spec->url;
	if (u->port < 0) {
		oc_ep_seterr(ep, OC_EUSAGE, "'%s' needs a port (%s://host:port)", ep->name,
			     u->scheme);
		return OC_EUSAGE;
	}
	if (!oc_ep_listens(ep) && (!u->host || !*u->host)) {
		oc_ep_seterr(ep, OC_EUSAGE, "'%s' needs a host", ep->name);
		return OC_EUSAGE;
	}
	return 0;
}

/* ---- the shared socket ------------------------------------------------------------------- */

static void sock_closed(uv_handle_t *h)
{
	free(h->data);
}

static void sock_unref(struct udp_sock *s)
{
	if (--s->refs == 0)
		uv_close((uv_handle_t *)&s->h, sock_closed);
}

static void recv_update(struct udp_sock *s);

/* u->paused is what the owner asked for; it counts in the socket's npaused once the socket
 * exists. */
static void set_paused(struct udp_ep *u, bool paused)
{
	if (u->paused == paused)
		return;
	u->paused = paused;
	if (!u->sock)
		return;
	u->sock->npaused += paused ? 1 : (unsigned)-1;
	recv_update(u->sock);
}

static struct udp_ep *peer_find(struct udp_sock *s, const struct sockaddr *sa)
{
	size_t len = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					       : sizeof(struct sockaddr_in);
	for (struct udp_ep *p = s->peers; p; p = p->next_peer)
		if (!memcmp(&p->addr, sa, len))
			return p;
	return NULL;
}

static void peer_unlink(struct udp_ep *p)
{
	for (struct udp_ep **pp = &p->sock->peers; *pp; pp = &(*pp)->next_peer)
		if (*pp == p) {
			*pp = p->next_peer;
			break;
		}
}

/* A datagram from a new address: a new peer endpoint of the listener. */
static struct udp_ep *peer_new(struct udp_sock *s, const struct sockaddr *sa)
{
	struct oc_ep *c = oc_ep_child(s->owner->ep);
	struct udp_ep *p = c->priv;
	char name[64];
	p->ep = c;
	p->is_peer = true;
	p->sock = s;
	s->refs++;
	memcpy(&p->addr, sa, sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						      : sizeof(struct sockaddr_in));
	oc_sockaddr_str(sa, name, sizeof(name));
	snprintf(p->where, sizeof(p->where), "%s", name);
	oc_ep_set_peer(c, name);
	p->next_peer = s->peers;
	s->peers = p;
	/* Like every endpoint it starts paused until its owner resumes it. */
	p->paused = true;
	s->npaused++;
	oc_ep_accepted(s->owner->ep, c);
	return p;
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct udp_sock *s = h->data;
	*buf = uv_buf_init(s->buf, sizeof(s->buf));
}

static void recv_cb(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *sa,
		    unsigned flags)
{
	struct udp_sock *s = h->data;
	if (nread == 0 && !sa)
		return; /* nothing more to read now */
	if (nread < 0) {
		struct udp_ep *u = s->owner;
		if (u && !oc_ep_listens(u->ep))
			oc_ep_fail(u->ep, OC_ECONNECT, "'%s' is not reachable: %s", u->where,
				   uv_strerror((int)nread));
		return;
	}
	struct udp_ep *to;
	if (s->owner && oc_ep_listens(s->owner->ep))
		to = sa ? peer_find(s, sa) : NULL;
	else
		to = s->owner;
	if (!to && s->owner && sa && oc_ep_listens(s->owner->ep))
		to = peer_new(s, sa);
	if (!to || to->closing)
		return;
	oc_trace_bytes(to->where, "received", buf->base, (size_t)nread);
	if (to->linger)
		uv_timer_again(to->linger);
	if (flags & UV_UDP_PARTIAL)
		oc_notice("datagram from '%s' truncated to %zd bytes", to->where, nread);
	struct oc_msg *m = oc_msg_new();
	oc_msg_set_payload_copy(m, buf->base, (size_t)nread);
	if (to->is_peer && to->paused) {
		/* The socket is shared, so one peer cannot stop it at once: keep what comes for a
		 * paused peer (its target may still be connecting) up to a bound, as a kernel
		 * buffer would, and say so past it. */
		if (to->nheld == HELD_MAX) {
			oc_notice("'%s' is not reading: datagram dropped", to->where);
			oc_msg_unref(m);
			return;
		}
		if (!to->held)
			to->held = xmalloc(HELD_MAX * sizeof(*to->held));
		to->held[to->nheld++] = m;
		return;
	}
	oc_ep_emit(to->ep, m);
}

/* Receive unless some endpoint of the socket is paused (or nothing is attached). */
static void recv_update(struct udp_sock *s)
{
	bool want = s->owner && s->npaused == 0;
	if (s->owner && oc_ep_listens(s->owner->ep))
		want = s->npaused == 0; /* the listener itself never asks to pause */
	if (want && !s->receiving)
		s->receiving = uv_udp_recv_start(&s->h, alloc_cb, recv_cb) == 0;
	else if (!want && s->receiving) {
		uv_udp_recv_stop(&s->h);
		s->receiving = false;
	}
}

static struct udp_sock *sock_new(struct udp_ep *owner, int family)
{
	struct udp_sock *s = xcalloc(1, sizeof(*s));
	uv_udp_init(uv_default_loop(), &s->h);
	s->h.data = s;
	s->refs = 1;
	s->owner = owner;
	s->family = family;
	return s;
}

/* ---- sending ----------------------------------------------------------------------------- */

static void maybe_flushed(struct udp_ep *u)
{
	if (u->shut && u->sending == 0 && !u->closing)
		oc_ep_flushed(u->ep);
}

static void send_cb(uv_udp_send_t *req, int status)
{
	struct send_req *sr = req->data;
	struct udp_ep *u = sr->u;
	u->sending--;
	if (status == 0)
		oc_ep_sent(u->ep, sr->m);
	else
		oc_ep_dropped(u->ep, sr->m);
	if (status && status != UV_ECANCELED)
		oc_ep_fail(u->ep, OC_ECONNECT, "cannot send to '%s': %s", u->where,
			   uv_strerror(status));
	free(sr);
	if (u->closing && u->sending == 0 && !u->sock)
		oc_ep_closed(u->ep);
	else
		maybe_flushed(u);
}

static void udp_write(struct oc_ep *ep, struct oc_msg *m)
{
	struct udp_ep *u = ep->priv;
	struct udp_sock *s = u->sock;
	size_t max = s && s->family == AF_INET6 ? UDP_MAX_V6 : UDP_MAX_V4;
	if (!s) {
		oc_ep_dropped(ep, m);
		return;
	}
	if (m->len > max) {
		size_t len = m->len;
		oc_ep_dropped(ep, m);
		oc_ep_fail(ep, OC_EFAIL, "message of %zu bytes is larger than a datagram to '%s' "
			   "can be (%zu bytes)", len, u->where, max);
		return;
	}
	const struct sockaddr *to = u->is_peer ? (const struct sockaddr *)&u->addr : NULL;
	uv_buf_t b = uv_buf_init((char *)m->data, (unsigned)m->len);
	oc_trace_bytes(u->where, "sent", m->data, m->len);
	/* Try at once (the usual case: no queue, no allocation); else queue in libuv, which
	 * keeps the order because try_send refuses while anything is queued. */
	int r = uv_udp_try_send(&s->h, &b, 1, to);
	if (r >= 0) {
		oc_ep_sent(ep, m);
		return;
	}
	struct send_req *sr = xmalloc(sizeof(*sr));
	sr->req.data = sr;
	sr->u = u;
	sr->m = m;
	u->sending++;
	r = uv_udp_send(&sr->req, &s->h, &b, 1, to, send_cb);
	if (r)
		send_cb(&sr->req, r);
}

/* ---- open and close ---------------------------------------------------------------------- */

static void on_resolved(struct oc_resolve *r, int status, struct addrinfo *ai)
{
	struct udp_ep *u = r->data;
	struct oc_ep *ep = u->ep;
	if (u->closing || status == UV_ECANCELED) {
		if (ai)
			uv_freeaddrinfo(ai);
		if (u->closing)
			oc_ep_closed(ep);
		return;
	}
	if (status) {
		oc_ep_fail(ep, OC_ERESOLVE, "cannot resolve '%s': %s",
			   oc_ep_listens(ep) ? oc_listen_host(ep) : ep->spec->url.host,
			   uv_strerror(status));
		return;
	}
	u->sock = sock_new(u, ai->ai_family);
	int e = oc_ep_listens(ep) ? uv_udp_bind(&u->sock->h, ai->ai_addr, 0)
				  : uv_udp_connect(&u->sock->h, ai->ai_addr);
	if (!e) {
		struct sockaddr_storage ss;
		int len = sizeof(ss);
		if (oc_ep_listens(ep))
			uv_udp_getsockname(&u->sock->h, (struct sockaddr *)&ss, &len);
		else
			uv_udp_getpeername(&u->sock->h, (struct sockaddr *)&ss, &len);
		oc_sockaddr_str((struct sockaddr *)&ss, u->where, sizeof(u->where));
	}
	uv_freeaddrinfo(ai);
	if (e) {
		oc_ep_fail(ep, OC_ECONNECT, "cannot %s '%s': %s",
			   oc_ep_listens(ep) ? "bind" : "connect to", u->where, uv_strerror(e));
		return;
	}
	oc_verbose("%s '%s'", oc_ep_listens(ep) ? "listening on" : "sending to", u->where);
	if (!oc_ep_listens(ep))
		u->sock->npaused = u->paused;
	recv_update(u->sock);
	oc_ep_ready(ep);
}

static int udp_open(struct oc_ep *ep)
{
	struct udp_ep *u = ep->priv;
	const struct oc_url *url = &ep->spec->url;
	const char *host = oc_ep_listens(ep) ? oc_listen_host(ep) : url->host;
	u->ep = ep;
	u->res.data = u;
	u->paused = true; /* every endpoint starts paused */
	oc_url_hostport(host, url->port, u->where, sizeof(u->where));
	int r = oc_resolve_start(&u->res, host, url->port, SOCK_DGRAM, ep->cfg, oc_ep_listens(ep),
				 on_resolved);
	if (r) {
		oc_ep_seterr(ep, OC_ERESOLVE, "cannot resolve '%s': %s", host, uv_strerror(r));
		return OC_ERESOLVE;
	}
	return 0;
}

static void udp_pause(struct oc_ep *ep)
{
	set_paused(ep->priv, true);
}

static void udp_resume(struct oc_ep *ep)
{
	struct udp_ep *u = ep->priv;
	set_paused(u, false);
	unsigned n = u->nheld;
	u->nheld = 0;
	for (unsigned i = 0; i < n; i++)
		oc_ep_emit(ep, u->held[i]);
}

static void linger_cb(uv_timer_t *t)
{
	struct udp_ep *u = t->data;
	oc_ep_eof(u->ep);
}

static void udp_shutdown(struct oc_ep *ep)
{
	struct udp_ep *u = ep->priv;
	u->shut = true;
	if (!u->is_peer && !oc_ep_listens(ep) && !u->linger) {
		u->linger = xmalloc(sizeof(*u->linger));
		uv_timer_init(uv_default_loop(), u->linger);
		u->linger->data = u;
		uv_timer_start(u->linger, linger_cb, LINGER_MS, LINGER_MS);
	}
	maybe_flushed(u);
}

static void udp_close(struct oc_ep *ep)
{
	struct udp_ep *u = ep->priv;
	u->closing = true;
	for (unsigned i = 0; i < u->nheld; i++)
		oc_msg_unref(u->held[i]);
	free(u->held);
	u->held = NULL;
	u->nheld = 0;
	if (u->linger) {
		oc_uv_close_free(u->linger);
		u->linger = NULL;
	}
	if (u->res.active) {
		oc_resolve_cancel(&u->res); /* on_resolved finishes the close */
		return;
	}
	struct udp_sock *s = u->sock;
	if (s) {
		set_paused(u, false); /* no longer holds the socket's receiving back */
		if (u->is_peer)
			peer_unlink(u);
		else
			s->owner = NULL; /* its peers can still send; nothing more is received */
		recv_update(s);
		u->sock = NULL;
		sock_unref(s);
	}
	if (u->sending == 0)
		oc_ep_closed(ep);
}

const struct oc_adapter oc_adapter_udp = {
	.name = "udp",
	.flags = OC_AF_CLIENT | OC_AF_SERVER | OC_AF_PUB | OC_AF_SUB | OC_AF_CONNS |
		 OC_AF_PER_PEER,
	.priv_size = sizeof(struct udp_ep),
	.check = udp_check,
	.open = udp_open,
	.write = udp_write,
	.pause = udp_pause,
	.resume = udp_resume,
	.shutdown = udp_shutdown,
	.close = udp_close,
};
