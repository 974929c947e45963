/* core/log.c — stderr output. Each line is built in one buffer and written with one write(2)
 * so lines from a busy run never interleave mid-line. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct oc_logcfg oc_log;

static void emit(const char *text, size_t len)
{
	if (oc_log.sink) {
		oc_log.sink(text, len);
		return;
	}
	ssize_t w = write(STDERR_FILENO, text, len);
	(void)w; /* nowhere left to report a failing stderr */
}

static void log_line(const char *prefix, const char *fmt, va_list ap)
{
	char line[2048];
	int n = snprintf(line, sizeof(line), "omnicat: %s", prefix);
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	emit(line, len);
}

void oc_error(const char *fmt, ...)
{
	if (oc_log.silent && !oc_log.show_error)
		return;
	va_list ap;
	va_start(ap, fmt);
	log_line("", fmt, ap);
	va_end(ap);
}

void oc_notice(const char *fmt, ...)
{
	if (oc_log.silent)
		return;
	va_list ap;
	va_start(ap, fmt);
	log_line("", fmt, ap);
	va_end(ap);
}

void oc_verbose(const char *fmt, ...)
{
	if (!oc_log.verbose)
		return;
	va_list ap;
	va_start(ap, fmt);
	log_line("* ", fmt, ap);
	va_end(ap);
}

size_t oc_hex_row(char *out, const unsigned char *p, size_t n)
{
	size_t o = 0;
	for (size_t j = 0; j < 16; j++)
		o += (size_t)(j < n ? snprintf(out + o, OC_HEX_ROW_MAX - o, " %02x", p[j])
				    : snprintf(out + o, OC_HEX_ROW_MAX - o, "   "));
	out[o++] = ' ';
	out[o++] = ' ';
	for (size_t j = 0; j < 16 && j < n; j++)
		out[o++] = (p[j] >= 0x20 && p[j] < 0x7f) ? (char)p[j] : '.';
	out[o++] = '\n';
	return o;
}

void oc_trace_bytes(const char *who, const char *what, const void *data, size_t len)
{
	if (!oc_log.trace)
		return;
	const unsigned char *p = data;
	size_t shown = len > 256 ? 256 : len;
	char out[8192];
	size_t o = (size_t)snprintf(out, sizeof(out), "omnicat: = %s %s %zu bytes\n", who, what, len);
	for (size_t i = 0; i < shown && o < sizeof(out) - 100; i += 16) {
		o += (size_t)snprintf(out + o, sizeof(out) - o, "  %04zx ", i);
		o += oc_hex_row(out + o, p + i, shown - i);
	}
	if (shown < len)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "  ... %zu more bytes\n", len - shown);
	emit(out, o);
}
