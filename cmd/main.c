/* cmd/main.c — the command table and the dispatcher (git's builtin table, in small).
 *
 * Each command is a row: name, function, option bit, number of URLs, usage and help. The
 * dispatcher parses the command line with the shared option table, sets up logging and the
 * run, lets the command build its endpoints and pumps, runs the loop and turns the result
 * into the documented exit status. Only this layer exits. */
#include <curl/curl.h>
#include <csv.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "adapter.h"
#include "cmd.h"
#include "err.h"
#include "log.h"

const struct command commands[] = {
	{ "client", cmd_client, OC_CMD_CLIENT, 1, "client URL [options]",
	  "connect to URL: stdin goes to it, what it sends goes to stdout",
	  "Sends each stdin message to URL and writes what URL sends to stdout. The end of\n"
	  "stdin half-closes the connection; the run ends when URL ends. -d sends one message\n"
	  "instead of stdin; --exec wires a child process to URL instead of stdio." },
	{ "server", cmd_server, OC_CMD_SERVER, 1, "server URL [options]",
	  "listen on URL: peers' messages go to stdout, stdin is broadcast to them",
	  "Accepts any number of peers. What they send goes to stdout (with --jsonl, \"peer\"\n"
	  "says who). Each stdin message goes to every peer, or to the one a jsonl line names.\n"
	  "--echo sends each message back to its sender; --exec CMD runs one child per\n"
	  "connection wired to it. A server keeps serving after stdin ends; stop it with a\n"
	  "signal, -c, --timeout or --idle. Listeners bind 127.0.0.1 unless given a host." },
	{ "pub", cmd_pub, OC_CMD_PUB, 1, "pub URL [options]",
	  "send each stdin message (or -d) to URL",
	  "Sends every stdin message to URL and reads nothing back; ends when stdin ends and\n"
	  "everything was sent. file: appends, dir: writes one file per message." },
	{ "sub", cmd_sub, OC_CMD_SUB, 1, "sub URL [options]",
	  "write every message from URL to stdout",
	  "Receives from URL until it ends (or -c, --timeout, --idle). file: reads the file,\n"
	  "--follow keeps reading as it grows; dir: consumes one file per message." },
	{ "relay", cmd_relay, OC_CMD_RELAY, 2, "relay A B [options]",
	  "move messages from A to B, and back where both can",
	  "Options before the first URL apply to both; an option after a URL applies to that\n"
	  "endpoint only. A listener relayed to tcp/unix/udp/exec gets one target per peer\n"
	  "(a port forwarder). Between two streams, bytes pass unchanged unless --framing." },
	{ "repl", cmd_repl, OC_CMD_REPL, 1, "repl URL [options]",
	  "talk to URL interactively: type messages, see what arrives",
	  "Each line typed is a message to URL (tcp, ws...), a request (http, coap: 'GET /path'\n"
	  "or a body) or a publish on :topic (mqtt, which subscribes to the URL's filter).\n"
	  "What arrives is printed above the prompt: JSON pretty-printed, binary as hex.\n"
	  "Lines starting with ':' are commands (:help lists them). History is kept per\n"
	  "scheme in $XDG_STATE_HOME/omnicat/. Without a terminal, stdin's lines are read the\n"
	  "same way and the run ends at their end, once the answers are in." },
	{ 0 },
};

static const struct command *find_command(const char *name)
{
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static void print_schemes(bool built)
{
	int col = 0;
	for (const struct oc_scheme *s = oc_schemes; s->name; s++) {
		if ((s->ad != NULL) != built)
			continue;
		col += printf("%s%s", col ? " " : "  ", s->name);
		if (col > 90) {
			printf("\n");
			col = 0;
		}
	}
	if (col)
		printf("\n");
}

static int main_help(void)
{
	printf("usage: omnicat COMMAND URL... [options]\n\n"
	       "One tool for every way programs talk: two endpoints and a pump.\n\nCommands:\n");
	for (const struct command *c = commands; c->name; c++)
		printf("  %-8s %s\n", c->name, c->summary);
	printf("  %-8s %s\n", "help", "show help for a command: omnicat help client");
	printf("\nURLs (built in):\n");
	for (const struct oc_scheme *s = oc_schemes; s->name; s++)
		if (s->ad)
			printf("  %-12s %s\n", s->name, s->summary);
	printf("\nClient options (omnicat help COMMAND lists each command's):\n\n");
	oc_options_help(OC_CMD_CLIENT);
	printf("\nExit status:\n");
	for (const struct oc_exit_row *r = oc_exit_table; r->meaning; r++)
		printf("  %3d  %s\n", r->code, r->meaning);
	printf("  128+N  ended by signal N (SIGINT: 130)\n");
	printf("\n  --version   version, schemes and libraries\n");
	return 0;
}

static int command_help(const struct command *c)
{
	printf("usage: omnicat %s\n\n%s.\n\n%s\n\n", c->usage, c->summary, c->help);
	oc_options_help(c->bit);
	return 0;
}

/* The protocol libraries, as each adapter names its own (two adapters may share one). */
static void print_adapter_libraries(void)
{
	char seen[1024] = "", v[256];
	for (const struct oc_adapter *const *ad = oc_adapters; *ad; ad++) {
		if (!(*ad)->version)
			continue;
		(*ad)->version(v, sizeof(v));
		if (!*v || strstr(seen, v))
			continue;
		printf("  %s: %s\n", (*ad)->name, v);
		snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), "%s\n", v);
	}
}

static int version(void)
{
	const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
	printf("omnicat %s\n", OC_VERSION);
	printf("Schemes:\n");
	print_schemes(true);
	printf("Known, not built in:\n");
	print_schemes(false);
	printf("Libraries: libuv %s, jansson %s, libcurl %s (URL parsing), %s, libcsv %d.%d.%d\n",
	       uv_version_string(), jansson_version_str(), cv->version,
	       OpenSSL_version(OPENSSL_VERSION), CSV_MAJOR, CSV_MINOR, CSV_RELEASE);
	print_adapter_libraries();
	return 0;
}

/* fds 0-2 must be open: otherwise the first socket would become "stdout". */
static void ensure_std_fds(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			_exit(1);
}

static int run_command(const struct command *cmd, int argc, char **argv)
{
	struct cmd_ctx c = { .cmd = cmd };
	char err[512];
	int r = oc_args_parse(&c.args, cmd->bit, argc, argv, err, sizeof(err));
	if (r) {
		oc_args_release(&c.args);
		return cmd_fail(r, err);
	}
	if (c.args.help) {
		oc_args_release(&c.args);
		return command_help(cmd);
	}
	if (c.args.nurls != cmd->nurls) {
		oc_args_release(&c.args);
		snprintf(err, sizeof(err), "'%s' takes %s (usage: omnicat %s)", cmd->name,
			 cmd->nurls == 1 ? "one URL" : "two URLs", cmd->usage);
		return cmd_fail(OC_EUSAGE, err);
	}
	oc_log.verbose = c.args.run.verbose;
	oc_log.silent = c.args.run.silent;
	oc_log.show_error = c.args.run.show_error;
	oc_log.trace = c.args.run.trace;
	oc_run_init(&c.run, &c.args.run);
	int status = cmd->fn(&c);
	if (status) {
		/* Nothing was started, but what was created must finish closing. */
		oc_run_loop(&c.run);
	} else {
		status = oc_run_loop(&c.run);
	}
	oc_args_release(&c.args);
	return status;
}

int main(int argc, char **argv)
{
	ensure_std_fds();
	if (argc < 2) {
		fprintf(stderr, "usage: omnicat COMMAND URL... [options] (see 'omnicat --help')\n");
		return 2;
	}
	const char *name = argv[1];
	if (!strcmp(name, "--help") || !strcmp(name, "-h"))
		return main_help();
	if (!strcmp(name, "--version") || !strcmp(name, "-V"))
		return version();
	if (!strcmp(name, "--list-options")) {
		oc_options_list();
		return 0;
	}
	if (!strcmp(name, "help")) {
		if (argc < 3)
			return main_help();
		const struct command *c = find_command(argv[2]);
		if (c)
			return command_help(c);
		fprintf(stderr, "omnicat: no help for '%s': not a command\n", argv[2]);
		return 2;
	}
	const struct command *c = find_command(name);
	if (!c) {
		fprintf(stderr, "omnicat: '%s' is not a command (see 'omnicat --help')\n", name);
		return 2;
	}
	return run_command(c, argc - 2, argv + 2);
}
