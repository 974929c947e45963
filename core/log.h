/* core/log.h — everything omnicat says on stderr. stdout carries data only.
 *
 * Errors are one line, git style: "omnicat: cannot connect to '127.0.0.1:9': connection
 * refused" — lowercase, no full stop, the endpoint named in quotes, what failed first. */
#ifndef OC_LOG_H
#define OC_LOG_H

#include <stdbool.h>
#include <stddef.h>

struct oc_logcfg {
	int verbose;      /* -v count: connection events and message metadata */
	bool silent;      /* -s: no notices */
	bool show_error;  /* -S: with -s, still print errors */
	bool trace;       /* --trace: protocol frames (secrets redacted by the adapters) */
	/* Where lines go instead of stderr, or NULL: the REPL prints them above its prompt. */
	void (*sink)(const char *line, size_t len);
};

extern struct oc_logcfg oc_log;

#define OC_PRINTF(a, b) __attribute__((format(printf, a, b)))

void oc_error(const char *fmt, ...) OC_PRINTF(1, 2);   /* printed unless -s without -S */
void oc_notice(const char *fmt, ...) OC_PRINTF(1, 2);  /* printed unless -s */
void oc_verbose(const char *fmt, ...) OC_PRINTF(1, 2); /* printed with -v */

/* One row of a hex dump: up to 16 of the n bytes at p in hex (padded to 16), two spaces, the
 * printable ones as text, a newline. Writes at most OC_HEX_ROW_MAX bytes; returns how many. */
#define OC_HEX_ROW_MAX 72
size_t oc_hex_row(char *out, const unsigned char *p, size_t n);

/* --trace: one header line plus a hex/ASCII dump of at most 256 bytes of data. */
void oc_trace_bytes(const char *who, const char *what, const void *data, size_t len);

#endif
