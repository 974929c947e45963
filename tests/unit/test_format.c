/* tests/unit/test_format.c — --format strings of core/format.c: every letter, the escapes,
 * absent fields, and compile errors. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "format.h"
#include "iobatch.h"
#include "msg.h"
#include "unit.h"
#include "xalloc.h"

/* spec applied to m, as a malloc'd string; *len gets its length. */
static char *apply(const char *spec, const struct oc_msg *m, size_t *len)
{
	struct oc_format *f;
	char err[120];
	struct oc_iobatch b;
	unsigned nb;
	CHECK_EQ_INT(oc_format_compile(spec, &f, err, sizeof(err)), 0);
	oc_iobatch_init(&b);
	oc_format_apply(f, m, &b);
	uv_buf_t *bufs = oc_iobatch_bufs(&b, &nb);
	char *out = xmalloc(b.bytes + 1);
	size_t off = 0;
	for (unsigned i = 0; i < nb; i++) {
		memcpy(out + off, bufs[i].base, bufs[i].len);
		off += bufs[i].len;
	}
	out[off] = '\0';
	*len = off;
	oc_iobatch_release(&b);
	oc_format_free(f);
	return out;
}

static void check(const char *spec, const struct oc_msg *m, const char *want, size_t wantlen)
{
	size_t len;
	char *out = apply(spec, m, &len);
	CHECK_EQ_MEM(out, len, want, wantlen);
	if (len != wantlen || memcmp(out, want, len))
		fprintf(stderr, "  spec \"%s\" gave \"%s\"\n", spec, out);
	free(out);
}

static void check_str(const char *spec, const struct oc_msg *m, const char *want)
{
	check(spec, m, want, strlen(want));
}

static void check_error(const char *spec, const char *want)
{
	struct oc_format *f = NULL;
	char err[120] = "";
	CHECK_EQ_INT(oc_format_compile(spec, &f, err, sizeof(err)), OC_EUSAGE);
	CHECK(f == NULL);
	CHECK_EQ_STR(err, want);
}

static struct oc_msg *full_msg(void)
{
	struct oc_msg *m = oc_msg_new();
	oc_msg_set_payload_copy(m, "hello", 5);
	oc_msg_set_str(m, OC_F_TOPIC, "t/1");
	oc_msg_set_str(m, OC_F_PATH, "/path");
	oc_msg_set_str(m, OC_F_KEY, "k1");
	oc_msg_set_str(m, OC_F_METHOD, "PUT");
	oc_msg_set_str(m, OC_F_ID, "id7");
	oc_msg_set_str(m, OC_F_PEER, "127.0.0.1:9");
	oc_msg_add_header(m, "a", 1, "1", 1);
	oc_msg_add_header(m, "Omnicat-Partition", 17, "3", 1);
	oc_msg_add_header(m, "omnicat-offset", 14, "1234", 4);
	oc_msg_set_status(m, 404);
	oc_msg_set_qos(m, 2);
	m->ts_ms = 1795514400123LL;
	return m;
}

static void test_letters(void)
{
	struct oc_msg *m = full_msg();
	check_str("%s", m, "hello");
	check_str("%t", m, "t/1");
	check_str("%k", m, "k1");
	check_str("%h", m, "a=1,Omnicat-Partition=3,omnicat-offset=1234");
	check_str("%T", m, "1795514400123");
	check_str("%S", m, "5");
	check_str("%m", m, "PUT");
	check_str("%c", m, "404");
	check_str("%i", m, "id7");
	check_str("%q", m, "2");
	check_str("%e", m, "127.0.0.1:9");
	check_str("%p", m, "3"); /* header names match case-insensitively */
	check_str("%o", m, "1234");
	check_str("[%t] %k=%s (%S bytes, %c)\n", m, "[t/1] k1=hello (5 bytes, 404)\n");
	check_str("", m, "");
	check_str("plain", m, "plain");
	oc_msg_unref(m);

	/* %t falls back to the path */
	m = oc_msg_new();
	oc_msg_set_str(m, OC_F_PATH, "/only");
	check_str("%t", m, "/only");
	oc_msg_unref(m);
}

static void test_absent(void)
{
	/* absent fields print as nothing; %S is 0 for an empty payload */
	struct oc_msg *m = oc_msg_new();
	check_str("<%s|%t|%k|%h|%T|%m|%c|%i|%q|%e|%p|%o>%S", m, "<|||||||||||>0");
	/* a zero status or qos is printed when set */
	oc_msg_set_status(m, 0);
	oc_msg_set_qos(m, 0);
	check_str("%c%q", m, "00");
	oc_msg_unref(m);
}

static void test_escapes(void)
{
	struct oc_msg *m = oc_msg_new();
	oc_msg_set_payload_copy(m, "p", 1);
	check_str("%s\\n", m, "p\n");
	check_str("a\\tb\\\\c%%d\\r", m, "a\tb\\c%d\r");
	check("%s\\0", m, "p\0", 2);
	check_str("100%%%s%%", m, "100%p%");
	oc_msg_unref(m);
}

static void test_binary_and_large(void)
{
	/* the payload's bytes go out as they are, a large one by reference */
	struct oc_msg *m = oc_msg_new();
	oc_msg_set_payload_copy(m, "a\0\xff", 3);
	check("%s!", m, "a\0\xff!", 4);
	char *big = xmalloc(5000);
	memset(big, 'x', 5000);
	oc_msg_set_payload_copy(m, big, 5000);
	free(big);
	struct oc_format *f;
	char err[80];
	struct oc_iobatch b;
	unsigned nb;
	CHECK_EQ_INT(oc_format_compile("<%s>\\n", &f, err, sizeof(err)), 0);
	oc_iobatch_init(&b);
	oc_format_apply(f, m, &b);
	uv_buf_t *bufs = oc_iobatch_bufs(&b, &nb);
	CHECK_EQ_INT(nb, 3);
	CHECK(nb == 3 && bufs[1].base == m->data);
	CHECK_EQ_INT(b.bytes, 5003);
	oc_iobatch_release(&b);
	oc_format_free(f);
	oc_msg_unref(m);
}

static void test_errors(void)
{
	check_error("%x", "unknown format letter '%x'");
	check_error("ok %s %Z", "unknown format letter '%Z'");
	check_error("%", "format ends with a lone '%'");
	check_error("abc%", "format ends with a lone '%'");
	check_error("\\", "format ends with a lone '\\'");
	check_error("%s\\", "format ends with a lone '\\'");
	check_error("\\q", "unknown format escape '\\q'");
	oc_format_free(NULL);
}

int main(void)
{
	test_letters();
	test_absent();
	test_escapes();
	test_binary_and_large();
	test_errors();
	oc_msg_cache_release();
	UNIT_END("test_format");
}
