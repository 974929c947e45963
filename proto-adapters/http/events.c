/* proto-adapters/http/events.c — the HTTP server's event-stream mode: `server sse://...`,
 * `sse-listen://` and `sses-listen://` in relays.
 *
 * A GET (to the URL's path, or any path when the URL has none) is answered with a
 * text/event-stream head and the connection becomes a subscriber. Every message written to
 * the endpoint (stdin, a relay's source) is formatted once as an event — its topic as the
 * event name, its id or the next number as the event id, one data line per payload line —
 * and sent to every subscriber. --history N keeps the last N events: a client that
 * reconnects with Last-Event-ID gets the ones it missed first. A comment line every
 * --keepalive seconds keeps idle streams open through proxies.
 *
 * Events written in one loop turn go out together: one write per subscriber per turn, not
 * per event. Slow clients never grow memory: a subscriber with more than SLOW_LIMIT bytes not yet
 * written is dropped with a logged error, and the others go on. Writes are never refused, so
 * one slow browser cannot stall the stream for everyone (backpressure would). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "log.h"
#include "server.h"
#include "xalloc.h"

#define SLOW_LIMIT (8u * 1024 * 1024) /* unsent bytes a subscriber may have */
#define KEEPALIVE_DEFAULT 15.0        /* seconds between keepalive comments */

static void keepalive_cb(uv_timer_t *t);
static void send_pend(struct oc_defer *d);

int events_open(struct hsrv *s)
{
	const char *v = oc_ep_opt(s->ep, "history");
	sse_history_init(&s->history, v ? (size_t)strtoull(v, NULL, 10) : 0);
	oc_defer_init(&s->send_pend, send_pend);
	double secs = KEEPALIVE_DEFAULT;
	if ((v = oc_ep_opt(s->ep, "keepalive")))
		oc_parse_secs(v, &secs);
	if (secs > 0) {
		uint64_t ms = (uint64_t)(secs * 1000);
		s->keepalive = xmalloc(sizeof(*s->keepalive));
		uv_timer_init(uv_default_loop(), s->keepalive);
		s->keepalive->data = s;
		uv_timer_start(s->keepalive, keepalive_cb, ms ? ms : 1, ms ? ms : 1);
	}
	return 0;
}

void events_close(struct hsrv *s)
{
	if (s->keepalive) {
		oc_uv_close_free(s->keepalive);
		s->keepalive = NULL;
	}
	sse_history_free(&s->history);
	oc_defer_cancel(&s->send_pend);
	free(s->pend);
	s->pend = NULL;
	s->plen = s->pcap = 0;
}

/* Bytes to every subscriber; one that cannot keep up is dropped. */
static void broadcast(struct hsrv *s, const char *p, size_t n)
{
	for (struct hconn *c = s->conns; c; c = c->next) {
		if (!c->subscriber || c->closing)
			continue;
		if (c->unsent + n > SLOW_LIMIT) {
			oc_error("'%s': dropped a client too slow for the event stream ('%s': %zu bytes "
				 "unsent)",
				 s->ep->name, c->peer, c->unsent);
			hconn_close(c);
			continue;
		}
		hconn_send(c, p, n);
	}
}

/* The events of this turn, to every subscriber. */
static void flush_pend(struct hsrv *s)
{
	oc_defer_cancel(&s->send_pend);
	if (s->plen)
		broadcast(s, s->pend, s->plen);
	s->plen = 0;
}

static void send_pend(struct oc_defer *d)
{
	flush_pend((struct hsrv *)((char *)d - offsetof(struct hsrv, send_pend)));
}

static void keepalive_cb(uv_timer_t *t)
{
	struct hsrv *s = t->data;
	flush_pend(s);
	if (s->subscribers)
		broadcast(s, ":\n\n", 3);
}

/* Whether the request's path is the stream's: the URL's path, or anything without one. */
static bool path_matches(const struct hsrv *s, const char *path)
{
	const char *want = s->ep->spec->url.path;
	if (!want || !*want || !strcmp(want, "/"))
		return true;
	size_t n = strlen(want);
	return path && !strncmp(path, want, n) && (!path[n] || path[n] == '?');
}

void events_request(struct hsrv *s, struct hreq *r, const struct oc_msg *m)
{
	const char *method = m->f[OC_F_METHOD];
	if (r->stream) { /* an HTTP/2 stream cannot stay open here: say so plainly */
		hsrv_answer(r, 505, NULL, "text/plain", "event streams need HTTP/1.1\n", 28);
		return;
	}
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		hsrv_answer(r, 405, NULL, "text/plain", "method not allowed\n", 19);
		return;
	}
	if (!path_matches(s, m->f[OC_F_PATH])) {
		hsrv_answer(r, 404, NULL, "text/plain", "not found\n", 10);
		return;
	}
	const char *last = oc_msg_header(m, "Last-Event-ID");
	r->events = !r->head;
	if (last && r->events)
		r->last_event_id = xstrdup(last);
	r->keep_alive = false; /* the stream ends with the connection */
	hsrv_answer(r, 200, NULL, "text/event-stream", NULL, 0);
}

void events_subscribed(struct hsrv *s, struct hconn *c, const char *last_id)
{
	/* What others have not been sent yet is in the history already: send it to them first,
	 * so that the newcomer gets each event exactly once (from the history, or live). */
	flush_pend(s);
	size_t len = 0;
	char *missed = last_id ? sse_history_after(&s->history, last_id, &len) : NULL;
	if (missed) {
		oc_verbose("'%s' resumes after event '%s': %zu bytes of history", c->peer, last_id,
			   len);
		hconn_send(c, missed, len);
		free(missed);
	}
	c->subscriber = true;
	s->subscribers++;
	oc_verbose("'%s' subscribed (%u subscribers)", c->peer, s->subscribers);
}

void events_gone(struct hsrv *s, struct hconn *c)
{
	if (!c->subscriber)
		return;
	c->subscriber = false;
	s->subscribers--;
}

void events_publish(struct hsrv *s, struct oc_msg *m)
{
	char num[24];
	const char *id = m->f[OC_F_ID];
	if (!id) {
		snprintf(num, sizeof(num), "%lu", ++s->next_event);
		id = num;
	}
	size_t len;
	char *ev = sse_format(m->f[OC_F_TOPIC], id, m->data, m->len, &len);
	xappend(&s->pend, &s->plen, &s->pcap, ev, len);
	oc_defer_schedule(&s->send_pend);
	sse_history_add(&s->history, ev, len, id);
	free(ev);
	oc_ep_sent(s->ep, m);
}
