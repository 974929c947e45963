/* proto-adapters/http/server.c — an HTTP server: `server http://127.0.0.1:8080`,
 * `server https://... --cert C --key K`, `http-listen://` and `https-listen://` in relays.
 *
 * Every request is emitted as a message: method, path, query, headers (in order, names as
 * sent), payload (the body), content_type, peer ("ip:port") and a unique id. The answer:
 *   default        200, empty body (--status N and -d BODY choose another fixed answer)
 *   --echo         the request's body and content type back
 *   --exec CMD     one child per request: body on its stdin, metadata in OMNICAT_*; its stdout
 *                  is the answer's body; a non-zero exit is a 502
 *   --dir PATH     static files (GET/HEAD) with their media types; 404 when missing
 *   --reply-stdin  the message written back with the request's id (status, headers, payload);
 *                  none within --reply-timeout: 504
 *   relays         the answer a request/response target gave (same id: a reverse proxy), or,
 *                  for a one-way target, 202 once the target accepted the message, 502 if not
 * --max-size bounds a request body (413), --hmac-secret-file checks X-Hub-Signature-256 (or
 * --hmac-header) in constant time: a bad or missing signature gets 401 and is not emitted.
 * HTTP/1.x (h1.c) with keep-alive and pipelining; HTTP/2 (h2.c) over TLS when ALPN picks it,
 * and in cleartext when a client starts with the HTTP/2 preface (prior knowledge).
 *
 * Why not libwebsockets here: lws 4.1.6 (Debian 12) cannot list request headers it does not
 * know by name (lws_hdr_custom_* only looks one up; the iterator came in 4.2), and none at all
 * on HTTP/2 streams, so X-* headers would be lost from the envelope and relays. Parsing is
 * http-parser's and nghttp2's, TLS is core/tls.c (OpenSSL), sockets are libuv's.
 * Threads: loop only. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "adapter.h"
#include "argv.h"
#include "data.h"
#include "err.h"
#include "log.h"
#include "mime.h"
#include "net.h"
#include "server.h"
#include "xalloc.h"

#define WRITE_HIGH (1024 * 1024)  /* a connection stops reading while this much is unsent */
#define LINGER_MS 2000            /* how long a closing connection waits for the client's end */
#define DEFAULT_MAX_BODY (64u * 1024 * 1024)
#define EXEC_MAX_OUT (64u * 1024 * 1024)

static const struct oc_adopt server_opts[] = {
	{ "status", OC_ARG_COUNT, "N", "http server: the fixed answer's status (default 200)",
	  true },
	{ "dir", OC_ARG_STR, "PATH", "http server: serve the files under PATH", true },
	{ "reply-stdin", OC_ARG_FLAG, NULL,
	  "request servers: answers come from stdin as jsonl with the request's id", true },
	{ "reply-timeout", OC_ARG_SECS, "S",
	  "request servers: with --reply-stdin, answer 504 after S seconds (default 30)", true },
	{ "max-size", OC_ARG_COUNT, "BYTES", "largest message (request body) accepted", true },
	{ "hmac-secret-file", OC_ARG_STR, "FILE",
	  "http: sign (pub) or verify (server) bodies with HMAC-SHA256 and the key in FILE", true },
	{ "hmac-header", OC_ARG_STR, "NAME",
	  "http: the signature header (default X-Hub-Signature-256)", true },
	{ 0 },
};

/* ---- small shared things ----------------------------------------------------------------- */

const char *http_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Payload Too Large";
	case 417: return "Expectation Failed";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default:
		return status < 300 ? "OK" : status < 400 ? "Redirect" : status < 500 ? "Client Error"
										: "Server Error";
	}
}

/* The Date header changes once a second: formatted once a second. */
const char *http_date(void)
{
	static char buf[64];
	static time_t last;
	time_t now = time(NULL);
	if (now != last) {
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		last = now;
	}
	return buf;
}

size_t hsrv_max_body(const struct hconn *c)
{
	return c->srv->max_body;
}

/* ---- answers ----------------------------------------------------------------------------- */

/* Complete r's answer; it goes out when its turn comes (HTTP/1.x) or at once (HTTP/2). */
void hsrv_answer(struct hreq *r, int status, const struct oc_msg *hdrs, const char *ctype,
		 const char *body, size_t len)
{
	if (r->answered)
		return;
	r->status = status;
	r->hdrs = hdrs ? oc_msg_ref((struct oc_msg *)hdrs) : NULL;
	r->ctype = ctype && *ctype ? xstrdup(ctype) : NULL;
	if (len) {
		r->body = xmalloc(len);
		memcpy(r->body, body, len);
		r->blen = len;
	}
	r->answered = true;
	if (!r->c)
		return;
	if (r->stream)
		h2_answer(r->c, r);
	else /* later, never from inside the parser */
		oc_defer_schedule(&r->c->flush);
}

static void answer_text(struct hreq *r, int status, const char *text)
{
	hsrv_answer(r, status, NULL, "text/plain", text, strlen(text));
}

static void unwait(struct hsrv *s, struct hreq *r)
{
	for (struct hreq **p = &s->waiting; *p; p = &(*p)->id_next)
		if (*p == r) {
			*p = r->id_next;
			break;
		}
}

static void free_handle(uv_handle_t *h)
{
	free(h);
}

void hreq_free(struct hsrv *s, struct hreq *r)
{
	unwait(s, r);
	if (r->timeout) {
		uv_close((uv_handle_t *)r->timeout, free_handle);
		r->timeout = NULL;
	}
	if (r->exec)
		oc_collect_cancel(r->exec);
	if (r->msg) {
		if (s->mode == REPLY_ACK)
			r->msg->on_done = NULL; /* still travelling: it must not call back into r */
		else
			oc_msg_unref(r->msg);
	}
	if (r->file >= 0)
		close(r->file);
	oc_msg_unref(r->hdrs);
	free(r->last_event_id);
	free(r->ctype);
	free(r->body);
	free(r);
}

static void ack_done(struct oc_msg *m, void *arg)
{
	struct hreq *r = arg;
	r->msg = NULL; /* being freed by its last owner */
	if (m->flags & OC_MSG_DELIVERED)
		answer_text(r, 202, "");
	else
		answer_text(r, 502, "not delivered\n");
}

static void exec_done(void *ud, int result, char *out, size_t len, const char *errmsg)
{
	struct hreq *r = ud;
	r->exec = NULL;
	if (result) {
		oc_verbose("%s", errmsg);
		answer_text(r, 502, "the command failed\n");
	} else {
		hsrv_answer(r, 200, NULL, NULL, out, len);
	}
	free(out);
}

static void run_exec(struct hsrv *s, struct hreq *r)
{
	char err[400] = "";
	r->exec = oc_collect_exec(s->ep->cfg, r->msg, EXEC_MAX_OUT, exec_done, r, err, sizeof(err));
	if (!r->exec && err[0]) {
		oc_notice("%s", err);
		answer_text(r, 502, "the command could not run\n");
	}
}

static void reply_timeout_cb(uv_timer_t *t)
{
	struct hreq *r = t->data;
	struct hconn *c = r->c;
	if (c) {
		oc_verbose("no answer for request %s within %gs", r->id, c->srv->reply_timeout);
		unwait(c->srv, r);
	}
	answer_text(r, 504, "no answer\n");
}

/* Percent-decode a URL path for the file system. */
static char *path_decode(const char *s)
{
	char *out = xmalloc(strlen(s) + 1), *o = out;
	for (; *s; s++) {
		if (*s == '%' && s[1] && s[2]) {
			char hex[3] = { s[1], s[2], 0 }, *end;
			long v = strtol(hex, &end, 16);
			if (!*end && v > 0) {
				*o++ = (char)v;
				s += 2;
				continue;
			}
		}
		*o++ = *s;
	}
	*o = '\0';
	return out;
}

/* Whether a decoded path has a ".." segment (which could leave the root). */
static bool escapes(const char *p)
{
	for (const char *seg = p; seg; seg = strchr(seg, '/')) {
		while (*seg == '/')
			seg++;
		if (seg[0] == '.' && seg[1] == '.' && (seg[2] == '/' || seg[2] == '\0'))
			return true;
		if (!*seg)
			break;
	}
	return false;
}

static void serve_file(struct hsrv *s, struct hreq *r, const char *method, const char *path)
{
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		answer_text(r, 405, "method not allowed\n");
		return;
	}
	char *decoded = path_decode(path);
	if (escapes(decoded)) {
		free(decoded);
		answer_text(r, 403, "forbidden\n");
		return;
	}
	char *full = xasprintf("%s/%s", s->dir, decoded + (decoded[0] == '/'));
	free(decoded);
	struct stat sb;
	if (stat(full, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		char *index = xasprintf("%s/index.html", full);
		free(full);
		full = index;
	}
	int fd = open(full, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		free(full);
		answer_text(r, e == EACCES ? 403 : 404, e == EACCES ? "forbidden\n" : "not found\n");
		return;
	}
	if (!r->head && sb.st_size > 0) {
		r->file = fd; /* streamed as the socket drains */
		r->file_size = (uint64_t)sb.st_size;
	} else {
		close(fd);
		r->file_size = (uint64_t)sb.st_size;
	}
	hsrv_answer(r, 200, NULL, oc_mime_type(full), NULL, 0);
	free(full);
}

/* Constant-time check of the body's signature ("sha256=" and hex, as GitHub sends it). */
static bool signature_ok(struct hsrv *s, const struct oc_msg *m)
{
	const char *got = oc_msg_header(m, s->hmac_header);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	char want[7 + 2 * EVP_MAX_MD_SIZE + 1] = "sha256=";
	static const char digits[] = "0123456789abcdef";
	HMAC(EVP_sha256(), s->hmac_key, (int)s->hmac_len, (const unsigned char *)m->data, m->len,
	     mac, &maclen);
	for (unsigned i = 0; i < maclen; i++) {
		want[7 + 2 * i] = digits[mac[i] >> 4];
		want[7 + 2 * i + 1] = digits[mac[i] & 15];
	}
	want[7 + 2 * maclen] = '\0';
	size_t wl = strlen(want);
	return got && strlen(got) == wl && CRYPTO_memcmp(got, want, wl) == 0;
}

static struct hreq *hreq_new(struct hconn *c, int32_t stream)
{
	struct hreq *r = xcalloc(1, sizeof(*r));
	r->c = c;
	r->file = -1;
	r->stream = stream;
	if (!stream) { /* HTTP/1.x answers go in request order */
		if (c->tail)
			c->tail->next = r;
		else
			c->head = r;
		c->tail = r;
		c->nreqs++;
	}
	return r;
}

struct hreq *hsrv_error(struct hconn *c, int status, const char *text)
{
	struct hreq *r = hreq_new(c, 0);
	r->keep_alive = false;
	answer_text(r, status, text);
	return r;
}

struct hreq *hsrv_request(struct hconn *c, struct oc_msg *m, int32_t stream, bool keep_alive,
			  bool too_big)
{
	struct hsrv *s = c->srv;
	struct hreq *r = hreq_new(c, stream);
	r->keep_alive = keep_alive && !too_big;
	r->head = !strcmp(m->f[OC_F_METHOD], "HEAD");
	snprintf(r->id, sizeof(r->id), "%lu", ++s->next_id);
	oc_msg_set_str(m, OC_F_ID, r->id);
	if (too_big) {
		answer_text(r, 413, "request body too large\n");
		oc_msg_unref(m);
		return r;
	}
	if (s->hmac_key && !signature_ok(s, m)) {
		oc_verbose("'%s': request %s has a bad or missing %s: 401", c->peer, r->id,
			   s->hmac_header);
		answer_text(r, 401, "bad signature\n");
		oc_msg_unref(m);
		return r;
	}
	switch (s->mode) {
	case REPLY_ACK:
		m->on_done = ack_done; /* answered when the target took it, or could not */
		m->done_arg = r;
		r->msg = m;
		oc_ep_emit(s->ep, m);
		return r;
	case REPLY_BY_ID:
		r->msg = oc_msg_ref(m);
		r->id_next = s->waiting;
		s->waiting = r;
		r->timeout = xmalloc(sizeof(*r->timeout));
		uv_timer_init(uv_default_loop(), r->timeout);
		r->timeout->data = r;
		uv_timer_start(r->timeout, reply_timeout_cb, (uint64_t)(s->reply_timeout * 1000), 0);
		break;
	case REPLY_FIXED:
		hsrv_answer(r, s->status, NULL, NULL, s->fixed, s->fixed_len);
		break;
	case REPLY_ECHO:
		hsrv_answer(r, 200, NULL, m->f[OC_F_CONTENT_TYPE], m->data, m->len);
		break;
	case REPLY_EXEC:
		r->msg = oc_msg_ref(m);
		run_exec(s, r);
		break;
	case REPLY_DIR:
		serve_file(s, r, m->f[OC_F_METHOD], m->f[OC_F_PATH]);
		break;
	case REPLY_EVENTS: /* a subscription, not a message */
		events_request(s, r, m);
		oc_msg_unref(m);
		return r;
	}
	oc_ep_emit(s->ep, m);
	return r;
}

/* ---- connections: transport ------------------------------------------------------------- */

static void linger(struct hconn *c);
static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf);

struct wreq {
	uv_write_t req;    /* libuv request */
	struct hconn *c;   /* connection */
	size_t len;        /* bytes */
	char buf[];        /* them */
};

static void write_done(uv_write_t *req, int status)
{
	struct wreq *w = req->data;
	struct hconn *c = w->c;
	c->unsent -= w->len;
	free(w);
	if (status || c->closing)
		return;
	if (c->ending) {
		if (c->unsent == 0)
			linger(c);
		return;
	}
	if (c->h2)
		h2_flush(c);
	else
		h1_flush(c);
}

/* Bytes onto the socket as they are (ciphertext on TLS). */
static void wire_send(struct hconn *c, const void *p, size_t n)
{
	if (c->closing || !n)
		return;
	oc_trace_bytes(c->peer, "sent", p, n);
	/* Most answers fit the socket buffer: write at once, with no request to allocate. (A
	 * uv_write that completes at once also makes libuv 1.44 re-arm epoll per answer.) */
	if (c->unsent == 0) {
		uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);
		int done = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
		if (done == (int)n)
			return;
		if (done > 0) {
			p = (const char *)p + done;
			n -= (size_t)done;
		}
	}
	struct wreq *w = xmalloc(sizeof(*w) + n);
	w->req.data = w;
	w->c = c;
	w->len = n;
	memcpy(w->buf, p, n);
	c->unsent += n;
	uv_buf_t b = uv_buf_init(w->buf, (unsigned)n);
	if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, write_done)) {
		c->unsent -= n;
		free(w);
		hconn_close(c);
	}
}

/* TLS has ciphertext for the peer (handshake, records, alerts): send it. */
static void tls_out(struct hconn *c)
{
	char buf[64 * 1024];
	size_t n;
	while (c->tls && (n = oc_tls_take(c->tls, buf, sizeof(buf))) > 0)
		wire_send(c, buf, n);
}

void hconn_send(struct hconn *c, const void *p, size_t n)
{
	if (!c->tls) {
		wire_send(c, p, n);
		return;
	}
	oc_tls_write(c->tls, p, n);
	tls_out(c);
}

bool hconn_writable(const struct hconn *c)
{
	return !c->closing && c->unsent < WRITE_HIGH;
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct hconn *c = h->data;
	*buf = uv_buf_init(c->rbuf, sizeof(c->rbuf));
}

static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/* Plaintext from the client: to the protocol, chosen on the first bytes. */
static void plain_in(void *ud, const char *p, size_t n)
{
	struct hconn *c = ud;
	if (c->closing || c->subscriber)
		return;
	if (!c->proto_known) {
		const char *alpn = c->tls ? oc_tls_alpn(c->tls) : NULL;
		bool h2 = alpn ? !strcmp(alpn, "h2")
			       : n >= 3 && !memcmp(p, h2_preface, n < 24 ? n : 24);
		c->proto_known = true;
		if (h2 && h2_init(c)) {
			hconn_close(c);
			return;
		}
		oc_verbose("'%s' speaks %s", c->peer, h2 ? "HTTP/2" : "HTTP/1.x");
	}
	if (c->h2) {
		if (h2_input(c, p, n))
			hconn_close(c);
	} else {
		h1_input(c, p, n);
	}
}

static void read_cb(uv_stream_t *h, ssize_t n, const uv_buf_t *buf)
{
	struct hconn *c = h->data;
	if (n > 0) {
		oc_trace_bytes(c->peer, "received", buf->base, (size_t)n);
		if (!c->tls) {
			plain_in(c, buf->base, (size_t)n);
		} else {
			int r = oc_tls_input(c->tls, buf->base, (size_t)n, plain_in, c);
			tls_out(c);
			if (r < 0)
				oc_verbose("'%s': %s", c->peer, oc_tls_error(c->tls));
			if (r)
				hconn_close(c);
		}
		if (!c->closing)
			hconn_update_reading(c);
		return;
	}
	if (n < 0) {
		/* EOF (or a reset): answer what is pending, then close */
		c->read_eof = true;
		uv_read_stop(h);
		c->reading = false;
		if (n != UV_EOF || c->cur || c->h2) {
			hconn_close(c);
			return;
		}
		if (!c->head)
			hconn_end(c);
	}
}

/* Read while the owner takes requests and the answers are not far behind. An event server
 * reads whatever its owner wants: its requests are subscriptions, never messages (and a
 * one-way relay never resumes the endpoint it only writes to). */
void hconn_update_reading(struct hconn *c)
{
	bool taking = !c->srv->paused || c->srv->mode == REPLY_EVENTS;
	bool want = taking && !c->read_eof && !c->closing && !c->ending && c->nreqs < 64 &&
		    c->unsent < WRITE_HIGH;
	if (want && !c->reading)
		c->reading = uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) == 0;
	else if (!want && c->reading) {
		uv_read_stop((uv_stream_t *)&c->tcp);
		c->reading = false;
	}
}

static void maybe_closed(struct hsrv *s)
{
	if (s->closing && !s->conns && s->lst_done) {
		free(s->fixed);
		free(s->dir);
		free(s->hmac_key);
		oc_tls_ctx_free(s->tls);
		oc_mime_release();
		oc_ep_closed(s->ep);
	}
}

static void conn_freed(uv_handle_t *h)
{
	struct hconn *c = h->data;
	struct hsrv *s = c->srv;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	h1_release(c);
	free(c);
	maybe_closed(s);
}

static void linger_timeout(uv_timer_t *t)
{
	hconn_close(t->data);
}

static void discard_read(uv_stream_t *h, ssize_t n, const uv_buf_t *buf)
{
	if (n < 0)
		hconn_close(h->data);
}

static void shut_done(uv_shutdown_t *req, int status)
{
	struct hconn *c = req->data;
	if (status && !c->closing)
		hconn_close(c);
}

/* Everything is written: send FIN, then read and throw away whatever the client still sends
 * until it closes (or LINGER_MS pass). Closing at once while its request is still arriving
 * (a 413, a 431) would make the kernel answer with a reset, which can destroy our answer
 * before the client reads it: nginx's lingering close, for the same reason. */
static void linger(struct hconn *c)
{
	if (c->closing || c->linger)
		return;
	c->sreq.data = c;
	if (uv_shutdown(&c->sreq, (uv_stream_t *)&c->tcp, shut_done)) {
		hconn_close(c);
		return;
	}
	c->linger = xmalloc(sizeof(*c->linger));
	uv_timer_init(uv_default_loop(), c->linger);
	c->linger->data = c;
	uv_timer_start(c->linger, linger_timeout, LINGER_MS, 0);
	uv_read_stop((uv_stream_t *)&c->tcp);
	c->reading = uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, discard_read) == 0;
}

void hconn_end(struct hconn *c)
{
	if (c->ending || c->closing)
		return;
	c->ending = true;
	c->read_eof = true;
	hconn_update_reading(c);
	if (c->tls) {
		oc_tls_close(c->tls);
		tls_out(c);
	}
	if (c->unsent == 0)
		linger(c);
}

void hconn_close(struct hconn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	oc_defer_cancel(&c->flush);
	if (c->linger) {
		oc_uv_close_free(c->linger);
		c->linger = NULL;
	}
	oc_verbose("'%s' disconnected", c->peer);
	events_gone(c->srv, c);
	while (c->head) {
		struct hreq *r = c->head;
		c->head = r->next;
		r->c = NULL;
		hreq_free(c->srv, r);
	}
	c->tail = NULL;
	if (c->h2)
		h2_release(c);
	if (c->tls) {
		oc_tls_free(c->tls);
		c->tls = NULL;
	}
	uv_close((uv_handle_t *)&c->tcp, conn_freed);
}

static void flush_later(struct oc_defer *d)
{
	struct hconn *c = (struct hconn *)((char *)d - offsetof(struct hconn, flush));
	h1_flush(c);
}

static void on_connection(uv_stream_t *lst, int status)
{
	struct hsrv *s = lst->data;
	if (status < 0)
		return;
	struct hconn *c = xcalloc(1, sizeof(*c));
	c->srv = s;
	uv_tcp_init(lst->loop, &c->tcp);
	c->tcp.data = c;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	oc_defer_init(&c->flush, flush_later);
	h1_init(c);
	if (uv_accept(lst, (uv_stream_t *)&c->tcp)) {
		hconn_close(c);
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len);
	oc_sockaddr_str((struct sockaddr *)&ss, c->peer, sizeof(c->peer));
	oc_verbose("connection from '%s'", c->peer);
	if (s->tls)
		c->tls = oc_tls_new(s->tls, NULL);
	hconn_update_reading(c);
}

/* ---- the adapter ------------------------------------------------------------------------- */

static bool is_tls(const struct oc_ep *ep)
{
	const char *scheme = ep->spec->url.scheme;
	return !strncmp(scheme, "https", 5) || !strncmp(scheme, "sses", 4);
}

static bool is_events(const struct oc_ep *ep)
{
	return !strncmp(ep->spec->url.scheme, "sse", 3);
}

static int server_check(struct oc_ep *ep)
{
	const char *dir = oc_ep_opt(ep, "dir");
	int modes = (ep->cfg->echo != 0) + (ep->cfg->exec || ep->cfg->exec_shell) + (dir != NULL) +
		    oc_ep_opt_flag(ep, "reply-stdin") +
		    (ep->cfg->data != NULL || oc_ep_opt(ep, "status") != NULL);
	if (is_events(ep) && modes) {
		oc_ep_seterr(ep, OC_EUSAGE,
			     "'%s' sends what is written to it as events: no -d/--status, --echo, "
			     "--exec, --dir or --reply-stdin",
			     ep->name);
		return OC_EUSAGE;
	}
	if (modes > 1) {
		oc_ep_seterr(ep, OC_EUSAGE,
			     "choose one answer for '%s': -d/--status, --echo, --exec, --dir or "
			     "--reply-stdin",
			     ep->name);
		return OC_EUSAGE;
	}
	if (is_tls(ep) && !ep->cfg->cert) {
		oc_ep_seterr(ep, OC_EUSAGE, "'%s' needs --cert (and --key)", ep->name);
		return OC_EUSAGE;
	}
	return 0;
}

static enum reply_mode mode_of(struct oc_ep *ep)
{
	const struct oc_cfg *cfg = ep->cfg;
	if (is_events(ep))
		return REPLY_EVENTS;
	if (cfg->relay_reply == OC_RELAY_ACK)
		return REPLY_ACK;
	if (cfg->relay_reply == OC_RELAY_BY_ID || oc_ep_opt_flag(ep, "reply-stdin"))
		return REPLY_BY_ID;
	if (cfg->echo)
		return REPLY_ECHO;
	if (cfg->exec || cfg->exec_shell)
		return REPLY_EXEC;
	if (oc_ep_opt(ep, "dir"))
		return REPLY_DIR;
	return REPLY_FIXED;
}

static int load_tls(struct hsrv *s)
{
	static const char *const alpn[] = { "h2", "http/1.1", NULL };
	/* An event stream stays open for as long as the client listens: HTTP/1.1 only. */
	static const char *const alpn_events[] = { "http/1.1", NULL };
	const struct oc_cfg *cfg = s->ep->cfg;
	struct oc_tls_conf conf = {
		.server = true,
		.cert = cfg->cert,
		.key = cfg->key,
		.cacert = cfg->cacert,
		.verify_client = cfg->cacert != NULL,
		.alpn = s->mode == REPLY_EVENTS ? alpn_events : alpn,
	};
	char err[300];
	int r = oc_tls_ctx_new(&conf, &s->tls, err, sizeof(err));
	if (r)
		oc_ep_seterr(s->ep, r, "'%s': %s", s->ep->name, err);
	return r;
}

static int load_config(struct hsrv *s)
{
	struct oc_ep *ep = s->ep;
	const char *v;
	char err[300];
	s->mode = mode_of(ep);
	s->status = (v = oc_ep_opt(ep, "status")) ? (int)strtol(v, NULL, 10) : 200;
	if (s->status < 100 || s->status > 999) {
		oc_ep_seterr(ep, OC_EUSAGE, "invalid --status %d", s->status);
		return OC_EUSAGE;
	}
	if (ep->cfg->data) {
		int r = oc_data_load(ep->cfg->data, &s->fixed, &s->fixed_len, err, sizeof(err));
		if (r) {
			oc_ep_seterr(ep, r, "%s", err);
			return r;
		}
	}
	if ((v = oc_ep_opt(ep, "dir"))) {
		struct stat sb;
		s->dir = realpath(v, NULL);
		if (!s->dir || stat(s->dir, &sb) || !S_ISDIR(sb.st_mode)) {
			oc_ep_seterr(ep, OC_EIO, "cannot serve '%s': not a directory", v);
			return OC_EIO;
		}
	}
	if ((v = oc_ep_opt(ep, "hmac-secret-file"))) {
		int r = oc_read_file(v, &s->hmac_key, &s->hmac_len);
		if (r) {
			oc_ep_seterr(ep, OC_EIO, "cannot read '%s': %s", v, strerror(-r));
			return OC_EIO;
		}
		/* A key file usually ends with a newline that is not part of the key. */
		while (s->hmac_len && (s->hmac_key[s->hmac_len - 1] == '\n' ||
				       s->hmac_key[s->hmac_len - 1] == '\r'))
			s->hmac_len--;
	}
	s->hmac_header = (v = oc_ep_opt(ep, "hmac-header")) ? v : "X-Hub-Signature-256";
	s->max_body = (v = oc_ep_opt(ep, "max-size")) ? (size_t)strtoull(v, NULL, 10)
						       : DEFAULT_MAX_BODY;
	s->reply_timeout = 30;
	if ((v = oc_ep_opt(ep, "reply-timeout")))
		oc_parse_secs(v, &s->reply_timeout);
	if (s->mode == REPLY_EVENTS)
		events_open(s);
	return is_tls(ep) ? load_tls(s) : 0;
}

static void lst_closed(struct oc_tcp_listener *l)
{
	struct hsrv *s = l->data;
	s->lst_done = true;
	maybe_closed(s);
}

static int server_open(struct oc_ep *ep)
{
	struct hsrv *s = ep->priv;
	s->ep = ep;
	s->paused = true; /* endpoints start paused */
	int r = load_config(s);
	if (r) {
		free(s->fixed);
		free(s->dir);
		free(s->hmac_key);
		return r;
	}
	const struct oc_url *u = &ep->spec->url;
	int port = u->port >= 0 ? u->port : is_tls(ep) ? 443 : 80;
	r = oc_tcp_listen(&s->lst, ep, port, on_connection, s);
	if (r)
		oc_tls_ctx_free(s->tls);
	return r;
}

/* An answer by id: from --reply-stdin, or from a relay's request/response target. */
static void server_write(struct oc_ep *ep, struct oc_msg *m)
{
	struct hsrv *s = ep->priv;
	if (s->mode == REPLY_EVENTS) {
		events_publish(s, m);
		return;
	}
	const char *id = m->f[OC_F_ID];
	struct hreq *r = s->waiting;
	while (r && (!id || strcmp(r->id, id)))
		r = r->id_next;
	if (!r) {
		oc_notice("no request %s%s%s is waiting for an answer on '%s': dropped",
			  id ? "'" : "without an id", id ? id : "", id ? "'" : "", ep->name);
		oc_ep_dropped(ep, m);
		return;
	}
	unwait(s, r);
	int status = (m->flags & OC_MSG_STATUS) ? m->status : 200;
	hsrv_answer(r, status, m, m->f[OC_F_CONTENT_TYPE], m->data, m->len);
	oc_ep_sent(ep, m);
}

static void set_paused(struct oc_ep *ep, bool paused)
{
	struct hsrv *s = ep->priv;
	s->paused = paused;
	for (struct hconn *c = s->conns; c; c = c->next)
		hconn_update_reading(c);
}

static void server_pause(struct oc_ep *ep)
{
	set_paused(ep, true);
}

static void server_resume(struct oc_ep *ep)
{
	set_paused(ep, false);
}

static void server_close(struct oc_ep *ep)
{
	struct hsrv *s = ep->priv;
	s->closing = true;
	if (s->mode == REPLY_EVENTS)
		events_close(s);
	for (struct hconn *c = s->conns; c; c = c->next)
		hconn_close(c);
	oc_tcp_listener_close(&s->lst, lst_closed);
}

const struct oc_adapter oc_adapter_http_server = {
	.name = "http-server",
	.flags = OC_AF_SERVER | OC_AF_REQUEST | OC_AF_HEADERS | OC_AF_TLS,
	.opts = server_opts,
	.priv_size = sizeof(struct hsrv),
	.check = server_check,
	.open = server_open,
	.write = server_write,
	.pause = server_pause,
	.resume = server_resume,
	.close = server_close,
};

static const struct oc_adopt events_opts[] = {
	{ "history", OC_ARG_COUNT, "N",
	  "sse server: keep the last N events for clients that resume (Last-Event-ID)", true },
	{ "keepalive", OC_ARG_SECS, "S",
	  "sse server: a comment line every S seconds keeps idle streams open (default 15; 0: "
	  "none)",
	  true },
	{ 0 },
};

/* The same server in event-stream mode: what is written to it is sent, not answered. */
const struct oc_adapter oc_adapter_sse_server = {
	.name = "sse-server",
	.flags = OC_AF_SERVER | OC_AF_TLS,
	.opts = events_opts,
	.priv_size = sizeof(struct hsrv),
	.check = server_check,
	.open = server_open,
	.write = server_write,
	.pause = server_pause,
	.resume = server_resume,
	.close = server_close,
};
