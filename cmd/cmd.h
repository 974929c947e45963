/* cmd/cmd.h — what the command files share: the command table's row type, and the few steps
 * every command takes (parse the command line, make endpoints, run). A command file is wiring
 * only: which endpoints, which pump directions. */
#ifndef OC_CMD_H
#define OC_CMD_H

#include "endpoint.h"
#include "options.h"
#include "run.h"

struct cmd_ctx {
	const struct command *cmd;  /* the command's table row */
	struct oc_args args;        /* parsed command line */
	struct oc_run run;          /* the run */
};

struct command {
	const char *name;                      /* "client" */
	int (*fn)(struct cmd_ctx *c);          /* builds the run; returns 0 or an exit status */
	unsigned bit;                          /* OC_CMD_* for the option table */
	int nurls;                             /* URLs it takes */
	const char *usage;                     /* "client URL [options]" */
	const char *summary;                   /* one line */
	const char *help;                      /* a paragraph for `omnicat help CMD` */
};

extern const struct command commands[];

int cmd_client(struct cmd_ctx *c);
int cmd_server(struct cmd_ctx *c);
int cmd_pub(struct cmd_ctx *c);
int cmd_sub(struct cmd_ctx *c);
int cmd_relay(struct cmd_ctx *c);
int cmd_repl(struct cmd_ctx *c);

/* Print "omnicat: msg" and return the exit status of result. */
int cmd_fail(int result, const char *msg);
/* Create an endpoint for url in role with cfg; on failure print the error and return NULL
 * with *status set. */
struct oc_ep *cmd_endpoint(const char *url, const struct oc_cfg *cfg, enum oc_role role,
			   int *status);
/* The stdio endpoint ("-") with cfg (reads -d instead of stdin when given). */
struct oc_ep *cmd_stdio(const struct oc_cfg *cfg, int *status);
/* With --exec, a byte stream's connection wired to a child is a byte pipe both ways (ncat -e):
 * raw framing unless --framing was given; a message endpoint's messages stay lines. */
void cmd_exec_framing(struct oc_cfg *cfg, const char *url, enum oc_role role);
/* An endpoint running --exec / --exec-shell, or NULL with err set. */
struct oc_ep *cmd_exec_endpoint(const struct oc_cfg *cfg, char *err, size_t errlen);
/* A listener wrapped so that all its peers are one endpoint (a hub), or ep itself. */
struct oc_ep *cmd_aggregate(struct oc_ep *ep, bool echo);
/* Check adapter options given for all endpoints; prints and returns non-zero when unused. */
int cmd_check_options(struct oc_ep *const *eps, int n);

#endif
