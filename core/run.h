/* core/run.h — one run of a command: the loop, its limits, signals and the final result.
 *
 * Commands build pumps (and listeners that spawn pumps) as tasks of the run. The run ends
 * when every task has finished; it asks them to finish early on a signal, --timeout, --idle
 * or when --count is reached. The first reason to end decides the exit status (DESIGN §4, §5):
 * count reached → 0, a time limit → 11, an error → its code, a signal N → 128+N. A second
 * signal exits at once. */
#ifndef OC_RUN_H
#define OC_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "defer.h"
#include "options.h"

struct oc_run;

/* Something the run waits for: stop() asks it to finish gracefully (flush, close properly);
 * it calls oc_run_task_done() when it has. */
struct oc_task {
	void (*stop)(struct oc_task *t); /* begin a graceful finish */
	struct oc_task *next, *prev;     /* run's task list */
	bool stopping;                   /* stop() was called */
};

struct oc_run {
	const struct oc_cfg *cfg;     /* run-scope options */
	int result;                   /* first OC_E* that ended the run, or 0 */
	bool decided;                 /* result is final (first reason wins) */
	char errmsg[512];             /* its one-line message, or empty */
	int signum;                   /* signal that ended it, or 0 */
	long counted;                 /* messages counted toward --count */
	bool stopping;                /* the tasks were asked to stop */
	bool closed;                  /* the run's own handles are closed */
	uint64_t last_activity;       /* uv_now() of the last message, for --idle */
	struct oc_task *tasks;        /* running tasks */
	uv_signal_t sig[2];           /* SIGINT, SIGTERM */
	uv_timer_t timeout;           /* -m */
	uv_timer_t idle;              /* --idle */
	uv_timer_t grace;             /* bounds the graceful finish */
	struct oc_defer stop_later;   /* stops tasks outside the caller's stack */
};

void oc_run_init(struct oc_run *r, const struct oc_cfg *cfg);
void oc_run_add(struct oc_run *r, struct oc_task *t, void (*stop)(struct oc_task *t));
void oc_run_task_done(struct oc_run *r, struct oc_task *t);
/* End the run with result (0 for success) and, for errors, a one-line message. The first
 * call decides; the tasks are stopped on the next loop turn. */
void oc_run_end(struct oc_run *r, int result, const char *errmsg);
/* --count: may one more message go out? */
static inline bool oc_run_count_open(const struct oc_run *r)
{
	return !r->cfg->count || r->counted < r->cfg->count;
}
/* --count: one more went out (ends the run when the count is reached). */
void oc_run_counted(struct oc_run *r);
/* A message moved: resets --idle. */
static inline void oc_run_activity(struct oc_run *r)
{
	if (r->cfg->idle > 0)
		r->last_activity = uv_now(uv_default_loop());
}
/* SIGINT belongs to the caller from now on (the REPL's Ctrl-C clears the line being typed);
 * SIGTERM still stops the run. */
void oc_run_own_sigint(struct oc_run *r);
/* fn runs once after the loop has ended (libraries whose teardown finishes outside the loop:
 * libwebsockets on a foreign loop). At most a few. */
void oc_run_at_end(void (*fn)(void));
/* Run the loop until every task is done; print the error line; return the exit status. */
int oc_run_loop(struct oc_run *r);

#endif
