/* dispatch_pool.h: the dispatcher's worker connections (dispatch_pool.c),
 * private to dispatch.c and dispatch_pool.c.
 *
 * struct dispatch holds the mutual-TLS client configuration and, per
 * worker (id@host:port), its connections: at most max_conns open at
 * once (idle or in use), all of them kept idle for reuse across queries,
 * at most POOL_CONNECTING_MAX in their TLS handshake at once.  A chunk
 * query that finds none idle opens one within those bounds, else waits
 * (POOL_WAIT_MS at most) for one to come back: under a burst of clients
 * the czar queues for its own connections instead of opening ever more
 * and closing them again (200 monkeys against a QEMU cluster once had
 * workers cut handshakes in such a churn: "no live replica left").  Each
 * worker also keeps when it last failed to connect or fell silent
 * (wpool_mark_suspect: dispatch.c then tries its chunks on other replicas
 * first for SUSPECT_MS).  Sockets get wire_tcp_tune (no Nagle, TCP
 * keepalive).  d->lock guards the pools and is never held across a
 * network call; d->freed is signalled when a connection comes back, is
 * closed or finishes its handshake. */
#ifndef QSERV_CZAR_DISPATCH_POOL_H
#define QSERV_CZAR_DISPATCH_POOL_H

#include <pthread.h>
#include <stdint.h>

#include "dispatch.h"

#define POOL_OPEN_MAX 128           /* per worker: the worker's default handshake budget (worker/query.c) */
#define POOL_IDLE_MAX POOL_OPEN_MAX
#define POOL_CONNECTING_MAX 8
#define POOL_WAIT_MS 60000
#define SUSPECT_MS 10000             /* a failed worker is tried last for this long */

struct wconn {
	int fd;
	int reused;                  /* came from the pool */
	struct tls_conn *tls;
	struct dispatch *d;          /* counted in d->pools[pool] */
	size_t pool;
};

struct wpool {
	char key[336];               /* id@host:port: 64 + 1 + 255 + 1 + 11 + NUL */
	struct wconn *idle[POOL_IDLE_MAX];
	unsigned nidle;
	unsigned nopen;              /* idle + in use + connecting */
	unsigned nconnecting;
	int64_t suspect_until;       /* monotime_ms: unreachable or silent lately */
};

struct dispatch {
	struct tls_config *tls;
	unsigned window;
	int timeout_ms;
	int silence_ms;
	char *spill_dir;             /* NULL: $TMPDIR or /tmp */
	struct dispatch_stats stats; /* __atomic updates */
	uint64_t held;               /* bytes all held-back chunk rows take in memory (__atomic) */
	unsigned max_conns;          /* per worker: cfg->max_conns, else POOL_OPEN_MAX */
	struct tpool *threads;       /* chunk conversations run on these (tpool.h; lives with the process) */
	pthread_mutex_t lock;        /* pools */
	pthread_cond_t freed;        /* a connection back, closed or connected (CLOCK_MONOTONIC) */
	struct wpool *pools;
	size_t npools;
};

/* A connection to w: an idle one from the pool (reused = 1), else a new
 * one within the bounds above, else the first to come back within
 * POOL_WAIT_MS.  NULL with err filled ("worker ID (host:port): why").
 * wpool_get_fresh: always a new one (replacing a dead one), counted. */
struct wconn *wpool_get(struct dispatch *d, const struct meta_worker *w, char *err, size_t errlen);
struct wconn *wpool_get_fresh(struct dispatch *d, const struct meta_worker *w, char *err, size_t errlen);
/* Back to w's pool (closed when the pool is full); wpool_close_conn
 * closes it and uncounts it. */
void wpool_put(struct dispatch *d, const struct meta_worker *w, struct wconn *c);
void wpool_close_conn(struct wconn *c);
/* Closes every idle connection to w. */
void wpool_drain(struct dispatch *d, const struct meta_worker *w);
void wpool_mark_suspect(struct dispatch *d, const struct meta_worker *w);
int wpool_is_suspect(struct dispatch *d, const struct meta_worker *w);

#endif
