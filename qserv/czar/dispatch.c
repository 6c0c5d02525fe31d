/* dispatch.c: chunk queries to the workers (see dispatch.h).
 *
 * Threads, not an event loop: a chunk query is a blocking conversation on
 * one TLS connection, and the per-worker window bounds both the threads
 * and the connections of a query.  The threads come from a pool (tpool.h);
 * a run of one job runs on the caller's thread (run_inline), and the one
 * watcher thread does for it what wait_threads does for the others.  struct run is the state of one query;
 * run.lock guards its queues, the error and the active fds (the sockets a
 * cancel shuts down); run.sink_lock serialises the sink, which may block on
 * a slow client: run.lock is never held across it, so a KILL or a hang-up
 * is always seen by wait_threads, which shuts the workers' sockets down.
 * Failover (dispatch.h): run_chunk picks the replicas, attempt() says how
 * an attempt ended (ATT_DEAD: the worker is unreachable or silent), and
 * run.dead and wpool.suspect_until remember bad workers for the query and,
 * briefly, for the next ones.  Connections and their pools:
 * dispatch_pool.c. */
#include "dispatch.h"
#include "dispatch_pool.h"
#include "chunkbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mariadb/mysqld_error.h>

#include "monotime.h"
#include "tls.h"
#include "tpool.h"

#define MAX_ATTEMPTS 3
#define CHUNK_MEM_MAX (8u << 20)     /* a chunk's held-back rows in memory; then a spill file */
#define HELD_MEM_MAX (256ull << 20)  /* all chunks' held-back rows in memory, czar-wide */

/* ---- one query ----------------------------------------------------------- */

struct run {
	struct dispatch *d;
	const struct meta *m;
	uint64_t qid;
	const char *sql;
	uint32_t flags;
	const struct dispatch_job *jobs;
	const struct dispatch_sink *sink;
	struct dispatch_progress *progress;
	pthread_mutex_t lock;
	pthread_mutex_t sink_lock;   /* taken before lock, never after */
	pthread_cond_t cond;
	size_t **queue;              /* per worker: job indexes */
	size_t *qlen, *qnext;
	int *active;                 /* per thread: fd in use or -1 */
	unsigned char *shut;         /* per thread: its fd was shut down by a cancel */
	unsigned char *dead;         /* per meta worker: unreachable or silent in this run */
	unsigned running;            /* threads not finished */
	int stop;                    /* cancelled, failed or sink satisfied */
	int failed;
	int cols_seen;
	struct wire_error err;
};

struct worker_arg {
	struct run *r;
	unsigned worker;
	unsigned slot;
};

static void fail_run(struct run *r, unsigned code, const char *state, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void fail_run(struct run *r, unsigned code, const char *state, const char *fmt, ...)
{
	va_list ap;

	/* caller holds r->lock */
	if (r->failed)
		return;
	r->failed = 1;
	r->stop = 1;
	r->err.code = code;
	snprintf(r->err.sqlstate, sizeof(r->err.sqlstate), "%s", state);
	va_start(ap, fmt);
	vsnprintf(r->err.msg, sizeof(r->err.msg), fmt, ap);
	va_end(ap);
}

static char *subst_chunk(const char *sql, int32_t chunk)
{
	char num[16];
	size_t n = strlen(sql), k, count = 0, i, o = 0;
	const char *p;
	char *out;

	snprintf(num, sizeof(num), "%d", (int)chunk);
	k = strlen(num);
	for (p = sql; (p = strstr(p, "%CC%")); p += 4)
		count++;
	out = malloc(n + count * k + 1);
	if (!out)
		return NULL;
	for (i = 0; i < n;) {
		if (!strncmp(sql + i, "%CC%", 4)) {
			memcpy(out + o, num, k);
			o += k;
			i += 4;
		} else {
			out[o++] = sql[i++];
		}
	}
	out[o] = 0;
	return out;
}

/* Sets *t to now (monotonic us) unless it is set already. */
static void first_time(int64_t *t)
{
	int64_t zero = 0;

	if (!__atomic_load_n(t, __ATOMIC_RELAXED))
		__atomic_compare_exchange_n(t, &zero, monotime_ns() / 1000, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/* ATT_RETRY: try another replica (or this one again); ATT_DEAD: the same,
 * and the worker could not be reached or fell silent: skip it. */
enum attempt_result { ATT_OK, ATT_RETRY, ATT_FAILED, ATT_DEAD };

/* Ends the slot's use of c: back to the pool when reusable and no cancel
 * shut it down meanwhile, else closed. */
static void release(struct run *r, unsigned slot, const struct meta_worker *w, struct wconn *c, int reusable)
{
	int shut;

	pthread_mutex_lock(&r->lock);
	shut = r->shut[slot];
	r->shut[slot] = 0;
	r->active[slot] = -1;
	pthread_mutex_unlock(&r->lock);
	if (reusable && !shut)
		wpool_put(r->d, w, c);
	else
		wpool_close_conn(c);
}

/* Replaces the dead pooled connection *c by a fresh one and sends the
 * query (b) again.  0, or a negative errno with why filled (*c then
 * released and NULL). */
static int reconnect(struct run *r, unsigned slot, const struct meta_worker *w, struct wconn **c,
		     struct wire_io *io, const struct buf *b, char *why, size_t whylen)
{
	int rc;

	release(r, slot, w, *c, 0);
	wpool_drain(r->d, w);
	if (!(*c = wpool_get_fresh(r->d, w, why, whylen)))
		return -ENOTCONN;
	pthread_mutex_lock(&r->lock);
	rc = r->stop ? -ECANCELED : 0;
	r->active[slot] = rc ? -1 : (*c)->fd;
	pthread_mutex_unlock(&r->lock);
	io->ctx = (*c)->tls;
	if (rc == 0)
		rc = wire_send(io, WIRE_QUERY, 0, b->data, b->len);
	if (rc < 0) {
		snprintf(why, whylen, "worker %s: sending a chunk query: %s", w->id, strerror(-rc));
		release(r, slot, w, *c, 0);
		*c = NULL;
		return rc;
	}
	return 0;
}

/* Sends the chunk query q (encoded into b) on *c; a pooled connection
 * found dead is replaced once.  0, or a negative errno with why filled
 * (*c NULL when it was released). */
static int send_query(struct run *r, unsigned slot, const struct meta_worker *w, const struct wire_query *q,
		      struct wconn **c, struct wire_io *io, struct buf *b, char *why, size_t whylen)
{
	int rc = wire_query_encode(q, b);

	if (rc == 0)
		rc = wire_send(io, WIRE_QUERY, 0, b->data, b->len);
	if (rc < 0 && (*c)->reused)
		return reconnect(r, slot, w, c, io, b, why, whylen);
	if (rc < 0)
		snprintf(why, whylen, "worker %s: sending chunk %d: %s", w->id, (int)q->chunk_id, strerror(-rc));
	return rc;
}

/* WIRE_COLUMNS: the first columns any worker sends go to the sink.  0, or
 * a negative errno (malformed; why filled).  Frees buf. */
static int take_columns(struct run *r, const struct meta_worker *w, void *buf, uint32_t len,
			struct wire_cols *cols, char *why, size_t whylen)
{
	int rc, first;

	wire_cols_free(cols);
	rc = wire_cols_decode(buf, len, cols);
	free(buf);
	if (rc < 0) {
		snprintf(why, whylen, "worker %s: malformed columns", w->id);
		return rc;
	}
	pthread_mutex_lock(&r->sink_lock);
	pthread_mutex_lock(&r->lock);
	first = !r->cols_seen && !r->stop;
	r->cols_seen = 1;
	pthread_mutex_unlock(&r->lock);
	if (first && r->sink->columns(r->sink->ctx, cols) < 0) {
		pthread_mutex_lock(&r->lock);
		fail_run(r, ER_UNKNOWN_ERROR, "HY000", "czar: cannot take the result columns");
		pthread_mutex_unlock(&r->lock);
	}
	pthread_mutex_unlock(&r->sink_lock);
	return 0;
}

/* WIRE_ROWS: a batch, checked and held back in cb until the chunk
 * completes.  0 to read on, 1 when the run stopped (enough rows, or it
 * failed), or a negative errno (malformed; why filled).  Frees buf. */
static int hold_rows(struct run *r, const struct meta_worker *w, void *buf, uint32_t len,
		     const struct wire_cols *cols, struct chunkbuf *cb, char *why, size_t whylen)
{
	struct wire_rows rows;
	char err[256];
	int rc = cols->n ? wire_rows_decode(buf, len, cols->n, &rows) : -EBADMSG, stop;

	if (rc < 0) {
		free(buf);
		snprintf(why, whylen, "worker %s: malformed row batch", w->id);
		return rc;
	}
	wire_rows_free(&rows);
	rc = chunkbuf_add(cb, buf, len, err, sizeof(err));
	free(buf);
	pthread_mutex_lock(&r->lock);
	if (rc < 0)
		fail_run(r, ER_UNKNOWN_ERROR, "HY000", "%s", err);
	stop = r->stop;
	pthread_mutex_unlock(&r->lock);
	return stop;
}

/* One held-back batch to the sink (ctx: the run's columns and the run).
 * 0 to go on, 1 when the run stopped (enough rows, or it failed). */
struct deliver { struct run *r; const struct wire_cols *cols; };
static int deliver_batch(void *ctx, const void *p, uint32_t len)
{
	struct deliver *dv = ctx;
	struct run *r = dv->r;
	struct wire_rows rows;
	int rc, stop;

	pthread_mutex_lock(&r->lock);
	stop = r->stop;
	pthread_mutex_unlock(&r->lock);
	if (stop)
		return 1;
	if (wire_rows_decode(p, len, dv->cols->n, &rows) < 0)
		return -EBADMSG;                  /* it decoded when it came: the buffer is corrupt */
	rc = r->sink->rows(r->sink->ctx, &rows);   /* may wait on the client */
	wire_rows_free(&rows);
	pthread_mutex_lock(&r->lock);
	if (rc > 0)
		r->stop = 1;                       /* enough rows */
	else if (rc < 0)
		fail_run(r, ER_UNKNOWN_ERROR, "HY000", "czar: the client or the merge table did not take the rows");
	stop = r->stop;
	pthread_mutex_unlock(&r->lock);
	return stop;
}

/* The completed chunk's rows to the sink, in the order they came. */
static void deliver(struct run *r, const struct wire_cols *cols, struct chunkbuf *cb)
{
	struct deliver dv = { r, cols };
	char err[256] = "czar: a chunk's buffered rows are corrupt";
	int rc;

	pthread_mutex_lock(&r->sink_lock);
	rc = chunkbuf_each(cb, deliver_batch, &dv, err, sizeof(err));
	pthread_mutex_unlock(&r->sink_lock);
	if (rc < 0) {
		pthread_mutex_lock(&r->lock);
		fail_run(r, ER_UNKNOWN_ERROR, "HY000", "%s", err);
		pthread_mutex_unlock(&r->lock);
	}
}

/* WIRE_ERROR: a worker that lost its MariaDB, or that no longer has the
 * chunk's tables (ER_NO_SUCH_TABLE: the controller trimmed or moved that
 * replica after this query's metadata snapshot; the tables were checked
 * against qservMeta before dispatch), is retried on another replica
 * (ATT_RETRY, why filled: none of the chunk's rows reached the sink); any
 * other error fails the run (ATT_FAILED).  A negative errno when
 * malformed (why filled).  Frees buf. */
static int take_error(struct run *r, const struct meta_worker *w, int32_t chunk, void *buf, uint32_t len,
		      char *why, size_t whylen)
{
	struct wire_error e;
	int rc = wire_error_decode(buf, len, &e);

	free(buf);
	if (rc < 0) {
		snprintf(why, whylen, "worker %s: malformed error", w->id);
		return rc;
	}
	if (e.code >= 2000) {                   /* the worker lost its MariaDB */
		snprintf(why, whylen, "worker %s: %s", w->id, e.msg);
		return ATT_RETRY;
	}
	if (e.code == ER_NO_SUCH_TABLE) {       /* that replica is gone */
		snprintf(why, whylen, "worker %s: %s", w->id, e.msg);
		return ATT_RETRY;
	}
	pthread_mutex_lock(&r->lock);
	fail_run(r, e.code, e.sqlstate, "%s (chunk %d on %s)", e.msg, (int)chunk, w->id);
	pthread_mutex_unlock(&r->lock);
	return ATT_FAILED;
}

/* Reads the worker's answer to the chunk query until WIRE_END, an error
 * or a stop; the rows are held back in cb and reach the sink only after
 * END, so any failure before it can move to another replica.  *c is NULL
 * on return when it was released here. */
static enum attempt_result read_answer(struct run *r, unsigned slot, const struct meta_worker *w, int32_t chunk,
				       struct wconn **c, struct wire_io *io, const struct buf *b,
				       struct chunkbuf *cb, char *why, size_t whylen)
{
	struct wire_cols cols = { 0 };
	enum attempt_result res = ATT_RETRY;
	int got_frame = 0, rc;

	for (;;) {
		struct frame_hdr h;
		void *buf = NULL;

		rc = wire_recv(io, &h, &buf);
		if (rc < 0 && rc != -ETIMEDOUT && !got_frame && (*c)->reused) {
			/* the pooled connection was dead (its worker restarted):
			 * nothing ran, so this is not a retry */
			rc = reconnect(r, slot, w, c, io, b, why, whylen);
			if (rc < 0) {
				res = rc == -ENOTCONN ? ATT_DEAD : ATT_RETRY;
				goto done;
			}
			continue;
		}
		if (rc == -ETIMEDOUT) {
			snprintf(why, whylen, "worker %s: silent for %d s", w->id, io->timeout_ms / 1000);
			res = ATT_DEAD;
			break;
		}
		if (rc < 0) {
			snprintf(why, whylen, "worker %s: chunk %d: connection lost (%s)", w->id, (int)chunk,
				 strerror(-rc));
			break;
		}
		got_frame = 1;
		first_time(&r->progress->first_us);
		if (h.type == WIRE_KEEPALIVE) {
			uint32_t ms;
			rc = wire_keepalive_decode(buf, h.len, &ms);
			free(buf);
			if (rc < 0) {
				snprintf(why, whylen, "worker %s: malformed keep-alive", w->id);
				break;
			}
		} else if (h.type == WIRE_COLUMNS) {
			if (take_columns(r, w, buf, h.len, &cols, why, whylen) < 0)
				break;
		} else if (h.type == WIRE_ROWS) {
			rc = hold_rows(r, w, buf, h.len, &cols, cb, why, whylen);
			if (rc < 0)
				break;
			if (rc) {
				res = ATT_FAILED;          /* stopped: the connection has unread frames */
				goto done;
			}
		} else if (h.type == WIRE_END) {
			free(buf);
			release(r, slot, w, *c, 1);   /* in sync, and not held while the client reads */
			*c = NULL;
			deliver(r, &cols, cb);
			res = ATT_OK;
			break;
		} else if (h.type == WIRE_ERROR) {
			rc = take_error(r, w, chunk, buf, h.len, why, whylen);
			if (rc < 0)
				break;
			/* the stream is in sync: the connection stays usable */
			release(r, slot, w, *c, 1);
			*c = NULL;
			res = (enum attempt_result)rc;
			goto done;
		} else {
			free(buf);
			snprintf(why, whylen, "worker %s: unexpected message type %u", w->id, h.type);
			break;
		}
	}
done:
	wire_cols_free(&cols);
	return res;
}

/* One attempt of one chunk on one worker. */
static enum attempt_result attempt(struct run *r, unsigned slot, const struct meta_worker *w, const char *sql,
				   const struct dispatch_job *j, char *why, size_t whylen)
{
	int32_t chunk = j->chunk;
	struct wire_query q = { .query_id = r->qid, .chunk_id = chunk, .flags = r->flags, .sql = sql,
				.sql_len = strlen(sql), .nsub = j->nsub, .sub = j->sub, .sub_db = j->sub_db,
				.sub_db_len = j->sub_db ? strlen(j->sub_db) : 0, .sub_table = j->sub_table,
				.sub_table_len = j->sub_table ? strlen(j->sub_table) : 0 };
	struct buf b = { 0 };
	struct wconn *c = wpool_get(r->d, w, why, whylen);
	struct wire_io io;
	struct chunkbuf cb;
	enum attempt_result res = ATT_RETRY;
	int rc;

	if (!c)
		return ATT_DEAD;
	pthread_mutex_lock(&r->lock);
	if (r->stop) {
		pthread_mutex_unlock(&r->lock);
		wpool_put(r->d, w, c);
		return ATT_FAILED;
	}
	r->active[slot] = c->fd;
	pthread_mutex_unlock(&r->lock);
	io = (struct wire_io){ tls_io_read, tls_io_write, c->tls, r->d->silence_ms };
	rc = send_query(r, slot, w, &q, &c, &io, &b, why, whylen);
	if (rc == 0)
		first_time(&r->progress->sent_us);
	chunkbuf_init(&cb, CHUNK_MEM_MAX, r->d->spill_dir);
	chunkbuf_share(&cb, &r->d->held, HELD_MEM_MAX);
	if (rc == 0)
		res = read_answer(r, slot, w, chunk, &c, &io, &b, &cb, why, whylen);
	else if (rc == -ENOTCONN || rc == -ETIMEDOUT)
		res = ATT_DEAD;                    /* no new connection, or a write into silence */
	if (cb.fd >= 0)
		__atomic_add_fetch(&r->d->stats.spilled, 1, __ATOMIC_RELAXED);
	chunkbuf_free(&cb);
	if (c)
		release(r, slot, w, c, 0);
	buf_free(&b);
	return res;
}

/* dispatch_stats: why an attempt failed (attempt() starts why with
 * "worker ID: silent" for a silence). */
static void count_failure(struct dispatch *d, enum attempt_result res, const char *why)
{
	unsigned long long *n = &d->stats.lost;

	if (res == ATT_DEAD)
		n = strstr(why, ": silent for ") ? &d->stats.silent : &d->stats.unreachable;
	__atomic_add_fetch(n, 1, __ATOMIC_RELAXED);
}

/* Which replica of j to try next: one not tried for this chunk and not
 * found bad by this run, not suspect if possible; else one tried before
 * that is not bad (its failure may pass, e.g. a lost MariaDB).  -1: none.
 * Takes r->lock and the pools' lock, one after the other. */
static int pick_replica(struct run *r, const struct dispatch_job *j, unsigned tried)
{
	int suspect[4] = { 0 }, pass;
	unsigned k, n = j->nreplicas < 4 ? j->nreplicas : 4;
	int pick = -1;

	for (k = 0; k < n; k++)
		suspect[k] = wpool_is_suspect(r->d, &r->m->workers[j->replica[k]]);
	pthread_mutex_lock(&r->lock);
	for (pass = 0; pass < 3 && pick < 0 && !r->stop; pass++)
		for (k = 0; k < n && pick < 0; k++) {
			int was_tried = (tried >> k) & 1;
			if (r->dead[j->replica[k]] || (pass < 2 && was_tried) || (pass == 0 && suspect[k]))
				continue;
			pick = (int)k;
		}
	pthread_mutex_unlock(&r->lock);
	return pick;
}

/* Appends "; " and s to the list in out (size n), cut to fit. */
static void reasons_add(char *out, size_t n, const char *s)
{
	size_t o = strlen(out), k = strlen(s);

	if (o && o + 2 < n) {
		memcpy(out + o, "; ", 2);
		o += 2;
	}
	if (o + 1 >= n)
		return;
	if (k > n - 1 - o)
		k = n - 1 - o;
	memcpy(out + o, s, k);
	out[o + k] = 0;
}

/* One chunk, on its replicas in turn (at most MAX_ATTEMPTS attempts).
 * ATT_OK, or ATT_FAILED with the run failed (or stopped). */
static enum attempt_result run_chunk(struct run *r, unsigned slot, const struct dispatch_job *j, const char *sql)
{
	/* room for attempt()'s longest: "worker %s: %s" with a worker's error */
	char why[8 + sizeof(((struct meta_worker *)0)->id) + 2 + sizeof(((struct wire_error *)0)->msg)];
	char tried_why[sizeof(((struct wire_error *)0)->msg) - 64] = "";
	unsigned tried = 0, k, i;
	enum attempt_result res = ATT_RETRY;

	for (k = 0; k < MAX_ATTEMPTS; k++) {
		int pick = pick_replica(r, j, tried);
		const struct meta_worker *w;

		if (pick < 0)
			break;
		w = &r->m->workers[j->replica[pick]];
		tried |= 1u << pick;
		snprintf(why, sizeof(why), "worker %s: failed", w->id);
		res = attempt(r, slot, w, sql, j, why, sizeof(why));
		if (res == ATT_OK || res == ATT_FAILED)
			return res;
		count_failure(r->d, res, why);
		if (res == ATT_DEAD) {
			pthread_mutex_lock(&r->lock);
			r->dead[j->replica[pick]] = 1;
			pthread_mutex_unlock(&r->lock);
			wpool_mark_suspect(r->d, w);
		}
		reasons_add(tried_why, sizeof(tried_why), why);
	}
	pthread_mutex_lock(&r->lock);
	for (i = 0; i < j->nreplicas && i < 4; i++)
		if (!((tried >> i) & 1) && r->dead[j->replica[i]]) {
			snprintf(why, sizeof(why), "worker %s: unreachable or silent earlier in this query",
				 r->m->workers[j->replica[i]].id);
			reasons_add(tried_why, sizeof(tried_why), why);
		}
	if (!r->stop)
		fail_run(r, ER_UNKNOWN_ERROR, "HY000", "chunk %d: no live replica left (%u attempt%s): %s",
			 (int)j->chunk, k, k == 1 ? "" : "s", tried_why[0] ? tried_why : "no replica");
	pthread_mutex_unlock(&r->lock);
	return ATT_FAILED;
}

static void worker_thread(void *arg)
{
	struct worker_arg *a = arg;
	struct run *r = a->r;

	for (;;) {
		const struct dispatch_job *j;
		char *sql;
		enum attempt_result res;

		pthread_mutex_lock(&r->lock);
		if (r->stop || r->qnext[a->worker] >= r->qlen[a->worker]) {
			pthread_mutex_unlock(&r->lock);
			break;
		}
		j = &r->jobs[r->queue[a->worker][r->qnext[a->worker]++]];
		pthread_mutex_unlock(&r->lock);
		sql = subst_chunk(r->sql, j->chunk);
		if (!sql) {
			pthread_mutex_lock(&r->lock);
			fail_run(r, ER_OUT_OF_RESOURCES, "HY000", "czar out of memory");
			pthread_mutex_unlock(&r->lock);
			break;
		}
		res = run_chunk(r, a->slot, j, sql);
		free(sql);
		if (res != ATT_OK)
			break;
		__atomic_add_fetch(&r->progress->done, 1, __ATOMIC_RELAXED);
	}
	pthread_mutex_lock(&r->lock);
	r->running--;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);   /* the last touch of r: dispatch_run may return now */
}

static int client_gone(int fd)
{
	char c;
	ssize_t n;

	if (fd < 0)
		return 0;
	n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* Per worker, the jobs whose first replica it holds: r->queue[w][0..qlen). */
static int queue_jobs(struct run *r, const struct dispatch_job *jobs, size_t njobs)
{
	const struct meta *m = r->m;
	size_t i, j;

	r->queue = calloc(m->nworkers + 1, sizeof(*r->queue));
	r->qlen = calloc(m->nworkers + 1, sizeof(*r->qlen));
	r->qnext = calloc(m->nworkers + 1, sizeof(*r->qnext));
	if (!r->queue || !r->qlen || !r->qnext)
		return -ENOMEM;
	for (i = 0; i < m->nworkers; i++)
		if (!(r->queue[i] = malloc((njobs + 1) * sizeof(size_t))))
			return -ENOMEM;
	for (j = 0; j < njobs; j++) {
		unsigned w = jobs[j].replica[0];
		r->queue[w][r->qlen[w]++] = j;
	}
	return 0;
}

/* At most `window` threads per worker (from the pool, tpool.h), each
 * slot k with its own active fd.  A thread that cannot start fails the
 * run (the others still finish). */
static void start_threads(struct run *r, struct worker_arg *args)
{
	unsigned i, k, t;

	for (i = 0, k = 0; i < r->m->nworkers; i++) {
		unsigned n = r->qlen[i] < r->d->window ? (unsigned)r->qlen[i] : r->d->window;
		for (t = 0; t < n; t++, k++) {
			args[k] = (struct worker_arg){ r, i, k };
			r->active[k] = -1;
			pthread_mutex_lock(&r->lock);
			r->running++;
			pthread_mutex_unlock(&r->lock);
			if (tpool_run(r->d->threads, worker_thread, &args[k]) != 0) {
				pthread_mutex_lock(&r->lock);
				r->running--;
				fail_run(r, ER_OUT_OF_RESOURCES, "HY000", "czar: cannot start dispatch threads");
				pthread_mutex_unlock(&r->lock);
			}
		}
	}
}

/* One look at a run (caller holds r->lock): a KILL or a client that hung
 * up stops it; a stopped run's connections in use are shut down so
 * blocked reads return. */
static void watch_once(struct run *r, unsigned nthreads, volatile sig_atomic_t *cancel, int client_fd)
{
	unsigned i;

	if (!r->stop && ((cancel && *cancel) || client_gone(client_fd)))
		fail_run(r, ER_QUERY_INTERRUPTED, "70100", "Query execution was interrupted");
	if (r->stop)
		for (i = 0; i < nthreads; i++)
			if (r->active[i] >= 0) {
				shutdown(r->active[i], SHUT_RDWR);
				r->shut[i] = 1;   /* never back into the pool */
			}
}

/* ---- the single-chunk case on the caller's thread ------------------------ */

/* Runs that execute on their caller's thread (one chunk job: no thread
 * handoff on the point-lookup path) are watched by one thread of the
 * dispatcher instead, every WATCH_MS: what wait_threads does for the
 * others.  watch.lock is taken before a run's lock, never after. */
#define WATCH_MS 50

struct watched {
	struct run *r;
	volatile sig_atomic_t *cancel;
	int client_fd;
	struct watched *next;
};

static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static struct watched *watch_list;
static int watch_started;

static void *watcher(void *arg)
{
	(void)arg;
	for (;;) {
		struct watched *w;
		usleep(WATCH_MS * 1000);
		pthread_mutex_lock(&watch_lock);
		for (w = watch_list; w; w = w->next) {
			pthread_mutex_lock(&w->r->lock);
			watch_once(w->r, 1, w->cancel, w->client_fd);
			pthread_mutex_unlock(&w->r->lock);
		}
		pthread_mutex_unlock(&watch_lock);
	}
	return NULL;
}

/* Registers w; 0, or -EAGAIN when the watcher cannot start (the caller
 * then uses a pool thread and wait_threads). */
static int watch_add(struct watched *w)
{
	int rc = 0;

	pthread_mutex_lock(&watch_lock);
	if (!watch_started) {
		pthread_t t;
		if (pthread_create(&t, NULL, watcher, NULL) == 0) {
			pthread_detach(t);
			watch_started = 1;
		}
	}
	if (watch_started) {
		w->next = watch_list;
		watch_list = w;
	} else {
		rc = -EAGAIN;
	}
	pthread_mutex_unlock(&watch_lock);
	return rc;
}

static void watch_remove(struct watched *w)
{
	struct watched **pp;

	pthread_mutex_lock(&watch_lock);
	for (pp = &watch_list; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	pthread_mutex_unlock(&watch_lock);
}

/* One job on this thread, watched; 0, or -EAGAIN when it could not be
 * watched (nothing ran). */
static int run_inline(struct run *r, struct worker_arg *a, volatile sig_atomic_t *cancel, int client_fd)
{
	struct watched w = { r, cancel, client_fd, NULL };

	*a = (struct worker_arg){ r, r->jobs[0].replica[0], 0 };
	r->active[0] = -1;
	if (watch_add(&w) < 0)
		return -EAGAIN;
	pthread_mutex_lock(&r->lock);
	r->running++;
	watch_once(r, 1, cancel, client_fd);   /* killed before it began */
	pthread_mutex_unlock(&r->lock);
	worker_thread(a);
	watch_remove(&w);
	return 0;
}

/* Waits for the threads, watching for KILL and for the client hanging up;
 * once the run stops, shuts down the connections in use so blocked reads
 * return. */
static void wait_threads(struct run *r, unsigned nthreads, volatile sig_atomic_t *cancel, int client_fd)
{
	pthread_mutex_lock(&r->lock);
	while (r->running > 0) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&r->cond, &r->lock, &ts);
		watch_once(r, nthreads, cancel, client_fd);
	}
	pthread_mutex_unlock(&r->lock);
}

int dispatch_run(struct dispatch *d, const struct meta *m, uint64_t query_id, const char *sql, uint32_t flags,
		 const struct dispatch_job *jobs, size_t njobs, const struct dispatch_sink *sink,
		 volatile sig_atomic_t *cancel, int client_fd, struct dispatch_progress *progress,
		 struct wire_error *ret_err)
{
	struct run r;
	struct worker_arg *args = NULL;
	unsigned nthreads = 0, i;
	int rc;

	memset(&r, 0, sizeof(r));
	r.d = d;
	r.m = m;
	r.qid = query_id;
	r.sql = sql;
	r.flags = flags;
	r.jobs = jobs;
	r.sink = sink;
	r.progress = progress;
	progress->done = 0;
	progress->total = (unsigned)njobs;
	pthread_mutex_init(&r.lock, NULL);
	pthread_mutex_init(&r.sink_lock, NULL);
	pthread_cond_init(&r.cond, NULL);
	rc = queue_jobs(&r, jobs, njobs);
	if (rc == 0) {
		for (i = 0; i < m->nworkers; i++)
			nthreads += r.qlen[i] < d->window ? (unsigned)r.qlen[i] : d->window;
		args = calloc(nthreads + 1, sizeof(*args));
		r.active = malloc((nthreads + 1) * sizeof(int));
		r.shut = calloc(nthreads + 1, 1);
		r.dead = calloc(m->nworkers + 1, 1);
		if (!args || !r.active || !r.shut || !r.dead)
			rc = -ENOMEM;
	}
	if (rc == 0) {
		/* one chunk (a point lookup): on this thread, no handoff */
		if (nthreads != 1 || run_inline(&r, args, cancel, client_fd) < 0) {
			start_threads(&r, args);
			wait_threads(&r, nthreads, cancel, client_fd);   /* every task has left r when it returns */
		}
		if (r.failed) {
			*ret_err = r.err;
			rc = -EIO;
		}
	} else {
		memset(ret_err, 0, sizeof(*ret_err));
		ret_err->code = ER_OUT_OF_RESOURCES;
		snprintf(ret_err->sqlstate, sizeof(ret_err->sqlstate), "HY000");
		snprintf(ret_err->msg, sizeof(ret_err->msg), "czar out of memory");
	}
	if (r.queue)
		for (i = 0; i < m->nworkers; i++)
			free(r.queue[i]);
	free(r.queue);
	free(r.qlen);
	free(r.qnext);
	free(r.active);
	free(r.shut);
	free(r.dead);
	free(args);
	pthread_mutex_destroy(&r.lock);
	pthread_mutex_destroy(&r.sink_lock);
	pthread_cond_destroy(&r.cond);
	return rc;
}
