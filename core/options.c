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
#define CL OC_CMD_CLIENT
#define SV OC_CMD_SERVER
#define PB OC_CMD_PUB
#define RUN OC_SCOPE_RUN
#define EP OC_SCOPE_EP

/* Short letters follow DESIGN §4: curl's for request and transfer options, mosquitto's and
 * kcat's for pub/sub. A letter means the same in every command. */
const struct oc_option oc_options[] = {
	{ "count", 'c', OC_ARG_COUNT, RUN, F(count), ALL, "N",
	  "stop after N messages came out of the URL (pub: after N were sent)" },
	{ "data", 'd', OC_ARG_STR, RUN, F(data), CL | PB, "DATA",
	  "send one message, exactly DATA (@FILE, @- for stdin), instead of reading stdin" },
	{ "output", 'o', OC_ARG_STR, RUN, F(output), ALL, "FILE",
	  "write what stdout would get to FILE" },
	{ "timeout", 'm', OC_ARG_SECS, RUN, F(timeout), ALL, "S",
	  "limit the whole run to S seconds (exit 11)" },
	{ "idle", 0, OC_ARG_SECS, RUN, F(idle), ALL, "S",
	  "stop after S seconds without a message (exit 11)" },
	{ "connect-timeout", 0, OC_ARG_SECS, RUN, F(connect_timeout), ALL, "S",
	  "give up connecting after S seconds (exit 11)" },
	{ "verbose", 'v', OC_ARG_COUNTER, RUN, F(verbose), ALL, NULL,
	  "connection events and message metadata on stderr" },
	{ "silent", 's', OC_ARG_FLAG, RUN, F(silent), ALL, NULL, "no notices on stderr" },
	{ "show-error", 'S', OC_ARG_FLAG, RUN, F(show_error), ALL, NULL,
	  "with -s, still print errors" },
	{ "trace", 0, OC_ARG_FLAG, RUN, F(trace), ALL, NULL,
	  "dump the bytes of every frame on stderr (secrets redacted)" },
	{ "framing", 0, OC_ARG_FRAMING, EP, F(framing), ALL, "NAME",
	  "line (default), raw, nul, len32, jsonl or csv, for stdio and stream endpoints" },
	{ "jsonl", 0, OC_ARG_FLAG, RUN, F(jsonl), ALL, NULL,
	  "stdin and stdout carry one JSON envelope per line" },
	{ "format", 0, OC_ARG_STR, RUN, F(format), ALL, "FMT",
	  "print each message with FMT: %s payload, %t topic, %e peer, %T time..." },
	{ "reconnect", 0, OC_ARG_FLAG, EP, F(reconnect), ALL, NULL,
	  "reconnect with bounded exponential backoff when the connection is lost" },
	{ "exec", 0, OC_ARG_STR, RUN, F(exec), CL | SV, "CMD",
	  "wire each connection to a child running CMD (split like a shell, no shell)" },
	{ "exec-shell", 0, OC_ARG_STR, RUN, F(exec_shell), CL | SV, "CMD",
	  "like --exec, but run CMD with /bin/sh -c" },
	{ "echo", 0, OC_ARG_FLAG, RUN, F(echo), SV, NULL,
	  "send each message back to the peer it came from" },
	{ "opt", 0, OC_ARG_KV, EP, F(kv), ALL, "K=V",
	  "set an adapter option, as in a URL query (repeatable)" },
	{ "ipv4", '4', OC_ARG_FLAG, EP, F(ipv4), ALL, NULL, "resolve names to IPv4 addresses only" },
	{ "ipv6", '6', OC_ARG_FLAG, EP, F(ipv6), ALL, NULL, "resolve names to IPv6 addresses only" },
	{ "help", 'h', OC_ARG_FLAG, RUN, 0, 0, ALL, NULL, "show help for the command" },
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

const char *oc_cfg_kv(const struct oc_cfg *c, const char *key)
{
	for (size_t i = c->nkv; i-- > 0;)
		if (!strcmp(c->kv[i].key, key))
			return c->kv[i].value;
	return NULL;
}

void oc_cfg_copy(struct oc_cfg *dst, const struct oc_cfg *src)
{
	*dst = *src;
	dst->kv = NULL;
	dst->nkv = 0;
	for (size_t i = 0; i < src->nkv; i++)
		oc_cfg_add_kv(dst, src->kv[i].key, src->kv[i].value, src->kv[i].global);
}

void oc_cfg_release(struct oc_cfg *c)
{
	for (size_t i = 0; i < c->nkv; i++) {
		free(c->kv[i].key);
		free(c->kv[i].value);
	}
	free(c->kv);
	c->kv = NULL;
	c->nkv = 0;
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
	static const char *const names[] = { "client", "server", "pub", "sub", "relay" };
	for (int i = 0; i < 5; i++)
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
	case OC_ARG_LIST:
		*(const char **)field = val;
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
