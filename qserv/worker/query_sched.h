/* query_sched.h: which chunk query may run next on this worker's MariaDB.
 *
 * At most `slots` chunk queries run at once.  Interactive queries (those
 * the czar did not flag as scans: point lookups, restricted areas) go ahead
 * of waiting scans: a scan starts only when a slot is free and no
 * interactive query is waiting.  A scan that already runs is never
 * preempted.
 *
 * Shared scans (Qserv's scan scheduler): the waiting scans are ordered by
 * chunk, and one cursor walks the chunks in ascending order for all of
 * them: the next scan to start is the one on the lowest chunk at or after
 * the cursor (wrapping around to the lowest chunk), oldest first among
 * those of one chunk.  So the scans of several queries on the same chunk
 * start together or back to back, and MariaDB reads the chunk from disk
 * once while it is in the page cache; a new scan joins at the cursor's
 * position.  Bounded wait: a waiting scan passed over QUERY_SCHED_MAX_PASS
 * times (the cursor staying on one chunk that new scans keep joining)
 * starts next.  Thread-safe; one per worker process. */
#ifndef QSERV_WORKER_QUERY_SCHED_H
#define QSERV_WORKER_QUERY_SCHED_H

#include <pthread.h>
#include <stdint.h>

#define QUERY_SCHED_MAX_PASS 4096

/* One waiting scan: on its thread's stack, in the list while it waits. */
struct query_sched_wait {
	int32_t chunk;
	unsigned passed;                /* picks made while it waited */
	int granted;                    /* it may run (running already counts it) */
	struct query_sched_wait *next;
};

struct query_sched {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned slots, running;
	unsigned waiting_interactive, waiting_scans;
	struct query_sched_wait *scans; /* waiting scans, oldest first */
	int32_t cursor;                 /* chunk of the last scan started */
	unsigned long started_interactive, started_scans;   /* totals, for tests and logs */
	unsigned long shared_scans;     /* scans started on the chunk of the scan before */
	int fifo;                       /* 1: waiting scans start oldest first (no walk) */
};

void query_sched_init(struct query_sched *s, unsigned slots);
void query_sched_destroy(struct query_sched *s);
/* Blocks until the query may run; chunk: the chunk it reads (scans are
 * ordered by it; ignored for interactive queries). */
void query_sched_acquire(struct query_sched *s, int scan, int32_t chunk);
void query_sched_release(struct query_sched *s);

#endif
