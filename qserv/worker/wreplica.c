/* wreplica.c: the chunks this worker holds, as the controller sees them
 * for replica moves and verification:
 *   GET    /worker/replicas[?database=]        the chunks of qservWorker.chunks
 *   GET    /worker/replica?database=&chunk=    each chunk table's rows and checksum
 *   GET    /worker/replica?database=&regular=1 the same of the regular tables
 *   DELETE /worker/replica?database=&chunk=    drop the chunk here
 * the one table checksum every path uses (wreplica_checksum: the copy's
 * source, wcopy.c, and its target, wcopy_in.c, compare the same numbers the
 * controller reads here) and the one list of a replica's tables
 * (wreplica_tables: what the source exports, the target expects, GET
 * describes and DELETE drops).
 *
 * A replica is a chunk or, WREQ_REGULAR (wreq.h), the database's regular
 * tables.  A chunk's tables are those of its database's registered
 * partitioned tables: T_<chunk>, and TFullOverlap_<chunk> for directors;
 * the regular replica's are the registered regular tables T themselves;
 * both listed in strcmp order of their names.  Each is read under LOCK
 * TABLES ... READ (writers wait, readers go on) with a lock wait of at
 * most 60 s.  The regular tables are never dropped as a replica (400):
 * they go with their table or database.
 *
 * A drop first forgets the chunk (its qservWorker.chunks row, so it is no
 * longer listed), then drops whichever of its tables exist and its
 * sub-chunk database: a drop cut short (a 60 s metadata-lock wait for a
 * long query, a crash) is finished by the next DELETE, which is why a
 * chunk not held is not an error.  It holds the chunk's slot in
 * wcopy_in.c's table of running copies while it runs (a copy of the same
 * chunk in either direction answers 409) but no mutex: DROP waits for the
 * queries reading the tables with nothing of the worker's locked.  The
 * dummy chunk (WORKER_DUMMY_CHUNK, the empty tables the czar's plans name)
 * is never listed nor dropped. */
#include "worker.h"
#include "wcopy.h"
#include "qserv/common/sqlid.h"

#include <errno.h>
#include <mariadb/mysqld_error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int wreplica_checksum(MYSQL *m, const char *db, const char *t, unsigned long long *ret, char *err, size_t errlen)
{
	MYSQL_RES *res = qsql_query(m, err, errlen, "CHECKSUM TABLE `%s`.`%s`", db, t);
	if (!res)
		return -EIO;
	MYSQL_ROW row = mysql_fetch_row(res);
	int r = row && mysql_num_fields(res) >= 2 && row[1] ? 0 : -ENOENT;
	if (!r)
		*ret = strtoull(row[1], NULL, 10);
	else
		snprintf(err, errlen, "table %s.%s is missing", db, t);
	mysql_free_result(res);
	return r;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct wreplica_table *)a)->name, ((const struct wreplica_table *)b)->name);
}

bool wreplica_held(MYSQL *m, const char *db, int32_t chunk)
{
	char err[256];
	long long n = 0;
	if (chunk != WREQ_REGULAR)
		return wmeta_has_chunk(m, db, chunk);
	return qsql_int(m, &n, err, sizeof err, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE"
			" SCHEMA_NAME='%s'", db) == 0 && n > 0;
}

/* Fills t (the next of the list) for registered table proto; overlap: its
 * FullOverlap table.  A regular table is its own prototype. */
static int name_table(struct wreplica_table *t, const char *proto, int32_t chunk, bool overlap)
{
	int k = chunk == WREQ_REGULAR ? snprintf(t->name, WREQ_NAME, "%s", proto) :
		snprintf(t->name, WREQ_NAME, "%s%s_%d", proto, overlap ? "FullOverlap" : "", chunk);
	snprintf(t->proto, WREQ_NAME, "%s", proto);
	return sqlid_ok(proto) && k < WREQ_NAME ? 0 : -EIO;
}

int wreplica_tables(MYSQL *m, const char *db, int32_t chunk, struct wreplica_table **ret, size_t *ret_n,
		    char *err, size_t errlen)
{
	MYSQL_RES *res = qsql_query(m, err, errlen,
		"SELECT name, is_director FROM qservWorker.tables WHERE db='%s' AND is_partitioned=%d", db,
		chunk != WREQ_REGULAR);
	if (!res)
		return -EIO;
	struct wreplica_table *t = calloc(2 * mysql_num_rows(res) + 1, sizeof *t);
	size_t n = 0;
	int r = t ? 0 : -ENOMEM;
	MYSQL_ROW row;
	while (!r && (row = mysql_fetch_row(res))) {
		bool director = chunk != WREQ_REGULAR && atoi(row[1]) != 0;
		for (int ov = 0; !r && ov <= director; ov++)
			r = name_table(&t[n++], row[0], chunk, ov);
		if (r)
			snprintf(err, errlen, "a registered table of %s has an invalid name", db);
	}
	mysql_free_result(res);
	if (r == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (r) {
		free(t);
		return r;
	}
	qsort(t, n, sizeof *t, by_name);
	*ret = t;
	*ret_n = n;
	return 0;
}

int wreplica_list(MYSQL *m, const char *db, json_t **ret, char *err, size_t errlen)
{
	char where[120] = "";
	if (db[0])
		snprintf(where, sizeof where, " AND db='%s'", db);
	MYSQL_RES *res = qsql_query(m, err, errlen, "SELECT db, chunk FROM qservWorker.chunks WHERE chunk <> %d%s"
				    " ORDER BY db, chunk", WORKER_DUMMY_CHUNK, where);
	if (!res)
		return -EIO;
	json_t *a = json_array();
	MYSQL_ROW row;
	while ((row = mysql_fetch_row(res)))
		json_array_append_new(a, json_pack("{s:s, s:I}", "database", row[0], "chunk",
						   (json_int_t)strtoll(row[1], NULL, 10)));
	mysql_free_result(res);
	*ret = json_pack("{s:o}", "replicas", a);
	return 0;
}

/* {"table", "rows", "checksum"} of db.t, read under a read lock. */
static int describe_table(MYSQL *m, const char *db, const char *t, json_t *out, char *err, size_t errlen)
{
	unsigned long long sum = 0;
	long long rows = 0;
	char e2[128];
	if (qsql_exec(m, err, errlen, "LOCK TABLES `%s`.`%s` READ", db, t)) {
		snprintf(err, errlen, "cannot read table %s.%s (missing, or locked by a writer)", db, t);
		return -EIO;
	}
	int r = wreplica_checksum(m, db, t, &sum, err, errlen);
	if (!r)
		r = qsql_int(m, &rows, err, errlen, "SELECT COUNT(*) FROM `%s`.`%s`", db, t) ? -EIO : 0;
	qsql_exec(m, e2, sizeof e2, "UNLOCK TABLES");
	if (!r)
		json_array_append_new(out, json_pack("{s:s, s:I, s:I}", "table", t, "rows", (json_int_t)rows,
						     "checksum", (json_int_t)sum));
	return r;
}

int wreplica_describe(MYSQL *m, const char *db, int32_t chunk, json_t **ret, char *err, size_t errlen)
{
	struct wreplica_table *t = NULL;
	size_t n = 0;
	if (chunk == WORKER_DUMMY_CHUNK || !wreplica_held(m, db, chunk)) {
		if (chunk == WREQ_REGULAR)
			snprintf(err, errlen, "this worker has no database %s", db);
		else
			snprintf(err, errlen, "this worker holds no chunk %d of database %s", chunk, db);
		return -ENOENT;
	}
	int r = qsql_exec(m, err, errlen, "SET SESSION lock_wait_timeout = 60") ? -EIO :
		wreplica_tables(m, db, chunk, &t, &n, err, errlen);
	json_t *a = json_array();
	for (size_t i = 0; !r && i < n; i++)
		r = describe_table(m, db, t[i].name, a, err, errlen);
	free(t);
	if (r) {
		json_decref(a);
		return r;
	}
	if (chunk == WREQ_REGULAR)
		*ret = json_pack("{s:s, s:b, s:o}", "database", db, "regular", 1, "tables", a);
	else
		*ret = json_pack("{s:s, s:i, s:o}", "database", db, "chunk", chunk, "tables", a);
	return 0;
}

/* Drops db.t if it exists; *ret_dropped counts the tables that did. */
static int drop_table(MYSQL *m, const char *db, const char *t, unsigned *ret_dropped, char *err, size_t errlen)
{
	long long n = 0;
	if (qsql_int(m, &n, err, errlen, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='%s'"
		     " AND TABLE_NAME='%s'", db, t))
		return -EIO;
	if (!n)
		return 0;
	if (qsql_exec(m, err, errlen, "DROP TABLE IF EXISTS `%s`.`%s`", db, t)) {
		if (mysql_errno(m) != ER_LOCK_WAIT_TIMEOUT)
			return -EIO;
		snprintf(err, errlen, "table %s.%s: queries still read it after 60 s; try again later", db, t);
		return -ETIMEDOUT;
	}
	++*ret_dropped;
	return 0;
}

static int drop_tables(MYSQL *m, const char *db, int32_t chunk, unsigned *ret_dropped, char *err, size_t errlen)
{
	struct wreplica_table *t = NULL;
	size_t n = 0;
	int r = qsql_exec(m, err, errlen, "DELETE FROM qservWorker.chunks WHERE db='%s' AND chunk=%d", db, chunk) ||
		qsql_exec(m, err, errlen, "SET SESSION lock_wait_timeout = 60") ? -EIO :
		wreplica_tables(m, db, chunk, &t, &n, err, errlen);
	for (size_t i = 0; !r && i < n; i++)
		r = drop_table(m, db, t[i].name, ret_dropped, err, errlen);
	free(t);
	if (!r && wsub_drop(m, db, chunk, err, errlen))
		r = mysql_errno(m) == ER_LOCK_WAIT_TIMEOUT ? -ETIMEDOUT : -EIO;
	if (r == -ETIMEDOUT && !strstr(err, "60 s"))
		snprintf(err, errlen, "the sub-chunk tables of chunk %d of %s: queries still read them after 60 s;"
			 " try again later", chunk, db);
	return r;
}

int wreplica_drop(MYSQL *m, const char *db, int32_t chunk, json_t **ret, char *err, size_t errlen)
{
	unsigned dropped = 0;
	if (chunk == WORKER_DUMMY_CHUNK || chunk == WREQ_REGULAR) {
		if (chunk == WREQ_REGULAR)
			snprintf(err, errlen, "regular: the regular tables are dropped with their table or database,"
				 " never as a replica");
		else
			snprintf(err, errlen, "chunk: %d is the dummy chunk, never dropped", chunk);
		return -EINVAL;
	}
	if (wcopy_busy_take(db, chunk)) {
		snprintf(err, errlen, "chunk %d of %s is being copied or dropped here", chunk, db);
		return -EBUSY;
	}
	int r = drop_tables(m, db, chunk, &dropped, err, errlen);
	wcopy_busy_give(db, chunk);
	if (r)
		return r;
	*ret = json_pack("{s:s, s:i, s:i}", "database", db, "chunk", chunk, "tables_dropped", (int)dropped);
	return 0;
}
