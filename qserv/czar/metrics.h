/* metrics.h: the czar's Prometheus endpoint (GET /metrics, libmicrohttpd).
 *
 * Totals since start (connections, statements, errors, chunk queries,
 * statement seconds) and, per running distributed query, its Qserv query
 * id, session, user, seconds and chunks done/total.  Reads struct czar
 * under its lock; serves on its own thread. */
#ifndef QSERV_CZAR_METRICS_H
#define QSERV_CZAR_METRICS_H

#include <stddef.h>

struct czar;
struct metrics;

/* Starts serving on bind:port.  NULL with err on failure. */
struct metrics *metrics_start(struct czar *cz, const char *bind, int port, char *err, size_t errlen);
void metrics_stop(struct metrics *m);
/* The text of /metrics (malloc'd). */
char *metrics_text(struct czar *cz);

#endif
