/* proto-adapters/http/client.c — HTTP and HTTPS requests with libcurl: http://, https://.
 *
 * Roles:
 *   client   each message written is one request; its response is emitted, in request order
 *            (--parallel N runs up to N at once and still keeps the order). Without --each the
 *            command writes one request: no body (GET) unless -d or a --data-* option gives
 *            one (POST). Printed plainly (client/sub without --jsonl or --format), the body
 *            streams to stdout as it arrives (flat memory for any size, curl pauses while
 *            stdout is full); otherwise (--jsonl, --format, relays) each response is one
 *            message: status, headers, payload, and the request's id.
 *   pub      each message is POSTed (a webhook sender); --hmac-secret-file signs it.
 *   sub      GET, then every --interval seconds; a body is emitted when it changed (--every:
 *            each time), with If-None-Match when the server gives an ETag.
 *
 * The request: the URL, with the message's path/query (jsonl) replacing the URL's; the method
 * from the message, -X, -I (HEAD), else POST with a body and GET without; headers from -H
 * then the message. The curl options (-u, -k, -L, -A, -b, -x, --compressed, --resolve...)
 * keep curl's meaning. -v prints request and response lines with Authorization and cookies
 * redacted; -f makes an answer >= 400 an error (exit 10; 401/403/407: 8) after its body was
 * printed. Library: libcurl's multi interface on the libuv loop (curl_uv.c).
 *
 * sse://, sses:// (sse+https://): the same client, receiving a Server-Sent Events stream:
 * one GET (Accept: text/event-stream), each event one message (data lines joined with "\n",
 * the event name as topic, the event id as id). The stream's end is a lost connection (13)
 * unless --reconnect: then it connects again after the server's retry: delay (else with
 * backoff) and sends Last-Event-ID. Messages written to it are dropped: it only receives. */
#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapter.h"
#include "curl_uv.h"
#include "data.h"
#include "err.h"
#include "log.h"
#include "net.h"
#include "sse.h"
#include "xalloc.h"

/* A response held in memory (jsonl/format output, or out of order) is at most this big. */
#define MAX_BUFFERED OC_FRAME_MAX_DEFAULT

struct client;

struct req {
	struct client *hc;          /* the endpoint's state */
	CURL *easy;                 /* the transfer */
	struct oc_msg *msg;         /* the request message */
	struct curl_slist *hdrs;    /* request headers */
	struct curl_slist *resolve, *connect_to; /* --resolve, --connect-to (curl keeps no copy) */
	bool accounted;             /* written by the owner: reported with oc_ep_sent/dropped */
	curl_mime *mime;            /* -F form */
	char *body;                 /* request body */
	size_t body_len;            /* its length */
	char errbuf[CURL_ERROR_SIZE]; /* curl's detail on failure */
	char *req_id;               /* the request's id, copied into its response */
	struct oc_msg *resp;        /* the response: status, headers (payload when buffered) */
	char *buf;                  /* buffered body */
	size_t blen, bcap;          /* its length and allocation */
	char *head;                 /* -i: the raw status line and headers */
	size_t hlen, hcap;          /* their length and allocation */
	long status;                /* HTTP status */
	bool started;               /* handed to curl */
	bool finished;              /* the transfer ended */
	CURLcode result;            /* how */
	bool head_out;              /* -i: the header block was emitted (streaming) */
	bool body_out;              /* part of the body was emitted (streaming): no retry */
	bool paused;                /* curl is paused on our write callback */
	int sse_err;                /* sse: why write_cb stopped the transfer (OC_E*), or 0 */
	char sse_msg[160];          /* and in words (curl overwrites errbuf after a stop) */
	unsigned tries;             /* --retry attempts made */
	bool waiting_retry;         /* between attempts: start_more leaves it until the timer */
	uv_timer_t *retry_timer;    /* the wait before the next attempt */
	struct req *next;           /* input order */
};

struct client {
	struct oc_ep *ep;           /* this endpoint */
	struct oc_curl curl;        /* multi handle on the loop */
	bool curl_open;             /* curl needs closing */
	struct req *head, *tail;    /* requests not yet emitted, in input order */
	unsigned running;           /* transfers handed to curl */
	unsigned parallel;          /* how many may run at once */
	bool stream;                /* emit bodies as they arrive */
	bool shut;                  /* no more requests will come */
	bool eof_sent;              /* EOF (client) or flushed (pub) was reported */
	bool paused;                /* the owner paused us */
	bool closing;               /* close requested */
	CURLSH *share;              /* cookies shared by every request of this endpoint */
	char *password;             /* -u's password, --password-file, OMNICAT_PASSWORD */
	char *data;                 /* --data-binary, --data-raw, --json, --data-urlencode */
	size_t data_len;            /* its length */
	bool have_data;             /* one of those was given */
	char *hmac_key;             /* --hmac-secret-file contents */
	size_t hmac_len;            /* its length */
	char *etag;                 /* sub: the last ETag */
	unsigned char last_digest[EVP_MAX_MD_SIZE]; /* sub: hash of the last body emitted */
	bool have_digest;           /* last_digest is set */
	uv_timer_t *poll;           /* sub --interval */
	struct sse_parser *sse;     /* sse: the event stream's parser, else NULL */
	struct oc_backoff backoff;  /* sse --reconnect delays when the server gave no retry: */
	bool dropped_note;          /* sse: the "receives only" notice was printed */
};

static const struct oc_adopt http_opts[] = {
	{ "data-binary", OC_ARG_STR, "DATA", "http: request body, exactly DATA (@FILE, @-)", true },
	{ "data-raw", OC_ARG_STR, "DATA", "http: request body, DATA literally (no @)", true },
	{ "data-urlencode", OC_ARG_STR, "K=V",
	  "http: URL-encoded body field (query with -G); repeatable", true },
	{ "json", OC_ARG_STR, "JSON", "http: JSON body (@FILE, @-), with JSON content type",
	  true },
	{ "compressed", OC_ARG_FLAG, NULL, "http: ask for a compressed response and decode it",
	  true },
	{ "cookie-jar", OC_ARG_STR, "FILE", "http: write cookies to FILE at the end", true },
	{ "resolve", OC_ARG_STR, "HOST:PORT:ADDR",
	  "http: use ADDR for HOST:PORT (repeatable)", true },
	{ "connect-to", OC_ARG_STR, "H1:P1:H2:P2",
	  "http: connect to H2:P2 for requests to H1:P1 (repeatable)", true },
	{ "unix-socket", OC_ARG_STR, "PATH", "http: connect through this unix socket", true },
	{ "retry", OC_ARG_COUNT, "N", "http: retry a transient failure up to N times", true },
	{ "http1.1", OC_ARG_FLAG, NULL, "http: use HTTP/1.1", true },
	{ "http2", OC_ARG_FLAG, NULL,
	  "http: use HTTP/2 (ALPN over TLS; h2c upgrade in cleartext)", true },
	{ "hmac-secret-file", OC_ARG_STR, "FILE",
	  "http: sign (pub) or verify (server) bodies with HMAC-SHA256 and the key in FILE", true },
	{ "hmac-header", OC_ARG_STR, "NAME",
	  "http: the signature header (default X-Hub-Signature-256)", true },
	{ "interval", OC_ARG_SECS, "S", "http sub: poll every S seconds", true },
	{ "every", OC_ARG_FLAG, NULL, "http sub: emit every poll's body, changed or not", true },
	{ 0 },
};

static void start_more(struct client *hc);
static void emit_ready(struct client *hc);
static void req_free(struct req *r);
static void reset_req(struct req *r);
static void retry_cb(uv_timer_t *t);

/* ---- errors ------------------------------------------------------------------------------ */

/* curl's result in our exit-code table. */
static int result_of(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return OC_ERESOLVE;
	case CURLE_COULDNT_CONNECT:
		return OC_ECONNECT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
		return OC_ETLS;
	case CURLE_OPERATION_TIMEDOUT:
		return OC_ETIMEOUT;
	case CURLE_LOGIN_DENIED:
		return OC_EAUTH;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_HTTP2:
	case CURLE_BAD_CONTENT_ENCODING:
		return OC_EPROTO;
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
		return OC_EINCOMPLETE;
	default:
		return OC_EFAIL;
	}
}

static bool transient(const struct req *r)
{
	if (r->result != CURLE_OK)
		return r->result == CURLE_COULDNT_CONNECT || r->result == CURLE_OPERATION_TIMEDOUT ||
		       r->result == CURLE_GOT_NOTHING || r->result == CURLE_RECV_ERROR;
	return r->status == 408 || r->status == 429 || (r->status >= 500 && r->status <= 504 &&
							 r->status != 501);
}

/* ---- building a request ------------------------------------------------------------------ */

/* The URL of a request: the endpoint's, with the message's path and query when it has them. */
static char *request_url(struct client *hc, const struct oc_msg *m, const char *extra_query)
{
	const struct oc_url *u = &hc->ep->spec->url;
	CURLU *h = curl_url();
	curl_url_set(h, CURLUPART_URL, u->raw, CURLU_NON_SUPPORT_SCHEME | CURLU_PATH_AS_IS);
	if (hc->sse) /* an event stream is plain HTTP underneath */
		curl_url_set(h, CURLUPART_SCHEME, strcmp(u->scheme, "sse") ? "https" : "http", 0);
	if (m->f[OC_F_PATH]) {
		curl_url_set(h, CURLUPART_PATH, m->f[OC_F_PATH], CURLU_PATH_AS_IS);
		curl_url_set(h, CURLUPART_QUERY, NULL, 0);
	}
	if (m->f[OC_F_QUERY])
		curl_url_set(h, CURLUPART_QUERY, m->f[OC_F_QUERY], 0);
	if (extra_query && *extra_query)
		curl_url_set(h, CURLUPART_QUERY, extra_query, CURLU_APPENDQUERY);
	char *s = NULL, *out;
	curl_url_get(h, CURLUPART_URL, &s, 0);
	out = xstrdup(s ? s : u->raw);
	curl_free(s);
	curl_url_cleanup(h);
	return out;
}

/* --data-urlencode "name=content", "=content", "content", "name@file", "@file". */
static void urlencode_field(CURL *easy, const char *spec, char **out, size_t *len, size_t *cap)
{
	const char *eq = strchr(spec, '='), *at = strchr(spec, '@');
	const char *name = NULL, *content = spec;
	size_t nlen = 0, clen = strlen(spec);
	char *file = NULL;
	if (eq && (!at || eq < at)) {
		name = spec;
		nlen = (size_t)(eq - spec);
		content = eq + 1;
		clen = strlen(content);
	} else if (at) {
		name = spec;
		nlen = (size_t)(at - spec);
		if (oc_read_file(at + 1, &file, &clen)) {
			*len = (size_t)-1; /* load_data reports it */
			return;
		}
		content = file;
	}
	char *enc = curl_easy_escape(easy, content, (int)clen);
	if (*len)
		xappend(out, len, cap, "&", 1);
	if (name && nlen) {
		xappend(out, len, cap, name, nlen);
		xappend(out, len, cap, "=", 1);
	}
	xappend(out, len, cap, enc, strlen(enc));
	curl_free(enc);
	free(file);
}

/* The body given by --data-binary/--data-raw/--json/--data-urlencode, read once at open. */
static int load_data(struct client *hc)
{
	struct oc_ep *ep = hc->ep;
	const char *v;
	char err[300];
	size_t cap = 0;
	if ((v = oc_ep_opt(ep, "data-binary")) || (v = oc_ep_opt(ep, "json"))) {
		int r = oc_data_load(v, &hc->data, &hc->data_len, err, sizeof(err));
		if (r) {
			oc_ep_seterr(ep, r, "%s", err);
			return r;
		}
		hc->have_data = true;
	} else if ((v = oc_ep_opt(ep, "data-raw"))) {
		hc->data_len = strlen(v);
		hc->data = xstrndup(v, hc->data_len);
		hc->have_data = true;
	}
	CURL *tmp = curl_easy_init();
	size_t i = 0;
	while ((v = oc_cfg_next(ep->cfg, "data-urlencode", &i))) {
		urlencode_field(tmp, v, &hc->data, &hc->data_len, &cap);
		if (hc->data_len == (size_t)-1) {
			curl_easy_cleanup(tmp);
			hc->data_len = 0;
			oc_ep_seterr(ep, OC_EIO, "cannot read the file of --data-urlencode '%s'", v);
			return OC_EIO;
		}
		hc->have_data = true;
	}
	curl_easy_cleanup(tmp);
	return 0;
}

static void hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* pub --hmac-secret-file: "X-Hub-Signature-256: sha256=<hex of HMAC-SHA256(body)>". */
static struct curl_slist *sign(struct client *hc, struct curl_slist *hdrs, const char *body,
			       size_t len)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	char hexmac[2 * EVP_MAX_MD_SIZE + 1], *line;
	HMAC(EVP_sha256(), hc->hmac_key, (int)hc->hmac_len, (const unsigned char *)body, len, mac,
	     &maclen);
	hex(mac, maclen, hexmac);
	const char *name = oc_ep_opt(hc->ep, "hmac-header");
	line = xasprintf("%s: sha256=%s", name ? name : "X-Hub-Signature-256", hexmac);
	hdrs = curl_slist_append(hdrs, line);
	free(line);
	return hdrs;
}

/* Headers that describe one hop, not the message: a relayed request must not carry the
 * incoming connection's framing or host to the next server (curl sets its own). */
static bool hop_header(const char *name)
{
	static const char *const hop[] = { "host", "content-length", "transfer-encoding",
					   "connection", "keep-alive", "expect", "upgrade", "te",
					   "trailer", "proxy-connection", "proxy-authorization" };
	for (size_t i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
		if (!strcasecmp(name, hop[i]))
			return true;
	return false;
}

static struct curl_slist *add_header(struct curl_slist *h, const char *name, const char *value)
{
	char *line = *value ? xasprintf("%s: %s", name, value) : xasprintf("%s;", name);
	h = curl_slist_append(h, line);
	free(line);
	return h;
}

static void add_form(struct req *r, const struct oc_cfg *cfg)
{
	size_t i = 0;
	const char *v;
	while ((v = oc_cfg_next(cfg, "form", &i))) {
		if (!r->mime)
			r->mime = curl_mime_init(r->easy);
		curl_mimepart *part = curl_mime_addpart(r->mime);
		const char *eq = strchr(v, '=');
		char *name = xstrndup(v, eq ? (size_t)(eq - v) : strlen(v));
		curl_mime_name(part, name);
		free(name);
		if (!eq)
			continue;
		if (eq[1] == '@')
			curl_mime_filedata(part, eq + 2);
		else if (eq[1] == '<') {
			char *buf;
			size_t len;
			if (oc_read_file(eq + 2, &buf, &len) == 0) {
				curl_mime_data(part, buf, len);
				free(buf);
			}
		} else {
			curl_mime_data(part, eq + 1, CURL_ZERO_TERMINATED);
		}
	}
	if (r->mime)
		curl_easy_setopt(r->easy, CURLOPT_MIMEPOST, r->mime);
}

/* ---- curl callbacks ---------------------------------------------------------------------- */

/* -v and --trace: request/response lines on stderr, secrets redacted. */
static int debug_cb(CURL *easy, curl_infotype type, char *data, size_t size, void *userp)
{
	static const char *const secret[] = { "authorization:", "proxy-authorization:", "cookie:",
					      "set-cookie:" };
	struct req *r = userp;
	if (type == CURLINFO_HEADER_OUT || type == CURLINFO_HEADER_IN || type == CURLINFO_TEXT) {
		if (!oc_log.verbose && (!oc_log.trace || type == CURLINFO_TEXT))
			return 0;
		const char *mark = type == CURLINFO_HEADER_OUT ? "> " : type == CURLINFO_HEADER_IN ? "< " : "* ";
		for (const char *p = data, *end = data + size; p < end;) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
			size_t shown = n && p[n - 1] == '\r' ? n - 1 : n;
			bool hide = false;
			for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
				hide |= shown > strlen(secret[i]) &&
					!strncasecmp(p, secret[i], strlen(secret[i]));
			if (shown && hide)
				fprintf(stderr, "omnicat: %s%.*s [redacted]\n", mark,
					(int)(strchr(p, ':') - p + 1), p);
			else if (shown)
				fprintf(stderr, "omnicat: %s%.*s\n", mark, (int)shown, p);
			p += n + 1;
		}
	} else if (oc_log.trace && (type == CURLINFO_DATA_OUT || type == CURLINFO_DATA_IN)) {
		oc_trace_bytes(r->hc->ep->name, type == CURLINFO_DATA_OUT ? "sent" : "received", data,
			       size);
	}
	return 0;
}

/* A header line of the response. A status line starts a new response (redirects, 100). */
static size_t header_cb(char *p, size_t size, size_t n, void *userp)
{
	struct req *r = userp;
	size_t len = size * n;
	if (len >= 5 && !strncmp(p, "HTTP/", 5)) {
		oc_msg_unref(r->resp);
		r->resp = oc_msg_new();
		r->hlen = 0;
		const char *sp = memchr(p, ' ', len);
		r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		oc_msg_set_status(r->resp, (int)r->status);
	} else if (r->resp) {
		const char *colon = memchr(p, ':', len);
		size_t vlen = len;
		while (vlen && (p[vlen - 1] == '\r' || p[vlen - 1] == '\n'))
			vlen--;
		if (colon && colon < p + vlen) {
			const char *v = colon + 1;
			while (v < p + vlen && (*v == ' ' || *v == '\t'))
				v++;
			oc_msg_add_header(r->resp, p, (size_t)(colon - p), v, (size_t)(p + vlen - v));
			if ((size_t)(colon - p) == 12 && !strncasecmp(p, "content-type", 12))
				oc_msg_set(r->resp, OC_F_CONTENT_TYPE, v, (size_t)(p + vlen - v));
		}
	}
	if (r->hc->ep->cfg->include || r->hc->ep->cfg->head)
		xappend(&r->head, &r->hlen, &r->hcap, p, len);
	return len;
}

/* A piece of bytes out to the owner, written as is by stream sinks. */
static void emit_bytes(struct client *hc, const char *p, size_t n)
{
	struct oc_msg *m = oc_msg_new();
	oc_msg_set_payload_copy(m, p, n);
	m->flags |= OC_MSG_BYTES;
	oc_ep_emit(hc->ep, m);
}

/* --retry may still send this request again: keep its body instead of streaming it. */
static bool may_retry(const struct req *r)
{
	const char *retry = oc_ep_opt(r->hc->ep, "retry");
	return retry && r->tries < (unsigned)strtol(retry, NULL, 10) && transient(r);
}

/* ---- sse: an event stream -------------------------------------------------------------- */

static int sse_event(void *ud, const char *data, size_t len, const char *event, const char *id)
{
	struct client *hc = ud;
	struct oc_msg *m = oc_msg_new();
	oc_msg_set_payload_copy(m, data, len);
	if (event)
		oc_msg_set_str(m, OC_F_TOPIC, event);
	if (id)
		oc_msg_set_str(m, OC_F_ID, id);
	oc_backoff_reset(&hc->backoff); /* the stream works: a later drop starts from short */
	oc_ep_emit(hc->ep, m);
	return 0;
}

/* Body bytes of the stream: events out, while the owner takes them. */
static size_t sse_write(struct req *r, const char *p, size_t len)
{
	struct client *hc = r->hc;
	if (r->status != 200)
		return len; /* an error page: sse_ended reports the status */
	const char *ct = r->resp ? r->resp->f[OC_F_CONTENT_TYPE] : NULL;
	if (!ct || strncasecmp(ct, "text/event-stream", 17)) {
		snprintf(r->sse_msg, sizeof(r->sse_msg), "not an event stream (Content-Type: %s)",
			 ct ? ct : "none");
		r->sse_err = OC_EPROTO;
		return 0;
	}
	if (hc->paused) {
		r->paused = true;
		return CURL_WRITEFUNC_PAUSE; /* curl hands the same bytes again on resume */
	}
	if (sse_parse(hc->sse, p, len, sse_event, hc) < 0) {
		snprintf(r->sse_msg, sizeof(r->sse_msg), "an event larger than --max-size (%zu bytes)",
			 hc->sse->max);
		r->sse_err = OC_EPROTO;
		return 0;
	}
	return len;
}

/* Why the stream ended, as an OC_E* and a line in why; 0 for a clean end (204: the server
 * asks clients to stop). */
static int sse_why(struct client *hc, struct req *r, char *why, size_t cap)
{
	const char *name = hc->ep->name;
	int err;
	if (r->sse_err) {
		snprintf(why, cap, "'%s': %s", name, r->sse_msg);
		err = r->sse_err;
	} else if (r->result != CURLE_OK) {
		snprintf(why, cap, "request to '%s' failed: %s", name,
			 r->errbuf[0] ? r->errbuf : curl_easy_strerror(r->result));
		err = result_of(r->result);
	} else if (r->status == 204) {
		return 0;
	} else if (r->status != 200) {
		snprintf(why, cap, "'%s' answered %ld", name, r->status);
		err = r->status == 401 || r->status == 403 || r->status == 407 ? OC_EAUTH : OC_EPEER;
	} else {
		snprintf(why, cap, "the event stream from '%s' ended", name);
		err = OC_EINCOMPLETE;
	}
	return err;
}

/* The transfer is over. With --reconnect a drop (not a refusal: 4xx, a wrong content type)
 * connects again after retry: (or backoff), resuming with Last-Event-ID. */
static void sse_ended(struct client *hc, struct req *r)
{
	struct oc_ep *ep = hc->ep;
	char why[CURL_ERROR_SIZE + 400];
	int err = sse_why(hc, r, why, sizeof(why));
	bool again = err == OC_EINCOMPLETE || err == OC_ECONNECT || err == OC_ETIMEOUT ||
		     (err == OC_EPEER && r->status >= 500);
	if (err && again && ep->cfg->reconnect && !hc->closing) {
		uint64_t ms = hc->sse->retry_ms >= 0 ? (uint64_t)hc->sse->retry_ms
						      : oc_backoff_next(&hc->backoff);
		oc_verbose("%s; reconnecting in %llu ms%s%s", why, (unsigned long long)ms,
			   hc->sse->id ? " with Last-Event-ID " : "", hc->sse->id ? hc->sse->id : "");
		sse_parser_restart(hc->sse);
		reset_req(r);
		r->sse_err = 0;
		r->status = 0;
		r->retry_timer = xmalloc(sizeof(*r->retry_timer));
		uv_timer_init(uv_default_loop(), r->retry_timer);
		r->retry_timer->data = r;
		uv_timer_start(r->retry_timer, retry_cb, ms, 0);
		return;
	}
	hc->head = hc->tail = NULL; /* the stream is the only request */
	if (err)
		oc_ep_fail(ep, err, "%s", why);
	else
		oc_ep_eof(ep);
	req_free(r);
}

static size_t write_cb(char *p, size_t size, size_t n, void *userp)
{
	struct req *r = userp;
	struct client *hc = r->hc;
	size_t len = size * n;
	if (hc->sse)
		return sse_write(r, p, len);
	if (hc->stream && r == hc->head && hc->ep->role == OC_ROLE_CLIENT && !may_retry(r)) {
		if (hc->paused) {
			r->paused = true;
			return CURL_WRITEFUNC_PAUSE; /* curl hands the same bytes again on resume */
		}
		if (!r->head_out && r->hlen) {
			emit_bytes(hc, r->head, r->hlen);
			r->head_out = true;
		}
		emit_bytes(hc, p, len);
		r->body_out = true;
		return len;
	}
	if (r->blen + len > MAX_BUFFERED) {
		snprintf(r->errbuf, sizeof(r->errbuf), "response larger than %u bytes",
			 (unsigned)MAX_BUFFERED);
		return 0; /* curl ends the transfer with CURLE_WRITE_ERROR */
	}
	xappend(&r->buf, &r->blen, &r->bcap, p, len);
	return len;
}

/* ---- transfers --------------------------------------------------------------------------- */

static const char *method_of(struct client *hc, const struct oc_msg *m, bool has_body)
{
	const struct oc_cfg *cfg = hc->ep->cfg;
	if (m->f[OC_F_METHOD])
		return m->f[OC_F_METHOD];
	if (cfg->method)
		return cfg->method;
	if (cfg->head)
		return "HEAD";
	return has_body && !cfg->get ? "POST" : "GET";
}

static void setup_tls_and_net(struct client *hc, CURL *e)
{
	const struct oc_cfg *cfg = hc->ep->cfg;
	const char *v;
	if (cfg->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (cfg->cacert)
		curl_easy_setopt(e, CURLOPT_CAINFO, cfg->cacert);
	if (cfg->cert)
		curl_easy_setopt(e, CURLOPT_SSLCERT, cfg->cert);
	if (cfg->key)
		curl_easy_setopt(e, CURLOPT_SSLKEY, cfg->key);
	if (cfg->ipv4 || cfg->ipv6)
		curl_easy_setopt(e, CURLOPT_IPRESOLVE,
				 cfg->ipv4 ? CURL_IPRESOLVE_V4 : CURL_IPRESOLVE_V6);
	if (cfg->connect_timeout > 0)
		curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(cfg->connect_timeout * 1000));
	if (cfg->proxy)
		curl_easy_setopt(e, CURLOPT_PROXY, cfg->proxy);
	if ((v = oc_ep_opt(hc->ep, "unix-socket")))
		curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, v);
	if (oc_ep_opt_flag(hc->ep, "http1.1"))
		curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	if (oc_ep_opt_flag(hc->ep, "http2"))
		curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2_0);
}

static struct curl_slist *list_opt(struct client *hc, const char *key)
{
	struct curl_slist *l = NULL;
	size_t i = 0;
	const char *v;
	while ((v = oc_cfg_next(hc->ep->cfg, key, &i)))
		l = curl_slist_append(l, v);
	return l;
}

static void setup_request(struct client *hc, struct req *r)
{
	const struct oc_cfg *cfg = hc->ep->cfg;
	const struct oc_msg *m = r->msg;
	CURL *e = r->easy;
	/* The body: the one --data-* gave for the command line's single request (none without
	 * them: a GET), or the message's: a POST unless it is empty (a jsonl line without a
	 * payload, a poll) and no -d asked for an empty body. */
	const char *body = m->data;
	size_t blen = m->len;
	bool has_body;
	if (cfg->one_request) {
		has_body = hc->have_data;
		body = hc->data;
		blen = hc->data_len;
	} else {
		has_body = hc->ep->role != OC_ROLE_SUB && !hc->sse && (blen > 0 || cfg->data);
	}
	if (!blen && (cfg->head || (m->f[OC_F_METHOD] && (!strcmp(m->f[OC_F_METHOD], "GET") ||
							   !strcmp(m->f[OC_F_METHOD], "HEAD")))))
		has_body = false;
	char *query = NULL;
	if (cfg->get && has_body) {
		query = xstrndup(body ? body : "", blen);
		has_body = false;
	}
	char *url = request_url(hc, m, query);
	free(query);
	curl_easy_setopt(e, CURLOPT_URL, url);
	free(url);
	const char *method = method_of(hc, m, has_body);
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET") || has_body)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	size_t fi = 0;
	if (has_body && !oc_cfg_next(cfg, "form", &fi)) {
		r->body = xmalloc(blen ? blen : 1);
		if (blen)
			memcpy(r->body, body, blen);
		r->body_len = blen;
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
	}
	add_form(r, cfg);
	if (oc_ep_opt(hc->ep, "json")) {
		r->hdrs = curl_slist_append(r->hdrs, "Content-Type: application/json");
		r->hdrs = curl_slist_append(r->hdrs, "Accept: application/json");
	}
	size_t i = 0;
	const char *h;
	while ((h = oc_cfg_next(cfg, "header", &i)))
		r->hdrs = curl_slist_append(r->hdrs, h);
	bool typed = false;
	for (unsigned k = 0; k < m->nhdrs; k++) {
		if (hop_header(m->hdrs[k].name))
			continue;
		typed |= !strcasecmp(m->hdrs[k].name, "content-type");
		r->hdrs = add_header(r->hdrs, m->hdrs[k].name, m->hdrs[k].value);
	}
	if (m->f[OC_F_CONTENT_TYPE] && !typed)
		r->hdrs = add_header(r->hdrs, "Content-Type", m->f[OC_F_CONTENT_TYPE]);
	if (hc->hmac_key && r->body)
		r->hdrs = sign(hc, r->hdrs, r->body, r->body_len);
	if (hc->sse) {
		r->hdrs = add_header(r->hdrs, "Accept", "text/event-stream");
		r->hdrs = add_header(r->hdrs, "Cache-Control", "no-cache");
		if (hc->sse->id) /* resuming: the server may replay what we missed */
			r->hdrs = add_header(r->hdrs, "Last-Event-ID", hc->sse->id);
	}
	/* Conditional polls save transfers, except with --every, which wants each body. */
	if (hc->etag && hc->ep->role == OC_ROLE_SUB && !oc_ep_opt_flag(hc->ep, "every"))
		r->hdrs = add_header(r->hdrs, "If-None-Match", hc->etag);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hdrs);
	if (cfg->user) {
		curl_easy_setopt(e, CURLOPT_USERPWD, cfg->user);
		if (hc->password)
			curl_easy_setopt(e, CURLOPT_PASSWORD, hc->password);
	}
	if (cfg->user_agent)
		curl_easy_setopt(e, CURLOPT_USERAGENT, cfg->user_agent);
	else
		curl_easy_setopt(e, CURLOPT_USERAGENT, "omnicat/" OC_VERSION);
	/* One cookie engine for all of this endpoint's requests: a cookie one answer sets is
	 * sent with the next (as within one curl run), and --cookie-jar saves them all. */
	curl_easy_setopt(e, CURLOPT_SHARE, hc->share);
	curl_easy_setopt(e, CURLOPT_COOKIEFILE, "");
	if (cfg->cookie)
		curl_easy_setopt(e, strchr(cfg->cookie, '=') ? CURLOPT_COOKIE : CURLOPT_COOKIEFILE,
				 cfg->cookie);
	const char *v;
	if ((v = oc_ep_opt(hc->ep, "cookie-jar")))
		curl_easy_setopt(e, CURLOPT_COOKIEJAR, v);
	if (cfg->location) {
		curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(e, CURLOPT_MAXREDIRS, 50L); /* curl's tool limit; libcurl has none */
	}
	if (oc_ep_opt_flag(hc->ep, "compressed"))
		curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	setup_tls_and_net(hc, e);
}

static void req_free(struct req *r)
{
	if (r->retry_timer)
		oc_uv_close_free(r->retry_timer);
	if (r->easy) {
		if (r->started && !r->finished)
			oc_curl_remove(&r->hc->curl, r->easy);
		curl_easy_cleanup(r->easy);
	}
	if (r->accounted && r->msg) /* never answered */
		oc_ep_dropped(r->hc->ep, oc_msg_ref(r->msg));
	curl_slist_free_all(r->hdrs);
	curl_slist_free_all(r->resolve);
	curl_slist_free_all(r->connect_to);
	curl_mime_free(r->mime);
	oc_msg_unref(r->msg);
	oc_msg_unref(r->resp);
	free(r->req_id);
	free(r->body);
	free(r->buf);
	free(r->head);
	free(r);
}

static int start(struct client *hc, struct req *r)
{
	CURL *e = r->easy = curl_easy_init();
	setup_request(hc, r);
	r->resolve = list_opt(hc, "resolve");
	r->connect_to = list_opt(hc, "connect-to");
	curl_easy_setopt(e, CURLOPT_RESOLVE, r->resolve);
	curl_easy_setopt(e, CURLOPT_CONNECT_TO, r->connect_to);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	if (oc_log.verbose || oc_log.trace) {
		curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
		curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, debug_cb);
		curl_easy_setopt(e, CURLOPT_DEBUGDATA, r);
	}
	r->started = true;
	hc->running++;
	return oc_curl_add(&hc->curl, e);
}

static void start_more(struct client *hc)
{
	for (struct req *r = hc->head; r && hc->running < hc->parallel; r = r->next)
		if (!r->started && !r->retry_timer)
			start(hc, r);
}

/* Report the end of input once everything was answered (client: EOF; pub: flushed). */
static void maybe_end(struct client *hc)
{
	if (!hc->shut || hc->head || hc->eof_sent || hc->closing)
		return;
	if (hc->ep->role == OC_ROLE_SUB && oc_ep_opt(hc->ep, "interval"))
		return;
	hc->eof_sent = true;
	if (hc->ep->role == OC_ROLE_PUB)
		oc_ep_flushed(hc->ep);
	else
		oc_ep_eof(hc->ep);
}

/* Whether sub should emit this body: changed since the last one, or --every. */
static bool body_changed(struct client *hc, const struct req *r)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	if (r->status == 304)
		return false;
	EVP_Digest(r->buf ? r->buf : "", r->blen, d, &dlen, EVP_sha256(), NULL);
	bool changed = !hc->have_digest || memcmp(d, hc->last_digest, dlen) != 0;
	memcpy(hc->last_digest, d, dlen);
	hc->have_digest = true;
	return changed || oc_ep_opt_flag(hc->ep, "every");
}

/* Emit the finished response r (the head of the line). Returns false on failure. */
static bool emit_response(struct client *hc, struct req *r)
{
	struct oc_ep *ep = hc->ep;
	if (r->result != CURLE_OK) {
		oc_ep_fail(ep, result_of(r->result), "request to '%s' failed: %s", ep->name,
			   r->errbuf[0] ? r->errbuf : curl_easy_strerror(r->result));
		return false;
	}
	if (r->accounted) { /* answered: the request message was delivered */
		oc_ep_sent(ep, r->msg);
		r->msg = NULL;
		r->accounted = false;
	}
	const char *etag = r->resp ? oc_msg_header(r->resp, "ETag") : NULL;
	if (ep->role == OC_ROLE_SUB && etag) {
		free(hc->etag);
		hc->etag = xstrdup(etag);
	}
	bool show = ep->role == OC_ROLE_CLIENT || (ep->role == OC_ROLE_SUB && body_changed(hc, r));
	/* Plain output is the bytes themselves (-i: the header block first), as curl prints
	 * them; --jsonl and --format get one message with the metadata. */
	bool plain = ep->cfg->body_bytes;
	if (show && plain) {
		if (!r->head_out && r->hlen)
			emit_bytes(hc, r->head, r->hlen);
		r->head_out = true;
		if (r->blen) /* streamed already, or buffered while it waited its turn */
			emit_bytes(hc, r->buf, r->blen);
	} else if (show) {
		struct oc_msg *m = r->resp ? oc_msg_ref(r->resp) : oc_msg_new();
		oc_msg_take_payload(m, r->buf ? r->buf : xstrdup(""), r->blen);
		r->buf = NULL;
		if (r->req_id)
			oc_msg_set_str(m, OC_F_ID, r->req_id);
		oc_ep_emit(ep, m);
	}
	if (ep->cfg->fail && r->status >= 400) {
		bool auth = r->status == 401 || r->status == 403 || r->status == 407;
		oc_ep_fail(ep, auth ? OC_EAUTH : OC_EPEER, "'%s' answered %ld", ep->name, r->status);
		return false;
	}
	return true;
}

/* Emit finished responses from the head of the line, in input order. */
static void emit_ready(struct client *hc)
{
	while (hc->head && hc->head->finished && !hc->closing) {
		struct req *r = hc->head;
		hc->head = r->next;
		if (!hc->head)
			hc->tail = NULL;
		bool ok = emit_response(hc, r);
		req_free(r);
		if (!ok)
			return;
	}
	start_more(hc);
	maybe_end(hc);
}

/* Start the request again from scratch: a new easy handle, the same request message. */
static void reset_req(struct req *r)
{
	curl_easy_cleanup(r->easy);
	r->easy = NULL;
	curl_slist_free_all(r->hdrs);
	r->hdrs = NULL;
	curl_slist_free_all(r->resolve);
	curl_slist_free_all(r->connect_to);
	r->resolve = r->connect_to = NULL;
	curl_mime_free(r->mime);
	r->mime = NULL;
	free(r->body);
	r->body = NULL;
	r->blen = r->hlen = 0;
	oc_msg_unref(r->resp);
	r->resp = NULL;
	r->started = false;
	r->errbuf[0] = '\0';
}

static void retry_cb(uv_timer_t *t)
{
	struct req *r = t->data;
	oc_uv_close_free(t);
	r->retry_timer = NULL;
	start_more(r->hc);
}

/* --retry: wait (Retry-After when the server gave one, else doubling from 1 s, as curl),
 * then send it again. The request keeps its place in the answer order. */
static void retry_later(struct client *hc, struct req *r)
{
	const char *after = r->resp ? oc_msg_header(r->resp, "Retry-After") : NULL;
	long secs = after ? strtol(after, NULL, 10) : 0;
	uint64_t ms = secs > 0 && secs <= 600 ? (uint64_t)secs * 1000 : 1000ull << (r->tries - 1);
	oc_verbose("'%s': transient failure; retry %u of %s in %llu ms", hc->ep->name, r->tries,
		   oc_ep_opt(hc->ep, "retry"), (unsigned long long)ms);
	reset_req(r);
	r->waiting_retry = true;
	r->retry_timer = xmalloc(sizeof(*r->retry_timer));
	uv_timer_init(uv_default_loop(), r->retry_timer);
	r->retry_timer->data = r;
	uv_timer_start(r->retry_timer, retry_cb, ms, 0);
}

static void transfer_done(struct oc_curl *c, CURL *easy, CURLcode result)
{
	struct req *r;
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
	struct client *hc = r->hc;
	hc->running--;
	r->result = result;
	if (hc->sse) {
		sse_ended(hc, r);
		return;
	}
	if (may_retry(r) && !r->head_out && !r->body_out) {
		r->tries++;
		retry_later(hc, r);
		start_more(hc);
		return;
	}
	r->finished = true;
	emit_ready(hc);
}

/* ---- sub: polling ------------------------------------------------------------------------ */

static void enqueue(struct client *hc, struct oc_msg *m, bool accounted)
{
	struct req *r = xcalloc(1, sizeof(*r));
	r->hc = hc;
	r->msg = m;
	r->accounted = accounted;
	if (m->f[OC_F_ID])
		r->req_id = xstrdup(m->f[OC_F_ID]);
	if (hc->tail)
		hc->tail->next = r;
	else
		hc->head = r;
	hc->tail = r;
	start_more(hc);
}

static void poll_cb(uv_timer_t *t)
{
	struct client *hc = t->data;
	if (!hc->head && !hc->paused)
		enqueue(hc, oc_msg_new(), false);
}

/* ---- the adapter ------------------------------------------------------------------------- */

static int http_check(struct oc_ep *ep)
{
	const struct oc_url *u = &ep->spec->url;
	if (!u->host || !*u->host) {
		oc_ep_seterr(ep, OC_EUSAGE, "'%s' needs a host", ep->name);
		return OC_EUSAGE;
	}
	/* The --data-* options make the body of the one request the command line sends; a body
	 * from -d, stdin (--each, pub) or another --data-* option would be a second body. */
	static const char *const bodies[] = { "data-binary", "data-raw", "json" };
	int given = 0;
	const char *which = NULL;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		if (oc_ep_opt(ep, bodies[i]))
			given++, which = bodies[i];
	size_t k = 0;
	if (oc_cfg_next(ep->cfg, "data-urlencode", &k) && !which)
		which = "data-urlencode";
	if (given > 1 || (which && (ep->cfg->data || ep->cfg->each || ep->role != OC_ROLE_CLIENT))) {
		oc_ep_seterr(ep, OC_EUSAGE,
			     "--%s gives the body of a single request: not with -d, --each, pub, sub "
			     "or another --data option",
			     which);
		return OC_EUSAGE;
	}
	return 0;
}

static int http_open(struct oc_ep *ep)
{
	struct client *hc = ep->priv;
	hc->ep = ep;
	char err[400];
	int r = oc_cfg_password(ep->cfg, ep->cfg->user, &hc->password, err, sizeof(err));
	if (r)
		oc_ep_seterr(ep, r, "%s", err);
	else
		r = load_data(hc);
	const char *keyfile = oc_ep_opt(ep, "hmac-secret-file");
	if (!r && keyfile) {
		int e = oc_read_file(keyfile, &hc->hmac_key, &hc->hmac_len);
		if (e) {
			oc_ep_seterr(ep, OC_EIO, "cannot read '%s': %s", keyfile, strerror(-e));
			r = OC_EIO;
		} else {
			/* A key file usually ends with a newline that is not part of the key. */
			while (hc->hmac_len && (hc->hmac_key[hc->hmac_len - 1] == '\n' ||
						hc->hmac_key[hc->hmac_len - 1] == '\r'))
				hc->hmac_len--;
		}
	}
	if (r) {
		free(hc->password);
		free(hc->data);
		free(hc->hmac_key);
		return r;
	}
	hc->parallel = ep->cfg->parallel > 0 ? (unsigned)ep->cfg->parallel : 1;
	if (!strncmp(ep->spec->url.scheme, "sse", 3)) {
		const char *max = oc_ep_opt(ep, "max-size");
		hc->sse = xmalloc(sizeof(*hc->sse));
		sse_parser_init(hc->sse, max ? (size_t)strtoull(max, NULL, 10) : MAX_BUFFERED);
	}
	hc->stream = ep->cfg->body_bytes && hc->parallel == 1 && ep->role == OC_ROLE_CLIENT &&
		     !hc->sse;
	hc->paused = true; /* endpoints start paused */
	oc_curl_init(&hc->curl, transfer_done, hc);
	hc->curl_open = true;
	hc->share = curl_share_init();
	curl_share_setopt(hc->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE);
	if (ep->role == OC_ROLE_SUB || hc->sse) {
		hc->shut = true; /* nothing is written to a poller or an event stream */
		enqueue(hc, oc_msg_new(), false);
		const char *iv = oc_ep_opt(ep, "interval");
		double secs;
		if (iv && oc_parse_secs(iv, &secs) == 0) {
			hc->poll = xmalloc(sizeof(*hc->poll));
			uv_timer_init(uv_default_loop(), hc->poll);
			hc->poll->data = hc;
			uint64_t ms = (uint64_t)(secs * 1000);
			uv_timer_start(hc->poll, poll_cb, ms, ms);
		}
	}
	oc_ep_ready(ep);
	return 0;
}

static void http_write(struct oc_ep *ep, struct oc_msg *m)
{
	struct client *hc = ep->priv;
	if (hc->sse) {
		if (!hc->dropped_note)
			oc_notice("'%s' only receives: what is written to it is dropped", ep->name);
		hc->dropped_note = true;
		oc_ep_dropped(ep, m);
		return;
	}
	/* The request stays counted in the endpoint's queue until it is answered. */
	enqueue(ep->priv, m, true);
}

/* The owner is full: stop emitting. Streaming bodies pause curl from write_cb. */
static void http_pause(struct oc_ep *ep)
{
	((struct client *)ep->priv)->paused = true;
}

static void http_resume(struct oc_ep *ep)
{
	struct client *hc = ep->priv;
	hc->paused = false;
	if (hc->head && hc->head->paused && hc->head->easy) {
		hc->head->paused = false;
		curl_easy_pause(hc->head->easy, CURLPAUSE_CONT);
		oc_curl_kick(&hc->curl);
	}
}

static void http_shutdown(struct oc_ep *ep)
{
	struct client *hc = ep->priv;
	hc->shut = true;
	maybe_end(hc);
}

static bool http_full(struct oc_ep *ep)
{
	/* Requests waiting their turn count as queued: at most a few batches ahead. */
	struct client *hc = ep->priv;
	unsigned n = 0;
	for (struct req *r = hc->head; r && n < 64 + hc->parallel; r = r->next)
		n++;
	return n >= 64 + hc->parallel;
}

static void curl_closed(struct oc_curl *c)
{
	struct client *hc = c->data;
	curl_share_cleanup(hc->share);
	oc_ep_closed(hc->ep);
}

static void http_close(struct oc_ep *ep)
{
	struct client *hc = ep->priv;
	hc->closing = true;
	while (hc->head) {
		struct req *r = hc->head;
		hc->head = r->next;
		req_free(r);
	}
	if (hc->poll) {
		oc_uv_close_free(hc->poll);
		hc->poll = NULL;
	}
	free(hc->password);
	free(hc->data);
	free(hc->hmac_key);
	free(hc->etag);
	if (hc->sse) {
		sse_parser_free(hc->sse);
		free(hc->sse);
		hc->sse = NULL;
	}
	if (hc->curl_open)
		oc_curl_close(&hc->curl, curl_closed);
	else
		oc_ep_closed(ep);
}

static void http_version(char *buf, size_t len)
{
	snprintf(buf, len, "libcurl %s", curl_version_info(CURLVERSION_NOW)->version);
}

/* Typed as "METHOD /path" in the REPL; any other method still goes with -X or --jsonl. */
static const char *const http_methods[] = { "GET",     "HEAD",  "POST",  "PUT", "DELETE",
					    "OPTIONS", "PATCH", "TRACE", NULL };

const struct oc_adapter oc_adapter_http = {
	.name = "http",
	.flags = OC_AF_CLIENT | OC_AF_PUB | OC_AF_SUB | OC_AF_REQUEST | OC_AF_HEADERS | OC_AF_TLS |
		 OC_AF_AUTH,
	.opts = http_opts,
	.priv_size = sizeof(struct client),
	.methods = http_methods,
	.check = http_check,
	.open = http_open,
	.write = http_write,
	.pause = http_pause,
	.resume = http_resume,
	.shutdown = http_shutdown,
	.close = http_close,
	.full = http_full,
	.version = http_version,
};

static const struct oc_adopt sse_opts[] = {
	{ "max-size", OC_ARG_COUNT, "BYTES", "largest message (request body) accepted", true },
	{ 0 },
};

/* The same client receiving an event stream (sse://, sses://, sse+https://). */
const struct oc_adapter oc_adapter_sse = {
	.name = "sse",
	.flags = OC_AF_CLIENT | OC_AF_SUB | OC_AF_HEADERS | OC_AF_TLS | OC_AF_AUTH,
	.opts = sse_opts,
	.priv_size = sizeof(struct client),
	.check = http_check,
	.open = http_open,
	.write = http_write,
	.pause = http_pause,
	.resume = http_resume,
	.shutdown = http_shutdown,
	.close = http_close,
	.full = http_full,
};
