/* proto-adapters/coap/client.c — CoAP client, publisher and observer on libcoap 4.3.
 *
 *   client coap://host[:port]/path?query   each message written is one request (GET unless
 *                                          -X; the message is its payload), its response one
 *                                          message (status, options as headers, payload)
 *   pub coap://host/path                   PUT (or -X POST) each message
 *   sub coap://host/path                   Observe (RFC 7641): each notification a message
 *
 * coap+tcp:// runs over TCP (RFC 8323). libcoap does the retransmissions, the block-wise
 * transfers (RFC 7959: whole bodies both ways) and the Observe bookkeeping.
 *
 * Requests go one at a time, in the order written, so answers come back in order
 * (--each). See coap.h for the loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coap.h"
#include "data.h"
#include "defer.h"
#include "err.h"
#include "hex.h"
#include "log.h"
#include "msgq.h"
#include "net.h"
#include "xalloc.h"

static const struct oc_adopt ocoap_opts[] = {
	{ "content-format", OC_ARG_STR, "F", "coap: Content-Format of the payload (json, text, cbor, N)",
	  true },
	{ "accept", OC_ARG_STR, "F", "coap: the Content-Format wanted back", true },
	{ "non", OC_ARG_FLAG, NULL, "coap: non-confirmable requests", true },
	{ "block-size", OC_ARG_COUNT, "N", "coap: block-wise transfer in blocks of N bytes (16..1024)",
	  true },
	{ "token", OC_ARG_STR, "HEX", "coap: the request token", true },
	{ "ack-timeout", OC_ARG_SECS, "S", "coap: first retransmission after S seconds (2)", true },
	{ "max-retransmit", OC_ARG_STR, "N", "coap: retransmissions before giving up (4)", true },
	{ "psk-identity", OC_ARG_STR, "ID", "coaps: the pre-shared key's identity", true },
	{ "psk-key-file", OC_ARG_STR, "FILE", "coaps: the pre-shared key, first line of FILE", true },
	{ "proxy-uri", OC_ARG_STR, "URI", "coap: ask the URL's server, a proxy, for URI (Proxy-Uri)",
	  true },
	{ "bind", OC_ARG_STR, "ADDR", "coap: send from local address ADDR", true },
	{ 0 },
};

struct ocoap {
	struct oc_ep *ep;
	struct ocoap_loop loop;
	coap_session_t *session;
	struct oc_resolve res;
	coap_pdu_code_t method;
	int format, accept;          /* Content-Format numbers, -1 if not set */
	bool tcp;
	bool ready, shut, closing, paused, ended;

	struct oc_msgq q;            /* requests written, not yet sent */
	struct oc_msg *cur;          /* the request waiting for its answer, or NULL */
	uint8_t token[8];            /* its token (and the observation's) */
	size_t token_len;
	unsigned long next_token;
	struct oc_msgq held;         /* answers and notifications while paused */
	struct oc_defer finish;      /* the teardown, outside libcoap's callbacks */
	uv_timer_t *deadline;        /* --ack-timeout/--max-retransmit: the request's last chance */
	uint64_t wait_ms;            /* how long that is */
	bool own_deadline;           /* it bounds each request (--max-retransmit 0) */
	int port;                    /* the server's */
	bool dtls_up;                /* the DTLS/TLS handshake succeeded */
	uv_timer_t *reobserve;       /* sub: Max-Age passed without a notification */
	bool observing;              /* sub: a notification came since the last registration */
	struct oc_backoff backoff;   /* sub --reconnect: re-registration delays */
	struct oc_tcp_probe *probe;  /* telling why a TLS connection failed, or NULL */
};

/* ---- requests ---------------------------------------------------------------------------- */

/* The request methods in code order: GET is 0.01 ... iPATCH 0.07 (RFC 7252 §12.1.1, RFC 8132),
 * so a name's code is its index + 1. */
static const char *const coap_methods[] = { "GET",   "POST",  "PUT",    "DELETE",
					    "FETCH", "PATCH", "IPATCH", NULL };

/* The code of method name m (any case), or 0. */
static coap_pdu_code_t method_code(const char *m)
{
	for (size_t i = 0; coap_methods[i]; i++)
		if (!strcasecmp(coap_methods[i], m))
			return (coap_pdu_code_t)(i + 1);
	return 0;
}

static void send_next(struct ocoap *c);

/* A client's message may name its own request (method, path, query: a --jsonl line, a line
 * typed in the REPL); what pub sends (a relay's other side included: an HTTP request's path
 * "/") goes where the URL says. */
static bool own_request(const struct ocoap *c, const struct oc_msg *m)
{
	return m && c->ep->role == OC_ROLE_CLIENT;
}

/* The request's target: the message's path and query when it has them, else the URL's; with
 * --proxy-uri, that URI alone (RFC 7252 §5.10.2: no Uri-Path or Uri-Query beside a
 * Proxy-Uri). */
static void add_target(struct ocoap *c, const struct oc_msg *m, coap_optlist_t **opts)
{
	const struct oc_url *u = &c->ep->spec->url;
	const char *proxy = oc_ep_opt(c->ep, "proxy-uri");
	if (proxy) {
		coap_insert_optlist(opts, coap_new_optlist(COAP_OPTION_PROXY_URI, strlen(proxy),
							   (const uint8_t *)proxy));
		return;
	}
	const char *path = u->path, *query = u->query;
	bool own = own_request(c, m);
	if (own && m->f[OC_F_PATH]) { /* a new path drops the URL's query, as in the HTTP client */
		path = m->f[OC_F_PATH];
		query = NULL;
	}
	if (own && m->f[OC_F_QUERY])
		query = m->f[OC_F_QUERY];
	unsigned char buf[1024], *b;
	size_t len;
	int n;
	if (path && *path == '/')
		path++;
	if (path && *path) {
		len = sizeof(buf);
		b = buf;
		n = coap_split_path((const uint8_t *)path, strlen(path), b, &len);
		for (; n-- > 0; b += coap_opt_size(b))
			coap_insert_optlist(opts, coap_new_optlist(COAP_OPTION_URI_PATH,
								   coap_opt_length(b), coap_opt_value(b)));
	}
	if (query && *query) {
		len = sizeof(buf);
		b = buf;
		n = coap_split_query((const uint8_t *)query, strlen(query), b, &len);
		for (; n-- > 0; b += coap_opt_size(b))
			coap_insert_optlist(opts, coap_new_optlist(COAP_OPTION_URI_QUERY,
								   coap_opt_length(b), coap_opt_value(b)));
	}
}

/* The target, and the options given, into a list for a PDU of method code. */
static void add_options(struct ocoap *c, const struct oc_msg *m, coap_pdu_code_t code,
			coap_optlist_t **opts, bool observe)
{
	uint8_t var[4];
	add_target(c, m, opts);
	if (observe)
		coap_insert_optlist(opts, coap_new_optlist(COAP_OPTION_OBSERVE,
							   coap_encode_var_safe(var, sizeof(var), COAP_OBSERVE_ESTABLISH),
							   var));
	if (c->format >= 0 && code != COAP_REQUEST_CODE_GET && code != COAP_REQUEST_CODE_DELETE)
		coap_insert_optlist(opts, coap_new_optlist(COAP_OPTION_CONTENT_FORMAT,
							   coap_encode_var_safe(var, sizeof(var), (unsigned)c->format), var));
	if (c->accept >= 0)
		coap_insert_optlist(opts, coap_new_optlist(COAP_OPTION_ACCEPT,
							   coap_encode_var_safe(var, sizeof(var), (unsigned)c->accept), var));
	const char *bs = oc_ep_opt(c->ep, "block-size");
	if (bs) {
		/* SZX: 16 << szx bytes; asking for Block2 sets the size of the answer's blocks */
		unsigned want = (unsigned)strtoul(bs, NULL, 10), szx = 0;
		while (szx < 6 && (16u << (szx + 1)) <= want)
			szx++;
		coap_insert_optlist(opts, coap_new_optlist(COAP_OPTION_BLOCK2,
							   coap_encode_var_safe(var, sizeof(var), szx), var));
	}
}

/* Hex digits, with or without 0x first, into bytes: how many, or -1 (not hex, too long). */
static ssize_t hex_bytes(const char *x, uint8_t *out, size_t max)
{
	if (!strncmp(x, "0x", 2))
		x += 2;
	return oc_hex_decode(x, strlen(x), out, max);
}

/* One option given as a header 'NAME: value': a registered option by name or number; text,
 * decimal or 0x hex. An unknown name is an error when strict (-H), else skipped: a message's
 * headers may come from another protocol (an HTTP request relayed has Host, Accept...). */
static int add_header_option(struct ocoap *c, coap_optlist_t **opts, const char *h, size_t nl,
			     const char *v, bool strict)
{
	char kind = 's', *end;
	unsigned long n = strtoul(h, &end, 10);
	unsigned num = end == h + nl ? (unsigned)n : ocoap_option_by_name(h, nl, &kind);
	if (!num && !strict)
		return 0;
	if (!num) {
		oc_ep_seterr(c->ep, OC_EUSAGE, "'%.*s' is not a CoAP option name or number", (int)nl,
			     h);
		return OC_EUSAGE;
	}
	uint8_t buf[512];
	size_t len;
	if (!strncmp(v, "0x", 2) || kind == 'o') {
		ssize_t x = hex_bytes(v, buf, sizeof(buf));
		if (x < 0) {
			oc_ep_seterr(c->ep, OC_EUSAGE, "option '%.*s': '%s' is not hex", (int)nl, h, v);
			return OC_EUSAGE;
		}
		len = (size_t)x;
	} else if (kind == 'u') {
		len = coap_encode_var_safe(buf, sizeof(buf), (unsigned)strtoul(v, NULL, 10));
	} else {
		len = strlen(v) < sizeof(buf) ? strlen(v) : sizeof(buf);
		memcpy(buf, v, len);
	}
	coap_insert_optlist(opts, coap_new_optlist((uint16_t)num, len, buf));
	return 0;
}

/* -H options, then the message's own headers (--jsonl, the REPL's :set header). */
static int add_header_options(struct ocoap *c, const struct oc_msg *m, coap_optlist_t **opts)
{
	size_t i = 0, nl;
	const char *h, *v;
	int r = 0;
	while (!r && (h = oc_cfg_next_header(c->ep->cfg, &i, &nl, &v)))
		r = add_header_option(c, opts, h, nl, v, true);
	for (unsigned k = 0; !r && m && k < m->nhdrs; k++)
		r = add_header_option(c, opts, m->hdrs[k].name, strlen(m->hdrs[k].name),
				      m->hdrs[k].value, false);
	return r;
}

static void new_token(struct ocoap *c)
{
	const char *t = oc_ep_opt(c->ep, "token");
	c->token_len = 0;
	if (t) {
		c->token_len = (size_t)hex_bytes(t, c->token, sizeof(c->token)); /* checked */
		return;
	}
	unsigned long n = ++c->next_token;
	do
		c->token[c->token_len++] = (uint8_t)n;
	while ((n >>= 8) && c->token_len < sizeof(c->token));
}

static void deadline_cb(uv_timer_t *t)
{
	struct ocoap *c = t->data;
	if (c->ended || c->closing)
		return;
	c->ended = true;
	if (ocoap_is_secure(c->ep) && !c->dtls_up)
		oc_ep_fail(c->ep, OC_ETLS, "'%s': the %s handshake did not finish", c->ep->name,
			   c->tcp ? "TLS" : "DTLS");
	else
		oc_ep_fail(c->ep, OC_ETIMEOUT, "'%s': no answer within the retransmission window",
			   c->ep->name);
}

/* Send m (or, for an observer, the registration) as one request. */
static int send_request(struct ocoap *c, struct oc_msg *m, bool observe)
{
	bool non = oc_ep_opt_flag(c->ep, "non") && !c->tcp;
	coap_pdu_code_t code = own_request(c, m) && m->f[OC_F_METHOD] ? method_code(m->f[OC_F_METHOD])
								      : c->method;
	if (!code) {
		oc_ep_seterr(c->ep, OC_EUSAGE, "'%s': '%s' is not a CoAP method", c->ep->name,
			     m->f[OC_F_METHOD]);
		return OC_EUSAGE;
	}
	coap_pdu_t *pdu = coap_pdu_init(non ? COAP_MESSAGE_NON : COAP_MESSAGE_CON, code,
					coap_new_message_id(c->session),
					coap_session_max_pdu_size(c->session));
	if (!pdu)
		return OC_EFAIL;
	new_token(c);
	coap_add_token(pdu, c->token_len, c->token);
	coap_optlist_t *opts = NULL;
	add_options(c, m, code, &opts, observe);
	int r = add_header_options(c, m, &opts);
	if (r) {
		coap_delete_optlist(opts);
		coap_delete_pdu(pdu);
		return r;
	}
	coap_add_optlist_pdu(pdu, &opts);
	coap_delete_optlist(opts);
	if (m && m->len) {
		/* libcoap keeps the data until sent: the message holds it, released with it */
		coap_add_data_large_request(c->session, pdu, m->len, (const uint8_t *)m->data,
					    NULL, NULL);
	}
	oc_verbose("'%s': %s request%s, %zu bytes", c->ep->name, observe ? "Observe" : "sent",
		   non ? " (non-confirmable)" : "", m ? m->len : 0);
	if (coap_send(c->session, pdu) == COAP_INVALID_MID)
		return OC_EFAIL;
	if (c->own_deadline)
		uv_timer_start(c->deadline, deadline_cb, c->wait_ms, 0);
	ocoap_loop_arm(&c->loop);
	return 0;
}

static void probed(void *data, int result)
{
	struct ocoap *c = data;
	c->probe = NULL;
	if (result)
		oc_ep_fail(c->ep, result, "'%s': cannot connect", c->ep->name);
	else
		oc_ep_fail(c->ep, OC_ETLS, "'%s': the TLS handshake failed", c->ep->name);
}

static void probe_why(struct ocoap *c)
{
	const struct oc_url *u = &c->ep->spec->url;
	c->probe = oc_tcp_probe_start(u->host, c->port, c->ep->cfg, probed, c);
	if (!c->probe)
		probed(c, OC_ECONNECT);
}

static void send_next(struct ocoap *c)
{
	char why[sizeof(c->ep->errmsg)];
	while (!c->cur && c->q.len && c->session && !c->closing && !c->ended) {
		c->cur = oc_msgq_pop(&c->q);
		int r = send_request(c, c->cur, false);
		if (r) {
			oc_ep_dropped(c->ep, c->cur);
			c->cur = NULL;
			c->ended = true;
			/* over TCP, sending fails when the connection could not be made: over TLS
			 * a probe tells a refused connection from a failed handshake */
			if (c->tcp && r == OC_EFAIL && ocoap_is_secure(c->ep))
				probe_why(c);
			else if (c->tcp && r == OC_EFAIL)
				oc_ep_fail(c->ep, OC_ECONNECT, "'%s': cannot connect", c->ep->name);
			else if (r == OC_EUSAGE) /* the message's method or an option: said why */
				oc_ep_fail(c->ep, r, "%s", strcpy(why, c->ep->errmsg));
			else
				oc_ep_fail(c->ep, r, "'%s': cannot send the request", c->ep->name);
			return;
		}
	}
	if (c->shut && !c->cur && !c->q.len && !c->ended) {
		c->ended = true;
		oc_ep_flushed(c->ep);
		if (c->ep->role == OC_ROLE_CLIENT)
			oc_ep_eof(c->ep);
	}
}

/* ---- answers ------------------------------------------------------------------------------- */

/* A response or notification as a message: payload, status (2.05 → 205), options. */
static struct oc_msg *answer_msg(const coap_pdu_t *pdu)
{
	struct oc_msg *m = oc_msg_new();
	size_t len = 0, off, total;
	const uint8_t *data = NULL;
	if (coap_get_data_large(pdu, &len, &data, &off, &total))
		oc_msg_set_payload_copy(m, data, len);
	coap_pdu_code_t code = coap_pdu_get_code(pdu);
	oc_msg_set_status(m, (int)COAP_RESPONSE_CLASS(code) * 100 + (code & 0x1f));
	ocoap_options_to_msg(m, pdu);
	return m;
}

static void deliver(struct ocoap *c, struct oc_msg *m)
{
	if (c->paused || c->held.len)
		oc_msgq_push(&c->held, m);
	else
		oc_ep_emit(c->ep, m);
}

/* RFC 7641 §3.3.1: a notification is fresh for its Max-Age (60 s without one); when that
 * passes with no newer one, the client registers again (a server that restarted forgot it).
 * A second of slack lets a notification sent on time arrive. */
static void reobserve_cb(uv_timer_t *t)
{
	struct ocoap *c = t->data;
	if (c->closing || c->ended)
		return;
	oc_verbose("'%s': registering again (Observe)", c->ep->name);
	int e = send_request(c, NULL, true);
	if (e && !c->ended) {
		c->ended = true;
		oc_ep_fail(c->ep, e, "'%s': cannot send the Observe request", c->ep->name);
	}
}

static void reobserve_after(struct ocoap *c, const coap_pdu_t *pdu)
{
	coap_opt_iterator_t it;
	coap_opt_t *o = coap_check_option(pdu, COAP_OPTION_MAXAGE, &it);
	unsigned age = o ? coap_decode_var_bytes(coap_opt_value(o), coap_opt_length(o)) : 60;
	uv_timer_start(c->reobserve, reobserve_cb, (uint64_t)age * 1000 + 1000, 0);
}

static coap_response_t on_response(coap_session_t *session, const coap_pdu_t *sent,
				   const coap_pdu_t *received, const coap_mid_t mid)
{
	struct ocoap *c = coap_session_get_app_data(session);
	coap_bin_const_t tok = coap_pdu_get_token(received);
	if (!c || c->closing || tok.length != c->token_len || memcmp(tok.s, c->token, tok.length))
		return COAP_RESPONSE_FAIL; /* not ours (an old observation): RST */
	coap_pdu_code_t code = coap_pdu_get_code(received);
	struct oc_msg *m = answer_msg(received);
	if (c->deadline)
		uv_timer_stop(c->deadline);
	if (oc_log.verbose) {
		char opts[512] = "";
		size_t k = 0;
		if (m->f[OC_F_CONTENT_TYPE])
			k += (size_t)snprintf(opts, sizeof(opts), ", Content-Format %s",
					      m->f[OC_F_CONTENT_TYPE]);
		for (unsigned i = 0; i < m->nhdrs && k < sizeof(opts); i++)
			k += (size_t)snprintf(opts + k, sizeof(opts) - k, ", %s %s", m->hdrs[i].name,
					      m->hdrs[i].value);
		oc_verbose("'%s': %d.%02d, %zu bytes%s", c->ep->name, COAP_RESPONSE_CLASS(code),
			   code & 0x1f, m->len, opts);
	}
	if (c->ep->role == OC_ROLE_SUB) {
		if (COAP_RESPONSE_CLASS(code) != 2 && c->observing && c->ep->cfg->reconnect) {
			/* the observation ended (a server going down says 4.04): register again */
			uint64_t ms = oc_backoff_next(&c->backoff);
			oc_verbose("'%s': the observation ended (%d.%02d); again in %llu ms",
				   c->ep->name, COAP_RESPONSE_CLASS(code), code & 0x1f,
				   (unsigned long long)ms);
			uv_timer_start(c->reobserve, reobserve_cb, ms, 0);
			oc_msg_unref(m);
			return COAP_RESPONSE_OK;
		}
		if (COAP_RESPONSE_CLASS(code) != 2 && !c->ended) {
			c->ended = true;
			int err = code == COAP_RESPONSE_CODE(401) || code == COAP_RESPONSE_CODE(403)
					  ? OC_EAUTH : OC_EPEER;
			oc_ep_fail(c->ep, err, "'%s': the server answered %d.%02d %.*s", c->ep->name,
				   COAP_RESPONSE_CLASS(code), code & 0x1f, (int)m->len, m->data);
			oc_msg_unref(m);
			return COAP_RESPONSE_OK;
		}
		c->observing = true;
		oc_backoff_reset(&c->backoff);
		reobserve_after(c, received);
		deliver(c, m);
		return COAP_RESPONSE_OK;
	}
	struct oc_msg *req = c->cur;
	c->cur = NULL;
	if (req && req->f[OC_F_ID])
		oc_msg_set_str(m, OC_F_ID, req->f[OC_F_ID]);
	if (req)
		oc_ep_sent(c->ep, req);
	/* An empty answer (2.04 Changed) prints nothing, as curl prints nothing for an empty
	 * body; with --jsonl or --format it is still a message. */
	bool plain_empty = !m->len && c->ep->cfg->body_bytes;
	if (c->ep->role == OC_ROLE_CLIENT && !plain_empty)
		deliver(c, m);
	else
		oc_msg_unref(m);
	/* -f: a 4.xx or 5.xx answer, its diagnostic printed, is a failure (DESIGN §5) */
	if (c->ep->cfg->fail && COAP_RESPONSE_CLASS(code) >= 4 && !c->ended) {
		bool auth = code == COAP_RESPONSE_CODE(401) || code == COAP_RESPONSE_CODE(403);
		c->ended = true;
		oc_ep_fail(c->ep, auth ? OC_EAUTH : OC_EPEER, "'%s' answered %d.%02d", c->ep->name,
			   COAP_RESPONSE_CLASS(code), code & 0x1f);
		return COAP_RESPONSE_OK;
	}
	send_next(c);
	return COAP_RESPONSE_OK;
}

static void on_nack(coap_session_t *session, const coap_pdu_t *sent,
		    const coap_nack_reason_t reason, const coap_mid_t mid)
{
	struct ocoap *c = coap_session_get_app_data(session);
	if (!c || c->closing || c->ended)
		return;
	if (c->ep->role == OC_ROLE_SUB && c->ep->cfg->reconnect && reason != COAP_NACK_TLS_FAILED) {
		/* the server is gone (a restart): register again, after a while */
		uint64_t ms = oc_backoff_next(&c->backoff);
		oc_verbose("'%s': no answer to the Observe request; again in %llu ms", c->ep->name,
			   (unsigned long long)ms);
		uv_timer_start(c->reobserve, reobserve_cb, ms, 0);
		return;
	}
	c->ended = true;
	if (c->ep->role == OC_ROLE_SUB && c->observing) {
		oc_ep_fail(c->ep, OC_EINCOMPLETE, "'%s': lost the observation (the server does not "
			   "answer)", c->ep->name);
		return;
	}
	switch (reason) {
	case COAP_NACK_TOO_MANY_RETRIES:
		oc_ep_fail(c->ep, OC_ETIMEOUT, "'%s': no answer within the retransmission window",
			   c->ep->name);
		break;
	case COAP_NACK_NOT_DELIVERABLE:
	case COAP_NACK_ICMP_ISSUE:
		/* over UDP, a port with nothing behind it answers with ICMP at once: for CoAP
		 * that is no answer, as if the retransmissions had run out */
		if (!c->tcp) {
			oc_ep_fail(c->ep, OC_ETIMEOUT, "'%s': no answer (the port is unreachable)",
				   c->ep->name);
			break;
		}
		oc_ep_fail(c->ep, OC_ECONNECT, "'%s': cannot reach the server", c->ep->name);
		break;
	case COAP_NACK_RST:
		oc_ep_fail(c->ep, OC_EPEER, "'%s': the server reset the request", c->ep->name);
		break;
	case COAP_NACK_TLS_FAILED:
		oc_ep_fail(c->ep, OC_ETLS, "'%s': the DTLS handshake failed", c->ep->name);
		break;
	default:
		oc_ep_fail(c->ep, OC_ECONNECT, "'%s': cannot reach the server", c->ep->name);
		break;
	}
}

/* Session events: a DTLS/TLS handshake that failed (a wrong key) ends the run at once with
 * 7, a TCP connection that failed with 6, rather than after the retransmissions. */
static int on_event(coap_session_t *session, const coap_event_t event)
{
	struct ocoap *c = coap_session_get_app_data(session);
	if (!c || c->closing || c->ended)
		return 0;
	bool secure = ocoap_is_secure(c->ep);
	if (event == COAP_EVENT_DTLS_ERROR ||
	    (event == COAP_EVENT_DTLS_CLOSED && secure && !c->dtls_up)) {
		c->ended = true;
		oc_ep_fail(c->ep, OC_ETLS, "'%s': the %s handshake failed", c->ep->name,
			   c->tcp ? "TLS" : "DTLS");
	} else if (event == COAP_EVENT_TCP_FAILED) {
		c->ended = true;
		oc_ep_fail(c->ep, OC_ECONNECT, "'%s': cannot connect", c->ep->name);
	} else if (event == COAP_EVENT_DTLS_CONNECTED) {
		c->dtls_up = true;
		if (c->deadline && !c->own_deadline)
			uv_timer_stop(c->deadline);
	}
	return 0;
}

/* ---- opening ------------------------------------------------------------------------------- */

static void finish(struct oc_defer *d);

/* coaps:// (DTLS) or coaps+tcp:// (TLS) with a pre-shared key: the identity given, the
 * key the first line of --psk-key-file (never printed). A wrong key fails the handshake:
 * libcoap reports it as COAP_NACK_TLS_FAILED (exit 7). */
static coap_session_t *psk_session(struct ocoap *c, const coap_address_t *local,
				   const coap_address_t *dst)
{
	const char *id = oc_ep_opt(c->ep, "psk-identity"), *file = oc_ep_opt(c->ep, "psk-key-file");
	char *key;
	size_t len;
	if (ocoap_read_key(file, &key, &len)) {
		oc_ep_fail(c->ep, OC_EIO, "cannot read '%s'", file);
		return NULL;
	}
	coap_dtls_cpsk_t setup;
	memset(&setup, 0, sizeof(setup));
	setup.version = COAP_DTLS_CPSK_SETUP_VERSION;
	setup.client_sni = c->ep->spec->url.host;
	setup.psk_info.identity.s = (const uint8_t *)id;
	setup.psk_info.identity.length = strlen(id);
	setup.psk_info.key.s = (const uint8_t *)key;
	setup.psk_info.key.length = len;
	coap_session_t *s = coap_new_client_session_psk2(c->loop.ctx, local, dst,
							 c->tcp ? COAP_PROTO_TLS : COAP_PROTO_DTLS,
							 &setup);
	memset(key, 0, len);
	free(key);
	return s;
}

/* coaps:// or coaps+tcp:// with certificates: the server's checked against --cacert (else
 * the system's CAs) and the host name unless -k; ours from --cert/--key when given. A
 * certificate refused fails the handshake (exit 7). */
static coap_session_t *pki_session(struct ocoap *c, const coap_address_t *local,
				   const coap_address_t *dst)
{
	coap_dtls_pki_t setup;
	ocoap_pki_setup(c->ep, &setup, false);
	if (ocoap_pki_roots(c->ep, c->loop.ctx))
		oc_verbose("'%s': cannot load the system's CA certificates", c->ep->name);
	return coap_new_client_session_pki(c->loop.ctx, local, dst,
					   c->tcp ? COAP_PROTO_TLS : COAP_PROTO_DTLS, &setup);
}

/* The session: plain, with a pre-shared key, or with certificates; from --bind's address
 * when given (checked by ocoap_check). */
static coap_session_t *new_session(struct ocoap *c, const coap_address_t *dst)
{
	coap_address_t local, *lp = NULL;
	const char *bind = oc_ep_opt(c->ep, "bind");
	if (bind) {
		ocoap_parse_addr(bind, &local);
		lp = &local;
	}
	if (!ocoap_is_secure(c->ep))
		return coap_new_client_session(c->loop.ctx, lp, dst,
					       c->tcp ? COAP_PROTO_TCP : COAP_PROTO_UDP);
	if (oc_ep_opt(c->ep, "psk-identity"))
		return psk_session(c, lp, dst);
	return pki_session(c, lp, dst);
}

static void resolved(struct oc_resolve *r, int status, struct addrinfo *ai)
{
	struct ocoap *c = r->data;
	if (c->closing) { /* ocoap_close() waited for this */
		if (ai)
			uv_freeaddrinfo(ai);
		oc_defer_schedule(&c->finish);
		return;
	}
	if (status) {
		oc_ep_fail(c->ep, OC_ERESOLVE, "cannot resolve '%s': %s", c->ep->name,
			   uv_strerror(status));
		return;
	}
	coap_address_t dst;
	coap_address_init(&dst);
	memcpy(&dst.addr, ai->ai_addr, ai->ai_addrlen);
	dst.size = ai->ai_addrlen;
	uv_freeaddrinfo(ai);
	if (ocoap_loop_start(&c->loop)) {
		oc_ep_fail(c->ep, OC_EFAIL, "cannot start libcoap for '%s'", c->ep->name);
		return;
	}
	coap_register_response_handler(c->loop.ctx, on_response);
	coap_register_nack_handler(c->loop.ctx, on_nack);
	coap_register_event_handler(c->loop.ctx, on_event);
	c->session = new_session(c, &dst);
	if (!c->session) {
		oc_ep_fail(c->ep, OC_ECONNECT, "cannot open a CoAP session to '%s'", c->ep->name);
		return;
	}
	coap_session_set_app_data(c->session, c);
	const char *v = oc_ep_opt(c->ep, "ack-timeout");
	if (v) {
		/* libcoap 4.3 ignores an ack timeout under a second: one second then */
		double s = strtod(v, NULL);
		if (s < 1) {
			oc_verbose("'%s': --ack-timeout %s is raised to libcoap's least, 1 s",
				   c->ep->name, v);
			s = 1;
		}
		coap_fixed_point_t t = { (uint16_t)s, (uint16_t)((s - (unsigned)s) * 1000) };
		coap_session_set_ack_timeout(c->session, t);
	}
	unsigned mr = 4;
	if ((v = oc_ep_opt(c->ep, "max-retransmit"))) {
		mr = (unsigned)strtoul(v, NULL, 10);
		if (mr) /* libcoap takes 1 and more; 0 is our deadline's */
			coap_session_set_max_retransmit(c->session, (uint16_t)mr);
	}
	/* Our own deadline, at RFC 7252's MAX_TRANSMIT_WAIT for the values given (ACK_TIMEOUT ×
	 * (2^(MAX_RETRANSMIT + 1) − 1) × ACK_RANDOM_FACTOR), where libcoap would wait longer:
	 * it retransmits at least once (--max-retransmit 0), and a DTLS handshake whose peer
	 * goes quiet (a wrong key, the alert lost) waits for no timeout of its own. */
	const char *at = oc_ep_opt(c->ep, "ack-timeout");
	bool own = v && mr == 0 && !c->tcp;
	if (own || ocoap_is_secure(c->ep)) {
		double ack = at ? strtod(at, NULL) : 2;
		c->wait_ms = (uint64_t)(ack * (double)((2u << mr) - 1) * 1.5 * 1000);
		c->deadline = xmalloc(sizeof(*c->deadline));
		uv_timer_init(uv_default_loop(), c->deadline);
		c->deadline->data = c;
		c->own_deadline = own;
		if (ocoap_is_secure(c->ep)) /* until the handshake is done */
			uv_timer_start(c->deadline, deadline_cb, c->wait_ms, 0);
	}
	c->ready = true;
	oc_ep_ready(c->ep);
	if (c->ep->role == OC_ROLE_SUB) {
		c->reobserve = xmalloc(sizeof(*c->reobserve));
		uv_timer_init(uv_default_loop(), c->reobserve);
		c->reobserve->data = c;
		int e = send_request(c, NULL, true);
		if (e)
			oc_ep_fail(c->ep, c->tcp && e == OC_EFAIL ? OC_ECONNECT : e,
				   "'%s': cannot send the Observe request", c->ep->name);
	}
	send_next(c);
}

static int ocoap_check(struct oc_ep *ep)
{
	const struct oc_url *u = &ep->spec->url;
	if (!u->host || !*u->host) {
		oc_ep_seterr(ep, OC_EUSAGE, "'%s' needs a host", ep->name);
		return OC_EUSAGE;
	}
	if (!oc_ep_opt(ep, "psk-identity") != !oc_ep_opt(ep, "psk-key-file")) {
		oc_ep_seterr(ep, OC_EUSAGE, "'%s': --psk-identity and --psk-key-file go together",
			     ep->name);
		return OC_EUSAGE;
	}
	int r = ocoap_is_secure(ep) && !oc_ep_opt(ep, "psk-identity") ? ocoap_pki_check(ep, false) : 0;
	if (r)
		return r;
	coap_address_t a;
	const char *bind = oc_ep_opt(ep, "bind");
	if (bind && ocoap_parse_addr(bind, &a)) {
		oc_ep_seterr(ep, OC_EUSAGE, "invalid --bind '%s': expected an IP address", bind);
		return OC_EUSAGE;
	}
	const char *bad = NULL;
	if (ocoap_format_of(oc_ep_opt(ep, "content-format")) == -2)
		bad = "content-format";
	else if (ocoap_format_of(oc_ep_opt(ep, "accept")) == -2)
		bad = "accept";
	if (bad) {
		oc_ep_seterr(ep, OC_EUSAGE, "unknown Content-Format '%s' for --%s", oc_ep_opt(ep, bad),
			     bad);
		return OC_EUSAGE;
	}
	const char *t = oc_ep_opt(ep, "token");
	uint8_t tok[8];
	if (t && hex_bytes(t, tok, sizeof(tok)) < 0) {
		oc_ep_seterr(ep, OC_EUSAGE, "invalid --token '%s': expected up to 8 bytes in hex", t);
		return OC_EUSAGE;
	}
	const char *b = oc_ep_opt(ep, "block-size");
	unsigned long bs = b ? strtoul(b, NULL, 10) : 16;
	if (bs < 16 || bs > 1024 || (bs & (bs - 1))) {
		oc_ep_seterr(ep, OC_EUSAGE, "invalid --block-size '%s': expected 16, 32, ... or 1024", b);
		return OC_EUSAGE;
	}
	const char *mr = oc_ep_opt(ep, "max-retransmit");
	if (mr && (strspn(mr, "0123456789") != strlen(mr) || !*mr || strtoul(mr, NULL, 10) > 20)) {
		oc_ep_seterr(ep, OC_EUSAGE, "invalid --max-retransmit '%s': expected 0 to 20", mr);
		return OC_EUSAGE;
	}
	return 0;
}

/* The endpoint's method: -X, else PUT to publish and GET otherwise. */
static coap_pdu_code_t method_of(const struct oc_ep *ep)
{
	if (!ep->cfg->method)
		return ep->role == OC_ROLE_PUB ? COAP_REQUEST_CODE_PUT : COAP_REQUEST_CODE_GET;
	return method_code(ep->cfg->method);
}

static int ocoap_open(struct oc_ep *ep)
{
	struct ocoap *c = ep->priv;
	const struct oc_url *u = &ep->spec->url;
	c->ep = ep;
	c->paused = true;
	oc_defer_init(&c->finish, finish);
	c->method = method_of(ep);
	if (!c->method) {
		oc_ep_seterr(ep, OC_EUSAGE, "'%s' is not a CoAP method", ep->cfg->method);
		return OC_EUSAGE;
	}
	c->format = ocoap_format_of(oc_ep_opt(ep, "content-format"));
	c->accept = ocoap_format_of(oc_ep_opt(ep, "accept"));
	c->tcp = strstr(u->scheme, "+tcp") != NULL;
	c->res.data = c;
	int port = u->port >= 0 ? u->port : ocoap_is_secure(ep) ? 5684 : 5683;
	c->port = port;
	int e = oc_resolve_start(&c->res, u->host, port, c->tcp ? SOCK_STREAM : SOCK_DGRAM, ep->cfg,
				 false, resolved);
	if (e) {
		oc_ep_seterr(ep, OC_ERESOLVE, "cannot resolve '%s': %s", ep->name, uv_strerror(e));
		return OC_ERESOLVE;
	}
	return 0;
}

/* ---- the rest of the vtable ---------------------------------------------------------------- */

static void ocoap_write(struct oc_ep *ep, struct oc_msg *m)
{
	struct ocoap *c = ep->priv;
	oc_msgq_push(&c->q, m);
	send_next(c);
}

static void ocoap_pause(struct oc_ep *ep)
{
	((struct ocoap *)ep->priv)->paused = true;
}

static void ocoap_resume(struct oc_ep *ep)
{
	struct ocoap *c = ep->priv;
	c->paused = false;
	while (!c->paused && c->held.len && !c->closing)
		oc_ep_emit(ep, oc_msgq_pop(&c->held));
}

static void ocoap_shutdown(struct oc_ep *ep)
{
	struct ocoap *c = ep->priv;
	c->shut = true;
	send_next(c);
}

/* The close, on a later turn: a close may come from inside a libcoap callback (the last
 * answer ends the run), and libcoap still uses the session when the callback returns. */
static void finish(struct oc_defer *d)
{
	struct ocoap *c = (struct ocoap *)((char *)d - offsetof(struct ocoap, finish));
	struct oc_ep *ep = c->ep;
	if (c->session && c->ep->role == OC_ROLE_SUB && c->token_len) {
		/* deregister: a GET with Observe 1 and the same token (RFC 7641 §3.6) */
		coap_cancel_observe(c->session, &(coap_binary_t){ c->token_len, c->token },
				    COAP_MESSAGE_CON);
		coap_io_process(c->loop.ctx, COAP_IO_NO_WAIT);
	}
	if (c->cur)
		oc_ep_dropped(ep, c->cur);
	struct oc_msg *m;
	while ((m = oc_msgq_pop(&c->q)))
		oc_ep_dropped(ep, m);
	oc_msgq_release(&c->held);
	oc_msgq_release(&c->q);
	if (c->session)
		coap_session_release(c->session);
	ocoap_loop_stop(&c->loop);
	if (c->deadline)
		oc_uv_close_free(c->deadline);
	if (c->reobserve)
		oc_uv_close_free(c->reobserve);
	oc_ep_closed(ep);
}

static void ocoap_close(struct oc_ep *ep)
{
	struct ocoap *c = ep->priv;
	c->closing = true;
	if (c->probe)
		oc_tcp_probe_cancel(c->probe);
	c->probe = NULL;
	if (c->res.active) { /* the lookup's callback comes anyway: it schedules the finish */
		oc_resolve_cancel(&c->res);
		return;
	}
	oc_defer_schedule(&c->finish);
}

static void ocoap_version(char *buf, size_t len)
{
	snprintf(buf, len, "%s", coap_package_version());
}

const struct oc_adapter oc_adapter_coap = {
	.name = "coap",
	.flags = OC_AF_CLIENT | OC_AF_PUB | OC_AF_SUB | OC_AF_REQUEST | OC_AF_HEADERS | OC_AF_TLS |
		 OC_AF_ONEWAY,
	.opts = ocoap_opts,
	.priv_size = sizeof(struct ocoap),
	.methods = coap_methods,
	.discovery = "/.well-known/core",
	.status_dotted = true,
	.check = ocoap_check,
	.open = ocoap_open,
	.write = ocoap_write,
	.pause = ocoap_pause,
	.resume = ocoap_resume,
	.shutdown = ocoap_shutdown,
	.close = ocoap_close,
	.version = ocoap_version,
};
