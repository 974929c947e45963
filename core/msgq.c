/* core/msgq.c — see msgq.h. */
#include "msgq.h"

#include <stdlib.h>

#include "xalloc.h"

static void grow(struct oc_msgq *q)
{
	unsigned cap = q->cap ? q->cap * 2 : 16;
	struct oc_msg **v = xmalloc(cap * sizeof(*v));
	for (unsigned i = 0; i < q->len; i++)
		v[i] = q->v[(q->head + i) % q->cap];
	free(q->v);
	q->v = v;
	q->head = 0;
	q->cap = cap;
}

void oc_msgq_push(struct oc_msgq *q, struct oc_msg *m)
{
	if (q->len == q->cap)
		grow(q);
	q->v[(q->head + q->len++) % q->cap] = m;
}

void oc_msgq_push_front(struct oc_msgq *q, struct oc_msg *m)
{
	if (q->len == q->cap)
		grow(q);
	q->head = (q->head + q->cap - 1) % q->cap;
	q->v[q->head] = m;
	q->len++;
}

struct oc_msg *oc_msgq_pop(struct oc_msgq *q)
{
	if (!q->len)
		return NULL;
	struct oc_msg *m = q->v[q->head];
	q->head = (q->head + 1) % q->cap;
	q->len--;
	return m;
}

void oc_msgq_release(struct oc_msgq *q)
{
	struct oc_msg *m;
	while ((m = oc_msgq_pop(q)))
		oc_msg_unref(m);
	free(q->v);
	q->v = NULL;
	q->cap = 0;
}
