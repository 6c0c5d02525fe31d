/* merge.c: collecting worker rows in a result table (see merge.h). */
#include "merge.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mariadb/mysqld_error.h>

#include "buf.h"

#define MERGE_INSERT_BYTES (1u << 20)

void merge_init(struct merge *mg, MYSQL *my, uint64_t query_id, uint64_t max_rows)
{
	memset(mg, 0, sizeof(*mg));
	mg->my = my;
	mg->max_rows = max_rows;
	mg->qid = query_id;
	snprintf(mg->table, sizeof(mg->table), "r_%llu", (unsigned long long)query_id);
}

void merge_column_type(const struct wire_col *c, char *buf, size_t len)
{
	const char *u = (c->flags & UNSIGNED_FLAG) ? " UNSIGNED" : "";
	int binary = c->charset == 63;
	unsigned dec = c->decimals;

	switch (c->type) {
	case MYSQL_TYPE_TINY: snprintf(buf, len, "TINYINT%s", u); break;
	case MYSQL_TYPE_SHORT: snprintf(buf, len, "SMALLINT%s", u); break;
	case MYSQL_TYPE_INT24: snprintf(buf, len, "MEDIUMINT%s", u); break;
	case MYSQL_TYPE_LONG: snprintf(buf, len, "INT%s", u); break;
	case MYSQL_TYPE_LONGLONG: snprintf(buf, len, "BIGINT%s", u); break;
	case MYSQL_TYPE_FLOAT: snprintf(buf, len, "FLOAT"); break;
	case MYSQL_TYPE_DOUBLE: snprintf(buf, len, "DOUBLE"); break;
	case MYSQL_TYPE_DECIMAL:
	case MYSQL_TYPE_NEWDECIMAL: {
		/* display length = precision + sign + point */
		long p = (long)c->length - (dec > 0) - !(c->flags & UNSIGNED_FLAG);
		if (dec > 38)
			dec = 38;
		if (p < (long)dec)
			p = dec;
		if (p < 1)
			p = 1;
		if (p > 65)
			p = 65;
		snprintf(buf, len, "DECIMAL(%ld,%u)%s", p, dec, u);
		break;
	}
	case MYSQL_TYPE_DATE: case MYSQL_TYPE_NEWDATE: snprintf(buf, len, "DATE"); break;
	case MYSQL_TYPE_DATETIME: case MYSQL_TYPE_TIMESTAMP:
		snprintf(buf, len, "DATETIME(%u)", dec <= 6 ? dec : 6);
		break;
	case MYSQL_TYPE_TIME: snprintf(buf, len, "TIME(%u)", dec <= 6 ? dec : 6); break;
	case MYSQL_TYPE_YEAR: snprintf(buf, len, "YEAR"); break;
	case MYSQL_TYPE_BIT: snprintf(buf, len, "BIT(%u)", c->length ? (c->length > 64 ? 64 : c->length) : 1); break;
	case MYSQL_TYPE_NULL: snprintf(buf, len, "BINARY(0)"); break;
	case MYSQL_TYPE_VARCHAR: case MYSQL_TYPE_VAR_STRING: case MYSQL_TYPE_STRING:
	case MYSQL_TYPE_ENUM: case MYSQL_TYPE_SET:
		if (binary) {
			if (c->length <= 65000)
				snprintf(buf, len, "VARBINARY(%u)", c->length);
			else
				snprintf(buf, len, "LONGBLOB");
		} else {
			unsigned chars = (c->length + 3) / 4;   /* utf8mb4 results: 4 bytes a character */
			if (chars <= 16000)
				snprintf(buf, len, "VARCHAR(%u) CHARACTER SET utf8mb4", chars ? chars : 1);
			else
				snprintf(buf, len, "LONGTEXT CHARACTER SET utf8mb4");
		}
		break;
	default:   /* blobs, JSON, geometry */
		snprintf(buf, len, binary ? "LONGBLOB" : "LONGTEXT CHARACTER SET utf8mb4");
		break;
	}
}

/* Records the error the client gets (MySQL code and message); returns
 * the negative errno the caller passes on. */
static int fail(struct merge *mg, int rc, unsigned code, const char *msg)
{
	mg->err_code = code;
	snprintf(mg->err, sizeof(mg->err), "%s", msg);
	return rc;
}

static int exec(struct merge *mg, const char *sql, size_t len)
{
	if (mysql_real_query(mg->my, sql, len) != 0) {
		char msg[400];
		snprintf(msg, sizeof(msg), "czar result table: %s", mysql_error(mg->my));
		return fail(mg, -EIO, mysql_errno(mg->my), msg);
	}
	return 0;
}

int merge_columns(struct merge *mg, const struct wire_cols *cols)
{
	char *sql, type[96];
	size_t cap = 256 + (size_t)cols->n * 200, n;
	unsigned i;
	int rc;

	sql = malloc(cap);
	mg->binary = calloc(cols->n, 1);
	if (!sql || !mg->binary) {
		free(sql);
		return fail(mg, -ENOMEM, ER_OUT_OF_RESOURCES, "czar out of memory");
	}
	n = (size_t)snprintf(sql, cap, "CREATE %sTABLE `qservResult`.`%s` (", mg->temporary ? "TEMPORARY " : "",
			     mg->table);
	for (i = 0; i < cols->n; i++) {
		const char *name = cols->v[i].name;
		size_t k;
		merge_column_type(&cols->v[i], type, sizeof(type));
		switch (cols->v[i].type) {     /* binary strings go in as X'..' */
		case MYSQL_TYPE_VARCHAR: case MYSQL_TYPE_VAR_STRING: case MYSQL_TYPE_STRING:
		case MYSQL_TYPE_TINY_BLOB: case MYSQL_TYPE_MEDIUM_BLOB: case MYSQL_TYPE_LONG_BLOB:
		case MYSQL_TYPE_BLOB: case MYSQL_TYPE_BIT: case MYSQL_TYPE_GEOMETRY:
			mg->binary[i] = cols->v[i].charset == 63;
			break;
		default:
			mg->binary[i] = 0;
		}
		n += (size_t)snprintf(sql + n, cap - n, "%s`", i ? ", " : "");
		for (k = 0; name[k] && k < 64 && n + 4 < cap; k++) {    /* names come from our own aliases */
			if (name[k] == '`')
				sql[n++] = '`';
			sql[n++] = name[k];
		}
		n += (size_t)snprintf(sql + n, cap - n, "` %s NULL", type);
	}
	n += (size_t)snprintf(sql + n, cap - n, ") ENGINE=MyISAM DEFAULT CHARSET=utf8mb4");
	rc = exec(mg, sql, n);
	free(sql);
	if (rc == 0) {
		mg->created = 1;
		mg->ncols = cols->n;
	}
	return rc;
}

int merge_flush(struct merge *mg)
{
	int rc;

	if (mg->ins.len == 0)
		return 0;
	rc = exec(mg, (const char *)mg->ins.data, mg->ins.len);
	mg->ins.len = 0;
	return rc;
}

/* One row as a VALUES tuple: NULL, X'hex' for binary strings, else an
 * escaped string literal (MariaDB converts it to the column's type). */
static void put_row(struct merge *mg, const struct wire_rows *rows, uint32_t r)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf *b = &mg->ins;
	unsigned i;

	buf_put(b, "(", 1);
	for (i = 0; i < rows->ncols; i++) {
		const char *v = rows->vals[(size_t)r * rows->ncols + i];
		unsigned long n = rows->lens[(size_t)r * rows->ncols + i], k;
		if (i)
			buf_put(b, ",", 1);
		if (!v) {
			buf_put(b, "NULL", 4);
		} else if (mg->binary[i]) {
			buf_put(b, "X'", 2);
			for (k = 0; k < n; k++) {
				char h[2] = { hex[(unsigned char)v[k] >> 4], hex[(unsigned char)v[k] & 15] };
				buf_put(b, h, 2);
			}
			buf_put(b, "'", 1);
		} else if (buf_reserve(b, 2 * (size_t)n + 3) == 0) {   /* worst case: every byte escaped */
			b->data[b->len++] = '\'';
			b->len += mysql_real_escape_string(mg->my, (char *)b->data + b->len, v, n);
			b->data[b->len++] = '\'';
		}
	}
	buf_put(b, ")", 1);
}

/* Qserv's "Large Result" message (the query ends FAILED_LR). */
static int too_large(struct merge *mg, uint64_t at, uint64_t max, const char *unit)
{
	char msg[300];

	merge_lr_message(msg, sizeof(msg), mg->qid, at, max, unit);
	return fail(mg, -EFBIG, ER_TOO_BIG_SELECT, msg);
}

void merge_lr_message(char *buf, size_t len, uint64_t qid, uint64_t at, uint64_t max, const char *unit)
{
	snprintf(buf, len, "MERGE_ERROR 1470 (QI=%llu; cancelling the query, queryResult table result_%llu is too "
		 "large at %llu %s, max allowed size is %llu %s)", (unsigned long long)qid, (unsigned long long)qid,
		 (unsigned long long)at, unit, (unsigned long long)max, unit);
}

int merge_rows(struct merge *mg, const struct wire_rows *rows)
{
	uint32_t r;
	char head[128];
	uint64_t nb = 0;
	size_t k;

	if (!mg->created || rows->ncols != mg->ncols)
		return fail(mg, -EPROTO, ER_UNKNOWN_ERROR, "czar: rows before columns");
	if (mg->rows + rows->nrows > mg->max_rows)   /* Qserv's limit is in bytes; the czar has both */
		return too_large(mg, mg->rows + rows->nrows, mg->max_rows, "rows");
	for (k = 0; k < (size_t)rows->nrows * rows->ncols; k++)
		nb += rows->vals[k] ? rows->lens[k] : 0;
	if (mg->max_bytes && mg->bytes + nb > mg->max_bytes)
		return too_large(mg, mg->bytes + nb, mg->max_bytes, "bytes");
	mg->bytes += nb;
	if (!mg->ins.cap)                /* one batch, and its last row, without regrowing */
		buf_reserve(&mg->ins, MERGE_INSERT_BYTES + 4096);
	for (r = 0; r < rows->nrows; r++) {
		if (mg->ins.len == 0) {
			int k = snprintf(head, sizeof(head), "INSERT INTO `qservResult`.`%s` VALUES ", mg->table);
			buf_put(&mg->ins, head, (size_t)k);
		} else {
			buf_put(&mg->ins, ",", 1);
		}
		put_row(mg, rows, r);
		if (mg->ins.oom)
			return fail(mg, -ENOMEM, ER_OUT_OF_RESOURCES, "czar out of memory");
		mg->rows++;
		if (mg->ins.len >= MERGE_INSERT_BYTES && merge_flush(mg) < 0)
			return -EIO;
	}
	return 0;
}

int merge_drop(struct merge *mg)
{
	char sql[128];
	int rc = 0;

	if (mg->created) {
		snprintf(sql, sizeof(sql), "DROP %sTABLE IF EXISTS `qservResult`.`%s`",
			 mg->temporary ? "TEMPORARY " : "", mg->table);
		if (mysql_query(mg->my, sql) != 0)
			rc = -EIO;          /* created stays set: a second call retries */
		else
			mg->created = 0;
	}
	buf_free(&mg->ins);
	free(mg->binary);
	mg->binary = NULL;
	return rc;
}
