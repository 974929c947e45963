/* proto-adapters/http/h2.c — HTTP/2 on a server connection, with nghttp2.
 *
 * nghttp2 does the framing, HPACK and flow control; we feed it the connection's plaintext
 * and write what it gives us (send_cb). Each stream's HEADERS and DATA become one request
 * (server.c answers it); the answer is submitted on its stream when ready, the body read by
 * nghttp2 from memory or, for --dir, from the file, as flow control allows. Pseudo-headers
 * map to the envelope (:method, :path and query); :authority becomes "host" so a request
 * looks the same over HTTP/1.1 and HTTP/2. */
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "server.h"
#include "xalloc.h"

struct stream {
	int32_t id;               /* stream id */
	struct oc_msg *msg;       /* the request being received */
	char *body;               /* its body so far */
	size_t blen, bcap;        /* length, allocation */
	bool too_big;             /* the body passed --max-size */
	struct hreq *r;           /* the request once complete */
	struct stream *next;      /* the session's streams */
};

struct h2 {
	nghttp2_session *session; /* nghttp2's state */
	struct stream *streams;   /* open streams */
};

static struct stream *stream_of(struct hconn *c, int32_t id)
{
	return nghttp2_session_get_stream_user_data(c->h2->session, id);
}

static ssize_t send_cb(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *ud)
{
	struct hconn *c = ud;
	if (!hconn_writable(c))
		return NGHTTP2_ERR_WOULDBLOCK; /* h2_flush resumes when the socket drains */
	hconn_send(c, data, len);
	return (ssize_t)len;
}

static int begin_headers_cb(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
	struct hconn *c = ud;
	if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	struct stream *st = xcalloc(1, sizeof(*st));
	st->id = f->hd.stream_id;
	st->msg = oc_msg_new();
	st->next = c->h2->streams;
	c->h2->streams = st;
	nghttp2_session_set_stream_user_data(s, st->id, st);
	return 0;
}

static int header_cb(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name,
		     size_t nlen, const uint8_t *value, size_t vlen, uint8_t flags, void *ud)
{
	struct hconn *c = ud;
	struct stream *st = stream_of(c, f->hd.stream_id);
	if (!st || !st->msg)
		return 0;
	const char *n = (const char *)name, *v = (const char *)value;
	if (nlen == 7 && !memcmp(n, ":method", 7)) {
		oc_msg_set(st->msg, OC_F_METHOD, v, vlen);
	} else if (nlen == 5 && !memcmp(n, ":path", 5)) {
		const char *q = memchr(v, '?', vlen);
		oc_msg_set(st->msg, OC_F_PATH, v, q ? (size_t)(q - v) : vlen);
		if (q)
			oc_msg_set(st->msg, OC_F_QUERY, q + 1, vlen - (size_t)(q + 1 - v));
	} else if (nlen == 10 && !memcmp(n, ":authority", 10)) {
		oc_msg_add_header(st->msg, "host", 4, v, vlen);
	} else if (nlen && n[0] != ':') {
		oc_msg_add_header(st->msg, n, nlen, v, vlen);
		if (nlen == 12 && !memcmp(n, "content-type", 12))
			oc_msg_set(st->msg, OC_F_CONTENT_TYPE, v, vlen);
	}
	return 0;
}

static int data_cb(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data,
		   size_t len, void *ud)
{
	struct hconn *c = ud;
	struct stream *st = stream_of(c, id);
	if (!st || st->too_big)
		return 0;
	if (st->blen + len > hsrv_max_body(c)) {
		st->too_big = true;
		return 0;
	}
	if (st->blen + len > st->bcap) {
		st->bcap = (st->blen + len) * 2;
		st->body = xrealloc(st->body, st->bcap);
	}
	memcpy(st->body + st->blen, data, len);
	st->blen += len;
	return 0;
}

static int frame_cb(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
	struct hconn *c = ud;
	if ((f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA) ||
	    !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	struct stream *st = stream_of(c, f->hd.stream_id);
	if (!st || !st->msg)
		return 0;
	struct oc_msg *m = st->msg;
	st->msg = NULL;
	if (!m->f[OC_F_METHOD] || !m->f[OC_F_PATH]) {
		oc_msg_unref(m);
		nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_PROTOCOL_ERROR);
		return 0;
	}
	if (st->blen && !st->too_big) {
		oc_msg_take_payload(m, st->body, st->blen);
		st->body = NULL;
	}
	oc_msg_set_str(m, OC_F_PEER, c->peer);
	st->r = hsrv_request(c, m, st->id, true, st->too_big);
	return 0;
}

static void stream_free(struct hconn *c, struct stream *st)
{
	oc_msg_unref(st->msg);
	free(st->body);
	if (st->r) {
		st->r->c = NULL;
		hreq_free(c->srv, st->r);
	}
	free(st);
}

static int close_cb(nghttp2_session *s, int32_t id, uint32_t error_code, void *ud)
{
	struct hconn *c = ud;
	for (struct stream **p = &c->h2->streams; *p; p = &(*p)->next) {
		if ((*p)->id == id) {
			struct stream *st = *p;
			*p = st->next;
			stream_free(c, st);
			break;
		}
	}
	return 0;
}

int h2_init(struct hconn *c)
{
	nghttp2_session_callbacks *cbs;
	nghttp2_session_callbacks_new(&cbs);
	nghttp2_session_callbacks_set_send_callback(cbs, send_cb);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, begin_headers_cb);
	nghttp2_session_callbacks_set_on_header_callback(cbs, header_cb);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, data_cb);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, frame_cb);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, close_cb);
	c->h2 = xcalloc(1, sizeof(*c->h2));
	int r = nghttp2_session_server_new(&c->h2->session, cbs, c);
	nghttp2_session_callbacks_del(cbs);
	if (r) {
		free(c->h2);
		c->h2 = NULL;
		return -1;
	}
	nghttp2_settings_entry iv[] = { { NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100 } };
	nghttp2_submit_settings(c->h2->session, NGHTTP2_FLAG_NONE, iv, 1);
	return 0;
}

int h2_input(struct hconn *c, const char *p, size_t n)
{
	ssize_t r = nghttp2_session_mem_recv(c->h2->session, (const uint8_t *)p, n);
	if (r < 0) {
		oc_verbose("'%s': HTTP/2: %s", c->peer, nghttp2_strerror((int)r));
		return -1;
	}
	h2_flush(c);
	return c->h2 && !nghttp2_session_want_read(c->h2->session) &&
			       !nghttp2_session_want_write(c->h2->session)
		       ? -1
		       : 0;
}

void h2_flush(struct hconn *c)
{
	if (c->h2 && !c->closing && nghttp2_session_send(c->h2->session) != 0)
		hconn_close(c);
}

/* nghttp2 asks for the next piece of an answer's body: from memory or from the file. */
static ssize_t body_cb(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len,
		       uint32_t *flags, nghttp2_data_source *src, void *ud)
{
	struct hreq *r = src->ptr;
	if (r->file >= 0) {
		ssize_t n = read(r->file, buf, len);
		if (n <= 0) {
			*flags |= NGHTTP2_DATA_FLAG_EOF;
			return n < 0 ? NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE : 0;
		}
		r->boff += (size_t)n;
		if (r->boff >= r->file_size)
			*flags |= NGHTTP2_DATA_FLAG_EOF;
		return n;
	}
	size_t n = r->blen - r->boff < len ? r->blen - r->boff : len;
	memcpy(buf, r->body + r->boff, n);
	r->boff += n;
	if (r->boff == r->blen)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

/* Header names are lower case on HTTP/2. */
static char *lower(const char *s)
{
	char *l = xstrdup(s);
	for (char *p = l; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return l;
}

static nghttp2_nv nv(const char *name, const char *value)
{
	return (nghttp2_nv){ (uint8_t *)name, (uint8_t *)value, strlen(name), strlen(value),
			     NGHTTP2_NV_FLAG_NONE };
}

void h2_answer(struct hconn *c, struct hreq *r)
{
	if (!c->h2)
		return;
	char status[8], length[24];
	snprintf(status, sizeof(status), "%d", r->status);
	snprintf(length, sizeof(length), "%llu",
		 (unsigned long long)(r->file_size ? r->file_size : r->blen));
	unsigned nh = r->hdrs ? r->hdrs->nhdrs : 0, n = 0;
	nghttp2_nv *nva = xmalloc((5 + nh) * sizeof(*nva));
	char **names = xcalloc(nh + 1, sizeof(*names));
	nva[n++] = nv(":status", status);
	nva[n++] = nv("server", "omnicat");
	nva[n++] = nv("date", http_date());
	nva[n++] = nv("content-length", length);
	if (r->ctype)
		nva[n++] = nv("content-type", r->ctype);
	for (unsigned i = 0; i < nh; i++) {
		names[i] = lower(r->hdrs->hdrs[i].name);
		if (!strcmp(names[i], "content-length") || !strcmp(names[i], "content-type") ||
		    !strcmp(names[i], "connection") || !strcmp(names[i], "transfer-encoding") ||
		    !strcmp(names[i], "keep-alive") || !strcmp(names[i], "date") ||
		    !strcmp(names[i], "server"))
			continue; /* ours, or not allowed on HTTP/2 */
		nva[n++] = nv(names[i], r->hdrs->hdrs[i].value);
	}
	bool body = !r->head && (r->blen || r->file >= 0);
	nghttp2_data_provider prd = { .source.ptr = r, .read_callback = body_cb };
	nghttp2_submit_response(c->h2->session, r->stream, nva, n, body ? &prd : NULL);
	for (unsigned i = 0; i < nh; i++)
		free(names[i]);
	free(names);
	free(nva);
	h2_flush(c);
}

void h2_release(struct hconn *c)
{
	if (!c->h2)
		return;
	while (c->h2->streams) {
		struct stream *st = c->h2->streams;
		c->h2->streams = st->next;
		stream_free(c, st);
	}
	nghttp2_session_del(c->h2->session);
	free(c->h2);
	c->h2 = NULL;
}
