/* crebal.c: replica moves: trim, drain and rebalance.
 *
 *   PUT  /replication/drain {"worker": ID, "drain": true|false}   (admin key)
 *   POST /replication/rebalance                                 (admin key)
 *
 * Trim: a chunk of a published database with more enabled, usable
 * (answering, not evicted, not in maintenance: chealth_usable) holders
 * than its level loses the extras, from the holder with the most replicas
 * of that database (ties: the higher id), never below the level.  The
 * replicas of a draining worker (enabled=0) go first, once the chunk has
 * min(level, enabled usable workers) (at least 1) replicas on enabled
 * usable workers.  A holder that is down or in maintenance is never
 * trimmed (nor counted): its replicas wait until it is usable again.  It
 * runs after every heal pass that copied (the healer, chealth.c), when
 * woken (a drain, a worker added) and after PUT /replication/level.
 *
 * Dropping a replica: its qservMeta.chunks row goes first, then one
 * CREBAL_GRACE_MS wait per batch (the czar re-reads qservMeta at most
 * every 2 s and moves a chunk query that misses a table to another
 * replica), then DELETE /worker/replica on the worker.  A failed DELETE
 * is logged and counted (trim.drop_failed): the row is gone, so the czar
 * no longer uses those tables; a later copy to that worker replaces them.
 *
 * Drain: PUT /replication/drain sets qservMeta.workers.enabled=0 (1 to
 * undo).  The worker keeps its rows and serves queries; the heal pass
 * copies its chunks to enabled workers (crepl.c: a draining worker is a
 * copy source only), then the trim drops its replicas.  Once it holds no
 * chunk GET /replication/status says "drained" and DELETE /meta/worker
 * needs no force.
 *
 * Rebalance, per published database, when no replica of it is on a down
 * or maintenance worker (the healer's check also waits until nothing is
 * under-replicated; POST /replication/rebalance does not): while the least
 * loaded usable enabled
 * worker holds fewer than 90% of the mean replicas of the database or the
 * most loaded more than 110%, and they differ by 2 or more, a chunk of the
 * most loaded that the least loaded lacks moves (a copy with crepl_copy,
 * its row recorded, then the source's replica dropped as above); a chunk
 * moves at most once per pass, CREBAL_MAX_MOVES per database per pass;
 * a chunk whose replicas stay in distinct failure zones is moved first.
 * The healer checks when woken (POST /meta/worker, a drain, a returning
 * worker once cverify.c judged what it holds: it is up by then; POST
 * /replication/rebalance moves now).  Copies are capped by
 * --heal-max-mbps over a batch.
 *
 * Invariant: one trim, rebalance, heal pass or level change at a time
 * (rb.busy, crebal_enter with a bounded wait), so a rebalance's extra
 * replica is never trimmed elsewhere before its source's is and two
 * never copy the same chunk; rb.mu is held only to read or update
 * struct crebal, never across MariaDB or network calls.  Not excluded: a
 * publish, an un-publish or an eviction meanwhile (the next pass sees
 * their rows). */
#include "controller.h"
#include "log.h"
#include "monotime.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CREBAL_GRACE_MS 5000L     /* the czar's qservMeta re-read (2 s) and margin */
#define CREBAL_MAX_MOVES 256      /* per database per pass */
#define CREBAL_MAX_PASSES 64      /* POST /replication/rebalance */

/* One database's placement as a trim or a rebalance sees it. */
struct view {
	int level;
	struct cworker *w;      /* every registered worker, ordered by id */
	size_t nw;
	bool *usable;           /* chealth_usable */
	long long *cnt;         /* replicas of the database per worker */
	struct vrow { int32_t chunk; size_t w; bool done; } *rows;   /* by chunk, then worker */
	size_t nrows;
};

struct drops {
	struct drop { int32_t chunk; size_t w; } *v;
	size_t n;
};

void crebal_init(struct ctl *c)
{
	pthread_mutex_init(&c->rb.mu, NULL);
	pthread_cond_init(&c->rb.cv, NULL);
	c->rb.wanted = true;    /* a level lowered before a restart trims */
}

int crebal_enter(struct ctl *c, int ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L)
		ts.tv_sec++, ts.tv_nsec -= 1000000000L;
	pthread_mutex_lock(&c->rb.mu);
	while (c->rb.busy)
		if (pthread_cond_timedwait(&c->rb.cv, &c->rb.mu, &ts) == ETIMEDOUT)
			break;
	int r = c->rb.busy ? -EBUSY : 0;
	c->rb.busy = true;
	pthread_mutex_unlock(&c->rb.mu);
	return r;
}

void crebal_leave(struct ctl *c)
{
	pthread_mutex_lock(&c->rb.mu);
	c->rb.busy = false;
	pthread_cond_broadcast(&c->rb.cv);
	pthread_mutex_unlock(&c->rb.mu);
}

static void view_free(struct view *v)
{
	free(v->w);
	free(v->usable);
	free(v->cnt);
	free(v->rows);
}

/* db's level, workers and replica rows (rows of unregistered workers skipped). */
static int view_load(struct ctl *c, MYSQL *m, const char *db, struct view *v, char *err, size_t errlen)
{
	memset(v, 0, sizeof *v);
	int r = crepl_level(c, m, db, &v->level, err, errlen);
	if (!r)
		r = cmeta_workers_all(m, &v->w, &v->nw, err, errlen);
	if (r)
		return r;
	MYSQL_RES *res = qsql_query(m, err, errlen,
		"SELECT chunk, worker_id FROM qservMeta.chunks WHERE db='%s' ORDER BY chunk, worker_id", db);
	if (!res)
		return -EIO;
	v->usable = calloc(v->nw + 1, sizeof *v->usable);
	v->cnt = calloc(v->nw + 1, sizeof *v->cnt);
	v->rows = calloc(mysql_num_rows(res) + 1, sizeof *v->rows);
	MYSQL_ROW row;
	while (v->usable && v->cnt && v->rows && (row = mysql_fetch_row(res))) {
		size_t i = ctl_worker_index(v->w, v->nw, row[1]);
		if (i < v->nw) {
			v->rows[v->nrows++] = (struct vrow){ .chunk = (int32_t)atoi(row[0]), .w = i };
			v->cnt[i]++;
		}
	}
	mysql_free_result(res);
	if (!v->usable || !v->cnt || !v->rows) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < v->nw; i++)
		v->usable[i] = chealth_usable(c, v->w[i].id, v->w[i].maint);
	return 0;
}

static int push(struct drops *d, int32_t chunk, size_t w)
{
	struct drop *n = realloc(d->v, (d->n + 1) * sizeof *n);
	if (!n)
		return -ENOMEM;
	d->v = n;
	d->v[d->n++] = (struct drop){ .chunk = chunk, .w = w };
	return 0;
}

static void nap_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Drops the replicas d of db (see the top of the file): rows, one grace
 * wait, then the workers' tables.  Returns the rows dropped. */
static long long drop_replicas(struct ctl *c, MYSQL *m, const char *db, const struct view *v, const struct drops *d)
{
	char err[768], path[160];
	long long done = 0, failed = 0;
	bool *gone = calloc(d->n + 1, sizeof *gone);
	for (size_t k = 0; gone && k < d->n; k++) {
		const struct drop *x = &d->v[k];
		gone[k] = !qsql_exec(m, err, sizeof err, "DELETE FROM qservMeta.chunks WHERE db='%s' AND chunk=%d"
				     " AND worker_id='%s'", db, x->chunk, v->w[x->w].id);
		if (!gone[k])
			log_warn("trim %s chunk %d on %s: %s", db, x->chunk, v->w[x->w].id, err);
		done += gone[k];
	}
	if (done) {
		cnotify_czar(c, CNOTIFY_CHUNKS, "trim");
		nap_ms(CREBAL_GRACE_MS);
	}
	for (size_t k = 0; gone && k < d->n; k++) {
		const struct drop *x = &d->v[k];
		snprintf(path, sizeof path, "replica?database=%s&chunk=%d", db, x->chunk);
		if (gone[k] && ctl_worker_call(&v->w[x->w], "DELETE", path, NULL, NULL, err, sizeof err)) {
			log_warn("trim %s chunk %d: its row is gone, its tables stay: %s", db, x->chunk, err);
			failed++;
		}
	}
	free(gone);
	pthread_mutex_lock(&c->rb.mu);
	c->rb.trimmed += done;
	c->rb.drop_failed += failed;
	pthread_mutex_unlock(&c->rb.mu);
	return done;
}

/* The extras of the chunk of rows a..b-1 into d (see the top of the file);
 * nen: the enabled usable workers. */
static int trim_chunk(struct view *v, size_t a, size_t b, int nen, struct drops *d)
{
	int good = 0, r = 0, need = v->level < nen ? v->level : nen;
	for (size_t k = a; k < b; k++)
		good += v->w[v->rows[k].w].enabled && v->usable[v->rows[k].w];
	for (size_t k = a; !r && k < b; k++) {
		size_t i = v->rows[k].w;
		if (!v->w[i].enabled && v->usable[i] && good >= need && good >= 1) {
			r = push(d, v->rows[k].chunk, i);
			v->cnt[i]--;
		}
	}
	for (; !r && good > v->level; good--) {
		size_t best = b;
		for (size_t k = a; k < b; k++) {
			size_t i = v->rows[k].w;
			if (v->w[i].enabled && v->usable[i] && !v->rows[k].done &&
			    (best == b || v->cnt[i] >= v->cnt[v->rows[best].w]))
				best = k;
		}
		v->rows[best].done = true;
		v->cnt[v->rows[best].w]--;
		r = push(d, v->rows[best].chunk, v->rows[best].w);
	}
	return r;
}

static int trim_db(struct ctl *c, MYSQL *m, const char *db, long long *ret_n, char *err, size_t errlen)
{
	struct view v;
	struct drops d = { 0 };
	int r = view_load(c, m, db, &v, err, errlen), nen = 0;
	for (size_t i = 0; !r && i < v.nw; i++)
		nen += v.w[i].enabled && v.usable[i];
	for (size_t a = 0, b; !r && a < v.nrows; a = b) {
		for (b = a; b < v.nrows && v.rows[b].chunk == v.rows[a].chunk; b++)
			;
		if ((r = trim_chunk(&v, a, b, nen, &d)))
			snprintf(err, errlen, "out of memory");
	}
	if (!r && d.n) {
		log_info("trim %s: %zu replica(s) above level %d or on draining workers", db, d.n, v.level);
		*ret_n += drop_replicas(c, m, db, &v, &d);
	}
	free(d.v);
	view_free(&v);
	return r;
}

/* The published databases (db "" : all, else db if published), ordered;
 * caller frees *ret (NULL-terminated). */
static int published(MYSQL *m, const char *db, char (**ret)[65], char *err, size_t errlen)
{
	MYSQL_RES *res = qsql_query(m, err, errlen, "SELECT name FROM qservMeta.dbs WHERE published=1%s%s%s ORDER BY name",
				    db[0] ? " AND name='" : "", db, db[0] ? "'" : "");
	if (!res)
		return -EIO;
	char (*v)[65] = calloc(mysql_num_rows(res) + 1, sizeof *v);
	MYSQL_ROW row;
	for (size_t i = 0; v && (row = mysql_fetch_row(res)); i++)
		snprintf(v[i], sizeof v[i], "%s", row[0]);
	mysql_free_result(res);
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	*ret = v;
	return 0;
}

static int trim_all(struct ctl *c, MYSQL *m, const char *db, long long *ret_n, char *err, size_t errlen)
{
	char (*dbs)[65] = NULL;
	int r = published(m, db, &dbs, err, errlen);
	for (size_t i = 0; !r && dbs[i][0]; i++)
		r = trim_db(c, m, dbs[i], ret_n, err, errlen);
	free(dbs);
	return r;
}

int crebal_trim(struct ctl *c, MYSQL *m, const char *db, long long *ret_n, char *err, size_t errlen)
{
	*ret_n = 0;
	return trim_all(c, m, db, ret_n, err, errlen);
}

/* ---- rebalance ---- */

static bool holds(const struct view *v, int32_t chunk, size_t w)
{
	size_t lo = 0, hi = v->nrows;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v->rows[mid].chunk < chunk)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < v->nrows && v->rows[lo].chunk == chunk; lo++)
		if (v->rows[lo].w == w)
			return true;
	return false;
}

/* Whether a holder of chunk other than s is in t's failure zone. */
static bool zone_taken(const struct view *v, int32_t chunk, size_t s, size_t t)
{
	for (size_t k = 0; v->w[t].zone[0] && k < v->nrows; k++)
		if (v->rows[k].chunk == chunk && v->rows[k].w != s && !strcmp(v->w[v->rows[k].w].zone, v->w[t].zone))
			return true;
	return false;
}

/* A row of s whose chunk has not moved this pass and t lacks, one that
 * keeps the chunk's replicas in distinct failure zones first; nrows if
 * none. */
static size_t pick(const struct view *v, size_t s, size_t t)
{
	size_t any = v->nrows;
	for (size_t k = 0; k < v->nrows; k++) {
		if (v->rows[k].w != s || v->rows[k].done || holds(v, v->rows[k].chunk, t))
			continue;
		if (!zone_taken(v, v->rows[k].chunk, s, t))
			return k;
		any = any < k ? any : k;
	}
	return any;
}

/* The moves of one pass into jobs (at most cap); in[i]: w[i] takes part. */
static size_t plan_moves(struct view *v, const bool *in, struct crepl_job *jobs, size_t cap)
{
	size_t n = 0, ns = 0;
	long long total = 0;
	for (size_t i = 0; i < v->nw; i++)
		if (in[i])
			ns++, total += v->cnt[i];
	double mean = ns ? (double)total / (double)ns : 0;
	while (ns >= 2 && n < cap) {
		size_t s = v->nw, t = v->nw;
		for (size_t i = 0; i < v->nw; i++) {
			if (in[i] && (s == v->nw || v->cnt[i] > v->cnt[s]))
				s = i;
			if (in[i] && (t == v->nw || v->cnt[i] < v->cnt[t]))
				t = i;
		}
		if (v->cnt[s] - v->cnt[t] < 2 || ((double)v->cnt[t] >= 0.9 * mean && (double)v->cnt[s] <= 1.1 * mean))
			break;
		size_t k = pick(v, s, t);
		if (k == v->nrows)
			break;
		for (size_t j = 0; j < v->nrows; j++)
			if (v->rows[j].chunk == v->rows[k].chunk)
				v->rows[j].done = true;
		jobs[n++] = (struct crepl_job){ .chunk = v->rows[k].chunk, .src = s, .dst = t };
		v->cnt[s]--;
		v->cnt[t]++;
	}
	return n;
}

/* Records the copies that succeeded and drops their sources' replicas;
 * *ret_failed the copies that failed (logged). */
static long long finish_moves(struct ctl *c, MYSQL *m, const char *db, const struct view *v, struct crepl_job *jobs,
			      size_t n, long long *ret_failed)
{
	char err[768];
	struct drops d = { 0 };
	for (size_t k = 0; k < n; k++) {
		struct crepl_job *j = &jobs[k];
		if (j->rc) {
			log_warn("rebalance %s: chunk %d from %s to %s: %s", db, j->chunk, v->w[j->src].id,
				 v->w[j->dst].id, j->err);
			++*ret_failed;
		} else if (!chealth_evicted(c, v->w[j->dst].id) &&
			   !qsql_exec(m, err, sizeof err, "INSERT IGNORE INTO qservMeta.chunks VALUES ('%s', %d, '%s')",
				      db, j->chunk, v->w[j->dst].id) &&
			   push(&d, j->chunk, j->src)) {
			log_warn("rebalance %s: out of memory", db);
		}
		json_decref(j->out);
	}
	long long moved = (long long)d.n;
	if (d.n) {
		cnotify_czar(c, CNOTIFY_CHUNKS, "rebalance copies");
		drop_replicas(c, m, db, v, &d);
	}
	free(d.v);
	return moved;
}

/* One pass over db; *ret_more when it stopped at CREBAL_MAX_MOVES. */
static int rebalance_db(struct ctl *c, MYSQL *m, const char *db, long long *ret_moves, long long *ret_failed,
			bool *ret_more, char *err, size_t errlen)
{
	struct view v;
	int r = view_load(c, m, db, &v, err, errlen);
	bool *in = r ? NULL : calloc(v.nw + 1, sizeof *in);
	bool all_usable = true;   /* no replica of db on a down or maintenance worker */
	struct crepl_job *jobs = in ? calloc(CREBAL_MAX_MOVES, sizeof *jobs) : NULL;
	if (!r && !jobs) {
		snprintf(err, errlen, "out of memory");
		r = -ENOMEM;
	}
	for (size_t i = 0; !r && i < v.nw; i++) {
		in[i] = v.w[i].enabled && v.usable[i];
		all_usable &= in[i] || !v.w[i].enabled || !v.cnt[i];
	}
	size_t n = !r && all_usable ? plan_moves(&v, in, jobs, CREBAL_MAX_MOVES) : 0;
	if (n) {
		int64_t t0 = monotime_ms();
		log_info("rebalance %s: %zu move(s) planned", db, n);
		crepl_copy(c, db, v.w, jobs, n, c->heal_max_mbps);
		long long moved = finish_moves(c, m, db, &v, jobs, n, ret_failed);
		*ret_moves += moved;
		log_info("rebalance %s: %lld chunk(s) moved in %.1f s", db, moved, (double)(monotime_ms() - t0) / 1000.0);
	}
	*ret_more |= n == CREBAL_MAX_MOVES;
	free(jobs);
	free(in);
	view_free(&v);
	return r;
}

/* Passes over every published database until nothing moves (at most
 * max_passes); under rb.busy. */
static int rebalance_all(struct ctl *c, MYSQL *m, int max_passes, long long *ret_moves, long long *ret_failed,
			 char *err, size_t errlen)
{
	int64_t t0 = monotime_ms();
	bool more = true;
	int r = 0;
	for (int p = 0; !r && more && p < max_passes; p++) {
		char (*dbs)[65] = NULL;
		long long before = *ret_moves;
		more = false;
		r = published(m, "", &dbs, err, errlen);
		for (size_t i = 0; !r && dbs[i][0]; i++)
			r = rebalance_db(c, m, dbs[i], ret_moves, ret_failed, &more, err, errlen);
		free(dbs);
		more &= *ret_moves > before;
	}
	double s = (double)(monotime_ms() - t0) / 1000.0;
	pthread_mutex_lock(&c->rb.mu);
	c->rb.passes++;
	c->rb.moves += *ret_moves;
	c->rb.move_failed += *ret_failed;
	if (*ret_moves) {
		c->rb.last_moves = *ret_moves;
		c->rb.last_s = s;
	}
	pthread_mutex_unlock(&c->rb.mu);
	return r;
}

int crebal_rebalance(struct ctl *c, MYSQL *m, json_t **ret, char *err, size_t errlen)
{
	long long moves = 0, failed = 0;
	if (crebal_enter(c, CREBAL_API_WAIT_MS)) {
		snprintf(err, errlen, "a heal pass, level change, trim or rebalance is running; try again later");
		return -EBUSY;
	}
	int64_t t0 = monotime_ms();
	int r = rebalance_all(c, m, CREBAL_MAX_PASSES, &moves, &failed, err, errlen);
	crebal_leave(c);
	if (!r)
		*ret = json_pack("{s:I, s:I, s:f}", "moves", (json_int_t)moves, "failed", (json_int_t)failed,
				 "seconds", (double)(monotime_ms() - t0) / 1000.0);
	return r;
}

int crebal_drain(struct ctl *c, MYSQL *m, const char *id, bool on, json_t **ret, char *err, size_t errlen)
{
	long long n = 0;
	int r = cmeta_set_enabled(m, id, !on, err, errlen);
	if (r)
		return r;
	if (qsql_int(m, &n, err, errlen, "SELECT COUNT(*) FROM qservMeta.chunks WHERE worker_id='%s'", id))
		return -EIO;
	log_info("worker %s: %s (%lld replica(s))", id, on ? "draining: its chunks move to enabled workers" : "enabled again", n);
	crebal_wake(c);
	*ret = json_pack("{s:s, s:b, s:I}", "worker", id, "drain", on, "chunks", (json_int_t)n);
	return 0;
}

void crebal_wake(struct ctl *c)
{
	pthread_mutex_lock(&c->rb.mu);
	c->rb.wanted = true;
	pthread_mutex_unlock(&c->rb.mu);
	chealth_wake_heal(c);
}

/* The healer's part: a trim when copies completed since the last one or
 * when woken, then, when woken and nothing is under-replicated, a
 * rebalance pass; a check that could not run stays wanted. */
static void healer_turn(struct ctl *c, MYSQL *m, bool wanted, long long done)
{
	char err[768];
	long long trimmed = 0, under = 0, moves = 0, failed = 0;
	if (trim_all(c, m, "", &trimmed, err, sizeof err))
		log_warn("trim: %s", err);
	int r = crepl_under_total(c, m, &under, err, sizeof err);
	bool again = wanted && (r || under > 0);
	if (wanted && !r && !under && rebalance_all(c, m, 1, &moves, &failed, err, sizeof err))
		log_warn("rebalance: %s", err);
	pthread_mutex_lock(&c->rb.mu);
	c->rb.seen_done = done;
	c->rb.wanted |= again || moves > 0;   /* moved: check again (a pass stops at CREBAL_MAX_MOVES) */
	pthread_mutex_unlock(&c->rb.mu);
}

void crebal_after_heal(struct ctl *c)
{
	char err[512];
	pthread_mutex_lock(&c->h.mu);
	long long done = c->h.done;
	pthread_mutex_unlock(&c->h.mu);
	pthread_mutex_lock(&c->rb.mu);
	bool wanted = c->rb.wanted, due = wanted || done != c->rb.seen_done;
	c->rb.wanted = false;
	pthread_mutex_unlock(&c->rb.mu);
	if (!due)
		return;
	MYSQL *m = qsql_connect(&c->sql, err, sizeof err);
	if (m && !crebal_enter(c, CREBAL_HEAL_WAIT_MS)) {
		healer_turn(c, m, wanted, done);
		crebal_leave(c);
	} else {
		pthread_mutex_lock(&c->rb.mu);
		c->rb.wanted |= wanted;   /* busy or no MariaDB: next time */
		pthread_mutex_unlock(&c->rb.mu);
	}
	if (m)
		mysql_close(m);
}

json_t *crebal_json(struct ctl *c)
{
	struct crebal *b = &c->rb;
	pthread_mutex_lock(&b->mu);
	json_t *j = json_pack("{s:{s:I, s:I}, s:{s:b, s:I, s:I, s:I, s:I, s:f}}", "trim", "replicas_dropped",
			      (json_int_t)b->trimmed, "drop_failed", (json_int_t)b->drop_failed, "rebalance", "running",
			      b->busy, "passes", (json_int_t)b->passes, "moves", (json_int_t)b->moves, "failed",
			      (json_int_t)b->move_failed, "last_moves", (json_int_t)b->last_moves, "last_seconds",
			      b->last_s);
	pthread_mutex_unlock(&b->mu);
	return j;
}
