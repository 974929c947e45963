/* core/data.c — see data.h. */
#include "data.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "options.h"
#include "xalloc.h"

int oc_read_file(const char *path, char **out, size_t *len)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	if (fd < 0)
		return -errno;
	size_t cap = 4096, n = 0;
	char *buf = xmalloc(cap);
	for (;;) {
		if (n == cap)
			buf = xrealloc(buf, cap *= 2);
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(buf);
			if (fd != STDIN_FILENO)
				close(fd);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	*out = buf;
	*len = n;
	return 0;
}

int oc_data_load(const char *spec, char **out, size_t *len, char *err, size_t errlen)
{
	if (spec[0] != '@') {
		*len = strlen(spec);
		*out = xstrndup(spec, *len);
		return 0;
	}
	int r = oc_read_file(spec + 1, out, len);
	if (r) {
		snprintf(err, errlen, "cannot read '%s': %s", strcmp(spec + 1, "-") ? spec + 1 : "stdin",
			 strerror(-r));
		return OC_EIO;
	}
	return 0;
}

int oc_cfg_password(const struct oc_cfg *cfg, const char *user, char **out, char *err,
		    size_t errlen)
{
	*out = NULL;
	if (!user || strchr(user, ':'))
		return 0;
	if (cfg->password_file) {
		char *buf;
		size_t len;
		int r = oc_read_file(cfg->password_file, &buf, &len);
		if (r) {
			snprintf(err, errlen, "cannot read '%s': %s", cfg->password_file, strerror(-r));
			return OC_EIO;
		}
		*out = xstrndup(buf, strcspn(buf, "\r\n"));
		free(buf);
	} else if (getenv("OMNICAT_PASSWORD")) {
		*out = xstrdup(getenv("OMNICAT_PASSWORD"));
	}
	return 0;
}
