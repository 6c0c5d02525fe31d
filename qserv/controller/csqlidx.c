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
 * The default index (csqlidx_defaults): when a partitioned table is
 * registered, on its prototype on every worker (so its chunk tables are
 * created with it, and MyISAM builds it by sorting the keys at the end of
 * the first LOAD DATA into each: measured ~2.6 ms a table against ~6 ms
 * for an ALTER TABLE afterwards, which copies the data file); and at
 * publish, before qservMeta says published, where it is still missing
 * (tables made before, or under --no-default-index then): every
 * partitioned table gets a plain index on its director
 * key (a director's objectId, a child's foreign key to its director, a
 * match table's two director keys): `qserv_director_key` (and
 * `qserv_director_key2`), and a director also `qserv_sub_chunk` on its
 * sub-chunk key (a near-neighbour join reads one sub-chunk of a chunk
 * table and of its overlap by it, plan_rewrite.c), on its prototype, every
 * chunk table, the dummy
 * chunk, a director's FullOverlap tables too, on every worker (all
 * workers at once, a thread each); where the index exists already nothing
 * is rebuilt.  Chunk tables made later LIKE
 * the prototype (a heal's or a rebalance's copy) carry it; a joining
 * worker gets it with its published databases (cjoin.c).  Off with
 * --no-default-index.  A point lookup then reads a few index blocks
 * instead of the whole chunk table. */
#include "controller.h"
#include "creq.h"
#include "qserv/common/sqlid.h"

#include <errno.h>
#include <pthread.h>
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

/* The POST /worker/sqlindex bodies of db's default indexes (of table t
 * only unless NULL), appended to a: the director keys, and a director's
 * sub-chunk key. */
static int default_bodies(MYSQL *m, const char *db, const char *t, json_t *a, char *err, size_t errlen)
{
	if (t && sqlid_check(SQLID_TABLE, "table", t, err, errlen))
		return -EINVAL;
	MYSQL_RES *res = qsql_query(m, err, errlen,
		"SELECT name, is_director, director_key, director_key2, sub_chunk_id_key FROM qservMeta.tables"
		" WHERE db='%s' AND is_partitioned=1%s%s%s ORDER BY name", db, t ? " AND name='" : "", t ? t : "",
		t ? "'" : "");
	if (!res)
		return -EIO;
	MYSQL_ROW row;
	while ((row = mysql_fetch_row(res))) {
		const char *keys[2] = { row[2], row[3] }, *names[2] = { "qserv_director_key", "qserv_director_key2" };
		for (int k = 0; k < 2; k++) {
			if (!keys[k] || !keys[k][0] || !sqlid_ok(keys[k]))
				continue;
			json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:s, s:[{s:s}], s:b}", "database", db,
				"table", row[0], "index", names[k], "spec", "DEFAULT", "comment",
				"the default index on the director key (qserv-node)", "columns", "column", keys[k],
				"overlap", k == 0 && atoi(row[1]) != 0));
		}
		if (atoi(row[1]) && row[4] && row[4][0] && sqlid_ok(row[4]))
			json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:s, s:[{s:s}], s:b}", "database", db,
				"table", row[0], "index", "qserv_sub_chunk", "spec", "DEFAULT", "comment",
				"the default index on the sub-chunk key (qserv-node)", "columns", "column", row[4],
				"overlap", 1));
	}
	mysql_free_result(res);
	return 0;
}

/* One worker's share: every body, in order (a thread of csqlidx_defaults). */
struct dflt_job {
	const struct cworker *w;
	json_t *bodies;
	int rc;
	char err[768];
};

static void *dflt_run(void *arg)
{
	struct dflt_job *j = arg;
	size_t i;
	json_t *b;
	json_array_foreach(j->bodies, i, b) {
		if ((j->rc = ctl_worker_call(j->w, "POST", "sqlindex", b, NULL, j->err, sizeof j->err)))
			break;
	}
	return NULL;
}

/* Every worker at once (one thread each; each worker's ALTERs run one after
 * the other on its own MariaDB): the publish waits for the slowest worker,
 * not for their sum.  No lock is held; every call is bounded by qhttpc. */
static int defaults_all(MYSQL *m, json_t *bodies, char *err, size_t errlen)
{
	struct cworker *v;
	size_t n;
	int r = cmeta_workers(m, &v, &n, err, errlen);
	if (r)
		return r;
	struct dflt_job *j = calloc(n ? n : 1, sizeof *j);
	pthread_t *t = calloc(n ? n : 1, sizeof *t);
	bool *started = calloc(n ? n : 1, sizeof *started);
	if (!j || !t || !started) {
		snprintf(err, errlen, "out of memory");
		r = -ENOMEM;
		n = 0;
	}
	for (size_t i = 0; i < n; i++) {
		j[i] = (struct dflt_job){ .w = &v[i], .bodies = bodies };
		started[i] = pthread_create(&t[i], NULL, dflt_run, &j[i]) == 0;
		if (!started[i])
			dflt_run(&j[i]);   /* no thread: here, in turn */
	}
	for (size_t i = 0; i < n; i++) {
		if (started[i])
			pthread_join(t[i], NULL);
		if (j[i].rc && !r) {
			r = j[i].rc;
			snprintf(err, errlen, "%s", j[i].err);
		}
	}
	free(started);
	free(t);
	free(j);
	free(v);
	return r;
}

int csqlidx_defaults(const struct ctl *c, MYSQL *m, const char *db, const char *table, const struct cworker *w,
		     char *err, size_t errlen)
{
	if (c->no_default_index)
		return 0;
	json_t *bodies = json_array();
	int r = default_bodies(m, db, table, bodies, err, errlen);
	if (!r && w) {
		struct dflt_job j = { .w = w, .bodies = bodies };
		dflt_run(&j);
		if ((r = j.rc))
			snprintf(err, errlen, "%s", j.err);
	} else if (!r && json_array_size(bodies)) {
		r = defaults_all(m, bodies, err, errlen);
	}
	json_decref(bodies);
	return r;
}
