/* query_sched.h: which chunk query may run next on this worker's MariaDB.
 *
 * At most `slots` chunk queries run at once.  Interactive queries (those
 * the czar did not flag as scans: point lookups, restricted areas) go ahead
 * of waiting scans: a scan starts only when a slot is free and no
 * interactive query is waiting.  A query that already runs is never
 * preempted.
 *
 * Shared scans (Qserv's scan scheduler): scans run on at most
 * `max_chunks` distinct chunks at once (Qserv's maxActiveChunks), so
 * several queries scanning a table read each chunk from disk once while
 * it is in the page cache instead of each dragging its own chunks through
 * it.  The next scan to start is, in order: the oldest waiting scan on a
 * chunk being scanned now (a new scan joins the current pass); else, while
 * fewer than max_chunks chunks are being scanned, the one on the lowest
 * chunk at or after the cursor (the chunk of the last scan started),
 * wrapping around to the lowest chunk, oldest first on one chunk: one
 * ascending walk over the chunks for all scans.  Bounded wait: once the
 * oldest waiting scan has been passed over QUERY_SCHED_MAX_PASS times,
 * nothing else starts before it.  Thread-safe; one per worker process. */
#ifndef QSERV_WORKER_QUERY_SCHED_H
#define QSERV_WORKER_QUERY_SCHED_H

#include <pthread.h>
#include <stdint.h>

#define QUERY_SCHED_MAX_PASS 4096
#define QUERY_SCHED_MAX_SLOTS 256

/* One waiting scan: on its thread's stack, in the list while it waits. */
struct query_sched_wait {
	int32_t chunk;
	unsigned passed;                /* scans started while it waited */
	int granted;                    /* it may run (running already counts it) */
	struct query_sched_wait *next;
};

struct query_sched {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned slots, running;
	unsigned max_chunks;            /* distinct chunks scanned at once */
	unsigned waiting_interactive, waiting_scans;
	struct query_sched_wait *scans; /* waiting scans, oldest first */
	int32_t cursor;                 /* chunk of the last scan started */
	struct { int32_t chunk; unsigned n; } active[QUERY_SCHED_MAX_SLOTS];   /* running scans per chunk */
	unsigned nactive;               /* entries of active[] in use (n > 0) */
	int fifo;                       /* 1: oldest first, no chunk limit (benchmarks' "before") */
	unsigned long started_interactive, started_scans;   /* totals, for tests and logs */
	unsigned long shared_scans;     /* scans started on a chunk being scanned already */
};

/* slots: at most QUERY_SCHED_MAX_SLOTS; max_chunks 0: 2 (at most slots). */
void query_sched_init(struct query_sched *s, unsigned slots, unsigned max_chunks);
void query_sched_destroy(struct query_sched *s);
/* Blocks until the query may run; chunk: the chunk it reads (ignored for
 * interactive queries).  query_sched_release with the same scan, chunk. */
void query_sched_acquire(struct query_sched *s, int scan, int32_t chunk);
void query_sched_release(struct query_sched *s, int scan, int32_t chunk);

#endif
