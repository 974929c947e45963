/* tests/unit/test_sse.c — the event stream parser, formatter and history
 * (proto-adapters/http/sse.c), against the examples of the HTML standard §9.2. */
#include <stdlib.h>
#include <string.h>

#include "http/sse.h"
#include "unit.h"

/* Events seen by the parser, as "event|id|data" lines. */
static char seen[4096];

static int record(void *ud, const char *data, size_t len, const char *event, const char *id)
{
	size_t o = strlen(seen);
	snprintf(seen + o, sizeof(seen) - o, "%s|%s|%.*s\n", event ? event : "", id ? id : "",
		 (int)len, data);
	return 0;
}

/* Parse s fed in pieces of `step` bytes (every split point must give the same events). */
static const char *parse(const char *s, size_t step)
{
	struct sse_parser p;
	sse_parser_init(&p, 1 << 20);
	seen[0] = '\0';
	size_t n = strlen(s);
	for (size_t i = 0; i < n; i += step)
		sse_parse(&p, s + i, i + step > n ? n - i : step, record, NULL);
	sse_parser_free(&p);
	return seen;
}

static void check_all_splits(const char *s, const char *want)
{
	for (size_t step = 1; step <= strlen(s); step++)
		CHECK_EQ_STR(parse(s, step), want);
}

static void test_parser(void)
{
	/* the standard's examples */
	check_all_splits("data: YHOO\ndata: +2\ndata: 10\n\n", "||YHOO\n+2\n10\n");
	check_all_splits(": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\n"
			 "data:  third event\n\n",
			 "|1|first event\n||second event\n|| third event\n");
	check_all_splits("data\n\ndata\ndata\n\ndata:", "||\n||\n\n");
	check_all_splits("data:test\n\ndata: test\n\n", "||test\n||test\n");
	/* event names, CR and CRLF line ends, a BOM, retry, an event without its blank line */
	check_all_splits("\xEF\xBB\xBF" "event: add\r\ndata: 73857293\r\n\r\nevent: remove\rdata: 2"
			 "\r\rretry: 1500\nid: 7\ndata: x\n\ndata: lost",
			 "add||73857293\nremove||2\n|7|x\n");
	struct sse_parser p;
	sse_parser_init(&p, 8);
	CHECK_EQ_INT(sse_parse(&p, "retry: 2500\n", 12, record, NULL), -1); /* line over max */
	sse_parser_free(&p);
	sse_parser_init(&p, 64);
	sse_parse(&p, "retry: 2500\nretry: x\n", 21, record, NULL);
	CHECK_EQ_INT(p.retry_ms, 2500);
	sse_parser_free(&p);
}

static void check_format(const char *event, const char *id, const char *data, const char *want)
{
	size_t len;
	char *s = sse_format(event, id, data, strlen(data), &len);
	CHECK_EQ_MEM(s, len, want, strlen(want));
	/* and the parser gives the payload back */
	char back[512];
	snprintf(back, sizeof(back), "%s|%s|%s\n", event ? event : "", id ? id : "", data);
	char *z = strndup(s, len);
	CHECK_EQ_STR(parse(z, 3), back);
	free(z);
	free(s);
}

static void test_format(void)
{
	check_format(NULL, NULL, "hello", "data: hello\n\n");
	check_format("tick", "42", "a\nb", "event: tick\nid: 42\ndata: a\ndata: b\n\n");
	check_format(NULL, "1", "", "id: 1\ndata: \n\n");
	check_format(NULL, NULL, "ends\n", "data: ends\ndata: \n\n");
	size_t len;
	char *s = sse_format("a\nb", NULL, "x\r\ny", 4, &len);
	CHECK_EQ_MEM(s, len, "event: a\ndata: x\ndata: y\n\n", 26);
	free(s);
}

static void test_history(void)
{
	struct sse_history h;
	sse_history_init(&h, 3);
	size_t len = 0;
	CHECK(sse_history_after(&h, "1", &len) == NULL);
	const char *ids[] = { "1", "2", "3", "4" };
	const char *evs[] = { "A", "B", "C", "D" };
	for (int i = 0; i < 4; i++)
		sse_history_add(&h, evs[i], 1, ids[i]);
	char *s = sse_history_after(&h, "2", &len); /* "1" fell out; after "2": C D */
	CHECK_EQ_MEM(s, len, "CD", 2);
	free(s);
	CHECK(sse_history_after(&h, "4", &len) == NULL); /* up to date */
	s = sse_history_after(&h, "1", &len); /* no longer held: all there is */
	CHECK_EQ_MEM(s, len, "BCD", 3);
	free(s);
	sse_history_free(&h);
	sse_history_init(&h, 0); /* no history: nothing kept, nothing replayed */
	sse_history_add(&h, "A", 1, "1");
	CHECK(sse_history_after(&h, "0", &len) == NULL);
	sse_history_free(&h);
}

int main(void)
{
	test_parser();
	test_format();
	test_history();
	UNIT_END("sse");
}
