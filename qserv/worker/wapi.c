/* wapi.c: the worker's HTTP API (port 25004).
 *
 * Contributions (Qserv replication-system shape, used by loaders):
 *   POST /ingest/file         {transaction_id, table, chunk, overlap, url,
 *                              [database], [charset_name], [fields_terminated_by,
 *                              fields_enclosed_by, fields_escaped_by,
 *                              lines_terminated_by]}
 *   POST /ingest/file-async   same, answers at once with the contribution id
 *   GET  /ingest/file-async/<id>   status of one contribution
 *   GET  /ingest/file-async/trans/<id>   {contribs: [...]} of a transaction
 *   PUT  /ingest/file/<id>, PUT /ingest/file-async/<id>   retry a failed
 *                             contribution (Qserv's rules: wingest_retry)
 *   POST /ingest/csv          multipart/form-data as Qserv: the fields
 *                             (transaction_id, table, chunk, overlap, ...), then
 *                             one file part (mpart_form)
 *   POST /ingest/csv?transaction_id=&table=&chunk=&overlap=[&database=...]
 *                             extension: the rows are the raw request body
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
 *   POST /worker/config {database, TIMEOUT, ASYNC_PROC_LIMIT}   applied ingest keys
 *   GET  /worker/contribs?transaction_id= | ?id= [&warnings=1]   contribution descriptors
 *   POST /worker/sqlindex {database, table, index, spec, comment, columns}
 *   GET  /worker/sqlindex?database=&table=[&overlap=]   its indexes (windex.c)
 *   DELETE /worker/sqlindex?database=&table=&index=[&overlap=]
 *   POST /worker/subchunks {database, table, chunk, sub_chunks: [...]}
 *   DELETE /worker/subchunks/<db>/<chunk>
 *   POST /worker/replica {database, chunk | regular: true, source_id, source_url}
 *                             pull a chunk, or the database's regular tables,
 *                             from another worker (wcopy_in.c)
 *   GET  /worker/replicas[?database=]       the chunks held (wreplica.c)
 *   GET  /worker/replica?database=&chunk=   its tables' rows and checksums
 *   GET  /worker/replica?database=&regular=1   the same of the regular tables
 *   DELETE /worker/replica?database=&chunk= drop the chunk here
 * Worker -> worker:
 *   GET  /replica/chunk?database=&chunk=   one chunk's tables, LZ4 (wcopy.c);
 *   GET  /replica/chunk?database=&regular=1   the regular tables, the same way;
 *                             a worker certificate or the admin key
 *   GET  /status
 * Every JSON reply carries "success" and "error".  Who may call a route is
 * the policy column of `routes` (wapi_policy, enforced by
 * qserv/common/qhttp.h before any body is read): contributions the admin
 * key (loaders), retries (PUT) too; the management routes the key or a
 * certificate of role "czar" (the controller); a worker's certificate only
 * the replica export; GET /status, a contribution's status and a
 * transaction's contributions are open, but their warnings (MariaDB's
 * messages, which may quote a refused value) only reach the key's holder.
 *
 * Every body (and every query string) is parsed by wreq.c (no MariaDB
 * there; fuzz target wreq): every database, table, column, index and
 * character set name of a request passes qserv/common/sqlid.h (column types its grammar) before it reaches
 * a statement; an error names the request field and never quotes SQL, the
 * refused value or MariaDB's message: those are logged here, at the
 * boundary (qsql_detail()). */
#include "worker.h"
#include "wcopy.h"
#include "qserv/common/mpart.h"
#include "qserv/common/qhttp.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <microhttpd.h>

static int csv_upload(const char *method, const char *url)
{
	return !strcmp(method, "POST") && (!strcmp(url, "/ingest/csv") || !strcmp(url, "/ingest/csv-async"));
}

int wapi_spool(void *app, const char *method, const char *url, char *ret_path, size_t len)
{
	struct worker *w = app;
	static unsigned seq;
	if (!csv_upload(method, url) && !wbackup_upload_url(method, url))
		return 0;
	/* a staging name too long: the body stays in memory and the request
	 * fails when it cannot take the spool file over */
	if (snprintf(ret_path, len, "%s/upload-%d-%u.csv", w->staging, (int)getpid(),
		     __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED)) >= (int)len) {
		ret_path[0] = '\0';
		return 0;
	}
	return 1;
}

/* A contribution's parameters (JSON body or /ingest/csv's query), parsed
 * by wreq_contrib, into c (whose charset keeps its default unless one is
 * named). */
static int contrib_params(struct wcontrib *c, json_t *p, char *err, size_t errlen)
{
	struct wreq_contrib q;
	if (wreq_contrib(p, &q, err, errlen))
		return -EINVAL;
	c->trans_id = q.trans_id;
	memcpy(c->db, q.db, sizeof c->db);
	memcpy(c->table, q.table, sizeof c->table);
	c->chunk = q.chunk;
	c->overlap = q.overlap;
	memcpy(c->url, q.url, sizeof c->url);
	if (q.charset[0])
		memcpy(c->charset, q.charset, sizeof c->charset);
	memcpy(c->ft, q.ft, sizeof c->ft);
	memcpy(c->enc, q.enc, sizeof c->enc);
	memcpy(c->esc, q.esc, sizeof c->esc);
	memcpy(c->lt, q.lt, sizeof c->lt);
	c->max_warnings = q.max_warnings;
	/* automatic retries (Qserv's num_retries): the request's, else the
	 * worker's default, never above its max; the caller zeroes them for sync */
	const struct wfetch_limits *lim = wfetch_limits();
	c->max_retries = q.num_retries < 0 ? lim->num_retries :
			 (unsigned)q.num_retries > lim->max_retries ? lim->max_retries : (unsigned)q.num_retries;
	return 0;
}

json_t *wapi_args(struct qhttp_req *r, const char *const *keys, size_t n)
{
	json_t *o = json_object();
	for (size_t i = 0; o && i < n; i++) {
		const char *v = qhttp_arg(r, keys[i]);
		/* nocheck: a value that is not UTF-8 reaches wreq.c, which names it */
		if (v && json_object_set_new(o, keys[i], json_string_nocheck(v))) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* The query-string parameters of /ingest/csv as a JSON object. */
static json_t *csv_params(struct qhttp_req *r)
{
	static const char *const keys[] = { "transaction_id", "table", "chunk", "overlap", "database",
					    "charset_name", "fields_terminated_by", "fields_enclosed_by",
					    "fields_escaped_by", "lines_terminated_by", "max_num_warnings" };
	return wapi_args(r, keys, sizeof keys / sizeof *keys);
}

/* The file part [off, off+len) of the spooled form in fd into a new file
 * path (the contribution's own spool). */
static int copy_part(int fd, off_t off, size_t len, const char *path, char *err, size_t errlen)
{
	int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0) {
		snprintf(err, errlen, "cannot create the contribution's file: %s", strerror(errno));
		return -EIO;
	}
	while (len > 0) {
		ssize_t n = copy_file_range(fd, &off, out, NULL, len, 0);
		if (n <= 0) {
			snprintf(err, errlen, "cannot copy the uploaded file: %s", n < 0 ? strerror(errno) : "short");
			close(out);
			unlink(path);
			return -EIO;
		}
		len -= (size_t)n;
	}
	close(out);
	return 0;
}

/* POST /ingest/csv as Qserv takes it: a multipart/form-data body (spooled
 * to r->spool_path by the HTTP layer, within its size cap), parsed by
 * mpart_form over a read-only mapping; the form's fields go to
 * *ret_fields, the file part is copied to c->spool.  400 (-EINVAL) with
 * err for a body that is not such a form. */
static int csv_form(struct qhttp_req *r, const char *ctype, struct wcontrib *c, json_t **ret_fields,
		    char *err, size_t errlen)
{
	char b[MPART_BOUNDARY];
	size_t off = 0, len = 0;
	*ret_fields = NULL;
	if (mpart_boundary(ctype, b, err, errlen))
		return -EINVAL;
	int fd = open(r->spool_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || !r->spooled) {
		snprintf(err, errlen, "multipart: the request has no body");
		if (fd >= 0)
			close(fd);
		return -EINVAL;
	}
	void *map = mmap(NULL, (size_t)r->spooled, PROT_READ, MAP_PRIVATE, fd, 0);
	int rc = map == MAP_FAILED ? -EIO : mpart_form(map, (size_t)r->spooled, b, ret_fields, &off, &len,
							 err, errlen);
	if (map == MAP_FAILED)
		snprintf(err, errlen, "cannot read the uploaded body: %s", strerror(errno));
	else
		munmap(map, (size_t)r->spooled);
	if (!rc && (size_t)snprintf(c->spool, sizeof c->spool, "%s.c%u", r->spool_path, c->id) >= sizeof c->spool) {
		snprintf(err, errlen, "staging directory name too long");
		rc = -ENAMETOOLONG;
	}
	if (!rc && (rc = copy_part(fd, (off_t)off, len, c->spool, err, errlen)))
		c->spool[0] = '\0';
	close(fd);
	if (!rc)
		unlink(r->spool_path);
	if (rc) {
		json_decref(*ret_fields);
		*ret_fields = NULL;
		c->spool[0] = '\0';
	}
	return rc;
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
	const char *ctype = csv ? MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Type") : NULL;
	bool form = ctype && !strncasecmp(ctype, "multipart/", 10);
	json_t *p = !csv ? qhttp_body_json(r, err, sizeof err) : form ? json_object() : csv_params(r);
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
	int rc = 0;
	if (form) {
		json_decref(p);
		rc = csv_form(r, ctype, c, &p, err, sizeof err);
	}
	if (!rc)
		rc = contrib_params(c, p, err, sizeof err);
	json_decref(p);
	c->async = async;
	if (!async)
		c->max_retries = 0;   /* Qserv: num_retries is for the async service only */
	if (!rc && !csv && !c->url[0]) {
		snprintf(err, sizeof err, "url is required");
		rc = -EINVAL;
	}
	if (rc) {
		c->status = WC_FAILED;
		snprintf(c->error, sizeof c->error, "%s", err);
		if (c->spool[0])
			unlink(c->spool);
		c->spool[0] = '\0';
		qhttp_reply_error(r, rc == -EINVAL ? 400 : 500, "%s", err);
		return;
	}
	if (form) {
		snprintf(c->url, sizeof c->url, "data-csv");   /* Qserv's placeholder */
	} else if (csv) {
		/* take the spooled body over from the HTTP layer */
		snprintf(c->url, sizeof c->url, "csv-body:%llu-bytes", r->spooled);
		int n = snprintf(c->spool, sizeof c->spool, "%s.c%u", r->spool_path, c->id);
		if (n >= (int)sizeof c->spool || rename(r->spool_path, c->spool) < 0) {
			c->status = WC_FAILED;
			snprintf(c->error, sizeof c->error, "cannot take the uploaded body: %s",
				 strerror(n >= (int)sizeof c->spool ? ENAMETOOLONG : errno));
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

/* A contribution for an open route: its MariaDB warnings (they may quote
 * a refused value, i.e. catalog data) only for the admin key's holder;
 * num_warnings always. */
static json_t *contrib_shown(struct qhttp_req *r, json_t *o)
{
	if (!r->key_given && json_array_size(json_object_get(o, "warnings")))
		json_object_set_new(o, "warnings", json_array());
	return o;
}

static void contrib_status(struct worker *w, struct qhttp_req *r, const char *id)
{
	char err[128];
	uint32_t n;
	if (wreq_id(id, &n, err, sizeof err)) {
		qhttp_reply_error(r, 400, "%s", err);
		return;
	}
	struct wcontrib *c = worker_contrib_find(w, n);
	if (!c)
		qhttp_reply_error(r, 404, "no contribution %u", n);
	else
		qhttp_reply_ok(r, json_pack("{s:o}", "contrib", contrib_shown(r, worker_contrib_snapshot(w, c))));
}

/* GET /ingest/file-async/trans/<id>: the contributions of a transaction
 * (Qserv's shape, {"contribs": [...]}). */
static void trans_contribs(struct worker *w, struct qhttp_req *r, const char *id)
{
	char err[128];
	uint32_t n;
	if (wreq_id(id, &n, err, sizeof err) || n > 0x7fffffff) {
		qhttp_reply_error(r, 400, "transaction_id: must be a transaction number (1 to 2147483647)");
		return;
	}
	qhttp_reply_ok(r, json_pack("{s:o}", "contribs", worker_contribs_json(w, n, 0, r->key_given)));
}

/* PUT /ingest/file/<id>, PUT /ingest/file-async/<id>: a manual retry of a
 * failed contribution (wingest_retry: Qserv's rules), run at once or
 * queued; the reply is the contribution as POST gives it. */
static void contrib_retry(struct worker *w, struct qhttp_req *r, const char *id, bool async)
{
	char err[512];
	uint32_t n;
	struct wcontrib *c = NULL;
	if (wreq_id(id, &n, err, sizeof err)) {
		qhttp_reply_error(r, 400, "%s", err);
		return;
	}
	int rc = wingest_retry(w, n, &c, err, sizeof err);
	if (rc) {
		qhttp_reply_error(r, rc == -ENOENT ? 404 : 409, "%s", err);
		return;
	}
	c->async = async;
	if (!async) {
		wingest_run(w, c);
		reply_contrib(r, c);
	} else if (wingest_start_async(w, c)) {
		c->status = WC_FAILED;
		snprintf(c->error, sizeof c->error, "cannot start the contribution thread");
		qhttp_reply_error(r, 500, "%s", c->error);
	} else {
		qhttp_reply_ok(r, json_pack("{s:o}", "contrib", worker_contrib_snapshot(w, c)));
	}
}

/* Runs a management request that needs a MariaDB connection. */
static MYSQL *conn(struct worker *w, struct qhttp_req *r)
{
	char err[512];
	MYSQL *m = qsql_connect(&w->sql, err, sizeof err);
	if (!m) {
		log_warn("%s %s: %s", r->method, r->url, qsql_detail());
		qhttp_reply_error(r, 503, "%s", err);
	}
	return m;
}

/* Replies, logging a server-side failure (and MariaDB's detail) first. */
static void reply_rc(struct qhttp_req *r, int rc, const char *err, json_t *ok)
{
	const char *d = qsql_detail();

	if (rc && (d[0] || qhttp_status_of(rc) >= 500))
		log_warn("%s %s: %s%s%s", r->method, r->url, err, d[0] ? " -- " : "", d);
	qhttp_reply_rc(r, rc, err, ok);
}

/* One /worker/ management request: what the handlers read and fill. */
struct mreq {
	struct worker *w;
	struct qhttp_req *r;
	MYSQL *m;               /* NULL for the routes that need no MariaDB */
	json_t *body;           /* the JSON body of a POST, else NULL (wreq.h parses it) */
	const char *rest;       /* what the pattern's '*' matched, else NULL */
	json_t *out;            /* reply fields on success */
	int replied;            /* the handler queued its own reply */
	char err[1024];
};

static const char *arg_or_empty(struct qhttp_req *r, const char *key)
{
	const char *v = qhttp_arg(r, key);
	return v ? v : "";
}

/* POST /worker/trans {database, transaction_id, action: begin|commit|abort} */
static int m_trans(struct mreq *k)
{
	struct wreq_trans q;
	int rc = wreq_trans(k->body, &q, k->err, sizeof k->err);
	if (rc)
		return rc;
	if (q.action == WREQ_BEGIN)
		rc = worker_trans_begin(k->w, q.id, q.db, k->err, sizeof k->err);
	else
		rc = worker_trans_end(k->w, q.id, q.action == WREQ_COMMIT, k->err, sizeof k->err);
	return rc == -EEXIST ? -EINVAL : rc;
}

static int m_db_add(struct mreq *k)
{
	char db[WREQ_NAME];
	int rc = wreq_db(k->body, db, k->err, sizeof k->err);
	return rc ? rc : wmeta_create_db(k->m, db, k->err, sizeof k->err);
}

static int m_db_drop(struct mreq *k)
{
	return wmeta_drop_db(k->m, k->rest, k->err, sizeof k->err);
}

static int m_table_add(struct mreq *k)
{
	struct wreq_table q;
	int rc = wreq_table(k->body, &q, k->err, sizeof k->err);
	if (!rc)
		rc = wmeta_create_table(k->m, &q, k->err, sizeof k->err);
	wreq_table_free(&q);
	return rc;
}

static int m_table_drop(struct mreq *k)
{
	char d[65];
	const char *t = qhttp_split_db(k->rest, d);
	if (!t) {
		snprintf(k->err, sizeof k->err, "use DELETE /worker/table/<database>/<table>");
		return -EINVAL;
	}
	return wmeta_drop_table(k->m, d, t, k->err, sizeof k->err);
}

static int m_chunk_add(struct mreq *k)
{
	char db[WREQ_NAME];
	int32_t chunk;
	int rc = wreq_chunk(k->body, db, &chunk, k->err, sizeof k->err);
	return rc ? rc : wmeta_add_chunk(k->m, db, chunk, k->err, sizeof k->err);
}

static int m_sqlindex(struct mreq *k)
{
	struct wreq_index q;
	int rc = wreq_index(k->body, &q, k->err, sizeof k->err);
	return rc ? rc : windex_add(k->m, &q, k->err, sizeof k->err);
}

/* GET /worker/sqlindex?database=&table=[&overlap=], DELETE the same with &index= */
static int m_sqlindex_get(struct mreq *k)
{
	const char *ov = qhttp_arg(k->r, "overlap");
	return windex_get(k->m, arg_or_empty(k->r, "database"), arg_or_empty(k->r, "table"), ov && atoi(ov),
			  &k->out, k->err, sizeof k->err);
}

static int m_sqlindex_drop(struct mreq *k)
{
	const char *ov = qhttp_arg(k->r, "overlap");
	return windex_drop(k->m, arg_or_empty(k->r, "database"), arg_or_empty(k->r, "table"),
			   arg_or_empty(k->r, "index"), ov && atoi(ov), &k->out, k->err, sizeof k->err);
}

static int m_subchunks_add(struct mreq *k)
{
	struct wreq_subchunks q;
	int rc = wreq_subchunks(k->body, &q, k->err, sizeof k->err);
	if (!rc)
		rc = wsub_build(k->m, q.db, q.table, q.chunk, q.sub, q.n, k->err, sizeof k->err);
	free(q.sub);
	return rc;
}

static int m_subchunks_drop(struct mreq *k)
{
	char d[65];
	const char *chunk = qhttp_split_db(k->rest, d);
	if (!chunk) {
		snprintf(k->err, sizeof k->err, "use DELETE /worker/subchunks/<database>/<chunk>");
		return -EINVAL;
	}
	return wsub_drop(k->m, d, atoi(chunk), k->err, sizeof k->err);
}

static int m_publish(struct mreq *k)
{
	char db[WREQ_NAME];
	int rc = wreq_db(k->body, db, k->err, sizeof k->err);
	return rc ? rc : wmeta_publish(k->m, db, k->err, sizeof k->err);
}

static int m_unpublish(struct mreq *k)
{
	char db[WREQ_NAME];
	int rc = wreq_db(k->body, db, k->err, sizeof k->err);
	return rc ? rc : wmeta_unpublish(k->m, db, k->err, sizeof k->err);
}

static int m_count(struct mreq *k)
{
	return wmeta_count(k->m, arg_or_empty(k->r, "database"), arg_or_empty(k->r, "table"), &k->out,
			   k->err, sizeof k->err);
}

/* POST /worker/replica {database, chunk | regular: true, source_id,
 * source_url}: pull a chunk, or the database's regular tables, from
 * another worker (wcopy_in.c). */
static int m_replica(struct mreq *k)
{
	struct wreq_replica q;
	char c[16] = "regular tables";
	int rc = wreq_replica(k->body, &q, k->err, sizeof k->err);
	if (!rc)
		rc = wcopy_import(k->w, k->m, &q, &k->out, k->err, sizeof k->err);
	if (!rc && q.chunk != WREQ_REGULAR)
		snprintf(c, sizeof c, "chunk %d", q.chunk);
	if (!rc)
		log_info("copy in: %s %s from %s: %lld tables, %lld bytes (%lld plain), %lld rows in %.3f s", q.db, c,
			 q.source_id, json_integer_value(json_object_get(k->out, "tables")),
			 json_integer_value(json_object_get(k->out, "bytes")),
			 json_integer_value(json_object_get(k->out, "plain_bytes")),
			 json_integer_value(json_object_get(k->out, "rows")),
			 json_real_value(json_object_get(k->out, "seconds")));
	return rc;
}

/* wbackup.c's routes */
static int m_backup(struct mreq *k)
{
	return wbackup_take(k->w, k->body, &k->out, k->err, sizeof k->err);
}

static int m_backup_verify(struct mreq *k)
{
	return wbackup_verify(k->w, k->body, &k->out, k->err, sizeof k->err);
}

static int m_backup_remove(struct mreq *k)
{
	return wbackup_remove(k->w, k->rest, &k->out, k->err, sizeof k->err);
}

/* ?database=&chunk= (or &regular=1) of the replica routes, parsed by
 * wreq_chunk_arg. */
static int chunk_args(struct mreq *k, char db[WREQ_NAME], int32_t *ret_chunk)
{
	static const char *const keys[] = { "database", "chunk", "regular" };
	json_t *q = wapi_args(k->r, keys, 3);
	int rc = q ? wreq_chunk_arg(q, db, ret_chunk, k->err, sizeof k->err) : -ENOMEM;
	json_decref(q);
	if (rc == -ENOMEM)
		snprintf(k->err, sizeof k->err, "out of memory");
	return rc;
}

/* GET /worker/replicas[?database=] (wreplica.c) */
static int m_replicas(struct mreq *k)
{
	static const char *const keys[] = { "database" };
	char db[WREQ_NAME];
	json_t *q = wapi_args(k->r, keys, 1);
	int rc = q ? wreq_db_arg(q, db, k->err, sizeof k->err) : -ENOMEM;
	json_decref(q);
	if (rc == -ENOMEM)
		snprintf(k->err, sizeof k->err, "out of memory");
	return rc ? rc : wreplica_list(k->m, db, &k->out, k->err, sizeof k->err);
}

/* GET /worker/replica?database=&chunk= (or &regular=1): rows and checksum
 * of each table. */
static int m_replica_get(struct mreq *k)
{
	char db[WREQ_NAME];
	int32_t chunk;
	int rc = chunk_args(k, db, &chunk);
	return rc ? rc : wreplica_describe(k->m, db, chunk, &k->out, k->err, sizeof k->err);
}

/* DELETE /worker/replica?database=&chunk=: a lock wait that timed out is
 * 503 (the caller retries later), not a server fault; regular=1 is 400
 * (wreplica_drop). */
static int m_replica_drop(struct mreq *k)
{
	char db[WREQ_NAME];
	int32_t chunk;
	int rc = chunk_args(k, db, &chunk);
	if (!rc)
		rc = wreplica_drop(k->m, db, chunk, &k->out, k->err, sizeof k->err);
	if (!rc)
		log_info("chunk %d of %s dropped: %lld tables", chunk, db,
			 json_integer_value(json_object_get(k->out, "tables_dropped")));
	return rc == -ETIMEDOUT ? -ENODEV : rc;
}

/* GET /worker/contribs?transaction_id= | ?id=[&warnings=1]: the
 * controller's contribution reports (capi.c); the warning lists only
 * when asked for (they are most of a report's bytes). */
static int m_contribs(struct mreq *k)
{
	static const char *const keys[] = { "transaction_id", "id" };
	const char *wa = qhttp_arg(k->r, "warnings");
	uint32_t trans, id;
	json_t *q = wapi_args(k->r, keys, 2);
	int rc = q ? wreq_contribs_arg(q, &trans, &id, k->err, sizeof k->err) : -ENOMEM;
	json_decref(q);
	if (rc == -ENOMEM)
		snprintf(k->err, sizeof k->err, "out of memory");
	if (!rc)
		k->out = json_pack("{s:o}", "contribs", worker_contribs_json(k->w, trans, id, wa && !strcmp(wa, "1")));
	return rc;
}

/* POST /worker/config {database, TIMEOUT, ASYNC_PROC_LIMIT}: the keys of
 * Qserv's ingest configuration this worker applies (the controller's PUT
 * /ingest/config sends them) */
static int m_config(struct mreq *k)
{
	struct wreq_config q;
	int rc = wreq_config(k->body, &q, k->err, sizeof k->err);
	return rc ? rc : wingest_config_save(k->m, &q, k->err, sizeof k->err);
}

/* GET /worker/index: the director index as TSV, exported into an unlinked
 * staging file and streamed from there. */
static int m_index(struct mreq *k)
{
	char tmp[300];
	if (snprintf(tmp, sizeof tmp, "%s/index-XXXXXX", k->w->staging) >= (int)sizeof tmp) {
		snprintf(k->err, sizeof k->err, "staging directory name too long");
		return -ENAMETOOLONG;
	}
	int fd = mkstemp(tmp);
	if (fd < 0) {
		snprintf(k->err, sizeof k->err, "mkstemp %s: %s", tmp, strerror(errno));
		return -EIO;
	}
	unlink(tmp);
	const char *tid = qhttp_arg(k->r, "transaction_id");
	int rc = wmeta_index_export(k->m, arg_or_empty(k->r, "database"), arg_or_empty(k->r, "table"),
				    tid ? (uint32_t)strtoul(tid, NULL, 10) : 0, fd, NULL, k->err, sizeof k->err);
	if (rc) {
		close(fd);
		return rc;
	}
	off_t size = lseek(fd, 0, SEEK_END);
	lseek(fd, 0, SEEK_SET);
	qhttp_reply_fd(k->r, 200, fd, size, "text/tab-separated-values");
	k->replied = 1;
	return 0;
}

/* The management API under /worker/ (see the top of this file); the first
 * match wins, a pattern ending in '*' takes any rest (k->rest).  Every
 * route but trans runs on its own MariaDB connection. */
static const struct mroute {
	const char *method, *path;
	int (*fn)(struct mreq *k);
	bool no_db;
} mroutes[] = {
	{ "POST", "trans", m_trans, true },
	{ "POST", "database", m_db_add, false },
	{ "DELETE", "database/*", m_db_drop, false },
	{ "POST", "table", m_table_add, false },
	{ "DELETE", "table/*", m_table_drop, false },
	{ "POST", "chunk", m_chunk_add, false },
	{ "POST", "sqlindex", m_sqlindex, false },
	{ "GET", "sqlindex", m_sqlindex_get, false },
	{ "DELETE", "sqlindex", m_sqlindex_drop, false },
	{ "POST", "subchunks", m_subchunks_add, false },
	{ "DELETE", "subchunks/*", m_subchunks_drop, false },
	{ "POST", "publish", m_publish, false },
	{ "POST", "unpublish", m_unpublish, false },
	{ "GET", "count", m_count, false },
	{ "GET", "index", m_index, false },
	{ "POST", "replica", m_replica, false },
	{ "GET", "replicas", m_replicas, false },
	{ "GET", "replica", m_replica_get, false },
	{ "DELETE", "replica", m_replica_drop, false },
	{ "GET", "contribs", m_contribs, true },
	{ "POST", "config", m_config, false },
	{ "POST", "backup/verify", m_backup_verify, true },
	{ "POST", "backup", m_backup, true },
	{ "DELETE", "backup/*", m_backup_remove, true },
};

static const struct mroute *mroute_find(const char *method, const char *path, const char **ret_rest)
{
	for (size_t i = 0; i < sizeof mroutes / sizeof mroutes[0]; i++)
		if (!strcmp(method, mroutes[i].method) && qhttp_path_match(mroutes[i].path, path, ret_rest))
			return &mroutes[i];
	return NULL;
}

/* /worker/<path>: a POST's body must be JSON (400); then the route runs,
 * on a MariaDB connection (503 without one) unless it needs none.  An
 * unknown path is 404, after the connection like any other. */
static void manage(struct worker *w, struct qhttp_req *r, const char *path)
{
	struct mreq k = { .w = w, .r = r };
	int rc = -ENOENT;
	qsql_detail_clear();
	if (!strcmp(r->method, "POST") && !(k.body = qhttp_body_json(r, k.err, sizeof k.err))) {
		qhttp_reply_error(r, 400, "%s", k.err);
		return;
	}
	const struct mroute *rt = mroute_find(r->method, path, &k.rest);
	if (!rt || !rt->no_db) {
		k.m = conn(w, r);
		if (!k.m) {
			json_decref(k.body);
			return;
		}
	}
	if (rt)
		rc = rt->fn(&k);
	else
		snprintf(k.err, sizeof k.err, "no such endpoint: %s %s", r->method, qhttp_path_printable(r->url));
	if (k.m)
		mysql_close(k.m);
	json_decref(k.body);
	if (!k.replied)
		reply_rc(r, rc, k.err, k.out);
}

static void file_sync(struct worker *w, struct qhttp_req *r, const char *rest)
{
	contribute(w, r, false, false);
}

static void file_async(struct worker *w, struct qhttp_req *r, const char *rest)
{
	contribute(w, r, false, true);
}

static void csv_sync(struct worker *w, struct qhttp_req *r, const char *rest)
{
	contribute(w, r, true, false);
}

static void csv_async(struct worker *w, struct qhttp_req *r, const char *rest)
{
	contribute(w, r, true, true);
}

static void retry_sync(struct worker *w, struct qhttp_req *r, const char *rest)
{
	contrib_retry(w, r, rest, false);
}

static void retry_async(struct worker *w, struct qhttp_req *r, const char *rest)
{
	contrib_retry(w, r, rest, true);
}

static void status(struct worker *w, struct qhttp_req *r, const char *rest)
{
	qhttp_reply_ok(r, json_pack("{s:s, s:i}", "worker", w->id, "port", w->port));
}

/* The top level; method NULL = any (the management routes check theirs). */
static const struct route {
	const char *method, *path;
	void (*fn)(struct worker *w, struct qhttp_req *r, const char *rest);
	enum qhttp_auth auth;      /* who may call it (qhttp.h) */
} routes[] = {
	{ "POST", "/ingest/file", file_sync, QHTTP_KEY },
	{ "POST", "/ingest/file-async", file_async, QHTTP_KEY },
	{ "POST", "/ingest/csv", csv_sync, QHTTP_KEY },
	{ "POST", "/ingest/csv-async", csv_async, QHTTP_KEY },
	{ "GET", "/ingest/file-async/trans/*", trans_contribs, QHTTP_OPEN },
	{ "GET", "/ingest/file-async/*", contrib_status, QHTTP_OPEN },
	{ "PUT", "/ingest/file/*", retry_sync, QHTTP_KEY },
	{ "PUT", "/ingest/file-async/*", retry_async, QHTTP_KEY },
	{ NULL, "/worker/*", manage, QHTTP_KEY_OR_CZAR },
	{ "GET", "/status", status, QHTTP_OPEN },
	/* a worker certificate (another worker copying the chunk) or the admin key */
	{ "GET", "/replica/chunk", wcopy_export, QHTTP_KEY_OR_WORKER },
	/* backup files (wbackup.c): read by a restoring worker or an operator; written by the admin key */
	{ "GET", "/backup/file/*", wbackup_get, QHTTP_KEY_OR_WORKER },
	{ "POST", "/backup/file/*", wbackup_put, QHTTP_KEY },
};

enum qhttp_auth wapi_policy(void *app, const char *method, const char *url)
{
	const char *rest;
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
		if ((!routes[i].method || !strcmp(method, routes[i].method)) &&
		    qhttp_path_match(routes[i].path, url, &rest))
			return routes[i].auth;
	return QHTTP_KEY;
}

void wapi_handle(void *app, struct qhttp_req *r)
{
	struct worker *w = app;
	const char *rest;
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		if ((!routes[i].method || !strcmp(r->method, routes[i].method)) &&
		    qhttp_path_match(routes[i].path, r->url, &rest)) {
			routes[i].fn(w, r, rest);
			return;
		}
	}
	qhttp_reply_error(r, 404, "no such endpoint: %s %s", r->method, qhttp_path_printable(r->url));
}
