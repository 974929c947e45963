/* core/framing.h — how messages travel over byte streams (DESIGN §1, §2).
 *
 * A decoder turns the bytes of a stream (stdin, a TCP connection, a file...) into messages;
 * an encoder turns messages back into bytes. Framings:
 *
 *   line   one message per '\n'-terminated line; the '\n' is not part of the payload; a last
 *          line without '\n' is still a message; "\r" is kept (bytes are exact)
 *   raw    each chunk as it arrives is one message; on output the payload as is
 *   nul    like line, with '\0'
 *   len32  4-byte big-endian length, then that many bytes
 *   jsonl  one JSON envelope per line (envelope.h): payload and metadata
 *   csv    RFC 4180 rows (libcsv); the first row names the columns and each later row is one
 *          message whose payload is a JSON object {column: value}. On output a JSON-object
 *          payload becomes a row (columns from the first object, header row first); any other
 *          payload is a one-column row under the header "payload".
 *
 * --format (format.h) replaces the encoder on output when given. */
#ifndef OC_FRAMING_H
#define OC_FRAMING_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "iobatch.h"
#include "msg.h"

enum oc_framing {
	OC_FRAMING_LINE,
	OC_FRAMING_RAW,
	OC_FRAMING_NUL,
	OC_FRAMING_LEN32,
	OC_FRAMING_JSONL,
	OC_FRAMING_CSV,
};

/* Names in enum order, NULL-terminated: "line", "raw", "nul", "len32", "jsonl", "csv". */
extern const char *const oc_framing_names[];
/* 0 and *out set, or OC_EUSAGE for an unknown name. */
int oc_framing_parse(const char *name, enum oc_framing *out);

/* Largest frame a decoder accepts unless told otherwise (a 16 MiB frame must pass). */
#define OC_FRAME_MAX_DEFAULT (64u * 1024 * 1024)

struct oc_format;   /* format.h */
struct oc_csvstate; /* framing.c: libcsv parser or writer state */

/* Called for each decoded message; the callee owns the reference. Return 0 to go on, or a
 * negative OC_E* to stop decoding (returned by oc_decode). */
typedef int (*oc_emit_fn)(void *ud, struct oc_msg *m);

struct oc_decoder {
	enum oc_framing kind;     /* framing */
	size_t max_frame;         /* frames above this are an error (OC_EPROTO) */
	struct oc_csvstate *csv;  /* csv: parser state, created on first use */
	bool batch;               /* line/nul: emit each run of whole frames as one message,
				   * terminators included (msg->framed), for a sink that frames
				   * the same way — bytes pass with no per-frame work */
	char err[160];            /* what went wrong, for the caller's one-line message */
};

void oc_decoder_init(struct oc_decoder *d, enum oc_framing kind, size_t max_frame);
void oc_decoder_release(struct oc_decoder *d);

/* Decode the bytes buf[0..len), which lie inside chunk c (payloads may point into c and take a
 * reference on it). Calls emit for each complete frame. Returns the number of bytes consumed
 * (>= 0): the caller keeps buf[consumed..len) — a partial frame — and presents it again at the
 * start of the next call with more bytes after it. With eof set, a trailing partial line/nul
 * frame is emitted; a truncated len32 frame is an error. Errors: OC_EPROTO with d->err set
 * (frame above max_frame, bad JSON envelope, bad CSV), or whatever emit returned. */
ssize_t oc_decode(struct oc_decoder *d, struct oc_chunk *c, const char *buf, size_t len, bool eof,
		  oc_emit_fn emit, void *ud);

struct oc_encoder {
	enum oc_framing kind;          /* framing */
	const struct oc_format *fmt;   /* --format: used instead of kind when set */
	struct oc_csvstate *csv;       /* csv: header row written and its columns */
};

void oc_encoder_init(struct oc_encoder *e, enum oc_framing kind, const struct oc_format *fmt);
void oc_encoder_release(struct oc_encoder *e);

/* Append the encoding of m to b. The payload may be referenced, so m must stay alive until
 * the batch is written. A batch of frames (m->framed) of this encoder's framing is copied as
 * is; of another framing it is split and each frame encoded. OC_MSG_BYTES pieces are written
 * as they are. Returns 0, or OC_EPROTO when m cannot be framed (a len32 frame over
 * 4 GiB). */
int oc_encode(struct oc_encoder *e, const struct oc_msg *m, struct oc_iobatch *b);

#endif
