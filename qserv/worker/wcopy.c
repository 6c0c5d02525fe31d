/* wcopy.c: the source side of a worker-to-worker chunk copy,
 * GET /replica/chunk?database=<db>&chunk=<n> (stream format in wcopy.h),
 * and the start-up cleanup of staging tables.  The target side is
 * wcopy_in.c.
 *
 * Who may call: a certificate of role "worker" (the target pulls with its
 * own node certificate) or the admin key (operators, tests): the route's
 * policy QHTTP_KEY_OR_WORKER (wapi.c's routes[]), enforced by the HTTP
 * layer (qhttp.h) before this handler runs.  The query is parsed by
 * wreq_chunk_arg (wreq.c).
 *
 * Every chunk table of the chunk is read under LOCK TABLES ... READ (a
 * consistent table and checksum, wreplica_checksum() as GET /worker/replica
 * reports it; readers go on, writers wait) with
 * mysql_use_result, so rows are never all in memory, and written through
 * an LZ4 frame compressor into an unlinked file in the staging directory,
 * which is then streamed to the client.  A table locked by a writer is
 * waited for at most 60 s (lock_wait_timeout), then the export fails.  Trade-off: the chunk is on the
 * source's staging disk once, compressed, and the first byte leaves only
 * after the last table was read; qhttp.h has no streaming reply of unknown
 * length to avoid it (asked for).  Character sets: results are read as
 * binary (no conversion), so the bytes loaded on the target are the
 * source's. */
#include "worker.h"
#include "wcopy.h"
#include "qserv/common/qhttp.h"
#include "qserv/common/sqlid.h"
#include "log.h"
#include "monotime.h"

#include <errno.h>
#include <lz4frame.h>
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

/* Rows of db.t and their checksum, under a read lock. */
static int export_table(MYSQL *m, const char *db, const char *t, struct lzw *z, unsigned long long *ret_rows,
			char *err, size_t errlen)
{
	unsigned long long sum = 0, rows = 0;
	if (qsql_exec(m, err, errlen, "LOCK TABLES `%s`.`%s` READ", db, t))
		return -EIO;
	int r = wreplica_checksum(m, db, t, &sum, err, errlen);
	char q[300];
	snprintf(q, sizeof q, "SELECT * FROM `%s`.`%s`", db, t);
	if (!r && mysql_real_query(m, q, strlen(q))) {
		qsql_note_failure(m, q);
		snprintf(err, errlen, "reading %s.%s: the database refused the query", db, t);
		r = -EIO;
	}
	MYSQL_RES *res = r ? NULL : mysql_use_result(m);
	if (!r)
		r = lzw_printf(z, "\\#table %s\n", t);
	MYSQL_ROW row;
	while (!r && res && (row = mysql_fetch_row(res))) {
		r = lzw_row(z, row, mysql_fetch_lengths(res), mysql_num_fields(res));
		rows++;
	}
	if (!r && (!res || mysql_errno(m))) {
		qsql_note_failure(m, q);
		snprintf(err, errlen, "reading %s.%s: the database failed the query", db, t);
		r = -EIO;
	} else if (r && r != -EIO && r != -ENOENT) {
		snprintf(err, errlen, "writing the copy of %s.%s: %s", db, t, strerror(-r));
	}
	mysql_free_result(res);
	char e2[128];
	qsql_exec(m, e2, sizeof e2, "UNLOCK TABLES");
	if (!r)
		r = lzw_printf(z, "\\#end %llu %llu\n", rows, sum);
	*ret_rows += rows;
	return r;
}

/* The chunk tables of every partitioned table of db (checked names). */
static int export_all(MYSQL *m, const char *db, int32_t chunk, struct lzw *z, unsigned long long *ret_rows,
		      unsigned *ret_tables, char *err, size_t errlen)
{
	MYSQL_RES *res = qsql_query(m, err, errlen,
		"SELECT name, is_director FROM qservWorker.tables WHERE db='%s' AND is_partitioned=1 ORDER BY name", db);
	if (!res)
		return -EIO;
	int r = lzw_printf(z, "\\#chunk %s %d\n", db, chunk);
	MYSQL_ROW row;
	while (!r && (row = mysql_fetch_row(res))) {
		char t[80];
		if (!sqlid_ok(row[0])) {
			snprintf(err, errlen, "a registered table of %s has an invalid name", db);
			r = -EIO;
			break;
		}
		for (int ov = 0; !r && ov <= (atoi(row[1]) != 0); ov++) {
			snprintf(t, sizeof t, "%s%s_%d", row[0], ov ? "FullOverlap" : "", chunk);
			r = export_table(m, db, t, z, ret_rows, err, errlen);
			++*ret_tables;
		}
	}
	mysql_free_result(res);
	if (!r)
		r = lzw_printf(z, "\\#done %u\n", *ret_tables);
	if (!r)
		r = lzw_end(z);
	return r;
}

void wcopy_export(struct worker *w, struct qhttp_req *r, const char *rest)
{
	char err[512], db[WREQ_NAME], tmp[300];
	(void)rest;   /* callers: the admin key or a worker certificate (route policy) */
	static const char *const keys[] = { "database", "chunk" };
	int32_t chunk = -1;
	json_t *args = wapi_args(r, keys, 2);
	int rc = args ? wreq_chunk_arg(args, db, &chunk, err, sizeof err) : -ENOMEM;
	json_decref(args);
	if (rc == -ENOMEM)
		snprintf(err, sizeof err, "out of memory");
	if (rc) {
		qhttp_reply_error(r, qhttp_status_of(rc), "%s", err);
		return;
	}
	qsql_detail_clear();
	MYSQL *m = qsql_connect(&w->sql, err, sizeof err);
	if (!m) {
		log_warn("chunk copy of %s %d: %s", db, chunk, qsql_detail());
		qhttp_reply_error(r, 503, "%s", err);
		return;
	}
	int fd = -1;
	struct lzw z = { .cx = NULL };
	unsigned long long rows = 0;
	unsigned tables = 0;
	int64_t t0 = monotime_ms();
	if (!wmeta_has_chunk(m, db, chunk)) {
		snprintf(err, sizeof err, "this worker holds no chunk %d of database %s", chunk, db);
		rc = -ENOENT;
	} else if (snprintf(tmp, sizeof tmp, "%s/copy-out-XXXXXX", w->staging) >= (int)sizeof tmp ||
		   (fd = mkstemp(tmp)) < 0) {
		snprintf(err, sizeof err, "cannot create a file in the staging directory");
		rc = -EIO;
	} else {
		unlink(tmp);
		rc = qsql_exec(m, err, sizeof err, "SET character_set_results = binary, lock_wait_timeout = 60") ? -EIO :
		     lzw_begin(&z, fd) ? -ENOMEM : 0;
		if (rc == -ENOMEM)
			snprintf(err, sizeof err, "cannot start the copy stream");
		if (!rc)
			rc = export_all(m, db, chunk, &z, &rows, &tables, err, sizeof err);
	}
	mysql_close(m);
	if (!rc) {
		log_info("chunk copy out: %s chunk %d, %u tables, %llu rows, %llu bytes (%llu plain) in %lld ms, to a %s",
			 db, chunk, tables, rows, z.packed, z.plain, (long long)(monotime_ms() - t0),
			 r->peer_role[0] ? r->peer_role : "key holder");
		qhttp_reply_fd(r, 200, fd, (off_t)z.packed, "application/x-lz4");
	} else {
		if (qhttp_status_of(rc) >= 500)
			log_warn("chunk copy of %s %d: %s -- %s", db, chunk, err, qsql_detail());
		if (fd >= 0)
			close(fd);
		qhttp_reply_error(r, qhttp_status_of(rc), "%s", err);
	}
	lzw_free(&z);
}

/* ---- start-up cleanup ---- */

int wcopy_cleanup(MYSQL *m, char *err, size_t errlen)
{
	MYSQL_RES *res = qsql_query(m, err, errlen,
		"SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES t WHERE TABLE_SCHEMA IN"
		" (SELECT DISTINCT db FROM qservWorker.tables) AND TABLE_NAME REGEXP '_[0-9]+__(copy|old)$'"
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
