/* core/handoff.c — work from other threads onto the loop (handoff.h). */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <uv.h>

#include "handoff.h"
#include "xalloc.h"

struct item {
	oc_handoff_fn fn;
	void *arg;
};

struct oc_handoff {
	uv_async_t async;       /* wakes the loop */
	pthread_mutex_t lock;   /* guards q, n, cap, closed */
	struct item *q;         /* posted, not yet run (posting order) */
	size_t n, cap;          /* count and allocation */
	struct item *run;       /* the loop's copy being run (swapped with q: no copying) */
	size_t run_cap;         /* its allocation */
	bool closed;            /* oc_handoff_close() called: posts are ignored */
};

/* Swap the queue out under the lock and run it outside: a callback may post again. */
static void drain(struct oc_handoff *h)
{
	for (;;) {
		pthread_mutex_lock(&h->lock);
		size_t n = h->n;
		struct item *items = h->q;
		size_t cap = h->cap;
		h->q = h->run;
		h->cap = h->run_cap;
		h->n = 0;
		pthread_mutex_unlock(&h->lock);
		h->run = items;
		h->run_cap = cap;
		if (!n)
			return;
		for (size_t i = 0; i < n; i++)
			items[i].fn(items[i].arg);
	}
}

static void async_cb(uv_async_t *a)
{
	drain(a->data);
}

struct oc_handoff *oc_handoff_new(void)
{
	struct oc_handoff *h = xcalloc(1, sizeof(*h));
	pthread_mutex_init(&h->lock, NULL);
	uv_async_init(uv_default_loop(), &h->async, async_cb);
	h->async.data = h;
	return h;
}

void oc_handoff_post(struct oc_handoff *h, oc_handoff_fn fn, void *arg)
{
	pthread_mutex_lock(&h->lock);
	if (h->closed) {
		pthread_mutex_unlock(&h->lock);
		return;
	}
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 64;
		h->q = xrealloc(h->q, h->cap * sizeof(*h->q));
	}
	h->q[h->n++] = (struct item){ fn, arg };
	pthread_mutex_unlock(&h->lock);
	uv_async_send(&h->async); /* coalesced by libuv: one wake-up for a burst */
}

void oc_handoff_drain(struct oc_handoff *h)
{
	drain(h);
}

static void closed_cb(uv_handle_t *handle)
{
	struct oc_handoff *h = handle->data;
	pthread_mutex_destroy(&h->lock);
	free(h->q);
	free(h->run);
	free(h);
}

void oc_handoff_close(struct oc_handoff *h)
{
	drain(h);
	pthread_mutex_lock(&h->lock);
	h->closed = true;
	pthread_mutex_unlock(&h->lock);
	uv_close((uv_handle_t *)&h->async, closed_cb);
}
