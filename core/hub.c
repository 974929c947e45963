/* core/hub.c — see hub.h. */
#include "hub.h"

#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "err.h"
#include "log.h"
#include "xalloc.h"

struct peer {
	struct oc_ep *ep;    /* the connection */
	struct peer *next;   /* list link */
	bool full;           /* counted in hub->nfull */
	bool echo_blocked;   /* paused until its own queue drains (echo) */
	bool gone;           /* ended: no more writes */
	bool flushing;       /* counted in hub->nflushing */
};

struct hub {
	struct oc_ep *self;       /* the hub endpoint */
	struct oc_ep *lst;        /* the listener */
	struct peer *peers;       /* connections */
	unsigned nlive, nfull;    /* peers taking writes; of those, full ones */
	bool echo;                /* send each message back to its sender */
	bool paused;              /* the owner paused the hub */
	bool shut;                /* the owner shut the hub down */
	unsigned nflushing;       /* peers whose shutdown flush is pending */
	struct oc_msg **pending;  /* written while no peer was connected (the pump stops at the
				   * first, but a source's current read still arrives) */
	unsigned npending, pendcap; /* entries in pending, allocated */
	bool lst_closed;          /* the listener's close finished */
};

static struct hub *hub_of(struct oc_ep *ep)
{
	return ep->priv;
}

static struct peer *peer_find(struct hub *h, struct oc_ep *ep)
{
	for (struct peer *p = h->peers; p; p = p->next)
		if (p->ep == ep)
			return p;
	return NULL;
}

/* Closing: the connections first, the listener once they are gone, because some
 * listeners own their connections (a libwebsockets vhost cuts them when destroyed, so a
 * polite close frame would become a dropped connection). Accepts meanwhile are closed. */
static void maybe_closed(struct hub *h)
{
	if (!(h->self->flags & OC_EPF_CLOSING) || h->peers)
		return;
	if (h->lst)
		oc_ep_close(h->lst); /* idempotent; lst_closed() comes back here */
	else if (h->lst_closed)
		oc_ep_closed(h->self);
}

static void maybe_flushed(struct hub *h)
{
	if (h->shut && h->nflushing == 0)
		oc_ep_flushed(h->self);
}

/* Deliver m to one peer (takes a reference of its own). */
static void peer_write(struct hub *h, struct peer *p, struct oc_msg *m)
{
	oc_ep_write(p->ep, oc_msg_ref(m));
	if (!p->full && oc_ep_full(p->ep)) {
		p->full = true;
		h->nfull++;
	}
}

/* The hub's shutdown no longer waits for p. */
static void peer_unflush(struct hub *h, struct peer *p)
{
	if (!p->flushing)
		return;
	p->flushing = false;
	h->nflushing--;
	maybe_flushed(h);
}

static void peer_gone(struct hub *h, struct peer *p)
{
	if (p->gone)
		return;
	p->gone = true;
	h->nlive--;
	if (p->full) {
		p->full = false;
		h->nfull--;
	}
	oc_ep_check_drain(h->self);
}

/* ---- peer events ------------------------------------------------------------------------- */

static void peer_msg(struct oc_ep *ep, struct oc_msg *m)
{
	struct hub *h = ep->owner;
	struct peer *p = peer_find(h, ep);
	oc_msg_set_str(m, OC_F_PEER, ep->peer);
	m->flags &= ~OC_MSG_ROUTE;
	if (h->echo && p && !p->gone) {
		oc_ep_write(ep, oc_msg_ref(m));
		if (oc_ep_full(ep)) {
			p->echo_blocked = true;
			oc_ep_pause(ep);
		}
	}
	oc_ep_emit(h->self, m);
}

static void peer_drain(struct oc_ep *ep)
{
	struct hub *h = ep->owner;
	struct peer *p = peer_find(h, ep);
	if (!p)
		return;
	if (p->echo_blocked) {
		p->echo_blocked = false;
		if (!h->paused)
			oc_ep_resume(ep);
	}
	if (p->full) {
		p->full = false;
		h->nfull--;
		oc_ep_check_drain(h->self);
	}
}

static void peer_eof(struct oc_ep *ep)
{
	struct hub *h = ep->owner;
	struct peer *p = peer_find(h, ep);
	oc_verbose("'%s' disconnected", ep->name);
	if (p)
		peer_gone(h, p);
	/* Finish sending what is queued for it (echoes), then close. */
	oc_ep_shutdown(ep);
}

static void peer_flushed(struct oc_ep *ep)
{
	struct hub *h = ep->owner;
	struct peer *p = peer_find(h, ep);
	if (p)
		peer_unflush(h, p);
	if (ep->flags & OC_EPF_EOF)
		oc_ep_close(ep);
}

static void peer_error(struct oc_ep *ep)
{
	struct hub *h = ep->owner;
	struct peer *p = peer_find(h, ep);
	oc_verbose("%s", ep->errmsg);
	if (p) {
		peer_gone(h, p);
		peer_unflush(h, p);
	}
	oc_ep_close(ep);
}

static void peer_closed(struct oc_ep *ep)
{
	struct hub *h = ep->owner;
	for (struct peer **pp = &h->peers; *pp; pp = &(*pp)->next) {
		if ((*pp)->ep == ep) {
			struct peer *p = *pp;
			*pp = p->next;
			peer_gone(h, p);
			peer_unflush(h, p);
			free(p);
			break;
		}
	}
	maybe_closed(h);
}

static const struct oc_ep_events peer_events = {
	.msg = peer_msg,
	.drain = peer_drain,
	.eof = peer_eof,
	.flushed = peer_flushed,
	.error = peer_error,
	.closed = peer_closed,
};

/* ---- listener events --------------------------------------------------------------------- */

static void lst_ready(struct oc_ep *lst)
{
	oc_ep_ready(((struct hub *)lst->owner)->self);
}

static void lst_accept(struct oc_ep *lst, struct oc_ep *c)
{
	struct hub *h = lst->owner;
	if (h->self->flags & OC_EPF_CLOSING) {
		oc_ep_close(c);
		return;
	}
	struct peer *p = xcalloc(1, sizeof(*p));
	p->ep = c;
	p->next = h->peers;
	h->peers = p;
	oc_ep_set_events(c, &peer_events, h);
	oc_verbose("connection from '%s'", c->name);
	if (h->shut) {
		p->gone = true; /* the hub takes no more writes */
	} else {
		h->nlive++;
		for (unsigned i = 0; i < h->npending; i++) {
			peer_write(h, p, h->pending[i]);
			oc_ep_sent(h->self, h->pending[i]);
		}
		h->npending = 0;
		oc_ep_check_drain(h->self);
	}
	if (!h->paused)
		oc_ep_resume(c);
}

static void lst_error(struct oc_ep *lst)
{
	struct hub *h = lst->owner;
	oc_ep_fail(h->self, lst->err, "%s", lst->errmsg);
}

static void lst_closed(struct oc_ep *lst)
{
	struct hub *h = lst->owner;
	h->lst_closed = true;
	h->lst = NULL;
	maybe_closed(h);
}

static const struct oc_ep_events lst_events = {
	.ready = lst_ready,
	.accept = lst_accept,
	.error = lst_error,
	.closed = lst_closed,
};

/* ---- the hub as an endpoint -------------------------------------------------------------- */

static int hub_open(struct oc_ep *self)
{
	struct hub *h = hub_of(self);
	int r = oc_ep_open(h->lst);
	if (r)
		oc_ep_seterr(self, r, "%s", h->lst->errmsg);
	return r;
}

static struct peer *route_target(struct hub *h, struct oc_msg *m, bool *routed)
{
	const char *to = (m->flags & OC_MSG_ROUTE) ? m->f[OC_F_PEER] : NULL;
	*routed = to != NULL;
	if (!to)
		return NULL;
	for (struct peer *p = h->peers; p; p = p->next)
		if (!p->gone && !strcmp(p->ep->peer, to))
			return p;
	return NULL;
}

static void hub_write(struct oc_ep *self, struct oc_msg *m)
{
	struct hub *h = hub_of(self);
	bool routed;
	struct peer *to = route_target(h, m, &routed);
	if (routed) {
		if (to)
			peer_write(h, to, m);
		else
			oc_notice("no peer '%s' connected to '%s': message dropped",
				  m->f[OC_F_PEER], self->name);
		if (to)
			oc_ep_sent(self, m);
		else
			oc_ep_dropped(self, m);
		return;
	}
	if (h->nlive == 0) { /* until the first peer connects */
		if (h->npending == h->pendcap) {
			h->pendcap = h->pendcap ? 2 * h->pendcap : 64;
			h->pending = xrealloc(h->pending, h->pendcap * sizeof(*h->pending));
		}
		h->pending[h->npending++] = m;
		return;
	}
	for (struct peer *p = h->peers; p; p = p->next)
		if (!p->gone)
			peer_write(h, p, m);
	oc_ep_sent(self, m);
}

static bool hub_full(struct oc_ep *self)
{
	struct hub *h = hub_of(self);
	return h->nlive == 0 ? h->npending > 0 : h->nfull > 0;
}

static void hub_pause(struct oc_ep *self)
{
	struct hub *h = hub_of(self);
	h->paused = true;
	for (struct peer *p = h->peers; p; p = p->next)
		oc_ep_pause(p->ep);
}

static void hub_resume(struct oc_ep *self)
{
	struct hub *h = hub_of(self);
	h->paused = false;
	for (struct peer *p = h->peers; p; p = p->next)
		if (!p->echo_blocked)
			oc_ep_resume(p->ep);
}

static void hub_shutdown(struct oc_ep *self)
{
	struct hub *h = hub_of(self);
	h->shut = true;
	for (unsigned i = 0; i < h->npending; i++)
		oc_ep_dropped(self, h->pending[i]);
	h->npending = 0;
	for (struct peer *p = h->peers; p; p = p->next) {
		if (p->gone)
			continue;
		peer_gone(h, p);
		p->flushing = true;
		h->nflushing++;
		oc_ep_shutdown(p->ep);
	}
	maybe_flushed(h);
}

static void hub_close(struct oc_ep *self)
{
	struct hub *h = hub_of(self);
	for (unsigned i = 0; i < h->npending; i++)
		oc_ep_dropped(self, h->pending[i]);
	h->npending = 0;
	free(h->pending);
	h->pending = NULL;
	for (struct peer *p = h->peers; p; p = p->next)
		oc_ep_close(p->ep);
	maybe_closed(h);
}

static const struct oc_adapter hub_adapter = {
	.name = "hub",
	.flags = OC_AF_CLIENT,
	.priv_size = sizeof(struct hub),
	.open = hub_open,
	.write = hub_write,
	.pause = hub_pause,
	.resume = hub_resume,
	.shutdown = hub_shutdown,
	.close = hub_close,
	.full = hub_full,
};

struct oc_ep *oc_hub_new(struct oc_ep *lst, bool echo)
{
	struct oc_ep *self = oc_ep_new_internal(&hub_adapter, lst->cfg, lst->name);
	struct hub *h = hub_of(self);
	h->self = self;
	h->lst = lst;
	h->echo = echo;
	h->paused = true; /* like every endpoint, it starts paused */
	oc_ep_set_events(lst, &lst_events, h);
	return self;
}
