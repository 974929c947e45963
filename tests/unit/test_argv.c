/* tests/unit/test_argv.c — core/argv.c: splitting --exec / exec: command lines with the
 * quoting rules of argv.h ('...' literal; "..." literal but \" and \\; a backslash outside
 * quotes escapes the next character; nothing expanded), its errors, and oc_argv_quote(). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "err.h"
#include "unit.h"

/* cmd must split into exactly the NULL-terminated list of words given. */
static void check_split(const char *file, int line, const char *cmd, ...)
{
	char **v = NULL;
	char err[256] = "";
	int r = oc_argv_split(cmd, &v, err, sizeof(err));
	unit_checks++;
	if (r) {
		unit_fail(file, line);
		fprintf(stderr, "split of [%s] failed: %s\n", cmd, err);
		return;
	}
	va_list ap;
	va_start(ap, cmd);
	int i = 0;
	const char *w;
	while ((w = va_arg(ap, const char *))) {
		unit_checks++;
		if (!v[i]) {
			unit_fail(file, line);
			fprintf(stderr, "split of [%s]: only %d words, expected [%s] next\n", cmd, i, w);
			break;
		}
		if (strcmp(v[i], w)) {
			unit_fail(file, line);
			fprintf(stderr, "split of [%s]: word %d is [%s], expected [%s]\n", cmd, i, v[i],
				w);
		}
		i++;
	}
	va_end(ap);
	unit_checks++;
	if (v[i]) {
		unit_fail(file, line);
		fprintf(stderr, "split of [%s]: extra word %d [%s]\n", cmd, i, v[i]);
	}
	oc_argv_free(v);
}
#define CHECK_SPLIT(cmd, ...) check_split(__FILE__, __LINE__, (cmd), __VA_ARGS__, NULL)

static void check_error(const char *file, int line, const char *cmd, const char *why)
{
	char **v = NULL; /* nothing to free on error (LeakSanitizer checks) */
	char err[256] = "";
	int r = oc_argv_split(cmd, &v, err, sizeof(err));
	unit_checks++;
	if (r != OC_EUSAGE) {
		unit_fail(file, line);
		fprintf(stderr, "split of [%s] gave %d, expected OC_EUSAGE\n", cmd, r);
		if (!r)
			oc_argv_free(v);
		return;
	}
	unit_checks++;
	if (!strstr(err, why)) {
		unit_fail(file, line);
		fprintf(stderr, "error for [%s] is \"%s\", expected it to contain \"%s\"\n", cmd, err,
			why);
	}
}
#define CHECK_ERROR(cmd, why) check_error(__FILE__, __LINE__, (cmd), (why))

static void test_words(void)
{
	CHECK_SPLIT("cat", "cat");
	CHECK_SPLIT("cat -n", "cat", "-n");
	CHECK_SPLIT("  sort   -r\t-k2\n", "sort", "-r", "-k2");
	CHECK_SPLIT("tr a-z A-Z", "tr", "a-z", "A-Z");
	CHECK_SPLIT("/usr/bin/env X=1 prog", "/usr/bin/env", "X=1", "prog");
}

static void test_quotes(void)
{
	/* single quotes: everything literal, backslashes and double quotes included */
	CHECK_SPLIT("echo 'a b'  c", "echo", "a b", "c");
	CHECK_SPLIT("'a\\b' '\"'", "a\\b", "\"");
	CHECK_SPLIT("'$HOME' '*'", "$HOME", "*");
	/* double quotes: literal except \" and \\ */
	CHECK_SPLIT("\"a b\" c", "a b", "c");
	CHECK_SPLIT("\"say \\\"hi\\\"\"", "say \"hi\"");
	CHECK_SPLIT("\"back\\\\slash\"", "back\\slash");
	CHECK_SPLIT("\"a\\nb\"", "a\\nb"); /* other backslashes stay */
	CHECK_SPLIT("\"it's\"", "it's");
	CHECK_SPLIT("\"$HOME `id` $(id)\"", "$HOME `id` $(id)");
	/* backslash outside quotes: the next character is literal */
	CHECK_SPLIT("a\\ b c", "a b", "c");
	CHECK_SPLIT("\\'x\\'", "'x'");
	CHECK_SPLIT("\\\\", "\\");
	CHECK_SPLIT("\\\"", "\"");
	/* pieces next to each other make one word */
	CHECK_SPLIT("a'b'\"c\"d", "abcd");
	CHECK_SPLIT("'it'\\''s'", "it's");
	CHECK_SPLIT("--opt='x y'", "--opt=x y");
	/* empty quotes are an empty word */
	CHECK_SPLIT("printf '%s|' '' \"\" x", "printf", "%s|", "", "", "x");
	CHECK_SPLIT("''", "");
	/* blanks inside quotes are kept, tabs and newlines too */
	CHECK_SPLIT("'a\tb\nc'", "a\tb\nc");
}

static void test_no_expansion(void)
{
	/* nothing a shell would do happens: a message can never inject a command */
	CHECK_SPLIT("echo $HOME ~ * ?", "echo", "$HOME", "~", "*", "?");
	CHECK_SPLIT("a;b|c&&d>e<f", "a;b|c&&d>e<f");
	CHECK_SPLIT("echo $(rm -rf /) `id`", "echo", "$(rm", "-rf", "/)", "`id`");
	CHECK_SPLIT("x # not a comment", "x", "#", "not", "a", "comment");
}

static void test_errors(void)
{
	CHECK_ERROR("", "empty command");
	CHECK_ERROR("   \t\n", "empty command");
	CHECK_ERROR("echo 'abc", "unterminated quote");
	CHECK_ERROR("echo \"abc", "unterminated quote");
	CHECK_ERROR("echo \"abc\\\"", "unterminated quote"); /* \" does not close */
	CHECK_ERROR("'", "unterminated quote");
	CHECK_ERROR("echo abc\\", "trailing backslash");
	CHECK_ERROR("\\", "trailing backslash");
	/* the message names the command */
	char **v = NULL;
	char err[256];
	CHECK_EQ_INT(oc_argv_split("grep 'x", &v, err, sizeof(err)), OC_EUSAGE);
	CHECK(strstr(err, "grep 'x") != NULL);
	/* a small error buffer is not overrun */
	char small[8];
	memset(small, 'Z', sizeof(small));
	CHECK_EQ_INT(oc_argv_split("echo 'a long unterminated thing", &v, small, sizeof(small)),
		     OC_EUSAGE);
	CHECK(memchr(small, '\0', sizeof(small)) != NULL);
}

static void check_roundtrip(const char *file, int line, const char *s)
{
	char *q = oc_argv_quote(s);
	char **v = NULL;
	char err[256] = "";
	int r = oc_argv_split(q, &v, err, sizeof(err));
	unit_checks++;
	if (r || !v[0] || strcmp(v[0], s) || v[1]) {
		unit_fail(file, line);
		fprintf(stderr, "quote of [%s] is [%s], which splits to [%s]%s (%s)\n", s, q,
			!r && v[0] ? v[0] : "(error)", !r && v[0] && v[1] ? " and more" : "", err);
	}
	if (!r)
		oc_argv_free(v);
	free(q);
}
#define CHECK_ROUNDTRIP(s) check_roundtrip(__FILE__, __LINE__, (s))

static void test_quote(void)
{
	const char *words[] = { "plain",	 "",	       "a b",	       "it's",
				"''",		 "\"",	       "\\",	       "\\'",
				"$HOME *",	 "a\tb\nc",    "-n",	       "'; rm -rf / #",
				"\"$(id)\"",	 " lead",      "trail ",       "x'y'z\"w\"",
				NULL };
	for (const char **w = words; *w; w++)
		CHECK_ROUNDTRIP(*w);
	char *q = oc_argv_quote("abc");
	CHECK_EQ_STR(q, "'abc'");
	free(q);
	/* several quoted words joined with spaces split back into the same words */
	char *a = oc_argv_quote("sh"), *b = oc_argv_quote("-c"), *c = oc_argv_quote("echo 'x' \"$y\"");
	char line[256];
	snprintf(line, sizeof(line), "%s %s %s", a, b, c);
	CHECK_SPLIT(line, "sh", "-c", "echo 'x' \"$y\"");
	free(a);
	free(b);
	free(c);
	oc_argv_free(NULL); /* allowed */
}

int main(void)
{
	test_words();
	test_quotes();
	test_no_expansion();
	test_errors();
	test_quote();
	UNIT_END("test_argv");
}
