/* core/msg.c — messages, their metadata arena, and read chunks. */
#include "msg.h"

#include <stdlib.h>
#include <strings.h>
#include <time.h>

#include "xalloc.h"

/* An overflow block of a message's metadata arena. */
struct oc_msg_block {
	struct oc_msg_block *next; /* older block */
	size_t cap, used;          /* bytes in data[] and bytes handed out */
	char data[];
};

/* Recycled messages and standard-size chunks. Bounded so a burst does not pin memory. */
#define MSG_CACHE_MAX 32768
#define CHUNK_CACHE_MAX 16
static struct oc_msg *msg_free;
static unsigned msg_free_n;
static struct oc_chunk *chunk_free[CHUNK_CACHE_MAX];
static unsigned chunk_free_n;

struct oc_msg *oc_msg_new(void)
{
	struct oc_msg *m = msg_free;
	if (m) {
		msg_free = m->next_free;
		msg_free_n--;
	} else {
		m = xmalloc(sizeof(*m));
	}
	/* Clear the header part only; inl[] needs no clearing. */
	memset(m, 0, offsetof(struct oc_msg, inl));
	m->refs = 1;
	return m;
}

static void payload_release(struct oc_msg *m)
{
	if (m->chunk)
		oc_chunk_unref(m->chunk);
	if (m->heap)
		free(m->heap);
	m->chunk = NULL;
	m->heap = NULL;
	m->data = NULL;
	m->len = 0;
}

void oc_msg_unref(struct oc_msg *m)
{
	if (!m || --m->refs > 0)
		return;
	if (m->on_done)
		m->on_done(m, m->done_arg);
	payload_release(m);
	if (m->hdrs)
		free(m->hdrs);
	for (struct oc_msg_block *b = m->blocks, *n; b; b = n) {
		n = b->next;
		free(b);
	}
	if (msg_free_n < MSG_CACHE_MAX) {
		m->next_free = msg_free;
		msg_free = m;
		msg_free_n++;
	} else {
		free(m);
	}
}

void oc_msg_set_payload_copy(struct oc_msg *m, const void *data, size_t len)
{
	payload_release(m);
	m->heap = xmalloc(len ? len : 1);
	if (len)
		memcpy(m->heap, data, len);
	m->data = m->heap;
	m->len = len;
}

void oc_msg_set_payload_chunk(struct oc_msg *m, struct oc_chunk *c, const char *data, size_t len)
{
	payload_release(m);
	m->chunk = oc_chunk_ref(c);
	m->data = data;
	m->len = len;
}

void oc_msg_take_payload(struct oc_msg *m, char *heap, size_t len)
{
	payload_release(m);
	m->heap = heap;
	m->data = heap;
	m->len = len;
}

/* Arena allocation tied to the message's lifetime. */
static char *msg_alloc(struct oc_msg *m, size_t len)
{
	len = (len + 7) & ~(size_t)7; /* keep pointer alignment for callers storing structs */
	if (m->inl_used + len <= sizeof(m->inl)) {
		char *p = m->inl + m->inl_used;
		m->inl_used += len;
		return p;
	}
	struct oc_msg_block *b = m->blocks;
	if (!b || b->used + len > b->cap) {
		size_t cap = len > 480 ? len : 480;
		b = xmalloc(sizeof(*b) + cap);
		b->cap = cap;
		b->used = 0;
		b->next = m->blocks;
		m->blocks = b;
	}
	char *p = b->data + b->used;
	b->used += len;
	return p;
}

static const char *arena_strdup(struct oc_msg *m, const char *s, size_t len)
{
	char *p = msg_alloc(m, len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void oc_msg_set(struct oc_msg *m, enum oc_field f, const char *s, size_t len)
{
	m->f[f] = s ? arena_strdup(m, s, len) : NULL;
}

void oc_msg_add_header(struct oc_msg *m, const char *name, size_t nlen, const char *value,
		       size_t vlen)
{
	if (m->nhdrs == m->hdrcap) {
		m->hdrcap = m->hdrcap ? m->hdrcap * 2 : 4;
		m->hdrs = xrealloc(m->hdrs, m->hdrcap * sizeof(*m->hdrs));
	}
	m->hdrs[m->nhdrs].name = arena_strdup(m, name, nlen);
	m->hdrs[m->nhdrs].value = arena_strdup(m, value, vlen);
	m->nhdrs++;
}

const char *oc_msg_header(const struct oc_msg *m, const char *name)
{
	for (unsigned i = 0; i < m->nhdrs; i++)
		if (!strcasecmp(m->hdrs[i].name, name))
			return m->hdrs[i].value;
	return NULL;
}

void oc_msg_set_status(struct oc_msg *m, int status)
{
	m->status = status;
	m->flags |= OC_MSG_STATUS;
}

void oc_msg_set_qos(struct oc_msg *m, int qos)
{
	m->qos = qos;
	m->flags |= OC_MSG_QOS;
}

void oc_msg_set_retain(struct oc_msg *m, bool retain)
{
	m->retain = retain;
	m->flags |= OC_MSG_RETAIN;
}

struct oc_chunk *oc_chunk_new(size_t cap)
{
	struct oc_chunk *c;
	if (cap == OC_CHUNK_SIZE && chunk_free_n > 0) {
		c = chunk_free[--chunk_free_n];
	} else {
		c = xmalloc(sizeof(*c) + cap);
		c->cap = cap;
	}
	c->refs = 1;
	return c;
}

void oc_chunk_unref(struct oc_chunk *c)
{
	if (!c || --c->refs > 0)
		return;
	if (c->cap == OC_CHUNK_SIZE && chunk_free_n < CHUNK_CACHE_MAX)
		chunk_free[chunk_free_n++] = c;
	else
		free(c);
}

int64_t oc_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void oc_msg_cache_release(void)
{
	while (msg_free) {
		struct oc_msg *n = msg_free->next_free;
		free(msg_free);
		msg_free = n;
	}
	msg_free_n = 0;
	while (chunk_free_n > 0)
		free(chunk_free[--chunk_free_n]);
}
