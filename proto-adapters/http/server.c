/* proto-adapters/http/server.c — an HTTP/1.1 server: `server http://127.0.0.1:8080`,
 * `http-listen://` in relays.
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
 * Requests on one connection are answered in order (pipelining); keep-alive as HTTP/1.x says.
 *
 * Why not libwebsockets here: lws 4.1.6 (Debian 12) cannot list request headers it does not
 * know by name (lws_hdr_custom_* only looks one up; the iterator came in 4.2), and none at all
 * on HTTP/2 streams, so X-* headers would be lost from the envelope and relays. Parsing is
 * http-parser's (libhttp-parser); sockets are libuv's, like every other adapter.
 * Library: libhttp-parser, libuv. Threads: loop only. */
#include <errno.h>
#include <fcntl.h>
#include <http_parser.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "adapter.h"
#include "argv.h"
#include "collect.h"
#include "data.h"
#include "defer.h"
#include "err.h"
#include "log.h"
#include "mime.h"
#include "net.h"
#include "xalloc.h"

#define MAX_PIPELINED 64          /* requests read ahead of their answers per connection */
#define WRITE_HIGH (1024 * 1024)  /* a connection stops reading while this much is unsent */
#define FILE_CHUNK (256 * 1024)   /* --dir: bytes read from a file per write */
#define DEFAULT_MAX_BODY (64u * 1024 * 1024)
#define EXEC_MAX_OUT (64u * 1024 * 1024)

enum reply_mode { REPLY_FIXED, REPLY_ECHO, REPLY_EXEC, REPLY_DIR, REPLY_BY_ID, REPLY_ACK };

struct conn;

struct hreq {
	struct conn *c;             /* its connection, NULL once that closed */
	struct hreq *next;          /* the connection's answer order */
	struct hreq *id_next;       /* the server's requests waiting for an answer by id */
	struct oc_msg *msg;         /* the request as emitted (ACK: not held, see on_done) */
	char id[24];                /* unique in the run */
	bool head;                  /* HEAD: no body in the answer */
	bool keep_alive;            /* the connection may carry another request */
	bool answered;              /* out (status line, headers, body) is complete */
	char *out;                  /* the serialised answer */
	size_t olen, ocap;          /* its length and allocation */
	int file;                   /* --dir: file still being sent, or -1 */
	uint64_t file_left;         /* its bytes not yet read */
	uv_timer_t *timeout;        /* --reply-timeout */
	struct oc_collect *exec;    /* --exec child at work */
};

struct conn {
	uv_tcp_t tcp;               /* the socket */
	struct server *srv;         /* the server */
	struct conn *next, *prev;   /* the server's connections */
	http_parser parser;         /* request parser */
	struct hreq *head, *tail;   /* requests in answer order */
	unsigned nreqs;             /* entries in that list */
	struct oc_msg *cur;         /* the request being parsed */
	char *url;                  /* its URL so far */
	size_t ulen, ucap;          /* length and allocation */
	char *hname, *hval;         /* the header being parsed */
	size_t hnlen, hncap, hvlen, hvcap; /* their lengths and allocations */
	bool in_value;              /* the last piece parsed was a value */
	char *body;                 /* the body so far */
	size_t blen, bcap;          /* length and allocation */
	bool too_big;               /* the body passed --max-size */
	bool reading;               /* uv_read_start is on */
	bool closing;               /* uv_close called */
	bool read_eof;              /* the client half-closed */
	size_t unsent;              /* bytes given to uv_write, not yet written */
	struct oc_defer flush;      /* sends what is answered, after the parser returned */
	char peer[64];              /* "ip:port" */
	char rbuf[64 * 1024];       /* read buffer */
};

struct server {
	struct oc_ep *ep;           /* this endpoint */
	uv_tcp_t lst;               /* listening socket */
	bool lst_open;              /* lst is initialised, not closed */
	struct oc_resolve res;      /* resolving the listen address */
	struct conn *conns;         /* open connections */
	struct hreq *waiting;       /* REPLY_BY_ID: requests waiting for their answer */
	enum reply_mode mode;       /* how requests are answered */
	int status;                 /* REPLY_FIXED status */
	char *fixed;                /* REPLY_FIXED body */
	size_t fixed_len;           /* its length */
	char *dir;                  /* REPLY_DIR root (realpath) */
	char *hmac_key;             /* --hmac-secret-file */
	size_t hmac_len;            /* its length */
	const char *hmac_header;    /* the signature header */
	size_t max_body;            /* --max-size */
	double reply_timeout;       /* --reply-timeout, seconds */
	bool paused;                /* the owner paused us: connections stop reading */
	bool closing;               /* close requested */
	unsigned long next_id;      /* request ids */
	char where[300];            /* "host:port" */
};

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

static void conn_close(struct conn *c);
static void flush_conn(struct conn *c);

/* ---- answers ----------------------------------------------------------------------------- */

static void out_add(struct hreq *r, const void *p, size_t n)
{
	if (r->olen + n > r->ocap) {
		r->ocap = (r->olen + n) * 2 + 256;
		r->out = xrealloc(r->out, r->ocap);
	}
	memcpy(r->out + r->olen, p, n);
	r->olen += n;
}

static const char *reason(int status)
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
	default: return status < 300 ? "OK" : status < 400 ? "Redirect" : status < 500 ? "Client Error" : "Server Error";
	}
}

/* "Date: ..." changes once a second: formatted once a second. */
static const char *date_header(void)
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

/* Serialise the status line and headers of an answer with a body of body_len bytes. */
static void answer_head(struct hreq *r, int status, const struct oc_msg *hdrs,
			const char *content_type, uint64_t body_len)
{
	char line[512];
	int n = snprintf(line, sizeof(line),
			 "HTTP/1.1 %d %s\r\nServer: omnicat\r\nDate: %s\r\nContent-Length: %llu\r\n",
			 status, reason(status), date_header(), (unsigned long long)body_len);
	out_add(r, line, (size_t)n);
	if (content_type && *content_type) {
		n = snprintf(line, sizeof(line), "Content-Type: %s\r\n", content_type);
		out_add(r, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	}
	for (unsigned i = 0; hdrs && i < hdrs->nhdrs; i++) {
		const struct oc_hdr *h = &hdrs->hdrs[i];
		if (!strcasecmp(h->name, "content-length") || !strcasecmp(h->name, "content-type") ||
		    !strcasecmp(h->name, "transfer-encoding") || !strcasecmp(h->name, "date") ||
		    !strcasecmp(h->name, "server") || !strcasecmp(h->name, "connection"))
			continue; /* ours, from the answer itself */
		out_add(r, h->name, strlen(h->name));
		out_add(r, ": ", 2);
		out_add(r, h->value, strlen(h->value));
		out_add(r, "\r\n", 2);
	}
	if (!r->keep_alive)
		out_add(r, "Connection: close\r\n", 19);
	out_add(r, "\r\n", 2);
}

/* Complete r's answer and send what is in order. */
static void answer(struct hreq *r, int status, const struct oc_msg *hdrs, const char *ctype,
		   const char *body, size_t len)
{
	if (r->answered)
		return;
	answer_head(r, status, hdrs, ctype, len);
	if (!r->head && len)
		out_add(r, body, len);
	r->answered = true;
	if (r->c) /* later, never from inside the parser or the caller's loop over requests */
		oc_defer_schedule(&r->c->flush);
}

static void answer_text(struct hreq *r, int status, const char *text)
{
	answer(r, status, NULL, "text/plain", text, strlen(text));
}

/* ---- request lifecycle ------------------------------------------------------------------- */

static void unwait(struct server *s, struct hreq *r)
{
	for (struct hreq **p = &s->waiting; *p; p = &(*p)->id_next)
		if (*p == r) {
			*p = r->id_next;
			break;
		}
}

static void timeout_closed(uv_handle_t *h)
{
	free(h);
}

static void req_free(struct server *s, struct hreq *r)
{
	unwait(s, r);
	if (r->timeout) {
		uv_close((uv_handle_t *)r->timeout, timeout_closed);
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
	free(r->out);
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
		answer(r, 200, NULL, NULL, out, len);
	}
	free(out);
}

static void run_exec(struct server *s, struct hreq *r)
{
	char *url = oc_exec_url(s->ep->cfg->exec, s->ep->cfg->exec_shell), err[400];
	struct oc_cfg cfg;
	oc_cfg_copy(&cfg, s->ep->cfg);
	cfg.framing = OC_FRAMING_RAW + 1; /* the body goes in and comes out as bytes */
	cfg.nkv = 0;                      /* the server's options are not the child's */
	struct oc_ep *ep = NULL;
	int rc = oc_ep_create(url, &cfg, OC_ROLE_CLIENT, &ep, err, sizeof(err));
	cfg.nkv = s->ep->cfg->nkv;
	oc_cfg_release(&cfg);
	free(url);
	if (rc) {
		oc_notice("%s", err);
		answer_text(r, 502, "the command could not run\n");
		return;
	}
	ep->ctx = oc_msg_ref(r->msg);
	r->exec = oc_collect_start(ep, r->msg, EXEC_MAX_OUT, exec_done, r);
}

static void reply_timeout_cb(uv_timer_t *t)
{
	struct hreq *r = t->data;
	oc_verbose("no answer for request %s within %gs", r->id, r->c->srv->reply_timeout);
	unwait(r->c->srv, r);
	answer_text(r, 504, "no answer\n");
}

/* --dir: the file for path, or an error status. Refuses anything that leaves the root. */
static int open_file(struct server *s, const char *path, int *fd, uint64_t *size, char **full)
{
	if (strstr(path, "/../") || !strcmp(path, "/..") || strstr(path, "/..\0"))
		return 403;
	size_t n = strlen(path);
	if (n >= 3 && !strcmp(path + n - 3, "/.."))
		return 403;
	char *p = xasprintf("%s%s%s", s->dir, path[0] == '/' ? "" : "/", path);
	struct stat sb;
	if (stat(p, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		char *index = xasprintf("%s%sindex.html", p, p[strlen(p) - 1] == '/' ? "" : "/");
		free(p);
		p = index;
	}
	*fd = open(p, O_RDONLY | O_CLOEXEC);
	if (*fd < 0 || fstat(*fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		int e = errno;
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		free(p);
		return e == EACCES ? 403 : 404;
	}
	*size = (uint64_t)sb.st_size;
	*full = p;
	return 200;
}

/* Percent-decode a URL path for the file system. */
static char *path_decode(const char *s)
{
	char *out = xmalloc(strlen(s) + 1), *o = out;
	for (; *s; s++) {
		if (*s == '%' && s[1] && s[2]) {
			char hex[3] = { s[1], s[2], 0 };
			char *end;
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

static void serve_file(struct server *s, struct hreq *r, const char *method, const char *path)
{
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		answer_text(r, 405, "method not allowed\n");
		return;
	}
	char *decoded = path_decode(path), *full = NULL;
	uint64_t size = 0;
	int fd = -1;
	int status = open_file(s, decoded, &fd, &size, &full);
	free(decoded);
	if (status != 200) {
		answer_text(r, status, status == 404 ? "not found\n" : "forbidden\n");
		return;
	}
	answer_head(r, 200, NULL, oc_mime_type(full), size);
	free(full);
	if (r->head || size == 0) {
		close(fd);
	} else {
		r->file = fd; /* streamed by flush_conn as the socket drains */
		r->file_left = size;
	}
	r->answered = true;
	if (r->c)
		oc_defer_schedule(&r->c->flush);
}

/* Constant-time check of the body's signature. */
static bool signature_ok(struct server *s, const struct oc_msg *m)
{
	const char *got = oc_msg_header(m, s->hmac_header);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	char want[7 + 2 * EVP_MAX_MD_SIZE + 1] = "sha256=";
	HMAC(EVP_sha256(), s->hmac_key, (int)s->hmac_len, (const unsigned char *)m->data, m->len,
	     mac, &maclen);
	static const char digits[] = "0123456789abcdef";
	for (unsigned i = 0; i < maclen; i++) {
		want[7 + 2 * i] = digits[mac[i] >> 4];
		want[7 + 2 * i + 1] = digits[mac[i] & 15];
	}
	want[7 + 2 * maclen] = '\0';
	size_t wl = strlen(want);
	return got && strlen(got) == wl && CRYPTO_memcmp(got, want, wl) == 0;
}

/* A whole request arrived: emit it and start its answer. */
static void request_complete(struct conn *c, struct oc_msg *m, bool keep_alive)
{
	struct server *s = c->srv;
	if (c->closing) { /* pipelined behind a request that ended the connection */
		oc_msg_unref(m);
		return;
	}
	struct hreq *r = xcalloc(1, sizeof(*r));
	r->c = c;
	r->file = -1;
	r->keep_alive = keep_alive;
	r->head = !strcmp(m->f[OC_F_METHOD], "HEAD");
	snprintf(r->id, sizeof(r->id), "%lu", ++s->next_id);
	oc_msg_set_str(m, OC_F_ID, r->id);
	if (c->tail)
		c->tail->next = r;
	else
		c->head = r;
	c->tail = r;
	c->nreqs++;
	if (c->too_big) {
		r->keep_alive = false;
		answer_text(r, 413, "request body too large\n");
		oc_msg_unref(m);
		return;
	}
	if (s->hmac_key && !signature_ok(s, m)) {
		oc_verbose("'%s': request %s has a bad or missing %s: 401", c->peer, r->id,
			   s->hmac_header);
		answer_text(r, 401, "bad signature\n");
		oc_msg_unref(m);
		return;
	}
	switch (s->mode) {
	case REPLY_ACK:
		m->on_done = ack_done; /* answered when the target took it, or could not */
		m->done_arg = r;
		r->msg = m;
		oc_ep_emit(s->ep, m);
		return;
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
		answer(r, s->status, NULL, NULL, s->fixed, s->fixed_len);
		break;
	case REPLY_ECHO:
		answer(r, 200, NULL, m->f[OC_F_CONTENT_TYPE], m->data, m->len);
		break;
	case REPLY_EXEC:
		r->msg = oc_msg_ref(m);
		run_exec(s, r);
		break;
	case REPLY_DIR:
		serve_file(s, r, m->f[OC_F_METHOD], m->f[OC_F_PATH]);
		break;
	}
	oc_ep_emit(s->ep, m);
}

/* ---- writing ----------------------------------------------------------------------------- */

struct wreq {
	uv_write_t req;   /* libuv request */
	struct conn *c;   /* connection */
	char *buf;        /* bytes (freed when written) */
	size_t len;       /* their count */
};

static void write_done(uv_write_t *req, int status)
{
	struct wreq *w = req->data;
	struct conn *c = w->c;
	c->unsent -= w->len;
	free(w->buf);
	free(w);
	if (status == 0 && !c->closing)
		flush_conn(c);
}

static void send_bytes(struct conn *c, char *buf, size_t len)
{
	struct wreq *w = xmalloc(sizeof(*w));
	w->req.data = w;
	w->c = c;
	w->buf = buf;
	w->len = len;
	c->unsent += len;
	uv_buf_t b = uv_buf_init(buf, (unsigned)len);
	if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, write_done)) {
		c->unsent -= len;
		free(buf);
		free(w);
		conn_close(c);
	}
}

static void update_reading(struct conn *c);

/* Send the answers that are complete, in request order; one write for all of them. */
static void flush_conn(struct conn *c)
{
	if (c->closing)
		return;
	char *batch = NULL;
	size_t blen = 0, bcap = 0;
	bool close_after = false;
	while (c->head && c->head->answered && !close_after && c->unsent + blen < WRITE_HIGH) {
		struct hreq *r = c->head;
		if (r->olen) {
			if (blen + r->olen > bcap)
				batch = xrealloc(batch, bcap = (blen + r->olen) * 2);
			memcpy(batch + blen, r->out, r->olen);
			blen += r->olen;
			r->olen = 0;
		}
		if (r->file >= 0) { /* a file: the next piece once the socket drains */
			size_t want = r->file_left < FILE_CHUNK ? (size_t)r->file_left : FILE_CHUNK;
			char *p = xmalloc(want);
			ssize_t n = read(r->file, p, want);
			if (n <= 0) {
				free(p);
				close_after = true; /* the file shrank: the promised length is a lie now */
				break;
			}
			if (blen)
				send_bytes(c, batch, blen);
			batch = NULL;
			blen = bcap = 0;
			send_bytes(c, p, (size_t)n);
			r->file_left -= (uint64_t)n;
			if (r->file_left)
				return;
			close(r->file);
			r->file = -1;
		}
		close_after = !r->keep_alive;
		c->head = r->next;
		if (!c->head)
			c->tail = NULL;
		c->nreqs--;
		r->c = NULL;
		req_free(c->srv, r);
	}
	if (blen)
		send_bytes(c, batch, blen);
	else
		free(batch);
	if (close_after || (c->read_eof && !c->head && c->unsent == 0)) {
		conn_close(c);
		return;
	}
	update_reading(c);
}

static void flush_later(struct oc_defer *d)
{
	flush_conn((struct conn *)((char *)d - offsetof(struct conn, flush)));
}

/* ---- parsing ----------------------------------------------------------------------------- */

static void grow_add(char **buf, size_t *len, size_t *cap, const char *p, size_t n)
{
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*buf = xrealloc(*buf, *cap);
	}
	memcpy(*buf + *len, p, n);
	*len += n;
	(*buf)[*len] = '\0';
}

static int on_message_begin(http_parser *p)
{
	struct conn *c = p->data;
	c->cur = oc_msg_new();
	c->ulen = c->hnlen = c->hvlen = c->blen = 0;
	c->in_value = false;
	c->too_big = false;
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
	struct conn *c = p->data;
	grow_add(&c->url, &c->ulen, &c->ucap, at, n);
	return 0;
}

static void header_done(struct conn *c)
{
	if (!c->hnlen)
		return;
	oc_msg_add_header(c->cur, c->hname, c->hnlen, c->hval ? c->hval : "", c->hvlen);
	if (c->hnlen == 12 && !strncasecmp(c->hname, "content-type", 12))
		oc_msg_set(c->cur, OC_F_CONTENT_TYPE, c->hval ? c->hval : "", c->hvlen);
	c->hnlen = c->hvlen = 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
	struct conn *c = p->data;
	if (c->in_value) {
		header_done(c);
		c->in_value = false;
	}
	grow_add(&c->hname, &c->hnlen, &c->hncap, at, n);
	return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
	struct conn *c = p->data;
	c->in_value = true;
	grow_add(&c->hval, &c->hvlen, &c->hvcap, at, n);
	return 0;
}

static int on_headers_complete(http_parser *p)
{
	struct conn *c = p->data;
	struct server *s = c->srv;
	header_done(c);
	c->in_value = false;
	struct oc_msg *m = c->cur;
	oc_msg_set_str(m, OC_F_METHOD, http_method_str((enum http_method)p->method));
	const char *q = c->url ? strchr(c->url, '?') : NULL;
	oc_msg_set(m, OC_F_PATH, c->url ? c->url : "/", q ? (size_t)(q - c->url) : c->ulen);
	if (q)
		oc_msg_set_str(m, OC_F_QUERY, q + 1);
	oc_msg_set_str(m, OC_F_PEER, c->peer);
	if ((p->flags & F_CONTENTLENGTH) && p->content_length > s->max_body)
		c->too_big = true;
	/* curl waits a second for this before sending a big body */
	const char *expect = oc_msg_header(m, "Expect");
	if (expect && !strcasecmp(expect, "100-continue") && !c->too_big)
		send_bytes(c, xstrdup("HTTP/1.1 100 Continue\r\n\r\n"), 25);
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
	struct conn *c = p->data;
	if (c->too_big || c->blen + n > c->srv->max_body) {
		c->too_big = true; /* keep parsing to answer 413, keep nothing */
		return 0;
	}
	if (c->blen + n > c->bcap) {
		c->bcap = (c->blen + n) * 2;
		c->body = xrealloc(c->body, c->bcap);
	}
	memcpy(c->body + c->blen, at, n);
	c->blen += n;
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct conn *c = p->data;
	struct oc_msg *m = c->cur;
	c->cur = NULL;
	if (c->blen && !c->too_big) {
		oc_msg_take_payload(m, c->body, c->blen);
		c->body = NULL;
		c->bcap = 0;
	}
	c->blen = 0;
	request_complete(c, m, http_should_keep_alive(p) && !c->too_big);
	if (c->too_big)
		http_parser_pause(p, 1); /* nothing more from this connection */
	return 0;
}

static const http_parser_settings parser_settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

/* A request that cannot be parsed gets one answer and the connection ends. */
static void parse_error(struct conn *c)
{
	enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
	oc_verbose("'%s': bad request: %s", c->peer, http_errno_description(e));
	if (c->cur) {
		oc_msg_unref(c->cur);
		c->cur = NULL;
	}
	struct hreq *r = xcalloc(1, sizeof(*r));
	r->c = c;
	r->file = -1;
	if (c->tail)
		c->tail->next = r;
	else
		c->head = r;
	c->tail = r;
	c->nreqs++;
	answer_text(r, e == HPE_HEADER_OVERFLOW ? 431 : 400, "bad request\n");
	c->read_eof = true; /* read nothing more */
	uv_read_stop((uv_stream_t *)&c->tcp);
	c->reading = false;
}

/* ---- connections ------------------------------------------------------------------------- */

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct conn *c = h->data;
	*buf = uv_buf_init(c->rbuf, sizeof(c->rbuf));
}

static void read_cb(uv_stream_t *h, ssize_t n, const uv_buf_t *buf)
{
	struct conn *c = h->data;
	if (n > 0) {
		oc_trace_bytes(c->peer, "received", buf->base, (size_t)n);
		size_t done = http_parser_execute(&c->parser, &parser_settings, buf->base, (size_t)n);
		if (HTTP_PARSER_ERRNO(&c->parser) == HPE_PAUSED) {
			uv_read_stop(h); /* after a 413: the rest is not read */
			c->reading = false;
			c->read_eof = true;
		} else if (c->parser.upgrade) {
			parse_error(c);
		} else if (done != (size_t)n) {
			parse_error(c);
		}
		update_reading(c);
	} else if (n < 0) {
		/* EOF (or a reset): answer what is pending, then close */
		c->read_eof = true;
		uv_read_stop(h);
		c->reading = false;
		if (n != UV_EOF || c->cur) {
			conn_close(c);
			return;
		}
		if (!c->head && c->unsent == 0)
			conn_close(c);
	}
}

/* Read while the owner takes requests and the answers are not far behind. */
static void update_reading(struct conn *c)
{
	bool want = !c->srv->paused && !c->read_eof && !c->closing &&
		    c->nreqs < MAX_PIPELINED && c->unsent < WRITE_HIGH;
	if (want && !c->reading)
		c->reading = uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) == 0;
	else if (!want && c->reading) {
		uv_read_stop((uv_stream_t *)&c->tcp);
		c->reading = false;
	}
}

static void maybe_closed(struct server *s)
{
	if (s->closing && !s->conns && !s->lst_open && !s->res.active) {
		free(s->fixed);
		free(s->dir);
		free(s->hmac_key);
		oc_ep_closed(s->ep);
	}
}

static void conn_freed(uv_handle_t *h)
{
	struct conn *c = h->data;
	struct server *s = c->srv;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c->url);
	free(c->hname);
	free(c->hval);
	free(c->body);
	free(c);
	maybe_closed(s);
}

static void conn_close(struct conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	oc_defer_cancel(&c->flush);
	oc_verbose("'%s' disconnected", c->peer);
	while (c->head) {
		struct hreq *r = c->head;
		c->head = r->next;
		r->c = NULL;
		req_free(c->srv, r);
	}
	c->tail = NULL;
	if (c->cur)
		oc_msg_unref(c->cur);
	c->cur = NULL;
	uv_close((uv_handle_t *)&c->tcp, conn_freed);
}

static void on_connection(uv_stream_t *lst, int status)
{
	struct server *s = lst->data;
	if (status < 0)
		return;
	struct conn *c = xcalloc(1, sizeof(*c));
	c->srv = s;
	uv_tcp_init(lst->loop, &c->tcp);
	c->tcp.data = c;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	if (uv_accept(lst, (uv_stream_t *)&c->tcp)) {
		conn_close(c);
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len);
	oc_sockaddr_str((struct sockaddr *)&ss, c->peer, sizeof(c->peer));
	oc_verbose("connection from '%s'", c->peer);
	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;
	oc_defer_init(&c->flush, flush_later);
	update_reading(c);
}

/* ---- the adapter ------------------------------------------------------------------------- */

static int server_check(struct oc_ep *ep)
{
	const struct oc_url *u = &ep->spec->url;
	const char *dir = oc_ep_opt(ep, "dir");
	int modes = (ep->cfg->echo != 0) + (ep->cfg->exec || ep->cfg->exec_shell) + (dir != NULL) +
		    oc_ep_opt_flag(ep, "reply-stdin") +
		    (ep->cfg->data != NULL || oc_ep_opt(ep, "status") != NULL);
	if (modes > 1) {
		oc_ep_seterr(ep, OC_EUSAGE, "choose one answer for '%s': -d/--status, --echo, "
			     "--exec, --dir or --reply-stdin", ep->name);
		return OC_EUSAGE;
	}
	if (u->port < 0 && !u->host) {
		oc_ep_seterr(ep, OC_EUSAGE, "'%s' needs a port", ep->name);
		return OC_EUSAGE;
	}
	return 0;
}

static enum reply_mode mode_of(struct oc_ep *ep)
{
	const struct oc_cfg *cfg = ep->cfg;
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

static int load_config(struct server *s)
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
		s->dir = realpath(v, NULL);
		struct stat sb;
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
	return 0;
}

static void lst_closed(uv_handle_t *h)
{
	struct server *s = h->data;
	s->lst_open = false;
	maybe_closed(s);
}

static void on_resolved(struct oc_resolve *res, int status, struct addrinfo *ai)
{
	struct server *s = res->data;
	struct oc_ep *ep = s->ep;
	if (s->closing || status == UV_ECANCELED) {
		if (ai)
			uv_freeaddrinfo(ai);
		maybe_closed(s);
		return;
	}
	if (status) {
		oc_ep_fail(ep, OC_ERESOLVE, "cannot resolve '%s': %s", oc_listen_host(ep),
			   uv_strerror(status));
		return;
	}
	uv_tcp_init(uv_default_loop(), &s->lst);
	s->lst.data = s;
	s->lst_open = true;
	int r = uv_tcp_bind(&s->lst, ai->ai_addr, 0);
	uv_freeaddrinfo(ai);
	if (!r)
		r = uv_listen((uv_stream_t *)&s->lst, 511, on_connection);
	if (r) {
		oc_ep_fail(ep, OC_ECONNECT, "cannot listen on '%s': %s", s->where, uv_strerror(r));
		return;
	}
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	uv_tcp_getsockname(&s->lst, (struct sockaddr *)&ss, &len);
	oc_sockaddr_str((struct sockaddr *)&ss, s->where, sizeof(s->where));
	oc_verbose("listening on '%s'", s->where);
	oc_ep_ready(ep);
}

static int server_open(struct oc_ep *ep)
{
	struct server *s = ep->priv;
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
	int port = u->port >= 0 ? u->port : 80;
	oc_url_hostport(oc_listen_host(ep), port, s->where, sizeof(s->where));
	s->res.data = s;
	r = oc_resolve_start(&s->res, oc_listen_host(ep), port, SOCK_STREAM, ep->cfg, true,
			     on_resolved);
	if (r) {
		oc_ep_seterr(ep, OC_ERESOLVE, "cannot resolve '%s': %s", oc_listen_host(ep),
			     uv_strerror(r));
		return OC_ERESOLVE;
	}
	return 0;
}

/* An answer by id: from --reply-stdin, or from a relay's request/response target. */
static void server_write(struct oc_ep *ep, struct oc_msg *m)
{
	struct server *s = ep->priv;
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
	answer(r, status, m, m->f[OC_F_CONTENT_TYPE], m->data, m->len);
	oc_ep_sent(ep, m);
}

static void set_paused(struct oc_ep *ep, bool paused)
{
	struct server *s = ep->priv;
	s->paused = paused;
	for (struct conn *c = s->conns; c; c = c->next)
		update_reading(c);
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
	struct server *s = ep->priv;
	s->closing = true;
	oc_resolve_cancel(&s->res);
	if (s->lst_open)
		uv_close((uv_handle_t *)&s->lst, lst_closed);
	for (struct conn *c = s->conns; c; c = c->next)
		conn_close(c);
	maybe_closed(s);
}

const struct oc_adapter oc_adapter_http_server = {
	.name = "http-server",
	.flags = OC_AF_SERVER | OC_AF_REQUEST | OC_AF_HEADERS,
	.opts = server_opts,
	.priv_size = sizeof(struct server),
	.check = server_check,
	.open = server_open,
	.write = server_write,
	.pause = server_pause,
	.resume = server_resume,
	.close = server_close,
};
