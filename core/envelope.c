/* core/envelope.c — the JSON envelope of --jsonl (see envelope.h, DESIGN §2), with jansson.
 *
 * One table lists the envelope's fields in output order with the kind of value each holds; the
 * encoder walks it to build a jansson object and the decoder looks input keys up in it
 * case-insensitively. Output is dumped with jansson straight into the batch arena
 * (json_dump_callback + oc_iobatch_copy, whose consecutive copies merge into one piece).
 *
 * UTF-8: jansson's json_stringn() refuses invalid UTF-8, which is how we decide between
 * "payload" and "payload_b64" — no validator of our own. Metadata fields have no base64
 * variant, so metadata that is not UTF-8 (a binary key...) is written with its bytes read as
 * Latin-1: lossy, but the line stays valid JSON.
 *
 * Threads: any thread; no shared state. */
#include "envelope.h"

#include <jansson.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "err.h"
#include "xalloc.h"

/* Compact, in insertion order; JSON_ENSURE_ASCII is deliberately off (UTF-8 stays as is). */
#define DUMP_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER)

enum kind {
	K_STR,	       /* string field of msg.h's enum oc_field */
	K_PAYLOAD,     /* "payload" (text) */
	K_PAYLOAD_B64, /* "payload_b64" (input only; output goes through K_PAYLOAD) */
	K_HEADERS,     /* object, values string or array of strings */
	K_STATUS,      /* integer, OC_MSG_STATUS */
	K_QOS,	       /* integer, OC_MSG_QOS */
	K_RETAIN,      /* boolean, OC_MSG_RETAIN */
	K_TS,	       /* ISO 8601 on output, ignored on input */
};

/* One row a line, like the other tables: clang-format 14 would indent the rows with spaces. */
/* clang-format off */
static const struct env_field {
	const char *name; /* envelope key */
	enum kind kind;	  /* what it holds */
	enum oc_field f;  /* message field, for K_STR */
} fields[] = {
	{ "topic", K_STR, OC_F_TOPIC },
	{ "key", K_STR, OC_F_KEY },
	{ "payload", K_PAYLOAD, 0 },
	{ "payload_b64", K_PAYLOAD_B64, 0 },
	{ "headers", K_HEADERS, 0 },
	{ "method", K_STR, OC_F_METHOD },
	{ "path", K_STR, OC_F_PATH },
	{ "query", K_STR, OC_F_QUERY },
	{ "status", K_STATUS, 0 },
	{ "id", K_STR, OC_F_ID },
	{ "qos", K_QOS, 0 },
	{ "retain", K_RETAIN, 0 },
	{ "content_type", K_STR, OC_F_CONTENT_TYPE },
	{ "peer", K_STR, OC_F_PEER },
	{ "ts", K_TS, 0 },
};
/* clang-format on */
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

/* ---- JSON value to text ---- */

/* Digits needed for d to read back unchanged: 15 is enough for what people type. */
static int real_digits(double d)
{
	char buf[40];
	for (int p = 15; p < 17; p++) {
		snprintf(buf, sizeof(buf), "%.*g", p, d);
		if (strtod(buf, NULL) == d)
			return p;
	}
	return 17;
}

static size_t real_text(double d, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%.*g", real_digits(d), d);
	/* Keep it a real, as jansson does: 1.0 stays "1.0", not "1". */
	if (!strpbrk(buf, ".eEni") && (size_t)n + 2 < size) {
		memcpy(buf + n, ".0", 3);
		n += 2;
	}
	return (size_t)n;
}

/* Most digits any real inside v needs (15 when there is none). */
static int tree_digits(const json_t *v)
{
	int best = 15;
	if (json_is_real(v))
		return real_digits(json_real_value(v));
	if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v) && best < 17; i++) {
			int d = tree_digits(json_array_get(v, i));
			best = d > best ? d : best;
		}
	} else if (json_is_object(v)) {
		const char *k;
		json_t *e;
		/* json_object_foreach wants a non-const object; it does not modify it. */
		json_object_foreach((json_t *)v, k, e)
		{
			int d = tree_digits(e);
			best = d > best ? d : best;
		}
	}
	return best;
}

static char *dup_len(const char *s, size_t n, size_t *len)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	*len = n;
	return p;
}

char *oc_json_text(const struct json_t *v, size_t *len)
{
	char buf[64];
	switch (json_typeof(v)) {
	case JSON_STRING:
		return dup_len(json_string_value(v), json_string_length(v), len);
	case JSON_INTEGER: {
		int n = snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return dup_len(buf, (size_t)n, len);
	}
	case JSON_REAL:
		return dup_len(buf, real_text(json_real_value(v), buf, sizeof(buf)), len);
	case JSON_TRUE:
		return dup_len("true", 4, len);
	case JSON_FALSE:
		return dup_len("false", 5, len);
	case JSON_NULL:
		return dup_len("", 0, len);
	default:
		break;
	}
	size_t flags = DUMP_FLAGS | JSON_REAL_PRECISION(tree_digits(v));
	size_t n = json_dumpb(v, NULL, 0, flags);
	char *p = xmalloc(n + 1);
	json_dumpb(v, p, n, flags);
	p[n] = '\0';
	*len = n;
	return p;
}

/* ---- encoding ---- */

/* A JSON string of metadata bytes; not-UTF-8 bytes are read as Latin-1 (see the top). */
static json_t *meta_string(const char *s, size_t len)
{
	json_t *j = json_stringn(s, len);
	if (j)
		return j;
	char *buf = xmalloc(2 * len + 1);
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x80) {
			buf[n++] = (char)c;
		} else {
			buf[n++] = (char)(0xC0 | (c >> 6));
			buf[n++] = (char)(0x80 | (c & 0x3F));
		}
	}
	j = json_stringn_nocheck(buf, n);
	free(buf);
	return j;
}

/* Set key name (metadata bytes, maybe not UTF-8) to v, taking v's reference. */
static void set_meta_key(json_t *o, const char *name, json_t *v)
{
	size_t len = strlen(name);
	if (json_object_setn(o, name, len, v) != 0) {
		json_t *k = meta_string(name, len);
		json_object_setn_nocheck(o, json_string_value(k), json_string_length(k), v);
		json_decref(k);
	}
	json_decref(v);
}

/* Standard base64 of n bytes. EVP_EncodeBlock takes an int length, so it is fed in blocks. */
static json_t *base64_string(const char *data, size_t n)
{
	const size_t block = (size_t)3 << 28; /* a multiple of 3 below INT_MAX */
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);
	size_t olen = 0;
	for (size_t off = 0; off < n; off += block) {
		size_t len = n - off < block ? n - off : block;
		olen += (size_t)EVP_EncodeBlock((unsigned char *)out + olen,
						(const unsigned char *)data + off, (int)len);
	}
	json_t *j = json_stringn_nocheck(out, olen);
	free(out);
	return j;
}

static void put_payload(json_t *o, const struct oc_msg *m)
{
	const char *data = m->data ? m->data : "";
	json_t *s = json_stringn(data, m->len);
	if (s)
		json_object_set_new_nocheck(o, "payload", s);
	else
		json_object_set_new_nocheck(o, "payload_b64", base64_string(data, m->len));
}

/* Headers as an object in arrival order; a name that repeats (compared case-insensitively, as
 * msg.h matches names) becomes an array of its values under its first spelling. */
static json_t *headers_json(const struct oc_msg *m)
{
	json_t *o = json_object();
	for (unsigned i = 0; i < m->nhdrs; i++) {
		const char *name = m->hdrs[i].name;
		unsigned j, count = 0;
		for (j = 0; j < i && strcasecmp(m->hdrs[j].name, name); j++)
			;
		if (j < i)
			continue; /* already written with its first occurrence */
		for (j = i; j < m->nhdrs; j++)
			count += !strcasecmp(m->hdrs[j].name, name);
		json_t *v;
		if (count == 1) {
			v = meta_string(m->hdrs[i].value, strlen(m->hdrs[i].value));
		} else {
			v = json_array();
			for (j = i; j < m->nhdrs; j++)
				if (!strcasecmp(m->hdrs[j].name, name))
					json_array_append_new(
					    v, meta_string(m->hdrs[j].value,
							   strlen(m->hdrs[j].value)));
		}
		set_meta_key(o, name, v);
	}
	return o;
}

static void put_field(json_t *o, const struct env_field *f, const struct oc_msg *m)
{
	json_t *v = NULL;
	switch (f->kind) {
	case K_STR:
		if (m->f[f->f])
			v = meta_string(m->f[f->f], strlen(m->f[f->f]));
		break;
	case K_PAYLOAD:
		put_payload(o, m);
		break;
	case K_PAYLOAD_B64:
		break;
	case K_HEADERS:
		if (m->nhdrs)
			v = headers_json(m);
		break;
	case K_STATUS:
		if (m->flags & OC_MSG_STATUS)
			v = json_integer(m->status);
		break;
	case K_QOS:
		if (m->flags & OC_MSG_QOS)
			v = json_integer(m->qos);
		break;
	case K_RETAIN:
		if (m->flags & OC_MSG_RETAIN)
			v = json_boolean(m->retain);
		break;
	case K_TS:
		if (m->ts_ms) {
			char ts[40];
			oc_format_iso8601(m->ts_ms, ts, sizeof(ts));
			v = json_string_nocheck(ts);
		}
		break;
	}
	if (v)
		json_object_set_new_nocheck(o, f->name, v);
}

static int dump_to_batch(const char *buf, size_t size, void *ud)
{
	oc_iobatch_copy(ud, buf, size);
	return 0;
}

void oc_envelope_encode(const struct oc_msg *m, struct oc_iobatch *b)
{
	json_t *o = json_object();
	for (size_t i = 0; i < NFIELDS; i++)
		put_field(o, &fields[i], m);
	json_dump_callback(o, dump_to_batch, b, DUMP_FLAGS);
	json_decref(o);
}

/* ---- decoding ---- */

static const struct env_field *field_find(const char *key, size_t len)
{
	for (size_t i = 0; i < NFIELDS; i++)
		if (strlen(fields[i].name) == len && !strncasecmp(fields[i].name, key, len))
			return &fields[i];
	return NULL;
}

static bool b64_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

/* Decode standard, padded base64 into a malloc'd block. EVP_DecodeBlock alone is too lenient
 * (it accepts "YQ=a" and "===="), so the syntax is checked first; it also counts padding as
 * zero bytes, which are taken off again. Returns 0, or -1 when s is not base64. */
static int b64_decode(const char *s, size_t n, char **out, size_t *outlen)
{
	const size_t block = (size_t)1 << 30; /* a multiple of 4 below INT_MAX */
	size_t pad = 0;
	if (n % 4)
		return -1;
	while (pad < 2 && pad < n && s[n - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < n - pad; i++)
		if (!b64_char((unsigned char)s[i]))
			return -1;
	char *p = xmalloc(n / 4 * 3 + 1);
	size_t len = 0;
	for (size_t off = 0; off < n; off += block) {
		size_t in = n - off < block ? n - off : block;
		int r = EVP_DecodeBlock((unsigned char *)p + len, (const unsigned char *)s + off,
					(int)in);
		if (r < 0) {
			free(p);
			return -1;
		}
		len += (size_t)r;
	}
	*out = p;
	*outlen = len - pad;
	return 0;
}

/* Where decoding stands while walking one object's keys. */
struct dec {
	struct oc_msg *m; /* message being filled */
	bool payload;	  /* "payload" or "payload_b64" seen */
	char *err;	  /* reason on error */
	size_t errlen;	  /* bytes at err */
};

static int fail(struct dec *d, const char *what, const char *name)
{
	snprintf(d->err, d->errlen, "\"%s\" %s", name, what);
	return OC_EPROTO;
}

/* A header value: a string or a number, as text. */
static int add_header_value(struct dec *d, const char *name, size_t nlen, const json_t *v)
{
	if (!json_is_string(v) && !json_is_number(v))
		return fail(d, "must be a string, a number or an array of them", name);
	size_t len;
	char *text = oc_json_text(v, &len);
	int rc = 0;
	if (strlen(text) != len)
		rc = fail(d, "contains a NUL character", name);
	else
		oc_msg_add_header(d->m, name, nlen, text, len);
	free(text);
	return rc;
}

static int dec_headers(struct dec *d, json_t *v)
{
	const char *name;
	size_t nlen;
	json_t *e;
	if (!json_is_object(v))
		return fail(d, "must be an object", "headers");
	json_object_keylen_foreach(v, name, nlen, e)
	{
		int rc = 0;
		if (strlen(name) != nlen)
			return fail(d, "has a header name with a NUL character", "headers");
		if (json_is_array(e)) {
			for (size_t i = 0; i < json_array_size(e) && !rc; i++)
				rc = add_header_value(d, name, nlen, json_array_get(e, i));
		} else {
			rc = add_header_value(d, name, nlen, e);
		}
		if (rc)
			return rc;
	}
	return 0;
}

static int dec_payload(struct dec *d, const struct env_field *f, json_t *v)
{
	if (d->payload)
		return fail(d, "given twice (or with \"payload_b64\")", "payload");
	d->payload = true;
	char *p;
	size_t len;
	if (f->kind == K_PAYLOAD) {
		/* Any JSON value: a string is its bytes, anything else its compact JSON text. */
		p = oc_json_text(v, &len);
	} else {
		if (!json_is_string(v))
			return fail(d, "must be a string", f->name);
		if (b64_decode(json_string_value(v), json_string_length(v), &p, &len))
			return fail(d, "is not valid base64", f->name);
	}
	oc_msg_take_payload(d->m, p, len);
	return 0;
}

static int dec_int(struct dec *d, const struct env_field *f, json_t *v, int *out)
{
	if (!json_is_number(v))
		return fail(d, "must be a number", f->name);
	if (!json_is_integer(v) || json_integer_value(v) < INT_MIN ||
	    json_integer_value(v) > INT_MAX)
		return fail(d, "must be an integer", f->name);
	*out = (int)json_integer_value(v);
	return 0;
}

static int dec_field(struct dec *d, const struct env_field *f, json_t *v)
{
	int n, rc;
	switch (f->kind) {
	case K_STR:
		if (json_is_null(v))
			return 0; /* null: absent, as generated JSON often has it */
		if (!json_is_string(v))
			return fail(d, "must be a string", f->name);
		if (strlen(json_string_value(v)) != json_string_length(v))
			return fail(d, "contains a NUL character", f->name);
		oc_msg_set(d->m, f->f, json_string_value(v), json_string_length(v));
		if (f->f == OC_F_PEER)
			d->m->flags |= OC_MSG_ROUTE;
		return 0;
	case K_PAYLOAD:
	case K_PAYLOAD_B64:
		return dec_payload(d, f, v);
	case K_HEADERS:
		return dec_headers(d, v);
	case K_STATUS:
		if ((rc = dec_int(d, f, v, &n)) == 0)
			oc_msg_set_status(d->m, n);
		return rc;
	case K_QOS:
		if ((rc = dec_int(d, f, v, &n)) == 0)
			oc_msg_set_qos(d->m, n);
		return rc;
	case K_RETAIN:
		if (!json_is_boolean(v))
			return fail(d, "must be true or false", f->name);
		oc_msg_set_retain(d->m, json_is_true(v));
		return 0;
	case K_TS:
		return 0; /* the time it was written is not the time it arrives */
	}
	return 0;
}

int oc_envelope_decode(const char *json, size_t len, struct oc_msg *m, char *err, size_t errlen)
{
	json_error_t je;
	/* JSON_ALLOW_NUL: "\u0000" in a payload is valid JSON and valid UTF-8, and the encoder
	 * writes it for a payload containing NUL bytes. */
	json_t *o = json_loadb(json, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	if (!o) {
		snprintf(err, errlen, "invalid JSON at column %d: %s", je.column, je.text);
		return OC_EPROTO;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		snprintf(err, errlen, "expected a JSON object");
		return OC_EPROTO;
	}
	struct dec d = {.m = m, .err = err, .errlen = errlen};
	const char *key;
	size_t klen;
	json_t *v;
	int rc = 0;
	json_object_keylen_foreach(o, key, klen, v)
	{
		const struct env_field *f = field_find(key, klen);
		if (f && (rc = dec_field(&d, f, v)) != 0)
			break;
	}
	json_decref(o);
	return rc;
}

void oc_format_iso8601(long long ms, char *out, size_t outlen)
{
	long long sec = ms / 1000, milli = ms % 1000;
	if (milli < 0) { /* before 1970: floor, so the milliseconds stay positive */
		milli += 1000;
		sec--;
	}
	time_t t = (time_t)sec;
	struct tm tm;
	if (!gmtime_r(&t, &tm)) {
		snprintf(out, outlen, "%lld", ms);
		return;
	}
	snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)milli);
}
