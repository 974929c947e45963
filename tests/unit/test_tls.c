/* tests/unit/test_tls.c — core/tls.c: a client and a server session pumped into each other in
 * memory. Certificates are made at run time (EC P-256): a CA, a server certificate for
 * localhost / 127.0.0.1 and a client certificate signed by it, and an unrelated second CA;
 * all written as PEM into a mkdtemp directory that is removed at the end. Checks the
 * handshake, data both ways (1 MiB in pieces, data written before the handshake, input fed
 * one byte at a time), ALPN, verification (CA, host names, IPs, -k), garbage, close_notify,
 * client certificates, the context's usage and file errors, and a plain OpenSSL peer limited
 * to TLS 1.2 (and one to TLS 1.1, refused). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "tls.h"
#include "unit.h"

/* ---------------------------------------------------------------------------------------- */
/* Certificates */

static char dir[64];        /* the mkdtemp directory */
static char paths[16][128]; /* files made in it, removed at the end */
static int npaths;          /* entries in paths */

static const char *path_of(const char *name)
{
	snprintf(paths[npaths], sizeof(paths[npaths]), "%s/%s", dir, name);
	return paths[npaths++];
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_nconf_nid(NULL, &v3, nid, value);
	if (!e || !X509_add_ext(x, e, -1)) {
		fprintf(stderr, "cannot add extension %d=%s\n", nid, value);
		exit(2);
	}
	X509_EXTENSION_free(e);
}

/* A certificate for key, signed by issuer/ikey (NULL: self-signed). sans NULL: a CA. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey,
		       const char *sans, long serial)
{
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	X509 *signer = issuer ? issuer : x;
	add_ext(x, signer, NID_subject_key_identifier, "hash");
	add_ext(x, signer, NID_authority_key_identifier, "keyid:always");
	if (!sans) {
		add_ext(x, signer, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		add_ext(x, signer, NID_basic_constraints, "critical,CA:FALSE");
		add_ext(x, signer, NID_key_usage, "critical,digitalSignature");
		add_ext(x, signer, NID_ext_key_usage, "serverAuth,clientAuth");
		add_ext(x, signer, NID_subject_alt_name, sans);
	}
	if (!X509_sign(x, ikey ? ikey : key, EVP_sha256())) {
		fprintf(stderr, "cannot sign %s\n", cn);
		exit(2);
	}
	return x;
}

static void write_pem(const char *path, X509 *x, EVP_PKEY *key)
{
	FILE *f = fopen(path, "w");
	if (!f || (x && !PEM_write_X509(f, x)) ||
	    (key && !PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL))) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(2);
	}
	fclose(f);
}

static const char *ca_pem, *srv_pem, *srv_key, *cli_pem, *cli_key, *other_ca_pem, *both_pem;
static const char *garbage_pem, *missing, *rsa_key, *enc_key;

static void make_files(void)
{
	snprintf(dir, sizeof(dir), "/tmp/oc-test-tls-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(2);
	}
	EVP_PKEY *cakey = EVP_EC_gen("P-256"), *skey = EVP_EC_gen("P-256");
	EVP_PKEY *ckey = EVP_EC_gen("P-256"), *okey = EVP_EC_gen("P-256");
	X509 *ca = make_cert(cakey, "omnicat test CA", NULL, NULL, NULL, 1);
	X509 *srv = make_cert(skey, "localhost", ca, cakey, "DNS:localhost,IP:127.0.0.1", 2);
	X509 *cli = make_cert(ckey, "omnicat test client", ca, cakey, "DNS:client.test", 3);
	X509 *other = make_cert(okey, "some other CA", NULL, NULL, NULL, 4);

	write_pem(ca_pem = path_of("ca.pem"), ca, NULL);
	write_pem(srv_pem = path_of("server.pem"), srv, NULL);
	write_pem(srv_key = path_of("server.key"), NULL, skey);
	write_pem(cli_pem = path_of("client.pem"), cli, NULL);
	write_pem(cli_key = path_of("client.key"), NULL, ckey);
	write_pem(other_ca_pem = path_of("other-ca.pem"), other, NULL);
	write_pem(both_pem = path_of("server-and-key.pem"), srv, skey);
	FILE *ef = fopen(enc_key = path_of("encrypted.key"), "w");
	if (!ef || !PEM_write_PrivateKey(ef, skey, EVP_aes_128_cbc(), (unsigned char *)"pw", 2,
					 NULL, NULL)) {
		fprintf(stderr, "cannot write %s\n", enc_key);
		exit(2);
	}
	fclose(ef);
	garbage_pem = path_of("garbage.pem");
	FILE *f = fopen(garbage_pem, "w");
	fputs("this is not a certificate\n", f);
	fclose(f);
	missing = path_of("missing.pem"); /* never created */
	EVP_PKEY *rkey = EVP_RSA_gen(2048);
	write_pem(rsa_key = path_of("rsa.key"), NULL, rkey);
	EVP_PKEY_free(rkey);

	X509_free(ca);
	X509_free(srv);
	X509_free(cli);
	X509_free(other);
	EVP_PKEY_free(cakey);
	EVP_PKEY_free(skey);
	EVP_PKEY_free(ckey);
	EVP_PKEY_free(okey);
}

static void remove_files(void)
{
	for (int i = 0; i < npaths; i++)
		unlink(paths[i]);
	rmdir(dir);
}

/* ---------------------------------------------------------------------------------------- */
/* Sessions in memory */

struct sink {
	char *buf;  /* everything plain() delivered */
	size_t len; /* bytes in buf */
	size_t cap; /* allocated */
	int calls;  /* plain() calls */
};

static void sink_add(void *ud, const char *p, size_t n)
{
	struct sink *s = ud;
	if (s->len + n > s->cap) {
		s->cap = (s->len + n) * 2;
		s->buf = realloc(s->buf, s->cap);
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	s->calls++;
}

struct pair {
	struct oc_tls_ctx *cctx, *sctx; /* client and server contexts */
	struct oc_tls *c, *s;           /* client and server sessions */
	struct sink cgot, sgot;         /* plaintext each side received */
	int rc, rs;                     /* first non-zero oc_tls_input result per side */
	size_t chunk;                   /* take/input granularity */
};

/* Move ciphertext both ways until neither side has anything left to send. */
static void pump(struct pair *p)
{
	char buf[20000];
	size_t cap = p->chunk ? p->chunk : sizeof(buf);
	bool moved;
	do {
		moved = false;
		size_t n;
		while ((n = oc_tls_take(p->c, buf, cap))) {
			moved = true;
			int r = oc_tls_input(p->s, buf, n, sink_add, &p->sgot);
			if (r && !p->rs)
				p->rs = r;
		}
		while ((n = oc_tls_take(p->s, buf, cap))) {
			moved = true;
			int r = oc_tls_input(p->c, buf, n, sink_add, &p->cgot);
			if (r && !p->rc)
				p->rc = r;
		}
	} while (moved);
}

static struct oc_tls_ctx *mkctx(int line, const struct oc_tls_conf *conf)
{
	struct oc_tls_ctx *ctx = NULL;
	char err[256] = "";
	int r = oc_tls_ctx_new(conf, &ctx, err, sizeof(err));
	unit_checks++;
	if (r || !ctx) {
		unit_fail(__FILE__, line);
		fprintf(stderr, "oc_tls_ctx_new: %d %s\n", r, err);
		exit(1);
	}
	return ctx;
}

static const char *const alpn_srv[] = {"h2", "http/1.1", NULL};
static const char *const alpn_cli[] = {"http/1.1", "h2", NULL};

static struct oc_tls_conf server_conf(void)
{
	return (struct oc_tls_conf){.server = true, .cert = srv_pem, .key = srv_key};
}

/* Open a pair (contexts dropped at once: the sessions keep them alive), run the handshake. */
static void pair_open(int line, struct pair *p, const struct oc_tls_conf *cc,
		      const struct oc_tls_conf *sc, const char *host)
{
	memset(p, 0, sizeof(*p));
	p->cctx = mkctx(line, cc);
	p->sctx = mkctx(line, sc);
	p->c = oc_tls_new(p->cctx, host);
	p->s = oc_tls_new(p->sctx, NULL);
	oc_tls_ctx_free(p->cctx);
	oc_tls_ctx_free(p->sctx);
}

static void pair_handshake(struct pair *p)
{
	CHECK_EQ_INT(oc_tls_start(p->s), 0); /* a no-op for servers */
	CHECK_EQ_INT(oc_tls_pending(p->s), 0);
	CHECK_EQ_INT(oc_tls_start(p->c), 0);
	CHECK(oc_tls_pending(p->c) > 0); /* the ClientHello */
	pump(p);
}

static void pair_close(struct pair *p)
{
	oc_tls_free(p->c);
	oc_tls_free(p->s);
	free(p->cgot.buf);
	free(p->sgot.buf);
}

/* An error line: non-empty, one line, starting lowercase. */
static bool good_line(const char *s)
{
	return s && *s && !strchr(s, '\n') && !(*s >= 'A' && *s <= 'Z');
}

/* ---------------------------------------------------------------------------------------- */
/* Tests */

static void test_handshake_and_data(void)
{
	struct oc_tls_conf cc = {.cacert = ca_pem, .alpn = alpn_cli};
	struct oc_tls_conf sc = server_conf();
	sc.alpn = alpn_srv;
	struct pair p;
	pair_open(__LINE__, &p, &cc, &sc, "localhost");

	/* written before the handshake: kept, delivered after it */
	CHECK_EQ_INT(oc_tls_write(p.c, "early from client", 17), 0);
	CHECK_EQ_INT(oc_tls_write(p.s, "early from server", 17), 0);
	CHECK_EQ_INT(oc_tls_buffered(p.c), 17);
	CHECK_EQ_INT(oc_tls_buffered(p.s), 17);
	CHECK(!oc_tls_ready(p.c));
	CHECK(!oc_tls_ready(p.s));
	CHECK_EQ_STR(oc_tls_alpn(p.c), NULL);

	pair_handshake(&p);
	CHECK_EQ_INT(p.rc, 0);
	CHECK_EQ_INT(p.rs, 0);
	CHECK(oc_tls_ready(p.c));
	CHECK(oc_tls_ready(p.s));
	CHECK_EQ_STR(oc_tls_error(p.c), "");
	CHECK_EQ_STR(oc_tls_error(p.s), "");
	CHECK_EQ_STR(oc_tls_version(p.c), "TLSv1.3");
	CHECK_EQ_STR(oc_tls_version(p.s), "TLSv1.3");
	/* ALPN: the server's preference among what the client offers */
	CHECK_EQ_STR(oc_tls_alpn(p.c), "h2");
	CHECK_EQ_STR(oc_tls_alpn(p.s), "h2");
	CHECK_EQ_INT(oc_tls_buffered(p.c), 0);
	CHECK_EQ_INT(oc_tls_buffered(p.s), 0);
	CHECK_EQ_MEM(p.sgot.buf, p.sgot.len, "early from client", 17);
	CHECK_EQ_MEM(p.cgot.buf, p.cgot.len, "early from server", 17);
	CHECK_EQ_INT(oc_tls_pending(p.c), 0);
	CHECK_EQ_INT(oc_tls_pending(p.s), 0);

	/* 1 MiB each way, in uneven pieces, pumped now and then */
	size_t total = 1 << 20;
	char *data = malloc(total);
	for (size_t i = 0; i < total; i++)
		data[i] = (char)(i * 7 + i / 251);
	p.cgot.len = p.sgot.len = 0;
	p.sgot.calls = 0;
	size_t off = 0, piece = 1;
	int writes = 0;
	while (off < total) {
		size_t n = piece < total - off ? piece : total - off;
		CHECK_EQ_INT(oc_tls_write(p.c, data + off, n), 0);
		CHECK_EQ_INT(oc_tls_write(p.s, data + off, n), 0);
		off += n;
		piece = piece * 3 % 40009 + 1; /* 1, 4, 13, 40, ... up to ~40 KB */
		if (++writes % 5 == 0)
			pump(&p);
	}
	pump(&p);
	CHECK_EQ_INT(p.rc, 0);
	CHECK_EQ_INT(p.rs, 0);
	CHECK_EQ_MEM(p.sgot.buf, p.sgot.len, data, total);
	CHECK_EQ_MEM(p.cgot.buf, p.cgot.len, data, total);
	CHECK(p.sgot.calls >= (int)(total / 16384)); /* plaintext comes in chunks <= 16 KiB */
	free(data);

	/* close_notify: 1 on the other side, then that side can still answer and close */
	oc_tls_close(p.c);
	CHECK_EQ_INT(oc_tls_write(p.c, "x", 1), OC_ETLS);
	CHECK(oc_tls_pending(p.c) > 0);
	pump(&p);
	CHECK_EQ_INT(p.rs, 1);
	CHECK_EQ_INT(oc_tls_input(p.s, "", 0, sink_add, &p.sgot), 1);
	p.cgot.len = 0;
	CHECK_EQ_INT(oc_tls_write(p.s, "last words", 10), 0);
	oc_tls_close(p.s);
	pump(&p);
	CHECK_EQ_MEM(p.cgot.buf, p.cgot.len, "last words", 10);
	CHECK_EQ_INT(p.rc, 1);
	pair_close(&p);
}

/* Ciphertext handed over one byte at a time: every step of the handshake sees WANT_READ. */
static void test_byte_by_byte(void)
{
	struct oc_tls_conf cc = {.cacert = ca_pem};
	struct oc_tls_conf sc = server_conf();
	struct pair p;
	pair_open(__LINE__, &p, &cc, &sc, "127.0.0.1");
	p.chunk = 1;
	CHECK_EQ_INT(oc_tls_write(p.c, "ping", 4), 0);
	pair_handshake(&p);
	CHECK(oc_tls_ready(p.c) && oc_tls_ready(p.s));
	CHECK_EQ_INT(p.rc, 0);
	CHECK_EQ_INT(p.rs, 0);
	CHECK_EQ_MEM(p.sgot.buf, p.sgot.len, "ping", 4);
	CHECK_EQ_INT(oc_tls_write(p.s, "pong", 4), 0);
	pump(&p);
	CHECK_EQ_MEM(p.cgot.buf, p.cgot.len, "pong", 4);
	pair_close(&p);
}

static void test_alpn(void)
{
	struct oc_tls_conf sc = server_conf();
	sc.alpn = alpn_srv;
	struct pair p;

	/* client offers nothing: no ALPN on either side, handshake fine */
	struct oc_tls_conf cc = {.cacert = ca_pem};
	pair_open(__LINE__, &p, &cc, &sc, "localhost");
	pair_handshake(&p);
	CHECK(oc_tls_ready(p.c) && oc_tls_ready(p.s));
	CHECK_EQ_STR(oc_tls_alpn(p.c), NULL);
	CHECK_EQ_STR(oc_tls_alpn(p.s), NULL);
	pair_close(&p);

	/* no overlap: go on without ALPN */
	static const char *const other[] = {"mqtt", NULL};
	cc.alpn = other;
	pair_open(__LINE__, &p, &cc, &sc, "localhost");
	pair_handshake(&p);
	CHECK(oc_tls_ready(p.c) && oc_tls_ready(p.s));
	CHECK_EQ_STR(oc_tls_alpn(p.c), NULL);
	pair_close(&p);

	/* one common protocol, the client's second choice */
	static const char *const cli[] = {"spdy/3", "http/1.1", NULL};
	cc.alpn = cli;
	pair_open(__LINE__, &p, &cc, &sc, "localhost");
	pair_handshake(&p);
	CHECK_EQ_STR(oc_tls_alpn(p.c), "http/1.1");
	CHECK_EQ_STR(oc_tls_alpn(p.s), "http/1.1");
	pair_close(&p);

	/* server without ALPN: the client's offer is ignored */
	struct oc_tls_conf plain = server_conf();
	pair_open(__LINE__, &p, &cc, &plain, "localhost");
	pair_handshake(&p);
	CHECK(oc_tls_ready(p.c));
	CHECK_EQ_STR(oc_tls_alpn(p.c), NULL);
	pair_close(&p);
}

/* Client result and error after a handshake against the usual server. */
static int verify_with(const struct oc_tls_conf *cc, const char *host, char *err, size_t errlen,
		       int *server_result)
{
	struct oc_tls_conf sc = server_conf();
	struct pair p;
	pair_open(__LINE__, &p, cc, &sc, host);
	pair_handshake(&p);
	int r = p.rc ? p.rc : (oc_tls_ready(p.c) ? 0 : -100);
	snprintf(err, errlen, "%s", oc_tls_error(p.c));
	if (server_result)
		*server_result = p.rs;
	if (!r) { /* verified sessions really carry data */
		CHECK_EQ_INT(oc_tls_write(p.c, "ok", 2), 0);
		pump(&p);
		CHECK_EQ_MEM(p.sgot.buf, p.sgot.len, "ok", 2);
	} else {
		CHECK(!oc_tls_ready(p.c));
		CHECK_EQ_INT(oc_tls_write(p.c, "x", 1), OC_ETLS); /* failed for good */
		CHECK_EQ_INT(oc_tls_input(p.c, "x", 1, sink_add, &p.cgot), OC_ETLS);
		CHECK_EQ_INT(oc_tls_start(p.c), OC_ETLS);
	}
	pair_close(&p);
	return r;
}

static void test_verify(void)
{
	char err[256];
	int rs;
	struct oc_tls_conf cc = {.cacert = ca_pem};
	CHECK_EQ_INT(verify_with(&cc, "localhost", err, sizeof(err), NULL), 0);
	CHECK_EQ_INT(verify_with(&cc, "localhost.", err, sizeof(err), NULL), 0);
	CHECK_EQ_INT(verify_with(&cc, "127.0.0.1", err, sizeof(err), NULL), 0);
	CHECK_EQ_INT(verify_with(&cc, "LOCALHOST", err, sizeof(err), NULL), 0);

	/* name mismatch */
	CHECK_EQ_INT(verify_with(&cc, "example.com", err, sizeof(err), &rs), OC_ETLS);
	CHECK_EQ_STR(err, "certificate verify failed: hostname mismatch");
	CHECK_EQ_INT(rs, OC_ETLS); /* the server got our alert */
	/* an IP not in the certificate */
	CHECK_EQ_INT(verify_with(&cc, "127.0.0.2", err, sizeof(err), NULL), OC_ETLS);
	CHECK_EQ_STR(err, "certificate verify failed: IP address mismatch");
	CHECK_EQ_INT(verify_with(&cc, "[::1]", err, sizeof(err), NULL), OC_ETLS);
	CHECK_EQ_STR(err, "certificate verify failed: IP address mismatch");

	/* a CA file holding a different CA */
	struct oc_tls_conf other = {.cacert = other_ca_pem};
	CHECK_EQ_INT(verify_with(&other, "localhost", err, sizeof(err), &rs), OC_ETLS);
	CHECK(strstr(err, "verify") != NULL);
	CHECK_EQ_STR(err, "certificate verify failed: unable to get local issuer certificate");
	CHECK(good_line(err));
	CHECK_EQ_INT(rs, OC_ETLS);

	/* -k: anything goes */
	struct oc_tls_conf k = {.cacert = other_ca_pem, .insecure = true};
	CHECK_EQ_INT(verify_with(&k, "example.com", err, sizeof(err), NULL), 0);
	struct oc_tls_conf k2 = {.insecure = true};
	CHECK_EQ_INT(verify_with(&k2, "127.0.0.2", err, sizeof(err), NULL), 0);
	/* no host at all: the chain is still checked */
	CHECK_EQ_INT(verify_with(&cc, NULL, err, sizeof(err), NULL), 0);
	CHECK_EQ_INT(verify_with(&other, NULL, err, sizeof(err), NULL), OC_ETLS);
}

static void test_garbage(void)
{
	static const char http[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
	struct oc_tls_conf cc = {.cacert = ca_pem};
	struct oc_tls_conf sc = server_conf();
	struct pair p;

	/* plain HTTP at a TLS server */
	pair_open(__LINE__, &p, &cc, &sc, "localhost");
	CHECK_EQ_INT(oc_tls_input(p.s, http, sizeof(http) - 1, sink_add, &p.sgot), OC_ETLS);
	CHECK(good_line(oc_tls_error(p.s)));
	CHECK(strncmp(oc_tls_error(p.s), "handshake failed: ", 18) == 0);
	CHECK_EQ_INT(oc_tls_input(p.s, "", 0, sink_add, &p.sgot), OC_ETLS);
	CHECK_EQ_INT(oc_tls_write(p.s, "x", 1), OC_ETLS);
	oc_tls_close(p.s); /* harmless after a failure */
	pair_close(&p);

	/* a plain-text answer to a ClientHello */
	pair_open(__LINE__, &p, &cc, &sc, "localhost");
	CHECK_EQ_INT(oc_tls_start(p.c), 0);
	char buf[4096];
	while (oc_tls_take(p.c, buf, sizeof(buf)))
		;
	static const char banner[] = "SSH-2.0-OpenSSH_9.6\r\n";
	CHECK_EQ_INT(oc_tls_input(p.c, banner, sizeof(banner) - 1, sink_add, &p.cgot), OC_ETLS);
	CHECK_EQ_STR(oc_tls_error(p.c), "handshake failed: wrong version number");
	pair_close(&p);

	/* a corrupted record after the handshake */
	pair_open(__LINE__, &p, &cc, &sc, "localhost");
	pair_handshake(&p);
	CHECK_EQ_INT(oc_tls_write(p.c, "secret", 6), 0);
	size_t n = oc_tls_take(p.c, buf, sizeof(buf));
	CHECK(n > 10);
	buf[n - 3] ^= 0x55;
	CHECK_EQ_INT(oc_tls_input(p.s, buf, n, sink_add, &p.sgot), OC_ETLS);
	CHECK_EQ_STR(oc_tls_error(p.s), "tls session failed: decryption failed or bad record mac");
	CHECK_EQ_INT(p.sgot.len, 0);
	CHECK(oc_tls_pending(p.s) > 0); /* the alert for the peer */
	pump(&p);
	CHECK_EQ_INT(p.rc, OC_ETLS);
	CHECK(good_line(oc_tls_error(p.c)));
	pair_close(&p);
}

/* close before the handshake: data first, then close_notify */
static void test_early_close(void)
{
	struct oc_tls_conf cc = {.cacert = ca_pem};
	struct oc_tls_conf sc = server_conf();
	struct pair p;
	pair_open(__LINE__, &p, &cc, &sc, "localhost");
	CHECK_EQ_INT(oc_tls_write(p.c, "hello", 5), 0);
	oc_tls_close(p.c);
	CHECK_EQ_INT(oc_tls_pending(p.c), 0);
	CHECK_EQ_INT(oc_tls_write(p.c, "more", 4), OC_ETLS);
	pair_handshake(&p);
	CHECK_EQ_MEM(p.sgot.buf, p.sgot.len, "hello", 5);
	CHECK_EQ_INT(p.rs, 1);
	CHECK_EQ_INT(p.rc, 0);
	pair_close(&p);
}

static void test_client_cert(void)
{
	struct oc_tls_conf sc = server_conf();
	sc.verify_client = true;
	sc.cacert = ca_pem;
	struct pair p;

	/* no client certificate: the server refuses; in TLS 1.3 the client has finished its
	 * handshake by then and learns it from the server's alert */
	struct oc_tls_conf cc = {.cacert = ca_pem};
	pair_open(__LINE__, &p, &cc, &sc, "localhost");
	CHECK_EQ_INT(oc_tls_write(p.c, "let me in", 9), 0);
	pair_handshake(&p);
	CHECK_EQ_INT(p.rs, OC_ETLS);
	CHECK_EQ_STR(oc_tls_error(p.s), "handshake failed: peer did not return a certificate");
	CHECK_EQ_INT(p.sgot.len, 0);
	CHECK_EQ_INT(p.rc, OC_ETLS);
	CHECK(good_line(oc_tls_error(p.c)));
	CHECK(strstr(oc_tls_error(p.c), "certificate required") != NULL);
	pair_close(&p);

	/* a certificate from another CA */
	struct oc_tls_conf sc2 = sc;
	sc2.cacert = other_ca_pem;
	struct oc_tls_conf cc2 = {.cacert = ca_pem, .cert = cli_pem, .key = cli_key};
	pair_open(__LINE__, &p, &cc2, &sc2, "localhost");
	pair_handshake(&p);
	CHECK_EQ_INT(p.rs, OC_ETLS);
	/* the client sends its CA too (OpenSSL builds the chain from its store), so the
	 * server sees a chain ending in a self-signed root it does not trust */
	CHECK(strncmp(oc_tls_error(p.s), "certificate verify failed: ", 27) == 0);
	CHECK(good_line(oc_tls_error(p.s)));
	pair_close(&p);

	/* the right one */
	pair_open(__LINE__, &p, &cc2, &sc, "localhost");
	CHECK_EQ_INT(oc_tls_write(p.c, "let me in", 9), 0);
	pair_handshake(&p);
	CHECK_EQ_INT(p.rs, 0);
	CHECK_EQ_INT(p.rc, 0);
	CHECK(oc_tls_ready(p.s));
	CHECK_EQ_MEM(p.sgot.buf, p.sgot.len, "let me in", 9);
	pair_close(&p);
}

/* oc_tls_ctx_new: result, and the message must contain want */
static void check_ctx(int line, const struct oc_tls_conf *conf, int result, const char *want)
{
	struct oc_tls_ctx *ctx = (struct oc_tls_ctx *)&ctx; /* must be reset to NULL */
	char err[256] = "";
	int r = oc_tls_ctx_new(conf, &ctx, err, sizeof(err));
	unit_checks += 3;
	if (r != result || (r && ctx) || !strstr(err, want) || (r && !good_line(err))) {
		unit_fail(__FILE__, line);
		fprintf(stderr, "oc_tls_ctx_new: %d, wanted %d; \"%s\", wanted \"%s\"\n", r, result,
			err, want);
	}
	if (!r)
		oc_tls_ctx_free(ctx);
}

static void test_ctx_errors(void)
{
	struct oc_tls_conf c;
	c = (struct oc_tls_conf){.server = true};
	check_ctx(__LINE__, &c, OC_EUSAGE, "needs a certificate");
	c = (struct oc_tls_conf){.key = srv_key};
	check_ctx(__LINE__, &c, OC_EUSAGE, "needs its certificate");
	c = (struct oc_tls_conf){
	    .server = true, .cert = srv_pem, .key = srv_key, .verify_client = true};
	check_ctx(__LINE__, &c, OC_EUSAGE, "--cacert");
	c.cacert = ca_pem;
	c.insecure = true;
	check_ctx(__LINE__, &c, OC_EUSAGE, "--insecure");
	c = (struct oc_tls_conf){.verify_client = true, .cacert = ca_pem};
	check_ctx(__LINE__, &c, OC_EUSAGE, "servers only");
	static const char *const empty[] = {"h2", "", NULL};
	c = (struct oc_tls_conf){.alpn = empty};
	check_ctx(__LINE__, &c, OC_EUSAGE, "alpn");

	c = (struct oc_tls_conf){.server = true, .cert = missing, .key = srv_key};
	check_ctx(__LINE__, &c, OC_EIO, "no such file or directory");
	c = (struct oc_tls_conf){.server = true, .cert = srv_pem, .key = missing};
	check_ctx(__LINE__, &c, OC_EIO, missing);
	c = (struct oc_tls_conf){.cacert = missing};
	check_ctx(__LINE__, &c, OC_EIO, "cannot read CA file");
	c = (struct oc_tls_conf){.cacert = dir};
	check_ctx(__LINE__, &c, OC_EIO, "is a directory");

	c = (struct oc_tls_conf){.server = true, .cert = garbage_pem, .key = srv_key};
	check_ctx(__LINE__, &c, OC_ETLS, "cannot load certificate");
	c = (struct oc_tls_conf){.server = true, .cert = srv_pem, .key = garbage_pem};
	check_ctx(__LINE__, &c, OC_ETLS, "cannot load key");
	c = (struct oc_tls_conf){.server = true, .cert = srv_pem, .key = cli_key};
	check_ctx(__LINE__, &c, OC_ETLS, "does not match");
	c = (struct oc_tls_conf){.server = true, .cert = srv_pem, .key = enc_key};
	check_ctx(__LINE__, &c, OC_ETLS, "encrypted");
	c = (struct oc_tls_conf){.server = true, .cert = srv_pem, .key = rsa_key};
	check_ctx(__LINE__, &c, OC_ETLS, "does not match");
	c = (struct oc_tls_conf){.cacert = garbage_pem};
	check_ctx(__LINE__, &c, OC_ETLS, "cannot load CA file");

	/* good ones: key inside the certificate file; the system store */
	c = (struct oc_tls_conf){.server = true, .cert = both_pem};
	check_ctx(__LINE__, &c, 0, "");
	c = (struct oc_tls_conf){0};
	check_ctx(__LINE__, &c, 0, "");
}

static void test_key_in_cert_file(void)
{
	struct oc_tls_conf cc = {.cacert = ca_pem};
	struct oc_tls_conf sc = {.server = true, .cert = both_pem};
	struct pair p;
	pair_open(__LINE__, &p, &cc, &sc, "localhost");
	pair_handshake(&p);
	CHECK(oc_tls_ready(p.c) && oc_tls_ready(p.s));
	pair_close(&p);
}

/* ---------------------------------------------------------------------------------------- */
/* A plain OpenSSL peer limited to TLS 1.2 (or older), which the interface cannot ask for */

struct raw {
	SSL_CTX *ctx;    /* its context */
	SSL *ssl;        /* its session */
	BIO *in, *out;   /* its memory BIOs */
	struct sink got; /* plaintext it received */
	bool failed;     /* its handshake or read failed */
};

static void raw_open(struct raw *r, bool server, int minv, int maxv, const char *cert,
		     const char *key)
{
	memset(r, 0, sizeof(*r));
	r->ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (minv < TLS1_2_VERSION)
		SSL_CTX_set_security_level(r->ctx, 0); /* else OpenSSL 3 refuses TLS 1.1 itself */
	SSL_CTX_set_min_proto_version(r->ctx, minv);
	SSL_CTX_set_max_proto_version(r->ctx, maxv);
	if (cert && (SSL_CTX_use_certificate_file(r->ctx, cert, SSL_FILETYPE_PEM) != 1 ||
		     SSL_CTX_use_PrivateKey_file(r->ctx, key, SSL_FILETYPE_PEM) != 1)) {
		fprintf(stderr, "raw peer: cannot load %s\n", cert);
		exit(2);
	}
	r->ssl = SSL_new(r->ctx);
	r->in = BIO_new(BIO_s_mem());
	r->out = BIO_new(BIO_s_mem());
	SSL_set_bio(r->ssl, r->in, r->out);
	if (server)
		SSL_set_accept_state(r->ssl);
	else
		SSL_set_connect_state(r->ssl);
}

static void raw_close(struct raw *r)
{
	SSL_free(r->ssl);
	SSL_CTX_free(r->ctx);
	free(r->got.buf);
	ERR_clear_error();
}

/* Pump between our session t and the raw peer until both are quiet. */
static void raw_pump(struct oc_tls *t, struct sink *tgot, int *tr, struct raw *r)
{
	char buf[20000];
	bool moved;
	do {
		moved = false;
		size_t n;
		while ((n = oc_tls_take(t, buf, sizeof(buf)))) {
			moved = true;
			BIO_write(r->in, buf, (int)n);
		}
		if (!r->failed && !SSL_is_init_finished(r->ssl) && SSL_do_handshake(r->ssl) != 1 &&
		    SSL_get_error(r->ssl, 0) != SSL_ERROR_WANT_READ)
			r->failed = true;
		size_t got;
		while (!r->failed && SSL_is_init_finished(r->ssl) &&
		       SSL_read_ex(r->ssl, buf, sizeof(buf), &got))
			sink_add(&r->got, buf, got);
		int m;
		while ((m = BIO_read(r->out, buf, sizeof(buf))) > 0) {
			moved = true;
			int x = oc_tls_input(t, buf, (size_t)m, sink_add, tgot);
			if (x && !*tr)
				*tr = x;
		}
	} while (moved);
}

static void test_tls12(void)
{
	struct oc_tls_ctx *ctx;
	struct oc_tls *t;
	struct sink got = {0};
	int r = 0;
	struct raw peer;

	/* our client, a TLS 1.2 server */
	struct oc_tls_conf cc = {.cacert = ca_pem, .alpn = alpn_cli};
	ctx = mkctx(__LINE__, &cc);
	t = oc_tls_new(ctx, "localhost");
	raw_open(&peer, true, TLS1_VERSION, TLS1_2_VERSION, srv_pem, srv_key);
	CHECK_EQ_INT(oc_tls_write(t, "hello", 5), 0);
	CHECK_EQ_INT(oc_tls_start(t), 0);
	raw_pump(t, &got, &r, &peer);
	CHECK_EQ_INT(r, 0);
	CHECK(oc_tls_ready(t));
	CHECK(!peer.failed);
	CHECK_EQ_STR(oc_tls_version(t), "TLSv1.2");
	CHECK_EQ_STR(oc_tls_alpn(t), NULL);
	CHECK_EQ_MEM(peer.got.buf, peer.got.len, "hello", 5);
	size_t w;
	CHECK(SSL_write_ex(peer.ssl, "world", 5, &w));
	raw_pump(t, &got, &r, &peer);
	CHECK_EQ_MEM(got.buf, got.len, "world", 5);
	SSL_shutdown(peer.ssl);
	raw_pump(t, &got, &r, &peer);
	CHECK_EQ_INT(r, 1);
	raw_close(&peer);
	oc_tls_free(t);
	oc_tls_ctx_free(ctx);

	/* our server requiring a client certificate, a TLS 1.2 client without one: here the
	 * client learns it inside the handshake */
	struct oc_tls_conf sc = server_conf();
	sc.verify_client = true;
	sc.cacert = ca_pem;
	ctx = mkctx(__LINE__, &sc);
	t = oc_tls_new(ctx, NULL);
	raw_open(&peer, false, TLS1_2_VERSION, TLS1_2_VERSION, NULL, NULL);
	r = 0;
	raw_pump(t, &got, &r, &peer);
	CHECK_EQ_INT(r, OC_ETLS);
	CHECK_EQ_STR(oc_tls_error(t), "handshake failed: peer did not return a certificate");
	CHECK(peer.failed);
	raw_close(&peer);
	oc_tls_free(t);

	/* ... and with one */
	t = oc_tls_new(ctx, NULL);
	raw_open(&peer, false, TLS1_2_VERSION, TLS1_2_VERSION, cli_pem, cli_key);
	r = 0;
	SSL_write_ex(peer.ssl, "hi", 2, &w); /* starts the handshake, sent after it */
	raw_pump(t, &got, &r, &peer);
	CHECK_EQ_INT(r, 0);
	CHECK(oc_tls_ready(t));
	CHECK_EQ_STR(oc_tls_version(t), "TLSv1.2");
	raw_close(&peer);
	oc_tls_free(t);
	oc_tls_ctx_free(ctx);

	/* a TLS 1.1 client: refused */
	struct oc_tls_conf sc2 = server_conf();
	ctx = mkctx(__LINE__, &sc2);
	t = oc_tls_new(ctx, NULL);
	raw_open(&peer, false, TLS1_1_VERSION, TLS1_1_VERSION, NULL, NULL);
	r = 0;
	raw_pump(t, &got, &r, &peer);
	CHECK_EQ_INT(r, OC_ETLS);
	CHECK_EQ_STR(oc_tls_error(t), "handshake failed: unsupported protocol");
	CHECK(!oc_tls_ready(t));
	raw_close(&peer);
	oc_tls_free(t);
	oc_tls_ctx_free(ctx);
	free(got.buf);
}

int main(void)
{
	make_files();
	test_handshake_and_data();
	test_byte_by_byte();
	test_alpn();
	test_verify();
	test_garbage();
	test_early_close();
	test_client_cert();
	test_ctx_errors();
	test_key_in_cert_file();
	test_tls12();
	remove_files();
	UNIT_END("test_tls");
}
