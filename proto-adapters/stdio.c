/* proto-adapters/stdio.c — standard input and output as one endpoint: "-" or "stdio:".
 *
 * Reads stdin, writes stdout (or -o FILE). Framing: --jsonl (the envelope), else --framing
 * (default line); --format replaces the output framing. Pipes, sockets and terminals go
 * through libuv handles; regular files and character devices (a redirect, /dev/null) cannot
 * be polled and use synchronous I/O. stdin is touched only once something reads it, so `sub`
 * and `-d` leave it alone. A closed stdout (EPIPE) ends the run quietly (DESIGN §6).
 *
 * With -d DATA, reading gives that one message and then EOF; stdin is not read. For a single
 * request (a request/response client without -d or --each) it gives one empty message.
 * Roles: client, pub, sub. Library: libuv. Options: none of its own. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapter.h"
#include "data.h"
#include "err.h"
#include "format.h"
#include "stream.h"

struct stdio_ep {
	struct oc_stream st;    /* first: the stream base */
	struct oc_format *fmt;  /* compiled --format, or NULL */
	bool rd_attached;       /* stdin is set up */
	char *data;             /* -d: the one message to read instead of stdin */
	size_t data_len;        /* its length */
	bool data_sent;         /* it went out */
	struct oc_defer data_later; /* emits it outside the caller's stack */
};

static int compile_format(struct oc_ep *ep, struct oc_format **fmt)
{
	char err[200];
	*fmt = NULL;
	if (ep->cfg->format && oc_format_compile(ep->cfg->format, fmt, err, sizeof(err))) {
		oc_ep_seterr(ep, OC_EUSAGE, "invalid --format: %s", err);
		return OC_EUSAGE;
	}
	return 0;
}

/* Reject a bad --format before anything opens. */
static int stdio_check(struct oc_ep *ep)
{
	struct oc_format *fmt;
	int r = compile_format(ep, &fmt);
	oc_format_free(fmt);
	return r;
}

static void stdio_closed(struct oc_stream *st)
{
	struct stdio_ep *s = (struct stdio_ep *)st;
	oc_format_free(s->fmt);
	s->fmt = NULL;
	free(s->data);
	s->data = NULL;
	oc_ep_closed(st->ep);
}

static void data_emit(struct oc_defer *d)
{
	struct stdio_ep *s = (struct stdio_ep *)((char *)d - offsetof(struct stdio_ep, data_later));
	if (s->data_sent || !s->st.reading)
		return;
	s->data_sent = true;
	struct oc_msg *m = oc_msg_new();
	if (s->data)
		oc_msg_take_payload(m, s->data, s->data_len);
	s->data = NULL;
	oc_ep_emit(s->st.ep, m);
	oc_ep_eof(s->st.ep);
}

static const struct oc_stream_hooks stdio_hooks = { .closed = stdio_closed };

/* Set up fd as handle io[i] of the stream, or leave it for synchronous I/O. Returns true when
 * fd is a regular file or device (no handle). */
static bool open_handle(struct oc_stream *st, int i, int fd, bool readable)
{
	uv_loop_t *loop = uv_default_loop();
	switch (uv_guess_handle(fd)) {
	case UV_TTY:
		if (uv_tty_init(loop, &st->io[i].tty, fd, readable) == 0) {
			oc_stream_inited(st, i);
			return false;
		}
		return true;
	case UV_NAMED_PIPE:
		uv_pipe_init(loop, &st->io[i].pipe, 0);
		oc_stream_inited(st, i);
		if (uv_pipe_open(&st->io[i].pipe, fd) == 0)
			return false;
		return true;
	case UV_TCP:
		uv_tcp_init(loop, &st->io[i].tcp);
		oc_stream_inited(st, i);
		if (uv_tcp_open(&st->io[i].tcp, fd) == 0)
			return false;
		return true;
	default:
		return true;
	}
}

static int stdio_open(struct oc_ep *ep)
{
	struct stdio_ep *s = ep->priv;
	enum oc_framing fr = oc_stream_framing(ep);
	enum oc_framing in = ep->cfg->jsonl ? OC_FRAMING_JSONL : fr;
	char err[300];
	int r = compile_format(ep, &s->fmt);
	if (!r && ep->cfg->data &&
	    (r = oc_data_load(ep->cfg->data, &s->data, &s->data_len, err, sizeof(err))) != 0)
		oc_ep_seterr(ep, r, "%s", err);
	if (r) {
		oc_format_free(s->fmt);
		return r;
	}
	oc_defer_init(&s->data_later, data_emit);
	oc_stream_init(&s->st, ep, &stdio_hooks, in, in, s->fmt, OC_SHUT_FLUSH);
	if (ep->cfg->output) {
		int fd = open(ep->cfg->output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		if (fd < 0) {
			oc_format_free(s->fmt);
			free(s->data);
			oc_ep_seterr(ep, OC_EIO, "cannot open '%s' for writing: %s", ep->cfg->output,
				     strerror(errno));
			return OC_EIO;
		}
		oc_stream_attach_fds(&s->st, -1, fd, true);
	} else if (open_handle(&s->st, 1, STDOUT_FILENO, false)) {
		oc_stream_attach_fds(&s->st, -1, STDOUT_FILENO, false);
	} else {
		oc_stream_attach(&s->st, NULL, &s->st.io[1].s);
	}
	oc_ep_ready(ep);
	return 0;
}

static void stdio_resume(struct oc_ep *ep)
{
	struct stdio_ep *s = ep->priv;
	if (ep->cfg->data || ep->cfg->one_request) {
		s->st.reading = true;
		oc_defer_schedule(&s->data_later);
		return;
	}
	if (!s->rd_attached) {
		s->rd_attached = true;
		uv_stream_t *wr = s->st.wr;
		int wfd = s->st.wfd;
		bool own = s->st.wfd_own;
		if (open_handle(&s->st, 0, STDIN_FILENO, true)) {
			s->st.rfd = STDIN_FILENO;
		} else {
			s->st.rd = &s->st.io[0].s;
			s->st.rd->data = &s->st;
		}
		s->st.wr = wr;
		s->st.wfd = wfd;
		s->st.wfd_own = own;
	}
	oc_stream_resume(ep);
}

static void stdio_close(struct oc_ep *ep)
{
	struct stdio_ep *s = ep->priv;
	oc_defer_cancel(&s->data_later);
	oc_stream_close(ep);
}

const struct oc_adapter oc_adapter_stdio = {
	.name = "stdio",
	.flags = OC_AF_CLIENT | OC_AF_PUB | OC_AF_SUB | OC_AF_STREAM | OC_AF_LOCAL,
	.priv_size = sizeof(struct stdio_ep),
	.check = stdio_check,
	.open = stdio_open,
	.write = oc_stream_write,
	.pause = oc_stream_pause,
	.resume = stdio_resume,
	.shutdown = oc_stream_shutdown,
	.close = stdio_close,
};
