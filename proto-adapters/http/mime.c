/* proto-adapters/http/mime.c — see mime.h. The table is read once, on first use. */
#include "mime.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xalloc.h"

#define MIME_TYPES_FILE "/etc/mime.types"

struct entry {
	char *ext;  /* "html" */
	char *type; /* "text/html" */
};

static struct entry *table;
static size_t nentries;
static bool loaded;

static int by_ext(const void *a, const void *b)
{
	return strcasecmp(((const struct entry *)a)->ext, ((const struct entry *)b)->ext);
}

/* Lines are "type ext ext ..."; '#' starts a comment. */
static void load(void)
{
	loaded = true;
	FILE *f = fopen(MIME_TYPES_FILE, "re");
	if (!f)
		return;
	char line[1024];
	size_t cap = 0;
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *type = strtok_r(line, " \t\r\n", &save);
		if (!type || type[0] == '#')
			continue;
		for (char *ext; (ext = strtok_r(NULL, " \t\r\n", &save));) {
			if (nentries == cap)
				table = xrealloc(table, (cap = cap ? 2 * cap : 512) * sizeof(*table));
			table[nentries].ext = xstrdup(ext);
			table[nentries].type = xstrdup(type);
			nentries++;
		}
	}
	fclose(f);
	qsort(table, nentries, sizeof(*table), by_ext);
}

const char *oc_mime_type(const char *path)
{
	if (!loaded)
		load();
	const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
	if (dot && (!slash || dot > slash) && dot[1]) {
		struct entry key = { .ext = (char *)dot + 1 };
		struct entry *e = bsearch(&key, table, nentries, sizeof(*table), by_ext);
		if (e)
			return e->type;
	}
	return "application/octet-stream";
}

void oc_mime_release(void)
{
	for (size_t i = 0; i < nentries; i++) {
		free(table[i].ext);
		free(table[i].type);
	}
	free(table);
	table = NULL;
	nentries = 0;
	loaded = false;
}
