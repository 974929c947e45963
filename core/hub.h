/* core/hub.h — many connections seen as one endpoint (a server's peers).
 *
 * A listener whose adapter hands out each connection as its own endpoint (OC_AF_CONNS) is
 * wrapped in a hub for the commands that treat "all peers" as one side: what any peer sends
 * comes out of the hub tagged with its peer name; what is written to the hub goes to every
 * peer (broadcast), or to one peer when the message is addressed to it (OC_MSG_ROUTE, a jsonl
 * line on stdin naming a peer). With echo, each message also goes back to its sender.
 *
 * Backpressure: the hub is full while any peer is full, and while no peer is connected (so
 * stdin waits for the first peer instead of broadcasting to nobody). */
#ifndef OC_HUB_H
#define OC_HUB_H

#include <stdbool.h>

#include "endpoint.h"

/* A hub over listener lst (not yet open; the hub opens and owns it). */
struct oc_ep *oc_hub_new(struct oc_ep *lst, bool echo);

#endif
