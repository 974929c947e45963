/* core/collect.h — send one message through an endpoint and gather what comes back.
 *
 * A request/response server's --exec runs one child per request: the request body goes to
 * the child's stdin, its stdout (all of it, up to a bound) is the reply. That is an exec
 * endpoint opened for the request (its metadata reaches the child as OMNICAT_* variables),
 * written once, shut down, and read to its end — generic over endpoints, so CoAP and MQTT
 * servers reuse it. */
#ifndef OC_COLLECT_H
#define OC_COLLECT_H

#include <stddef.h>

#include "endpoint.h"

/* result 0 with the output (a malloc'd buffer the callee owns, len bytes), or an OC_E* with
 * errmsg (the endpoint failed, e.g. the child exited non-zero). */
typedef void (*oc_collect_fn)(void *ud, int result, char *out, size_t len, const char *errmsg);

struct oc_collect;

/* Open ep (not yet open; ownership passes), write input (a reference is taken), collect at
 * most max bytes. Returns a handle to cancel with, or NULL when ep could not be opened (cb is
 * then called at once with the error). */
struct oc_collect *oc_collect_start(struct oc_ep *ep, struct oc_msg *input, size_t max,
				    oc_collect_fn cb, void *ud);
/* A request server's --exec/--exec-shell child for input: an exec endpoint with the run's
 * options (raw framing, none of the server's adapter options), input's metadata as its
 * OMNICAT_* variables, collected as above. NULL with err set when the command line is bad. */
struct oc_collect *oc_collect_exec(const struct oc_cfg *cfg, struct oc_msg *input, size_t max,
				   oc_collect_fn cb, void *ud, char *err, size_t errlen);
/* Stop early: cb is not called; the endpoint is closed. */
void oc_collect_cancel(struct oc_collect *c);

#endif
