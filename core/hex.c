/* core/hex.c — see hex.h. */
#include "hex.h"

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

ssize_t oc_hex_decode(const char *s, size_t n, unsigned char *out, size_t max)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n')
			continue;
		int hi = hex_value(s[i]), lo = i + 1 < n ? hex_value(s[i + 1]) : -1;
		if (hi < 0 || lo < 0 || k == max)
			return -1;
		out[k++] = (unsigned char)(hi << 4 | lo);
		i++;
	}
	return (ssize_t)k;
}
