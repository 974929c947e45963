/* core/handoff.h — hand work from a library's own threads to the libuv loop.
 *
 * Some libraries run their own threads and call back on them (paho's MQTTAsync has no
 * external-loop API). Their callbacks do nothing but post here; the function runs later on
 * the loop thread, where all other omnicat code runs. Posts from any thread are queued in
 * order under a mutex and one uv_async wakes the loop, which runs everything queued in one
 * go: a burst of a thousand callbacks costs one wake-up and no allocation per post.
 *
 * Typical use:
 *   h = oc_handoff_new();                         loop thread, at open
 *   oc_handoff_post(h, arrived, m);               any thread
 *   oc_handoff_close(h);                          loop thread; posts still queued are run
 *                                                 first, later posts are ignored */
#ifndef OC_HANDOFF_H
#define OC_HANDOFF_H

typedef void (*oc_handoff_fn)(void *arg);

struct oc_handoff;

struct oc_handoff *oc_handoff_new(void);
/* Queue fn(arg) for the loop thread. Safe from any thread, never blocks on the loop. */
void oc_handoff_post(struct oc_handoff *h, oc_handoff_fn fn, void *arg);
/* Run what is queued now (loop thread): for a caller that must see every earlier post
 * before it goes on. */
void oc_handoff_drain(struct oc_handoff *h);
/* Run what is queued, then stop taking posts and free (its handle closes asynchronously). */
void oc_handoff_close(struct oc_handoff *h);

#endif
