/* proto-adapters/socket.c — stream sockets: tcp://, tcp-listen://, unix:, unix-listen:, and
 * TLS over TCP: tls://, tls-listen:// (oc_adapter_tls: the same code with TLS on).
 *
 * One adapter serves the four schemes, as socat's generic socket address does: TCP and unix
 * differ only in how a handle is made and addressed; reading, writing, framing, half-close and
 * backpressure are the shared stream base (core/stream.c).
 *
 *   tcp://host:port        connect (every resolved address in turn); -4/-6
 *   tcp-listen://[host]:port, or `server tcp://...`: listen; no host binds 127.0.0.1
 *   unix:/path             connect to a unix stream socket
 *   unix-listen:/path      listen; a stale socket file (nothing accepting) is replaced and
 *                          the file is removed at exit
 *
 * A listener hands out each accepted connection as its own endpoint (OC_AF_CONNS): the hub
 * turns them into one "all peers" side, a relay pumps each against its own target. Peers are
 * named "host:port", or "unix:N" (N counts connections) for unix sockets.
 * --reconnect (clients): a refused or lost connection is retried with bounded backoff; queued
 * messages wait, and a batch that was being written is sent again.
 * TLS (core/tls.c, OpenSSL) verifies the server against the system's CAs or --cacert unless
 * -k; a server needs --cert and --key, and with --cacert also asks for client certificates.
 * A failed handshake or verification is exit 7.
 * Library: libuv. Threads: loop only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "adapter.h"
#include "err.h"
#include "log.h"
#include "net.h"
#include "stream.h"

struct sock {
	struct oc_stream st;        /* first: the connection's stream */
	struct oc_resolve res;      /* name resolution */
	struct addrinfo *ai, *cur;  /* resolved addresses and the one being tried */
	int last_err;               /* libuv error of the last failed attempt */
	uv_connect_t creq;          /* connect request */
	bool connecting;            /* creq in flight */
	uv_pipe_t ulst;             /* unix listening handle */
	bool ulst_open;             /* ulst is initialised and not yet closed */
	struct oc_tcp_listener tlst;/* TCP listener */
	bool tlst_busy;             /* tlst is listening or closing */
	unsigned next_peer;         /* unix listener: next peer number */
	char *unlink_path;          /* unix listener: socket file to remove at close */
	uv_timer_t retry;           /* --reconnect delay */
	bool retry_open;            /* retry is initialised and not yet closed */
	struct oc_backoff backoff;  /* --reconnect delays */
	bool stream_open;           /* the stream base is not closed yet */
	bool closing;               /* close requested */
	bool ready_once;            /* connected at least once */
	char where[300];            /* "host:port" or the path, for messages */
	char lost_msg[400];         /* why the connection is being re-made */
	struct oc_tls_ctx *tls;     /* tls://: certificates and verification (shared by the
				     * listener's connections), or NULL */
};

static bool is_unix(const struct oc_ep *ep)
{
	return ep->spec->url.path && !ep->spec->url.host && ep->spec->scheme &&
	       !strncmp(ep->spec->scheme->name, "unix", 4);
}

static void maybe_closed(struct sock *s)
{
	if (!s->closing || s->res.active || s->connecting || s->ulst_open || s->tlst_busy ||
	    s->retry_open ||
	    s->stream_open)
		return;
	if (s->unlink_path) {
		unlink(s->unlink_path);
		free(s->unlink_path);
	}
	oc_tls_ctx_free(s->tls);
	if (s->ai)
		uv_freeaddrinfo(s->ai);
	oc_ep_closed(s->st.ep);
}

static void stream_closed(struct oc_stream *st)
{
	struct sock *s = (struct sock *)st;
	s->stream_open = false;
	maybe_closed(s);
}

static void retry_closed(uv_handle_t *h)
{
	struct sock *s = h->data;
	s->retry_open = false;
	maybe_closed(s);
}

static void ulst_closed(uv_handle_t *h)
{
	struct sock *s = h->data;
	s->ulst_open = false;
	maybe_closed(s);
}

static void tlst_closed(struct oc_tcp_listener *l)
{
	struct sock *s = l->data;
	s->tlst_busy = false;
	maybe_closed(s);
}

static int sock_check(struct oc_ep *ep)
{
	const struct oc_url *u = &ep->spec->url;
	if (is_unix(ep))
		return 0;
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

/* ---- connecting -------------------------------------------------------------------------- */

static void connect_start(struct sock *s);
static bool conn_lost(struct oc_stream *st, int err);
static const struct oc_stream_hooks conn_hooks = { .closed = stream_closed, .lost = conn_lost };

static void retry_cb(uv_timer_t *t)
{
	connect_start(t->data);
}

/* Connecting failed or the connection was lost: retry later (--reconnect) or fail. */
static void give_up_or_retry(struct sock *s, int err, const char *msg)
{
	struct oc_ep *ep = s->st.ep;
	if (!ep->cfg->reconnect || s->closing) {
		oc_ep_fail(ep, err, "%s", msg);
		return;
	}
	uint64_t ms = oc_backoff_next(&s->backoff);
	oc_verbose("%s; retrying in %llu ms", msg, (unsigned long long)ms);
	if (!s->retry_open) {
		uv_timer_init(uv_default_loop(), &s->retry);
		s->retry.data = s;
		s->retry_open = true;
	}
	uv_timer_start(&s->retry, retry_cb, ms, 0);
}

extern const struct oc_adapter oc_adapter_tls;

static bool is_tls(const struct oc_ep *ep)
{
	return ep->ad == &oc_adapter_tls;
}

static void connected(struct sock *s)
{
	struct oc_ep *ep = s->st.ep;
	uv_stream_t *h = &s->st.io[0].s;
	if (s->tls)
		oc_stream_set_tls(&s->st, oc_tls_new(s->tls, ep->spec->url.host), true);
	if (!is_unix(ep))
		uv_tcp_nodelay(&s->st.io[0].tcp, 1);
	oc_backoff_reset(&s->backoff);
	oc_verbose("connected to '%s'", s->where);
	oc_stream_attach(&s->st, h, h);
	s->ready_once = true;
	oc_ep_ready(ep);
}

static void try_next(struct oc_stream *st);

static void on_connect(uv_connect_t *req, int status)
{
	struct sock *s = req->data;
	s->connecting = false;
	if (s->closing) {
		maybe_closed(s);
		return;
	}
	if (status == 0) {
		connected(s);
		return;
	}
	s->last_err = status;
	if (s->cur)
		s->cur = s->cur->ai_next;
	/* Close the failed handle, then try the next address with a fresh one. */
	oc_stream_detach(&s->st, try_next);
}

static void try_next(struct oc_stream *st)
{
	struct sock *s = (struct sock *)st;
	struct oc_ep *ep = st->ep;
	if (s->closing) {
		maybe_closed(s);
		return;
	}
	if (is_unix(ep) ? s->last_err != 0 : !s->cur) {
		char msg[400];
		snprintf(msg, sizeof(msg), "cannot connect to '%s': %s", s->where,
			 uv_strerror(s->last_err));
		give_up_or_retry(s, OC_ECONNECT, msg);
		return;
	}
	s->creq.data = s;
	s->connecting = true;
	if (is_unix(ep)) {
		uv_pipe_init(uv_default_loop(), &st->io[0].pipe, 0);
		oc_stream_inited(st, 0);
		uv_pipe_connect(&s->creq, &st->io[0].pipe, ep->spec->url.path, on_connect);
		return;
	}
	uv_tcp_init(uv_default_loop(), &st->io[0].tcp);
	oc_stream_inited(st, 0);
	int r = uv_tcp_connect(&s->creq, &st->io[0].tcp, s->cur->ai_addr, on_connect);
	if (r) {
		s->connecting = false;
		s->last_err = r;
		s->cur = s->cur->ai_next;
		oc_stream_detach(st, try_next);
	}
}

static void on_resolved(struct oc_resolve *r, int status, struct addrinfo *ai)
{
	struct sock *s = r->data;
	if (s->closing || status == UV_ECANCELED) {
		if (ai)
			uv_freeaddrinfo(ai);
		maybe_closed(s);
		return;
	}
	if (status) {
		char msg[400];
		snprintf(msg, sizeof(msg), "cannot resolve '%s': %s", s->st.ep->spec->url.host,
			 uv_strerror(status));
		give_up_or_retry(s, OC_ERESOLVE, msg);
		return;
	}
	if (s->ai)
		uv_freeaddrinfo(s->ai);
	s->ai = s->cur = ai;
	s->last_err = 0;
	try_next(&s->st);
}

static void connect_start(struct sock *s)
{
	struct oc_ep *ep = s->st.ep;
	s->last_err = 0;
	if (is_unix(ep)) {
		try_next(&s->st);
		return;
	}
	s->res.data = s;
	int r = oc_resolve_start(&s->res, ep->spec->url.host, ep->spec->url.port, SOCK_STREAM,
				 ep->cfg, false, on_resolved);
	if (r)
		on_resolved(&s->res, r, NULL);
}

static void lost_detached(struct oc_stream *st)
{
	struct sock *s = (struct sock *)st;
	if (s->closing)
		maybe_closed(s);
	else
		give_up_or_retry(s, OC_EINCOMPLETE, s->lost_msg);
}

/* Stream hook: the connection ended (err 0) or broke. With --reconnect, and unless we are
 * done sending, connect again and keep the queue. */
static bool conn_lost(struct oc_stream *st, int err)
{
	struct sock *s = (struct sock *)st;
	struct oc_ep *ep = st->ep;
	if (!ep->cfg->reconnect || ep->parent || s->closing || (ep->flags & OC_EPF_SHUTDOWN))
		return false;
	snprintf(s->lost_msg, sizeof(s->lost_msg), "connection to '%s' %s", s->where,
		 err ? "lost" : "closed by the peer");
	oc_stream_detach(st, lost_detached);
	return true;
}

/* ---- listening --------------------------------------------------------------------------- */

static void on_connection(uv_stream_t *server, int status)
{
	struct sock *s = server->data;
	struct oc_ep *lst = s->st.ep;
	if (status < 0) {
		oc_verbose("accept on '%s' failed: %s", s->where, uv_strerror(status));
		return;
	}
	struct oc_ep *c = oc_ep_child(lst);
	struct sock *cs = c->priv;
	enum oc_framing fr = oc_stream_framing(c);
	oc_stream_init(&cs->st, c, &conn_hooks, fr, fr, NULL, OC_SHUT_SOCKET);
	cs->stream_open = true;
	char peer[64];
	if (is_unix(lst)) {
		uv_pipe_init(server->loop, &cs->st.io[0].pipe, 0);
		snprintf(peer, sizeof(peer), "unix:%u", ++s->next_peer);
	} else {
		uv_tcp_init(server->loop, &cs->st.io[0].tcp);
	}
	oc_stream_inited(&cs->st, 0);
	if (uv_accept(server, &cs->st.io[0].s)) {
		cs->closing = true;
		oc_ep_close(c);
		return;
	}
	if (!is_unix(lst)) {
		struct sockaddr_storage ss;
		int len = sizeof(ss);
		uv_tcp_getpeername(&cs->st.io[0].tcp, (struct sockaddr *)&ss, &len);
		oc_sockaddr_str((struct sockaddr *)&ss, peer, sizeof(peer));
		uv_tcp_nodelay(&cs->st.io[0].tcp, 1);
	}
	oc_ep_set_peer(c, peer);
	snprintf(cs->where, sizeof(cs->where), "%s", peer);
	if (s->tls)
		oc_stream_set_tls(&cs->st, oc_tls_new(s->tls, NULL), false);
	oc_stream_attach(&cs->st, &cs->st.io[0].s, &cs->st.io[0].s);
	oc_ep_accepted(lst, c);
}

/* A unix socket file that nobody accepts on is left over from a previous run. */
static bool stale_unix_socket(const char *path)
{
	struct stat sb;
	if (stat(path, &sb) || !S_ISSOCK(sb.st_mode))
		return false;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool stale = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno == ECONNREFUSED;
	close(fd);
	return stale;
}

/* Listen on a unix socket path; failures are reported with oc_ep_fail (the handle made must
 * be closed properly). */
static void listen_unix(struct sock *s)
{
	const char *path = s->st.ep->spec->url.path;
	uv_pipe_init(uv_default_loop(), &s->ulst, 0);
	s->ulst.data = s;
	s->ulst_open = true;
	int r = uv_pipe_bind(&s->ulst, path);
	if (r == UV_EADDRINUSE && stale_unix_socket(path)) {
		unlink(path);
		r = uv_pipe_bind(&s->ulst, path);
	}
	if (!r)
		s->unlink_path = strdup(path);
	if (!r)
		r = uv_listen((uv_stream_t *)&s->ulst, 511, on_connection);
	if (r) {
		oc_ep_fail(s->st.ep, OC_ECONNECT, "cannot listen on '%s': %s", s->where,
			   uv_strerror(r));
		return;
	}
	oc_verbose("listening on '%s'", s->where);
	oc_ep_ready(s->st.ep);
}

/* ---- the adapter ------------------------------------------------------------------------- */

static int load_tls(struct sock *s)
{
	const struct oc_cfg *cfg = s->st.ep->cfg;
	bool server = oc_ep_listens(s->st.ep);
	struct oc_tls_conf conf = {
		.server = server,
		.cert = cfg->cert,
		.key = cfg->key,
		.cacert = cfg->cacert,
		.insecure = cfg->insecure,
		.verify_client = server && cfg->cacert,
	};
	char err[300];
	int r = oc_tls_ctx_new(&conf, &s->tls, err, sizeof(err));
	if (r)
		oc_ep_seterr(s->st.ep, r, "'%s': %s", s->st.ep->name, err);
	return r;
}

static int sock_open(struct oc_ep *ep)
{
	struct sock *s = ep->priv;
	const struct oc_url *u = &ep->spec->url;
	s->st.ep = ep;
	if (is_tls(ep)) {
		int r = load_tls(s);
		if (r)
			return r;
	}
	enum oc_framing fr = oc_stream_framing(ep);
	oc_stream_init(&s->st, ep, &conn_hooks, fr, fr, NULL, OC_SHUT_SOCKET);
	s->stream_open = true;
	s->res.data = s;
	if (is_unix(ep))
		snprintf(s->where, sizeof(s->where), "%s", u->path);
	else
		oc_url_hostport(oc_ep_listens(ep) ? oc_listen_host(ep) : u->host, u->port, s->where,
				sizeof(s->where));
	if (!oc_ep_listens(ep)) {
		connect_start(s);
		return 0;
	}
	if (is_unix(ep)) {
		listen_unix(s);
		return 0;
	}
	int r = oc_tcp_listen(&s->tlst, ep, u->port, on_connection, s);
	s->tlst_busy = r == 0;
	if (r) {
		oc_tls_ctx_free(s->tls);
		s->tls = NULL;
	}
	return r;
}

static void sock_close(struct oc_ep *ep)
{
	struct sock *s = ep->priv;
	s->closing = true;
	oc_resolve_cancel(&s->res);
	if (s->retry_open)
		uv_close((uv_handle_t *)&s->retry, retry_closed);
	if (s->ulst_open)
		uv_close((uv_handle_t *)&s->ulst, ulst_closed);
	if (s->tlst_busy)
		oc_tcp_listener_close(&s->tlst, tlst_closed);
	if (s->stream_open)
		oc_stream_close(ep); /* cancels a pending connect, too */
	else
		maybe_closed(s);
}

const struct oc_adapter oc_adapter_socket = {
	.name = "socket",
	.flags = OC_AF_CLIENT | OC_AF_SERVER | OC_AF_PUB | OC_AF_SUB | OC_AF_CONNS |
		 OC_AF_PER_PEER | OC_AF_STREAM,
	.priv_size = sizeof(struct sock),
	.check = sock_check,
	.open = sock_open,
	.write = oc_stream_write,
	.pause = oc_stream_pause,
	.resume = oc_stream_resume,
	.shutdown = oc_stream_shutdown,
	.close = sock_close,
};

const struct oc_adapter oc_adapter_tls = {
	.name = "tls",
	.flags = OC_AF_CLIENT | OC_AF_SERVER | OC_AF_PUB | OC_AF_SUB | OC_AF_CONNS |
		 OC_AF_PER_PEER | OC_AF_STREAM | OC_AF_TLS,
	.priv_size = sizeof(struct sock),
	.check = sock_check,
	.open = sock_open,
	.write = oc_stream_write,
	.pause = oc_stream_pause,
	.resume = oc_stream_resume,
	.shutdown = oc_stream_shutdown,
	.close = sock_close,
};
