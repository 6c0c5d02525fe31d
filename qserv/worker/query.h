/* query.h: the chunk-query service of qserv-worker (query.c): czar
 * connections over mutual TLS on QSERV_QUERY_PORT, chunk queries run on
 * the local MariaDB and streamed back in wire-protocol batches.  main.c
 * starts it after the ingest API is up and stops it first. */
#ifndef QSERV_WORKER_QUERY_H
#define QSERV_WORKER_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "qserv/common/qsql.h"

struct worker;

/* Starts the service when QSERV_QUERY_PORT is set (0 and nothing started
 * when it is not); -errno or -1 with err filled on failure. */
int worker_query_start(struct worker *w, char *err, size_t errlen);
/* Stops the accept thread; safe when the service never started. */
void worker_query_stop(struct worker *w);

/* query_acct.c: the read-only account chunk queries run as.  setup
 * creates/updates it with a new random password and SELECT on every
 * database qservWorker knows; *ret_conf stays valid for the process. */
int query_acct_setup(struct worker *w, const struct qsql_conf **ret_conf, char *err, size_t errlen);
/* Grants SELECT on db (a new catalog database); a no-op before setup. */
int query_acct_grant(MYSQL *m, const char *db, char *err, size_t errlen);

/* query_nn.c: near-neighbour chunk queries (a QUERY with sub-chunks).
 * acquire copies q's database and table into db and table (65 bytes
 * each), takes a reference on (db, chunk) and builds the listed sub-chunk
 * tables as admin; on failure it holds no reference (-ENOENT: the chunk
 * is not on this worker, -ECONNREFUSED: no MariaDB session).  release drops the
 * reference and, with the last, the chunk's Subchunks_ database.
 * query_nn_sql: q's SQL with "%SS%" replaced by sub (malloc'd, NULL on
 * no memory).  query_nn_builds: 1 when q's SQL names `Subchunks_ (an
 * older czar's plan: build its tables), 0 when it reads the chunk tables
 * by the sub-chunk key (run as is, once per sub-chunk). */
struct wire_query;
int query_nn_acquire(const struct qsql_conf *admin, const struct wire_query *q, char *db, char *table,
		     char *err, size_t errlen);
void query_nn_release(const struct qsql_conf *admin, const char *db, int32_t chunk);
char *query_nn_sql(const struct wire_query *q, int32_t sub, size_t *ret_len);
int query_nn_builds(const struct wire_query *q);
/* At start (no chunk query runs yet): drops every Subchunks_* database an
 * earlier run of the worker left (killed mid-query, its counts lost). */
void query_nn_sweep(const struct qsql_conf *admin);

#endif
