/* tests/unit/test_show.c — the REPL's pure parts: rendering messages for a terminal
 * (core/show.c), link-format targets (core/linkfmt.c) and a URL with another path. */
#include <stdlib.h>
#include <string.h>

#include "linkfmt.h"
#include "msg.h"
#include "show.h"
#include "unit.h"
#include "url.h"
#include "xalloc.h"

/* m rendered with o, as a string the caller frees */
static char *render(const struct oc_show *o, const struct oc_msg *m)
{
	struct oc_text t = { 0 };
	oc_show_msg(o, m, &t);
	return t.s;
}

static struct oc_msg *msg(const char *payload, size_t len)
{
	struct oc_msg *m = oc_msg_new();
	oc_msg_set_payload_copy(m, payload, len);
	return m;
}

static void test_text_and_json(void)
{
	const struct oc_show plain = { .json = true };
	struct oc_msg *m = msg("{\"a\":[1,\"x\"]}", 13);
	oc_msg_set_str(m, OC_F_TOPIC, "s/1");
	oc_msg_set_qos(m, 1);
	char *s = render(&plain, m);
	CHECK_EQ_STR(s, "s/1 qos=1\n{\n  \"a\": [\n    1,\n    \"x\"\n  ]\n}\n");
	free(s);
	/* :json off: as it came */
	const struct oc_show nojson = { 0 };
	s = render(&nojson, m);
	CHECK_EQ_STR(s, "s/1 qos=1\n{\"a\":[1,\"x\"]}\n");
	free(s);
	oc_msg_unref(m);

	/* a status, headers on request, an empty body */
	const struct oc_show hdrs = { .headers = true };
	m = msg("", 0);
	oc_msg_set_status(m, 404);
	oc_msg_add_header(m, "ETag", 4, "x1", 2);
	s = render(&hdrs, m);
	CHECK_EQ_STR(s, "404 (empty)\nETag: x1\n");
	free(s);
	oc_msg_unref(m);

	/* CoAP's codes as people write them */
	const struct oc_show dotted = { .dotted = true };
	m = msg("x", 1);
	oc_msg_set_status(m, 205);
	s = render(&dotted, m);
	CHECK_EQ_STR(s, "2.05\nx\n");
	free(s);
	oc_msg_unref(m);

	/* a JSON scalar stays text */
	m = msg("42", 2);
	s = render(&plain, m);
	CHECK_EQ_STR(s, "42\n");
	free(s);
	oc_msg_unref(m);
}

static void test_colour(void)
{
	const struct oc_show col = { .color = true, .json = true };
	struct oc_msg *m = msg("{\"k\":true}", 10);
	oc_msg_set_status(m, 200);
	char *s = render(&col, m);
	CHECK(strstr(s, "\033[34m\"k\"\033[0m") != NULL);      /* key */
	CHECK(strstr(s, "\033[35mtrue\033[0m") != NULL);       /* literal */
	CHECK(strstr(s, "\033[1m\033[32m200\033[0m") != NULL); /* success */
	free(s);
	oc_msg_unref(m);
}

static void test_binary(void)
{
	const struct oc_show plain = { .json = true };
	/* not UTF-8, with NUL: a hex dump */
	struct oc_msg *m = msg("\x00\x01\xff" "A", 4);
	char *s = render(&plain, m);
	CHECK(strstr(s, "00000000  00 01 ff 41") != NULL);
	CHECK(strstr(s, "|...A|") == NULL); /* the text column is plain */
	CHECK(strstr(s, "  ...A\n") != NULL);
	free(s);
	oc_msg_unref(m);
	/* an escape sequence is not printed raw */
	m = msg("a\033[2Jb", 6);
	s = render(&plain, m);
	CHECK(strchr(s, '\033') == NULL);
	free(s);
	oc_msg_unref(m);
}

static void add_target(void *ud, const char *t, size_t n)
{
	struct oc_text *out = ud;
	oc_text_printf(out, "%.*s|", (int)n, t);
}

static void test_linkfmt(void)
{
	const char *doc = "</time>;rt=\"t<x>\";obs,</a/b>;ct=0,</.well-known/core>";
	struct oc_text t = { 0 };
	oc_linkfmt_targets(doc, strlen(doc), add_target, &t);
	CHECK_EQ_STR(t.s, "/time|/a/b|/.well-known/core|");
	oc_text_release(&t);
	oc_linkfmt_targets("</unterminated", 14, add_target, &t);
	CHECK(t.s == NULL);
}

static void test_url_with_path(void)
{
	char *u = oc_url_with_path("mqtt://u:p@h:1883/a/#?x=1", "b/+");
	CHECK_EQ_STR(u, "mqtt://u:p@h:1883/b/+?x=1");
	free(u);
	u = oc_url_with_path("mqtt://h", "/t");
	CHECK_EQ_STR(u, "mqtt://h/t");
	free(u);
	CHECK(oc_url_with_path("unix:/x", "y") == NULL);
}

int main(void)
{
	test_text_and_json();
	test_colour();
	test_binary();
	test_linkfmt();
	test_url_with_path();
	oc_msg_cache_release();
	UNIT_END("test_show");
}
