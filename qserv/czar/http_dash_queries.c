/* http_dash_queries.c: the dashboard's query views and its Cancel button
 * (http_dash.h).
 *
 * Both views read the czar's query history (qservCzar.queries, async.h)
 * on the admin connection, limited to the caller's own rows unless it is
 * an admin, as information_schema.queries is.  The running rows' chunks
 * done / total come from memory (each session's dispatch_progress, each
 * SUBMIT's async_progress), not from the row: the row is only updated when
 * someone reads the processlist, the session's counter moves with every
 * chunk.  Cancel is not a path of its own: it runs the SQL port's
 * statement as the caller through http_run (KILL QUERY of the session
 * running a synchronous query, CANCEL for a SUBMIT), so who may stop what
 * is decided where it always is. */
#include "http_dash.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mariadb/mysql.h>

#include "async.h"
#include "buf.h"
#include "czar.h"
#include "history_queue.h"
#include "session.h"

#define DASH_MAX_RUNNING 256

static const char *const cols[] = { "id", "type", "user", "status", "submitted", "completed", "chunks",
				    "chunks_done", "rows", "query", "error" };
#define NCOLS (sizeof(cols) / sizeof(cols[0]))

/* Rows of `sql` (the columns above, in order) as an array of objects;
 * the numbers (all but id, type, user, status, query, error) as integers.
 * The id is a string: query ids (start time << 24 | n) pass 2^53, past
 * what JavaScript's (and jq's) numbers hold exactly. */
static json_t *select_rows(struct czar *cz, const char *sql, char *err, size_t errlen)
{
	struct backend_conn *bc;
	MYSQL_RES *res;
	MYSQL_ROW row;
	json_t *a;

	if (!(bc = backend_get(cz->backend, err, errlen)))
		return NULL;
	if (mysql_query(bc->my, sql) != 0 || !(res = mysql_store_result(bc->my))) {
		snprintf(err, errlen, "czar history: %s", mysql_error(bc->my));
		backend_put(cz->backend, bc, mysql_errno(bc->my) >= 2000);
		return NULL;
	}
	a = json_array();
	while (a && (row = mysql_fetch_row(res))) {
		json_t *o = json_object();
		for (size_t i = 0; o && i < NCOLS; i++) {
			int text = i == 0 || i == 1 || i == 2 || i == 3 || i == 9 || i == 10;
			json_object_set_new(o, cols[i], !row[i] ? json_null() : text ? json_string(row[i]) :
						       json_integer(strtoll(row[i], NULL, 10)));
		}
		json_array_append_new(a, o);
	}
	mysql_free_result(res);
	backend_put(cz->backend, bc, 0);
	if (!a)
		snprintf(err, errlen, "out of memory");
	return a;
}

/* SELECT of who's rows (an admin: all) with `where` and `tail`. */
static json_t *history_rows(struct czar *cz, const struct http_who *who, const char *where, const char *tail,
			    char *err, size_t errlen)
{
	char user[2 * AUTH_NAME_MAX + 1];
	struct buf b;
	json_t *a;

	buf_init(&b);
	buf_printf(&b, "SELECT ID, TYPE, USER, STATUS, UNIX_TIMESTAMP(SUBMITTED), UNIX_TIMESTAMP(COMPLETED), CHUNKS, "
		   "CHUNKS_COMP, `ROWS`, LEFT(QUERY, 2000), LEFT(ERROR, 500) FROM qservCzar.queries "
		   "WHERE CZAR_ID = %d AND %s", cz->port, where);
	if (!who->admin) {
		/* user names are checked when the users file is read (auth.h):
		 * letters, digits, '_', '-', '.', so escaping is belt and braces */
		mysql_escape_string(user, who->user, strlen(who->user));
		buf_printf(&b, " AND USER = '%s'", user);
	}
	buf_printf(&b, " %s", tail);
	a = b.oom ? NULL : select_rows(cz, buf_str(&b), err, errlen);
	if (b.oom)
		snprintf(err, errlen, "out of memory");
	buf_free(&b);
	return a;
}

/* Chunks done / total of the running queries, from memory. */
static size_t live_progress(struct czar *cz, struct async_progress *v, size_t max)
{
	size_t n = 0;

	pthread_mutex_lock(&cz->lock);
	for (struct sess *x = cz->sessions; x && n < max; x = x->next)
		if (x->hist_id && x->qid)
			v[n++] = (struct async_progress){ x->hist_id, x->progress.total, x->progress.done };
	pthread_mutex_unlock(&cz->lock);
	return n + async_progress(cz, v + n, max - n);
}

json_t *dash_queries(struct czar *cz, const struct http_who *who, char *err, size_t errlen)
{
	static struct async_progress v[DASH_MAX_RUNNING];   /* under mu: 6 KiB off the thread's stack */
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	json_t *run, *hist, *q;
	char tail[64];
	size_t i, k, n;

	history_queue_sync(cz, 1000);   /* rows of queries begun just now are in the table */
	if (!(run = history_rows(cz, who, "STATUS = 'EXECUTING'", "ORDER BY ID", err, errlen)))
		return NULL;
	snprintf(tail, sizeof(tail), "ORDER BY SUBMITTED DESC, ID DESC LIMIT %d", DASH_HISTORY_ROWS);
	hist = history_rows(cz, who, "STATUS <> 'EXECUTING'", tail, err, errlen);
	if (!hist) {
		json_decref(run);
		return NULL;
	}
	pthread_mutex_lock(&mu);
	n = live_progress(cz, v, DASH_MAX_RUNNING);
	json_array_foreach(run, i, q) {
		const char *ids = json_string_value(json_object_get(q, "id"));
		uint64_t id = ids ? strtoull(ids, NULL, 10) : 0;
		for (k = 0; k < n; k++)
			if (v[k].id == id && v[k].total) {
				json_object_set_new(q, "chunks", json_integer(v[k].total));
				json_object_set_new(q, "chunks_done", json_integer(v[k].done));
			}
	}
	pthread_mutex_unlock(&mu);
	return json_pack("{s:o,s:o}", "running", run, "history", hist);
}

/* The id of the session running the synchronous query of history id (0: none). */
static uint32_t session_of(struct czar *cz, long long id)
{
	uint32_t sid = 0;

	pthread_mutex_lock(&cz->lock);
	for (struct sess *x = cz->sessions; x; x = x->next)
		if (x->hist_id == (uint64_t)id && x->qid && !x->async)
			sid = x->id;
	pthread_mutex_unlock(&cz->lock);
	return sid;
}

int dash_cancel(struct czar *cz, const struct http_who *who, long long id, char *err, size_t errlen)
{
	struct http_answer a;
	char where[64], sql[64];
	json_t *rows;
	const char *type;
	uint32_t sid;
	int rc;

	snprintf(where, sizeof(where), "ID = %lld AND STATUS = 'EXECUTING'", id);
	if (!(rows = history_rows(cz, who, where, "", err, errlen)))
		return -EIO;
	type = json_string_value(json_object_get(json_array_get(rows, 0), "type"));
	if (type && !strcmp(type, "ASYNC"))
		snprintf(sql, sizeof(sql), "CANCEL %lld", id);
	else if (type && (sid = session_of(cz, id)))
		snprintf(sql, sizeof(sql), "KILL QUERY %u", sid);
	else
		sql[0] = '\0';
	json_decref(rows);
	if (!sql[0]) {
		snprintf(err, errlen, "no running query %lld of yours", id);
		return -ENOENT;
	}
	rc = http_run(cz, who, NULL, sql, strlen(sql), HTTP_BIN_HEX, &a);
	if (rc < 0)
		snprintf(err, errlen, "%s", a.error);
	json_decref(a.schema);
	json_decref(a.rows);
	return rc;
}
