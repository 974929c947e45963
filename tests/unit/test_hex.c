/* tests/unit/test_hex.c — core/hex: what users type as hex into bytes. */
#include "hex.h"
#include "unit.h"

static ssize_t dec(const char *s, unsigned char *out, size_t max)
{
	return oc_hex_decode(s, strlen(s), out, max);
}

int main(void)
{
	unsigned char b[8];
	CHECK_EQ_INT(dec("cafe", b, sizeof(b)), 2);
	CHECK(b[0] == 0xca && b[1] == 0xfe);
	CHECK_EQ_INT(dec("00 FF\t7a", b, sizeof(b)), 3); /* blanks between pairs, either case */
	CHECK(b[0] == 0x00 && b[1] == 0xff && b[2] == 0x7a);
	CHECK_EQ_INT(dec("", b, sizeof(b)), 0);
	CHECK_EQ_INT(dec("abc", b, sizeof(b)), -1);  /* an odd digit */
	CHECK_EQ_INT(dec("zz", b, sizeof(b)), -1);   /* not hex */
	CHECK_EQ_INT(dec("0x01", b, sizeof(b)), -1); /* 0x is the caller's to strip */
	CHECK_EQ_INT(dec("010203040506070809", b, sizeof(b)), -1); /* over max */
	CHECK_EQ_INT(dec("0102030405060708", b, sizeof(b)), 8);
	UNIT_END("hex");
}
