/* core/endpoint.c — endpoint lifecycle, events and outbound accounting (see endpoint.h). */
#include "endpoint.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "adapter.h"
#include "defer.h"
#include "err.h"
#include "log.h"
#include "xalloc.h"

/* ---- creation ---------------------------------------------------------------------------- */

static struct oc_epspec *spec_new(void)
{
	struct oc_epspec *sp = xcalloc(1, sizeof(*sp));
	sp->refs = 1;
	sp->url.port = -1;
	return sp;
}

static void spec_unref(struct oc_epspec *sp)
{
	if (--sp->refs > 0)
		return;
	oc_url_release(&sp->url);
	oc_cfg_release(&sp->cfg);
	free(sp);
}

static void error_later(struct oc_defer *d);
static void closed_later(struct oc_defer *d);

static struct oc_ep *ep_alloc(const struct oc_adapter *ad, struct oc_epspec *sp)
{
	struct oc_ep *ep = xcalloc(1, sizeof(*ep));
	ep->ad = ad;
	ep->spec = sp;
	ep->cfg = &sp->cfg;
	ep->name = sp->url.display ? sp->url.display : ad->name;
	ep->qmax_msgs = OC_QUEUE_MSGS;
	ep->qmax_bytes = OC_QUEUE_BYTES;
	ep->priv = ad->priv_size ? xcalloc(1, ad->priv_size) : NULL;
	oc_defer_init(&ep->err_later, error_later);
	oc_defer_init(&ep->closed_later, closed_later);
	return ep;
}

static void ep_free(struct oc_ep *ep)
{
	if (ep->connect_timer) {
		oc_uv_close_free(ep->connect_timer);
		ep->connect_timer = NULL;
	}
	oc_msg_unref(ep->ctx);
	spec_unref(ep->spec);
	free(ep->priv);
	free(ep);
}

static const struct oc_adopt *adopt_find(const struct oc_adapter *ad, const char *key)
{
	for (const struct oc_adopt *o = ad->opts; o && o->key; o++)
		if (!strcmp(o->key, key))
			return o;
	return NULL;
}

static void list_adopts(const struct oc_adapter *ad, char *out, size_t n)
{
	size_t o = 0;
	out[0] = '\0';
	for (const struct oc_adopt *a = ad->opts; a && a->key && o < n; a++)
		o += (size_t)snprintf(out + o, n - o, "%s%s", o ? ", " : "", a->key);
	if (!o)
		snprintf(out, n, "none");
}

/* Check the value of adapter option o. */
static int adopt_check(const struct oc_adopt *o, const char *value, const char *url, char *err,
		       size_t errlen)
{
	double secs;
	char *end;
	switch (o->type) {
	case OC_ARG_COUNT:
		if (strtol(value, &end, 10) <= 0 || *end)
			goto bad;
		return 0;
	case OC_ARG_SECS:
		if (oc_parse_secs(value, &secs))
			goto bad;
		return 0;
	case OC_ARG_FLAG:
		if (strcmp(value, "1") && strcmp(value, "0") && strcmp(value, "true") &&
		    strcmp(value, "false"))
			goto bad;
		return 0;
	default:
		return 0;
	}
bad:
	snprintf(err, errlen, "invalid value '%s' for option '%s' of '%s'", value, o->key, url);
	return OC_EUSAGE;
}

/* Options in the URL query, for schemes whose query is ours: "k=v&k2=v2". */
static int query_to_kv(struct oc_epspec *sp, const struct oc_adapter *ad, char *err, size_t errlen)
{
	if (!sp->url.query || (sp->scheme->flags & OC_SF_PEER_QUERY))
		return 0;
	for (const char *p = sp->url.query; *p;) {
		size_t n = strcspn(p, "&");
		char *kv = xstrndup(p, n);
		p += n + (p[n] == '&');
		char *eq = strchr(kv, '=');
		if (eq)
			*eq = '\0';
		if (*kv && !adopt_find(ad, kv)) {
			char valid[256];
			list_adopts(ad, valid, sizeof(valid));
			snprintf(err, errlen, "unknown option '%s' in '%s' (valid: %s)", kv,
				 sp->url.display, valid);
			free(kv);
			return OC_EUSAGE;
		}
		if (*kv)
			oc_cfg_add_kv(&sp->cfg, kv, eq ? eq + 1 : "1", false);
		free(kv);
	}
	return 0;
}

/* Every adapter option set for this endpoint must be one its adapter knows, unless it was
 * given for all endpoints (then the others may use it). */
static int check_kv(struct oc_epspec *sp, const struct oc_adapter *ad, char *err, size_t errlen)
{
	for (size_t i = 0; i < sp->cfg.nkv; i++) {
		const struct oc_kv *kv = &sp->cfg.kv[i];
		const struct oc_adopt *o = adopt_find(ad, kv->key);
		if (!o && kv->global)
			continue;
		if (!o) {
			char valid[256];
			list_adopts(ad, valid, sizeof(valid));
			snprintf(err, errlen, "option '%s' does not apply to '%s' (valid: %s)", kv->key,
				 sp->url.display, valid);
			return OC_EUSAGE;
		}
		int r = adopt_check(o, kv->value, sp->url.display, err, errlen);
		if (r)
			return r;
	}
	return 0;
}

static const char *role_name(enum oc_role role)
{
	static const char *const names[] = { "client", "server", "publisher", "subscriber" };
	return names[role];
}

/* The adapter that serves a scheme in a role: listening may have its own. */
static const struct oc_adapter *adapter_for(const struct oc_scheme *sch, enum oc_role role)
{
	bool listen = (sch->flags & OC_SF_LISTEN) || role == OC_ROLE_SERVER;
	return listen && sch->server_ad ? sch->server_ad : sch->ad;
}

static int check_role(const struct oc_scheme *sch, enum oc_role role, const char *url, char *err,
		      size_t errlen)
{
	static const unsigned need[] = { OC_AF_CLIENT, OC_AF_SERVER, OC_AF_PUB, OC_AF_SUB };
	const struct oc_adapter *ad = adapter_for(sch, role);
	if (sch->flags & OC_SF_LISTEN) {
		if (ad->flags & OC_AF_SERVER)
			return 0;
	} else if (ad->flags & need[role]) {
		return 0;
	}
	snprintf(err, errlen, "'%s' cannot act as a %s", url,
		 sch->flags & OC_SF_LISTEN ? "listener" : role_name(role));
	return OC_EUNSUPPORTED;
}

const struct oc_adapter *oc_adapter_of(const char *url, enum oc_role role)
{
	char scheme[32], err[256];
	if (oc_url_scheme(url, scheme, sizeof(scheme), err, sizeof(err)))
		return NULL;
	const struct oc_scheme *sch = oc_scheme_find(scheme);
	return sch && sch->ad ? adapter_for(sch, role) : NULL;
}

int oc_ep_create(const char *url, const struct oc_cfg *cfg, enum oc_role role, struct oc_ep **out,
		 char *err, size_t errlen)
{
	char scheme[32];
	int r = oc_url_scheme(url, scheme, sizeof(scheme), err, errlen);
	if (r)
		return r;
	const struct oc_scheme *sch = oc_scheme_find(scheme);
	if (!sch) {
		char *shown = oc_url_mask(url);
		snprintf(err, errlen, "unknown scheme '%s' in '%s' (see 'omnicat --version')",
			 scheme, shown);
		free(shown);
		return OC_EUNSUPPORTED;
	}
	if (!sch->ad) {
		snprintf(err, errlen, "'%s' support not built in", scheme);
		return OC_ENOTBUILT;
	}
	char *shown = oc_url_mask(url);
	r = check_role(sch, role, shown, err, errlen);
	free(shown);
	if (r)
		return r;
	struct oc_epspec *sp = spec_new();
	sp->scheme = sch;
	oc_cfg_copy(&sp->cfg, cfg);
	r = oc_url_parse(url, sch->form, &sp->url, err, errlen);
	const struct oc_adapter *ad = adapter_for(sch, role);
	if (!r)
		r = query_to_kv(sp, ad, err, errlen);
	if (!r)
		r = check_kv(sp, ad, err, errlen);
	if (r) {
		spec_unref(sp);
		return r;
	}
	struct oc_ep *ep = ep_alloc(ad, sp);
	ep->role = role;
	if (ad->check && (r = ad->check(ep)) != 0) {
		snprintf(err, errlen, "%s", ep->errmsg);
		ep_free(ep);
		return r;
	}
	*out = ep;
	return 0;
}

struct oc_ep *oc_ep_new_internal(const struct oc_adapter *ad, const struct oc_cfg *cfg,
				 const char *name)
{
	struct oc_epspec *sp = spec_new();
	oc_cfg_copy(&sp->cfg, cfg);
	sp->url.display = xstrdup(name);
	struct oc_ep *ep = ep_alloc(ad, sp);
	ep->role = OC_ROLE_CLIENT;
	return ep;
}

/* A core option that only some adapters take (-H, -k...): given for endpoints none of which
 * takes it. */
static bool core_option_unused(struct oc_ep *const *eps, int n, char *err, size_t errlen)
{
	for (const struct oc_option *o = oc_options; o->lname; o++) {
		if (!o->need)
			continue;
		int given = -1;
		bool taken = false;
		for (int e = 0; e < n; e++) {
			if (!oc_cfg_has(eps[e]->cfg, o))
				continue;
			if (given < 0)
				given = e;
			taken |= (eps[e]->ad->flags & o->need) != 0;
		}
		if (given >= 0 && !taken) {
			snprintf(err, errlen, "option '--%s' does not apply to '%s'", o->lname,
				 eps[given]->name);
			return true;
		}
	}
	return false;
}

bool oc_ep_options_unused(struct oc_ep *const *eps, int n, char *err, size_t errlen)
{
	if (n == 0)
		return false;
	if (core_option_unused(eps, n, err, errlen))
		return true;
	const struct oc_cfg *c = eps[0]->cfg;
	for (size_t i = 0; i < c->nkv; i++) {
		if (!c->kv[i].global)
			continue;
		bool used = false;
		for (int e = 0; e < n && !used; e++)
			used = adopt_find(eps[e]->ad, c->kv[i].key) != NULL;
		if (!used) {
			char valid[256];
			list_adopts(eps[0]->ad, valid, sizeof(valid));
			snprintf(err, errlen, "option '%s' does not apply to '%s' (valid: %s)",
				 c->kv[i].key, eps[0]->name, valid);
			return true;
		}
	}
	return false;
}

/* ---- owner calls ------------------------------------------------------------------------- */

void oc_ep_set_events(struct oc_ep *ep, const struct oc_ep_events *ev, void *owner)
{
	ep->ev = ev;
	ep->owner = owner;
}

static void connect_timeout_cb(uv_timer_t *t)
{
	struct oc_ep *ep = t->data;
	oc_ep_fail(ep, OC_ETIMEOUT, "timed out connecting to '%s' after %gs", ep->name,
		   ep->cfg->connect_timeout);
}

int oc_ep_open(struct oc_ep *ep)
{
	int r = ep->ad->open(ep);
	if (r)
		return r;
	ep->flags |= OC_EPF_OPENED;
	if (ep->cfg->connect_timeout > 0 && !(ep->flags & OC_EPF_READY) && !oc_ep_listens(ep)) {
		ep->connect_timer = xmalloc(sizeof(*ep->connect_timer));
		uv_timer_init(uv_default_loop(), ep->connect_timer);
		ep->connect_timer->data = ep;
		uv_timer_start(ep->connect_timer, connect_timeout_cb,
			       (uint64_t)(ep->cfg->connect_timeout * 1000), 0);
	}
	return 0;
}

int oc_ep_write(struct oc_ep *ep, struct oc_msg *m)
{
	if (ep->flags & (OC_EPF_SHUTDOWN | OC_EPF_CLOSING | OC_EPF_FAILED)) {
		oc_msg_unref(m);
		return OC_EFAIL;
	}
	ep->qmsgs++;
	ep->qbytes += m->len;
	ep->ad->write(ep, m);
	return 0;
}

static bool is_full(struct oc_ep *ep)
{
	if (ep->ad->full)
		return ep->ad->full(ep);
	return ep->qmsgs >= ep->qmax_msgs || ep->qbytes >= ep->qmax_bytes;
}

bool oc_ep_full(struct oc_ep *ep)
{
	if (!is_full(ep))
		return false;
	ep->flags |= OC_EPF_FULL;
	return true;
}

void oc_ep_pause(struct oc_ep *ep)
{
	if ((ep->flags & (OC_EPF_PAUSED | OC_EPF_CLOSING)) == 0 && ep->ad->pause) {
		ep->flags |= OC_EPF_PAUSED;
		ep->ad->pause(ep);
	}
}

void oc_ep_resume(struct oc_ep *ep)
{
	if (ep->flags & OC_EPF_CLOSING)
		return;
	ep->flags &= ~OC_EPF_PAUSED;
	if (ep->ad->resume)
		ep->ad->resume(ep);
}

void oc_ep_shutdown(struct oc_ep *ep)
{
	if (ep->flags & (OC_EPF_SHUTDOWN | OC_EPF_CLOSING))
		return;
	ep->flags |= OC_EPF_SHUTDOWN;
	if (ep->ad->shutdown)
		ep->ad->shutdown(ep);
	else
		oc_ep_flushed(ep);
}

void oc_ep_close(struct oc_ep *ep)
{
	if (ep->flags & OC_EPF_CLOSING)
		return;
	ep->flags |= OC_EPF_CLOSING;
	oc_defer_cancel(&ep->err_later);
	if (ep->connect_timer)
		uv_timer_stop(ep->connect_timer);
	if ((ep->flags & OC_EPF_OPENED) && ep->ad->close)
		ep->ad->close(ep);
	else
		oc_ep_closed(ep);
}

bool oc_ep_has(const struct oc_ep *ep, unsigned f)
{
	return (ep->ad->flags & f) != 0;
}

bool oc_ep_listens(const struct oc_ep *ep)
{
	if (ep->parent)
		return false;
	if (ep->role == OC_ROLE_SERVER)
		return true;
	return ep->spec->scheme && (ep->spec->scheme->flags & OC_SF_LISTEN);
}

/* ---- adapter calls ----------------------------------------------------------------------- */

struct oc_ep *oc_ep_child(struct oc_ep *lst)
{
	lst->spec->refs++;
	struct oc_ep *c = ep_alloc(lst->ad, lst->spec);
	c->role = OC_ROLE_CLIENT;
	c->parent = lst;
	c->flags |= OC_EPF_OPENED;
	return c;
}

void oc_ep_accepted(struct oc_ep *lst, struct oc_ep *c)
{
	c->flags |= OC_EPF_READY;
	if (lst->ev && lst->ev->accept)
		lst->ev->accept(lst, c);
	else
		oc_ep_close(c); /* nobody takes connections */
}

void oc_ep_ready(struct oc_ep *ep)
{
	if (ep->flags & OC_EPF_READY)
		return;
	ep->flags |= OC_EPF_READY;
	if (ep->connect_timer)
		uv_timer_stop(ep->connect_timer);
	if (ep->ev && ep->ev->ready)
		ep->ev->ready(ep);
}

/* Arrival time, read once per loop turn: uv_now() only changes between turns, and a clock
 * read per message would be a measurable share of a short line's cost. */
static int64_t arrival_ms(void)
{
	static uint64_t turn = UINT64_MAX;
	static int64_t cached;
	static uv_loop_t *loop;
	if (!loop)
		loop = uv_default_loop();
	uint64_t now = uv_now(loop);
	if (now != turn) {
		turn = now;
		cached = oc_now_ms();
	}
	return cached;
}

void oc_ep_emit(struct oc_ep *ep, struct oc_msg *m)
{
	if ((ep->flags & (OC_EPF_CLOSING | OC_EPF_FAILED)) || !ep->ev || !ep->ev->msg) {
		oc_msg_unref(m);
		return;
	}
	if (!m->ts_ms)
		m->ts_ms = arrival_ms();
	ep->ev->msg(ep, m);
}

static void account_out(struct oc_ep *ep, struct oc_msg *m)
{
	ep->qmsgs--;
	ep->qbytes -= m->len;
}

void oc_ep_check_drain(struct oc_ep *ep)
{
	if ((ep->flags & OC_EPF_FULL) && !is_full(ep) && !(ep->flags & OC_EPF_CLOSING)) {
		ep->flags &= ~OC_EPF_FULL;
		if (ep->ev && ep->ev->drain)
			ep->ev->drain(ep);
	}
}

void oc_ep_sent(struct oc_ep *ep, struct oc_msg *m)
{
	account_out(ep, m);
	m->flags |= OC_MSG_DELIVERED;
	oc_msg_unref(m);
	oc_ep_check_drain(ep);
}

void oc_ep_dropped(struct oc_ep *ep, struct oc_msg *m)
{
	account_out(ep, m);
	oc_msg_unref(m);
	oc_ep_check_drain(ep);
}

void oc_ep_eof(struct oc_ep *ep)
{
	if (ep->flags & (OC_EPF_EOF | OC_EPF_CLOSING | OC_EPF_FAILED))
		return;
	ep->flags |= OC_EPF_EOF;
	if (ep->ev && ep->ev->eof)
		ep->ev->eof(ep);
}

void oc_ep_flushed(struct oc_ep *ep)
{
	if (ep->flags & (OC_EPF_CLOSING | OC_EPF_FAILED))
		return;
	if (ep->ev && ep->ev->flushed)
		ep->ev->flushed(ep);
}

static void vseterr(struct oc_ep *ep, int err, const char *fmt, va_list ap)
{
	if (ep->err)
		return;
	ep->err = err;
	vsnprintf(ep->errmsg, sizeof(ep->errmsg), fmt, ap);
}

void oc_ep_seterr(struct oc_ep *ep, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vseterr(ep, err, fmt, ap);
	va_end(ap);
}

static void error_later(struct oc_defer *d)
{
	struct oc_ep *ep = (struct oc_ep *)((char *)d - offsetof(struct oc_ep, err_later));
	if (ep->ev && ep->ev->error)
		ep->ev->error(ep);
}

/* The error event is delivered on the next loop turn: an adapter may fail deep inside a call
 * from its owner (open, write), and the owner must not be re-entered there. */
void oc_ep_fail(struct oc_ep *ep, int err, const char *fmt, ...)
{
	if (ep->flags & (OC_EPF_FAILED | OC_EPF_CLOSING))
		return;
	va_list ap;
	va_start(ap, fmt);
	vseterr(ep, err, fmt, ap);
	va_end(ap);
	ep->flags |= OC_EPF_FAILED;
	if (ep->connect_timer)
		uv_timer_stop(ep->connect_timer);
	oc_defer_schedule(&ep->err_later);
}

static void closed_later(struct oc_defer *d)
{
	struct oc_ep *ep = (struct oc_ep *)((char *)d - offsetof(struct oc_ep, closed_later));
	if (ep->ev && ep->ev->closed)
		ep->ev->closed(ep);
	ep_free(ep);
}

/* The closed event comes on the next loop turn, never inside oc_ep_close(): an owner closing
 * several endpoints (or a pump closing both of its own) must not be freed under its feet. */
void oc_ep_closed(struct oc_ep *ep)
{
	oc_defer_schedule(&ep->closed_later); /* a second call while pending is a no-op */
}

void oc_ep_set_peer(struct oc_ep *ep, const char *peer)
{
	snprintf(ep->peer, sizeof(ep->peer), "%s", peer);
	ep->name = ep->peer;
}

static void free_handle(uv_handle_t *h)
{
	free(h);
}

void oc_uv_close_free(void *handle)
{
	uv_close(handle, free_handle);
}

const char *oc_ep_opt(const struct oc_ep *ep, const char *key)
{
	return oc_cfg_kv(ep->cfg, key);
}

bool oc_ep_opt_flag(const struct oc_ep *ep, const char *key)
{
	const char *v = oc_cfg_kv(ep->cfg, key);
	return v && (!strcmp(v, "1") || !strcmp(v, "true"));
}
