/* proto-adapters/coap/common.c — see coap.h. */
#include "coap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "data.h"
#include "err.h"
#include "log.h"
#include "tls.h"
#include "xalloc.h"

/* ---- the loop ------------------------------------------------------------------------------ */

static void timer_cb(uv_timer_t *t);

void ocoap_loop_arm(struct ocoap_loop *l)
{
	if (!l->ctx)
		return;
	coap_tick_t now;
	coap_ticks(&now);
	unsigned ms = coap_io_prepare_epoll(l->ctx, now);
	if (ms)
		uv_timer_start(l->timer, timer_cb, ms, 0);
	else
		uv_timer_stop(l->timer);
}

static void run_io(struct ocoap_loop *l)
{
	coap_io_process(l->ctx, COAP_IO_NO_WAIT);
	ocoap_loop_arm(l);
}

static void timer_cb(uv_timer_t *t)
{
	run_io(t->data);
}

static void poll_cb(uv_poll_t *p, int status, int events)
{
	run_io(p->data);
}

int ocoap_loop_start(struct ocoap_loop *l)
{
	static bool started;
	if (!started) {
		coap_startup();
		coap_set_log_level(LOG_EMERG); /* our errors say what went wrong, once */
		started = true;
	}
	l->ctx = coap_new_context(NULL);
	if (!l->ctx)
		return OC_EFAIL;
	coap_context_set_block_mode(l->ctx, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
	l->poll = xmalloc(sizeof(*l->poll));
	uv_poll_init(uv_default_loop(), l->poll, coap_context_get_coap_fd(l->ctx));
	l->poll->data = l;
	uv_poll_start(l->poll, UV_READABLE, poll_cb);
	l->timer = xmalloc(sizeof(*l->timer));
	uv_timer_init(uv_default_loop(), l->timer);
	l->timer->data = l;
	return 0;
}

static void handle_closed(uv_handle_t *h)
{
	free(h);
}

void ocoap_loop_stop(struct ocoap_loop *l)
{
	if (l->ctx)
		coap_free_context(l->ctx);
	if (l->poll)
		uv_close((uv_handle_t *)l->poll, handle_closed);
	if (l->timer)
		uv_close((uv_handle_t *)l->timer, handle_closed);
	l->ctx = NULL;
	l->poll = NULL;
	l->timer = NULL;
}

/* ---- Content-Formats and options ----------------------------------------------------------- */

/* RFC 7252 §12.3 and the IANA registry's common ones; a name with '/' is the media type. */
static const struct {
	const char *name;
	unsigned num;
} formats[] = {
	{ "text", 0 }, { "text/plain", 0 }, { "link-format", 40 }, { "application/link-format", 40 },
	{ "xml", 41 }, { "application/xml", 41 }, { "octet-stream", 42 },
	{ "application/octet-stream", 42 }, { "exi", 47 }, { "json", 50 },
	{ "application/json", 50 }, { "cbor", 60 }, { "application/cbor", 60 },
	{ "senml+json", 110 }, { "senml+cbor", 112 },
};

int ocoap_format_of(const char *v)
{
	if (!v)
		return -1;
	char *end;
	long n = strtol(v, &end, 10);
	if (*v && !*end && n >= 0 && n <= 65535)
		return (int)n;
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (!strcasecmp(formats[i].name, v))
			return (int)formats[i].num;
	return -2;
}

const char *ocoap_format_name(unsigned n)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (formats[i].num == n && strchr(formats[i].name, '/'))
			return formats[i].name;
	return NULL;
}

/* Option names for headers, and how their values are shown: s text, u a number, o opaque
 * bytes as 0x hex (RFC 7252 §5.10's formats). Others: by number, as hex. */
static const struct {
	unsigned num;
	const char *name;
	char kind;
} option_names[] = {
	{ COAP_OPTION_IF_MATCH, "If-Match", 'o' },   { COAP_OPTION_URI_HOST, "Uri-Host", 's' },
	{ COAP_OPTION_ETAG, "ETag", 'o' },           { COAP_OPTION_OBSERVE, "Observe", 'u' },
	{ COAP_OPTION_URI_PORT, "Uri-Port", 'u' },   { COAP_OPTION_LOCATION_PATH, "Location-Path", 's' },
	{ COAP_OPTION_MAXAGE, "Max-Age", 'u' },      { COAP_OPTION_LOCATION_QUERY, "Location-Query", 's' },
	{ COAP_OPTION_ACCEPT, "Accept", 'u' },       { COAP_OPTION_BLOCK2, "Block2", 'u' },
	{ COAP_OPTION_BLOCK1, "Block1", 'u' },       { COAP_OPTION_SIZE2, "Size2", 'u' },
	{ COAP_OPTION_PROXY_URI, "Proxy-Uri", 's' }, { COAP_OPTION_SIZE1, "Size1", 'u' },
	{ COAP_OPTION_IF_NONE_MATCH, "If-None-Match", 'o' },
	{ COAP_OPTION_PROXY_SCHEME, "Proxy-Scheme", 's' },
};

unsigned ocoap_option_by_name(const char *name, size_t nlen, char *kind)
{
	for (size_t i = 0; i < sizeof(option_names) / sizeof(option_names[0]); i++)
		if (strlen(option_names[i].name) == nlen &&
		    !strncasecmp(option_names[i].name, name, nlen)) {
			*kind = option_names[i].kind;
			return option_names[i].num;
		}
	return 0;
}

void ocoap_options_to_msg(struct oc_msg *m, const coap_pdu_t *pdu)
{
	coap_opt_iterator_t it;
	coap_opt_t *o;
	coap_option_iterator_init(pdu, &it, COAP_OPT_ALL);
	while ((o = coap_option_next(&it))) {
		const uint8_t *v = coap_opt_value(o);
		unsigned len = coap_opt_length(o);
		if (it.number == COAP_OPTION_URI_PATH || it.number == COAP_OPTION_URI_QUERY)
			continue; /* the path and query have fields of their own */
		unsigned n = coap_decode_var_bytes(v, len);
		char num[16], value[64];
		if (it.number == COAP_OPTION_CONTENT_FORMAT) {
			const char *fn = ocoap_format_name(n);
			snprintf(value, sizeof(value), "%u", n);
			oc_msg_set_str(m, OC_F_CONTENT_TYPE, fn ? fn : value);
			continue;
		}
		const char *name = NULL;
		char kind = 'o';
		for (size_t i = 0; i < sizeof(option_names) / sizeof(option_names[0]); i++)
			if (option_names[i].num == it.number)
				name = option_names[i].name, kind = option_names[i].kind;
		if (!name) {
			snprintf(num, sizeof(num), "%u", it.number);
			name = num;
		}
		if (kind == 's') {
			oc_msg_add_header(m, name, strlen(name), (const char *)v, len);
			continue;
		}
		if (kind == 'u') {
			snprintf(value, sizeof(value), "%u", n);
		} else {
			size_t k = (size_t)snprintf(value, sizeof(value), "0x");
			for (unsigned i = 0; i < len && k + 3 < sizeof(value); i++)
				k += (size_t)snprintf(value + k, sizeof(value) - k, "%02x", v[i]);
		}
		oc_msg_add_header(m, name, strlen(name), value, strlen(value));
	}
}

int ocoap_read_key(const char *file, char **key, size_t *len)
{
	int r = oc_read_file(file, key, len);
	if (r)
		return r;
	size_t n = 0; /* the first line (the file need not end in a NUL) */
	while (n < *len && (*key)[n] != '\n' && (*key)[n] != '\r')
		n++;
	*len = n;
	return 0;
}

bool ocoap_is_secure(const struct oc_ep *ep)
{
	return !strncmp(ep->spec->url.scheme, "coaps", 5);
}

/* libcoap checks the chain; the name is ours to check (RFC 7252 §9.1.3.3 leaves it to the
 * application): the server's certificate, depth 0, must be for the URL's host. */
static int check_host_name(const char *cn, const uint8_t *der, size_t len,
			   coap_session_t *session, unsigned depth, int validated, void *arg)
{
	const struct oc_ep *ep = arg;
	const char *host = ep->spec->url.host;
	if (depth)
		return 1;
	X509 *x = d2i_X509(NULL, &der, (long)len);
	if (!x)
		return 0;
	/* an address literal is matched against the IP names, anything else as a DNS name */
	unsigned char a[16];
	bool ip = inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
	int ok = ip ? X509_check_ip_asc(x, host, 0) : X509_check_host(x, host, 0, 0, NULL);
	X509_free(x);
	if (ok != 1)
		oc_verbose("'%s': the certificate (%s) is not for '%s'", ep->name, cn ? cn : "?",
			   host);
	return ok == 1;
}

void ocoap_pki_setup(struct oc_ep *ep, coap_dtls_pki_t *pki, bool server)
{
	const struct oc_cfg *cfg = ep->cfg;
	memset(pki, 0, sizeof(*pki));
	pki->version = COAP_DTLS_PKI_SETUP_VERSION;
	pki->verify_peer_cert = server ? cfg->cacert != NULL : !cfg->insecure;
	/* libcoap loads a PEM --cacert into the trusted store only as a "common CA" */
	pki->check_common_ca = cfg->cacert != NULL;
	pki->allow_self_signed = cfg->insecure;
	pki->cert_chain_validation = 1;
	pki->cert_chain_verify_depth = 3;
	pki->allow_no_crl = 1;
	if (!server && !cfg->insecure) {
		pki->validate_cn_call_back = check_host_name;
		pki->cn_call_back_arg = ep;
		pki->client_sni = ep->spec->url.host;
	}
	pki->pki_key.key_type = COAP_PKI_KEY_PEM;
	pki->pki_key.key.pem.ca_file = cfg->cacert;
	pki->pki_key.key.pem.public_cert = cfg->cert;
	pki->pki_key.key.pem.private_key = cfg->key ? cfg->key : cfg->cert;
}

int ocoap_pki_roots(struct oc_ep *ep, coap_context_t *ctx)
{
	if (ep->cfg->cacert || ep->cfg->insecure)
		return 0;
	return coap_context_set_pki_root_cas(ctx, NULL, X509_get_default_cert_dir()) ? 0 : -1;
}

int ocoap_parse_addr(const char *s, coap_address_t *a)
{
	coap_address_init(a);
	if (!uv_ip4_addr(s, 0, &a->addr.sin)) {
		a->size = sizeof(a->addr.sin);
		return 0;
	}
	if (!uv_ip6_addr(s, 0, &a->addr.sin6)) {
		a->size = sizeof(a->addr.sin6);
		return 0;
	}
	return -1;
}

int ocoap_pki_check(struct oc_ep *ep, bool server)
{
	const struct oc_cfg *cfg = ep->cfg;
	struct oc_tls_conf conf = { .server = server, .cert = cfg->cert, .key = cfg->key,
				    .cacert = cfg->cacert, .insecure = cfg->insecure };
	struct oc_tls_ctx *ctx;
	char err[256];
	int r = oc_tls_ctx_new(&conf, &ctx, err, sizeof(err));
	if (r) {
		oc_ep_seterr(ep, r, "'%s': %s", ep->name, err);
		return r;
	}
	oc_tls_ctx_free(ctx);
	return 0;
}
