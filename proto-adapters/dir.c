/* proto-adapters/dir.c — a spool directory as a queue: dir:/path, one file per message.
 *
 * pub writes each message to a hidden temporary file and renames it into place, so readers
 * never see half a message; names are the arrival time in nanoseconds, the writer's pid and a
 * sequence number, fixed-width, so they sort in arrival order.
 * sub consumes files in name order: it claims a file by renaming it to ".claim-PID-NAME"
 * (rename is atomic, so two consumers never take the same file), emits its bytes as one
 * message (id = the file name), and removes it only once the message was written downstream
 * (or moves it into --keep DIR); a message that was not delivered is renamed back, so nothing
 * is lost. Claims left by a consumer that died are given back at start. Without --follow sub
 * ends when the directory is empty; with it, it waits for new files with uv_fs_event.
 * The spool directory is created if missing; a --keep directory must exist.
 * Roles: sub, pub. Library: libuv (fs events). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "adapter.h"
#include "data.h"
#include "defer.h"
#include "err.h"
#include "log.h"
#include "xalloc.h"

#define CLAIM_PREFIX ".claim-"
#define FILES_PER_TURN 64

struct dir_ep {
	struct oc_ep *ep;          /* this endpoint */
	struct dirent **names;     /* current listing (scandir), or NULL */
	int nnames, next;          /* its length and the next entry to take */
	bool reading;              /* not paused */
	bool eof;                  /* EOF sent */
	struct oc_defer step;      /* takes the next files */
	uv_fs_event_t watch;       /* --follow */
	bool watch_open;           /* watch initialised and not closed */
	bool closing;              /* close requested */
	unsigned seq;              /* pub: file sequence number */
};

/* What happens to a claimed file when its message is released. */
struct claim {
	char *claimed;  /* dir/.claim-PID-NAME */
	char *original; /* dir/NAME: where it goes back if undelivered */
	char *kept;     /* --keep DIR/NAME, or NULL: removed when delivered */
};

static const struct oc_adopt dir_opts[] = {
	{ "follow", OC_ARG_FLAG, NULL, "file, fifo, dir: keep reading (tail -F; new writers; new files)",
	  true },
	{ "keep", OC_ARG_STR, "DIR", "dir: move consumed files into DIR instead of removing them",
	  true },
	{ 0 },
};

static const char *dir_path(const struct dir_ep *d)
{
	return d->ep->spec->url.path;
}

/* ---- pub ----------------------------------------------------------------------------------- */

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void dir_write(struct oc_ep *ep, struct oc_msg *m)
{
	struct dir_ep *d = ep->priv;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	char name[96], tmp[4200], final[4200];
	snprintf(name, sizeof(name), "%020llu-%010d-%010u",
		 (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec,
		 (int)getpid(), d->seq++);
	snprintf(tmp, sizeof(tmp), "%s/.tmp-%s", dir_path(d), name);
	snprintf(final, sizeof(final), "%s/%s", dir_path(d), name);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	int r = fd < 0 ? -errno : write_all(fd, m->data, m->len);
	if (fd >= 0 && close(fd) < 0 && !r)
		r = -errno;
	if (!r && rename(tmp, final) < 0)
		r = -errno;
	if (r) {
		unlink(tmp);
		oc_ep_dropped(ep, m);
		oc_ep_fail(ep, OC_EIO, "cannot write into '%s': %s", ep->name, strerror(-r));
		return;
	}
	oc_ep_sent(ep, m);
}

/* ---- sub ----------------------------------------------------------------------------------- */

static void claim_done(struct oc_msg *m, void *arg)
{
	struct claim *c = arg;
	if (!(m->flags & OC_MSG_DELIVERED)) {
		rename(c->claimed, c->original); /* not written anywhere: give it back */
	} else if (c->kept && rename(c->claimed, c->kept) < 0) {
		/* Delivered, so it must not come back; say why it is not kept. */
		oc_notice("cannot keep '%s': %s; removed it", c->kept, strerror(errno));
		unlink(c->claimed);
	} else if (!c->kept) {
		unlink(c->claimed);
	}
	free(c->claimed);
	free(c->original);
	free(c->kept);
	free(c);
}

static int visible(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

static void free_listing(struct dir_ep *d)
{
	for (int i = 0; i < d->nnames; i++)
		free(d->names[i]);
	free(d->names);
	d->names = NULL;
	d->nnames = d->next = 0;
}

static bool rescan(struct dir_ep *d)
{
	free_listing(d);
	int n = scandir(dir_path(d), &d->names, visible, alphasort);
	if (n < 0) {
		d->names = NULL;
		oc_ep_fail(d->ep, OC_EIO, "cannot read '%s': %s", d->ep->name, strerror(errno));
		return false;
	}
	d->nnames = n;
	return true;
}

/* Claim and emit one file. Returns false when it was gone (another consumer took it). */
static bool take(struct dir_ep *d, const char *name)
{
	char claimed[4200], original[4200];
	snprintf(original, sizeof(original), "%s/%s", dir_path(d), name);
	snprintf(claimed, sizeof(claimed), "%s/" CLAIM_PREFIX "%d-%s", dir_path(d), (int)getpid(),
		 name);
	if (rename(original, claimed) < 0)
		return false;
	char *buf;
	size_t len;
	int r = oc_read_file(claimed, &buf, &len);
	if (r) {
		rename(claimed, original);
		oc_ep_fail(d->ep, OC_EIO, "cannot read '%s': %s", original, strerror(-r));
		return false;
	}
	struct claim *c = xcalloc(1, sizeof(*c));
	c->claimed = xstrdup(claimed);
	c->original = xstrdup(original);
	const char *keep = oc_ep_opt(d->ep, "keep");
	if (keep)
		c->kept = xasprintf("%s/%s", keep, name);
	struct oc_msg *m = oc_msg_new();
	oc_msg_take_payload(m, buf, len);
	oc_msg_set_str(m, OC_F_ID, name);
	m->on_done = claim_done;
	m->done_arg = c;
	oc_ep_emit(d->ep, m);
	return true;
}

static void step_cb(struct oc_defer *df)
{
	struct dir_ep *d = (struct dir_ep *)((char *)df - offsetof(struct dir_ep, step));
	for (int taken = 0; taken < FILES_PER_TURN && d->reading && !d->closing;) {
		if (d->next >= d->nnames) {
			if (!rescan(d))
				return;
			if (d->nnames == 0) {
				if (!oc_ep_opt_flag(d->ep, "follow") && !d->eof) {
					d->eof = true;
					oc_ep_eof(d->ep);
				}
				return; /* --follow: the watcher wakes us */
			}
		}
		if (take(d, d->names[d->next++]->d_name))
			taken++;
		if (d->ep->flags & OC_EPF_FAILED)
			return;
	}
	if (d->reading && !d->closing)
		oc_defer_schedule(&d->step);
}

static void on_dir_event(uv_fs_event_t *h, const char *name, int events, int status)
{
	struct dir_ep *d = h->data;
	if (name && name[0] == '.')
		return; /* our own temporary and claim files */
	if (d->reading && !d->closing)
		oc_defer_schedule(&d->step);
}

/* Give back claims left by consumers that are no longer running. */
static void recover_claims(struct dir_ep *d)
{
	DIR *dh = opendir(dir_path(d));
	if (!dh)
		return;
	struct dirent *e;
	while ((e = readdir(dh))) {
		if (strncmp(e->d_name, CLAIM_PREFIX, strlen(CLAIM_PREFIX)))
			continue;
		char *end;
		long pid = strtol(e->d_name + strlen(CLAIM_PREFIX), &end, 10);
		if (*end != '-' || pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		char from[4200], to[4200];
		snprintf(from, sizeof(from), "%s/%s", dir_path(d), e->d_name);
		snprintf(to, sizeof(to), "%s/%s", dir_path(d), end + 1);
		if (rename(from, to) == 0)
			oc_verbose("gave back '%s' (its consumer, pid %ld, is gone)", to, pid);
	}
	closedir(dh);
}

static int dir_open(struct oc_ep *ep)
{
	struct dir_ep *d = ep->priv;
	d->ep = ep;
	oc_defer_init(&d->step, step_cb);
	const char *keep = oc_ep_opt(ep, "keep");
	if (mkdir(ep->spec->url.path, 0755) < 0 && errno != EEXIST) {
		oc_ep_seterr(ep, OC_EIO, "cannot create directory '%s': %s", ep->name,
			     strerror(errno));
		return OC_EIO;
	}
	DIR *dh = opendir(ep->spec->url.path);
	if (!dh || (keep && access(keep, W_OK) < 0)) {
		oc_ep_seterr(ep, OC_EIO, "cannot use directory '%s': %s", dh ? keep : ep->name,
			     strerror(errno));
		if (dh)
			closedir(dh);
		return OC_EIO;
	}
	closedir(dh);
	if (ep->role == OC_ROLE_SUB) {
		recover_claims(d);
		if (oc_ep_opt_flag(ep, "follow")) {
			uv_fs_event_init(uv_default_loop(), &d->watch);
			d->watch.data = d;
			d->watch_open = true;
			int r = uv_fs_event_start(&d->watch, on_dir_event, ep->spec->url.path, 0);
			if (r)
				oc_ep_fail(ep, OC_EIO, "cannot watch '%s': %s", ep->name,
					   uv_strerror(r));
		}
	}
	oc_ep_ready(ep);
	return 0;
}

static void dir_pause(struct oc_ep *ep)
{
	struct dir_ep *d = ep->priv;
	d->reading = false;
	oc_defer_cancel(&d->step);
}

static void dir_resume(struct oc_ep *ep)
{
	struct dir_ep *d = ep->priv;
	d->reading = true;
	oc_defer_schedule(&d->step);
}

static void watch_closed(uv_handle_t *h)
{
	struct dir_ep *d = h->data;
	oc_ep_closed(d->ep);
}

static void dir_close(struct oc_ep *ep)
{
	struct dir_ep *d = ep->priv;
	d->closing = true;
	oc_defer_cancel(&d->step);
	free_listing(d);
	if (d->watch_open)
		uv_close((uv_handle_t *)&d->watch, watch_closed);
	else
		oc_ep_closed(ep);
}

const struct oc_adapter oc_adapter_dir = {
	.name = "dir",
	.flags = OC_AF_PUB | OC_AF_SUB | OC_AF_LOCAL,
	.opts = dir_opts,
	.priv_size = sizeof(struct dir_ep),
	.open = dir_open,
	.write = dir_write,
	.pause = dir_pause,
	.resume = dir_resume,
	.close = dir_close,
};
