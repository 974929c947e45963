/* core/defer.h — run a function later in this or the next loop iteration, once.
 *
 * Used to batch: an endpoint written to many times while handling one read queues its
 * messages and defers one flush, so a read that yields a thousand messages costs one writev.
 * Backed by a single uv_idle handle, which also keeps the poll phase from blocking while work
 * is pending. A node may be scheduled again while pending (no-op) and cancelled. */
#ifndef OC_DEFER_H
#define OC_DEFER_H

#include <stdbool.h>

struct oc_defer {
	void (*fn)(struct oc_defer *d); /* what to run */
	struct oc_defer *next;          /* list link */
	bool pending;                   /* scheduled and not yet run */
};

void oc_defer_init(struct oc_defer *d, void (*fn)(struct oc_defer *d));
void oc_defer_schedule(struct oc_defer *d);
void oc_defer_cancel(struct oc_defer *d);

#endif
