/* async.h: Qserv's asynchronous queries and the query history.
 *
 * Every distributed query (SYNC) and every SUBMIT (ASYNC) has a row in
 * qservCzar.queries on the czar's MariaDB (admin account only: the users'
 * account has no grant there), keyed by (CZAR_ID = the czar's port, ID =
 * the Qserv query id), with Qserv's columns (doc/user/async.rst): TYPE,
 * CZAR, STATUS (EXECUTING, COMPLETED, FAILED, FAILED_LR, ABORTED),
 * SUBMITTED, UPDATED, COMPLETED, RETURNED, CHUNKS, CHUNKS_COMP, BYTES,
 * ROWS_COLLECTED, ROWS, DBS, QUERY, ERROR, plus USER (who may read it) and
 * HAS_RESULT (qservResult.result_<ID> holds the result).  The history is
 * bounded (cz->history_max newest rows; older ones pruned with their
 * results every max(32, history_max / 16) completed queries, or at each
 * one when the bound is below 64) and survives a restart; a query EXECUTING when the czar
 * stopped becomes ABORTED at the next start.
 *
 * SUBMIT runs the SELECT in the background (async.c): a thread plays the
 * client of a detached session whose answer comes back over a socketpair
 * and is written into qservResult.result_<ID> (merge.c's table writer, at
 * most cz->max_result_rows rows, else FAILED_LR).  A job writes on a
 * connection of cz->async_backend (--async-jobs of them), held for its
 * life: that many jobs run at once, later ones wait for one (EXECUTING),
 * and no job's writer can take the admin connections its SELECT needs.  The result is read
 * with SELECT * FROM qserv_result(ID) on the admin connection (the table
 * name is the czar's own, nothing of the user's reaches that SQL), only
 * by its user or an admin user; unclaimed results are dropped
 * cz->result_ttl seconds after completion.
 *
 * information_schema.queries / .processlist and SHOW [FULL] PROCESSLIST
 * (Qserv's layout: ID, TYPE, CZAR, CZAR_ID, SUBMITTED, UPDATED, CHUNKS,
 * CHUNKS_COMP, QUERY) (history.c) are answered from
 * that table, restricted to the user's rows (all for admins); their
 * SELECT may use columns, literals, operators and aggregates only (no
 * other function, no join), printed back over a derived table of the
 * caller's rows and run on the admin connection. */
#ifndef QSERV_CZAR_ASYNC_H
#define QSERV_CZAR_ASYNC_H

#include <stddef.h>
#include <stdint.h>

#include <mariadb/mysql.h>

struct czar;
struct sess;
struct sql_stmt;

/* Creates qservCzar.queries, aborts what the last run left EXECUTING,
 * drops result tables nobody can claim, starts the expiry thread. */
int async_start(struct czar *cz, char *err, size_t errlen);

void async_submit(struct sess *s, const struct sql_stmt *st, const char *sql, size_t len);
void async_fetch(struct sess *s, int64_t id);
void async_delete(struct sess *s, int64_t id);
void async_cancel(struct sess *s, int64_t id);

/* The running SUBMITs' ids and chunk counts (at most max); how many. */
struct async_progress {
	uint64_t id;
	unsigned total, done;
};
size_t async_progress(struct czar *cz, struct async_progress *v, size_t max);

/* history.c */
/* 1 after answering st when it reads information_schema.queries or
 * .processlist, else 0. */
int history_select(struct sess *s, const struct sql_stmt *st);
/* SHOW [FULL] PROCESSLIST in Qserv's layout (the caller's running queries). */
void history_show_processlist(struct sess *s, int full);
/* A query's row: begin (EXECUTING) and end.  SYNC rows go through the
 * writer thread (history_queue.h), ASYNC ones are written at once;
 * history_end's queued says which. */
void history_begin(struct czar *cz, uint64_t id, const char *type, const char *user, const char *dbs,
		   const char *sql, size_t len);
/* status: NULL derives it from the session's last packet (ERR: FAILED). */
void history_end(struct czar *cz, uint64_t id, int queued, const char *status, uint64_t chunks,
		 uint64_t chunks_done, uint64_t rows, uint64_t bytes, const char *error);
/* Progress of a running query (CHUNKS, CHUNKS_COMP, ROWS_COLLECTED, BYTES). */
void history_progress(struct czar *cz, uint64_t id, uint64_t chunks, uint64_t chunks_done, uint64_t rows,
		      uint64_t bytes);
/* Runs one admin statement; 0 or -EIO with err. */
int history_exec(struct czar *cz, const char *sql, char *err, size_t errlen);

#endif
