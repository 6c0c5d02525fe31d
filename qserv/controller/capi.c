/* capi.c: the controller's HTTP API, in the shape of Qserv's replication
 * system ingest API (so existing loaders keep working):
 *
 *   POST   /ingest/database        {database, num_stripes, num_sub_stripes, overlap,
 *                                   auto_build_secondary_index}
 *   GET    /ingest/database        list
 *   PUT    /ingest/database/<db>   publish (refused while a transaction is open)
 *   DELETE /ingest/database/<db>   (refused while a transaction is open)
 *   POST   /ingest/table           {database, table, is_partitioned, director_table,
 *                                   director_key, latitude_key, longitude_key, schema,
 *                                   [chunk_id_key, sub_chunk_id_key]}
 *   DELETE /ingest/table/<db>/<table>
 *   POST   /ingest/trans           {database, [context]} -> transaction id
 *   PUT    /ingest/trans/<id>?abort=0|1                   commit / abort
 *   GET    /ingest/trans[?database=]  GET /ingest/trans/<id>
 *   POST   /ingest/chunk           {transaction_id | database, chunk} -> location
 *   POST   /ingest/chunks          {transaction_id | database, chunks: [...]}
 *   GET    /ingest/regular[?database= | /<transaction id>]   every worker's location
 *   POST   /ingest/index/secondary {database, [director_table]}  rebuild
 *   POST   /replication/sql/index  {database, table, index, spec, comment, columns[]}
 *                                  a MariaDB index on a table's every chunk table
 *   GET    /ingest/rows/<db>/<table>   row counts summed over the workers
 *   POST   /meta/worker {id, host, ingest_port, query_port}   GET /meta/workers
 *   DELETE /meta/worker/<id>[?force=1]   decommission: 409 while it holds the
 *                                  only replica of a chunk (unless force)
 *   GET    /status
 *   GET    /meta/auth-key-sha256  the admin key's SHA-256 (what workers check
 *                                  a loader's key against; reveals nothing)
 * Replies carry "success" and "error".  Who may call a route is its policy
 * column (capi_policy, enforced by qserv/common/qhttp.h before any body is
 * read): every write is QHTTP_KEY, the admin key only (a node certificate,
 * even the czar's, never calls the admin API); GETs that reveal no data
 * are open.
 *
 * Every database, table, column and index name of a request passes
 * qserv/common/sqlid.h (column types its grammar) before anything is
 * written; an error names the request field and never quotes SQL, the
 * refused value or MariaDB's message: those are logged here, at the
 * boundary (qsql_detail()). */
#include "controller.h"
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
	const char *db = qjson_str(b, "database", NULL);
	int s = (int)qjson_int(b, "num_stripes", 0), ss = (int)qjson_int(b, "num_sub_stripes", 0);
	double ov = qjson_real(b, "overlap", -1);
	int autoidx = qjson_int(b, "auto_build_secondary_index", 1) != 0;
	if (sqlid_check(SQLID_DATABASE, "database", db, err, errlen))
		return -EINVAL;
	if (s < 1 || ss < 1 || ov < 0 || ov > 10) {
		snprintf(err, errlen, "database %s: need num_stripes >= 1, num_sub_stripes >= 1, overlap in [0, 10]", db);
		return -EINVAL;
	}
	struct cdb d;
	int r = cmeta_db(m, db, &d, err, errlen);
	if (r == 0) {
		if (!same_db(&d, s, ss, ov)) {
			snprintf(err, errlen, "database %s already exists with other partitioning parameters", db);
			return -EEXIST;
		}
	} else if (r == -ENOENT) {
		if (qsql_exec(m, err, errlen, "INSERT INTO qservMeta.dbs VALUES ('%s', %d, %d, %.17g, %d, 0)",
			      db, s, ss, ov, autoidx))
			return -EIO;
	} else {
		return r;
	}
	json_t *body = json_pack("{s:s}", "database", db);
	r = ctl_all_workers(m, "POST", "database", body, err, errlen);
	json_decref(body);
	*out = json_pack("{s:{s:s, s:i, s:i, s:f, s:i}}", "database", "name", db, "num_stripes", s,
			 "num_sub_stripes", ss, "overlap", ov, "auto_build_secondary_index", autoidx);
	return r;
}

/* Every name and type of a POST /ingest/table body, before anything is
 * looked up or written: 0 or -EINVAL naming the field. */
static int check_table_names(json_t *b, char *err, size_t errlen)
{
	static const struct { const char *field; enum sqlid_kind kind; } opt[] = {
		{ "director_table", SQLID_TABLE }, { "director_key", SQLID_COLUMN },
		{ "latitude_key", SQLID_COLUMN }, { "longitude_key", SQLID_COLUMN },
		{ "chunk_id_key", SQLID_COLUMN }, { "sub_chunk_id_key", SQLID_COLUMN },
	};
	json_t *schema = json_object_get(b, "schema"), *col;
	size_t i;
	if (sqlid_check(SQLID_DATABASE, "database", qjson_str(b, "database", NULL), err, errlen) ||
	    sqlid_check(SQLID_TABLE, "table", qjson_str(b, "table", NULL), err, errlen))
		return -EINVAL;
	for (i = 0; i < sizeof opt / sizeof *opt; i++) {
		json_t *v = json_object_get(b, opt[i].field);
		if (v && !json_is_string(v)) {
			snprintf(err, errlen, "%s must be a string", opt[i].field);
			return -EINVAL;
		}
		const char *n = json_string_value(v);
		if (n && *n && sqlid_check_n(opt[i].kind, opt[i].field, n, json_string_length(v), err, errlen))
			return -EINVAL;
	}
	if (!json_is_array(schema) || !json_array_size(schema)) {
		snprintf(err, errlen, "schema must be a non-empty array of {name, type}");
		return -EINVAL;
	}
	json_array_foreach(schema, i, col) {
		char field[64], tfield[160], canon[SQLID_TYPE_MAX * 2 + 16];
		json_t *n = json_object_get(col, "name"), *t = json_object_get(col, "type");
		snprintf(field, sizeof field, "schema[%zu].name", i);
		if (!json_is_string(n) || !json_is_string(t)) {
			snprintf(err, errlen, "schema[%zu] must be an object {\"name\": string, \"type\": string}", i);
			return -EINVAL;
		}
		if (sqlid_check_n(SQLID_COLUMN, field, json_string_value(n), json_string_length(n), err, errlen))
			return -EINVAL;
		snprintf(tfield, sizeof tfield, "schema[%zu].type (column %s)", i, json_string_value(n));
		if (strlen(json_string_value(t)) != json_string_length(t)) {
			snprintf(err, errlen, "%s: contains a NUL byte", tfield);
			return -EINVAL;
		}
		if (sqlid_type(tfield, json_string_value(t), canon, sizeof canon, err, errlen))
			return -EINVAL;
	}
	return 0;
}

static int add_table(MYSQL *m, json_t *b, json_t **out, char *err, size_t errlen)
{
	const char *db = qjson_str(b, "database", NULL), *t = qjson_str(b, "table", NULL);
	const char *dt = qjson_str(b, "director_table", ""), *dk = qjson_str(b, "director_key", "");
	const char *lat = qjson_str(b, "latitude_key", ""), *lon = qjson_str(b, "longitude_key", "");
	const char *ck = qjson_str(b, "chunk_id_key", "chunkId"), *sck = qjson_str(b, "sub_chunk_id_key", "subChunkId");
	bool part = qjson_int(b, "is_partitioned", 0) != 0;
	json_t *schema = json_object_get(b, "schema");
	struct cdb d;
	int r = check_table_names(b, err, errlen);
	if (r)
		return r;
	bool director = part && (!*dt || !strcmp(dt, t));
	if ((r = cmeta_db(m, db, &d, err, errlen)))
		return r;
	if (d.published) {
		snprintf(err, errlen, "database %s is published: no new tables", db);
		return -EPERM;
	}
	/* the columns the partitioned layout relies on must be in the schema */
	const char *need[5] = { part ? dk : "", part ? ck : "", part ? sck : "", lat, lon };
	const char *what[5] = { "director_key", "chunk_id_key", "sub_chunk_id_key", "latitude_key", "longitude_key" };
	for (int i = 0; i < 5; i++) {
		bool found = false;
		size_t j;
		json_t *col;
		if (!need[i][0] && part && i < 3) {
			snprintf(err, errlen, "partitioned table %s: %s is required", t, what[i]);
			return -EINVAL;
		}
		if (!need[i][0])
			continue;
		json_array_foreach(schema, j, col)
			found |= !strcmp(qjson_str(col, "name", ""), need[i]);
		if (!found) {
			snprintf(err, errlen, "%s: %s is not a column of table %s", what[i], need[i], t);
			return -EINVAL;
		}
	}
	if (director && (!*lat || !*lon)) {
		snprintf(err, errlen, "director table %s: latitude_key and longitude_key are required", t);
		return -EINVAL;
	}
	if (part && strlen(t) + strlen("FullOverlap_1234567890") > 64) {
		snprintf(err, errlen, "table: a partitioned table's name is at most 42 bytes (its chunk tables"
			 " are named %sFullOverlap_<chunk>)", t);
		return -EINVAL;
	}
	if (director && strlen(db) + 2 + strlen(t) > 64) {
		snprintf(err, errlen, "table: the director index name %s__%s would be longer than 64 bytes", db, t);
		return -EINVAL;
	}
	if (part && !director) {
		long long n = 0;
		if (qsql_int(m, &n, err, errlen, "SELECT COUNT(*) FROM qservMeta.tables WHERE"
			     " db='%s' AND name='%s' AND is_director=1", db, dt) || !n) {
			snprintf(err, errlen, "director_table: %s is not a registered director table of %s", dt, db);
			return -EINVAL;
		}
	}
	char *sj = json_dumps(schema, JSON_COMPACT), *q = sj ? qsql_quote(m, sj) : NULL;
	long long exists = 0;
	r = -EIO;
	if (!q) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (qsql_int(m, &exists, err, errlen, "SELECT COUNT(*) FROM qservMeta.tables WHERE db='%s' AND name='%s'"
		     " AND (schema_json<>'%s' OR is_partitioned<>%d)", db, t, q, part))
		goto out;
	if (exists) {
		snprintf(err, errlen, "table %s.%s already exists with another schema", db, t);
		r = -EEXIST;
		goto out;
	}
	if (qsql_exec(m, err, errlen, "INSERT IGNORE INTO qservMeta.tables VALUES ('%s','%s',%d,%d,'%s','%s',"
		      "'%s','%s','%s','%s','%s',0)", db, t, part, director, director ? t : dt, dk, lat, lon,
		      part ? ck : "", part ? sck : "", q))
		goto out;
	json_t *body = json_pack("{s:s, s:s, s:O, s:i, s:i, s:s, s:s, s:s}", "database", db, "table", t,
				 "schema", schema, "is_partitioned", part, "is_director", director,
				 "director_key", dk, "chunk_id_key", ck, "sub_chunk_id_key", sck);
	r = ctl_all_workers(m, "POST", "table", body, err, errlen);
	json_decref(body);
	*out = json_pack("{s:{s:s, s:s, s:i, s:i}}", "table", "database", db, "name", t, "is_partitioned", part,
			 "is_director", director);
out:
	free(sj);
	free(q);
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
	if (t)
		return qsql_exec(m, err, errlen, "DELETE FROM qservMeta.tables WHERE db='%s' AND name='%s'", db, t);
	if (qsql_exec(m, err, errlen, "DELETE FROM qservMeta.tables WHERE db='%s'", db) ||
	    qsql_exec(m, err, errlen, "DELETE FROM qservMeta.chunks WHERE db='%s'", db) ||
	    qsql_exec(m, err, errlen, "DELETE FROM qservMeta.lost_chunks WHERE db='%s'", db) ||
	    qsql_exec(m, err, errlen, "DELETE FROM qservMeta.trans WHERE db='%s'", db) ||
	    qsql_exec(m, err, errlen, "DELETE FROM qservMeta.dbs WHERE name='%s'", db))
		return -EIO;
	return 0;
}

/* The database a request names directly or through its transaction. */
static int request_db(MYSQL *m, json_t *b, const char *qdb, const char *qtid, char *ret, char *err, size_t errlen)
{
	long long tid = b ? qjson_int(b, "transaction_id", 0) : 0;
	const char *db = b ? qjson_str(b, "database", NULL) : NULL;
	if (!tid && qtid)
		tid = atoll(qtid);
	if (!db)
		db = qdb;
	if (tid > 0) {
		char state[17];
		int r = cmeta_trans(m, tid, ret, state, err, errlen);
		if (r)
			return r;
		if (strcmp(state, "STARTED")) {
			snprintf(err, errlen, "transaction %lld is %s", tid, state);
			return -EPERM;
		}
		return 0;
	}
	if (!db) {
		snprintf(err, errlen, "database or transaction_id is required");
		return -EINVAL;
	}
	if (sqlid_check(SQLID_DATABASE, "database", db, err, errlen))
		return -EINVAL;
	snprintf(ret, 65, "%s", db);
	return 0;
}

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
		json_t *c = NULL;
		snprintf(path, sizeof path, "count?database=%s&table=%s", db, t);
		r = ctl_worker_call(&w[i], "GET", path, NULL, &c, err, errlen);
		if (r)
			break;
		json_int_t wr = (json_int_t)qjson_int(c, "rows", 0);
		total += wr;
		overlap += (json_int_t)qjson_int(c, "overlap_rows", 0);
		json_object_set_new(per, w[i].id, json_integer(wr));
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

/* One request being routed: what the handlers read and fill. */
struct call {
	struct ctl *c;
	MYSQL *m;
	struct qhttp_req *r;
	json_t *b;              /* the JSON body ({} without one) */
	const char *rest;       /* what the pattern's '*' matched, else NULL */
	json_t *out;            /* reply fields on success (freed on error) */
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
	return cpublish_request(k->c, k->m, k->rest, k->b, &k->out, k->err, sizeof k->err);
}

static int db_drop(struct call *k)
{
	return drop(k->m, k->rest, NULL, k->err, sizeof k->err);
}

static int table_add(struct call *k)
{
	return add_table(k->m, k->b, &k->out, k->err, sizeof k->err);
}

static int table_drop(struct call *k)
{
	char db[65];
	const char *t = qhttp_split_db(k->rest, db);
	if (!t) {
		snprintf(k->err, sizeof k->err, "use DELETE /ingest/table/<database>/<table>");
		return -EINVAL;
	}
	return drop(k->m, db, t, k->err, sizeof k->err);
}

static int trans_begin(struct call *k)
{
	long long id = 0;
	const char *d = qjson_str(k->b, "database", NULL);
	int rc = ctrans_begin(k->c, k->m, d, json_object_get(k->b, "context"), &id, k->err, sizeof k->err);
	if (rc)
		return rc;
	json_t *t = cmeta_trans_json(k->m, id, NULL, k->err, sizeof k->err);
	json_t *one = json_array_get(t, 0);
	k->out = json_pack("{s:O, s:{s:{s:O}}}", "transaction", one, "databases", d, "transactions", t);
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

/* GET /ingest/trans (all, or ?database=) and /ingest/trans/<id>. */
static int trans_get(struct call *k)
{
	long long id = k->rest ? atoll(k->rest) : 0;
	const char *d = qhttp_arg(k->r, "database");
	if (d && sqlid_check(SQLID_DATABASE, "database", d, k->err, sizeof k->err))
		return -EINVAL;
	json_t *t = cmeta_trans_json(k->m, id, d, k->err, sizeof k->err);
	int rc = !t ? -EIO : (id && !json_array_size(t)) ? -ENOENT : 0;
	if (rc == -ENOENT)
		snprintf(k->err, sizeof k->err, "no transaction %lld", id);
	if (!rc && id)
		k->out = json_pack("{s:O, s:o}", "transaction", json_array_get(t, 0), "transactions", t);
	else if (!rc)
		k->out = json_pack("{s:o}", "transactions", t);
	else
		json_decref(t);
	return rc;
}

/* The database a chunk request places into: registered, not published. */
static int chunk_db(struct call *k, char db[65])
{
	struct cdb d;
	int rc = request_db(k->m, k->b, NULL, NULL, db, k->err, sizeof k->err);
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
	int rc = chunk_db(k, db);
	if (rc)
		return rc;
	if (!json_object_get(k->b, "chunk")) {
		snprintf(k->err, sizeof k->err, "chunk is required");
		return -EINVAL;
	}
	int32_t ch = (int32_t)qjson_int(k->b, "chunk", -1);
	if ((rc = cplace_chunk(k->c, k->m, db, ch, &w, k->err, sizeof k->err)))
		return rc;
	json_t *loc = cplace_location(&w);
	json_object_set_new(loc, "chunk", json_integer(qjson_int(k->b, "chunk", -1)));
	k->out = json_pack("{s:o}", "location", loc);
	return 0;
}

static int chunks_place(struct call *k)
{
	char db[65];
	struct cworker w;
	int rc = chunk_db(k, db);
	if (rc)
		return rc;
	json_t *chunks = json_object_get(k->b, "chunks"), *v, *a = json_array();
	size_t i;
	json_array_foreach(chunks, i, v) {
		int32_t ch = (int32_t)(json_is_integer(v) ? json_integer_value(v) :
				       json_is_string(v) ? atoi(json_string_value(v)) : -1);
		if ((rc = cplace_chunk(k->c, k->m, db, ch, &w, k->err, sizeof k->err)))
			break;
		json_t *loc = cplace_location(&w);
		json_object_set_new(loc, "chunk", json_integer(ch));
		json_array_append_new(a, loc);
	}
	k->out = json_pack("{s:o}", "location", a);
	return rc;
}

/* GET /ingest/regular, /meta/workers, /status: every worker's location. */
static int worker_locations(struct call *k)
{
	return locations(k->m, &k->out, k->err, sizeof k->err);
}

/* The names of a POST /replication/sql/index body (the workers check the
 * rest again). */
static int check_index_names(json_t *b, char *err, size_t errlen)
{
	json_t *cols = json_object_get(b, "columns"), *c;
	size_t i;
	if (sqlid_check(SQLID_DATABASE, "database", qjson_str(b, "database", NULL), err, errlen) ||
	    sqlid_check(SQLID_TABLE, "table", qjson_str(b, "table", NULL), err, errlen) ||
	    sqlid_check(SQLID_INDEX, "index", qjson_str(b, "index", NULL), err, errlen))
		return -EINVAL;
	if (!json_is_array(cols) || !json_array_size(cols)) {
		snprintf(err, errlen, "columns must be a non-empty array of {column, length, ascending}");
		return -EINVAL;
	}
	json_array_foreach(cols, i, c) {
		char field[48];
		snprintf(field, sizeof field, "columns[%zu].column", i);
		if (sqlid_check(SQLID_COLUMN, field, qjson_str(c, "column", NULL), err, errlen))
			return -EINVAL;
	}
	return 0;
}

static int sql_index(struct call *k)
{
	const char *d = qjson_str(k->b, "database", ""), *t = qjson_str(k->b, "table", "");
	long long n = 0;
	if (check_index_names(k->b, k->err, sizeof k->err))
		return -EINVAL;
	if (qsql_int(k->m, &n, k->err, sizeof k->err,
		     "SELECT COUNT(*) FROM qservMeta.tables WHERE db='%s' AND name='%s'", d, t))
		return -EIO;
	if (!n) {
		snprintf(k->err, sizeof k->err, "table %s.%s is not registered", d, t);
		return -ENOENT;
	}
	return ctl_all_workers(k->m, "POST", "sqlindex", k->b, k->err, sizeof k->err);
}

static int index_rebuild(struct call *k)
{
	char db[65];
	const char *dt = qjson_str(k->b, "director_table", NULL);
	int rc = request_db(k->m, k->b, NULL, NULL, db, k->err, sizeof k->err);
	if (rc)
		return rc;
	if (dt && *dt && sqlid_check(SQLID_TABLE, "director_table", dt, k->err, sizeof k->err))
		return -EINVAL;
	return cindex_rebuild(k->c, k->m, db, qjson_str(k->b, "director_table", NULL), &k->out,
			      k->err, sizeof k->err);
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

static int worker_add(struct call *k)
{
	struct cworker w = { 0 };
	const char *id = qjson_str(k->b, "id", ""), *host = qjson_str(k->b, "host", "");
	/* too long is refused, never cut to something valid */
	if (strlen(id) >= sizeof w.id || strlen(host) >= sizeof w.host) {
		snprintf(k->err, sizeof k->err, "%s: too long", strlen(id) >= sizeof w.id ? "id" : "host");
		return -EINVAL;
	}
	snprintf(w.id, sizeof w.id, "%s", id);
	snprintf(w.host, sizeof w.host, "%s", host);
	w.ingest_port = (int)qjson_int(k->b, "ingest_port", 25004);
	w.query_port = (int)qjson_int(k->b, "query_port", 0);
	return cmeta_add_worker(k->m, &w, k->err, sizeof k->err);
}

static int worker_remove(struct call *k)
{
	const char *f = qhttp_arg(k->r, "force");
	return cmeta_remove_worker(k->c, k->m, k->rest, f && atoi(f) != 0, &k->out, k->err, sizeof k->err);
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
	{ "POST", "/ingest/trans", trans_begin, KEY },
	{ "PUT", "/ingest/trans/*", trans_end, KEY },
	{ "GET", "/ingest/trans", trans_get, OPEN },
	{ "GET", "/ingest/trans/*", trans_get, OPEN },
	{ "POST", "/ingest/chunk", chunk_place, KEY },
	{ "POST", "/ingest/chunks", chunks_place, KEY },
	{ "GET", "/ingest/regular", worker_locations, OPEN },
	{ "GET", "/ingest/regular/*", worker_locations, OPEN },
	{ "POST", "/replication/sql/index", sql_index, KEY },
	{ "POST", "/ingest/index/secondary", index_rebuild, KEY },
	{ "GET", "/ingest/rows/*", table_rows, OPEN },
	{ "POST", "/meta/worker", worker_add, KEY },
	{ "DELETE", "/meta/worker/*", worker_remove, KEY },
	{ "GET", "/meta/workers", worker_locations, OPEN },
	{ "GET", "/meta/auth-key-sha256", key_sha256, OPEN },
	{ "GET", "/status", worker_locations, OPEN },
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
	reply(r, rc, k.err, k.out);
}

void capi_handle(void *app, struct qhttp_req *r)
{
	struct ctl *c = app;
	char err[1024];
	json_t *b = NULL;
	if (!strcmp(r->method, "POST") || !strcmp(r->method, "PUT")) {
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
