/* wingest.c: one contribution, from its source to rows in a chunk table.
 *
 * Steps: check the transaction is open (and count the load in flight),
 * refuse a published database (409), resolve the target table
 * (T_<chunk>, TFullOverlap_<chunk> or regular T), get the data as a local
 * file (file:// under the file root, http:// downloaded into the staging
 * directory within limits by wfetch.c, CSV bodies already spooled there; LZ4 frames, as
 * qserv-partition writes with out.lz4, decompressed there), check every row's
 * field count (a bad file is rejected with its line number before any row
 * is loaded), record that the transaction touches the table and bulk-load
 * it with LOAD DATA LOCAL INFILE ... SET qserv_trans_id = <id>.  MariaDB warnings
 * during the load (a value that does not convert, a string cut) do not fail
 * the contribution, as in Qserv: it is FINISHED with num_warnings (MariaDB's
 * count) and the first max_num_warnings of them (level, code, message: the
 * session's max_error_count is set to that) in `warnings`, beside num_rows
 * (rows parsed) and num_rows_loaded (rows LOAD DATA wrote): the loader
 * judges.  A failed LOAD DATA marks the transaction poisoned: its rows may
 * be partial, so the worker then refuses to commit it and only an abort
 * (which deletes the transaction's rows) ends it.  The contribution's record and the poison
 * mark are kept in qservWorker (wstore.c) so that holds across a crash:
 * the record says "loading" before LOAD DATA starts.  An http(s) download
 * that fails transiently (refused, reset, timed out, 5xx) is retried up to
 * max_retries times (Qserv's num_retries, async only; download()), each
 * failed attempt kept in failed_retries. */
#include "worker.h"
#include "qserv/common/csvd.h"
#include "qserv/common/qlz4.h"
#include "qserv/common/sqlid.h"
#include "log.h"
#include "monotime.h"

#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int64_t worker_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct wcontrib *worker_contrib_new(struct worker *w)
{
	struct wcontrib *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	pthread_mutex_lock(&w->mu);
	if (w->ncontribs == w->ccontribs) {
		size_t n = w->ccontribs ? 2 * w->ccontribs : 64;
		struct wcontrib **v = realloc(w->contribs, n * sizeof *v);
		if (!v) {
			pthread_mutex_unlock(&w->mu);
			free(c);
			return NULL;
		}
		w->contribs = v, w->ccontribs = n;
	}
	w->contribs[w->ncontribs++] = c;
	c->id = ++w->next_contrib;
	pthread_mutex_unlock(&w->mu);
	c->create_ms = worker_now_ms();
	c->status = WC_QUEUED;
	c->max_warnings = WREQ_MAX_WARNINGS;
	strcpy(c->charset, "latin1");
	return c;
}

struct wcontrib *worker_contrib_find(struct worker *w, uint32_t id)
{
	struct wcontrib *c = NULL;
	pthread_mutex_lock(&w->mu);
	for (size_t i = 0; i < w->ncontribs && !c; i++)
		if (w->contribs[i]->id == id)
			c = w->contribs[i];
	pthread_mutex_unlock(&w->mu);
	return c;
}

static const char *status_name(enum wcontrib_status s)
{
	switch (s) {
	case WC_QUEUED: return "QUEUED";
	case WC_IN_PROGRESS: return "IN_PROGRESS";
	case WC_FINISHED: return "FINISHED";
	default: return "FAILED";
	}
}

/* The source URL as status replies show it (they are open GETs): without
 * the user:password@ part and without the query string and fragment, where
 * loaders put credentials and signatures.  Cut to fit cap. */
static void url_public(const char *url, char *out, size_t cap)
{
	const char *p = strstr(url, "://"), *host = p ? p + 3 : url, *at, *end;
	size_t n;

	end = host + strcspn(host, "/?#");
	at = memchr(host, '@', (size_t)(end - host));
	n = p ? (size_t)(host - url) : 0;
	snprintf(out, cap, "%.*s%s%.*s", (int)n, url, at ? "***@" : "", (int)strcspn(at ? at + 1 : host, "?#"),
		 at ? at + 1 : host);
}

/* error with every copy of the raw URL replaced by its public form. */
static void error_public(const char *error, const char *url, const char *pub, char *out, size_t cap)
{
	const char *hit = url[0] ? strstr(error, url) : NULL;

	if (!hit)
		snprintf(out, cap, "%s", error);
	else
		snprintf(out, cap, "%.*s%s%s", (int)(hit - error), error, pub, hit + strlen(url));
}

json_t *wcontrib_json(const struct wcontrib *c)
{
	char url[sizeof(c->url)], error[sizeof(c->error) + sizeof(c->url)];

	url_public(c->url, url, sizeof(url));
	error_public(c->error, c->url, url, error, sizeof(error));
	json_t *o = json_pack("{s:I, s:I, s:s, s:s, s:I, s:i, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:s}",
			      "id", (json_int_t)c->id, "transaction_id", (json_int_t)c->trans_id,
			      "database", c->db, "table", c->table, "chunk", (json_int_t)c->chunk,
			      "overlap", c->overlap ? 1 : 0, "url", url, "status", status_name(c->status),
			      "num_bytes", (json_int_t)c->num_bytes, "num_rows", (json_int_t)c->num_rows,
			      "create_time", (json_int_t)c->create_ms, "start_time", (json_int_t)c->start_ms,
			      "read_time", (json_int_t)c->read_ms, "load_time", (json_int_t)c->load_ms,
			      "error", error);
	/* Qserv's descriptor: the warning counters and list, the retry fields */
	json_object_set_new(o, "num_rows_loaded", json_integer((json_int_t)c->num_rows_loaded));
	json_object_set_new(o, "num_warnings", json_integer((json_int_t)c->num_warnings));
	json_object_set_new(o, "max_num_warnings", json_integer(c->max_warnings));
	json_object_set_new(o, "warnings", c->warnings ? json_copy(c->warnings) : json_array());
	json_object_set_new(o, "async", json_integer(c->async));
	json_object_set_new(o, "charset_name", json_string(c->charset));
	json_object_set_new(o, "http_error", json_integer(c->status == WC_FAILED ? c->http_status : 0));
	json_object_set_new(o, "retry_allowed", json_integer(c->status == WC_FAILED && !c->partial));
	json_object_set_new(o, "num_failed_retries", json_integer(c->retries));
	json_object_set_new(o, "max_retries", json_integer(c->max_retries));
	json_object_set_new(o, "failed_retries", c->failed_retries ? json_copy(c->failed_retries) : json_array());
	return o;
}

/* Marks c failed.  A message longer than c->error is cut and ends in
 * "..." so the cut shows. */
static void fail(struct wcontrib *c, int http_status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail(struct wcontrib *c, int http_status, const char *fmt, ...)
{
	va_list ap;
	c->status = WC_FAILED;
	c->http_status = http_status;
	va_start(ap, fmt);
	int n = vsnprintf(c->error, sizeof c->error, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof c->error)
		memcpy(c->error + sizeof c->error - 4, "...", 4);
}

/* Takes the transaction (inflight++) if it is open; fills c->db when the
 * request did not name the database. */
static int take_trans(struct worker *w, struct wcontrib *c)
{
	pthread_mutex_lock(&w->mu);
	struct wtrans *t = worker_trans_find(w, c->trans_id);
	int r = -EINVAL;
	if (!t)
		snprintf(c->error, sizeof c->error, "transaction %u is not open on this worker", c->trans_id);
	else if (t->state != WT_STARTED)
		snprintf(c->error, sizeof c->error, "transaction %u is %s", c->trans_id,
			 t->state == WT_FINISHED ? "committed" : "aborted");
	else if (c->db[0] && strcmp(c->db, t->db))
		snprintf(c->error, sizeof c->error, "transaction %u belongs to database %s, not %s",
			 c->trans_id, t->db, c->db);
	else {
		snprintf(c->db, sizeof c->db, "%s", t->db);
		t->inflight++;
		r = 0;
	}
	pthread_mutex_unlock(&w->mu);
	return r;
}

/* Ends c's part in its transaction; a poisoned transaction is written to
 * qservWorker before c's record stops saying "loading" (wstore.c). */
static void release_trans(struct worker *w, struct wcontrib *c, bool poison, MYSQL *m)
{
	struct wtrans copy = { 0 };
	pthread_mutex_lock(&w->mu);
	struct wtrans *t = worker_trans_find(w, c->trans_id);
	if (t) {
		t->inflight--;
		if (poison)
			t->poisoned = true;
		copy = *t;
	}
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	char err[256];
	if (poison && copy.id && wmeta_save_trans(m, &copy, err, sizeof err))
		log_warn("transaction %u: cannot record its failed load (%s -- %s); the record of contribution"
			 " %u still says loading, so a restart marks it failed", copy.id, err, qsql_detail(), c->id);
}

/* A file:// source: path becomes the file's real path, which must be
 * under the worker's file root (--file-root, else the staging directory):
 * realpath() resolves "..", "." and every symlink first, so neither a
 * ".." nor a symlink leads out of the root; the resolved path, not the
 * request's, is what is opened and loaded. */
static int file_source(struct worker *w, struct wcontrib *c, char *path, size_t len)
{
	const char *root_opt = w->file_root ? w->file_root : w->staging;
	char real[PATH_MAX], root[PATH_MAX];
	size_t n;

	if (c->url[7] != '/') {
		fail(c, 400, "url: a file:// URL must name an absolute path");
		return -EINVAL;
	}
	if (!realpath(root_opt, root)) {
		fail(c, 500, "url: the worker's file root %s is not usable: %s", root_opt, strerror(errno));
		return -EIO;
	}
	if (!realpath(c->url + 7, real)) {
		/* a file that does not exist is only named when it would be under the root */
		int e = errno;
		n = strlen(root);
		if (strncmp(c->url + 7, root, n) || (c->url[7 + n] != '/' && root[n - 1] != '/') ||
		    strstr(c->url + 7, "/../") || strstr(c->url + 7, "/.."))
			goto outside;
		fail(c, 400, "url: cannot read the file: %s", strerror(e));
		return -ENOENT;
	}
	n = strlen(root);
	if (strncmp(real, root, n) || (real[n] != '/' && root[n - 1] != '/'))
		goto outside;
	if (strlen(real) >= len) {
		fail(c, 400, "url: the file's path is too long");
		return -ENAMETOOLONG;
	}
	memcpy(path, real, strlen(real) + 1);
	return 0;
outside:
	fail(c, 403, "url: the file is not under the worker's file root (--file-root, by default the"
	     " staging directory): file:// contributions may only read files there");
	return -EPERM;
}

/* qservWorker.ingest_config: the keys of Qserv's per-database ingest
 * configuration this worker applies, as the controller last sent them
 * (POST /worker/config).  Created here, on first use. */
static int config_table(MYSQL *m, char *err, size_t errlen)
{
	static int made;
	if (__atomic_load_n(&made, __ATOMIC_ACQUIRE))
		return 0;
	if (qsql_exec(m, err, errlen, "CREATE TABLE IF NOT EXISTS qservWorker.ingest_config (db VARCHAR(64) NOT NULL"
		      " PRIMARY KEY, timeout_s BIGINT NOT NULL, async_limit INT NOT NULL) ENGINE=InnoDB"))
		return -EIO;
	__atomic_store_n(&made, 1, __ATOMIC_RELEASE);
	return 0;
}

int wingest_config_save(MYSQL *m, const struct wreq_config *q, char *err, size_t errlen)
{
	if (config_table(m, err, errlen))
		return -EIO;
	return qsql_exec(m, err, errlen, "REPLACE INTO qservWorker.ingest_config VALUES ('%s', %ld, %ld)", q->db,
			 q->timeout_s, q->async_limit) ? -EIO : 0;
}

/* c->timeout_s and c->async_limit from its database's configuration (a
 * failure to read it is logged and leaves them 0: the worker's own). */
static void config_read(MYSQL *m, struct wcontrib *c)
{
	char err[256];
	MYSQL_RES *res = NULL;
	if (!c->db[0] || config_table(m, err, sizeof err) ||
	    !(res = qsql_query(m, err, sizeof err, "SELECT timeout_s, async_limit FROM qservWorker.ingest_config"
			       " WHERE db='%s'", c->db))) {
		if (c->db[0])
			log_warn("contribution %u: its database's ingest configuration: %s -- %s", c->id, err,
				 qsql_detail());
		return;
	}
	MYSQL_ROW row = mysql_fetch_row(res);
	if (row) {
		c->timeout_s = atol(row[0]);
		c->async_limit = atol(row[1]);
	}
	mysql_free_result(res);
}

/* One failed attempt that is retried, in Qserv's failed_retries shape. */
static void note_retry(struct wcontrib *c, int64_t start_ms, long http, int rc, const char *err)
{
	if (!c->failed_retries)
		c->failed_retries = json_array();
	json_array_append_new(c->failed_retries, json_pack("{s:I, s:I, s:s, s:I, s:I, s:i, s:i, s:s}",
		"start_time", (json_int_t)start_ms, "read_time", (json_int_t)worker_now_ms(), "tmp_file", c->spool,
		"num_bytes", (json_int_t)0, "num_rows", (json_int_t)0, "http_error", (int)http,
		"system_error", -rc, "error", err));
	c->retries++;
}

/* Downloads c->url into fd, retrying a transient failure (wfetch_transient)
 * up to c->max_retries times, each recorded; a growing pause between
 * attempts (1 s, 2 s, ... at most 5 s) bounds the total to about
 * (max_retries + 1) downloads' time limit plus the pauses.  Fails c. */
static int download(struct wcontrib *c, int fd)
{
	char err[600];
	struct wfetch_limits lim = *wfetch_limits();
	if (c->timeout_s > 0 && c->timeout_s < lim.timeout_s)
		lim.timeout_s = c->timeout_s;   /* the database's TIMEOUT, never above the worker's */
	for (unsigned attempt = 0;; attempt++) {
		long http = 0;
		int64_t t0 = worker_now_ms();
		int r = wfetch(c->url, fd, &lim, NULL, &http, err, sizeof err);
		if (!r)
			return 0;
		if (attempt >= c->max_retries || !wfetch_transient(r, http) || ftruncate(fd, 0) < 0 ||
		    lseek(fd, 0, SEEK_SET) < 0) {
			fail(c, r == -EFBIG ? 413 : r == -ETIMEDOUT ? 504 : 502, "download failed: %s", err);
			return r;
		}
		note_retry(c, t0, http, r, err);
		log_info("contribution %u: download attempt %u of %u failed (%s): retrying", c->id, attempt + 1,
			 c->max_retries + 1, err);
		struct timespec ts = { .tv_sec = attempt < 4 ? (time_t)attempt + 1 : 5 };
		nanosleep(&ts, NULL);
	}
}

/* Gets a local path to load; downloads http:// sources to the spool. */
static int local_source(struct worker *w, struct wcontrib *c, char *path, size_t len)
{
	if (c->spool[0]) {
		snprintf(path, len, "%s", c->spool);
		return 0;
	}
	if (!strncmp(c->url, "file://", 7))
		return file_source(w, c, path, len);
	if (strncmp(c->url, "http://", 7) && strncmp(c->url, "https://", 8)) {
		fail(c, 400, "unsupported URL '%s' (file://, http:// or https://)", c->url);
		return -EINVAL;
	}
	if (snprintf(c->spool, sizeof c->spool, "%s/contrib-%u.download", w->staging, c->id) >=
	    (int)sizeof c->spool) {
		c->spool[0] = '\0';
		fail(c, 500, "staging directory name too long: %s", w->staging);
		return -ENAMETOOLONG;
	}
	int fd = open(c->spool, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		fail(c, 500, "cannot create the download file: %s", strerror(errno));
		c->spool[0] = '\0';
		return -EIO;
	}
	int r = download(c, fd);
	close(fd);
	if (r)
		return r;
	snprintf(path, len, "%s", c->spool);
	return 0;
}

/* Keeps the first c->max_warnings of the load's n warnings (SHOW
 * WARNINGS holds at most max_error_count, set to that before the load) as
 * [{level, code, message}]. */
static void warnings(MYSQL *m, struct wcontrib *c, unsigned n)
{
	char err[256];
	c->num_warnings = n;
	c->warnings = json_array();
	if (!c->max_warnings)
		return;
	MYSQL_RES *res = qsql_query(m, err, sizeof err, "SHOW WARNINGS LIMIT %u", c->max_warnings);
	MYSQL_ROW row;
	while (res && (row = mysql_fetch_row(res)))
		json_array_append_new(c->warnings, json_pack("{s:s, s:i, s:s}", "level", row[0] ? row[0] : "",
							      "code", row[1] ? atoi(row[1]) : 0,
							      "message", row[2] ? row[2] : ""));
	mysql_free_result(res);
}

/* The request's dialect and charset, checked before anything is read. */
static int check_request(struct wcontrib *c, struct csvd *d)
{
	char err[512];
	if (csvd_parse(d, c->ft[0] ? c->ft : NULL, c->enc, c->esc, c->lt[0] ? c->lt : NULL, err, sizeof err)) {
		fail(c, 400, "%s", err);
		return -EINVAL;
	}
	if (sqlid_check(SQLID_CHARSET, "charset_name", c->charset, err, sizeof err)) {
		fail(c, 400, "%s", err);
		return -EINVAL;
	}
	return 0;
}

/* The table the rows go to: T_<chunk>, TFullOverlap_<chunk> (a director's
 * overlap) or the regular table T; *t is filled (caller frees t->cols,
 * also on failure). */
static int resolve_target(struct wcontrib *c, MYSQL *m, struct wtable *t, char *target, size_t len)
{
	char err[1024];
	int r = wmeta_table(m, c->db, c->table, t, err, sizeof err);
	if (r) {
		if (r != -ENOENT && r != -EINVAL)
			log_warn("contribution %u: %s -- %s", c->id, err, qsql_detail());
		fail(c, r == -ENOENT ? 404 : r == -EINVAL ? 400 : 500, "%s", err);
		return r;
	}
	if (!t->partitioned) {
		/* chunk and overlap mean nothing for a regular table (Qserv
		 * ignores them): the descriptor says -1, 0 (reports count it so) */
		c->chunk = -1;
		c->overlap = false;
		snprintf(target, len, "%s", c->table);
		return 0;
	}
	if (c->chunk < 0) {
		fail(c, 400, "table %s is partitioned: a chunk number is required", c->table);
		return -EINVAL;
	}
	if (c->overlap && !t->director) {
		fail(c, 400, "table %s is not a director table: it has no overlap tables", c->table);
		return -EINVAL;
	}
	if (!wmeta_has_chunk(m, c->db, c->chunk)) {
		fail(c, 400, "chunk %d of %s is not placed on this worker (ask the controller,"
		     " POST /ingest/chunk)", c->chunk, c->db);
		return -EINVAL;
	}
	snprintf(target, len, "%s%s_%d", c->table, c->overlap ? "FullOverlap" : "", c->chunk);
	return 0;
}

/* Decompresses the LZ4 frames of fd (qserv-partition's out.lz4 output)
 * once into plain, in the staging area; returns plain's fd, or -1 (c
 * failed).  fd is closed either way. */
static int decompress(struct worker *w, struct wcontrib *c, int fd, char *plain, size_t len)
{
	char err[1024];
	if (snprintf(plain, len, "%s/contrib-%u.plain", w->staging, c->id) >= (int)len) {
		plain[0] = '\0';
		close(fd);
		fail(c, 500, "staging directory name too long: %s", w->staging);
		return -1;
	}
	int pfd = open(plain, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int r = pfd < 0 ? -errno : qlz4_decompress_fd(fd, pfd, NULL, err, sizeof err);
	close(fd);
	if (r) {
		if (pfd < 0)
			fail(c, 500, "cannot decompress the LZ4 contribution: %s: %s", plain, strerror(-r));
		else
			fail(c, r == -EBADMSG ? 400 : 500, "cannot decompress the LZ4 contribution: %s", err);
		if (pfd >= 0)
			close(pfd);
		return -1;
	}
	lseek(pfd, 0, SEEK_SET);
	return pfd;
}

/* Opens the contribution as a local plain file: path (the file LOAD DATA
 * reads) and the returned fd, or -1 (c failed).  plain names the
 * decompressed copy when there is one (the caller removes it). */
static int open_source(struct worker *w, struct wcontrib *c, char *path, size_t len, char *plain,
		       size_t plainlen)
{
	if (local_source(w, c, path, len))
		return -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fail(c, 400, "cannot open the contribution: %s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	fstat(fd, &st);
	c->num_bytes = (unsigned long long)st.st_size;
	if (!qlz4_is_frame(fd))
		return fd;
	fd = decompress(w, c, fd, plain, plainlen);
	if (fd >= 0)
		snprintf(path, len, "%s", plain);
	return fd;
}

/* Every row must have the table's column count; a bad file is rejected
 * with its line number before any row is loaded.  Closes fd. */
static int check_rows(struct wcontrib *c, int fd, const struct csvd *d, const struct wtable *t)
{
	char err[1024];
	unsigned long long rows = 0;
	int r = csvd_check_fd(fd, d, t->ncols, &rows, err, sizeof err);
	close(fd);
	c->num_rows = rows;
	if (r)
		fail(c, 400, "%s: %s (table %s has %u columns); nothing was loaded", c->url, err, c->table,
		     t->ncols);
	return r;
}

/* Records that the transaction touches target, then LOAD DATA LOCAL
 * INFILE with SET qserv_trans_id.  A failed load or MariaDB warnings
 * poison the transaction (its rows may be partial). */
static void bulk_load(struct wcontrib *c, MYSQL *m, const struct csvd *d, const struct wtable *t,
		      const char *target, const char *path, bool *poison)
{
	char err[1024], dialect[256];
	if (wmeta_touch(m, c->db, target, c->trans_id, err, sizeof err)) {
		log_warn("contribution %u into %s.%s: %s -- %s", c->id, c->db, target, err, qsql_detail());
		fail(c, 500, "%s", err);
		return;
	}
	if (wstore_save(m, c, true, err, sizeof err)) {
		log_warn("contribution %u: cannot record the load's start: %s -- %s", c->id, err, qsql_detail());
		fail(c, 500, "cannot record the contribution before loading it: %s", err);
		return;
	}
	if (qsql_exec(m, err, sizeof err, "SET SESSION max_error_count = %u", c->max_warnings)) {
		log_warn("contribution %u: %s -- %s", c->id, err, qsql_detail());
		fail(c, 500, "%s", err);
		return;
	}
	char *qpath = qsql_quote(m, path);
	csvd_sql(d, dialect, sizeof dialect);
	unsigned long long affected = 0;
	int64_t t1 = monotime_ms();
	int r = qpath ? qsql_exec_n(m, &affected, err, sizeof err,
				    "LOAD DATA LOCAL INFILE '%s' INTO TABLE `%s`.`%s` CHARACTER SET %s %s (%s)"
				    " SET qserv_trans_id = %u",
				    qpath, c->db, target, c->charset, dialect, t->cols, c->trans_id) : -ENOMEM;
	free(qpath);
	c->load_ms = monotime_ms() - t1;
	if (r) {
		*poison = true; /* a failed load may have written some rows */
		log_warn("contribution %u into %s.%s: %s -- %s", c->id, c->db, target, err, qsql_detail());
		fail(c, 500, "loading into %s failed, the transaction must be aborted: %s", target, err);
		return;
	}
	c->num_rows_loaded = affected;
	unsigned nw = mysql_warning_count(m);
	if (nw)
		warnings(m, c, nw);
	c->status = WC_FINISHED;
}

/* The steps of one contribution, in order (see the top of this file). */
static void load(struct worker *w, struct wcontrib *c, MYSQL *m, bool *poison)
{
	char path[1100], target[160], plain[300] = "";
	struct csvd d;
	struct wtable t = { 0 };
	int64_t t0 = monotime_ms();
	char err[512];
	if (check_request(c, &d))
		return;
	int r = wstore_published(m, c->db, err, sizeof err);
	config_read(m, c);
	if (r) {
		fail(c, r == -EPERM ? 409 : 500, "%s", err);
		return;
	}
	if (resolve_target(c, m, &t, target, sizeof target) == 0) {
		int fd = open_source(w, c, path, sizeof path, plain, sizeof plain);
		if (fd >= 0 && check_rows(c, fd, &d, &t) == 0) {
			c->read_ms = monotime_ms() - t0;
			bulk_load(c, m, &d, &t, target, path, poison);
		}
	}
	if (plain[0])
		unlink(plain);
	free(t.cols);
}

/* Runs on a private copy of c, published under w->mu at the start
 * (IN_PROGRESS) and at the end, so status readers never see a half-written
 * record; the record is also kept in qservWorker (wstore.c) at each step. */
void wingest_run(struct worker *w, struct wcontrib *shared)
{
	struct wcontrib x, *c = &x;
	char err[512];
	pthread_mutex_lock(&w->mu);
	shared->start_ms = worker_now_ms();
	shared->status = WC_IN_PROGRESS;
	x = *shared;
	pthread_mutex_unlock(&w->mu);
	json_t *old = x.warnings;       /* the shared copy's, until this run ends */
	json_t *old_fr = x.failed_retries;
	x.warnings = NULL;
	x.failed_retries = old_fr ? json_copy(old_fr) : NULL;   /* this run adds to a copy */
	x.num_warnings = x.num_rows = x.num_rows_loaded = 0;
	x.error[0] = '\0';
	x.http_status = 0;
	x.partial = false;
	MYSQL *m = qsql_connect(&w->sql, err, sizeof err);
	if (!m) {
		log_warn("contribution %u: %s", c->id, qsql_detail());
		fail(c, 500, "%s", err);
	} else if (take_trans(w, c)) {
		c->status = WC_FAILED;
		c->http_status = 400;
	} else {
		bool poison = false;
		if (wstore_save(m, c, false, err, sizeof err))
			log_warn("contribution %u: cannot record it: %s -- %s", c->id, err, qsql_detail());
		load(w, c, m, &poison);
		c->partial = poison;
		release_trans(w, c, poison, m);
	}
	if (m && wstore_save(m, c, false, err, sizeof err))
		log_warn("contribution %u: cannot record its end: %s -- %s", c->id, err, qsql_detail());
	mysql_close(m);
	if (c->spool[0]) {
		unlink(c->spool);
		c->spool[0] = '\0';
	}
	pthread_mutex_lock(&w->mu);
	*shared = x;
	pthread_mutex_unlock(&w->mu);
	json_decref(old);
	json_decref(old_fr);
}

json_t *worker_contrib_snapshot(struct worker *w, const struct wcontrib *c)
{
	pthread_mutex_lock(&w->mu);
	struct wcontrib x = *c;
	json_incref(x.warnings);
	json_incref(x.failed_retries);
	pthread_mutex_unlock(&w->mu);
	json_t *o = wcontrib_json(&x);
	json_decref(x.warnings);
	json_decref(x.failed_retries);
	return o;
}

/* The asynchronous loads of db running now (w->mu held). */
static long db_active(struct worker *w, const char *db)
{
	long n = 0;
	for (size_t i = 0; i < w->ncontribs; i++)
		n += w->contribs[i]->async && w->contribs[i]->status == WC_IN_PROGRESS &&
		     !strcmp(w->contribs[i]->db, db);
	return n;
}

/* Waits for a slot: at most w->async_max loads at once, and at most the
 * database's ASYNC_PROC_LIMIT (read when the load was queued). */
static void *async_main(void *arg)
{
	void **a = arg;
	struct worker *w = a[0];
	struct wcontrib *c = a[1];
	free(a);
	pthread_mutex_lock(&w->mu);
	while (w->async_active >= w->async_max || (c->async_limit > 0 && db_active(w, c->db) >= c->async_limit))
		pthread_cond_wait(&w->cv, &w->mu);
	w->async_active++;
	c->status = WC_IN_PROGRESS;     /* counted by db_active from now on */
	pthread_mutex_unlock(&w->mu);
	wingest_run(w, c);
	pthread_mutex_lock(&w->mu);
	w->async_active--;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int wingest_start_async(struct worker *w, struct wcontrib *c)
{
	/* queued: recorded now, so a restart before it runs still answers for it */
	char err[256];
	MYSQL *m = qsql_connect(&w->sql, err, sizeof err);
	if (!m || wstore_save(m, c, false, err, sizeof err))
		log_warn("contribution %u: cannot record it as queued: %s -- %s", c->id, err, qsql_detail());
	if (m) {
		struct wcontrib x = { 0 };      /* its ASYNC_PROC_LIMIT, for async_main */
		pthread_mutex_lock(&w->mu);
		struct wtrans *t = worker_trans_find(w, c->trans_id);
		snprintf(x.db, sizeof x.db, "%s", c->db[0] || !t ? c->db : t->db);
		pthread_mutex_unlock(&w->mu);
		x.id = c->id;
		config_read(m, &x);
		pthread_mutex_lock(&w->mu);
		c->async_limit = x.async_limit;
		pthread_mutex_unlock(&w->mu);
	}
	mysql_close(m);
	void **a = malloc(2 * sizeof *a);
	if (!a)
		return -ENOMEM;
	a[0] = w, a[1] = c;
	pthread_t th;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	int r = pthread_create(&th, &at, async_main, a);
	pthread_attr_destroy(&at);
	if (r) {
		free(a);
		return -r;
	}
	return 0;
}

json_t *worker_contribs_json(struct worker *w, uint32_t trans, uint32_t id, bool warnings)
{
	json_t *a = json_array();
	pthread_mutex_lock(&w->mu);
	for (size_t i = 0; i < w->ncontribs; i++) {
		const struct wcontrib *c = w->contribs[i];
		if ((trans && c->trans_id == trans) || (id && c->id == id)) {
			json_t *o = wcontrib_json(c);
			json_object_set_new(o, "worker", json_string(w->id ? w->id : ""));
			if (!warnings)
				json_object_set_new(o, "warnings", json_array());
			json_array_append_new(a, o);
		}
	}
	pthread_mutex_unlock(&w->mu);
	return a;
}

/* Qserv's rules for a manual retry: a by-reference contribution (its
 * source can be read again) that failed before any row of it could be
 * in a table, of a transaction still open here. */
int wingest_retry(struct worker *w, uint32_t id, struct wcontrib **ret, char *err, size_t errlen)
{
	int r = 0;
	pthread_mutex_lock(&w->mu);
	struct wcontrib *c = NULL;
	for (size_t i = 0; i < w->ncontribs && !c; i++)
		if (w->contribs[i]->id == id)
			c = w->contribs[i];
	struct wtrans *t = c ? worker_trans_find(w, c->trans_id) : NULL;
	if (!c) {
		snprintf(err, errlen, "no contribution %u", id);
		r = -ENOENT;
	} else if (c->status != WC_FAILED) {
		snprintf(err, errlen, "contribution %u is %s: only a failed contribution is retried", id,
			 status_name(c->status));
		r = -EBUSY;
	} else if (c->partial) {
		snprintf(err, errlen, "contribution %u failed while loading (its rows may be partial): it cannot be"
			 " retried, the transaction must be aborted", id);
		r = -EBUSY;
	} else if (!c->table[0] || (strncmp(c->url, "file://", 7) && strncmp(c->url, "http://", 7) &&
				    strncmp(c->url, "https://", 8))) {
		snprintf(err, errlen, "contribution %u cannot be retried: only a contribution by reference (a"
			 " file:// or http(s):// url) that was accepted can be; send the data again", id);
		r = -EBUSY;
	} else if (!t || t->state != WT_STARTED) {
		snprintf(err, errlen, "contribution %u cannot be retried: transaction %u is not open", id, c->trans_id);
		r = -EBUSY;
	} else if (t->poisoned) {
		/* also a contribution caught in a load by a restart (its record
		 * does not say partial): the transaction can only be aborted */
		snprintf(err, errlen, "contribution %u cannot be retried: transaction %u had a load fail midway and"
			 " must be aborted", id, c->trans_id);
		r = -EBUSY;
	} else {
		c->status = WC_QUEUED;
		c->retries++;
		c->max_retries = 0;   /* Qserv: no automatic retries of a manual one */
		c->create_ms = worker_now_ms();
		*ret = c;
	}
	pthread_mutex_unlock(&w->mu);
	return r;
}
