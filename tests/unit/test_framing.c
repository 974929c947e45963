/* tests/unit/test_framing.c — decoders and encoders of core/framing.c.
 *
 * Decoding is driven the way a stream reader drives it: each read lands in a fresh chunk that
 * starts with the bytes the previous call did not consume, and the old chunk is released at
 * once — so a message that failed to keep its chunk alive shows up under ASan. */
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "err.h"
#include "format.h"
#include "framing.h"
#include "iobatch.h"
#include "msg.h"
#include "unit.h"
#include "xalloc.h"

/* ---- helpers ---- */

struct msgs {
	struct oc_msg **v; /* collected messages */
	size_t n, cap;	   /* used and allocated */
	int fail_at;	   /* emit returns OC_EFAIL for this message number (1-based), 0 never */
};

static int collect(void *ud, struct oc_msg *m)
{
	struct msgs *ms = ud;
	if (ms->n == ms->cap) {
		ms->cap = ms->cap ? 2 * ms->cap : 16;
		ms->v = xrealloc(ms->v, ms->cap * sizeof(*ms->v));
	}
	ms->v[ms->n++] = m;
	return ms->fail_at && (int)ms->n == ms->fail_at ? OC_EFAIL : 0;
}

static void msgs_clear(struct msgs *ms)
{
	for (size_t i = 0; i < ms->n; i++)
		oc_msg_unref(ms->v[i]);
	free(ms->v);
	memset(ms, 0, sizeof(*ms));
}

/* Feed in[0..n) in reads ending at cuts[0..ncuts) (ascending), the last read with eof.
 * Returns 0 or the first error; checks nothing is left over after eof. */
static int feed(struct oc_decoder *d, const char *in, size_t n, const size_t *cuts, size_t ncuts,
		struct msgs *out)
{
	char *pending = NULL;
	size_t plen = 0, pos = 0;
	for (size_t k = 0; k <= ncuts; k++) {
		size_t end = k < ncuts ? cuts[k] : n, seg = end - pos;
		struct oc_chunk *c = oc_chunk_new(plen + seg + 1);
		if (plen)
			memcpy(c->data, pending, plen);
		if (seg)
			memcpy(c->data + plen, in + pos, seg);
		size_t len = plen + seg;
		ssize_t r = oc_decode(d, c, c->data, len, k == ncuts, collect, out);
		free(pending);
		pending = NULL;
		if (r < 0) {
			oc_chunk_unref(c);
			return (int)r;
		}
		plen = len - (size_t)r;
		if (plen) {
			pending = xmalloc(plen);
			memcpy(pending, c->data + r, plen);
		}
		oc_chunk_unref(c);
		pos = end;
	}
	free(pending);
	CHECK_EQ_INT(plen, 0);
	return 0;
}

static int feed_whole(struct oc_decoder *d, const char *in, size_t n, struct msgs *out)
{
	return feed(d, in, n, NULL, 0, out);
}

/* The batch's bytes in one malloc'd buffer. */
static char *flatten(struct oc_iobatch *b, size_t *len)
{
	unsigned nb;
	uv_buf_t *bufs = oc_iobatch_bufs(b, &nb);
	char *out = xmalloc(b->bytes + 1);
	size_t off = 0;
	for (unsigned i = 0; i < nb; i++) {
		memcpy(out + off, bufs[i].base, bufs[i].len);
		off += bufs[i].len;
	}
	CHECK_EQ_INT(off, b->bytes);
	out[off] = '\0';
	*len = off;
	return out;
}

static struct oc_msg *msg_of(const char *s, size_t n)
{
	struct oc_msg *m = oc_msg_new();
	oc_msg_set_payload_copy(m, s, n);
	return m;
}

/* Encode payloads p[0..n) with kind, return the bytes. */
static char *encode_all(enum oc_framing kind, const char *const *p, const size_t *lens, size_t n,
			size_t *outlen)
{
	struct oc_encoder e;
	struct oc_iobatch b;
	oc_encoder_init(&e, kind, NULL);
	oc_iobatch_init(&b);
	for (size_t i = 0; i < n; i++) {
		struct oc_msg *m = msg_of(p[i], lens[i]);
		CHECK_EQ_INT(oc_encode(&e, m, &b), 0);
		oc_msg_unref(
		    m); /* copies only: payloads here are short, so nothing is referenced */
	}
	char *out = flatten(&b, outlen);
	oc_iobatch_release(&b);
	oc_encoder_release(&e);
	return out;
}

static void check_payloads(const struct msgs *ms, const char *const *p, const size_t *lens,
			   size_t n)
{
	CHECK_EQ_INT(ms->n, n);
	for (size_t i = 0; i < n && i < ms->n; i++)
		CHECK_EQ_MEM(ms->v[i]->data, ms->v[i]->len, p[i], lens[i]);
}

/* Decode in with kind at every single split point and byte by byte; each result must equal
 * the payloads of decoding it whole. */
static void check_splits(enum oc_framing kind, const char *in, size_t n)
{
	struct oc_decoder d;
	struct msgs whole = {0};
	oc_decoder_init(&d, kind, 0);
	CHECK_EQ_INT(feed_whole(&d, in, n, &whole), 0);
	oc_decoder_release(&d);
	CHECK(whole.n > 1);

	size_t *cuts = xmalloc((n + 1) * sizeof(*cuts));
	for (size_t k = 0; k <= n + 1; k++) {
		size_t ncuts;
		if (k <= n) { /* one split at k */
			cuts[0] = k;
			ncuts = 1;
		} else { /* every byte its own read */
			for (size_t i = 0; i < n; i++)
				cuts[i] = i + 1;
			ncuts = n;
		}
		struct msgs ms = {0};
		oc_decoder_init(&d, kind, 0);
		CHECK_EQ_INT(feed(&d, in, n, cuts, ncuts, &ms), 0);
		oc_decoder_release(&d);
		CHECK_EQ_INT(ms.n, whole.n);
		for (size_t i = 0; i < ms.n && i < whole.n; i++)
			CHECK_EQ_MEM(ms.v[i]->data, ms.v[i]->len, whole.v[i]->data,
				     whole.v[i]->len);
		msgs_clear(&ms);
	}
	free(cuts);
	msgs_clear(&whole);
}

/* ---- tests ---- */

static void test_names(void)
{
	enum oc_framing f;
	for (int i = 0; oc_framing_names[i]; i++) {
		CHECK_EQ_INT(oc_framing_parse(oc_framing_names[i], &f), 0);
		CHECK_EQ_INT(f, i);
	}
	CHECK_EQ_INT(oc_framing_parse("json", &f), OC_EUSAGE);
	CHECK_EQ_STR(oc_framing_names[OC_FRAMING_LEN32], "len32");
}

static void roundtrip(enum oc_framing kind, const char *const *p, const size_t *lens, size_t n)
{
	size_t len;
	char *bytes = encode_all(kind, p, lens, n, &len);
	struct oc_decoder d;
	struct msgs ms = {0};
	oc_decoder_init(&d, kind, 0);
	CHECK_EQ_INT(feed_whole(&d, bytes, len, &ms), 0);
	check_payloads(&ms, p, lens, n);
	msgs_clear(&ms);
	oc_decoder_release(&d);
	free(bytes);
}

static void test_roundtrips(void)
{
	const char *text[] = {"hello", "", "with\rcr", "x y z", "\xc3\xa9t\xc3\xa9"};
	size_t tl[] = {5, 0, 7, 5, 5};
	roundtrip(OC_FRAMING_LINE, text, tl, 5);
	roundtrip(OC_FRAMING_NUL, text, tl, 5);
	const char *bin[] = {"a\0b\nc", "", "\xff\xfe", "1234"};
	size_t bl[] = {5, 0, 2, 4};
	roundtrip(OC_FRAMING_LEN32, bin, bl, 4);
	/* jsonl: payloads of any bytes survive (binary via payload_b64) */
	roundtrip(OC_FRAMING_JSONL, bin, bl, 4);
	roundtrip(OC_FRAMING_JSONL, text, tl, 5);
	/* raw: what is written is one chunk when read back */
	const char *raw[] = {"abc\n\0def"};
	size_t rl[] = {8};
	roundtrip(OC_FRAMING_RAW, raw, rl, 1);
	/* csv: object payloads with awkward values come back identical */
	const char *objs[] = {"{\"a\":\"1\",\"b\":\"x, \\\"y\\\"\\nz\"}",
			      "{\"a\":\" lead\",\"b\":\"\"}",
			      "{\"a\":\"\xc3\xa9\",\"b\":\"tail \"}"};
	size_t ol[] = {strlen(objs[0]), strlen(objs[1]), strlen(objs[2])};
	roundtrip(OC_FRAMING_CSV, objs, ol, 3);
}

static void test_line_details(void)
{
	struct oc_decoder d;
	struct msgs ms = {0};
	struct oc_chunk *c = oc_chunk_new(16);
	memcpy(c->data, "a\r\nbb\nccc", 9);
	oc_decoder_init(&d, OC_FRAMING_LINE, 0);
	/* no eof: the unterminated tail is left to the caller */
	CHECK_EQ_INT(oc_decode(&d, c, c->data, 9, false, collect, &ms), 6);
	CHECK_EQ_INT(ms.n, 2);
	CHECK_EQ_MEM(ms.v[0]->data, ms.v[0]->len, "a\r", 2); /* \r is kept */
	CHECK(ms.v[0]->data == c->data);		     /* zero copy: points into the chunk */
	CHECK(ms.v[0]->chunk == c);
	CHECK_EQ_INT(c->refs, 3);
	/* eof: the trailing line without newline is a message */
	CHECK_EQ_INT(oc_decode(&d, c, c->data + 6, 3, true, collect, &ms), 3);
	CHECK_EQ_INT(ms.n, 3);
	CHECK_EQ_MEM(ms.v[2]->data, ms.v[2]->len, "ccc", 3);
	/* eof with nothing left: no empty message */
	CHECK_EQ_INT(oc_decode(&d, c, c->data + 9, 0, true, collect, &ms), 0);
	CHECK_EQ_INT(ms.n, 3);
	/* an empty line is an empty message */
	CHECK_EQ_INT(oc_decode(&d, NULL, "\n", 1, false, collect, &ms), 1);
	CHECK_EQ_INT(ms.n, 4);
	CHECK_EQ_INT(ms.v[3]->len, 0);
	oc_chunk_unref(c);
	msgs_clear(&ms);

	/* without a chunk, payloads are copied */
	const char in[] = "x\ny\n";
	CHECK_EQ_INT(oc_decode(&d, NULL, in, 4, false, collect, &ms), 4);
	CHECK_EQ_INT(ms.n, 2);
	CHECK(ms.v[1]->data != in + 2 && ms.v[1]->chunk == NULL);
	CHECK_EQ_MEM(ms.v[1]->data, ms.v[1]->len, "y", 1);
	msgs_clear(&ms);

	/* emit's error stops decoding and is returned */
	ms.fail_at = 2;
	CHECK_EQ_INT(oc_decode(&d, NULL, "1\n2\n3\n", 6, false, collect, &ms), OC_EFAIL);
	CHECK_EQ_INT(ms.n, 2);
	msgs_clear(&ms);
	oc_decoder_release(&d);

	/* nul */
	oc_decoder_init(&d, OC_FRAMING_NUL, 0);
	CHECK_EQ_INT(oc_decode(&d, NULL, "a\nb\0c", 5, true, collect, &ms), 5);
	CHECK_EQ_INT(ms.n, 2);
	CHECK_EQ_MEM(ms.v[0]->data, ms.v[0]->len, "a\nb", 3);
	CHECK_EQ_MEM(ms.v[1]->data, ms.v[1]->len, "c", 1);
	msgs_clear(&ms);
	oc_decoder_release(&d);
}

static void test_raw(void)
{
	struct oc_decoder d;
	struct msgs ms = {0};
	oc_decoder_init(&d, OC_FRAMING_RAW, 0);
	CHECK_EQ_INT(oc_decode(&d, NULL, "ab\ncd", 5, false, collect, &ms), 5);
	CHECK_EQ_INT(oc_decode(&d, NULL, "", 0, false, collect, &ms), 0);
	CHECK_EQ_INT(oc_decode(&d, NULL, "e", 1, true, collect, &ms), 1);
	CHECK_EQ_INT(ms.n, 2);
	CHECK_EQ_MEM(ms.v[0]->data, ms.v[0]->len, "ab\ncd", 5);
	CHECK_EQ_MEM(ms.v[1]->data, ms.v[1]->len, "e", 1);
	msgs_clear(&ms);
	oc_decoder_release(&d);
}

static void test_splits(void)
{
	const char line[] = "one\ntwo\r\n\nthree\nfour";
	check_splits(OC_FRAMING_LINE, line, sizeof(line) - 1);
	const char nul[] = "one\0two\0\0three";
	check_splits(OC_FRAMING_NUL, nul, sizeof(nul) - 1);
	const char len32[] = "\0\0\0\3abc\0\0\0\0\0\0\0\5hello\0\0\0\1\n";
	check_splits(OC_FRAMING_LEN32, len32, sizeof(len32) - 1);
	const char jsonl[] = "{\"payload\":\"a\",\"topic\":\"t\"}\n\n{\"payload\":\"b\\n\"}\r\n"
			     "{\"payload_b64\":\"AAE=\"}";
	check_splits(OC_FRAMING_JSONL, jsonl, sizeof(jsonl) - 1);
	const char csv[] = "name,note\r\n\"Smith, J\",\"said \"\"hi\"\"\nthere\"\nx,y\n,\n\"\",z";
	check_splits(OC_FRAMING_CSV, csv, sizeof(csv) - 1);
}

static void test_big_frames(void)
{
	const size_t big = 16u << 20;
	char *in = xmalloc(big + 8);
	struct oc_decoder d;
	struct msgs ms = {0};

	memset(in, 'a', big);
	in[big] = '\n';
	oc_decoder_init(&d, OC_FRAMING_LINE, 0);
	CHECK_EQ_INT(feed_whole(&d, in, big + 1, &ms), 0);
	CHECK_EQ_INT(ms.n, 1);
	CHECK(ms.n == 1 && ms.v[0]->len == big);
	msgs_clear(&ms);
	oc_decoder_release(&d);

	memmove(in + 4, in, big);
	memcpy(in, "\x01\x00\x00\x00", 4); /* 16 MiB, big-endian */
	oc_decoder_init(&d, OC_FRAMING_LEN32, 0);
	size_t cut = 3; /* the header itself split, and the body over two reads */
	size_t cuts[] = {cut, big / 2};
	CHECK_EQ_INT(feed(&d, in, big + 4, cuts, 2, &ms), 0);
	CHECK(ms.n == 1 && ms.v[0]->len == big && ms.v[0]->data[big - 1] == 'a');
	msgs_clear(&ms);
	oc_decoder_release(&d);
	free(in);
}

static void check_too_big(enum oc_framing kind, const char *in, size_t n, bool eof)
{
	struct oc_decoder d;
	struct msgs ms = {0};
	oc_decoder_init(&d, kind, 10);
	CHECK_EQ_INT(oc_decode(&d, NULL, in, n, eof, collect, &ms), OC_EPROTO);
	CHECK_EQ_STR(d.err, "frame larger than 10 bytes");
	msgs_clear(&ms);
	oc_decoder_release(&d);
}

static void test_max_frame(void)
{
	/* 10 bytes pass, 11 do not, with or without a terminator */
	struct oc_decoder d;
	struct msgs ms = {0};
	oc_decoder_init(&d, OC_FRAMING_LINE, 10);
	CHECK_EQ_INT(oc_decode(&d, NULL, "0123456789\n0123456789", 21, false, collect, &ms), 11);
	CHECK_EQ_INT(ms.n, 1);
	msgs_clear(&ms);
	oc_decoder_release(&d);
	check_too_big(OC_FRAMING_LINE, "0123456789A", 11, false);
	check_too_big(OC_FRAMING_LINE, "0123456789A\n", 12, false);
	check_too_big(OC_FRAMING_NUL, "0123456789A", 11, false);
	check_too_big(OC_FRAMING_JSONL, "{\"payload\":\"xyz\"}", 17, false);
	check_too_big(OC_FRAMING_LEN32, "\0\0\0\x0b", 4, false);
	check_too_big(OC_FRAMING_CSV, "a\n0123456789A", 13, false);
	/* the default limit */
	oc_decoder_init(&d, OC_FRAMING_LEN32, 0);
	CHECK_EQ_INT(d.max_frame, OC_FRAME_MAX_DEFAULT);
	CHECK_EQ_INT(oc_decode(&d, NULL, "\x04\0\0\x01", 4, false, collect, &ms), OC_EPROTO);
	CHECK_EQ_STR(d.err, "frame larger than 67108864 bytes");
	oc_decoder_release(&d);
}

static void test_len32_truncated(void)
{
	struct oc_decoder d;
	struct msgs ms = {0};
	oc_decoder_init(&d, OC_FRAMING_LEN32, 0);
	/* without eof a partial frame is simply left over */
	CHECK_EQ_INT(oc_decode(&d, NULL, "\0\0\0\2a", 5, false, collect, &ms), 0);
	CHECK_EQ_INT(oc_decode(&d, NULL, "\0\0\0\2a", 5, true, collect, &ms), OC_EPROTO);
	CHECK(strstr(d.err, "truncated frame") != NULL);
	CHECK_EQ_INT(oc_decode(&d, NULL, "\0\0", 2, true, collect, &ms), OC_EPROTO);
	CHECK_EQ_INT(oc_decode(&d, NULL, "\0\0\0\0", 4, true, collect, &ms), 4);
	CHECK_EQ_INT(ms.n, 1);
	CHECK_EQ_INT(ms.v[0]->len, 0);
	msgs_clear(&ms);
	oc_decoder_release(&d);
}

static void test_jsonl_decode(void)
{
	struct oc_decoder d;
	struct msgs ms = {0};
	const char in[] = "  \n{\"topic\":\"t\",\"payload\":\"p\",\"qos\":1}\n\t\r\n";
	oc_decoder_init(&d, OC_FRAMING_JSONL, 0);
	CHECK_EQ_INT(feed_whole(&d, in, sizeof(in) - 1, &ms), 0);
	CHECK_EQ_INT(ms.n, 1); /* blank lines skipped */
	CHECK_EQ_STR(ms.v[0]->f[OC_F_TOPIC], "t");
	CHECK_EQ_INT(ms.v[0]->qos, 1);
	msgs_clear(&ms);
	CHECK_EQ_INT(feed_whole(&d, "{\"payload\":1}\n[1]\n", 18, &ms), OC_EPROTO);
	CHECK_EQ_STR(d.err, "expected a JSON object");
	CHECK_EQ_INT(ms.n, 1); /* what came before the bad line was delivered */
	msgs_clear(&ms);
	CHECK_EQ_INT(feed_whole(&d, "{\"payload\":\n", 12, &ms), OC_EPROTO);
	CHECK(strstr(d.err, "invalid JSON") != NULL);
	msgs_clear(&ms);
	oc_decoder_release(&d);
}

static void check_csv(const char *in, const char *const *want, size_t nwant)
{
	struct oc_decoder d;
	struct msgs ms = {0};
	oc_decoder_init(&d, OC_FRAMING_CSV, 0);
	CHECK_EQ_INT(feed_whole(&d, in, strlen(in), &ms), 0);
	CHECK_EQ_INT(ms.n, nwant);
	for (size_t i = 0; i < ms.n && i < nwant; i++)
		CHECK_EQ_MEM(ms.v[i]->data, ms.v[i]->len, want[i], strlen(want[i]));
	msgs_clear(&ms);
	oc_decoder_release(&d);
}

static void check_csv_error(const char *in, const char *err)
{
	struct oc_decoder d;
	struct msgs ms = {0};
	oc_decoder_init(&d, OC_FRAMING_CSV, 0);
	CHECK_EQ_INT(feed_whole(&d, in, strlen(in), &ms), OC_EPROTO);
	CHECK_EQ_STR(d.err, err);
	msgs_clear(&ms);
	oc_decoder_release(&d);
}

static void test_csv_decode(void)
{
	const char *w1[] = {"{\"name\":\"Smith, J\",\"note\":\"said \\\"hi\\\"\\nthere\"}",
			    "{\"name\":\"x\",\"note\":\"\"}"};
	check_csv("name,note\n\"Smith, J\",\"said \"\"hi\"\"\nthere\"\nx,\n", w1, 2);
	/* CRLF, blank lines skipped, spaces kept, last row without newline */
	const char *w2[] = {"{\"a\":\" 1 \",\"b\":\"2\"}", "{\"a\":\"3\",\"b\":\"4\"}"};
	check_csv("a,b\r\n\r\n 1 ,2\r\n3,4", w2, 2);
	/* extra fields, short rows, a repeated column name, UTF-8 */
	const char *w3[] = {"{\"k\":\"1\",\"_2\":\"2\",\"v\":\"3\",\"_4\":\"4\",\"_5\":\"5\"}",
			    "{\"k\":\"\xc3\xa9\"}"};
	check_csv("k,k,v\n1,2,3,4,5\n\xc3\xa9\n", w3, 2);
	/* header only: no messages */
	check_csv("a,b\n", NULL, 0);
	check_csv_error("a\nx\"y\n", "csv row 2: malformed CSV (a quote inside an unquoted "
				     "field, or text after a closing quote)");
	check_csv_error("a\n\"open", "csv row 2: quoted field not closed at end of input");
	check_csv_error("a\n\xff\n", "csv row 2: field is not valid UTF-8");
	check_csv_error("\xff\n", "csv row 1: column name is not valid UTF-8");
}

static void test_csv_encode(void)
{
	struct oc_encoder e;
	struct oc_iobatch b;
	size_t len;
	oc_iobatch_init(&b);

	oc_encoder_init(&e, OC_FRAMING_CSV, NULL);
	const char *objs[] = {"{\"id\":1,\"name\":\"a,b\",\"ok\":true}",
			      " {\"name\":\"q\\\"\",\"id\":2.5,\"x\":[1]}", "{}", "plain"};
	for (size_t i = 0; i < 4; i++) {
		struct oc_msg *m = msg_of(objs[i], strlen(objs[i]));
		CHECK_EQ_INT(oc_encode(&e, m, &b), 0);
		oc_msg_unref(m);
	}
	char *out = flatten(&b, &len);
	CHECK_EQ_STR(out, "id,name,ok\n1,\"a,b\",true\n2.5,\"q\"\"\",\n,,\nplain\n");
	free(out);
	oc_encoder_release(&e);
	oc_iobatch_reset(&b);

	/* non-object payloads: one "payload" column; an empty one is written "" */
	oc_encoder_init(&e, OC_FRAMING_CSV, NULL);
	const char *plain[] = {"hello", "", "a\nb", " x", "{\"a\":1}"};
	for (size_t i = 0; i < 5; i++) {
		struct oc_msg *m = msg_of(plain[i], strlen(plain[i]));
		CHECK_EQ_INT(oc_encode(&e, m, &b), 0);
		oc_msg_unref(m);
	}
	out = flatten(&b, &len);
	CHECK_EQ_STR(out, "payload\nhello\n\"\"\n\"a\nb\"\n\" x\"\n\"{\"\"a\"\":1}\"\n");
	/* and the decoder reads that back as objects */
	const char *back[] = {"{\"payload\":\"hello\"}", "{\"payload\":\"\"}",
			      "{\"payload\":\"a\\nb\"}", "{\"payload\":\" x\"}",
			      "{\"payload\":\"{\\\"a\\\":1}\"}"};
	check_csv(out, back, 5);
	free(out);
	oc_encoder_release(&e);
	oc_iobatch_release(&b);
}

static void test_encoders(void)
{
	struct oc_encoder e;
	struct oc_iobatch b;
	size_t len;
	char *out;
	struct oc_msg *m = msg_of("hi", 2);
	oc_msg_set_str(m, OC_F_TOPIC, "t");
	oc_iobatch_init(&b);

	const struct {
		enum oc_framing kind;
		const char *want;
		size_t len;
	} cases[] = {
	    {OC_FRAMING_LINE, "hi\n", 3},
	    {OC_FRAMING_NUL, "hi\0", 3},
	    {OC_FRAMING_RAW, "hi", 2},
	    {OC_FRAMING_LEN32, "\0\0\0\2hi", 6},
	    {OC_FRAMING_JSONL, "{\"topic\":\"t\",\"payload\":\"hi\"}\n", 29},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		oc_encoder_init(&e, cases[i].kind, NULL);
		CHECK_EQ_INT(oc_encode(&e, m, &b), 0);
		out = flatten(&b, &len);
		CHECK_EQ_MEM(out, len, cases[i].want, cases[i].len);
		free(out);
		oc_encoder_release(&e);
		oc_iobatch_reset(&b);
	}

	/* --format replaces the framing */
	struct oc_format *fmt;
	char err[80];
	CHECK_EQ_INT(oc_format_compile("%t=%s;", &fmt, err, sizeof(err)), 0);
	oc_encoder_init(&e, OC_FRAMING_LEN32, fmt);
	CHECK_EQ_INT(oc_encode(&e, m, &b), 0);
	out = flatten(&b, &len);
	CHECK_EQ_STR(out, "t=hi;");
	free(out);
	oc_encoder_release(&e);
	oc_format_free(fmt);
	oc_iobatch_release(&b);
	oc_msg_unref(m);
}

static void test_batching(void)
{
	struct oc_encoder e;
	struct oc_iobatch b;
	unsigned nb;
	oc_iobatch_init(&b);
	oc_encoder_init(&e, OC_FRAMING_LINE, NULL);
	struct oc_msg *m = msg_of("short line", 10);
	for (int i = 0; i < 10000; i++)
		CHECK_EQ_INT(oc_encode(&e, m, &b), 0);
	uv_buf_t *bufs = oc_iobatch_bufs(&b, &nb);
	CHECK_EQ_INT(nb, 1);
	CHECK_EQ_INT(bufs[0].len, 110000);
	CHECK_EQ_INT(b.bytes, 110000);
	CHECK_EQ_MEM(bufs[0].base + 109989, 11, "short line\n", 11);

	/* a large payload is referenced, not copied: short, large, short = 3 pieces */
	oc_iobatch_reset(&b);
	char *bigp = xmalloc(4096);
	memset(bigp, 'B', 4096);
	struct oc_msg *big = msg_of(bigp, 4096);
	free(bigp);
	CHECK_EQ_INT(oc_encode(&e, m, &b), 0);
	CHECK_EQ_INT(oc_encode(&e, big, &b), 0);
	CHECK_EQ_INT(oc_encode(&e, m, &b), 0);
	bufs = oc_iobatch_bufs(&b, &nb);
	CHECK_EQ_INT(nb, 3);
	CHECK(nb == 3 && bufs[1].base == big->data && bufs[1].len == 4096);
	CHECK_EQ_INT(b.bytes, 11 + 4097 + 11);
	/* the newline after it merged with the following short line */
	CHECK(nb == 3 && bufs[2].len == 12 && bufs[2].base[0] == '\n');

	/* len32 over 4 GiB cannot be framed (the length is faked: nothing is read) */
	oc_encoder_release(&e);
	oc_encoder_init(&e, OC_FRAMING_LEN32, NULL);
	size_t real = big->len;
	big->len = (size_t)1 << 32;
	CHECK_EQ_INT(oc_encode(&e, big, &b), OC_EPROTO);
	big->len = real;

	oc_msg_unref(big);
	oc_msg_unref(m);
	oc_encoder_release(&e);
	oc_iobatch_release(&b);
}

/* Decoder batch mode: whole lines pass as one framed message; the partial tail waits. An
 * encoder of the same framing writes the run as is; of another framing it splits it. */
static void test_frame_runs(void)
{
	struct oc_decoder d;
	struct msgs ms = {0};
	const char in[] = "a\nbb\nccc\ntail";
	oc_decoder_init(&d, OC_FRAMING_LINE, 0);
	d.batch = true;
	size_t cut = sizeof(in) - 1;
	CHECK_EQ_INT(feed(&d, in, sizeof(in) - 1, &cut, 1, &ms), 0);
	oc_decoder_release(&d);
	CHECK_EQ_INT(ms.n, 2); /* the run of three lines, then "tail" at EOF */
	if (ms.n == 2) {
		CHECK_EQ_MEM(ms.v[0]->data, ms.v[0]->len, "a\nbb\nccc\n", 9);
		CHECK_EQ_INT(ms.v[0]->framed, OC_FRAMING_LINE + 1);
		CHECK_EQ_MEM(ms.v[1]->data, ms.v[1]->len, "tail", 4);
		CHECK_EQ_INT(ms.v[1]->framed, 0);

		struct oc_encoder e;
		struct oc_iobatch b;
		size_t len;
		oc_iobatch_init(&b);
		oc_encoder_init(&e, OC_FRAMING_LINE, NULL);
		CHECK_EQ_INT(oc_encode(&e, ms.v[0], &b), 0);
		CHECK_EQ_INT(oc_encode(&e, ms.v[1], &b), 0);
		char *out = flatten(&b, &len);
		CHECK_EQ_MEM(out, len, "a\nbb\nccc\ntail\n", 14);
		free(out);
		oc_encoder_release(&e);
		oc_iobatch_reset(&b);
		oc_encoder_init(&e, OC_FRAMING_LEN32, NULL);
		CHECK_EQ_INT(oc_encode(&e, ms.v[0], &b), 0);
		out = flatten(&b, &len);
		CHECK_EQ_MEM(out, len, "\0\0\0\1a\0\0\0\2bb\0\0\0\3ccc", 18);
		free(out);
		oc_encoder_release(&e);
		oc_iobatch_release(&b);
	}
	msgs_clear(&ms);
}

static void test_iobatch(void)
{
	struct oc_iobatch b;
	unsigned nb;
	oc_iobatch_init(&b);
	/* reserve + commit gives back the tail; arena pieces survive arena growth */
	char *p = oc_iobatch_reserve(&b, 10);
	memcpy(p, "abc", 3);
	oc_iobatch_commit(&b, 10, 3);
	CHECK_EQ_INT(b.bytes, 3);
	char *fill = xmalloc(100000);
	memset(fill, 'z', 100000);
	oc_iobatch_copy(&b, fill, 100000); /* forces a realloc of the arena */
	free(fill);
	p = oc_iobatch_reserve(&b, 4);
	oc_iobatch_commit(&b, 4, 0);
	uv_buf_t *bufs = oc_iobatch_bufs(&b, &nb);
	CHECK_EQ_INT(nb, 1);
	CHECK_EQ_INT(bufs[0].len, 100003);
	CHECK_EQ_MEM(bufs[0].base, 4, "abcz", 4);
	/* adjacent references merge */
	static const char ref[2048];
	oc_iobatch_reset(&b);
	oc_iobatch_ref(&b, ref, 1024);
	oc_iobatch_ref(&b, ref + 1024, 1024);
	bufs = oc_iobatch_bufs(&b, &nb);
	CHECK(nb == 1 && bufs[0].len == 2048 && bufs[0].base == ref);
	oc_iobatch_release(&b);
}

int main(void)
{
	test_names();
	test_roundtrips();
	test_line_details();
	test_raw();
	test_splits();
	test_big_frames();
	test_max_frame();
	test_len32_truncated();
	test_jsonl_decode();
	test_csv_decode();
	test_csv_encode();
	test_encoders();
	test_batching();
	test_frame_runs();
	test_iobatch();
	oc_msg_cache_release();
	UNIT_END("test_framing");
}
