/* wcopy.c: the source side of a worker-to-worker copy of a replica (a
 * chunk's tables or a database's regular tables),
 * GET /replica/chunk?database=<db>&chunk=<n> or ?database=<db>&regular=1
 * (stream format in wcopy.h), and the start-up cleanup of staging tables.
 * The target side is wcopy_in.c.
 *
 * Who may call: a certificate of role "worker" (the target pulls with its
 * own node certificate) or the admin key (operators, tests): the route's
 * policy QHTTP_KEY_OR_WORKER (wapi.c's routes[]), enforced by the HTTP
 * layer (qhttp.h) before this handler runs.  The query is parsed by
 * wreq_chunk_arg (wreq.c); the tables are wreplica_tables() of the chunk
 * or of WREQ_REGULAR, as the target expects them.  A chunk not held here,
 * or a database that does not exist here, is 404.
 *
 * Every table is read under LOCK TABLES ... READ (a consistent table and
 * checksum, wreplica_checksum() as GET /worker/replica reports it; readers
 * go on, writers wait) with mysql_use_result, so rows are never all in
 * memory, and written through an LZ4 frame compressor into an unlinked
 * file in the staging directory, which is then streamed to the client.  A
 * table locked by a writer is waited for at most 60 s (lock_wait_timeout),
 * then the export fails.  Under that lock a regular table is checked for
 * rows of a transaction not FINISHED here (open, or aborted and being
 * cleaned): 409, never exported (the controller copies the regular tables
 * of published databases only, so this is a guard, not a path).  Chunk
 * tables are not checked so (a full scan each): a chunk is copied by the
 * controller after its database is published.  Trade-off: the replica is
 * on the source's staging disk once, compressed, and the first byte leaves
 * only after the last table was read; qhttp.h has no streaming reply of
 * unknown length to avoid it (asked for).  Character sets: results are
 * read as binary (no conversion), so the bytes loaded on the target are
 * the source's. */
#include "worker.h"
#include "wcopy.h"
#include "qserv/common/qhttp.h"
#include "qserv/common/sqlid.h"
#include "log.h"
#include "monotime.h"

#include <errno.h>
#include <lz4frame.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the LZ4 frame writer ---- */

struct lzw {
	int fd;
	LZ4F_cctx *cx;
	char in[1 << 16];
	size_t nin;
	char *out;
	size_t outcap;
	char *esc;              /* scratch for an escaped field */
	size_t esccap;
	unsigned long long plain, packed;
};

static int lzw_write(struct lzw *z, size_t n)
{
	for (size_t off = 0; off < n;) {
		ssize_t k = write(z->fd, z->out + off, n - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -errno ? -errno : -EIO;
		off += (size_t)k;
	}
	z->packed += n;
	return 0;
}

static int lzw_begin(struct lzw *z, int fd)
{
	z->fd = fd; /* the rest was zeroed by the caller */
	z->outcap = LZ4F_compressBound(sizeof z->in, NULL) + LZ4F_HEADER_SIZE_MAX;
	z->out = malloc(z->outcap);
	if (!z->out || LZ4F_isError(LZ4F_createCompressionContext(&z->cx, LZ4F_VERSION)))
		return -ENOMEM;
	size_t n = LZ4F_compressBegin(z->cx, z->out, z->outcap, NULL);
	return LZ4F_isError(n) ? -EIO : lzw_write(z, n);
}

static int lzw_flush(struct lzw *z)
{
	size_t n = LZ4F_compressUpdate(z->cx, z->out, z->outcap, z->in, z->nin, NULL);
	z->nin = 0;
	return LZ4F_isError(n) ? -EIO : lzw_write(z, n);
}

static int lzw_put(struct lzw *z, const char *p, size_t n)
{
	z->plain += n;
	while (n) {
		size_t k = sizeof z->in - z->nin < n ? sizeof z->in - z->nin : n;
		memcpy(z->in + z->nin, p, k);
		z->nin += k, p += k, n -= k;
		if (z->nin == sizeof z->in) {
			int r = lzw_flush(z);
			if (r)
				return r;
		}
	}
	return 0;
}

static int lzw_printf(struct lzw *z, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int lzw_printf(struct lzw *z, const char *fmt, ...)
{
	char line[WCOPY_CTL_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	return n < 0 || n >= (int)sizeof line ? -EINVAL : lzw_put(z, line, (size_t)n);
}

static int lzw_end(struct lzw *z)
{
	int r = z->nin ? lzw_flush(z) : 0;
	if (r)
		return r;
	size_t n = LZ4F_compressEnd(z->cx, z->out, z->outcap, NULL);
	return LZ4F_isError(n) ? -EIO : lzw_write(z, n);
}

static void lzw_free(struct lzw *z)
{
	LZ4F_freeCompressionContext(z->cx);
	free(z->out);
	free(z->esc);
}

/* One row: escaped fields, tab-separated, newline-terminated. */
static int lzw_row(struct lzw *z, MYSQL_ROW row, const unsigned long *len, unsigned nf)
{
	for (unsigned i = 0; i < nf; i++) {
		size_t need = 2 * (row[i] ? len[i] : 0) + 3;
		if (need > z->esccap) {
			char *e = realloc(z->esc, need);
			if (!e)
				return -ENOMEM;
			z->esc = e, z->esccap = need;
		}
		size_t k = wcopy_escape(row[i], row[i] ? len[i] : 0, z->esc);
		z->esc[k++] = i + 1 < nf ? '\t' : '\n';
		int r = lzw_put(z, z->esc, k);
		if (r)
			return r;
	}
	return 0;
}

/* ---- one table ---- */

/* One export: what is read, on which connection, into which stream. */
struct exp {
	struct worker *w;
	MYSQL *m;
	const char *db;
	int32_t chunk;          /* or WREQ_REGULAR */
	struct lzw z;
	unsigned long long rows;
	unsigned tables;
	char *err;
	size_t errlen;
};

/* The ids of db's transactions not FINISHED here (open, or aborted: rows
 * being deleted or gone) as "1,2,3" into b. */
static void open_trans(struct worker *w, const char *db, struct buf *b)
{
	pthread_mutex_lock(&w->mu);
	for (size_t i = 0; i < w->ntrans; i++)
		if (w->trans[i].state != WT_FINISHED && !strcmp(w->trans[i].db, db))
			buf_printf(b, "%s%u", b->len ? "," : "", w->trans[i].id);
	pthread_mutex_unlock(&w->mu);
}

/* A regular table, read-locked by the caller: -EBUSY when it holds rows
 * of a transaction not FINISHED.  The list is taken under the lock, so it
 * names every transaction with rows there (none can add any until
 * UNLOCK, and a transaction only leaves STARTED). */
static int open_rows(struct exp *x, const char *t)
{
	struct buf b;
	long long id = -1;
	buf_init(&b);
	open_trans(x->w, x->db, &b);
	int r = b.oom ? -ENOMEM : 0;
	if (r)
		snprintf(x->err, x->errlen, "out of memory");
	else if (b.len && qsql_int(x->m, &id, x->err, x->errlen, "SELECT COALESCE(MIN(qserv_trans_id), -1) FROM"
				   " `%s`.`%s` WHERE qserv_trans_id IN (%s)", x->db, t, buf_str(&b)))
		r = -EIO;
	else if (id >= 0) {
		snprintf(x->err, x->errlen, "table %s.%s holds rows of transaction %lld, not committed here;"
			 " copy it after the transaction ends", x->db, t, id);
		r = -EBUSY;
	}
	buf_free(&b);
	return r;
}

/* Rows of db.t and their checksum, under a read lock. */
static int export_table(struct exp *x, const char *t)
{
	unsigned long long sum = 0, rows = 0;
	MYSQL *m = x->m;
	const char *db = x->db;
	char *err = x->err;
	size_t errlen = x->errlen;
	if (qsql_exec(m, err, errlen, "LOCK TABLES `%s`.`%s` READ", db, t))
		return -EIO;
	int r = x->chunk == WREQ_REGULAR ? open_rows(x, t) : 0;
	if (!r)
		r = wreplica_checksum(m, db, t, &sum, err, errlen);
	char q[300];
	snprintf(q, sizeof q, "SELECT * FROM `%s`.`%s`", db, t);
	if (!r && mysql_real_query(m, q, strlen(q))) {
		qsql_note_failure(m, q);
		snprintf(err, errlen, "reading %s.%s: the database refused the query", db, t);
		r = -EIO;
	}
	MYSQL_RES *res = r ? NULL : mysql_use_result(m);
	if (!r)
		r = lzw_printf(&x->z, "\\#table %s\n", t);
	MYSQL_ROW row;
	while (!r && res && (row = mysql_fetch_row(res))) {
		r = lzw_row(&x->z, row, mysql_fetch_lengths(res), mysql_num_fields(res));
		rows++;
	}
	if (!r && (!res || mysql_errno(m))) {
		qsql_note_failure(m, q);
		snprintf(err, errlen, "reading %s.%s: the database failed the query", db, t);
		r = -EIO;
	} else if (r && r != -EIO && r != -ENOENT && r != -EBUSY) {
		snprintf(err, errlen, "writing the copy of %s.%s: %s", db, t, strerror(-r));
	}
	mysql_free_result(res);
	char e2[128];
	qsql_exec(m, e2, sizeof e2, "UNLOCK TABLES");
	if (!r)
		r = lzw_printf(&x->z, "\\#end %llu %llu\n", rows, sum);
	x->rows += rows;
	return r;
}

/* Every table of the replica (wreplica_tables), then \#done. */
static int export_all(struct exp *x)
{
	struct wreplica_table *t = NULL;
	size_t n = 0;
	int r = wreplica_tables(x->m, x->db, x->chunk, &t, &n, x->err, x->errlen);
	if (!r)
		r = x->chunk == WREQ_REGULAR ? lzw_printf(&x->z, "\\#regular %s\n", x->db) :
		    lzw_printf(&x->z, "\\#chunk %s %d\n", x->db, x->chunk);
	for (size_t i = 0; !r && i < n; i++) {
		r = export_table(x, t[i].name);
		x->tables++;
	}
	free(t);
	if (!r)
		r = lzw_printf(&x->z, "\\#done %u\n", x->tables);
	if (!r)
		r = lzw_end(&x->z);
	return r;
}

/* "chunk 5 of db" or "the regular tables of db", for messages. */
static const char *what(const char *db, int32_t chunk, char *buf, size_t n)
{
	if (chunk == WREQ_REGULAR)
		snprintf(buf, n, "the regular tables of %s", db);
	else
		snprintf(buf, n, "chunk %d of %s", chunk, db);
	return buf;
}

/* The export into the unlinked staging file *ret_fd. */
static int export_file(struct exp *x, int *ret_fd)
{
	char tmp[300];
	if (!wreplica_held(x->m, x->db, x->chunk)) {
		if (x->chunk == WREQ_REGULAR)
			snprintf(x->err, x->errlen, "this worker has no database %s", x->db);
		else
			snprintf(x->err, x->errlen, "this worker holds no chunk %d of database %s", x->chunk, x->db);
		return -ENOENT;
	}
	if (snprintf(tmp, sizeof tmp, "%s/copy-out-XXXXXX", x->w->staging) >= (int)sizeof tmp ||
	    (*ret_fd = mkstemp(tmp)) < 0) {
		snprintf(x->err, x->errlen, "cannot create a file in the staging directory");
		return -EIO;
	}
	unlink(tmp);
	if (qsql_exec(x->m, x->err, x->errlen, "SET character_set_results = binary, lock_wait_timeout = 60"))
		return -EIO;
	if (lzw_begin(&x->z, *ret_fd)) {
		snprintf(x->err, x->errlen, "cannot start the copy stream");
		return -ENOMEM;
	}
	return export_all(x);
}

void wcopy_export(struct worker *w, struct qhttp_req *r, const char *rest)
{
	char err[512], db[WREQ_NAME], wh[120];
	(void)rest;   /* callers: the admin key or a worker certificate (route policy) */
	static const char *const keys[] = { "database", "chunk", "regular" };
	struct exp x = { .w = w, .db = db, .chunk = -1, .err = err, .errlen = sizeof err };
	json_t *args = wapi_args(r, keys, 3);
	int rc = args ? wreq_chunk_arg(args, db, &x.chunk, err, sizeof err) : -ENOMEM;
	json_decref(args);
	if (rc == -ENOMEM)
		snprintf(err, sizeof err, "out of memory");
	if (rc) {
		qhttp_reply_error(r, qhttp_status_of(rc), "%s", err);
		return;
	}
	qsql_detail_clear();
	x.m = qsql_connect(&w->sql, err, sizeof err);
	if (!x.m) {
		log_warn("copy of %s: %s", what(db, x.chunk, wh, sizeof wh), qsql_detail());
		qhttp_reply_error(r, 503, "%s", err);
		return;
	}
	int fd = -1;
	int64_t t0 = monotime_ms();
	rc = export_file(&x, &fd);
	mysql_close(x.m);
	if (!rc) {
		log_info("copy out: %s, %u tables, %llu rows, %llu bytes (%llu plain) in %lld ms, to a %s",
			 what(db, x.chunk, wh, sizeof wh), x.tables, x.rows, x.z.packed, x.z.plain,
			 (long long)(monotime_ms() - t0), r->peer_role[0] ? r->peer_role : "key holder");
		qhttp_reply_fd(r, 200, fd, (off_t)x.z.packed, "application/x-lz4");
	} else {
		if (qhttp_status_of(rc) >= 500)
			log_warn("copy of %s: %s -- %s", what(db, x.chunk, wh, sizeof wh), err, qsql_detail());
		if (fd >= 0)
			close(fd);
		qhttp_reply_error(r, qhttp_status_of(rc), "%s", err);
	}
	lzw_free(&x.z);
}

/* ---- start-up cleanup ---- */

int wcopy_cleanup(MYSQL *m, char *err, size_t errlen)
{
	MYSQL_RES *res = qsql_query(m, err, errlen,
		"SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES t WHERE TABLE_SCHEMA IN"
		" (SELECT DISTINCT db FROM qservWorker.tables) AND (TABLE_NAME REGEXP '_[0-9]+__(copy|old)$'"
		" OR EXISTS (SELECT 1 FROM qservWorker.tables k WHERE k.db = t.TABLE_SCHEMA AND k.is_partitioned = 0"
		" AND t.TABLE_NAME IN (CONCAT(k.name, '__copy'), CONCAT(k.name, '__old'))))"
		" AND NOT EXISTS (SELECT 1 FROM qservWorker.tables k WHERE k.db = t.TABLE_SCHEMA"
		" AND k.name = t.TABLE_NAME)");
	if (!res)
		return -EIO;
	MYSQL_ROW row;
	int r = 0;
	while (!r && (row = mysql_fetch_row(res)))
		if (sqlid_ok(row[0]) && sqlid_ok(row[1]))
			r = qsql_exec(m, err, errlen, "DROP TABLE IF EXISTS `%s`.`%s`", row[0], row[1]) ? -EIO : 0;
	mysql_free_result(res);
	return r;
}
