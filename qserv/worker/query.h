/* query.h: the chunk-query service of qserv-worker (query.c): czar
 * connections over mutual TLS on QSERV_QUERY_PORT, chunk queries run on
 * the local MariaDB and streamed back in wire-protocol batches.  main.c
 * starts it after the ingest API is up and stops it first. */
#ifndef QSERV_WORKER_QUERY_H
#define QSERV_WORKER_QUERY_H

#include <stddef.h>

struct worker;

/* Starts the service when QSERV_QUERY_PORT is set (0 and nothing started
 * when it is not); -errno or -1 with err filled on failure. */
int worker_query_start(struct worker *w, char *err, size_t errlen);
/* Stops the accept thread; safe when the service never started. */
void worker_query_stop(struct worker *w);

#endif
