/* crepl.c: replica levels and bringing a database's chunks to its level.
 *
 *   PUT /replication/level {"level": N, ["database": DB]}   (admin key)
 *   GET /replication/status                                 (open, like the listings)
 *
 * Levels: qservMeta.replication (db, level) holds the operator's choices,
 * db '' being the cluster's; without a row a database takes the
 * cluster's, and the cluster's is --replication-level, or with `auto` 2
 * once 2 workers are enabled, else 1.  A level above the number of
 * enabled workers cannot be met: the chunks count as under-replicated.
 *
 * Setting a level brings the published databases it concerns to it at
 * once: copies up to a higher level, a trim (crebal.c) down to a lower
 * one; an error names the first copy that failed, the level stays set.
 * Level changes, heal passes, trims and rebalances run one at a time
 * (crebal_enter), so two never copy the same chunk; a level change that
 * waited CREBAL_API_WAIT_MS is left to the healer ("deferred": true).
 *
 * A draining worker (qservMeta.workers.enabled=0, PUT /replication/drain)
 * is a copy source only: its replicas do not count toward the level, it
 * is never a target, so its chunks are copied to enabled workers; the
 * trim then drops its replicas (crebal.c).  crepl_copy runs the copies of
 * a rebalance with the same machinery.
 *
 * At publish (cpublish.c), before the database becomes visible, crepl_bring
 * plans, for every chunk with fewer enabled holders than
 * min(level, enabled workers), copies to the enabled workers not holding
 * it, outside the failure zones of its holders when workers declare zones
 * (qservMeta.workers.zone; a zone that cannot be avoided is still used:
 * a replica in the same rack beats none), then fewest chunks (all
 * databases) first, ties by id, each from one of its
 * holders in turn; CREPL_PARALLEL copies run at once, each one a POST
 * /worker/replica to the target (wcopy_in.c), which pulls from the source
 * over mutual TLS and verifies checksums.  A (db, chunk, worker) row goes
 * into qservMeta.chunks only after its copy succeeded.  A failed copy fails
 * the publish with an error naming the chunk and both workers; the copies
 * that succeeded stay recorded, so the publish retried copies only what is
 * still missing.  No lock is held during the copies: a publish of the same
 * database at the same time would copy the same chunks twice (the targets
 * refuse a second copy of a chunk already running: 409, which fails that
 * publish; the first one's rows win).
 *
 * Trade-off: replicate after the load rather than load every replica: one
 * load per row (the workers' LOAD DATA is the slow part of an ingest) and
 * the same path later serves healing. */
#include "controller.h"
#include "parallel.h"
#include "creq.h"
#include "log.h"
#include "monotime.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CREPL_PARALLEL 4

static const char *const schema_sql =
	"CREATE TABLE IF NOT EXISTS qservMeta.replication (db VARCHAR(64) NOT NULL PRIMARY KEY,"
	" level INT NOT NULL) ENGINE=InnoDB";

int crepl_init(MYSQL *m, char *err, size_t errlen)
{
	return qsql_exec(m, err, errlen, "%s", schema_sql) ? -EIO : 0;
}

static int enabled_workers(MYSQL *m, long long *ret, char *err, size_t errlen)
{
	return qsql_int(m, ret, err, errlen, "SELECT COUNT(*) FROM qservMeta.workers WHERE enabled=1") ? -EIO : 0;
}

/* The level of db ("" = the cluster's). */
int crepl_level(struct ctl *c, MYSQL *m, const char *db, int *ret, char *err, size_t errlen)
{
	long long v = 0, nw = 0;
	int r = db[0] ? qsql_int(m, &v, err, errlen, "SELECT level FROM qservMeta.replication WHERE db='%s'", db) : -ENOENT;
	if (r == 0) {
		*ret = (int)v;
		return 0;
	}
	if (r != -ENOENT)
		return r;
	r = qsql_int(m, &v, err, errlen, "SELECT level FROM qservMeta.replication WHERE db=''");
	if (r == 0) {
		*ret = (int)v;
		return 0;
	}
	if (r != -ENOENT)
		return r;
	if (c->repl_level > 0) {
		*ret = c->repl_level;
		return 0;
	}
	if ((r = enabled_workers(m, &nw, err, errlen)))
		return r;
	*ret = nw >= 2 ? 2 : 1;
	return 0;
}

/* Brings db (or, db "", every published database) to its level now; the
 * copies' totals summed into *copies and *seconds. */
static int bring_published(struct ctl *c, MYSQL *m, const char *db, json_int_t *copies, double *seconds,
			   char *err, size_t errlen)
{
	MYSQL_RES *res = qsql_query(m, err, errlen, "SELECT name FROM qservMeta.dbs WHERE published=1%s%s%s",
				    db[0] ? " AND name='" : "", db, db[0] ? "'" : "");
	if (!res)
		return -EIO;
	MYSQL_ROW row;
	int r = 0;
	while (!r && (row = mysql_fetch_row(res))) {
		json_t *info = NULL;
		r = crepl_bring(c, m, row[0], &info, err, errlen);
		*copies += json_integer_value(json_object_get(info, "copies"));
		*seconds += json_real_value(json_object_get(info, "seconds"));
		json_decref(info);
	}
	mysql_free_result(res);
	return r;
}

int crepl_set_level(struct ctl *c, MYSQL *m, const char *db, int level, json_t **ret, char *err, size_t errlen)
{
	if (db[0]) {
		struct cdb d;
		int r = cmeta_db(m, db, &d, err, errlen);
		if (r)
			return r;
	}
	if (qsql_exec(m, err, errlen, "REPLACE INTO qservMeta.replication VALUES ('%s', %d)", db, level))
		return -EIO;
	json_int_t copies = 0;
	double seconds = 0;
	long long trimmed = 0;
	bool deferred = crebal_enter(c, CREBAL_API_WAIT_MS) != 0;
	int r = 0;
	if (deferred) {
		crebal_wake(c);   /* a long heal or rebalance runs: the healer brings the level after it */
	} else {
		r = bring_published(c, m, db, &copies, &seconds, err, errlen);
		if (!r)
			r = crebal_trim(c, m, db, &trimmed, err, errlen);
		crebal_leave(c);
	}
	if (r)
		return r;
	*ret = json_pack("{s:i, s:s, s:{s:I, s:f, s:I, s:b}}", "level", level, "database", db, "replication", "copies",
			 copies, "seconds", seconds, "trimmed", (json_int_t)trimmed, "deferred", deferred);
	return 0;
}

/* Chunks of db with fewer enabled holders than level. */
static int under_replicated(MYSQL *m, const char *db, int level, long long *ret, char *err, size_t errlen)
{
	return qsql_int(m, ret, err, errlen,
		"SELECT COUNT(*) FROM (SELECT c.chunk, SUM(IFNULL(w.enabled, 0)) n FROM qservMeta.chunks c"
		" LEFT JOIN qservMeta.workers w ON w.id = c.worker_id WHERE c.db='%s' GROUP BY c.chunk) x"
		" WHERE x.n < %d", db, level) ? -EIO : 0;
}

static int status_dbs(struct ctl *c, MYSQL *m, json_t *a, char *err, size_t errlen)
{
	MYSQL_RES *res = qsql_query(m, err, errlen, "SELECT name FROM qservMeta.dbs ORDER BY name");
	if (!res)
		return -EIO;
	MYSQL_ROW row;
	int r = 0;
	while (!r && (row = mysql_fetch_row(res))) {
		int level = 0;
		long long chunks = 0, under = 0;
		if ((r = crepl_level(c, m, row[0], &level, err, errlen)) ||
		    (r = qsql_int(m, &chunks, err, errlen,
				  "SELECT COUNT(DISTINCT chunk) FROM qservMeta.chunks WHERE db='%s'", row[0]) ? -EIO : 0) ||
		    (r = under_replicated(m, row[0], level, &under, err, errlen)))
			break;
		json_array_append_new(a, json_pack("{s:s, s:i, s:I, s:I}", "database", row[0], "level", level,
						   "chunks", (json_int_t)chunks, "under_replicated", (json_int_t)under));
	}
	mysql_free_result(res);
	return r;
}

/* Workers' states as the controller knows them (chealth_state): up, down
 * (silent, not evicted yet), evicted, maintenance, draining (disabled). */
static int status_workers(struct ctl *c, MYSQL *m, json_t *a, char *err, size_t errlen)
{
	MYSQL_RES *res = qsql_query(m, err, errlen,
		"SELECT w.id, w.enabled, COUNT(c.chunk), w.maintenance, w.zone FROM qservMeta.workers w LEFT JOIN"
		" qservMeta.chunks c ON c.worker_id = w.id GROUP BY w.id, w.enabled, w.maintenance, w.zone ORDER BY w.id");
	if (!res)
		return -EIO;
	MYSQL_ROW row;
	while ((row = mysql_fetch_row(res))) {
		long long n = strtoll(row[2], NULL, 10);
		const char *st = chealth_state(c, row[0], atoi(row[1]) != 0, atoi(row[3]) != 0);
		if (!strcmp(st, "draining") && !n)
			st = "drained";   /* holds nothing: DELETE /meta/worker needs no force */
		json_array_append_new(a, json_pack("{s:s, s:s, s:I, s:s}", "id", row[0], "state", st, "chunks",
						   (json_int_t)n, "zone", row[4]));
	}
	mysql_free_result(res);
	return 0;
}

int crepl_status(struct ctl *c, MYSQL *m, json_t **ret, char *err, size_t errlen)
{
	int level = 0;
	json_t *dbs = json_array(), *ws = json_array();
	int r = crepl_level(c, m, "", &level, err, errlen);
	if (!r)
		r = status_dbs(c, m, dbs, err, errlen);
	if (!r)
		r = status_workers(c, m, ws, err, errlen);
	if (r) {
		json_decref(dbs);
		json_decref(ws);
		return r;
	}
	*ret = json_pack("{s:i, s:o, s:o, s:o, s:o}", "level", level, "databases", dbs, "workers", ws,
			 "health", chealth_json(c), "verify", cverify_json(c));
	json_t *rb = crebal_json(c);   /* its "trim" and "rebalance" */
	json_object_update(*ret, rb);
	json_decref(rb);
	return 0;
}

/* ---- bringing a database to its level ---- */

struct rplan {
	struct ctl *c;
	const char *db;
	struct cworker *w;      /* registered (draining too: w[i].enabled), not evicted */
	bool *usable;           /* w[i] may be a source or a target (chealth_usable) */
	size_t nw;
	struct crepl_job *jobs;
	size_t njobs;
	pthread_mutex_t mu;     /* plain */
	int cap_mbps;           /* heals: plain MB/s over the pass (0 = no cap) */
	int64_t t0_ms;
	long long plain;        /* plain bytes copied so far, under mu */
};

/* The bandwidth cap of a heal: after a copy, waits until the pass's plain
 * bytes so far fit in cap_mbps (bounded: at most 60 s at a time).  Copies
 * are not throttled inside; the average over the pass is. */
static void throttle(struct rplan *p, json_t *out)
{
	if (p->cap_mbps <= 0)
		return;
	pthread_mutex_lock(&p->mu);
	p->plain += json_integer_value(json_object_get(out, "plain_bytes"));
	int64_t due = p->t0_ms + p->plain / (p->cap_mbps * 1000LL);
	pthread_mutex_unlock(&p->mu);
	int64_t wait = due - monotime_ms();
	if (wait > 60000)
		wait = 60000;
	if (wait > 0) {
		struct timespec ts = { .tv_sec = wait / 1000, .tv_nsec = (long)(wait % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
}

/* parallel_each's job i: one copy. */
static int copier(void *arg, size_t i)
{
	struct rplan *p = arg;
	struct crepl_job *j = &p->jobs[i];
	const struct cworker *s = &p->w[j->src];
	char url[300];

	snprintf(url, sizeof url, "%s://%s:%d", p->c->tls ? "https" : "http", s->host, s->ingest_port);
	json_t *body = json_pack("{s:s, s:i, s:s, s:s}", "database", p->db, "chunk", j->chunk, "source_id",
				 s->id, "source_url", url);
	chealth_copy_begin(p->c);
	j->rc = body ? ctl_worker_call(&p->w[j->dst], "POST", "replica", body, &j->out, j->err, sizeof j->err)
		     : -ENOMEM;
	chealth_copy_end(p->c, j->rc, j->out);
	json_decref(body);
	if (!j->rc)
		throttle(p, j->out);
	return 0;
}

/* Whether a holder of the chunk (hold[]) is in w[i]'s failure zone; a
 * worker without a zone shares it with nobody. */
static bool zone_taken(const struct rplan *p, const bool *hold, size_t i)
{
	for (size_t k = 0; p->w[i].zone[0] && k < p->nw; k++)
		if (hold[k] && p->w[k].enabled && !strcmp(p->w[k].zone, p->w[i].zone))
			return true;
	return false;
}

/* The copy target for a chunk held per hold[]: a usable non-holder,
 * outside the holders' failure zones when one is, fewest chunks first
 * (ties by id); p->nw when none. */
static size_t pick_target(const struct rplan *p, const bool *hold, const long long *count)
{
	size_t best = p->nw;
	bool best_new_zone = false;
	for (size_t i = 0; i < p->nw; i++) {
		if (hold[i] || !p->usable[i] || !p->w[i].enabled)
			continue;
		bool new_zone = !zone_taken(p, hold, i);
		if (best == p->nw || (new_zone && !best_new_zone) ||
		    (new_zone == best_new_zone && count[i] < count[best])) {
			best = i;
			best_new_zone = new_zone;
		}
	}
	return best;
}

/* Adds the copies chunk needs: hold[] marks its holders.  An enabled
 * holder counts as a replica (a silent or maintenance one too, but it is
 * neither source nor target: planned work never triggers copies); a
 * draining one (enabled=0) is a source only, never a replica nor a target. */
static int plan_chunk(struct rplan *p, int32_t chunk, bool *hold, long long *count, int level)
{
	size_t have = 0, src[64], ns = 0;
	for (size_t i = 0; i < p->nw; i++) {
		have += hold[i] && p->w[i].enabled;
		if (hold[i] && p->usable[i] && ns < 64)
			src[ns++] = i;
	}
	for (size_t k = 0; ns > 0 && (int)have < level; k++, have++) {
		size_t best = pick_target(p, hold, count);
		if (best == p->nw)
			break;
		struct crepl_job *v = realloc(p->jobs, (p->njobs + 1) * sizeof *v);
		if (!v)
			return -ENOMEM;
		p->jobs = v;
		v[p->njobs++] = (struct crepl_job){ .chunk = chunk, .src = src[k % ns], .dst = best };
		hold[best] = true;
		count[best]++;
	}
	return 0;
}

/* Every chunk of db below level, from qservMeta.chunks (ordered by chunk). */
static int make_plan(struct rplan *p, MYSQL *m, int level, char *err, size_t errlen)
{
	long long *count = calloc(p->nw + 1, sizeof *count);
	bool *hold = calloc(p->nw + 1, sizeof *hold);
	MYSQL_RES *cnt = qsql_query(m, err, errlen, "SELECT worker_id, COUNT(*) FROM qservMeta.chunks GROUP BY worker_id");
	MYSQL_RES *res = qsql_query(m, err, errlen,
		"SELECT chunk, worker_id FROM qservMeta.chunks WHERE db='%s' ORDER BY chunk, worker_id", p->db);
	int r = !count || !hold ? -ENOMEM : !cnt || !res ? -EIO : 0;
	MYSQL_ROW row;
	while (!r && cnt && (row = mysql_fetch_row(cnt))) {
		size_t i = ctl_worker_index(p->w, p->nw, row[0]);
		if (i < p->nw)
			count[i] = strtoll(row[1], NULL, 10);
	}
	int32_t cur = -1;
	while (!r && (row = mysql_fetch_row(res))) {
		int32_t ch = (int32_t)atoi(row[0]);
		if (ch != cur && cur >= 0) {
			r = plan_chunk(p, cur, hold, count, level);
			memset(hold, 0, p->nw * sizeof *hold);
		}
		cur = ch;
		size_t i = ctl_worker_index(p->w, p->nw, row[1]);
		if (i < p->nw)
			hold[i] = true;
	}
	if (!r && cur >= 0)
		r = plan_chunk(p, cur, hold, count, level);
	if (r == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	mysql_free_result(cnt);
	mysql_free_result(res);
	free(count);
	free(hold);
	return r;
}

static void run_plan(struct rplan *p)
{
	pthread_mutex_init(&p->mu, NULL);
	parallel_each(p->njobs, CREPL_PARALLEL, copier, p);
	pthread_mutex_destroy(&p->mu);
}

/* Records the copies that succeeded; sums them into *ret, the first
 * failure into err. */
static int record(struct rplan *p, MYSQL *m, double seconds, json_t **ret, char *err, size_t errlen)
{
	long long bytes = 0, plain = 0, rows = 0;
	size_t failed = 0, first = p->njobs;
	int r = 0;
	for (size_t i = 0; i < p->njobs; i++) {
		struct crepl_job *j = &p->jobs[i];
		if (j->rc) {
			failed++;
			first = first < i ? first : i;
			continue;
		}
		if (chealth_evicted(p->c, p->w[j->dst].id))
			continue;   /* evicted during the copy: not a replica */
		if (!r && qsql_exec(m, err, errlen, "INSERT IGNORE INTO qservMeta.chunks VALUES ('%s', %d, '%s')", p->db,
				    j->chunk, p->w[j->dst].id))
			r = -EIO;
		cverify_note_copy(m, p->db, j->chunk, j->out);   /* the source's checksums: a reference if none */
		bytes += json_integer_value(json_object_get(j->out, "bytes"));
		plain += json_integer_value(json_object_get(j->out, "plain_bytes"));
		rows += json_integer_value(json_object_get(j->out, "rows"));
	}
	if (!r && failed) {
		struct crepl_job *j = &p->jobs[first];
		snprintf(err, errlen, "replicating %s: chunk %d from %s to %s failed: %s (%zu of %zu copies failed;"
			 " the others are recorded, publishing again copies only what is missing)", p->db, j->chunk,
			 p->w[j->src].id, p->w[j->dst].id, j->err, failed, p->njobs);
		r = -EIO;
	}
	if (p->njobs > failed)
		cnotify_czar(p->c, CNOTIFY_CHUNKS, "copies registered");
	if (!r)
		*ret = json_pack("{s:I, s:I, s:I, s:I, s:f}", "copies", (json_int_t)p->njobs, "bytes", (json_int_t)bytes,
				 "plain_bytes", (json_int_t)plain, "rows", (json_int_t)rows, "seconds", seconds);
	return r;
}

/* p->w: the registered workers not evicted (draining ones are sources),
 * p->usable their health. */
static int plan_workers(struct rplan *p, MYSQL *m, char *err, size_t errlen)
{
	int r = cmeta_workers_all(m, &p->w, &p->nw, err, errlen);
	if (r)
		return r;
	size_t n = 0;
	for (size_t i = 0; i < p->nw; i++)
		if (!chealth_evicted(p->c, p->w[i].id))
			p->w[n++] = p->w[i];
	p->nw = n;
	if (!(p->usable = calloc(n + 1, sizeof *p->usable))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		p->usable[i] = chealth_usable(p->c, p->w[i].id, p->w[i].maint);
	return 0;
}

/* crepl_bring, heal: with the --heal-max-mbps cap. */
static int bring(struct ctl *c, MYSQL *m, const char *db, bool heal, json_t **ret, char *err, size_t errlen)
{
	struct rplan p = { .c = c, .db = db, .cap_mbps = heal ? c->heal_max_mbps : 0, .t0_ms = monotime_ms() };
	int level = 0;
	int r = crepl_level(c, m, db, &level, err, errlen);
	if (!r)
		r = plan_workers(&p, m, err, errlen);
	if (r) {
		free(p.w);
		return r;
	}
	int64_t t0 = monotime_ms();
	int nen = 0;
	for (size_t i = 0; i < p.nw; i++)
		nen += p.w[i].enabled;
	r = make_plan(&p, m, level < nen ? level : nen, err, errlen);
	if (!r && p.njobs) {
		log_info("replicating %s to level %d: %zu copies, %d at once", db, level, p.njobs, CREPL_PARALLEL);
		run_plan(&p);
	}
	if (!r)
		r = record(&p, m, (double)(monotime_ms() - t0) / 1000.0, ret, err, errlen);
	if (!r && p.njobs)
		log_info("replicated %s: %zu copies in %.1f s", db, p.njobs, (double)(monotime_ms() - t0) / 1000.0);
	for (size_t i = 0; i < p.njobs; i++)
		json_decref(p.jobs[i].out);
	free(p.jobs);
	free(p.usable);
	free(p.w);
	return r;
}

void crepl_copy(struct ctl *c, const char *db, struct cworker *w, struct crepl_job *jobs, size_t n, int cap_mbps)
{
	struct rplan p = { .c = c, .db = db, .w = w, .jobs = jobs, .njobs = n, .cap_mbps = cap_mbps,
			   .t0_ms = monotime_ms() };
	run_plan(&p);
}

int crepl_bring(struct ctl *c, MYSQL *m, const char *db, json_t **ret, char *err, size_t errlen)
{
	return bring(c, m, db, false, ret, err, errlen);
}

/* The heal pass: every published database, each on its own (a failed copy
 * of one does not stop the others). */
int crepl_heal(struct ctl *c, MYSQL *m, long long *ret_copies, long long *ret_failed, char *err, size_t errlen)
{
	MYSQL_RES *res = qsql_query(m, err, errlen, "SELECT name FROM qservMeta.dbs WHERE published=1 ORDER BY name");
	if (!res)
		return -EIO;
	MYSQL_ROW row;
	char e[768];
	*ret_copies = *ret_failed = 0;
	if (crebal_enter(c, CREBAL_HEAL_WAIT_MS)) {   /* a level change or rebalance runs: next check */
		mysql_free_result(res);
		return 0;
	}
	while ((row = mysql_fetch_row(res))) {
		json_t *info = NULL;
		long long failed0 = 0, failed1 = 0;
		pthread_mutex_lock(&c->h.mu);
		failed0 = c->h.failed;
		pthread_mutex_unlock(&c->h.mu);
		int r = bring(c, m, row[0], true, &info, e, sizeof e);
		pthread_mutex_lock(&c->h.mu);
		failed1 = c->h.failed;
		pthread_mutex_unlock(&c->h.mu);
		*ret_copies += info ? json_integer_value(json_object_get(info, "copies")) : failed1 - failed0;
		*ret_failed += failed1 - failed0;
		if (r)
			snprintf(err, errlen, "%s", e);
		json_decref(info);
	}
	crebal_leave(c);
	mysql_free_result(res);
	return *ret_failed ? -EIO : 0;
}

int crepl_under_total(struct ctl *c, MYSQL *m, long long *ret, char *err, size_t errlen)
{
	MYSQL_RES *res = qsql_query(m, err, errlen, "SELECT name FROM qservMeta.dbs WHERE published=1");
	if (!res)
		return -EIO;
	MYSQL_ROW row;
	int r = 0;
	*ret = 0;
	while (!r && (row = mysql_fetch_row(res))) {
		int level = 0;
		long long n = 0;
		if (!(r = crepl_level(c, m, row[0], &level, err, errlen)) &&
		    !(r = under_replicated(m, row[0], level, &n, err, errlen)))
			*ret += n;
	}
	mysql_free_result(res);
	return r;
}
