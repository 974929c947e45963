/* proto-adapters/exec.c — a child process as a stream: exec:CMD ARGS.
 *
 * CMD is split into argv with shell-style quoting but no expansion (core/argv.c) and run
 * without a shell; its stdin is what we write, its stdout what we read, its stderr ours.
 * Metadata of what it was started for (a connection's peer, later a request) reaches it only
 * as environment variables: OMNICAT_TOPIC, OMNICAT_KEY, OMNICAT_METHOD, OMNICAT_PATH,
 * OMNICAT_QUERY, OMNICAT_STATUS, OMNICAT_ID, OMNICAT_PEER, OMNICAT_CONTENT_TYPE,
 * OMNICAT_QOS and OMNICAT_HEADER_<NAME> (DESIGN §4).
 *
 * Shutdown closes the child's stdin (its EOF). The endpoint's EOF is held until the child has
 * exited, so a non-zero exit status is reported (exit 1) instead of racing the end of its
 * output. Closing an endpoint whose child still runs sends it SIGTERM.
 * Roles: client, pub, sub. Library: libuv. */
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "argv.h"
#include "err.h"
#include "log.h"
#include "stream.h"
#include "xalloc.h"

extern char **environ;

struct exec_ep {
	struct oc_stream st;   /* first: the stream base (io[0] reads its stdout, io[1] writes
				* its stdin) */
	uv_process_t proc;     /* the child */
	bool proc_open;        /* proc is initialised and not closed */
	bool running;          /* the child has not exited */
	bool eof_held;         /* its stdout ended before it exited */
	bool stream_open;      /* the stream base is not closed */
	bool closing;          /* close requested */
	int64_t exit_status;   /* exit status, once exited */
	int term_signal;       /* signal that ended it, or 0 */
};

static int exec_check(struct oc_ep *ep)
{
	char **argv, err[256];
	int r = oc_argv_split(ep->spec->url.command, &argv, err, sizeof(err));
	if (r) {
		oc_ep_seterr(ep, r, "invalid '%s': %s", ep->name, err);
		return r;
	}
	oc_argv_free(argv);
	return 0;
}

static void maybe_closed(struct exec_ep *x)
{
	if (x->closing && !x->proc_open && !x->stream_open)
		oc_ep_closed(x->st.ep);
}

static void proc_closed(uv_handle_t *h)
{
	struct exec_ep *x = h->data;
	x->proc_open = false;
	maybe_closed(x);
}

static void stream_closed(struct oc_stream *st)
{
	struct exec_ep *x = (struct exec_ep *)st;
	x->stream_open = false;
	maybe_closed(x);
}

/* Report the end of the child's output once its exit status is known. */
static void report_end(struct exec_ep *x)
{
	struct oc_ep *ep = x->st.ep;
	if (x->term_signal)
		oc_ep_fail(ep, OC_EFAIL, "'%s' was killed by signal %d", ep->name, x->term_signal);
	else if (x->exit_status)
		oc_ep_fail(ep, OC_EFAIL, "'%s' exited with status %lld", ep->name,
			   (long long)x->exit_status);
	else
		oc_ep_eof(ep);
}

static void on_exit_cb(uv_process_t *p, int64_t status, int term_signal)
{
	struct exec_ep *x = p->data;
	x->running = false;
	x->exit_status = status;
	x->term_signal = term_signal;
	oc_verbose("'%s' exited (status %lld, signal %d)", x->st.ep->name, (long long)status,
		   term_signal);
	uv_close((uv_handle_t *)p, proc_closed);
	if (x->closing)
		return;
	if (x->eof_held)
		report_end(x);
}

static bool on_lost(struct oc_stream *st, int err)
{
	struct exec_ep *x = (struct exec_ep *)st;
	if (err)
		return false; /* a read error: the stream reports it */
	if (x->running)
		x->eof_held = true; /* on_exit_cb reports the end */
	else
		report_end(x);
	return true;
}

static const struct oc_stream_hooks exec_hooks = { .closed = stream_closed, .lost = on_lost };

/* OMNICAT_HEADER_<NAME>: upper case, '-' → '_', anything else not alphanumeric → '_'. */
static char *header_var(const char *name, const char *value)
{
	char *v = xasprintf("OMNICAT_HEADER_%s=%s", name, value);
	for (char *p = v + strlen("OMNICAT_HEADER_"); *p && *p != '='; p++)
		*p = isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_';
	return v;
}

/* environ plus the OMNICAT_* variables of ctx. */
static char **child_env(const struct oc_msg *ctx)
{
	static const char *const names[OC_F_COUNT] = {
		"OMNICAT_TOPIC", "OMNICAT_KEY", "OMNICAT_METHOD", "OMNICAT_PATH",
		"OMNICAT_QUERY", "OMNICAT_ID",  "OMNICAT_CONTENT_TYPE", "OMNICAT_PEER",
	};
	size_t n = 0;
	while (environ[n])
		n++;
	size_t extra = ctx ? OC_F_COUNT + 2 + ctx->nhdrs : 0;
	char **env = xcalloc(n + extra + 1, sizeof(*env));
	size_t e = 0;
	for (size_t i = 0; i < n; i++)
		env[e++] = xstrdup(environ[i]);
	if (!ctx)
		return env;
	for (int f = 0; f < OC_F_COUNT; f++)
		if (ctx->f[f])
			env[e++] = xasprintf("%s=%s", names[f], ctx->f[f]);
	if (ctx->flags & OC_MSG_STATUS)
		env[e++] = xasprintf("OMNICAT_STATUS=%d", ctx->status);
	if (ctx->flags & OC_MSG_QOS)
		env[e++] = xasprintf("OMNICAT_QOS=%d", ctx->qos);
	for (unsigned i = 0; i < ctx->nhdrs; i++)
		env[e++] = header_var(ctx->hdrs[i].name, ctx->hdrs[i].value);
	return env;
}

static int exec_open(struct oc_ep *ep)
{
	struct exec_ep *x = ep->priv;
	uv_loop_t *loop = uv_default_loop();
	enum oc_framing fr = oc_stream_framing(ep);
	char **argv, err[256];
	int r = oc_argv_split(ep->spec->url.command, &argv, err, sizeof(err));
	if (r) {
		oc_ep_seterr(ep, r, "invalid '%s': %s", ep->name, err);
		return r;
	}
	oc_stream_init(&x->st, ep, &exec_hooks, fr, fr, NULL, OC_SHUT_CLOSE);
	x->stream_open = true;
	uv_pipe_init(loop, &x->st.io[0].pipe, 0);
	oc_stream_inited(&x->st, 0);
	uv_pipe_init(loop, &x->st.io[1].pipe, 0);
	oc_stream_inited(&x->st, 1);
	uv_stdio_container_t io[3] = {
		{ .flags = UV_CREATE_PIPE | UV_READABLE_PIPE, .data.stream = &x->st.io[1].s },
		{ .flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = &x->st.io[0].s },
		{ .flags = UV_INHERIT_FD, .data.fd = 2 },
	};
	char **env = child_env(ep->ctx);
	uv_process_options_t po = {
		.exit_cb = on_exit_cb,
		.file = argv[0],
		.args = argv,
		.env = env,
		.stdio_count = 3,
		.stdio = io,
	};
	x->proc.data = x;
	r = uv_spawn(loop, &x->proc, &po);
	oc_argv_free(env);
	if (r) {
		oc_ep_fail(ep, OC_EFAIL, "cannot run '%s': %s", argv[0], uv_strerror(r));
		oc_argv_free(argv);
		/* uv_spawn initialised the handle even though it failed: it must be closed. */
		x->proc_open = true;
		uv_close((uv_handle_t *)&x->proc, proc_closed);
		return 0;
	}
	oc_verbose("started '%s' (pid %d)", ep->name, x->proc.pid);
	oc_argv_free(argv);
	x->proc_open = true;
	x->running = true;
	oc_stream_attach(&x->st, &x->st.io[0].s, &x->st.io[1].s);
	oc_ep_ready(ep);
	return 0;
}

static void exec_close(struct oc_ep *ep)
{
	struct exec_ep *x = ep->priv;
	x->closing = true;
	if (x->running)
		uv_process_kill(&x->proc, SIGTERM);
	oc_stream_close(ep);
}

const struct oc_adapter oc_adapter_exec = {
	.name = "exec",
	.flags = OC_AF_CLIENT | OC_AF_PUB | OC_AF_SUB | OC_AF_PER_PEER | OC_AF_STREAM,
	.priv_size = sizeof(struct exec_ep),
	.check = exec_check,
	.open = exec_open,
	.write = oc_stream_write,
	.pause = oc_stream_pause,
	.resume = oc_stream_resume,
	.shutdown = oc_stream_shutdown,
	.close = exec_close,
};
