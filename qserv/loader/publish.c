/* publish.c: the controller-side steps around loading: registering the
 * database and its tables, publishing (director index when the database
 * does not build it at commit, the table indexes the dataset lists), and
 * validation: every table's rows at the workers against the input (a
 * regular table must be a full copy on every worker; a director's overlap
 * rows count too).  Results arrive as events; a mismatch fails the run. */
#include "internal.h"

#include "errbuf.h"
#include "qserv/common/qjson.h"

#include <errno.h>
#include <string.h>

int ldr_is_published(struct ing *g, bool *ret, char *err, size_t errlen)
{
	json_t *rep = NULL;
	int r = ldr_api(g, "GET", "/ingest/database", NULL, &rep, err, errlen);
	if (r)
		return r;
	size_t i;
	json_t *d;
	*ret = false;
	json_array_foreach(json_object_get(rep, "databases"), i, d)
		if (!strcmp(qjson_str(d, "database", ""), g->db))
			*ret = qjson_int(d, "is_published", 0) != 0;
	json_decref(rep);
	return 0;
}

int ldr_register_all(struct ing *g, char *err, size_t errlen)
{
	int r = ldr_api(g, "POST", "/ingest/database", g->dbjson, NULL, err, errlen);
	for (size_t i = 0; !r && i < g->nt; i++)
		r = ldr_api(g, "POST", "/ingest/table", g->t[i].json, NULL, err, errlen);
	return r;
}

/* The table indexes metadata.json lists ("indexes": ["idx_T.json"], each
 * a POST /replication/sql/index request); idempotent. */
static int create_indexes(struct ing *g, char *err, size_t errlen)
{
	size_t i, k;
	json_t *e, *f;
	json_array_foreach(json_object_get(g->meta, "tables"), i, e) {
		json_array_foreach(json_object_get(e, "indexes"), k, f) {
			if (!json_is_string(f))
				continue;
			json_t *ix = ldr_load_json(g->dir, json_string_value(f), err, errlen);
			if (!ix)
				return -EINVAL;
			json_object_set_new(ix, "database", json_string(g->db));
			int r = ldr_api(g, "POST", "/replication/sql/index", ix, NULL, err, errlen);
			json_decref(ix);
			if (r)
				return r;
		}
	}
	return 0;
}

int ldr_publish(struct ing *g, char *err, size_t errlen)
{
	char path[100];
	snprintf(path, sizeof path, "/ingest/database/%s", g->db);
	int r = ldr_api(g, "PUT", path, NULL, NULL, err, errlen);
	if (r)
		return r;
	if (!qjson_int(g->dbjson, "auto_build_secondary_index", 1)) {
		json_t *b = json_pack("{s:s}", "database", g->db);
		r = ldr_api(g, "POST", "/ingest/index/secondary", b, NULL, err, errlen);
		json_decref(b);
		if (r)
			return r;
	}
	if ((r = create_indexes(g, err, errlen)))
		return r;
	ldr_emit(g, &(struct qloader_event){ .kind = QLOADER_EV_PUBLISHED, .db = g->db });
	return 0;
}

/* The records of a job's input file, read with its CSV dialect. */
static int count_input(struct ing *g, struct job *j, unsigned long long *ret, char *err, size_t errlen)
{
	struct csvd d;
	char e[1024] = "";
	int r = ldr_dialect(g, j, &d, e, sizeof e);
	if (!r)
		r = ldr_count_rows(j->path, &d, (unsigned)json_array_size(json_object_get(g->t[j->t].json, "schema")),
				   ret, e, sizeof e);
	if (r)
		errbuf_printf(err, errlen, "counting the records of %s: %s", j->rel, *e ? e : strerror(-r));
	return r;
}

/* The rows every table should hold, from the input files' records or from
 * the rows the workers reported loading. */
static int expected_rows(struct ing *g, char *err, size_t errlen)
{
	for (size_t i = 0; i < g->nj; i++) {
		unsigned long long n = 0;
		int r = 0;
		if (g->o.validate == QLOADER_VALIDATE_LOADED && g->j[i].loaded_rows >= 0)
			n = (unsigned long long)g->j[i].loaded_rows;
		else
			r = count_input(g, &g->j[i], &n, err, errlen);
		if (r)
			return r;
		if (g->j[i].overlap)
			g->t[g->j[i].t].expect_overlap += n;
		else
			g->t[g->j[i].t].expect_rows += n;
	}
	return 0;
}

/* A regular table: a full copy on every worker, not just the right total. */
static bool every_copy_whole(struct ing *g, struct tbl *t, json_t *rep)
{
	const char *wid;
	json_t *n;
	bool ok = true;
	json_object_foreach(json_object_get(rep, "workers"), wid, n) {
		if ((unsigned long long)json_integer_value(n) != t->expect_rows) {
			ldr_emit(g, &(struct qloader_event){ .kind = QLOADER_EV_WORKER_ROWS, .db = g->db,
							     .table = t->name, .worker = wid,
							     .rows = (long long)json_integer_value(n),
							     .want = t->expect_rows });
			ok = false;
		}
	}
	return ok;
}

/* One table's rows at the workers against the input: *ret_ok. */
static int check_table(struct ing *g, struct tbl *t, size_t nworkers, bool *ret_ok, char *err, size_t errlen)
{
	char path[200];
	json_t *rep = NULL;
	snprintf(path, sizeof path, "/ingest/rows/%s/%s", g->db, t->name);
	int r = ldr_api(g, "GET", path, NULL, &rep, err, errlen);
	if (r)
		return r;
	unsigned long long rows = (unsigned long long)qjson_int(rep, "rows", -1);
	unsigned long long orows = (unsigned long long)qjson_int(rep, "overlap_rows", -1);
	unsigned long long want = t->partitioned ? t->expect_rows : t->expect_rows * nworkers;
	bool ok = rows == want && (!t->director || orows == t->expect_overlap);
	if (!t->partitioned && !every_copy_whole(g, t, rep))
		ok = false;
	json_decref(rep);
	ldr_emit(g, &(struct qloader_event){ .kind = QLOADER_EV_TABLE_ROWS, .db = g->db, .table = t->name,
					     .rows = (long long)rows, .want = want,
					     .partitioned = t->partitioned, .director = t->director, .ok = ok });
	if (t->director && orows != t->expect_overlap)
		ldr_emit(g, &(struct qloader_event){ .kind = QLOADER_EV_OVERLAP_ROWS, .db = g->db,
						     .table = t->name, .rows = (long long)orows,
						     .want = t->expect_overlap });
	*ret_ok = ok;
	return 0;
}

int ldr_validate(struct ing *g, char *err, size_t errlen)
{
	if (g->o.validate == QLOADER_VALIDATE_NONE) {
		ldr_emit(g, &(struct qloader_event){ .kind = QLOADER_EV_NOT_VALIDATED });
		return 0;
	}
	int r = expected_rows(g, err, errlen);
	if (r)
		return r;
	size_t nworkers = json_array_size(g->regular);
	int bad = 0;
	for (size_t i = 0; i < g->nt; i++) {
		bool ok;
		if ((r = check_table(g, &g->t[i], nworkers, &ok, err, errlen)))
			return r;
		bad += !ok;
	}
	if (bad) {
		errbuf_printf(err, errlen, "%d table(s) do not hold the input's row count", bad);
		return -EIO;
	}
	return 0;
}
