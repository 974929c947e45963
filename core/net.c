/* core/net.c — see net.h. */
#include "net.h"

#include "err.h"
#include "log.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *ai)
{
	struct oc_resolve *r = req->data;
	r->active = false;
	r->cb(r, status, ai);
}

int oc_resolve_start(struct oc_resolve *r, const char *host, int port, int socktype,
		     const struct oc_cfg *cfg, bool passive, oc_resolve_cb cb)
{
	struct addrinfo hints;
	char portstr[8];
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = cfg->ipv4 ? AF_INET : cfg->ipv6 ? AF_INET6 : AF_UNSPEC;
	hints.ai_socktype = socktype;
	hints.ai_flags = passive ? AI_PASSIVE : AI_ADDRCONFIG;
	snprintf(portstr, sizeof(portstr), "%d", port);
	r->cb = cb;
	r->req.data = r;
	int e = uv_getaddrinfo(uv_default_loop(), &r->req, resolved, host, portstr, &hints);
	r->active = e == 0;
	return e;
}

void oc_resolve_cancel(struct oc_resolve *r)
{
	if (r->active)
		uv_cancel((uv_req_t *)&r->req);
}

void oc_sockaddr_str(const struct sockaddr *sa, char *out, size_t outlen)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		snprintf(out, outlen, "%s:%u", ip, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) { /* a dual-stack socket's IPv4 peer */
			inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], ip, sizeof(ip));
			snprintf(out, outlen, "%s:%u", ip, ntohs(in6->sin6_port));
			return;
		}
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		snprintf(out, outlen, "[%s]:%u", ip, ntohs(in6->sin6_port));
	} else {
		snprintf(out, outlen, "unknown");
	}
}

const char *oc_listen_host(const struct oc_ep *ep)
{
	const char *h = ep->spec->url.host;
	if (h && *h)
		return h;
	return ep->cfg->ipv6 ? "::1" : "127.0.0.1";
}

uint64_t oc_backoff_next(struct oc_backoff *b)
{
	uint64_t ms = 100;
	for (unsigned i = 0; i < b->attempt && ms < 5000; i++)
		ms *= 2;
	if (ms > 5000)
		ms = 5000;
	b->attempt++;
	/* up to 25% jitter so many clients do not reconnect in step */
	return ms - ms / 4 + (uint64_t)(rand() % (int)(ms / 4 + 1));
}

/* ---- TCP listener ----------------------------------------------------------------------- */

static void listener_done(struct oc_tcp_listener *l)
{
	if (l->closing && !l->open && !l->res.active && l->closed) {
		void (*closed)(struct oc_tcp_listener *) = l->closed;
		l->closed = NULL;
		closed(l);
	}
}

static void listener_closed(uv_handle_t *h)
{
	struct oc_tcp_listener *l = (struct oc_tcp_listener *)h;
	l->open = false;
	listener_done(l);
}

static void listen_resolved(struct oc_resolve *res, int status, struct addrinfo *ai)
{
	struct oc_tcp_listener *l = res->data;
	struct oc_ep *ep = l->ep;
	if (l->closing || status == UV_ECANCELED) {
		if (ai)
			uv_freeaddrinfo(ai);
		listener_done(l);
		return;
	}
	if (status) {
		oc_ep_fail(ep, OC_ERESOLVE, "cannot resolve '%s': %s", oc_listen_host(ep),
			   uv_strerror(status));
		return;
	}
	uv_tcp_init(uv_default_loop(), &l->tcp);
	l->tcp.data = l->data;
	l->open = true;
	int r = uv_tcp_bind(&l->tcp, ai->ai_addr, 0);
	uv_freeaddrinfo(ai);
	if (!r)
		r = uv_listen((uv_stream_t *)&l->tcp, 511, l->on_conn);
	if (r) {
		oc_ep_fail(ep, OC_ECONNECT, "cannot listen on '%s': %s", l->where, uv_strerror(r));
		return;
	}
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&ss, &len);
	oc_sockaddr_str((struct sockaddr *)&ss, l->where, sizeof(l->where));
	oc_verbose("listening on '%s'", l->where);
	oc_ep_ready(ep);
}

int oc_tcp_listen(struct oc_tcp_listener *l, struct oc_ep *ep, int port, uv_connection_cb on_conn,
		  void *data)
{
	const char *host = oc_listen_host(ep);
	l->ep = ep;
	l->on_conn = on_conn;
	l->data = data;
	l->res.data = l;
	oc_url_hostport(host, port, l->where, sizeof(l->where));
	int r = oc_resolve_start(&l->res, host, port, SOCK_STREAM, ep->cfg, true, listen_resolved);
	if (r) {
		oc_ep_seterr(ep, OC_ERESOLVE, "cannot resolve '%s': %s", host, uv_strerror(r));
		return OC_ERESOLVE;
	}
	return 0;
}

void oc_tcp_listener_close(struct oc_tcp_listener *l, void (*closed)(struct oc_tcp_listener *l))
{
	l->closing = true;
	l->closed = closed;
	oc_resolve_cancel(&l->res);
	if (l->open && !uv_is_closing((uv_handle_t *)&l->tcp))
		uv_close((uv_handle_t *)&l->tcp, listener_closed);
	else
		listener_done(l);
}

/* ---- TCP probe --------------------------------------------------------------------------- */

struct oc_tcp_probe {
	struct oc_resolve res;
	uv_tcp_t tcp;
	uv_connect_t conn;
	oc_tcp_probe_cb cb;   /* NULL once cancelled */
	void *data;
	int result;
	bool connecting;      /* tcp is open, the connect under way */
};

static void probe_closed(uv_handle_t *h)
{
	struct oc_tcp_probe *p = h->data;
	if (p->cb)
		p->cb(p->data, p->result);
	free(p);
}

static void probe_connected(uv_connect_t *req, int status)
{
	struct oc_tcp_probe *p = req->data;
	p->result = status ? OC_ECONNECT : 0;
	if (p->connecting) /* else cancelled: closing already */
		uv_close((uv_handle_t *)&p->tcp, probe_closed);
	p->connecting = false;
}

static void probe_resolved(struct oc_resolve *r, int status, struct addrinfo *ai)
{
	struct oc_tcp_probe *p = r->data;
	p->tcp.data = p;
	uv_tcp_init(uv_default_loop(), &p->tcp);
	if (status || !p->cb) {
		p->result = status == UV_ECANCELED ? OC_ECONNECT : OC_ERESOLVE;
		if (ai)
			uv_freeaddrinfo(ai);
		uv_close((uv_handle_t *)&p->tcp, probe_closed);
		return;
	}
	p->conn.data = p;
	p->connecting = uv_tcp_connect(&p->conn, &p->tcp, ai->ai_addr, probe_connected) == 0;
	if (!p->connecting) {
		p->result = OC_ECONNECT;
		uv_close((uv_handle_t *)&p->tcp, probe_closed);
	}
	uv_freeaddrinfo(ai);
}

struct oc_tcp_probe *oc_tcp_probe_start(const char *host, int port, const struct oc_cfg *cfg,
					oc_tcp_probe_cb cb, void *data)
{
	struct oc_tcp_probe *p = xcalloc(1, sizeof(*p));
	p->cb = cb;
	p->data = data;
	p->res.data = p;
	if (oc_resolve_start(&p->res, host, port, SOCK_STREAM, cfg, false, probe_resolved)) {
		free(p);
		return NULL;
	}
	return p;
}

void oc_tcp_probe_cancel(struct oc_tcp_probe *p)
{
	p->cb = NULL; /* it finishes by itself, quietly */
	if (p->connecting) {
		p->connecting = false;
		uv_close((uv_handle_t *)&p->tcp, probe_closed);
	} else {
		oc_resolve_cancel(&p->res);
	}
}
