/* cmd/repl.c — `omnicat repl URL`: type messages, see what arrives (issue 8).
 *
 * What a typed line means comes from the adapter's capabilities, never from its name:
 *   topics  (OC_AF_TOPICS: mqtt)   the URL's filter is subscribed (one `sub` endpoint per
 *           filter; :sub and :unsub open and close more) and lines are published on :topic
 *           through a `pub` endpoint; with :request on, through a `client` endpoint (MQTT 5
 *           request/response) on that topic, answers printed like a server's
 *   request (OC_AF_REQUEST: http, coap)  each line is a request on a `client` endpoint:
 *           "METHOD /path [BODY]" when METHOD is one the adapter lists (adapter.h) and the
 *           path starts with '/', else a body with :method and :path; :raw on sends the
 *           line as a body whatever it looks like
 *   send    (the rest: tcp, udp, unix, ws, tls...)  each line is a message on a `client`
 *           endpoint
 * Lines starting with ':' are meta commands (one table below; "::" sends a line starting
 * with ':'). Settings (headers, QoS, method...) go with each message as its envelope, which
 * the adapters map as they do for --jsonl input; stream adapters take :set header for their
 * handshake, at the next connection.
 *
 * Endpoints are "links" this file owns directly (no pump): a REPL has one terminal and a
 * changing set of endpoints. A link that fails is shown and closed; the next line that
 * needs it opens it again. Ctrl-C cancels outstanding requests by replacing the endpoint
 * (no adapter has a per-request cancel). On a terminal a failure never ends the session;
 * without one (a script) the first failure decides the exit status, as in `client`.
 * Links are retired gracefully (:quit and Ctrl-D, :close, :reconnect, :open): shut down
 * (what was written is sent, a WebSocket close, an MQTT DISCONNECT) and closed once the
 * answers still owed are in, or RETIRE_WAIT_MS have passed. Ctrl-C and :unsub drop theirs at
 * once. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "adapter.h"
#include "cmd.h"
#include "err.h"
#include "lineedit.h"
#include "linkfmt.h"
#include "log.h"
#include "msgq.h"
#include "show.h"
#include "xalloc.h"

#define RETIRE_WAIT_MS 3000 /* how long a retired link may wait for answers still owed */
#define SEEN_MAX 256       /* completion words remembered per kind */
#define LOAD_DEPTH 4       /* :load inside a loaded file, at most this deep */
#define DISCOVERY_ID "discovery" /* the id of the resource discovery request */

enum mode { MODE_SEND, MODE_REQUEST, MODE_TOPICS };

enum link_kind {
	LINK_MAIN, /* send and request modes: the `client` endpoint */
	LINK_PUB,  /* topics: the publisher */
	LINK_SUB,  /* topics: one subscription (filter) */
	LINK_RR,   /* topics with :request on: the requester on one topic */
};

enum payload { PAY_TEXT, PAY_BINARY, PAY_HEX };

struct repl;

struct link {
	struct repl *r;           /* the session */
	struct oc_ep *ep;         /* its endpoint */
	enum link_kind kind;      /* what it is for */
	char *topic;              /* LINK_SUB: its filter; LINK_RR: its request topic */
	bool ready;               /* connected */
	bool down;                /* failed or ended: closed, replaced when needed again */
	bool flushed, eof;        /* after a shutdown */
	bool retired;             /* being shut down: no more messages go to it */
	bool shut_wanted;         /* shut it down once ready (a quit while connecting) */
	struct oc_msgq waiting;   /* written before it was ready: endpoints take messages only
				   * once ready (udp drops them before) */
	unsigned outstanding;     /* requests not answered yet */
	struct link *next;        /* the session's list */
};

/* A list of distinct words for completion. */
struct words {
	char *v[SEEN_MAX]; /* the words, oldest first */
	size_t n;          /* how many */
};

struct repl {
	struct cmd_ctx *c;          /* command line and run */
	struct oc_task task;        /* in the run */
	struct oc_le *le;           /* the terminal or stdin */
	char *url;                  /* the current URL */
	const struct oc_adapter *ad; /* its adapter */
	enum mode mode;             /* what lines mean */
	struct link *links;         /* open endpoints */
	/* settings */
	struct oc_kv *hdrs;         /* :set header, in order */
	size_t nhdrs;               /* how many */
	char *topic;                /* :topic, or NULL */
	int qos;                    /* :qos, or -1 */
	bool retain;                /* :retain */
	char *method, *path;        /* :method, :path, or NULL */
	enum payload pay;           /* :text, :binary, :hex */
	bool raw;                   /* :raw: no METHOD /path parsing */
	bool request;               /* :request: topics go through request/response */
	struct oc_show show;        /* :json, :headers, colours */
	FILE *log;                  /* :log, or NULL */
	int loading;                /* :load depth */
	/* state */
	unsigned long sent, received, next_id; /* counts; request ids */
	bool quitting;              /* shutting down */
	uv_timer_t *retire_timer;   /* bounds the wait of retired links, or NULL */
	/* completion */
	struct words seen_hdrs, seen_topics, seen_paths;
};

static void on_line(void *ud, const char *line);

/* ---- output ------------------------------------------------------------------------------ */

/* Append text to the :log file without colour escapes. */
static void log_text(struct repl *r, const char *s, size_t n)
{
	if (!r->log)
		return;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\033' && i + 1 < n && s[i + 1] == '[') {
			i += 2;
			while (i < n && !isalpha((unsigned char)s[i]))
				i++;
			continue;
		}
		fputc(s[i], r->log);
	}
	fflush(r->log);
}

static void out(struct repl *r, const char *s, size_t n)
{
	oc_le_print(r->le, s, n);
	log_text(r, s, n);
}

/* A notice about the session: on a terminal, on the screen above the prompt; without one,
 * stdout is for what arrives and notices go to stderr as everywhere else. */
static void say(struct repl *r, bool error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(struct repl *r, bool error, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s)
		return;
	if (!oc_le_is_tty(r->le)) {
		if (error)
			oc_error("%s", s);
		else
			oc_notice("%s", s);
	} else {
		struct oc_text t = { 0 };
		const char *on = error ? "\033[31m" : "\033[2m", *off = "\033[0m";
		oc_text_printf(&t, "%s%s%s\n", r->show.color ? on : "", s, r->show.color ? off : "");
		oc_le_notice(r->le, t.s, t.len);
		log_text(r, t.s, t.len);
		oc_text_release(&t);
	}
	free(s);
}

/* ---- completion words -------------------------------------------------------------------- */

static void remember(struct words *w, const char *s, size_t n)
{
	for (size_t i = 0; i < w->n; i++)
		if (strlen(w->v[i]) == n && !strncmp(w->v[i], s, n))
			return;
	if (w->n == SEEN_MAX) { /* forget the oldest */
		free(w->v[0]);
		memmove(w->v, w->v + 1, (SEEN_MAX - 1) * sizeof(*w->v));
		w->n--;
	}
	w->v[w->n++] = xstrndup(s, n);
}

static void forget_all(struct words *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i]);
	w->n = 0;
}

static void remember_path(void *ud, const char *s, size_t n)
{
	remember(ud, s, n);
}

/* ---- links ------------------------------------------------------------------------------- */

static void link_closed(struct oc_ep *ep);
static void maybe_done(struct repl *r);

static bool is_request_link(const struct link *l)
{
	return l->kind == LINK_RR || (l->kind == LINK_MAIN && l->r->mode == MODE_REQUEST);
}

static bool link_writes(const struct link *l)
{
	return l->kind != LINK_SUB;
}

/* Close a link's endpoint once what it owes is in (see the top of the file): a request
 * endpoint ends (EOF) once shut down and all answered; a publisher once flushed; a
 * connection once both its directions ended. */
static void link_finish_check(struct link *l)
{
	if (l->ep->flags & OC_EPF_CLOSING)
		return;
	bool done = l->down || !link_writes(l) || (l->eof && (l->flushed || is_request_link(l))) ||
		    (l->flushed && l->kind == LINK_PUB);
	if (done)
		oc_ep_close(l->ep);
}

/* Shut a link down (quit): now when it is ready, else once it is. */
static void link_shutdown(struct link *l)
{
	if (!l->ready) {
		l->shut_wanted = true;
		return;
	}
	oc_ep_shutdown(l->ep);
}

static void link_ready(struct oc_ep *ep)
{
	struct link *l = ep->owner;
	struct oc_msg *m;
	l->ready = true;
	while ((m = oc_msgq_pop(&l->waiting)))
		oc_ep_write(ep, m);
	if (l->shut_wanted)
		oc_ep_shutdown(ep);
	/* a request endpoint is ready at once (HTTP connects per request): nothing to say; a
	 * script hears of connections with -v only */
	if (l->kind == LINK_MAIN && l->r->mode == MODE_REQUEST)
		return;
	if (!oc_le_is_tty(l->r->le) && !oc_log.verbose)
		return;
	if (l->kind == LINK_SUB)
		say(l->r, false, "subscribed to %s", l->topic);
	else
		say(l->r, false, "connected: %s%s", ep->name,
		    l->kind == LINK_PUB ? " (publishing)" : l->kind == LINK_RR ? " (requests)" : "");
}

static void link_msg(struct oc_ep *ep, struct oc_msg *m)
{
	struct link *l = ep->owner;
	struct repl *r = l->r;
	if (is_request_link(l) && l->outstanding)
		l->outstanding--;
	if (m->f[OC_F_ID] && !strcmp(m->f[OC_F_ID], DISCOVERY_ID)) {
		/* the answer to our own discovery request: paths to complete, not shown */
		oc_linkfmt_targets(m->data, m->len, remember_path, &r->seen_paths);
		oc_msg_unref(m);
		return;
	}
	r->received++;
	if (m->f[OC_F_TOPIC])
		remember(&r->seen_topics, m->f[OC_F_TOPIC], strlen(m->f[OC_F_TOPIC]));
	for (unsigned k = 0; k < m->nhdrs; k++)
		remember(&r->seen_hdrs, m->hdrs[k].name, strlen(m->hdrs[k].name));
	struct oc_text t = { 0 };
	oc_show_msg(&r->show, m, &t);
	out(r, t.s, t.len);
	oc_text_release(&t);
	oc_msg_unref(m);
}

static void link_drain(struct oc_ep *ep)
{
	struct link *l = ep->owner;
	if (!l->r->quitting)
		oc_le_resume(l->r->le);
}

static void link_eof(struct oc_ep *ep)
{
	struct link *l = ep->owner;
	l->eof = true;
	if (!l->retired) {
		say(l->r, false, "closed by the peer: %s", ep->name);
		l->down = true;
	}
	link_finish_check(l);
}

static void link_flushed(struct oc_ep *ep)
{
	struct link *l = ep->owner;
	l->flushed = true;
	link_finish_check(l);
}

static void link_error(struct oc_ep *ep)
{
	struct link *l = ep->owner;
	struct repl *r = l->r;
	l->down = true;
	if (!oc_le_is_tty(r->le)) /* a script: the first failure decides, as in `client` */
		oc_run_end(&r->c->run, ep->err, ep->errmsg);
	else
		say(r, true, "%s", ep->errmsg);
	link_finish_check(l);
}

static const struct oc_ep_events link_events = {
	.ready = link_ready,
	.msg = link_msg,
	.drain = link_drain,
	.eof = link_eof,
	.flushed = link_flushed,
	.error = link_error,
	.closed = link_closed,
};

static enum oc_role kind_role(enum link_kind k)
{
	return k == LINK_PUB ? OC_ROLE_PUB : k == LINK_SUB ? OC_ROLE_SUB : OC_ROLE_CLIENT;
}

/* The endpoint options: the command line's; in send mode also the :set headers, which a
 * stream adapter sends with its handshake. */
static void link_cfg(const struct repl *r, struct oc_cfg *cfg)
{
	oc_cfg_copy(cfg, &r->c->args.ep[0]);
	for (size_t i = 0; r->mode == MODE_SEND && i < r->nhdrs; i++) {
		char *h = xasprintf("%s: %s", r->hdrs[i].key, r->hdrs[i].value);
		oc_cfg_add_multi(cfg, "header", h, false);
		free(h);
	}
}

/* The URL a link opens: the session's, or for a topic link the same broker with its topic. */
static char *link_url(const struct repl *r, enum link_kind kind, const char *topic)
{
	if (topic && (kind == LINK_SUB || kind == LINK_RR || kind == LINK_PUB)) {
		char *u = oc_url_with_path(r->url, topic);
		if (u)
			return u;
	}
	return xstrdup(r->url);
}

static void send_discovery(struct link *l);

static struct link *link_open(struct repl *r, enum link_kind kind, const char *topic)
{
	struct oc_cfg cfg;
	link_cfg(r, &cfg);
	char *url = link_url(r, kind, topic), err[512];
	struct oc_ep *ep;
	int e = oc_ep_create(url, &cfg, kind_role(kind), &ep, err, sizeof(err));
	free(url);
	oc_cfg_release(&cfg);
	if (e) {
		say(r, true, "%s", err);
		return NULL;
	}
	struct link *l = xcalloc(1, sizeof(*l));
	l->r = r;
	l->ep = ep;
	l->kind = kind;
	l->topic = topic ? xstrdup(topic) : NULL;
	l->next = r->links;
	r->links = l;
	oc_ep_set_events(ep, &link_events, l);
	if ((e = oc_ep_open(ep)) != 0) {
		say(r, true, "%s", ep->errmsg);
		l->down = true;
		oc_ep_close(ep);
		return NULL;
	}
	if (kind != LINK_PUB)
		oc_ep_resume(ep);
	if (kind == LINK_MAIN && r->mode == MODE_REQUEST && r->ad->discovery)
		send_discovery(l);
	return l;
}

static void link_free(struct link *l)
{
	oc_msgq_release(&l->waiting);
	free(l->topic);
	free(l);
}

static void link_closed(struct oc_ep *ep)
{
	struct link *l = ep->owner;
	struct repl *r = l->r;
	for (struct link **p = &r->links; *p; p = &(*p)->next)
		if (*p == l) {
			*p = l->next;
			break;
		}
	link_free(l);
	maybe_done(r);
}

/* The live link of a kind (and topic), or NULL. */
static struct link *find_link(struct repl *r, enum link_kind kind, const char *topic)
{
	for (struct link *l = r->links; l; l = l->next)
		if (l->kind == kind && !l->down && !l->retired &&
		    !(l->ep->flags & OC_EPF_CLOSING) &&
		    (!topic || (l->topic && !strcmp(l->topic, topic))))
			return l;
	return NULL;
}

/* Whether l is one of the links of a kind (-1: any) and topic (NULL: any), not closing. */
static bool link_is(const struct link *l, int kind, const char *topic)
{
	return (kind < 0 || l->kind == (enum link_kind)kind) &&
	       (!topic || (l->topic && !strcmp(l->topic, topic))) &&
	       !(l->ep->flags & OC_EPF_CLOSING);
}

/* Close those links at once (what they hold is dropped); how many. */
static unsigned drop_links(struct repl *r, int kind, const char *topic)
{
	unsigned n = 0;
	for (struct link *l = r->links; l; l = l->next)
		if (link_is(l, kind, topic)) {
			oc_ep_close(l->ep); /* the closed event comes on a later turn */
			n++;
		}
	return n;
}

static void retire_wait_cb(uv_timer_t *t)
{
	struct repl *r = t->data;
	for (struct link *l = r->links; l; l = l->next)
		if (l->retired && !(l->ep->flags & OC_EPF_CLOSING))
			oc_ep_close(l->ep); /* answers that did not come in time are given up */
}

/* Shut l down; it closes once its answers are in (link_finish_check), or when
 * RETIRE_WAIT_MS have passed (retire_links starts the wait). */
static void retire_link(struct link *l)
{
	l->retired = true;
	if (link_writes(l) && !l->down)
		link_shutdown(l);
	link_finish_check(l);
}

static void retire_wait(struct repl *r)
{
	if (!r->retire_timer) {
		r->retire_timer = xmalloc(sizeof(*r->retire_timer));
		uv_timer_init(uv_default_loop(), r->retire_timer);
		r->retire_timer->data = r;
	}
	uv_timer_start(r->retire_timer, retire_wait_cb, RETIRE_WAIT_MS, 0);
}

static void retire_links(struct repl *r, int kind, const char *topic)
{
	for (struct link *l = r->links; l; l = l->next)
		if (link_is(l, kind, topic) && !l->retired)
			retire_link(l);
	retire_wait(r);
}

/* ---- sending ----------------------------------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* :hex lines: pairs of hex digits, blanks between them allowed. */
static int decode_hex(const char *s, size_t n, char **out, size_t *len)
{
	char *b = xmalloc(n / 2 + 1);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n')
			continue;
		int hi = hexval(s[i]), lo = i + 1 < n ? hexval(s[i + 1]) : -1;
		if (hi < 0 || lo < 0) {
			free(b);
			return -1;
		}
		b[k++] = (char)(hi << 4 | lo);
		i++;
	}
	*out = b;
	*len = k;
	return 0;
}

/* A message with body as its payload (as :text, :binary or :hex say) and the :set headers
 * (which send mode gives the handshake instead); NULL after saying why. */
static struct oc_msg *body_msg(struct repl *r, const char *body, size_t n)
{
	struct oc_msg *m = oc_msg_new();
	if (r->pay == PAY_HEX) {
		char *bytes;
		size_t len;
		if (decode_hex(body, n, &bytes, &len)) {
			say(r, true, "not hex: '%.*s' (:text sends text)", (int)n, body);
			oc_msg_unref(m);
			return NULL;
		}
		oc_msg_take_payload(m, bytes, len);
	} else {
		oc_msg_set_payload_copy(m, body, n);
	}
	if (r->pay != PAY_TEXT)
		m->flags |= OC_MSG_BINARY;
	for (size_t i = 0; r->mode != MODE_SEND && i < r->nhdrs; i++)
		oc_msg_add_header(m, r->hdrs[i].key, strlen(r->hdrs[i].key), r->hdrs[i].value,
				  strlen(r->hdrs[i].value));
	return m;
}

/* Path and query of "/a/b?x=1" into m. */
static void set_path(struct oc_msg *m, const char *p, size_t n)
{
	const char *q = memchr(p, '?', n);
	oc_msg_set(m, OC_F_PATH, p, q ? (size_t)(q - p) : n);
	if (q)
		oc_msg_set(m, OC_F_QUERY, q + 1, n - (size_t)(q - p) - 1);
}

static bool known_method(const struct oc_adapter *ad, const char *m, size_t n)
{
	for (const char *const *k = ad->methods; k && *k; k++)
		if (strlen(*k) == n && !strncmp(*k, m, n))
			return true;
	return false;
}

static void write_link(struct repl *r, struct link *l, struct oc_msg *m)
{
	if (is_request_link(l))
		l->outstanding++;
	r->sent++;
	if (!l->ready) {
		oc_msgq_push(&l->waiting, m);
		return;
	}
	oc_ep_write(l->ep, m);
	if (oc_ep_full(l->ep)) /* drain resumes the input */
		oc_le_pause(r->le);
}

/* The link a line goes to, opened when missing (the first line, or after a failure). */
static struct link *target_link(struct repl *r, enum link_kind kind, const char *topic)
{
	struct link *l = find_link(r, kind, topic);
	return l ? l : link_open(r, kind, topic);
}

static void send_discovery(struct link *l)
{
	struct oc_msg *m = oc_msg_new();
	oc_msg_set_str(m, OC_F_METHOD, "GET");
	oc_msg_set_str(m, OC_F_PATH, l->r->ad->discovery);
	oc_msg_set_str(m, OC_F_ID, DISCOVERY_ID);
	l->outstanding++;
	oc_msgq_push(&l->waiting, m); /* it is being opened: sent once ready */
}

/* "METHOD /path [BODY]" or a body with :method and :path. */
static void send_request(struct repl *r, const char *line)
{
	const char *sp = strchr(line, ' ');
	size_t mlen = sp ? (size_t)(sp - line) : strlen(line);
	const char *path = sp ? sp + 1 : NULL;
	bool parsed = !r->raw && path && *path == '/' && known_method(r->ad, line, mlen);
	const char *body = line;
	size_t plen = 0;
	if (parsed) {
		plen = strcspn(path, " ");
		body = path[plen] ? path + plen + 1 : path + plen;
	}
	struct oc_msg *m = body_msg(r, body, strlen(body));
	if (!m)
		return;
	if (parsed) {
		oc_msg_set(m, OC_F_METHOD, line, mlen);
		set_path(m, path, plen);
		remember(&r->seen_paths, path, plen);
	} else {
		if (r->method)
			oc_msg_set_str(m, OC_F_METHOD, r->method);
		if (r->path)
			set_path(m, r->path, strlen(r->path));
	}
	char id[24];
	snprintf(id, sizeof(id), "%lu", ++r->next_id);
	oc_msg_set_str(m, OC_F_ID, id);
	struct link *l = target_link(r, LINK_MAIN, NULL);
	if (l)
		write_link(r, l, m);
	else
		oc_msg_unref(m);
}

static void send_topic(struct repl *r, const char *line)
{
	if (!r->topic) {
		say(r, true, "no topic to publish to; use :topic T");
		return;
	}
	struct oc_msg *m = body_msg(r, line, strlen(line));
	if (!m)
		return;
	oc_msg_set_str(m, OC_F_TOPIC, r->topic);
	if (r->qos >= 0)
		oc_msg_set_qos(m, r->qos);
	if (r->retain)
		oc_msg_set_retain(m, true);
	remember(&r->seen_topics, r->topic, strlen(r->topic));
	struct link *l = r->request ? target_link(r, LINK_RR, r->topic)
				    : target_link(r, LINK_PUB, NULL);
	if (l)
		write_link(r, l, m);
	else
		oc_msg_unref(m);
}

static void send_line(struct repl *r, const char *line)
{
	if (r->mode == MODE_REQUEST) {
		send_request(r, line);
		return;
	}
	if (!*line) /* an empty line is no message, but a request without a body is one */
		return;
	if (r->mode == MODE_TOPICS) {
		send_topic(r, line);
		return;
	}
	if (!(r->ad->flags & OC_AF_PUB)) {
		say(r, true, "'%s' only receives", r->ad->name);
		return;
	}
	struct oc_msg *m = body_msg(r, line, strlen(line));
	struct link *l = m ? target_link(r, LINK_MAIN, NULL) : NULL;
	if (l)
		write_link(r, l, m);
	else if (m)
		oc_msg_unref(m);
}

/* ---- meta commands ----------------------------------------------------------------------- */

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
	say(r, true, "usage: :%s on|off", name);
	return false;
}

static void replace_str(char **dst, const char *s)
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
	out(r, t.s, t.len);
	oc_text_release(&t);
}

static void quit(struct repl *r);

static void m_quit(struct repl *r, char *arg)
{
	quit(r);
}

static const char *mode_name(enum mode m)
{
	return m == MODE_TOPICS ? "topics" : m == MODE_REQUEST ? "request/response" : "messages";
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
		if (is_request_link(l))
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
	out(r, t.s, t.len);
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
		say(r, true, "usage: :set header NAME VALUE");
		return;
	}
	unset_header(r, name);
	r->hdrs = xrealloc(r->hdrs, (r->nhdrs + 1) * sizeof(*r->hdrs));
	r->hdrs[r->nhdrs].key = xstrdup(name);
	r->hdrs[r->nhdrs].value = xstrdup(value);
	r->hdrs[r->nhdrs].global = false;
	r->nhdrs++;
	remember(&r->seen_hdrs, name, strlen(name));
	if (r->mode == MODE_SEND)
		say(r, false, "header %s goes with the next connection (:reconnect)", name);
}

static void m_unset(struct repl *r, char *arg)
{
	char *rest;
	char *name = header_arg(arg, &rest);
	if (!name) {
		say(r, true, "usage: :unset header NAME");
		return;
	}
	unset_header(r, name);
}

static bool has_wildcard(const char *topic)
{
	return strpbrk(topic, "+#") != NULL;
}

static void m_topic(struct repl *r, char *arg)
{
	if (!*arg) {
		say(r, false, "topic: %s", r->topic ? r->topic : "(none)");
		return;
	}
	if (has_wildcard(arg)) {
		say(r, true, "cannot publish to a filter: '%s'", arg);
		return;
	}
	replace_str(&r->topic, arg);
	remember(&r->seen_topics, arg, strlen(arg));
}

static void m_sub(struct repl *r, char *arg)
{
	if (!*arg) {
		say(r, true, "usage: :sub FILTER");
		return;
	}
	if (find_link(r, LINK_SUB, arg)) {
		say(r, false, "already subscribed to '%s'", arg);
		return;
	}
	remember(&r->seen_topics, arg, strlen(arg));
	link_open(r, LINK_SUB, arg);
}

static void m_unsub(struct repl *r, char *arg)
{
	if (!drop_links(r, LINK_SUB, arg))
		say(r, true, "not subscribed to '%s'", arg);
}

static void m_qos(struct repl *r, char *arg)
{
	if (strlen(arg) != 1 || arg[0] < '0' || arg[0] > '2') {
		say(r, true, "usage: :qos 0|1|2");
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
	if (!known_method(r->ad, arg, strlen(arg))) {
		struct oc_text t = { 0 };
		for (const char *const *k = r->ad->methods; k && *k; k++)
			oc_text_printf(&t, " %s", *k);
		say(r, true, "'%s' is not a %s method:%s", arg, r->ad->name, t.s ? t.s : "");
		oc_text_release(&t);
		return;
	}
	replace_str(&r->method, arg);
}

static void m_path(struct repl *r, char *arg)
{
	if (*arg != '/') {
		say(r, true, "usage: :path /PATH");
		return;
	}
	replace_str(&r->path, arg);
	remember(&r->seen_paths, arg, strlen(arg));
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
		retire_links(r, LINK_RR, NULL);
}

static void m_load(struct repl *r, char *arg)
{
	FILE *f = *arg ? fopen(arg, "r") : NULL;
	if (!f) {
		say(r, true, "cannot open '%s': %s", arg, *arg ? strerror(errno) : "no file named");
		return;
	}
	if (r->loading >= LOAD_DEPTH) {
		fclose(f);
		say(r, true, "':load %s' nested too deep", arg);
		return;
	}
	r->loading++;
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	while (!r->quitting && (n = getline(&buf, &cap, f)) >= 0) {
		if (n && buf[n - 1] == '\n')
			buf[n - 1] = '\0';
		on_line(r, buf);
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
		say(r, true, "cannot open '%s' for appending: %s", arg,
		    *arg ? strerror(errno) : "no file named");
}

static void open_session(struct repl *r);

/* Each link is replaced by a new one to the same place; the old ones finish gracefully. */
static void m_reconnect(struct repl *r, char *arg)
{
	struct link *old = r->links; /* new links go in front of it */
	bool any = false;
	for (struct link *l = old; l; l = l->next) {
		if (!link_is(l, -1, NULL) || l->retired)
			continue;
		retire_link(l);
		link_open(r, l->kind, l->topic);
		any = true;
	}
	retire_wait(r);
	if (!any)
		open_session(r);
}

static void m_close(struct repl *r, char *arg)
{
	retire_links(r, -1, NULL);
}

static int set_url(struct repl *r, const char *url, char *err, size_t errlen);

static void m_open(struct repl *r, char *arg)
{
	char err[512];
	if (!*arg) {
		say(r, true, "usage: :open URL");
		return;
	}
	retire_links(r, -1, NULL);
	if (set_url(r, arg, err, sizeof(err)))
		say(r, true, "%s", err);
	else
		open_session(r);
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

static void run_meta(struct repl *r, char *line)
{
	size_t n = strcspn(line, " ");
	const struct meta *m = find_meta(line, n);
	if (!m) {
		say(r, true, "unknown command ':%.*s' (:help lists them)", (int)n, line);
		return;
	}
	if (!supports(r, m->need)) {
		say(r, true, "':%s' does not apply to %s", m->name, r->ad->name);
		return;
	}
	char *arg = line + n;
	arg += strspn(arg, " ");
	size_t len = strlen(arg);
	while (len && arg[len - 1] == ' ')
		arg[--len] = '\0';
	m->fn(r, arg);
}

/* ---- input ------------------------------------------------------------------------------- */

static void on_line(void *ud, const char *line)
{
	struct repl *r = ud;
	if (!line) {
		quit(r);
		return;
	}
	if (r->quitting)
		return;
	if (r->log)
		fprintf(r->log, "> %s\n", line);
	if (line[0] == ':' && line[1] != ':') {
		char *copy = xstrdup(line + 1);
		run_meta(r, copy);
		free(copy);
		return;
	}
	send_line(r, line[0] == ':' ? line + 1 : line);
}

/* Ctrl-C: the line is cleared already; outstanding requests are cancelled by closing their
 * endpoints (the next request opens a new one). */
static void on_interrupt(void *ud)
{
	struct repl *r = ud;
	unsigned n = 0;
	for (struct link *l = r->links; l; l = l->next)
		if (is_request_link(l) && l->outstanding && !(l->ep->flags & OC_EPF_CLOSING)) {
			n += l->outstanding;
			oc_ep_close(l->ep);
		}
	if (n)
		say(r, false, "cancelled %u request%s", n, n == 1 ? "" : "s");
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

static char **on_complete(void *ud, const char *line, int start, bool *files)
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

/* ---- the session ------------------------------------------------------------------------- */

/* The path part of url (its topic, for a topic URL) without the leading '/', or NULL. */
static char *url_path(const char *url)
{
	char scheme[32], err[256];
	const struct oc_scheme *s;
	if (oc_url_scheme(url, scheme, sizeof(scheme), err, sizeof(err)) ||
	    !(s = oc_scheme_find(scheme)))
		return NULL;
	struct oc_url u;
	char *path = NULL;
	if (!oc_url_parse(url, s->form, &u, err, sizeof(err)) && u.path && u.path[0] == '/' &&
	    u.path[1])
		path = xstrdup(u.path + 1);
	oc_url_release(&u);
	return path;
}

static enum mode mode_of(const struct oc_adapter *ad)
{
	if (ad->flags & OC_AF_TOPICS)
		return MODE_TOPICS;
	return (ad->flags & OC_AF_REQUEST) ? MODE_REQUEST : MODE_SEND;
}

/* Switch to url: its adapter and mode, and the topic it names. */
static int set_url(struct repl *r, const char *url, char *err, size_t errlen)
{
	const struct oc_adapter *ad = oc_adapter_of(url, OC_ROLE_CLIENT);
	if (!ad) {
		/* creating it says why: unknown scheme, not built in, or a bad URL */
		struct oc_ep *ep;
		int e = oc_ep_create(url, &r->c->args.ep[0], OC_ROLE_CLIENT, &ep, err, errlen);
		if (!e) {
			snprintf(err, errlen, "'%s' cannot be talked to in a repl", url);
			oc_ep_close(ep);
			e = OC_EUNSUPPORTED;
		}
		return e;
	}
	replace_str(&r->url, url);
	r->ad = ad;
	r->mode = mode_of(ad);
	char *topic = url_path(url);
	if (r->mode == MODE_TOPICS && topic && !has_wildcard(topic))
		replace_str(&r->topic, topic);
	free(topic);
	return 0;
}

/* What a session opens at once: the connection, or the URL's subscription (a publisher
 * opens with the first line). */
static void open_session(struct repl *r)
{
	if (r->mode != MODE_TOPICS) {
		link_open(r, LINK_MAIN, NULL);
		return;
	}
	char *filter = url_path(r->url);
	if (filter)
		link_open(r, LINK_SUB, filter);
	free(filter);
}

static void repl_free(struct repl *r)
{
	free(r->url);
	for (size_t i = 0; i < r->nhdrs; i++) {
		free(r->hdrs[i].key);
		free(r->hdrs[i].value);
	}
	free(r->hdrs);
	free(r->topic);
	free(r->method);
	free(r->path);
	if (r->log)
		fclose(r->log);
	forget_all(&r->seen_hdrs);
	forget_all(&r->seen_topics);
	forget_all(&r->seen_paths);
	free(r);
}

static void le_closed(void *ud)
{
	struct repl *r = ud;
	oc_run_task_done(&r->c->run, &r->task);
	repl_free(r);
}

static void maybe_done(struct repl *r)
{
	if (!r->quitting || r->links)
		return;
	if (r->retire_timer) {
		oc_uv_close_free(r->retire_timer);
		r->retire_timer = NULL;
	}
	oc_le_close(r->le);
}

static void quit(struct repl *r)
{
	if (r->quitting)
		return;
	r->quitting = true;
	oc_le_pause(r->le);
	retire_links(r, -1, NULL);
	maybe_done(r);
}

static void repl_stop(struct oc_task *t)
{
	struct repl *r = (struct repl *)((char *)t - offsetof(struct repl, task));
	quit(r);
}

/* NO_COLOR (https://no-color.org): present and not empty turns colour off. */
static bool want_color(const struct oc_cfg *cfg)
{
	const char *nc = getenv("NO_COLOR");
	return isatty(STDOUT_FILENO) && isatty(STDIN_FILENO) && !cfg->no_color && !(nc && *nc);
}

/* Options that apply to none of the URL's endpoints are usage errors, as for every command:
 * checked on an endpoint created and closed unopened. */
static int check_options(struct repl *r)
{
	char *topic = url_path(r->url);
	bool sub = r->mode == MODE_TOPICS;
	int status = 0;
	if (!sub || topic) {
		struct oc_ep *ep = cmd_endpoint(r->url, &r->c->args.ep[0],
						sub ? OC_ROLE_SUB : OC_ROLE_CLIENT, &status);
		if (ep) {
			status = cmd_check_options(&ep, 1);
			oc_ep_close(ep);
		}
	}
	free(topic);
	return status;
}

static int start_editor(struct repl *r)
{
	static const struct oc_le_hooks hooks_proto = {
		.line = on_line,
		.interrupt = on_interrupt,
		.complete = on_complete,
		.closed = le_closed,
	};
	struct oc_le_hooks hooks = hooks_proto;
	hooks.ud = r;
	char scheme[32], err[512];
	oc_url_scheme(r->url, scheme, sizeof(scheme), err, sizeof(err));
	char *history = r->c->args.run.no_history ? NULL : oc_le_history_path(scheme);
	char *prompt = xasprintf("%s> ", scheme);
	int e = oc_le_open(&r->le, prompt, history, &hooks, err, sizeof(err));
	free(prompt);
	free(history);
	return e ? cmd_fail(e, err) : 0;
}

int cmd_repl(struct cmd_ctx *c)
{
	struct repl *r = xcalloc(1, sizeof(*r));
	const struct oc_cfg *cfg = &c->args.ep[0];
	char err[512];
	r->c = c;
	r->qos = -1;
	r->retain = cfg->retain;
	r->show = (struct oc_show){ .color = want_color(cfg), .json = true, .headers = cfg->include };
	int e = set_url(r, c->args.urls[0], err, sizeof(err));
	int status = e ? cmd_fail(e, err) : 0;
	if (!status && cfg->qos && cfg->qos[0] >= '0' && cfg->qos[0] <= '2')
		r->qos = cfg->qos[0] - '0';
	if (!status)
		status = check_options(r);
	if (!status)
		status = start_editor(r);
	if (status) {
		repl_free(r);
		return status;
	}
	if (oc_le_is_tty(r->le))
		oc_run_own_sigint(&c->run);
	oc_run_add(&c->run, &r->task, repl_stop);
	open_session(r);
	return 0;
}
