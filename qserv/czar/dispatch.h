/* dispatch.h: sending chunk queries to the workers and collecting rows.
 *
 * struct dispatch (one per czar) holds the mutual-TLS client configuration
 * and, per worker, a pool of idle connections reused across queries.
 * dispatch_run executes one query's chunk jobs: per worker at most `window`
 * chunk queries are in flight (one per connection, one pool thread each,
 * tpool.h; a query of one chunk -- a point lookup -- runs on the caller's
 * thread, watched for KILL and hang-ups by the dispatcher's watcher);
 * results reach the sink serialised under a lock of their own, a whole
 * chunk at a time in completion order (never under the lock cancelling
 * needs, so KILL always acts).  Cancelling (the flag, the sink returning
 * non-zero, or the client hanging up) closes every connection of the
 * query, which stops its statements on the workers.  SQL errors from a
 * worker fail the query with the worker's code and message.
 *
 * Failover.  Every frame of an answer is read with a silence deadline
 * (silence_ms; workers send WIRE_KEEPALIVE while a statement works) and
 * the sockets have TCP keepalive, so a hung or unreachable worker is never
 * waited on for ever.  A chunk whose worker fails (connect or TLS failure,
 * a pooled connection found dead and no new one, silence, a lost
 * connection, an error of the "lost its MariaDB" kind) moves to another
 * replica: first one not tried yet and not known bad, then the same worker
 * again for the kinds that may pass (a lost MariaDB); at most three
 * attempts.  A worker that could not be reached or fell silent is skipped
 * by the rest of the query's chunks, and for a few seconds the dispatcher
 * tries it only after the other replicas.  With no replica left the query
 * fails at once with one error naming the chunk and every worker tried.
 *
 * Exactly once: a chunk's rows reach the sink only after its worker's END
 * (held back per chunk by chunkbuf.h, in memory up to 8 MiB a chunk and
 * 256 MiB for all queries of the czar, then in an unlinked file in
 * spill_dir), so a failure at any point of a chunk's
 * answer retries it on another replica without a duplicated or lost row,
 * in streamed and in merged (merge.c) results alike. */
#ifndef QSERV_CZAR_DISPATCH_H
#define QSERV_CZAR_DISPATCH_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "meta.h"
#include "qserv/wire/wire.h"

struct dispatch;

struct dispatch_cfg {
	const char *tls_dir;         /* ca.pem, <name>.pem, <name>.key */
	const char *name;            /* the czar's certificate name, e.g. "czar" */
	unsigned window;             /* chunk queries in flight per worker */
	int timeout_ms;              /* connect + TLS handshake deadline (0: 10 s) */
	int silence_ms;              /* longest silence in an answer (0: 15 s) */
	const char *spill_dir;       /* chunk results past 8 MiB (NULL: $TMPDIR or /tmp) */
	unsigned max_conns;          /* open connections per worker (0: POOL_OPEN_MAX, dispatch_pool.h) */
};

/* Totals since start: chunk attempts that moved on to another replica (or
 * gave up), by why the worker failed, and chunk results spilled to disk. */
struct dispatch_stats {
	unsigned long long unreachable;  /* connect or TLS failed, or no new connection */
	unsigned long long silent;       /* nothing within silence_ms */
	unsigned long long lost;         /* connection lost mid-answer, or the worker lost its MariaDB */
	unsigned long long spilled;      /* chunk answers past 8 MiB held in a spill file */
	unsigned long long opened;       /* worker connections opened (TLS handshakes) */
	unsigned long long waits;        /* chunk queries that waited for a connection to come back */
	unsigned long long open_max;     /* most connections open to one worker at once */
};
void dispatch_get_stats(struct dispatch *d, struct dispatch_stats *ret);

int dispatch_new(const struct dispatch_cfg *cfg, struct dispatch **ret, char *err, size_t errlen);
void dispatch_free(struct dispatch *d);

struct dispatch_job {
	int32_t chunk;
	unsigned replica[4];         /* indexes into meta.workers */
	unsigned nreplicas;
	/* a near-neighbour query (plan_nn.c): the worker builds the sub-chunk
	 * tables of sub_db.sub_table for these nsub sub-chunks and runs sql
	 * once per sub-chunk ("%SS%"); nsub 0: a plain chunk query */
	const char *sub_db, *sub_table;
	const int32_t *sub;
	uint32_t nsub;
};

/* Called one at a time (the run's sink lock).  Return 0 to go on, 1 to stop the query
 * early (e.g. LIMIT reached: not an error), <0 to fail it. */
struct dispatch_sink {
	void *ctx;
	int (*columns)(void *ctx, const struct wire_cols *cols);   /* first chunk to answer only */
	int (*rows)(void *ctx, const struct wire_rows *rows);
};

struct dispatch_progress {
	volatile unsigned done, total;   /* chunks */
	int64_t sent_us, first_us;       /* monotonic us: first chunk query sent, first answer frame (stages.h) */
};

/* Runs the jobs: sql has "%CC%" for the chunk id; flags go to the workers
 * (WIRE_Q_SCAN: a full scan, scheduled behind interactive queries).  cancel: set by KILL;
 * client_fd: polled for a hang-up (-1: none).  Returns 0, or a negative
 * errno (-EIO: the run failed or was interrupted, -ENOMEM) with *ret_err
 * (MySQL code, SQLSTATE, message). */
int dispatch_run(struct dispatch *d, const struct meta *m, uint64_t query_id, const char *sql, uint32_t flags,
		 const struct dispatch_job *jobs, size_t njobs, const struct dispatch_sink *sink,
		 volatile sig_atomic_t *cancel, int client_fd, struct dispatch_progress *progress,
		 struct wire_error *ret_err);

#endif
