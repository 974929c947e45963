/* core/argv.h — command lines for --exec and exec: URLs, split without a shell.
 *
 * Words are separated by blanks; '...' is literal; "..." is literal except \" and \\;
 * outside quotes a backslash makes the next character literal. Nothing is expanded: no
 * variables, globs or redirections, so a message can never inject a command (DESIGN §4). */
#ifndef OC_ARGV_H
#define OC_ARGV_H

#include <stddef.h>

/* Split cmd into a NULL-terminated argv (free with oc_argv_free). Returns 0, or OC_EUSAGE
 * with err set (empty command, unterminated quote, trailing backslash). */
int oc_argv_split(const char *cmd, char ***argv, char *err, size_t errlen);
void oc_argv_free(char **argv);
/* Quote s so that oc_argv_split() gives it back as one word (a new string). */
char *oc_argv_quote(const char *s);
/* The exec: URL that runs --exec CMD (split, no shell) or --exec-shell CMD (/bin/sh -c), as
 * a new string. */
char *oc_exec_url(const char *exec, const char *exec_shell);

#endif
