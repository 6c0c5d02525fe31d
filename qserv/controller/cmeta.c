/* cmeta.c: the qservMeta database of the czar node (schema in META.md):
 * creation and the small queries the controller repeats.  Database names
 * are checked here or by the callers (qserv/common/sqlid.h) before they
 * reach a statement; worker ids and hosts are checked here and go in as
 * escaped literals. */
#include "controller.h"
#include "creq.h"
#include "qserv/common/sqlid.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const schema_sql[] = {
	"CREATE DATABASE IF NOT EXISTS qservMeta",
	"CREATE TABLE IF NOT EXISTS qservMeta.workers (id VARCHAR(64) NOT NULL PRIMARY KEY,"
	" host VARCHAR(255) NOT NULL, ingest_port INT NOT NULL, query_port INT NOT NULL DEFAULT 0,"
	" enabled TINYINT NOT NULL DEFAULT 1) ENGINE=InnoDB",
	"CREATE TABLE IF NOT EXISTS qservMeta.dbs (name VARCHAR(64) NOT NULL PRIMARY KEY,"
	" num_stripes INT NOT NULL, num_sub_stripes INT NOT NULL, overlap DOUBLE NOT NULL,"
	" auto_build_secondary_index TINYINT NOT NULL, published TINYINT NOT NULL DEFAULT 0) ENGINE=InnoDB",
	"CREATE TABLE IF NOT EXISTS qservMeta.tables (db VARCHAR(64) NOT NULL, name VARCHAR(64) NOT NULL,"
	" is_partitioned TINYINT NOT NULL, is_director TINYINT NOT NULL, director_table VARCHAR(64) NOT NULL,"
	" director_key VARCHAR(64) NOT NULL, latitude_key VARCHAR(64) NOT NULL,"
	" longitude_key VARCHAR(64) NOT NULL, chunk_id_key VARCHAR(64) NOT NULL,"
	" sub_chunk_id_key VARCHAR(64) NOT NULL, schema_json MEDIUMTEXT NOT NULL,"
	" published TINYINT NOT NULL DEFAULT 0, PRIMARY KEY (db, name)) ENGINE=InnoDB",
	"CREATE TABLE IF NOT EXISTS qservMeta.chunks (db VARCHAR(64) NOT NULL, chunk INT NOT NULL,"
	" worker_id VARCHAR(64) NOT NULL, PRIMARY KEY (db, chunk, worker_id)) ENGINE=InnoDB",
	"CREATE TABLE IF NOT EXISTS qservMeta.trans (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
	" db VARCHAR(64) NOT NULL, state VARCHAR(16) NOT NULL, begin_time BIGINT NOT NULL,"
	" end_time BIGINT NOT NULL DEFAULT 0, context TEXT, KEY (db)) ENGINE=InnoDB",
	"ALTER TABLE qservMeta.trans ADD COLUMN IF NOT EXISTS context TEXT",
	"ALTER TABLE qservMeta.workers ADD COLUMN IF NOT EXISTS maintenance TINYINT NOT NULL DEFAULT 0",
	"ALTER TABLE qservMeta.workers ADD COLUMN IF NOT EXISTS zone VARCHAR(64) NOT NULL DEFAULT ''",
	/* ref-match tables (capi.c's add_table; older rows: not a match table) */
	"ALTER TABLE qservMeta.tables ADD COLUMN IF NOT EXISTS is_match TINYINT NOT NULL DEFAULT 0,"
	" ADD COLUMN IF NOT EXISTS director_table2 VARCHAR(64) NOT NULL DEFAULT '',"
	" ADD COLUMN IF NOT EXISTS director_key2 VARCHAR(64) NOT NULL DEFAULT '',"
	" ADD COLUMN IF NOT EXISTS flag_key VARCHAR(64) NOT NULL DEFAULT '',"
	" ADD COLUMN IF NOT EXISTS ang_sep DOUBLE NOT NULL DEFAULT 0",
	/* row counters (cstats.c) */
	"CREATE TABLE IF NOT EXISTS qservMeta.row_counters (db VARCHAR(64) NOT NULL, tbl VARCHAR(64) NOT NULL,"
	" chunk INT NOT NULL, overlap TINYINT NOT NULL, num_rows BIGINT NOT NULL, deployed TINYINT NOT NULL"
	" DEFAULT 0, updated BIGINT NOT NULL, PRIMARY KEY (db, tbl, chunk, overlap)) ENGINE=InnoDB",
	"CREATE TABLE IF NOT EXISTS qservMeta.lost_chunks (db VARCHAR(64) NOT NULL, chunk INT NOT NULL,"
	" worker_id VARCHAR(64) NOT NULL, lost_at BIGINT NOT NULL, PRIMARY KEY (db, chunk)) ENGINE=InnoDB",
	/* PUT /ingest/config: Qserv's per-database keys as set (capi.c) */
	"CREATE TABLE IF NOT EXISTS qservMeta.ingest_config (db VARCHAR(64) NOT NULL, param VARCHAR(64) NOT NULL,"
	" value MEDIUMTEXT NOT NULL, PRIMARY KEY (db, param)) ENGINE=InnoDB",
};

int cmeta_init(MYSQL *m, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof schema_sql / sizeof *schema_sql; i++)
		if (qsql_exec(m, err, errlen, "%s", schema_sql[i]))
			return -EIO;
	return 0;
}

int cmeta_add_worker(MYSQL *m, const struct cworker *w, char *err, size_t errlen)
{
	if (creq_worker_check(w->id, w->host, w->ingest_port, w->query_port, err, errlen))
		return -EINVAL;
	if (!creq_zone_ok(w->zone)) {
		snprintf(err, errlen, "zone: a failure zone is 1 to 64 letters, digits, '_', '-' or '.'");
		return -EINVAL;
	}
	char *id = qsql_quote(m, w->id), *host = qsql_quote(m, w->host);
	int r = -ENOMEM;
	if (!id || !host)
		snprintf(err, errlen, "out of memory");
	else
		r = qsql_exec(m, err, errlen,
			      "INSERT INTO qservMeta.workers (id, host, ingest_port, query_port, zone) VALUES"
			      " ('%s','%s',%d,%d,'%s') ON DUPLICATE KEY UPDATE host=VALUES(host),"
			      " ingest_port=VALUES(ingest_port), query_port=VALUES(query_port), zone=VALUES(zone)",
			      id, host, w->ingest_port, w->query_port, w->zone);
	free(id);
	free(host);
	return r;
}

static void fill_worker(MYSQL_ROW row, struct cworker *w)
{
	snprintf(w->id, sizeof w->id, "%s", row[0]);
	snprintf(w->host, sizeof w->host, "%s", row[1]);
	w->ingest_port = atoi(row[2]);
	w->query_port = atoi(row[3]);
	w->maint = atoi(row[4]) != 0;
	snprintf(w->zone, sizeof w->zone, "%s", row[5] ? row[5] : "");
	w->enabled = atoi(row[6]) != 0;
}

static int workers(MYSQL *m, bool all, struct cworker **ret, size_t *ret_n, char *err, size_t errlen)
{
	MYSQL_RES *res = qsql_query(m, err, errlen, "SELECT id, host, ingest_port, query_port, maintenance, zone, enabled"
				    " FROM qservMeta.workers%s ORDER BY id", all ? "" : " WHERE enabled=1");
	if (!res)
		return -EIO;
	size_t n = mysql_num_rows(res);
	struct cworker *v = calloc(n ? n : 1, sizeof *v);
	if (!v) {
		mysql_free_result(res);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	MYSQL_ROW row;
	for (size_t i = 0; (row = mysql_fetch_row(res)); i++)
		fill_worker(row, &v[i]);
	mysql_free_result(res);
	*ret = v;
	*ret_n = n;
	return 0;
}

int cmeta_workers(MYSQL *m, struct cworker **ret, size_t *ret_n, char *err, size_t errlen)
{
	return workers(m, false, ret, ret_n, err, errlen);
}

int cmeta_workers_all(MYSQL *m, struct cworker **ret, size_t *ret_n, char *err, size_t errlen)
{
	return workers(m, true, ret, ret_n, err, errlen);
}

int cmeta_worker(MYSQL *m, const char *id, struct cworker *ret, char *err, size_t errlen)
{
	if (!creq_worker_id_ok(id)) {
		snprintf(err, errlen, "worker id: 1 to 64 letters, digits, '_', '-' or '.'");
		return -EINVAL;
	}
	MYSQL_RES *res = qsql_query(m, err, errlen,
		"SELECT id, host, ingest_port, query_port, maintenance, zone, enabled FROM qservMeta.workers WHERE id='%s'",
		id);
	if (!res)
		return -EIO;
	MYSQL_ROW row = mysql_fetch_row(res);
	int r = -ENOENT;
	if (row) {
		fill_worker(row, ret);
		r = 0;
	} else {
		snprintf(err, errlen, "no worker '%s'", id);
	}
	mysql_free_result(res);
	return r;
}

int cmeta_db(MYSQL *m, const char *name, struct cdb *ret, char *err, size_t errlen)
{
	if (sqlid_check(SQLID_DATABASE, "database", name, err, errlen))
		return -EINVAL;
	MYSQL_RES *res = qsql_query(m, err, errlen,
		"SELECT num_stripes, num_sub_stripes, overlap, auto_build_secondary_index, published"
		" FROM qservMeta.dbs WHERE name='%s'", name);
	if (!res)
		return -EIO;
	MYSQL_ROW row = mysql_fetch_row(res);
	int r = -ENOENT;
	if (row) {
		struct cdb d = { 0 };
		snprintf(d.name, sizeof d.name, "%s", name);
		d.num_stripes = atoi(row[0]);
		d.num_sub_stripes = atoi(row[1]);
		d.overlap = strtod(row[2], NULL);
		d.auto_index = atoi(row[3]) != 0;
		d.published = atoi(row[4]) != 0;
		*ret = d;
		r = 0;
	} else {
		snprintf(err, errlen, "database '%s' is not registered", name);
	}
	mysql_free_result(res);
	return r;
}

int cmeta_open_trans(MYSQL *m, const char *db, long long *ret_n, char *err, size_t errlen)
{
	return qsql_int(m, ret_n, err, errlen,
			"SELECT COUNT(*) FROM qservMeta.trans WHERE db='%s' AND state NOT IN ('FINISHED','ABORTED')", db);
}

json_t *cmeta_trans_json(MYSQL *m, long long id, const char *db, char *err, size_t errlen)
{
	char where[160] = "";
	if (id > 0)
		snprintf(where, sizeof where, " WHERE id=%lld", id);
	else if (db)
		snprintf(where, sizeof where, " WHERE db='%s'", db);
	MYSQL_RES *res = qsql_query(m, err, errlen,
		"SELECT id, db, state, begin_time, end_time, context FROM qservMeta.trans%s ORDER BY id", where);
	if (!res)
		return NULL;
	json_t *a = json_array();
	MYSQL_ROW row;
	while ((row = mysql_fetch_row(res))) {
		json_t *ctx = row[5] ? json_loads(row[5], JSON_DECODE_ANY, NULL) : NULL;
		json_array_append_new(a, json_pack("{s:I, s:s, s:s, s:I, s:I, s:o}", "id", (json_int_t)atoll(row[0]),
						   "database", row[1], "state", row[2],
						   "begin_time", (json_int_t)atoll(row[3]),
						   "end_time", (json_int_t)atoll(row[4]),
						   "context", ctx ? ctx : json_object()));
	}
	mysql_free_result(res);
	return a;
}

int cmeta_trans(MYSQL *m, long long id, char *ret_db, char *ret_state, char *err, size_t errlen)
{
	MYSQL_RES *res = qsql_query(m, err, errlen, "SELECT db, state FROM qservMeta.trans WHERE id=%lld", id);
	if (!res)
		return -EIO;
	MYSQL_ROW row = mysql_fetch_row(res);
	int r = -ENOENT;
	if (row) {
		snprintf(ret_db, 65, "%s", row[0]);
		snprintf(ret_state, 17, "%s", row[1]);
		r = 0;
	} else {
		snprintf(err, errlen, "no transaction %lld", id);
	}
	mysql_free_result(res);
	return r;
}

int cmeta_set_trans(MYSQL *m, long long id, const char *state, char *err, size_t errlen)
{
	bool final = !strcmp(state, "FINISHED") || !strcmp(state, "ABORTED");
	return qsql_exec(m, err, errlen,
			 "UPDATE qservMeta.trans SET state='%s'%s WHERE id=%lld", state,
			 final ? ", end_time=UNIX_TIMESTAMP(NOW(3))*1000" : "", id);
}

/* Chunks of worker id that no other enabled worker holds, per database:
 * "WHERE" clause shared by the count and the move to lost_chunks. */
#define SOLE_CHUNKS \
	" FROM qservMeta.chunks c WHERE c.worker_id='%s' AND NOT EXISTS (SELECT 1 FROM qservMeta.chunks o" \
	" JOIN qservMeta.workers w ON w.id=o.worker_id AND w.enabled=1 WHERE o.db=c.db AND o.chunk=c.chunk" \
	" AND o.worker_id<>c.worker_id)"

/* Per database {db: n} of the chunks only id holds, the total in *ret_n and
 * a sentence for the operator in text ("12 chunk(s): 10 of test101
 * (published), 2 of t2 (not published)"). */
static json_t *sole_chunks(MYSQL *m, const char *id, long long *ret_n, char *text, size_t tlen,
			   char *err, size_t errlen)
{
	MYSQL_RES *res = qsql_query(m, err, errlen, "SELECT c.db, COUNT(*),"
				    " COALESCE((SELECT MAX(d.published) FROM qservMeta.dbs d WHERE d.name=c.db), 0)"
				    SOLE_CHUNKS " GROUP BY c.db ORDER BY c.db", id);
	json_t *per;
	MYSQL_ROW row;
	size_t used = 0;
	if (!res)
		return NULL;
	per = json_object();
	*ret_n = 0;
	text[0] = '\0';
	while ((row = mysql_fetch_row(res))) {
		long long n = atoll(row[1]);
		*ret_n += n;
		json_object_set_new(per, row[0], json_integer(n));
		if (used < tlen)
			used += (size_t)snprintf(text + used, tlen - used, "%s%lld of %s (%s)", used ? ", " : "", n,
						 row[0], atoi(row[2]) ? "published" : "not published");
	}
	mysql_free_result(res);
	return per;
}

int cmeta_remove_worker(struct ctl *c, MYSQL *m, const char *id, bool force, json_t **ret,
			char *err, size_t errlen)
{
	struct cworker w;
	char detail[512];
	long long nsole = 0, nall = 0;
	json_t *per = NULL;
	int r;
	if (!creq_worker_id_ok(id)) {
		snprintf(err, errlen, "worker id: 1 to 64 letters, digits, '_', '-' or '.'");
		return -EINVAL;
	}
	/* under place_mu: no chunk is placed on the worker while it goes */
	pthread_mutex_lock(&c->place_mu);
	if ((r = cmeta_worker(m, id, &w, err, errlen)))
		goto out;
	r = -EIO;
	if (qsql_int(m, &nall, err, errlen, "SELECT COUNT(*) FROM qservMeta.chunks WHERE worker_id='%s'", id) ||
	    !(per = sole_chunks(m, id, &nsole, detail, sizeof detail, err, errlen)))
		goto out;
	if (nsole && !force) {
		snprintf(err, errlen, "worker %s holds the only replica of %lld chunk(s): %s; removing it would "
			 "lose them, so nothing was changed. Move the data first, or remove it with force "
			 "(qservctl nodes remove --force, or ?force=1): those chunk placements are dropped and "
			 "queries that need them fail naming the missing chunks", id, nsole, detail);
		r = -EBUSY;
		goto out;
	}
	if (qsql_exec(m, err, errlen, "START TRANSACTION"))
		goto out;
	if (qsql_exec(m, err, errlen, "REPLACE INTO qservMeta.lost_chunks (db, chunk, worker_id, lost_at)"
		      " SELECT c.db, c.chunk, c.worker_id, UNIX_TIMESTAMP(NOW(3))*1000" SOLE_CHUNKS, id) ||
	    qsql_exec(m, err, errlen, "DELETE FROM qservMeta.chunks WHERE worker_id='%s'", id) ||
	    qsql_exec(m, err, errlen, "DELETE FROM qservMeta.workers WHERE id='%s'", id) ||
	    qsql_exec(m, err, errlen, "COMMIT")) {
		char e2[128];
		qsql_exec(m, e2, sizeof e2, "ROLLBACK");
		goto out;
	}
	cnotify_czar(c, CNOTIFY_CHUNKS, "worker removed");
	*ret = json_pack("{s:s, s:I, s:I, s:O}", "worker", id, "chunks_dropped", (json_int_t)nall,
			 "chunks_lost", (json_int_t)nsole, "lost_chunks", per);
	r = 0;
out:
	pthread_mutex_unlock(&c->place_mu);
	json_decref(per);
	return r;
}

/* Eviction (chealth.c): like a forced removal, but the worker stays
 * registered (it may answer again and become a copy target). */
int cmeta_evict_worker(struct ctl *c, MYSQL *m, const char *id, long long *ret_dropped, long long *ret_lost,
		       char *err, size_t errlen)
{
	char e2[128];
	int r = -EIO;
	if (!creq_worker_id_ok(id)) {
		snprintf(err, errlen, "worker id: 1 to 64 letters, digits, '_', '-' or '.'");
		return -EINVAL;
	}
	pthread_mutex_lock(&c->place_mu);
	if (qsql_int(m, ret_dropped, err, errlen, "SELECT COUNT(*) FROM qservMeta.chunks WHERE worker_id='%s'", id) ||
	    qsql_int(m, ret_lost, err, errlen, "SELECT COUNT(*)" SOLE_CHUNKS, id) ||
	    qsql_exec(m, err, errlen, "START TRANSACTION"))
		goto out;
	if (qsql_exec(m, err, errlen, "REPLACE INTO qservMeta.lost_chunks (db, chunk, worker_id, lost_at)"
		      " SELECT c.db, c.chunk, c.worker_id, UNIX_TIMESTAMP(NOW(3))*1000" SOLE_CHUNKS, id) ||
	    qsql_exec(m, err, errlen, "DELETE FROM qservMeta.chunks WHERE worker_id='%s'", id) ||
	    qsql_exec(m, err, errlen, "COMMIT")) {
		qsql_exec(m, e2, sizeof e2, "ROLLBACK");
		goto out;
	}
	cnotify_czar(c, CNOTIFY_CHUNKS, "eviction");
	r = 0;
out:
	pthread_mutex_unlock(&c->place_mu);
	return r;
}

int cmeta_set_maintenance(MYSQL *m, const char *id, bool on, char *err, size_t errlen)
{
	struct cworker w;
	int r = cmeta_worker(m, id, &w, err, errlen);
	if (r)
		return r;
	return qsql_exec(m, err, errlen, "UPDATE qservMeta.workers SET maintenance=%d WHERE id='%s'", on, id) ? -EIO : 0;
}

int cmeta_set_enabled(MYSQL *m, const char *id, bool on, char *err, size_t errlen)
{
	struct cworker w;
	int r = cmeta_worker(m, id, &w, err, errlen);
	if (r)
		return r;
	return qsql_exec(m, err, errlen, "UPDATE qservMeta.workers SET enabled=%d WHERE id='%s'", on, id) ? -EIO : 0;
}

json_t *cmeta_first_held(MYSQL *m, const char *db, const char *id, char *err, size_t errlen)
{
	MYSQL_RES *res = qsql_query(m, err, errlen, "SELECT chunk FROM qservMeta.chunks c WHERE db='%s' AND"
				    " worker_id='%s' AND worker_id = (SELECT MIN(worker_id) FROM qservMeta.chunks"
				    " WHERE db=c.db AND chunk=c.chunk)", db, id);
	json_t *o = res ? json_object() : NULL;
	MYSQL_ROW row;
	while (res && (row = mysql_fetch_row(res)))
		json_object_set_new(o, row[0], json_true());
	mysql_free_result(res);
	return o;
}
