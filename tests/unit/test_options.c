/* tests/unit/test_options.c — core/options.c: the one option grammar (DESIGN §4): short
 * clusters, long options with '=', per-URL scoping in relay, adapter options, --opt, number
 * and seconds validation, and the usage errors. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "framing.h"
#include "options.h"
#include "unit.h"

#define MAXARGS 32

/* Parse the words of a NULL-terminated list for cmd; returns the result, a filled in. */
static int parse_v(struct oc_args *a, unsigned cmd, char *err, size_t errlen, va_list ap)
{
	static char *argv[MAXARGS];
	int argc = 0;
	const char *w;
	while ((w = va_arg(ap, const char *)) && argc < MAXARGS)
		argv[argc++] = (char *)w;
	err[0] = '\0';
	return oc_args_parse(a, cmd, argc, argv, err, errlen);
}

static int parse(struct oc_args *a, unsigned cmd, char *err, size_t errlen, ...)
{
	va_list ap;
	va_start(ap, errlen);
	int r = parse_v(a, cmd, err, errlen, ap);
	va_end(ap);
	return r;
}

/* The command line must fail with OC_EUSAGE and a one-line message containing want. */
static void check_usage(const char *file, int line, unsigned cmd, const char *want, ...)
{
	struct oc_args a;
	char err[512];
	va_list ap;
	va_start(ap, want);
	int r = parse_v(&a, cmd, err, sizeof(err), ap);
	va_end(ap);
	oc_args_release(&a);
	unit_checks++;
	if (r != OC_EUSAGE) {
		unit_fail(file, line);
		fprintf(stderr, "expected a usage error containing \"%s\", got %d (err \"%s\")\n",
			want, r, err);
		return;
	}
	unit_checks++;
	if (!strstr(err, want) || strchr(err, '\n')) {
		unit_fail(file, line);
		fprintf(stderr, "usage error \"%s\" lacks \"%s\"\n", err, want);
	}
}
#define CHECK_USAGE(cmd, want, ...) check_usage(__FILE__, __LINE__, (cmd), (want), __VA_ARGS__, NULL)

static void check_ok(const char *file, int line, int r, const char *err)
{
	unit_checks++;
	if (r) {
		unit_fail(file, line);
		fprintf(stderr, "parse failed (%d): %s\n", r, err);
	}
}
#define CHECK_OK(r, err) check_ok(__FILE__, __LINE__, (r), (err))

static double d_abs(double x)
{
	return x < 0 ? -x : x;
}

/* ---- short options ---- */

static void test_short(void)
{
	struct oc_args a;
	char err[512];

	CHECK_OK(parse(&a, OC_CMD_CLIENT, err, sizeof(err), "-vvc5", "tcp://h:1", NULL), err);
	CHECK_EQ_INT(a.run.verbose, 2);
	CHECK_EQ_INT(a.run.count, 5);
	CHECK_EQ_INT(a.nurls, 1);
	CHECK_EQ_STR(a.urls[0], "tcp://h:1");
	/* the per-URL configuration sees the run's values */
	CHECK_EQ_INT(a.ep[0].count, 5);
	CHECK_EQ_INT(a.ep[0].verbose, 2);
	oc_args_release(&a);

	/* a value-taking letter at the end of a cluster takes the next word */
	CHECK_OK(parse(&a, OC_CMD_CLIENT, err, sizeof(err), "-vc", "7", "-", NULL), err);
	CHECK_EQ_INT(a.run.verbose, 1);
	CHECK_EQ_INT(a.run.count, 7);
	CHECK_EQ_STR(a.urls[0], "-");
	oc_args_release(&a);

	/* -sS, -v -v, -4, -m with a decimal, -o, -d */
	CHECK_OK(parse(&a, OC_CMD_CLIENT, err, sizeof(err), "-sS", "-v", "-v", "-4", "-m", "0.25",
		       "-o", "out.txt", "-d", "@-", "tcp://h:1", NULL),
		 err);
	CHECK(a.run.silent);
	CHECK(a.run.show_error);
	CHECK_EQ_INT(a.run.verbose, 2);
	CHECK(a.ep[0].ipv4);
	CHECK(!a.ep[0].ipv6);
	CHECK(d_abs(a.run.timeout - 0.25) < 1e-9);
	CHECK_EQ_STR(a.run.output, "out.txt");
	CHECK_EQ_STR(a.run.data, "@-");
	oc_args_release(&a);

	/* the value of -d is taken as is, even when it looks like an option */
	CHECK_OK(parse(&a, OC_CMD_PUB, err, sizeof(err), "-d", "-v", "file:/x", NULL), err);
	CHECK_EQ_STR(a.run.data, "-v");
	CHECK_EQ_INT(a.run.verbose, 0);
	oc_args_release(&a);

	/* -6 and -h */
	CHECK_OK(parse(&a, OC_CMD_SERVER, err, sizeof(err), "-6h", "tcp://:1", NULL), err);
	CHECK(a.ep[0].ipv6);
	CHECK(a.help);
	oc_args_release(&a);

	/* options may come after the URL */
	CHECK_OK(parse(&a, OC_CMD_SUB, err, sizeof(err), "file:/x", "-c", "3", NULL), err);
	CHECK_EQ_INT(a.run.count, 3);
	CHECK_EQ_INT(a.ep[0].count, 3);
	oc_args_release(&a);

	CHECK_USAGE(OC_CMD_CLIENT, "unknown option '-Z'", "-Z", "tcp://h:1");
	CHECK_USAGE(OC_CMD_CLIENT, "unknown option '-Z'", "-vZ", "tcp://h:1");
	CHECK_USAGE(OC_CMD_CLIENT, "'-c' needs a value", "tcp://h:1", "-c");
	CHECK_USAGE(OC_CMD_CLIENT, "'-c' needs a value", "tcp://h:1", "-vc");
	/* "-cv": v is the value of -c, and not a number */
	CHECK_USAGE(OC_CMD_CLIENT, "invalid value 'v' for -c", "-cv", "tcp://h:1");
	CHECK_USAGE(OC_CMD_SUB, "'-d' does not apply to 'sub'", "-d", "x", "file:/x");
	CHECK_USAGE(OC_CMD_RELAY, "'-d' does not apply to 'relay'", "-d", "x", "tcp://:1");
	/* repl: its own flags; none of the pump's output forms */
	CHECK_OK(parse(&a, OC_CMD_REPL, err, sizeof(err), "--no-history", "--no-color", "-H",
		       "k: v", "ws://h/", NULL), err);
	CHECK(a.ep[0].no_history && a.ep[0].no_color);
	oc_args_release(&a);
	CHECK_USAGE(OC_CMD_REPL, "'-c' does not apply to 'repl'", "-c", "3", "ws://h/");
	CHECK_USAGE(OC_CMD_REPL, "'--jsonl' does not apply to 'repl'", "--jsonl", "ws://h/");
	CHECK_USAGE(OC_CMD_CLIENT, "'--no-history' does not apply to 'client'", "--no-history",
		    "ws://h/");
}

/* ---- long options ---- */

static void test_long(void)
{
	struct oc_args a;
	char err[512];

	CHECK_OK(parse(&a, OC_CMD_CLIENT, err, sizeof(err), "--count=5", "--timeout", "2",
		       "--idle=0.5", "--connect-timeout", "1.5", "--verbose", "--jsonl", "--trace",
		       "--reconnect", "--framing=len32", "--format", "%s\\n", "tcp://h:1", NULL),
		 err);
	CHECK_EQ_INT(a.run.count, 5);
	CHECK(d_abs(a.run.timeout - 2) < 1e-9);
	CHECK(d_abs(a.run.idle - 0.5) < 1e-9);
	CHECK(d_abs(a.run.connect_timeout - 1.5) < 1e-9);
	CHECK_EQ_INT(a.run.verbose, 1);
	CHECK(a.run.jsonl);
	CHECK(a.run.trace);
	CHECK(a.ep[0].reconnect);
	CHECK_EQ_INT(a.ep[0].framing, OC_FRAMING_LEN32 + 1);
	CHECK_EQ_STR(a.run.format, "%s\\n");
	oc_args_release(&a);

	/* every framing name */
	const char *names[] = { "line", "raw", "nul", "len32", "jsonl", "csv" };
	const int kinds[] = { OC_FRAMING_LINE, OC_FRAMING_RAW,   OC_FRAMING_NUL,
			      OC_FRAMING_LEN32, OC_FRAMING_JSONL, OC_FRAMING_CSV };
	for (int i = 0; i < 6; i++) {
		CHECK_OK(parse(&a, OC_CMD_SUB, err, sizeof(err), "--framing", names[i], "file:/x",
			       NULL),
			 err);
		CHECK_EQ_INT(a.ep[0].framing, kinds[i] + 1);
		oc_args_release(&a);
	}

	/* --exec and --echo for the server; a value with '=' in it */
	CHECK_OK(parse(&a, OC_CMD_SERVER, err, sizeof(err), "--echo", "--exec=env A=1 cat",
		       "--exec-shell", "a=b; echo $a", "tcp://:1", NULL),
		 err);
	CHECK(a.run.echo);
	CHECK_EQ_STR(a.run.exec, "env A=1 cat");
	CHECK_EQ_STR(a.run.exec_shell, "a=b; echo $a");
	oc_args_release(&a);

	/* -- ends the options: what follows is a URL even if it starts with '-' */
	CHECK_OK(parse(&a, OC_CMD_CLIENT, err, sizeof(err), "-v", "--", "-c", NULL), err);
	CHECK_EQ_INT(a.nurls, 1);
	CHECK_EQ_STR(a.urls[0], "-c");
	CHECK_EQ_INT(a.run.count, 0);
	oc_args_release(&a);

	/* - is a URL, not an option */
	CHECK_OK(parse(&a, OC_CMD_RELAY, err, sizeof(err), "-", "tcp://h:1", NULL), err);
	CHECK_EQ_INT(a.nurls, 2);
	CHECK_EQ_STR(a.urls[0], "-");
	oc_args_release(&a);

	CHECK_OK(parse(&a, OC_CMD_CLIENT, err, sizeof(err), "--help", NULL), err);
	CHECK(a.help);
	CHECK_EQ_INT(a.nurls, 0);
	oc_args_release(&a);

	CHECK_USAGE(OC_CMD_CLIENT, "unknown option '--bogus'", "--bogus", "tcp://h:1");
	CHECK_USAGE(OC_CMD_CLIENT, "unknown option '--bogus'", "--bogus=1", "tcp://h:1");
	/* no abbreviations: --verb is not --verbose */
	CHECK_USAGE(OC_CMD_CLIENT, "unknown option '--verb'", "--verb", "tcp://h:1");
	CHECK_USAGE(OC_CMD_CLIENT, "'--verbose' takes no value", "--verbose=2", "tcp://h:1");
	CHECK_USAGE(OC_CMD_CLIENT, "'--count' needs a value", "tcp://h:1", "--count");
	CHECK_USAGE(OC_CMD_CLIENT, "'--echo' does not apply to 'client'", "--echo", "tcp://h:1");
	CHECK_USAGE(OC_CMD_SUB, "'--exec' does not apply to 'sub'", "--exec", "cat", "file:/x");
	CHECK_USAGE(OC_CMD_PUB, "'--exec-shell' does not apply to 'pub'", "--exec-shell=x",
		    "file:/x");
	CHECK_USAGE(OC_CMD_RELAY, "'--echo' does not apply to 'relay'", "--echo", "-", "-");
	CHECK_USAGE(OC_CMD_CLIENT, "invalid value 'bogus' for --framing", "--framing", "bogus",
		    "tcp://h:1");
	CHECK_USAGE(OC_CMD_CLIENT, "invalid value '' for --framing", "--framing=", "tcp://h:1");
}

/* ---- numbers and seconds ---- */

static void test_numbers(void)
{
	struct oc_args a;
	char err[512];
	CHECK_OK(parse(&a, OC_CMD_SUB, err, sizeof(err), "-c", "1", "file:/x", NULL), err);
	CHECK_EQ_INT(a.run.count, 1);
	oc_args_release(&a);
	CHECK_OK(parse(&a, OC_CMD_SUB, err, sizeof(err), "-c", "1000000", "file:/x", NULL), err);
	CHECK_EQ_INT(a.run.count, 1000000);
	oc_args_release(&a);

	const char *bad_counts[] = { "0", "-1", "5x", "", "x", "1.5", NULL };
	for (const char **b = bad_counts; *b; b++) {
		char want[64];
		snprintf(want, sizeof(want), "invalid value '%s' for -c", *b);
		CHECK_USAGE(OC_CMD_SUB, want, "-c", *b, "file:/x");
		snprintf(want, sizeof(want), "invalid value '%s' for --count", *b);
		char arg[64];
		snprintf(arg, sizeof(arg), "--count=%s", *b);
		CHECK_USAGE(OC_CMD_SUB, want, arg, "file:/x");
	}
	const char *bad_secs[] = { "0", "-1", "abc", "", "1s", "nan", "inf", "1e10", "0.0", NULL };
	for (const char **b = bad_secs; *b; b++) {
		char want[64];
		snprintf(want, sizeof(want), "invalid value '%s' for -m", *b);
		CHECK_USAGE(OC_CMD_SUB, want, "-m", *b, "file:/x");
		snprintf(want, sizeof(want), "invalid value '%s' for --idle", *b);
		CHECK_USAGE(OC_CMD_SUB, want, "--idle", *b, "file:/x");
		snprintf(want, sizeof(want), "invalid value '%s' for --connect-timeout", *b);
		CHECK_USAGE(OC_CMD_CLIENT, want, "--connect-timeout", *b, "tcp://h:1");
	}

	double d = -1;
	CHECK_EQ_INT(oc_parse_secs("1", &d), 0);
	CHECK(d_abs(d - 1) < 1e-9);
	CHECK_EQ_INT(oc_parse_secs("0.5", &d), 0);
	CHECK(d_abs(d - 0.5) < 1e-9);
	CHECK_EQ_INT(oc_parse_secs("0.001", &d), 0);
	CHECK(d_abs(d - 0.001) < 1e-12);
	CHECK_EQ_INT(oc_parse_secs("86400", &d), 0);
	d = 7;
	CHECK_EQ_INT(oc_parse_secs("0", &d), -1);
	CHECK_EQ_INT(oc_parse_secs("-2", &d), -1);
	CHECK_EQ_INT(oc_parse_secs("", &d), -1);
	CHECK_EQ_INT(oc_parse_secs("2m", &d), -1);
	CHECK(d_abs(d - 7) < 1e-9); /* untouched on error */
}

/* ---- URLs ---- */

static void test_urls(void)
{
	struct oc_args a;
	char err[512];
	CHECK_USAGE(OC_CMD_CLIENT, "unexpected argument 'tcp://b:2'", "tcp://a:1", "tcp://b:2");
	CHECK_USAGE(OC_CMD_RELAY, "unexpected argument 'c:'", "a:", "b:", "c:");
	CHECK_USAGE(OC_CMD_RELAY, "relay takes two URLs", "a:", "b:", "c:");
	/* too few URLs is the dispatcher's business (it knows the command's arity) */
	CHECK_OK(parse(&a, OC_CMD_RELAY, err, sizeof(err), "a:", NULL), err);
	CHECK_EQ_INT(a.nurls, 1);
	oc_args_release(&a);
	CHECK_OK(parse(&a, OC_CMD_CLIENT, err, sizeof(err), NULL), err);
	CHECK_EQ_INT(a.nurls, 0);
	oc_args_release(&a);
}

/* ---- relay scoping ---- */

static void test_relay_scope(void)
{
	struct oc_args a;
	char err[512];

	/* before the first URL: both; after a URL: that one only */
	CHECK_OK(parse(&a, OC_CMD_RELAY, err, sizeof(err), "--framing", "nul", "-4", "file:/a",
		       "tcp://h:1", "--framing", "line", "--reconnect", NULL),
		 err);
	CHECK_EQ_INT(a.nurls, 2);
	CHECK_EQ_INT(a.ep[0].framing, OC_FRAMING_NUL + 1);
	CHECK_EQ_INT(a.ep[1].framing, OC_FRAMING_LINE + 1);
	CHECK(a.ep[0].ipv4);
	CHECK(a.ep[1].ipv4);
	CHECK(!a.ep[0].reconnect);
	CHECK(a.ep[1].reconnect);
	oc_args_release(&a);

	CHECK_OK(parse(&a, OC_CMD_RELAY, err, sizeof(err), "file:/a", "--framing", "len32",
		       "tcp://h:1", NULL),
		 err);
	CHECK_EQ_INT(a.ep[0].framing, OC_FRAMING_LEN32 + 1);
	CHECK_EQ_INT(a.ep[1].framing, 0);
	oc_args_release(&a);

	/* run-scoped options apply to the whole run wherever they are written */
	CHECK_OK(parse(&a, OC_CMD_RELAY, err, sizeof(err), "-", "-v", "tcp://h:1", "-c", "9", "-m",
		       "3", "--jsonl", NULL),
		 err);
	CHECK_EQ_INT(a.run.count, 9);
	CHECK_EQ_INT(a.run.verbose, 1);
	for (int u = 0; u < 2; u++) {
		CHECK_EQ_INT(a.ep[u].count, 9);
		CHECK_EQ_INT(a.ep[u].verbose, 1);
		CHECK(d_abs(a.ep[u].timeout - 3) < 1e-9);
		CHECK(a.ep[u].jsonl);
	}
	oc_args_release(&a);

	/* --opt: before the URLs global (both, marked global); after a URL that one, not global */
	CHECK_OK(parse(&a, OC_CMD_RELAY, err, sizeof(err), "--opt", "g=1", "dir:/a", "--opt",
		       "k=v", "--keep", "/kept", "tcp://h:1", "--opt", "t=2", NULL),
		 err);
	CHECK_EQ_STR(oc_cfg_kv(&a.run, "g"), "1");
	CHECK_EQ_STR(oc_cfg_kv(&a.ep[0], "g"), "1");
	CHECK_EQ_STR(oc_cfg_kv(&a.ep[1], "g"), "1");
	CHECK_EQ_STR(oc_cfg_kv(&a.ep[0], "k"), "v");
	CHECK_EQ_STR(oc_cfg_kv(&a.ep[0], "keep"), "/kept");
	CHECK_EQ_STR(oc_cfg_kv(&a.ep[1], "k"), NULL);
	CHECK_EQ_STR(oc_cfg_kv(&a.ep[1], "keep"), NULL);
	CHECK_EQ_STR(oc_cfg_kv(&a.ep[1], "t"), "2");
	CHECK_EQ_STR(oc_cfg_kv(&a.ep[0], "t"), NULL);
	CHECK_EQ_STR(oc_cfg_kv(&a.run, "k"), NULL);
	for (size_t i = 0; i < a.ep[0].nkv; i++) {
		if (!strcmp(a.ep[0].kv[i].key, "g")) {
			CHECK(a.ep[0].kv[i].global);
		}
		if (!strcmp(a.ep[0].kv[i].key, "k")) {
			CHECK(!a.ep[0].kv[i].global);
		}
	}
	oc_args_release(&a);
}

/* ---- adapter options and --opt ---- */

static void test_adapter_options(void)
{
	struct oc_args a;
	char err[512];

	/* --follow and --keep are adapter rows offered as long options */
	CHECK_OK(parse(&a, OC_CMD_SUB, err, sizeof(err), "--follow", "--keep=/k", "dir:/s", NULL),
		 err);
	CHECK_EQ_STR(oc_cfg_kv(&a.ep[0], "follow"), "1");
	CHECK_EQ_STR(oc_cfg_kv(&a.ep[0], "keep"), "/k");
	oc_args_release(&a);
	CHECK_OK(parse(&a, OC_CMD_SUB, err, sizeof(err), "dir:/s", "--keep", "/k2", NULL), err);
	CHECK_EQ_STR(oc_cfg_kv(&a.ep[0], "keep"), "/k2");
	oc_args_release(&a);
	CHECK_USAGE(OC_CMD_SUB, "'--keep' needs a value", "dir:/s", "--keep");

	/* --opt k=v: the last one given wins; empty values and '=' in values are kept */
	CHECK_OK(parse(&a, OC_CMD_SUB, err, sizeof(err), "--opt", "a=1", "--opt=a=2", "--opt",
		       "b=", "--opt", "c=x=y", "file:/x", NULL),
		 err);
	CHECK_EQ_STR(oc_cfg_kv(&a.ep[0], "a"), "2");
	CHECK_EQ_STR(oc_cfg_kv(&a.ep[0], "b"), "");
	CHECK_EQ_STR(oc_cfg_kv(&a.ep[0], "c"), "x=y");
	CHECK_EQ_STR(oc_cfg_kv(&a.ep[0], "d"), NULL);
	oc_args_release(&a);
	CHECK_USAGE(OC_CMD_SUB, "invalid value 'novalue' for --opt", "--opt", "novalue", "file:/x");
	CHECK_USAGE(OC_CMD_SUB, "invalid value '=v' for --opt", "--opt", "=v", "file:/x");
	CHECK_USAGE(OC_CMD_SUB, "'--opt' needs a value", "file:/x", "--opt");

	/* the configuration helpers */
	struct oc_cfg c, d;
	memset(&c, 0, sizeof(c));
	oc_cfg_add_kv(&c, "x", "1", false);
	oc_cfg_add_kv(&c, "y", "2", true);
	oc_cfg_add_kv(&c, "x", "3", false);
	CHECK_EQ_STR(oc_cfg_kv(&c, "x"), "3");
	c.count = 4;
	oc_cfg_copy(&d, &c);
	oc_cfg_add_kv(&c, "y", "changed", true);
	CHECK_EQ_STR(oc_cfg_kv(&d, "y"), "2"); /* a deep copy */
	CHECK_EQ_INT(d.count, 4);
	CHECK_EQ_INT(d.nkv, 3);
	CHECK(d.kv != c.kv);
	oc_cfg_release(&c);
	CHECK_EQ_STR(oc_cfg_kv(&d, "x"), "3");
	oc_cfg_release(&d);
	CHECK_EQ_INT(d.nkv, 0);
	CHECK(d.kv == NULL);
	oc_cfg_release(&d); /* twice is harmless */
}

/* ---- the table itself: DESIGN §4's letters mean one thing ---- */

static void test_table(void)
{
	static const struct {
		char s;
		const char *l;
	} letters[] = { { 'c', "count" },   { 'd', "data" },	 { 'o', "output" },
			{ 'm', "timeout" }, { 'v', "verbose" }, { 's', "silent" },
			{ 'S', "show-error" }, { '4', "ipv4" }, { '6', "ipv6" },
			{ 'h', "help" } };
	for (size_t i = 0; i < sizeof(letters) / sizeof(letters[0]); i++) {
		const struct oc_option *found = NULL;
		int n = 0;
		for (const struct oc_option *o = oc_options; o->lname; o++)
			if (o->sname == letters[i].s) {
				found = o;
				n++;
			}
		CHECK_EQ_INT(n, 1);
		CHECK(found && !strcmp(found->lname, letters[i].l));
	}
	/* long names are unique, every row has help and commands */
	for (const struct oc_option *o = oc_options; o->lname; o++) {
		for (const struct oc_option *p = o + 1; p->lname; p++)
			CHECK(strcmp(o->lname, p->lname) != 0);
		CHECK(o->help && *o->help);
		CHECK(o->cmds != 0);
		CHECK((o->cmds & ~(unsigned)(OC_CMD_ALL | OC_CMD_REPL)) == 0);
	}
}

int main(void)
{
	test_short();
	test_long();
	test_numbers();
	test_urls();
	test_relay_scope();
	test_adapter_options();
	test_table();
	UNIT_END("test_options");
}
