/* rowcount.c: `SELECT COUNT(*) FROM db.t` answered from Qserv's row
 * counters (qservMeta.row_counters, qserv/controller/META.md), without
 * dispatching a chunk query -- Qserv's UserQuerySelectCountStar.
 *
 * Only the bare shape (one COUNT(*) item, an alias and LIMIT allowed; no
 * WHERE, GROUP BY, HAVING, ORDER BY, DISTINCT or join), on a table of a
 * published database that is not a match table (its rows are stored twice),
 * when the optimization is on (SET GLOBAL QSERV_ROW_COUNTER_OPTIMIZATION),
 * the database has no lost chunk, and at statement time (one read of
 * qservMeta, never the snapshot: counters and transactions change between
 * snapshots) every chunk of the database in qservMeta.chunks has a deployed
 * overlap = 0 counter for t (a regular table: its one counter, chunk
 * 1234567890) and no transaction of the database is STARTED or
 * IS_FINISHING.  Anything else, including an older controller without
 * these tables, scans as before.  The counters are trusted as they are: a
 * wrong counter is a wrong answer, as in Qserv. */
#include "rowcount.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mariadb/mysql.h>

#include "myproto.h"
#include "session.h"

#define DUMMY_CHUNK "1234567890"

const struct sql_table *rowcount_table(const struct sql_stmt *st)
{
	const struct sql_select *s = st->select;
	const struct sql_expr *e;

	if (!s || s->nitems != 1 || s->nfrom != 1 || s->where || s->ngroup || s->having || s->norder || s->distinct)
		return NULL;
	e = s->items[0].e;
	if (e->kind != SQL_E_FUNC || strcasecmp(e->text, "COUNT") || e->distinct || e->nargs != 1 ||
	    e->args[0]->kind != SQL_E_STAR)
		return NULL;
	if (s->from[0].derived || s->from[0].nusing || s->from[0].on)
		return NULL;
	return &s->from[0];
}

/* Reads the counters: 0 and *ret_rows when they answer, -1 when not. */
static int read_counters(MYSQL *my, const char *db, const struct meta_table *t, long long *ret_rows)
{
	char edb[2 * 64 + 1], et[2 * 64 + 1], sql[1200];
	MYSQL_RES *r;
	MYSQL_ROW row;
	int ok;

	if (strlen(db) > 64 || strlen(t->name) > 64)
		return -1;
	mysql_real_escape_string(my, edb, db, (unsigned long)strlen(db));
	mysql_real_escape_string(my, et, t->name, (unsigned long)strlen(t->name));
	/* columns: open transactions, counters wanted, counters found, rows */
	if (t->partitioned)
		snprintf(sql, sizeof(sql),
			 "SELECT (SELECT COUNT(*) FROM qservMeta.trans WHERE db = '%s' AND state IN ('STARTED', "
			 "'IS_FINISHING')), (SELECT COUNT(DISTINCT chunk) FROM qservMeta.chunks WHERE db = '%s'), COUNT(*), "
			 "COALESCE(SUM(num_rows), 0) FROM qservMeta.row_counters WHERE db = '%s' AND tbl = '%s' AND "
			 "overlap = 0 AND deployed = 1 AND chunk IN (SELECT chunk FROM qservMeta.chunks WHERE db = '%s')",
			 edb, edb, edb, et, edb);
	else
		snprintf(sql, sizeof(sql),
			 "SELECT (SELECT COUNT(*) FROM qservMeta.trans WHERE db = '%s' AND state IN ('STARTED', "
			 "'IS_FINISHING')), 1, COUNT(*), COALESCE(SUM(num_rows), 0) FROM qservMeta.row_counters WHERE "
			 "db = '%s' AND tbl = '%s' AND overlap = 0 AND deployed = 1 AND chunk = " DUMMY_CHUNK, edb, edb, et);
	if (mysql_query(my, sql) != 0 || !(r = mysql_store_result(my)))
		return -1;
	row = mysql_fetch_row(r);
	ok = row && row[0] && row[1] && row[2] && row[3] && !strcmp(row[0], "0") && !strcmp(row[1], row[2]);
	if (ok)
		*ret_rows = strtoll(row[3], NULL, 10);
	mysql_free_result(r);
	return ok ? 0 : -1;
}

/* The one-row (or, after LIMIT 0 / OFFSET, empty) result, its column named
 * as MySQL names it: the alias, else the expression as written. */
static void send_count(struct sess *s, const struct sql_select *sel, const char *src, long long n)
{
	struct myp_column col;
	char name[256], v[32];
	const struct sql_item *it = &sel->items[0];
	int len = it->end - it->start;
	const char *vals[1] = { v };
	unsigned long lens[1];

	if (it->alias)
		snprintf(name, sizeof(name), "%s", it->alias);
	else
		snprintf(name, sizeof(name), "%.*s", len > 0 && len < 255 ? len : 8, len > 0 && len < 255 ?
			 src + it->start : "COUNT(*)");
	memset(&col, 0, sizeof(col));
	col.name = col.org_name = name;
	col.charset = MYP_CHARSET_BINARY;
	col.type = MYSQL_TYPE_LONGLONG;
	col.length = 21;
	col.flags = NOT_NULL_FLAG | BINARY_FLAG | NUM_FLAG;
	myp_column_count(&s->conn, 1);
	myp_column(&s->conn, &col, 0);
	myp_eof(&s->conn, s->status);
	lens[0] = (unsigned long)snprintf(v, sizeof(v), "%lld", n);
	if (!sel->has_limit || (sel->limit > 0 && sel->offset == 0))
		myp_row(&s->conn, vals, lens, 1);
	myp_eof(&s->conn, s->status);
}

int rowcount_try(struct sess *s, const struct sql_stmt *st, const char *src, const struct meta *m)
{
	const struct sql_table *t = rowcount_table(st);
	const char *dbn;
	const struct meta_db *d;
	const struct meta_table *mt;
	struct backend_conn *bc;
	char err[256];
	long long n = 0;
	size_t i;
	int rc;

	if (!t || s->async || !__atomic_load_n(&s->cz->row_counters, __ATOMIC_SEQ_CST))
		return 0;
	dbn = t->db ? t->db : s->db;
	if (!dbn || !*dbn || !(d = meta_find_db(m, dbn)) || !(mt = meta_find_table(d, t->name)) || mt->match)
		return 0;
	for (i = 0; i < d->nchunks; i++)
		if (d->chunks[i].nworkers == 0)
			return 0;             /* a lost chunk: the scan names it */
	if (!(bc = backend_get(s->cz->backend, err, sizeof(err))))
		return 0;
	rc = read_counters(bc->my, d->name, mt, &n);
	backend_put(s->cz->backend, bc, mysql_errno(bc->my) >= 2000);
	if (rc < 0)
		return 0;
	send_count(s, st->select, src, n);
	return 1;
}
