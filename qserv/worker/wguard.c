/* wguard.c: what a request may not change on this worker.
 *
 * - A registered table is registered once: POST /worker/table on a table
 *   qservWorker.tables already holds is accepted only when it says exactly
 *   what is registered (partitioning, director flag, director, chunk and
 *   sub-chunk key columns, column list), so a retry is harmless and a
 *   rewrite of the director key (which GET /worker/index exports) is a
 *   conflict.  The key columns must be columns of the table.
 * - A published database takes no writes (wstore_published): no table,
 *   chunk, transaction, contribution or drop, until the operator
 *   un-publishes it through the controller.
 * Both answer -EEXIST / -EPERM with err naming the field or the database;
 * the HTTP layer makes those 409. */
#include "worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether `name` is one of cols ("`a`,`b`,..."). */
bool wguard_has_col(const char *cols, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = cols; (p = strchr(p, '`')); p++) {
		if (!strncmp(p + 1, name, n) && p[1 + n] == '`')
			return true;
		p = strchr(p + 1, '`');
		if (!p)
			break;
	}
	return false;
}

int wguard_keys(const struct wtable *t, char *err, size_t errlen)
{
	const char *keys[3] = { t->director_key, t->chunk_key, t->sub_chunk_key };
	const char *field[3] = { "director_key", "chunk_id_key", "sub_chunk_id_key" };
	for (int i = 0; i < 3; i++) {
		if ((i == 0 && !t->director) || (i > 0 && !t->partitioned))
			continue;
		if (!keys[i][0] && i == 0)
			continue;
		if (!wguard_has_col(t->cols, keys[i])) {
			snprintf(err, errlen, "%s: %s is not a column of table %s", field[i], keys[i], t->name);
			return -EINVAL;
		}
	}
	return 0;
}

/* The first field in which want differs from have, or NULL. */
static const char *differs(const struct wtable *have, const struct wtable *want)
{
	if (have->partitioned != want->partitioned)
		return "is_partitioned";
	if (have->director != want->director)
		return "is_director";
	if (strcmp(have->director_key, want->director_key))
		return "director_key";
	if (have->partitioned && strcmp(have->chunk_key, want->chunk_key))
		return "chunk_id_key";
	if (have->partitioned && strcmp(have->sub_chunk_key, want->sub_chunk_key))
		return "sub_chunk_id_key";
	if (have->ncols != want->ncols || strcmp(have->cols, want->cols))
		return "schema";
	return NULL;
}

int wguard_table(MYSQL *m, const struct wtable *want, char *err, size_t errlen)
{
	struct wtable have = { 0 };
	int r = wmeta_table(m, want->db, want->name, &have, err, errlen);
	if (r == -ENOENT)
		return 0;
	if (r == 0) {
		const char *f = differs(&have, want);
		if (f) {
			snprintf(err, errlen, "%s: table %s.%s is already registered on this worker with another"
				 " %s; a registered table is not changed (drop it first)", f, want->db, want->name, f);
			r = -EEXIST;
		}
	}
	free(have.cols);
	return r;
}

int wguard_writable(MYSQL *m, const char *db, char *err, size_t errlen)
{
	return wstore_published(m, db, err, errlen);
}
