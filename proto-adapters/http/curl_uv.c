/* proto-adapters/http/curl_uv.c — see curl_uv.h. The pattern is the one curl documents for
 * event loops (multi-uv.c in curl's examples), with closing made safe: a watched socket's
 * uv_poll handle is freed only in its close callback. */
#include "curl_uv.h"

#include <stdlib.h>

#include "xalloc.h"

struct watch {
	uv_poll_t poll;       /* watches one of curl's sockets */
	struct oc_curl *c;    /* its owner */
	curl_socket_t fd;     /* the socket */
};

static void check_done(struct oc_curl *c)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(c->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		CURL *easy = msg->easy_handle;
		CURLcode result = msg->data.result;
		curl_multi_remove_handle(c->multi, easy);
		c->done(c, easy, result);
	}
}

static void poll_cb(uv_poll_t *h, int status, int events)
{
	struct watch *w = h->data;
	int flags = 0;
	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	int running;
	struct oc_curl *c = w->c;
	curl_multi_socket_action(c->multi, w->fd, flags, &running);
	check_done(c);
}

static void maybe_closed(struct oc_curl *c)
{
	if (c->closing && c->nsockets == 0 && c->timer_closed && c->closed) {
		void (*closed)(struct oc_curl *) = c->closed;
		c->closed = NULL;
		closed(c);
	}
}

static void watch_closed(uv_handle_t *h)
{
	struct watch *w = h->data;
	struct oc_curl *c = w->c;
	free(w);
	c->nsockets--;
	maybe_closed(c);
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct oc_curl *c = userp;
	struct watch *w = socketp;
	if (what == CURL_POLL_REMOVE) {
		if (w) {
			uv_poll_stop(&w->poll);
			curl_multi_assign(c->multi, fd, NULL);
			uv_close((uv_handle_t *)&w->poll, watch_closed);
		}
		return 0;
	}
	if (!w) {
		w = xmalloc(sizeof(*w));
		w->c = c;
		w->fd = fd;
		uv_poll_init_socket(uv_default_loop(), &w->poll, fd);
		w->poll.data = w;
		c->nsockets++;
		curl_multi_assign(c->multi, fd, w);
	}
	int events = 0;
	if (what & CURL_POLL_IN)
		events |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		events |= UV_WRITABLE;
	uv_poll_start(&w->poll, events, poll_cb);
	return 0;
}

static void timer_cb(uv_timer_t *t)
{
	struct oc_curl *c = t->data;
	int running;
	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(c);
}

static int timerfunc(CURLM *multi, long timeout_ms, void *userp)
{
	struct oc_curl *c = userp;
	if (timeout_ms < 0)
		uv_timer_stop(&c->timer);
	else /* 0 means "now": let the loop turn once so callers are not re-entered */
		uv_timer_start(&c->timer, timer_cb, (uint64_t)timeout_ms, 0);
	return 0;
}

void oc_curl_init(struct oc_curl *c, oc_curl_done_fn done, void *data)
{
	c->multi = curl_multi_init();
	c->done = done;
	c->data = data;
	c->nsockets = 0;
	c->closing = false;
	c->timer_closed = false;
	c->closed = NULL;
	uv_timer_init(uv_default_loop(), &c->timer);
	c->timer.data = c;
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timerfunc);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
}

int oc_curl_add(struct oc_curl *c, CURL *easy)
{
	return curl_multi_add_handle(c->multi, easy);
}

void oc_curl_remove(struct oc_curl *c, CURL *easy)
{
	curl_multi_remove_handle(c->multi, easy);
}

void oc_curl_kick(struct oc_curl *c)
{
	uv_timer_start(&c->timer, timer_cb, 0, 0);
}

static void timer_closed(uv_handle_t *h)
{
	struct oc_curl *c = h->data;
	c->timer_closed = true;
	maybe_closed(c);
}

void oc_curl_close(struct oc_curl *c, void (*closed)(struct oc_curl *c))
{
	c->closing = true;
	c->closed = closed;
	/* Cleaning up the multi handle makes curl remove its sockets (socket_cb REMOVE). */
	curl_multi_cleanup(c->multi);
	c->multi = NULL;
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->timer, timer_closed);
}
