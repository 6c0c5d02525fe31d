/* fuzz_wreq.c: libFuzzer target for the request bodies of the worker's API,
 * through the real parsers (wreq.c).  The first input byte picks the body
 * kind (modulo 9: contribution, trans, database, chunk, table, sqlindex,
 * subchunks, replica (a chunk or "regular": true), and 8: a query string,
 * ?database= and ?database=&chunk= or &regular=1 through both wreq_db_arg
 * and wreq_chunk_arg), the
 * rest is the body as qhttp_body_json parses it.  Invariants of an
 * accepted body (wreq.h): every name is NUL-terminated and passes
 * sqlid_check of its kind; a contribution's URL has an allowed scheme and
 * none of the bytes that end a literal, its dialect goes through
 * csvd_parse as wingest.c does; a table's column definitions hold nothing
 * that ends a statement or starts a comment outside a '...' literal and
 * name exactly ncols columns; an index's key list holds only quoted names,
 * lengths and DESC.  A violation aborts. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qserv/common/csvd.h"
#include "qserv/common/sqlid.h"
#include "qserv/worker/wreq.h"

static char err[1024];

static void need(int ok)
{
	if (!ok)
		abort();
}

static void name(enum sqlid_kind kind, const char *s, int empty_ok)
{
	need(strnlen(s, WREQ_NAME) < WREQ_NAME);
	need((empty_ok && !*s) || sqlid_check(kind, "f", s, err, sizeof err) == 0);
}

static void contrib(json_t *b)
{
	struct wreq_contrib c;
	struct csvd d;
	char sql[256];
	if (wreq_contrib(b, &c, err, sizeof err))
		return;
	need(c.trans_id > 0 && c.trans_id <= 0x7fffffff);
	name(SQLID_TABLE, c.table, 0);
	name(SQLID_DATABASE, c.db, 1);
	need(strnlen(c.charset, sizeof c.charset) < sizeof c.charset);
	need(!c.charset[0] || sqlid_check(SQLID_CHARSET, "f", c.charset, err, sizeof err) == 0);
	need(strnlen(c.url, sizeof c.url) < sizeof c.url && !strpbrk(c.url, "'\"`\\<> \t\n"));
	need(!c.url[0] || !strncmp(c.url, "file://", 7) || !strncmp(c.url, "http://", 7) ||
	     !strncmp(c.url, "https://", 8));
	need(strlen(c.ft) <= 2 && strlen(c.enc) <= 2 && strlen(c.esc) <= 2 && strlen(c.lt) <= 2);
	if (!csvd_parse(&d, c.ft[0] ? c.ft : NULL, c.enc, c.esc, c.lt[0] ? c.lt : NULL, err, sizeof err))
		csvd_sql(&d, sql, sizeof sql);
}

/* defs ("`a` T,...") outside '...' literals: no ; # " \ -- or slash-star. */
static void defs_safe(const char *s)
{
	int in_str = 0;
	for (; *s; s++) {
		if (*s == '\'')
			in_str = !in_str;
		else if ((unsigned char)*s < 0x20 || *s == '\\' || (unsigned char)*s > 0x7e)
			abort();
		else if (!in_str && (strchr(";\"#", *s) || !strncmp(s, "--", 2) || !strncmp(s, "/*", 2)))
			abort();
	}
	need(!in_str);
}

static void table(json_t *b)
{
	struct wreq_table t;
	if (!wreq_table(b, &t, err, sizeof err)) {
		name(SQLID_DATABASE, t.db, 0);
		name(SQLID_TABLE, t.table, 0);
		name(SQLID_COLUMN, t.director_key, 1);
		name(SQLID_COLUMN, t.chunk_key, !t.partitioned);
		name(SQLID_COLUMN, t.sub_chunk_key, !t.partitioned);
		need(!t.director || t.partitioned);
		need(!t.partitioned || strlen(t.table) <= 42);
		need(t.ncols > 0 && t.ncols == json_array_size(json_object_get(b, "schema")));
		defs_safe(buf_str(&t.defs));
		unsigned ticks = 0;
		for (const char *p = buf_str(&t.cols); *p; p++)
			ticks += *p == '`';
		need(ticks == 2 * t.ncols);
	}
	wreq_table_free(&t);
}

/* A replica order: names checked, the URL a bare http(s) base. */
static void replica(json_t *b)
{
	struct wreq_replica q;
	if (wreq_replica(b, &q, err, sizeof err))
		return;
	name(SQLID_DATABASE, q.db, 0);
	json_t *c = json_object_get(b, "chunk");
	need(q.chunk >= 0 || q.chunk == WREQ_REGULAR);
	need((q.chunk == WREQ_REGULAR) == (!c || json_is_null(c)));   /* exactly one of the two */
	need(strlen(q.source_id) > 0 && strlen(q.source_id) < WREQ_NAME);
	need(strspn(q.source_id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") ==
	     strlen(q.source_id));
	need(strlen(q.source_url) < sizeof q.source_url);
	need(!strncmp(q.source_url, "http://", 7) || !strncmp(q.source_url, "https://", 8));
	need(!strpbrk(strstr(q.source_url, "://") + 3, "'\"`\\<> \t\n?#@/%"));
}

/* A query string: an optional database, a chunk of digits only, or
 * regular=1 and no chunk (WREQ_REGULAR). */
static void args(json_t *q)
{
	char db[WREQ_NAME];
	int32_t chunk;
	if (!wreq_db_arg(q, db, err, sizeof err))
		name(SQLID_DATABASE, db, 1);
	if (!wreq_chunk_arg(q, db, &chunk, err, sizeof err)) {
		name(SQLID_DATABASE, db, 0);
		const char *s = json_string_value(json_object_get(q, "chunk"));
		json_t *rv = json_object_get(q, "regular");
		const char *reg = json_string_value(rv);
		if (chunk == WREQ_REGULAR) {   /* regular=1 (a query string's), or a body's true or 1 */
			need(!json_object_get(q, "chunk") && (json_is_true(rv) || (reg && !strcmp(reg, "1")) ||
							      (json_is_integer(rv) && json_integer_value(rv) == 1)));
			return;
		}
		need(chunk >= 0);
		need(s && strspn(s, "0123456789") == strlen(s) && strtoll(s, NULL, 10) == chunk);
	}
}

static void body(uint8_t kind, json_t *b)
{
	union { struct wreq_trans t; struct wreq_index i; struct wreq_subchunks s; } u;
	char db[WREQ_NAME];
	int32_t chunk;
	switch (kind % 9) {
	case 0:
		contrib(b);
		break;
	case 1:
		if (!wreq_trans(b, &u.t, err, sizeof err)) {
			need(u.t.id > 0 && u.t.id <= 0x7fffffff);
			need(u.t.action != WREQ_BEGIN || sqlid_check(SQLID_DATABASE, "f", u.t.db, err, sizeof err) == 0);
		}
		break;
	case 2:    /* {database} and POST /worker/config share a kind */
		if (!wreq_db(b, db, err, sizeof err))
			name(SQLID_DATABASE, db, 0);
		{
			struct wreq_config q;
			if (!wreq_config(b, &q, err, sizeof err)) {
				name(SQLID_DATABASE, q.db, 0);
				need(q.timeout_s >= 0 && q.timeout_s <= 0x7fffffff);
				need(q.async_limit >= 0 && q.async_limit <= 0x7fffffff);
			}
		}
		break;
	case 3:
		if (!wreq_chunk(b, db, &chunk, err, sizeof err)) {
			name(SQLID_DATABASE, db, 0);
			need(chunk >= 0);
		}
		break;
	case 4:
		table(b);
		break;
	case 5:
		if (!wreq_index(b, &u.i, err, sizeof err)) {
			name(SQLID_DATABASE, u.i.db, 0);
			name(SQLID_TABLE, u.i.table, 0);
			name(SQLID_INDEX, u.i.index, 0);
			need(strlen(u.i.list) < sizeof u.i.list && u.i.list[0] == '`');
			need(strspn(u.i.list, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_`(), ") ==
			     strlen(u.i.list));
			need(u.i.comment != NULL);
		}
		break;
	case 7:
		replica(b);
		break;
	case 8:
		args(b);
		break;
	default:
		if (!wreq_subchunks(b, &u.s, err, sizeof err)) {
			name(SQLID_DATABASE, u.s.db, 0);
			name(SQLID_TABLE, u.s.table, 0);
			need(u.s.n == json_array_size(json_object_get(b, "sub_chunks")));
			free(u.s.sub);
		}
	}
	need(strnlen(err, sizeof err) < sizeof err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	json_error_t je;
	json_t *b = json_loadb((const char *)data + 1, size - 1, 0, &je);
	if (json_is_object(b))
		body(data[0], b);
	json_decref(b);
	return 0;
}
