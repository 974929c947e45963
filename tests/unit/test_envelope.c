/* tests/unit/test_envelope.c — the JSON envelope of core/envelope.c: exact output bytes,
 * round trips through oc_envelope_decode, and every input error. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "err.h"
#include "iobatch.h"
#include "msg.h"
#include "unit.h"
#include "xalloc.h"

/* m as one envelope, NUL-terminated, malloc'd. */
static char *encode(const struct oc_msg *m, size_t *len)
{
	struct oc_iobatch b;
	unsigned nb;
	oc_iobatch_init(&b);
	oc_envelope_encode(m, &b);
	uv_buf_t *bufs = oc_iobatch_bufs(&b, &nb);
	CHECK_EQ_INT(nb, 1); /* dumped into the arena: one piece */
	char *out = xmalloc(b.bytes + 1);
	size_t off = 0;
	for (unsigned i = 0; i < nb; i++) {
		memcpy(out + off, bufs[i].base, bufs[i].len);
		off += bufs[i].len;
	}
	out[off] = '\0';
	*len = off;
	oc_iobatch_release(&b);
	return out;
}

static void check_encode(const struct oc_msg *m, const char *want)
{
	size_t len;
	char *out = encode(m, &len);
	CHECK_EQ_STR(out, want);
	CHECK_EQ_INT(len, strlen(want));
	free(out);
}

/* Decode json into a new message (NULL on error, with the reason in err). */
static struct oc_msg *decode(const char *json, char *err, size_t errlen)
{
	struct oc_msg *m = oc_msg_new();
	err[0] = '\0';
	if (oc_envelope_decode(json, strlen(json), m, err, errlen) != 0) {
		oc_msg_unref(m);
		return NULL;
	}
	return m;
}

static void check_error(const char *json, const char *want)
{
	char err[160];
	struct oc_msg *m = decode(json, err, sizeof(err));
	CHECK(m == NULL);
	oc_msg_unref(m);
	CHECK_EQ_STR(err, want);
}

/* Encode m, decode the result, and check payload and metadata came back. */
static struct oc_msg *roundtrip(const struct oc_msg *m)
{
	size_t len;
	char err[160];
	char *json = encode(m, &len);
	struct oc_msg *back = oc_msg_new();
	CHECK_EQ_INT(oc_envelope_decode(json, len, back, err, sizeof(err)), 0);
	CHECK_EQ_MEM(back->data, back->len, m->data, m->len);
	for (int f = 0; f < OC_F_COUNT; f++)
		CHECK_EQ_STR(back->f[f], m->f[f]);
	free(json);
	return back;
}

static void test_utf8_payload(void)
{
	const char text[] = "h\xc3\xa9llo \xe2\x9c\x93 \"q\" \\ / \t\n\x01 \xf0\x9f\x98\x80";
	struct oc_msg *m = oc_msg_new();
	oc_msg_set_payload_copy(m, text, sizeof(text) - 1);
	check_encode(m, "{\"payload\":\"h\xc3\xa9llo \xe2\x9c\x93 \\\"q\\\" \\\\ / \\t\\n\\u0001 "
			"\xf0\x9f\x98\x80\"}");
	oc_msg_unref(roundtrip(m));
	/* NUL bytes are valid UTF-8: "\u0000" and back */
	oc_msg_set_payload_copy(m, "a\0b", 3);
	check_encode(m, "{\"payload\":\"a\\u0000b\"}");
	oc_msg_unref(roundtrip(m));
	/* empty payload */
	oc_msg_set_payload_copy(m, "", 0);
	check_encode(m, "{\"payload\":\"\"}");
	oc_msg_unref(m);
	/* a message with no payload at all */
	m = oc_msg_new();
	check_encode(m, "{\"payload\":\"\"}");
	oc_msg_unref(m);
}

static void test_binary_payload(void)
{
	char all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (char)i;
	struct oc_msg *m = oc_msg_new();
	oc_msg_set_payload_copy(m, all, 256);
	check_encode(
	    m, "{\"payload_b64\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKiss"
	       "LS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2Rl"
	       "ZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2e"
	       "n6ChoqOkpaanqKmqq6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX"
	       "2Nna29zd3t/g4eLj5OXm5+jp6uvs7e7v8PHy8/T19vf4+fr7/P3+/w==\"}");
	oc_msg_unref(roundtrip(m));
	/* every length modulo 3, so every padding */
	for (size_t n = 1; n <= 5; n++) {
		oc_msg_set_payload_copy(m, "\xff\xfe\xfd\xfc\xfb", n);
		oc_msg_unref(roundtrip(m));
	}
	/* one invalid byte in otherwise fine text is enough */
	oc_msg_set_payload_copy(m, "ok\xc3", 3);
	check_encode(m, "{\"payload_b64\":\"b2vD\"}");
	oc_msg_unref(m);
}

static void test_headers(void)
{
	struct oc_msg *m = oc_msg_new();
	oc_msg_set_payload_copy(m, "x", 1);
	oc_msg_add_header(m, "Set-Cookie", 10, "a=1", 3);
	oc_msg_add_header(m, "unit", 4, "C", 1);
	oc_msg_add_header(m, "set-cookie", 10, "b=2", 3);
	oc_msg_add_header(m, "Set-Cookie", 10, "c=3", 3);
	check_encode(m, "{\"payload\":\"x\",\"headers\":{\"Set-Cookie\":[\"a=1\",\"b=2\",\"c=3\"],"
			"\"unit\":\"C\"}}");
	struct oc_msg *back = roundtrip(m);
	/* values of the repeated name keep their order; names come back grouped */
	CHECK_EQ_INT(back->nhdrs, 4);
	if (back->nhdrs == 4) {
		CHECK_EQ_STR(back->hdrs[0].value, "a=1");
		CHECK_EQ_STR(back->hdrs[1].value, "b=2");
		CHECK_EQ_STR(back->hdrs[2].value, "c=3");
		CHECK_EQ_STR(back->hdrs[3].name, "unit");
		CHECK_EQ_STR(back->hdrs[3].value, "C");
	}
	/* and a second round trip is byte-identical */
	size_t l1, l2;
	char *j1 = encode(m, &l1), *j2 = encode(back, &l2);
	CHECK_EQ_MEM(j1, l1, j2, l2);
	free(j1);
	free(j2);
	oc_msg_unref(back);
	oc_msg_unref(m);

	/* numbers become text, arrays of numbers too */
	char err[160];
	m = decode("{\"headers\":{\"n\":5,\"r\":2.5,\"a\":[1,\"two\"]}}", err, sizeof(err));
	CHECK(m != NULL);
	if (m) {
		CHECK_EQ_INT(m->nhdrs, 4);
		CHECK_EQ_STR(oc_msg_header(m, "n"), "5");
		CHECK_EQ_STR(oc_msg_header(m, "R"), "2.5");
		CHECK_EQ_STR(m->hdrs[3].value, "two");
	}
	oc_msg_unref(m);
}

static void test_case_insensitive(void)
{
	char err[160];
	struct oc_msg *m =
	    decode("{\"TOPIC\":\"t\",\"Payload\":\"p\",\"QoS\":1,\"Headers\":{\"x\":\"y\"},"
		   "\"Content_Type\":\"text/plain\",\"RETAIN\":true,\"unknown\":[1]}",
		   err, sizeof(err));
	CHECK(m != NULL);
	if (!m)
		return;
	CHECK_EQ_STR(m->f[OC_F_TOPIC], "t");
	CHECK_EQ_MEM(m->data, m->len, "p", 1);
	CHECK(m->flags & OC_MSG_QOS);
	CHECK_EQ_INT(m->qos, 1);
	CHECK_EQ_STR(oc_msg_header(m, "X"), "y");
	CHECK_EQ_STR(m->f[OC_F_CONTENT_TYPE], "text/plain");
	CHECK((m->flags & OC_MSG_RETAIN) && m->retain);
	oc_msg_unref(m);
}

static void test_errors(void)
{
	check_error("[1]", "expected a JSON object");
	check_error("\"str\"", "expected a JSON object");
	check_error("42", "expected a JSON object");
	check_error("{\"payload\":",
		    "invalid JSON at column 11: unexpected token near end of file");
	check_error("{\"payload_b64\":\"YQ=a\"}", "\"payload_b64\" is not valid base64");
	check_error("{\"payload_b64\":\"Y\"}", "\"payload_b64\" is not valid base64");
	check_error("{\"payload_b64\":\"====\"}", "\"payload_b64\" is not valid base64");
	check_error("{\"payload_b64\":\"YQ==\\n\"}", "\"payload_b64\" is not valid base64");
	check_error("{\"payload_b64\":7}", "\"payload_b64\" must be a string");
	check_error("{\"payload\":\"a\",\"payload_b64\":\"YQ==\"}",
		    "\"payload\" given twice (or with \"payload_b64\")");
	check_error("{\"topic\":3}", "\"topic\" must be a string");
	check_error("{\"topic\":\"a\\u0000b\"}", "\"topic\" contains a NUL character");
	check_error("{\"qos\":\"1\"}", "\"qos\" must be a number");
	check_error("{\"qos\":1.5}", "\"qos\" must be an integer");
	check_error("{\"status\":9999999999}", "\"status\" must be an integer");
	check_error("{\"retain\":1}", "\"retain\" must be true or false");
	check_error("{\"headers\":[]}", "\"headers\" must be an object");
	check_error("{\"headers\":{\"h\":true}}",
		    "\"h\" must be a string, a number or an array of them");
	check_error("{\"headers\":{\"h\":[\"a\",{}]}}",
		    "\"h\" must be a string, a number or an array of them");
}

static void test_numbers_flags_peer(void)
{
	struct oc_msg *m = oc_msg_new();
	oc_msg_set_payload_copy(m, "p", 1);
	oc_msg_set_status(m, 404);
	oc_msg_set_qos(m, 0);
	oc_msg_set_retain(m, false);
	check_encode(m, "{\"payload\":\"p\",\"status\":404,\"qos\":0,\"retain\":false}");
	oc_msg_unref(m);

	/* without their flags, status and qos are absent even when the fields hold values */
	m = oc_msg_new();
	m->status = 200;
	m->qos = 1;
	check_encode(m, "{\"payload\":\"\"}");
	oc_msg_unref(m);

	char err[160];
	m = decode("{\"payload\":\"x\",\"status\":201,\"qos\":2,\"retain\":false,"
		   "\"peer\":\"127.0.0.1:5000\"}",
		   err, sizeof(err));
	CHECK(m != NULL);
	if (m) {
		CHECK((m->flags & OC_MSG_STATUS) && m->status == 201);
		CHECK((m->flags & OC_MSG_QOS) && m->qos == 2);
		CHECK((m->flags & OC_MSG_RETAIN) && !m->retain);
		CHECK(m->flags & OC_MSG_ROUTE);
		CHECK_EQ_STR(m->f[OC_F_PEER], "127.0.0.1:5000");
	}
	oc_msg_unref(m);

	/* no peer: no ROUTE; null strings are absent; ts is ignored on input */
	m = decode("{\"payload\":\"x\",\"topic\":null,\"ts\":\"2026-01-01T00:00:00.000Z\"}", err,
		   sizeof(err));
	CHECK(m != NULL);
	if (m) {
		CHECK(!(m->flags & OC_MSG_ROUTE));
		CHECK(m->f[OC_F_TOPIC] == NULL);
		CHECK_EQ_INT(m->ts_ms, 0);
	}
	oc_msg_unref(m);
}

static void test_json_payloads(void)
{
	static const struct {
		const char *in;	  /* envelope */
		const char *want; /* payload */
	} cases[] = {
	    {"{\"payload\":{\"b\":[1,2.5,0.1,true,null],\"a\":\"s\"}}",
	     "{\"b\":[1,2.5,0.1,true,null],\"a\":\"s\"}"},
	    {"{\"payload\":[23.7, 1e300]}", "[23.7,1e300]"},
	    {"{\"payload\":[0.30000000000000004]}", "[0.30000000000000004]"},
	    {"{\"payload\":21.5}", "21.5"},
	    {"{\"payload\":0.1}", "0.1"},
	    {"{\"payload\":1.0}", "1.0"},
	    {"{\"payload\":-7}", "-7"},
	    {"{\"payload\":true}", "true"},
	    {"{\"payload\":null}", ""},
	    {"{\"payload\":\"\\u00e9\"}", "\xc3\xa9"},
	};
	char err[160];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct oc_msg *m = decode(cases[i].in, err, sizeof(err));
		CHECK(m != NULL);
		if (m)
			CHECK_EQ_MEM(m->data, m->len, cases[i].want, strlen(cases[i].want));
		oc_msg_unref(m);
	}
	/* oc_json_text directly */
	json_t *v = json_string("x");
	size_t len;
	char *t = oc_json_text(v, &len);
	CHECK_EQ_STR(t, "x");
	free(t);
	json_decref(v);
	v = json_integer(-12);
	t = oc_json_text(v, &len);
	CHECK_EQ_STR(t, "-12");
	CHECK_EQ_INT(len, 3);
	free(t);
	json_decref(v);
}

static void test_ts(void)
{
	char ts[40];
	oc_format_iso8601(1795514400123LL, ts, sizeof(ts));
	CHECK_EQ_STR(ts, "2026-11-24T10:00:00.123Z");
	oc_format_iso8601(0, ts, sizeof(ts));
	CHECK_EQ_STR(ts, "1970-01-01T00:00:00.000Z");
	oc_format_iso8601(-1, ts, sizeof(ts));
	CHECK_EQ_STR(ts, "1969-12-31T23:59:59.999Z");
	oc_format_iso8601(951782400005LL, ts, sizeof(ts)); /* a leap day */
	CHECK_EQ_STR(ts, "2000-02-29T00:00:00.005Z");
	oc_format_iso8601(1795514400123LL, ts, 25); /* exactly big enough */
	CHECK_EQ_STR(ts, "2026-11-24T10:00:00.123Z");

	struct oc_msg *m = oc_msg_new();
	m->ts_ms = 1795514400123LL;
	check_encode(m, "{\"payload\":\"\",\"ts\":\"2026-11-24T10:00:00.123Z\"}");
	oc_msg_unref(m);
}

static void test_full_order(void)
{
	struct oc_msg *m = oc_msg_new();
	/* set in scrambled order: output order is fixed */
	m->ts_ms = 1795514400123LL;
	oc_msg_set_str(m, OC_F_PEER, "unix:3");
	oc_msg_set_str(m, OC_F_CONTENT_TYPE, "application/json");
	oc_msg_set_retain(m, true);
	oc_msg_set_qos(m, 1);
	oc_msg_set_str(m, OC_F_ID, "42");
	oc_msg_set_status(m, 200);
	oc_msg_set_str(m, OC_F_QUERY, "a=1&b=2");
	oc_msg_set_str(m, OC_F_PATH, "/p");
	oc_msg_set_str(m, OC_F_METHOD, "POST");
	oc_msg_add_header(m, "h", 1, "v", 1);
	oc_msg_set_payload_copy(m, "{}", 2);
	oc_msg_set_str(m, OC_F_KEY, "k");
	oc_msg_set_str(m, OC_F_TOPIC, "sensors/1");
	check_encode(m,
		     "{\"topic\":\"sensors/1\",\"key\":\"k\",\"payload\":\"{}\",\"headers\":{\"h\":"
		     "\"v\"},\"method\":\"POST\",\"path\":\"/p\",\"query\":\"a=1&b=2\","
		     "\"status\":200,\"id\":\"42\",\"qos\":1,\"retain\":true,"
		     "\"content_type\":\"application/json\",\"peer\":\"unix:3\","
		     "\"ts\":\"2026-11-24T10:00:00.123Z\"}");
	struct oc_msg *back = roundtrip(m);
	CHECK(back->flags & OC_MSG_ROUTE); /* a decoded peer is a destination */
	CHECK(back->retain && back->qos == 1 && back->status == 200);
	oc_msg_unref(back);
	oc_msg_unref(m);
}

static void test_invalid_utf8_metadata(void)
{
	struct oc_msg *m = oc_msg_new();
	oc_msg_set_str(m, OC_F_KEY, "k\xff");
	oc_msg_add_header(m, "n\xe9", 2, "v\x80", 2);
	/* read as Latin-1: still valid JSON */
	check_encode(m, "{\"key\":\"k\xc3\xbf\",\"payload\":\"\",\"headers\":{\"n\xc3\xa9\":"
			"\"v\xc2\x80\"}}");
	oc_msg_unref(m);
}

int main(void)
{
	test_utf8_payload();
	test_binary_payload();
	test_headers();
	test_case_insensitive();
	test_errors();
	test_numbers_flags_peer();
	test_json_payloads();
	test_ts();
	test_full_order();
	test_invalid_utf8_metadata();
	oc_msg_cache_release();
	UNIT_END("test_envelope");
}
