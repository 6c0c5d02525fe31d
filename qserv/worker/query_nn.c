/* query_nn.c: the sub-chunk tables of near-neighbour chunk queries
 * (wire version 2, query.c runs the statement once per sub-chunk).
 *
 * Today's czar reads each sub-chunk of the chunk tables through their
 * default index qserv_sub_chunk (no table built, query_nn_builds 0).  An
 * older czar's statement names `Subchunks_<db>_%CC%` (workers are upgraded
 * before the czar, docs/sql.md): for it, before the chunk query runs, the
 * worker builds the tables of
 * its sub-chunks (wsub_build, as the worker's admin account: the chunk
 * queries' own account only reads); when the last running query of that
 * database and chunk is done -- answered, failed, or cut off by a czar that
 * went away -- the chunk's Subchunks_<db>_<chunk> database is dropped
 * (wsub_drop).  References are counted per (database, chunk) in a fixed
 * table of QNN_MAX entries: at most the chunk queries running at once
 * (QSERV_QUERY_SLOTS) hold one, so a full table is refused, not waited on.
 * Taking the first reference and dropping on the last are serialised by
 * one lock, so a build never races the drop of the same database.  A
 * worker killed mid-query loses its counts: at start the service drops
 * every Subchunks_* database (query_nn_sweep). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "worker.h"
#include "query.h"
#include "qserv/common/sqlid.h"
#include "qserv/wire/wire.h"

#define QNN_MAX 256

static struct {
	pthread_mutex_t mu;
	struct { char db[65]; int32_t chunk; unsigned refs; } v[QNN_MAX];
} nn = { .mu = PTHREAD_MUTEX_INITIALIZER };

/* The entry of (db, chunk), or a free one when add; -1: none. */
static int find(const char *db, int32_t chunk, int add)
{
	int i, free_slot = -1;

	for (i = 0; i < QNN_MAX; i++) {
		if (nn.v[i].refs && nn.v[i].chunk == chunk && !strcmp(nn.v[i].db, db))
			return i;
		if (!nn.v[i].refs && free_slot < 0)
			free_slot = i;
	}
	return add ? free_slot : -1;
}

/* Takes a reference on (db, chunk).  The first one drops what an earlier
 * run may have left of the chunk's sub-chunk tables (a MariaDB restart
 * leaves MEMORY tables empty, and a build skips tables that exist) before
 * anyone builds; later ones share what is built. */
static int take_ref(const struct qsql_conf *admin, const char *db, int32_t chunk, char *err, size_t errlen)
{
	int i, rc = 0;

	pthread_mutex_lock(&nn.mu);
	i = find(db, chunk, 1);
	if (i >= 0 && !nn.v[i].refs) {
		MYSQL *m = qsql_connect(admin, err, errlen);
		rc = !m ? -ECONNREFUSED : wsub_drop(m, db, chunk, err, errlen) ? -EIO : 0;
		if (m)
			mysql_close(m);
		snprintf(nn.v[i].db, sizeof(nn.v[i].db), "%s", db);
		nn.v[i].chunk = chunk;
	}
	if (i >= 0 && !rc)
		nn.v[i].refs++;
	pthread_mutex_unlock(&nn.mu);
	if (i < 0) {
		snprintf(err, errlen, "too many near-neighbour chunks in use on this worker (%d)", QNN_MAX);
		rc = -EBUSY;
	}
	return rc;
}

void query_nn_release(const struct qsql_conf *admin, const char *db, int32_t chunk)
{
	char err[512];
	int i;

	pthread_mutex_lock(&nn.mu);
	i = find(db, chunk, 0);
	if (i >= 0 && --nn.v[i].refs == 0) {
		MYSQL *m = qsql_connect(admin, err, sizeof(err));
		if (!m || wsub_drop(m, db, chunk, err, sizeof(err)))
			log_warn("query service: dropping Subchunks_%s_%d: %s", db, (int)chunk, err);
		if (m)
			mysql_close(m);
	}
	pthread_mutex_unlock(&nn.mu);
}

int query_nn_acquire(const struct qsql_conf *admin, const struct wire_query *q, char *db, char *table,
		     char *err, size_t errlen)
{
	int32_t *sub = NULL;
	MYSQL *m = NULL;
	uint32_t i;
	int rc;

	if (q->sub_db_len > 64 || q->sub_table_len > 64) {
		snprintf(err, errlen, "sub-chunk database or table name longer than 64 bytes");
		return -EINVAL;
	}
	memcpy(db, q->sub_db, q->sub_db_len);
	db[q->sub_db_len] = 0;
	memcpy(table, q->sub_table, q->sub_table_len);
	table[q->sub_table_len] = 0;
	if (sqlid_check(SQLID_DATABASE, "database", db, err, errlen) ||
	    sqlid_check(SQLID_TABLE, "table", table, err, errlen))
		return -EINVAL;
	if (!(sub = malloc(q->nsub * sizeof(*sub)))) {
		snprintf(err, errlen, "worker out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < q->nsub; i++)
		sub[i] = wire_query_sub(q, i);
	if ((rc = take_ref(admin, db, q->chunk_id, err, errlen)) == 0) {
		if (!(m = qsql_connect(admin, err, errlen)))
			rc = -ECONNREFUSED;
		else
			rc = wsub_build(m, db, table, q->chunk_id, sub, q->nsub, err, errlen);
		if (m)
			mysql_close(m);
		if (rc)
			query_nn_release(admin, db, q->chunk_id);   /* the error path drops too */
	}
	free(sub);
	return rc ? (rc < 0 ? rc : -EIO) : 0;
}

int query_nn_builds(const struct wire_query *q)
{
	static const char mark[] = "`Subchunks_";
	size_t i, k = sizeof(mark) - 1;

	for (i = 0; i + k <= q->sql_len; i++)
		if (!memcmp(q->sql + i, mark, k))
			return 1;
	return 0;
}

char *query_nn_sql(const struct wire_query *q, int32_t sub, size_t *ret_len)
{
	char num[16];
	size_t k, i, o = 0, count = 0;
	char *out;

	snprintf(num, sizeof(num), "%d", (int)sub);
	k = strlen(num);
	for (i = 0; i + 4 <= q->sql_len; i++)
		if (!memcmp(q->sql + i, "%SS%", 4))
			count++;
	if (!(out = malloc(q->sql_len + count * k + 1)))
		return NULL;
	for (i = 0; i < q->sql_len;) {
		if (i + 4 <= q->sql_len && !memcmp(q->sql + i, "%SS%", 4)) {
			memcpy(out + o, num, k);
			o += k;
			i += 4;
		} else {
			out[o++] = q->sql[i++];
		}
	}
	out[o] = 0;
	*ret_len = o;
	return out;
}

void query_nn_sweep(const struct qsql_conf *admin)
{
	char err[512], names[QNN_MAX][72];
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	size_t n = 0, i;
	MYSQL *m = qsql_connect(admin, err, sizeof(err));

	if (!m) {
		log_warn("query service: no sweep of old Subchunks_* databases: %s", err);
		return;
	}
	if (mysql_query(m, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'Subchunks\\_%'") ||
	    !(res = mysql_store_result(m)))
		log_warn("query service: listing old Subchunks_* databases: %s", mysql_error(m));
	while (res && n < QNN_MAX && (row = mysql_fetch_row(res)))
		if (row[0] && strlen(row[0]) < sizeof(names[0]))
			snprintf(names[n++], sizeof(names[0]), "%s", row[0]);
	if (res)
		mysql_free_result(res);
	for (i = 0; i < n; i++) {
		/* (sqlid_check refuses the reserved prefix: a name as MariaDB listed it, no backquote) */
		if (strchr(names[i], '`') || qsql_exec(m, err, sizeof(err), "DROP DATABASE IF EXISTS `%s`", names[i]))
			log_warn("query service: dropping %s: %s", names[i], err);
		else
			log_info("query service: dropped %s, left by an earlier run", names[i]);
	}
	mysql_close(m);
}
