/* core/msgq.h — a growable FIFO of message references (a ring), for adapters that hold
 * messages: written but not yet sent, or arrived while their owner paused them. The queue
 * owns the references it holds; its bound is the owner's business (the core's queue
 * accounting, or a window). */
#ifndef OC_MSGQ_H
#define OC_MSGQ_H

#include "msg.h"

struct oc_msgq {
	struct oc_msg **v;
	unsigned head, len, cap;
};

void oc_msgq_push(struct oc_msgq *q, struct oc_msg *m);
/* At the front: the next to pop (a message to send again first). */
void oc_msgq_push_front(struct oc_msgq *q, struct oc_msg *m);
/* The oldest message, or NULL when empty; the caller gets its reference. */
struct oc_msg *oc_msgq_pop(struct oc_msgq *q);
/* Unreference what is left and free the ring. */
void oc_msgq_release(struct oc_msgq *q);

#endif
