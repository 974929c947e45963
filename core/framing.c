/* core/framing.c — decoders and encoders between byte streams and messages (see framing.h).
 *
 * Decoding is zero copy for line, nul, raw and len32: each message's payload points into the
 * read chunk it arrived in (the message takes a reference on the chunk), and line/nul frames
 * are found with memchr. A caller without a chunk (c == NULL) gets copied payloads instead.
 * jsonl parses each line into a fresh message (envelope.c); csv runs libcsv's streaming parser,
 * which copies fields into its own buffer and keeps a partial row between calls itself.
 *
 * Decoders do not stamp ts_ms: the caller that knows when bytes arrived sets it if it wants.
 *
 * Frame limits: a line/nul/jsonl frame longer than max_frame is an error whether or not its
 * terminator has arrived yet, so the outcome never depends on how reads were split.
 *
 * Encoding appends to an iobatch: short payloads are copied together with their terminator
 * into one arena reservation (the hot path), long ones are referenced.
 *
 * CSV details (libcsv 3.0.3):
 *  - strict mode: a quote inside an unquoted field or text after a closing quote is an error,
 *    and so is a quoted field still open at end of input;
 *  - libcsv trims spaces and tabs around unquoted fields by default; we turn that off, so
 *    field bytes are exact (RFC 4180 says spaces are part of a field);
 *  - libcsv skips empty lines, so a one-column row holding an empty value is written "";
 *  - a data row with more fields than the header gets keys "_N" for its N-th field (1-based:
 *    with a 5-column header the 6th field is "_6"); a repeated header name is renamed the same
 *    way, so no value is lost; a shorter row simply has fewer keys;
 *  - on output rows end with "\n", not RFC 4180's "\r\n": this is a Unix pipe tool and every
 *    CSV reader accepts both. Fields are quoted when they contain , " CR or LF, or start or
 *    end with a space or tab (readers that trim would otherwise lose them).
 *
 * Threads: a decoder or encoder belongs to one thread (the loop thread). */
#include "framing.h"

#include <csv.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "err.h"
#include "format.h"
#include "xalloc.h"

const char *const oc_framing_names[] = {"line", "raw", "nul", "len32", "jsonl", "csv", NULL};

int oc_framing_parse(const char *name, enum oc_framing *out)
{
	for (int i = 0; oc_framing_names[i]; i++) {
		if (!strcmp(name, oc_framing_names[i])) {
			*out = (enum oc_framing)i;
			return 0;
		}
	}
	return OC_EUSAGE;
}

/* A CSV column name (bytes, may contain NUL in theory). */
struct csv_col {
	char *s;    /* NUL-terminated copy */
	size_t len; /* bytes */
};

struct oc_csvstate {
	/* decoder */
	struct csv_parser p;	 /* libcsv parser, valid when parser_ready */
	bool parser_ready;	 /* csv_init done */
	char *row;		 /* fields of the current row, back to back */
	size_t rowlen, rowcap;	 /* used and allocated bytes of row */
	size_t *fend;		 /* end offset in row of each field */
	size_t nf, fcap;	 /* fields in the current row, allocated entries of fend */
	unsigned long long rows; /* rows finished, header included */
	struct oc_decoder *d;	 /* current oc_decode() call: where errors go */
	oc_emit_fn emit;	 /* current call's emit */
	void *ud;		 /* current call's emit argument */
	int rc;			 /* first error of this call (libcsv cannot be stopped) */
	/* both: column names, from the header row (decoder) or the first object (encoder) */
	struct csv_col *cols; /* column names */
	size_t ncols;	      /* entries of cols */
	/* encoder */
	bool header_done; /* header row written */
	bool objects;	  /* rows are JSON objects' values (else one "payload" column) */
};

/* A NUL-terminated copy of n bytes that may themselves contain NUL (so not xstrndup). */
static char *mem_dup(const char *p, size_t n)
{
	char *s = xmalloc(n + 1);
	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static struct oc_csvstate *csv_state(struct oc_csvstate **sp)
{
	if (!*sp)
		*sp = xcalloc(1, sizeof(**sp));
	return *sp;
}

static void csv_state_free(struct oc_csvstate *st)
{
	if (!st)
		return;
	if (st->parser_ready)
		csv_free(&st->p);
	for (size_t i = 0; i < st->ncols; i++)
		free(st->cols[i].s);
	free(st->cols);
	free(st->row);
	free(st->fend);
	free(st);
}

/* ==== decoding ==== */

void oc_decoder_init(struct oc_decoder *d, enum oc_framing kind, size_t max_frame)
{
	memset(d, 0, sizeof(*d));
	d->kind = kind;
	d->max_frame = max_frame ? max_frame : OC_FRAME_MAX_DEFAULT; /* 0: the default */
}

void oc_decoder_release(struct oc_decoder *d)
{
	csv_state_free(d->csv);
	d->csv = NULL;
}

static int too_big(struct oc_decoder *d)
{
	snprintf(d->err, sizeof(d->err), "frame larger than %zu bytes", d->max_frame);
	return OC_EPROTO;
}

/* Emit bytes p[0..n) as a message, pointing into chunk c (or copied when there is none). */
static inline int emit_bytes(struct oc_chunk *c, const char *p, size_t n, oc_emit_fn emit, void *ud)
{
	struct oc_msg *m = oc_msg_new();
	if (c)
		oc_msg_set_payload_chunk(m, c, p, n);
	else
		oc_msg_set_payload_copy(m, p, n);
	return emit(ud, m);
}

/* What a delimited decoder does with one frame (without its terminator). */
typedef int (*frame_fn)(struct oc_decoder *d, struct oc_chunk *c, const char *p, size_t n,
			oc_emit_fn emit, void *ud);

static int plain_frame(struct oc_decoder *d, struct oc_chunk *c, const char *p, size_t n,
		       oc_emit_fn emit, void *ud)
{
	return emit_bytes(c, p, n, emit, ud);
}

static bool blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return false;
	return true;
}

static int jsonl_frame(struct oc_decoder *d, struct oc_chunk *c, const char *p, size_t n,
		       oc_emit_fn emit, void *ud)
{
	if (blank(p, n))
		return 0;
	struct oc_msg *m = oc_msg_new();
	int rc = oc_envelope_decode(p, n, m, d->err, sizeof(d->err));
	if (rc) {
		oc_msg_unref(m);
		return rc;
	}
	return emit(ud, m);
}

/* line, nul, jsonl: frames end with delim. Inlined per caller, so the line hot path calls
 * plain_frame directly. */
/* Batch mode: everything up to the last terminator as one message. Complete frames fit in
 * the buffer by construction, so only the partial tail is checked against max_frame. */
static size_t decode_batch(struct oc_decoder *d, struct oc_chunk *c, const char *buf, size_t len,
			   oc_emit_fn emit, void *ud, char delim, int *rc)
{
	const char *last = memrchr(buf, delim, len);
	if (!last)
		return 0;
	size_t n = (size_t)(last - buf) + 1;
	struct oc_msg *m = oc_msg_new();
	if (c)
		oc_msg_set_payload_chunk(m, c, buf, n);
	else
		oc_msg_set_payload_copy(m, buf, n);
	m->framed = (unsigned char)(d->kind + 1);
	*rc = emit(ud, m);
	return n;
}

static inline ssize_t decode_delim(struct oc_decoder *d, struct oc_chunk *c, const char *buf,
				   size_t len, bool eof, oc_emit_fn emit, void *ud, char delim,
				   frame_fn frame)
{
	size_t off = 0;
	const char *end;
	int rc = 0;
	if (d->batch && frame == plain_frame) {
		off = decode_batch(d, c, buf, len, emit, ud, delim, &rc);
		if (rc)
			return rc;
	}
	while (off < len && (end = memchr(buf + off, delim, len - off)) != NULL) {
		size_t n = (size_t)(end - (buf + off));
		if (n > d->max_frame)
			return too_big(d);
		if ((rc = frame(d, c, buf + off, n, emit, ud)) != 0)
			return rc;
		off += n + 1;
	}
	size_t rest = len - off;
	if (rest > d->max_frame)
		return too_big(d);
	if (eof && rest) { /* the last frame may lack its terminator */
		if ((rc = frame(d, c, buf + off, rest, emit, ud)) != 0)
			return rc;
		off = len;
	}
	return (ssize_t)off;
}

static ssize_t decode_len32(struct oc_decoder *d, struct oc_chunk *c, const char *buf, size_t len,
			    bool eof, oc_emit_fn emit, void *ud)
{
	size_t off = 0;
	while (len - off >= 4) {
		const unsigned char *h = (const unsigned char *)buf + off;
		size_t n = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
		if (n > d->max_frame)
			return too_big(d);
		if (len - off - 4 < n)
			break;
		int rc = emit_bytes(c, buf + off + 4, n, emit, ud);
		if (rc)
			return rc;
		off += 4 + n;
	}
	if (eof && off < len) {
		snprintf(d->err, sizeof(d->err), "truncated frame at end of input (%zu bytes left)",
			 len - off);
		return OC_EPROTO;
	}
	return (ssize_t)off;
}

/* ---- csv ---- */

static int csv_fail(struct oc_csvstate *st, const char *what)
{
	snprintf(st->d->err, sizeof(st->d->err), "csv row %llu: %s", st->rows + 1, what);
	return OC_EPROTO;
}

static int no_space(unsigned char c)
{
	return 0;
}

static void csv_field_cb(void *s, size_t n, void *ud)
{
	struct oc_csvstate *st = ud;
	if (st->rc)
		return;
	if (st->rowlen + n > st->d->max_frame) {
		st->rc = too_big(st->d);
		return;
	}
	if (st->rowlen + n > st->rowcap) {
		st->rowcap = st->rowlen + n > 2 * st->rowcap ? st->rowlen + n : 2 * st->rowcap;
		st->row = xrealloc(st->row, st->rowcap);
	}
	if (st->nf == st->fcap) {
		st->fcap = st->fcap ? 2 * st->fcap : 16;
		st->fend = xrealloc(st->fend, st->fcap * sizeof(*st->fend));
	}
	if (n)
		memcpy(st->row + st->rowlen, s, n);
	st->rowlen += n;
	st->fend[st->nf++] = st->rowlen;
}

static void csv_field(const struct oc_csvstate *st, size_t i, const char **p, size_t *n)
{
	size_t start = i ? st->fend[i - 1] : 0;
	*p = st->row + start;
	*n = st->fend[i] - start;
}

/* Name for the i-th field (0-based) that has no column of its own: "_<i+1>". */
static size_t extra_name(size_t i, char *buf, size_t size)
{
	return (size_t)snprintf(buf, size, "_%zu", i + 1);
}

static int csv_header(struct oc_csvstate *st)
{
	st->cols = xcalloc(st->nf, sizeof(*st->cols));
	for (size_t i = 0; i < st->nf; i++) {
		const char *p;
		size_t n;
		char buf[32];
		csv_field(st, i, &p, &n);
		json_t *check = json_stringn(p, n); /* jansson refuses invalid UTF-8 */
		if (!check)
			return csv_fail(st, "column name is not valid UTF-8");
		json_decref(check);
		for (size_t j = 0; j < i; j++) {
			if (st->cols[j].len == n && !memcmp(st->cols[j].s, p, n)) {
				n = extra_name(i, buf, sizeof(buf)); /* a repeated name */
				p = buf;
				break;
			}
		}
		st->cols[i].s = mem_dup(p, n);
		st->cols[i].len = n;
		st->ncols = i + 1;
	}
	return 0;
}

static int csv_data_row(struct oc_csvstate *st)
{
	json_t *o = json_object();
	for (size_t i = 0; i < st->nf; i++) {
		const char *p, *key;
		size_t n, klen;
		char buf[32];
		csv_field(st, i, &p, &n);
		json_t *v = json_stringn(p, n);
		if (!v) {
			json_decref(o);
			return csv_fail(st, "field is not valid UTF-8");
		}
		if (i < st->ncols) {
			key = st->cols[i].s;
			klen = st->cols[i].len;
		} else {
			klen = extra_name(i, buf, sizeof(buf));
			key = buf;
		}
		json_object_setn_new_nocheck(o, key, klen, v);
	}
	size_t len;
	char *text = oc_json_text(o, &len);
	json_decref(o);
	struct oc_msg *m = oc_msg_new();
	oc_msg_take_payload(m, text, len);
	return st->emit(st->ud, m);
}

static void csv_row_cb(int c, void *ud)
{
	struct oc_csvstate *st = ud;
	if (!st->rc)
		st->rc = st->rows == 0 ? csv_header(st) : csv_data_row(st);
	st->rows++;
	st->rowlen = 0;
	st->nf = 0;
}

static int csv_parse_error(struct oc_csvstate *st)
{
	int e = csv_error(&st->p);
	if (e == CSV_EPARSE)
		return csv_fail(st,
				"malformed CSV (a quote inside an unquoted field, or text after "
				"a closing quote)");
	return csv_fail(st, csv_strerror(e));
}

static ssize_t decode_csv(struct oc_decoder *d, const char *buf, size_t len, bool eof,
			  oc_emit_fn emit, void *ud)
{
	struct oc_csvstate *st = csv_state(&d->csv);
	if (!st->parser_ready) {
		if (csv_init(&st->p, CSV_STRICT | CSV_STRICT_FINI) != 0) {
			snprintf(d->err, sizeof(d->err), "cannot start the CSV parser");
			return OC_EFAIL;
		}
		csv_set_space_func(&st->p, no_space);
		st->parser_ready = true;
	}
	st->d = d;
	st->emit = emit;
	st->ud = ud;
	st->rc = 0;
	size_t n = csv_parse(&st->p, buf, len, csv_field_cb, csv_row_cb, st);
	if (!st->rc && n < len)
		st->rc = csv_parse_error(st);
	/* A field still being read lives in libcsv's buffer, not yet in ours. entry_pos is its
	 * length (csv_get_buffer_size() is the capacity, which grows in 128-byte steps). */
	if (!st->rc && st->rowlen + st->p.entry_pos > d->max_frame)
		st->rc = too_big(d);
	if (!st->rc && eof && csv_fini(&st->p, csv_field_cb, csv_row_cb, st) != 0 && !st->rc)
		st->rc = csv_fail(st, "quoted field not closed at end of input");
	return st->rc ? st->rc : (ssize_t)len;
}

ssize_t oc_decode(struct oc_decoder *d, struct oc_chunk *c, const char *buf, size_t len, bool eof,
		  oc_emit_fn emit, void *ud)
{
	switch (d->kind) {
	case OC_FRAMING_LINE:
		return decode_delim(d, c, buf, len, eof, emit, ud, '\n', plain_frame);
	case OC_FRAMING_NUL:
		return decode_delim(d, c, buf, len, eof, emit, ud, '\0', plain_frame);
	case OC_FRAMING_RAW:
		if (len) {
			int rc = emit_bytes(c, buf, len, emit, ud);
			if (rc)
				return rc;
		}
		return (ssize_t)len;
	case OC_FRAMING_LEN32:
		return decode_len32(d, c, buf, len, eof, emit, ud);
	case OC_FRAMING_JSONL:
		return decode_delim(d, c, buf, len, eof, emit, ud, '\n', jsonl_frame);
	case OC_FRAMING_CSV:
		return decode_csv(d, buf, len, eof, emit, ud);
	}
	snprintf(d->err, sizeof(d->err), "unknown framing %d", (int)d->kind);
	return OC_EUSAGE;
}

/* ==== encoding ==== */

void oc_encoder_init(struct oc_encoder *e, enum oc_framing kind, const struct oc_format *fmt)
{
	e->kind = kind;
	e->fmt = fmt;
	e->csv = NULL;
}

void oc_encoder_release(struct oc_encoder *e)
{
	csv_state_free(e->csv);
	e->csv = NULL;
}

/* Payload then one terminator byte. */
static inline void put_delim(struct oc_iobatch *b, const struct oc_msg *m, char delim)
{
	if (m->len < OC_IOBATCH_COPY_MAX) {
		/* Hot path: one reservation for both, merged with the previous copy. */
		char *p = oc_iobatch_reserve(b, m->len + 1);
		if (m->len)
			memcpy(p, m->data, m->len);
		p[m->len] = delim;
		return;
	}
	oc_iobatch_ref(b, m->data, m->len);
	oc_iobatch_copy(b, &delim, 1);
}

static int put_len32(struct oc_iobatch *b, const struct oc_msg *m)
{
	if (m->len > UINT32_MAX)
		return OC_EPROTO;
	unsigned char h[4] = {(unsigned char)(m->len >> 24), (unsigned char)(m->len >> 16),
			      (unsigned char)(m->len >> 8), (unsigned char)m->len};
	oc_iobatch_copy(b, h, 4);
	oc_iobatch_ref(b, m->data, m->len);
	return 0;
}

/* ---- csv ---- */

static bool csv_needs_quotes(const char *s, size_t n, bool alone)
{
	/* An empty one-field row would be an empty line, which readers skip. */
	if (!n)
		return alone;
	if (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t')
		return true;
	for (size_t i = 0; i < n; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
			return true;
	return false;
}

/* One field. ref: s outlives the batch's write (a payload), so it may be referenced. */
static void csv_put(struct oc_iobatch *b, const char *s, size_t n, bool alone, bool ref)
{
	if (!csv_needs_quotes(s, n, alone)) {
		if (ref)
			oc_iobatch_ref(b, s, n);
		else
			oc_iobatch_copy(b, s, n);
		return;
	}
	size_t reserved = 2 * n + 2, used = 0;
	char *p = oc_iobatch_reserve(b, reserved);
	p[used++] = '"';
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			p[used++] = '"'; /* RFC 4180: a quote inside a quoted field is doubled */
		p[used++] = s[i];
	}
	p[used++] = '"';
	oc_iobatch_commit(b, reserved, used);
}

/* The payload as a JSON object, or NULL when it is not one. */
static json_t *payload_object(const struct oc_msg *m)
{
	size_t i = 0;
	while (i < m->len && (m->data[i] == ' ' || m->data[i] == '\t'))
		i++;
	if (i == m->len || m->data[i] != '{')
		return NULL; /* not worth a parse */
	json_t *o = json_loadb(m->data, m->len, JSON_ALLOW_NUL, NULL);
	if (o && !json_is_object(o)) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

/* Fix the columns from the first message and write the header row. */
static void csv_start(struct oc_csvstate *st, json_t *obj, struct oc_iobatch *b)
{
	st->objects = obj && json_object_size(obj) > 0;
	if (st->objects) {
		const char *k;
		size_t klen;
		json_t *v;
		st->cols = xcalloc(json_object_size(obj), sizeof(*st->cols));
		json_object_keylen_foreach(obj, k, klen, v)
		{
			st->cols[st->ncols].s = mem_dup(k, klen);
			st->cols[st->ncols++].len = klen;
		}
	} else {
		st->cols = xcalloc(1, sizeof(*st->cols));
		st->cols[0].s = xstrdup("payload");
		st->cols[0].len = strlen("payload");
		st->ncols = 1;
	}
	for (size_t i = 0; i < st->ncols; i++) {
		if (i)
			oc_iobatch_copy(b, ",", 1);
		csv_put(b, st->cols[i].s, st->cols[i].len, st->ncols == 1, false);
	}
	oc_iobatch_copy(b, "\n", 1);
	st->header_done = true;
}

/* The object's values in column order; a missing key is an empty field, a key that is not a
 * column is dropped (the header is already written). */
static void csv_object_row(struct oc_csvstate *st, json_t *obj, struct oc_iobatch *b)
{
	for (size_t i = 0; i < st->ncols; i++) {
		json_t *v = json_object_getn(obj, st->cols[i].s, st->cols[i].len);
		if (i)
			oc_iobatch_copy(b, ",", 1);
		if (!v) {
			if (st->ncols == 1) /* else the row would be an empty line */
				oc_iobatch_copy(b, "\"\"", 2);
			continue;
		}
		size_t n;
		char *text = oc_json_text(v, &n);
		csv_put(b, text, n, st->ncols == 1, false);
		free(text);
	}
}

static int encode_csv(struct oc_encoder *e, const struct oc_msg *m, struct oc_iobatch *b)
{
	struct oc_csvstate *st = csv_state(&e->csv);
	json_t *obj = payload_object(m);
	if (!st->header_done)
		csv_start(st, obj, b);
	if (st->objects && obj)
		csv_object_row(st, obj, b);
	else /* one field; in object mode it lands in the first column */
		csv_put(b, m->data, m->len, true, true);
	oc_iobatch_copy(b, "\n", 1);
	json_decref(obj);
	return 0;
}

static int encode_one(struct oc_encoder *e, const struct oc_msg *m, struct oc_iobatch *b);

/* A batch of frames meeting an encoder of another framing: encode frame by frame. */
static int encode_split(struct oc_encoder *e, const struct oc_msg *m, struct oc_iobatch *b)
{
	char delim = m->framed - 1 == OC_FRAMING_NUL ? '\0' : '\n';
	struct oc_msg one = *m; /* a read-only view: same metadata, one frame of payload */
	one.framed = 0;
	for (const char *p = m->data, *end = m->data + m->len; p < end;) {
		const char *t = memchr(p, delim, (size_t)(end - p));
		size_t n = t ? (size_t)(t - p) : (size_t)(end - p);
		one.data = p;
		one.len = n;
		int rc = encode_one(e, &one, b);
		if (rc)
			return rc;
		p += n + 1;
	}
	return 0;
}

int oc_encode(struct oc_encoder *e, const struct oc_msg *m, struct oc_iobatch *b)
{
	if (m->flags & OC_MSG_BYTES) {
		oc_iobatch_ref(b, m->data, m->len);
		return 0;
	}
	if (m->framed) {
		if (!e->fmt && m->framed == e->kind + 1) {
			oc_iobatch_ref(b, m->data, m->len);
			return 0;
		}
		return encode_split(e, m, b);
	}
	return encode_one(e, m, b);
}

static int encode_one(struct oc_encoder *e, const struct oc_msg *m, struct oc_iobatch *b)
{
	if (e->fmt) {
		oc_format_apply(e->fmt, m, b);
		return 0;
	}
	switch (e->kind) {
	case OC_FRAMING_LINE:
		put_delim(b, m, '\n');
		return 0;
	case OC_FRAMING_NUL:
		put_delim(b, m, '\0');
		return 0;
	case OC_FRAMING_RAW:
		oc_iobatch_ref(b, m->data, m->len);
		return 0;
	case OC_FRAMING_LEN32:
		return put_len32(b, m);
	case OC_FRAMING_JSONL:
		oc_envelope_encode(m, b);
		oc_iobatch_copy(b, "\n", 1);
		return 0;
	case OC_FRAMING_CSV:
		return encode_csv(e, m, b);
	}
	return OC_EUSAGE;
}
