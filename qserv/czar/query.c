/* query.c: what the czar does with a client's statement (see query.h).
 *
 * Every statement is parsed first; refusals and syntax errors never reach
 * a MariaDB.  SELECTs are sent as the printer writes them back (so what
 * runs is exactly the tree the czar analysed); SHOW and DESCRIBE go to the
 * czar's MariaDB as written (as the restricted account, account.h); SET
 * is accepted and ignored (the czar is read-only and answers in utf8mb4)
 * except wait_timeout, kept per session; USE, KILL and SHOW SESSIONS
 * are answered here (SHOW PROCESSLIST in history.c), and so are BEGIN / START TRANSACTION / COMMIT /
 * ROLLBACK (OK: the czar is read-only, a transaction holds nothing). */
#include "query.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <mariadb/mysql.h>
#include <mariadb/mysqld_error.h>

#include "monotime.h"

#include "async.h"
#include "exec.h"
#include "myproto.h"
#include "plan.h"
#include "quota_czar.h"
#include "relay.h"
#include "rowcount.h"
#include "session.h"
#include "sql.h"

/* SHOW [FULL] SESSIONS: MySQL's SHOW PROCESSLIST layout of the czar's
 * connections (SHOW PROCESSLIST itself answers Qserv's query layout). */
static void sessions(struct sess *s, int full)
{
	static const char *const names[] = { "Id", "User", "Host", "db", "Command", "Time", "State", "Info" };
	struct myp_column col;
	struct sess *x;
	unsigned i;
	time_t now = time(NULL);

	myp_column_count(&s->conn, 8);
	for (i = 0; i < 8; i++) {
		memset(&col, 0, sizeof(col));
		col.name = col.org_name = names[i];
		col.charset = (i == 0 || i == 5) ? MYP_CHARSET_BINARY : MYP_CHARSET_UTF8MB4;
		col.type = (i == 0 || i == 5) ? MYSQL_TYPE_LONGLONG : MYSQL_TYPE_VAR_STRING;
		col.length = (i == 7) ? 400 : 64;
		col.flags = (i == 0 || i == 5) ? (NOT_NULL_FLAG | BINARY_FLAG | NUM_FLAG) : 0;
		myp_column(&s->conn, &col, 0);
	}
	myp_eof(&s->conn, s->status);
	pthread_mutex_lock(&s->cz->lock);
	for (x = s->cz->sessions; x; x = x->next) {
		char id[24], t[24], info[401], state[96];
		const char *v[8];
		unsigned long len[8];
		/* MySQL without PROCESS: one's own sessions only; connections
		 * not logged in yet show as "unauthenticated user" to admins */
		if (!s->admin && (!x->logged_in || strcmp(x->user, s->user)))
			continue;
		snprintf(id, sizeof(id), "%u", x->id);
		snprintf(t, sizeof(t), "%lld", (long long)(now - x->since));
		snprintf(info, full ? sizeof(info) : 101, "%s", x->info ? x->info : "");
		v[0] = id;
		v[1] = x->logged_in ? x->user : "unauthenticated user";
		v[2] = x->host;
		v[3] = x->db[0] ? x->db : NULL;
		v[4] = x->command;
		v[5] = t;
		if (x->qid)
			snprintf(state, sizeof(state), "qserv query %llu: chunks %u/%u", (unsigned long long)x->qid,
				 x->progress.done, x->progress.total);
		else
			snprintf(state, sizeof(state), "%s", x->killed ? "Killed" : "");
		v[6] = state;
		v[7] = x->info ? info : NULL;
		for (i = 0; i < 8; i++)
			len[i] = v[i] ? strlen(v[i]) : 0;
		myp_row(&s->conn, v, len, 8);
	}
	pthread_mutex_unlock(&s->cz->lock);
	myp_eof(&s->conn, s->status);
}

/* KILL [QUERY] id: stops the statement of session id (and, without QUERY,
 * closes its connection).  Only the session's own user, or an admin, may
 * kill it (others get MySQL's 1095). */
static void kill_session(struct sess *s, int64_t id, int query_only)
{
	struct sess *x;
	unsigned long tid = 0;
	int found = 0, allowed = 0;

	pthread_mutex_lock(&s->cz->lock);
	for (x = s->cz->sessions; x; x = x->next)
		if ((int64_t)x->id == id) {
			found = 1;
			allowed = s->admin || (x->logged_in && !strcmp(x->user, s->user));
			if (allowed) {
				x->killed = 1;
				tid = x->backend_tid;
				if (!query_only)
					shutdown(x->conn.fd, SHUT_RDWR);
			}
			break;
		}
	pthread_mutex_unlock(&s->cz->lock);
	if (!found) {
		myp_err(&s->conn, ER_NO_SUCH_THREAD, NULL, "Unknown thread id: %lld", (long long)id);
		return;
	}
	if (!allowed) {
		myp_err(&s->conn, ER_KILL_DENIED_ERROR, "HY000", "You are not owner of thread %lld", (long long)id);
		return;
	}
	if (tid)
		backend_kill_query(s->cz->backend, tid);
	myp_ok(&s->conn, 0, s->status, NULL);
}

/* Tables of the czar's MariaDB that show every session of the shared
 * account users' statements run as (account.h): other users' statements.
 * 1 after writing the refusal when st reads one. */
static int shared_session_table(struct sess *s, const struct sql_stmt *st)
{
	static const char *const names[] = { "PROCESSLIST", "USER_STATISTICS", "CLIENT_STATISTICS",
		"THREAD_POOL_QUEUES", "THREAD_POOL_STATS", NULL };
	size_t i, k;

	for (i = 0; st->select && i < st->select->nfrom; i++) {
		const struct sql_table *t = &st->select->from[i];
		const char *db = t->db ? t->db : s->db;
		if (!db || strcasecmp(db, "information_schema") || !t->name)
			continue;
		for (k = 0; names[k]; k++)
			if (!strcasecmp(t->name, names[k])) {
				myp_err(&s->conn, ER_NOT_SUPPORTED_YET, NULL, "Qserv does not support reading "
					"information_schema.%s (SHOW SESSIONS lists your sessions)", names[k]);
				return 1;
			}
	}
	return 0;
}

/* Whether a plan may rest on a snapshot older than a catalog the statement
 * names: a table or database unknown to it, or tables planned to run
 * locally (a database published since the snapshot looks like a local
 * one).  Statements without tables (SELECT 1, @@ probes) never reload. */
static int may_be_stale(int rc, const struct sql_error *err, const struct plan *p, const struct sql_stmt *st)
{
	if (rc < 0)
		return err->code == ER_NO_SUCH_TABLE || err->code == ER_BAD_DB_ERROR;
	return p && p->kind == PLAN_LOCAL && st->select && st->select->nfrom > 0;
}

/* Plans the statement; when the plan may rest on a stale snapshot, loads
 * one begun after the statement arrived (since_ms) and, if it is another,
 * plans again from a fresh parse (planning rewrites the tree).  *m and *st
 * are replaced then (*own_st set: the caller frees that tree). */
static int plan_select(struct sess *s, struct sql_stmt **st, int *own_st, const char *sql, size_t len,
		       int64_t since_ms, struct meta **m, struct plan **p, struct sql_error *err)
{
	char why[256];
	struct meta *fresh;
	struct sql_stmt *again;
	int rc = plan_build(*st, sql, s->db, *m, p, err);

	if (rc == -ENOMEM || !may_be_stale(rc, err, rc == 0 ? *p : NULL, *st))
		return rc;
	fresh = exec_meta_since(s->cz, since_ms, why, sizeof(why));
	if (!fresh || fresh == *m || sql_parse(sql, len, &again, err) < 0) {
		meta_unref(fresh);
		return rc;
	}
	if (rc == 0)
		plan_free(*p);
	*p = NULL;
	meta_unref(*m);
	*m = fresh;
	*st = again;
	*own_st = 1;
	return plan_build(again, sql, s->db, fresh, p, err);
}

/* A distributed query on a client's session: a SYNC history row around it
 * (a SUBMIT's detached session has its ASYNC row already). */
static void run_distributed(struct sess *s, const struct plan *p, const struct meta *m, const char *sql,
			    size_t len)
{
	struct pkt_conn *c = &s->conn;
	char error[600] = "";
	const char *status = "COMPLETED";
	uint64_t id;

	if (s->async) {
		exec_distributed(s, p, m);
		return;
	}
	id = __atomic_add_fetch(&s->cz->next_qid, 1, __ATOMIC_SEQ_CST);
	s->hist_id = id;
	s->rows_sent = s->bytes_sent = 0;
	s->lr_error[0] = 0;
	history_begin(s->cz, id, "SYNC", s->user, p->db ? p->db->name : "", sql, len);
	exec_distributed(s, p, m);
	s->hist_id = 0;
	if (s->lr_error[0] && !s->killed) {   /* streamed rows, then the Large Result ERR */
		status = "FAILED_LR";
		snprintf(error, sizeof(error), "%s", s->lr_error);
	} else if (c->out.len > c->start + 13 && c->out.data[c->start + 4] == 0xff) {
		const unsigned char *e = c->out.data + c->start + 4;
		unsigned code = e[1] | e[2] << 8;
		int n = (int)(c->out.len - c->start - 13);
		/* the merge's Large Result: Qserv's FAILED_LR and its message */
		int lr = !s->killed && code == ER_TOO_BIG_SELECT && n > 16 && !memcmp(e + 9, "MERGE_ERROR 1470", 16);
		status = s->killed ? "ABORTED" : lr ? "FAILED_LR" : "FAILED";
		if (lr)
			snprintf(error, sizeof(error), "%.*s", n, (const char *)e + 9);
		else
			snprintf(error, sizeof(error), "%u %.*s", code, n, (const char *)e + 9);
	}
	history_end(s->cz, id, 1, status, s->progress.total, s->progress.done, s->rows_sent, s->bytes_sent, error);
}

static void run_select(struct sess *s, struct sql_stmt *st, const char *sql, size_t len)
{
	struct sql_error err;
	struct plan *p = NULL;
	char why[256];
	int64_t since = monotime_ms();
	struct meta *m = exec_meta(s->cz, why, sizeof(why));
	int rc, own_st = 0;

	if (!m) {
		myp_err(&s->conn, ER_UNKNOWN_ERROR, NULL, "cannot read the Qserv metadata: %s", why);
		return;
	}
	if (history_select(s, st) || shared_session_table(s, st) || rowcount_try(s, st, sql, m)) {
		meta_unref(m);
		return;
	}
	rc = plan_select(s, &st, &own_st, sql, len, since, &m, &p, &err);
	stages_mark(&s->stages, STAGE_PLAN);
	if (rc == -ENOMEM)
		myp_err(&s->conn, ER_OUT_OF_RESOURCES, NULL, "Out of memory");
	else if (rc < 0)
		myp_err(&s->conn, err.code, NULL, "%s", err.msg);
	else if (p->kind == PLAN_LOCAL)
		relay_run(s, p->sql, strlen(p->sql));
	else if (quota_scan_check(s, p) == 0)
		run_distributed(s, p, m, sql, len);
	plan_free(p);
	meta_unref(m);
	if (own_st)
		sql_stmt_free(st);
}

void query_select(struct sess *s, const char *sql, size_t len)
{
	struct sql_stmt *st;
	struct sql_error err;
	int rc = sql_parse(sql, len, &st, &err);

	if (rc < 0) {
		myp_err(&s->conn, rc == -ENOMEM ? ER_OUT_OF_RESOURCES : err.code, NULL, "%s",
			rc == -ENOMEM ? "Out of memory" : err.msg);
		return;
	}
	if (st->kind == SQL_SELECT)
		run_select(s, st, sql, len);
	else
		myp_err(&s->conn, ER_NOT_SUPPORTED_YET, NULL, "SUBMIT takes a SELECT");
	sql_stmt_free(st);
}

int query_check_select(struct sess *s, const char *sql, size_t len)
{
	struct sql_stmt *st;
	struct sql_error err;
	struct plan *p = NULL;
	char why[256];
	int64_t since = monotime_ms();
	struct meta *m;
	struct sql_stmt *orig;
	int rc = sql_parse(sql, len, &st, &err), own_st = 0;

	if (rc == 0 && st->kind != SQL_SELECT) {
		sql_stmt_free(st);
		myp_err(&s->conn, ER_NOT_SUPPORTED_YET, NULL, "SUBMIT takes a SELECT");
		return -EINVAL;
	}
	if (rc < 0) {
		myp_err(&s->conn, rc == -ENOMEM ? ER_OUT_OF_RESOURCES : err.code, NULL, "%s",
			rc == -ENOMEM ? "Out of memory" : err.msg);
		return rc;
	}
	if (!(m = exec_meta(s->cz, why, sizeof(why)))) {
		myp_err(&s->conn, ER_UNKNOWN_ERROR, NULL, "cannot read the Qserv metadata: %s", why);
		sql_stmt_free(st);
		return -EIO;
	}
	orig = st;
	rc = plan_select(s, &st, &own_st, sql, len, since, &m, &p, &err);
	if (own_st)
		sql_stmt_free(orig);
	if (rc < 0)
		myp_err(&s->conn, rc == -ENOMEM ? ER_OUT_OF_RESOURCES : err.code, NULL, "%s",
			rc == -ENOMEM ? "Out of memory" : err.msg);
	plan_free(p);
	meta_unref(m);
	sql_stmt_free(st);
	return rc;
}

void query_run(struct sess *s, const char *sql, size_t len)
{
	struct sql_stmt *st;
	struct sql_error err;
	int rc;

	pthread_mutex_lock(&s->cz->lock);
	s->cz->queries++;
	pthread_mutex_unlock(&s->cz->lock);
	rc = sql_parse(sql, len, &st, &err);
	stages_mark(&s->stages, STAGE_PARSE);
	if (rc == -ENOMEM) {
		myp_err(&s->conn, ER_OUT_OF_RESOURCES, NULL, "Out of memory");
		return;
	}
	if (rc < 0) {
		myp_err(&s->conn, err.code, NULL, "%s", err.msg);
		return;
	}
	if (quota_stmt_begin(s, st)) {
		sql_stmt_free(st);
		return;
	}
	switch (st->kind) {
	case SQL_SELECT:
		run_select(s, st, sql, len);
		break;
	case SQL_SHOW:
	case SQL_DESCRIBE: {
		char why[256];
		meta_unref(exec_meta(s->cz, why, sizeof(why)));   /* mirror newly published schema */
		relay_run(s, sql, len);
		break;
	}
	case SQL_SHOW_PROCESSLIST:
		history_show_processlist(s, st->show_full);
		break;
	case SQL_SHOW_SESSIONS:
		sessions(s, st->show_full);
		break;
	case SQL_SET:
		if (st->set_wait_timeout >= 0)
			s->wait_timeout = st->set_wait_timeout ? (unsigned)st->set_wait_timeout : s->cz->wait_timeout;
		if (st->set_autocommit >= 0)   /* reported in every OK/EOF, as drivers read it */
			s->status = st->set_autocommit ? SERVER_STATUS_AUTOCOMMIT : 0;
		if (st->set_row_counters >= 0 && !s->admin) {   /* global: MySQL's SUPER, here the czar's admins */
			myp_err(&s->conn, ER_SPECIFIC_ACCESS_DENIED_ERROR, NULL, "Access denied; you need (at least one of) "
				"the SUPER privilege(s) for this operation");
			break;
		}
		if (st->set_row_counters >= 0)
			__atomic_store_n(&s->cz->row_counters, st->set_row_counters, __ATOMIC_SEQ_CST);
		myp_ok(&s->conn, 0, s->status, NULL);
		break;
	case SQL_USE:
		if (strlen(st->db) >= sizeof(s->db))
			myp_err(&s->conn, ER_BAD_DB_ERROR, NULL, "Unknown database '%.64s'", st->db);
		else if (query_check_db(s, st->db) == 0) {
			snprintf(s->db, sizeof(s->db), "%s", st->db);
			myp_ok(&s->conn, 0, s->status, NULL);
		}
		break;
	case SQL_KILL:
		kill_session(s, st->kill_id, st->kill_query);
		break;
	case SQL_SUBMIT:
		async_submit(s, st, sql, len);
		break;
	case SQL_RESULT_FETCH:
		async_fetch(s, st->job_id);
		break;
	case SQL_RESULT_DELETE:
		async_delete(s, st->job_id);
		break;
	case SQL_CANCEL:
		async_cancel(s, st->job_id);
		break;
	case SQL_TXN:   /* read-only, every statement on its own: nothing to begin or undo */
		myp_ok(&s->conn, 0, s->status, NULL);
		break;
	case SQL_SHOW_QUOTA:
		quota_show(s, st->quota_user);
		break;
	}
	quota_stmt_end(s);
	sql_stmt_free(st);
}

void query_field_list(struct sess *s, const char *arg, size_t len)
{
	char table[65];
	size_t n = strnlen(arg, len);

	if (n >= sizeof(table)) {
		myp_err(&s->conn, ER_NO_SUCH_TABLE, NULL, "Table name too long");
		return;
	}
	memcpy(table, arg, n);
	table[n] = 0;
	relay_field_list(s, table);
}

unsigned query_check_db(struct sess *s, const char *db)
{
	char why[256];
	int64_t since = monotime_ms();
	struct meta *m = exec_meta(s->cz, why, sizeof(why));   /* mirrors newly published databases */

	if (m && !meta_find_db(m, db)) {   /* published since the snapshot? */
		meta_unref(m);
		m = exec_meta_since(s->cz, since, why, sizeof(why));
	}
	meta_unref(m);
	return relay_check_db(s, db);
}
