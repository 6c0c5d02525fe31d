/* wsub.c: sub-chunk tables, built on demand for near-neighbour queries.
 *
 * Qserv's layout: for chunk C of database D, the database Subchunks_D_C
 * holds <T>_C_<S> (rows of T_C with subChunkId = S) and, for directors,
 * <T>FullOverlap_C_<S> (rows of TFullOverlap_C with subChunkId = S).  A
 * near-neighbour query on a chunk joins each sub-chunk with itself and
 * with its overlap.  Tables are MEMORY (as in Qserv) while they fit in
 * max_heap_table_size, MyISAM otherwise; IF NOT EXISTS makes concurrent
 * builders of the same sub-chunk harmless.  The listed sub-chunks' rows are
 * first read in one scan into a temporary table of the session indexed on
 * the sub-chunk key, so building N sub-chunks scans the chunk table once,
 * not N times.  wsub_drop() removes a chunk's
 * sub-chunk database when the queries that needed it are done.  Called by
 * the chunk-query executor in-process (query_nn.c: also for the empty
 * dummy chunk, which near-neighbour plans with no candidate chunk name) or
 * through POST /worker/subchunks. */
#include "worker.h"
#include "qserv/common/sqlid.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ER_RECORD_FILE_FULL 1114

#define ER_TABLE_CANT_HANDLE_BLOB 1163
#define STAGE_MAX_IN 1024      /* sub-chunks listed in the staging scan; more: the whole chunk */

/* Runs fmt (whose one %s is the engine) with MEMORY, then with MyISAM when
 * MEMORY cannot hold the rows (full, or BLOB/TEXT columns); drop (may be
 * NULL) removes what the failed attempt left. */
static int create_mem(MYSQL *m, const char *drop, const char *fmt, char *err, size_t errlen)
{
	int r = qsql_exec(m, err, errlen, fmt, "MEMORY");

	if (r && (mysql_errno(m) == ER_RECORD_FILE_FULL || mysql_errno(m) == ER_TABLE_CANT_HANDLE_BLOB)) {
		if (drop)
			qsql_exec(m, err, errlen, "%s", drop);
		r = qsql_exec(m, err, errlen, fmt, "MyISAM");
	}
	return r;
}

/* The rows of the listed sub-chunks of `db`.`src_chunk`, in one scan, into
 * the session's temporary table `Subchunks_db_chunk`.`stage_src`, indexed
 * on the sub-chunk key: each sub-chunk table is then built from it by
 * index, not by a scan of the whole chunk table per sub-chunk. */
static int stage(MYSQL *m, const char *db, const char *src, const char *sckey, int32_t chunk,
		 const int32_t *sub, size_t n, char *err, size_t errlen)
{
	struct buf f = { 0 }, d = { 0 };
	size_t i;
	int r;

	buf_printf(&d, "DROP TEMPORARY TABLE IF EXISTS `Subchunks_%s_%d`.`stage_%s`", db, chunk, src);
	buf_printf(&f, "CREATE TEMPORARY TABLE `Subchunks_%s_%d`.`stage_%s` (INDEX (`%s`)) ENGINE=%%s"
		   " AS SELECT * FROM `%s`.`%s_%d`", db, chunk, src, sckey, db, src, chunk);
	if (n <= STAGE_MAX_IN) {
		buf_printf(&f, " WHERE `%s` IN (", sckey);
		for (i = 0; i < n; i++)
			buf_printf(&f, "%s%d", i ? ", " : "", (int)sub[i]);
		buf_puts(&f, ")");
	}
	if (f.oom || d.oom) {
		snprintf(err, errlen, "worker out of memory");
		r = -ENOMEM;
	} else {
		qsql_exec(m, err, errlen, "%s", buf_str(&d));
		r = create_mem(m, buf_str(&d), buf_str(&f), err, errlen);
	}
	buf_free(&f);
	buf_free(&d);
	return r;
}

static int build_one(MYSQL *m, const char *db, const char *src, const char *sckey, int32_t chunk, int32_t sc,
		     char *err, size_t errlen)
{
	char fmt[1024], drop[512];

	snprintf(drop, sizeof(drop), "DROP TABLE IF EXISTS `Subchunks_%s_%d`.`%s_%d_%d`", db, chunk, src, chunk, sc);
	snprintf(fmt, sizeof(fmt), "CREATE TABLE IF NOT EXISTS `Subchunks_%s_%d`.`%s_%d_%d` ENGINE=%%s"
		 " AS SELECT * FROM `Subchunks_%s_%d`.`stage_%s` WHERE `%s` = %d", db, chunk, src, chunk, sc, db, chunk,
		 src, sckey, sc);
	return create_mem(m, drop, fmt, err, errlen);
}

/* Every listed sub-chunk table of src, through its staging table. */
static int build_all(MYSQL *m, const char *db, const char *src, const char *sckey, int32_t chunk,
		     const int32_t *sub, size_t n, char *err, size_t errlen)
{
	size_t i;
	int r;

	if (!n)
		return 0;
	r = stage(m, db, src, sckey, chunk, sub, n, err, errlen);

	for (i = 0; !r && i < n; i++)
		r = build_one(m, db, src, sckey, chunk, sub[i], err, errlen);
	qsql_exec(m, err, r ? 0 : errlen, "DROP TEMPORARY TABLE IF EXISTS `Subchunks_%s_%d`.`stage_%s`", db, chunk, src);
	return r;
}

int wsub_build(MYSQL *m, const char *db, const char *table, int32_t chunk, const int32_t *sub, size_t n,
	       char *err, size_t errlen)
{
	struct wtable t;
	int r = wmeta_table(m, db, table, &t, err, errlen);
	if (r)
		return r;
	r = -EINVAL;
	if (!t.partitioned) {
		snprintf(err, errlen, "table %s.%s is not partitioned", db, table);
		goto out;
	}
	if (chunk != WORKER_DUMMY_CHUNK && !wmeta_has_chunk(m, db, chunk)) {
		snprintf(err, errlen, "chunk %d of %s is not on this worker", chunk, db);
		r = -ENOENT;
		goto out;
	}
	r = -EIO;
	if (qsql_exec(m, err, errlen, "CREATE DATABASE IF NOT EXISTS `Subchunks_%s_%d`", db, chunk))
		goto out;
	char ov[80];
	snprintf(ov, sizeof ov, "%sFullOverlap", table);
	r = 0;
	for (size_t i = 0; !r && i < n; i++) {
		if (sub[i] < 0) {
			snprintf(err, errlen, "sub_chunks[%zu]: must be a sub-chunk number (0 or more)", i);
			r = -EINVAL;
		}
	}
	if (!r)
		r = build_all(m, db, table, t.sub_chunk_key, chunk, sub, n, err, errlen);
	if (!r && t.director)
		r = build_all(m, db, ov, t.sub_chunk_key, chunk, sub, n, err, errlen);
out:
	free(t.cols);
	return r;
}

int wsub_drop(MYSQL *m, const char *db, int32_t chunk, char *err, size_t errlen)
{
	if (sqlid_check(SQLID_DATABASE, "database", db, err, errlen))
		return -EINVAL;
	if (chunk < 0) {
		snprintf(err, errlen, "chunk: must be a chunk number (0 or more)");
		return -EINVAL;
	}
	return qsql_exec(m, err, errlen, "DROP DATABASE IF EXISTS `Subchunks_%s_%d`", db, chunk);
}
