/* capi.c: the controller's HTTP API, in the shape of Qserv's replication
 * system ingest API (so existing loaders keep working):
 *
 *   POST   /ingest/database        {database, num_stripes, num_sub_stripes, overlap,
 *                                   auto_build_secondary_index}
 *   GET    /ingest/database        list
 *   PUT    /ingest/database/<db>   publish (refused while a transaction is open),
 *                                  [row_counters_deploy_at_qserv]
 *   DELETE /ingest/database/<db>   (refused while a transaction is open)
 *   POST   /ingest/table           {database, table, is_partitioned, director_table,
 *                                   director_key, latitude_key, longitude_key, schema,
 *                                   [chunk_id_key, sub_chunk_id_key], ref-match tables:
 *                                   [director_table2, director_key2, flag, ang_sep]}
 *   DELETE /ingest/table/<db>/<table>
 *   GET    /ingest/table/<db>      {tables: [{name, is_partitioned, ...}]}
 *   GET    /ingest/config?database=   PUT /ingest/config {database, KEY: value...}
 *                                  Qserv's per-database keys (qservMeta.ingest_config)
 *   GET    /ingest/trans/<id>?contrib=1[&contrib_long=1][&include_warnings=1]
 *                                  + contrib {summary, files} from the workers
 *   GET    /ingest/trans/contrib/<id>[?worker=]   {contribution} from the workers
 *   POST   /ingest/trans           {database, [context]} -> transaction id
 *   PUT    /ingest/trans/<id>?abort=0|1                   commit / abort
 *   GET    /ingest/trans[?database=]  GET /ingest/trans/<id>
 *   POST   /ingest/chunk           {transaction_id | database, chunk} -> location
 *   POST   /ingest/chunks          {transaction_id | database, chunks: [...]}
 *   GET    /ingest/regular[?database= | /<transaction id>]   every worker's location
 *   POST   /ingest/index/secondary {database, [director_table]}  rebuild
 *   POST   /replication/sql/index  {database, table, index, spec, comment, columns[]}
 *                                  a MariaDB index on a table's every chunk table
 *   GET    /replication/sql/index/<db>/<table>[?overlap=0|1]   its indexes, per
 *                                  worker, COMPLETE/INCOMPLETE/INCONSISTENT
 *   DELETE /replication/sql/index  {database, table, index[, overlap]}  (csqlidx.c)
 *   GET    /ingest/rows/<db>/<table>   row counts: a chunk counted once (rows())
 *   POST   /ingest/table-stats  GET|DELETE /ingest/table-stats/<db>/<table>
 *                                  Qserv's row counters (cstats.c)
 *   POST   /meta/worker {id, host, ingest_port, query_port}   GET /meta/workers
 *                                  registers a worker and gives it the cluster's
 *                                  databases and regular tables (cjoin.c)
 *   DELETE /meta/worker/<id>[?force=1]   decommission: 409 while it holds the
 *                                  only replica of a chunk (unless force)
 *   PUT    /replication/level  {level, [database]}  a database's replica level
 *                                  (none: the cluster's); crepl.c
 *   GET    /replication/status  {level, databases: [{database, level, chunks,
 *                                  under_replicated}], workers: [{id, state, chunks}],
 *                                  health: {evict_after, evictions, copies: {...}}}
 *   PUT    /replication/maintenance {worker, maintenance}  never evicted nor a
 *                                  copy target while on (chealth.c)
 *   PUT    /replication/evict-after {seconds}   the silence that evicts
 *   POST   /replication/health {worker, up}   the registry's word on a worker
 *                                  (the czar's agent): down now, or probe now
 *   POST   /replication/verify  one verify pass now: {chunks, replicas, mismatches,
 *                                  repaired, seconds, mismatched: [...]} (cverify.c)
 *   PUT    /replication/verify-interval {seconds}   0: no periodic pass
 *   GET    /metrics             Prometheus text (cmetrics.c): counts and states
 *                                  the open /replication/status shows already
 *   PUT    /replication/drain {worker, drain}  drain a worker (enabled=0): its
 *                                  chunks move to the others (crebal.c)
 *   POST   /replication/rebalance  move chunks now until every worker is within
 *                                  10% of the mean -> {moves, failed, seconds}
 *   GET    /status
 *   GET    /meta/auth-key-sha256  the admin key's SHA-256 (what workers check
 *                                  a loader's key against; reveals nothing)
 * Replies carry "success" and "error".  Who may call a route is its policy
 * column (capi_policy, enforced by qserv/common/qhttp.h before any body is
 * read): every write is QHTTP_KEY, the admin key only (a node certificate,
 * even the czar's, never calls the admin API); GETs that reveal no data
 * are open.
 *
 * Every body is parsed by creq.c (no MariaDB there; fuzz target creq):
 * every database, table, column and index name of a request passes
 * qserv/common/sqlid.h (column types its grammar) before anything is
 * looked up or written; an error names the request field and never quotes SQL, the
 * refused value or MariaDB's message: those are logged here, at the
 * boundary (qsql_detail()). */
#include "controller.h"
#include "cbackup.h"
#include "creq.h"
#include "qserv/common/qjson.h"
#include "qserv/common/qhttp.h"
#include "qserv/common/sqlid.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Replies, logging a server-side failure (and MariaDB's detail) first. */
static void reply(struct qhttp_req *r, int rc, const char *err, json_t *ok)
{
	const char *d = qsql_detail();

	if (rc && (d[0] || qhttp_status_of(rc) >= 500))
		log_warn("%s %s: %s%s%s", r->method, r->url, err, d[0] ? " -- " : "", d);
	qhttp_reply_rc(r, rc, err, ok);
}

static bool same_db(const struct cdb *d, int s, int ss, double ov)
{
	return d->num_stripes == s && d->num_sub_stripes == ss && (d->overlap - ov) < 1e-9 && (ov - d->overlap) < 1e-9;
}

static int add_database(MYSQL *m, json_t *b, json_t **out, char *err, size_t errlen)
{
	struct creq_database q;
	struct cdb d;
	if (creq_database(b, &q, err, errlen))
		return -EINVAL;
	const char *db = q.name;
	int r = cmeta_db(m, db, &d, err, errlen);
	if (r == 0) {
		if (!same_db(&d, q.num_stripes, q.num_sub_stripes, q.overlap)) {
			snprintf(err, errlen, "database %s already exists with other partitioning parameters", db);
			return -EEXIST;
		}
	} else if (r == -ENOENT) {
		if (qsql_exec(m, err, errlen, "INSERT INTO qservMeta.dbs VALUES ('%s', %d, %d, %.17g, %d, 0)",
			      db, q.num_stripes, q.num_sub_stripes, q.overlap, q.auto_index))
			return -EIO;
	} else {
		return r;
	}
	json_t *body = json_pack("{s:s}", "database", db);
	r = ctl_all_workers(m, "POST", "database", body, err, errlen);
	json_decref(body);
	*out = json_pack("{s:{s:s, s:i, s:i, s:f, s:i}}", "database", "name", db, "num_stripes", q.num_stripes,
			 "num_sub_stripes", q.num_sub_stripes, "overlap", q.overlap, "auto_build_secondary_index",
			 (int)q.auto_index);
	return r;
}

/* 0 when dt is a registered director table of db, else -EINVAL naming field. */
static int is_director(MYSQL *m, const char *db, const char *dt, const char *field, char *err, size_t errlen)
{
	long long n = 0;
	if (qsql_int(m, &n, err, errlen, "SELECT COUNT(*) FROM qservMeta.tables WHERE"
		     " db='%s' AND name='%s' AND is_director=1", db, dt))
		return -EIO;
	if (!n) {
		snprintf(err, errlen, "%s: %s is not a registered director table of %s (register the directors"
			 " first)", field, dt, db);
		return -EINVAL;
	}
	return 0;
}

/* POST /ingest/table: the body checked by creq_table, then what needs
 * qservMeta (the database registered and not published, the director
 * registered, the table new or registered alike). */
static int add_table(MYSQL *m, json_t *b, json_t **out, char *err, size_t errlen)
{
	struct creq_table q;
	struct cdb d;
	int r = creq_table(b, &q, err, errlen);
	if (r)
		return r;
	const char *db = q.db, *t = q.table, *dt = q.director_table;
	bool part = q.partitioned, director = q.director;
	if ((r = cmeta_db(m, db, &d, err, errlen)))
		return r;
	if (d.published) {
		snprintf(err, errlen, "database %s is published: no new tables", db);
		return -EPERM;
	}
	if (part && !director && ((r = is_director(m, db, dt, "director_table", err, errlen)) ||
				  (q.match && (r = is_director(m, db, q.director_table2, "director_table2", err, errlen)))))
		return r;
	if (q.match && q.ang_sep > d.overlap) {
		snprintf(err, errlen, "ref-match table %s: ang_sep %g is more than database %s's overlap %g", t, q.ang_sep,
			 db, d.overlap);
		return -EINVAL;
	}
	char *sj = json_dumps(q.schema, JSON_COMPACT), *qs = sj ? qsql_quote(m, sj) : NULL;
	long long exists = 0;
	r = -EIO;
	if (!qs) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (qsql_int(m, &exists, err, errlen, "SELECT COUNT(*) FROM qservMeta.tables WHERE db='%s' AND name='%s'"
		     " AND (schema_json<>'%s' OR is_partitioned<>%d)", db, t, qs, part))
		goto out;
	if (exists) {
		snprintf(err, errlen, "table %s.%s already exists with another schema", db, t);
		r = -EEXIST;
		goto out;
	}
	if (qsql_exec(m, err, errlen, "INSERT IGNORE INTO qservMeta.tables (db, name, is_partitioned, is_director,"
		      " director_table, director_key, latitude_key, longitude_key, chunk_id_key, sub_chunk_id_key,"
		      " schema_json, published, is_match, director_table2, director_key2, flag_key, ang_sep) VALUES"
		      " ('%s','%s',%d,%d,'%s','%s','%s','%s','%s','%s','%s',0,%d,'%s','%s','%s',%.17g)", db, t, part,
		      director, director ? t : dt, q.director_key, q.latitude_key, q.longitude_key, q.chunk_key,
		      q.sub_chunk_key, qs, q.match, q.director_table2, q.director_key2, q.flag, q.ang_sep))
		goto out;
	/* the workers get the keys as sent (defaults when absent), as before */
	json_t *body = json_pack("{s:s, s:s, s:O, s:i, s:i, s:s, s:s, s:s}", "database", db, "table", t,
				 "schema", q.schema, "is_partitioned", part, "is_director", director,
				 "director_key", q.director_key,
				 "chunk_id_key", qjson_str(b, "chunk_id_key", "chunkId"),
				 "sub_chunk_id_key", qjson_str(b, "sub_chunk_id_key", "subChunkId"));
	r = ctl_all_workers(m, "POST", "table", body, err, errlen);
	json_decref(body);
	*out = json_pack("{s:{s:s, s:s, s:i, s:i}}", "table", "database", db, "name", t, "is_partitioned", part,
			 "is_director", director);
	if (*out && q.match)
		json_object_update_new(json_object_get(*out, "table"), json_pack("{s:s, s:s, s:s, s:s, s:s, s:f}",
			"director_table", dt, "director_key", q.director_key, "director_table2", q.director_table2,
			"director_key2", q.director_key2, "flag", q.flag, "ang_sep", q.ang_sep));
out:
	free(sj);
	free(qs);
	return r;
}

/* 0 when db is registered and has no open transaction, else the error;
 * -EBUSY's message ("database D has N open transaction(s)") ends with advice. */
static int db_idle(MYSQL *m, const char *db, const char *advice, char *err, size_t errlen)
{
	struct cdb d;
	int r = cmeta_db(m, db, &d, err, errlen);
	if (r)
		return r;
	long long open = 0;
	if ((r = cmeta_open_trans(m, db, &open, err, errlen)))
		return r;
	if (open) {
		snprintf(err, errlen, "database %s has %lld open transaction(s)%s", db, open, advice);
		return -EBUSY;
	}
	return 0;
}

/* Drops a table (t != NULL) or a whole database on the workers and here. */
static int drop(MYSQL *m, const char *db, const char *t, char *err, size_t errlen)
{
	if (t && sqlid_check(SQLID_TABLE, "table", t, err, errlen))
		return -EINVAL;
	int r = db_idle(m, db, "", err, errlen);
	if (r)
		return r;
	char path[200];
	if (t)
		snprintf(path, sizeof path, "table/%s/%s", db, t);
	else
		snprintf(path, sizeof path, "database/%s", db);
	if ((r = ctl_all_workers(m, "DELETE", path, NULL, err, errlen)))
		return r;
	MYSQL_RES *res = qsql_query(m, err, errlen, "SELECT name FROM qservMeta.tables WHERE db='%s'%s%s%s", db,
				    t ? " AND name='" : "", t ? t : "", t ? "'" : "");
	MYSQL_ROW row;
	while (res && (row = mysql_fetch_row(res)))
		qsql_exec(m, err, errlen, "DROP TABLE IF EXISTS qservMeta.`%s__%s`", db, row[0]);
	mysql_free_result(res);
	if (cstats_forget(m, db, t, err, errlen))
		return -EIO;
	if (t)
		return qsql_exec(m, err, errlen, "DELETE FROM qservMeta.tables WHERE db='%s' AND name='%s'", db, t);
	if (qsql_exec(m, err, errlen, "DELETE FROM qservMeta.tables WHERE db='%s'", db) ||
	    qsql_exec(m, err, errlen, "DELETE FROM qservMeta.chunks WHERE db='%s'", db) ||
	    qsql_exec(m, err, errlen, "DELETE FROM qservMeta.lost_chunks WHERE db='%s'", db) ||
	    qsql_exec(m, err, errlen, "DELETE FROM qservMeta.ingest_config WHERE db='%s'", db) ||
	    cverify_forget(m, db, err, errlen) ||
	    qsql_exec(m, err, errlen, "DELETE FROM qservMeta.trans WHERE db='%s'", db) ||
	    qsql_exec(m, err, errlen, "DELETE FROM qservMeta.dbs WHERE name='%s'", db))
		return -EIO;
	return 0;
}

/* The database a parsed request names directly or through its (started)
 * transaction, into ret. */
static int target_db(MYSQL *m, const struct creq_target *q, char ret[65], char *err, size_t errlen)
{
	if (!q->trans_id) {
		snprintf(ret, 65, "%s", q->db);
		return 0;
	}
	char state[17];
	int r = cmeta_trans(m, q->trans_id, ret, state, err, errlen);
	if (r)
		return r;
	if (strcmp(state, "STARTED")) {
		snprintf(err, errlen, "transaction %lld is %s", q->trans_id, state);
		return -EPERM;
	}
	return 0;
}

/* Sums a worker's per-chunk counts (GET /worker/count's "chunks" or
 * "overlap_chunks") over the chunks in keep. */
static json_int_t sum_kept(json_t *per_chunk, json_t *keep)
{
	const char *ch;
	json_t *n;
	json_int_t sum = 0;
	json_object_foreach(per_chunk, ch, n)
		if (json_object_get(keep, ch))
			sum += json_integer_value(n);
	return sum;
}

/* GET /ingest/rows: a regular table's rows summed over the workers (each
 * holds a full copy: the loader checks each); a partitioned table's once
 * per chunk, from its first holder (replicas, and stale tables a worker
 * keeps from an earlier placement, are not counted twice). */
static int rows(MYSQL *m, const char *db, const char *t, json_t **out, char *err, size_t errlen)
{
	if (sqlid_check(SQLID_DATABASE, "database", db, err, errlen) ||
	    sqlid_check(SQLID_TABLE, "table", t, err, errlen))
		return -EINVAL;
	struct cworker *w;
	size_t n;
	int r = cmeta_workers(m, &w, &n, err, errlen);
	if (r)
		return r;
	json_int_t total = 0, overlap = 0;
	json_t *per = json_object();
	for (size_t i = 0; !r && i < n; i++) {
		char path[200];
		json_t *c = NULL, *keep = NULL;
		snprintf(path, sizeof path, "count?database=%s&table=%s", db, t);
		if ((r = ctl_worker_call(&w[i], "GET", path, NULL, &c, err, errlen)))
			break;
		json_int_t wr = (json_int_t)qjson_int(c, "rows", 0), wo = (json_int_t)qjson_int(c, "overlap_rows", 0);
		json_t *chunks = json_object_get(c, "chunks"), *ochunks = json_object_get(c, "overlap_chunks");
		if (json_object_size(chunks) && !(keep = cmeta_first_held(m, db, w[i].id, err, errlen)))
			r = -EIO;
		if (keep) {
			wr = sum_kept(chunks, keep);
			wo = json_is_object(ochunks) ? sum_kept(ochunks, keep) : wo;
		}
		total += wr;
		overlap += wo;
		json_object_set_new(per, w[i].id, json_integer(wr));
		json_decref(keep);
		json_decref(c);
	}
	free(w);
	if (r) {
		json_decref(per);
		return r;
	}
	*out = json_pack("{s:I, s:I, s:o}", "rows", total, "overlap_rows", overlap, "workers", per);
	return 0;
}

static int locations(MYSQL *m, json_t **out, char *err, size_t errlen)
{
	struct cworker *w;
	size_t n;
	int r = cmeta_workers(m, &w, &n, err, errlen);
	if (r)
		return r;
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, cplace_location(&w[i]));
	free(w);
	*out = json_pack("{s:o}", "locations", a);
	return 0;
}

static json_t *list_dbs(MYSQL *m, char *err, size_t errlen)
{
	MYSQL_RES *res = qsql_query(m, err, errlen, "SELECT name, num_stripes, num_sub_stripes, overlap,"
				    " auto_build_secondary_index, published FROM qservMeta.dbs ORDER BY name");
	if (!res)
		return NULL;
	json_t *a = json_array();
	MYSQL_ROW row;
	while ((row = mysql_fetch_row(res)))
		json_array_append_new(a, json_pack("{s:s, s:i, s:i, s:f, s:i, s:i}", "database", row[0],
			"num_stripes", atoi(row[1]), "num_sub_stripes", atoi(row[2]), "overlap", strtod(row[3], NULL),
			"auto_build_secondary_index", atoi(row[4]), "is_published", atoi(row[5])));
	mysql_free_result(res);
	return json_pack("{s:o}", "databases", a);
}

/* GET /ingest/table/<db>: Qserv's {"tables": [...]} of a registered
 * database, each {name, is_partitioned, is_director, director_table,
 * director_key, latitude_key, longitude_key, chunk_id_key,
 * sub_chunk_id_key, is_published}. */
static int list_tables(MYSQL *m, const char *db, json_t **out, char *err, size_t errlen)
{
	struct cdb d;
	if (sqlid_check(SQLID_DATABASE, "database", db, err, errlen))
		return -EINVAL;
	int r = cmeta_db(m, db, &d, err, errlen);
	if (r)
		return r;
	MYSQL_RES *res = qsql_query(m, err, errlen, "SELECT name, is_partitioned, is_director, director_table,"
				    " director_key, latitude_key, longitude_key, chunk_id_key, sub_chunk_id_key,"
				    " is_match, director_table2, director_key2, flag_key, ang_sep"
				    " FROM qservMeta.tables WHERE db='%s' ORDER BY name", db);
	if (!res)
		return -EIO;
	json_t *a = json_array();
	MYSQL_ROW row;
	while ((row = mysql_fetch_row(res))) {
		bool part = atoi(row[1]) != 0, dir = atoi(row[2]) != 0;
		json_array_append_new(a, json_pack("{s:s, s:s, s:i, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:s,"
			" s:s, s:s, s:f}",
			"name", row[0], "database", db, "is_partitioned", part, "is_director", dir,
			"director_table", part && !dir ? row[3] : "", "director_key", row[4], "latitude_key", row[5],
			"longitude_key", row[6], "chunk_id_key", row[7], "sub_chunk_id_key", row[8],
			"is_published", d.published, "is_ref_match", atoi(row[9]), "director_table2", row[10],
			"director_key2", row[11], "flag", row[12], "ang_sep", strtod(row[13], NULL)));
	}
	mysql_free_result(res);
	*out = json_pack("{s:o}", "tables", a);
	return 0;
}

/* GET /worker/contribs?<query> of every registered worker into one array
 * (each entry has "worker"; "warnings" listed only with warnings=1 in
 * query: Qserv's include_warnings); a worker that does not answer is named in
 * *ret_missing (an array) and left out. */
static int worker_contribs(MYSQL *m, const char *query, json_t **ret, json_t **ret_missing, char *err,
			   size_t errlen)
{
	struct cworker *w;
	size_t n;
	int r = cmeta_workers_all(m, &w, &n, err, errlen);
	if (r)
		return r;
	json_t *all = json_array(), *missing = json_array();
	for (size_t i = 0; i < n; i++) {
		char path[128], e[512];
		json_t *o = NULL;
		snprintf(path, sizeof path, "contribs?%s", query);
		if (ctl_worker_call(&w[i], "GET", path, NULL, &o, e, sizeof e)) {
			log_warn("contribution report: %s", e);
			json_array_append_new(missing, json_string(w[i].id));
		} else {
			json_array_extend(all, json_object_get(o, "contribs"));
		}
		json_decref(o);
	}
	free(w);
	*ret = all;
	*ret_missing = missing;
	return 0;
}

/* Adds a contribution's counters to the summary object o (Qserv's
 * names); overlap and regular pick the file counter. */
static void add_counts(json_t *o, json_t *c, const char *files_key)
{
	static const char *const keys[] = { "num_rows", "num_rows_loaded", "num_warnings", "num_failed_retries" };
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		json_object_set_new(o, keys[i], json_integer(json_integer_value(json_object_get(o, keys[i])) +
							    json_integer_value(json_object_get(c, keys[i]))));
	double gb = json_number_value(json_object_get(o, "data_size_gb")) +
		    (double)json_integer_value(json_object_get(c, "num_bytes")) / (1024.0 * 1024.0 * 1024.0);
	json_object_set_new(o, "data_size_gb", json_real(gb));
	json_object_set_new(o, files_key, json_integer(json_integer_value(json_object_get(o, files_key)) + 1));
}

static json_t *member(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (!v) {
		v = json_object();
		json_object_set_new(o, key, v);
	}
	return v;
}

/* Qserv's contrib.summary of a transaction's contributions. */
static json_t *contrib_summary(json_t *files)
{
	json_t *s = json_pack("{s:I, s:I, s:{}, s:{}, s:{s:i, s:i, s:i}}", "first_contrib_begin", (json_int_t)0,
			      "last_contrib_end", (json_int_t)0, "table", "worker", "num_files_by_status",
			      "IN_PROGRESS", 0, "FINISHED", 0, "LOAD_FAILED", 0);
	size_t i;
	json_t *c;
	json_array_foreach(files, i, c) {
		bool ov = json_integer_value(json_object_get(c, "overlap")) != 0;
		bool reg = json_integer_value(json_object_get(c, "chunk")) < 0;
		const char *kind = reg ? "num_regular_files" : ov ? "num_chunk_overlap_files" : "num_chunk_files";
		json_t *tab = member(member(s, "table"), json_string_value(json_object_get(c, "table")));
		add_counts(s, c, kind);
		add_counts(ov ? member(tab, "overlap") : tab, c, "num_files");
		add_counts(member(member(s, "worker"), json_string_value(json_object_get(c, "worker"))), c, kind);
		const char *st = json_string_value(json_object_get(c, "status"));
		st = !strcmp(st, "FAILED") ? "LOAD_FAILED" : !strcmp(st, "QUEUED") ? "IN_PROGRESS" : st;
		json_t *by = json_object_get(s, "num_files_by_status");
		json_object_set_new(by, st, json_integer(json_integer_value(json_object_get(by, st)) + 1));
		json_int_t b = json_integer_value(json_object_get(c, "start_time"));
		/* read_time and load_time are durations here (ms), not Qserv's timestamps */
		json_int_t e = json_integer_value(json_object_get(c, "read_time")) +
			       json_integer_value(json_object_get(c, "load_time"));
		json_int_t first = json_integer_value(json_object_get(s, "first_contrib_begin"));
		if (b && (!first || b < first))
			json_object_set_new(s, "first_contrib_begin", json_integer(b));
		if (b + e > json_integer_value(json_object_get(s, "last_contrib_end")))
			json_object_set_new(s, "last_contrib_end", json_integer(b + e));
	}
	json_object_set_new(s, "num_workers", json_integer((json_int_t)json_object_size(json_object_get(s, "worker"))));
	return s;
}

/* One request being routed: what the handlers read and fill. */
struct call {
	struct ctl *c;
	MYSQL *m;
	struct qhttp_req *r;
	json_t *b;              /* the JSON body ({} without one) */
	const char *rest;       /* what the pattern's '*' matched, else NULL */
	json_t *out;            /* reply fields on success (freed on error) */
	bool replied;           /* the handler replied itself (not JSON) */
	char err[1024];
};

static int db_add(struct call *k)
{
	return add_database(k->m, k->b, &k->out, k->err, sizeof k->err);
}

static int db_list(struct call *k)
{
	k->out = list_dbs(k->m, k->err, sizeof k->err);
	return k->out ? 0 : -EIO;
}

static int db_publish(struct call *k)
{
	bool publish, counters;
	if (creq_publish(k->b, &publish, k->err, sizeof k->err) ||
	    creq_publish_counters(k->b, &counters, k->err, sizeof k->err))
		return -EINVAL;
	return cpublish_request(k->c, k->m, k->rest, publish, counters, &k->out, k->err, sizeof k->err);
}

static int db_drop(struct call *k)
{
	int rc = drop(k->m, k->rest, NULL, k->err, sizeof k->err);
	if (!rc)
		cnotify_czar(k->c, CNOTIFY_CATALOG, "database drop");
	return rc;
}

/* A partitioned table's default index goes on its prototypes at once
 * (csqlidx.c: its chunk tables are then created with it). */
static int table_add(struct call *k)
{
	int rc = add_table(k->m, k->b, &k->out, k->err, sizeof k->err);
	if (!rc)
		rc = csqlidx_defaults(k->c, k->m, qjson_str(k->b, "database", ""), qjson_str(k->b, "table", ""), NULL,
				      k->err, sizeof k->err);
	return rc;
}

static int table_drop(struct call *k)
{
	char db[65];
	const char *t = qhttp_split_db(k->rest, db);
	if (!t) {
		snprintf(k->err, sizeof k->err, "use DELETE /ingest/table/<database>/<table>");
		return -EINVAL;
	}
	int rc = drop(k->m, db, t, k->err, sizeof k->err);
	if (!rc)
		cnotify_czar(k->c, CNOTIFY_CATALOG, "table drop");
	return rc;
}

static int trans_begin(struct call *k)
{
	long long id = 0;
	struct creq_trans q;
	int rc = creq_trans(k->b, &q, k->err, sizeof k->err);
	if (rc || (rc = ctrans_begin(k->c, k->m, q.db, q.context, &id, k->err, sizeof k->err)))
		return rc;
	json_t *t = cmeta_trans_json(k->m, id, NULL, k->err, sizeof k->err);
	json_t *one = json_array_get(t, 0);
	k->out = json_pack("{s:O, s:{s:{s:O}}}", "transaction", one, "databases", q.db, "transactions", t);
	json_decref(t);
	return 0;
}

static int trans_end(struct call *k)
{
	const char *a = qhttp_arg(k->r, "abort");
	long long id = atoll(k->rest);
	int rc = ctrans_end(k->c, k->m, id, a && atoi(a) != 0, &k->out, k->err, sizeof k->err);
	if (rc)
		return rc;
	json_t *t = cmeta_trans_json(k->m, id, NULL, k->err, sizeof k->err);
	json_object_set(k->out, "transaction", json_array_get(t, 0));
	json_decref(t);
	return 0;
}

static int trans_contrib(struct call *k, long long id, json_t *t);

/* GET /ingest/trans (all, or ?database=) and /ingest/trans/<id>
 * [?contrib=1[&contrib_long=1][&include_warnings=1]]. */
static int trans_get(struct call *k)
{
	long long id = 0;
	const char *d = qhttp_arg(k->r, "database"), *ct = qhttp_arg(k->r, "contrib");
	if (k->rest && creq_trans_id(k->rest, &id, k->err, sizeof k->err))
		return -EINVAL;
	if (d && sqlid_check(SQLID_DATABASE, "database", d, k->err, sizeof k->err))
		return -EINVAL;
	json_t *t = cmeta_trans_json(k->m, id, d, k->err, sizeof k->err);
	int rc = !t ? -EIO : (id && !json_array_size(t)) ? -ENOENT : 0;
	if (rc == -ENOENT)
		snprintf(k->err, sizeof k->err, "no transaction %lld", id);
	if (!rc && id && ct && atoi(ct))
		rc = trans_contrib(k, id, json_array_get(t, 0));
	if (!rc && id)
		k->out = json_pack("{s:O, s:o}", "transaction", json_array_get(t, 0), "transactions", t);
	else if (!rc)
		k->out = json_pack("{s:o}", "transactions", t);
	else
		json_decref(t);
	return rc;
}

/* ?contrib=1 of GET /ingest/trans/<id>: Qserv's "contrib" {summary,
 * files (contrib_long=1: the descriptors, warnings with
 * include_warnings=1)} added to transaction t, asked of every worker
 * (each keeps its contributions: the controller never sees them). */
static int trans_contrib(struct call *k, long long id, json_t *t)
{
	char q[64];
	json_t *files, *missing;
	const char *lng = qhttp_arg(k->r, "contrib_long"), *w = qhttp_arg(k->r, "include_warnings");
	snprintf(q, sizeof q, "transaction_id=%lld&warnings=%d", id, lng && atoi(lng) && w && atoi(w) && k->r->key_given);
	int rc = worker_contribs(k->m, q, &files, &missing, k->err, sizeof k->err);
	if (rc)
		return rc;
	json_t *summary = contrib_summary(files);
	if (!(lng && atoi(lng))) {
		json_decref(files);
		files = json_array();
	}
	json_object_set_new(t, "contrib", json_pack("{s:o, s:o, s:o}", "summary", summary, "files", files,
						    "unreachable_workers", missing));
	return 0;
}

/* (Both reports are open; include_warnings=1 is honoured for the admin
 * key's holder only: MariaDB's warnings may quote a refused value.)
 *
 * GET /ingest/trans/contrib/<id>[?worker=][&include_warnings=1]: Qserv's
 * {"contribution": {...}}, asked of every worker.  Contribution ids are
 * each worker's own: when several workers have one of that id, 409
 * lists them and ?worker= picks one. */
static int contrib_get(struct call *k)
{
	long long id;
	char q[64];
	json_t *all, *missing, *pick = NULL;
	const char *wk = qhttp_arg(k->r, "worker"), *w = qhttp_arg(k->r, "include_warnings");
	if (creq_contrib_id(k->rest, &id, k->err, sizeof k->err))
		return -EINVAL;
	snprintf(q, sizeof q, "id=%lld&warnings=%d", id, w && atoi(w) && k->r->key_given ? 1 : 0);
	int rc = worker_contribs(k->m, q, &all, &missing, k->err, sizeof k->err);
	if (rc)
		return rc;
	size_t i, n = 0;
	json_t *c;
	json_array_foreach(all, i, c)
		if (!wk || !strcmp(wk, json_string_value(json_object_get(c, "worker"))))
			pick = c, n++;
	if (n == 1) {
		k->out = json_pack("{s:O}", "contribution", pick);
	} else if (n == 0) {
		snprintf(k->err, sizeof k->err, "no contribution %lld%s", id,
			 json_array_size(missing) ? " (some workers did not answer)" : "");
		rc = -ENOENT;
	} else {
		snprintf(k->err, sizeof k->err, "contribution %lld exists on %zu workers: name one with ?worker=", id, n);
		rc = -EBUSY;
	}
	json_decref(all);
	json_decref(missing);
	return rc;
}

static int table_list(struct call *k)
{
	return list_tables(k->m, k->rest, &k->out, k->err, sizeof k->err);
}

/* GET /ingest/config?database= */
static int config_get(struct call *k)
{
	const char *d = qhttp_arg(k->r, "database");
	struct cdb db;
	if (sqlid_check(SQLID_DATABASE, "database", d, k->err, sizeof k->err))
		return -EINVAL;
	int rc = cmeta_db(k->m, d, &db, k->err, sizeof k->err);
	return rc ? rc : cconfig_get(k->m, d, &k->out, k->err, sizeof k->err);
}

static int config_set(struct call *k)
{
	return cconfig_put(k->m, k->b, &k->out, k->err, sizeof k->err);
}

/* The database a chunk request places into: registered, not published. */
static int chunk_db(struct call *k, const struct creq_target *q, char db[65])
{
	struct cdb d;
	int rc = target_db(k->m, q, db, k->err, sizeof k->err);
	if (!rc)
		rc = cmeta_db(k->m, db, &d, k->err, sizeof k->err);
	if (!rc && d.published) {
		snprintf(k->err, sizeof k->err, "database %s is published", db);
		rc = -EPERM;
	}
	return rc;
}

static int chunk_place(struct call *k)
{
	char db[65];
	struct cworker w;
	struct creq_chunk q;
	int rc = creq_chunk(k->b, &q, k->err, sizeof k->err);
	if (rc || (rc = chunk_db(k, &q.target, db)))
		return rc;
	if ((rc = cplace_chunk(k->c, k->m, db, q.chunk, &w, k->err, sizeof k->err)))
		return rc;
	json_t *loc = cplace_location(&w);
	json_object_set_new(loc, "chunk", json_integer(q.chunk));
	k->out = json_pack("{s:o}", "location", loc);
	return 0;
}

static int chunks_place(struct call *k)
{
	char db[65];
	struct cworker w;
	struct creq_target q;
	int32_t *chunks;
	size_t n;
	int rc = creq_chunks(k->b, &q, &chunks, &n, k->err, sizeof k->err);
	if (rc)
		return rc;
	if ((rc = chunk_db(k, &q, db))) {
		free(chunks);
		return rc;
	}
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		if ((rc = cplace_chunk(k->c, k->m, db, chunks[i], &w, k->err, sizeof k->err)))
			break;
		json_t *loc = cplace_location(&w);
		json_object_set_new(loc, "chunk", json_integer(chunks[i]));
		json_array_append_new(a, loc);
	}
	free(chunks);
	k->out = json_pack("{s:o}", "location", a);
	return rc;
}

/* GET /ingest/regular, /meta/workers, /status: every worker's location. */
static int worker_locations(struct call *k)
{
	return locations(k->m, &k->out, k->err, sizeof k->err);
}

/* /replication/sql/index (csqlidx.c) */
static int sql_index(struct call *k)
{
	return csqlidx_post(k->m, k->b, k->err, sizeof k->err);
}

static int sql_index_get(struct call *k)
{
	char db[65];
	const char *t = qhttp_split_db(k->rest, db), *ov = qhttp_arg(k->r, "overlap");
	if (!t) {
		snprintf(k->err, sizeof k->err, "use GET /replication/sql/index/<database>/<table>[?overlap=0|1]");
		return -EINVAL;
	}
	return csqlidx_get(k->m, db, t, ov && atoi(ov), &k->out, k->err, sizeof k->err);
}

static int sql_index_delete(struct call *k)
{
	return csqlidx_delete(k->m, k->b, &k->out, k->err, sizeof k->err);
}

static int index_rebuild(struct call *k)
{
	char db[65];
	struct creq_rebuild q;
	int rc = creq_rebuild(k->b, &q, k->err, sizeof k->err);
	if (rc || (rc = target_db(k->m, &q.target, db, k->err, sizeof k->err)))
		return rc;
	return cindex_rebuild(k->c, k->m, db, q.director_table, &k->out, k->err, sizeof k->err);
}

static int table_rows(struct call *k)
{
	char db[65];
	const char *t = qhttp_split_db(k->rest, db);
	if (!t) {
		snprintf(k->err, sizeof k->err, "use GET /ingest/rows/<database>/<table>");
		return -EINVAL;
	}
	return rows(k->m, db, t, &k->out, k->err, sizeof k->err);
}

/* Row counters (cstats.c) */
static int stats_post(struct call *k)
{
	return cstats_post(k->c, k->m, k->b, &k->out, k->err, sizeof k->err);
}

static int stats_get_or_delete(struct call *k)
{
	char db[65];
	const char *t = qhttp_split_db(k->rest, db);
	if (!t) {
		snprintf(k->err, sizeof k->err, "use %s /ingest/table-stats/<database>/<table>", k->r->method);
		return -EINVAL;
	}
	if (!strcmp(k->r->method, "GET"))
		return cstats_get(k->m, db, t, &k->out, k->err, sizeof k->err);
	return cstats_delete(k->c, k->m, db, t, k->b, &k->out, k->err, sizeof k->err);
}

static int worker_add(struct call *k)
{
	struct cworker w = { 0 };
	struct creq_worker q;
	if (creq_worker(k->b, &q, k->err, sizeof k->err))
		return -EINVAL;
	snprintf(w.id, sizeof w.id, "%s", q.id);
	snprintf(w.host, sizeof w.host, "%s", q.host);
	w.ingest_port = q.ingest_port;
	w.query_port = q.query_port;
	snprintf(w.zone, sizeof w.zone, "%s", q.zone);
	int r = cmeta_add_worker(k->m, &w, k->err, sizeof k->err);
	if (r)
		return r;
	r = cjoin_worker(k->c, k->m, &w, &k->out, k->err, sizeof k->err);
	crebal_wake(k->c);   /* a new worker, ready or not (a copy to it then fails): a rebalance check */
	return r;
}

static int worker_remove(struct call *k)
{
	const char *f = qhttp_arg(k->r, "force");
	return cmeta_remove_worker(k->c, k->m, k->rest, f && atoi(f) != 0, &k->out, k->err, sizeof k->err);
}

/* PUT /replication/level {"level": N, ["database": DB]} */
static int repl_level(struct call *k)
{
	struct creq_level q;
	if (creq_level(k->b, &q, k->err, sizeof k->err))
		return -EINVAL;
	return crepl_set_level(k->c, k->m, q.db, q.level, &k->out, k->err, sizeof k->err);
}

static int repl_maint(struct call *k)
{
	struct creq_maint q;
	if (creq_maint(k->b, &q, k->err, sizeof k->err))
		return -EINVAL;
	return chealth_maintenance(k->c, k->m, q.worker, q.on, &k->out, k->err, sizeof k->err);
}

/* POST /replication/health {"worker", "up"}: the registry's view of a
 * worker, from the czar's agent (chealth_registry). */
static int repl_health(struct call *k)
{
	struct creq_maint q;
	if (creq_health(k->b, &q, k->err, sizeof k->err))
		return -EINVAL;
	return chealth_registry(k->c, k->m, q.worker, q.on, &k->out, k->err, sizeof k->err);
}

static int repl_evict_after(struct call *k)
{
	int s;
	if (creq_evict_after(k->b, &s, k->err, sizeof k->err))
		return -EINVAL;
	chealth_set_evict_after(k->c, s);
	k->out = json_pack("{s:i}", "evict_after", s);
	return 0;
}

static int repl_drain(struct call *k)
{
	struct creq_maint q;
	if (creq_drain(k->b, &q, k->err, sizeof k->err))
		return -EINVAL;
	return crebal_drain(k->c, k->m, q.worker, q.on, &k->out, k->err, sizeof k->err);
}

static int repl_rebalance(struct call *k)
{
	return crebal_rebalance(k->c, k->m, &k->out, k->err, sizeof k->err);
}

static int repl_status(struct call *k)
{
	return crepl_status(k->c, k->m, &k->out, k->err, sizeof k->err);
}

static int repl_verify(struct call *k)
{
	return cverify_run(k->c, &k->out, k->err, sizeof k->err);
}

static int repl_verify_interval(struct call *k)
{
	int s;
	if (creq_verify_interval(k->b, &s, k->err, sizeof k->err))
		return -EINVAL;
	cverify_set_interval(k->c, s);
	k->out = json_pack("{s:i}", "verify_interval", s);
	return 0;
}

/* GET /metrics: text, not JSON (an unlinked file in the staging directory). */
static int metrics(struct call *k)
{
	int fd = -1;
	long long size = 0;
	int rc = cmetrics_render(k->c, k->m, k->c->staging, &fd, &size, k->err, sizeof k->err);
	if (rc)
		return rc;
	qhttp_reply_fd(k->r, 200, fd, (off_t)size, "text/plain; version=0.0.4; charset=utf-8");
	k->replied = true;
	return 0;
}

/* Backups and restores (cbackup.c) */
static int backup_post(struct call *k)
{
	return cbackup_start(k->c, k->m, k->b, &k->out, k->err, sizeof k->err);
}

static int restore_post(struct call *k)
{
	return crestore_start(k->c, k->m, k->b, &k->out, k->err, sizeof k->err);
}

static int backup_status(struct call *k)
{
	k->out = cbackup_status();
	return 0;
}

/* The API (see the top of this file); the first match wins, a pattern
 * ending in '*' takes any rest of the path (k->rest). */
static int key_sha256(struct call *k)
{
	char hex[65];
	if (!k->c->auth_key[0]) {
		snprintf(k->err, sizeof k->err, "this service has no admin key configured");
		return -ENOENT;
	}
	qhttp_sha256_hex(k->c->auth_key, hex);
	k->out = json_pack("{s:s}", "sha256", hex);
	return 0;
}

#define KEY QHTTP_KEY
#define OPEN QHTTP_OPEN
static const struct route {
	const char *method, *path;
	int (*fn)(struct call *k);
	enum qhttp_auth auth;      /* who may call it (qhttp.h) */
} routes[] = {
	{ "POST", "/ingest/database", db_add, KEY },
	{ "GET", "/ingest/database", db_list, OPEN },
	{ "PUT", "/ingest/database/*", db_publish, KEY },
	{ "DELETE", "/ingest/database/*", db_drop, KEY },
	{ "POST", "/ingest/table", table_add, KEY },
	{ "DELETE", "/ingest/table/*", table_drop, KEY },
	{ "GET", "/ingest/table/*", table_list, OPEN },
	{ "GET", "/ingest/config", config_get, OPEN },
	{ "PUT", "/ingest/config", config_set, KEY },
	{ "POST", "/ingest/trans", trans_begin, KEY },
	{ "PUT", "/ingest/trans/*", trans_end, KEY },
	{ "GET", "/ingest/trans", trans_get, OPEN },
	{ "GET", "/ingest/trans/contrib/*", contrib_get, OPEN },
	{ "GET", "/ingest/trans/*", trans_get, OPEN },
	{ "POST", "/ingest/chunk", chunk_place, KEY },
	{ "POST", "/ingest/chunks", chunks_place, KEY },
	{ "GET", "/ingest/regular", worker_locations, OPEN },
	{ "GET", "/ingest/regular/*", worker_locations, OPEN },
	{ "POST", "/replication/sql/index", sql_index, KEY },
	{ "GET", "/replication/sql/index/*", sql_index_get, OPEN },
	{ "DELETE", "/replication/sql/index", sql_index_delete, KEY },
	{ "POST", "/ingest/index/secondary", index_rebuild, KEY },
	{ "GET", "/ingest/rows/*", table_rows, OPEN },
	{ "POST", "/ingest/table-stats", stats_post, KEY },
	{ "GET", "/ingest/table-stats/*", stats_get_or_delete, OPEN },
	{ "DELETE", "/ingest/table-stats/*", stats_get_or_delete, KEY },
	{ "POST", "/meta/worker", worker_add, KEY },
	{ "DELETE", "/meta/worker/*", worker_remove, KEY },
	{ "GET", "/meta/workers", worker_locations, OPEN },
	{ "GET", "/meta/auth-key-sha256", key_sha256, OPEN },
	{ "GET", "/status", worker_locations, OPEN },
	{ "PUT", "/replication/level", repl_level, KEY },
	{ "GET", "/replication/status", repl_status, OPEN },
	{ "PUT", "/replication/maintenance", repl_maint, KEY },
	{ "PUT", "/replication/evict-after", repl_evict_after, KEY },
	{ "POST", "/replication/health", repl_health, KEY },
	{ "POST", "/replication/verify", repl_verify, KEY },
	{ "PUT", "/replication/verify-interval", repl_verify_interval, KEY },
	{ "GET", "/metrics", metrics, OPEN },
	{ "PUT", "/replication/drain", repl_drain, KEY },
	{ "POST", "/replication/rebalance", repl_rebalance, KEY },
	{ "POST", "/backup", backup_post, KEY },
	{ "POST", "/restore", restore_post, KEY },
	{ "GET", "/backup/status", backup_status, OPEN },
};
#undef KEY
#undef OPEN

enum qhttp_auth capi_policy(void *app, const char *method, const char *url)
{
	const char *rest;
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
		if (!strcmp(method, routes[i].method) && qhttp_path_match(routes[i].path, url, &rest))
			return routes[i].auth;
	return QHTTP_KEY;    /* an unknown endpoint is not even told so without the key */
}

static void route(struct ctl *c, MYSQL *m, struct qhttp_req *r, json_t *b)
{
	struct call k = { .c = c, .m = m, .r = r, .b = b };
	qsql_detail_clear();
	int rc = -ENOENT;
	/* also the message of a handler failing without one of its own */
	snprintf(k.err, sizeof k.err, "no such endpoint: %s %s", r->method, qhttp_path_printable(r->url));
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		if (!strcmp(r->method, routes[i].method) && qhttp_path_match(routes[i].path, r->url, &k.rest)) {
			rc = routes[i].fn(&k);
			break;
		}
	}
	if (!k.replied)
		reply(r, rc, k.err, k.out);
}

void capi_handle(void *app, struct qhttp_req *r)
{
	struct ctl *c = app;
	char err[1024];
	json_t *b = NULL;
	/* DELETE too: Qserv's DELETE /ingest/table-stats has a JSON body */
	if (!strcmp(r->method, "POST") || !strcmp(r->method, "PUT") || !strcmp(r->method, "DELETE")) {
		if (!(b = qhttp_body_json(r, err, sizeof err))) {
			qhttp_reply_error(r, 400, "%s", err);
			return;
		}
	} else {
		b = json_object();
	}
	qsql_detail_clear();
	MYSQL *m = qsql_connect(&c->sql, err, sizeof err);
	if (!m) {
		log_warn("%s %s: %s", r->method, r->url, qsql_detail());
		qhttp_reply_error(r, 503, "%s", err);
	} else {
		route(c, m, r, b);
		mysql_close(m);
	}
	json_decref(b);
}
