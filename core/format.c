/* core/format.c — --format output strings (see format.h, DESIGN §2).
 *
 * The spec is compiled once into a list of ops: literal runs (escapes already resolved, all
 * literal bytes kept in one buffer) and field letters. Applying it to a message appends each
 * piece to the batch: the payload by reference, everything else by copy into the arena, where
 * consecutive copies merge — so a short formatted message is one contiguous run of bytes.
 *
 * Escapes: \n \t \\ and %% as documented, plus \r and \0 (handy with NUL-separated output);
 * any other backslash or percent sequence is a usage error, so new letters can be added later
 * without changing what an existing format prints.
 *
 * Threads: a compiled format is read-only and may be shared. */
#include "format.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "xalloc.h"

struct fmt_op {
	char letter; /* field letter, or 0 for literal bytes */
	size_t off;  /* literal: offset into lit */
	size_t len;  /* literal: byte count */
};

struct oc_format {
	struct fmt_op *ops; /* in output order */
	size_t nops, cap;   /* used and allocated ops */
	char *lit;	    /* all literal bytes */
	size_t litlen;	    /* used bytes of lit (allocated: strlen(spec) + 1) */
};

/* The letters a format may use (format.h). */
static const char letters[] = "stkhTSmciqepo";

static void push_op(struct oc_format *f, char letter)
{
	if (f->nops == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 8;
		f->ops = xrealloc(f->ops, f->cap * sizeof(*f->ops));
	}
	f->ops[f->nops++] = (struct fmt_op){.letter = letter, .off = f->litlen, .len = 0};
}

/* Append one literal byte, extending the last op when it is a literal run. */
static void push_lit(struct oc_format *f, char c)
{
	if (!f->nops || f->ops[f->nops - 1].letter)
		push_op(f, 0);
	f->lit[f->litlen++] = c;
	f->ops[f->nops - 1].len++;
}

static int escape_char(char c, char *out)
{
	switch (c) {
	case 'n':
		*out = '\n';
		return 0;
	case 't':
		*out = '\t';
		return 0;
	case 'r':
		*out = '\r';
		return 0;
	case '0':
		*out = '\0';
		return 0;
	case '\\':
		*out = '\\';
		return 0;
	default:
		return -1;
	}
}

/* One '%' or '\\' sequence at s (s[0] is the introducer). */
static int compile_seq(struct oc_format *f, const char *s, char *err, size_t errlen)
{
	char c = s[1], out;
	if (!c) {
		snprintf(err, errlen, "format ends with a lone '%c'", s[0]);
		return OC_EUSAGE;
	}
	if (s[0] == '\\') {
		if (escape_char(c, &out) == 0) {
			push_lit(f, out);
			return 0;
		}
		snprintf(err, errlen, "unknown format escape '\\%c'", c);
		return OC_EUSAGE;
	}
	if (c == '%') {
		push_lit(f, '%');
		return 0;
	}
	if (!strchr(letters, c)) {
		snprintf(err, errlen, "unknown format letter '%%%c'", c);
		return OC_EUSAGE;
	}
	push_op(f, c);
	return 0;
}

int oc_format_compile(const char *spec, struct oc_format **out, char *err, size_t errlen)
{
	struct oc_format *f = xcalloc(1, sizeof(*f));
	f->lit = xmalloc(strlen(spec) + 1); /* literals never outgrow the spec */
	for (const char *s = spec; *s; s++) {
		if (*s != '%' && *s != '\\') {
			push_lit(f, *s);
			continue;
		}
		int rc = compile_seq(f, s, err, errlen);
		if (rc) {
			oc_format_free(f);
			return rc;
		}
		s++; /* the sequence is two characters */
	}
	*out = f;
	return 0;
}

void oc_format_free(struct oc_format *f)
{
	if (!f)
		return;
	free(f->ops);
	free(f->lit);
	free(f);
}

static void put_str(struct oc_iobatch *b, const char *s)
{
	if (s)
		oc_iobatch_copy(b, s, strlen(s));
}

static void put_num(struct oc_iobatch *b, long long v)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%lld", v);
	oc_iobatch_copy(b, buf, (size_t)n);
}

/* %h: name=value pairs in arrival order, comma separated, unescaped. */
static void put_headers(struct oc_iobatch *b, const struct oc_msg *m)
{
	for (unsigned i = 0; i < m->nhdrs; i++) {
		if (i)
			oc_iobatch_copy(b, ",", 1);
		put_str(b, m->hdrs[i].name);
		oc_iobatch_copy(b, "=", 1);
		put_str(b, m->hdrs[i].value);
	}
}

static void apply_letter(char letter, const struct oc_msg *m, struct oc_iobatch *b)
{
	switch (letter) {
	case 's':
		oc_iobatch_ref(b, m->data, m->len);
		break;
	case 't':
		put_str(b, m->f[OC_F_TOPIC] ? m->f[OC_F_TOPIC] : m->f[OC_F_PATH]);
		break;
	case 'k':
		put_str(b, m->f[OC_F_KEY]);
		break;
	case 'm':
		put_str(b, m->f[OC_F_METHOD]);
		break;
	case 'i':
		put_str(b, m->f[OC_F_ID]);
		break;
	case 'e':
		put_str(b, m->f[OC_F_PEER]);
		break;
	case 'h':
		put_headers(b, m);
		break;
	case 'T':
		if (m->ts_ms)
			put_num(b, m->ts_ms);
		break;
	case 'S':
		put_num(b, (long long)m->len);
		break;
	case 'c':
		if (m->flags & OC_MSG_STATUS)
			put_num(b, m->status);
		break;
	case 'q':
		if (m->flags & OC_MSG_QOS)
			put_num(b, m->qos);
		break;
	case 'p':
		put_str(b, oc_msg_header(m, "omnicat-partition"));
		break;
	case 'o':
		put_str(b, oc_msg_header(m, "omnicat-offset"));
		break;
	}
}

void oc_format_apply(const struct oc_format *f, const struct oc_msg *m, struct oc_iobatch *b)
{
	for (size_t i = 0; i < f->nops; i++) {
		const struct fmt_op *op = &f->ops[i];
		if (op->letter)
			apply_letter(op->letter, m, b);
		else
			oc_iobatch_copy(b, f->lit + op->off, op->len);
	}
}
