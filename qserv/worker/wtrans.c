/* wtrans.c: the worker's view of super-transactions (see worker.h for the
 * invariants).  The controller tells every worker when a transaction begins
 * and ends; contributions check here that theirs is open.  Ending flips the
 * state under the lock first, then waits for the contributions in flight,
 * then (abort) deletes the transaction's rows from every table it touched. */
#include "worker.h"
#include "qserv/common/sqlid.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct wtrans *worker_trans_find(struct worker *w, uint32_t id)
{
	for (size_t i = 0; i < w->ntrans; i++)
		if (w->trans[i].id == id)
			return &w->trans[i];
	return NULL;
}

static int save(struct worker *w, const struct wtrans *t, char *err, size_t errlen)
{
	MYSQL *m = qsql_connect(&w->sql, err, errlen);
	if (!m)
		return -EIO;
	int r = wmeta_save_trans(m, t, err, errlen);
	mysql_close(m);
	return r;
}

int worker_trans_begin(struct worker *w, uint32_t id, const char *db, char *err, size_t errlen)
{
	if (sqlid_check(SQLID_DATABASE, "database", db, err, errlen))
		return -EINVAL;
	if (id == 0) {
		snprintf(err, errlen, "transaction_id: must be a transaction number");
		return -EINVAL;
	}
	MYSQL *m = qsql_connect(&w->sql, err, errlen);
	if (!m)
		return -EIO;
	int pub = wguard_writable(m, db, err, errlen);
	mysql_close(m);
	if (pub)
		return pub;
	pthread_mutex_lock(&w->mu);
	struct wtrans *t = worker_trans_find(w, id);
	int r = 0;
	if (t) {
		if (t->state != WT_STARTED || strcmp(t->db, db)) {
			snprintf(err, errlen, "transaction %u already ended or belongs to %s", id, t->db);
			r = -EEXIST;
		}
		pthread_mutex_unlock(&w->mu);
		return r;
	}
	if (w->ntrans == w->ctrans) {
		size_t c = w->ctrans ? 2 * w->ctrans : 16;
		struct wtrans *v = realloc(w->trans, c * sizeof *v);
		if (!v) {
			pthread_mutex_unlock(&w->mu);
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		w->trans = v, w->ctrans = c;
	}
	t = &w->trans[w->ntrans++];
	memset(t, 0, sizeof *t);
	t->id = id;
	snprintf(t->db, sizeof t->db, "%s", db);
	t->state = WT_STARTED;
	struct wtrans copy = *t;
	pthread_mutex_unlock(&w->mu);
	return save(w, &copy, err, errlen);
}

int worker_trans_end(struct worker *w, uint32_t id, bool commit, char *err, size_t errlen)
{
	pthread_mutex_lock(&w->mu);
	struct wtrans *t = worker_trans_find(w, id);
	if (!t) {
		pthread_mutex_unlock(&w->mu);
		if (!commit)
			return 0; /* never began here: nothing to remove */
		snprintf(err, errlen, "transaction %u is unknown on this worker", id);
		return -ENOENT;
	}
	if (commit && t->state == WT_ABORTED) {
		pthread_mutex_unlock(&w->mu);
		snprintf(err, errlen, "transaction %u was aborted", id);
		return -EINVAL;
	}
	if (commit && t->poisoned) {
		pthread_mutex_unlock(&w->mu);
		snprintf(err, errlen, "transaction %u had a failed contribution on this worker: abort it", id);
		return -EINVAL;
	}
	t->state = commit ? WT_FINISHED : WT_ABORTED;
	while ((t = worker_trans_find(w, id)) && t->inflight > 0)
		pthread_cond_wait(&w->cv, &w->mu);
	if (!t) { /* entries are never removed; a guard, not a path */
		pthread_mutex_unlock(&w->mu);
		snprintf(err, errlen, "transaction %u vanished while it ended", id);
		return -ENOENT;
	}
	struct wtrans copy = *t;
	pthread_mutex_unlock(&w->mu);
	MYSQL *m = qsql_connect(&w->sql, err, errlen);
	if (!m)
		return -EIO;
	int r = 0;
	if (!commit)
		r = wmeta_drop_trans(m, copy.db, id, err, errlen);
	if (!r)
		r = wmeta_save_trans(m, &copy, err, errlen);
	mysql_close(m);
	return r;
}
