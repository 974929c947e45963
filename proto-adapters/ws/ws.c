/* proto-adapters/ws/ws.c — WebSocket with libwebsockets on the libuv loop: ws://, wss://,
 * ws-listen://, wss-listen:// (and `server ws://...`).
 *
 * One message is one WebSocket message both ways: text when the payload is UTF-8 (or
 * --text), binary otherwise (or --binary). Received messages are reassembled from their
 * fragments; one above --max-size closes the connection with 1009 (exit 9), a text message
 * that is not UTF-8 with 1007 (exit 9).
 *
 *   client   -H headers, --origin, --protocol (repeatable: offered subprotocols), --ping S
 *            keepalive, permessage-deflate unless --no-compress. When input ends and all is
 *            sent, it waits until nothing has arrived for LINGER_MS (a peer stops sending
 *            once it sees our close, so answers still on their way would be lost), sends
 *            close 1000 (or --close-code/--close-reason) and reads on until the peer's close
 *            frame; --no-close keeps the connection open instead. A handshake answered
 *            401/403 exits 8, another non-101 answer 10; the peer closing with a code other
 *            than 1000/1001 exits 10; a dropped connection (1006) exits 13 unless
 *            --reconnect, which connects again with the same handshake.
 *   server   each connection is an endpoint of its own (like TCP's), so `server` fans stdin
 *            out to all clients (or the one a jsonl line names), --echo, --exec per
 *            connection, and relays pump each client on its own (websockify). --protocol
 *            lists the subprotocols accepted.
 * TLS: wss verifies the server (system CAs or --cacert) unless -k; wss-listen needs
 * --cert/--key.
 *
 * lws runs in the shared libuv loop ("foreign loop", libwebsockets-evlib-uv): one context
 * for the process, one vhost per endpoint (its TLS, subprotocols and listening port). lws
 * 4.1.6 drops data that arrives after it sends a close frame itself, so our close frame is
 * written as a plain LWS_WRITE_CLOSE frame and lws is told to close only once the peer's
 * close came back; an end forced by the run (-c reached, a signal) sends it too and waits up
 * to CLOSE_WAIT_S for the answer. Messages queued during a loop turn are written at its end,
 * as many as the socket takes, without a writable callback unless lws holds data back (see
 * writeable()). This lws has no proxy support: -x is refused (exit 3). */
#include <libwebsockets.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "adapter.h"
#include "defer.h"
#include "err.h"
#include "log.h"
#include "net.h"
#include "run.h"
#include "xalloc.h"

#define FRAGMENT (64 * 1024)            /* bytes per frame when sending a large message */
#define WRITE_BUDGET (512 * 1024)       /* bytes written per writable event, at most */
/* lws_write()'s close-frame type: lws-write.h keeps it private ("handled by lws_close_reason")
 * but lws_write() frames it like any other opcode, and the public path would stop reading. */
#define WRITE_CLOSE 4
#define DEFAULT_MAX (64u * 1024 * 1024) /* --max-size default */
#define LINGER_MS 500                   /* quiet before our close, after input ended */
#define CLOSE_WAIT_S 1                  /* closing: how long the peer may take to answer */
/* permessage-deflate's output buffer, as a power of two. lws's default (1 KiB) makes it
 * "drain" a larger fragment over later writable events while zlib still points into the
 * caller's buffer, which we free when lws_write() returns (and a server's next write would
 * replace the pending input). 128 KiB holds the deflated form of a whole FRAGMENT even
 * when it does not compress, plus what zlib may hold back between fragments (< 20 KiB), so
 * every lws_write() is complete when it returns. */
#define DEFLATE_OUT_POW2 "17"

struct ws {
	struct oc_ep *ep;            /* this endpoint */
	struct ws *lst;              /* accepted connection: its listener */
	struct lws_vhost *vh;        /* client or listener: our vhost */
	struct lws *wsi;             /* the connection, or NULL */
	struct lws_protocols *protos;/* the vhost's protocols (names point into protonames) */
	char *protonames;            /* --protocol values, copied */
	struct oc_msg **q;           /* messages to send */
	size_t qhead, qlen, qcap;    /* ring */
	size_t sent;                 /* bytes of the head message already sent */
	char *rx;                    /* message being received */
	size_t rxlen, rxcap;         /* its length, allocation */
	bool rx_binary;              /* it is binary */
	size_t max;                  /* --max-size */
	bool paused;                 /* the owner paused us */
	bool shut;                   /* input ended: close after the queue */
	bool close_sent;             /* our close frame went out */
	bool peer_closed;            /* the peer's close frame came */
	int peer_code;               /* its code (0: none given) */
	char peer_reason[128];       /* its reason */
	bool ending;                 /* the wsi is being closed by us */
	bool closing;                /* oc close requested */
	bool established;            /* handshake done */
	bool upgrade_sent;           /* client: the upgrade request was being written */
	bool want_write;             /* a writable callback was asked for and has not come */
	struct oc_defer flush;       /* writes queued this loop turn, see ws_write() */
	char tls_verdict[128];       /* client: why the server's certificate was refused */
	uv_timer_t *retry;           /* --reconnect delay */
	uv_timer_t *linger;          /* quiet period before our close */
	bool linger_done;            /* it passed: the close may go */
	struct oc_backoff backoff;   /* --reconnect delays */
	char where[300];             /* host:port */
};

static const struct oc_adopt ws_opts[] = {
	{ "text", OC_ARG_FLAG, NULL, "ws: send every message as text", true },
	{ "binary", OC_ARG_FLAG, NULL, "ws: send every message as binary", true },
	{ "origin", OC_ARG_STR, "ORIGIN", "ws: the Origin header of the handshake", true },
	{ "protocol", OC_ARG_STR, "NAME",
	  "ws: subprotocol to offer (client) or accept (server); repeatable", true },
	{ "ping", OC_ARG_SECS, "S", "ws: send a ping after S seconds of silence", true },
	{ "no-compress", OC_ARG_FLAG, NULL, "ws: do not negotiate permessage-deflate", true },
	{ "max-size", OC_ARG_COUNT, "BYTES", "largest message (request body) accepted", true },
	{ "no-close", OC_ARG_FLAG, NULL, "ws: keep the connection open when input ends", true },
	{ "close-code", OC_ARG_COUNT, "N", "ws: the close code sent when input ends (1000)", true },
	{ "close-reason", OC_ARG_STR, "TEXT", "ws: the close reason sent when input ends", true },
	{ 0 },
};

/* ---- the shared context ------------------------------------------------------------------ */

static struct lws_context *context;
static unsigned context_users;

static int ws_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		 size_t len);

static const struct lws_extension extensions[] = {
	{ "permessage-deflate", lws_extension_callback_pm_deflate,
	  "permessage-deflate; client_no_context_takeover; client_max_window_bits" },
	{ NULL, NULL, NULL },
};

static struct lws_context *context_get(void)
{
	if (context) {
		context_users++;
		return context;
	}
	void *loops[1] = { uv_default_loop() };
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
		       LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.foreign_loops = loops;
	info.port = CONTEXT_PORT_NO_LISTEN;
	lws_set_log_level(oc_log.trace ? LLL_ERR | LLL_WARN | LLL_NOTICE : 0, NULL);
	context = lws_create_context(&info);
	if (context)
		context_users = 1;
	return context;
}

static struct oc_defer context_end;
static struct lws_context *dying; /* destroy begun; finished after the loop */

/* lws 4.1's teardown on a foreign loop takes two calls: the first (outside any lws callback,
 * or lws defers it) closes its libuv handles, which the loop then finishes; the second,
 * after the loop, frees the context. */
static void context_finish(void)
{
	if (dying)
		lws_context_destroy(dying);
	dying = NULL;
}

static void context_destroy(struct oc_defer *d)
{
	if (context && context_users == 0) {
		lws_context_destroy(context);
		dying = context;
		context = NULL;
		oc_run_at_end(context_finish);
	}
}

static void context_put(void)
{
	if (context && --context_users == 0) {
		oc_defer_init(&context_end, context_destroy);
		oc_defer_schedule(&context_end);
	}
}

/* ---- queue ------------------------------------------------------------------------------- */

static void push(struct ws *w, struct oc_msg *m)
{
	if (w->qlen == w->qcap) {
		size_t ncap = w->qcap ? 2 * w->qcap : 16;
		struct oc_msg **nq = xmalloc(ncap * sizeof(*nq));
		for (size_t i = 0; i < w->qlen; i++)
			nq[i] = w->q[(w->qhead + i) % w->qcap];
		free(w->q);
		w->q = nq;
		w->qcap = ncap;
		w->qhead = 0;
	}
	w->q[(w->qhead + w->qlen++) % w->qcap] = m;
}

static struct oc_msg *head(struct ws *w)
{
	return w->qlen ? w->q[w->qhead] : NULL;
}

static void pop(struct ws *w, bool sent)
{
	struct oc_msg *m = w->q[w->qhead];
	w->qhead = (w->qhead + 1) % w->qcap;
	w->qlen--;
	w->sent = 0;
	if (sent)
		oc_ep_sent(w->ep, m);
	else
		oc_ep_dropped(w->ep, m);
}

static void drop_all(struct ws *w)
{
	while (w->qlen)
		pop(w, false);
}

/* ---- helpers ----------------------------------------------------------------------------- */

static bool utf8_ok(const char *p, size_t n)
{
	/* RFC 3629 well-formedness, the check RFC 6455 asks of text frames. */
	const unsigned char *s = (const unsigned char *)p, *e = s + n;
	while (s < e) {
		unsigned c = *s++;
		int more;
		unsigned min;
		if (c < 0x80)
			continue;
		else if ((c & 0xe0) == 0xc0)
			more = 1, min = 0x80, c &= 0x1f;
		else if ((c & 0xf0) == 0xe0)
			more = 2, min = 0x800, c &= 0x0f;
		else if ((c & 0xf8) == 0xf0)
			more = 3, min = 0x10000, c &= 0x07;
		else
			return false;
		if (e - s < more)
			return false;
		while (more--) {
			if ((*s & 0xc0) != 0x80)
				return false;
			c = (c << 6) | (*s++ & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return false;
	}
	return true;
}

static bool is_tls(const struct oc_ep *ep)
{
	return !strncmp(ep->spec->url.scheme, "wss", 3);
}

static void peer_name(struct lws *wsi, char *out, size_t n)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = lws_get_socket_fd(wsi);
	if (fd >= 0 && getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
		oc_sockaddr_str((struct sockaddr *)&ss, out, n);
	else
		snprintf(out, n, "unknown");
}

/* ---- sending ----------------------------------------------------------------------------- */

/* Ask lws for a writable callback, once: each request costs epoll_ctl calls on libuv even
 * when one is pending already, and messages come one by one. */
static void want_write(struct ws *w)
{
	if (!w->want_write)
		w->want_write = lws_callback_on_writable(w->wsi) == 1;
}

static bool send_as_binary(struct ws *w, const struct oc_msg *m)
{
	if (oc_ep_opt_flag(w->ep, "binary"))
		return true;
	if (oc_ep_opt_flag(w->ep, "text"))
		return false;
	return (m->flags & OC_MSG_BINARY) || !utf8_ok(m->data, m->len);
}

/* Our close frame: code and reason, written as a frame so lws keeps reading (see top). */
static void send_close(struct ws *w)
{
	const char *v = oc_ep_opt(w->ep, "close-code");
	const char *reason = oc_ep_opt(w->ep, "close-reason");
	int code = v ? (int)strtol(v, NULL, 10) : 1000;
	size_t rlen = reason ? strlen(reason) : 0;
	if (rlen > 123)
		rlen = 123;
	unsigned char buf[LWS_PRE + 125];
	buf[LWS_PRE] = (unsigned char)(code >> 8);
	buf[LWS_PRE + 1] = (unsigned char)code;
	if (rlen)
		memcpy(buf + LWS_PRE + 2, reason, rlen);
	lws_write(w->wsi, buf + LWS_PRE, 2 + rlen, (enum lws_write_protocol)WRITE_CLOSE);
	w->close_sent = true;
	oc_verbose("'%s': sent close %d%s%.*s", w->ep->name, code, rlen ? " " : "", (int)rlen,
		   reason ? reason : "");
	/* Flushed as far as we are concerned: the peer's answer ends the connection. (Once the
	 * owner closed us, it wants no more events.) */
	if (!w->closing)
		oc_ep_flushed(w->ep);
}

static void linger_cb(uv_timer_t *t)
{
	struct ws *w = t->data;
	uv_timer_stop(t);
	w->linger_done = true;
	if (w->wsi)
		want_write(w);
}

static void linger_start(struct ws *w)
{
	if (w->linger)
		return;
	w->linger = xmalloc(sizeof(*w->linger));
	uv_timer_init(uv_default_loop(), w->linger);
	w->linger->data = w;
	uv_timer_start(w->linger, linger_cb, LINGER_MS, LINGER_MS);
}

/* WRITEABLE: queued frames, as many as the socket takes now (up to WRITE_BUDGET bytes, so
 * that other connections get their turn), then the close when it is due. One frame per
 * callback would cost a writable request per message, and with lws on libuv each is four
 * epoll_ctl calls (its poll glue stops and restarts the uv_poll) and a loop turn. */
static int writeable(struct ws *w)
{
	/* lws writes the frame header into the LWS_PRE bytes before the payload and masks a
	 * client's payload in place, so a message is copied first. One buffer serves every
	 * connection: lws_write() copies what the socket did not take (and permessage-deflate's
	 * output is sized to finish each write, see DEFLATE_OUT_POW2). */
	static unsigned char buf[LWS_PRE + FRAGMENT];
	size_t budget = WRITE_BUDGET;
	struct oc_msg *m;

	w->want_write = false;
	while ((m = head(w))) {
		if (!budget || lws_partial_buffered(w->wsi)) {
			/* the socket is full (lws holds the rest) or this turn's share is used */
			want_write(w);
			return 0;
		}
		size_t left = m->len - w->sent, n = left > FRAGMENT ? FRAGMENT : left;
		memcpy(buf + LWS_PRE, m->data + w->sent, n);
		int flags = w->sent ? LWS_WRITE_CONTINUATION
				    : send_as_binary(w, m) ? LWS_WRITE_BINARY : LWS_WRITE_TEXT;
		if (n < left)
			flags |= LWS_WRITE_NO_FIN;
		if (lws_write(w->wsi, buf + LWS_PRE, n, (enum lws_write_protocol)flags) < (int)n)
			return -1;
		oc_trace_bytes(w->ep->name, "sent", m->data + w->sent, n);
		w->sent += n;
		budget -= n < budget ? n : budget;
		if (w->sent == m->len)
			pop(w, true); /* may queue more (the owner resumes its source) */
		if (!w->wsi) /* ...or close us: ws_close() dropped the connection */
			return 0;
	}
	if (w->closing && !w->close_sent)
		send_close(w); /* ws_close(): no linger, the owner is done */
	else if (w->shut && !w->close_sent && !oc_ep_opt_flag(w->ep, "no-close")) {
		if (w->linger_done)
			send_close(w);
		else
			linger_start(w);
	}
	return 0;
}

/* The messages queued this turn, written at its end without waiting for a writable
 * callback when lws holds nothing back for the socket (the usual case): that saves the
 * writable request (epoll_ctl calls, see writeable()) and a loop turn per message, which is
 * most of an echo's cost. lws_write() outside its callbacks is safe here: what the socket
 * does not take, lws keeps and sends on its own before our next writable callback. */
static void flush_cb(struct oc_defer *d)
{
	struct ws *w = (struct ws *)((char *)d - offsetof(struct ws, flush));
	/* Nothing after a close either way, nor while lws closes the connection after a
	 * failure: lws would frame it as it comes (it checks no state in lws_write()). */
	if (!w->wsi || !w->established || w->want_write || !w->qlen || w->ending ||
	    w->peer_closed || w->close_sent)
		return;
	if (lws_partial_buffered(w->wsi)) {
		want_write(w);
		return;
	}
	if (writeable(w) < 0) /* the socket failed: lws closes it, ended() reports */
		lws_set_timeout(w->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
}

/* ---- receiving --------------------------------------------------------------------------- */

static int fail_close(struct ws *w, int code, int err, const char *why)
{
	lws_close_reason(w->wsi, (enum lws_close_status)code, (unsigned char *)why, strlen(why));
	oc_ep_fail(w->ep, err, "'%s': %s (closed with %d)", w->ep->name, why, code);
	w->ending = true;
	return -1;
}

static int receive(struct ws *w, const char *in, size_t len)
{
	if (w->closing) /* ws_close() waits for the peer's close: what comes before is dropped */
		return 0;
	if (lws_is_first_fragment(w->wsi)) {
		w->rxlen = 0;
		w->rx_binary = lws_frame_is_binary(w->wsi);
	}
	if (w->rxlen + len > w->max)
		return fail_close(w, 1009, OC_EPROTO, "message larger than --max-size");
	if (w->rxlen + len + 1 > w->rxcap) {
		w->rxcap = (w->rxlen + len + 1) * 2;
		w->rx = xrealloc(w->rx, w->rxcap);
	}
	memcpy(w->rx + w->rxlen, in, len);
	w->rxlen += len;
	if (!lws_is_final_fragment(w->wsi) || lws_remaining_packet_payload(w->wsi))
		return 0;
	if (!w->rx_binary && !utf8_ok(w->rx, w->rxlen))
		return fail_close(w, 1007, OC_EPROTO, "text message that is not UTF-8");
	oc_trace_bytes(w->ep->name, "received", w->rx, w->rxlen);
	if (w->linger && !w->linger_done) /* still answering: wait on */
		uv_timer_again(w->linger);
	if (w->ep->role == OC_ROLE_PUB) {
		w->rxlen = 0;
		return 0;
	}
	struct oc_msg *m = oc_msg_new();
	oc_msg_set_payload_copy(m, w->rx, w->rxlen);
	if (w->rx_binary) /* an echo or a relay to another WebSocket keeps the frame type */
		m->flags |= OC_MSG_BINARY;
	w->rxlen = 0;
	oc_ep_emit(w->ep, m);
	return 0;
}

/* ---- connection ends --------------------------------------------------------------------- */

static void connect_now(struct ws *w);
static void release(struct ws *w);

static void retry_cb(uv_timer_t *t)
{
	struct ws *w = t->data;
	oc_uv_close_free(t);
	w->retry = NULL;
	if (!w->closing)
		connect_now(w);
}

/* The connection is gone: report how it ended. */
static void ended(struct ws *w, bool handshake_failed, const char *why)
{
	struct oc_ep *ep = w->ep;
	w->wsi = NULL;
	if (w->closing) { /* the end of a polite close that ws_close() began */
		release(w);
		return;
	}
	bool clean = w->peer_closed && (w->peer_code == 1000 || w->peer_code == 1001 ||
					 w->peer_code == 0 || w->close_sent);
	bool lost = !w->peer_closed && !w->ending;
	if ((lost || handshake_failed) && ep->cfg->reconnect && !w->lst && !w->shut) {
		uint64_t ms = oc_backoff_next(&w->backoff);
		oc_verbose("'%s': %s; reconnecting in %llu ms", ep->name,
			   why ? why : "connection lost", (unsigned long long)ms);
		w->retry = xmalloc(sizeof(*w->retry));
		uv_timer_init(uv_default_loop(), w->retry);
		w->retry->data = w;
		uv_timer_start(w->retry, retry_cb, ms, 0);
		return;
	}
	if (w->peer_closed)
		oc_verbose("'%s': closed by the peer with %d%s%s", ep->name, w->peer_code,
			   w->peer_reason[0] ? " " : "", w->peer_reason);
	if (clean)
		oc_ep_eof(ep);
	else if (w->peer_closed)
		oc_ep_fail(ep, OC_EPEER, "'%s' closed the connection with %d%s%s", ep->name,
			   w->peer_code, w->peer_reason[0] ? ": " : "", w->peer_reason);
	else if (!w->ending)
		oc_ep_fail(ep, OC_EINCOMPLETE, "lost the connection to '%s' (1006)", ep->name);
}

/* A client's connection or handshake failed: why, in our exit codes. lws says why only in
 * free text, so what we saw ourselves decides: an HTTP status (401/403: 8, else 10), the
 * certificate check's verdict (7), or that the upgrade request went out (the peer answered
 * something that is not a WebSocket handshake: 9). Else the TLS handshake failed (7) or
 * the connection did (6). */
static void connect_error(struct ws *w, struct lws *wsi, const char *in)
{
	struct oc_ep *ep = w->ep;
	const char *why = in ? in : "connection failed";
	unsigned status = wsi ? lws_http_client_http_response(wsi) : 0;
	int err = OC_ECONNECT;
	if (status == 401 || status == 403)
		err = OC_EAUTH;
	else if (status && status != 101)
		err = OC_EPEER;
	else if (w->tls_verdict[0])
		err = OC_ETLS, why = w->tls_verdict;
	else if (w->upgrade_sent)
		err = OC_EPROTO;
	else if (is_tls(ep) && (strstr(why, "SSL") || strstr(why, "ssl") || strstr(why, "tls")))
		err = OC_ETLS;
	else if (strstr(why, "DNS") || strstr(why, "resolve") || strstr(why, "dns"))
		err = OC_ERESOLVE;
	if (ep->cfg->reconnect && !w->closing && err != OC_EAUTH) {
		ended(w, true, why);
		return;
	}
	w->wsi = NULL;
	if (w->closing) {
		oc_ep_closed(ep);
		return;
	}
	if (status && status != 101)
		oc_ep_fail(ep, err, "'%s' answered the handshake with %u", ep->name, status);
	else if (err == OC_ETLS)
		oc_ep_fail(ep, err, "TLS handshake with '%s' failed: %s", ep->name, why);
	else if (err == OC_EPROTO)
		oc_ep_fail(ep, err, "'%s' did not answer with a WebSocket handshake (%s)", ep->name,
			   why);
	else
		oc_ep_fail(ep, err, "cannot connect to '%s': %s", ep->name, why);
}

/* ---- the lws callback -------------------------------------------------------------------- */

/* A connection is established: size permessage-deflate's output (when it was negotiated;
 * otherwise lws_set_extension_option() fails, harmlessly). */
static void deflate_size(struct lws *wsi)
{
	lws_set_extension_option(wsi, "permessage-deflate", "tx_buf_size", DEFLATE_OUT_POW2);
}

static struct ws *accept_conn(struct ws *l, struct lws *wsi)
{
	struct oc_ep *c = oc_ep_child(l->ep);
	struct ws *w = c->priv;
	char peer[64];
	w->ep = c;
	w->lst = l;
	w->wsi = wsi;
	context_users++; /* each connection keeps the context alive until it closes */
	w->max = l->max;
	w->paused = true;
	oc_defer_init(&w->flush, flush_cb);
	w->established = true;
	lws_set_opaque_user_data(wsi, w);
	lws_rx_flow_control(wsi, 0);
	deflate_size(wsi);
	peer_name(wsi, peer, sizeof(peer));
	oc_ep_set_peer(c, peer);
	oc_ep_accepted(l->ep, c);
	return w;
}

static int ws_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		 size_t len)
{
	struct ws *w = wsi ? lws_get_opaque_user_data(wsi) : NULL;
	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED: {
		struct lws_vhost *vh = lws_get_vhost(wsi);
		struct ws *l = vh ? lws_vhost_user(vh) : NULL;
		if (!l || l->closing)
			return -1;
		accept_conn(l, wsi);
		return 0;
	}
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		if (!w)
			return -1;
		w->established = true;
		deflate_size(wsi);
		oc_backoff_reset(&w->backoff);
		oc_verbose("'%s': connected%s%s", w->ep->name,
			   lws_get_protocol(wsi) && lws_get_protocol(wsi)->name[0] ? ", protocol " : "",
			   lws_get_protocol(wsi) ? lws_get_protocol(wsi)->name : "");
		lws_rx_flow_control(wsi, !w->paused);
		oc_ep_ready(w->ep);
		if (w->qlen || w->shut)
			want_write(w);
		return 0;
	case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
		/* user: the X509_STORE_CTX, len: OpenSSL's preverify verdict */
		if (w && !len)
			snprintf(w->tls_verdict, sizeof(w->tls_verdict), "%s",
				 X509_verify_cert_error_string(X509_STORE_CTX_get_error(user)));
		return 0;
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
		if (!w)
			return 0;
		w->upgrade_sent = true;
		unsigned char **p = in, *end = *p + len;
		size_t i = 0, nl;
		const char *h, *v;
		while ((h = oc_cfg_next_header(w->ep->cfg, &i, &nl, &v))) {
			char name[128];
			snprintf(name, sizeof(name), "%.*s:", (int)nl, h);
			if (lws_add_http_header_by_name(wsi, (unsigned char *)name,
							(unsigned char *)v, (int)strlen(v), p, end))
				return -1;
		}
		return 0;
	}
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (w)
			connect_error(w, wsi, in);
		return 0;
	case LWS_CALLBACK_RECEIVE:
	case LWS_CALLBACK_CLIENT_RECEIVE:
		return w ? receive(w, in, len) : -1;
	case LWS_CALLBACK_SERVER_WRITEABLE:
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return w ? writeable(w) : 0;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if (!w)
			return 0;
		w->peer_closed = true;
		if (len >= 2) {
			const unsigned char *p = in;
			w->peer_code = p[0] << 8 | p[1];
			snprintf(w->peer_reason, sizeof(w->peer_reason), "%.*s", (int)(len - 2),
				 (const char *)in + 2);
		}
		/* Our close went out already: this is its answer, nothing to echo. */
		return w->close_sent ? -1 : 0;
	case LWS_CALLBACK_CLOSED:
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (w) {
			lws_set_opaque_user_data(wsi, NULL);
			ended(w, false, NULL);
		}
		return 0;
	default:
		return 0;
	}
}

/* ---- opening ----------------------------------------------------------------------------- */

/* The vhost of an endpoint: its protocols (subprotocol names), TLS and, for a listener, the
 * port. */
static int make_vhost(struct ws *w, int port)
{
	struct oc_ep *ep = w->ep;
	const struct oc_cfg *cfg = ep->cfg;
	size_t n = 0, i = 0, total = 0;
	const char *v;
	while ((v = oc_cfg_next(cfg, "protocol", &i)))
		n++, total += strlen(v) + 1;
	w->protos = xcalloc(n + 2, sizeof(*w->protos));
	w->protonames = xmalloc(total + 1);
	/* The first protocol also serves clients that ask for none. */
	w->protos[0] = (struct lws_protocols){ .name = "", .callback = ws_cb,
					       .rx_buffer_size = 0 };
	char *o = w->protonames;
	i = 0;
	for (size_t k = 1; (v = oc_cfg_next(cfg, "protocol", &i)); k++) {
		size_t l = strlen(v);
		memcpy(o, v, l + 1);
		w->protos[k] = (struct lws_protocols){ .name = o, .callback = ws_cb };
		o += l + 1;
	}
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof(info));
	info.port = port;
	info.iface = port != CONTEXT_PORT_NO_LISTEN ? oc_listen_host(ep) : NULL;
	/* lws binds an IPv6 socket to every interface when it cannot map an IPv4 address to
	 * one: a listener on an IPv4 address is IPv4 only, so it binds just that address. */
	if (info.iface && !strchr(info.iface, ':'))
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	info.protocols = w->protos;
	info.user = w;
	info.vhost_name = ep->name;
	/* UTF-8 is checked here, not by lws: its check closes without telling us why. */
	if (!oc_ep_opt_flag(ep, "no-compress"))
		info.extensions = extensions;
	/* Without this option lws makes no TLS context for the vhost, client or server. */
	if (is_tls(ep))
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	if (is_tls(ep) && port != CONTEXT_PORT_NO_LISTEN) {
		info.ssl_cert_filepath = cfg->cert;
		info.ssl_private_key_filepath = cfg->key ? cfg->key : cfg->cert;
	}
	if (is_tls(ep) && port == CONTEXT_PORT_NO_LISTEN && cfg->cacert)
		info.client_ssl_ca_filepath = cfg->cacert;
	if (cfg->cert && port == CONTEXT_PORT_NO_LISTEN) {
		info.client_ssl_cert_filepath = cfg->cert;
		info.client_ssl_private_key_filepath = cfg->key ? cfg->key : cfg->cert;
	}
	w->vh = lws_create_vhost(context, &info);
	if (!w->vh) {
		oc_ep_seterr(ep, port != CONTEXT_PORT_NO_LISTEN ? OC_ECONNECT : OC_EFAIL,
			     port != CONTEXT_PORT_NO_LISTEN ? "cannot listen on '%s'"
							      : "cannot set up '%s'",
			     port != CONTEXT_PORT_NO_LISTEN ? w->where : ep->name);
		return port != CONTEXT_PORT_NO_LISTEN ? OC_ECONNECT : OC_EFAIL;
	}
	return 0;
}

static void connect_now(struct ws *w)
{
	struct oc_ep *ep = w->ep;
	const struct oc_url *u = &ep->spec->url;
	static lws_retry_bo_t keepalive;
	const char *ping = oc_ep_opt(ep, "ping");
	char path[2048], protocols[512] = "";
	snprintf(path, sizeof(path), "%s%s%s", u->path ? u->path : "/", u->query ? "?" : "",
		 u->query ? u->query : "");
	size_t i = 0, o = 0;
	const char *v;
	while ((v = oc_cfg_next(ep->cfg, "protocol", &i)) && o < sizeof(protocols))
		o += (size_t)snprintf(protocols + o, sizeof(protocols) - o, "%s%s", o ? "," : "", v);
	struct lws_client_connect_info ci;
	memset(&ci, 0, sizeof(ci));
	ci.context = context;
	ci.vhost = w->vh;
	ci.address = u->host;
	ci.port = u->port >= 0 ? u->port : is_tls(ep) ? 443 : 80;
	ci.path = path;
	ci.host = u->host;
	ci.origin = oc_ep_opt(ep, "origin") ? oc_ep_opt(ep, "origin") : u->host;
	ci.protocol = o ? protocols : NULL;
	ci.opaque_user_data = w;
	ci.pwsi = &w->wsi;
	if (is_tls(ep)) {
		ci.ssl_connection = LCCSCF_USE_SSL;
		if (ep->cfg->insecure)
			ci.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED |
					     LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
					     LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE;
	}
	double secs;
	if (ping && oc_parse_secs(ping, &secs) == 0) {
		keepalive.secs_since_valid_ping = (uint16_t)(secs < 1 ? 1 : secs);
		keepalive.secs_since_valid_hangup = (uint16_t)(secs < 1 ? 3 : 3 * secs);
		ci.retry_and_idle_policy = &keepalive;
	}
	w->close_sent = w->peer_closed = w->ending = w->established = w->linger_done = false;
	w->upgrade_sent = w->want_write = false;
	w->tls_verdict[0] = '\0';
	w->peer_code = 0;
	w->peer_reason[0] = '\0';
	oc_verbose("'%s': connecting", ep->name);
	if (!lws_client_connect_via_info(&ci) && !w->wsi && !w->closing && !w->retry)
		oc_ep_fail(ep, OC_ECONNECT, "cannot connect to '%s'", ep->name);
}

static int ws_check(struct oc_ep *ep)
{
	const struct oc_url *u = &ep->spec->url;
	if (ep->cfg->proxy) {
		oc_ep_seterr(ep, OC_EUNSUPPORTED, "'%s': this libwebsockets has no proxy support",
			     ep->name);
		return OC_EUNSUPPORTED;
	}
	if (!oc_ep_listens(ep) && (!u->host || !*u->host)) {
		oc_ep_seterr(ep, OC_EUSAGE, "'%s' needs a host", ep->name);
		return OC_EUSAGE;
	}
	if (oc_ep_listens(ep) && u->port < 0) {
		oc_ep_seterr(ep, OC_EUSAGE, "'%s' needs a port", ep->name);
		return OC_EUSAGE;
	}
	if (oc_ep_listens(ep) && is_tls(ep) && !ep->cfg->cert) {
		oc_ep_seterr(ep, OC_EUSAGE, "'%s' needs --cert (and --key)", ep->name);
		return OC_EUSAGE;
	}
	return 0;
}

static int ws_open(struct oc_ep *ep)
{
	struct ws *w = ep->priv;
	const struct oc_url *u = &ep->spec->url;
	const char *v = oc_ep_opt(ep, "max-size");
	w->ep = ep;
	w->max = v ? (size_t)strtoull(v, NULL, 10) : DEFAULT_MAX;
	oc_defer_init(&w->flush, flush_cb);
	/* A publisher reads too, and drops the messages: only so does it answer pings and see
	 * the peer's close or a dropped connection before it writes into it (--reconnect). */
	w->paused = ep->role != OC_ROLE_PUB;
	if (!context_get()) {
		oc_ep_seterr(ep, OC_EFAIL, "cannot start libwebsockets for '%s'", ep->name);
		return OC_EFAIL;
	}
	bool listens = oc_ep_listens(ep);
	oc_url_hostport(listens ? oc_listen_host(ep) : u->host,
			u->port >= 0 ? u->port : is_tls(ep) ? 443 : 80, w->where, sizeof(w->where));
	int r = make_vhost(w, listens ? u->port : CONTEXT_PORT_NO_LISTEN);
	if (r) {
		free(w->protos);
		free(w->protonames);
		context_put();
		return r;
	}
	if (listens) {
		oc_verbose("listening on '%s'", w->where);
		oc_ep_ready(ep);
	} else {
		connect_now(w);
	}
	return 0;
}

static void ws_write(struct oc_ep *ep, struct oc_msg *m)
{
	struct ws *w = ep->priv;
	push(w, m);
	if (w->wsi && w->established && !w->want_write)
		oc_defer_schedule(&w->flush);
}

static void ws_pause(struct oc_ep *ep)
{
	struct ws *w = ep->priv;
	if (ep->role == OC_ROLE_PUB)
		return;
	w->paused = true;
	if (w->wsi && w->established)
		lws_rx_flow_control(w->wsi, 0);
}

static void ws_resume(struct oc_ep *ep)
{
	struct ws *w = ep->priv;
	w->paused = false;
	if (w->wsi && w->established)
		lws_rx_flow_control(w->wsi, 1);
}

static void ws_shutdown(struct oc_ep *ep)
{
	struct ws *w = ep->priv;
	w->shut = true;
	if (oc_ep_opt_flag(ep, "no-close") || oc_ep_listens(ep)) {
		oc_ep_flushed(ep); /* nothing to close: keep the connection */
		return;
	}
	if (w->wsi && w->established)
		want_write(w);
}

/* What an endpoint holds, released once its connection is gone; then the closed event. */
static void release(struct ws *w)
{
	oc_defer_cancel(&w->flush);
	free(w->rx);
	w->rx = NULL;
	if (w->retry) {
		oc_uv_close_free(w->retry);
		w->retry = NULL;
	}
	if (w->linger) {
		oc_uv_close_free(w->linger);
		w->linger = NULL;
	}
	free(w->q);
	w->q = NULL;
	if (w->vh) {
		/* Stops listening and closes what is left on it; lws frees it later by itself,
		 * and calls nothing of ours for it (the vhost user is only read on accept). */
		lws_vhost_destroy(w->vh);
		w->vh = NULL;
	}
	free(w->protos);
	free(w->protonames);
	context_put();
	oc_ep_closed(w->ep);
}

/* An established connection ends politely (a count reached, a signal, the other side of a
 * relay gone): our close frame unless it went already, then the peer's close, for at most
 * CLOSE_WAIT_S; ended() releases the rest. Any other connection is dropped at once, keeping
 * the close code a failure chose (fail_close()). */
static void ws_close(struct oc_ep *ep)
{
	struct ws *w = ep->priv;
	w->closing = true;
	drop_all(w);
	if (w->wsi && w->established && !w->ending && !w->peer_closed) {
		if (!w->close_sent)
			want_write(w);
		lws_rx_flow_control(w->wsi, 1); /* the peer's close must be read */
		lws_set_timeout(w->wsi, PENDING_TIMEOUT_CLOSE_ACK, CLOSE_WAIT_S);
		return;
	}
	if (w->wsi) {
		lws_set_opaque_user_data(w->wsi, NULL);
		/* a close reason belongs to an established connection: lws asserts on one that
		 * is still in its handshake (closed while connecting) */
		if (w->established && !w->ending && !w->peer_closed)
			lws_close_reason(w->wsi, LWS_CLOSE_STATUS_GOINGAWAY, NULL, 0);
		lws_set_timeout(w->wsi, PENDING_TIMEOUT_CLOSE_ACK, LWS_TO_KILL_ASYNC);
		w->wsi = NULL;
	}
	release(w);
}

static void ws_version(char *buf, size_t len)
{
	/* Debian's build says "4.1.6-": the part after '-' (a git hash) is empty */
	const char *v = lws_get_library_version();
	snprintf(buf, len, "libwebsockets %.*s", (int)strcspn(v, "-"), v);
}

const struct oc_adapter oc_adapter_ws = {
	.name = "ws",
	.flags = OC_AF_CLIENT | OC_AF_SERVER | OC_AF_PUB | OC_AF_SUB | OC_AF_CONNS |
		 OC_AF_PER_PEER | OC_AF_HEADERS | OC_AF_TLS,
	.opts = ws_opts,
	.priv_size = sizeof(struct ws),
	.check = ws_check,
	.open = ws_open,
	.write = ws_write,
	.pause = ws_pause,
	.resume = ws_resume,
	.shutdown = ws_shutdown,
	.close = ws_close,
	.version = ws_version,
};
