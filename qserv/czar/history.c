/* history.c: the query history rows of qservCzar.queries and Qserv's
 * information_schema.queries / .processlist over them (see async.h). */
#include "async.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <mariadb/mysqld_error.h>

#include "buf.h"
#include "log.h"

#include "czar.h"
#include "history_queue.h"
#include "myproto.h"
#include "relay.h"
#include "session.h"
#include "sql.h"

int history_exec(struct czar *cz, const char *sql, char *err, size_t errlen)
{
	struct backend_conn *bc = backend_get(cz->backend, err, errlen);
	int rc = 0;

	if (!bc)
		return -EIO;
	if (mysql_query(bc->my, sql) != 0) {
		snprintf(err, errlen, "czar history: %s", mysql_error(bc->my));
		rc = -EIO;
	}
	backend_put(cz->backend, bc, mysql_errno(bc->my) >= 2000);
	return rc;
}

/* Appends s (n bytes) as a quoted string literal. */
static void put_str(struct buf *b, MYSQL *my, const char *s, size_t n)
{
	if (buf_reserve(b, 2 * n + 3) < 0)
		return;
	b->data[b->len++] = '\'';
	b->len += mysql_real_escape_string(my, (char *)b->data + b->len, s, n);
	b->data[b->len++] = '\'';
}

static char *dup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

void history_op_free(struct history_op *op)
{
	if (!op)
		return;
	free(op->user);
	free(op->dbs);
	free(op->sql);
	free(op->error);
	free(op);
}

void history_begin(struct czar *cz, uint64_t id, const char *type, const char *user, const char *dbs,
		   const char *sql, size_t len)
{
	struct history_op *op = calloc(1, sizeof(*op));

	if (len > 65000)
		len = 65000;
	if (!op || !(op->user = strdup(user)) || !(op->dbs = strdup(dbs ? dbs : "")) || !(op->sql = dup_n(sql, len))) {
		log_warn("query %llu not in the history: out of memory", (unsigned long long)id);
		history_op_free(op);
		return;
	}
	op->id = id;
	op->at = time(NULL);
	op->sql_len = len;
	snprintf(op->type, sizeof(op->type), "%s", type);
	history_queue_put(cz, op, strcmp(type, "SYNC") == 0);
}

/* One row of the batch INSERT: op's begin, with its end (NULL: still
 * EXECUTING) when both are in the batch. */
static void put_row(struct buf *b, struct czar *cz, MYSQL *my, const struct history_op *op,
		    const struct history_op *end)
{
	int has_result = end && !strcmp(op->type, "ASYNC") && !strcmp(end->status, "COMPLETED");

	buf_printf(b, "%s(%llu, %d, '%s', 'qserv-czar', ", b->len ? ", " : "", (unsigned long long)op->id, cz->port,
		   op->type);
	put_str(b, my, op->user, strlen(op->user));
	buf_printf(b, ", '%s', FROM_UNIXTIME(%lld), FROM_UNIXTIME(%lld), ", end ? end->status : "EXECUTING",
		   (long long)op->at, (long long)(end ? end->at : op->at));
	if (end)
		buf_printf(b, "FROM_UNIXTIME(%lld), %llu, %llu, %llu, %llu, %llu, %d, ", (long long)end->at,
			   (unsigned long long)end->chunks, (unsigned long long)end->chunks_done,
			   (unsigned long long)end->rows, (unsigned long long)end->rows, (unsigned long long)end->bytes,
			   has_result);
	else
		buf_puts(b, "NULL, 0, 0, 0, 0, 0, 0, ");
	put_str(b, my, op->dbs, strlen(op->dbs));
	buf_puts(b, ", ");
	put_str(b, my, op->sql, op->sql_len);
	buf_puts(b, ", ");
	put_str(b, my, end ? end->error : "", end ? strlen(end->error) : 0);
	buf_puts(b, ")");
}

static void insert_rows(MYSQL *my, struct buf *rows, unsigned n)
{
	static const char head[] = "INSERT INTO qservCzar.queries (ID, CZAR_ID, TYPE, CZAR, USER, STATUS, SUBMITTED, "
		"UPDATED, COMPLETED, CHUNKS, CHUNKS_COMP, ROWS_COLLECTED, `ROWS`, BYTES, HAS_RESULT, DBS, QUERY, ERROR) "
		"VALUES ";
	struct buf q;

	if (!n)
		return;
	buf_init(&q);
	buf_put(&q, head, sizeof(head) - 1);
	buf_put(&q, rows->data, rows->len);
	if (rows->oom || q.oom || mysql_real_query(my, (const char *)q.data, q.len) != 0)
		log_warn("%u queries not in the history: %s", n, rows->oom || q.oom ? "out of memory" : mysql_error(my));
	buf_free(&q);
}

void history_progress(struct czar *cz, uint64_t id, uint64_t chunks, uint64_t chunks_done, uint64_t rows,
		      uint64_t bytes)
{
	char sql[400], err[256];

	snprintf(sql, sizeof(sql), "UPDATE qservCzar.queries SET UPDATED = NOW(), CHUNKS = %llu, CHUNKS_COMP = %llu, "
		 "ROWS_COLLECTED = %llu, BYTES = %llu WHERE CZAR_ID = %d AND ID = %llu AND STATUS = 'EXECUTING'",
		 (unsigned long long)chunks, (unsigned long long)chunks_done, (unsigned long long)rows,
		 (unsigned long long)bytes, cz->port, (unsigned long long)id);
	if (history_exec(cz, sql, err, sizeof(err)) < 0)
		log_warn("%s", err);
}

/* Keeps the newest cz->history_max rows of this czar; older finished
 * ones go, their result tables first. */
static void history_prune(struct czar *cz, MYSQL *my)
{
	char sql[512];
	MYSQL_RES *res;
	MYSQL_ROW row;
	unsigned long long floor = 0;

	snprintf(sql, sizeof(sql), "SELECT ID FROM qservCzar.queries WHERE CZAR_ID = %d ORDER BY ID DESC "
		 "LIMIT 1 OFFSET %u", cz->port, cz->history_max ? cz->history_max - 1 : 0);
	if (mysql_query(my, sql) != 0 || !(res = mysql_store_result(my)))
		return;
	if ((row = mysql_fetch_row(res)) && row[0])
		floor = strtoull(row[0], NULL, 10);
	mysql_free_result(res);
	if (!floor)
		return;
	snprintf(sql, sizeof(sql), "SELECT ID FROM qservCzar.queries WHERE CZAR_ID = %d AND ID < %llu AND "
		 "HAS_RESULT = 1 AND STATUS <> 'EXECUTING'", cz->port, floor);
	if (mysql_query(my, sql) == 0 && (res = mysql_store_result(my))) {
		while ((row = mysql_fetch_row(res))) {
			char drop[128];
			snprintf(drop, sizeof(drop), "DROP TABLE IF EXISTS qservResult.result_%s", row[0]);
			mysql_query(my, drop);
		}
		mysql_free_result(res);
	}
	snprintf(sql, sizeof(sql), "DELETE FROM qservCzar.queries WHERE CZAR_ID = %d AND ID < %llu AND "
		 "STATUS <> 'EXECUTING'", cz->port, floor);
	mysql_query(my, sql);
}

void history_end(struct czar *cz, uint64_t id, int queued, const char *status, uint64_t chunks,
		 uint64_t chunks_done, uint64_t rows, uint64_t bytes, const char *error)
{
	struct history_op *op = calloc(1, sizeof(*op));

	if (!op || !(op->error = strdup(error ? error : ""))) {
		log_warn("query %llu: history not updated: out of memory", (unsigned long long)id);
		history_op_free(op);
		return;
	}
	op->end = 1;
	op->id = id;
	op->at = time(NULL);
	snprintf(op->status, sizeof(op->status), "%s", status);
	op->chunks = chunks;
	op->chunks_done = chunks_done;
	op->rows = rows;
	op->bytes = bytes;
	history_queue_put(cz, op, queued);
}

/* Whether this finished row is the one to prune after: every row when
 * the bound is below 64, else every max(32, bound / 16) rows -- a prune
 * reads `bound` index entries, so that keeps it to at most 16 per query,
 * and the table at most bound + bound / 16 rows between prunes. */
static int prune_due(struct czar *cz)
{
	unsigned every = cz->history_max / 16 > 32 ? cz->history_max / 16 : 32;

	return cz->history_max < 64 || __atomic_add_fetch(&cz->hq_ends, 1, __ATOMIC_RELAXED) % every == 0;
}

static void write_end(struct czar *cz, MYSQL *my, const struct history_op *op)
{
	struct buf b;

	buf_init(&b);
	buf_printf(&b, "UPDATE qservCzar.queries SET STATUS = '%s', UPDATED = FROM_UNIXTIME(%lld), COMPLETED = "
		   "FROM_UNIXTIME(%lld), CHUNKS = %llu, CHUNKS_COMP = %llu, ROWS_COLLECTED = %llu, `ROWS` = %llu, "
		   "BYTES = %llu, HAS_RESULT = (TYPE = 'ASYNC' AND '%s' = 'COMPLETED'), ERROR = ", op->status,
		   (long long)op->at, (long long)op->at, (unsigned long long)op->chunks,
		   (unsigned long long)op->chunks_done, (unsigned long long)op->rows, (unsigned long long)op->rows,
		   (unsigned long long)op->bytes, op->status);
	put_str(&b, my, op->error, strlen(op->error));
	buf_printf(&b, " WHERE CZAR_ID = %d AND ID = %llu", cz->port, (unsigned long long)op->id);
	if (b.oom || mysql_real_query(my, (const char *)b.data, b.len) != 0)
		log_warn("query %llu: history not updated: %s", (unsigned long long)op->id, mysql_error(my));
	else if (prune_due(cz))
		history_prune(cz, my);
	buf_free(&b);
}

/* The end of the same query later in the batch, or NULL. */
static struct history_op *end_of(struct history_op *op)
{
	struct history_op *e;

	for (e = op->next; e; e = e->next)
		if (e->end && e->id == op->id)
			return e;
	return NULL;
}

/* Rows first (a begin with its end in the batch is one finished row),
 * in multi-row INSERTs of at most 1 MiB, then the UPDATEs of ends whose
 * begin was written before. */
void history_write_batch(struct czar *cz, MYSQL *my, struct history_op *ops)
{
	struct history_op *op, *end;
	struct buf rows;
	unsigned n = 0;

	buf_init(&rows);
	for (op = ops; op; op = op->next) {
		if (op->end)
			continue;
		if ((end = end_of(op)))
			end->end = 2;                 /* written with its begin */
		put_row(&rows, cz, my, op, end);
		if (++n, rows.len >= (1u << 20)) {
			insert_rows(my, &rows, n);
			buf_free(&rows);
			n = 0;
		}
	}
	insert_rows(my, &rows, n);
	buf_free(&rows);
	for (op = ops; op; op = op->next)
		if (op->end == 1)
			write_end(cz, my, op);
		else if (op->end == 2 && prune_due(cz))
			history_prune(cz, my);
}

/* ---- information_schema.queries / processlist ---------------------------- */

/* Writes the progress of every running query (sessions and SUBMITs) to
 * its row, so a read sees the chunks done now. */
static void flush_progress(struct czar *cz)
{
	struct async_progress v[64];
	size_t n = 0, i;
	struct sess *x;

	pthread_mutex_lock(&cz->lock);
	for (x = cz->sessions; x && n < 64; x = x->next)
		if (x->hist_id && x->qid)
			v[n++] = (struct async_progress){ x->hist_id, x->progress.total, x->progress.done };
	pthread_mutex_unlock(&cz->lock);
	n += async_progress(cz, v + n, 64 - n);
	for (i = 0; i < n; i++) {
		char sql[300], err[256];
		snprintf(sql, sizeof(sql), "UPDATE qservCzar.queries SET UPDATED = NOW(), CHUNKS = %u, CHUNKS_COMP = %u "
			 "WHERE CZAR_ID = %d AND ID = %llu AND STATUS = 'EXECUTING'", v[i].total, v[i].done, cz->port,
			 (unsigned long long)v[i].id);
		history_exec(cz, sql, err, sizeof(err));
	}
}

static const char *const queries_cols =
	"ID, TYPE, CZAR, CZAR_ID, STATUS, SUBMITTED, COMPLETED, RETURNED, CHUNKS, BYTES, ROWS_COLLECTED, `ROWS`, DBS, "
	"QUERY, ERROR";
static const char *const processlist_cols = "ID, TYPE, CZAR, CZAR_ID, SUBMITTED, UPDATED, CHUNKS, CHUNKS_COMP, QUERY";

/* Only what cannot reach beyond the derived table: columns of it,
 * literals, operators, CASE, aggregates. */
static int safe_expr(const struct sql_expr *e)
{
	size_t i;

	if (!e)
		return 1;
	switch (e->kind) {
	case SQL_E_SYSVAR:
	case SQL_E_CAST:
		return 0;
	case SQL_E_COL:
		if (e->db)
			return 0;
		break;
	case SQL_E_FUNC:
		if (!sql_is_aggregate(e) || strcasecmp(e->text, "GROUP_CONCAT") == 0)
			return 0;
		break;
	default:
		break;
	}
	for (i = 0; i < e->nargs; i++)
		if (!safe_expr(e->args[i]))
			return 0;
	return 1;
}

static int safe_select(const struct sql_select *q)
{
	size_t i;

	for (i = 0; i < q->nitems; i++)
		if (!safe_expr(q->items[i].e))
			return 0;
	for (i = 0; i < q->ngroup; i++)
		if (!safe_expr(q->group[i]))
			return 0;
	for (i = 0; i < q->norder; i++)
		if (!safe_expr(q->order[i].e))
			return 0;
	return safe_expr(q->where) && safe_expr(q->having);
}

/* The derived table of the caller's rows (all for an admin). */
static char *derived_sql(struct sess *s, MYSQL *my, int processlist)
{
	struct buf b;

	buf_init(&b);
	buf_printf(&b, "SELECT %s FROM `qservCzar`.`queries` WHERE CZAR_ID = %d", processlist ? processlist_cols :
		   queries_cols, s->cz->port);
	if (processlist)
		buf_puts(&b, " AND STATUS = 'EXECUTING'");
	if (!s->admin) {
		buf_puts(&b, " AND USER = ");
		put_str(&b, my, s->user, strlen(s->user));
	}
	if (b.oom) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

/* SHOW [FULL] PROCESSLIST as Qserv's czar answers it
 * (ccontrol/UserQueryProcessList.cc): the EXECUTING queries, ordered by
 * SUBMITTED; QUERY cut to 32 characters unless FULL, where the column is
 * Qserv's unaliased `query`.  The caller's rows only (all for an admin),
 * as information_schema.processlist. */
void history_show_processlist(struct sess *s, int full)
{
	struct backend_conn *bc;
	struct buf b;
	char err[256];

	history_queue_sync(s->cz, 2000);   /* what ran before this statement is in the table */
	flush_progress(s->cz);
	if (!(bc = backend_get(s->cz->backend, err, sizeof(err)))) {
		myp_err(&s->conn, ER_UNKNOWN_ERROR, NULL, "%s", err);
		return;
	}
	buf_init(&b);
	buf_printf(&b, "SELECT ID, TYPE, CZAR, CZAR_ID, SUBMITTED, UPDATED, CHUNKS, CHUNKS_COMP, %s FROM "
		   "`qservCzar`.`queries` WHERE CZAR_ID = %d AND STATUS = 'EXECUTING'", full ? "QUERY AS `query`" :
		   "SUBSTR(QUERY, 1, 32) AS QUERY", s->cz->port);
	if (!s->admin) {
		buf_puts(&b, " AND USER = ");
		put_str(&b, bc->my, s->user, strlen(s->user));
	}
	buf_puts(&b, " ORDER BY SUBMITTED, ID");
	if (b.oom) {
		myp_err(&s->conn, ER_OUT_OF_RESOURCES, NULL, "Out of memory");
		backend_put(s->cz->backend, bc, 0);
	} else {
		backend_put(s->cz->backend, bc, relay_run_conn(s, bc, (const char *)b.data, b.len));
	}
	buf_free(&b);
}

int history_select(struct sess *s, const struct sql_stmt *st)
{
	struct sql_select *q = st->select;
	struct sql_table *t;
	struct backend_conn *bc;
	struct buf b;
	char err[256], *derived;
	const char *db;
	int processlist;

	if (!q || q->nfrom != 1)
		return 0;
	t = &q->from[0];
	db = t->db ? t->db : s->db;
	if (!db || strcasecmp(db, "information_schema") || !t->name || t->derived)
		return 0;
	if (strcasecmp(t->name, "queries") && strcasecmp(t->name, "processlist"))
		return 0;
	processlist = !strcasecmp(t->name, "processlist");
	if (!safe_select(q)) {
		myp_err(&s->conn, ER_NOT_SUPPORTED_YET, NULL, "Qserv answers information_schema.%s with columns, "
			"literals, operators and aggregates only (no other function)", processlist ? "processlist" : "queries");
		return 1;
	}
	history_queue_sync(s->cz, 2000);   /* what ran before this statement is in the table */
	flush_progress(s->cz);
	bc = backend_get(s->cz->backend, err, sizeof(err));
	if (!bc) {
		myp_err(&s->conn, ER_UNKNOWN_ERROR, NULL, "%s", err);
		return 1;
	}
	derived = derived_sql(s, bc->my, processlist);
	buf_init(&b);
	if (derived) {
		t->derived = derived;
		if (!t->alias)
			t->alias = t->name;
		sql_print_select(&b, q);
		t->derived = NULL;
	}
	if (!derived || b.oom)
		myp_err(&s->conn, ER_OUT_OF_RESOURCES, NULL, "Out of memory");
	else
		backend_put(s->cz->backend, bc, relay_run_conn(s, bc, (const char *)b.data, b.len)), bc = NULL;
	if (bc)
		backend_put(s->cz->backend, bc, 0);
	buf_free(&b);
	free(derived);
	return 1;
}
