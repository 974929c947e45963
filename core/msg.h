/* core/msg.h — the message every endpoint reads and writes (DESIGN §1).
 *
 * A message is payload bytes plus metadata: the named fields of the envelope, headers in
 * arrival order (names may repeat), status, QoS/retain and a timestamp. It is reference
 * counted and, once emitted by its source, read-only: several sinks may hold it at once.
 *
 * The payload either points into a shared, reference-counted read chunk (zero copy from the
 * socket buffer it arrived in) or into a block the message owns. Metadata strings live in a
 * small per-message arena that starts inline, so a message with a topic and a peer costs no
 * allocation beyond the message itself (and messages are recycled from a free list).
 *
 * Threads: messages are created, used and released on the loop thread only. */
#ifndef OC_MSG_H
#define OC_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Named string fields of the envelope (DESIGN §2). */
enum oc_field {
	OC_F_TOPIC,        /* topic / subject / path-as-topic */
	OC_F_KEY,          /* message key (Kafka, Redis stream id...) */
	OC_F_METHOD,       /* request method */
	OC_F_PATH,         /* request path */
	OC_F_QUERY,        /* request query string, without '?' */
	OC_F_ID,           /* message or correlation id */
	OC_F_CONTENT_TYPE, /* media type */
	OC_F_PEER,         /* remote "host:port" or "unix:N" */
	OC_F_COUNT
};

/* A reference-counted read buffer that payloads may point into. */
struct oc_chunk {
	unsigned refs;  /* owners: the reader while filling it, plus each message pointing in */
	size_t cap;     /* bytes in data[] */
	char data[];
};

struct oc_hdr {
	const char *name;  /* as received; matched case-insensitively */
	const char *value; /* NUL-terminated */
};

/* Flags on a message. */
#define OC_MSG_STATUS 0x01    /* status is set */
#define OC_MSG_QOS 0x02       /* qos is set */
#define OC_MSG_RETAIN 0x04    /* retain was given (value in retain) */
#define OC_MSG_ROUTE 0x08     /* OC_F_PEER names the destination, not the source */
#define OC_MSG_DELIVERED 0x10 /* a sink has written it out */
#define OC_MSG_BYTES 0x20     /* a piece of a byte stream (an HTTP body as it arrives): a
			       * stream sink writes it as is, whatever its framing */
#define OC_MSG_BINARY 0x40    /* it arrived as binary (a WebSocket binary frame): a sink
			       * that tells text from binary keeps it binary */

struct oc_msg_block; /* overflow block of the metadata arena (msg.c) */

struct oc_msg {
	unsigned refs;                /* owners; the last oc_msg_unref() recycles it */
	unsigned flags;               /* OC_MSG_* */
	const char *data;             /* payload bytes (not NUL-terminated) */
	size_t len;                   /* payload length */
	struct oc_chunk *chunk;       /* payload lives in this chunk, or NULL */
	char *heap;                   /* payload lives in this malloc'd block, or NULL */
	const char *f[OC_F_COUNT];    /* envelope fields, NULL when absent */
	struct oc_hdr *hdrs;          /* headers in arrival order */
	unsigned nhdrs, hdrcap;       /* used and allocated entries of hdrs */
	int status;                   /* HTTP-like status when OC_MSG_STATUS */
	int qos;                      /* delivery guarantee when OC_MSG_QOS */
	bool retain;                  /* retained / last-value, when OC_MSG_RETAIN */
	unsigned char framed;         /* 0, or 1 + the framing whose whole frames, terminators
				       * included, the payload holds (batches between streams) */
	int64_t ts_ms;                /* wall-clock ms since the epoch when it arrived; 0 unset */
	void (*on_done)(struct oc_msg *m, void *arg); /* called once, at the final unref */
	void *done_arg;               /* argument for on_done */
	struct oc_msg_block *blocks;  /* arena overflow blocks */
	size_t inl_used;              /* bytes used of inl[] */
	struct oc_msg *next_free;     /* free-list link while recycled */
	char inl[96];                 /* first metadata bytes, inline */
};

struct oc_msg *oc_msg_new(void);
static inline struct oc_msg *oc_msg_ref(struct oc_msg *m)
{
	m->refs++;
	return m;
}
void oc_msg_unref(struct oc_msg *m);

/* Payload setters; each replaces any previous payload. */
void oc_msg_set_payload_copy(struct oc_msg *m, const void *data, size_t len);
void oc_msg_set_payload_chunk(struct oc_msg *m, struct oc_chunk *c, const char *data, size_t len);
void oc_msg_take_payload(struct oc_msg *m, char *heap, size_t len); /* takes a malloc'd block */

/* Copies s[0..len) as field f. */
void oc_msg_set(struct oc_msg *m, enum oc_field f, const char *s, size_t len);
static inline void oc_msg_set_str(struct oc_msg *m, enum oc_field f, const char *s)
{
	oc_msg_set(m, f, s, strlen(s));
}
void oc_msg_add_header(struct oc_msg *m, const char *name, size_t nlen, const char *value,
		       size_t vlen);
/* First header named name (case-insensitive), or NULL. */
const char *oc_msg_header(const struct oc_msg *m, const char *name);
void oc_msg_set_status(struct oc_msg *m, int status);
void oc_msg_set_qos(struct oc_msg *m, int qos);
void oc_msg_set_retain(struct oc_msg *m, bool retain);

/* Read chunks. oc_chunk_new() of the standard size reuses freed chunks. */
#define OC_CHUNK_SIZE (128 * 1024)
struct oc_chunk *oc_chunk_new(size_t cap);
static inline struct oc_chunk *oc_chunk_ref(struct oc_chunk *c)
{
	c->refs++;
	return c;
}
void oc_chunk_unref(struct oc_chunk *c);

/* Wall-clock milliseconds since the epoch. */
int64_t oc_now_ms(void);

/* Release cached messages and chunks (at exit, so leak checkers see a clean heap). */
void oc_msg_cache_release(void);

#endif
