/* core/data.h — whole-file reads and the -d/--data argument.
 *
 * -d DATA is the exact bytes of one message; "@FILE" reads FILE, "@-" reads all of stdin
 * (before the loop starts, like curl). */
#ifndef OC_DATA_H
#define OC_DATA_H

#include <stddef.h>

/* Read a whole file ("-" for stdin) into a new buffer. Returns 0, or -errno. */
int oc_read_file(const char *path, char **out, size_t *len);

/* The bytes -d DATA stands for, in a new buffer. Returns 0, or OC_EIO with err set. */
int oc_data_load(const char *spec, char **out, size_t *len, char *err, size_t errlen);

/* The password that goes with user (-u USER, or a URL's user; NULL: none) when it has no
 * ":PASS": the first line of --password-file, else $OMNICAT_PASSWORD; *out is a new string
 * or NULL. Returns 0, or OC_EIO with err set (an unreadable file). Nothing here ever logs
 * the password. */
struct oc_cfg;
int oc_cfg_password(const struct oc_cfg *cfg, const char *user, char **out, char *err,
		    size_t errlen);

#endif
