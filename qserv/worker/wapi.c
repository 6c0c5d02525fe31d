/* wapi.c: the worker's HTTP API (port 25004).
 *
 * Contributions (Qserv replication-system shape, used by loaders):
 *   POST /ingest/file         {transaction_id, table, chunk, overlap, url,
 *                              [database], [charset_name], [fields_terminated_by,
 *                              fields_enclosed_by, fields_escaped_by,
 *                              lines_terminated_by]}
 *   POST /ingest/file-async   same, answers at once with the contribution id
 *   GET  /ingest/file-async/<id>   status of one contribution
 *   POST /ingest/csv?transaction_id=&table=&chunk=&overlap=[&database=...]
 *                             the rows are the request body
 *   POST /ingest/csv-async?...     same, asynchronous
 * Controller -> worker (management):
 *   POST /worker/database {database}          DELETE /worker/database/<db>
 *   POST /worker/table {database, table, schema, is_partitioned, is_director,
 *                       director_key, chunk_id_key, sub_chunk_id_key}
 *   DELETE /worker/table/<db>/<table>
 *   POST /worker/chunk {database, chunk}      place a chunk here
 *   POST /worker/trans {database, transaction_id, action: begin|commit|abort}
 *   POST /worker/publish {database}
 *   GET  /worker/index?database=&table=[&transaction_id=]   TSV key/chunk/subchunk
 *   GET  /worker/count?database=&table=
 *   POST /worker/sqlindex {database, table, index, spec, comment, columns}
 *   POST /worker/subchunks {database, table, chunk, sub_chunks: [...]}
 *   DELETE /worker/subchunks/<db>/<chunk>
 *   GET  /status
 * Every JSON reply carries "success" and "error". */
#include "worker.h"
#include "qserv/common/qhttp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int csv_upload(const char *method, const char *url)
{
	return !strcmp(method, "POST") && (!strcmp(url, "/ingest/csv") || !strcmp(url, "/ingest/csv-async"));
}

int wapi_spool(void *app, const char *method, const char *url, char *ret_path, size_t len)
{
	struct worker *w = app;
	static unsigned seq;
	if (!csv_upload(method, url))
		return 0;
	snprintf(ret_path, len, "%s/upload-%d-%u.csv", w->staging, (int)getpid(),
		 __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
	return 1;
}

static const char *jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static long long jint(json_t *o, const char *k, long long dflt)
{
	json_t *v = json_object_get(o, k);
	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_string(v) && *json_string_value(v))
		return strtoll(json_string_value(v), NULL, 10);
	if (json_is_boolean(v))
		return json_is_true(v);
	return dflt;
}

/* Copies the contribution parameters from a JSON object into c. */
static int contrib_params(struct wcontrib *c, json_t *p, char *err, size_t errlen)
{
	long long tid = jint(p, "transaction_id", 0);
	const char *table = jstr(p, "table");
	if (tid <= 0 || tid > 0x7fffffff || !table) {
		snprintf(err, errlen, "transaction_id and table are required");
		return -EINVAL;
	}
	c->trans_id = (uint32_t)tid;
	snprintf(c->table, sizeof c->table, "%s", table);
	snprintf(c->db, sizeof c->db, "%s", jstr(p, "database") ? jstr(p, "database") : "");
	c->chunk = (int32_t)jint(p, "chunk", -1);
	c->overlap = jint(p, "overlap", 0) != 0;
	const char *url = jstr(p, "url");
	snprintf(c->url, sizeof c->url, "%s", url ? url : "");
	if (jstr(p, "charset_name") && *jstr(p, "charset_name"))
		snprintf(c->charset, sizeof c->charset, "%s", jstr(p, "charset_name"));
	const char *keys[4] = { "fields_terminated_by", "fields_enclosed_by", "fields_escaped_by",
				"lines_terminated_by" };
	char *dst[4] = { c->ft, c->enc, c->esc, c->lt };
	for (int i = 0; i < 4; i++) {
		const char *s = jstr(p, keys[i]);
		if (s && strlen(s) > 2) {
			snprintf(err, errlen, "%s: '%s' is too long", keys[i], s);
			return -EINVAL;
		}
		if (s)
			strcpy(dst[i], s);
		else if (i == 1 || i == 2)
			strcpy(dst[i], i == 2 ? "\\\\" : "");
	}
	return 0;
}

/* The query-string parameters of /ingest/csv as a JSON object. */
static json_t *csv_params(struct qhttp_req *r)
{
	static const char *const keys[] = { "transaction_id", "table", "chunk", "overlap", "database",
					    "charset_name", "fields_terminated_by", "fields_enclosed_by",
					    "fields_escaped_by", "lines_terminated_by" };
	json_t *o = json_object();
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
		const char *v = qhttp_arg(r, keys[i]);
		if (v)
			json_object_set_new(o, keys[i], json_string(v));
	}
	return o;
}

static void reply_contrib(struct qhttp_req *r, struct wcontrib *c)
{
	if (c->status == WC_FAILED)
		qhttp_reply_json(r, c->http_status ? c->http_status : 500,
				 json_pack("{s:i, s:s, s:o}", "success", 0, "error", c->error, "contrib",
					   wcontrib_json(c)));
	else
		qhttp_reply_ok(r, json_pack("{s:o}", "contrib", wcontrib_json(c)));
}

static void contribute(struct worker *w, struct qhttp_req *r, bool csv, bool async)
{
	char err[512];
	json_t *p = csv ? csv_params(r) : qhttp_body_json(r, err, sizeof err);
	if (!p) {
		qhttp_reply_error(r, 400, "%s", err);
		return;
	}
	struct wcontrib *c = worker_contrib_new(w);
	if (!c) {
		json_decref(p);
		qhttp_reply_error(r, 500, "out of memory");
		return;
	}
	int rc = contrib_params(c, p, err, sizeof err);
	json_decref(p);
	if (!rc && !csv && !c->url[0]) {
		snprintf(err, sizeof err, "url is required");
		rc = -EINVAL;
	}
	if (rc) {
		c->status = WC_FAILED;
		snprintf(c->error, sizeof c->error, "%s", err);
		qhttp_reply_error(r, 400, "%s", err);
		return;
	}
	if (csv) {
		/* take the spooled body over from the HTTP layer */
		snprintf(c->url, sizeof c->url, "csv-body:%llu-bytes", r->spooled);
		snprintf(c->spool, sizeof c->spool, "%s.c%u", r->spool_path, c->id);
		if (rename(r->spool_path, c->spool) < 0) {
			c->status = WC_FAILED;
			snprintf(c->error, sizeof c->error, "cannot take the uploaded body: %s", strerror(errno));
			c->spool[0] = '\0';
			qhttp_reply_error(r, 500, "%s", c->error);
			return;
		}
	}
	if (!async) {
		wingest_run(w, c);
		reply_contrib(r, c);
		return;
	}
	if (wingest_start_async(w, c)) {
		c->status = WC_FAILED;
		snprintf(c->error, sizeof c->error, "cannot start the contribution thread");
		if (c->spool[0])
			unlink(c->spool);
		qhttp_reply_error(r, 500, "%s", c->error);
		return;
	}
	qhttp_reply_ok(r, json_pack("{s:o}", "contrib", worker_contrib_snapshot(w, c)));
}

static void contrib_status(struct worker *w, struct qhttp_req *r, const char *id)
{
	struct wcontrib *c = worker_contrib_find(w, (uint32_t)strtoul(id, NULL, 10));
	if (!c)
		qhttp_reply_error(r, 404, "no contribution %s", id);
	else
		qhttp_reply_ok(r, json_pack("{s:o}", "contrib", worker_contrib_snapshot(w, c)));
}

/* Runs a management request that needs a MariaDB connection. */
static MYSQL *conn(struct worker *w, struct qhttp_req *r)
{
	char err[512];
	MYSQL *m = qsql_connect(&w->sql, err, sizeof err);
	if (!m)
		qhttp_reply_error(r, 503, "%s", err);
	return m;
}

static void reply_rc(struct qhttp_req *r, int rc, const char *err, json_t *ok)
{
	if (rc)
		qhttp_reply_error(r, rc == -EINVAL ? 400 : rc == -ENOENT ? 404 : 500, "%s", err);
	else
		qhttp_reply_ok(r, ok);
	if (rc)
		json_decref(ok);
}

static void manage(struct worker *w, struct qhttp_req *r, const char *path)
{
	char err[1024] = "";
	int rc = -ENOENT;
	json_t *body = NULL, *out = NULL;
	bool post = !strcmp(r->method, "POST"), del = !strcmp(r->method, "DELETE");
	if (post && !(body = qhttp_body_json(r, err, sizeof err))) {
		qhttp_reply_error(r, 400, "%s", err);
		return;
	}
	const char *db = body ? jstr(body, "database") : NULL;
	if (post && !strcmp(path, "trans")) {
		const char *action = jstr(body, "action");
		long long id = jint(body, "transaction_id", 0);
		if (!action || id <= 0 || id > 0x7fffffff) {
			snprintf(err, sizeof err, "transaction_id and action are required");
			rc = -EINVAL;
		} else if (!strcmp(action, "begin")) {
			rc = worker_trans_begin(w, (uint32_t)id, db, err, sizeof err);
		} else if (!strcmp(action, "commit") || !strcmp(action, "abort")) {
			rc = worker_trans_end(w, (uint32_t)id, action[0] == 'c', err, sizeof err);
		} else {
			snprintf(err, sizeof err, "unknown action '%s'", action);
			rc = -EINVAL;
		}
		reply_rc(r, rc == -EEXIST ? -EINVAL : rc, err, NULL);
		json_decref(body);
		return;
	}
	MYSQL *m = conn(w, r);
	if (!m) {
		json_decref(body);
		return;
	}
	if (post && !strcmp(path, "database")) {
		rc = wmeta_create_db(m, db, err, sizeof err);
	} else if (del && !strncmp(path, "database/", 9)) {
		rc = wmeta_drop_db(m, path + 9, err, sizeof err);
	} else if (post && !strcmp(path, "table")) {
		rc = wmeta_create_table(m, body, err, sizeof err);
	} else if (del && !strncmp(path, "table/", 6)) {
		char d[65] = "", *slash = strchr(path + 6, '/');
		if (slash && slash - (path + 6) < 65) {
			memcpy(d, path + 6, (size_t)(slash - (path + 6)));
			rc = wmeta_drop_table(m, d, slash + 1, err, sizeof err);
		} else {
			snprintf(err, sizeof err, "use DELETE /worker/table/<database>/<table>");
			rc = -EINVAL;
		}
	} else if (post && !strcmp(path, "chunk")) {
		rc = wmeta_add_chunk(m, db, (int32_t)jint(body, "chunk", -1), err, sizeof err);
	} else if (post && !strcmp(path, "sqlindex")) {
		rc = wmeta_add_index(m, body, err, sizeof err);
	} else if (post && !strcmp(path, "subchunks")) {
		json_t *a = json_object_get(body, "sub_chunks"), *v;
		size_t i, n = json_array_size(a);
		int32_t *sub = calloc(n ? n : 1, sizeof *sub);
		json_array_foreach(a, i, v)
			sub[i] = json_is_integer(v) ? (int32_t)json_integer_value(v) : -1;
		rc = sub ? wsub_build(m, db ? db : "", jstr(body, "table") ? jstr(body, "table") : "",
				      (int32_t)jint(body, "chunk", -1), sub, n, err, sizeof err) : -ENOMEM;
		free(sub);
	} else if (del && !strncmp(path, "subchunks/", 10)) {
		char d[65] = "", *slash = strchr(path + 10, '/');
		rc = -EINVAL;
		snprintf(err, sizeof err, "use DELETE /worker/subchunks/<database>/<chunk>");
		if (slash && slash - (path + 10) < 65) {
			memcpy(d, path + 10, (size_t)(slash - (path + 10)));
			rc = wsub_drop(m, d, atoi(slash + 1), err, sizeof err);
		}
	} else if (post && !strcmp(path, "publish")) {
		rc = wmeta_publish(m, db, err, sizeof err);
	} else if (!strcmp(r->method, "GET") && !strcmp(path, "count")) {
		rc = wmeta_count(m, qhttp_arg(r, "database") ? qhttp_arg(r, "database") : "",
				 qhttp_arg(r, "table") ? qhttp_arg(r, "table") : "", &out, err, sizeof err);
	} else if (!strcmp(r->method, "GET") && !strcmp(path, "index")) {
		char tmp[300];
		snprintf(tmp, sizeof tmp, "%s/index-XXXXXX", w->staging);
		int fd = mkstemp(tmp);
		if (fd < 0) {
			snprintf(err, sizeof err, "mkstemp %s: %s", tmp, strerror(errno));
			rc = -EIO;
		} else {
			unlink(tmp);
			const char *tid = qhttp_arg(r, "transaction_id");
			rc = wmeta_index_export(m, qhttp_arg(r, "database") ? qhttp_arg(r, "database") : "",
						qhttp_arg(r, "table") ? qhttp_arg(r, "table") : "",
						tid ? (uint32_t)strtoul(tid, NULL, 10) : 0, fd, NULL, err, sizeof err);
			if (!rc) {
				off_t size = lseek(fd, 0, SEEK_END);
				lseek(fd, 0, SEEK_SET);
				qhttp_reply_fd(r, 200, fd, size, "text/tab-separated-values");
				fd = -1;
			}
			if (fd >= 0)
				close(fd);
			if (!rc) {
				mysql_close(m);
				json_decref(body);
				return;
			}
		}
	} else {
		snprintf(err, sizeof err, "no such endpoint: %s /worker/%s", r->method, path);
	}
	mysql_close(m);
	json_decref(body);
	reply_rc(r, rc, err, out);
}

void wapi_handle(void *app, struct qhttp_req *r)
{
	struct worker *w = app;
	const char *u = r->url;
	bool post = !strcmp(r->method, "POST");
	if (strcmp(u, "/status") && !qhttp_auth_ok(r, w->auth_key))
		qhttp_reply_error(r, 401, "missing or wrong auth_key");
	else if (post && !strcmp(u, "/ingest/file"))
		contribute(w, r, false, false);
	else if (post && !strcmp(u, "/ingest/file-async"))
		contribute(w, r, false, true);
	else if (post && !strcmp(u, "/ingest/csv"))
		contribute(w, r, true, false);
	else if (post && !strcmp(u, "/ingest/csv-async"))
		contribute(w, r, true, true);
	else if (!strcmp(r->method, "GET") && !strncmp(u, "/ingest/file-async/", 19))
		contrib_status(w, r, u + 19);
	else if (!strncmp(u, "/worker/", 8))
		manage(w, r, u + 8);
	else if (!strcmp(r->method, "GET") && !strcmp(u, "/status"))
		qhttp_reply_ok(r, json_pack("{s:s, s:i}", "worker", w->id, "port", w->port));
	else
		qhttp_reply_error(r, 404, "no such endpoint: %s %s", r->method, u);
}
