/* proto-adapters/http/curl_uv.h — libcurl's multi interface driven by the libuv loop.
 *
 * curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when to wake it
 * (CURLMOPT_TIMERFUNCTION); we watch them with uv_poll and a uv_timer and hand events back
 * with curl_multi_socket_action(). No blocking easy calls, no second thread. Transfers that
 * finish are reported through done(). Shared by the adapters built on libcurl. */
#ifndef OC_CURL_UV_H
#define OC_CURL_UV_H

#include <curl/curl.h>
#include <stdbool.h>
#include <uv.h>

struct oc_curl;

/* A finished transfer: easy is still attached to nothing; the callee cleans it up. */
typedef void (*oc_curl_done_fn)(struct oc_curl *c, CURL *easy, CURLcode result);

struct oc_curl {
	CURLM *multi;          /* the multi handle */
	uv_timer_t timer;      /* curl's timeout */
	oc_curl_done_fn done;  /* finished transfers */
	void *data;            /* the owner's pointer */
	unsigned nsockets;     /* sockets being watched (their handles close asynchronously) */
	bool closing;          /* oc_curl_close() called */
	bool timer_closed;     /* the timer's close finished */
	void (*closed)(struct oc_curl *c); /* after oc_curl_close(), once everything closed */
};

void oc_curl_init(struct oc_curl *c, oc_curl_done_fn done, void *data);
/* Add a transfer; 0 or a CURLMcode. */
int oc_curl_add(struct oc_curl *c, CURL *easy);
/* Remove a transfer that has not finished (the caller cleans it up). */
void oc_curl_remove(struct oc_curl *c, CURL *easy);
/* Tell curl to make progress now (after curl_easy_pause(CONT), for example). */
void oc_curl_kick(struct oc_curl *c);
/* Release; closed() runs once every libuv handle is closed. Transfers must be removed. */
void oc_curl_close(struct oc_curl *c, void (*closed)(struct oc_curl *c));

#endif
