/* core/defer.c — see defer.h.
 *
 * The idle handle is only active while work is pending; an inactive handle does not keep the
 * loop alive, so it is never closed (it lives in static storage for the whole process). */
#include "defer.h"

#include <stddef.h>
#include <uv.h>

static uv_idle_t idle;
static bool idle_inited;
static struct oc_defer *head, **tail = &head; /* scheduled for the next turn */
static struct oc_defer *running;              /* this turn's, not yet run */

static void run_pending(uv_idle_t *h)
{
	/* Take the list as it is now: work scheduled while running goes to the next turn, so a
	 * node that reschedules itself cannot starve the loop. The rest of this turn's list
	 * stays visible to oc_defer_cancel(): a callback may free another node's owner. */
	running = head;
	head = NULL;
	tail = &head;
	while (running) {
		struct oc_defer *d = running;
		running = d->next;
		d->next = NULL;
		d->pending = false;
		d->fn(d);
	}
	if (!head)
		uv_idle_stop(h);
}

static bool unlink_from(struct oc_defer **list, struct oc_defer *d)
{
	for (struct oc_defer **p = list; *p; p = &(*p)->next) {
		if (*p == d) {
			*p = d->next;
			return true;
		}
	}
	return false;
}

void oc_defer_init(struct oc_defer *d, void (*fn)(struct oc_defer *d))
{
	d->fn = fn;
	d->next = NULL;
	d->pending = false;
}

void oc_defer_schedule(struct oc_defer *d)
{
	if (d->pending)
		return;
	if (!idle_inited) {
		uv_idle_init(uv_default_loop(), &idle);
		idle_inited = true;
	}
	d->pending = true;
	d->next = NULL;
	*tail = d;
	tail = &d->next;
	uv_idle_start(&idle, run_pending);
}

void oc_defer_cancel(struct oc_defer *d)
{
	if (!d->pending)
		return;
	if (!unlink_from(&running, d)) {
		unlink_from(&head, d);
		/* Re-find the tail: the removed node may have been last. */
		tail = &head;
		while (*tail)
			tail = &(*tail)->next;
	}
	d->pending = false;
	d->next = NULL;
}
