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
 * Lines starting with ':' are meta commands (one table, in repl_meta.c; "::" sends a line
 * starting with ':'). Settings (headers, QoS, method...) go with each message as its envelope, which
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
#include "err.h"
#include "hex.h"
#include "linkfmt.h"
#include "log.h"
#include "repl.h"
#include "xalloc.h"

#define RETIRE_WAIT_MS 3000 /* how long a retired link may wait for answers still owed */
#define DISCOVERY_ID "discovery" /* the id of the resource discovery request */

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

void repl_out(struct repl *r, const char *s, size_t n)
{
	oc_le_print(r->le, s, n);
	log_text(r, s, n);
}

/* A notice about the session: on a terminal, on the screen above the prompt; without one,
 * stdout is for what arrives and notices go to stderr as everywhere else. */

void repl_say(struct repl *r, bool error, const char *fmt, ...)
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

void repl_remember(struct words *w, const char *s, size_t n)
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
	repl_remember(ud, s, n);
}

/* ---- links ------------------------------------------------------------------------------- */

static void link_closed(struct oc_ep *ep);
static void maybe_done(struct repl *r);

static bool link_writes(const struct link *l)
{
	return l->kind != LINK_SUB;
}

/* A script's next line waits until every request sent was answered (or dropped), so that a
 * setting typed after a request (:headers, :json...) applies to the next answer, as it would
 * at a terminal; see write_link. */
static void input_after_answers(struct repl *r)
{
	if (!r->awaiting || r->quitting)
		return;
	for (struct link *l = r->links; l; l = l->next)
		if (l->request && l->outstanding && !(l->ep->flags & OC_EPF_CLOSING))
			return;
	r->awaiting = false;
	oc_le_resume(r->le);
}

/* Close a link's endpoint once what it owes is in (see the top of the file): a request
 * endpoint ends (EOF) once shut down and all answered; a publisher, or a listener's peers
 * (which never end as one), once flushed; a connection once both its directions ended. */
static void link_finish_check(struct link *l)
{
	if (l->ep->flags & OC_EPF_CLOSING)
		return;
	bool done = l->down || !link_writes(l) || (l->eof && (l->flushed || l->request)) ||
		    (l->flushed && (l->kind == LINK_PUB || l->listener));
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

/* Something arrived: shown, and its topic and header names kept for Tab. */
static void show_msg(struct repl *r, const struct oc_msg *m)
{
	r->received++;
	if (m->f[OC_F_TOPIC])
		repl_remember(&r->seen_topics, m->f[OC_F_TOPIC], strlen(m->f[OC_F_TOPIC]));
	for (unsigned k = 0; k < m->nhdrs; k++)
		repl_remember(&r->seen_hdrs, m->hdrs[k].name, strlen(m->hdrs[k].name));
	struct oc_text t = { 0 };
	oc_show_msg(&r->show, m, &t);
	repl_out(r, t.s, t.len);
	oc_text_release(&t);
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
		repl_say(l->r, false, "subscribed to %s", l->topic);
	else
		repl_say(l->r, false, "connected: %s%s", ep->name,
		    l->kind == LINK_PUB ? " (publishing)" : l->kind == LINK_RR ? " (requests)" : "");
}

/* A request server answers by itself unless --reply-stdin gives the answers to us. */
static bool answers_by_hand(const struct repl *r)
{
	return oc_cfg_kv(&r->c->args.ep[0], "reply-stdin") != NULL;
}

static void link_msg(struct oc_ep *ep, struct oc_msg *m)
{
	struct link *l = ep->owner;
	struct repl *r = l->r;
	bool answer = l->request && l->outstanding;
	if (answer)
		l->outstanding--;
	if (m->f[OC_F_ID] && !strcmp(m->f[OC_F_ID], DISCOVERY_ID)) {
		/* the answer to our own discovery request: paths to complete, not shown */
		oc_linkfmt_targets(m->data, m->len, remember_path, &r->seen_paths);
	} else {
		show_msg(r, m);
		if (r->mode == MODE_ANSWER && answers_by_hand(r) && m->f[OC_F_ID])
			oc_msgq_push(&r->unanswered, oc_msg_ref(m));
	}
	oc_msg_unref(m);
	if (answer) /* after it was shown: the next line may change how answers look */
		input_after_answers(r);
}

static void link_drain(struct oc_ep *ep)
{
	struct link *l = ep->owner;
	if (!l->r->quitting && !l->r->awaiting)
		oc_le_resume(l->r->le);
}

static void link_eof(struct oc_ep *ep)
{
	struct link *l = ep->owner;
	l->eof = true;
	if (!l->retired) {
		repl_say(l->r, false, "closed by the peer: %s", ep->name);
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

/* A link failed: on a terminal it is shown and the session goes on; a script ends with it,
 * the first failure deciding the exit status as in `client`. */
static void link_failed(struct repl *r, int err, const char *msg)
{
	if (oc_le_is_tty(r->le))
		repl_say(r, true, "%s", msg);
	else
		oc_run_end(&r->c->run, err, msg);
}

static void link_error(struct oc_ep *ep)
{
	struct link *l = ep->owner;
	l->down = true;
	link_failed(l->r, ep->err, ep->errmsg);
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

/* The endpoint options of link l: the command line's; in send mode also the :set headers,
 * which a stream adapter sends with its handshake. A broker lets one connection at a time use
 * a client id, so the session's later connections (a publisher, each :sub) get --client-id,
 * or --session (which names the client too), with "-N" added. */
static void link_cfg(struct repl *r, struct link *l, struct oc_cfg *cfg)
{
	oc_cfg_copy(cfg, &r->c->args.ep[0]);
	const char *session = oc_cfg_kv(cfg, "session");
	if ((cfg->client_id || session) && r->opened++) {
		if (cfg->client_id) {
			l->client_id = xasprintf("%s-%u", cfg->client_id, r->opened);
			cfg->client_id = l->client_id; /* the link outlives its endpoint */
		}
		if (session) { /* the last value of a key wins */
			char *s = xasprintf("%s-%u", session, r->opened);
			oc_cfg_add_kv(cfg, "session", s, false);
			free(s);
		}
	}
	for (size_t i = 0; r->mode == MODE_SEND && i < r->nhdrs; i++) {
		char *h = xasprintf("%s: %s", r->hdrs[i].key, r->hdrs[i].value);
		oc_cfg_add_multi(cfg, "header", h, false);
		free(h);
	}
}

/* The URL a link opens: the session's, or for a topic link the same broker with its topic
 * (a publisher's: the current one; each message names its own, but the URL needs one). */
static char *link_url(const struct repl *r, enum link_kind kind, const char *topic)
{
	if (kind == LINK_PUB)
		topic = r->topic;
	if (topic && (kind == LINK_SUB || kind == LINK_RR || kind == LINK_PUB)) {
		char *u = oc_url_with_path(r->url, topic);
		if (u)
			return u;
	}
	return xstrdup(r->url);
}

static void send_discovery(struct link *l);

static void link_free(struct link *l);

struct link *repl_link_open(struct repl *r, enum link_kind kind, const char *topic)
{
	struct link *l = xcalloc(1, sizeof(*l));
	struct oc_cfg cfg;
	link_cfg(r, l, &cfg);
	char *url = link_url(r, kind, topic), err[512];
	struct oc_ep *ep;
	int e = oc_ep_create(url, &cfg, kind_role(kind), &ep, err, sizeof(err));
	free(url);
	oc_cfg_release(&cfg);
	if (e) {
		link_failed(r, e, err);
		link_free(l);
		return NULL;
	}
	struct oc_ep *one = cmd_aggregate(ep, false); /* a listener: its peers as one */
	l->listener = one != ep;
	ep = one;
	l->r = r;
	l->ep = ep;
	l->kind = kind;
	l->request = kind == LINK_RR || (kind == LINK_MAIN && r->mode == MODE_REQUEST);
	l->topic = topic ? xstrdup(topic) : NULL;
	l->next = r->links;
	r->links = l;
	oc_ep_set_events(ep, &link_events, l);
	if ((e = oc_ep_open(ep)) != 0) {
		link_failed(r, e, ep->errmsg);
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
	free(l->client_id);
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
	input_after_answers(r); /* what it owed will not come */
	maybe_done(r);
}

/* The live link of a kind (and topic), or NULL. */
struct link *repl_find_link(struct repl *r, enum link_kind kind, const char *topic)
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
unsigned repl_drop_links(struct repl *r, int kind, const char *topic)
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
 * RETIRE_WAIT_MS have passed (retire_wait starts that wait). */
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

void repl_retire_links(struct repl *r, int kind, const char *topic)
{
	for (struct link *l = r->links; l; l = l->next)
		if (link_is(l, kind, topic) && !l->retired)
			retire_link(l);
	retire_wait(r);
}

/* Each link is replaced by a new one to the same place; the old ones finish gracefully. */
void repl_reconnect(struct repl *r)
{
	struct link *old = r->links; /* new links go in front of it */
	bool any = false;
	for (struct link *l = old; l; l = l->next) {
		if (!link_is(l, -1, NULL) || l->retired)
			continue;
		retire_link(l);
		repl_link_open(r, l->kind, l->topic);
		any = true;
	}
	retire_wait(r);
	if (!any)
		repl_open_session(r);
}

/* ---- sending ----------------------------------------------------------------------------- */

/* A message with body as its payload (as :text, :binary or :hex say) and the :set headers
 * (which send mode gives the handshake instead); NULL after saying why. */
static struct oc_msg *body_msg(struct repl *r, const char *body, size_t n)
{
	struct oc_msg *m = oc_msg_new();
	if (r->pay == PAY_HEX) {
		char *bytes = xmalloc(n / 2 + 1);
		ssize_t len = oc_hex_decode(body, n, (unsigned char *)bytes, n / 2 + 1);
		if (len < 0) {
			free(bytes);
			repl_say(r, true, "not hex: '%.*s' (:text sends text)", (int)n, body);
			oc_msg_unref(m);
			return NULL;
		}
		oc_msg_take_payload(m, bytes, (size_t)len);
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

bool repl_known_method(const struct oc_adapter *ad, const char *m, size_t n)
{
	for (const char *const *k = ad->methods; k && *k; k++)
		if (strlen(*k) == n && !strncmp(*k, m, n))
			return true;
	return false;
}

static void write_link(struct repl *r, struct link *l, struct oc_msg *m)
{
	if (l->request) {
		l->outstanding++;
		if (!oc_le_is_tty(r->le)) { /* input_after_answers resumes */
			r->awaiting = true;
			oc_le_pause(r->le);
		}
	}
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
	struct link *l = repl_find_link(r, kind, topic);
	return l ? l : repl_link_open(r, kind, topic);
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
	bool parsed = !r->raw && path && *path == '/' && repl_known_method(r->ad, line, mlen);
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
		repl_remember(&r->seen_paths, path, plen);
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
		repl_say(r, true, "no topic to publish to; use :topic T");
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
	repl_remember(&r->seen_topics, r->topic, strlen(r->topic));
	struct link *l = r->request ? target_link(r, LINK_RR, r->topic)
				    : target_link(r, LINK_PUB, NULL);
	if (l)
		write_link(r, l, m);
	else
		oc_msg_unref(m);
}

/* A request server's answer: "[STATUS] [BODY]" (STATUS three digits, 200 without) to the
 * oldest request waiting. */
static void send_answer(struct repl *r, const char *line)
{
	if (!answers_by_hand(r)) {
		repl_say(r, true, "'%s' answers requests by itself; with --reply-stdin lines answer them",
			 r->ad->name);
		return;
	}
	struct link *l = repl_find_link(r, LINK_MAIN, NULL);
	if (!r->unanswered.len || !l) {
		repl_say(r, true, "no request is waiting for an answer");
		return;
	}
	int status = 200;
	if (strspn(line, "0123456789") == 3 && (line[3] == ' ' || !line[3])) {
		status = atoi(line);
		line += line[3] ? 4 : 3;
	}
	struct oc_msg *m = body_msg(r, line, strlen(line));
	if (!m)
		return;
	struct oc_msg *req = oc_msgq_pop(&r->unanswered);
	oc_msg_set_str(m, OC_F_ID, req->f[OC_F_ID]);
	oc_msg_unref(req);
	oc_msg_set_status(m, status);
	write_link(r, l, m);
}

static void send_line(struct repl *r, const char *line)
{
	if (r->mode == MODE_REQUEST) {
		send_request(r, line);
		return;
	}
	if (r->mode == MODE_ANSWER) {
		send_answer(r, line);
		return;
	}
	if (!*line) /* an empty line is no message, but a request without a body is one */
		return;
	if (r->mode == MODE_TOPICS) {
		send_topic(r, line);
		return;
	}
	if (!(r->ad->flags & (OC_AF_PUB | OC_AF_SERVER))) { /* a server takes what it serves */
		repl_say(r, true, "'%s' only receives", r->ad->name);
		return;
	}
	struct oc_msg *m = body_msg(r, line, strlen(line));
	struct link *l = m ? target_link(r, LINK_MAIN, NULL) : NULL;
	if (l)
		write_link(r, l, m);
	else if (m)
		oc_msg_unref(m);
}

/* ---- input ------------------------------------------------------------------------------- */

void repl_line(void *ud, const char *line)
{
	struct repl *r = ud;
	if (!line) {
		repl_quit(r);
		return;
	}
	if (r->quitting)
		return;
	if (r->log)
		fprintf(r->log, "> %s\n", line);
	if (line[0] == ':' && line[1] != ':') {
		char *copy = xstrdup(line + 1);
		repl_meta(r, copy);
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
		if (l->request && l->outstanding && !(l->ep->flags & OC_EPF_CLOSING)) {
			n += l->outstanding;
			oc_ep_close(l->ep);
		}
	if (n)
		repl_say(r, false, "cancelled %u request%s", n, n == 1 ? "" : "s");
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
	if (ad->flags & OC_AF_REQUEST) /* a server's requests come in; a client's go out */
		return (ad->flags & OC_AF_CLIENT) ? MODE_REQUEST : MODE_ANSWER;
	return MODE_SEND;
}

/* The adapter a session with url talks to, or NULL with *e and err saying why. */
const struct oc_adapter *repl_url_adapter(struct repl *r, const char *url, int *e, char *err,
					    size_t errlen)
{
	const struct oc_adapter *ad = oc_adapter_of(url, OC_ROLE_CLIENT);
	if (ad)
		return ad;
	/* creating it says why: unknown scheme, not built in, or a bad URL */
	struct oc_ep *ep;
	*e = oc_ep_create(url, &r->c->args.ep[0], OC_ROLE_CLIENT, &ep, err, errlen);
	if (!*e) {
		snprintf(err, errlen, "'%s' cannot be talked to in a repl", url);
		oc_ep_close(ep);
		*e = OC_EUNSUPPORTED;
	}
	return NULL;
}

/* The prompt: the URL's scheme. */
static char *prompt_of(const char *url)
{
	char scheme[32], err[256];
	if (oc_url_scheme(url, scheme, sizeof(scheme), err, sizeof(err)))
		snprintf(scheme, sizeof(scheme), "omnicat");
	return xasprintf("%s> ", scheme);
}

/* Switch to url (its adapter ad): mode, the topic it names, the prompt. */
void repl_set_url(struct repl *r, const char *url, const struct oc_adapter *ad)
{
	repl_replace_str(&r->url, url);
	if (r->le) {
		char *prompt = prompt_of(url);
		oc_le_set_prompt(r->le, prompt);
		free(prompt);
	}
	r->ad = ad;
	r->mode = mode_of(ad);
	r->show.dotted = ad->status_dotted;
	oc_msgq_release(&r->unanswered); /* another endpoint's requests */
	char *topic = url_path(url);
	if (r->mode == MODE_TOPICS && topic && !repl_has_wildcard(topic))
		repl_replace_str(&r->topic, topic);
	free(topic);
}

/* What a session opens at once: the connection, or the URL's subscription (a publisher
 * opens with the first line). */
void repl_open_session(struct repl *r)
{
	if (r->mode != MODE_TOPICS) {
		repl_link_open(r, LINK_MAIN, NULL);
		return;
	}
	char *filter = url_path(r->url);
	if (filter)
		repl_link_open(r, LINK_SUB, filter);
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
	oc_msgq_release(&r->unanswered);
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

void repl_quit(struct repl *r)
{
	if (r->quitting)
		return;
	r->quitting = true;
	oc_le_pause(r->le);
	if (r->abandon)
		repl_drop_links(r, -1, NULL);
	else
		repl_retire_links(r, -1, NULL);
	maybe_done(r);
}

/* stdout went away (a closed pipe: a quiet, prompt end, DESIGN §6) or stdin failed (12). */
static void on_io_failed(void *ud, int err, const char *msg)
{
	struct repl *r = ud;
	r->abandon = true;
	oc_run_end(&r->c->run, err, msg);
}

static void repl_stop(struct oc_task *t)
{
	struct repl *r = (struct repl *)((char *)t - offsetof(struct repl, task));
	repl_quit(r);
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
		.line = repl_line,
		.interrupt = on_interrupt,
		.complete = repl_complete,
		.failed = on_io_failed,
		.closed = le_closed,
	};
	struct oc_le_hooks hooks = hooks_proto;
	hooks.ud = r;
	char scheme[32], err[512];
	oc_url_scheme(r->url, scheme, sizeof(scheme), err, sizeof(err));
	char *history = r->c->args.run.no_history ? NULL : oc_le_history_path(scheme);
	char *prompt = prompt_of(r->url);
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
	int e = 0;
	const struct oc_adapter *ad = repl_url_adapter(r, c->args.urls[0], &e, err, sizeof(err));
	int status = ad ? 0 : cmd_fail(e, err);
	if (ad)
		repl_set_url(r, c->args.urls[0], ad);
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
	repl_open_session(r);
	return 0;
}
