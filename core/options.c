/* core/options.c — the option table and its parser (see options.h). */
#include "options.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "err.h"
#include "xalloc.h"

#define F(f) offsetof(struct oc_cfg, f), sizeof(((struct oc_cfg *)0)->f)
#define ALL OC_CMD_ALL
#define RP OC_CMD_REPL
#define AR (OC_CMD_ALL | OC_CMD_REPL)
#define CL OC_CMD_CLIENT
#define SV OC_CMD_SERVER
#define PB OC_CMD_PUB
#define SB OC_CMD_SUB
#define RL OC_CMD_RELAY
#define RUN OC_SCOPE_RUN
#define EP OC_SCOPE_EP
#define REQ OC_AF_REQUEST
#define HDR OC_AF_HEADERS
#define TLS OC_AF_TLS
#define AUTH OC_AF_AUTH
#define TOP OC_AF_TOPICS

/* Short letters follow DESIGN §4: curl's for request and transfer options, mosquitto's and
 * kcat's for pub/sub. A letter means the same in every command. */
const struct oc_option oc_options[] = {
	{ "count", 'c', OC_ARG_COUNT, RUN, F(count), ALL, 0, "N",
	  "stop after N messages came out of the URL (pub: after N were sent)" },
	{ "data", 'd', OC_ARG_STR, RUN, F(data), CL | PB | SV, 0, "DATA",
	  "send one message, exactly DATA (@FILE, @- for stdin), instead of reading stdin; "
	  "a request server's fixed answer" },
	{ "output", 'o', OC_ARG_STR, RUN, F(output), ALL, 0, "FILE",
	  "write what stdout would get to FILE" },
	{ "timeout", 'm', OC_ARG_SECS, RUN, F(timeout), AR, 0, "S",
	  "limit the whole run to S seconds (exit 11)" },
	{ "idle", 0, OC_ARG_SECS, RUN, F(idle), ALL, 0, "S",
	  "stop after S seconds without a message (exit 11)" },
	{ "connect-timeout", 0, OC_ARG_SECS, RUN, F(connect_timeout), AR, 0, "S",
	  "give up connecting after S seconds (exit 11)" },
	{ "verbose", 'v', OC_ARG_COUNTER, RUN, F(verbose), AR, 0, NULL,
	  "connection events and message metadata on stderr" },
	{ "silent", 's', OC_ARG_FLAG, RUN, F(silent), AR, 0, NULL, "no notices on stderr" },
	{ "show-error", 'S', OC_ARG_FLAG, RUN, F(show_error), AR, 0, NULL,
	  "with -s, still print errors" },
	{ "trace", 0, OC_ARG_FLAG, RUN, F(trace), AR, 0, NULL,
	  "dump the bytes of every frame on stderr (secrets redacted)" },
	{ "framing", 0, OC_ARG_FRAMING, EP, F(framing), AR, 0, "NAME",
	  "line (default), raw, nul, len32, jsonl or csv, for stdio and stream endpoints" },
	{ "jsonl", 0, OC_ARG_FLAG, RUN, F(jsonl), ALL, 0, NULL,
	  "stdin and stdout carry one JSON envelope per line" },
	{ "format", 0, OC_ARG_STR, RUN, F(format), ALL, 0, "FMT",
	  "print each message with FMT: %s payload, %t topic, %e peer, %T time..." },
	{ "reconnect", 0, OC_ARG_FLAG, EP, F(reconnect), AR, 0, NULL,
	  "reconnect with bounded exponential backoff when the connection is lost" },
	{ "exec", 0, OC_ARG_STR, RUN, F(exec), CL | SV, 0, "CMD",
	  "wire each connection (request servers: each request) to a child running CMD "
	  "(split like a shell, no shell)" },
	{ "exec-shell", 0, OC_ARG_STR, RUN, F(exec_shell), CL | SV, 0, "CMD",
	  "like --exec, but run CMD with /bin/sh -c" },
	{ "echo", 0, OC_ARG_FLAG, RUN, F(echo), SV, 0, NULL,
	  "send each message back to the peer it came from" },
	{ "opt", 0, OC_ARG_KV, EP, F(kv), AR, 0, "K=V",
	  "set an adapter option, as in a URL query (repeatable)" },
	{ "ipv4", '4', OC_ARG_FLAG, EP, F(ipv4), AR, 0, NULL, "resolve names to IPv4 addresses only" },
	{ "ipv6", '6', OC_ARG_FLAG, EP, F(ipv6), AR, 0, NULL, "resolve names to IPv6 addresses only" },
	{ "header", 'H', OC_ARG_LIST, EP, F(multi), CL | PB | SB | RL | RP, HDR, "'K: v'",
	  "add a header (HTTP), user property (MQTT) or option (CoAP); repeatable" },
	{ "request", 'X', OC_ARG_STR, EP, F(method), CL | PB | RL | RP, REQ, "METHOD",
	  "request method (default GET, or POST with a body)" },
	{ "location", 'L', OC_ARG_FLAG, EP, F(location), CL | SB | RL | RP, REQ, NULL,
	  "follow redirects" },
	{ "include", 'i', OC_ARG_FLAG, EP, F(include), CL | SB | RP, REQ, NULL,
	  "print the status line and headers before the body" },
	{ "head", 'I', OC_ARG_FLAG, EP, F(head), CL, REQ, NULL,
	  "HEAD request: print the status line and headers only" },
	{ "fail", 'f', OC_ARG_FLAG, EP, F(fail), CL | PB | SB | RL, REQ, NULL,
	  "an error answer (HTTP >= 400) exits 10 (401/403/407: 8); the body is still printed" },
	{ "get", 'G', OC_ARG_FLAG, EP, F(get), CL, REQ, NULL,
	  "send -d / --data-urlencode as the query of a GET" },
	{ "form", 'F', OC_ARG_LIST, EP, F(multi), CL | PB, REQ, "K=V",
	  "multipart form field (K=@FILE uploads a file); repeatable" },
	{ "user-agent", 'A', OC_ARG_STR, EP, F(user_agent), CL | PB | SB | RL | RP, REQ, "NAME",
	  "User-Agent to send" },
	{ "cookie", 'b', OC_ARG_STR, EP, F(cookie), CL | PB | SB | RL | RP, REQ, "DATA|FILE",
	  "cookies to send: 'k=v; k2=v2', or a cookie file to read" },
	{ "proxy", 'x', OC_ARG_STR, EP, F(proxy), CL | PB | SB | RL | RP, REQ, "URL",
	  "use this proxy" },
	{ "user", 'u', OC_ARG_STR, EP, F(user), AR, AUTH, "USER[:PASS]",
	  "credentials (password also from --password-file or OMNICAT_PASSWORD)" },
	{ "password-file", 0, OC_ARG_STR, EP, F(password_file), AR, AUTH, "FILE",
	  "read the password from the first line of FILE" },
	{ "insecure", 'k', OC_ARG_FLAG, EP, F(insecure), AR, TLS, NULL,
	  "do not verify the peer's TLS certificate" },
	{ "cacert", 0, OC_ARG_STR, EP, F(cacert), AR, TLS, "FILE",
	  "verify peers with the CA certificates in FILE (PEM)" },
	{ "cert", 0, OC_ARG_STR, EP, F(cert), AR, TLS, "FILE",
	  "our certificate (PEM): a client's, or a server's" },
	{ "key", 0, OC_ARG_STR, EP, F(key), AR, TLS, "FILE", "the private key for --cert (PEM)" },
	{ "qos", 'q', OC_ARG_STR, EP, F(qos), AR, TOP, "N",
	  "delivery guarantee: 0 at most once, 1 at least once, 2 exactly once" },
	{ "retain", 'r', OC_ARG_FLAG, EP, F(retain), CL | PB | RL | RP, TOP, NULL,
	  "publish as the topic's retained (last-value) message" },
	{ "topic", 't', OC_ARG_LIST, EP, F(multi), AR, TOP, "T",
	  "topic to publish to (instead of the URL's), or filter to add (repeatable)" },
	{ "client-id", 0, OC_ARG_STR, EP, F(client_id), AR, TOP, "ID",
	  "client identifier (default: omnicat-PID-N)" },
	{ "each", 0, OC_ARG_FLAG, RUN, F(each), CL, REQ, NULL,
	  "one request per stdin message, answers in input order" },
	{ "parallel", 0, OC_ARG_COUNT, RUN, F(parallel), CL, REQ, "N",
	  "with --each, up to N requests at once (answers still in order)" },
	{ "no-history", 0, OC_ARG_FLAG, RUN, F(no_history), RP, 0, NULL,
	  "keep no history of the lines typed" },
	{ "no-color", 0, OC_ARG_FLAG, RUN, F(no_color), RP, 0, NULL,
	  "no colours (also when NO_COLOR is set)" },
	{ "help", 'h', OC_ARG_FLAG, RUN, 0, 0, AR, 0, NULL, "show help for the command" },
	{ 0 },
};

/* ---- configuration helpers --------------------------------------------------------------- */

void oc_cfg_add_kv(struct oc_cfg *c, const char *key, const char *value, bool global)
{
	c->kv = xrealloc(c->kv, (c->nkv + 1) * sizeof(*c->kv));
	c->kv[c->nkv].key = xstrdup(key);
	c->kv[c->nkv].value = xstrdup(value);
	c->kv[c->nkv].global = global;
	c->nkv++;
}

void oc_cfg_add_multi(struct oc_cfg *c, const char *key, const char *value, bool global)
{
	c->multi = xrealloc(c->multi, (c->nmulti + 1) * sizeof(*c->multi));
	c->multi[c->nmulti].key = xstrdup(key);
	c->multi[c->nmulti].value = xstrdup(value);
	c->multi[c->nmulti].global = global;
	c->nmulti++;
}

const char *oc_cfg_kv(const struct oc_cfg *c, const char *key)
{
	for (size_t i = c->nkv; i-- > 0;)
		if (!strcmp(c->kv[i].key, key))
			return c->kv[i].value;
	return NULL;
}

static void kv_copy(struct oc_kv **dst, size_t *ndst, const struct oc_kv *src, size_t n)
{
	*dst = n ? xmalloc(n * sizeof(**dst)) : NULL;
	*ndst = n;
	for (size_t i = 0; i < n; i++) {
		(*dst)[i].key = xstrdup(src[i].key);
		(*dst)[i].value = xstrdup(src[i].value);
		(*dst)[i].global = src[i].global;
	}
}

static void kv_release(struct oc_kv **kv, size_t *n)
{
	for (size_t i = 0; i < *n; i++) {
		free((*kv)[i].key);
		free((*kv)[i].value);
	}
	free(*kv);
	*kv = NULL;
	*n = 0;
}

void oc_cfg_copy(struct oc_cfg *dst, const struct oc_cfg *src)
{
	*dst = *src;
	kv_copy(&dst->kv, &dst->nkv, src->kv, src->nkv);
	kv_copy(&dst->multi, &dst->nmulti, src->multi, src->nmulti);
}

void oc_cfg_release(struct oc_cfg *c)
{
	kv_release(&c->kv, &c->nkv);
	kv_release(&c->multi, &c->nmulti);
}

const char *oc_cfg_next(const struct oc_cfg *c, const char *key, size_t *i)
{
	/* *i walks multi first, then kv. */
	for (; *i < c->nmulti + c->nkv; (*i)++) {
		const struct oc_kv *e = *i < c->nmulti ? &c->multi[*i] : &c->kv[*i - c->nmulti];
		if (!strcmp(e->key, key)) {
			(*i)++;
			return e->value;
		}
	}
	return NULL;
}

const char *oc_cfg_next_header(const struct oc_cfg *c, size_t *i, size_t *nlen,
			       const char **value)
{
	const char *h;
	while ((h = oc_cfg_next(c, "header", i))) {
		const char *colon = strchr(h, ':');
		if (!colon)
			continue;
		*nlen = (size_t)(colon - h);
		for (*value = colon + 1; **value == ' '; (*value)++)
			;
		return h;
	}
	return NULL;
}

bool oc_cfg_has(const struct oc_cfg *c, const struct oc_option *o)
{
	if (o->type == OC_ARG_LIST) {
		size_t i = 0;
		return oc_cfg_next(c, o->lname, &i) != NULL;
	}
	static const char zero[sizeof(struct oc_cfg)];
	return o->size && memcmp((const char *)c + o->off, zero, o->size) != 0;
}

int oc_parse_secs(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || !(v > 0) || v > 1e9)
		return -1;
	*out = v;
	return 0;
}

/* ---- lookup ------------------------------------------------------------------------------ */

/* A matched option: a core row, or an adapter row (stored as key=value). */
struct match {
	const struct oc_option *core;  /* core row, or NULL */
	const struct oc_adopt *adopt;  /* adapter row, or NULL */
};

static struct match find_long(const char *name, size_t n)
{
	struct match m = { 0 };
	for (const struct oc_option *o = oc_options; o->lname; o++)
		if (strlen(o->lname) == n && !strncmp(o->lname, name, n)) {
			m.core = o;
			return m;
		}
	for (const struct oc_adapter *const *ad = oc_adapters; *ad; ad++)
		for (const struct oc_adopt *a = (*ad)->opts; a && a->key; a++)
			if (a->cli && strlen(a->key) == n && !strncmp(a->key, name, n)) {
				m.adopt = a;
				return m;
			}
	return m;
}

static const struct oc_option *find_short(char c)
{
	for (const struct oc_option *o = oc_options; o->lname; o++)
		if (o->sname == c)
			return o;
	return NULL;
}

static bool takes_value(enum oc_argtype t)
{
	return t != OC_ARG_FLAG && t != OC_ARG_COUNTER;
}

/* ---- parsing ----------------------------------------------------------------------------- */

struct parser {
	struct oc_args *a;
	unsigned cmd;
	bool per_url; /* relay: endpoint options after a URL belong to it */
	char *err;
	size_t errlen;
};

static const char *cmd_name(unsigned cmd)
{
	static const char *const names[] = { "client", "server", "pub", "sub", "relay", "repl" };
	for (int i = 0; i < 6; i++)
		if (cmd == 1u << i)
			return names[i];
	return "omnicat";
}

static int usage(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int usage(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err, p->errlen, fmt, ap);
	va_end(ap);
	return OC_EUSAGE;
}

static struct oc_cfg *target(struct parser *p, enum oc_scope scope)
{
	if (scope == OC_SCOPE_EP && p->per_url && p->a->nurls > 0)
		return &p->a->ep[p->a->nurls - 1];
	return &p->a->run;
}

static int set_core(struct parser *p, const struct oc_option *o, const char *val, const char *shown)
{
	struct oc_cfg *c = target(p, o->scope);
	char *field = (char *)c + o->off;
	char *end;
	switch (o->type) {
	case OC_ARG_FLAG:
		if (!strcmp(o->lname, "help"))
			p->a->help = true;
		else
			*(bool *)field = true;
		return 0;
	case OC_ARG_COUNTER:
		(*(int *)field)++;
		return 0;
	case OC_ARG_STR:
		*(const char **)field = val;
		return 0;
	case OC_ARG_LIST:
		oc_cfg_add_multi(c, o->lname, val, c == &p->a->run);
		return 0;
	case OC_ARG_COUNT: {
		long v = strtol(val, &end, 10);
		if (v <= 0 || *end)
			return usage(p, "invalid value '%s' for %s: expected a positive integer", val,
				     shown);
		*(long *)field = v;
		return 0;
	}
	case OC_ARG_SECS:
		if (oc_parse_secs(val, (double *)field))
			return usage(p, "invalid value '%s' for %s: expected seconds, like 5 or 0.5",
				     val, shown);
		return 0;
	case OC_ARG_FRAMING: {
		enum oc_framing f;
		if (oc_framing_parse(val, &f))
			return usage(p,
				     "invalid value '%s' for %s: expected line, raw, nul, len32, "
				     "jsonl or csv",
				     val, shown);
		*(int *)field = (int)f + 1;
		return 0;
	}
	case OC_ARG_KV: {
		const char *eq = strchr(val, '=');
		if (!eq || eq == val)
			return usage(p, "invalid value '%s' for %s: expected KEY=VALUE", val, shown);
		char *key = xstrndup(val, (size_t)(eq - val));
		oc_cfg_add_kv(c, key, eq + 1, c == &p->a->run);
		free(key);
		return 0;
	}
	}
	return 0;
}

static int set_adopt(struct parser *p, const struct oc_adopt *o, const char *val)
{
	struct oc_cfg *c = target(p, OC_SCOPE_EP);
	oc_cfg_add_kv(c, o->key, val ? val : "1", c == &p->a->run);
	return 0;
}

static int parse_long(struct parser *p, const char *arg, int argc, char **argv, int *i)
{
	const char *name = arg + 2;
	const char *eq = strchr(name, '=');
	size_t n = eq ? (size_t)(eq - name) : strlen(name);
	struct match m = find_long(name, n);
	char shown[64];
	snprintf(shown, sizeof(shown), "--%.*s", (int)n, name);
	if (!m.core && !m.adopt)
		return usage(p, "unknown option '%s' (see 'omnicat help')", shown);
	if (m.core && !(m.core->cmds & p->cmd))
		return usage(p, "option '%s' does not apply to '%s'", shown, cmd_name(p->cmd));
	enum oc_argtype t = m.core ? m.core->type : m.adopt->type;
	const char *val = NULL;
	if (takes_value(t)) {
		if (eq)
			val = eq + 1;
		else if (*i + 1 < argc)
			val = argv[++*i];
		else
			return usage(p, "option '%s' needs a value", shown);
	} else if (eq) {
		return usage(p, "option '%s' takes no value", shown);
	}
	return m.core ? set_core(p, m.core, val, shown) : set_adopt(p, m.adopt, val);
}

static int parse_short(struct parser *p, const char *arg, int argc, char **argv, int *i)
{
	for (const char *c = arg + 1; *c; c++) {
		const struct oc_option *o = find_short(*c);
		char shown[4] = { '-', *c, 0 };
		if (!o)
			return usage(p, "unknown option '%s' (see 'omnicat help')", shown);
		if (!(o->cmds & p->cmd))
			return usage(p, "option '%s' does not apply to '%s'", shown,
				     cmd_name(p->cmd));
		if (!takes_value(o->type)) {
			int r = set_core(p, o, NULL, shown);
			if (r)
				return r;
			continue;
		}
		const char *val = c[1] ? c + 1 : NULL; /* -c5 */
		if (!val && *i + 1 < argc)
			val = argv[++*i];
		if (!val)
			return usage(p, "option '%s' needs a value", shown);
		return set_core(p, o, val, shown);
	}
	return 0;
}

static int add_url(struct parser *p, const char *url)
{
	struct oc_args *a = p->a;
	if (a->nurls == OC_MAX_URLS || (!p->per_url && a->nurls == 1))
		return usage(p, "unexpected argument '%s'%s", url,
			     p->per_url ? " (relay takes two URLs)" : " (one URL expected)");
	a->urls[a->nurls] = url;
	if (p->per_url)
		oc_cfg_copy(&a->ep[a->nurls], &a->run);
	a->nurls++;
	return 0;
}

/* Run-scoped fields written after a URL went into the run configuration; copy them into the
 * per-URL configurations so an endpoint sees the run's values. */
static void sync_run_fields(struct oc_args *a)
{
	for (int u = 0; u < a->nurls; u++)
		for (const struct oc_option *o = oc_options; o->lname; o++)
			if (o->scope == OC_SCOPE_RUN && o->size)
				memcpy((char *)&a->ep[u] + o->off, (char *)&a->run + o->off,
				       o->size);
}

int oc_args_parse(struct oc_args *a, unsigned cmd, int argc, char **argv, char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	struct parser p = { a, cmd, cmd == OC_CMD_RELAY, err, errlen };
	bool only_urls = false;
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		int r;
		if (only_urls || arg[0] != '-' || !strcmp(arg, "-"))
			r = add_url(&p, arg);
		else if (!strcmp(arg, "--"))
			only_urls = true, r = 0;
		else if (arg[1] == '-')
			r = parse_long(&p, arg, argc, argv, &i);
		else
			r = parse_short(&p, arg, argc, argv, &i);
		if (r)
			return r;
	}
	if (p.per_url)
		sync_run_fields(a);
	else
		for (int u = 0; u < a->nurls; u++)
			oc_cfg_copy(&a->ep[u], &a->run);
	return 0;
}

void oc_args_release(struct oc_args *a)
{
	oc_cfg_release(&a->run);
	for (int u = 0; u < a->nurls; u++)
		oc_cfg_release(&a->ep[u]);
}

/* ---- help -------------------------------------------------------------------------------- */

static void help_row(char sname, const char *lname, const char *argname, const char *help)
{
	char left[64];
	if (sname)
		snprintf(left, sizeof(left), "-%c, --%s%s%s", sname, lname, argname ? " " : "",
			 argname ? argname : "");
	else
		snprintf(left, sizeof(left), "    --%s%s%s", lname, argname ? " " : "",
			 argname ? argname : "");
	printf("  %-26s %s\n", left, help);
}

void oc_options_help(unsigned cmd)
{
	printf("Options:\n");
	for (const struct oc_option *o = oc_options; o->lname; o++)
		if (o->cmds & cmd)
			help_row(o->sname, o->lname, o->argname, o->help);
	/* Adapter options; one several adapters share (--follow) is shown once. */
	printf("\nAdapter options (also --opt KEY=VALUE, or in the URL query):\n");
	for (const struct oc_adapter *const *ad = oc_adapters; *ad; ad++) {
		for (const struct oc_adopt *a = (*ad)->opts; a && a->key; a++) {
			struct match m = find_long(a->key, strlen(a->key));
			if (a->cli && m.adopt != a)
				continue;
			if (a->cli)
				help_row(0, a->key, a->argname, a->help);
			else
				printf("  %-26s %s: %s\n", a->key, (*ad)->name, a->help);
		}
	}
}

void oc_options_list(void)
{
	for (const struct oc_option *o = oc_options; o->lname; o++) {
		printf("--%s\n", o->lname);
		if (o->sname)
			printf("-%c\n", o->sname);
	}
	/* Adapter options that several adapters share are listed once. */
	for (const struct oc_adapter *const *ad = oc_adapters; *ad; ad++)
		for (const struct oc_adopt *a = (*ad)->opts; a && a->key; a++) {
			if (!a->cli)
				continue;
			struct match m = find_long(a->key, strlen(a->key));
			if (m.adopt == a)
				printf("--%s\n", a->key);
		}
}
