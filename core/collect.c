/* core/collect.c — see collect.h. */
#include "collect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "argv.h"
#include "framing.h"
#include "xalloc.h"

struct oc_collect {
	struct oc_ep *ep;      /* the endpoint */
	char *buf;             /* output so far */
	size_t len, cap, max;  /* its length, allocation, bound */
	oc_collect_fn cb;      /* completion, NULL once called or cancelled */
	void *ud;              /* its argument */
};

static void finish(struct oc_collect *c, int result, const char *errmsg)
{
	oc_collect_fn cb = c->cb;
	c->cb = NULL;
	if (cb) {
		char *out = c->buf;
		c->buf = NULL;
		cb(c->ud, result, out ? out : xstrdup(""), c->len, errmsg);
	}
	oc_ep_close(c->ep);
}

static void on_msg(struct oc_ep *ep, struct oc_msg *m)
{
	struct oc_collect *c = ep->owner;
	if (c->len + m->len > c->max) {
		char msg[200];
		snprintf(msg, sizeof(msg), "'%s' wrote more than %zu bytes", ep->name, c->max);
		oc_msg_unref(m);
		finish(c, OC_EFAIL, msg);
		return;
	}
	if (c->len + m->len + 1 > c->cap) {
		c->cap = (c->len + m->len + 1) * 2;
		c->buf = xrealloc(c->buf, c->cap);
	}
	memcpy(c->buf + c->len, m->data, m->len);
	c->len += m->len;
	oc_msg_unref(m);
}

static void on_ready(struct oc_ep *ep)
{
	oc_ep_resume(ep);
}

static void on_eof(struct oc_ep *ep)
{
	finish(ep->owner, 0, NULL);
}

static void on_error(struct oc_ep *ep)
{
	finish(ep->owner, ep->err, ep->errmsg);
}

static void on_closed(struct oc_ep *ep)
{
	struct oc_collect *c = ep->owner;
	free(c->buf);
	free(c);
}

static const struct oc_ep_events collect_events = {
	.ready = on_ready,
	.msg = on_msg,
	.eof = on_eof,
	.error = on_error,
	.closed = on_closed,
};

struct oc_collect *oc_collect_start(struct oc_ep *ep, struct oc_msg *input, size_t max,
				    oc_collect_fn cb, void *ud)
{
	struct oc_collect *c = xcalloc(1, sizeof(*c));
	c->ep = ep;
	c->max = max;
	c->cb = cb;
	c->ud = ud;
	oc_ep_set_events(ep, &collect_events, c);
	int r = oc_ep_open(ep);
	if (r) {
		char msg[400];
		snprintf(msg, sizeof(msg), "%s", ep->errmsg);
		c->cb = NULL;
		oc_ep_close(ep);
		cb(ud, r, xstrdup(""), 0, msg);
		return NULL;
	}
	oc_ep_write(ep, oc_msg_ref(input));
	oc_ep_shutdown(ep);
	return c;
}

void oc_collect_cancel(struct oc_collect *c)
{
	c->cb = NULL;
	oc_ep_close(c->ep);
}

struct oc_collect *oc_collect_exec(const struct oc_cfg *run, struct oc_msg *input, size_t max,
				   oc_collect_fn cb, void *ud, char *err, size_t errlen)
{
	char *url = oc_exec_url(run->exec, run->exec_shell);
	struct oc_cfg cfg = *run; /* a view: the child gets the run's options, raw */
	cfg.framing = OC_FRAMING_RAW + 1;
	cfg.kv = NULL; /* the server's adapter options are not the child's */
	cfg.nkv = 0;
	struct oc_ep *ep = NULL;
	int rc = oc_ep_create(url, &cfg, OC_ROLE_CLIENT, &ep, err, errlen);
	free(url);
	if (rc)
		return NULL;
	ep->ctx = oc_msg_ref(input);
	return oc_collect_start(ep, input, max, cb, ud);
}
