/* cmd/server.c — `omnicat server URL`: listen; what peers send goes to stdout (or to one
 * --exec child per connection, ncat -e style); stdin is broadcast to the peers, or sent to the
 * one a jsonl line names; --echo sends each message back to its sender. A server outlives
 * stdin's end: it serves until a signal, -c, --timeout or --idle (DESIGN §4). A request/
 * response server (http) answers each request itself (a fixed answer, --echo, one --exec
 * child per request, --dir...), or from stdin with --reply-stdin. */
#include "adapter.h"
#include "cmd.h"
#include "err.h"
#include "fork.h"
#include "pump.h"

static struct oc_ep *make_exec(void *ud, struct oc_ep *conn, char *err, size_t errlen)
{
	return cmd_exec_endpoint(ud, err, errlen);
}

int cmd_server(struct cmd_ctx *c)
{
	struct oc_cfg *cfg = &c->args.ep[0];
	int status = 0;
	cmd_exec_framing(cfg, c->args.urls[0], OC_ROLE_SERVER);
	struct oc_ep *url = cmd_endpoint(c->args.urls[0], cfg, OC_ROLE_SERVER, &status);
	if (!url)
		return status;
	if ((cfg->exec || cfg->exec_shell) && !oc_ep_has(url, OC_AF_REQUEST) &&
	    !oc_ep_has(url, OC_AF_EXEC)) {
		char err[512];
		struct oc_ep *probe = cmd_exec_endpoint(cfg, err, sizeof(err));
		if (!probe || !oc_ep_has(url, OC_AF_CONNS)) {
			oc_ep_close(url);
			if (probe)
				oc_ep_close(probe);
			return probe ? cmd_fail(OC_EUNSUPPORTED, "--exec needs a connection listener")
				     : cmd_fail(OC_EUSAGE, err);
		}
		oc_ep_close(probe); /* the command line is good: one child per connection */
		if ((status = cmd_check_options(&url, 1)) != 0) {
			oc_ep_close(url);
			return status;
		}
		oc_fork_start(&c->run, url, make_exec, (void *)cfg);
		return 0;
	}
	struct oc_ep *io = cmd_stdio(cfg, &status);
	struct oc_ep *eps[2] = { url, io };
	if (!io || (status = cmd_check_options(eps, 2)) != 0) {
		oc_ep_close(url);
		if (io)
			oc_ep_close(io);
		return status;
	}
	/* A request/response server answers by itself, so stdin is read only when it holds
	 * the answers (--reply-stdin); a stream or message server broadcasts stdin. */
	bool request = oc_ep_has(url, OC_AF_REQUEST);
	bool stdin_answers = !request || oc_ep_opt_flag(url, "reply-stdin");
	const struct oc_pump_cfg pc = {
		.active = OC_DIR_AB | (stdin_answers ? OC_DIR_BA : 0),
		.counted = OC_DIR_AB,
		.propagate = OC_DIR_AB,
	};
	oc_pump_start(oc_pump_new(&c->run, cmd_aggregate(url, cfg->echo), io, &pc, NULL, NULL));
	return 0;
}
