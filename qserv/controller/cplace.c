/* cplace.c: chunk placement and calls to workers.
 *
 * A new chunk goes to the enabled worker (answering, not evicted, not in
 * maintenance: chealth_usable) holding the fewest chunks of that
 * database (ties: lowest id), which spreads a catalog evenly whatever order
 * its chunks arrive in; the choice is recorded in qservMeta.chunks (and
 * removed again if the worker cannot create the chunk's tables), and an
 * existing record always wins, so placement is stable.  Decided under ctl.place_mu (the worker call
 * itself runs outside it): two loaders asking for the same new chunk get
 * the same worker, and the second returns only once the tables exist.
 * With no usable worker (one just registered is not probed yet) it waits
 * up to CPLACE_WAIT_MS for one before refusing. */
#include "controller.h"
#include "monotime.h"
#include "qserv/common/qhttpc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CPLACE_WAIT_MS 30000

int ctl_worker_call(const struct cworker *w, const char *method, const char *path, json_t *body,
		    json_t **ret, char *err, size_t errlen)
{
	char url[512], e[768];
	snprintf(url, sizeof url, "http://%s:%d/worker/%s", w->host, w->ingest_port, path);
	int r = qhttpc_json(method, url, body, ret, e, sizeof e);
	if (r)
		snprintf(err, errlen, "worker %s: %s", w->id, e);
	return r;
}

size_t ctl_worker_index(const struct cworker *w, size_t nw, const char *id)
{
	for (size_t i = 0; id && i < nw; i++)
		if (!strcmp(w[i].id, id))
			return i;
	return nw;
}

int ctl_all_workers(MYSQL *m, const char *method, const char *path, json_t *body, char *err, size_t errlen)
{
	struct cworker *v;
	size_t n;
	int r = cmeta_workers(m, &v, &n, err, errlen);
	if (r)
		return r;
	for (size_t i = 0; !r && i < n; i++)
		r = ctl_worker_call(&v[i], method, path, body, NULL, err, errlen);
	free(v);
	return r;
}

json_t *cplace_location(const struct cworker *w)
{
	return json_pack("{s:s, s:s, s:i, s:s, s:i, s:i}", "worker", w->id, "host", w->host,
			 "port", w->ingest_port, "http_host", w->host, "http_port", w->ingest_port,
			 "query_port", w->query_port);
}

/* Chunks being placed right now: the row is in qservMeta.chunks already
 * (so the next choice counts it) but the worker has not created the tables
 * yet, so a second asker for the same chunk waits. */
static int pending_find(struct ctl *c, const char *db, int32_t chunk)
{
	for (int i = 0; i < c->npending; i++)
		if (c->pending[i].chunk == chunk && !strcmp(c->pending[i].db, db))
			return i;
	return -1;
}

static int lookup(MYSQL *m, const char *db, int32_t chunk, char *ret_id, char *err, size_t errlen)
{
	MYSQL_RES *res = qsql_query(m, err, errlen,
		"SELECT worker_id FROM qservMeta.chunks WHERE db='%s' AND chunk=%d ORDER BY worker_id LIMIT 1",
		db, chunk);
	if (!res)
		return -EIO;
	MYSQL_ROW row = mysql_fetch_row(res);
	ret_id[0] = '\0';
	if (row)
		snprintf(ret_id, 65, "%s", row[0]);
	mysql_free_result(res);
	return 0;
}

static int place(struct ctl *c, MYSQL *m, const char *db, int32_t chunk, struct cworker *ret,
		 char *err, size_t errlen)
{
	if (chunk < 0) {
		snprintf(err, errlen, "bad chunk number %d", chunk);
		return -EINVAL;
	}
	char id[65];
	int r;
	pthread_mutex_lock(&c->place_mu);
	for (;;) {
		if ((r = lookup(m, db, chunk, id, err, errlen)))
			goto unlock;
		if (pending_find(c, db, chunk) < 0)
			break;
		pthread_cond_wait(&c->place_cv, &c->place_mu);
	}
	if (id[0]) {
		r = cmeta_worker(m, id, ret, err, errlen);
		goto unlock;
	}
	/* a silent, evicted or maintenance worker gets no new chunk (chealth.c) */
	MYSQL_RES *res = qsql_query(m, err, errlen,
		"SELECT w.id, w.maintenance FROM qservMeta.workers w LEFT JOIN qservMeta.chunks c ON c.worker_id=w.id"
		" AND c.db='%s' WHERE w.enabled=1 GROUP BY w.id, w.maintenance ORDER BY COUNT(c.chunk), w.id", db);
	r = -EIO;
	if (!res)
		goto unlock;
	MYSQL_ROW row;
	id[0] = '\0';
	while (!id[0] && (row = mysql_fetch_row(res)))
		if (chealth_usable(c, row[0], atoi(row[1]) != 0))
			snprintf(id, sizeof id, "%s", row[0]);
	mysql_free_result(res);
	if (!id[0]) {
		snprintf(err, errlen, "no enabled worker that answers (and is not in maintenance) to place chunk %d on",
			 chunk);
		r = -ENODEV;
		goto unlock;
	}
	if ((r = cmeta_worker(m, id, ret, err, errlen)))
		goto unlock;
	if (c->npending == CTL_MAX_PENDING) {
		snprintf(err, errlen, "too many chunk placements at once");
		r = -EBUSY;
		goto unlock;
	}
	if ((r = qsql_exec(m, err, errlen, "INSERT INTO qservMeta.chunks VALUES ('%s', %d, '%s')", db, chunk, id)))
		goto unlock;
	snprintf(c->pending[c->npending].db, sizeof c->pending[0].db, "%s", db);
	c->pending[c->npending++].chunk = chunk;
	pthread_mutex_unlock(&c->place_mu);

	/* the worker creates the chunk's tables; other chunks proceed meanwhile */
	json_t *body = json_pack("{s:s, s:i}", "database", db, "chunk", chunk);
	r = ctl_worker_call(ret, "POST", "chunk", body, NULL, err, errlen);
	json_decref(body);

	pthread_mutex_lock(&c->place_mu);
	if (r) {
		char e2[256];
		qsql_exec(m, e2, sizeof e2, "DELETE FROM qservMeta.chunks WHERE db='%s' AND chunk=%d", db, chunk);
	} else {
		/* a chunk lost with a removed worker and loaded again is no longer lost */
		char e2[256];
		qsql_exec(m, e2, sizeof e2, "DELETE FROM qservMeta.lost_chunks WHERE db='%s' AND chunk=%d", db, chunk);
	}
	int i = pending_find(c, db, chunk);
	c->pending[i] = c->pending[--c->npending];
	pthread_cond_broadcast(&c->place_cv);
unlock:
	pthread_mutex_unlock(&c->place_mu);
	return r;
}

/* A worker registered a moment ago has not answered a probe yet (the
 * prober looks every 2 s; its daemon may still be starting): with no
 * usable worker, placement waits for one, at most CPLACE_WAIT_MS, before
 * it refuses. */
int cplace_chunk(struct ctl *c, MYSQL *m, const char *db, int32_t chunk, struct cworker *ret,
		 char *err, size_t errlen)
{
	int64_t end = monotime_ms() + CPLACE_WAIT_MS;
	int r;
	while ((r = place(c, m, db, chunk, ret, err, errlen)) == -ENODEV && monotime_ms() < end) {
		struct timespec ts = { .tv_sec = 0, .tv_nsec = 500 * 1000000L };
		nanosleep(&ts, NULL);
	}
	return r;
}
