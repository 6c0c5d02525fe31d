/* exec.c: running a planned distributed query (see exec.h). */
#include "exec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mariadb/mysql.h>
#include <mariadb/mysqld_error.h>

#include "monotime.h"

#include "account.h"
#include "director_map.h"
#include "index_cache.h"
#include "merge.h"
#include "myproto.h"
#include "relay.h"
#include "schema.h"
#include "session.h"

#define DUMMY_CHUNK 1234567890     /* exists, empty, on every worker (Qserv's) */

struct meta *exec_meta(struct czar *cz, char *err, size_t errlen)
{
	return exec_meta_since(cz, monotime_ms() - META_TTL_MS, err, errlen);
}

struct meta *exec_meta_since(struct czar *cz, int64_t since_ms, char *err, size_t errlen)
{
	struct meta *m = NULL, *fresh;
	struct backend_conn *bc;
	int64_t t0;
	uint64_t gen = __atomic_load_n(&cz->meta_gen, __ATOMIC_SEQ_CST);
	uint64_t cgen = __atomic_load_n(&cz->catalog_gen, __ATOMIC_SEQ_CST);

	pthread_mutex_lock(&cz->meta_lock);
	/* a notice since the load (notify.h) makes the snapshot stale at once */
	if (cz->meta && cz->meta_ms >= since_ms && cz->meta_loaded_gen == gen) {
		m = meta_ref(cz->meta);
		pthread_mutex_unlock(&cz->meta_lock);
		return m;
	}
	t0 = monotime_ms();   /* the snapshot holds what was published when its load began */
	bc = backend_get(cz->backend, err, errlen);
	if (bc && meta_load(bc->my, &fresh, err, errlen) == 0) {
		char why[256];
		unsigned created, dropped;
		if (schema_sync(bc->my, fresh, &created, &dropped, why, sizeof(why)) > 0 && !cz->meta)
			snprintf(err, errlen, "some tables are not mirrored on the czar: %s", why);
		/* a new catalog's mirror: granted to the users' account before
		 * the snapshot naming it is published (a failure here is
		 * retried by the relay when the account is refused); a dropped
		 * one: its grant revoked (MariaDB keeps it after the DROP) */
		if ((created || dropped) && cz->user_backend)
			account_grant_new(cz, bc->my, why, sizeof(why));
		uint64_t print = meta_fingerprint(fresh);
		/* the director indexes in memory and the director-index cache
		 * (index_cache.h) forget everything when the published catalog
		 * changed, seen here or told by a `reload` notice; a `reload
		 * chunks` notice (replicas, workers, row counters) keeps them */
		if (!cz->meta || cgen != cz->meta_loaded_catalog_gen || print != cz->meta_print)
			dmap_kick(cz->dmap, __atomic_add_fetch(&cz->index_epoch, 1, __ATOMIC_SEQ_CST), fresh);
		cz->meta_print = print;
		meta_unref(cz->meta);
		cz->meta = fresh;
		cz->meta_ms = t0;
		cz->meta_loaded_gen = gen;
		cz->meta_loaded_catalog_gen = cgen;
	}
	if (bc)
		backend_put(cz->backend, bc, mysql_errno(bc->my) >= 2000);
	if (cz->meta)
		m = meta_ref(cz->meta);   /* a stale snapshot beats none */
	pthread_mutex_unlock(&cz->meta_lock);
	return m;
}

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

/* chunks[] (ascending, n) narrowed to those in found[] (nf); the new count. */
static long narrow(int32_t *chunks, size_t n, int32_t *found, size_t nf)
{
	size_t i = 0, j = 0, out = 0;

	if (nf)
		qsort(found, nf, sizeof(*found), cmp_i32);
	while (i < n && j < nf) {
		if (chunks[i] < found[j])
			i++;
		else if (chunks[i] > found[j])
			j++;
		else {
			chunks[out++] = chunks[i++];
			j++;
		}
	}
	return (long)out;
}

/* The chunks of p's integer keys from the in-memory director index
 * (director_map.h) into found[] (room for p->nindex_keys); their count,
 * or -1 when a key is not known there (ask the director index). */
static long map_chunks(struct sess *s, const struct plan *p, uint64_t epoch, int32_t *found)
{
	size_t nf = 0;

	for (size_t i = 0; i < p->nindex_keys; i++) {
		int r = dmap_find(s->cz->dmap, epoch, p->db->name, p->index_table, p->index_keys[i], &found[nf]);
		if (r < 0)
			return -1;
		nf += (size_t)r;
	}
	return (long)nf;
}

/* Narrows chunks[] to those the director index names: from the in-memory
 * map when it knows every key, else by the SQL lookup, an equality's
 * single-chunk answer kept in (and taken from) cz->index_cache.
 * Returns the new count, or -EIO after writing an ERR. */
static long index_chunks(struct sess *s, const struct plan *p, int32_t *chunks, size_t n)
{
	char err[256];
	uint64_t epoch = __atomic_load_n(&s->cz->index_epoch, __ATOMIC_SEQ_CST);
	const char *sql = p->index_sql;
	int eq = p->index_eq;
	struct backend_conn *bc;
	MYSQL_RES *res;
	MYSQL_ROW row;
	int32_t *found = NULL, one;
	size_t nf = 0, cap = 0;
	long out;

	if (p->nindex_keys && s->cz->dmap) {
		if (!(found = malloc(p->nindex_keys * sizeof(*found)))) {
			myp_err(&s->conn, ER_OUT_OF_RESOURCES, NULL, "Out of memory");
			return -EIO;
		}
		long k = map_chunks(s, p, epoch, found);
		if (k >= 0) {
			s->stages.index_hit = 1;
			out = narrow(chunks, n, found, (size_t)k);
			free(found);
			return out;
		}
		free(found);
		found = NULL;
	}
	if (eq && index_cache_get(s->cz->index_cache, epoch, sql, &one)) {
		s->stages.index_hit = 1;
		return narrow(chunks, n, &one, 1);
	}
	if (!(bc = backend_get(s->cz->backend, err, sizeof(err)))) {
		myp_err(&s->conn, ER_UNKNOWN_ERROR, NULL, "%s", err);
		return -EIO;
	}
	if (mysql_query(bc->my, sql) != 0 || !(res = mysql_store_result(bc->my))) {
		myp_err(&s->conn, ER_UNKNOWN_ERROR, NULL, "director index lookup failed: %s", mysql_error(bc->my));
		backend_put(s->cz->backend, bc, mysql_errno(bc->my) >= 2000);
		return -EIO;
	}
	while ((row = mysql_fetch_row(res))) {
		if (!row[0])
			continue;
		if (nf == cap) {
			int32_t *v = realloc(found, (cap = cap ? 2 * cap : 64) * sizeof(*v));
			if (!v)
				break;
			found = v;
		}
		found[nf++] = (int32_t)atol(row[0]);
	}
	mysql_free_result(res);
	backend_put(s->cz->backend, bc, 0);
	if (eq && nf == 1)
		index_cache_put(s->cz->index_cache, epoch, sql, found[0]);
	out = narrow(chunks, n, found, nf);
	free(found);
	return out;
}

/* ---- streaming sink ------------------------------------------------------ */

struct stream {
	struct sess *s;
	int cols_sent;
	unsigned ncols;
	int64_t skip, left;        /* OFFSET still to skip; rows still wanted (-1: all) */
	uint64_t bytes, max_bytes; /* value bytes sent; the bound (0: none) */
	int too_large;             /* the bound stopped it */
};

static int stream_columns(void *ctx, const struct wire_cols *cols)
{
	struct stream *st = ctx;
	unsigned i;

	myp_column_count(&st->s->conn, cols->n);
	for (i = 0; i < cols->n; i++) {
		const struct wire_col *w = &cols->v[i];
		struct myp_column c = { .db = w->db, .table = w->table, .org_table = w->org_table,
					.name = w->name, .org_name = w->org_name, .charset = w->charset,
					.length = w->length, .type = w->type, .flags = w->flags,
					.decimals = w->decimals };
		myp_column(&st->s->conn, &c, 0);
	}
	myp_eof(&st->s->conn, st->s->status);
	st->cols_sent = 1;
	st->ncols = cols->n;
	return 0;     /* sent with the first rows (or the EOF): one write for a lookup's answer */
}

static int stream_rows(void *ctx, const struct wire_rows *rows)
{
	struct stream *st = ctx;
	uint32_t r;

	if (rows->ncols != st->ncols)
		return -EPROTO;
	for (r = 0; r < rows->nrows; r++) {
		if (st->skip > 0) {
			st->skip--;
			continue;
		}
		if (st->left == 0)
			return 1;
		if (st->max_bytes) {
			uint64_t nb = 0;
			for (unsigned k = 0; k < rows->ncols; k++)
				nb += rows->lens[(size_t)r * rows->ncols + k];
			if (st->bytes + nb > st->max_bytes) {
				st->too_large = 1;
				st->bytes += nb;
				return -EFBIG;
			}
			st->bytes += nb;
		}
		myp_row(&st->s->conn, rows->vals + (size_t)r * rows->ncols, rows->lens + (size_t)r * rows->ncols,
			rows->ncols);
		st->s->rows_sent++;
		for (unsigned k = 0; k < rows->ncols; k++)
			st->s->bytes_sent += rows->lens[(size_t)r * rows->ncols + k];
		if (st->left > 0)
			st->left--;
		if (st->s->conn.out.len >= 64 * 1024 && pkt_flush(&st->s->conn) < 0)
			return -EIO;
	}
	return st->left == 0 ? 1 : 0;
}

/* ---- merging sink -------------------------------------------------------- */

static int merge_cols_cb(void *ctx, const struct wire_cols *cols)
{
	return merge_columns(ctx, cols);
}

static int merge_rows_cb(void *ctx, const struct wire_rows *rows)
{
	return merge_rows(ctx, rows);
}

static char *merge_sql(const char *tmpl, const char *table)
{
	const char *at = strstr(tmpl, "`%RT%`");
	char qualified[96];
	size_t n;
	char *out;

	if (!at)
		return NULL;
	snprintf(qualified, sizeof(qualified), "`qservResult`.`%s`", table);
	n = strlen(tmpl) - 6 + strlen(qualified);
	out = malloc(n + 1);
	if (!out)
		return NULL;
	snprintf(out, n + 1, "%.*s%s%s", (int)(at - tmpl), tmpl, qualified, at + 6);
	return out;
}

/* Chunks the query needs that have no replica (their only worker was
 * removed by force): the query is refused naming them, since answering
 * without them would silently drop rows.  True when refused. */
static bool lost_chunks(struct sess *s, const struct meta_db *d, const int32_t *chunks, size_t n)
{
	char list[400];
	size_t used = 0, nlost = 0, i;

	for (i = 0; i < n; i++) {
		const struct meta_chunk *c = meta_find_chunk(d, chunks[i]);
		if (!c || c->nworkers)
			continue;
		if (nlost < 20 && used < sizeof(list))
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%d", nlost ? ", " : "", c->id);
		nlost++;
	}
	if (!nlost)
		return false;
	myp_err(&s->conn, ER_UNKNOWN_ERROR, NULL,
		"query needs %zu chunk(s) of database %s that no worker holds any more: %s%s (lost when their "
		"worker was removed with qservctl nodes remove --force); refusing rather than returning partial "
		"results", nlost, d->name, list, nlost > 20 ? ", ..." : "");
	return true;
}

/* The chunk queries to send: the plan's candidate chunks, narrowed by the
 * director index, each with its replicas; when none is left, one worker's
 * empty dummy chunk.  0 and *ret_jobs (caller frees), or a negative errno
 * after writing an ERR. */
static int chunk_jobs(struct sess *s, const struct plan *p, const struct meta *m, uint64_t qid,
		      struct dispatch_job **ret_jobs, size_t *ret_njobs)
{
	size_t n = p->nchunks, i, njobs = 0;
	int32_t *chunks = malloc((n + 1) * sizeof(*chunks));
	struct dispatch_job *jobs = calloc(n + 1, sizeof(*jobs));
	int rc = 0;

	if (!chunks || !jobs) {
		myp_err(&s->conn, ER_OUT_OF_RESOURCES, NULL, "Out of memory");
		rc = -ENOMEM;
		goto out;
	}
	if (n)
		memcpy(chunks, p->chunks, n * sizeof(*chunks));
	if (p->index_sql && !p->regular_only) {
		long k = index_chunks(s, p, chunks, n);
		if (k < 0) {
			rc = (int)k;
			goto out;
		}
		n = (size_t)k;
	}
	if (p->regular_only) {
		n = 0;
	}
	if (lost_chunks(s, p->db, chunks, n)) {
		rc = -ENOENT;
		goto out;
	}
	for (i = 0; i < n; i++) {
		const struct meta_chunk *c = meta_find_chunk(p->db, chunks[i]);
		if (!c)
			continue;
		jobs[njobs].chunk = c->id;
		/* the replica tried first: one per chunk, spread over the chunk's
		 * replicas by a hash of its id (qservMeta lists them by worker
		 * id, so the first would send every query to the lowest id);
		 * the same for every query, so a worker's cache and shared
		 * scans keep their chunks */
		unsigned first = c->nworkers ? ((uint32_t)c->id * 2654435761u >> 16) % c->nworkers : 0;
		for (unsigned k = 0; k < c->nworkers; k++)
			jobs[njobs].replica[k] = c->worker[(first + k) % c->nworkers];
		jobs[njobs].nreplicas = c->nworkers;
		if (p->nn_table) {
			jobs[njobs].sub_db = p->db->name;
			jobs[njobs].sub_table = p->nn_table;
			jobs[njobs].sub = plan_nn_sub_chunks(p, c->id, &jobs[njobs].nsub);
		}
		njobs++;
	}
	if (njobs == 0) {
		/* No chunk holds candidate rows: ask one worker's empty dummy chunk,
		 * which still gives the columns, and aggregates over no rows. */
		unsigned w = (unsigned)(qid % m->nworkers), k;
		jobs[0].chunk = DUMMY_CHUNK;
		for (k = 0; k < 4 && k < m->nworkers; k++)
			jobs[0].replica[k] = (w + k) % (unsigned)m->nworkers;
		jobs[0].nreplicas = k;
		if (p->nn_table) {            /* the dummy chunk's (empty) sub-chunk 0 */
			static const int32_t sub0;
			jobs[0].sub_db = p->db->name;
			jobs[0].sub_table = p->nn_table;
			jobs[0].sub = &sub0;
			jobs[0].nsub = 1;
		}
		njobs = 1;
	}
out:
	free(chunks);
	if (rc < 0) {
		free(jobs);
		return rc;
	}
	*ret_jobs = jobs;
	*ret_njobs = njobs;
	return 0;
}

/* No merge query: the worker rows go to the client as they arrive. */
static void run_streamed(struct sess *s, const struct plan *p, const struct meta *m, uint64_t qid, uint32_t flags,
			 const struct dispatch_job *jobs, size_t njobs)
{
	struct wire_error werr;
	struct dispatch_sink sink;
	struct stream st;
	int rc;

	memset(&st, 0, sizeof(st));
	st.s = s;
	st.skip = p->stream_offset > 0 ? p->stream_offset : 0;
	st.left = p->stream_limit;
	/* a SUBMIT's rows are bounded where its result table is written (async.c) */
	st.max_bytes = s->async ? 0 : s->cz->max_result_bytes;
	sink = (struct dispatch_sink){ &st, stream_columns, stream_rows };
	rc = dispatch_run(s->cz->dispatch, m, qid, p->worker_sql, flags, jobs, njobs, &sink, &s->killed, s->conn.fd,
			  &s->progress, &werr);
	if (rc < 0 && st.too_large) {
		/* rows went out already: the client ends on this ERR instead of an EOF */
		merge_lr_message(s->lr_error, sizeof(s->lr_error), qid, st.bytes, st.max_bytes, "bytes");
		myp_err(&s->conn, ER_TOO_BIG_SELECT, NULL, "%s", s->lr_error);
	} else if (rc < 0)
		myp_err(&s->conn, werr.code, werr.sqlstate, "%s", werr.msg);
	else if (!st.cols_sent)
		myp_err(&s->conn, ER_UNKNOWN_ERROR, NULL, "no worker answered");
	else
		myp_eof(&s->conn, s->status);
}

/* A connection of the merge account (account.h), or NULL with the
 * client told why.  A pool the account refuses (MariaDB lost the account,
 * or was down at start) gets the account made again on an admin
 * connection, then one more try. */
static struct backend_conn *merge_conn(struct sess *s)
{
	struct czar *cz = s->cz;
	struct backend_conn *mc, *bc;
	char err[256];

	mc = backend_get(cz->merge_backend, err, sizeof(err));
	if (!mc && (bc = backend_get(cz->backend, err, sizeof(err)))) {
		int rc = account_merge_ensure(cz, bc->my, err, sizeof(err));
		backend_put(cz->backend, bc, mysql_errno(bc->my) >= 2000);
		if (rc == 0)
			mc = backend_get(cz->merge_backend, err, sizeof(err));
	}
	if (!mc)
		myp_err(&s->conn, ER_UNKNOWN_ERROR, NULL, "%s", err);
	return mc;
}

/* A merge query: the worker rows are collected in a TEMPORARY result
 * table of a merge account's session (merge.h), and the merge query over
 * it, run in that session, answers the client.  The table dies with the
 * session: a connection whose DROP failed is closed, not pooled. */
static void run_merged(struct sess *s, const struct plan *p, const struct meta *m, uint64_t qid, uint32_t flags,
		       const struct dispatch_job *jobs, size_t njobs)
{
	struct czar *cz = s->cz;
	struct wire_error werr;
	struct dispatch_sink sink;
	struct merge mg;
	struct backend_conn *mc = merge_conn(s);
	int rc, broken = 0;

	if (!mc)
		return;
	merge_init(&mg, mc->my, qid, cz->max_result_rows);
	mg.max_bytes = cz->max_result_bytes;
	mg.temporary = 1;
	sink = (struct dispatch_sink){ &mg, merge_cols_cb, merge_rows_cb };
	rc = dispatch_run(cz->dispatch, m, qid, p->worker_sql, flags, jobs, njobs, &sink, &s->killed, s->conn.fd,
			  &s->progress, &werr);
	if (rc == 0 && merge_flush(&mg) < 0) {
		rc = -EIO;
		werr.code = mg.err_code;
		snprintf(werr.sqlstate, sizeof(werr.sqlstate), "%s", myp_sqlstate(mg.err_code));
		snprintf(werr.msg, sizeof(werr.msg), "%s", mg.err);
	}
	if (rc < 0) {
		if (mg.err_code && werr.code == ER_UNKNOWN_ERROR && strstr(werr.msg, "merge table"))
			myp_err(&s->conn, mg.err_code, NULL, "%s", mg.err);
		else
			myp_err(&s->conn, werr.code, werr.sqlstate[0] ? werr.sqlstate : NULL, "%s", werr.msg);
	} else {
		char *sql = merge_sql(p->merge_sql, mg.table);
		if (!sql)
			myp_err(&s->conn, ER_OUT_OF_RESOURCES, NULL, "Out of memory");
		else
			broken = relay_run_conn(s, mc, sql, strlen(sql));
		free(sql);
	}
	if (merge_drop(&mg) < 0)
		broken = 1;
	backend_put(cz->merge_backend, mc, broken);
}

void exec_distributed(struct sess *s, const struct plan *p, const struct meta *m)
{
	struct czar *cz = s->cz;
	struct dispatch_job *jobs = NULL;
	size_t njobs = 0;
	uint64_t qid;
	/* a full scan: no restrictor, no index lookup -- workers run it behind interactive queries */
	uint32_t flags = (!p->index_sql && !p->area && !p->regular_only) ? WIRE_Q_SCAN : 0;

	if (!cz->dispatch) {
		myp_err(&s->conn, ER_UNKNOWN_ERROR, NULL,
			"this czar has no worker TLS configuration (--tls-dir): distributed queries are off");
		return;
	}
	if (!m->nworkers) {
		myp_err(&s->conn, ER_UNKNOWN_ERROR, NULL, "no worker is enabled in qservMeta.workers");
		return;
	}
	qid = s->hist_id ? s->hist_id : __atomic_add_fetch(&cz->next_qid, 1, __ATOMIC_SEQ_CST);
	s->progress.sent_us = s->progress.first_us = 0;
	if (chunk_jobs(s, p, m, qid, &jobs, &njobs) == 0) {
		stages_mark(&s->stages, STAGE_INDEX);
		s->stages.distributed = 1;
		pthread_mutex_lock(&cz->lock);
		s->qid = qid;
		pthread_mutex_unlock(&cz->lock);
		if (!p->merge_sql)
			run_streamed(s, p, m, qid, flags, jobs, njobs);
		else
			run_merged(s, p, m, qid, flags, jobs, njobs);
	}
	s->stages.mark[STAGE_DISPATCH] = s->progress.sent_us;
	s->stages.mark[STAGE_FIRST_ROW] = s->progress.first_us;
	pthread_mutex_lock(&cz->lock);
	s->qid = 0;
	cz->chunk_queries += s->progress.done;
	pthread_mutex_unlock(&cz->lock);
	free(jobs);
}
