/* query.h: the chunk-query service of qserv-worker (query.c): czar
 * connections over mutual TLS on QSERV_QUERY_PORT, chunk queries run on
 * the local MariaDB and streamed back in wire-protocol batches.  main.c
 * starts it after the ingest API is up and stops it first. */
#ifndef QSERV_WORKER_QUERY_H
#define QSERV_WORKER_QUERY_H

#include <stddef.h>

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

#endif
