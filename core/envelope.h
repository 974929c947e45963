/* core/envelope.h — the JSON envelope of --jsonl (DESIGN §2), with jansson.
 *
 *   {"topic":"sensors/1","payload":"21.5","headers":{"unit":"C"},"qos":1,
 *    "ts":"2026-11-24T10:00:00.123Z"}
 *
 * Fields: topic, key, payload, payload_b64, headers, method, path, query, status, id, qos,
 * retain, content_type, peer, ts. Output order is fixed (the order above, then the rest in
 * that list's order); absent fields are left out. payload is a string when the bytes are
 * valid UTF-8, else payload_b64 (standard base64). headers is an object in arrival order; a
 * name that repeats has an array of values. ts is UTC ISO 8601 with milliseconds.
 *
 * On input, field names are matched case-insensitively, unknown fields are ignored,
 * "peer" marks the message as addressed to that peer (OC_MSG_ROUTE), and a line that is not a
 * JSON object is an error. */
#ifndef OC_ENVELOPE_H
#define OC_ENVELOPE_H

#include <stddef.h>

#include "iobatch.h"
#include "msg.h"

/* Append m as one compact JSON object (no newline) to b. */
void oc_envelope_encode(const struct oc_msg *m, struct oc_iobatch *b);

/* Parse one JSON object into m's payload and metadata. Returns 0, or OC_EPROTO with a short
 * reason in err ("invalid JSON at column 7: ...", "\"qos\" must be a number"). */
int oc_envelope_decode(const char *json, size_t len, struct oc_msg *m, char *err, size_t errlen);

/* The text a JSON value stands for in a payload, a header value or a CSV field: a string's
 * bytes; an integer in decimal; a real in the shortest form that reads back as the same double
 * ("0.1", not jansson's "0.10000000000000001"); true/false as such; null as ""; an object or
 * array as compact JSON (its reals as short as they can be without changing them). Returns a
 * malloc'd, NUL-terminated buffer (free() it) and its length in *len. v is a jansson json_t. */
struct json_t;
char *oc_json_text(const struct json_t *v, size_t *len);

/* Format ms since the epoch as "2026-11-24T10:00:00.123Z" into out (at least 25 bytes). */
void oc_format_iso8601(long long ms, char *out, size_t outlen);

#endif
