/* index.c: loading and querying an object index file (see index.h).
 * Ids live in one growing arena; the table is open-addressed on an FNV-1a
 * hash of the id bytes, at most half full.  A duplicate id keeps its first
 * location (the director rows are unique; a repeated id means the file was
 * appended twice, with the same locations). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index.h"

struct slot {
	size_t off;	/* id in arena; (size_t)-1 when empty */
	uint32_t len;
	int32_t chunk, sub;
};

struct qpart_index {
	char *arena;
	size_t alen, acap;
	struct slot *tab;
	size_t cap, n;
};

static uint64_t fnv(const char *p, size_t len)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < len; ++i)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
	return h;
}

static size_t find_slot(const struct qpart_index *ix, const char *id, size_t len)
{
	size_t i = (size_t)fnv(id, len) & (ix->cap - 1);
	while (ix->tab[i].off != (size_t)-1 &&
	       !(ix->tab[i].len == len && memcmp(ix->arena + ix->tab[i].off, id, len) == 0))
		i = (i + 1) & (ix->cap - 1);
	return i;
}

static int grow(struct qpart_index *ix)
{
	size_t cap = ix->cap ? ix->cap * 2 : 1024;
	struct slot *old = ix->tab;
	size_t oldcap = ix->cap;
	struct slot *tab = malloc(cap * sizeof(*tab));
	if (!tab)
		return -ENOMEM;
	for (size_t i = 0; i < cap; ++i)
		tab[i].off = (size_t)-1;
	ix->tab = tab;
	ix->cap = cap;
	for (size_t i = 0; i < oldcap; ++i)
		if (old[i].off != (size_t)-1)
			ix->tab[find_slot(ix, ix->arena + old[i].off, old[i].len)] = old[i];
	free(old);
	return 0;
}

static int insert(struct qpart_index *ix, const char *id, size_t len, int32_t chunk, int32_t sub)
{
	if ((ix->n + 1) * 2 > ix->cap && grow(ix) < 0)
		return -ENOMEM;
	size_t i = find_slot(ix, id, len);
	if (ix->tab[i].off != (size_t)-1)
		return 0;
	if (ix->alen + len > ix->acap) {
		size_t c = ix->acap ? ix->acap * 2 : 1 << 16;
		while (c < ix->alen + len)
			c *= 2;
		char *a = realloc(ix->arena, c);
		if (!a)
			return -ENOMEM;
		ix->arena = a;
		ix->acap = c;
	}
	memcpy(ix->arena + ix->alen, id, len);
	ix->tab[i] = (struct slot){ ix->alen, (uint32_t)len, chunk, sub };
	ix->alen += len;
	ix->n++;
	return 0;
}

static int parse_id(const struct qpart_dialect *d, const struct qpart_field *f, int32_t *ret)
{
	char buf[32], *end;
	if (qpart_csv_decode(d, f, buf, sizeof(buf)) < 0)
		return -1;
	long v = strtol(buf, &end, 10);
	if (end == buf || *end || v < 0 || v > INT32_MAX)
		return -1;
	*ret = (int32_t)v;
	return 0;
}

int qpart_index_load(const char *url, const struct qpart_dialect *d, struct qpart_index **ret,
		     char *err, size_t errlen)
{
	static const char scheme[] = "file:///";
	if (strncmp(url, scheme, sizeof(scheme) - 1) || strlen(url) <= sizeof(scheme)) {
		snprintf(err, errlen, "--part.id-url=%s: expected file:///absolute/path", url);
		return -EINVAL;
	}
	const char *path = url + sizeof(scheme) - 2;
	FILE *f = fopen(path, "r");
	if (!f) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	struct qpart_index *ix = calloc(1, sizeof(*ix));
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned long lineno = 0;
	int r = ix ? grow(ix) : -ENOMEM;
	while (r == 0 && (n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		if (n == 0)
			continue;
		struct qpart_field fl[3];
		int32_t chunk, sub;
		if (qpart_csv_split(d, line, (size_t)n, fl, 3) < 3 || parse_id(d, &fl[1], &chunk) < 0 ||
		    parse_id(d, &fl[2], &sub) < 0) {
			snprintf(err, errlen, "%s:%lu: expected \"id chunkId subChunkId\"", path, lineno);
			r = -EINVAL;
			break;
		}
		r = insert(ix, fl[0].p, fl[0].len, chunk, sub);
	}
	free(line);
	fclose(f);
	if (r < 0) {
		qpart_index_free(ix);
		return r;
	}
	*ret = ix;
	return 0;
}

int qpart_index_find(const struct qpart_index *ix, const char *id, size_t len, int32_t *ret_chunk,
		     int32_t *ret_sub)
{
	size_t i = find_slot(ix, id, len);
	if (ix->tab[i].off == (size_t)-1)
		return -ENOENT;
	*ret_chunk = ix->tab[i].chunk;
	*ret_sub = ix->tab[i].sub;
	return 0;
}

size_t qpart_index_size(const struct qpart_index *ix)
{
	return ix->n;
}

void qpart_index_free(struct qpart_index *ix)
{
	if (!ix)
		return;
	free(ix->arena);
	free(ix->tab);
	free(ix);
}
