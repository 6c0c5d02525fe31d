/* csqlidx.c: MariaDB indexes of the catalog's tables on every worker,
 * Qserv's /replication/sql/index (each worker's part: qserv/worker/windex.c).
 *
 *   POST   /replication/sql/index  {database, table, index, spec, comment, columns[, overlap]}
 *   GET    /replication/sql/index/<db>/<table>[?overlap=0|1]
 *          {status: {database, table, overlap, indexes: [{name, unique, type,
 *           comment, status, num_replicas_total, num_replicas, columns: [...],
 *           workers: [{worker, num_replicas_total, num_replicas, status}]}]}}
 *   DELETE /replication/sql/index  {database, table, index[, overlap]}
 *
 * Status as Qserv's: COMPLETE (every chunk table, or every replica of a
 * regular table, on every worker has the index, one definition),
 * INCOMPLETE (some lack it), INCONSISTENT (one name, two definitions).
 *
 * The default index (csqlidx_defaults): at publish, before qservMeta says
 * published, every partitioned table gets a plain index on its director
 * key (a director's objectId, a child's foreign key to its director, a
 * match table's two director keys): `qserv_director_key` (and
 * `qserv_director_key2`), on its prototype, every chunk table, the dummy
 * chunk, a director's FullOverlap tables too, on every worker; where the
 * index exists already nothing is rebuilt.  Chunk tables made later LIKE
 * the prototype (a heal's or a rebalance's copy) carry it; a joining
 * worker gets it with its published databases (cjoin.c).  Off with
 * --no-default-index.  Trade-off: built after the loads (MyISAM sorts the
 * keys once per table) rather than kept during them; a point lookup then
 * reads a few index blocks instead of the whole chunk table. */
#include "controller.h"
#include "creq.h"
#include "qserv/common/sqlid.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int registered(MYSQL *m, const char *db, const char *t, char *err, size_t errlen)
{
	long long n = 0;
	if (qsql_int(m, &n, err, errlen, "SELECT COUNT(*) FROM qservMeta.tables WHERE db='%s' AND name='%s'", db, t))
		return -EIO;
	if (!n) {
		snprintf(err, errlen, "table %s.%s is not registered", db, t);
		return -ENOENT;
	}
	return 0;
}

int csqlidx_post(MYSQL *m, json_t *b, char *err, size_t errlen)
{
	struct creq_index q;
	if (creq_index(b, &q, err, errlen))
		return -EINVAL;
	int r = registered(m, q.db, q.table, err, errlen);
	return r ? r : ctl_all_workers(m, "POST", "sqlindex", b, err, errlen);
}

int csqlidx_delete(MYSQL *m, json_t *b, json_t **ret, char *err, size_t errlen)
{
	struct creq_index q;
	bool ov = false;
	char path[300];
	if (creq_index_drop(b, &q, &ov, err, errlen))
		return -EINVAL;
	int r = registered(m, q.db, q.table, err, errlen);
	if (r)
		return r;
	snprintf(path, sizeof path, "sqlindex?database=%s&table=%s&index=%s&overlap=%d", q.db, q.table, q.index, ov);
	r = ctl_all_workers(m, "DELETE", path, NULL, err, errlen);
	if (!r)
		*ret = json_pack("{s:s, s:s, s:s, s:i}", "database", q.db, "table", q.table, "index", q.index,
				 "overlap", ov);
	return r;
}

static const char *status_of(long long have, long long total, bool consistent)
{
	return !consistent ? "INCONSISTENT" : have >= total ? "COMPLETE" : "INCOMPLETE";
}

/* Merges one worker's reply (windex_get) into agg {name: {..., def,
 * num_replicas, consistent, workers}}; total: that worker's table count. */
static void merge_worker(json_t *agg, const char *wid, json_t *wr)
{
	long long total = json_integer_value(json_object_get(wr, "tables"));
	const char *name;
	json_t *e;
	json_object_foreach(json_object_get(wr, "indexes"), name, e) {
		json_t *a = json_object_get(agg, name);
		long long have = json_integer_value(json_object_get(e, "tables"));
		bool cons = json_is_true(json_object_get(e, "consistent"));
		if (!a) {
			a = json_pack("{s:s, s:O, s:O, s:O, s:O, s:O, s:I, s:b, s:[]}", "name", name, "unique",
				      json_object_get(e, "unique"), "type", json_object_get(e, "type"), "comment",
				      json_object_get(e, "comment"), "columns", json_object_get(e, "columns"), "def",
				      json_object_get(e, "def"), "num_replicas", (json_int_t)0, "consistent", 1, "workers");
			if (!a)
				continue;   /* a reply without a field: not counted */
			json_object_set_new(agg, name, a);
		}
		if (strcmp(json_string_value(json_object_get(a, "def")), json_string_value(json_object_get(e, "def"))))
			cons = false;
		if (!cons)
			json_object_set_new(a, "consistent", json_false());
		json_object_set_new(a, "num_replicas",
				    json_integer(json_integer_value(json_object_get(a, "num_replicas")) + have));
		json_array_append_new(json_object_get(a, "workers"),
				      json_pack("{s:s, s:I, s:I, s:s}", "worker", wid, "num_replicas_total",
						(json_int_t)total, "num_replicas", (json_int_t)have, "status",
						status_of(have, total, cons)));
	}
}

/* agg -> Qserv's array, with the totals over every worker. */
static json_t *indexes_array(json_t *agg, long long total)
{
	json_t *out = json_array(), *a;
	const char *name;
	json_object_foreach(agg, name, a) {
		long long have = json_integer_value(json_object_get(a, "num_replicas"));
		json_object_set_new(a, "num_replicas_total", json_integer(total));
		json_object_set_new(a, "status",
				    json_string(status_of(have, total, json_is_true(json_object_get(a, "consistent")))));
		json_object_del(a, "def");
		json_object_del(a, "consistent");
		json_array_append(out, a);
	}
	return out;
}

int csqlidx_get(MYSQL *m, const char *db, const char *t, bool ov, json_t **ret, char *err, size_t errlen)
{
	struct cworker *w;
	size_t n;
	char path[300];
	long long total = 0;
	if (sqlid_check(SQLID_DATABASE, "database", db, err, errlen) || sqlid_check(SQLID_TABLE, "table", t, err, errlen))
		return -EINVAL;
	int r = registered(m, db, t, err, errlen);
	if (r || (r = cmeta_workers(m, &w, &n, err, errlen)))
		return r;
	snprintf(path, sizeof path, "sqlindex?database=%s&table=%s&overlap=%d", db, t, ov);
	json_t *agg = json_object();
	for (size_t i = 0; !r && i < n; i++) {
		json_t *wr = NULL;
		if (!(r = ctl_worker_call(&w[i], "GET", path, NULL, &wr, err, errlen))) {
			total += json_integer_value(json_object_get(wr, "tables"));
			merge_worker(agg, w[i].id, wr);
		}
		json_decref(wr);
	}
	free(w);
	if (!r)
		*ret = json_pack("{s:{s:s, s:s, s:i, s:o}}", "status", "database", db, "table", t, "overlap", ov,
				 "indexes", indexes_array(agg, total));
	json_decref(agg);
	return r;
}

/* One default index on w (NULL: every enabled worker). */
static int default_one(const struct cworker *w, MYSQL *m, const char *db, const char *t, const char *index,
		       const char *col, bool ov, char *err, size_t errlen)
{
	json_t *b = json_pack("{s:s, s:s, s:s, s:s, s:s, s:[{s:s}], s:b}", "database", db, "table", t, "index", index,
			      "spec", "DEFAULT", "comment", "the default index on the director key (qserv-node)",
			      "columns", "column", col, "overlap", ov);
	if (!b) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int r = w ? ctl_worker_call(w, "POST", "sqlindex", b, NULL, err, errlen) :
		    ctl_all_workers(m, "POST", "sqlindex", b, err, errlen);
	json_decref(b);
	return r;
}

int csqlidx_defaults(const struct ctl *c, MYSQL *m, const char *db, const struct cworker *w, char *err,
		     size_t errlen)
{
	if (c->no_default_index)
		return 0;
	MYSQL_RES *res = qsql_query(m, err, errlen,
		"SELECT name, is_director, director_key, director_key2 FROM qservMeta.tables"
		" WHERE db='%s' AND is_partitioned=1 ORDER BY name", db);
	if (!res)
		return -EIO;
	MYSQL_ROW row;
	int r = 0;
	while (!r && (row = mysql_fetch_row(res))) {
		bool dir = atoi(row[1]) != 0;
		if (row[2][0] && sqlid_ok(row[2]))
			r = default_one(w, m, db, row[0], "qserv_director_key", row[2], dir, err, errlen);
		if (!r && row[3] && row[3][0] && sqlid_ok(row[3]))
			r = default_one(w, m, db, row[0], "qserv_director_key2", row[3], false, err, errlen);
	}
	mysql_free_result(res);
	return r;
}
