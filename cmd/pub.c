/* cmd/pub.c — `omnicat pub URL`: every stdin message (or the one -d message) is sent to URL;
 * nothing is read back. Ends when stdin ends and everything was sent (DESIGN §4). */
#include "cmd.h"
#include "pump.h"

int cmd_pub(struct cmd_ctx *c)
{
	const struct oc_cfg *cfg = &c->args.ep[0];
	int status = 0;
	struct oc_ep *url = cmd_endpoint(c->args.urls[0], cfg, OC_ROLE_PUB, &status);
	if (!url)
		return status;
	struct oc_ep *in = cmd_stdio(cfg, &status);
	struct oc_ep *eps[2] = { url, in };
	if (!in || (status = cmd_check_options(eps, 2)) != 0) {
		oc_ep_close(url);
		if (in)
			oc_ep_close(in);
		return status;
	}
	const struct oc_pump_cfg pc = {
		.active = OC_DIR_AB,
		.need = OC_DIR_AB,
		.propagate = OC_DIR_AB,
		.counted = OC_DIR_AB,
	};
	oc_pump_start(oc_pump_new(&c->run, in, cmd_aggregate(url, false), &pc, NULL, NULL));
	return 0;
}
