/* core/xalloc.h — allocation that cannot fail. Running out of memory is not a condition
 * omnicat can report meaningfully per endpoint, so it aborts with a message instead of
 * threading NULL checks through every caller. */
#ifndef OC_XALLOC_H
#define OC_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* n bytes of p (which may hold NULs) and a terminating NUL, in a new block. */
char *xmemdup(const void *p, size_t n);
/* printf into a new string */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Append n bytes to the growable buffer *buf (length *len, allocation *cap), keeping a NUL
 * after the last byte so text can be used as a string. */
void xappend(char **buf, size_t *len, size_t *cap, const void *p, size_t n);

#endif
