/* core/stream.c — see stream.h. */
#include "stream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "adapter.h"
#include "err.h"
#include "log.h"
#include "xalloc.h"

#define MIN_READ (16 * 1024)        /* a read gets at least this much room */
#define BATCH_MSGS 16384            /* messages per write at most (a 128 KiB read of short
				     * lines is ~16k of them) */
#define BATCH_BYTES (1024 * 1024)   /* bytes per write, roughly, at most */
#define FD_READS_PER_TURN 4         /* synchronous reads of a regular file per loop turn */
#define TLS_READ (64 * 1024)        /* ciphertext read buffer */
#define TLS_HIGH (1024 * 1024)      /* stop encrypting more while this much is unsent */

static struct oc_stream *stream_of(struct oc_ep *ep)
{
	return ep->priv;
}

enum oc_framing oc_stream_framing(const struct oc_ep *ep)
{
	return ep->cfg->framing ? (enum oc_framing)(ep->cfg->framing - 1) : OC_FRAMING_LINE;
}

static void flush_cb(struct oc_defer *d);
static void fd_read_cb(struct oc_defer *d);

bool oc_stream_batchable(struct oc_ep *src, struct oc_ep *dst)
{
	if (!oc_ep_has(src, OC_AF_STREAM) || !oc_ep_has(dst, OC_AF_STREAM))
		return false;
	const struct oc_stream *in = src->priv, *out = dst->priv;
	return (in->dec.kind == OC_FRAMING_LINE || in->dec.kind == OC_FRAMING_NUL) &&
	       in->dec.kind == out->enc.kind && !out->enc.fmt;
}

void oc_stream_set_batch(struct oc_ep *src, bool on)
{
	((struct oc_stream *)src->priv)->dec.batch = on;
}

void oc_stream_init(struct oc_stream *s, struct oc_ep *ep, const struct oc_stream_hooks *hooks,
		    enum oc_framing in, enum oc_framing out, const struct oc_format *fmt,
		    enum oc_shut shut_mode)
{
	s->ep = ep;
	s->hooks = hooks;
	s->rfd = s->wfd = -1;
	s->shut_mode = shut_mode;
	s->local = oc_ep_has(ep, OC_AF_LOCAL);
	oc_decoder_init(&s->dec, in, OC_FRAME_MAX_DEFAULT);
	oc_encoder_init(&s->enc, out, fmt);
	oc_iobatch_init(&s->batch);
	oc_defer_init(&s->flush, flush_cb);
	oc_defer_init(&s->fd_read, fd_read_cb);
}

/* ---- failures ----------------------------------------------------------------------------- */

static const char *what_of(struct oc_stream *s)
{
	return s->ep->name;
}

/* The read or write side broke ("lost the connection to 'x': reason"). Lets a reconnecting
 * adapter take over first. */
static void stream_lost(struct oc_stream *s, int err, const char *what, const char *detail)
{
	if (s->hooks && s->hooks->lost && s->hooks->lost(s, err))
		return;
	oc_ep_fail(s->ep, err, "%s '%s': %s", what, what_of(s), detail);
}

/* ---- reading ------------------------------------------------------------------------------ */

static int emit_cb(void *ud, struct oc_msg *m)
{
	struct oc_stream *s = ud;
	oc_ep_emit(s->ep, m);
	return 0;
}

/* Decode what is buffered; at eof, also the trailing partial frame. */
static int decode_buffered(struct oc_stream *s, bool eof)
{
	if (!s->chunk)
		return 0;
	ssize_t n = oc_decode(&s->dec, s->chunk, s->chunk->data + s->cstart, s->cend - s->cstart,
			      eof, emit_cb, s);
	if (n < 0) {
		int err = (int)n == OC_EPROTO && s->local ? OC_EIO : (int)n;
		oc_ep_fail(s->ep, err, "bad input from '%s': %s", what_of(s), s->dec.err);
		return (int)n;
	}
	s->cstart += (size_t)n;
	return 0;
}

/* Room for the next read: the rest of the current chunk, or a new chunk (twice as large when
 * a partial frame fills it) with the undecoded tail copied to its start. */
static void ensure_room(struct oc_stream *s)
{
	if (s->chunk && s->chunk->cap - s->cend >= MIN_READ)
		return;
	size_t tail = s->chunk ? s->cend - s->cstart : 0;
	size_t cap = OC_CHUNK_SIZE;
	while (cap < tail + MIN_READ)
		cap *= 2;
	struct oc_chunk *c = oc_chunk_new(cap);
	if (tail)
		memcpy(c->data, s->chunk->data + s->cstart, tail);
	if (s->chunk)
		oc_chunk_unref(s->chunk);
	s->chunk = c;
	s->cstart = 0;
	s->cend = tail;
}

static void read_ended(struct oc_stream *s)
{
	if (s->rd_eof)
		return;
	if (decode_buffered(s, true))
		return;
	s->rd_eof = true;
	if (s->hooks && s->hooks->lost && s->hooks->lost(s, 0))
		return;
	oc_ep_eof(s->ep);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct oc_stream *s = h->data;
	if (s->tls) { /* ciphertext lands apart; plaintext is copied into the chunk */
		*buf = uv_buf_init(s->tlsbuf, TLS_READ);
		return;
	}
	ensure_room(s);
	*buf = uv_buf_init(s->chunk->data + s->cend, (unsigned)(s->chunk->cap - s->cend));
}

/* ---- TLS ---------------------------------------------------------------------------------- */

static void flush_now(struct oc_stream *s);

struct tls_wreq {
	uv_write_t req;          /* libuv request */
	struct oc_stream *s;     /* its stream */
	size_t len;              /* bytes */
	char buf[];              /* ciphertext */
};

static void tls_wire_done(uv_write_t *req, int status)
{
	struct tls_wreq *w = req->data;
	struct oc_stream *s = w->s;
	s->tls_unsent -= w->len;
	free(w);
	if (status == UV_ECANCELED || s->closing_all)
		return;
	if (status < 0) {
		stream_lost(s, oc_err_from_uv_net(status), "cannot send to", uv_strerror(status));
		return;
	}
	flush_now(s);
}

/* Hand whatever ciphertext TLS has for the peer (handshake, records, alerts) to libuv. */
static void tls_send_pending(struct oc_stream *s)
{
	size_t n;
	while (s->tls && s->wr && (n = oc_tls_pending(s->tls)) > 0) {
		struct tls_wreq *w = xmalloc(sizeof(*w) + n);
		w->len = oc_tls_take(s->tls, w->buf, n);
		w->s = s;
		w->req.data = w;
		s->tls_unsent += w->len;
		uv_buf_t b = uv_buf_init(w->buf, (unsigned)w->len);
		if (uv_write(&w->req, s->wr, &b, 1, tls_wire_done)) {
			s->tls_unsent -= w->len;
			free(w);
			return;
		}
	}
}

static void tls_plain(void *ud, const char *p, size_t n)
{
	struct oc_stream *s = ud;
	while (n > 0 && !(s->ep->flags & OC_EPF_FAILED)) {
		ensure_room(s);
		size_t room = s->chunk->cap - s->cend, take = n < room ? n : room;
		memcpy(s->chunk->data + s->cend, p, take);
		s->cend += take;
		p += take;
		n -= take;
		decode_buffered(s, false);
	}
}

void oc_stream_set_tls(struct oc_stream *s, struct oc_tls *t, bool client)
{
	if (s->tls)
		oc_tls_free(s->tls);
	s->tls = t;
	s->tls_client = client;
	if (!s->tlsbuf)
		s->tlsbuf = xmalloc(TLS_READ);
}

/* Ciphertext arrived: decrypt into the decoder; 1 when the peer closed TLS, <0 failed. */
static int tls_input(struct oc_stream *s, const char *p, size_t n)
{
	int r = oc_tls_input(s->tls, p, n, tls_plain, s);
	tls_send_pending(s); /* the handshake's answer, or an alert */
	if (r < 0)
		oc_ep_fail(s->ep, OC_ETLS, "TLS with '%s' failed: %s", what_of(s),
			   oc_tls_error(s->tls));
	return r;
}

static void read_cb(uv_stream_t *h, ssize_t nread, const uv_buf_t *buf)
{
	struct oc_stream *s = h->data;
	if (nread > 0 && s->tls) {
		oc_trace_bytes(what_of(s), "received (TLS)", buf->base, (size_t)nread);
		int r = tls_input(s, buf->base, (size_t)nread);
		if (r == 1) {
			uv_read_stop(h);
			read_ended(s);
		} else if (r == 0 && s->wr) {
			flush_now(s); /* data written before the handshake may go now */
		}
	} else if (nread > 0) {
		oc_trace_bytes(what_of(s), "received", buf->base, (size_t)nread);
		s->cend += (size_t)nread;
		decode_buffered(s, false);
	} else if (nread == UV_EOF) {
		uv_read_stop(h);
		read_ended(s);
	} else if (nread < 0) {
		uv_read_stop(h);
		if (s->local)
			oc_ep_fail(s->ep, OC_EIO, "cannot read '%s': %s", what_of(s),
				   uv_strerror((int)nread));
		else
			stream_lost(s, oc_err_from_uv_net((int)nread), "lost the connection to",
				    uv_strerror((int)nread));
	}
}

static void fd_read_cb(struct oc_defer *d)
{
	struct oc_stream *s = (struct oc_stream *)((char *)d - offsetof(struct oc_stream, fd_read));
	for (int i = 0; i < FD_READS_PER_TURN && s->reading && !s->rd_eof && s->rfd >= 0; i++) {
		ensure_room(s);
		ssize_t n = read(s->rfd, s->chunk->data + s->cend, s->chunk->cap - s->cend);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			oc_ep_fail(s->ep, OC_EIO, "cannot read '%s': %s", what_of(s), strerror(errno));
			return;
		}
		if (n == 0) {
			if (s->hooks && s->hooks->fd_end) {
				s->hooks->fd_end(s);
				return;
			}
			read_ended(s);
			return;
		}
		oc_trace_bytes(what_of(s), "read", s->chunk->data + s->cend, (size_t)n);
		s->cend += (size_t)n;
		if (decode_buffered(s, false))
			return;
	}
	if (s->reading && !s->rd_eof && s->rfd >= 0)
		oc_defer_schedule(&s->fd_read);
}

void oc_stream_fd_more(struct oc_stream *s)
{
	if (s->reading && !s->rd_eof)
		oc_defer_schedule(&s->fd_read);
}

static void start_reading(struct oc_stream *s)
{
	if (!s->reading || s->rd_eof || s->closing_all)
		return;
	if (s->rd) {
		int r = uv_read_start(s->rd, alloc_cb, read_cb);
		if (r && r != UV_EALREADY)
			oc_ep_fail(s->ep, s->local ? OC_EIO : OC_EINCOMPLETE, "cannot read '%s': %s",
				   what_of(s), uv_strerror(r));
	} else if (s->rfd >= 0) {
		oc_defer_schedule(&s->fd_read);
	}
}

void oc_stream_pause(struct oc_ep *ep)
{
	struct oc_stream *s = stream_of(ep);
	s->reading = false;
	if (s->rd && !s->rd_eof)
		uv_read_stop(s->rd);
	oc_defer_cancel(&s->fd_read);
}

void oc_stream_resume(struct oc_ep *ep)
{
	struct oc_stream *s = stream_of(ep);
	s->reading = true;
	start_reading(s);
}

/* ---- writing ------------------------------------------------------------------------------ */

static struct oc_msg *queue_pop(struct oc_stream *s)
{
	struct oc_msg *m = s->q[s->qhead];
	s->qhead = (s->qhead + 1) % s->qcap;
	s->qlen--;
	return m;
}

static void queue_push(struct oc_stream *s, struct oc_msg *m, bool front)
{
	if (s->qlen == s->qcap) {
		size_t ncap = s->qcap ? s->qcap * 2 : 64;
		struct oc_msg **nq = xmalloc(ncap * sizeof(*nq));
		for (size_t i = 0; i < s->qlen; i++)
			nq[i] = s->q[(s->qhead + i) % s->qcap];
		free(s->q);
		s->q = nq;
		s->qcap = ncap;
		s->qhead = 0;
	}
	if (front) {
		s->qhead = (s->qhead + s->qcap - 1) % s->qcap;
		s->q[s->qhead] = m;
	} else {
		s->q[(s->qhead + s->qlen) % s->qcap] = m;
	}
	s->qlen++;
}

void oc_stream_write(struct oc_ep *ep, struct oc_msg *m)
{
	struct oc_stream *s = stream_of(ep);
	queue_push(s, m, false);
	oc_defer_schedule(&s->flush);
}

static void inflight_done(struct oc_stream *s, bool ok)
{
	for (size_t i = 0; i < s->ninflight; i++) {
		if (ok)
			oc_ep_sent(s->ep, s->inflight[i]);
		else
			oc_ep_dropped(s->ep, s->inflight[i]);
	}
	s->ninflight = 0;
	oc_iobatch_reset(&s->batch);
}

static void shutdown_cb(uv_shutdown_t *req, int status)
{
	struct oc_stream *s = req->data;
	s->shut_done = true;
	/* ENOTSOCK: a pipe has no half-close; ECANCELED: closed meanwhile. Neither is a failure
	 * of what was written, which is all a shutdown reports on. */
	if (s->closing_all)
		return;
	oc_ep_flushed(s->ep);
}

static void flushed_later(struct oc_defer *d);
static void close_handle(struct oc_stream *s, int i);

static void do_shutdown(struct oc_stream *s)
{
	if (s->shut_done || s->closing_all)
		return;
	if (s->wr && s->shut_mode == OC_SHUT_SOCKET) {
		/* A half-close before TLS finished its handshake would cut the handshake: wait
		 * for it (read_cb comes back here through flush_now). */
		if (s->tls && !oc_tls_ready(s->tls))
			return;
		if (s->tls) { /* close_notify, then the socket's half-close after it */
			oc_tls_close(s->tls);
			tls_send_pending(s);
		}
		s->sreq.data = s;
		if (uv_shutdown(&s->sreq, s->wr, shutdown_cb) == 0)
			return;
	} else if (s->wr && s->shut_mode == OC_SHUT_CLOSE && s->wr != s->rd) {
		/* Closing the write handle is how a pipe says EOF; handle_closed() reports the
		 * flush once the close completes. */
		s->shut_closing = s->wr == &s->io[1].s ? 2u : 1u;
		s->wr = NULL;
		close_handle(s, s->shut_closing == 2u ? 1 : 0);
		return;
	} else if (s->wfd >= 0 && s->wfd_own && s->shut_mode != OC_SHUT_FLUSH) {
		close(s->wfd);
		s->wfd = -1;
	}
	/* Nothing to half-close: flushed as soon as we return to the loop. */
	s->shut_done = true;
	s->flush.fn = flushed_later;
	oc_defer_schedule(&s->flush);
}

static void flushed_later(struct oc_defer *d)
{
	struct oc_stream *s = (struct oc_stream *)((char *)d - offsetof(struct oc_stream, flush));
	s->flush.fn = flush_cb;
	if (!s->closing_all)
		oc_ep_flushed(s->ep);
}

/* Encode up to a batch of queued messages into s->batch; they move to inflight. */
static int fill_batch(struct oc_stream *s)
{
	if (s->inflight_cap == 0) {
		s->inflight_cap = BATCH_MSGS;
		s->inflight = xmalloc(BATCH_MSGS * sizeof(*s->inflight));
	}
	while (s->qlen && s->ninflight < BATCH_MSGS && s->batch.bytes < BATCH_BYTES) {
		struct oc_msg *m = queue_pop(s);
		int r = oc_encode(&s->enc, m, &s->batch);
		s->inflight[s->ninflight++] = m;
		if (r) {
			oc_ep_fail(s->ep, OC_EFAIL, "cannot frame a %zu-byte message for '%s'",
				   m->len, what_of(s));
			return r;
		}
	}
	return 0;
}

static void write_cb(uv_write_t *req, int status);

static void write_fd(struct oc_stream *s, unsigned nbufs, uv_buf_t *bufs)
{
	/* uv_buf_t is layout-compatible with struct iovec on Unix (libuv documents it). */
	struct iovec *iov = (struct iovec *)bufs;
	while (nbufs > 0) {
		unsigned cnt = nbufs > 1024 ? 1024 : nbufs;
		ssize_t n = writev(s->wfd, iov, (int)cnt);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			inflight_done(s, false);
			if (e == EPIPE)
				oc_ep_fail(s->ep, OC_ECLOSED_OUT, "'%s' closed", what_of(s));
			else
				oc_ep_fail(s->ep, OC_EIO, "cannot write '%s': %s", what_of(s),
					   strerror(e));
			return;
		}
		size_t left = (size_t)n;
		while (nbufs > 0 && left >= iov->iov_len) {
			left -= iov->iov_len;
			iov++;
			nbufs--;
		}
		if (nbufs > 0 && left) {
			iov->iov_base = (char *)iov->iov_base + left;
			iov->iov_len -= left;
		}
	}
	inflight_done(s, true);
}

static void flush_now(struct oc_stream *s)
{
	/* Not connected yet: keep the queue (and a pending shutdown) for when it is. */
	if (!s->attached)
		return;
	while (!s->writing && s->tls_unsent < TLS_HIGH && !s->closing_all &&
	       !(s->ep->flags & OC_EPF_FAILED)) {
		if (!s->qlen) {
			if (s->want_shut)
				do_shutdown(s);
			return;
		}
		if (!s->wr && s->wfd < 0) {
			/* A read-only stream was written to: nothing can take it. */
			while (s->qlen)
				oc_ep_dropped(s->ep, queue_pop(s));
			continue;
		}
		if (fill_batch(s))
			return;
		unsigned nbufs;
		uv_buf_t *bufs = oc_iobatch_bufs(&s->batch, &nbufs);
		if (nbufs == 0) { /* only empty raw messages: nothing to write */
			inflight_done(s, true);
			continue;
		}
		if (oc_log.trace)
			for (unsigned i = 0; i < nbufs; i++)
				oc_trace_bytes(what_of(s), "sent", bufs[i].base, bufs[i].len);
		if (s->wfd >= 0) {
			write_fd(s, nbufs, bufs);
			continue;
		}
		if (s->tls) { /* encrypted into TLS's buffer now; sent as ciphertext */
			for (unsigned i = 0; i < nbufs; i++)
				oc_tls_write(s->tls, bufs[i].base, bufs[i].len);
			inflight_done(s, true);
			tls_send_pending(s);
			continue;
		}
		s->wreq.data = s;
		int r = uv_write(&s->wreq, s->wr, bufs, nbufs, write_cb);
		if (r) {
			write_cb(&s->wreq, r);
			return;
		}
		s->writing = true;
	}
}

static void write_cb(uv_write_t *req, int status)
{
	struct oc_stream *s = req->data;
	s->writing = false;
	if (status == UV_ECANCELED || s->closing_all) {
		inflight_done(s, false);
		return;
	}
	if (status < 0) {
		if (status == UV_EPIPE && s->local) {
			inflight_done(s, false);
			oc_ep_fail(s->ep, OC_ECLOSED_OUT, "'%s' closed", what_of(s));
		} else if (s->local) {
			inflight_done(s, false);
			oc_ep_fail(s->ep, OC_EIO, "cannot write '%s': %s", what_of(s),
				   uv_strerror(status));
		} else {
			/* Put the unsent batch back first: a reconnecting adapter resends it. */
			for (size_t i = s->ninflight; i-- > 0;)
				queue_push(s, s->inflight[i], true);
			s->ninflight = 0;
			oc_iobatch_reset(&s->batch);
			stream_lost(s, oc_err_from_uv_net(status), "cannot send to",
				    uv_strerror(status));
		}
		return;
	}
	inflight_done(s, true);
	flush_now(s);
}

static void flush_cb(struct oc_defer *d)
{
	flush_now((struct oc_stream *)((char *)d - offsetof(struct oc_stream, flush)));
}

void oc_stream_shutdown(struct oc_ep *ep)
{
	struct oc_stream *s = stream_of(ep);
	s->want_shut = true;
	oc_defer_schedule(&s->flush);
}

/* ---- handles ------------------------------------------------------------------------------ */

void oc_stream_attach(struct oc_stream *s, uv_stream_t *rd, uv_stream_t *wr)
{
	s->rd = rd;
	s->wr = wr;
	s->rd_eof = false;
	s->attached = true;
	if (rd)
		rd->data = s;
	if (wr)
		wr->data = s;
	if (s->tls && s->tls_client) {
		oc_tls_start(s->tls);
		tls_send_pending(s);
	}
	start_reading(s);
	if (s->qlen || s->want_shut)
		oc_defer_schedule(&s->flush);
}

void oc_stream_attach_fds(struct oc_stream *s, int rfd, int wfd, bool own)
{
	s->rfd = rfd;
	s->wfd = wfd;
	s->attached = true;
	s->rfd_own = own && rfd >= 0;
	s->wfd_own = own && wfd >= 0;
	start_reading(s);
	if (s->qlen || s->want_shut)
		oc_defer_schedule(&s->flush);
}

static void stream_finished(struct oc_stream *s);

static void handle_closed(uv_handle_t *h)
{
	struct oc_stream *s = h->data;
	unsigned bit = h == &s->io[0].h ? 1u : 2u;
	s->closing &= ~bit;
	if (s->shut_closing == bit) {
		s->shut_closing = 0;
		s->shut_done = true;
		if (!s->closing_all) {
			/* The owner may close us from here; that close then finishes the stream. */
			oc_ep_flushed(s->ep);
			return;
		}
	}
	if (!s->closing && (s->closing_all || s->detaching))
		stream_finished(s);
}

static void close_handle(struct oc_stream *s, int i)
{
	if (!(s->inited & (1u << i)))
		return;
	s->inited &= ~(1u << i);
	s->closing |= 1u << i;
	s->io[i].h.data = s;
	uv_close(&s->io[i].h, handle_closed);
}

/* All handles are closed: finish a detach, or the close. */
static void stream_finished(struct oc_stream *s)
{
	if (!s->closing_all) {
		void (*done)(struct oc_stream *) = s->detach_done;
		s->detach_done = NULL;
		s->detaching = false;
		if (done)
			done(s);
		return;
	}
	if (s->rfd_own && s->rfd >= 0)
		close(s->rfd);
	if (s->wfd_own && s->wfd >= 0 && s->wfd != s->rfd)
		close(s->wfd);
	s->rfd = s->wfd = -1;
	if (s->chunk)
		oc_chunk_unref(s->chunk);
	s->chunk = NULL;
	oc_decoder_release(&s->dec);
	oc_encoder_release(&s->enc);
	oc_iobatch_release(&s->batch);
	if (s->tls)
		oc_tls_free(s->tls);
	s->tls = NULL;
	free(s->tlsbuf);
	s->tlsbuf = NULL;
	free(s->q);
	free(s->inflight);
	s->q = NULL;
	s->inflight = NULL;
	if (s->hooks && s->hooks->closed)
		s->hooks->closed(s);
	else
		oc_ep_closed(s->ep);
}

void oc_stream_detach(struct oc_stream *s, void (*done)(struct oc_stream *s))
{
	if (s->rd && !s->rd_eof)
		uv_read_stop(s->rd);
	s->rd = s->wr = NULL;
	s->rd_eof = false;
	s->attached = false;
	if (s->chunk)
		oc_chunk_unref(s->chunk);
	s->chunk = NULL;
	s->cstart = s->cend = 0;
	s->shut_done = false;
	if (s->tls) { /* a reconnect brings a new session */
		oc_tls_free(s->tls);
		s->tls = NULL;
	}
	s->detach_done = done;
	s->detaching = true;
	if (!s->inited && !s->closing) {
		stream_finished(s);
		return;
	}
	close_handle(s, 0);
	close_handle(s, 1);
}

void oc_stream_close(struct oc_ep *ep)
{
	struct oc_stream *s = stream_of(ep);
	s->closing_all = true;
	s->reading = false;
	oc_defer_cancel(&s->flush);
	oc_defer_cancel(&s->fd_read);
	if (s->rd && !s->rd_eof)
		uv_read_stop(s->rd);
	while (s->qlen)
		oc_ep_dropped(ep, queue_pop(s));
	if (!s->writing)
		inflight_done(s, false);
	/* With a write in flight, uv_close() cancels it and write_cb drops the batch. */
	if (!s->inited && !s->closing) {
		stream_finished(s);
		return;
	}
	close_handle(s, 0);
	close_handle(s, 1);
}
