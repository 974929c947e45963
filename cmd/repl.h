/* cmd/repl.h — what the REPL's two files share: repl.c (the session: its endpoints, called
 * links, sending lines and showing what arrives) and repl_meta.c (the meta commands and Tab
 * completion). See repl.c for the design. */
#ifndef OC_REPL_H
#define OC_REPL_H

#include <stdbool.h>
#include <stdio.h>
#include <uv.h>

#include "cmd.h"
#include "lineedit.h"
#include "msgq.h"
#include "show.h"

#define SEEN_MAX 256       /* completion words remembered per kind */

enum mode {
	MODE_SEND,    /* each line a message */
	MODE_REQUEST, /* each line a request, its answer shown */
	MODE_TOPICS,  /* lines published on :topic, filters subscribed */
	MODE_ANSWER,  /* a request server: requests shown, a line answers the oldest waiting
		       * (with --reply-stdin; else the server answers by itself) */
};

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
	bool request;             /* its messages are requests, each answered once */
	bool listener;            /* a listener's peers, as one (core/hub): lines go to all */
	char *topic;              /* LINK_SUB: its filter; LINK_RR: its request topic */
	char *client_id;          /* --client-id made unique for this connection, or NULL */
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
	bool abandon;               /* stdout or stdin failed: end without waiting for answers */
	unsigned opened;            /* links opened with --client-id or --session so far */
	bool awaiting;              /* a script's input waits for the answers owed */
	struct oc_msgq unanswered;  /* MODE_ANSWER: requests waiting for a line, oldest first */
	uv_timer_t *retire_timer;   /* bounds the wait of retired links, or NULL */
	/* completion */
	struct words seen_hdrs, seen_topics, seen_paths;
};

/* ---- repl.c ------------------------------------------------------------------------------ */

/* Show text (complete lines) as what arrives: above the prompt, or on stdout; and in :log. */
void repl_out(struct repl *r, const char *s, size_t n);
/* A notice or an error (one line, no newline): on the terminal, else on stderr. */
void repl_say(struct repl *r, bool error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Add a word to a completion list (n bytes of s), once. */
void repl_remember(struct words *w, const char *s, size_t n);
/* Open a link of a kind (with its filter or request topic); NULL after saying why. */
struct link *repl_link_open(struct repl *r, enum link_kind kind, const char *topic);
/* The live link of a kind (and topic, unless NULL), or NULL. */
struct link *repl_find_link(struct repl *r, enum link_kind kind, const char *topic);
/* Close the links of a kind (-1: every kind) and topic (NULL: any) at once; how many. */
unsigned repl_drop_links(struct repl *r, int kind, const char *topic);
/* Shut the links of a kind and topic down gracefully: each closes once its answers are in,
 * or after a bounded wait. */
void repl_retire_links(struct repl *r, int kind, const char *topic);
/* :reconnect: every link replaced by a new one (the URL's when there is none). */
void repl_reconnect(struct repl *r);
/* Whether ad lists method m (n bytes) among its request methods. */
bool repl_known_method(const struct oc_adapter *ad, const char *m, size_t n);
/* A typed line (also each line of :load); NULL at the end of input. */
void repl_line(void *ud, const char *line);
/* The adapter a session with url talks to, or NULL with *e and err saying why. */
const struct oc_adapter *repl_url_adapter(struct repl *r, const char *url, int *e, char *err,
					  size_t errlen);
/* Switch to url (its adapter ad): mode, the topic it names, the prompt. */
void repl_set_url(struct repl *r, const char *url, const struct oc_adapter *ad);
/* Open what a session opens at once. */
void repl_open_session(struct repl *r);
/* End the session: retire every link, then the editor, then the task. */
void repl_quit(struct repl *r);

/* ---- repl_meta.c ------------------------------------------------------------------------- */

/* Run the meta command line (after its ':'); line is modified. */
void repl_meta(struct repl *r, char *line);
/* Candidates for Tab (lineedit's complete hook). */
char **repl_complete(void *ud, const char *line, int start, bool *files);
/* *dst = a copy of s, or NULL when s is NULL or empty. */
void repl_replace_str(char **dst, const char *s);
/* A topic filter with wildcards (MQTT's + and #). */
bool repl_has_wildcard(const char *topic);

#endif
