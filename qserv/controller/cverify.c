/* cverify.c: replicas checked against reference checksums, and what a
 * returning worker still holds.
 *
 *   POST /replication/verify                          one pass now (admin key)
 *   PUT  /replication/verify-interval {"seconds": S}  (admin key; 0 = no periodic pass)
 *
 * References: qservMeta.chunk_checksums (db, chunk, tbl, rows, checksum;
 * META.md) holds, for each chunk table of a published database, the rows
 * and CHECKSUM TABLE value every replica must have.  Publishing forgets a
 * database's references and records them again (loads may have changed
 * its chunks while it was not published; un-publishing forgets them too):
 * first from the copies the publish makes (a copy's reply carries the
 * values it verified against its source: free), then, for the chunks no
 * copy touched (level 1, or already at level), with one GET
 * /worker/replica on the chunk's first holder, where loads went
 * (cverify_record; a CHECKSUM TABLE of every table there; 4 GETs at once,
 * the writes to qservMeta on the caller's connection).  A later copy
 * (heal, level change) only fills in a chunk that has no reference.  A
 * chunk still without one (a database published by an older controller,
 * a first holder that did not answer at publish) gets it in the next
 * verify pass when its answering holders agree; when they do not, a
 * strict majority of 3 or more holders wins, and with 2 the mismatch is
 * reported, not repaired.
 *
 * A pass (every --verify-interval seconds, default 86400, 0 = none; POST
 * /replication/verify runs one now and replies with its counts) goes over
 * every chunk of every published database, one at a time: each holder that
 * answers and is usable (chealth_usable) reports its tables' rows and
 * checksums (GET /worker/replica: CHECKSUM TABLE under a read lock, which
 * reads the whole chunk), compared with the reference.  A mismatching
 * replica (or one the worker no longer has) is removed when another holder
 * matches, never otherwise: its qservMeta.chunks row goes, and after
 * CVERIFY_GRACE_MS (the czar re-reads qservMeta every 2 s) its tables are
 * dropped on the worker (DELETE /worker/replica) unless a copy made it a
 * holder again; meanwhile chealth_hold keeps that worker out of copy plans
 * (a copy landing there before the DELETE would be dropped).  Then the
 * healer is woken and copies a good replica back from a matching holder.
 *
 * A returning worker (evicted, answering again: chealth.c keeps it evicted,
 * neither a copy source nor target, until this is done) is asked for the
 * chunks it holds (GET /worker/replicas); each of a published database
 * whose tables match the reference is registered again (and is no longer
 * lost); the others (mismatching, of an unknown or unpublished database,
 * without a reference) are dropped there.  Qserv's dummy chunk is left
 * alone.  chealth_return_done then makes it up (if it went silent
 * meanwhile, the rows just written go again); the trim after the next heal
 * pass removes the replicas now above level from the fullest holders, and
 * a rebalance check (crebal_wake) gives it its share again.
 *
 * One thread does both, one job at a time; its state (struct cverify) is
 * under v.mu, never held across a MariaDB or network call.  Trade-off: a
 * pass reads every replica (the cost of CHECKSUM TABLE), so the default
 * interval is a day; comparing only the first holder with the reference
 * would halve it but miss a bad second replica. */
#include "controller.h"
#include "parallel.h"
#include "log.h"
#include "monotime.h"
#include "qserv/common/sqlid.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CVERIFY_GRACE_MS 5000           /* row removed -> tables dropped */
#define CVERIFY_RECORD_PARALLEL 4       /* a publish's reference GETs at once */
#define CVERIFY_HOLD_MS 60000           /* the longest a worker is kept out of copy plans */
#define CVERIFY_DUMMY_CHUNK 1234567890  /* Qserv's dummy chunk, on every worker */
#define CVERIFY_REPLY_WAIT_S 3600       /* POST /replication/verify waits at most this long */
#define CVERIFY_MAX_RETURNING 16

static const char *const schema_sql =
	"CREATE TABLE IF NOT EXISTS qservMeta.chunk_checksums (db VARCHAR(64) NOT NULL, chunk INT NOT NULL,"
	" tbl VARCHAR(64) NOT NULL, `rows` BIGINT NOT NULL, checksum BIGINT NOT NULL,"
	" PRIMARY KEY (db, chunk, tbl)) ENGINE=InnoDB";

int cverify_init(MYSQL *m, char *err, size_t errlen)
{
	return qsql_exec(m, err, errlen, "%s", schema_sql) ? -EIO : 0;
}

/* ---- a chunk's tables: rows and checksum of each ---- */

struct ctab {
	char name[65];
	long long rows, sum;
};

struct ctabs {
	struct ctab *t;         /* owned */
	size_t n;
};

/* The "tables" of a GET /worker/replica reply (or a copy's "checksums")
 * into *ret (caller frees ret->t, also on failure); -EINVAL if malformed. */
static int tabs_json(json_t *a, struct ctabs *ret)
{
	size_t i;
	json_t *v;
	char e[128];
	ret->n = 0;
	if (!json_is_array(a) || !(ret->t = calloc(json_array_size(a) + 1, sizeof *ret->t)))
		return -EINVAL;
	json_array_foreach(a, i, v) {
		const char *name = json_string_value(json_object_get(v, "table"));
		json_t *rows = json_object_get(v, "rows"), *sum = json_object_get(v, "checksum");
		if (!name || sqlid_check(SQLID_TABLE, "table", name, e, sizeof e) || !json_is_integer(rows) ||
		    !(json_is_integer(sum) || json_is_null(sum)))
			return -EINVAL;
		struct ctab *t = &ret->t[ret->n++];
		snprintf(t->name, sizeof t->name, "%s", name);
		t->rows = json_integer_value(rows);
		t->sum = json_is_null(sum) ? -1 : json_integer_value(sum);
	}
	return 0;
}

/* The reference of (db, chunk) into *ret (ret->n 0: none). */
static int tabs_ref(MYSQL *m, const char *db, int32_t chunk, struct ctabs *ret, char *err, size_t errlen)
{
	MYSQL_RES *res = qsql_query(m, err, errlen, "SELECT tbl, `rows`, checksum FROM qservMeta.chunk_checksums"
				    " WHERE db='%s' AND chunk=%d ORDER BY tbl", db, chunk);
	ret->n = 0;
	ret->t = NULL;
	if (!res)
		return -EIO;
	MYSQL_ROW row;
	if (!(ret->t = calloc(mysql_num_rows(res) + 1, sizeof *ret->t))) {
		mysql_free_result(res);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	while ((row = mysql_fetch_row(res))) {
		struct ctab *t = &ret->t[ret->n++];
		snprintf(t->name, sizeof t->name, "%s", row[0]);
		t->rows = strtoll(row[1], NULL, 10);
		t->sum = strtoll(row[2], NULL, 10);
	}
	mysql_free_result(res);
	return 0;
}

/* Same tables, rows and checksums, in any order. */
static bool tabs_same(const struct ctabs *a, const struct ctabs *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		size_t j = 0;
		while (j < b->n && strcmp(a->t[i].name, b->t[j].name))
			j++;
		if (j == b->n || a->t[i].rows != b->t[j].rows || a->t[i].sum != b->t[j].sum)
			return false;
	}
	return true;
}

/* Records t as the reference of (db, chunk): over an existing one when
 * replace, else only when it has none.  One MariaDB transaction. */
static int tabs_store(MYSQL *m, const char *db, int32_t chunk, const struct ctabs *t, bool replace,
		      char *err, size_t errlen)
{
	long long have = 0;
	char e2[128];
	if (!replace && (qsql_int(m, &have, err, errlen, "SELECT COUNT(*) FROM qservMeta.chunk_checksums WHERE"
				 " db='%s' AND chunk=%d", db, chunk) || have))
		return have ? 0 : -EIO;
	if (qsql_exec(m, err, errlen, "START TRANSACTION") ||
	    qsql_exec(m, err, errlen, "DELETE FROM qservMeta.chunk_checksums WHERE db='%s' AND chunk=%d", db, chunk))
		goto fail;
	for (size_t i = 0; i < t->n; i++)
		if (qsql_exec(m, err, errlen, "INSERT INTO qservMeta.chunk_checksums VALUES ('%s', %d, '%s', %lld, %lld)",
			      db, chunk, t->t[i].name, t->t[i].rows, t->t[i].sum))
			goto fail;
	if (!qsql_exec(m, err, errlen, "COMMIT"))
		return 0;
fail:
	qsql_exec(m, e2, sizeof e2, "ROLLBACK");
	return -EIO;
}

/* GET /worker/replica of (db, chunk) on w into *ret (caller frees ret->t):
 * 0, -ENOENT when w does not hold it, else a transport or reply error. */
static int tabs_get(const struct cworker *w, const char *db, int32_t chunk, struct ctabs *ret, char *err,
		    size_t errlen)
{
	char path[200];
	json_t *j = NULL;
	ret->t = NULL;
	ret->n = 0;
	snprintf(path, sizeof path, "replica?database=%s&chunk=%d", db, chunk);
	int r = ctl_worker_call(w, "GET", path, NULL, &j, err, errlen);
	if (!r && tabs_json(json_object_get(j, "tables"), ret)) {
		snprintf(err, errlen, "worker %s: a malformed reply to GET /worker/replica", w->id);
		r = -EPROTO;
	}
	json_decref(j);
	return r;
}

static int drop_replica(const struct cworker *w, const char *db, int32_t chunk, char *err, size_t errlen)
{
	char path[200];
	snprintf(path, sizeof path, "replica?database=%s&chunk=%d", db, chunk);
	return ctl_worker_call(w, "DELETE", path, NULL, NULL, err, errlen);
}

/* ---- references at publish ---- */

void cverify_note_copy(MYSQL *m, const char *db, int32_t chunk, json_t *out)
{
	struct ctabs t = { 0 };
	char err[256];
	if (!tabs_json(json_object_get(out, "checksums"), &t) && t.n && tabs_store(m, db, chunk, &t, false, err, sizeof err))
		log_warn("reference checksums of %s chunk %d: %s -- %s", db, chunk, err, qsql_detail());
	free(t.t);
}

int cverify_forget(MYSQL *m, const char *db, char *err, size_t errlen)
{
	return qsql_exec(m, err, errlen, "DELETE FROM qservMeta.chunk_checksums WHERE db='%s'", db) ? -EIO : 0;
}

/* A chunk's reference read from its first holder (record_fetch), stored
 * by cverify_record. */
struct rec_job {
	int32_t chunk;
	const struct cworker *w;     /* NULL: the holder is not registered */
	struct ctabs t;
	int r;
	char err[384];
};

struct rec_run {
	struct rec_job *v;
	size_t n;
	const char *db;
};

/* parallel_each's job i: the GETs of a publish run CVERIFY_RECORD_PARALLEL
 * at once (each holder works on its own chunks meanwhile), the MariaDB
 * writes stay with the caller. */
static int record_fetch(void *arg, size_t i)
{
	struct rec_run *x = arg;
	struct rec_job *j = &x->v[i];

	if (!j->w) {
		snprintf(j->err, sizeof j->err, "its holder is not a registered worker");
		j->r = -ENOENT;
	} else {
		j->r = tabs_get(j->w, x->db, j->chunk, &j->t, j->err, sizeof j->err);
	}
	return 0;
}

/* The chunks of db without a reference, their first holder's tables as
 * theirs.  A failure is logged, not returned: the verify pass records a
 * missing reference later. */
int cverify_record(struct ctl *c, MYSQL *m, const char *db)
{
	char err[512];
	int64_t t0 = monotime_ms();
	long long have = 0;
	size_t failed = 0, nw = 0;
	struct cworker *w = NULL;
	struct rec_run x = { .db = db };
	(void)c;
	MYSQL_RES *res = qsql_query(m, err, sizeof err, "SELECT c.chunk, MIN(c.worker_id) FROM qservMeta.chunks c WHERE"
		" c.db='%s' AND NOT EXISTS (SELECT 1 FROM qservMeta.chunk_checksums k WHERE k.db=c.db AND"
		" k.chunk=c.chunk) GROUP BY c.chunk ORDER BY c.chunk", db);
	if (res && qsql_int(m, &have, err, sizeof err, "SELECT COUNT(DISTINCT chunk) FROM qservMeta.chunk_checksums"
			    " WHERE db='%s'", db))
		have = -1;
	if (res && cmeta_workers_all(m, &w, &nw, err, sizeof err)) {
		mysql_free_result(res);
		res = NULL;
	}
	if (res && !(x.v = calloc(mysql_num_rows(res) + 1, sizeof *x.v))) {
		snprintf(err, sizeof err, "out of memory");
		mysql_free_result(res);
		res = NULL;
	}
	MYSQL_ROW row;
	while (res && (row = mysql_fetch_row(res))) {   /* a stored result: the connection is free */
		struct rec_job *j = &x.v[x.n++];
		size_t k = ctl_worker_index(w, nw, row[1]);
		j->chunk = (int32_t)atoi(row[0]);
		j->w = k < nw ? &w[k] : NULL;
	}
	if (!res)
		log_warn("reference checksums of %s: %s", db, err);
	mysql_free_result(res);
	parallel_each(x.n, CVERIFY_RECORD_PARALLEL, record_fetch, &x);
	for (size_t i = 0; i < x.n; i++) {
		struct rec_job *j = &x.v[i];
		if (!j->r && (j->r = tabs_store(m, db, j->chunk, &j->t, true, j->err, sizeof j->err)))
			snprintf(j->err + strlen(j->err), sizeof j->err - strlen(j->err), " -- %s", qsql_detail());
		if (j->r && !failed++)
			log_warn("reference checksums of %s chunk %d (worker %s): %s", db, (int)j->chunk,
				 j->w ? j->w->id : "?", j->err);
		free(j->t.t);
	}
	free(x.v);
	free(w);
	log_info("reference checksums of %s: %lld chunk(s) from the publish's copies, %zu read from their first"
		 " holder (%zu failed) in %.3f s", db, have, x.n, failed, (double)(monotime_ms() - t0) / 1000.0);
	return 0;
}

/* ---- the verify pass ---- */

struct holder {
	struct cworker w;
	struct ctabs t;
	int rc;                 /* tabs_get's; 1: not asked (not usable) */
	bool match, removed;
};

struct vstats {
	long long chunks, replicas, mismatches, repaired;
	json_t *bad;            /* [{database, chunk, worker}] */
};

static bool answered(const struct holder *h)
{
	return h->rc == 0 || h->rc == -ENOENT;
}

/* The holders of (db, chunk) with their worker rows (caller frees). */
static int holders(MYSQL *m, const char *db, int32_t chunk, struct holder **ret, size_t *ret_n, char *err,
		   size_t errlen)
{
	MYSQL_RES *res = qsql_query(m, err, errlen, "SELECT w.id, w.host, w.ingest_port, w.query_port, w.maintenance"
		" FROM qservMeta.chunks c JOIN qservMeta.workers w ON w.id=c.worker_id WHERE c.db='%s' AND c.chunk=%d"
		" ORDER BY w.id", db, chunk);
	if (!res)
		return -EIO;
	struct holder *h = calloc(mysql_num_rows(res) + 1, sizeof *h);
	MYSQL_ROW row;
	size_t n = 0;
	while (h && (row = mysql_fetch_row(res))) {
		struct cworker *w = &h[n++].w;
		snprintf(w->id, sizeof w->id, "%s", row[0]);
		snprintf(w->host, sizeof w->host, "%s", row[1]);
		w->ingest_port = atoi(row[2]);
		w->query_port = atoi(row[3]);
		w->maint = atoi(row[4]) != 0;
	}
	mysql_free_result(res);
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	*ret = h;
	*ret_n = n;
	return 0;
}

/* A chunk without a reference: its answering holders' tables become it
 * when they all agree, or a strict majority of 3 or more does. */
static void lazy_reference(MYSQL *m, const char *db, int32_t chunk, struct holder *h, size_t n, struct ctabs *ref)
{
	size_t ans = 0, best = n, best_votes = 0;
	char err[256];
	for (size_t i = 0; i < n; i++) {
		if (h[i].rc)
			continue;
		size_t votes = 0;
		ans++;
		for (size_t j = 0; j < n; j++)
			votes += !h[j].rc && tabs_same(&h[i].t, &h[j].t);
		if (votes > best_votes)
			best = i, best_votes = votes;
	}
	if (!ans || (best_votes < ans && (ans < 3 || 2 * best_votes <= ans))) {
		if (ans)
			log_warn("verify: %s chunk %d has no reference checksums and its %zu holders disagree: reported,"
				 " not repaired", db, chunk, ans);
		return;
	}
	free(ref->t);
	ref->n = h[best].t.n;
	if (!(ref->t = calloc(ref->n + 1, sizeof *ref->t))) {
		ref->n = 0;
		return;
	}
	memcpy(ref->t, h[best].t.t, ref->n * sizeof *ref->t);
	if (tabs_store(m, db, chunk, ref, false, err, sizeof err))
		log_warn("verify: %s chunk %d: recording its reference: %s", db, chunk, err);
	else
		log_info("verify: %s chunk %d had no reference checksums: recorded from %zu of its %zu answering holders",
			 db, chunk, best_votes, ans);
}

/* Waits ms unless the controller stops; true when stopping. */
static bool vnap(struct cverify *v, int ms)
{
	int64_t end = monotime_ms() + ms;
	pthread_mutex_lock(&v->mu);
	while (!v->stop && monotime_ms() < end) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100000000L;   /* re-checked every 0.1 s: bounded */
		if (ts.tv_nsec >= 1000000000L)
			ts.tv_sec++, ts.tv_nsec -= 1000000000L;
		pthread_cond_timedwait(&v->cv, &v->mu, &ts);
	}
	bool stop = v->stop;
	pthread_mutex_unlock(&v->mu);
	return stop;
}

static bool registered(MYSQL *m, const char *db, int32_t chunk, const char *id)
{
	long long n = 1;
	char err[128];
	qsql_int(m, &n, err, sizeof err, "SELECT COUNT(*) FROM qservMeta.chunks WHERE db='%s' AND chunk=%d AND"
		 " worker_id='%s'", db, chunk, id);
	return n != 0;
}

/* Removes the mismatching replicas of (db, chunk), some holder matching:
 * rows first, the tables after the grace (see the top of the file). */
static void repair(struct ctl *c, MYSQL *m, const char *db, int32_t chunk, struct holder *h, size_t n,
		   struct vstats *s)
{
	char err[512];
	bool any = false;
	for (size_t i = 0; i < n; i++) {
		if (!answered(&h[i]) || h[i].match)
			continue;
		chealth_hold(c, h[i].w.id, CVERIFY_HOLD_MS);
		if (qsql_exec(m, err, sizeof err, "DELETE FROM qservMeta.chunks WHERE db='%s' AND chunk=%d AND"
			      " worker_id='%s'", db, chunk, h[i].w.id)) {
			log_warn("verify: %s chunk %d on %s: %s -- %s", db, chunk, h[i].w.id, err, qsql_detail());
			chealth_hold(c, h[i].w.id, 0);
			continue;
		}
		h[i].removed = any = true;
	}
	if (!any)
		return;
	cnotify_czar(c, CNOTIFY_CHUNKS, "verify removed replicas");
	bool stop = vnap(&c->v, CVERIFY_GRACE_MS);
	for (size_t i = 0; i < n; i++) {
		if (!h[i].removed)
			continue;
		if (!stop && !registered(m, db, chunk, h[i].w.id) && drop_replica(&h[i].w, db, chunk, err, sizeof err))
			log_warn("verify: dropping %s chunk %d on %s: %s", db, chunk, h[i].w.id, err);
		chealth_hold(c, h[i].w.id, 0);
		s->repaired++;
		log_warn("verify: %s chunk %d: the replica on %s does not match the reference: removed; the healer copies"
			 " a good one back", db, chunk, h[i].w.id);
	}
	chealth_wake_heal(c);
}

/* Compares every usable holder of (db, chunk) with the reference. */
static void judge(struct ctl *c, MYSQL *m, const char *db, int32_t chunk, struct holder *h, size_t n,
		  const struct ctabs *ref, struct vstats *s)
{
	size_t good = 0, bad = 0;
	for (size_t i = 0; i < n; i++) {
		if (!answered(&h[i]))
			continue;
		h[i].match = !h[i].rc && ref->n && tabs_same(&h[i].t, ref);
		s->replicas++;
		good += h[i].match;
		if (h[i].match)
			continue;
		bad++;
		s->mismatches++;
		json_array_append_new(s->bad, json_pack("{s:s, s:i, s:s, s:b}", "database", db, "chunk", chunk,
							"worker", h[i].w.id, "missing", h[i].rc == -ENOENT));
		log_warn("verify: %s chunk %d on %s: %s", db, chunk, h[i].w.id,
			 h[i].rc ? "the worker does not hold it" : "rows or checksums differ from the reference");
	}
	if (bad && good)
		repair(c, m, db, chunk, h, n, s);
	else if (bad)
		log_error("verify: %s chunk %d: no holder matches the reference: nothing removed", db, chunk);
}

static void verify_chunk(struct ctl *c, MYSQL *m, const char *db, int32_t chunk, struct vstats *s)
{
	struct holder *h = NULL;
	struct ctabs ref = { 0 };
	size_t n = 0;
	char err[512];
	struct cdb d;
	if (holders(m, db, chunk, &h, &n, err, sizeof err) || tabs_ref(m, db, chunk, &ref, err, sizeof err)) {
		log_warn("verify: %s chunk %d: %s", db, chunk, err);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		h[i].rc = 1;
		if (chealth_usable(c, h[i].w.id, h[i].w.maint) &&
		    (h[i].rc = tabs_get(&h[i].w, db, chunk, &h[i].t, err, sizeof err)) && h[i].rc != -ENOENT)
			log_warn("verify: %s chunk %d: %s", db, chunk, err);
	}
	/* un-published meanwhile: its references are gone, its chunks may change */
	if (cmeta_db(m, db, &d, err, sizeof err) || !d.published)
		goto out;
	s->chunks++;
	if (!ref.n)
		lazy_reference(m, db, chunk, h, n, &ref);
	judge(c, m, db, chunk, h, n, &ref, s);
out:
	for (size_t i = 0; i < n; i++)
		free(h[i].t.t);
	free(h);
	free(ref.t);
}

struct vchunk {
	char db[65];
	int32_t chunk;
};

/* Every chunk of the published databases, read before any call. */
static struct vchunk *all_chunks(MYSQL *m, size_t *ret_n, char *err, size_t errlen)
{
	MYSQL_RES *res = qsql_query(m, err, errlen, "SELECT DISTINCT c.db, c.chunk FROM qservMeta.chunks c JOIN"
				    " qservMeta.dbs d ON d.name=c.db AND d.published=1 ORDER BY c.db, c.chunk");
	if (!res)
		return NULL;
	struct vchunk *v = calloc(mysql_num_rows(res) + 1, sizeof *v);
	MYSQL_ROW row;
	size_t n = 0;
	while (v && (row = mysql_fetch_row(res))) {
		snprintf(v[n].db, sizeof v[n].db, "%s", row[0]);
		v[n++].chunk = (int32_t)atoi(row[1]);
	}
	mysql_free_result(res);
	if (!v)
		snprintf(err, errlen, "out of memory");
	*ret_n = n;
	return v;
}

static void returning(struct ctl *c, const char *id);

/* The returning workers, judged now (between a pass's chunks too: a long
 * pass does not keep them evicted). */
static void serve_returning(struct ctl *c)
{
	char ids[CVERIFY_MAX_RETURNING][65];
	size_t n = chealth_returning(c, ids, CVERIFY_MAX_RETURNING);
	for (size_t i = 0; i < n; i++)
		returning(c, ids[i]);
}

static bool stopping(struct cverify *v)
{
	pthread_mutex_lock(&v->mu);
	bool s = v->stop;
	pthread_mutex_unlock(&v->mu);
	return s;
}

/* One pass; its summary into v->last and the totals. */
static void one_pass(struct ctl *c)
{
	struct vstats s = { .bad = json_array() };
	char err[512] = "";
	size_t n = 0;
	int64_t t0 = monotime_ms();
	MYSQL *m = qsql_connect(&c->sql, err, sizeof err);
	struct vchunk *v = m ? all_chunks(m, &n, err, sizeof err) : NULL;
	bool complete = v != NULL;
	for (size_t i = 0; v && i < n && !stopping(&c->v); i++) {
		serve_returning(c);
		verify_chunk(c, m, v[i].db, v[i].chunk, &s);
	}
	if (!v)
		log_warn("verify: %s", err);
	free(v);
	if (m)
		mysql_close(m);
	double secs = (double)(monotime_ms() - t0) / 1000.0;
	log_info("verify: %lld chunk(s), %lld replica(s), %lld mismatch(es), %lld repaired in %.2f s", s.chunks,
		 s.replicas, s.mismatches, s.repaired, secs);
	json_t *last = json_pack("{s:I, s:I, s:I, s:I, s:f, s:o, s:b}", "chunks", (json_int_t)s.chunks, "replicas",
				 (json_int_t)s.replicas, "mismatches", (json_int_t)s.mismatches, "repaired",
				 (json_int_t)s.repaired, "seconds", secs, "mismatched", s.bad, "complete", complete);
	pthread_mutex_lock(&c->v.mu);
	json_decref(c->v.last);
	c->v.last = last;
	c->v.replicas += s.replicas;
	c->v.mismatches += s.mismatches;
	c->v.repaired += s.repaired;
	c->v.last_end_ms = monotime_ms();
	pthread_mutex_unlock(&c->v.mu);
}

/* ---- a returning worker ---- */

enum ret_kind { RET_REUSED, RET_MISMATCH, RET_UNPUBLISHED, RET_NOREF, RET_ERROR };

/* What to do with (db, chunk) that returning worker w holds. */
static enum ret_kind ret_judge(MYSQL *m, const struct cworker *w, const char *db, int32_t chunk)
{
	struct cdb d;
	struct ctabs ref = { 0 }, got = { 0 };
	char err[512];
	enum ret_kind k;
	if (cmeta_db(m, db, &d, err, sizeof err) || !d.published)
		return RET_UNPUBLISHED;
	if (tabs_ref(m, db, chunk, &ref, err, sizeof err))
		k = RET_ERROR;
	else if (!ref.n)
		k = RET_NOREF;
	else {
		int r = tabs_get(w, db, chunk, &got, err, sizeof err);
		k = r == -ENOENT ? RET_MISMATCH : r ? RET_ERROR : tabs_same(&got, &ref) ? RET_REUSED : RET_MISMATCH;
	}
	if (k == RET_ERROR)
		log_warn("returning worker %s: %s chunk %d: %s (left as it is)", w->id, db, chunk, err);
	free(ref.t);
	free(got.t);
	return k;
}

/* Registers (reused) or drops one chunk of returning worker w; counts[kind]++. */
static void ret_one(MYSQL *m, const struct cworker *w, const char *db, int32_t chunk, long long *counts)
{
	char err[512];
	enum ret_kind k = ret_judge(m, w, db, chunk);
	counts[k]++;
	if (k == RET_REUSED) {
		if (qsql_exec(m, err, sizeof err, "INSERT IGNORE INTO qservMeta.chunks (db, chunk, worker_id)"
			      " SELECT name, %d, '%s' FROM qservMeta.dbs WHERE name='%s' AND published=1", chunk, w->id, db) ||
		    qsql_exec(m, err, sizeof err, "DELETE FROM qservMeta.lost_chunks WHERE db='%s' AND chunk=%d", db, chunk))
			log_warn("returning worker %s: registering %s chunk %d: %s -- %s", w->id, db, chunk, err, qsql_detail());
	} else if (k != RET_ERROR && drop_replica(w, db, chunk, err, sizeof err)) {
		log_warn("returning worker %s: dropping %s chunk %d: %s", w->id, db, chunk, err);
	}
}

/* Every chunk w lists (GET /worker/replicas), judged; counts per ret_kind. */
static int ret_all(MYSQL *m, const struct cworker *w, long long *counts, char *err, size_t errlen)
{
	json_t *j = NULL, *v;
	size_t i;
	int r = ctl_worker_call(w, "GET", "replicas", NULL, &j, err, errlen);
	if (r)
		return r;
	json_array_foreach(json_object_get(j, "replicas"), i, v) {
		const char *db = json_string_value(json_object_get(v, "database"));
		json_t *ch = json_object_get(v, "chunk");
		char e[128];
		if (!db || !json_is_integer(ch) || sqlid_check(SQLID_DATABASE, "database", db, e, sizeof e) ||
		    json_integer_value(ch) < 0 || json_integer_value(ch) > INT32_MAX) {
			counts[RET_ERROR]++;
			continue;
		}
		if (json_integer_value(ch) != CVERIFY_DUMMY_CHUNK)
			ret_one(m, w, db, (int32_t)json_integer_value(ch), counts);
	}
	json_decref(j);
	return 0;
}

static void returning(struct ctl *c, const char *id)
{
	char err[512];
	long long counts[RET_ERROR + 1] = { 0 }, dropped = 0, lost = 0;
	struct cworker w;
	MYSQL *m = qsql_connect(&c->sql, err, sizeof err);
	int r = m ? cmeta_worker(m, id, &w, err, sizeof err) : -EIO;
	bool older = !r && (r = ret_all(m, &w, counts, err, sizeof err)) == -ENOENT;
	if (counts[RET_REUSED])
		cnotify_czar(c, CNOTIFY_CHUNKS, "returning worker's replicas registered");
	if (older)
		log_warn("returning worker %s cannot list its replicas (%s: an older worker?): it holds nothing", id, err);
	else if (r)
		log_warn("returning worker %s: %s; it stays evicted until it answers again", id, err);
	if (r && !older) {
		chealth_return_done(c, id, false);
	} else if (!chealth_return_done(c, id, true)) {
		log_warn("returning worker %s went silent again: its replicas go again", id);
		if (cmeta_evict_worker(c, m, id, &dropped, &lost, err, sizeof err))
			log_warn("returning worker %s: %s", id, err);
	} else if (!older) {
		log_info("returning worker %s: %lld replica(s) reused (they match the reference checksums), dropped:"
			 " %lld mismatching, %lld of unknown or unpublished databases, %lld without a reference; %lld left"
			 " (errors)", id, counts[RET_REUSED], counts[RET_MISMATCH], counts[RET_UNPUBLISHED], counts[RET_NOREF],
			 counts[RET_ERROR]);
		pthread_mutex_lock(&c->v.mu);
		c->v.reused += counts[RET_REUSED];
		c->v.dropped += counts[RET_MISMATCH] + counts[RET_UNPUBLISHED] + counts[RET_NOREF];
		pthread_mutex_unlock(&c->v.mu);
		crebal_wake(c);   /* what it lost while away: a rebalance gives it its share again */
	}
	if (m)
		mysql_close(m);
}

/* ---- the thread ---- */

/* Waits (1 s at a time, under mu) for work; what to do in *ret_pass. */
static bool wait_work(struct cverify *v, bool *ret_pass)
{
	pthread_mutex_lock(&v->mu);
	for (;;) {
		bool due = v->interval_s > 0 && monotime_ms() - v->last_end_ms >= (int64_t)v->interval_s * 1000;
		if (v->stop || v->wanted || v->wake || due) {
			*ret_pass = v->wanted || due;
			break;
		}
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec++;
		pthread_cond_timedwait(&v->cv, &v->mu, &ts);
	}
	bool stop = v->stop;
	v->wake = false;
	if (*ret_pass) {
		v->wanted = false;
		v->running = true;
	}
	pthread_mutex_unlock(&v->mu);
	return stop;
}

static void *verifier(void *arg)
{
	struct ctl *c = arg;
	bool pass = false;
	while (!wait_work(&c->v, &pass)) {
		serve_returning(c);
		if (!pass)
			continue;
		one_pass(c);
		pthread_mutex_lock(&c->v.mu);
		c->v.running = false;
		c->v.passes++;
		pthread_cond_broadcast(&c->v.cv);
		pthread_mutex_unlock(&c->v.mu);
	}
	return NULL;
}

int cverify_start(struct ctl *c, char *err, size_t errlen)
{
	c->v.last_end_ms = monotime_ms();   /* the first periodic pass one interval after the start */
	if (pthread_create(&c->v.t, NULL, verifier, c)) {
		snprintf(err, errlen, "cannot start the verify thread");
		return -EAGAIN;
	}
	c->v.started = true;
	return 0;
}

void cverify_stop(struct ctl *c)
{
	pthread_mutex_lock(&c->v.mu);
	c->v.stop = true;
	pthread_cond_broadcast(&c->v.cv);
	pthread_mutex_unlock(&c->v.mu);
	if (c->v.started)
		pthread_join(c->v.t, NULL);
	json_decref(c->v.last);
	c->v.last = NULL;
}

void cverify_wake(struct ctl *c)
{
	pthread_mutex_lock(&c->v.mu);
	c->v.wake = true;
	pthread_cond_broadcast(&c->v.cv);
	pthread_mutex_unlock(&c->v.mu);
}

/* POST /replication/verify: a pass that starts after this call, waited
 * for (at most CVERIFY_REPLY_WAIT_S; 1 s at a time under mu). */
int cverify_run(struct ctl *c, json_t **ret, char *err, size_t errlen)
{
	struct cverify *v = &c->v;
	int64_t end = monotime_ms() + CVERIFY_REPLY_WAIT_S * 1000LL;
	pthread_mutex_lock(&v->mu);
	if (!v->started || v->stop) {
		pthread_mutex_unlock(&v->mu);
		snprintf(err, errlen, "the verify thread is not running");
		return -ENODEV;
	}
	long long want = v->passes + (v->running ? 2 : 1);
	v->wanted = true;
	pthread_cond_broadcast(&v->cv);
	while (v->passes < want && !v->stop && monotime_ms() < end) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec++;
		pthread_cond_timedwait(&v->cv, &v->mu, &ts);
	}
	int r = v->passes >= want ? 0 : -EAGAIN;
	if (!r)
		*ret = json_deep_copy(v->last);
	else
		snprintf(err, errlen, "the verify pass did not end in time (it goes on: see GET /replication/status)");
	pthread_mutex_unlock(&v->mu);
	return r;
}

void cverify_set_interval(struct ctl *c, int seconds)
{
	pthread_mutex_lock(&c->v.mu);
	c->v.interval_s = seconds;
	pthread_cond_broadcast(&c->v.cv);
	pthread_mutex_unlock(&c->v.mu);
	log_info("verify-interval %d s%s", seconds, seconds ? "" : ": no periodic verify pass");
}

json_t *cverify_json(struct ctl *c)
{
	struct cverify *v = &c->v;
	pthread_mutex_lock(&v->mu);
	json_t *j = json_pack("{s:i, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:O?}", "interval", v->interval_s, "running",
			      v->running, "passes", (json_int_t)v->passes, "replicas", (json_int_t)v->replicas,
			      "mismatches", (json_int_t)v->mismatches, "repaired", (json_int_t)v->repaired, "reused",
			      (json_int_t)v->reused, "dropped", (json_int_t)v->dropped, "last", v->last);
	pthread_mutex_unlock(&v->mu);
	return j;
}
