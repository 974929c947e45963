/* core/iobatch.c — the bytes of one vectored write (see iobatch.h).
 *
 * A batch is a list of pieces in output order. A piece either references caller memory (a large
 * payload, zero copy) or covers a range of the batch's arena (copied bytes). Appending copied
 * bytes right after an arena piece extends that piece instead of adding one, so a run of short
 * lines and their newlines ends up as a single iovec. Arena pieces hold offsets, not pointers,
 * because the arena is realloc'd as it grows; oc_iobatch_bufs() turns them into pointers once
 * the batch is complete.
 *
 * Threads: a batch belongs to one thread (the loop thread); no locking. */
#include "iobatch.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define ARENA_MIN 4096 /* first arena allocation */
#define PIECES_MIN 16  /* first piece array allocation */

void oc_iobatch_init(struct oc_iobatch *b)
{
	memset(b, 0, sizeof(*b));
}

void oc_iobatch_reset(struct oc_iobatch *b)
{
	b->n = 0;
	b->alen = 0;
	b->bytes = 0;
}

void oc_iobatch_release(struct oc_iobatch *b)
{
	free(b->v);
	free(b->arena);
	free(b->bufs);
	oc_iobatch_init(b);
}

static struct oc_iopiece *piece_push(struct oc_iobatch *b)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : PIECES_MIN;
		b->v = xrealloc(b->v, b->cap * sizeof(*b->v));
	}
	return &b->v[b->n++];
}

/* Make room for len more arena bytes. */
static void arena_grow(struct oc_iobatch *b, size_t len)
{
	size_t need = b->alen + len;
	if (need <= b->acap)
		return;
	size_t cap = b->acap ? b->acap * 2 : ARENA_MIN;
	if (cap < need)
		cap = need;
	b->arena = xrealloc(b->arena, cap);
	b->acap = cap;
}

/* Account len arena bytes starting at alen (already written or about to be) as output:
 * extend the last piece when it is the arena piece ending at alen, else add a piece. */
static void arena_append(struct oc_iobatch *b, size_t len)
{
	struct oc_iopiece *last = b->n ? &b->v[b->n - 1] : NULL;
	if (last && !last->base) {
		/* The newest arena piece always ends at alen: the arena only grows by appends. */
		last->len += len;
	} else {
		struct oc_iopiece *p = piece_push(b);
		p->base = NULL;
		p->off = b->alen;
		p->len = len;
	}
	b->alen += len;
	b->bytes += len;
}

void oc_iobatch_copy(struct oc_iobatch *b, const void *p, size_t len)
{
	if (!len)
		return;
	arena_grow(b, len);
	memcpy(b->arena + b->alen, p, len);
	arena_append(b, len);
}

void oc_iobatch_ref(struct oc_iobatch *b, const void *p, size_t len)
{
	if (len < OC_IOBATCH_COPY_MAX) {
		oc_iobatch_copy(b, p, len);
		return;
	}
	struct oc_iopiece *last = b->n ? &b->v[b->n - 1] : NULL;
	if (last && last->base && last->base + last->len == (const char *)p) {
		last->len += len; /* adjacent in memory: one iovec is enough */
	} else {
		struct oc_iopiece *piece = piece_push(b);
		piece->base = p;
		piece->off = 0;
		piece->len = len;
	}
	b->bytes += len;
}

/* The reserved bytes are counted as output right away, so a caller that fills them all need
 * not call oc_iobatch_commit(); commit only gives back an unused tail. */
char *oc_iobatch_reserve(struct oc_iobatch *b, size_t len)
{
	arena_grow(b, len ? len : 1);
	char *p = b->arena + b->alen;
	if (len)
		arena_append(b, len);
	return p;
}

void oc_iobatch_commit(struct oc_iobatch *b, size_t reserved, size_t used)
{
	size_t unused = reserved - used;
	if (!unused || !b->n)
		return;
	struct oc_iopiece *last = &b->v[b->n - 1];
	last->len -= unused;
	b->alen -= unused;
	b->bytes -= unused;
	if (!last->len)
		b->n--;
}

uv_buf_t *oc_iobatch_bufs(struct oc_iobatch *b, unsigned *nbufs)
{
	if (b->n > b->bufcap) {
		b->bufcap = b->n;
		b->bufs = xrealloc(b->bufs, b->bufcap * sizeof(*b->bufs));
	}
	for (size_t i = 0; i < b->n; i++) {
		const struct oc_iopiece *p = &b->v[i];
		/* uv_buf_t's base is not const; libuv only reads it for writes. Fields are set
		 * directly: on Unix len is a size_t, while uv_buf_init() takes an unsigned. */
		b->bufs[i].base = p->base ? (char *)p->base : b->arena + p->off;
		b->bufs[i].len = p->len;
	}
	*nbufs = (unsigned)b->n;
	return b->bufs;
}
