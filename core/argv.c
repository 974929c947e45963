/* core/argv.c — see argv.h. Hand-written: wordexp(3) would expand variables and command
 * substitutions, which is exactly what must not happen, and no library offers the split
 * alone. */
#include "argv.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "xalloc.h"

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

int oc_argv_split(const char *cmd, char ***argv, char *err, size_t errlen)
{
	size_t n = 0, cap = 8;
	char **v = xmalloc(cap * sizeof(*v));
	char *word = xmalloc(strlen(cmd) + 1);
	const char *p = cmd;
	for (;;) {
		while (blank(*p))
			p++;
		if (!*p)
			break;
		size_t w = 0;
		while (*p && !blank(*p)) {
			if (*p == '\'') {
				const char *end = strchr(p + 1, '\'');
				if (!end)
					goto unterminated;
				memcpy(word + w, p + 1, (size_t)(end - p - 1));
				w += (size_t)(end - p - 1);
				p = end + 1;
			} else if (*p == '"') {
				for (p++; *p && *p != '"'; p++) {
					if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
						p++;
					word[w++] = *p;
				}
				if (*p != '"')
					goto unterminated;
				p++;
			} else if (*p == '\\') {
				if (!p[1]) {
					snprintf(err, errlen, "trailing backslash in command '%s'", cmd);
					goto fail;
				}
				word[w++] = p[1];
				p += 2;
			} else {
				word[w++] = *p++;
			}
		}
		if (n + 2 > cap)
			v = xrealloc(v, (cap *= 2) * sizeof(*v));
		v[n++] = xstrndup(word, w);
	}
	if (n == 0) {
		snprintf(err, errlen, "empty command");
		goto fail;
	}
	free(word);
	v[n] = NULL;
	*argv = v;
	return 0;
unterminated:
	snprintf(err, errlen, "unterminated quote in command '%s'", cmd);
fail:
	v[n] = NULL;
	oc_argv_free(v);
	free(word);
	return OC_EUSAGE;
}

void oc_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}

char *oc_argv_quote(const char *s)
{
	size_t n = 2;
	for (const char *p = s; *p; p++)
		n += *p == '\'' ? 4 : 1;
	char *out = xmalloc(n + 1), *o = out;
	*o++ = '\'';
	for (const char *p = s; *p; p++) {
		if (*p == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *p;
		}
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

char *oc_exec_url(const char *exec, const char *exec_shell)
{
	if (!exec_shell)
		return xasprintf("exec:%s", exec);
	char *q = oc_argv_quote(exec_shell);
	char *url = xasprintf("exec:/bin/sh -c %s", q);
	free(q);
	return url;
}
