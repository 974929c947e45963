/* core/fork.h — one pump per accepted connection (socat's "fork").
 *
 * `relay tcp-listen://:P tcp://backend:Q` is a port forwarder: each accepted connection gets
 * its own outbound endpoint and its own pump, both directions, half-close propagated.
 * `server URL --exec CMD` is the same with a child process as the other side. A connection
 * whose pump fails is reported and does not end the run; the listener failing does. */
#ifndef OC_FORK_H
#define OC_FORK_H

#include <stddef.h>

#include "endpoint.h"
#include "run.h"

/* Make the endpoint a new connection c is pumped against (not opened yet), or NULL with a
 * one-line reason in err. */
typedef struct oc_ep *(*oc_fork_make_fn)(void *ud, struct oc_ep *c, char *err, size_t errlen);

/* Open listener lst (taking ownership) and pump every connection it accepts. */
void oc_fork_start(struct oc_run *run, struct oc_ep *lst, oc_fork_make_fn make, void *ud);

#endif
