/* async.c: SUBMIT, qserv_result(), qserv_result_delete(), CANCEL, and the
 * background jobs behind them (see async.h). */
#include "async.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mariadb/mysqld_error.h>

#include "log.h"
#include "monotime.h"

#include "czar.h"
#include "history_queue.h"
#include "merge.h"
#include "myproto.h"
#include "query.h"
#include "relay.h"
#include "quota.h"
#include "session.h"
#include "sql.h"

struct async_job {
	struct sess fake;             /* the detached session the SELECT runs in */
	int fds[2];                   /* fds[0]: its connection; fds[1]: read here */
	char *sql;
	size_t len;
	uint64_t rows, bytes;
	volatile int cancelled;       /* CANCEL: ends ABORTED */
	struct async_job *next;
};

/* ---- the job ------------------------------------------------------------- */

static void *job_runner(void *arg)
{
	struct async_job *j = arg;

	query_select(&j->fake, j->sql, j->len);
	pkt_flush(&j->fake.conn);
	shutdown(j->fds[0], SHUT_WR);
	return NULL;
}

/* One column definition packet into c (strings point into p). */
static int parse_column(struct lerd *r, struct wire_col *c, struct buf *names)
{
	char **dst[6] = { NULL, &c->db, &c->table, &c->org_table, &c->name, &c->org_name };
	size_t n, k;

	for (k = 0; k < 6; k++) {
		const unsigned char *v = pkt_get_lenstr(r, &n);
		if (!v)
			return -EPROTO;
		if (dst[k]) {
			*dst[k] = (char *)(uintptr_t)(names->len + 1);   /* offset, fixed up after */
			buf_put(names, v, n);
			buf_put(names, "", 1);
		}
	}
	pkt_get_lenenc(r);
	c->charset = (uint16_t)lerd_u16(r);
	c->length = lerd_u32(r);
	c->type = (uint8_t)lerd_u8(r);
	c->flags = (uint16_t)lerd_u16(r);
	c->decimals = (uint8_t)lerd_u8(r);
	return r->err ? -EPROTO : 0;
}

struct reader {
	struct async_job *j;
	struct merge mg;
	struct pkt_conn in;
	struct buf p;
	unsigned ncols;
	const char **vals;
	unsigned long *lens;
	char status[12];
	char error[600];
};

static void fail(struct reader *rd, const char *status, unsigned code, const char *msg)
{
	if (rd->status[0])
		return;
	snprintf(rd->status, sizeof(rd->status), "%s", status);
	snprintf(rd->error, sizeof(rd->error), "%u %s", code, msg);
	rd->j->fake.killed = 1;   /* stop the query; the rest is drained */
}

static void on_err_packet(struct reader *rd)
{
	struct lerd r;
	unsigned code;
	size_t n = rd->p.len > 9 ? rd->p.len - 9 : 0;

	lerd_init(&r, rd->p.data, rd->p.len);
	lerd_u8(&r);
	code = lerd_u16(&r);
	if (!rd->j->cancelled && code == ER_TOO_BIG_SELECT && n > 16 && !memcmp(rd->p.data + 9, "MERGE_ERROR 1470", 16)) {
		/* the query's own merge table was too large: Qserv's FAILED_LR */
		fail(rd, "FAILED_LR", 1470, "");
		snprintf(rd->error, sizeof(rd->error), "%.*s", (int)n, (const char *)rd->p.data + 9);
		return;
	}
	fail(rd, rd->j->cancelled ? "ABORTED" : "FAILED", code, n ? "" : "error");
	if (n && !strcmp(rd->status, "FAILED"))
		snprintf(rd->error, sizeof(rd->error), "%u %.*s", code, (int)n, (const char *)rd->p.data + 9);
}

/* The column definitions up to their EOF, then the result table. */
static int read_columns(struct reader *rd)
{
	struct wire_cols cols = { 0 };
	struct buf names;
	unsigned i;
	int rc = 0;

	buf_init(&names);
	buf_put(&names, "", 1);
	cols.v = calloc(rd->ncols, sizeof(*cols.v));
	rd->vals = calloc(rd->ncols, sizeof(*rd->vals));
	rd->lens = calloc(rd->ncols, sizeof(*rd->lens));
	if (!cols.v || !rd->vals || !rd->lens)
		rc = -ENOMEM;
	for (i = 0; rc == 0 && i < rd->ncols; i++) {
		struct lerd r;
		if ((rc = pkt_read(&rd->in, &rd->p, 1u << 30, 0)) < 0)
			break;
		lerd_init(&r, rd->p.data, rd->p.len);
		rc = parse_column(&r, &cols.v[i], &names);
	}
	if (rc == 0)
		rc = pkt_read(&rd->in, &rd->p, 1u << 30, 0);   /* EOF */
	if (rc == 0 && !names.oom) {
		for (i = 0; i < rd->ncols; i++) {
			char **f[5] = { &cols.v[i].db, &cols.v[i].table, &cols.v[i].org_table, &cols.v[i].name,
					&cols.v[i].org_name };
			for (unsigned k = 0; k < 5; k++)
				*f[k] = (char *)names.data + ((uintptr_t)*f[k] - 1);
		}
		cols.n = rd->ncols;
		if (merge_columns(&rd->mg, &cols) < 0)
			fail(rd, "FAILED", rd->mg.err_code, rd->mg.err);
	}
	free(cols.v);
	buf_free(&names);
	return rc;
}

/* One text row into the result table. */
static void take_row(struct reader *rd)
{
	struct lerd r;
	struct wire_rows row = { 1, rd->ncols, NULL, rd->vals, rd->lens };
	unsigned i;

	lerd_init(&r, rd->p.data, rd->p.len);
	for (i = 0; i < rd->ncols; i++) {
		size_t n = 0;
		if (lerd_remaining(&r) && rd->p.data[rd->p.len - lerd_remaining(&r)] == 0xfb) {
			lerd_u8(&r);
			rd->vals[i] = NULL;
			rd->lens[i] = 0;
			continue;
		}
		rd->vals[i] = (const char *)pkt_get_lenstr(&r, &n);
		rd->lens[i] = n;
		rd->j->bytes += n;
		if (!rd->vals[i]) {
			fail(rd, "FAILED", ER_UNKNOWN_ERROR, "malformed row");
			return;
		}
	}
	rd->j->rows++;
	if (rd->status[0])
		return;
	if (merge_rows(&rd->mg, &row) < 0) {
		if (rd->mg.err_code == ER_TOO_BIG_SELECT) {
			fail(rd, "FAILED_LR", 1470, rd->mg.err);
			snprintf(rd->error, sizeof(rd->error), "%s", rd->mg.err);
		} else {
			fail(rd, "FAILED", rd->mg.err_code, rd->mg.err);
		}
	}
}

/* Reads the detached session's whole answer into the result table. */
static void read_answer(struct reader *rd)
{
	struct lerd r;
	int64_t last = monotime_ms();
	int rc = pkt_read(&rd->in, &rd->p, 1u << 30, 0);

	if (rc < 0 || rd->p.len == 0)
		return fail(rd, "FAILED", ER_UNKNOWN_ERROR, "no answer");
	if (rd->p.data[0] == 0xff)
		return on_err_packet(rd);
	if (rd->p.data[0] == 0x00)
		return fail(rd, "FAILED", ER_UNKNOWN_ERROR, "the statement returned no result set");
	lerd_init(&r, rd->p.data, rd->p.len);
	rd->ncols = (unsigned)pkt_get_lenenc(&r);
	if (r.err || rd->ncols == 0 || rd->ncols > 4096 || read_columns(rd) < 0)
		return fail(rd, "FAILED", ER_UNKNOWN_ERROR, "malformed column definitions");
	while ((rc = pkt_read(&rd->in, &rd->p, 1u << 30, 0)) == 0) {
		if (rd->p.len > 0 && rd->p.len < 9 && rd->p.data[0] == 0xfe)
			break;
		if (rd->p.len > 0 && rd->p.data[0] == 0xff) {
			on_err_packet(rd);
			break;
		}
		take_row(rd);
		if (monotime_ms() - last >= 1000) {
			last = monotime_ms();
			history_progress(rd->j->fake.cz, rd->j->fake.hist_id, rd->j->fake.progress.total,
					 rd->j->fake.progress.done, rd->j->rows, rd->j->bytes);
		}
	}
	if (rc < 0)
		fail(rd, rd->j->cancelled ? "ABORTED" : "FAILED", ER_UNKNOWN_ERROR, "answer cut");
	else if (!rd->status[0] && merge_flush(&rd->mg) < 0)
		fail(rd, "FAILED", rd->mg.err_code, rd->mg.err);
}

static void job_unlink(struct czar *cz, struct async_job *j)
{
	struct async_job **pp;

	pthread_mutex_lock(&cz->lock);
	for (pp = &cz->jobs; *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	pthread_mutex_unlock(&cz->lock);
}

static void job_free(struct async_job *j)
{
	close(j->fds[0]);
	close(j->fds[1]);
	pkt_conn_free(&j->fake.conn);
	free(j->sql);
	free(j);
}

/* The job's thread: runs the SELECT on a second thread and stores what
 * it answers; records the outcome. */
static void *job_thread(void *arg)
{
	struct async_job *j = arg;
	struct czar *cz = j->fake.cz;
	struct reader rd;
	struct backend_conn *bc;
	pthread_t runner;
	char err[256];

	memset(&rd, 0, sizeof(rd));
	rd.j = j;
	pkt_conn_init(&rd.in, j->fds[1]);
	buf_init(&rd.p);
	/* one of cz->async_backend's connections for the job's life: at most
	 * that many run at once, the others wait here (EXECUTING, 0 chunks),
	 * and a runner never waits for an admin connection a writer holds */
	bc = backend_get(cz->async_backend, err, sizeof(err));
	if (!bc || pthread_create(&runner, NULL, job_runner, j) != 0) {
		fail(&rd, "FAILED", ER_UNKNOWN_ERROR, bc ? "cannot start a thread" : err);
	} else {
		merge_init(&rd.mg, bc->my, j->fake.hist_id, cz->max_result_rows);
		rd.mg.max_bytes = cz->max_result_bytes;
		snprintf(rd.mg.table, sizeof(rd.mg.table), "result_%llu", (unsigned long long)j->fake.hist_id);
		read_answer(&rd);
		while (pkt_read(&rd.in, &rd.p, 1u << 30, 0) == 0)
			;   /* drain what a failed job still sends */
		pthread_join(runner, NULL);
		if (j->cancelled && !strcmp(rd.status, "FAILED"))
			snprintf(rd.status, sizeof(rd.status), "ABORTED");
		if (rd.status[0] || j->cancelled)
			merge_drop(&rd.mg);
		else {
			buf_free(&rd.mg.ins);
			free(rd.mg.binary);
		}
	}
	if (!rd.status[0] && j->cancelled)
		snprintf(rd.status, sizeof(rd.status), "ABORTED");
	if (bc)
		backend_put(cz->async_backend, bc, mysql_errno(bc->my) >= 2000);
	if (j->fake.quota_held)   /* the SUBMIT's concurrent slot, held while the job waits and runs (quota_czar.h) */
		quota_release(cz->quota, j->fake.user);
	job_unlink(cz, j);
	history_end(cz, j->fake.hist_id, 0, rd.status[0] ? rd.status : "COMPLETED", j->fake.progress.total,
		    j->fake.progress.done, j->rows, j->bytes, rd.status[0] && strcmp(rd.status, "ABORTED") ? rd.error :
		    (rd.status[0] ? "cancelled" : ""));
	free(rd.vals);
	free(rd.lens);
	buf_free(&rd.p);
	pkt_conn_free(&rd.in);
	rd.in.fd = -1;
	job_free(j);
	return NULL;
}

size_t async_progress(struct czar *cz, struct async_progress *v, size_t max)
{
	struct async_job *j;
	size_t n = 0;

	pthread_mutex_lock(&cz->lock);
	for (j = cz->jobs; j && n < max; j = j->next, n++)
		v[n] = (struct async_progress){ j->fake.hist_id, j->fake.progress.total, j->fake.progress.done };
	pthread_mutex_unlock(&cz->lock);
	return n;
}

/* ---- the statements ------------------------------------------------------ */

static void one_row(struct sess *s, const char *const *names, const char *const *vals, unsigned n)
{
	struct myp_column col;
	unsigned long lens[4];
	unsigned i;

	myp_column_count(&s->conn, n);
	for (i = 0; i < n; i++) {
		memset(&col, 0, sizeof(col));
		col.name = col.org_name = names[i];
		col.charset = MYP_CHARSET_UTF8MB4;
		col.type = MYSQL_TYPE_VAR_STRING;
		col.length = 256;
		myp_column(&s->conn, &col, 0);
		lens[i] = strlen(vals[i]);
	}
	myp_eof(&s->conn, s->status);
	myp_row(&s->conn, vals, lens, n);
	myp_eof(&s->conn, s->status);
}

void async_submit(struct sess *s, const struct sql_stmt *st, const char *sql, size_t len)
{
	struct czar *cz = s->cz;
	struct async_job *j;
	const char *sel = sql + st->submit_pos;
	size_t n = len - (size_t)st->submit_pos;
	char id[24], where[40];
	uint64_t jid;
	pthread_t t;
	pthread_attr_t attr;

	while (n && (sel[n - 1] == ';' || sel[n - 1] == ' ' || sel[n - 1] == '\n'))
		n--;
	if (query_check_select(s, sel, n) != 0)
		return;   /* refused as the synchronous query would be */
	j = calloc(1, sizeof(*j));
	if (!j || !(j->sql = malloc(n + 1)) || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, j->fds) < 0) {
		if (j)
			free(j->sql);
		free(j);
		myp_err(&s->conn, ER_OUT_OF_RESOURCES, NULL, "Out of resources");
		return;
	}
	memcpy(j->sql, sel, n);
	j->sql[n] = 0;
	j->len = n;
	j->fake.cz = cz;
	j->fake.async = 1;
	j->fake.admin = s->admin;
	j->fake.command = "Query";
	j->fake.status = SERVER_STATUS_AUTOCOMMIT;
	j->fake.since = time(NULL);
	snprintf(j->fake.user, sizeof(j->fake.user), "%s", s->user);
	snprintf(j->fake.db, sizeof(j->fake.db), "%s", s->db);
	snprintf(j->fake.host, sizeof(j->fake.host), "async");
	pkt_conn_init(&j->fake.conn, j->fds[0]);
	j->fake.conn.write_timeout_ms = -1;
	j->fake.hist_id = __atomic_add_fetch(&cz->next_qid, 1, __ATOMIC_SEQ_CST);
	history_begin(cz, j->fake.hist_id, "ASYNC", s->user, s->db, j->sql, n);
	pthread_mutex_lock(&cz->lock);
	j->next = cz->jobs;
	cz->jobs = j;
	pthread_mutex_unlock(&cz->lock);
	jid = j->fake.hist_id;   /* j is the thread's once it runs */
	j->fake.quota_held = s->quota_held;   /* the job takes over the SUBMIT's slot */
	s->quota_held = 0;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, job_thread, j) != 0) {
		job_unlink(cz, j);
		s->quota_held = j->fake.quota_held;
		history_end(cz, j->fake.hist_id, 0, "FAILED", 0, 0, 0, 0, "cannot start a thread");
		job_free(j);
		myp_err(&s->conn, ER_OUT_OF_RESOURCES, NULL, "cannot start a thread");
	} else {
		static const char *const names[] = { "jobId", "resultLocation" };
		const char *vals[2] = { id, where };
		snprintf(id, sizeof(id), "%llu", (unsigned long long)jid);
		snprintf(where, sizeof(where), "table:result_%s", id);
		one_row(s, names, vals, 2);
	}
	pthread_attr_destroy(&attr);
}

struct job_row {
	char user[AUTH_NAME_MAX + 1];
	char status[12];
	int has_result;
	char error[256];
};

/* The history row of job id on bc; 0, -ENOENT, or -EIO after an ERR. */
static int job_lookup(struct sess *s, MYSQL *my, int64_t id, struct job_row *jr)
{
	char sql[200];
	MYSQL_RES *res;
	MYSQL_ROW row;
	int rc = -ENOENT;

	snprintf(sql, sizeof(sql), "SELECT USER, STATUS, HAS_RESULT, ERROR FROM qservCzar.queries WHERE CZAR_ID = %d "
		 "AND ID = %lld", s->cz->port, (long long)id);
	if (mysql_query(my, sql) != 0 || !(res = mysql_store_result(my))) {
		myp_err(&s->conn, ER_UNKNOWN_ERROR, NULL, "czar history: %s", mysql_error(my));
		return -EIO;
	}
	if ((row = mysql_fetch_row(res))) {
		snprintf(jr->user, sizeof(jr->user), "%s", row[0] ? row[0] : "");
		snprintf(jr->status, sizeof(jr->status), "%s", row[1] ? row[1] : "");
		jr->has_result = row[2] && atoi(row[2]);
		snprintf(jr->error, sizeof(jr->error), "%s", row[3] ? row[3] : "");
		rc = 0;
	}
	mysql_free_result(res);
	return rc;
}

/* The job's row when s may use its result: 0, else -1 after an ERR
 * (MySQL's 1146 for a missing table, 1142 for another user's). */
static int result_access(struct sess *s, MYSQL *my, int64_t id, const char *cmd, struct job_row *jr)
{
	int rc = job_lookup(s, my, id, jr);

	if (rc == -EIO)
		return -1;
	if (rc == 0 && !s->admin && strcmp(jr->user, s->user)) {
		myp_err(&s->conn, ER_TABLEACCESS_DENIED_ERROR, NULL, "%s command denied to user '%s'@'%s' for table "
			"'result_%lld'", cmd, s->user, s->host, (long long)id);
		return -1;
	}
	if (rc == 0 && !strcmp(jr->status, "EXECUTING")) {
		myp_err(&s->conn, ER_UNKNOWN_ERROR, NULL, "Query %lld is still EXECUTING: its result is not ready",
			(long long)id);
		return -1;
	}
	if (rc < 0 || !jr->has_result) {
		if (rc == 0 && jr->error[0] && strcmp(jr->status, "COMPLETED"))
			myp_err(&s->conn, ER_NO_SUCH_TABLE, NULL, "Table 'qservResult.result_%lld' doesn't exist (query %s: "
				"%s)", (long long)id, jr->status, jr->error);
		else
			myp_err(&s->conn, ER_NO_SUCH_TABLE, NULL, "Table 'qservResult.result_%lld' doesn't exist",
				(long long)id);
		return -1;
	}
	return 0;
}

void async_fetch(struct sess *s, int64_t id)
{
	struct czar *cz = s->cz;
	struct backend_conn *bc;
	struct job_row jr;
	char sql[160], err[256];
	int broken;

	if (!(bc = backend_get(cz->backend, err, sizeof(err)))) {
		myp_err(&s->conn, ER_UNKNOWN_ERROR, NULL, "%s", err);
		return;
	}
	if (result_access(s, bc->my, id, "SELECT", &jr) < 0) {
		backend_put(cz->backend, bc, mysql_errno(bc->my) >= 2000);
		return;
	}
	snprintf(sql, sizeof(sql), "SELECT * FROM `qservResult`.`result_%lld`", (long long)id);
	broken = relay_run_conn(s, bc, sql, strlen(sql));
	if (!broken) {
		snprintf(sql, sizeof(sql), "UPDATE qservCzar.queries SET RETURNED = NOW() WHERE CZAR_ID = %d AND ID = %lld",
			 cz->port, (long long)id);
		mysql_query(bc->my, sql);
	}
	backend_put(cz->backend, bc, broken);
}

void async_delete(struct sess *s, int64_t id)
{
	struct czar *cz = s->cz;
	struct backend_conn *bc;
	struct job_row jr;
	char sql[160], err[256];

	if (!(bc = backend_get(cz->backend, err, sizeof(err)))) {
		myp_err(&s->conn, ER_UNKNOWN_ERROR, NULL, "%s", err);
		return;
	}
	if (result_access(s, bc->my, id, "DROP", &jr) == 0) {
		snprintf(sql, sizeof(sql), "UPDATE qservCzar.queries SET HAS_RESULT = 0 WHERE CZAR_ID = %d AND ID = %lld",
			 cz->port, (long long)id);
		if (mysql_query(bc->my, sql) != 0)
			myp_err(&s->conn, ER_UNKNOWN_ERROR, NULL, "czar history: %s", mysql_error(bc->my));
		else {
			snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS `qservResult`.`result_%lld`", (long long)id);
			if (mysql_query(bc->my, sql) != 0)
				log_warn("result_%lld not dropped: %s", (long long)id, mysql_error(bc->my));
			myp_ok(&s->conn, 0, s->status, NULL);
		}
	}
	backend_put(cz->backend, bc, mysql_errno(bc->my) >= 2000);
}

/* CANCEL id: Qserv's answers (a one-row result set, or its error 4005).
 * id is a SUBMIT's job or a running synchronous query (Qserv cancels
 * any query by its id): the latter stops as KILL QUERY would, ABORTED. */
void async_cancel(struct sess *s, int64_t id)
{
	struct czar *cz = s->cz;
	struct async_job *j;
	struct sess *x;
	unsigned long tid = 0;
	int found = 0, allowed = 0;

	pthread_mutex_lock(&cz->lock);
	for (j = cz->jobs; j; j = j->next)
		if ((int64_t)j->fake.hist_id == id) {
			found = 1;
			allowed = s->admin || !strcmp(j->fake.user, s->user);
			if (allowed) {
				j->cancelled = 1;
				j->fake.killed = 1;
				tid = j->fake.backend_tid;
			}
			break;
		}
	for (x = found ? NULL : cz->sessions; x; x = x->next)
		if (x->hist_id && (int64_t)x->hist_id == id) {   /* a synchronous query, as Qserv's CANCEL */
			found = 1;
			allowed = s->admin || (x->logged_in && !strcmp(x->user, s->user));
			if (allowed) {
				x->killed = 1;
				tid = x->backend_tid;
			}
			break;
		}
	pthread_mutex_unlock(&cz->lock);
	if (!found) {
		myp_err(&s->conn, 4005, "Proxy", "KILL/CANCEL failed: Unknown or finished query ID: CANCEL %lld",
			(long long)id);
		return;
	}
	if (!allowed) {
		myp_err(&s->conn, ER_KILL_DENIED_ERROR, "HY000", "You are not owner of query %lld", (long long)id);
		return;
	}
	if (tid)
		backend_kill_query(cz->backend, tid);
	{
		static const char *const names[] = { "command" };
		char msg[80];
		const char *vals[1] = { msg };
		snprintf(msg, sizeof(msg), "Trying to kill query: CANCEL %lld", (long long)id);
		one_row(s, names, vals, 1);
	}
}

/* ---- start and expiry ---------------------------------------------------- */

static const char *const queries_ddl =
	"CREATE TABLE IF NOT EXISTS qservCzar.queries (ID BIGINT UNSIGNED NOT NULL, CZAR_ID INT NOT NULL, "
	"TYPE VARCHAR(5) NOT NULL, CZAR VARCHAR(64) NOT NULL, USER VARCHAR(64) NOT NULL, STATUS VARCHAR(10) NOT NULL, "
	"SUBMITTED DATETIME NOT NULL, UPDATED DATETIME NOT NULL, COMPLETED DATETIME NULL, RETURNED DATETIME NULL, "
	"CHUNKS INT UNSIGNED NOT NULL DEFAULT 0, CHUNKS_COMP INT UNSIGNED NOT NULL DEFAULT 0, "
	"BYTES BIGINT UNSIGNED NOT NULL DEFAULT 0, ROWS_COLLECTED BIGINT UNSIGNED NOT NULL DEFAULT 0, "
	"`ROWS` BIGINT UNSIGNED NOT NULL DEFAULT 0, DBS VARCHAR(256) NOT NULL DEFAULT '', QUERY MEDIUMTEXT NOT NULL, "
	"ERROR TEXT NOT NULL DEFAULT '', HAS_RESULT TINYINT NOT NULL DEFAULT 0, PRIMARY KEY (CZAR_ID, ID)) "
	"ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

/* Drops the result tables of rows the query names (ID column). */
static void drop_results(MYSQL *my, const char *query)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	char sql[160];

	if (mysql_query(my, query) != 0 || !(res = mysql_store_result(my)))
		return;
	while ((row = mysql_fetch_row(res))) {
		if (!row[0])
			continue;
		snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS `qservResult`.`%s`", row[0]);
		if (mysql_query(my, sql) != 0)
			log_warn("czar MariaDB: %s: %s", sql, mysql_error(my));
	}
	mysql_free_result(res);
}

/* Results unclaimed for cz->result_ttl seconds after completion. */
static void expire(struct czar *cz)
{
	char err[256], sql[400];
	struct backend_conn *bc = backend_get(cz->backend, err, sizeof(err));

	if (!bc)
		return;
	snprintf(sql, sizeof(sql), "SELECT CONCAT('result_', ID) FROM qservCzar.queries WHERE CZAR_ID = %d AND "
		 "HAS_RESULT = 1 AND COMPLETED < NOW() - INTERVAL %u SECOND", cz->port, cz->result_ttl);
	drop_results(bc->my, sql);
	snprintf(sql, sizeof(sql), "UPDATE qservCzar.queries SET HAS_RESULT = 0 WHERE CZAR_ID = %d AND HAS_RESULT = 1 "
		 "AND COMPLETED < NOW() - INTERVAL %u SECOND", cz->port, cz->result_ttl);
	mysql_query(bc->my, sql);
	backend_put(cz->backend, bc, mysql_errno(bc->my) >= 2000);
}

static void *expiry_thread(void *arg)
{
	struct czar *cz = arg;

	for (;;) {
		sleep(cz->result_ttl < 20 ? 1 : 10);
		expire(cz);
	}
	return NULL;
}

int async_start(struct czar *cz, char *err, size_t errlen)
{
	struct backend_conn *bc = backend_get(cz->backend, err, errlen);
	char sql[400];
	pthread_t t;
	int rc = 0;

	if (!bc)
		return -EIO;
	snprintf(sql, sizeof(sql), "UPDATE qservCzar.queries SET STATUS = 'ABORTED', COMPLETED = NOW(), UPDATED = NOW(), "
		 "HAS_RESULT = 0, ERROR = 'the czar restarted while the query ran' WHERE CZAR_ID = %d AND "
		 "STATUS = 'EXECUTING'", cz->port);
	if (mysql_query(bc->my, "CREATE DATABASE IF NOT EXISTS qservCzar") != 0 || mysql_query(bc->my, queries_ddl) != 0 ||
	    mysql_query(bc->my, "CREATE DATABASE IF NOT EXISTS qservResult") != 0 || mysql_query(bc->my, sql) != 0) {
		snprintf(err, errlen, "czar MariaDB: cannot prepare qservCzar/qservResult: %s", mysql_error(bc->my));
		rc = -EIO;
	} else {
		/* merge tables of a crashed run, results nobody can claim */
		drop_results(bc->my, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'qservResult' "
			     "AND TABLE_NAME NOT IN (SELECT CONCAT('result_', ID) FROM qservCzar.queries WHERE HAS_RESULT = 1)");
	}
	backend_put(cz->backend, bc, mysql_errno(bc->my) >= 2000);
	if (rc == 0 && pthread_create(&t, NULL, expiry_thread, cz) == 0)
		pthread_detach(t);
	if (rc == 0 && !cz->hq && history_queue_start(cz) < 0)
		log_warn("query history: no writer thread: SYNC rows are written on the statement's path");
	return rc;
}
