/* cmd/sub.c — `omnicat sub URL`: every message from URL goes to stdout; nothing is sent.
 * Ends when URL ends; -c N before that is "incomplete" (13). */
#include "cmd.h"
#include "pump.h"

int cmd_sub(struct cmd_ctx *c)
{
	struct oc_cfg *cfg = &c->args.ep[0];
	int status = 0;
	cfg->body_bytes = !cfg->jsonl && !cfg->format; /* bodies print as they are */
	struct oc_ep *url = cmd_endpoint(c->args.urls[0], cfg, OC_ROLE_SUB, &status);
	if (!url)
		return status;
	struct oc_ep *out = cmd_stdio(cfg, &status);
	struct oc_ep *eps[2] = { url, out };
	if (!out || (status = cmd_check_options(eps, 2)) != 0) {
		oc_ep_close(url);
		if (out)
			oc_ep_close(out);
		return status;
	}
	const struct oc_pump_cfg pc = {
		.active = OC_DIR_AB,
		.need = OC_DIR_AB,
		.propagate = OC_DIR_AB,
		.counted = OC_DIR_AB,
		.incomplete = OC_DIR_AB,
	};
	oc_pump_start(oc_pump_new(&c->run, cmd_aggregate(url, false), out, &pc, NULL, NULL));
	return 0;
}
