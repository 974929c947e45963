/* proto-adapters/http/sse.c — the event stream format: parser, formatter, history (sse.h). */
#include <stdlib.h>
#include <string.h>

#include "sse.h"
#include "xalloc.h"

/* ---- parser ------------------------------------------------------------------------------ */

void sse_parser_init(struct sse_parser *p, size_t max)
{
	memset(p, 0, sizeof(*p));
	p->retry_ms = -1;
	p->max = max;
}

void sse_parser_free(struct sse_parser *p)
{
	free(p->line);
	free(p->data);
	free(p->event);
	free(p->id);
	memset(p, 0, sizeof(*p));
}

void sse_parser_restart(struct sse_parser *p)
{
	p->llen = p->dlen = 0;
	p->after_cr = p->bom_checked = false;
	free(p->event);
	p->event = NULL;
}

static int grow(char **buf, size_t *cap, size_t need, size_t max)
{
	if (need > max)
		return -1;
	if (need > *cap) {
		*cap = need * 2 < 256 ? 256 : need * 2;
		*buf = xrealloc(*buf, *cap);
	}
	return 0;
}

static bool all_digits(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* A blank line: the event built so far goes out (when it has data), and a new one starts. */
static int dispatch(struct sse_parser *p, sse_event_fn fn, void *ud)
{
	int r = 0;
	if (p->dlen) {
		size_t n = p->dlen - 1; /* the buffer ends with the LF of its last data line */
		r = fn(ud, p->data, n, p->event, p->id);
	}
	p->dlen = 0;
	free(p->event);
	p->event = NULL;
	return r;
}

/* One complete line (without its end): a field, a comment, or the blank line. */
static int line(struct sse_parser *p, const char *s, size_t n, sse_event_fn fn, void *ud)
{
	if (!n)
		return dispatch(p, fn, ud);
	if (s[0] == ':')
		return 0; /* a comment: keepalives */
	const char *colon = memchr(s, ':', n);
	size_t flen = colon ? (size_t)(colon - s) : n;
	const char *v = colon ? colon + 1 : s + n;
	size_t vlen = (size_t)(s + n - v);
	if (vlen && *v == ' ') /* one space after the colon is not part of the value */
		v++, vlen--;
	if (flen == 4 && !memcmp(s, "data", 4)) {
		if (grow(&p->data, &p->dcap, p->dlen + vlen + 1, p->max + 1))
			return -1;
		memcpy(p->data + p->dlen, v, vlen);
		p->dlen += vlen;
		p->data[p->dlen++] = '\n';
	} else if (flen == 5 && !memcmp(s, "event", 5)) {
		free(p->event);
		p->event = xstrndup(v, vlen);
	} else if (flen == 2 && !memcmp(s, "id", 2)) {
		if (!memchr(v, '\0', vlen)) { /* an id with a NUL is ignored */
			free(p->id);
			p->id = xstrndup(v, vlen);
		}
	} else if (flen == 5 && !memcmp(s, "retry", 5)) {
		if (all_digits(v, vlen) && vlen < 10)
			p->retry_ms = strtol(v, NULL, 10);
	} /* other fields are ignored */
	return 0;
}

int sse_parse(struct sse_parser *p, const char *buf, size_t n, sse_event_fn fn, void *ud)
{
	if (!p->bom_checked && n) { /* a UTF-8 byte order mark may start the stream */
		static const char bom[] = "\xEF\xBB\xBF";
		size_t have = p->llen;
		size_t k = 0;
		while (have + k < 3 && k < n && buf[k] == bom[have + k])
			k++;
		if (have + k == 3) {
			buf += k, n -= k;
			p->llen = 0;
			p->bom_checked = true;
		} else if (k == n && have + k < 3) {
			/* all of it could still be a BOM: keep it as line bytes for now */
			if (grow(&p->line, &p->lcap, have + k, p->max))
				return -1;
			memcpy(p->line + have, buf, k);
			p->llen += k;
			return 0;
		} else {
			p->bom_checked = true;
		}
	}
	for (size_t i = 0; i < n; i++) {
		char c = buf[i];
		if (c == '\n' && p->after_cr) { /* the LF of a CRLF */
			p->after_cr = false;
			continue;
		}
		p->after_cr = c == '\r';
		if (c == '\r' || c == '\n') {
			int r = line(p, p->line, p->llen, fn, ud);
			p->llen = 0;
			if (r)
				return r;
			continue;
		}
		/* Most bytes are plain line bytes: take the run up to the next line end at once. */
		size_t j = i;
		while (j < n && buf[j] != '\r' && buf[j] != '\n')
			j++;
		if (grow(&p->line, &p->lcap, p->llen + (j - i), p->max))
			return -1;
		memcpy(p->line + p->llen, buf + i, j - i);
		p->llen += j - i;
		i = j - 1;
	}
	return 0;
}

/* ---- format ------------------------------------------------------------------------------ */

struct out {
	char *buf;
	size_t len, cap;
};

static void field(struct out *o, const char *name, const char *v)
{
	xappend(&o->buf, &o->len, &o->cap, name, strlen(name));
	xappend(&o->buf, &o->len, &o->cap, ": ", 2);
	xappend(&o->buf, &o->len, &o->cap, v, strcspn(v, "\r\n"));
	xappend(&o->buf, &o->len, &o->cap, "\n", 1);
}

char *sse_format(const char *event, const char *id, const char *data, size_t dlen, size_t *len)
{
	struct out o = { 0 };
	if (event && *event)
		field(&o, "event", event);
	if (id)
		field(&o, "id", id);
	/* One data line per payload line; a payload ending with a line break ends with an
	 * empty data line, so the receiver gets the break back, and an empty payload is one
	 * empty data line (the event still arrives, empty). */
	for (size_t i = 0;;) {
		size_t j = i;
		while (j < dlen && data[j] != '\r' && data[j] != '\n')
			j++;
		xappend(&o.buf, &o.len, &o.cap, "data: ", 6);
		xappend(&o.buf, &o.len, &o.cap, data + i, j - i);
		xappend(&o.buf, &o.len, &o.cap, "\n", 1);
		if (j == dlen)
			break;
		if (data[j] == '\r' && j + 1 < dlen && data[j + 1] == '\n')
			j++;
		i = j + 1;
	}
	xappend(&o.buf, &o.len, &o.cap, "\n", 1);
	*len = o.len;
	return o.buf;
}

/* ---- history ----------------------------------------------------------------------------- */

void sse_history_init(struct sse_history *h, size_t cap)
{
	memset(h, 0, sizeof(*h));
	h->cap = cap;
	if (cap) {
		h->ev = xcalloc(cap, sizeof(*h->ev));
		h->evlen = xcalloc(cap, sizeof(*h->evlen));
		h->ids = xcalloc(cap, sizeof(*h->ids));
	}
}

void sse_history_free(struct sse_history *h)
{
	for (size_t i = 0; i < h->cap; i++) {
		free(h->ev[i]);
		free(h->ids[i]);
	}
	free(h->ev);
	free(h->evlen);
	free(h->ids);
	memset(h, 0, sizeof(*h));
}

void sse_history_add(struct sse_history *h, const char *ev, size_t len, const char *id)
{
	if (!h->cap)
		return;
	size_t slot = (h->head + h->n) % h->cap;
	if (h->n == h->cap) { /* full: the oldest makes room */
		slot = h->head;
		h->head = (h->head + 1) % h->cap;
		free(h->ev[slot]);
		free(h->ids[slot]);
	} else {
		h->n++;
	}
	h->ev[slot] = xmalloc(len ? len : 1);
	memcpy(h->ev[slot], ev, len);
	h->evlen[slot] = len;
	h->ids[slot] = id ? xstrdup(id) : NULL;
}

char *sse_history_after(const struct sse_history *h, const char *last_id, size_t *len)
{
	size_t from = 0; /* index (0 = oldest) of the first event to replay */
	for (size_t k = h->n; k-- > 0;) {
		const char *id = h->ids[(h->head + k) % h->cap];
		if (id && !strcmp(id, last_id)) {
			from = k + 1;
			break;
		}
	}
	if (from >= h->n)
		return NULL;
	struct out o = { 0 };
	for (size_t k = from; k < h->n; k++) {
		size_t slot = (h->head + k) % h->cap;
		xappend(&o.buf, &o.len, &o.cap, h->ev[slot], h->evlen[slot]);
	}
	*len = o.len;
	return o.buf;
}
