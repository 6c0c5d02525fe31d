/* ctrans.c: super-transactions across the workers, and the director index.
 *
 * begin: record STARTED, then tell every worker (a worker that cannot begin
 * aborts the whole transaction at once).  commit: record IS_FINISHING, tell
 * every worker to commit (each waits for its loads in flight and refuses a
 * transaction with a failed contribution), build the director index from
 * the transaction's non-overlap rows when the database asks for it, record
 * FINISHED.  abort: record IS_ABORTING, every worker drops the
 * transaction's partitions, index rows of the transaction are deleted,
 * record ABORTED.  Every step is idempotent, so after any failure or crash
 * the same call can be repeated.
 *
 * Locking: ctl.trans_mu covers only the state change (read the state,
 * check it, record the next one, mark the transaction busy) and the
 * final record; the calls to the workers (which wait for their loads in
 * flight) and the director-index downloads run outside it, so a hung
 * contribution of one transaction never blocks the end of another.  A
 * second end of a transaction that is being ended, or an end while its
 * database's index is being rebuilt (and the reverse), is refused with
 * -EBUSY (409: try again) instead of waiting.
 *
 * The director index qservMeta.<db>__<T> is MyISAM with the director key as
 * PRIMARY KEY; rows come from each worker's GET /worker/index as TSV and go
 * in by multi-row INSERT IGNORE (cindex_rows.h), CTRANS_INDEX_PARALLEL
 * workers at once, each downloaded to a staging file and inserted on a
 * connection of its own (one worker's download and MariaDB's parsing of its
 * INSERTs overlap another's; MyISAM's table lock takes the inserts one at
 * a time).  A duplicate key is skipped by MariaDB and reported in the reply
 * as "index_duplicates"; a key two workers hold (an input error) keeps the
 * chunk of whichever was inserted first.  The key column's type is
 * the one registered, re-parsed by qserv/common/sqlid.h's grammar and put
 * into CREATE TABLE in its canonical form, never as stored. */
#include "controller.h"
#include "cbackup.h"
#include "cindex_rows.h"
#include "qserv/common/qhttpc.h"
#include "qserv/common/sqlid.h"
#include "log.h"
#include "parallel.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The size of one INSERT of index rows (well under max_allowed_packet). */
#define INDEX_INSERT_BYTES (256 << 10)
/* Workers whose index rows are downloaded and inserted at once. */
#define CTRANS_INDEX_PARALLEL 4

int ctrans_begin(struct ctl *c, MYSQL *m, const char *db, json_t *context, long long *ret_id,
		 char *err, size_t errlen)
{
	struct cdb d;
	int r = cmeta_db(m, db, &d, err, errlen);
	if (r)
		return r;
	if (d.published) {
		snprintf(err, errlen, "database %s is published: no new transactions", db);
		return -EPERM;
	}
	if (cbackup_locked(db)) {
		snprintf(err, errlen, "database %s is being backed up: no new transactions until the backup ends", db);
		return -EBUSY;
	}
	unsigned long long n;
	char *cj = context ? json_dumps(context, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("{}");
	char *cq = cj ? qsql_quote(m, cj) : NULL;
	free(cj);
	if (!cq) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r = qsql_exec_n(m, &n, err, errlen,
			"INSERT INTO qservMeta.trans (db, state, begin_time, context) VALUES ('%s', 'STARTED',"
			" UNIX_TIMESTAMP(NOW(3))*1000, '%s')", db, cq);
	free(cq);
	if (r)
		return -EIO;
	long long id = (long long)mysql_insert_id(m);
	/* its rows would make db's row counters stale (META.md, row_counters) */
	if (cstats_stale(c, m, db, err, errlen))
		log_warn("transaction %lld of %s: row counters not marked stale: %s", id, db, err);
	json_t *body = json_pack("{s:s, s:I, s:s}", "database", db, "transaction_id", (json_int_t)id,
				 "action", "begin");
	r = ctl_all_workers(m, "POST", "trans", body, err, errlen);
	json_decref(body);
	if (r) {
		char e2[256];
		json_t *info = NULL;
		ctrans_end(c, m, id, true, &info, e2, sizeof e2);
		json_decref(info);
		return r;
	}
	*ret_id = id;
	return 0;
}

static int director_tables(MYSQL *m, const char *db, MYSQL_RES **ret, char *err, size_t errlen)
{
	*ret = qsql_query(m, err, errlen,
		"SELECT name, director_key, schema_json FROM qservMeta.tables WHERE db='%s' AND is_director=1"
		" AND director_key<>''", db);
	return *ret ? 0 : -EIO;
}

/* The declared type of column key in a schema_json (canonical, through
 * the type grammar), or BIGINT NOT NULL; -EINVAL when it does not parse. */
static int key_type(const char *schema_json, const char *key, char *ret, size_t len, char *err, size_t errlen)
{
	int r = 0;
	snprintf(ret, len, "BIGINT NOT NULL");
	json_t *s = json_loads(schema_json, 0, NULL);
	size_t i;
	json_t *col;
	json_array_foreach(s, i, col) {
		const char *n = json_string_value(json_object_get(col, "name"));
		const char *t = json_string_value(json_object_get(col, "type"));
		if (n && t && !strcmp(n, key) && !r)
			r = sqlid_type("director_key's type", t, ret, len, err, errlen);
	}
	json_decref(s);
	return r;
}

/* Sends the pending rows (sent of them) as one INSERT IGNORE: the rows it
 * skipped are duplicate keys. */
static int index_flush(MYSQL *m, struct buf *sql, size_t head_len, unsigned long long *sent, json_int_t *ret_rows,
		       json_int_t *ret_dups, char *err, size_t errlen)
{
	if (!*sent)
		return 0;
	if (sql->oom) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (mysql_real_query(m, (const char *)sql->data, sql->len)) {
		qsql_note_failure(m, "INSERT IGNORE INTO qservMeta.<director index>");
		snprintf(err, errlen, "director index: the database refused the rows: %s", mysql_error(m));
		return -EIO;
	}
	unsigned long long in = mysql_affected_rows(m);
	*ret_rows += (json_int_t)in;
	*ret_dups += (json_int_t)(*sent - in);
	*sent = 0;
	sql->len = head_len;
	return 0;
}

/* One worker's index TSV (fd) into the index table by multi-row INSERT
 * IGNORE statements of about 256 KiB (cindex_rows.h says why not LOAD DATA). */
static int index_insert(MYSQL *m, int fd, const char *head, const char *worker, json_int_t *ret_rows,
			json_int_t *ret_dups, char *err, size_t errlen)
{
	FILE *f = fdopen(dup(fd), "r");
	if (!f) {
		snprintf(err, errlen, "director index from worker %s: %s", worker, strerror(errno));
		return -EIO;
	}
	struct buf sql;
	buf_init(&sql);
	buf_puts(&sql, head);
	size_t head_len = sql.len, cap = 0;
	char *line = NULL, e[256];
	unsigned long long sent = 0, lineno = 0;
	ssize_t n;
	int r = 0;
	while (!r && (n = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (line[n - 1] == '\n')
			n--;
		if (sent)
			buf_puts(&sql, ",");
		if (cindex_row_values(&sql, line, (size_t)n, e, sizeof e)) {
			snprintf(err, errlen, "director index from worker %s: line %llu: %s", worker, lineno, e);
			r = -EBADMSG;
		} else if (++sent && sql.len >= INDEX_INSERT_BYTES) {
			r = index_flush(m, &sql, head_len, &sent, ret_rows, ret_dups, err, errlen);
		}
	}
	if (!r)
		r = index_flush(m, &sql, head_len, &sent, ret_rows, ret_dups, err, errlen);
	free(line);
	fclose(f);
	buf_free(&sql);
	return r;
}

/* One worker's share of an index load: its rows downloaded to a staging
 * file, then inserted on a connection of its own. */
struct index_job {
	json_int_t rows, dups;
	int r;
	char err[900];
};

struct index_run {
	struct ctl *c;
	const char *db, *table;
	long long trans;
	const struct cworker *w;
	struct index_job *jobs;
	char head[256];
};

/* parallel_each's job i; nonzero (the load fails) stops the others. */
static int index_one(void *arg, size_t i)
{
	struct index_run *x = arg;
	struct index_job *j = &x->jobs[i];
	const struct cworker *w = &x->w[i];
	char path[300], url[600], tq[64] = "", e[700];

	if (x->trans)
		snprintf(tq, sizeof tq, "&transaction_id=%lld", x->trans);
	snprintf(url, sizeof url, "http://%s:%d/worker/index?database=%s&table=%s%s", w->host, w->ingest_port,
		 x->db, x->table, tq);
	snprintf(path, sizeof path, "%s/index-XXXXXX", x->c->staging);
	int fd = mkstemp(path);
	if (fd < 0) {
		snprintf(j->err, sizeof j->err, "mkstemp %s: %s", path, strerror(errno));
		return j->r = -EIO;
	}
	j->r = qhttpc_download_ours(url, fd, NULL, e, sizeof e);
	if (j->r) {
		snprintf(j->err, sizeof j->err, "director index from worker %s: %s", w->id, e);
	} else {
		MYSQL *m = qsql_connect(&x->c->sql, e, sizeof e);
		if (!m) {
			snprintf(j->err, sizeof j->err, "director index from worker %s: %s", w->id, e);
			j->r = -EIO;
		} else {
			lseek(fd, 0, SEEK_SET);
			j->r = index_insert(m, fd, x->head, w->id, &j->rows, &j->dups, j->err, sizeof j->err);
			mysql_close(m);
		}
	}
	close(fd);
	unlink(path);
	return j->r;
}

/* Loads the index rows of table from every worker (of one transaction, or
 * all rows when trans == 0 after emptying the index). */
static int index_load(struct ctl *c, MYSQL *m, const char *db, const char *table, const char *key,
		      const char *schema_json, long long trans, json_int_t *ret_rows, json_int_t *ret_dups,
		      char *err, size_t errlen)
{
	char idx[140], type[2 * SQLID_TYPE_MAX + 16];
	if (!sqlid_ok(db) || !sqlid_ok(table) || !sqlid_ok(key)) {
		snprintf(err, errlen, "director table %s of %s: a registered name is not valid", table, db);
		return -EINVAL;
	}
	snprintf(idx, sizeof idx, "%s__%s", db, table);
	if (strlen(idx) > 64) {
		snprintf(err, errlen, "director index name %s is longer than 64 characters", idx);
		return -EINVAL;
	}
	if (key_type(schema_json, key, type, sizeof type, err, errlen))
		return -EINVAL;
	if (qsql_exec(m, err, errlen,
		      "CREATE TABLE IF NOT EXISTS qservMeta.`%s` (`%s` %s, chunkId INT NOT NULL,"
		      " subChunkId INT NOT NULL, qserv_trans_id INT NOT NULL, PRIMARY KEY (`%s`)) ENGINE=MyISAM",
		      idx, key, type, key) ||
	    (trans ? qsql_exec(m, err, errlen, "DELETE FROM qservMeta.`%s` WHERE qserv_trans_id=%lld", idx, trans)
		   : qsql_exec(m, err, errlen, "TRUNCATE TABLE qservMeta.`%s`", idx)))
		return -EIO;
	struct cworker *w;
	size_t n;
	int r = cmeta_workers(m, &w, &n, err, errlen);
	if (r)
		return r;
	struct index_run x = { .c = c, .db = db, .table = table, .trans = trans, .w = w,
			       .jobs = calloc(n + 1, sizeof(struct index_job)) };
	if (!x.jobs) {
		free(w);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(x.head, sizeof x.head, "INSERT IGNORE INTO qservMeta.`%s` (`%s`, chunkId, subChunkId,"
		 " qserv_trans_id) VALUES ", idx, key);
	parallel_each(n, CTRANS_INDEX_PARALLEL, index_one, &x);
	for (size_t i = 0; i < n; i++) {
		*ret_rows += x.jobs[i].rows;
		*ret_dups += x.jobs[i].dups;
		if (x.jobs[i].r && !r) {
			r = x.jobs[i].r;
			snprintf(err, errlen, "%s", x.jobs[i].err);
		}
	}
	free(x.jobs);
	free(w);
	return r;
}

/* Builds the index of every director table of db for one transaction. */
static int index_trans(struct ctl *c, MYSQL *m, const char *db, long long trans, json_t *info,
		       char *err, size_t errlen)
{
	MYSQL_RES *res;
	int r = director_tables(m, db, &res, err, errlen);
	if (r)
		return r;
	MYSQL_ROW row;
	json_int_t rows = 0, dups = 0;
	while (!r && (row = mysql_fetch_row(res)))
		r = index_load(c, m, db, row[0], row[1], row[2], trans, &rows, &dups, err, errlen);
	mysql_free_result(res);
	json_object_set_new(info, "index_rows", json_integer(rows));
	json_object_set_new(info, "index_duplicates", json_integer(dups));
	return r;
}

static int drop_index_rows(MYSQL *m, const char *db, long long trans, char *err, size_t errlen)
{
	MYSQL_RES *res;
	int r = director_tables(m, db, &res, err, errlen);
	if (r)
		return r;
	MYSQL_ROW row;
	while (!r && (row = mysql_fetch_row(res))) {
		long long exists = 0;
		qsql_int(m, &exists, err, errlen, "SELECT COUNT(*) FROM information_schema.TABLES WHERE"
			 " TABLE_SCHEMA='qservMeta' AND TABLE_NAME='%s__%s'", db, row[0]);
		if (exists)
			r = qsql_exec(m, err, errlen, "DELETE FROM qservMeta.`%s__%s` WHERE qserv_trans_id=%lld",
				      db, row[0], trans);
	}
	mysql_free_result(res);
	return r;
}

/* The busy list (trans_mu held): the entry of transaction id (id > 0),
 * of db's index rebuild (id 0), or with id < 0 any entry of db. */
static int busy_find(struct ctl *c, const char *db, long long id)
{
	for (int i = 0; i < c->nbusy; i++)
		if (id > 0 ? c->busy[i].id == id : !strcmp(c->busy[i].db, db) && (id < 0 || !c->busy[i].id))
			return i;
	return -1;
}

static int busy_add(struct ctl *c, const char *db, long long id, char *err, size_t errlen)
{
	if (c->nbusy == CTL_MAX_PENDING) {
		snprintf(err, errlen, "too many transaction ends at once: try again");
		return -EBUSY;
	}
	snprintf(c->busy[c->nbusy].db, sizeof c->busy[0].db, "%s", db);
	c->busy[c->nbusy++].id = id;
	return 0;
}

static void busy_remove(struct ctl *c, const char *db, long long id)
{
	pthread_mutex_lock(&c->trans_mu);
	for (int i = 0; i < c->nbusy; i++)
		if (c->busy[i].id == id && !strcmp(c->busy[i].db, db)) {
			c->busy[i] = c->busy[--c->nbusy];
			break;
		}
	pthread_mutex_unlock(&c->trans_mu);
}

/* Under trans_mu: checks the transaction may end this way, records the
 * intermediate state and marks it busy.  1 = already in the final state
 * (nothing to do), 0 = go on (ret_db, ret_auto filled), or the error. */
static int end_begin(struct ctl *c, MYSQL *m, long long id, bool abort, char *ret_db, bool *ret_auto,
		     char *err, size_t errlen)
{
	char state[17];
	struct cdb d;
	int r = cmeta_trans(m, id, ret_db, state, err, errlen);
	if (r || (r = cmeta_db(m, ret_db, &d, err, errlen)))
		return r;
	*ret_auto = d.auto_index;
	if (abort && !strcmp(state, "FINISHED")) {
		snprintf(err, errlen, "transaction %lld is already committed", id);
		return -EPERM;
	}
	if (!abort && (!strcmp(state, "ABORTED") || !strcmp(state, "IS_ABORTING"))) {
		snprintf(err, errlen, "transaction %lld is %s", id, state);
		return -EPERM;
	}
	if ((abort && !strcmp(state, "ABORTED")) || (!abort && !strcmp(state, "FINISHED")))
		return 1;
	if (busy_find(c, ret_db, id) >= 0) {
		snprintf(err, errlen, "transaction %lld is being committed or aborted by another request: try again"
			 " when it is done", id);
		return -EBUSY;
	}
	if (busy_find(c, ret_db, 0) >= 0) {
		snprintf(err, errlen, "the director index of database %s is being rebuilt: try again when it is done",
			 ret_db);
		return -EBUSY;
	}
	if ((r = cmeta_set_trans(m, id, abort ? "IS_ABORTING" : "IS_FINISHING", err, errlen)))
		return r;
	return busy_add(c, ret_db, id, err, errlen);
}

/* The workers' part and the index, outside trans_mu. */
static int end_work(struct ctl *c, MYSQL *m, const char *db, long long id, bool abort, bool auto_index,
		    json_t *info, char *err, size_t errlen)
{
	json_t *body = json_pack("{s:s, s:I, s:s}", "database", db, "transaction_id", (json_int_t)id,
				 "action", abort ? "abort" : "commit");
	int r = ctl_all_workers(m, "POST", "trans", body, err, errlen);
	json_decref(body);
	if (r)
		return r;
	if (abort)
		return drop_index_rows(m, db, id, err, errlen);
	return auto_index ? index_trans(c, m, db, id, info, err, errlen) : 0;
}

int ctrans_end(struct ctl *c, MYSQL *m, long long id, bool abort, json_t **ret_info, char *err, size_t errlen)
{
	json_t *info = json_object();
	char db[65];
	bool auto_index = false;
	pthread_mutex_lock(&c->trans_mu);
	int r = end_begin(c, m, id, abort, db, &auto_index, err, errlen);
	pthread_mutex_unlock(&c->trans_mu);
	*ret_info = info;
	if (r)
		return r > 0 ? 0 : r;
	r = end_work(c, m, db, id, abort, auto_index, info, err, errlen);
	if (!r)
		r = cmeta_set_trans(m, id, abort ? "ABORTED" : "FINISHED", err, errlen);
	busy_remove(c, db, id);
	return r;
}

int cindex_rebuild(struct ctl *c, MYSQL *m, const char *db, const char *table, json_t **ret_info,
		   char *err, size_t errlen)
{
	long long open = 0;
	/* db is busy for the rebuild: no transaction of it ends meanwhile */
	pthread_mutex_lock(&c->trans_mu);
	int r = cmeta_open_trans(m, db, &open, err, errlen);
	if (!r && open) {
		snprintf(err, errlen, "database %s has %lld open transaction(s): commit or abort them first", db, open);
		r = -EBUSY;
	} else if (!r && busy_find(c, db, -1) >= 0) {
		snprintf(err, errlen, "database %s has a transaction ending or an index rebuild running: try again"
			 " when it is done", db);
		r = -EBUSY;
	} else if (!r) {
		r = busy_add(c, db, 0, err, errlen);
	}
	pthread_mutex_unlock(&c->trans_mu);
	if (r)
		return r;
	MYSQL_RES *res;
	json_int_t rows = 0, dups = 0;
	int found = 0;
	MYSQL_ROW row;
	if ((r = director_tables(m, db, &res, err, errlen))) {
		busy_remove(c, db, 0);
		return r;
	}
	while (!r && (row = mysql_fetch_row(res))) {
		if (table && *table && strcmp(table, row[0]))
			continue;
		found++;
		r = index_load(c, m, db, row[0], row[1], row[2], 0, &rows, &dups, err, errlen);
	}
	busy_remove(c, db, 0);
	mysql_free_result(res);
	if (!r && !found) {
		snprintf(err, errlen, "database %s has no director table%s%s", db, table && *table ? " " : "",
			 table ? table : "");
		r = -ENOENT;
	}
	*ret_info = json_pack("{s:I, s:I}", "index_rows", rows, "index_duplicates", dups);
	return r;
}
