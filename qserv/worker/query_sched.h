/* query_sched.h: which chunk query may run next on this worker's MariaDB.
 *
 * At most `slots` chunk queries run at once.  Interactive queries (those
 * the czar did not flag as scans: point lookups, restricted areas) go ahead
 * of waiting scans: a scan starts only when a slot is free and no
 * interactive query is waiting.  A scan that already runs is never
 * preempted.  Thread-safe; one per worker process. */
#ifndef QSERV_WORKER_QUERY_SCHED_H
#define QSERV_WORKER_QUERY_SCHED_H

#include <pthread.h>

struct query_sched {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned slots, running;
	unsigned waiting_interactive, waiting_scans;
	unsigned long started_interactive, started_scans;   /* totals, for tests and logs */
};

void query_sched_init(struct query_sched *s, unsigned slots);
void query_sched_destroy(struct query_sched *s);
/* Blocks until the query may run. */
void query_sched_acquire(struct query_sched *s, int scan);
void query_sched_release(struct query_sched *s);

#endif
