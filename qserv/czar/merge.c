/* merge.c: collecting worker rows in a result table (see merge.h). */
#include "merge.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mariadb/mysqld_error.h>

#define MERGE_INSERT_BYTES (1u << 20)

void merge_init(struct merge *mg, MYSQL *my, uint64_t query_id, uint64_t max_rows)
{
	memset(mg, 0, sizeof(*mg));
	mg->my = my;
	mg->max_rows = max_rows;
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

static int fail(struct merge *mg, unsigned code, const char *msg)
{
	mg->err_code = code;
	snprintf(mg->err, sizeof(mg->err), "%s", msg);
	return -1;
}

static int exec(struct merge *mg, const char *sql, size_t len)
{
	if (mysql_real_query(mg->my, sql, len) != 0) {
		char msg[400];
		snprintf(msg, sizeof(msg), "czar result table: %s", mysql_error(mg->my));
		return fail(mg, mysql_errno(mg->my), msg);
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
		return fail(mg, ER_OUT_OF_RESOURCES, "czar out of memory");
	}
	n = (size_t)snprintf(sql, cap, "CREATE TABLE `qservResult`.`%s` (", mg->table);
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

static int reserve(struct merge *mg, size_t n)
{
	if (mg->len + n + 1 > mg->cap) {
		size_t cap = mg->cap ? mg->cap : MERGE_INSERT_BYTES + 4096;
		char *b;
		while (cap < mg->len + n + 1)
			cap *= 2;
		b = realloc(mg->buf, cap);
		if (!b)
			return fail(mg, ER_OUT_OF_RESOURCES, "czar out of memory");
		mg->buf = b;
		mg->cap = cap;
	}
	return 0;
}

static int put(struct merge *mg, const char *s, size_t n)
{
	if (reserve(mg, n) < 0)
		return -1;
	memcpy(mg->buf + mg->len, s, n);
	mg->len += n;
	return 0;
}

int merge_flush(struct merge *mg)
{
	int rc;

	if (mg->len == 0)
		return 0;
	rc = exec(mg, mg->buf, mg->len);
	mg->len = 0;
	return rc;
}

int merge_rows(struct merge *mg, const struct wire_rows *rows)
{
	static const char hex[] = "0123456789ABCDEF";
	uint32_t r;
	unsigned i;
	char head[128];

	if (!mg->created || rows->ncols != mg->ncols)
		return fail(mg, ER_UNKNOWN_ERROR, "czar: rows before columns");
	if (mg->rows + rows->nrows > mg->max_rows) {
		char msg[200];
		snprintf(msg, sizeof(msg), "The result needs more than %llu rows to be merged on the czar: add LIMIT "
			 "or narrow the query", (unsigned long long)mg->max_rows);
		return fail(mg, ER_TOO_BIG_SELECT, msg);
	}
	for (r = 0; r < rows->nrows; r++) {
		if (mg->len == 0) {
			int k = snprintf(head, sizeof(head), "INSERT INTO `qservResult`.`%s` VALUES ", mg->table);
			if (put(mg, head, (size_t)k) < 0)
				return -1;
		} else if (put(mg, ",", 1) < 0) {
			return -1;
		}
		if (put(mg, "(", 1) < 0)
			return -1;
		for (i = 0; i < rows->ncols; i++) {
			const char *v = rows->vals[(size_t)r * rows->ncols + i];
			unsigned long n = rows->lens[(size_t)r * rows->ncols + i], k;
			if (i && put(mg, ",", 1) < 0)
				return -1;
			if (!v) {
				if (put(mg, "NULL", 4) < 0)
					return -1;
			} else if (mg->binary[i]) {
				if (put(mg, "X'", 2) < 0)
					return -1;
				for (k = 0; k < n; k++) {
					char h[2] = { hex[(unsigned char)v[k] >> 4], hex[(unsigned char)v[k] & 15] };
					if (put(mg, h, 2) < 0)
						return -1;
				}
				if (put(mg, "'", 1) < 0)
					return -1;
			} else {
				/* worst case: every byte escaped */
				if (reserve(mg, 2 * (size_t)n + 3) < 0)
					return -1;
				mg->buf[mg->len++] = '\'';
				mg->len += mysql_real_escape_string(mg->my, mg->buf + mg->len, v, n);
				mg->buf[mg->len++] = '\'';
			}
		}
		if (put(mg, ")", 1) < 0)
			return -1;
		mg->rows++;
		if (mg->len >= MERGE_INSERT_BYTES && merge_flush(mg) < 0)
			return -1;
	}
	return 0;
}

void merge_drop(struct merge *mg)
{
	char sql[128];

	if (mg->created) {
		snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS `qservResult`.`%s`", mg->table);
		mysql_query(mg->my, sql);
	}
	free(mg->buf);
	free(mg->binary);
	mg->buf = NULL;
	mg->binary = NULL;
	mg->created = 0;
}
