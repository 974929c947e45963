/* core/net.c — see net.h. */
#include "net.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *ai)
{
	struct oc_resolve *r = req->data;
	r->active = false;
	r->cb(r, status, ai);
}

int oc_resolve_start(struct oc_resolve *r, const char *host, int port, int socktype,
		     const struct oc_cfg *cfg, bool passive, oc_resolve_cb cb)
{
	struct addrinfo hints;
	char portstr[8];
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = cfg->ipv4 ? AF_INET : cfg->ipv6 ? AF_INET6 : AF_UNSPEC;
	hints.ai_socktype = socktype;
	hints.ai_flags = passive ? AI_PASSIVE : AI_ADDRCONFIG;
	snprintf(portstr, sizeof(portstr), "%d", port);
	r->cb = cb;
	r->req.data = r;
	int e = uv_getaddrinfo(uv_default_loop(), &r->req, resolved, host, portstr, &hints);
	r->active = e == 0;
	return e;
}

void oc_resolve_cancel(struct oc_resolve *r)
{
	if (r->active)
		uv_cancel((uv_req_t *)&r->req);
}

void oc_sockaddr_str(const struct sockaddr *sa, char *out, size_t outlen)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		snprintf(out, outlen, "%s:%u", ip, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		snprintf(out, outlen, "[%s]:%u", ip, ntohs(in6->sin6_port));
	} else {
		snprintf(out, outlen, "unknown");
	}
}

const char *oc_listen_host(const struct oc_ep *ep)
{
	const char *h = ep->spec->url.host;
	if (h && *h)
		return h;
	return ep->cfg->ipv6 ? "::1" : "127.0.0.1";
}

uint64_t oc_backoff_next(struct oc_backoff *b)
{
	uint64_t ms = 100;
	for (unsigned i = 0; i < b->attempt && ms < 5000; i++)
		ms *= 2;
	if (ms > 5000)
		ms = 5000;
	b->attempt++;
	/* up to 25% jitter so many clients do not reconnect in step */
	return ms - ms / 4 + (uint64_t)(rand() % (int)(ms / 4 + 1));
}
