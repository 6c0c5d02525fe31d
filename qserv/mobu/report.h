/* report.h: how qserv-mobu tells what its flocks did: a line per flock
 * every --report-every seconds on stderr, a summary at the end on stdout
 * (text in mobu's words, or JSON), and Prometheus text on GET /metrics
 * while it runs (--metrics-port, loopback unless --metrics-bind). */
#ifndef QSERV_MOBU_REPORT_H
#define QSERV_MOBU_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "flock.h"

struct report_opts {
	double every_s;
	bool json;
	unsigned metrics_port;
	const char *metrics_bind;
	double last_s;            /* internal: when the last line was printed */
	void *daemon;             /* internal: the metrics listener */
};

int report_start(struct report_opts *o, struct flock *f, int n, char *err, size_t errlen);
void report_tick(struct report_opts *o, struct flock *f, int n, double elapsed_s);
/* The summary; returns the exit status: 0 when no run failed, else 1. */
int report_final(struct report_opts *o, struct flock *f, int n, double elapsed_s);
void report_stop(struct report_opts *o);

#endif
