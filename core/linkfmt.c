/* core/linkfmt.c — see linkfmt.h. */
#include "linkfmt.h"

#include <stdbool.h>
#include <string.h>

void oc_linkfmt_targets(const char *doc, size_t n,
			void (*fn)(void *ud, const char *target, size_t len), void *ud)
{
	const char *p = doc, *end = doc + n;
	bool quoted = false;
	while (p < end) {
		/* a link starts with '<' outside a quoted attribute value */
		if (*p == '"')
			quoted = !quoted;
		if (*p != '<' || quoted) {
			p++;
			continue;
		}
		const char *close = memchr(p + 1, '>', (size_t)(end - p - 1));
		if (!close)
			return;
		fn(ud, p + 1, (size_t)(close - p - 1));
		p = close + 1;
	}
}
