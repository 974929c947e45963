/* core/url.c — see url.h for the forms and why some are split by hand. */
#include "url.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "xalloc.h"

static int fail(char *err, size_t errlen, const char *url, const char *why)
{
	snprintf(err, errlen, "invalid URL '%s': %s", url, why);
	return OC_EUSAGE;
}

int oc_url_scheme(const char *s, char *out, size_t outlen, char *err, size_t errlen)
{
	if (!strcmp(s, "-")) {
		snprintf(out, outlen, "stdio");
		return 0;
	}
	size_t n = 0;
	while (isalnum((unsigned char)s[n]) || s[n] == '+' || s[n] == '-' || s[n] == '.')
		n++;
	if (n == 0 || s[n] != ':' || !isalpha((unsigned char)s[0]) || n >= outlen) {
		char *shown = oc_url_mask(s);
		snprintf(err, errlen, "'%s' is not a URL (expected scheme://... or scheme:...)",
			 shown);
		free(shown);
		return OC_EUSAGE;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[n] = '\0';
	return 0;
}

char *oc_url_mask(const char *raw)
{
	const char *auth = strstr(raw, "://");
	if (!auth)
		return xstrdup(raw);
	auth += 3;
	const char *end = auth + strcspn(auth, "/?#");
	const char *at = NULL;
	for (const char *p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (!colon)
		return xstrdup(raw);
	return xasprintf("%.*s:***%s", (int)(colon - raw), raw, at);
}

/* Percent-decode s[0..n) into a new string (for user names and passwords). */
static char *pct_decode(const char *s, size_t n)
{
	char *out = xmalloc(n + 1);
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
		    isxdigit((unsigned char)s[i + 2])) {
			char hex[3] = { s[i + 1], s[i + 2], 0 };
			out[o++] = (char)strtol(hex, NULL, 16);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}

static int parse_port(const char *s, size_t n, int *port)
{
	if (n == 0 || n > 5)
		return -1;
	long v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

/* Hand splitter for scheme://[userinfo@]hostport[/path][?query]; the path keeps '#' and '+'.
 * With hostlist, hostport may hold several comma-separated hosts and is kept whole. */
static int split_authority(const char *s, struct oc_url *u, int hostlist, char *err, size_t errlen)
{
	const char *p = strstr(s, "://");
	if (!p)
		return fail(err, errlen, u->display, "expected scheme://");
	p += 3;
	size_t alen = strcspn(p, "/?");
	const char *aend = p + alen;
	const char *at = NULL;
	for (const char *q = p; q < aend; q++)
		if (*q == '@')
			at = q;
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		u->user = pct_decode(p, (size_t)((colon ? colon : at) - p));
		if (colon)
			u->password = pct_decode(colon + 1, (size_t)(at - colon - 1));
		p = at + 1;
	}
	if (hostlist) {
		if (p == aend)
			return fail(err, errlen, u->display, "no host");
		u->host = xstrndup(p, (size_t)(aend - p));
	} else if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(aend - p));
		if (!rb)
			return fail(err, errlen, u->display, "unterminated IPv6 address");
		u->host = xstrndup(p + 1, (size_t)(rb - p - 1));
		p = rb + 1;
		if (p < aend && *p != ':')
			return fail(err, errlen, u->display, "junk after IPv6 address");
	} else {
		const char *colon = memchr(p, ':', (size_t)(aend - p));
		const char *hend = colon ? colon : aend;
		if (hend > p)
			u->host = xstrndup(p, (size_t)(hend - p));
		p = hend;
	}
	if (!hostlist && p < aend && *p == ':') {
		if (parse_port(p + 1, (size_t)(aend - p - 1), &u->port))
			return fail(err, errlen, u->display, "port must be a number from 0 to 65535");
	}
	p = aend;
	if (*p == '/') {
		size_t plen = strcspn(p, "?");
		u->path = xstrndup(p, plen);
		p += plen;
	}
	if (*p == '?')
		u->query = xstrdup(p + 1);
	return 0;
}

/* curl_url() for ordinary URLs: normalisation, IPv6 and percent-decoding of credentials. */
static int parse_with_curl(const char *s, struct oc_url *u, char *err, size_t errlen)
{
	CURLU *h = curl_url();
	if (!h)
		return fail(err, errlen, u->display, "out of memory");
	CURLUcode rc = curl_url_set(h, CURLUPART_URL, s, CURLU_NON_SUPPORT_SCHEME | CURLU_PATH_AS_IS);
	if (rc) {
		char why[128]; /* curl's messages start upper case; ours do not */
		snprintf(why, sizeof(why), "%s", curl_url_strerror(rc));
		why[0] = (char)tolower((unsigned char)why[0]);
		curl_url_cleanup(h);
		return fail(err, errlen, u->display, why);
	}
	char *v = NULL;
	if (!curl_url_get(h, CURLUPART_USER, &v, CURLU_URLDECODE)) {
		u->user = xstrdup(v);
		curl_free(v);
	}
	if (!curl_url_get(h, CURLUPART_PASSWORD, &v, CURLU_URLDECODE)) {
		u->password = xstrdup(v);
		curl_free(v);
	}
	if (!curl_url_get(h, CURLUPART_HOST, &v, 0)) {
		size_t n = strlen(v);
		if (n >= 2 && v[0] == '[' && v[n - 1] == ']')
			u->host = xstrndup(v + 1, n - 2);
		else
			u->host = xstrdup(v);
		curl_free(v);
	}
	if (!curl_url_get(h, CURLUPART_PORT, &v, 0)) {
		u->port = (int)strtol(v, NULL, 10);
		curl_free(v);
	}
	/* curl reports "/" for an empty path; keep NULL so "no path" stays visible. */
	const char *auth = strstr(s, "://") + 3;
	if (auth[strcspn(auth, "/?#")] == '/' && !curl_url_get(h, CURLUPART_PATH, &v, 0)) {
		u->path = xstrdup(v);
		curl_free(v);
	}
	if (!curl_url_get(h, CURLUPART_QUERY, &v, 0)) {
		u->query = xstrdup(v);
		curl_free(v);
	}
	curl_url_cleanup(h);
	return 0;
}

static int parse_authority(const char *s, struct oc_url *u, char *err, size_t errlen)
{
	const char *auth = strstr(s, "://");
	if (!auth)
		return fail(err, errlen, u->display, "expected scheme://host");
	auth += 3;
	/* A listener with no host ("tcp-listen://:9000", "tcp://:9000") binds loopback; curl has
	 * no notion of an empty host, so these are split by hand. */
	if (*auth == ':' || *auth == '/' || *auth == '?' || *auth == '\0')
		return split_authority(s, u, 0, err, errlen);
	return parse_with_curl(s, u, err, errlen);
}

/* scheme:PATH[?query]: the query holds the adapter's options (sqlite:/x.db?table=t), so a
 * path cannot contain '?'. */
static int parse_path(const char *s, struct oc_url *u, char *err, size_t errlen)
{
	const char *p = strchr(s, ':') + 1;
	if (!strncmp(p, "//", 2))
		p += 2; /* file:///tmp/x → /tmp/x */
	size_t n = strcspn(p, "?");
	if (n == 0)
		return fail(err, errlen, u->display, "no path");
	u->path = xstrndup(p, n);
	if (p[n] == '?')
		u->query = xstrdup(p + n + 1);
	return 0;
}

int oc_url_parse(const char *s, enum oc_urlform form, struct oc_url *u, char *err, size_t errlen)
{
	char scheme[32];
	memset(u, 0, sizeof(*u));
	u->port = -1;
	u->raw = xstrdup(s);
	u->display = oc_url_mask(s);
	int r = oc_url_scheme(s, scheme, sizeof(scheme), err, errlen);
	if (r)
		return r;
	u->scheme = xstrdup(scheme);
	/* Errors below name u->display, never s: a password must not reach stderr. */
	switch (form) {
	case OC_URL_AUTHORITY:
		return parse_authority(s, u, err, errlen);
	case OC_URL_TOPIC:
		return split_authority(s, u, 0, err, errlen);
	case OC_URL_HOSTLIST:
		return split_authority(s, u, 1, err, errlen);
	case OC_URL_PATH:
		return parse_path(s, u, err, errlen);
	case OC_URL_COMMAND: {
		const char *p = strchr(s, ':') + 1;
		while (*p == ' ')
			p++;
		if (!*p)
			return fail(err, errlen, u->display, "no command");
		u->command = xstrdup(p);
		return 0;
	}
	case OC_URL_NONE:
		if (strcmp(s, "-") && strcmp(s, "stdio:"))
			return fail(err, errlen, u->display, "stdio takes no address");
		free(u->display);
		u->display = xstrdup("stdio"); /* reads better in messages than "-" */
		return 0;
	}
	return fail(err, errlen, u->display, "unknown form");
}

void oc_url_release(struct oc_url *u)
{
	free(u->raw);
	free(u->display);
	free(u->scheme);
	free(u->user);
	if (u->password) /* do not leave the secret in freed memory */
		memset(u->password, 0, strlen(u->password));
	free(u->password);
	free(u->host);
	free(u->path);
	free(u->query);
	free(u->command);
	memset(u, 0, sizeof(*u));
}

void oc_url_hostport(const char *host, int port, char *out, size_t outlen)
{
	if (strchr(host, ':'))
		snprintf(out, outlen, "[%s]:%d", host, port);
	else
		snprintf(out, outlen, "%s:%d", host, port);
}

char *oc_url_with_path(const char *raw, const char *path)
{
	const char *auth = strstr(raw, "://");
	if (!auth)
		return NULL;
	auth += 3;
	const char *end = auth + strcspn(auth, "/?"); /* the authority ends here */
	const char *query = strchr(end, '?');
	return xasprintf("%.*s/%s%s", (int)(end - raw), raw, path + (*path == '/'),
			 query ? query : "");
}
