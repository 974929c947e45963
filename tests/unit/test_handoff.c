/* tests/unit/test_handoff.c — core/handoff.c: posts from 4 threads all run on the loop
 * thread, each thread's in posting order, and posts made by a running callback run too. */
#include <pthread.h>
#include <stdint.h>
#include <uv.h>

#include "handoff.h"
#include "unit.h"

#define THREADS 4
#define PER_THREAD 100000

static struct oc_handoff *h;
static uv_thread_t loop_thread;
static long next_seen[THREADS]; /* the next number expected from each thread */
static long ran, out_of_order, wrong_thread, reposted;

static void got(void *arg)
{
	uintptr_t v = (uintptr_t)arg;
	int t = (int)(v >> 32);
	long i = (long)(v & 0xffffffffu);
	uv_thread_t self = uv_thread_self();
	if (!uv_thread_equal(&self, &loop_thread))
		wrong_thread++;
	if (i != next_seen[t])
		out_of_order++;
	next_seen[t] = i + 1;
	if (++ran == (long)THREADS * PER_THREAD)
		oc_handoff_close(h);
}

static void again(void *arg)
{
	reposted++;
}

static void first(void *arg)
{
	oc_handoff_post(h, again, NULL); /* posting from a callback on the loop */
}

static void *poster(void *arg)
{
	uintptr_t t = (uintptr_t)arg;
	for (uintptr_t i = 0; i < PER_THREAD; i++)
		oc_handoff_post(h, got, (void *)(t << 32 | i));
	return NULL;
}

int main(void)
{
	loop_thread = uv_thread_self();
	h = oc_handoff_new();
	oc_handoff_post(h, first, NULL);
	pthread_t th[THREADS];
	for (uintptr_t t = 0; t < THREADS; t++)
		pthread_create(&th[t], NULL, poster, (void *)t);
	uv_run(uv_default_loop(), UV_RUN_DEFAULT); /* ends when the handoff closed */
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	CHECK_EQ_INT(ran, (long)THREADS * PER_THREAD);
	CHECK_EQ_INT(out_of_order, 0);
	CHECK_EQ_INT(wrong_thread, 0);
	CHECK_EQ_INT(reposted, 1);
	uv_loop_close(uv_default_loop());
	UNIT_END("handoff");
}
