/* core/show.c — messages for people (see show.h). */
#include "show.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "xalloc.h"

/* ANSI SGR sequences */
#define C_DIM "\033[2m"
#define C_BOLD "\033[1m"
#define C_RED "\033[31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_BLUE "\033[34m"
#define C_MAGENTA "\033[35m"
#define C_CYAN "\033[36m"
#define C_OFF "\033[0m"

void oc_text_printf(struct oc_text *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n > 0)
		xappend(&t->s, &t->len, &t->cap, s, (size_t)n);
	free(s);
}

void oc_text_release(struct oc_text *t)
{
	free(t->s);
	t->s = NULL;
	t->len = t->cap = 0;
}

static void put(struct oc_text *t, const char *s, size_t n)
{
	xappend(&t->s, &t->len, &t->cap, s, n);
}

/* s in colour c when colours are on */
static void put_in(struct oc_text *t, bool color, const char *c, const char *s, size_t n)
{
	if (color)
		oc_text_printf(t, "%s", c);
	put(t, s, n);
	if (color)
		oc_text_printf(t, "%s", C_OFF);
}

static void hex_dump(const char *data, size_t n, struct oc_text *t)
{
	char row[OC_HEX_ROW_MAX];
	for (size_t off = 0; off < n; off += 16) {
		oc_text_printf(t, "%08zx ", off);
		put(t, row, oc_hex_row(row, (const unsigned char *)data + off, n - off));
	}
}

/* Text a terminal may print: valid UTF-8 (jansson decides, as for the envelope) without
 * control characters other than tab and newlines — an escape sequence from a peer must not
 * drive the user's terminal. */
static bool printable(const struct oc_msg *m)
{
	if (m->flags & OC_MSG_BINARY)
		return false;
	for (size_t i = 0; i < m->len; i++) {
		unsigned char c = (unsigned char)m->data[i];
		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
			return false;
	}
	json_t *s = json_stringn(m->data, m->len);
	json_decref(s);
	return s != NULL;
}

/* The length of the JSON string token at s (quotes included). */
static size_t string_token(const char *s)
{
	size_t i = 1;
	while (s[i] && s[i] != '"')
		i += s[i] == '\\' && s[i + 1] ? 2 : 1;
	return s[i] ? i + 1 : i;
}

/* Colour jansson's indented output token by token: keys, strings, numbers, literals. */
static void color_json(const char *s, struct oc_text *t)
{
	while (*s) {
		size_t n;
		const char *c = NULL;
		if (*s == '"') {
			n = string_token(s);
			c = s[n] == ':' ? C_BLUE : C_GREEN;
		} else if (*s == '-' || (*s >= '0' && *s <= '9')) {
			n = strspn(s, "-+.0123456789eE");
			c = C_CYAN;
		} else if (*s >= 'a' && *s <= 'z') {
			n = strspn(s, "abcdefghijklmnopqrstuvwxyz");
			c = C_MAGENTA;
		} else {
			n = 1;
		}
		put_in(t, c != NULL, c ? c : "", s, n);
		s += n;
	}
}

/* A JSON object or array, pretty-printed; false when the payload is not one. */
static bool show_json(const struct oc_show *o, const struct oc_msg *m, struct oc_text *t)
{
	json_error_t je;
	json_t *v = json_loadb(m->data, m->len, JSON_DECODE_ANY, &je);
	if (!v || !(json_is_object(v) || json_is_array(v))) {
		json_decref(v);
		return false;
	}
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(v);
	if (!s)
		return false;
	if (o->color)
		color_json(s, t);
	else
		put(t, s, strlen(s));
	put(t, "\n", 1);
	free(s);
	return true;
}

static void show_payload(const struct oc_show *o, const struct oc_msg *m, struct oc_text *t)
{
	if (!m->len)
		return;
	if (o->hex || !printable(m)) {
		hex_dump(m->data, m->len, t);
		return;
	}
	if (o->json && show_json(o, m, t))
		return;
	put(t, m->data, m->len);
	if (m->data[m->len - 1] != '\n')
		put(t, "\n", 1);
}

static void show_time(const struct oc_show *o, int64_t ms, struct oc_text *t)
{
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;
	char buf[32];
	if (!ms || !localtime_r(&sec, &tm))
		return;
	int n = snprintf(buf, sizeof(buf), "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min,
			 tm.tm_sec, (int)(ms % 1000));
	put_in(t, o->color, C_DIM, buf, (size_t)n);
	put(t, " ", 1);
}

/* The first line: time, topic or path, peer, status, QoS and retain, one space apart. */
static void show_head(const struct oc_show *o, const struct oc_msg *m, struct oc_text *t)
{
	size_t start = t->len;
	show_time(o, m->ts_ms, t);
	const char *where = m->f[OC_F_TOPIC] ? m->f[OC_F_TOPIC] : m->f[OC_F_PATH];
	if (where) {
		put_in(t, o->color, C_BOLD C_YELLOW, where, strlen(where));
		put(t, " ", 1);
	}
	if (m->f[OC_F_PEER])
		oc_text_printf(t, "from %s ", m->f[OC_F_PEER]);
	if (m->flags & OC_MSG_STATUS) {
		char st[24];
		int n = o->dotted ? snprintf(st, sizeof(st), "%d.%02d", m->status / 100, m->status % 100)
				  : snprintf(st, sizeof(st), "%d", m->status);
		put_in(t, o->color, m->status >= 400 ? C_BOLD C_RED : C_BOLD C_GREEN, st,
		       (size_t)n);
		put(t, " ", 1);
	}
	if (m->flags & OC_MSG_QOS)
		oc_text_printf(t, "qos=%d ", m->qos);
	if ((m->flags & OC_MSG_RETAIN) && m->retain)
		oc_text_printf(t, "retained ");
	if (!m->len)
		oc_text_printf(t, "(empty) ");
	if (t->len > start) /* else no line at all: nothing to say but the payload */
		t->s[t->len - 1] = '\n'; /* each piece ended with a space */
}

void oc_show_msg(const struct oc_show *o, const struct oc_msg *m, struct oc_text *t)
{
	show_head(o, m, t);
	for (unsigned k = 0; o->headers && k < m->nhdrs; k++) {
		put_in(t, o->color, C_CYAN, m->hdrs[k].name, strlen(m->hdrs[k].name));
		oc_text_printf(t, ": %s\n", m->hdrs[k].value);
	}
	show_payload(o, m, t);
}
