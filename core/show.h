/* core/show.h — a message rendered for a person reading a terminal (the REPL's view).
 *
 *   12:00:01.123 sensors/1 qos=1 retained          one line: local time, then the topic or
 *   {                                               path, the peer, the status, QoS/retain;
 *     "temp": 21.5                                  headers with .headers; the payload: JSON
 *   }                                               pretty-printed (.json), text as it is,
 *                                                   and binary (not UTF-8, or with control
 *                                                   characters a terminal would obey) as a
 *                                                   hex dump
 *
 * Colours (ANSI) only with .color. Pure: no I/O. */
#ifndef OC_SHOW_H
#define OC_SHOW_H

#include <stdbool.h>
#include <stddef.h>

#include "msg.h"

/* A growable text (xappend's buffer, length and allocation), NUL-terminated once not empty. */
struct oc_text {
	char *s;        /* the bytes, or NULL */
	size_t len, cap; /* used and allocated */
};

struct oc_show {
	bool color;   /* ANSI colours */
	bool json;    /* pretty-print a payload that is a JSON object or array */
	bool headers; /* list the headers */
	bool hex;     /* every payload as a hex dump */
	bool dotted;  /* a status is class*100+detail, shown c.dd (CoAP: 205 is 2.05) */
};

/* Append m, rendered, to t; every line ends with "\n". */
void oc_show_msg(const struct oc_show *o, const struct oc_msg *m, struct oc_text *t);
/* Append printf-style text to t. */
void oc_text_printf(struct oc_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void oc_text_release(struct oc_text *t);

#endif
