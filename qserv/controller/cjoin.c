/* cjoin.c: a worker joining a cluster that holds databases already.
 *
 * POST /meta/worker registers a worker (cmeta_add_worker); when the
 * cluster has databases, the new worker must look like the others before
 * it can take chunks or answer a query that joins a regular table:
 * cjoin_worker gives it, in order, every database (POST /worker/database)
 * and every registered table with its schema (POST /worker/table, rebuilt
 * from qservMeta.tables) and the ingest configuration it applies (POST
 * /worker/config, when one is set: cconfig.c), then, for each published database, a copy of its
 * regular tables from another worker (POST /worker/replica {database,
 * regular: true, source_id, source_url}: the same pull over mutual TLS,
 * checksums compared, swapped in at once, as a chunk copy; wcopy_in.c) and
 * the publish (POST /worker/publish: the dummy chunk); the default
 * indexes go on its prototypes right after the tables (csqlidx.c: chunks
 * copied to it, and the dummy chunk, inherit them).  Every step is
 * idempotent, so a worker registered again (a restarted agent) goes
 * through it harmlessly; a failure names the step and leaves the worker
 * registered: registering it again retries.  Chunks reach it later, by
 * rebalancing and healing (crepl.c), never here.
 *
 * Not carried over: other MariaDB indexes added by POST
 * /replication/sql/index after the tables were made (qservMeta does not
 * record them). */
#include "controller.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* POST /worker/table for every table of db, directors first (a child's
 * director must exist on the worker). */
static int join_tables(const struct cworker *w, MYSQL *m, const char *db, char *err, size_t errlen)
{
	MYSQL_RES *res = qsql_query(m, err, errlen,
		"SELECT name, is_partitioned, is_director, director_key, chunk_id_key, sub_chunk_id_key, schema_json"
		" FROM qservMeta.tables WHERE db='%s' ORDER BY is_director DESC, name", db);
	if (!res)
		return -EIO;
	MYSQL_ROW row;
	int r = 0;
	while (!r && (row = mysql_fetch_row(res))) {
		json_t *schema = json_loads(row[6], 0, NULL);
		json_t *body = schema ? json_pack("{s:s, s:s, s:O, s:i, s:i, s:s, s:s, s:s}", "database", db,
						  "table", row[0], "schema", schema, "is_partitioned", atoi(row[1]),
						  "is_director", atoi(row[2]), "director_key", row[3],
						  "chunk_id_key", row[4], "sub_chunk_id_key", row[5]) : NULL;
		if (!body) {
			snprintf(err, errlen, "table %s.%s: its registered schema does not parse", db, row[0]);
			r = -EIO;
		} else {
			r = ctl_worker_call(w, "POST", "table", body, NULL, err, errlen);
		}
		json_decref(body);
		json_decref(schema);
	}
	mysql_free_result(res);
	return r;
}

/* Another enabled worker than w (the regular tables' source): 0, or
 * -ENOENT when w is the only one. */
static int other_worker(MYSQL *m, const struct cworker *w, struct cworker *ret, char *err, size_t errlen)
{
	struct cworker *v;
	size_t n;
	int r = cmeta_workers(m, &v, &n, err, errlen);
	if (r)
		return r;
	r = -ENOENT;
	for (size_t i = 0; r && i < n; i++)
		if (strcmp(v[i].id, w->id)) {
			*ret = v[i];
			r = 0;
		}
	free(v);
	return r;
}

/* The regular tables of published db copied from another worker, then
 * the publish on w. */
static int join_published(struct ctl *c, const struct cworker *w, MYSQL *m, const char *db, char *err,
			  size_t errlen)
{
	struct cworker s;
	long long regular = 0;
	int r = qsql_int(m, &regular, err, errlen,
			 "SELECT COUNT(*) FROM qservMeta.tables WHERE db='%s' AND is_partitioned=0", db) ? -EIO : 0;
	if (!r && regular && (r = other_worker(m, w, &s, err, errlen)) == -ENOENT)
		r = regular = 0;   /* no other worker: nothing to copy from (nor anything loaded) */
	if (!r && regular) {
		char url[300];
		snprintf(url, sizeof url, "%s://%s:%d", c->tls ? "https" : "http", s.host, s.ingest_port);
		json_t *body = json_pack("{s:s, s:b, s:s, s:s}", "database", db, "regular", 1, "source_id", s.id,
					 "source_url", url);
		r = body ? ctl_worker_call(w, "POST", "replica", body, NULL, err, errlen) : -ENOMEM;
		json_decref(body);
	}
	if (!r) {
		json_t *body = json_pack("{s:s}", "database", db);
		r = ctl_worker_call(w, "POST", "publish", body, NULL, err, errlen);
		json_decref(body);
	}
	return r;
}

/* Database db (published or not) made on w as on the others. */
static int join_db(struct ctl *c, MYSQL *m, const struct cworker *w, const char *db, bool published, char *e,
		   size_t elen)
{
	json_t *body = json_pack("{s:s}", "database", db);
	int r = ctl_worker_call(w, "POST", "database", body, NULL, e, elen);
	json_decref(body);
	if (!r)
		r = join_tables(w, m, db, e, elen);
	/* the default indexes on its prototypes at once, before the slower
	 * steps: the chunks copied to it later (a rebalance may start before
	 * the join ends) and its dummy chunk are made like them */
	if (!r)
		r = csqlidx_defaults(c, m, db, NULL, w, e, elen);
	if (!r)
		r = cconfig_apply(w, m, db, e, elen);
	if (!r && published)
		r = join_published(c, w, m, db, e, elen);
	return r;
}

int cjoin_database(struct ctl *c, MYSQL *m, const struct cworker *w, const char *db, char *err, size_t errlen)
{
	struct cdb d;
	int r = cmeta_db(m, db, &d, err, errlen);
	return r ? r : join_db(c, m, w, db, d.published, err, errlen);
}

int cjoin_worker(struct ctl *c, MYSQL *m, const struct cworker *w, json_t **ret, char *err, size_t errlen)
{
	MYSQL_RES *res = qsql_query(m, err, errlen, "SELECT name, published FROM qservMeta.dbs ORDER BY name");
	if (!res)
		return -EIO;
	MYSQL_ROW row;
	int r = 0, ndb = 0;
	char e[768] = "";
	while (!r && (row = mysql_fetch_row(res))) {
		r = join_db(c, m, w, row[0], atoi(row[1]) != 0, e, sizeof e);
		if (r)
			snprintf(err, errlen, "worker %s registered, but giving it database %s failed (register it"
				 " again to retry): %s", w->id, row[0], e);
		ndb++;
	}
	mysql_free_result(res);
	if (!r && ndb)
		log_info("worker %s joined: %d database(s) and their tables made there", w->id, ndb);
	if (!r)
		*ret = json_pack("{s:s, s:i}", "worker", w->id, "databases", ndb);
	return r;
}
