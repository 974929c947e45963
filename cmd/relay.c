/* cmd/relay.c — `omnicat relay A B`: A → B, and B → A where both sides can.
 *
 * A is read as `sub A` would, B written as `pub B` would; where both are two-way (clients or
 * listeners), both directions flow. A listener A relayed to a connection-per-peer B (tcp,
 * unix, udp, exec) gives each accepted peer its own B: a port forwarder (socat's fork).
 * Other listeners are aggregated (all peers as one side). Between two byte streams joined
 * one-to-one, bytes pass unchanged (raw framing) unless --framing says otherwise. */
#include "adapter.h"
#include "cmd.h"
#include "err.h"
#include "fork.h"
#include "pump.h"

/* What the scheme table says about one side, before anything is created. */
struct side {
	const char *url;              /* as given */
	struct oc_cfg *cfg;           /* its options */
	const struct oc_adapter *ad;  /* adapter, or NULL (unknown: creating it reports why) */
	bool listens;                 /* a "-listen" scheme */
};

static struct side side_of(const char *url, struct oc_cfg *cfg)
{
	struct side s = { url, cfg, NULL, false };
	char scheme[32], err[256];
	if (oc_url_scheme(url, scheme, sizeof(scheme), err, sizeof(err)) == 0) {
		const struct oc_scheme *sch = oc_scheme_find(scheme);
		s.listens = sch && (sch->flags & OC_SF_LISTEN);
		s.ad = !sch ? NULL : s.listens && sch->server_ad ? sch->server_ad : sch->ad;
	}
	return s;
}

static bool has(const struct side *s, unsigned f)
{
	return s->ad && (s->ad->flags & f);
}

/* Two-way where the adapter can; else the one-way role of this side. */
static enum oc_role role_of(const struct side *s, bool left)
{
	if (s->listens || (has(s, OC_AF_CLIENT) && !has(s, OC_AF_ONEWAY)))
		return OC_ROLE_CLIENT;
	return left ? OC_ROLE_SUB : OC_ROLE_PUB;
}

/* The fork's target: one relay per process, so it can live here. */
static struct side target;

static struct oc_ep *make_target(void *ud, struct oc_ep *conn, char *err, size_t errlen)
{
	struct oc_ep *ep = NULL;
	oc_ep_create(target.url, target.cfg, OC_ROLE_CLIENT, &ep, err, errlen);
	return ep;
}

int cmd_relay(struct cmd_ctx *c)
{
	struct side a = side_of(c->args.urls[0], &c->args.ep[0]);
	struct side b = side_of(c->args.urls[1], &c->args.ep[1]);
	bool a_conns = a.listens && has(&a, OC_AF_CONNS), b_conns = b.listens && has(&b, OC_AF_CONNS);
	bool fork = a_conns && !b.listens && has(&b, OC_AF_PER_PEER);
	bool one_to_one = fork || (!a_conns && !b_conns);
	if (one_to_one && has(&a, OC_AF_STREAM) && has(&b, OC_AF_STREAM)) {
		if (!a.cfg->framing)
			a.cfg->framing = OC_FRAMING_RAW + 1;
		if (!b.cfg->framing)
			b.cfg->framing = OC_FRAMING_RAW + 1;
	}
	/* A request/response server relays its requests to B and answers each with B's answer
	 * (B is a request/response client: a reverse proxy) or, B being one-way, with success
	 * once B took the message (DESIGN §4). */
	if (a.listens && has(&a, OC_AF_REQUEST))
		a.cfg->relay_reply = has(&b, OC_AF_REQUEST) && !has(&b, OC_AF_ONEWAY) ? OC_RELAY_BY_ID
										  : OC_RELAY_ACK;
	int status = 0;
	struct oc_ep *ea = cmd_endpoint(a.url, a.cfg, role_of(&a, true), &status);
	struct oc_ep *eb = ea ? cmd_endpoint(b.url, b.cfg, role_of(&b, false), &status) : NULL;
	struct oc_ep *eps[2] = { ea, eb };
	if (!ea || !eb || (status = cmd_check_options(eps, 2)) != 0) {
		if (ea)
			oc_ep_close(ea);
		if (eb)
			oc_ep_close(eb);
		return status;
	}
	if (fork) {
		target = b;
		oc_ep_close(eb); /* each connection gets its own */
		oc_fork_start(&c->run, ea, make_target, NULL);
		return 0;
	}
	bool a_two = ea->role == OC_ROLE_CLIENT, b_two = eb->role == OC_ROLE_CLIENT;
	if (a.cfg->relay_reply == OC_RELAY_ACK)
		b_two = false; /* B's messages have nothing to answer */
	unsigned active = OC_DIR_AB | (a_two && b_two ? OC_DIR_BA : 0);
	/* A hub never ends by itself: only directions from another source end the relay. */
	unsigned need = (a_conns ? 0 : OC_DIR_AB) | (b_conns ? 0 : active & OC_DIR_BA);
	const struct oc_pump_cfg pc = {
		.active = active,
		.need = need,
		.propagate = active,
		.counted = OC_DIR_AB,
		/* a two-way B that only receives is still read: its peers' closes and pings
		 * are answered (ws-listen fed by a subscription) */
		.discard = eb->role == OC_ROLE_CLIENT && !(active & OC_DIR_BA) ? OC_DIR_BA : 0,
	};
	oc_pump_start(oc_pump_new(&c->run, cmd_aggregate(ea, false), cmd_aggregate(eb, false), &pc,
				  NULL, NULL));
	return 0;
}
