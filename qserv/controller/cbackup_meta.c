/* cbackup_meta.c: the metadata files of a backup (cbackup.c): the
 * database's qservMeta rows (META.md: dbs, tables, chunks, trans,
 * row_counters, replication, ingest_config, chunk_checksums) as one JSON
 * object {table: [{column: value|null}...], index_create: {T: SHOW CREATE
 * TABLE of its director index}}, and each director index as TSV (LOAD
 * DATA's default escapes), each an LZ4 frame.  Rows are read and written
 * by column name (SELECT *: a column added later travels too; META.md
 * says column order is not part of the contract); every column name is
 * checked by sqlid before it goes into an INSERT, every value quoted.
 *
 * A restore (cbackup_meta_load) writes dbs and tables unpublished (the
 * publish at its end sets them), transactions with INSERT IGNORE (ids are
 * the cluster's: one already there stays), and not chunks nor
 * chunk_checksums (the restore places the chunks again; the publish records
 * the checksums).  Trade-off: the files are made in memory (a director
 * index of 10^8 keys is a few GB: stream it when that matters). */
#include "cbackup.h"
#include "qserv/common/qlz4.h"
#include "qserv/common/sqlid.h"
#include "buf.h"

#include <errno.h>
#include <fcntl.h>
#include <lz4frame.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct { const char *table, *col; bool load; } meta_tables[] = {
	{ "dbs", "name", true },       { "tables", "db", true },         { "chunks", "db", false },
	{ "trans", "db", true },       { "row_counters", "db", true },   { "replication", "db", true },
	{ "ingest_config", "db", true }, { "chunk_checksums", "db", false },
};

static json_t *rows_of(MYSQL *m, const char *tbl, const char *col, const char *db, char *err, size_t errlen)
{
	MYSQL_RES *res = qsql_query(m, err, errlen, "SELECT * FROM qservMeta.`%s` WHERE `%s`='%s'", tbl, col, db);
	if (!res)
		return NULL;
	unsigned nf = mysql_num_fields(res);
	MYSQL_FIELD *f = mysql_fetch_fields(res);
	json_t *a = json_array();
	MYSQL_ROW row;
	while ((row = mysql_fetch_row(res))) {
		unsigned long *len = mysql_fetch_lengths(res);
		json_t *o = json_object();
		for (unsigned i = 0; i < nf; i++)
			json_object_set_new(o, f[i].name, row[i] ? json_stringn(row[i], len[i]) : json_null());
		json_array_append_new(a, o);
	}
	mysql_free_result(res);
	return a;
}

/* {T: CREATE TABLE ...} of the director indexes that exist. */
static json_t *index_creates(MYSQL *m, const char *db, char *err, size_t errlen)
{
	MYSQL_RES *res = qsql_query(m, err, errlen,
		"SELECT t.name FROM qservMeta.tables t JOIN information_schema.TABLES i ON i.TABLE_SCHEMA='qservMeta'"
		" AND i.TABLE_NAME=CONCAT(t.db, '__', t.name) WHERE t.db='%s' AND t.is_director=1", db);
	if (!res)
		return NULL;
	json_t *o = json_object();
	MYSQL_ROW row;
	while (o && (row = mysql_fetch_row(res))) {
		MYSQL_RES *s = qsql_query(m, err, errlen, "SHOW CREATE TABLE qservMeta.`%s__%s`", db, row[0]);
		MYSQL_ROW r2 = s ? mysql_fetch_row(s) : NULL;
		if (r2 && r2[1])
			json_object_set_new(o, row[0], json_string(r2[1]));
		else {
			json_decref(o);
			o = NULL;
		}
		if (s)
			mysql_free_result(s);
	}
	mysql_free_result(res);
	return o;
}

json_t *cbackup_meta_dump(MYSQL *m, const char *db, char *err, size_t errlen)
{
	json_t *meta = json_pack("{s:i, s:s}", "format", 1, "database", db);
	for (size_t i = 0; meta && i < sizeof meta_tables / sizeof *meta_tables; i++) {
		json_t *a = rows_of(m, meta_tables[i].table, meta_tables[i].col, db, err, errlen);
		if (!a) {
			json_decref(meta);
			return NULL;
		}
		json_object_set_new(meta, meta_tables[i].table, a);
	}
	json_t *ix = index_creates(m, db, err, errlen);
	if (!ix) {
		json_decref(meta);
		return NULL;
	}
	json_object_set_new(meta, "index_create", ix);
	return meta;
}

/* INSERT of row o into qservMeta.tbl, col set to as, published 0. */
static int insert_row(MYSQL *m, const char *tbl, const char *col, const char *as, json_t *o, bool ignore,
		      char *err, size_t errlen)
{
	struct buf cols, vals;
	const char *k;
	json_t *v;
	int r = 0;
	buf_init(&cols), buf_init(&vals);
	json_object_foreach(o, k, v) {
		const char *s = !strcmp(k, col) ? as : !strcmp(k, "published") ? "0" : json_string_value(v);
		char *q = s ? qsql_quote(m, s) : NULL;
		if (sqlid_check(SQLID_COLUMN, "column", k, err, errlen) || (s && !q)) {
			free(q);
			r = -EINVAL;
			break;
		}
		buf_printf(&cols, "%s`%s`", cols.len ? ", " : "", k);
		if (q)
			buf_printf(&vals, "%s'%s'", vals.len ? ", " : "", q);
		else
			buf_printf(&vals, "%sNULL", vals.len ? ", " : "");
		free(q);
	}
	if (!r && (cols.oom || vals.oom))
		r = -ENOMEM;
	if (!r && qsql_exec(m, err, errlen, "INSERT %sINTO qservMeta.`%s` (%s) VALUES (%s)", ignore ? "IGNORE " : "",
			    tbl, buf_str(&cols), buf_str(&vals)))
		r = -EIO;
	buf_free(&cols), buf_free(&vals);
	return r;
}

int cbackup_meta_load(MYSQL *m, json_t *meta, const char *as, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof meta_tables / sizeof *meta_tables; i++) {
		json_t *a = json_object_get(meta, meta_tables[i].table), *o;
		size_t j;
		if (!meta_tables[i].load)
			continue;
		json_array_foreach(a, j, o) {
			int r = insert_row(m, meta_tables[i].table, meta_tables[i].col, as, o,
					   !strcmp(meta_tables[i].table, "trans"), err, errlen);
			if (r)
				return r;
		}
	}
	return 0;
}

int cbackup_lz4_write(const char *path, const void *data, size_t n, char *err, size_t errlen)
{
	size_t cap = LZ4F_compressFrameBound(n, NULL);
	char *out = malloc(cap);
	size_t k = out ? LZ4F_compressFrame(out, cap, data, n, NULL) : 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int r = !out || LZ4F_isError(k) ? -ENOMEM : fd < 0 ? -EIO : 0;
	for (size_t off = 0; !r && off < k;) {
		ssize_t w = write(fd, out + off, k - off);
		if (w <= 0)
			r = -EIO;
		else
			off += (size_t)w;
	}
	if (fd >= 0 && close(fd) < 0)
		r = -EIO;
	if (r)
		snprintf(err, errlen, "%s: cannot write (%s)", path, r == -ENOMEM ? "out of memory" : strerror(errno));
	free(out);
	return r;
}

/* A field escaped as LOAD DATA reads it (NULL: \N). */
static void tsv_field(struct buf *b, const char *p, unsigned long n)
{
	if (!p) {
		buf_puts(b, "\\N");
		return;
	}
	for (unsigned long i = 0; i < n; i++) {
		char c = p[i];
		if (c == '\\' || c == '\t' || c == '\n' || c == '\0') {
			buf_put(b, "\\", 1);
			c = c == '\t' ? 't' : c == '\n' ? 'n' : c == '\0' ? '0' : c;
		}
		buf_put(b, &c, 1);
	}
}

int cbackup_index_dump(MYSQL *m, const char *db, const char *table, const char *path, long long *ret_rows,
		       char *err, size_t errlen)
{
	MYSQL_RES *res = qsql_query(m, err, errlen, "SELECT * FROM qservMeta.`%s__%s`", db, table);
	if (!res)
		return -EIO;
	unsigned nf = mysql_num_fields(res);
	struct buf b;
	MYSQL_ROW row;
	long long n = 0;
	buf_init(&b);
	while ((row = mysql_fetch_row(res))) {
		unsigned long *len = mysql_fetch_lengths(res);
		for (unsigned i = 0; i < nf; i++) {
			tsv_field(&b, row[i], len[i]);
			buf_put(&b, i + 1 < nf ? "\t" : "\n", 1);
		}
		n++;
	}
	mysql_free_result(res);
	int r = b.oom ? -ENOMEM : cbackup_lz4_write(path, b.data ? (const void *)b.data : "", b.len, err, errlen);
	if (r == -ENOMEM)
		snprintf(err, errlen, "director index %s of %s: out of memory", table, db);
	buf_free(&b);
	*ret_rows = n;
	return r;
}

/* The CREATE TABLE of meta's index of table, renamed to qservMeta.`as__table`. */
static char *index_sql(json_t *meta, const char *as, const char *table, char *err, size_t errlen)
{
	const char *sql = json_string_value(json_object_get(json_object_get(meta, "index_create"), table));
	const char *paren = sql ? strchr(sql, '(') : NULL;
	struct buf b;
	if (!paren) {
		snprintf(err, errlen, "the backup has no definition of the director index of %s", table);
		return NULL;
	}
	buf_init(&b);
	buf_printf(&b, "CREATE TABLE qservMeta.`%s__%s` %s", as, table, paren);
	return buf_steal(&b);
}

int cbackup_index_load(struct ctl *c, MYSQL *m, json_t *meta, const char *as, const char *table,
		       const char *path, long long *ret_rows, char *err, size_t errlen)
{
	char plain[400];
	unsigned long long bytes = 0, rows = 0;
	if (strlen(as) + 2 + strlen(table) > 64) {
		snprintf(err, errlen, "director index name %s__%s is longer than 64 characters", as, table);
		return -EINVAL;
	}
	char *sql = index_sql(meta, as, table, err, errlen);
	if (!sql)
		return -EINVAL;
	snprintf(plain, sizeof plain, "%s/restore-%d-index.tsv", c->staging, (int)getpid());
	int in = open(path, O_RDONLY | O_CLOEXEC), out = open(plain, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int r = in < 0 || out < 0 ? -EIO : 0;
	if (r)
		snprintf(err, errlen, "director index %s: %s", table, strerror(errno));
	if (!r)
		r = qlz4_decompress_fd(in, out, &bytes, err, errlen);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	char *qp = r ? NULL : qsql_quote(m, plain);
	if (!r && (!qp || qsql_exec(m, err, errlen, "%s", sql) ||
		   qsql_exec_n(m, &rows, err, errlen, "LOAD DATA LOCAL INFILE '%s' INTO TABLE qservMeta.`%s__%s`"
			       " CHARACTER SET binary", qp, as, table)))
		r = -EIO;
	free(qp);
	free(sql);
	unlink(plain);
	*ret_rows = (long long)rows;
	return r;
}
