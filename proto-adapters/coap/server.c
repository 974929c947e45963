/* proto-adapters/coap/server.c — `server coap://[host]:port[/path]`: CoAP resources.
 *
 * The URL's path (and each --resource) is a resource. GET answers the latest message
 * written to the endpoint (stdin's last line, or -d), and each new one notifies its
 * observers (RFC 7641). PUT, POST and DELETE go out as messages (method, path, query, the
 * options as headers, payload, peer) and are answered 2.04 Changed, 2.01 Created, 2.02
 * Deleted, with --echo 2.05 and their own payload, or with --exec by a child per request
 * (its stdout is the 2.05 payload; a failure 5.00): the request gets an empty ACK at once
 * and the answer as a separate response (libcoap's async requests) when the child is done.
 * /.well-known/core is libcoap's.
 * coap+tcp:// listens on TCP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coap.h"
#include "collect.h"
#include "data.h"
#include "defer.h"
#include "err.h"
#include "log.h"
#include "msgq.h"
#include "net.h"
#include "xalloc.h"

static const struct oc_adopt server_opts[] = {
	{ "resource", OC_ARG_STR, "PATH", "coap server: another resource to serve; repeatable", true },
	{ "psk-identity", OC_ARG_STR, "ID", "coaps: the pre-shared key's identity", true },
	{ "psk-key-file", OC_ARG_STR, "FILE", "coaps: the pre-shared key, first line of FILE", true },
	{ "content-format", OC_ARG_STR, "F", "coap: Content-Format of the payload (json, text, cbor, N)",
	  true },
	{ 0 },
};

#define MAX_RESOURCES 32

struct ocoap_srv {
	struct oc_ep *ep;
	struct ocoap_loop loop;
	struct oc_resolve res;
	coap_resource_t *rs[MAX_RESOURCES];
	unsigned nrs;
	struct oc_msg *latest;       /* what GET answers, or NULL */
	int format;                  /* --content-format, -1 if not set */
	unsigned long next_id;       /* request ids */
	struct oc_msgq held;         /* requests while paused */
	bool paused, closing;
	struct oc_defer finish;
	struct pending *pendings;    /* requests whose --exec child is running or done */
	char *key;                   /* coaps: the pre-shared key, or NULL */
	size_t key_len;
};

static void deliver(struct ocoap_srv *s, struct oc_msg *m)
{
	if (s->paused || s->held.len)
		oc_msgq_push(&s->held, m);
	else
		oc_ep_emit(s->ep, m);
}

/* ---- handlers ------------------------------------------------------------------------------ */

static void release_msg(coap_session_t *session, void *app_ptr)
{
	oc_msg_unref(app_ptr);
}

static void hnd_get(coap_resource_t *r, coap_session_t *session, const coap_pdu_t *request,
		    const coap_string_t *query, coap_pdu_t *response)
{
	struct ocoap_srv *s = coap_resource_get_userdata(r);
	const struct oc_msg *m = s->latest;
	int fmt = s->format;
	if (m && m->f[OC_F_CONTENT_TYPE] && ocoap_format_of(m->f[OC_F_CONTENT_TYPE]) >= 0)
		fmt = ocoap_format_of(m->f[OC_F_CONTENT_TYPE]);
	coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTENT);
	/* libcoap sends a large body block by block from our bytes: the message stays
	 * referenced until it lets go (release_msg), even if a newer one comes meanwhile */
	coap_add_data_large_response(r, session, request, response, query,
				     fmt >= 0 ? (uint16_t)fmt : COAP_MEDIATYPE_TEXT_PLAIN, -1, 0,
				     m ? m->len : 0, m ? (const uint8_t *)m->data : NULL,
				     m ? release_msg : NULL, m ? oc_msg_ref(s->latest) : NULL);
}

#define EXEC_MAX_OUT (1u << 20) /* a --exec child's answer, at most */

/* A request whose --exec child is running; then its answer, until libcoap asks for it. */
struct pending {
	struct pending *next;        /* the server's list */
	struct ocoap_srv *s;
	coap_async_t *async;
	coap_session_t *session;
	struct oc_collect *exec;
	bool done, failed;
	char *out;
	size_t len;
};

static void exec_done(void *ud, int result, char *out, size_t len, const char *errmsg)
{
	struct pending *p = ud;
	p->exec = NULL;
	p->done = true;
	p->failed = result != 0;
	if (result)
		oc_verbose("%s", errmsg);
	p->out = out;
	p->len = len;
	coap_async_trigger(p->async); /* libcoap calls the handler again: answer() */
	ocoap_loop_arm(&p->s->loop);
}

/* The handler's second call for an async request: the child's output as the answer. */
static void answer_pending(coap_resource_t *r, coap_session_t *session,
			   const coap_pdu_t *request, const coap_string_t *query,
			   coap_pdu_t *response, coap_async_t *async)
{
	struct pending *p = coap_async_get_app_data(async);
	if (!p || !p->done) /* still running: nothing to say yet */
		return;
	if (p->failed) {
		coap_pdu_set_code(response, COAP_RESPONSE_CODE_INTERNAL_ERROR);
	} else {
		coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTENT);
		coap_add_data_large_response(r, session, request, response, query,
					     COAP_MEDIATYPE_TEXT_PLAIN, -1, 0, p->len,
					     (const uint8_t *)p->out, NULL, NULL);
	}
	for (struct pending **pp = &p->s->pendings; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	free(p->out);
	free(p);
	/* libcoap removes the async itself once this handler returns */
}

/* Start the --exec child for m; the request is answered when it is done. */
static void run_exec(struct ocoap_srv *s, coap_session_t *session, const coap_pdu_t *request,
		     struct oc_msg *m)
{
	char err[400] = "";
	struct pending *p = xcalloc(1, sizeof(*p));
	p->s = s;
	p->session = session;
	p->next = s->pendings;
	s->pendings = p;
	p->async = coap_register_async(session, request, 0); /* 0: until triggered */
	coap_async_set_app_data(p->async, p);
	p->exec = oc_collect_exec(s->ep->cfg, m, EXEC_MAX_OUT, exec_done, p, err, sizeof(err));
	if (!p->exec && err[0]) {
		oc_notice("%s", err);
		p->done = p->failed = true;
		coap_async_trigger(p->async);
	}
}

/* PUT, POST, DELETE (and FETCH, PATCH, IPATCH): out as a message, then the answer. */
static void hnd_change(coap_resource_t *r, coap_session_t *session, const coap_pdu_t *request,
		       const coap_string_t *query, coap_pdu_t *response)
{
	struct ocoap_srv *s = coap_resource_get_userdata(r);
	coap_async_t *async = coap_find_async(session, coap_pdu_get_token(request));
	if (async) {
		answer_pending(r, session, request, query, response, async);
		return;
	}
	coap_pdu_code_t code = coap_pdu_get_code(request);
	static const char *const names[] = { "", "GET", "POST", "PUT", "DELETE", "FETCH", "PATCH",
					     "IPATCH" };
	struct oc_msg *m = oc_msg_new();
	size_t len = 0, off, total;
	const uint8_t *data = NULL;
	if (coap_get_data_large(request, &len, &data, &off, &total))
		oc_msg_set_payload_copy(m, data, len);
	oc_msg_set_str(m, OC_F_METHOD, code < sizeof(names) / sizeof(names[0]) ? names[code] : "?");
	coap_str_const_t *path = coap_resource_get_uri_path(r);
	char p[300];
	snprintf(p, sizeof(p), "/%.*s", (int)path->length, (const char *)path->s);
	oc_msg_set_str(m, OC_F_PATH, p);
	if (query && query->length)
		oc_msg_set(m, OC_F_QUERY, (const char *)query->s, query->length);
	ocoap_options_to_msg(m, request);
	char peer[64], id[24];
	oc_sockaddr_str(&coap_session_get_addr_remote(session)->addr.sa, peer, sizeof(peer));
	oc_msg_set_str(m, OC_F_PEER, peer);
	snprintf(id, sizeof(id), "%lu", ++s->next_id);
	oc_msg_set_str(m, OC_F_ID, id);
	oc_verbose("'%s': %s %s from %s, %zu bytes", s->ep->name, m->f[OC_F_METHOD], p, peer,
		   m->len);
	if (s->ep->cfg->exec || s->ep->cfg->exec_shell) {
		run_exec(s, session, request, m);
	} else if (s->ep->cfg->echo) {
		coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTENT);
		coap_add_data_large_response(r, session, request, response, query,
					     COAP_MEDIATYPE_TEXT_PLAIN, -1, 0, m->len,
					     (const uint8_t *)m->data, NULL, NULL);
	} else {
		coap_pdu_set_code(response, code == COAP_REQUEST_CODE_POST ? COAP_RESPONSE_CODE_CREATED
					    : code == COAP_REQUEST_CODE_DELETE ? COAP_RESPONSE_CODE_DELETED
					    : COAP_RESPONSE_CODE_CHANGED);
	}
	deliver(s, m);
}

/* ---- opening ------------------------------------------------------------------------------- */

static void add_resource(struct ocoap_srv *s, const char *path)
{
	if (s->nrs == MAX_RESOURCES)
		return;
	while (*path == '/')
		path++;
	coap_resource_t *r = coap_resource_init(coap_new_str_const((const uint8_t *)path,
								   strlen(path)),
						COAP_RESOURCE_FLAGS_RELEASE_URI);
	coap_register_request_handler(r, COAP_REQUEST_GET, hnd_get);
	coap_register_request_handler(r, COAP_REQUEST_PUT, hnd_change);
	coap_register_request_handler(r, COAP_REQUEST_POST, hnd_change);
	coap_register_request_handler(r, COAP_REQUEST_DELETE, hnd_change);
	coap_register_request_handler(r, COAP_REQUEST_FETCH, hnd_change);
	coap_register_request_handler(r, COAP_REQUEST_PATCH, hnd_change);
	coap_register_request_handler(r, COAP_REQUEST_IPATCH, hnd_change);
	coap_resource_set_get_observable(r, 1); /* also lists it with "obs" in .well-known/core */
	coap_resource_set_userdata(r, s);
	coap_add_resource(s->loop.ctx, r);
	s->rs[s->nrs++] = r;
}

/* coaps: DTLS (or TLS) with the pre-shared key of --psk-key-file; --psk-identity is the
 * hint sent to clients. Returns 0, or -1 with the failure reported. */
static int set_psk(struct ocoap_srv *s)
{
	const char *file = oc_ep_opt(s->ep, "psk-key-file"), *id = oc_ep_opt(s->ep, "psk-identity");
	char *key;
	size_t len;
	if (ocoap_read_key(file, &key, &len))
		return -1;
	coap_dtls_spsk_t setup;
	memset(&setup, 0, sizeof(setup));
	setup.version = COAP_DTLS_SPSK_SETUP_VERSION;
	setup.psk_info.hint.s = (const uint8_t *)(id ? id : "");
	setup.psk_info.hint.length = id ? strlen(id) : 0;
	setup.psk_info.key.s = (const uint8_t *)key;
	setup.psk_info.key.length = len;
	s->key = key; /* libcoap keeps pointing at it: wiped and freed with the server */
	s->key_len = len;
	return coap_context_set_psk2(s->loop.ctx, &setup) ? 0 : -1;
}

/* coaps: a pre-shared key, a certificate, or both (libcoap picks by the client's ciphers).
 * Returns 0, or -1 with the failure reported. */
static int set_security(struct ocoap_srv *s)
{
	if (oc_ep_opt(s->ep, "psk-key-file") && set_psk(s)) {
		oc_ep_fail(s->ep, OC_EIO, "'%s': cannot read '%s'", s->ep->name,
			   oc_ep_opt(s->ep, "psk-key-file"));
		return -1;
	}
	if (!s->ep->cfg->cert)
		return 0;
	coap_dtls_pki_t setup;
	ocoap_pki_setup(s->ep, &setup, true);
	if (!coap_context_set_pki(s->loop.ctx, &setup)) {
		oc_ep_fail(s->ep, OC_ETLS, "'%s': cannot use the certificate '%s' with its key",
			   s->ep->name, s->ep->cfg->cert);
		return -1;
	}
	return 0;
}

static void resolved(struct oc_resolve *res, int status, struct addrinfo *ai)
{
	struct ocoap_srv *s = res->data;
	if (s->closing) {
		if (ai)
			uv_freeaddrinfo(ai);
		oc_defer_schedule(&s->finish);
		return;
	}
	if (status) {
		oc_ep_fail(s->ep, OC_ERESOLVE, "cannot resolve '%s': %s", oc_listen_host(s->ep),
			   uv_strerror(status));
		return;
	}
	coap_address_t addr;
	coap_address_init(&addr);
	memcpy(&addr.addr, ai->ai_addr, ai->ai_addrlen);
	addr.size = ai->ai_addrlen;
	uv_freeaddrinfo(ai);
	bool tcp = strstr(s->ep->spec->url.scheme, "+tcp") != NULL;
	bool secure = ocoap_is_secure(s->ep);
	coap_proto_t proto = secure ? (tcp ? COAP_PROTO_TLS : COAP_PROTO_DTLS)
				    : (tcp ? COAP_PROTO_TCP : COAP_PROTO_UDP);
	if (ocoap_loop_start(&s->loop)) {
		oc_ep_fail(s->ep, OC_EFAIL, "cannot start libcoap for '%s'", s->ep->name);
		return;
	}
	if (secure && set_security(s))
		return;
	if (!coap_new_endpoint(s->loop.ctx, &addr, proto)) {
		oc_ep_fail(s->ep, OC_ECONNECT, "cannot listen on '%s'", s->ep->name);
		return;
	}
	const struct oc_url *u = &s->ep->spec->url;
	add_resource(s, u->path ? u->path : "");
	size_t i = 0;
	const char *v;
	while ((v = oc_cfg_next(s->ep->cfg, "resource", &i)))
		add_resource(s, v);
	ocoap_loop_arm(&s->loop);
	oc_verbose("listening on '%s'", s->ep->name);
	oc_ep_ready(s->ep);
}

static void finish(struct oc_defer *d)
{
	struct ocoap_srv *s = (struct ocoap_srv *)((char *)d - offsetof(struct ocoap_srv, finish));
	while (s->pendings) { /* their asyncs go with the context */
		struct pending *p = s->pendings;
		s->pendings = p->next;
		if (p->exec)
			oc_collect_cancel(p->exec);
		free(p->out);
		free(p);
	}
	oc_msgq_release(&s->held);
	if (s->latest)
		oc_msg_unref(s->latest);
	ocoap_loop_stop(&s->loop); /* frees the resources too */
	if (s->key) {
		memset(s->key, 0, s->key_len);
		free(s->key);
	}
	oc_ep_closed(s->ep);
}

static int server_check(struct oc_ep *ep)
{
	if (ocoap_is_secure(ep) && !oc_ep_opt(ep, "psk-key-file") && !ep->cfg->cert) {
		oc_ep_seterr(ep, OC_EUSAGE, "'%s' needs --psk-key-file or --cert", ep->name);
		return OC_EUSAGE;
	}
	int r = ocoap_is_secure(ep) && ep->cfg->cert ? ocoap_pki_check(ep, true) : 0;
	if (r)
		return r;
	if (ocoap_format_of(oc_ep_opt(ep, "content-format")) == -2) {
		oc_ep_seterr(ep, OC_EUSAGE, "unknown Content-Format '%s' for --content-format",
			     oc_ep_opt(ep, "content-format"));
		return OC_EUSAGE;
	}
	return 0;
}

static int server_open(struct oc_ep *ep)
{
	struct ocoap_srv *s = ep->priv;
	s->ep = ep;
	s->paused = true;
	s->format = ocoap_format_of(oc_ep_opt(ep, "content-format"));
	oc_defer_init(&s->finish, finish);
	if (ep->cfg->data) {
		char err[300], *buf;
		size_t len;
		if (oc_data_load(ep->cfg->data, &buf, &len, err, sizeof(err))) {
			oc_ep_seterr(ep, OC_EIO, "%s", err);
			return OC_EIO;
		}
		s->latest = oc_msg_new();
		oc_msg_take_payload(s->latest, buf, len);
	}
	const struct oc_url *u = &ep->spec->url;
	s->res.data = s;
	int port = u->port >= 0 ? u->port : ocoap_is_secure(ep) ? 5684 : 5683;
	int e = oc_resolve_start(&s->res, oc_listen_host(ep), port, SOCK_DGRAM, ep->cfg, true,
				 resolved);
	if (e) {
		oc_ep_seterr(ep, OC_ERESOLVE, "cannot resolve '%s': %s", oc_listen_host(ep),
			     uv_strerror(e));
		if (s->latest)
			oc_msg_unref(s->latest);
		return OC_ERESOLVE;
	}
	return 0;
}

/* A message written: the new latest value, and a notification to each observer. */
static void server_write(struct oc_ep *ep, struct oc_msg *m)
{
	struct ocoap_srv *s = ep->priv;
	if (s->latest)
		oc_msg_unref(s->latest);
	s->latest = oc_msg_ref(m);
	oc_ep_sent(ep, m);
	for (unsigned i = 0; i < s->nrs; i++)
		coap_resource_notify_observers(s->rs[i], NULL);
	if (s->loop.ctx) {
		coap_io_process(s->loop.ctx, COAP_IO_NO_WAIT); /* send them now */
		ocoap_loop_arm(&s->loop);
	}
}

static void server_pause(struct oc_ep *ep)
{
	((struct ocoap_srv *)ep->priv)->paused = true;
}

static void server_resume(struct oc_ep *ep)
{
	struct ocoap_srv *s = ep->priv;
	s->paused = false;
	struct oc_msg *m;
	while (!s->paused && (m = oc_msgq_pop(&s->held)))
		oc_ep_emit(ep, m);
}

static void server_shutdown(struct oc_ep *ep)
{
	oc_ep_flushed(ep); /* the latest value stays: a server outlives its input */
}

static void server_close(struct oc_ep *ep)
{
	struct ocoap_srv *s = ep->priv;
	s->closing = true;
	if (s->res.active) { /* the lookup's callback comes anyway: it schedules the finish */
		oc_resolve_cancel(&s->res);
		return;
	}
	oc_defer_schedule(&s->finish);
}

const struct oc_adapter oc_adapter_coap_server = {
	.name = "coap-server",
	.flags = OC_AF_SERVER | OC_AF_HEADERS | OC_AF_TLS | OC_AF_EXEC,
	.opts = server_opts,
	.priv_size = sizeof(struct ocoap_srv),
	.check = server_check,
	.open = server_open,
	.write = server_write,
	.pause = server_pause,
	.resume = server_resume,
	.shutdown = server_shutdown,
	.close = server_close,
};
