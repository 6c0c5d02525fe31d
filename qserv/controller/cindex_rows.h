/* cindex_rows.h: a worker's director-index rows as SQL values.
 *
 * GET /worker/index answers TSV lines "key<TAB>chunkId<TAB>subChunkId<TAB>
 * qserv_trans_id" (wmeta.c; the key escaped as LOAD DATA reads it: \\ \t
 * \n \r \0).  The controller loads them into qservMeta.<db>__<table> with
 * multi-row INSERT IGNORE statements (ctrans.c): MariaDB's LOAD DATA LOCAL
 * always runs with IGNORE, and a MyISAM LOAD DATA with IGNORE writes the
 * table row by row, which took 0.39 s per 100,000 index rows on the czar
 * against 0.22 s for the same rows by INSERT IGNORE.  A line becomes
 * "(key,chunk,sub,trans)": a key of digits stays a number, any other key
 * is a hex literal (X'..', no quoting or charset to get wrong); the three
 * numbers must be integers.  Nothing here talks to MariaDB. */
#ifndef QSERV_CONTROLLER_CINDEX_ROWS_H
#define QSERV_CONTROLLER_CINDEX_ROWS_H

#include <stddef.h>

#include "buf.h"

/* Appends line (len bytes, without its newline) to out as "(k,c,s,t)".
 * 0, or -EINVAL with err saying what is wrong (out unchanged). */
int cindex_row_values(struct buf *out, const char *line, size_t len, char *err, size_t errlen);

#endif
