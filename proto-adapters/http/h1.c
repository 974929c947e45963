/* proto-adapters/http/h1.c — HTTP/1.x on a server connection: http-parser turns bytes into
 * requests (server.c answers them); answers go out in request order, the ones that are ready
 * gathered into one write. Keep-alive and pipelining as HTTP/1.1 says; "Expect:
 * 100-continue" is answered at once (curl waits a second for it before a big upload). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "server.h"
#include "xalloc.h"

#define FILE_CHUNK (256 * 1024) /* --dir: bytes read from a file per write */

/* ---- parsing ----------------------------------------------------------------------------- */

static int on_message_begin(http_parser *p)
{
	struct hconn *c = p->data;
	c->cur = oc_msg_new();
	c->ulen = c->hnlen = c->hvlen = c->blen = 0;
	c->in_value = false;
	c->too_big = false;
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
	struct hconn *c = p->data;
	xappend(&c->url, &c->ulen, &c->ucap, at, n);
	return 0;
}

static void header_done(struct hconn *c)
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
	struct hconn *c = p->data;
	if (c->in_value) {
		header_done(c);
		c->in_value = false;
	}
	xappend(&c->hname, &c->hnlen, &c->hncap, at, n);
	return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
	struct hconn *c = p->data;
	c->in_value = true;
	xappend(&c->hval, &c->hvlen, &c->hvcap, at, n);
	return 0;
}

static int on_headers_complete(http_parser *p)
{
	struct hconn *c = p->data;
	header_done(c);
	c->in_value = false;
	struct oc_msg *m = c->cur;
	oc_msg_set_str(m, OC_F_METHOD, http_method_str((enum http_method)p->method));
	const char *q = c->url ? strchr(c->url, '?') : NULL;
	oc_msg_set(m, OC_F_PATH, c->url ? c->url : "/", q ? (size_t)(q - c->url) : c->ulen);
	if (q)
		oc_msg_set_str(m, OC_F_QUERY, q + 1);
	oc_msg_set_str(m, OC_F_PEER, c->peer);
	if ((p->flags & F_CONTENTLENGTH) && p->content_length > hsrv_max_body(c))
		c->too_big = true;
	const char *expect = oc_msg_header(m, "Expect");
	if (expect && !strcasecmp(expect, "100-continue") && !c->too_big)
		hconn_send(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
	struct hconn *c = p->data;
	if (c->too_big || c->blen + n > hsrv_max_body(c)) {
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
	struct hconn *c = p->data;
	struct oc_msg *m = c->cur;
	c->cur = NULL;
	if (c->closing) { /* pipelined behind a request that ended the connection */
		oc_msg_unref(m);
		return 0;
	}
	if (c->blen && !c->too_big) {
		oc_msg_take_payload(m, c->body, c->blen);
		c->body = NULL;
		c->bcap = 0;
	}
	c->blen = 0;
	bool too_big = c->too_big;
	hsrv_request(c, m, 0, http_should_keep_alive(p), too_big);
	if (too_big)
		http_parser_pause(p, 1); /* nothing more from this connection */
	return 0;
}

static const http_parser_settings settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

void h1_init(struct hconn *c)
{
	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;
}

void h1_input(struct hconn *c, const char *p, size_t n)
{
	size_t done = http_parser_execute(&c->parser, &settings, p, n);
	enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
	if (e == HPE_PAUSED) { /* after a 413: the rest is not read */
		c->read_eof = true;
		return;
	}
	if (done == n && !c->parser.upgrade)
		return;
	/* A request that cannot be parsed gets one answer and the connection ends. */
	oc_verbose("'%s': bad request: %s", c->peer,
		   c->parser.upgrade ? "upgrade not supported" : http_errno_description(e));
	if (c->cur) {
		oc_msg_unref(c->cur);
		c->cur = NULL;
	}
	hsrv_error(c, e == HPE_HEADER_OVERFLOW ? 431 : 400, "bad request\n");
	c->read_eof = true;
}

void h1_release(struct hconn *c)
{
	oc_msg_unref(c->cur);
	c->cur = NULL;
	free(c->url);
	free(c->hname);
	free(c->hval);
	free(c->body);
	c->url = c->hname = c->hval = c->body = NULL;
}

/* ---- answers ----------------------------------------------------------------------------- */

struct out {
	char *buf;
	size_t len, cap;
};

static bool ours(const char *name)
{
	static const char *const own[] = { "content-length", "content-type", "transfer-encoding",
					   "date", "server", "connection", "keep-alive" };
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (!strcasecmp(name, own[i]))
			return true;
	return false;
}

/* Status line and headers of r, then its body when it has one in memory. */
static void serialise(struct out *o, const struct hreq *r)
{
	char line[512];
	uint64_t len = r->file_size ? r->file_size : r->blen;
	int n = snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\nServer: omnicat\r\nDate: %s\r\n",
			 r->status, http_reason(r->status), http_date());
	xappend(&o->buf, &o->len, &o->cap, line, (size_t)n);
	if (r->events) /* no length: the stream lasts as long as the connection */
		xappend(&o->buf, &o->len, &o->cap, "Cache-Control: no-cache\r\n", 25);
	else
		xappend(&o->buf, &o->len, &o->cap, line, (size_t)snprintf(line, sizeof(line), "Content-Length: %llu\r\n",
						  (unsigned long long)len));
	if (r->ctype) {
		xappend(&o->buf, &o->len, &o->cap, "Content-Type: ", 14);
		xappend(&o->buf, &o->len, &o->cap, r->ctype, strlen(r->ctype));
		xappend(&o->buf, &o->len, &o->cap, "\r\n", 2);
	}
	for (unsigned i = 0; r->hdrs && i < r->hdrs->nhdrs; i++) {
		const struct oc_hdr *h = &r->hdrs->hdrs[i];
		if (ours(h->name))
			continue; /* from the answer itself */
		xappend(&o->buf, &o->len, &o->cap, h->name, strlen(h->name));
		xappend(&o->buf, &o->len, &o->cap, ": ", 2);
		xappend(&o->buf, &o->len, &o->cap, h->value, strlen(h->value));
		xappend(&o->buf, &o->len, &o->cap, "\r\n", 2);
	}
	if (!r->keep_alive)
		xappend(&o->buf, &o->len, &o->cap, "Connection: close\r\n", 19);
	xappend(&o->buf, &o->len, &o->cap, "\r\n", 2);
	if (!r->head && r->blen)
		xappend(&o->buf, &o->len, &o->cap, r->body, r->blen);
}

/* Send the next piece of r's file; false when it is not finished yet. */
static bool file_piece(struct hconn *c, struct hreq *r, struct out *o)
{
	char buf[FILE_CHUNK];
	ssize_t n = read(r->file, buf, sizeof(buf));
	if (n > 0) {
		xappend(&o->buf, &o->len, &o->cap, buf, (size_t)n);
		return false;
	}
	close(r->file); /* done (or the file shrank: the connection ends below) */
	r->file = -1;
	if (n < 0 || o->len == 0)
		r->keep_alive = false;
	return true;
}

void h1_flush(struct hconn *c)
{
	struct out o = { 0 };
	bool close_after = false;
	while (c->head && c->head->answered && !close_after && hconn_writable(c)) {
		struct hreq *r = c->head;
		if (r->status) {
			serialise(&o, r);
			r->status = 0; /* the head is out; a file may follow */
		}
		if (r->file >= 0 && !file_piece(c, r, &o)) {
			hconn_send(c, o.buf, o.len);
			o.len = 0;
			continue; /* more of the file once these bytes drain */
		}
		if (r->events) {
			hconn_send(c, o.buf, o.len);
			free(o.buf);
			/* from now on it only receives events */
			events_subscribed(c->srv, c, r->last_event_id);
			while (c->head) { /* it, and requests pipelined after it (no answer) */
				struct hreq *q = c->head;
				c->head = q->next;
				q->c = NULL;
				hreq_free(c->srv, q);
			}
			c->tail = NULL;
			c->nreqs = 0;
			hconn_update_reading(c);
			return;
		}
		close_after = !r->keep_alive;
		c->head = r->next;
		if (!c->head)
			c->tail = NULL;
		c->nreqs--;
		r->c = NULL;
		hreq_free(c->srv, r);
	}
	if (o.len)
		hconn_send(c, o.buf, o.len);
	free(o.buf);
	if (close_after || (c->read_eof && !c->head)) {
		hconn_end(c); /* once the answers are on the wire */
		return;
	}
	hconn_update_reading(c);
}
