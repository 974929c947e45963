/* cmd/client.c — `omnicat client URL`: stdin → URL, URL → stdout (nc, websocat, curl).
 *
 * stdin's end half-closes the URL's write side; the run ends when the URL ends (and what it
 * sent reached stdout). With -d the one message replaces stdin; with --exec a child process
 * takes stdin's and stdout's places. A "-listen" URL accepts peers and treats them as one.
 * For request/response schemes (http) stdin is read only with --each (a request per message)
 * or -d @-; otherwise one request goes out and its answer is printed. */
#include "adapter.h"
#include "cmd.h"
#include "err.h"
#include "pump.h"

int cmd_client(struct cmd_ctx *c)
{
	struct oc_cfg *cfg = &c->args.ep[0];
	int status = 0;
	cmd_exec_framing(cfg, c->args.urls[0], OC_ROLE_CLIENT);
	const struct oc_adapter *ad = oc_adapter_of(c->args.urls[0], OC_ROLE_CLIENT);
	if (ad && (ad->flags & OC_AF_REQUEST) && !cfg->data && !cfg->each)
		cfg->one_request = true;
	cfg->body_bytes = !cfg->jsonl && !cfg->format && !cfg->exec && !cfg->exec_shell;
	struct oc_ep *url = cmd_endpoint(c->args.urls[0], cfg, OC_ROLE_CLIENT, &status);
	if (!url)
		return status;
	struct oc_ep *other;
	if (cfg->exec || cfg->exec_shell) {
		char err[512];
		other = cmd_exec_endpoint(cfg, err, sizeof(err));
		if (!other)
			status = cmd_fail(OC_EUSAGE, err);
	} else {
		other = cmd_stdio(cfg, &status);
	}
	struct oc_ep *eps[2] = { url, other };
	if (!other || (status = cmd_check_options(eps, 2)) != 0) {
		oc_ep_close(url);
		if (other)
			oc_ep_close(other);
		return status;
	}
	/* With --exec both directions must finish: the child answers after the peer's EOF. */
	bool exec = cfg->exec || cfg->exec_shell;
	const struct oc_pump_cfg pc = {
		.active = OC_DIR_AB | OC_DIR_BA,
		.need = exec ? OC_DIR_AB | OC_DIR_BA : OC_DIR_AB,
		.propagate = OC_DIR_AB | OC_DIR_BA,
		.counted = OC_DIR_AB,
		.incomplete = OC_DIR_AB,
	};
	oc_pump_start(oc_pump_new(&c->run, cmd_aggregate(url, false), other, &pc, NULL, NULL));
	return 0;
}
