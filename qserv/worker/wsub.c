/* wsub.c: sub-chunk tables, built on demand for near-neighbour queries.
 *
 * Qserv's layout: for chunk C of database D, the database Subchunks_D_C
 * holds <T>_C_<S> (rows of T_C with subChunkId = S) and, for directors,
 * <T>FullOverlap_C_<S> (rows of TFullOverlap_C with subChunkId = S).  A
 * near-neighbour query on a chunk joins each sub-chunk with itself and
 * with its overlap.  Tables are MEMORY (as in Qserv) while they fit in
 * max_heap_table_size, MyISAM otherwise; IF NOT EXISTS makes concurrent
 * builders of the same sub-chunk harmless.  wsub_drop() removes a chunk's
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

static int build_one(MYSQL *m, const char *db, const char *src, const char *dst, const char *sckey,
		     int32_t chunk, int32_t sc, char *err, size_t errlen)
{
	const char *fmt = "CREATE TABLE IF NOT EXISTS `Subchunks_%s_%d`.`%s_%d_%d` ENGINE=%s"
			  " AS SELECT * FROM `%s`.`%s_%d` WHERE `%s` = %d";
	int r = qsql_exec(m, err, errlen, fmt, db, chunk, dst, chunk, sc, "MEMORY", db, src, chunk, sckey, sc);
	if (r && mysql_errno(m) == ER_RECORD_FILE_FULL) {
		qsql_exec(m, err, errlen, "DROP TABLE IF EXISTS `Subchunks_%s_%d`.`%s_%d_%d`", db, chunk, dst, chunk, sc);
		r = qsql_exec(m, err, errlen, fmt, db, chunk, dst, chunk, sc, "MyISAM", db, src, chunk, sckey, sc);
	}
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
			break;
		}
		r = build_one(m, db, table, table, t.sub_chunk_key, chunk, sub[i], err, errlen);
		if (!r && t.director)
			r = build_one(m, db, ov, ov, t.sub_chunk_key, chunk, sub[i], err, errlen);
	}
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
