/* wstore.c: the durable part of the worker's ingest state, in its
 * bookkeeping database qservWorker (the schema is wmeta.c's):
 *
 *   contribs  one row per contribution (its request, status, counts,
 *             error), written when an asynchronous one is queued, when it
 *             starts, just before its LOAD DATA (loading = 1) and at its
 *             end, so GET /ingest/file-async/<id> answers after a restart
 *             and a loader keeps its retry information;
 *   dbs       the databases published here (writes to them are refused).
 *
 * Invariant that makes a crash safe: `loading` is 1 in the contribution's
 * row, committed (InnoDB, autocommit), before MariaDB starts loading rows
 * into a MyISAM table (which it cannot roll back), and only goes back to 0
 * after the load succeeded or after the transaction's `poisoned` mark was
 * written.  At start (wstore_load) a row still `loading` means the worker
 * stopped in the middle of a load: its transaction is marked poisoned (the
 * commit is refused, only an abort ends it) and the contribution FAILED.
 * Rows QUEUED or IN_PROGRESS but not loading loaded nothing: FAILED with
 * "send it again" (all such rows, whatever their age).  Old rows stay
 * (they are small); the newest WSTORE_KEEP are read back into memory. */
#include "worker.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WSTORE_KEEP 10000     /* records read back (~2.5 KB each in memory) */

int wstore_save(MYSQL *m, const struct wcontrib *c, bool loading, char *err, size_t errlen)
{
	char *url = qsql_quote(m, c->url), *e = qsql_quote(m, c->error);
	int r = -ENOMEM;

	if (!url || !e)
		snprintf(err, errlen, "out of memory");
	else
		r = qsql_exec(m, err, errlen,
			      "REPLACE INTO qservWorker.contribs VALUES (%u, %u, '%s', '%s', %d, %d, '%s', %d, %d,"
			      " %llu, %llu, %lld, %lld, %lld, %lld, '%s', %d)",
			      c->id, c->trans_id, c->db, c->table, (int)c->chunk, c->overlap ? 1 : 0, url,
			      (int)c->status, loading ? 1 : 0, c->num_bytes, c->num_rows, (long long)c->create_ms,
			      (long long)c->start_ms, (long long)c->read_ms, (long long)c->load_ms, e,
			      c->http_status);
	free(url);
	free(e);
	return r;
}

static int append_contrib(struct worker *w, struct wcontrib *c)
{
	if (w->ncontribs == w->ccontribs) {
		size_t n = w->ccontribs ? 2 * w->ccontribs : 64;
		struct wcontrib **v = realloc(w->contribs, n * sizeof *v);
		if (!v)
			return -ENOMEM;
		w->contribs = v, w->ccontribs = n;
	}
	w->contribs[w->ncontribs++] = c;
	return 0;
}

static void fill(struct wcontrib *c, MYSQL_ROW row)
{
	c->id = (uint32_t)strtoul(row[0], NULL, 10);
	c->trans_id = (uint32_t)strtoul(row[1], NULL, 10);
	snprintf(c->db, sizeof c->db, "%s", row[2]);
	snprintf(c->table, sizeof c->table, "%s", row[3]);
	c->chunk = (int32_t)atoi(row[4]);
	c->overlap = atoi(row[5]) != 0;
	snprintf(c->url, sizeof c->url, "%s", row[6]);
	c->status = (enum wcontrib_status)atoi(row[7]);
	c->num_bytes = strtoull(row[9], NULL, 10);
	c->num_rows = strtoull(row[10], NULL, 10);
	c->create_ms = atoll(row[11]);
	c->start_ms = atoll(row[12]);
	c->read_ms = atoll(row[13]);
	c->load_ms = atoll(row[14]);
	snprintf(c->error, sizeof c->error, "%s", row[15]);
	c->http_status = atoi(row[16]);
}

/* A contribution the worker stopped during: FAILED, and its transaction
 * poisoned when rows may have been written.  Returns 1 when c changed. */
static int settle(struct worker *w, struct wcontrib *c, bool loading, MYSQL *m)
{
	char err[256];

	if (c->status != WC_QUEUED && c->status != WC_IN_PROGRESS)
		return 0;
	c->status = WC_FAILED;
	c->http_status = 500;
	if (!loading) {
		snprintf(c->error, sizeof c->error, "the worker restarted before this contribution was loaded;"
			 " nothing of it was loaded: send it again");
		return 1;
	}
	snprintf(c->error, sizeof c->error, "the worker stopped while loading this contribution: its rows"
		 " may be partial, the transaction must be aborted");
	struct wtrans *t = worker_trans_find(w, c->trans_id);
	if (t && !t->poisoned) {
		t->poisoned = true;
		if (wmeta_save_trans(m, t, err, sizeof err))
			return -EIO;
		log_warn("transaction %u: the worker stopped during the load of contribution %u into %s.%s:"
			 " marked failed (commit refused, abort it)", t->id, c->id, c->db, c->table);
	}
	return 1;
}

#define WSTORE_COLS "id, trans, db, tbl, chunk, overlap, url, status, loading, num_bytes, num_rows, create_ms," \
	" start_ms, read_ms, load_ms, error, http_status"

/* Every record the worker stopped during (any age), settled first. */
static int settle_all(MYSQL *m, struct worker *w, char *err, size_t errlen)
{
	MYSQL_RES *res = qsql_query(m, err, errlen, "SELECT " WSTORE_COLS " FROM qservWorker.contribs"
				    " WHERE status IN (%d, %d)", (int)WC_QUEUED, (int)WC_IN_PROGRESS);
	MYSQL_ROW row;
	int r = 0;

	if (!res)
		return -EIO;
	while (!r && (row = mysql_fetch_row(res))) {
		struct wcontrib c = { 0 };
		fill(&c, row);
		int s = settle(w, &c, atoi(row[8]) != 0, m);
		if (s < 0 || (s > 0 && wstore_save(m, &c, false, err, errlen))) {
			snprintf(err, errlen, "cannot record the failure of contribution %u", c.id);
			r = -EIO;
		}
	}
	mysql_free_result(res);
	return r;
}

int wstore_load(MYSQL *m, struct worker *w, char *err, size_t errlen)
{
	long long max = 0;
	int r = settle_all(m, w, err, errlen);
	if (r)
		return r;
	if (qsql_int(m, &max, err, errlen, "SELECT COALESCE(MAX(id), 0) FROM qservWorker.contribs"))
		return -EIO;
	if ((uint32_t)max >= w->next_contrib)
		w->next_contrib = (uint32_t)max;
	MYSQL_RES *res = qsql_query(m, err, errlen, "SELECT " WSTORE_COLS " FROM qservWorker.contribs"
				    " ORDER BY id DESC LIMIT %d", WSTORE_KEEP);
	MYSQL_ROW row;
	if (!res)
		return -EIO;
	while (!r && (row = mysql_fetch_row(res))) {
		struct wcontrib *c = calloc(1, sizeof *c);
		if (!c || append_contrib(w, c)) {
			free(c);
			snprintf(err, errlen, "out of memory");
			r = -ENOMEM;
			break;
		}
		fill(c, row);
	}
	mysql_free_result(res);
	return r;
}

int wstore_set_published(MYSQL *m, const char *db, bool published, char *err, size_t errlen)
{
	if (published)
		return qsql_exec(m, err, errlen, "INSERT IGNORE INTO qservWorker.dbs VALUES ('%s', 1)", db);
	return qsql_exec(m, err, errlen, "DELETE FROM qservWorker.dbs WHERE db='%s'", db);
}

int wstore_published(MYSQL *m, const char *db, char *err, size_t errlen)
{
	long long n = 0;
	if (qsql_int(m, &n, err, errlen, "SELECT COUNT(*) FROM qservWorker.dbs WHERE db='%s'", db))
		return -EIO;
	if (n) {
		snprintf(err, errlen, "database %s is published: writes to it are refused (the operator"
			 " un-publishes it first: PUT /ingest/database/%s {\"publish\": false})", db, db);
		return -EPERM;
	}
	return 0;
}
