/* core/run.c — see run.h. */
#include "run.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "msg.h"

/* How long a graceful finish may take before the run exits anyway. */
#define GRACE_MS 5000

static void stop_tasks(struct oc_defer *d)
{
	struct oc_run *r = (struct oc_run *)((char *)d - offsetof(struct oc_run, stop_later));
	/* stop() may finish and unlink a task at once: walk with the next pointer saved. */
	for (struct oc_task *t = r->tasks, *n; t; t = n) {
		n = t->next;
		if (!t->stopping) {
			t->stopping = true;
			t->stop(t);
		}
	}
}

static void grace_cb(uv_timer_t *t)
{
	/* Something would not finish (a peer that never drains): give up waiting. */
	uv_stop(t->loop);
}

static void close_handles(struct oc_run *r)
{
	if (r->closed)
		return;
	r->closed = true;
	uv_close((uv_handle_t *)&r->sig[0], NULL);
	uv_close((uv_handle_t *)&r->sig[1], NULL);
	uv_close((uv_handle_t *)&r->timeout, NULL);
	uv_close((uv_handle_t *)&r->idle, NULL);
	oc_defer_cancel(&r->stop_later);
	/* The grace timer stays: unreferenced, it never keeps the loop alive, but it ends a loop
	 * that something else (a stuck resolver request) would keep going. */
	if (!uv_is_active((uv_handle_t *)&r->grace))
		uv_timer_start(&r->grace, grace_cb, GRACE_MS, 0);
}

static void begin_stop(struct oc_run *r)
{
	if (r->stopping)
		return;
	r->stopping = true;
	uv_timer_stop(&r->timeout);
	uv_timer_stop(&r->idle);
	uv_timer_start(&r->grace, grace_cb, GRACE_MS, 0);
	oc_defer_schedule(&r->stop_later);
}

void oc_run_end(struct oc_run *r, int result, const char *errmsg)
{
	if (!r->decided) {
		r->decided = true;
		r->result = result;
		snprintf(r->errmsg, sizeof(r->errmsg), "%s", errmsg ? errmsg : "");
	}
	begin_stop(r);
}

void oc_run_counted(struct oc_run *r)
{
	r->counted++;
	if (r->cfg->count && r->counted >= r->cfg->count)
		oc_run_end(r, OC_OK, NULL);
}

static void signal_cb(uv_signal_t *h, int signum)
{
	struct oc_run *r = h->data;
	if (r->signum || r->stopping) {
		/* A second SIGINT (Ctrl-C again), or one while already finishing: exit at once.
		 * A repeated SIGTERM is no such request: timeout(1) sends it to the command and
		 * then to its process group, so one kill arrives twice; the grace timer bounds
		 * the finish either way. */
		if (signum != SIGTERM)
			_exit(128 + signum);
		if (!r->signum)
			r->signum = signum;
		return;
	}
	r->signum = signum;
	oc_run_end(r, OC_OK, NULL);
}

static void timeout_cb(uv_timer_t *t)
{
	struct oc_run *r = t->data;
	char msg[128];
	snprintf(msg, sizeof(msg), "timed out after %gs (--timeout)", r->cfg->timeout);
	oc_run_end(r, OC_ETIMEOUT, msg);
}

static void idle_cb(uv_timer_t *t)
{
	struct oc_run *r = t->data;
	uint64_t now = uv_now(t->loop), limit = (uint64_t)(r->cfg->idle * 1000);
	if (now - r->last_activity >= limit) {
		char msg[128];
		snprintf(msg, sizeof(msg), "no message for %gs (--idle)", r->cfg->idle);
		oc_run_end(r, OC_ETIMEOUT, msg);
		return;
	}
	uv_timer_start(&r->idle, idle_cb, limit - (now - r->last_activity), 0);
}

void oc_run_init(struct oc_run *r, const struct oc_cfg *cfg)
{
	uv_loop_t *loop = uv_default_loop();
	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	signal(SIGPIPE, SIG_IGN); /* a closed pipe is an EPIPE result, handled where it happens */
	int signums[2] = { SIGINT, SIGTERM };
	for (int i = 0; i < 2; i++) {
		uv_signal_init(loop, &r->sig[i]);
		r->sig[i].data = r;
		uv_signal_start(&r->sig[i], signal_cb, signums[i]);
		uv_unref((uv_handle_t *)&r->sig[i]); /* signals alone do not keep the run alive */
	}
	uv_timer_init(loop, &r->timeout);
	uv_timer_init(loop, &r->idle);
	uv_timer_init(loop, &r->grace);
	r->timeout.data = r->idle.data = r->grace.data = r;
	uv_unref((uv_handle_t *)&r->grace);
	oc_defer_init(&r->stop_later, stop_tasks);
	r->last_activity = uv_now(loop);
	if (cfg->timeout > 0)
		uv_timer_start(&r->timeout, timeout_cb, (uint64_t)(cfg->timeout * 1000), 0);
	if (cfg->idle > 0)
		uv_timer_start(&r->idle, idle_cb, (uint64_t)(cfg->idle * 1000), 0);
}

void oc_run_own_sigint(struct oc_run *r)
{
	uv_signal_stop(&r->sig[0]);
}

void oc_run_add(struct oc_run *r, struct oc_task *t, void (*stop)(struct oc_task *t))
{
	t->stop = stop;
	t->stopping = false;
	t->prev = NULL;
	t->next = r->tasks;
	if (r->tasks)
		r->tasks->prev = t;
	r->tasks = t;
	if (r->stopping) {
		/* Added while finishing (a connection accepted just now): stop it too. */
		oc_defer_schedule(&r->stop_later);
	}
}

void oc_run_task_done(struct oc_run *r, struct oc_task *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		r->tasks = t->next;
	if (t->next)
		t->next->prev = t->prev;
	t->next = t->prev = NULL;
	if (!r->tasks) {
		if (!r->decided) {
			r->decided = true;
			r->result = OC_OK;
		}
		close_handles(r);
	}
}

static void (*at_end[4])(void);
static unsigned n_at_end;

void oc_run_at_end(void (*fn)(void))
{
	for (unsigned i = 0; i < n_at_end; i++)
		if (at_end[i] == fn)
			return;
	if (n_at_end < sizeof(at_end) / sizeof(at_end[0]))
		at_end[n_at_end++] = fn;
}

int oc_run_loop(struct oc_run *r)
{
	if (!r->tasks)
		close_handles(r);
	uv_run(uv_default_loop(), UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&r->grace, NULL);
	uv_run(uv_default_loop(), UV_RUN_NOWAIT);
	for (unsigned i = 0; i < n_at_end; i++)
		at_end[i]();
	oc_msg_cache_release();
	if (r->result && r->result != OC_ECLOSED_OUT && r->errmsg[0])
		oc_error("%s", r->errmsg);
	if (r->signum)
		return 128 + r->signum;
	return oc_exit_code(r->result);
}
