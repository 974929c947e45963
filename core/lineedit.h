/* core/lineedit.h — the REPL's input and output: lines typed at a terminal, or read from stdin.
 *
 * On a terminal: libedit through its readline-compatible callback interface, driven by a
 * uv_poll on stdin (no thread, no blocking read): emacs keys, Ctrl-R history search, Tab
 * completion through a hook, history kept in a file. Text printed with oc_le_print() appears
 * above the prompt and the half-typed line is redrawn after it, intact. Ctrl-C (SIGINT, caught
 * with a uv_signal while the editor runs) clears the line and calls the interrupt hook;
 * Ctrl-D on an empty line is the end of input.
 *
 * Not a terminal: stdin is read through the stdio endpoint, one line a message, and output
 * goes out through the same endpoint (so a closed stdout or a slow reader behaves as for
 * every other command); no prompt, no history.
 *
 * Both ways, a line ending in a backslash continues on the next one: the hook gets one
 * logical line, the pieces joined with "\n".
 *
 * Threads: loop thread only. One editor per process (libedit's readline interface is
 * global). */
#ifndef OC_LINEEDIT_H
#define OC_LINEEDIT_H

#include <stdbool.h>
#include <stddef.h>

struct oc_le;

struct oc_le_hooks {
	/* A logical line, without its newline; NULL at the end of input (then no more calls). */
	void (*line)(void *ud, const char *line);
	/* Ctrl-C at the terminal: the line being typed was cleared. May be NULL. */
	void (*interrupt)(void *ud);
	/* Candidates for Tab, whatever their prefix (the editor keeps those that start with the
	 * word being completed, line[start..]): a malloc'd, NULL-terminated array of malloc'd
	 * strings, or NULL; or set *files to complete a file name instead. May be NULL. */
	char **(*complete)(void *ud, const char *line, int start, bool *files);
	/* Not a terminal: stdout went away (err OC_ECLOSED_OUT) or stdin failed; the end of input
	 * follows, and nothing more can be shown: the owner should end at once. May be NULL. */
	void (*failed)(void *ud, int err, const char *msg);
	/* After oc_le_close(): everything is released. */
	void (*closed)(void *ud);
	void *ud;
};

/* Start reading. history is the history file's path (NULL: no history); its directory is
 * created (0700) when missing. Returns 0, or an OC_E* with err set. */
int oc_le_open(struct oc_le **out, const char *prompt, const char *history,
	       const struct oc_le_hooks *hooks, char *err, size_t errlen);
bool oc_le_is_tty(const struct oc_le *le);
/* Write text (complete lines) above the prompt, or to stdout when not a terminal. */
void oc_le_print(struct oc_le *le, const char *text, size_t len);
/* Write a notice (complete lines) on the terminal, above the prompt (when stdout goes to a
 * file, the prompt and notices are on stderr), or to stderr when not a terminal. */
void oc_le_notice(struct oc_le *le, const char *text, size_t len);
/* The prompt of the next line (drawn again now when a line is being typed). */
void oc_le_set_prompt(struct oc_le *le, const char *prompt);
/* Stop / start delivering lines (while the endpoint they go to is full or being replaced). */
void oc_le_pause(struct oc_le *le);
void oc_le_resume(struct oc_le *le);
/* Save the history, give the terminal back, flush what was printed; hooks.closed follows. */
void oc_le_close(struct oc_le *le);

/* The history file for a scheme: $XDG_STATE_HOME/omnicat/history-SCHEME, else
 * ~/.local/state/omnicat/history-SCHEME. A malloc'd path, or NULL without a home. */
char *oc_le_history_path(const char *scheme);

#endif
