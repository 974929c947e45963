/* core/options.h — one option grammar for the whole tool (DESIGN §4).
 *
 * Options are data: each row of a table names the option, its short letter (which means the
 * same in every command), its argument type, where the value goes and which commands take it.
 * The same rows produce the parser, `--help`, and `--list-options` (which the man-page and
 * completion tests compare against man/ and completions/). Adapters contribute their own rows
 * (struct oc_adopt in adapter.h); those land as key=value pairs on the endpoint, exactly like
 * `--opt key=value` and adapter options in a URL query.
 *
 * Scope (relay): an option written after a URL applies to that endpoint only; options before
 * the first URL apply to both endpoints where they make sense. Run-scoped options (-c, -m, -v,
 * --jsonl...) apply to the whole run wherever they are written. */
#ifndef OC_OPTIONS_H
#define OC_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "framing.h"

/* Commands, as bits, for the rows' cmds field. */
enum {
	OC_CMD_CLIENT = 1 << 0,
	OC_CMD_SERVER = 1 << 1,
	OC_CMD_PUB = 1 << 2,
	OC_CMD_SUB = 1 << 3,
	OC_CMD_RELAY = 1 << 4,
	OC_CMD_ALL = 0x1f, /* the commands that pump: every one but repl */
	OC_CMD_REPL = 1 << 5,
};

/* relay_reply values. */
#define OC_RELAY_ACK 1   /* answer success once the target accepted the message, else fail */
#define OC_RELAY_BY_ID 2 /* the target answers: its message with the request's id */

enum oc_argtype {
	OC_ARG_FLAG,    /* no argument: sets true */
	OC_ARG_COUNTER, /* no argument: each use adds one (-v -v) */
	OC_ARG_STR,     /* a string */
	OC_ARG_LIST,    /* a string, repeatable (adapters: each use adds a key=value pair) */
	OC_ARG_COUNT,   /* a positive integer */
	OC_ARG_SECS,    /* seconds, decimal, > 0 */
	OC_ARG_FRAMING, /* a framing name */
	OC_ARG_KV,      /* key=value for --opt */
};

enum oc_scope {
	OC_SCOPE_RUN, /* the whole run */
	OC_SCOPE_EP,  /* the endpoint it follows (relay), or every endpoint */
};

/* Adapter options given on the command line, in the URL query, or with --opt. */
struct oc_kv {
	char *key;   /* option name */
	char *value; /* "1" for flags */
	bool global; /* given before/around every URL: an endpoint that does not know it ignores it */
};

/* Everything the options set. Zero means "not given" for every field. */
struct oc_cfg {
	/* run scope */
	long count;             /* -c: stop after N messages out of the URL */
	double timeout;         /* -m: whole-run limit, seconds */
	double idle;            /* --idle: stop after this much silence */
	double connect_timeout; /* --connect-timeout */
	int verbose;            /* -v count */
	bool silent;            /* -s */
	bool show_error;        /* -S */
	bool trace;             /* --trace */
	bool jsonl;             /* --jsonl: stdin/stdout carry the envelope */
	bool echo;              /* --echo: a server sends each message back to its sender */
	const char *output;     /* -o FILE instead of stdout */
	const char *format;     /* --format */
	const char *data;       /* -d: one message instead of stdin (@file, @-) */
	const char *exec;       /* --exec CMD (argv split, no shell) */
	const char *exec_shell; /* --exec-shell CMD (/bin/sh -c) */
	bool each;              /* --each: one request per stdin message */
	long parallel;          /* --parallel N requests at once (--each) */
	bool one_request;       /* internal: stdio gives one empty message (a request with
				 * no body) instead of reading stdin */
	bool body_bytes;        /* internal: responses go to stdout as their bytes (curl's way),
				 * not as messages: client/sub without --jsonl or --format */
	int relay_reply;        /* internal: how a relayed request/response server answers:
				 * OC_RELAY_ACK (the target is one-way) or OC_RELAY_BY_ID */
	bool no_history;        /* repl --no-history: keep no history file */
	bool no_color;          /* repl --no-color (also NO_COLOR in the environment) */
	/* endpoint scope */
	int framing;            /* --framing: enum oc_framing + 1; 0 = default */
	bool reconnect;         /* --reconnect */
	bool ipv4, ipv6;        /* -4 / -6 */
	const char *method;     /* -X */
	bool location;          /* -L */
	bool include;           /* -i */
	bool head;              /* -I */
	bool fail;              /* -f */
	bool get;               /* -G */
	bool insecure;          /* -k */
	const char *user;       /* -u user[:password] */
	const char *password_file; /* --password-file */
	const char *user_agent; /* -A */
	const char *cookie;     /* -b */
	const char *proxy;      /* -x */
	const char *cacert;     /* --cacert */
	const char *cert;       /* --cert */
	const char *key;        /* --key */
	const char *qos;        /* -q 0|1|2 (checked by the adapter), or NULL */
	bool retain;            /* -r */
	const char *client_id;  /* --client-id */
	struct oc_kv *multi;    /* repeatable core options (-H, -F), in order; key = long name */
	size_t nmulti;          /* entries in multi */
	struct oc_kv *kv;       /* adapter options */
	size_t nkv;             /* entries in kv */
};

struct oc_option {
	const char *lname;           /* long name without "--" */
	char sname;                  /* short letter, or 0 */
	enum oc_argtype type;        /* argument */
	enum oc_scope scope;         /* run or endpoint */
	size_t off, size;            /* offset and size of the field in struct oc_cfg */
	unsigned cmds;               /* OC_CMD_* that take it */
	unsigned need;               /* OC_AF_* an endpoint's adapter must have for it to
				      * apply (-H needs headers, -k TLS), or 0 */
	const char *argname;         /* "N", "FILE"... for help */
	const char *help;            /* one line */
};

/* The core option table, terminated by a row with lname NULL. */
extern const struct oc_option oc_options[];

#define OC_MAX_URLS 2

/* Result of parsing one command line. */
struct oc_args {
	struct oc_cfg run;                 /* run scope, and endpoint scope given globally */
	const char *urls[OC_MAX_URLS];     /* positional URLs */
	struct oc_cfg ep[OC_MAX_URLS];     /* per-URL options (copies of run plus local ones) */
	int nurls;                         /* URLs seen */
	bool help;                         /* -h / --help seen */
};

/* Parse argv (after the command name) for command cmd (OC_CMD_*). Adapter options are looked
 * up in every registered adapter. Returns 0, or OC_EUSAGE with a one-line reason in err. */
int oc_args_parse(struct oc_args *a, unsigned cmd, int argc, char **argv, char *err, size_t errlen);
void oc_args_release(struct oc_args *a);

/* Adapter option lookups on a configuration (last one given wins). */
const char *oc_cfg_kv(const struct oc_cfg *c, const char *key);
/* Values of a repeatable option, in order: start with *i = 0; NULL after the last. Core
 * LIST options (-H) live in c->multi, adapter ones in c->kv; both are searched. */
const char *oc_cfg_next(const struct oc_cfg *c, const char *key, size_t *i);
/* The next -H 'NAME: value' (those without a colon skipped): its name (nlen bytes, not
 * NUL-terminated) and *value (leading blanks skipped), or NULL when there are no more. */
const char *oc_cfg_next_header(const struct oc_cfg *c, size_t *i, size_t *nlen,
			       const char **value);
/* Whether core option row o was given in c. */
bool oc_cfg_has(const struct oc_cfg *c, const struct oc_option *o);
void oc_cfg_add_kv(struct oc_cfg *c, const char *key, const char *value, bool global);
/* Add a value of a repeatable core option (key is its long name: "header"). */
void oc_cfg_add_multi(struct oc_cfg *c, const char *key, const char *value, bool global);
void oc_cfg_copy(struct oc_cfg *dst, const struct oc_cfg *src);
void oc_cfg_release(struct oc_cfg *c);

/* Parse seconds ("1", "0.5"): 0 and *out, or -1. */
int oc_parse_secs(const char *s, double *out);

/* Print the options that command cmd takes, for --help (core rows, then adapter rows). */
void oc_options_help(unsigned cmd);
/* Print every long and short option, one per line ("--count" / "-c"), for the doc checks. */
void oc_options_list(void);

#endif
