/* core/pump.c — see pump.h. */
#include "pump.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "stream.h"
#include "xalloc.h"

enum dir_state { DIR_OFF, DIR_OPEN, DIR_ENDING, DIR_DONE };

struct dir {
	struct oc_ep *src, *dst; /* endpoints */
	enum dir_state state;    /* off, flowing, waiting for the sink to flush, done */
	bool waiting;            /* source paused until the sink drains */
	unsigned bit;            /* OC_DIR_AB or OC_DIR_BA */
};

struct oc_pump {
	struct oc_task task;     /* first: the run's task list */
	struct oc_run *run;      /* the run */
	struct oc_ep *ep[2];     /* a, b */
	struct dir dir[2];       /* a→b, b→a */
	struct oc_pump_cfg pc;   /* behaviour */
	int result;              /* first error, or 0 */
	char errmsg[512];        /* its message */
	bool starting;           /* oc_pump_start() is opening the endpoints */
	bool ending;             /* closing the endpoints */
	int nclosed;             /* endpoints whose close finished */
	oc_pump_done_fn done;    /* owner's callback, or NULL */
	void *ud;                /* its argument */
};

static void check_end(struct oc_pump *p);

static void set_result(struct oc_pump *p, int err, const char *msg)
{
	if (p->result)
		return;
	p->result = err;
	snprintf(p->errmsg, sizeof(p->errmsg), "%s", msg);
}

/* ---- verbose message log ----------------------------------------------------------------- */

static void log_msg(struct oc_ep *src, const struct oc_msg *m)
{
	static const char *const names[OC_F_COUNT] = { "topic", "key", "method", "path",
						       "query", "id", "content_type", "peer" };
	char meta[512];
	size_t o = 0;
	for (int f = 0; f < OC_F_COUNT && o < sizeof(meta); f++)
		if (m->f[f])
			o += (size_t)snprintf(meta + o, sizeof(meta) - o, " %s=%s", names[f], m->f[f]);
	if ((m->flags & OC_MSG_STATUS) && o < sizeof(meta))
		o += (size_t)snprintf(meta + o, sizeof(meta) - o, " status=%d", m->status);
	if ((m->flags & OC_MSG_QOS) && o < sizeof(meta))
		o += (size_t)snprintf(meta + o, sizeof(meta) - o, " qos=%d", m->qos);
	if (m->nhdrs && o < sizeof(meta))
		snprintf(meta + o, sizeof(meta) - o, " headers=%u", m->nhdrs);
	oc_verbose("'%s': message of %zu bytes%s", src->name, m->len, o ? meta : "");
}

/* ---- events ------------------------------------------------------------------------------ */

static int side_of(struct oc_pump *p, struct oc_ep *ep)
{
	return ep == p->ep[0] ? 0 : 1;
}

static void on_msg(struct oc_ep *ep, struct oc_msg *m)
{
	struct oc_pump *p = ep->owner;
	struct dir *d = &p->dir[side_of(p, ep)];
	bool counted = p->pc.counted & d->bit;
	if (d->state != DIR_OPEN || (counted && !oc_run_count_open(p->run))) {
		oc_msg_unref(m);
		return;
	}
	if (oc_log.verbose)
		log_msg(ep, m);
	oc_run_activity(p->run);
	oc_ep_write(d->dst, m);
	if (!d->waiting && oc_ep_full(d->dst)) {
		d->waiting = true;
		oc_ep_pause(d->src);
	}
	if (counted)
		oc_run_counted(p->run);
}

/* A source is read only once its sink is ready, so no adapter needs a queue for messages
 * written before it connected. */
static void on_ready(struct oc_ep *ep)
{
	struct oc_pump *p = ep->owner;
	if (p->starting)
		return; /* oc_pump_start() resumes once both are open */
	for (int i = 0; i < 2; i++) {
		struct dir *d = &p->dir[i];
		if (d->dst == ep && d->state == DIR_OPEN && !d->waiting)
			oc_ep_resume(d->src);
	}
}

static void on_drain(struct oc_ep *ep)
{
	struct oc_pump *p = ep->owner;
	for (int i = 0; i < 2; i++) {
		struct dir *d = &p->dir[i];
		if (d->dst == ep && d->waiting) {
			d->waiting = false;
			if (d->state == DIR_OPEN && (ep->flags & OC_EPF_READY))
				oc_ep_resume(d->src);
		}
	}
}

/* The source of d has ended (EOF, failure or stop): shut the sink down, or be done. */
static void dir_end(struct oc_pump *p, struct dir *d, bool propagate)
{
	if (d->state != DIR_OPEN)
		return;
	oc_ep_pause(d->src);
	if (propagate && !(d->dst->flags & OC_EPF_FAILED)) {
		d->state = DIR_ENDING;
		if (d->dst->flags & OC_EPF_SHUTDOWN) {
			/* The sink was already shut down for the other direction's sake. */
			return;
		}
		oc_ep_shutdown(d->dst);
	} else {
		d->state = DIR_DONE;
	}
}

static void on_eof(struct oc_ep *ep)
{
	struct oc_pump *p = ep->owner;
	struct dir *d = &p->dir[side_of(p, ep)];
	if (d->state != DIR_OPEN)
		return;
	if ((p->pc.incomplete & d->bit) && !p->task.stopping && oc_run_count_open(p->run) &&
	    p->run->cfg->count) {
		char msg[512];
		snprintf(msg, sizeof(msg), "'%s' ended after %ld of %ld messages", ep->name,
			 p->run->counted, p->run->cfg->count);
		set_result(p, OC_EINCOMPLETE, msg);
	}
	oc_verbose("'%s': end of input", ep->name);
	dir_end(p, d, p->pc.propagate & d->bit);
	check_end(p);
}

static void on_flushed(struct oc_ep *ep)
{
	struct oc_pump *p = ep->owner;
	for (int i = 0; i < 2; i++)
		if (p->dir[i].dst == ep && p->dir[i].state == DIR_ENDING)
			p->dir[i].state = DIR_DONE;
	check_end(p);
}

static void on_error(struct oc_ep *ep)
{
	struct oc_pump *p = ep->owner;
	set_result(p, ep->err, ep->errmsg);
	for (int i = 0; i < 2; i++) {
		struct dir *d = &p->dir[i];
		if (d->dst == ep && d->state != DIR_OFF) {
			/* Nothing more can be written to it. */
			if (d->state == DIR_OPEN)
				oc_ep_pause(d->src);
			d->state = DIR_DONE;
		}
	}
	for (int i = 0; i < 2; i++)
		if (p->dir[i].src == ep)
			dir_end(p, &p->dir[i], true); /* flush what it delivered */
	/* The pump ends on an error even where the failed side was not needed. */
	for (int i = 0; i < 2; i++)
		if (p->dir[i].state == DIR_OPEN)
			dir_end(p, &p->dir[i], true);
	check_end(p);
}

static void on_closed(struct oc_ep *ep)
{
	struct oc_pump *p = ep->owner;
	if (++p->nclosed < 2)
		return;
	struct oc_run *run = p->run;
	/* Report before leaving the run: the last task to leave would decide "success". */
	if (p->done)
		p->done(p, p->result, p->errmsg, p->ud);
	else
		oc_run_end(run, p->result, p->errmsg);
	oc_run_task_done(run, &p->task);
	free(p);
}

static const struct oc_ep_events pump_events = {
	.ready = on_ready,
	.msg = on_msg,
	.drain = on_drain,
	.eof = on_eof,
	.flushed = on_flushed,
	.error = on_error,
	.closed = on_closed,
};

/* ---- ending ------------------------------------------------------------------------------ */

static bool dirs_done(struct oc_pump *p, unsigned which)
{
	for (int i = 0; i < 2; i++)
		if ((which & p->dir[i].bit) && p->dir[i].state != DIR_OFF &&
		    p->dir[i].state != DIR_DONE)
			return false;
	return true;
}

static void check_end(struct oc_pump *p)
{
	if (p->ending)
		return;
	if (p->result) /* a failure (or an early end) finishes the other direction too */
		for (int i = 0; i < 2; i++)
			if (p->dir[i].state == DIR_OPEN)
				dir_end(p, &p->dir[i], true);
	bool stopping = p->task.stopping || p->result;
	bool end = stopping ? dirs_done(p, OC_DIR_AB | OC_DIR_BA)
			    : (p->pc.need && dirs_done(p, p->pc.need));
	if (!end)
		return;
	/* A failure whose event has not been delivered yet still decides the result. */
	for (int i = 0; i < 2; i++)
		if (p->ep[i]->flags & OC_EPF_FAILED)
			set_result(p, p->ep[i]->err, p->ep[i]->errmsg);
	p->ending = true;
	oc_ep_close(p->ep[0]);
	oc_ep_close(p->ep[1]);
}

static void pump_stop(struct oc_task *t)
{
	struct oc_pump *p = (struct oc_pump *)t;
	for (int i = 0; i < 2; i++)
		dir_end(p, &p->dir[i], true);
	check_end(p);
}

/* ---- setup ------------------------------------------------------------------------------- */

/* Between two streams of the same line or nul framing, nothing looks at single messages
 * unless -c counts them or -v logs them: let whole runs of frames through as one message. */
static void try_batch(struct oc_pump *p, struct dir *d)
{
	bool counted = (p->pc.counted & d->bit) && p->run->cfg->count;
	if (!counted && !oc_log.verbose && oc_stream_batchable(d->src, d->dst))
		oc_stream_set_batch(d->src, true);
}

struct oc_pump *oc_pump_new(struct oc_run *run, struct oc_ep *a, struct oc_ep *b,
			    const struct oc_pump_cfg *pc, oc_pump_done_fn done, void *ud)
{
	struct oc_pump *p = xcalloc(1, sizeof(*p));
	p->run = run;
	p->ep[0] = a;
	p->ep[1] = b;
	p->pc = *pc;
	p->done = done;
	p->ud = ud;
	p->dir[0] = (struct dir){ a, b, (pc->active & OC_DIR_AB) ? DIR_OPEN : DIR_OFF, false,
				  OC_DIR_AB };
	p->dir[1] = (struct dir){ b, a, (pc->active & OC_DIR_BA) ? DIR_OPEN : DIR_OFF, false,
				  OC_DIR_BA };
	oc_ep_set_events(a, &pump_events, p);
	oc_ep_set_events(b, &pump_events, p);
	oc_run_add(run, &p->task, pump_stop);
	return p;
}

void oc_pump_start(struct oc_pump *p)
{
	p->starting = true;
	for (int i = 0; i < 2; i++) {
		struct oc_ep *ep = p->ep[i];
		if (ep->flags & OC_EPF_OPENED)
			continue;
		int r = oc_ep_open(ep);
		if (r) {
			p->starting = false;
			set_result(p, r, ep->errmsg);
			p->dir[0].state = p->dir[1].state = DIR_DONE;
			check_end(p);
			return;
		}
	}
	p->starting = false;
	for (int i = 0; i < 2; i++)
		if (p->dir[i].state == DIR_OPEN)
			try_batch(p, &p->dir[i]);
	/* Endpoints start paused; only sources of active directions are read, once their sink
	 * is ready (on_ready does it for sinks that become ready later). */
	for (int i = 0; i < 2; i++)
		if ((p->dir[i].state == DIR_OPEN && (p->dir[i].dst->flags & OC_EPF_READY)) ||
		    (p->dir[i].state == DIR_OFF && (p->pc.discard & p->dir[i].bit)))
			oc_ep_resume(p->dir[i].src);
}
