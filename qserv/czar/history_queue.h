/* history_queue.h: the query history written off the statement's path.
 *
 * A SYNC query's history row (async.h) is queued, not written, when it
 * begins and ends: one writer thread takes what is queued and writes it
 * in one transaction on one admin connection, so the client gets its
 * rows without waiting for two round trips to the czar's MariaDB and two
 * InnoDB commits.  The writer lets events gather for LINGER_MS after the
 * first, so a short query's begin and end usually meet in one batch and
 * become one INSERTed row, and many queries one multi-row INSERT.  The queue is bounded: a begin (or progress) finding
 * it at HQ_MAX is dropped and counted; an end waits up to 2 s for room
 * (a begin written without its end would show EXECUTING for ever), then
 * is dropped and counted too.  The timestamps are taken when the event
 * happens, not when the row is written.
 *
 * Readers of the table (information_schema.queries / processlist, SHOW
 * PROCESSLIST) call history_queue_sync first: it waits (bounded) until
 * everything queued before the call is written, so they see what they
 * would have seen with synchronous writes.  history_queue_stop writes
 * whatever is still queued (a clean shutdown loses no row). */
#ifndef QSERV_CZAR_HISTORY_QUEUE_H
#define QSERV_CZAR_HISTORY_QUEUE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <mariadb/mysql.h>

struct czar;

#define HQ_MAX 4096                 /* queued events */

/* One history event; strings owned by the event (history_op_free). */
struct history_op {
	struct history_op *next;
	int end;                     /* 0: begin (INSERT), 1: end (UPDATE), 2: end written with its begin */
	uint64_t id;
	time_t at;                   /* when it happened */
	char type[8];                /* begin: SYNC / ASYNC */
	char status[12];             /* end */
	char *user, *dbs, *sql;      /* begin */
	size_t sql_len;
	uint64_t chunks, chunks_done, rows, bytes;   /* end */
	char *error;                 /* end */
};

struct history_queue_stats {
	unsigned long long queued, written, dropped, batches;
	unsigned depth;
};

/* Starts the writer (cz->hq).  0, or a negative errno. */
int history_queue_start(struct czar *cz);
/* Writes what is queued and stops the writer; later events are written
 * on their caller's thread (the queue is kept: sessions may still end). */
void history_queue_stop(struct czar *cz);
/* Takes op (ownership passes; freed when dropped).  Queued when queued
 * is set and the writer runs, else written at once (a SUBMIT's ASYNC row:
 * its readers, async.c, read it right away by id). */
void history_queue_put(struct czar *cz, struct history_op *op, int queued);
/* Waits up to timeout_ms until what is queued now has been written. */
void history_queue_sync(struct czar *cz, int timeout_ms);
void history_queue_get_stats(struct czar *cz, struct history_queue_stats *ret);

/* history.c: the events (a list, in order) as SQL on my: the begins as
 * rows of multi-row INSERTs (a begin whose end is in the list too as one
 * finished row), then the other ends as UPDATEs. */
void history_write_batch(struct czar *cz, MYSQL *my, struct history_op *ops);
void history_op_free(struct history_op *op);

#endif
