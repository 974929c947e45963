/* cmd/repl_meta.c — the REPL's meta commands (lines starting with ':') and Tab completion.
 *
 * One table: each command's name, its arguments for :help, what Tab offers for them, what the
 * adapter must offer for it to apply (else it says so), its handler and its help line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapter.h"
#include "repl.h"
#include "xalloc.h"

#define LOAD_DEPTH 4 /* :load inside a loaded file, at most this deep */

/* What Tab offers for a meta command's argument. */
enum argkind { ARG_NONE, ARG_SET, ARG_TOPIC, ARG_PATH, ARG_METHOD, ARG_ONOFF, ARG_FILE };

/* What the adapter must offer for a meta command. */
#define NEED_TOPICS 0x1   /* topics mode */
#define NEED_REQUEST 0x2  /* request mode */
#define NEED_HEADERS 0x4  /* OC_AF_HEADERS */
#define NEED_RR 0x8       /* topics with request/response (OC_AF_REQUEST) */

struct meta {
	const char *name;   /* after ':' */
	const char *args;   /* for :help */
	enum argkind arg;   /* completion of the argument */
	unsigned need;      /* NEED_* */
	void (*fn)(struct repl *r, char *arg);
	const char *help;   /* one line */
};

static const struct meta metas[];

/* "on"/"off" into *v; false after saying what was expected. */
static bool on_off(struct repl *r, const char *name, const char *arg, bool *v)
{
	if (!strcmp(arg, "on") || !strcmp(arg, "off")) {
		*v = !strcmp(arg, "on");
		return true;
	}
	repl_say(r, true, "usage: :%s on|off", name);
	return false;
}

void repl_replace_str(char **dst, const char *s)
{
	free(*dst);
	*dst = s && *s ? xstrdup(s) : NULL;
}

static bool supports(const struct repl *r, unsigned need);

/* The commands that apply to this adapter, then the names of those that do not. */
static void m_help(struct repl *r, char *arg)
{
	struct oc_text t = { 0 }, others = { 0 };
	for (const struct meta *m = metas; m->name; m++) {
		char left[40];
		snprintf(left, sizeof(left), ":%s%s%s", m->name, *m->args ? " " : "", m->args);
		if (supports(r, m->need))
			oc_text_printf(&t, "  %-26s %s\n", left, m->help);
		else
			oc_text_printf(&others, " :%s", m->name);
	}
	oc_text_printf(&t, "  %-26s %s\n", "::TEXT", "send a line that starts with ':'");
	if (others.len)
		oc_text_printf(&t, "not for %s:%s\n", r->ad->name, others.s);
	oc_text_release(&others);
	repl_out(r, t.s, t.len);
	oc_text_release(&t);
}


static void m_quit(struct repl *r, char *arg)
{
	repl_quit(r);
}

static const char *mode_name(enum mode m)
{
	return m == MODE_TOPICS	   ? "topics"
	       : m == MODE_REQUEST ? "request/response"
	       : m == MODE_ANSWER  ? "answering requests"
				   : "messages";
}

static const char *link_state(const struct link *l)
{
	if (l->down)
		return "down";
	if (l->retired)
		return "closing";
	return l->ready ? "connected" : "connecting";
}

static void m_status(struct repl *r, char *arg)
{
	struct oc_text t = { 0 };
	oc_text_printf(&t, "%s (%s, %s): %lu sent, %lu received\n", r->url, r->ad->name,
		       mode_name(r->mode), r->sent, r->received);
	for (struct link *l = r->links; l; l = l->next) {
		oc_text_printf(&t, "  %s %s%s%s", l->ep->name, link_state(l), l->topic ? " " : "",
			       l->topic ? l->topic : "");
		if (l->request)
			oc_text_printf(&t, ", %u unanswered", l->outstanding);
		oc_text_printf(&t, "\n");
	}
	if (!r->links)
		oc_text_printf(&t, "  not connected\n");
	if (r->topic)
		oc_text_printf(&t, "  topic %s\n", r->topic);
	if (r->qos >= 0 || r->retain)
		oc_text_printf(&t, "  qos %d, retain %s\n", r->qos < 0 ? 0 : r->qos,
			       r->retain ? "on" : "off");
	if (r->method || r->path)
		oc_text_printf(&t, "  %s %s\n", r->method ? r->method : "(default method)",
			       r->path ? r->path : "(the URL's path)");
	for (size_t i = 0; i < r->nhdrs; i++)
		oc_text_printf(&t, "  %s: %s\n", r->hdrs[i].key, r->hdrs[i].value);
	repl_out(r, t.s, t.len);
	oc_text_release(&t);
}

/* "header NAME" off the front of arg: NAME, and *rest after it; NULL when not a header. */
static char *header_arg(char *arg, char **rest)
{
	if (strncmp(arg, "header ", 7))
		return NULL;
	char *name = arg + 7 + strspn(arg + 7, " ");
	char *end = name + strcspn(name, " :");
	*rest = *end ? end + 1 + strspn(end + 1, " ") : end;
	*end = '\0';
	return *name ? name : NULL;
}

static void unset_header(struct repl *r, const char *name)
{
	for (size_t i = 0; i < r->nhdrs;) {
		if (strcasecmp(r->hdrs[i].key, name)) {
			i++;
			continue;
		}
		free(r->hdrs[i].key);
		free(r->hdrs[i].value);
		memmove(r->hdrs + i, r->hdrs + i + 1, (r->nhdrs - i - 1) * sizeof(*r->hdrs));
		r->nhdrs--;
	}
}

static void m_set(struct repl *r, char *arg)
{
	char *value;
	char *name = header_arg(arg, &value);
	if (!name || !*value) {
		repl_say(r, true, "usage: :set header NAME VALUE");
		return;
	}
	unset_header(r, name);
	r->hdrs = xrealloc(r->hdrs, (r->nhdrs + 1) * sizeof(*r->hdrs));
	r->hdrs[r->nhdrs].key = xstrdup(name);
	r->hdrs[r->nhdrs].value = xstrdup(value);
	r->hdrs[r->nhdrs].global = false;
	r->nhdrs++;
	repl_remember(&r->seen_hdrs, name, strlen(name));
	if (r->mode == MODE_SEND)
		repl_say(r, false, "header %s goes with the next connection (:reconnect)", name);
}

static void m_unset(struct repl *r, char *arg)
{
	char *rest;
	char *name = header_arg(arg, &rest);
	if (!name) {
		repl_say(r, true, "usage: :unset header NAME");
		return;
	}
	unset_header(r, name);
}

bool repl_has_wildcard(const char *topic)
{
	return strpbrk(topic, "+#") != NULL;
}

static void m_topic(struct repl *r, char *arg)
{
	if (!*arg) {
		repl_say(r, false, "topic: %s", r->topic ? r->topic : "(none)");
		return;
	}
	if (repl_has_wildcard(arg)) {
		repl_say(r, true, "cannot publish to a filter: '%s'", arg);
		return;
	}
	repl_replace_str(&r->topic, arg);
	repl_remember(&r->seen_topics, arg, strlen(arg));
}

static void m_sub(struct repl *r, char *arg)
{
	if (!*arg) {
		repl_say(r, true, "usage: :sub FILTER");
		return;
	}
	if (repl_find_link(r, LINK_SUB, arg)) {
		repl_say(r, false, "already subscribed to '%s'", arg);
		return;
	}
	repl_remember(&r->seen_topics, arg, strlen(arg));
	repl_link_open(r, LINK_SUB, arg);
}

static void m_unsub(struct repl *r, char *arg)
{
	if (!repl_drop_links(r, LINK_SUB, arg))
		repl_say(r, true, "not subscribed to '%s'", arg);
}

static void m_qos(struct repl *r, char *arg)
{
	if (strlen(arg) != 1 || arg[0] < '0' || arg[0] > '2') {
		repl_say(r, true, "usage: :qos 0|1|2");
		return;
	}
	r->qos = arg[0] - '0';
}

static void m_retain(struct repl *r, char *arg)
{
	on_off(r, "retain", arg, &r->retain);
}

static void m_method(struct repl *r, char *arg)
{
	if (!repl_known_method(r->ad, arg, strlen(arg))) {
		struct oc_text t = { 0 };
		for (const char *const *k = r->ad->methods; k && *k; k++)
			oc_text_printf(&t, " %s", *k);
		repl_say(r, true, "'%s' is not a %s method:%s", arg, r->ad->name, t.s ? t.s : "");
		oc_text_release(&t);
		return;
	}
	repl_replace_str(&r->method, arg);
}

static void m_path(struct repl *r, char *arg)
{
	if (*arg != '/') {
		repl_say(r, true, "usage: :path /PATH");
		return;
	}
	repl_replace_str(&r->path, arg);
	repl_remember(&r->seen_paths, arg, strlen(arg));
}

static void m_text(struct repl *r, char *arg)
{
	r->pay = PAY_TEXT;
}

static void m_binary(struct repl *r, char *arg)
{
	r->pay = PAY_BINARY;
}

static void m_hex(struct repl *r, char *arg)
{
	r->pay = PAY_HEX;
}

static void m_json(struct repl *r, char *arg)
{
	on_off(r, "json", arg, &r->show.json);
}

static void m_headers(struct repl *r, char *arg)
{
	on_off(r, "headers", arg, &r->show.headers);
}

static void m_raw(struct repl *r, char *arg)
{
	on_off(r, "raw", arg, &r->raw);
}

static void m_request(struct repl *r, char *arg)
{
	bool was = r->request;
	if (on_off(r, "request", arg, &r->request) && was && !r->request)
		repl_retire_links(r, LINK_RR, NULL);
}

static void m_load(struct repl *r, char *arg)
{
	FILE *f = *arg ? fopen(arg, "r") : NULL;
	if (!f) {
		repl_say(r, true, "cannot open '%s': %s", arg, *arg ? strerror(errno) : "no file named");
		return;
	}
	if (r->loading >= LOAD_DEPTH) {
		fclose(f);
		repl_say(r, true, "':load %s' nested too deep", arg);
		return;
	}
	r->loading++;
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	while (!r->quitting && (n = getline(&buf, &cap, f)) >= 0) {
		if (n && buf[n - 1] == '\n')
			buf[n - 1] = '\0';
		repl_line(r, buf);
	}
	free(buf);
	fclose(f);
	r->loading--;
}

static void m_log(struct repl *r, char *arg)
{
	if (r->log)
		fclose(r->log);
	r->log = NULL;
	if (!strcmp(arg, "off"))
		return;
	if (!*arg || !(r->log = fopen(arg, "a")))
		repl_say(r, true, "cannot open '%s' for appending: %s", arg,
		    *arg ? strerror(errno) : "no file named");
}


static void m_reconnect(struct repl *r, char *arg)
{
	repl_reconnect(r);
}

static void m_close(struct repl *r, char *arg)
{
	repl_retire_links(r, -1, NULL);
}


/* The old links finish gracefully; the settings stay (those that do not apply are unused). */
static void m_open(struct repl *r, char *arg)
{
	char err[512];
	int e;
	if (!*arg) {
		repl_say(r, true, "usage: :open URL");
		return;
	}
	const struct oc_adapter *ad = repl_url_adapter(r, arg, &e, err, sizeof(err));
	if (!ad) {
		repl_say(r, true, "%s", err);
		return;
	}
	repl_retire_links(r, -1, NULL);
	repl_set_url(r, arg, ad);
	repl_open_session(r);
}

static const struct meta metas[] = {
	{ "help", "", ARG_NONE, 0, m_help, "this list" },
	{ "quit", "", ARG_NONE, 0, m_quit, "close the connection properly and exit (also Ctrl-D)" },
	{ "status", "", ARG_NONE, 0, m_status, "connection state, counts and settings" },
	{ "set", "header NAME VALUE", ARG_SET, NEED_HEADERS, m_set,
	  "send this header (property, option) with every message" },
	{ "unset", "header NAME", ARG_SET, NEED_HEADERS, m_unset, "stop sending that header" },
	{ "topic", "T", ARG_TOPIC, NEED_TOPICS, m_topic, "publish lines on topic T" },
	{ "sub", "FILTER", ARG_TOPIC, NEED_TOPICS, m_sub, "subscribe to FILTER as well" },
	{ "unsub", "FILTER", ARG_TOPIC, NEED_TOPICS, m_unsub, "unsubscribe from FILTER" },
	{ "qos", "0|1|2", ARG_NONE, NEED_TOPICS, m_qos, "QoS of what is published" },
	{ "retain", "on|off", ARG_ONOFF, NEED_TOPICS, m_retain, "publish retained messages" },
	{ "method", "M", ARG_METHOD, NEED_REQUEST, m_method, "method of a line without one" },
	{ "path", "/P", ARG_PATH, NEED_REQUEST, m_path, "path of a line without one" },
	{ "text", "", ARG_NONE, 0, m_text, "lines are text (the default)" },
	{ "binary", "", ARG_NONE, 0, m_binary, "lines are sent as binary messages" },
	{ "hex", "", ARG_NONE, 0, m_hex, "lines are hex digits, sent as those bytes" },
	{ "json", "on|off", ARG_ONOFF, 0, m_json, "pretty-print JSON payloads (on)" },
	{ "load", "FILE", ARG_FILE, 0, m_load, "take each line of FILE as if typed" },
	{ "log", "FILE|off", ARG_FILE, 0, m_log, "append the session's transcript to FILE" },
	{ "reconnect", "", ARG_NONE, 0, m_reconnect, "connect again" },
	{ "open", "URL", ARG_NONE, 0, m_open, "switch to URL, keeping the settings that apply" },
	{ "close", "", ARG_NONE, 0, m_close, "close the connection (the next line opens it)" },
	{ "headers", "on|off", ARG_ONOFF, 0, m_headers, "show the headers of what arrives" },
	{ "raw", "on|off", ARG_ONOFF, NEED_REQUEST, m_raw,
	  "send lines as bodies, never as METHOD /path" },
	{ "request", "on|off", ARG_ONOFF, NEED_RR, m_request,
	  "publish as requests and show the responses (MQTT 5)" },
	{ 0 },
};

static bool supports(const struct repl *r, unsigned need)
{
	unsigned f = r->ad->flags;
	return (!(need & NEED_TOPICS) || r->mode == MODE_TOPICS) &&
	       (!(need & NEED_REQUEST) || r->mode == MODE_REQUEST) &&
	       (!(need & NEED_HEADERS) || (f & OC_AF_HEADERS)) &&
	       (!(need & NEED_RR) || (r->mode == MODE_TOPICS && (f & OC_AF_REQUEST)));
}

static const struct meta *find_meta(const char *name, size_t n)
{
	for (const struct meta *m = metas; m->name; m++)
		if (strlen(m->name) == n && !strncmp(m->name, name, n))
			return m;
	return NULL;
}

void repl_meta(struct repl *r, char *line)
{
	size_t n = strcspn(line, " ");
	const struct meta *m = find_meta(line, n);
	if (!m) {
		repl_say(r, true, "unknown command ':%.*s' (:help lists them)", (int)n, line);
		return;
	}
	if (!supports(r, m->need)) {
		repl_say(r, true, "':%s' does not apply to %s", m->name, r->ad->name);
		return;
	}
	char *arg = line + n;
	arg += strspn(arg, " ");
	size_t len = strlen(arg);
	while (len && arg[len - 1] == ' ')
		arg[--len] = '\0';
	m->fn(r, arg);
}

static char **word_list(const char *const *v, size_t n)
{
	char **out = xmalloc((n + 1) * sizeof(*out));
	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	out[n] = NULL;
	return out;
}

static char **seen_list(const struct words *w)
{
	return word_list((const char *const *)w->v, w->n);
}

static size_t nstrings(const char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

static char **meta_names(void)
{
	size_t n = 0;
	while (metas[n].name)
		n++;
	char **out = xmalloc((n + 1) * sizeof(*out));
	for (size_t i = 0; i < n; i++)
		out[i] = xasprintf(":%s", metas[i].name);
	out[n] = NULL;
	return out;
}

/* Candidates for the argument of meta command m, the word-th after it. */
static char **meta_arg_words(struct repl *r, const struct meta *m, int word, bool *files)
{
	static const char *const onoff[] = { "on", "off" };
	static const char *const header[] = { "header" };
	switch (m->arg) {
	case ARG_SET:
		return word == 1 ? word_list(header, 1) : seen_list(&r->seen_hdrs);
	case ARG_TOPIC:
		return seen_list(&r->seen_topics);
	case ARG_PATH:
		return seen_list(&r->seen_paths);
	case ARG_METHOD:
		return word_list(r->ad->methods, nstrings(r->ad->methods));
	case ARG_ONOFF:
		return word_list(onoff, 2);
	case ARG_FILE:
		*files = true;
		return NULL;
	case ARG_NONE:
		break;
	}
	return NULL;
}

char **repl_complete(void *ud, const char *line, int start, bool *files)
{
	struct repl *r = ud;
	int word = 0; /* which word of the line is being completed */
	for (int i = 0; i < start; i++)
		if (line[i] != ' ' && (i == 0 || line[i - 1] == ' '))
			word++;
	if (line[0] == ':' && word == 0)
		return meta_names();
	if (line[0] == ':') {
		const struct meta *m = find_meta(line + 1, strcspn(line + 1, " "));
		return m ? meta_arg_words(r, m, word, files) : NULL;
	}
	if (r->mode != MODE_REQUEST || r->raw)
		return NULL;
	if (word == 0)
		return word_list(r->ad->methods, nstrings(r->ad->methods));
	return word == 1 ? seen_list(&r->seen_paths) : NULL;
}
