/* core/hex.h — hex digits into bytes, for what users type as hex (a CoAP token or opaque
 * option value, the REPL's :hex lines). */
#ifndef OC_HEX_H
#define OC_HEX_H

#include <stddef.h>
#include <sys/types.h>

/* Pairs of hex digits in s[0..n) (either case; blanks between pairs are skipped) into out,
 * at most max bytes. Returns the number of bytes, or -1 for anything else in s, an odd
 * digit or more than max bytes. */
ssize_t oc_hex_decode(const char *s, size_t n, unsigned char *out, size_t max);

#endif
