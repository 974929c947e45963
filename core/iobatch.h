/* core/iobatch.h — the bytes of one vectored write, built message by message.
 *
 * Encoders append to a batch: large payloads by reference (zero copy, the caller keeps the
 * message alive until the write completes) and small generated pieces (a newline, a length
 * prefix, a JSON line, a short payload) by copy into the batch's own arena, where consecutive
 * copies merge into one piece. Ten thousand short lines thus become one iovec and one
 * writev(2). Arena pieces are kept as offsets until oc_iobatch_bufs(), so the arena may grow. */
#ifndef OC_IOBATCH_H
#define OC_IOBATCH_H

#include <stddef.h>
#include <uv.h>

/* Payloads shorter than this are copied rather than referenced. */
#define OC_IOBATCH_COPY_MAX 512

struct oc_iopiece {
	const char *base; /* referenced bytes, or NULL for bytes at arena offset off */
	size_t off;       /* arena offset when base is NULL */
	size_t len;       /* bytes */
};

struct oc_iobatch {
	struct oc_iopiece *v; /* pieces in output order */
	size_t n, cap;        /* used and allocated pieces */
	char *arena;          /* copied bytes */
	size_t alen, acap;    /* used and allocated arena bytes */
	size_t bytes;         /* total bytes in the batch */
	uv_buf_t *bufs;       /* filled by oc_iobatch_bufs() */
	size_t bufcap;        /* allocated entries of bufs */
};

void oc_iobatch_init(struct oc_iobatch *b);
void oc_iobatch_reset(struct oc_iobatch *b);   /* empty it, keep allocations */
void oc_iobatch_release(struct oc_iobatch *b); /* free allocations */
/* Reference len bytes at p (copies instead when len < OC_IOBATCH_COPY_MAX). */
void oc_iobatch_ref(struct oc_iobatch *b, const void *p, size_t len);
/* Copy len bytes at p into the arena. */
void oc_iobatch_copy(struct oc_iobatch *b, const void *p, size_t len);
/* Reserve len arena bytes to write into directly; valid until the next append. */
char *oc_iobatch_reserve(struct oc_iobatch *b, size_t len);
/* Give back the unused tail of the last reservation (used <= reserved). */
void oc_iobatch_commit(struct oc_iobatch *b, size_t reserved, size_t used);
/* The batch as uv_buf_t's (valid until the batch changes). */
uv_buf_t *oc_iobatch_bufs(struct oc_iobatch *b, unsigned *nbufs);

#endif
