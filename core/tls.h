/* core/tls.h — TLS over any byte transport, with OpenSSL and memory BIOs.
 *
 * The engine never touches a socket. The caller (a libuv stream, a pipe, a test's memory
 * pump) moves ciphertext itself: bytes read from the peer go into oc_tls_input(), and
 * whatever oc_tls_take() hands back is written to the peer. Plaintext goes in with
 * oc_tls_write() and comes out through the plain() callback of oc_tls_input(). So one
 * engine serves tcp, unix sockets, stdio and anything else that carries bytes, and libuv
 * keeps owning every file descriptor.
 *
 * Typical use (client):
 *      oc_tls_ctx_new(&conf, &ctx, err, sizeof(err));     once per endpoint
 *      t = oc_tls_new(ctx, "example.com");                 per connection
 *      oc_tls_start(t); flush();                           ClientHello
 *      on read:  r = oc_tls_input(t, buf, n, plain, ud); flush();  (flush even when r < 0:
 *                the alert explaining the failure to the peer is waiting there)
 *      on data to send: oc_tls_write(t, p, n); flush();
 *      at the end: oc_tls_close(t); flush(); ... oc_tls_free(t);
 * where flush() calls oc_tls_take() until it returns 0 and writes what it got.
 *
 * Results: 0, or a negative OC_E* from core/err.h: OC_ETLS (handshake, certificate,
 * protocol alert), OC_EIO (a file unreadable), OC_EUSAGE (bad combination of settings).
 *
 * Threads: everything here runs on the loop thread only; nothing is locked. Only the
 * OpenSSL error queue is per thread, and it is cleared around every call. */
#ifndef OC_TLS_H
#define OC_TLS_H

#include <stdbool.h>
#include <stddef.h>

struct oc_tls_conf {
	bool server;             /* accept (needs cert+key) or connect */
	const char *cert, *key;  /* PEM files: the server's, or a client certificate; key NULL:
				    the key is in the cert file */
	const char *cacert;      /* PEM CA bundle to verify the peer; NULL: system default store
				    (clients) */
	bool insecure;           /* do not verify the peer (-k) */
	bool verify_client;      /* server: require a client certificate signed by cacert */
	const char *const *alpn; /* NULL-terminated protocol names in preference order
				    ("h2","http/1.1"), or NULL */
};

/* One SSL_CTX, shared by many sessions. Reference counted: oc_tls_ctx_free() may be called
 * while sessions made from it are still alive; it is released with the last of them. */
struct oc_tls_ctx;

/* Build a context from conf (copied: conf and its strings may go away afterwards). Loads
 * certificates and keys now, so file problems show up before any connection. Returns 0 with
 * *out set, or OC_EIO (a file cannot be read), OC_ETLS (a file holds no usable certificate
 * or key, or they do not match), OC_EUSAGE (a server without cert, a key without cert,
 * verify_client on a client, without cacert or with insecure, an empty or over-long ALPN
 * name), with a one-line message starting lowercase in err. TLS 1.2 is the minimum version; renegotiation is refused. */
int oc_tls_ctx_new(const struct oc_tls_conf *conf, struct oc_tls_ctx **out, char *err,
		   size_t errlen);
void oc_tls_ctx_free(struct oc_tls_ctx *ctx);

/* One session. */
struct oc_tls;

/* host: for a client, the name sent as SNI and checked against the certificate (an IP
 * address — "127.0.0.1", "::1" or "[::1]" — is checked as an IP and sends no SNI; a trailing
 * dot is dropped). NULL: no SNI and no name check (the chain is still verified). Ignored by
 * servers. Never fails (out of memory aborts). */
struct oc_tls *oc_tls_new(struct oc_tls_ctx *ctx, const char *host);
void oc_tls_free(struct oc_tls *t);

/* Bytes received from the peer (len may be 0). Decrypted application data is passed to
 * plain() (possibly several calls, at most 16 KiB each; p is valid during the call only).
 * plain() may call oc_tls_write() and oc_tls_close() but must not free t. Returns 0; 1 when
 * the peer sent close_notify (clean end; later input is ignored and returns 1 again); or
 * OC_ETLS with oc_tls_error() saying why in one lowercase line such as "certificate verify
 * failed: self-signed certificate" or "handshake failed: wrong version number". After a
 * failure every later call returns OC_ETLS too. After input, call oc_tls_take() — the
 * handshake produces bytes to send, and so does a failure (the alert for the peer). */
typedef void (*oc_tls_plain_fn)(void *ud, const char *p, size_t n);
int oc_tls_input(struct oc_tls *t, const void *data, size_t len, oc_tls_plain_fn plain, void *ud);

/* Application data to send (copied or encrypted at once: data may go away on return);
 * buffered inside until the handshake is done (unbounded here: the caller applies
 * backpressure with oc_tls_buffered()). Returns 0, or OC_ETLS after a failure or after
 * oc_tls_close(). */
int oc_tls_write(struct oc_tls *t, const void *data, size_t len);
size_t oc_tls_buffered(const struct oc_tls *t); /* plaintext bytes waiting for the handshake */

/* Start a client handshake (ClientHello becomes available from oc_tls_take). Servers just
 * wait for input: for them this does nothing. Returns 0 or OC_ETLS. */
int oc_tls_start(struct oc_tls *t);

/* Ciphertext to send to the peer: copies up to cap bytes into buf, returns how many (0: none
 * pending). Call until it returns 0. */
size_t oc_tls_take(struct oc_tls *t, char *buf, size_t cap);
size_t oc_tls_pending(const struct oc_tls *t); /* ciphertext bytes waiting to be taken */

/* Handshake complete on our side. A TLS 1.3 client is ready before the server has checked
 * the client's certificate: a refusal arrives as an alert, and a later oc_tls_input() fails
 * ("tls session failed: tlsv13 alert certificate required"). */
bool oc_tls_ready(const struct oc_tls *t);
const char *oc_tls_alpn(const struct oc_tls *t);    /* negotiated ALPN protocol, or NULL */
const char *oc_tls_version(const struct oc_tls *t); /* "TLSv1.3", "TLSv1.2", for -v */

/* Queue a close_notify (take it with oc_tls_take). Before the handshake is done the close is
 * remembered and sent right after the data buffered by oc_tls_write(), once the handshake
 * completes. Later writes fail; input is still decrypted until the peer closes too. */
void oc_tls_close(struct oc_tls *t);

/* Why the last call failed, one lowercase line; "" when nothing failed. Never NULL. */
const char *oc_tls_error(const struct oc_tls *t);

#endif
