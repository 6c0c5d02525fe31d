/* cstats.c: Qserv's table row counters (META.md, qservMeta.row_counters;
 * docs/ingest.md "Row counters"):
 *
 *   POST   /ingest/table-stats {database, table, [overlap_selector],
 *          [force_rescan], [row_counters_state_update_policy],
 *          [row_counters_deploy_at_qserv]}      scan, store, deploy
 *   GET    /ingest/table-stats/<db>/<table>     {database, table, entries}
 *   DELETE /ingest/table-stats/<db>/<table> {[overlap_selector], [qserv_only]}
 *
 * One table holds both of Qserv's copies: the replication system's
 * counters (a row) and the czar's (the row with deployed = 1).  So
 * "deploying at Qserv" writes the rows with deployed = 1, and removing
 * them "from Qserv only" (qserv_only) sets deployed = 0.  A partitioned
 * table is counted on each chunk's first holder (lowest worker_id in
 * qservMeta.chunks: the one loads go to; replicas hold the same rows),
 * through the worker's GET /worker/count (the route GET /ingest/rows
 * uses); a regular table on one enabled worker, as Qserv's dummy chunk
 * 1234567890.  Counting is a network call: no lock is held across it; a
 * transaction starting meanwhile sets deployed = 0 after (cstats_stale)
 * or the czar sees it open, so a stale count is never used.
 *
 * Counters never hold transaction ids (Qserv's entries have them): GET
 * reports transaction_id 0; regular tables are reported as chunk 0, as in
 * Qserv. */
#include "controller.h"
#include "creq.h"
#include "qserv/common/qjson.h"
#include "qserv/common/sqlid.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CSTATS_DUMMY_CHUNK 1234567890

/* A counted table: what the scan needs from qservMeta.tables. */
struct ctab {
	bool partitioned, director;
};

static int table_info(MYSQL *m, const char *db, const char *t, struct ctab *ret, char *err, size_t errlen)
{
	struct cdb d;
	int r = cmeta_db(m, db, &d, err, errlen);
	if (r)
		return r;
	MYSQL_RES *res = qsql_query(m, err, errlen, "SELECT is_partitioned, is_director FROM qservMeta.tables"
				    " WHERE db='%s' AND name='%s'", db, t);
	if (!res)
		return -EIO;
	MYSQL_ROW row = mysql_fetch_row(res);
	if (row) {
		ret->partitioned = atoi(row[0]) != 0;
		ret->director = atoi(row[1]) != 0;
	} else {
		snprintf(err, errlen, "table %s.%s is not registered", db, t);
	}
	mysql_free_result(res);
	return row ? 0 : -ENOENT;
}

/* The SQL condition of a selector's rows (regular tables: every row). */
static const char *scope(const struct ctab *ti, enum creq_overlap sel)
{
	if (!ti->partitioned || sel == CREQ_CHUNK_AND_OVERLAP)
		return "1";
	return sel == CREQ_CHUNK ? "overlap=0" : "overlap=1";
}

static void add_entry(json_t *a, int32_t chunk, int overlap, json_int_t n)
{
	json_array_append_new(a, json_pack("{s:i, s:i, s:I}", "chunk", (int)chunk, "overlap", overlap, "num_rows", n));
}

/* Counts of one worker's first-held chunks (keep: chunk -> true) into a. */
static int count_worker(const struct cworker *w, const char *db, const char *t, const struct ctab *ti,
			enum creq_overlap sel, json_t *keep, json_t *a, char *err, size_t errlen)
{
	char path[200];
	json_t *c = NULL;
	snprintf(path, sizeof path, "count?database=%s&table=%s", db, t);
	int r = ctl_worker_call(w, "GET", path, NULL, &c, err, errlen);
	if (r)
		return r;
	json_t *chunks = json_object_get(c, "chunks"), *ochunks = json_object_get(c, "overlap_chunks"), *v;
	const char *ch;
	json_object_foreach(keep, ch, v) {
		json_t *n = json_object_get(chunks, ch), *on = json_object_get(ochunks, ch);
		if (!json_is_integer(n) || (ti->director && (sel & CREQ_OVERLAP) && !json_is_integer(on))) {
			snprintf(err, errlen, "worker %s has no table %s_%s of %s: counters not taken", w->id, t, ch, db);
			r = -EIO;
			break;
		}
		if (sel & CREQ_CHUNK)
			add_entry(a, atoi(ch), 0, json_integer_value(n));
		if (ti->director && (sel & CREQ_OVERLAP))
			add_entry(a, atoi(ch), 1, json_integer_value(on));
	}
	json_decref(c);
	return r;
}

/* Scans t: *ret an array of {chunk, overlap, num_rows}. */
static int scan(MYSQL *m, const char *db, const char *t, const struct ctab *ti, enum creq_overlap sel,
		json_t **ret, char *err, size_t errlen)
{
	struct cworker *w;
	size_t n;
	int r = cmeta_workers_all(m, &w, &n, err, errlen);
	if (r)
		return r;
	json_t *a = json_array();
	if (!ti->partitioned) {
		json_t *c = NULL;
		char path[200];
		snprintf(path, sizeof path, "count?database=%s&table=%s", db, t);
		if (!n) {
			snprintf(err, errlen, "no worker to count %s.%s on", db, t);
			r = -EIO;
		} else if (!(r = ctl_worker_call(&w[0], "GET", path, NULL, &c, err, errlen))) {
			add_entry(a, CSTATS_DUMMY_CHUNK, 0, (json_int_t)qjson_int(c, "rows", 0));
		}
		json_decref(c);
	}
	for (size_t i = 0; !r && ti->partitioned && i < n; i++) {
		json_t *keep = cmeta_first_held(m, db, w[i].id, err, errlen);
		if (!keep)
			r = -EIO;
		else if (json_object_size(keep))
			r = count_worker(&w[i], db, t, ti, sel, keep, a, err, errlen);
		json_decref(keep);
	}
	free(w);
	if (r)
		json_decref(a);
	else
		*ret = a;
	return r;
}

/* Replaces the rows of sel's scope with a's, deployed or not; one
 * MariaDB transaction. */
static int store(MYSQL *m, const char *db, const char *t, const struct ctab *ti, enum creq_overlap sel, json_t *a,
		 bool deployed, char *err, size_t errlen)
{
	json_t *e;
	size_t i;
	char e2[128];
	if (qsql_exec(m, err, errlen, "START TRANSACTION"))
		return -EIO;
	int r = qsql_exec(m, err, errlen, "DELETE FROM qservMeta.row_counters WHERE db='%s' AND tbl='%s' AND %s",
			  db, t, scope(ti, sel)) ? -EIO : 0;
	json_array_foreach(a, i, e) {
		if (r)
			break;
		if (qsql_exec(m, err, errlen, "INSERT INTO qservMeta.row_counters (db, tbl, chunk, overlap, num_rows,"
			      " deployed, updated) VALUES ('%s','%s',%d,%d,%lld,%d, UNIX_TIMESTAMP(NOW(3))*1000)", db, t,
			      (int)qjson_int(e, "chunk", 0), (int)qjson_int(e, "overlap", 0),
			      (long long)qjson_int(e, "num_rows", 0), deployed))
			r = -EIO;
	}
	if (r || qsql_exec(m, err, errlen, "COMMIT")) {
		qsql_exec(m, e2, sizeof e2, "ROLLBACK");
		return -EIO;
	}
	return 0;
}

/* The stored entries of t (Qserv's GET shape, plus "deployed"). */
static int entries(MYSQL *m, const char *db, const char *t, json_t **ret, char *err, size_t errlen)
{
	MYSQL_RES *res = qsql_query(m, err, errlen, "SELECT chunk, overlap, num_rows, updated, deployed FROM"
				    " qservMeta.row_counters WHERE db='%s' AND tbl='%s' ORDER BY chunk, overlap", db, t);
	if (!res)
		return -EIO;
	json_t *a = json_array();
	MYSQL_ROW row;
	while ((row = mysql_fetch_row(res))) {
		long long ch = atoll(row[0]);
		json_array_append_new(a, json_pack("{s:i, s:I, s:i, s:I, s:I, s:i}", "transaction_id", 0, "chunk",
			(json_int_t)(ch == CSTATS_DUMMY_CHUNK ? 0 : ch), "is_overlap", atoi(row[1]),
			"num_rows", (json_int_t)atoll(row[2]), "update_time", (json_int_t)atoll(row[3]),
			"deployed", atoi(row[4])));
	}
	mysql_free_result(res);
	*ret = a;
	return 0;
}

/* The work of a POST once the body is parsed (Qserv's semantics: scan when
 * forced or nothing is recorded; store per the policy; deploy on request). */
static int collect(struct ctl *c, MYSQL *m, const struct creq_stats *q, json_t **ret, char *err, size_t errlen)
{
	struct ctab ti;
	long long have = 0;
	int r = table_info(m, q->db, q->table, &ti, err, errlen);
	if (r)
		return r;
	if (qsql_int(m, &have, err, errlen, "SELECT COUNT(*) FROM qservMeta.row_counters WHERE db='%s' AND"
		     " tbl='%s' AND %s", q->db, q->table, scope(&ti, q->overlap)))
		return -EIO;
	bool rescan = q->force_rescan || !have;
	bool write = q->policy == CREQ_POLICY_FORCED || (q->policy == CREQ_POLICY_ENABLED && !have) || q->deploy;
	json_t *a = NULL;
	if (rescan && (r = scan(m, q->db, q->table, &ti, q->overlap, &a, err, errlen)))
		return r;
	if (rescan && write)
		r = store(m, q->db, q->table, &ti, q->overlap, a, q->deploy, err, errlen);
	else if (!rescan && q->deploy && qsql_exec(m, err, errlen, "UPDATE qservMeta.row_counters SET deployed=1"
						 " WHERE db='%s' AND tbl='%s' AND %s", q->db, q->table,
						 scope(&ti, q->overlap)))
		r = -EIO;
	if (!r && (write || q->deploy))
		cnotify_czar(c, CNOTIFY_CHUNKS, "row counters");
	if (!r)
		*ret = json_pack("{s:s, s:s, s:b, s:b, s:b, s:O?}", "database", q->db, "table", q->table, "scanned",
				 rescan, "stored", rescan && write, "deployed", q->deploy, "counters", a);
	json_decref(a);
	return r;
}

int cstats_post(struct ctl *c, MYSQL *m, json_t *b, json_t **ret, char *err, size_t errlen)
{
	struct creq_stats q;
	if (creq_stats(b, &q, err, errlen))
		return -EINVAL;
	return collect(c, m, &q, ret, err, errlen);
}

int cstats_get(MYSQL *m, const char *db, const char *t, json_t **ret, char *err, size_t errlen)
{
	struct ctab ti;
	json_t *a = NULL;
	if (sqlid_check(SQLID_DATABASE, "database", db, err, errlen) || sqlid_check(SQLID_TABLE, "table", t, err, errlen))
		return -EINVAL;
	int r = table_info(m, db, t, &ti, err, errlen);
	if (r || (r = entries(m, db, t, &a, err, errlen)))
		return r;
	*ret = json_pack("{s:s, s:s, s:o}", "database", db, "table", t, "entries", a);
	return 0;
}

int cstats_delete(struct ctl *c, MYSQL *m, const char *db, const char *t, json_t *b, json_t **ret,
		  char *err, size_t errlen)
{
	struct ctab ti;
	enum creq_overlap sel;
	bool qserv_only;
	unsigned long long n = 0;
	if (sqlid_check(SQLID_DATABASE, "database", db, err, errlen) || sqlid_check(SQLID_TABLE, "table", t, err, errlen) ||
	    creq_stats_delete(b, &sel, &qserv_only, err, errlen))
		return -EINVAL;
	int r = table_info(m, db, t, &ti, err, errlen);
	if (r)
		return r;
	if (qserv_only)
		r = qsql_exec_n(m, &n, err, errlen, "UPDATE qservMeta.row_counters SET deployed=0 WHERE db='%s' AND"
				" tbl='%s' AND %s", db, t, scope(&ti, sel));
	else
		r = qsql_exec_n(m, &n, err, errlen, "DELETE FROM qservMeta.row_counters WHERE db='%s' AND tbl='%s'"
				" AND %s", db, t, scope(&ti, sel));
	if (r)
		return -EIO;
	cnotify_czar(c, CNOTIFY_CHUNKS, "row counters");
	*ret = json_pack("{s:s, s:s, s:b, s:I}", "database", db, "table", t, "qserv_only", qserv_only, "rows",
			 (json_int_t)n);
	return 0;
}

int cstats_deploy_db(struct ctl *c, MYSQL *m, const char *db, char *err, size_t errlen)
{
	MYSQL_RES *res = qsql_query(m, err, errlen, "SELECT name FROM qservMeta.tables WHERE db='%s'", db);
	if (!res)
		return -EIO;
	int r = 0;
	MYSQL_ROW row;
	while (!r && (row = mysql_fetch_row(res))) {
		struct creq_stats q = { .overlap = CREQ_CHUNK_AND_OVERLAP, .force_rescan = true, .deploy = true,
					.policy = CREQ_POLICY_FORCED };
		json_t *out = NULL;
		snprintf(q.db, sizeof q.db, "%s", db);
		snprintf(q.table, sizeof q.table, "%s", row[0]);
		r = collect(c, m, &q, &out, err, errlen);
		json_decref(out);
	}
	mysql_free_result(res);
	return r;
}

int cstats_stale(struct ctl *c, MYSQL *m, const char *db, char *err, size_t errlen)
{
	unsigned long long n = 0;
	if (qsql_exec_n(m, &n, err, errlen, "UPDATE qservMeta.row_counters SET deployed=0 WHERE db='%s' AND"
			" deployed=1", db))
		return -EIO;
	if (n)
		cnotify_czar(c, CNOTIFY_CHUNKS, "row counters stale");
	return 0;
}

int cstats_forget(MYSQL *m, const char *db, const char *t, char *err, size_t errlen)
{
	if (t)
		return qsql_exec(m, err, errlen, "DELETE FROM qservMeta.row_counters WHERE db='%s' AND tbl='%s'", db, t)
			       ? -EIO : 0;
	return qsql_exec(m, err, errlen, "DELETE FROM qservMeta.row_counters WHERE db='%s'", db) ? -EIO : 0;
}
