/* rowcount.h: COUNT(*) from Qserv's row counters (see rowcount.c). */
#ifndef QSERV_CZAR_ROWCOUNT_H
#define QSERV_CZAR_ROWCOUNT_H

#include "meta.h"
#include "sql.h"

struct sess;

/* When st is a bare `SELECT COUNT(*) FROM t` the counters can answer
 * (rowcount.c says when), writes the result to s and returns 1; else 0
 * and nothing written.  src: the statement text (for the column name).
 * Call before planning (the planner rewrites st). */
int rowcount_try(struct sess *s, const struct sql_stmt *st, const char *src, const struct meta *m);

/* The table a bare `SELECT COUNT(*) [AS a] FROM t [LIMIT ...]` reads, or
 * NULL when st has another shape. */
const struct sql_table *rowcount_table(const struct sql_stmt *st);

#endif
