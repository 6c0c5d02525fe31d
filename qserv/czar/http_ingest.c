/* http_ingest.c: the user-table ingest routes of the HTTP frontend (see
 * http_ingest.h): each request becomes the steps a loader takes against
 * the cluster's controller (docs/ingest.md) -- register the database (if
 * new) and a regular table, a transaction, the rows to every worker as the
 * body of POST /ingest/csv, commit, the indexes, publish -- and a failure
 * undoes what this request made (abort, drop the table, drop the database
 * it created, publish again what it un-published).
 *
 * State: the controller's URL (module-wide, set once before threads
 * start, as qhttpc's key and CA are) and the databases being written now
 * (at most INGEST_MAX_AT_ONCE requests, one per database: a second request
 * for the same database is refused, never queued; the lock guards only
 * that table, never a network call).  Every wait is bounded: the
 * request's timeout (Qserv's, default 300 s) is checked before each step,
 * and each call is bounded by qhttpc (10 s to connect, a silent peer ends
 * the call).  Trade-off not taken: a per-call deadline inside qhttpc (a
 * step already sent finishes even past the timeout, then the request
 * fails and undoes it). */
#include "http_ingest.h"
#include "http_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "qserv/common/qhttpc.h"

static struct {
	char url[512];                /* "" = not configured */
	size_t max_body;
	pthread_mutex_t mu;
	char busy[INGEST_MAX_AT_ONCE][65];   /* databases written now ("" = free) */
} ing = { .max_body = INGEST_MAX_BODY_DEFAULT, .mu = PTHREAD_MUTEX_INITIALIZER };

int http_ingest_setup(const char *url, const char *key_file, const char *tls_dir, size_t max_body, char *err,
		      size_t errlen)
{
	char ca[4096];
	size_t n;

	if (max_body)
		ing.max_body = max_body;
	if (!url)
		return 0;
	n = strlen(url);
	while (n && url[n - 1] == '/')
		n--;
	if ((strncmp(url, "https://", 8) && strncmp(url, "http://", 7)) || n >= sizeof ing.url || !key_file) {
		snprintf(err, errlen, "--ingest-url wants http(s)://HOST:PORT and --ingest-key-file the admin key");
		return -EINVAL;
	}
	if (tls_dir && (size_t)snprintf(ca, sizeof ca, "%s/ca.pem", tls_dir) >= sizeof ca) {
		snprintf(err, errlen, "--tls-dir: path too long");
		return -ENAMETOOLONG;
	}
	if (qhttpc_init() < 0) {
		snprintf(err, errlen, "cannot initialise the HTTP client");
		return -EIO;
	}
	int rc = qhttpc_client_setup(key_file, tls_dir ? ca : NULL, err, errlen);
	if (rc < 0)
		return rc;
	memcpy(ing.url, url, n);
	ing.url[n] = '\0';
	return 0;
}

size_t http_ingest_body_cap(const char *url)
{
	return strncmp(url, "/ingest/", 8) == 0 ? ing.max_body : 0;
}

/* ---- one request's run against the controller -------------------------- */

struct run {
	const struct http_who *who;
	char db[65], table[65];
	time_t deadline;
	unsigned timeout_s;
	char err[700];
	bool created, unpublished, table_made;
	long long trans;              /* open transaction (0: none) */
	long long rows;
};

/* Marks db as being written: 0, or -EBUSY with r->err. */
static int busy_take(struct run *r)
{
	int free_i = -1, same = 0;

	pthread_mutex_lock(&ing.mu);
	for (int i = 0; i < INGEST_MAX_AT_ONCE; i++) {
		same |= !strcasecmp(ing.busy[i], r->db);
		if (!ing.busy[i][0] && free_i < 0)
			free_i = i;
	}
	if (!same && free_i >= 0)
		snprintf(ing.busy[free_i], sizeof ing.busy[free_i], "%s", r->db);
	pthread_mutex_unlock(&ing.mu);
	if (same)
		snprintf(r->err, sizeof r->err, "another ingest or delete request of database %s is running: try "
			 "again when it ends", r->db);
	else if (free_i < 0)
		snprintf(r->err, sizeof r->err, "the frontend serves %d ingest requests at once: try again later",
			 INGEST_MAX_AT_ONCE);
	return same || free_i < 0 ? -EBUSY : 0;
}

static void busy_put(struct run *r)
{
	pthread_mutex_lock(&ing.mu);
	for (int i = 0; i < INGEST_MAX_AT_ONCE; i++)
		if (!strcasecmp(ing.busy[i], r->db))
			ing.busy[i][0] = '\0';
	pthread_mutex_unlock(&ing.mu);
}

/* The error of a failed call for the caller: the controller's own words
 * (they name fields, never SQL), or for a transport failure that it did
 * not answer (the URL and curl's words go to the log only). */
static void call_failed(struct run *r, const char *step, int rc, const char *e)
{
	if (rc == -ECONNREFUSED || rc == -ECONNRESET || rc == -ETIMEDOUT || rc == -EHOSTUNREACH || rc == -EPROTO ||
	    rc == -ENOMEM || (rc == -EIO && !strncmp(e, "http", 4))) {
		log_warn("http ingest (user %s, %s.%s): %s: %s", r->who->user, r->db, r->table, step, e);
		snprintf(r->err, sizeof r->err, "%s: the ingest service did not answer properly; try again later", step);
	} else {
		snprintf(r->err, sizeof r->err, "%s: %s", step, e);
	}
}

static int past_deadline(struct run *r, const char *step)
{
	if (time(NULL) <= r->deadline)
		return 0;
	snprintf(r->err, sizeof r->err, "the request's timeout of %u s passed before: %s", r->timeout_s, step);
	return -ETIMEDOUT;
}

/* method + the controller's path, body consumed; 0 with *ret (may be NULL). */
static int ctl(struct run *r, const char *step, const char *method, const char *path, json_t *body, json_t **ret)
{
	char url[1024], e[600] = "";
	int rc = past_deadline(r, step);

	if (!rc && (size_t)snprintf(url, sizeof url, "%s%s", ing.url, path) >= sizeof url) {
		snprintf(r->err, sizeof r->err, "%s: path too long", step);
		rc = -ENAMETOOLONG;
	}
	if (!rc && (rc = qhttpc_json(method, url, body, ret, e, sizeof e)) < 0)
		call_failed(r, step, rc, e);
	json_decref(body);
	return rc;
}

/* Whether r->db is registered (and published), and whether it holds
 * r->table (if any) or a partitioned table (a catalog: -EPERM). */
static int db_state(struct run *r, bool *ret_exists, bool *ret_published, bool *ret_has_table, size_t *ret_ntables)
{
	json_t *rep = NULL, *d, *t;
	char path[200];
	size_t i;
	int rc = ctl(r, "listing the databases", "GET", "/ingest/database", NULL, &rep);

	*ret_exists = *ret_published = *ret_has_table = false;
	*ret_ntables = 0;
	if (rc)
		return rc;
	json_array_foreach(json_object_get(rep, "databases"), i, d)
		if (!strcasecmp(json_string_value(json_object_get(d, "database")) ?: "", r->db)) {
			*ret_exists = true;
			*ret_published = json_integer_value(json_object_get(d, "is_published")) != 0;
			snprintf(r->db, sizeof r->db, "%s", json_string_value(json_object_get(d, "database")));
		}
	json_decref(rep);
	if (!*ret_exists)
		return 0;
	snprintf(path, sizeof path, "/ingest/table/%s", r->db);
	if ((rc = ctl(r, "listing the tables", "GET", path, NULL, &rep)))
		return rc;
	json_array_foreach(json_object_get(rep, "tables"), i, t) {
		if (json_integer_value(json_object_get(t, "is_partitioned"))) {
			snprintf(r->err, sizeof r->err, "database %s holds partitioned tables: it is a catalog, not a user "
				 "database the frontend made", r->db);
			rc = -EPERM;
		}
		if (r->table[0] && !strcasecmp(json_string_value(json_object_get(t, "name")) ?: "", r->table))
			*ret_has_table = true;
	}
	*ret_ntables = json_array_size(json_object_get(rep, "tables"));
	json_decref(rep);
	return rc;
}

static int publish(struct run *r, bool on)
{
	char path[200];
	snprintf(path, sizeof path, "/ingest/database/%s", r->db);
	return ctl(r, on ? "publishing the database" : "un-publishing the database", "PUT", path,
		   json_pack("{s:b}", "publish", on), NULL);
}

/* The database (created, or un-published when it was published) and the
 * table registered with rq's schema. */
static int prepare(struct run *r, const struct ingest_req *rq)
{
	bool exists, published, has_table;
	size_t nt;
	int rc = db_state(r, &exists, &published, &has_table, &nt);

	if (rc)
		return rc;
	if (has_table) {
		snprintf(r->err, sizeof r->err, "table %s.%s exists: delete it first (DELETE /ingest/table/%s/%s)",
			 r->db, r->table, r->db, r->table);
		return -EEXIST;
	}
	if (!exists) {
		/* Qserv's default partitioning; a user database holds regular tables only */
		rc = ctl(r, "registering the database", "POST", "/ingest/database",
			 json_pack("{s:s,s:i,s:i,s:f,s:i}", "database", r->db, "num_stripes", 340, "num_sub_stripes", 3,
				   "overlap", 0.01667, "auto_build_secondary_index", 0), NULL);
		r->created = rc == 0;
	} else if (published) {
		rc = publish(r, false);
		r->unpublished = rc == 0;
	}
	if (rc)
		return rc;
	rc = ctl(r, "registering the table", "POST", "/ingest/table",
		 json_pack("{s:s,s:s,s:i,s:O}", "database", r->db, "table", r->table, "is_partitioned", 0, "schema",
			   rq->schema), NULL);
	r->table_made = rc == 0;
	return rc;
}

/* The worker's query string of a contribution: names checked, dialect escaped. */
static int contrib_url(const struct run *r, const struct ingest_req *rq, bool dialect, json_t *loc, struct buf *u)
{
	static const char *const dk[4] = { "fields_terminated_by", "fields_enclosed_by", "fields_escaped_by",
					   "lines_terminated_by" };
	const char *host = json_string_value(json_object_get(loc, "http_host"));
	json_int_t port = json_integer_value(json_object_get(loc, "http_port"));

	if (!host || !*host || strpbrk(host, "/?#@ ") || port <= 0 || port > 65535)
		return -EINVAL;
	buf_printf(u, "http://%s:%d/ingest/csv?transaction_id=%lld&table=%s&chunk=0&overlap=0&database=%s"
		   "&charset_name=%s", host, (int)port, r->trans, r->table, r->db, rq->charset);
	for (int i = 0; dialect && i < 4; i++) {
		char *ev = rq->dialect[i] ? qhttpc_escape(rq->dialect[i]) : NULL;
		if (ev)
			buf_printf(u, "&%s=%s", dk[i], ev);
		free(ev);
	}
	return u->oom ? -ENOMEM : 0;
}

/* The contribution's reply: its rows; MariaDB warnings fail it (a value
 * that did not convert), as Qserv's frontend refuses such rows. */
static int contrib_check(struct run *r, json_t *rep, const char *worker)
{
	json_t *c = json_object_get(rep, "contrib");
	json_int_t warn = json_integer_value(json_object_get(c, "num_warnings"));
	const char *msg = json_string_value(json_object_get(json_array_get(json_object_get(c, "warnings"), 0),
							    "message"));

	r->rows = json_integer_value(json_object_get(c, "num_rows_loaded"));
	if (!warn)
		return 0;
	snprintf(r->err, sizeof r->err, "loading the rows on %s: %lld value(s) did not convert to their column's "
		 "type (first: %s)", worker, (long long)warn, msg ? msg : "?");
	return -EINVAL;
}

/* A transaction; the rows in path to every worker. */
static int contribute(struct run *r, const struct ingest_req *rq, bool dialect, const char *path)
{
	json_t *rep = NULL, *locs = NULL, *loc;
	char p[80], e[600];
	size_t i;
	int rc = ctl(r, "starting a transaction", "POST", "/ingest/trans", json_pack("{s:s}", "database", r->db), &rep);

	if (rc)
		return rc;
	r->trans = json_integer_value(json_object_get(json_object_get(rep, "transaction"), "id"));
	json_decref(rep);
	snprintf(p, sizeof p, "/ingest/regular/%lld", r->trans);
	if ((rc = ctl(r, "locating the workers", "GET", p, NULL, &locs)))
		return rc;
	json_array_foreach(json_object_get(locs, "locations"), i, loc) {
		const char *w = json_string_value(json_object_get(loc, "worker")) ?: "a worker";
		struct buf u;
		buf_init(&u);
		if ((rc = past_deadline(r, "loading the rows")) == 0 && (rc = contrib_url(r, rq, dialect, loc, &u)) < 0)
			snprintf(r->err, sizeof r->err, "loading the rows: the controller named a worker without a usable "
				 "address");
		rep = NULL;
		if (!rc && (rc = qhttpc_post_file(buf_str(&u), path, &rep, e, sizeof e)) < 0)
			call_failed(r, "loading the rows", rc, e);
		if (!rc)
			rc = contrib_check(r, rep, w);
		json_decref(rep);
		buf_free(&u);
		if (rc)
			break;
	}
	if (!rc && !json_array_size(json_object_get(locs, "locations"))) {
		snprintf(r->err, sizeof r->err, "loading the rows: the cluster has no worker");
		rc = -ENOENT;
	}
	json_decref(locs);
	return rc;
}

/* Commit, the indexes, publish. */
static int finish(struct run *r, const struct ingest_req *rq)
{
	json_t *ix;
	char p[80];
	size_t i;
	int rc;

	snprintf(p, sizeof p, "/ingest/trans/%lld?abort=0", r->trans);
	if ((rc = ctl(r, "committing the transaction", "PUT", p, NULL, NULL)))
		return rc;
	r->trans = 0;
	json_array_foreach(rq->indexes, i, ix) {
		json_t *b = json_deep_copy(ix);
		json_object_set_new(b, "database", json_string(r->db));
		json_object_set_new(b, "table", json_string(r->table));
		if ((rc = ctl(r, "creating an index", "POST", "/replication/sql/index", b, NULL)))
			return rc;
	}
	if ((rc = publish(r, true)))
		return rc;
	r->unpublished = false;
	return 0;
}

/* Undoes what the failed run made; the first error stays in r->err. */
static void undo(struct run *r)
{
	char p[200], keep[sizeof r->err];

	memcpy(keep, r->err, sizeof keep);
	r->deadline = time(NULL) + 60;   /* the undo has a bound of its own */
	if (r->trans) {
		snprintf(p, sizeof p, "/ingest/trans/%lld?abort=1", r->trans);
		ctl(r, "aborting", "PUT", p, NULL, NULL);
	}
	if (r->table_made) {
		snprintf(p, sizeof p, "/ingest/table/%s/%s", r->db, r->table);
		ctl(r, "dropping the table", "DELETE", p, NULL, NULL);
	}
	if (r->created) {
		snprintf(p, sizeof p, "/ingest/database/%s", r->db);
		ctl(r, "dropping the database", "DELETE", p, NULL, NULL);
	} else if (r->unpublished) {
		publish(r, true);
	}
	memcpy(r->err, keep, sizeof keep);
}

/* rows[0..n) into a private temporary file: its path in ret (unlinked by
 * the caller), or -errno with err. */
static int spool(const char *rows, size_t n, char ret[4096], char *err, size_t errlen)
{
	const char *tmp = getenv("TMPDIR");
	int fd, rc;

	snprintf(ret, 4096, "%s/qserv-czar-ingest.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if ((fd = mkstemp(ret)) < 0) {
		rc = -errno;
		log_warn("http ingest: cannot make a temporary file in %s: %s", tmp && *tmp ? tmp : "/tmp", strerror(-rc));
		snprintf(err, errlen, "the frontend cannot stage the rows now");
		return rc;
	}
	rc = fileio_write_full(fd, rows, n);
	close(fd);
	if (rc < 0) {
		unlink(ret);
		log_warn("http ingest: writing %s: %s", ret, strerror(-rc));
		snprintf(err, errlen, "the frontend cannot stage the rows now");
	}
	return rc < 0 ? rc : 0;
}

/* The whole ingest of rq with the rows [rows, rows+n) in rq's dialect
 * (dialect: forward it; else the default TSV). */
static enum MHD_Result ingest(struct MHD_Connection *c, const struct http_who *who, const struct ingest_req *rq,
			      const char *rows, size_t n, bool dialect)
{
	struct run r = { .who = who, .timeout_s = rq->timeout_s, .deadline = time(NULL) + rq->timeout_s };
	char path[4096];
	int rc;

	snprintf(r.db, sizeof r.db, "%s", rq->db);
	snprintf(r.table, sizeof r.table, "%s", rq->table);
	if (busy_take(&r))
		return http_fail(c, MHD_HTTP_OK, NULL, "%s", r.err);
	if ((rc = spool(rows, n, path, r.err, sizeof r.err)) == 0) {
		rc = prepare(&r, rq);
		if (!rc)
			rc = contribute(&r, rq, dialect, path);
		if (!rc)
			rc = finish(&r, rq);
		if (rc)
			undo(&r);
		unlink(path);
	}
	busy_put(&r);
	if (rc) {
		log_info("http ingest of %s.%s by %s refused or failed: %s", r.db, r.table, who->user, r.err);
		return http_fail(c, rc == -EPERM ? MHD_HTTP_FORBIDDEN : MHD_HTTP_OK, NULL, "%s", r.err);
	}
	log_info("http ingest: %s.%s by %s, %lld rows", r.db, r.table, who->user, r.rows);
	return http_reply(c, MHD_HTTP_OK, json_pack("{s:s,s:s,s:I}", "database", r.db, "table", r.table, "num_rows",
						    (json_int_t)r.rows));
}

/* A request's table part checked; answered and -1 when refused. */
static int parse(struct MHD_Connection *c, const struct http_who *who, json_t *b, struct ingest_req *rq,
		 enum MHD_Result *ret)
{
	char err[600];
	int status;

	memset(rq, 0, sizeof(*rq));
	if (http_check_version(c, b, ret) < 0)
		return -1;
	if (ingest_req_parse(b, who->user, who->admin, rq, &status, err, sizeof err) < 0) {
		*ret = http_fail(c, status, NULL, "%s", err);
		return -1;
	}
	return 0;
}

static enum MHD_Result ingest_data(struct MHD_Connection *c, const struct http_who *who, const char *body,
				   size_t len)
{
	struct ingest_req rq;
	struct buf tsv;
	json_error_t je;
	char err[600];
	enum MHD_Result ret;
	json_t *b = json_loadb(len ? body : "{}", len ? len : 2, 0, &je);

	if (!json_is_object(b)) {
		json_decref(b);
		return http_fail(c, MHD_HTTP_OK, NULL, "The request body is not a JSON object.");
	}
	buf_init(&tsv);
	if (parse(c, who, b, &rq, &ret) == 0) {
		if (ingest_rows_tsv(&rq, json_object_get(b, "rows"), &tsv, err, sizeof err) < 0)
			ret = http_fail(c, MHD_HTTP_OK, NULL, "%s", tsv.oom ? "out of memory" : err);
		else
			ret = ingest(c, who, &rq, tsv.len ? (const char *)tsv.data : "", tsv.len, false);
	}
	ingest_req_free(&rq);
	buf_free(&tsv);
	json_decref(b);
	return ret;
}

static enum MHD_Result ingest_csv(struct MHD_Connection *c, const struct http_who *who, const char *body,
				  size_t len, const char *ctype)
{
	struct ingest_req rq;
	char err[600];
	size_t off = 0, n = 0;
	enum MHD_Result ret;
	json_t *f = NULL;

	if (ingest_form(body ? body : "", len, ctype, &f, &off, &n, err, sizeof err) < 0)
		return http_fail(c, MHD_HTTP_OK, NULL, "%s", err);
	if (parse(c, who, f, &rq, &ret) == 0)
		ret = ingest(c, who, &rq, body + off, n, true);
	ingest_req_free(&rq);
	json_decref(f);
	return ret;
}

/* DELETE /ingest/table/:db/:table (table) or /ingest/database/:db: the
 * database un-published around the drop when it is published; a table's
 * database is published again after. */
static enum MHD_Result drop(struct MHD_Connection *c, const struct http_who *who, const char *db,
			    const char *table)
{
	struct run r = { .who = who, .timeout_s = INGEST_TIMEOUT_DEFAULT,
			 .deadline = time(NULL) + INGEST_TIMEOUT_DEFAULT };
	bool exists, published, has_table;
	char path[200];
	size_t nt;
	int rc = ingest_check_names(who->user, who->admin, db, table, r.err, sizeof r.err);

	if (rc)
		return http_fail(c, rc == -EPERM ? MHD_HTTP_FORBIDDEN : MHD_HTTP_OK, NULL, "%s", r.err);
	snprintf(r.db, sizeof r.db, "%s", db);
	snprintf(r.table, sizeof r.table, "%s", table ? table : "");
	if (busy_take(&r))
		return http_fail(c, MHD_HTTP_OK, NULL, "%s", r.err);
	rc = db_state(&r, &exists, &published, &has_table, &nt);
	if (!rc && (!exists || (table && !has_table))) {
		snprintf(r.err, sizeof r.err, table ? "no table %s.%s" : "no database %s%s", r.db, table ? table : "");
		rc = -ENOENT;
	}
	if (!rc && published && (rc = publish(&r, false)) == 0)
		r.unpublished = true;
	if (!rc) {
		if (table)
			snprintf(path, sizeof path, "/ingest/table/%s/%s", r.db, table);
		else
			snprintf(path, sizeof path, "/ingest/database/%s", r.db);
		rc = ctl(&r, table ? "dropping the table" : "dropping the database", "DELETE", path, NULL, NULL);
		if (!table && !rc)
			r.unpublished = false;
	}
	if (r.unpublished && publish(&r, true) && !rc)
		rc = -EIO;
	busy_put(&r);
	if (rc)
		return http_fail(c, rc == -EPERM ? MHD_HTTP_FORBIDDEN : MHD_HTTP_OK, NULL, "%s", r.err);
	log_info("http ingest: %s%s%s dropped by %s", r.db, table ? "." : "", table ? table : "", who->user);
	return http_reply(c, MHD_HTTP_OK, json_object());
}

/* DELETE's path: db, and table when want_table ("db/table"); names are
 * checked by ingest_check_names. */
static int split_path(const char *rest, bool want_table, char db[65], char table[65])
{
	const char *slash = strchr(rest, '/');
	size_t n = slash ? (size_t)(slash - rest) : strlen(rest);

	if (n == 0 || n > 64 || (want_table != (slash != NULL)))
		return -EINVAL;
	memcpy(db, rest, n);
	db[n] = '\0';
	if (!want_table)
		return 0;
	if (!slash[1] || strlen(slash + 1) > 64 || strchr(slash + 1, '/'))
		return -EINVAL;
	snprintf(table, 65, "%s", slash + 1);
	return 0;
}

/* A DELETE's body is optional; when given, a JSON object (its version). */
static int delete_body(struct MHD_Connection *c, const char *body, size_t len, enum MHD_Result *ret)
{
	json_error_t je;
	json_t *b = len ? json_loadb(body, len, 0, &je) : NULL;
	int rc = 0;

	if (len && !json_is_object(b)) {
		*ret = http_fail(c, MHD_HTTP_OK, NULL, "The request body is not a JSON object.");
		rc = -EINVAL;
	} else if (http_check_version(c, b, ret) < 0) {
		rc = -EINVAL;
	}
	json_decref(b);
	return rc;
}

enum MHD_Result http_ingest_route(struct MHD_Connection *c, const char *url, const char *method,
				  const struct http_who *who, const char *body, size_t len, const char *ctype)
{
	char db[65], table[65];
	enum MHD_Result ret;
	bool del_t = !strncmp(url, "/ingest/table/", 14), del_d = !strncmp(url, "/ingest/database/", 17);
	bool data = !strcmp(url, "/ingest/data"), csv = !strcmp(url, "/ingest/csv");

	if (!data && !csv && !del_t && !del_d)
		return http_fail(c, MHD_HTTP_NOT_FOUND, NULL, "No such service.");
	if (strcmp(method, (data || csv) ? "POST" : "DELETE"))
		return http_fail(c, MHD_HTTP_METHOD_NOT_ALLOWED, NULL, "Method %s is not allowed here.",
				 (data || csv) ? "other than POST" : "other than DELETE");
	if (!ing.url[0])
		return http_fail(c, MHD_HTTP_OK, NULL, "User-table ingest is not configured on this czar "
				 "(qserv-czar --ingest-url and --ingest-key-file).");
	if (data)
		return ingest_data(c, who, body, len);
	if (csv)
		return ingest_csv(c, who, body, len, ctype);
	if (split_path(url + (del_t ? 14 : 17), del_t, db, table) < 0)
		return http_fail(c, MHD_HTTP_OK, NULL, "Use DELETE /ingest/table/:database/:table or "
				 "DELETE /ingest/database/:database.");
	if (delete_body(c, body, len, &ret) < 0)
		return ret;
	return drop(c, who, db, del_t ? table : NULL);
}
