/* core/tls.c — TLS over any byte transport: OpenSSL with two memory BIOs per session.
 *
 * Why memory BIOs: OpenSSL can own a socket (SSL_set_fd) and do blocking or non-blocking
 * reads and writes on it, but then OpenSSL, not libuv, decides when the descriptor is read
 * and written, and the engine only works on sockets. With a memory BIO on each side, OpenSSL
 * only ever reads ciphertext we put in (t->in) and writes ciphertext we take out (t->out); it
 * never blocks and never sees a descriptor. The caller's transport moves the bytes. Both BIOs
 * grow as needed, so a write never fails for lack of room: backpressure is the caller's job
 * (oc_tls_pending(), oc_tls_buffered()).
 *
 * What that means for the usual OpenSSL return codes:
 *  - SSL_ERROR_WANT_READ (handshake, read, even write) is not an error: OpenSSL consumed all
 *    the input we gave it and needs more from the peer. It may well have produced output
 *    first (the ClientHello, a server flight, an alert), which is why callers must drain
 *    oc_tls_take() after every call.
 *  - SSL_ERROR_WANT_WRITE cannot happen: the output BIO is unbounded.
 *  - SSL_ERROR_SYSCALL cannot happen for "EOF" either: the input BIO says "retry" when empty
 *    (BIO_set_mem_eof_return(-1)); the end of the transport is the caller's to judge.
 *
 * The OpenSSL error queue is per thread and global to the process, so it is cleared before
 * every SSL call whose error we may report, and drained after reporting, so other code's
 * leftovers never show up in our messages and ours never in theirs. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "tls.h"
#include "xalloc.h"

#define PLAIN_CHUNK 16384 /* one TLS record of plaintext at most */

struct oc_tls_ctx {
	SSL_CTX *ssl;        /* OpenSSL context: certificates, trust store, verify mode */
	bool server;         /* sessions accept rather than connect */
	unsigned char *alpn; /* ALPN list in wire format (length-prefixed names), or NULL */
	size_t alpn_len;     /* bytes in alpn */
	unsigned refs;       /* the creator's reference plus one per live session */
};

struct oc_tls {
	struct oc_tls_ctx *ctx; /* shared context (one reference held) */
	SSL *ssl;               /* the session; owns in and out */
	BIO *in;                /* memory BIO: ciphertext from the peer, read by OpenSSL */
	BIO *out;               /* memory BIO: ciphertext for the peer, written by OpenSSL */
	char *wbuf;             /* plaintext written before the handshake completed */
	size_t wlen;            /* bytes in wbuf */
	size_t woff;            /* bytes of wbuf already given to SSL_write */
	size_t wcap;            /* bytes allocated for wbuf */
	bool ready;             /* handshake complete */
	bool failed;            /* fatal error: err says why, every call fails now */
	bool close_wanted;      /* oc_tls_close() called: no more writes */
	bool close_sent;        /* close_notify handed to OpenSSL */
	bool peer_closed;       /* close_notify received */
	char alpn[256];         /* negotiated ALPN protocol, "" when none */
	char err[256];          /* last failure, one line */
};

/* ---------------------------------------------------------------------------------------- */
/* Error text */

/* An OpenSSL or libc reason as the middle of one of our lines: newlines and tabs become
 * spaces, and a leading capital is lowered unless it starts an acronym ("No such file" →
 * "no such file", but "IP address mismatch" stays). */
static const char *tidy(const char *s, char *buf, size_t n)
{
	snprintf(buf, n, "%s", s ? s : "unknown error");
	for (char *p = buf; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	if (isupper((unsigned char)buf[0]) && !isupper((unsigned char)buf[1]))
		buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

/* The reason of the oldest queued OpenSSL error (the root cause: later entries are the
 * callers that passed it up), then the queue is emptied. */
static const char *queued_reason(char *buf, size_t n, unsigned long *code)
{
	unsigned long e = ERR_get_error();
	if (code)
		*code = e;
	if (!e)
		snprintf(buf, n, "unknown error");
	else if (ERR_reason_error_string(e))
		tidy(ERR_reason_error_string(e), buf, n);
	else
		snprintf(buf, n, "error %#lx", e);
	ERR_clear_error();
	return buf;
}

/* Mark t failed with a line built from the OpenSSL error queue. phase says what was going
 * on: "handshake failed" or "tls session failed". A failed certificate check queues only
 * "certificate verify failed"; the reason why (expired, unknown issuer, name mismatch) is in
 * the session's verify result, so that is what we show. */
static int fail(struct oc_tls *t, const char *phase, int sslerr)
{
	char why[160], vbuf[160];
	unsigned long code = 0;
	if (sslerr == SSL_ERROR_SSL || ERR_peek_error())
		queued_reason(why, sizeof(why), &code);
	else
		snprintf(why, sizeof(why), "unexpected result %d from openssl", sslerr);
	long v = SSL_get_verify_result(t->ssl);
	if (code && ERR_GET_LIB(code) == ERR_LIB_SSL &&
	    ERR_GET_REASON(code) == SSL_R_CERTIFICATE_VERIFY_FAILED && v != X509_V_OK)
		snprintf(t->err, sizeof(t->err), "certificate verify failed: %s",
			 tidy(X509_verify_cert_error_string(v), vbuf, sizeof(vbuf)));
	else
		snprintf(t->err, sizeof(t->err), "%s: %s", phase, why);
	t->failed = true;
	return OC_ETLS;
}

/* ---------------------------------------------------------------------------------------- */
/* Context */

/* Encrypted keys would make OpenSSL prompt on the terminal for a passphrase; we have no
 * option for one, so refuse instead, and note that a passphrase was asked for: the load then
 * fails with "bad decrypt", which would not tell the user why. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	if (u)
		*(bool *)u = true;
	return 0;
}

/* Server side of ALPN: the first protocol in OUR list that the client also offers (the
 * server's preference decides, as nginx and h2o do). No overlap: go on without ALPN rather
 * than abort with no_application_protocol; the application layer will notice if it cares. */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		       const unsigned char *in, unsigned int inlen, void *arg)
{
	const struct oc_tls_ctx *c = arg;
	for (size_t i = 0; i < c->alpn_len; i += 1 + (size_t)c->alpn[i]) {
		unsigned sl = c->alpn[i];
		for (unsigned j = 0; j < inlen; j += 1 + (unsigned)in[j]) {
			unsigned cl = in[j];
			if (j + 1 + cl > inlen)
				break; /* malformed list: OpenSSL checks it, but be safe */
			if (cl == sl && !memcmp(in + j + 1, c->alpn + i + 1, sl)) {
				*out = in + j + 1;
				*outlen = (unsigned char)cl;
				return SSL_TLSEXT_ERR_OK;
			}
		}
	}
	return SSL_TLSEXT_ERR_NOACK;
}

/* A file we are about to hand to OpenSSL: fail with OC_EIO if it cannot be read at all, so
 * "no such file" and "permission denied" are not reported as certificate problems. */
static int readable(const char *what, const char *path, char *err, size_t errlen)
{
	char why[128];
	FILE *f = fopen(path, "r");
	if (f) {
		errno = 0;
		if (getc(f) != EOF || !ferror(f)) {
			fclose(f);
			return 0;
		}
		int e = errno;
		fclose(f);
		errno = e ? e : EIO;
	}
	snprintf(err, errlen, "cannot read %s '%s': %s", what, path,
		 tidy(strerror(errno), why, sizeof(why)));
	return OC_EIO;
}

static int ctx_fail(struct oc_tls_ctx *c, int r)
{
	ERR_clear_error();
	oc_tls_ctx_free(c);
	return r;
}

/* Names → wire format: each name preceded by its length (1..255 bytes). */
static int build_alpn(struct oc_tls_ctx *c, const char *const *alpn, char *err, size_t errlen)
{
	size_t total = 0;
	for (const char *const *p = alpn; *p; p++) {
		size_t n = strlen(*p);
		if (n == 0 || n > 255) {
			snprintf(err, errlen, "invalid alpn protocol name '%s': 1 to 255 bytes",
				 *p);
			return OC_EUSAGE;
		}
		total += 1 + n;
	}
	if (total == 0)
		return 0;
	if (total > 65535) {
		snprintf(err, errlen, "alpn protocol list too long");
		return OC_EUSAGE;
	}
	c->alpn = xmalloc(total);
	for (const char *const *p = alpn; *p; p++) {
		size_t n = strlen(*p);
		c->alpn[c->alpn_len++] = (unsigned char)n;
		memcpy(c->alpn + c->alpn_len, *p, n);
		c->alpn_len += n;
	}
	return 0;
}

/* The usage rules, checked before anything is loaded. */
static int check_conf(const struct oc_tls_conf *conf, char *err, size_t errlen)
{
	if (conf->server && !conf->cert) {
		snprintf(err, errlen,
			 "a tls server needs a certificate (--cert) and a key (--key)");
		return OC_EUSAGE;
	}
	if (conf->key && !conf->cert) {
		snprintf(err, errlen, "a key (--key) needs its certificate (--cert)");
		return OC_EUSAGE;
	}
	if (conf->verify_client && !conf->server) {
		snprintf(err, errlen, "verifying client certificates is for tls servers only");
		return OC_EUSAGE;
	}
	if (conf->verify_client && !conf->cacert) {
		snprintf(err, errlen, "verifying client certificates needs a CA file (--cacert)");
		return OC_EUSAGE;
	}
	if (conf->verify_client && conf->insecure) {
		snprintf(err, errlen, "verifying client certificates contradicts --insecure");
		return OC_EUSAGE;
	}
	return 0;
}

int oc_tls_ctx_new(const struct oc_tls_conf *conf, struct oc_tls_ctx **out, char *err,
		   size_t errlen)
{
	char why[160];
	int r;
	*out = NULL;
	if ((r = check_conf(conf, err, errlen)))
		return r;
	const char *key = conf->key ? conf->key : conf->cert;
	if (conf->cert && (r = readable("certificate", conf->cert, err, errlen)))
		return r;
	if (key && key != conf->cert && (r = readable("key", key, err, errlen)))
		return r;
	if (conf->cacert && (r = readable("CA file", conf->cacert, err, errlen)))
		return r;

	ERR_clear_error();
	struct oc_tls_ctx *c = xcalloc(1, sizeof(*c));
	c->refs = 1;
	c->server = conf->server;
	if (conf->alpn && (r = build_alpn(c, conf->alpn, err, errlen)))
		return ctx_fail(c, r);
	c->ssl = SSL_CTX_new(conf->server ? TLS_server_method() : TLS_client_method());
	if (!c->ssl) {
		snprintf(err, errlen, "cannot create tls context: %s",
			 queued_reason(why, sizeof(why), NULL));
		return ctx_fail(c, OC_ETLS);
	}
	SSL_CTX_set_min_proto_version(c->ssl, TLS1_2_VERSION);
	/* Renegotiation (TLS 1.2) would make SSL_write wait for the peer in the middle of the
	 * session and is a known server DoS; TLS 1.3 has none. */
	SSL_CTX_set_options(c->ssl, SSL_OP_NO_RENEGOTIATION);
	/* SSL_write returns after each record and accepts a retry from a moved buffer: our
	 * pending buffer (t->wbuf) may be reallocated between a WANT_READ and its retry. */
	SSL_CTX_set_mode(c->ssl,
			 SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_default_passwd_cb(c->ssl, no_passphrase);

	if (conf->cert) {
		if (SSL_CTX_use_certificate_chain_file(c->ssl, conf->cert) != 1) {
			snprintf(err, errlen, "cannot load certificate '%s': %s", conf->cert,
				 queued_reason(why, sizeof(why), NULL));
			return ctx_fail(c, OC_ETLS);
		}
		/* This already compares the key with the certificate loaded above. */
		bool encrypted = false;
		SSL_CTX_set_default_passwd_cb_userdata(c->ssl, &encrypted);
		int ok = SSL_CTX_use_PrivateKey_file(c->ssl, key, SSL_FILETYPE_PEM);
		SSL_CTX_set_default_passwd_cb_userdata(c->ssl, NULL); /* &encrypted goes away */
		if (ok != 1) {
			unsigned long code = 0;
			queued_reason(why, sizeof(why), &code);
			if (encrypted)
				snprintf(err, errlen,
					 "cannot load key '%s': it is encrypted (passphrases are "
					 "not supported)",
					 key);
			else if (ERR_GET_LIB(code) == ERR_LIB_X509 &&
				 ERR_GET_REASON(code) == X509_R_KEY_VALUES_MISMATCH)
				snprintf(err, errlen, "certificate '%s' does not match key '%s'",
					 conf->cert, key);
			else
				snprintf(err, errlen, "cannot load key '%s': %s", key, why);
			return ctx_fail(c, OC_ETLS);
		}
		/* ...but a key of another type (RSA key, EC certificate) lands in its own slot
		 * without complaint; this catches that. */
		if (SSL_CTX_check_private_key(c->ssl) != 1) {
			snprintf(err, errlen, "certificate '%s' does not match key '%s'",
				 conf->cert, key);
			return ctx_fail(c, OC_ETLS);
		}
	}

	if (conf->cacert) {
		if (SSL_CTX_load_verify_locations(c->ssl, conf->cacert, NULL) != 1) {
			snprintf(err, errlen, "cannot load CA file '%s': %s", conf->cacert,
				 queued_reason(why, sizeof(why), NULL));
			return ctx_fail(c, OC_ETLS);
		}
	} else if (!conf->server && !conf->insecure) {
		/* The distribution's store (/etc/ssl/certs, or SSL_CERT_FILE / SSL_CERT_DIR).
		 * Failing here only means an empty store: verification will say so later. */
		SSL_CTX_set_default_verify_paths(c->ssl);
	}

	if (conf->server) {
		if (conf->verify_client) {
			/* Tell clients which CAs we accept, so one holding several certificates
			 * picks the right one. The list is owned by the context. */
			STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(conf->cacert);
			if (names)
				SSL_CTX_set_client_CA_list(c->ssl, names);
			SSL_CTX_set_verify(c->ssl,
					   SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
			/* A server that verifies clients refuses to resume sessions without a
			 * session id context ("session id context uninitialized"). */
			static const unsigned char sid[] = "omnicat";
			SSL_CTX_set_session_id_context(c->ssl, sid, sizeof(sid) - 1);
		}
		if (c->alpn)
			SSL_CTX_set_alpn_select_cb(c->ssl, alpn_select, c);
	} else {
		SSL_CTX_set_verify(c->ssl, conf->insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER,
				   NULL);
		/* Unlike nearly every other SSL_* call, this one returns 0 on success. */
		if (c->alpn && SSL_CTX_set_alpn_protos(c->ssl, c->alpn, (unsigned)c->alpn_len)) {
			snprintf(err, errlen, "cannot set alpn protocols: %s",
				 queued_reason(why, sizeof(why), NULL));
			return ctx_fail(c, OC_ETLS);
		}
	}
	ERR_clear_error();
	*out = c;
	return 0;
}

void oc_tls_ctx_free(struct oc_tls_ctx *ctx)
{
	if (!ctx || --ctx->refs)
		return;
	SSL_CTX_free(ctx->ssl);
	free(ctx->alpn);
	free(ctx);
}

/* ---------------------------------------------------------------------------------------- */
/* Session */

/* Client: what to send as SNI and check the certificate against. IP literals are matched
 * against the certificate's IP SANs and never sent as SNI (RFC 6066 forbids it). */
static void set_peer_name(struct oc_tls *t, const char *host)
{
	char h[256];
	size_t n = strlen(host);
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']')
		snprintf(h, sizeof(h), "%.*s", (int)(n - 2), host + 1);
	else
		snprintf(h, sizeof(h), "%s", host);
	n = strlen(h);
	if (n > 1 && h[n - 1] == '.')
		h[n - 1] = '\0';
	char *zone = strchr(h, '%'); /* fe80::1%eth0: the zone is local, not in certificates */
	struct in6_addr a6;
	if (zone && strchr(h, ':')) {
		*zone = '\0';
		if (inet_pton(AF_INET6, h, &a6) != 1)
			*zone = '%';
	}
	if (inet_pton(AF_INET, h, &a6) == 1 || inet_pton(AF_INET6, h, &a6) == 1) {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), h);
		return;
	}
	SSL_set_tlsext_host_name(t->ssl, h);
	SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	SSL_set1_host(t->ssl, h);
}

struct oc_tls *oc_tls_new(struct oc_tls_ctx *ctx, const char *host)
{
	struct oc_tls *t = xcalloc(1, sizeof(*t));
	ERR_clear_error();
	t->ssl = SSL_new(ctx->ssl);
	t->in = BIO_new(BIO_s_mem());
	t->out = BIO_new(BIO_s_mem());
	if (!t->ssl || !t->in || !t->out) {
		/* OpenSSL fails here only when out of memory; so does xalloc. */
		fprintf(stderr, "omnicat: out of memory (tls session)\n");
		abort();
	}
	/* An empty input BIO means "retry later" (WANT_READ), never end of file. */
	BIO_set_mem_eof_return(t->in, -1);
	BIO_set_mem_eof_return(t->out, -1);
	SSL_set_bio(t->ssl, t->in, t->out); /* the SSL owns both BIOs from here */
	ctx->refs++;
	t->ctx = ctx;
	if (ctx->server) {
		SSL_set_accept_state(t->ssl);
	} else {
		SSL_set_connect_state(t->ssl);
		if (host && *host)
			set_peer_name(t, host);
	}
	ERR_clear_error();
	return t;
}

void oc_tls_free(struct oc_tls *t)
{
	if (!t)
		return;
	SSL_free(t->ssl); /* frees in and out */
	free(t->wbuf);
	oc_tls_ctx_free(t->ctx);
	free(t);
}

/* Send the close_notify once everything buffered before it is out. SSL_shutdown returns 0
 * ("sent ours, the peer's not seen yet"): fine, we do not wait for the peer's here. */
static void maybe_close(struct oc_tls *t)
{
	if (!t->close_wanted || t->close_sent || !t->ready || t->woff < t->wlen)
		return;
	ERR_clear_error();
	SSL_shutdown(t->ssl);
	ERR_clear_error();
	t->close_sent = true;
}

/* Encrypt from p; returns bytes taken (partial when OpenSSL wants to read first, which only
 * renegotiation-like states cause), or -1 after failing t. */
static ssize_t seal(struct oc_tls *t, const char *p, size_t n)
{
	size_t done = 0;
	while (done < n) {
		size_t w = 0;
		ERR_clear_error();
		if (SSL_write_ex(t->ssl, p + done, n - done, &w)) {
			done += w;
			continue;
		}
		int e = SSL_get_error(t->ssl, 0);
		if (e == SSL_ERROR_WANT_READ)
			break;
		fail(t, "tls session failed", e);
		return -1;
	}
	return (ssize_t)done;
}

/* Plaintext written before the handshake (or held by a WANT_READ) goes out now. */
static int flush_plain(struct oc_tls *t)
{
	if (t->woff < t->wlen) {
		ssize_t n = seal(t, t->wbuf + t->woff, t->wlen - t->woff);
		if (n < 0)
			return OC_ETLS;
		t->woff += (size_t)n;
		if (t->woff < t->wlen)
			return 0;
	}
	free(t->wbuf);
	t->wbuf = NULL;
	t->wlen = t->woff = t->wcap = 0;
	maybe_close(t);
	return 0;
}

/* Drive the handshake as far as the input allows. 0: done or waiting for the peer. */
static int handshake(struct oc_tls *t)
{
	if (t->ready)
		return 0;
	ERR_clear_error();
	int r = SSL_do_handshake(t->ssl);
	if (r != 1) {
		int e = SSL_get_error(t->ssl, r);
		if (e == SSL_ERROR_WANT_READ)
			return 0; /* needs the peer's next flight; ours may be in t->out */
		return fail(t, "handshake failed", e);
	}
	t->ready = true;
	const unsigned char *p;
	unsigned n;
	SSL_get0_alpn_selected(t->ssl, &p, &n);
	if (p && n)
		snprintf(t->alpn, sizeof(t->alpn), "%.*s", (int)n, (const char *)p);
	/* SSL_write before the handshake is done would start or continue the handshake itself
	 * and answer WANT_READ, and then insist on the very same call being repeated; keeping
	 * such data ourselves until now is simpler and lets oc_tls_write() return at once. */
	return flush_plain(t);
}

int oc_tls_start(struct oc_tls *t)
{
	if (t->failed)
		return OC_ETLS;
	if (t->ctx->server)
		return 0;
	return handshake(t); /* leaves the ClientHello in t->out and WANT_READ */
}

int oc_tls_input(struct oc_tls *t, const void *data, size_t len, oc_tls_plain_fn plain, void *ud)
{
	if (t->failed)
		return OC_ETLS;
	if (t->peer_closed)
		return 1; /* anything after close_notify is not part of the session */
	const char *p = data;
	while (len) {
		/* A memory BIO write only fails when out of memory. */
		int n = len > INT_MAX ? INT_MAX : (int)len;
		if (BIO_write(t->in, p, n) != n) {
			fprintf(stderr, "omnicat: out of memory (tls input)\n");
			abort();
		}
		p += n;
		len -= (size_t)n;
	}
	int r = handshake(t);
	if (r || !t->ready)
		return r;
	/* The handshake may have completed on this very input with application data right
	 * behind it (the client's first data in the flight after its Finished), and TLS 1.3
	 * sends session tickets after the handshake: SSL_read handles both, and is called until
	 * it has consumed every complete record. */
	for (;;) {
		char buf[PLAIN_CHUNK];
		size_t got = 0;
		ERR_clear_error();
		if (SSL_read_ex(t->ssl, buf, sizeof(buf), &got)) {
			if (plain)
				plain(ud, buf, got);
			if (t->failed) /* plain() wrote, and that failed */
				return OC_ETLS;
			continue;
		}
		int e = SSL_get_error(t->ssl, 0);
		if (e == SSL_ERROR_WANT_READ)
			break; /* a partial record, or nothing, is left */
		if (e == SSL_ERROR_ZERO_RETURN) {
			t->peer_closed = true;
			return 1;
		}
		return fail(t, "tls session failed", e);
	}
	/* Data held by a WANT_READ in SSL_write can go now. */
	if (t->wlen)
		return flush_plain(t);
	return 0;
}

int oc_tls_write(struct oc_tls *t, const void *data, size_t len)
{
	if (t->failed)
		return OC_ETLS;
	if (t->close_wanted) {
		snprintf(t->err, sizeof(t->err), "write after tls close");
		return OC_ETLS;
	}
	if (!len)
		return 0;
	size_t off = 0;
	if (t->ready && t->woff == t->wlen) {
		/* The common path: straight into OpenSSL, no copy of ours. */
		ssize_t n = seal(t, data, len);
		if (n < 0)
			return OC_ETLS;
		off = (size_t)n;
		if (off == len)
			return 0;
	}
	/* Keep the rest, behind whatever is kept already (doubling: many small writes before
	 * the handshake must not cost a realloc each). */
	size_t rest = len - off;
	if (t->wlen + rest > t->wcap) {
		t->wcap = t->wcap ? t->wcap : 4096;
		while (t->wcap < t->wlen + rest)
			t->wcap *= 2;
		t->wbuf = xrealloc(t->wbuf, t->wcap);
	}
	memcpy(t->wbuf + t->wlen, (const char *)data + off, rest);
	t->wlen += rest;
	return 0;
}

size_t oc_tls_buffered(const struct oc_tls *t)
{
	return t->wlen - t->woff;
}

size_t oc_tls_take(struct oc_tls *t, char *buf, size_t cap)
{
	int n = BIO_read(t->out, buf, cap > INT_MAX ? INT_MAX : (int)cap);
	return n > 0 ? (size_t)n : 0;
}

size_t oc_tls_pending(const struct oc_tls *t)
{
	return BIO_ctrl_pending(t->out);
}

bool oc_tls_ready(const struct oc_tls *t)
{
	return t->ready;
}

const char *oc_tls_alpn(const struct oc_tls *t)
{
	return t->alpn[0] ? t->alpn : NULL;
}

const char *oc_tls_version(const struct oc_tls *t)
{
	return SSL_get_version(t->ssl);
}

void oc_tls_close(struct oc_tls *t)
{
	if (t->failed || t->close_wanted)
		return;
	t->close_wanted = true;
	maybe_close(t); /* else after the handshake and the buffered data */
}

const char *oc_tls_error(const struct oc_tls *t)
{
	return t->err;
}
