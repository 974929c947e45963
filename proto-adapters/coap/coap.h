/* proto-adapters/coap/coap.h — CoAP on libcoap 4.3, shared by the adapter's files:
 *
 *   common.c  libcoap on our loop, Content-Format names, options as headers
 *   client.c  client (requests), pub (PUT each message), sub (Observe)
 *   server.c  server: resources, GET the latest stdin message, Observe, PUT/POST/DELETE out
 *
 * libcoap here is built with epoll: its context has one fd to poll (uv_poll) and
 * coap_io_process(ctx, COAP_IO_NO_WAIT) does what is ready; coap_io_prepare_epoll() says
 * when the next retransmission or timeout is due, which arms a uv_timer. No thread, no busy
 * loop. Names here start with ocoap_: coap_ is libcoap's. */
#ifndef OC_COAP_H
#define OC_COAP_H

#include <coap3/coap.h>
#include <uv.h>

#include "adapter.h"

/* A libcoap context on the loop. */
struct ocoap_loop {
	coap_context_t *ctx;
	uv_poll_t *poll;
	uv_timer_t *timer;
};

/* Make the context (block-wise transfers done by libcoap, whole bodies), poll it. 0 or
 * OC_EFAIL. */
int ocoap_loop_start(struct ocoap_loop *l);
/* After any work: wake up when libcoap wants to run next. */
void ocoap_loop_arm(struct ocoap_loop *l);
/* Free the context, close the handles. Not from inside a libcoap callback. */
void ocoap_loop_stop(struct ocoap_loop *l);

/* A Content-Format by name (json, text, cbor...) or number; -1 for NULL, -2 unknown. */
int ocoap_format_of(const char *v);
/* The media type of a Content-Format number, or NULL. */
const char *ocoap_format_name(unsigned n);
/* A PDU's options into m: Content-Format as its content type, the others as headers by
 * name (or number). */
void ocoap_options_to_msg(struct oc_msg *m, const coap_pdu_t *pdu);

/* A registered option by name (case-insensitive): its number and how its value is written
 * (*kind: 's' text, 'u' a number, 'o' opaque bytes); 0 if unknown. */
unsigned ocoap_option_by_name(const char *name, size_t nlen, char *kind);
/* The pre-shared key: the first line of file, in a new block (*len bytes; wipe it after
 * use). 0, or -errno. */
int ocoap_read_key(const char *file, char **key, size_t *len);
/* coaps with certificates: *pki from --cert, --key, --cacert and -k (the strings stay the
 * endpoint's). A client checks the server's chain and host name unless -k (the system's CAs
 * without --cacert: see ocoap_pki_roots); a server asks clients for a certificate only with
 * --cacert. */
void ocoap_pki_setup(struct oc_ep *ep, coap_dtls_pki_t *pki, bool server);
/* The files of --cert, --key and --cacert load and match (libcoap reads them only at the
 * first handshake): 0, or an OC_E* with oc_ep_seterr() saying which and why. */
int ocoap_pki_check(struct oc_ep *ep, bool server);
/* A client without --cacert trusts the system's CAs. 0, or -1. */
int ocoap_pki_roots(struct oc_ep *ep, coap_context_t *ctx);
/* An IPv4 or IPv6 address (port 0) into *a; 0, or -1 if it is none. */
int ocoap_parse_addr(const char *s, coap_address_t *a);
/* coaps:// and coaps+tcp:// */
bool ocoap_is_secure(const struct oc_ep *ep);

#endif
