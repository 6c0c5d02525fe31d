/* dispatch_pool.h: the dispatcher's worker connections (dispatch_pool.c),
 * private to dispatch.c and dispatch_pool.c.
 *
 * struct dispatch holds the mutual-TLS client configuration and, per
 * worker (id@host:port), up to POOL_IDLE_MAX idle connections reused
 * across queries, and when that worker last failed to connect or fell
 * silent (wpool_mark_suspect: dispatch.c then tries its chunks on other
 * replicas first for SUSPECT_MS).  Sockets get wire_tcp_tune (no Nagle,
 * TCP keepalive).  d->lock guards the pools and is never held across a
 * network call. */
#ifndef QSERV_CZAR_DISPATCH_POOL_H
#define QSERV_CZAR_DISPATCH_POOL_H

#include <pthread.h>
#include <stdint.h>

#include "dispatch.h"

#define POOL_IDLE_MAX 32
#define SUSPECT_MS 10000             /* a failed worker is tried last for this long */

struct wconn {
	int fd;
	int reused;                  /* came from the pool */
	struct tls_conn *tls;
};

struct wpool {
	char key[336];               /* id@host:port: 64 + 1 + 255 + 1 + 11 + NUL */
	struct wconn *idle[POOL_IDLE_MAX];
	unsigned nidle;
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
	struct tpool *threads;       /* chunk conversations run on these (tpool.h; lives with the process) */
	pthread_mutex_t lock;        /* pools */
	struct wpool *pools;
	size_t npools;
};

/* A connection to w: an idle one from the pool (reused = 1), else a new
 * one.  NULL with err filled ("worker ID (host:port): why"). */
struct wconn *wpool_get(struct dispatch *d, const struct meta_worker *w, char *err, size_t errlen);
struct wconn *wpool_get_fresh(struct dispatch *d, const struct meta_worker *w, char *err, size_t errlen);
/* Back to w's pool (closed when the pool is full). */
void wpool_put(struct dispatch *d, const struct meta_worker *w, struct wconn *c);
void wpool_close_conn(struct wconn *c);
/* Closes every idle connection to w. */
void wpool_drain(struct dispatch *d, const struct meta_worker *w);
void wpool_mark_suspect(struct dispatch *d, const struct meta_worker *w);
int wpool_is_suspect(struct dispatch *d, const struct meta_worker *w);

#endif
