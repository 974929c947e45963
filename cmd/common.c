/* cmd/common.c — steps every command shares (see cmd.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "argv.h"
#include "cmd.h"
#include "err.h"
#include "hub.h"
#include "log.h"
#include "xalloc.h"

int cmd_fail(int result, const char *msg)
{
	oc_error("%s", msg);
	return oc_exit_code(result);
}

struct oc_ep *cmd_endpoint(const char *url, const struct oc_cfg *cfg, enum oc_role role,
			   int *status)
{
	struct oc_ep *ep;
	char err[512];
	int r = oc_ep_create(url, cfg, role, &ep, err, sizeof(err));
	if (r) {
		*status = cmd_fail(r, err);
		return NULL;
	}
	return ep;
}

struct oc_ep *cmd_stdio(const struct oc_cfg *cfg, int *status)
{
	return cmd_endpoint("-", cfg, OC_ROLE_CLIENT, status);
}

void cmd_exec_framing(struct oc_cfg *cfg, const char *url, enum oc_role role)
{
	/* Bytes pass unchanged between a byte stream and its child (ncat -e); a request server
	 * gives the child the whole body anyway. A message endpoint's messages are lines to
	 * the child (websocat's default), so the framing stays. */
	const struct oc_adapter *ad = oc_adapter_of(url, role);
	unsigned f = ad ? ad->flags : 0;
	/* a request server that speaks in topics (MQTT) has messages, not bodies */
	bool bytes = !ad || (f & OC_AF_STREAM) || ((f & OC_AF_REQUEST) && !(f & OC_AF_TOPICS));
	if ((cfg->exec || cfg->exec_shell) && !cfg->framing && bytes)
		cfg->framing = OC_FRAMING_RAW + 1;
}

struct oc_ep *cmd_exec_endpoint(const struct oc_cfg *cfg, char *err, size_t errlen)
{
	char *url = oc_exec_url(cfg->exec, cfg->exec_shell);
	struct oc_ep *ep = NULL;
	int r = oc_ep_create(url, cfg, OC_ROLE_CLIENT, &ep, err, errlen);
	free(url);
	return r ? NULL : ep;
}

struct oc_ep *cmd_aggregate(struct oc_ep *ep, bool echo)
{
	if (oc_ep_listens(ep) && oc_ep_has(ep, OC_AF_CONNS))
		return oc_hub_new(ep, echo);
	return ep;
}

int cmd_check_options(struct oc_ep *const *eps, int n)
{
	char err[512];
	if (oc_ep_options_unused(eps, n, err, sizeof(err)))
		return cmd_fail(OC_EUSAGE, err);
	return 0;
}
