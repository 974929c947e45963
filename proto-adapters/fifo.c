/* proto-adapters/fifo.c — a named pipe: fifo:/path, created (mode 0600) if missing.
 *
 * sub reads it, pub writes it (in a relay: A reads, B writes). Opening a FIFO blocks until
 * the other side opens it too, so the open runs on libuv's thread pool and the endpoint is
 * ready when a peer appears. sub ends when the writer closes; with --follow it keeps reading
 * across writers (the FIFO is opened read-write, so it never sees "no writers").
 * Library: libuv. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adapter.h"
#include "err.h"
#include "log.h"
#include "stream.h"

struct fifo_ep {
	struct oc_stream st; /* first: the stream base */
	uv_fs_t open_req;    /* the blocking open, on the thread pool */
	bool opening;        /* open_req in flight */
	bool stream_open;    /* the stream base is not closed */
	bool closing;        /* close requested */
};

static const struct oc_adopt fifo_opts[] = {
	{ "follow", OC_ARG_FLAG, NULL, "file, fifo, dir: keep reading (tail -F; new writers; new files)",
	  true },
	{ 0 },
};

static bool reads(const struct oc_ep *ep)
{
	return ep->role == OC_ROLE_SUB;
}

static void maybe_closed(struct fifo_ep *f)
{
	if (f->closing && !f->opening && !f->stream_open)
		oc_ep_closed(f->st.ep);
}

static void stream_closed(struct oc_stream *st)
{
	struct fifo_ep *f = (struct fifo_ep *)st;
	f->stream_open = false;
	maybe_closed(f);
}

static const struct oc_stream_hooks fifo_hooks = { .closed = stream_closed };

static void opened(uv_fs_t *req)
{
	struct fifo_ep *f = req->data;
	struct oc_ep *ep = f->st.ep;
	int fd = (int)req->result;
	f->opening = false;
	uv_fs_req_cleanup(req);
	if (f->closing) {
		if (fd >= 0)
			close(fd);
		oc_stream_close(ep);
		return;
	}
	if (fd < 0) {
		oc_ep_fail(ep, OC_EIO, "cannot open '%s': %s", ep->name, uv_strerror(fd));
		return;
	}
	uv_pipe_init(uv_default_loop(), &f->st.io[0].pipe, 0);
	oc_stream_inited(&f->st, 0);
	int r = uv_pipe_open(&f->st.io[0].pipe, fd);
	if (r) {
		close(fd);
		oc_ep_fail(ep, OC_EIO, "cannot use '%s': %s", ep->name, uv_strerror(r));
		return;
	}
	if (reads(ep))
		oc_stream_attach(&f->st, &f->st.io[0].s, NULL);
	else
		oc_stream_attach(&f->st, NULL, &f->st.io[0].s);
	oc_verbose("'%s' opened", ep->name);
	oc_ep_ready(ep);
}

static int fifo_open(struct oc_ep *ep)
{
	struct fifo_ep *f = ep->priv;
	const char *path = ep->spec->url.path;
	struct stat sb;
	if (stat(path, &sb) < 0 && errno == ENOENT && mkfifo(path, 0600) < 0 && errno != EEXIST) {
		oc_ep_seterr(ep, OC_EIO, "cannot create '%s': %s", ep->name, strerror(errno));
		return OC_EIO;
	}
	if (stat(path, &sb) < 0 || !S_ISFIFO(sb.st_mode)) {
		oc_ep_seterr(ep, OC_EIO, "'%s' is not a named pipe", ep->name);
		return OC_EIO;
	}
	enum oc_framing fr = oc_stream_framing(ep);
	oc_stream_init(&f->st, ep, &fifo_hooks, fr, fr, NULL, OC_SHUT_CLOSE);
	f->stream_open = true;
	int flags = !reads(ep) ? O_WRONLY : oc_ep_opt_flag(ep, "follow") ? O_RDWR : O_RDONLY;
	f->open_req.data = f;
	f->opening = true;
	oc_verbose("waiting for the other side of '%s'", ep->name);
	int r = uv_fs_open(uv_default_loop(), &f->open_req, path, flags | O_CLOEXEC, 0, opened);
	if (r) {
		f->opening = false;
		oc_ep_fail(ep, OC_EIO, "cannot open '%s': %s", ep->name, uv_strerror(r));
	}
	return 0;
}

static void fifo_close(struct oc_ep *ep)
{
	struct fifo_ep *f = ep->priv;
	f->closing = true;
	if (f->opening) {
		/* A thread-pool open cannot be cancelled once running; opening the FIFO ourselves
		 * (read-write never blocks) completes it, and opened() then finishes the close. */
		int fd = open(ep->spec->url.path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0)
			close(fd);
		return;
	}
	oc_stream_close(ep);
}

const struct oc_adapter oc_adapter_fifo = {
	.name = "fifo",
	.flags = OC_AF_PUB | OC_AF_SUB | OC_AF_STREAM | OC_AF_LOCAL,
	.opts = fifo_opts,
	.priv_size = sizeof(struct fifo_ep),
	.open = fifo_open,
	.write = oc_stream_write,
	.pause = oc_stream_pause,
	.resume = oc_stream_resume,
	.shutdown = oc_stream_shutdown,
	.close = fifo_close,
};
