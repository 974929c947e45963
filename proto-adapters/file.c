/* proto-adapters/file.c — a file as a stream of frames: file:/path.
 *
 * sub reads the file frame by frame (--framing, default line) and ends at its end; with
 * --follow it waits for more like `tail -F`: it notices growth, truncation (reads again from
 * the start) and rotation (finishes the old file, then opens the new one at that path), and
 * waits for a missing file to appear. Waiting uses uv_fs_event on the file's directory, so
 * creation and renames are seen too. pub appends (the file is created, mode 0644).
 * Regular files cannot be polled: reads and writes are synchronous, one chunk per loop turn
 * (core/stream.c). Failures are local I/O errors (exit 12).
 * Roles: sub, pub. Library: libuv (fs events). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adapter.h"
#include "err.h"
#include "log.h"
#include "stream.h"
#include "xalloc.h"

struct file_ep {
	struct oc_stream st;    /* first: the stream base */
	uv_fs_event_t watch;    /* the file's directory (--follow) */
	bool watch_open;        /* watch is initialised and not closed */
	bool waiting;           /* at the end of the file, waiting for more */
	char *base;             /* the file's name within its directory */
	dev_t dev;              /* identity of the open file, to notice rotation */
	ino_t ino;
	bool stream_open;       /* the stream base is not closed */
	bool closing;           /* close requested */
};

static const struct oc_adopt file_opts[] = {
	{ "follow", OC_ARG_FLAG, NULL, "file, fifo, dir: keep reading (tail -F; new writers; new files)",
	  true },
	{ 0 },
};

static void maybe_closed(struct file_ep *f)
{
	if (f->closing && !f->watch_open && !f->stream_open) {
		free(f->base);
		oc_ep_closed(f->st.ep);
	}
}

static void stream_closed(struct oc_stream *st)
{
	struct file_ep *f = (struct file_ep *)st;
	f->stream_open = false;
	maybe_closed(f);
}

static void watch_closed(uv_handle_t *h)
{
	struct file_ep *f = h->data;
	f->watch_open = false;
	maybe_closed(f);
}

/* Open the path for reading; 0, or -errno. */
static int open_for_reading(struct file_ep *f)
{
	int fd = open(f->st.ep->spec->url.path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat sb;
	fstat(fd, &sb);
	f->dev = sb.st_dev;
	f->ino = sb.st_ino;
	oc_stream_attach_fds(&f->st, fd, -1, true);
	return 0;
}

/* At the end of the file (or waiting for it to exist): what changed at the path? */
static void check_path(struct file_ep *f)
{
	struct oc_stream *st = &f->st;
	struct stat sb;
	if (stat(st->ep->spec->url.path, &sb) < 0) {
		f->waiting = true; /* removed or not there yet: wait for it */
		return;
	}
	if (st->rfd < 0 || sb.st_dev != f->dev || sb.st_ino != f->ino) {
		/* Rotated (or created): the old file was read to its end; read the new one. */
		if (st->rfd >= 0) {
			oc_verbose("'%s' was replaced; following the new file", st->ep->name);
			close(st->rfd);
			st->rfd = -1;
		}
		int r = open_for_reading(f);
		f->waiting = r != 0;
		if (!r)
			oc_stream_fd_more(st);
		return;
	}
	off_t pos = lseek(st->rfd, 0, SEEK_CUR);
	if (sb.st_size < pos) {
		oc_notice("'%s' was truncated; reading from the start", st->ep->name);
		lseek(st->rfd, 0, SEEK_SET);
		f->waiting = false;
		oc_stream_fd_more(st);
	} else if (sb.st_size > pos) {
		f->waiting = false;
		oc_stream_fd_more(st);
	} else {
		f->waiting = true;
	}
}

static void on_dir_event(uv_fs_event_t *h, const char *name, int events, int status)
{
	struct file_ep *f = h->data;
	if (f->closing || !f->waiting)
		return;
	if (status == 0 && name && strcmp(name, f->base))
		return; /* another file in the same directory */
	check_path(f);
}

static void at_end(struct oc_stream *st)
{
	check_path((struct file_ep *)st);
}

static const struct oc_stream_hooks follow_hooks = { .closed = stream_closed,
						     .fd_end = at_end };
static const struct oc_stream_hooks plain_hooks = { .closed = stream_closed };

static int start_watch(struct file_ep *f)
{
	char *copy = xstrdup(f->st.ep->spec->url.path);
	f->base = xstrdup(basename(copy));
	free(copy);
	copy = xstrdup(f->st.ep->spec->url.path);
	const char *dir = dirname(copy);
	uv_fs_event_init(uv_default_loop(), &f->watch);
	f->watch.data = f;
	f->watch_open = true;
	int r = uv_fs_event_start(&f->watch, on_dir_event, dir, 0);
	free(copy);
	return r;
}

static int file_open(struct oc_ep *ep)
{
	struct file_ep *f = ep->priv;
	const char *path = ep->spec->url.path;
	bool follow = oc_ep_opt_flag(ep, "follow");
	enum oc_framing fr = oc_stream_framing(ep);
	if (ep->role == OC_ROLE_PUB) {
		int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd < 0) {
			oc_ep_seterr(ep, OC_EIO, "cannot open '%s' for appending: %s", ep->name,
				     strerror(errno));
			return OC_EIO;
		}
		oc_stream_init(&f->st, ep, &plain_hooks, fr, fr, NULL, OC_SHUT_CLOSE);
		f->stream_open = true;
		oc_stream_attach_fds(&f->st, -1, fd, true);
		oc_ep_ready(ep);
		return 0;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && !(follow && errno == ENOENT)) {
		oc_ep_seterr(ep, OC_EIO, "cannot open '%s': %s", ep->name, strerror(errno));
		return OC_EIO;
	}
	if (fd >= 0)
		close(fd);
	oc_stream_init(&f->st, ep, follow ? &follow_hooks : &plain_hooks, fr, fr, NULL,
		       OC_SHUT_FLUSH);
	f->stream_open = true;
	if (follow) {
		int r = start_watch(f);
		if (r) {
			oc_ep_fail(ep, OC_EIO, "cannot watch '%s': %s", ep->name, uv_strerror(r));
			return 0;
		}
	}
	if (open_for_reading(f) && follow)
		f->waiting = true;
	oc_ep_ready(ep);
	return 0;
}

static void file_close(struct oc_ep *ep)
{
	struct file_ep *f = ep->priv;
	f->closing = true;
	if (f->watch_open)
		uv_close((uv_handle_t *)&f->watch, watch_closed);
	if (f->stream_open)
		oc_stream_close(ep);
	else
		maybe_closed(f);
}

const struct oc_adapter oc_adapter_file = {
	.name = "file",
	.flags = OC_AF_PUB | OC_AF_SUB | OC_AF_STREAM | OC_AF_LOCAL,
	.opts = file_opts,
	.priv_size = sizeof(struct file_ep),
	.open = file_open,
	.write = oc_stream_write,
	.pause = oc_stream_pause,
	.resume = oc_stream_resume,
	.shutdown = oc_stream_shutdown,
	.close = file_close,
};
