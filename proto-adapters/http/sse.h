/* proto-adapters/http/sse.h — Server-Sent Events (the WHATWG event stream format), shared by
 * the HTTP client (sse://, sses://) and the HTTP server in event-stream mode.
 *
 *   parser    bytes of a text/event-stream in, events out (data lines joined with "\n",
 *             the event name, the last event id, retry)
 *   format    one message as one event: "event:", "id:", one "data:" line per payload line
 *   history   the last N events a server sent, replayed after a client's Last-Event-ID
 *
 * No library in Debian parses this format (it is a dozen lines of the HTML standard, §9.2.6),
 * so it is written here, following the standard's algorithm. */
#ifndef OC_SSE_H
#define OC_SSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- parser ---- */

/* One dispatched event. data: the joined data lines (not NUL-terminated, may hold NULs);
 * event: its name, or NULL when none was given ("message"); id: the last event id, or NULL
 * while none has been set. Return non-zero to stop parsing (sse_parse returns it). */
typedef int (*sse_event_fn)(void *ud, const char *data, size_t len, const char *event,
			    const char *id);

struct sse_parser {
	char *line;          /* the line being read */
	size_t llen, lcap;   /* its length, allocation */
	bool after_cr;       /* the last byte was CR: a following LF belongs to it */
	bool bom_checked;    /* the stream's first bytes were checked for a BOM */
	char *data;          /* data buffer of the event being built */
	size_t dlen, dcap;   /* its length, allocation */
	char *event;         /* event type of the event being built, or NULL */
	char *id;            /* last event id (kept across events, as the standard says) */
	long retry_ms;       /* the last retry field, or -1 */
	size_t max;          /* the longest line or event accepted */
};

void sse_parser_init(struct sse_parser *p, size_t max);
void sse_parser_free(struct sse_parser *p);
/* A new connection: the event being built is dropped; the last event id and retry stay. */
void sse_parser_restart(struct sse_parser *p);
/* Feed bytes. Returns 0, what fn returned, or -1 when a line or an event passed max. */
int sse_parse(struct sse_parser *p, const char *buf, size_t n, sse_event_fn fn, void *ud);

/* ---- format ---- */

/* The event for a payload: "event: NAME\n" (when event is given), "id: ID\n" (when id is),
 * a "data: " line per line of the payload (CRLF, CR and LF all end a line), and a blank
 * line. Returns a malloc'd buffer and its length in *len. A name or id with a line break
 * is cut at it (it would end the field). */
char *sse_format(const char *event, const char *id, const char *data, size_t dlen, size_t *len);

/* ---- history ---- */

struct sse_history {
	char **ev;           /* formatted events, oldest first from head (ring) */
	size_t *evlen;       /* their lengths */
	char **ids;          /* their ids */
	size_t cap, head, n; /* ring capacity (--history), start, count */
};

void sse_history_init(struct sse_history *h, size_t cap);
void sse_history_free(struct sse_history *h);
/* Keep a formatted event (copied) with its id; the oldest goes when the ring is full. */
void sse_history_add(struct sse_history *h, const char *ev, size_t len, const char *id);
/* The events after the one whose id is last_id, concatenated (malloc'd, *len), or NULL when
 * there are none. An id the history no longer holds replays everything it holds. */
char *sse_history_after(const struct sse_history *h, const char *last_id, size_t *len);

#endif
