/* core/pump.h — moves messages between two endpoints (DESIGN §1, §6).
 *
 * Direction 0 is a→b, direction 1 is b→a. For each direction the pump writes what the source
 * emits into the sink and stops reading the source while the sink is full (oc_ep_full), until
 * the sink drains: memory stays flat whatever the sizes. When a source ends, the sink is shut
 * down (half-close, flush) if the direction propagates EOF; a direction is done when its sink
 * has flushed. The pump ends when every needed direction is done (or on stop, when every
 * active one is), then closes both endpoints and reports its result.
 *
 * Errors lose nothing already accepted: an endpoint that fails stops being written to, and
 * what it delivered before failing is still flushed to the other side. */
#ifndef OC_PUMP_H
#define OC_PUMP_H

#include <stdbool.h>

#include "endpoint.h"
#include "run.h"

#define OC_DIR_AB 1u /* a → b */
#define OC_DIR_BA 2u /* b → a */

struct oc_pump_cfg {
	unsigned active;     /* directions that carry messages */
	unsigned need;       /* the pump ends when these are done (0: only on stop) */
	unsigned propagate;  /* a source's EOF shuts the sink down */
	unsigned counted;    /* messages count toward --count */
	unsigned incomplete; /* EOF before --count is reached is OC_EINCOMPLETE */
	unsigned discard;    /* inactive directions whose source is read all the same, what it
			      * delivers dropped: a protocol's own frames (a WebSocket close, a
			      * ping) are answered only where something reads */
};

struct oc_pump;

/* Called once when the pump has ended and closed both endpoints; result is 0 or an OC_E*
 * with errmsg. The pump is freed after the call. */
typedef void (*oc_pump_done_fn)(struct oc_pump *p, int result, const char *errmsg, void *ud);

/* Create a pump over a and b (it takes ownership of both) as a task of run. done may be NULL:
 * then the pump's result ends the run. */
struct oc_pump *oc_pump_new(struct oc_run *run, struct oc_ep *a, struct oc_ep *b,
			    const struct oc_pump_cfg *pc, oc_pump_done_fn done, void *ud);
/* Open endpoints that are not open yet and start reading the sources. Failure to open is
 * reported through done (or the run), never returned. */
void oc_pump_start(struct oc_pump *p);

#endif
