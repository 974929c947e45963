/* core/lineedit.c — terminal line editing with libedit, or stdin lines (see lineedit.h).
 *
 * libedit 3.1-20221030's readline interface, measured here (tmux):
 *  - rl_callback_read_char() reads one key per call (EL_UNBUFFERED); when a line completes it
 *    leaves unbuffered mode before calling our handler, so the handler must be installed
 *    again after every line, or the next call would block in el_gets() for a whole line.
 *    Installing it again also empties the line buffer and draws the prompt, which is how
 *    Ctrl-C clears the line: rl_replace_line() and rl_delete_text() leave libedit's own
 *    buffer as it was.
 *  - rl_forced_update_display() (EL_REFRESH) redraws prompt and line from the cursor's
 *    column 0: printing above the line is "go to the line's first row, erase to the end of
 *    the screen, print, redraw". rl_redisplay() pushes a ^R into the input instead: unused.
 *  - Ctrl-D on an empty line calls the handler with NULL.
 *  - rl_catch_signals = 0: libedit's own handlers would be installed around each key read
 *    and fight the loop's uv_signal.
 * uv_poll_init() makes the descriptor non-blocking, which on a terminal is the same open
 * file as stdout: it is put back to blocking, since only readiness is polled and printf()
 * must not meet EAGAIN. */
#include "lineedit.h"

#include <editline/readline.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "endpoint.h"
#include "err.h"
#include "log.h"
#include "msgq.h"
#include "xalloc.h"

#define HISTORY_MAX 1000
#define CONT_PROMPT "... " /* after a line that ended with a backslash */

struct oc_le {
	struct oc_le_hooks h;    /* the owner's */
	bool tty;                /* stdin is a terminal: libedit; else the stdio endpoint */
	char *prompt;            /* the prompt of a new line */
	char *history;           /* history file, or NULL */
	char *cont;              /* lines so far of a logical line continued with '\', or NULL */
	bool paused;             /* lines are held back */
	bool ended;              /* the end of input was delivered */
	bool closing;            /* oc_le_close() was called */
	/* terminal */
	bool out_tty;            /* stdout is the terminal too (else it is the prompt's stderr) */
	bool installed;          /* the libedit handler is installed (a prompt is on screen) */
	uv_poll_t *poll;         /* stdin readiness */
	uv_signal_t *sigint;     /* Ctrl-C */
	uv_signal_t *sigwinch;   /* the terminal was resized */
	struct oc_defer closed_later; /* the closed hook, after the handles */
	/* not a terminal */
	struct oc_ep *io;        /* the stdio endpoint */
	struct oc_msgq held;     /* lines read while paused */
	bool io_eof;             /* stdin ended (delivered once held lines are) */
	bool io_failed;          /* the stdio endpoint failed: closed, not shut down */
};

/* libedit's readline interface is global: so is its editor. */
static struct oc_le *the_le;

/* ---- logical lines ----------------------------------------------------------------------- */

/* One physical line: continue it when it ends with a backslash, else hand the logical line
 * over. Returns true when the line continues. */
static bool take_line(struct oc_le *le, const char *s, size_t len)
{
	bool more = len > 0 && s[len - 1] == '\\';
	size_t keep = more ? len - 1 : len;
	size_t have = le->cont ? strlen(le->cont) : 0;
	char *joined = xmalloc(have + keep + 2);
	size_t n = 0;
	if (le->cont) {
		memcpy(joined, le->cont, have);
		joined[have] = '\n';
		n = have + 1;
	}
	memcpy(joined + n, s, keep);
	joined[n + keep] = '\0';
	free(le->cont);
	le->cont = NULL;
	if (more) {
		le->cont = joined;
		return true;
	}
	le->h.line(le->h.ud, joined);
	free(joined);
	return false;
}

static void deliver_eof(struct oc_le *le)
{
	if (le->ended)
		return;
	le->ended = true;
	free(le->cont);
	le->cont = NULL;
	le->h.line(le->h.ud, NULL);
}

/* ---- terminal ---------------------------------------------------------------------------- */

static void on_rl_line(char *line);

static void install(struct oc_le *le)
{
	rl_callback_handler_install(le->cont ? CONT_PROMPT : le->prompt, on_rl_line);
	le->installed = true;
}

static void uninstall(struct oc_le *le)
{
	if (le->installed)
		rl_callback_handler_remove();
	le->installed = false;
}

static void on_rl_line(char *line)
{
	struct oc_le *le = the_le;
	le->installed = false; /* libedit left unbuffered mode: the handler must come back */
	if (!line) {
		fputs("\n", rl_outstream);
		fflush(rl_outstream);
		uv_poll_stop(le->poll);
		deliver_eof(le);
		return;
	}
	if (*line)
		add_history(line);
	bool more = take_line(le, line, strlen(line));
	free(line);
	/* the prompt comes back once the line was taken: what that printed at once (:help) is
	 * above it, and what arrives later is printed above it too */
	if (!le->closing && !le->ended && (!le->paused || more))
		install(le);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	struct oc_le *le = p->data;
	if (status < 0) {
		uv_poll_stop(p);
		deliver_eof(le);
		return;
	}
	rl_callback_read_char();
}

static void on_sigint(uv_signal_t *s, int signum)
{
	struct oc_le *le = s->data;
	if (le->ended || le->closing)
		return;
	free(le->cont);
	le->cont = NULL;
	if (le->installed) {
		uninstall(le);
		fputs("^C\n", rl_outstream);
		fflush(rl_outstream);
		install(le);
	}
	if (le->h.interrupt)
		le->h.interrupt(le->h.ud);
}

static void on_sigwinch(uv_signal_t *s, int signum)
{
	rl_resize_terminal();
}

/* Only the candidates that start with word, readline's way: [0] is their longest common
 * prefix, then the candidates, then NULL. Takes cands (and its strings). */
static char **readline_matches(const char *word, char **cands)
{
	size_t wl = strlen(word), n = 0, total = 0;
	for (char **c = cands; c && *c; c++)
		total++;
	char **out = xmalloc((total + 2) * sizeof(*out));
	for (char **c = cands; c && *c; c++) {
		if (!strncmp(*c, word, wl))
			out[1 + n++] = *c;
		else
			free(*c);
	}
	free(cands);
	if (!n) {
		free(out);
		return NULL;
	}
	size_t common = strlen(out[1]);
	for (size_t i = 2; i <= n; i++)
		for (size_t k = 0; k < common; k++)
			if (out[i][k] != out[1][k]) {
				common = k;
				break;
			}
	out[0] = xstrndup(out[1], common);
	out[n + 1] = NULL;
	return out;
}

static char **on_complete(const char *word, int start, int end)
{
	struct oc_le *le = the_le;
	rl_attempted_completion_over = 1; /* no file names unless the owner asks for them */
	if (!le->h.complete)
		return NULL;
	bool files = false;
	char **cands = le->h.complete(le->h.ud, rl_line_buffer, start, &files);
	if (files)
		return rl_completion_matches(word, rl_filename_completion_function);
	return readline_matches(word, cands);
}

/* Go to the first row of the line being typed and erase from there to the end of the screen:
 * the cursor's row is counted from the prompt's width and the cursor position. */
static void erase_input(struct oc_le *le)
{
	int rows, cols;
	rl_get_screen_size(&rows, &cols);
	size_t plen = strlen(le->cont ? CONT_PROMPT : le->prompt);
	int up = cols > 0 ? (int)((plen + (size_t)rl_point) / (size_t)cols) : 0;
	if (up > 0)
		fprintf(rl_outstream, "\033[%dA", up);
	fputs("\r\033[J", rl_outstream);
}

static void write_out(FILE *f, const char *text, size_t len)
{
	fwrite(text, 1, len, f);
	fflush(f);
}

/* text on the terminal (the prompt's stream), above the line being typed */
static void print_above(struct oc_le *le, const char *text, size_t len)
{
	if (!le->installed) {
		write_out(rl_outstream, text, len);
		return;
	}
	erase_input(le);
	write_out(rl_outstream, text, len);
	rl_forced_update_display();
}

/* What arrives: above the prompt, or into the file stdout was sent to. */
static void tty_print(struct oc_le *le, const char *text, size_t len)
{
	if (le->out_tty)
		print_above(le, text, len);
	else
		write_out(stdout, text, len);
}

/* Notices and errors, when stderr is a terminal: above the prompt. */
static void log_sink(const char *line, size_t len)
{
	print_above(the_le, line, len);
}

static void *start_signal(struct oc_le *le, int signum, uv_signal_cb cb)
{
	uv_signal_t *s = xmalloc(sizeof(*s));
	uv_signal_init(uv_default_loop(), s);
	s->data = le;
	uv_signal_start(s, cb, signum);
	uv_unref((uv_handle_t *)s); /* the owner's endpoints keep the loop alive, not these */
	return s;
}

static int tty_open(struct oc_le *le, char *err, size_t errlen)
{
	rl_catch_signals = 0;
	rl_catch_sigwinch = 0;
	rl_readline_name = "omnicat";
	/* stdout sent to a file keeps only what arrives: the prompt and editing go to stderr */
	le->out_tty = isatty(STDOUT_FILENO);
	rl_outstream = le->out_tty ? stdout : stderr;
	rl_attempted_completion_function = on_complete;
	rl_initialize();
	using_history();
	stifle_history(HISTORY_MAX);
	if (le->history)
		read_history(le->history); /* a missing file is a first session */
	le->poll = xmalloc(sizeof(*le->poll));
	int r = uv_poll_init(uv_default_loop(), le->poll, STDIN_FILENO);
	if (r) {
		free(le->poll);
		le->poll = NULL;
		snprintf(err, errlen, "cannot watch the terminal: %s", uv_strerror(r));
		return OC_EIO;
	}
	int fl = fcntl(STDIN_FILENO, F_GETFL);
	if (fl >= 0)
		fcntl(STDIN_FILENO, F_SETFL, fl & ~O_NONBLOCK); /* see the top of the file */
	le->poll->data = le;
	uv_poll_start(le->poll, UV_READABLE, on_poll);
	le->sigint = start_signal(le, SIGINT, on_sigint);
	le->sigwinch = start_signal(le, SIGWINCH, on_sigwinch);
	if (isatty(STDERR_FILENO))
		oc_log.sink = log_sink;
	install(le);
	return 0;
}

/* The history file, private to its user (it may hold tokens typed as headers). */
static void save_history(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	write_history(path);
	chmod(path, 0600);
}

static void le_free(struct oc_le *le)
{
	free(le->prompt);
	free(le->history);
	free(le->cont);
	oc_msgq_release(&le->held);
	free(le);
	the_le = NULL;
}

static void closed_later(struct oc_defer *d)
{
	struct oc_le *le = (struct oc_le *)((char *)d - offsetof(struct oc_le, closed_later));
	struct oc_le_hooks h = le->h;
	le_free(le);
	if (h.closed)
		h.closed(h.ud);
}

static void tty_close(struct oc_le *le)
{
	oc_log.sink = NULL;
	if (le->installed) { /* the prompt of a line that will not be read: off the screen */
		erase_input(le);
		fflush(rl_outstream);
	}
	uninstall(le);
	if (le->history)
		save_history(le->history);
	clear_history();
	oc_uv_close_free(le->poll);
	oc_uv_close_free(le->sigint);
	oc_uv_close_free(le->sigwinch);
	oc_defer_schedule(&le->closed_later);
}

/* ---- not a terminal ---------------------------------------------------------------------- */

static void deliver_held(struct oc_le *le)
{
	struct oc_msg *m;
	while (!le->paused && !le->closing && (m = oc_msgq_pop(&le->held))) {
		take_line(le, m->data, m->len);
		oc_msg_unref(m);
	}
	if (!le->paused && !le->closing && le->io_eof)
		deliver_eof(le);
}

static void io_msg(struct oc_ep *ep, struct oc_msg *m)
{
	struct oc_le *le = ep->owner;
	oc_msgq_push(&le->held, m);
	deliver_held(le);
}

static void io_eof(struct oc_ep *ep)
{
	struct oc_le *le = ep->owner;
	le->io_eof = true;
	deliver_held(le);
}

/* stdout closed (a reader that went away) or stdin unreadable: what was read but not taken
 * is dropped, the owner hears of it, then of the end of input. */
static void io_error(struct oc_ep *ep)
{
	struct oc_le *le = ep->owner;
	le->io_failed = true;
	oc_msgq_release(&le->held);
	if (le->h.failed)
		le->h.failed(le->h.ud, ep->err, ep->errmsg);
	io_eof(ep);
}

static void io_flushed(struct oc_ep *ep)
{
	oc_ep_close(ep);
}

static void io_closed(struct oc_ep *ep)
{
	struct oc_le *le = ep->owner;
	le->io = NULL;
	oc_defer_schedule(&le->closed_later);
}

static const struct oc_ep_events io_events = {
	.msg = io_msg,
	.eof = io_eof,
	.error = io_error,
	.flushed = io_flushed,
	.closed = io_closed,
};

static int pipe_open(struct oc_le *le, char *err, size_t errlen)
{
	static const struct oc_cfg line_cfg; /* defaults: line framing, stdin and stdout */
	int r = oc_ep_create("-", &line_cfg, OC_ROLE_CLIENT, &le->io, err, errlen);
	if (r)
		return r;
	oc_ep_set_events(le->io, &io_events, le);
	if ((r = oc_ep_open(le->io)) != 0) {
		snprintf(err, errlen, "%s", le->io->errmsg);
		oc_ep_close(le->io);
		return r;
	}
	oc_ep_resume(le->io);
	return 0;
}

/* ---- interface --------------------------------------------------------------------------- */

static int make_dirs(char *path)
{
	/* each parent of the file, in turn */
	for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		int r = mkdir(path, 0700);
		*p = '/';
		if (r && errno != EEXIST)
			return -1;
	}
	return 0;
}

char *oc_le_history_path(const char *scheme)
{
	const char *state = getenv("XDG_STATE_HOME");
	if (state && *state == '/')
		return xasprintf("%s/omnicat/history-%s", state, scheme);
	const char *home = getenv("HOME");
	if (!home || !*home)
		return NULL;
	return xasprintf("%s/.local/state/omnicat/history-%s", home, scheme);
}

int oc_le_open(struct oc_le **out, const char *prompt, const char *history,
	       const struct oc_le_hooks *hooks, char *err, size_t errlen)
{
	struct oc_le *le = xcalloc(1, sizeof(*le));
	le->h = *hooks;
	le->tty = isatty(STDIN_FILENO);
	le->prompt = xstrdup(prompt);
	oc_defer_init(&le->closed_later, closed_later);
	if (le->tty && history) {
		le->history = xstrdup(history);
		if (make_dirs(le->history)) {
			snprintf(err, errlen, "cannot create the directory of '%s': %s (--no-history "
				 "goes without)", history, strerror(errno));
			le_free(le);
			return OC_EIO;
		}
	}
	the_le = le;
	int r = le->tty ? tty_open(le, err, errlen) : pipe_open(le, err, errlen);
	if (r) {
		le_free(le);
		return r;
	}
	*out = le;
	return 0;
}

bool oc_le_is_tty(const struct oc_le *le)
{
	return le->tty;
}

void oc_le_notice(struct oc_le *le, const char *text, size_t len)
{
	if (le->tty)
		print_above(le, text, len);
	else
		write_out(stderr, text, len);
}

void oc_le_print(struct oc_le *le, const char *text, size_t len)
{
	if (le->tty) {
		tty_print(le, text, len);
		return;
	}
	if (!le->io)
		return;
	struct oc_msg *m = oc_msg_new();
	oc_msg_set_payload_copy(m, text, len);
	m->flags |= OC_MSG_BYTES; /* written as is, not framed as a line */
	oc_ep_write(le->io, m);
}

void oc_le_set_prompt(struct oc_le *le, const char *prompt)
{
	bool redraw = le->tty && le->installed && !le->cont;
	if (redraw)
		erase_input(le); /* measured with the old prompt */
	free(le->prompt);
	le->prompt = xstrdup(prompt);
	if (redraw) {
		rl_set_prompt(prompt);
		rl_forced_update_display();
	}
}

void oc_le_pause(struct oc_le *le)
{
	le->paused = true;
	if (le->tty)
		uv_poll_stop(le->poll);
	else if (le->io)
		oc_ep_pause(le->io);
}

void oc_le_resume(struct oc_le *le)
{
	if (!le->paused || le->closing)
		return;
	le->paused = false;
	if (le->tty) {
		if (!le->ended) {
			if (!le->installed)
				install(le);
			uv_poll_start(le->poll, UV_READABLE, on_poll);
		}
		return;
	}
	if (le->io)
		oc_ep_resume(le->io);
	deliver_held(le);
}

void oc_le_close(struct oc_le *le)
{
	if (le->closing)
		return;
	le->closing = true;
	if (le->tty)
		tty_close(le);
	else if (le->io && le->io_failed)
		oc_ep_close(le->io); /* then the hook */
	else if (le->io)
		oc_ep_shutdown(le->io); /* flushed: closed; then the hook */
	else
		oc_defer_schedule(&le->closed_later);
}
