/* core/fork.c — see fork.h. */
#include "fork.h"

#include <stdlib.h>

#include "err.h"
#include "log.h"
#include "pump.h"
#include "xalloc.h"

struct fork {
	struct oc_task task;   /* first: the run's task list */
	struct oc_run *run;    /* the run */
	struct oc_ep *lst;     /* the listener */
	oc_fork_make_fn make;  /* makes the other side of each connection */
	void *ud;              /* its argument */
};

static void child_done(struct oc_pump *p, int result, const char *errmsg, void *ud)
{
	/* One connection's trouble is not the run's: say it and go on serving. */
	if (result && result != OC_ECLOSED_OUT)
		oc_notice("%s", errmsg);
}

static void lst_accept(struct oc_ep *lst, struct oc_ep *c)
{
	struct fork *f = lst->owner;
	char err[512];
	oc_verbose("connection from '%s'", c->name);
	struct oc_ep *b = f->make(f->ud, c, err, sizeof(err));
	if (!b) {
		oc_notice("%s", err);
		oc_ep_close(c);
		return;
	}
	/* What b is opened for: an exec child learns its peer as OMNICAT_PEER. */
	b->ctx = oc_msg_new();
	oc_msg_set_str(b->ctx, OC_F_PEER, c->peer);
	const struct oc_pump_cfg pc = {
		.active = OC_DIR_AB | OC_DIR_BA,
		.need = OC_DIR_AB | OC_DIR_BA,
		.propagate = OC_DIR_AB | OC_DIR_BA,
		.counted = OC_DIR_AB,
	};
	oc_pump_start(oc_pump_new(f->run, c, b, &pc, child_done, f));
}

static void lst_error(struct oc_ep *lst)
{
	struct fork *f = lst->owner;
	oc_run_end(f->run, lst->err, lst->errmsg);
}

static void lst_closed(struct oc_ep *lst)
{
	struct fork *f = lst->owner;
	oc_run_task_done(f->run, &f->task);
	free(f);
}

static const struct oc_ep_events lst_events = {
	.accept = lst_accept,
	.error = lst_error,
	.closed = lst_closed,
};

static void fork_stop(struct oc_task *t)
{
	oc_ep_close(((struct fork *)t)->lst);
}

void oc_fork_start(struct oc_run *run, struct oc_ep *lst, oc_fork_make_fn make, void *ud)
{
	struct fork *f = xcalloc(1, sizeof(*f));
	f->run = run;
	f->lst = lst;
	f->make = make;
	f->ud = ud;
	oc_ep_set_events(lst, &lst_events, f);
	oc_run_add(run, &f->task, fork_stop);
	int r = oc_ep_open(lst);
	if (r) {
		oc_run_end(run, r, lst->errmsg);
		oc_ep_close(lst);
	}
}
