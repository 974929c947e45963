/* core/url.h — endpoint URLs (DESIGN §3).
 *
 * One parser, several URL forms; the scheme table (proto-adapters/registry.c) says which form
 * each scheme uses. Which forms go through libcurl's URL API and which are split by hand, and
 * why:
 *
 *   form        example                          parsed by
 *   authority   tcp://host:port/path?query       curl_url(); "scheme://:port" (a listener
 *                                                with no host, which curl rejects as "no
 *                                                host part") is split by hand first
 *   topic       mqtt://user@host/a/+/#           by hand: curl takes '#' as a fragment
 *   hostlist    kafka://b1:9092,b2/topic         by hand: curl rejects host lists
 *   path        unix:/run/x.sock, file:/var/log  by hand: curl makes "unix:/tmp/x" host "tmp"
 *   command     exec:cat -n                      by hand: the rest is a command line
 *   none        - or stdio:                      by hand: nothing to parse
 */
#ifndef OC_URL_H
#define OC_URL_H

#include <stddef.h>

enum oc_urlform {
	OC_URL_AUTHORITY, /* scheme://[user[:pass]@]host[:port][/path][?query] */
	OC_URL_TOPIC,     /* like authority, but '#' and '+' in the path are literal */
	OC_URL_HOSTLIST,  /* scheme://host[:port][,host[:port]...][/path][?query] */
	OC_URL_PATH,      /* scheme:/path, scheme:relative or scheme:///path, then [?query] */
	OC_URL_COMMAND,   /* scheme:command line */
	OC_URL_NONE,      /* - or stdio: */
};

struct oc_url {
	char *raw;      /* the string as given */
	char *display;  /* raw with any password replaced by "***", for messages */
	char *scheme;   /* lower case; "stdio" for "-" */
	char *user;     /* decoded user name or NULL */
	char *password; /* decoded password or NULL */
	char *host;     /* host without IPv6 brackets (hostlist: the whole list), NULL if none */
	int port;       /* port, or -1 when the URL has none */
	char *path;     /* path (authority: with leading '/'; path form: the file path), or NULL */
	char *query;    /* query without '?', or NULL */
	char *command;  /* command form: the command line */
};

/* Split off the scheme of s into out (lower-cased). Returns 0, or OC_EUSAGE with err set when s
 * has no scheme. "-" gives "stdio". */
int oc_url_scheme(const char *s, char *out, size_t outlen, char *err, size_t errlen);

/* Parse s (whose scheme was already recognised) in the given form into u. On error returns
 * OC_EUSAGE with a reason in err that names the URL. u must be released with oc_url_release()
 * either way. */
int oc_url_parse(const char *s, enum oc_urlform form, struct oc_url *u, char *err, size_t errlen);
void oc_url_release(struct oc_url *u);

/* A copy of raw with any password replaced by "***", for messages. */
char *oc_url_mask(const char *raw);

/* raw (authority or topic form) with its path replaced by path (a leading '/' is added when
 * missing); the query stays. A malloc'd string, or NULL when raw has no "://". */
char *oc_url_with_path(const char *raw, const char *path);

/* "host:port" with IPv6 in brackets, into out. */
void oc_url_hostport(const char *host, int port, char *out, size_t outlen);

#endif
