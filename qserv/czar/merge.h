/* merge.h: the result table a distributed query's rows are merged in.
 *
 * Worker rows that need a merge step (aggregates, ORDER BY, DISTINCT,
 * GROUP BY) are collected in qservResult.r_<query id> on the czar's own
 * MariaDB: the table is created from the first worker's column definitions
 * (types, lengths, signedness, charsets kept), rows are inserted in
 * multi-row INSERTs of about 1 MiB, so the czar holds at most one batch in
 * memory, and the merge query then runs there.  A query's merge (exec.c)
 * uses a TEMPORARY table of the merge account's own session (account.h):
 * no DDL on disk, no grant, nothing another session can see, and gone with
 * the session whatever happens; an async query's result (async.c) is a
 * real table that outlives it.  merge_rows fails once the
 * table would exceed max_rows rows or max_bytes bytes of values (Qserv's
 * FAILED_LR "Large Result" error instead of filling the disk).
 * The caller drops the table (merge_drop) whatever happened. */
#ifndef QSERV_CZAR_MERGE_H
#define QSERV_CZAR_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include <mariadb/mysql.h>

#include "buf.h"

#include "qserv/wire/wire.h"

struct merge {
	MYSQL *my;
	char table[64];              /* r_<qid> */
	uint64_t rows, max_rows;
	uint64_t bytes, max_bytes;   /* value bytes collected; bound (0: none), set after merge_init */
	uint64_t qid;                /* the Qserv query id, for Qserv's FAILED_LR message */
	int created;
	int temporary;               /* CREATE TEMPORARY TABLE (set after merge_init) */
	unsigned ncols;
	unsigned char *binary;       /* per column: insert as X'hex' */
	struct buf ins;              /* pending INSERT */
	char err[512];
	unsigned err_code;
};

/* Functions returning int: 0, or a negative errno with err_code and err
 * (the MySQL error the client gets) filled. */
void merge_init(struct merge *mg, MYSQL *my, uint64_t query_id, uint64_t max_rows);
/* Column type of c as DDL ("BIGINT UNSIGNED", "VARCHAR(20) CHARACTER SET
 * utf8mb4", ...) into buf.  Exposed for tests. */
void merge_column_type(const struct wire_col *c, char *buf, size_t len);
int merge_columns(struct merge *mg, const struct wire_cols *cols);
int merge_rows(struct merge *mg, const struct wire_rows *rows);
/* Qserv's Large Result message for query qid: "MERGE_ERROR 1470 (QI=...;
 * cancelling the query, queryResult table result_<qid> is too large at
 * <at> <unit>, max allowed size is <max> <unit>)". */
void merge_lr_message(char *buf, size_t len, uint64_t qid, uint64_t at, uint64_t max, const char *unit);
/* Sends the pending INSERT. */
int merge_flush(struct merge *mg);
/* Drops the table (if created) and frees the buffers; -EIO when the DROP
 * failed, and a later call (on mg->my, which the caller may replace) tries
 * the DROP again. */
int merge_drop(struct merge *mg);

#endif
