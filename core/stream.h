/* core/stream.h — the byte-stream endpoint every stream adapter shares.
 *
 * TCP and unix sockets, pipes, FIFOs, a child's stdin/stdout, stdio and plain files all move
 * bytes; this is the one implementation of framing, batching and backpressure over them, so
 * adapters only open and close their handles (no copy-paste between adapters).
 *
 * Reading: bytes land in a reference-counted chunk; the decoder turns them into messages
 * whose payloads point into the chunk (no copy); a partial frame is carried into the next
 * chunk. Writing: messages queue; one deferred flush per loop turn encodes everything queued
 * into one iobatch and issues one uv_write (or writev(2) on a regular file). Regular files
 * cannot be polled, so they are read and written synchronously, one chunk per loop turn.
 *
 * An adapter embeds struct oc_stream as the FIRST member of its private state, points the
 * adapter's write/pause/resume/shutdown/close at the oc_stream_* functions, and calls
 * oc_stream_init() in open (or for an accepted child) and oc_stream_attach_*() once its
 * handles or fds are ready. A new stream is paused: the owner's oc_ep_resume() starts reading. */
#ifndef OC_STREAM_H
#define OC_STREAM_H

#include <stdbool.h>
#include <uv.h>

#include "defer.h"
#include "endpoint.h"
#include "framing.h"
#include "iobatch.h"
#include "tls.h"

/* What shutdown does once everything queued is written. */
enum oc_shut {
	OC_SHUT_SOCKET, /* shutdown(SHUT_WR): the peer sees EOF, we keep reading */
	OC_SHUT_CLOSE,  /* close the write handle (a pipe: the reader sees EOF) */
	OC_SHUT_FLUSH,  /* nothing (stdout) */
};

union oc_uvstream {
	uv_handle_t h;
	uv_stream_t s;
	uv_tcp_t tcp;
	uv_pipe_t pipe;
	uv_tty_t tty;
};

struct oc_stream;

/* Adapter hooks; any may be NULL. */
struct oc_stream_hooks {
	/* The stream's handles are closed. NULL: the stream calls oc_ep_closed(). */
	void (*closed)(struct oc_stream *s);
	/* A regular file reached its end. NULL: EOF. Else the adapter waits for more (tail -F)
	 * and calls oc_stream_fd_more() when there is. */
	void (*fd_end)(struct oc_stream *s);
	/* The connection broke or ended (err: OC_E*, or 0 for EOF). Return true when the adapter
	 * takes over (reconnects: oc_stream_detach() then attach again); false to report it. */
	bool (*lost)(struct oc_stream *s, int err);
};

struct oc_stream {
	struct oc_ep *ep;                   /* the endpoint this is the state of */
	const struct oc_stream_hooks *hooks;/* adapter hooks */
	union oc_uvstream io[2];            /* [0]: read (and write) handle; [1]: separate writer */
	uv_stream_t *rd, *wr;               /* attached handles, or NULL */
	int rfd, wfd;                       /* regular files: synchronous I/O, or -1 */
	bool rfd_own, wfd_own;              /* close the fds at close */
	bool attached;                      /* handles or fds are attached (connected) */
	unsigned inited;                    /* io[i] initialised: bit i (must be uv_close()d) */
	unsigned closing;                   /* handles whose close is pending */
	enum oc_shut shut_mode;             /* what shutdown does */
	struct oc_decoder dec;              /* bytes → messages */
	struct oc_encoder enc;              /* messages → bytes */
	/* read side */
	struct oc_chunk *chunk;             /* current read chunk */
	size_t cstart, cend;                /* undecoded bytes: chunk->data[cstart..cend) */
	bool reading;                       /* owner wants messages (not paused) */
	bool rd_eof;                        /* the read side ended */
	struct oc_defer fd_read;            /* next synchronous read of rfd */
	/* write side */
	struct oc_msg **q;                  /* queued messages (ring) */
	size_t qhead, qlen, qcap;           /* ring position, length, capacity */
	struct oc_msg **inflight;           /* messages in the current write */
	size_t ninflight, inflight_cap;     /* count and capacity */
	struct oc_iobatch batch;            /* bytes of the current write */
	uv_write_t wreq;                    /* the current write */
	bool writing;                       /* wreq is in flight */
	bool want_shut, shut_done;          /* shutdown requested / completed */
	uv_shutdown_t sreq;                 /* socket shutdown */
	struct oc_defer flush;              /* deferred flush */
	unsigned shut_closing;              /* bit of the handle closed to signal EOF (pipes) */
	bool closing_all;                   /* oc_stream_close() called */
	void (*detach_done)(struct oc_stream *s); /* after oc_stream_detach(), or NULL */
	bool detaching;                     /* oc_stream_detach() is closing the handles */
	bool local;                         /* stdio or a file: failures are OC_EIO */
	struct oc_tls *tls;                 /* TLS session over the socket, or NULL */
	bool tls_client;                    /* it starts the handshake */
	char *tlsbuf;                       /* ciphertext read buffer */
	size_t tls_unsent;                  /* ciphertext handed to libuv, not yet written */
};

/* Set up s for ep: framing from the endpoint's options (in and out may differ for stdio:
 * pass the encoder's --format), no handles yet. */
void oc_stream_init(struct oc_stream *s, struct oc_ep *ep, const struct oc_stream_hooks *hooks,
		    enum oc_framing in, enum oc_framing out, const struct oc_format *fmt,
		    enum oc_shut shut_mode);
/* Attach initialised handles (rd and wr may be the same, either may be NULL). The stream
 * takes over closing them. */
void oc_stream_attach(struct oc_stream *s, uv_stream_t *rd, uv_stream_t *wr);
/* Attach regular-file descriptors (-1 for none); own: close them at close. */
void oc_stream_attach_fds(struct oc_stream *s, int rfd, int wfd, bool own);
/* Mark io[i] as initialised (so close closes it) — call right after uv_*_init(&s->io[i]). */
static inline void oc_stream_inited(struct oc_stream *s, int i)
{
	s->inited |= 1u << i;
}
/* Run TLS over the socket to attach next (the stream owns t; client: it starts the
 * handshake). A failed handshake is OC_ETLS (exit 7). */
void oc_stream_set_tls(struct oc_stream *s, struct oc_tls *t, bool client);
/* A followed file has more to read (after fd_end). */
void oc_stream_fd_more(struct oc_stream *s);
/* Close the handles but keep queued messages and the endpoint (reconnect). The message being
 * written is queued again (at-least-once). done runs when the handles are closed. */
void oc_stream_detach(struct oc_stream *s, void (*done)(struct oc_stream *s));

/* Adapter vtable entries. */
void oc_stream_write(struct oc_ep *ep, struct oc_msg *m);
void oc_stream_pause(struct oc_ep *ep);
void oc_stream_resume(struct oc_ep *ep);
void oc_stream_shutdown(struct oc_ep *ep);
void oc_stream_close(struct oc_ep *ep);

/* Whether what src reads may reach dst as runs of whole frames (see oc_decoder.batch): both
 * are streams, src decodes the line or nul framing that dst encodes, with no --format. */
bool oc_stream_batchable(struct oc_ep *src, struct oc_ep *dst);
void oc_stream_set_batch(struct oc_ep *src, bool on);

/* The framing an endpoint's stream uses: --framing for it, else line. */
enum oc_framing oc_stream_framing(const struct oc_ep *ep);

#endif
