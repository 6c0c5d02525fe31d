/* cbackup.c: backups of a published database, and the one backup or
 * restore job running at a time (docs/operations.md "Backups").
 *
 *   POST /backup {database, [name]}      admin key; starts the job
 *   POST /restore {name, [as]}           admin key; cbackup_restore.c
 *   GET  /backup/status                  the job's progress (done / total)
 *
 * A backup NAME is files on the workers' bulk pools (<staging>/backups/NAME/,
 * wbackup.c), each with its SHA-256 in the manifest:
 *   chunk_<n>.lz4   every chunk table of chunk n (and its overlap): the
 *                   worker-to-worker copy stream (wcopy.h), pulled by a
 *                   worker that holds no replica of n (when one is usable;
 *                   else by a holder), from its first usable holder;
 *                   CBACKUP_PARALLEL pulls at once, spread by file count
 *   regular.lz4     the regular tables (the same stream, \#regular)
 *   meta.json.lz4   the database's qservMeta rows (cbackup_meta.c)
 *   index_<T>.lz4   the director index of director table T (TSV)
 *   extra_<name>    each --backup-include file of the czar node (its SQL
 *                   users and grants), as it is
 *   manifest.json   {format, name, database, created_ms, files: [{file,
 *                   worker, bytes, sha256, [chunk], [rows]}]}, on every
 *                   usable worker (plain JSON: a restore reads it first)
 *
 * Consistency: the backup is refused while the database has a transaction
 * not FINISHED/ABORTED, and while it runs the database takes no new
 * transaction (cbackup_locked, checked by ctrans_begin: 409), so no row
 * changes: loads need a transaction, and a published database takes none
 * anyway.  The lock is taken before the open transactions are counted and
 * they are counted again at the end (a transaction begun in between fails
 * the backup).  Every call is bounded (qhttpc's timeouts; a pull is bounded
 * as a chunk copy).  One job at a time: a second request is 409. */
#include "cbackup.h"
#include "qserv/common/qhttpc.h"
#include "qserv/common/sqlid.h"
#include "log.h"
#include "parallel.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static struct {
	pthread_mutex_t mu;
	bool running, restore;
	char name[CBACKUP_NAME_MAX + 1], db[65], as[65], state[8], err[1024];
	long long done, total;
	json_t *manifest;
	struct ctl *c;
} J = { .mu = PTHREAD_MUTEX_INITIALIZER };

bool cbackup_name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return n > 0 && n <= CBACKUP_NAME_MAX && s[0] != '.' &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

bool cbackup_locked(const char *db)
{
	pthread_mutex_lock(&J.mu);
	bool r = J.running && !J.restore && !strcmp(J.db, db);
	pthread_mutex_unlock(&J.mu);
	return r;
}

void cbackup_progress(long long done, long long total)
{
	pthread_mutex_lock(&J.mu);
	J.done = done, J.total = total;
	pthread_mutex_unlock(&J.mu);
}

json_t *cbackup_status(void)
{
	pthread_mutex_lock(&J.mu);
	json_t *r = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:O?}", "name", J.name, "kind",
			      J.restore ? "restore" : "backup", "database", J.restore && J.as[0] ? J.as : J.db,
			      "state", J.state[0] ? J.state : "none", "done", (json_int_t)J.done, "total",
			      (json_int_t)J.total, "reason", J.err, "manifest", J.manifest);
	pthread_mutex_unlock(&J.mu);
	return r;
}

void cbackup_worker_url(const struct ctl *c, const struct cworker *w, char *ret, size_t len)
{
	snprintf(ret, len, "%s://%s:%d", c->tls ? "https" : "http", w->host, w->ingest_port);
}

/* ---- the backup ---- */

struct bk {
	struct ctl *c;
	MYSQL *m;
	const char *db, *name;
	struct cworker *w;
	bool *usable;
	long long *count;       /* files placed on each worker by this backup */
	size_t nw;
	json_t *files;
	long long total;        /* the pulls: chunks + the regular tables */
	char *err;
	size_t errlen;
};

/* The usable worker with the fewest files, not a holder when one can be. */
static size_t pick(const struct bk *x, const bool *hold)
{
	size_t best = x->nw;
	for (int pass = 0; pass < 2 && best == x->nw; pass++)
		for (size_t i = 0; i < x->nw; i++)
			if (x->usable[i] && (pass || !hold[i]) && (best == x->nw || x->count[i] < x->count[best]))
				best = i;
	return best;
}

/* ---- calls in parallel ---- */

struct batch {
	struct cbackup_call *v;
	long long done0, total;
	long long ended;             /* atomic */
};

/* parallel_each's job i. */
static int caller(void *arg, size_t i)
{
	struct batch *b = arg;
	struct cbackup_call *k = &b->v[i];

	k->rc = ctl_worker_call(&k->w, "POST", k->path, k->body, &k->out, k->err, sizeof k->err);
	long long e = __atomic_add_fetch(&b->ended, 1, __ATOMIC_SEQ_CST);
	if (b->total)
		cbackup_progress(b->done0 + e, b->total);
	return 0;
}

void cbackup_calls(struct cbackup_call *v, size_t n, long long done0, long long total)
{
	struct batch b = { .v = v, .done0 = done0, .total = total };
	parallel_each(n, CBACKUP_PARALLEL, caller, &b);
	for (size_t i = 0; i < n; i++) {
		json_decref(v[i].body);
		v[i].body = NULL;
	}
}

/* ---- the backup's pulls ---- */

/* The call making worker dst pull chunk (or, chunk < 0, the regular tables) from src. */
static void plan(struct bk *x, int32_t chunk, size_t src, size_t dst, struct cbackup_call *k)
{
	char url[300];
	cbackup_worker_url(x->c, &x->w[src], url, sizeof url);
	*k = (struct cbackup_call){ .w = x->w[dst], .path = "backup", .chunk = chunk, .src = src };
	k->body = json_pack("{s:s, s:s, s:s, s:s}", "database", x->db, "name", x->name, "source_id", x->w[src].id,
			    "source_url", url);
	json_object_set_new(k->body, chunk < 0 ? "regular" : "chunk", chunk < 0 ? json_true() : json_integer(chunk));
	x->count[dst]++;
}

/* Runs the n planned pulls; their manifest entries, or the first failure. */
static int pulls(struct bk *x, struct cbackup_call *v, size_t n, long long done0, long long total)
{
	int r = 0;
	cbackup_calls(v, n, done0, total);
	for (size_t i = 0; i < n; i++) {
		struct cbackup_call *k = &v[i];
		if (k->rc && !r) {
			snprintf(x->err, x->errlen, "%s", k->err);
			r = k->rc;
		}
		if (!k->rc && !r) {
			json_t *e = json_pack("{s:O, s:s, s:O, s:O, s:s}", "file", json_object_get(k->out, "file"),
					      "worker", k->w.id, "bytes", json_object_get(k->out, "bytes"), "sha256",
					      json_object_get(k->out, "sha256"), "source", x->w[k->src].id);
			if (k->chunk >= 0)
				json_object_set_new(e, "chunk", json_integer(k->chunk));
			json_array_append_new(x->files, e);
		}
		json_decref(k->out);
	}
	return r;
}

/* The pull of one chunk whose holders are hold[], added to *v. */
static int plan_chunk(struct bk *x, int32_t chunk, const bool *hold, struct cbackup_call **v, size_t *n)
{
	size_t src = x->nw;
	for (size_t i = 0; i < x->nw && src == x->nw; i++)
		if (hold[i] && x->usable[i])
			src = i;
	size_t dst = pick(x, hold);
	if (src == x->nw || dst == x->nw) {
		snprintf(x->err, x->errlen, "chunk %d of %s: no usable worker holds it", chunk, x->db);
		return -EAGAIN;
	}
	struct cbackup_call *nv = realloc(*v, (*n + 1) * sizeof *nv);
	if (!nv) {
		snprintf(x->err, x->errlen, "out of memory");
		return -ENOMEM;
	}
	*v = nv;
	plan(x, chunk, src, dst, &nv[(*n)++]);
	return 0;
}

/* Every chunk planned from qservMeta.chunks, then pulled CBACKUP_PARALLEL at once. */
static int take_chunks(struct bk *x)
{
	MYSQL_RES *res = qsql_query(x->m, x->err, x->errlen,
		"SELECT chunk, worker_id FROM qservMeta.chunks WHERE db='%s' ORDER BY chunk, worker_id", x->db);
	bool *hold = calloc(x->nw + 1, sizeof *hold);
	struct cbackup_call *v = NULL;
	size_t n = 0;
	int r = !res ? -EIO : !hold ? -ENOMEM : 0;
	MYSQL_ROW row;
	int32_t cur = -1;
	while (!r && (row = mysql_fetch_row(res))) {
		int32_t ch = (int32_t)atoi(row[0]);
		if (ch != cur && cur >= 0) {
			r = plan_chunk(x, cur, hold, &v, &n);
			memset(hold, 0, x->nw * sizeof *hold);
		}
		cur = ch;
		size_t i = ctl_worker_index(x->w, x->nw, row[1]);
		if (i < x->nw)
			hold[i] = true;
	}
	if (!r && cur >= 0)
		r = plan_chunk(x, cur, hold, &v, &n);
	if (res)
		mysql_free_result(res);
	if (r) {
		for (size_t i = 0; i < n; i++)
			json_decref(v[i].body);
	} else {
		x->total = (long long)n + 1;
		cbackup_progress(0, x->total);
		r = pulls(x, v, n, 0, x->total);
	}
	free(v);
	free(hold);
	return r;
}

/* The file at path as NAME/file on worker i; an entry in files (NULL: none). */
static int upload(struct bk *x, size_t i, const char *file, const char *path, json_t *files, json_t *extra)
{
	char base[300], url[600], e[768];
	json_t *out = NULL;
	cbackup_worker_url(x->c, &x->w[i], base, sizeof base);
	snprintf(url, sizeof url, "%s/backup/file/%s/%s", base, x->name, file);
	int r = qhttpc_post_file(url, path, &out, e, sizeof e);
	if (r) {
		snprintf(x->err, x->errlen, "worker %s: %s", x->w[i].id, e);
		return r;
	}
	if (files) {
		json_t *ent = json_pack("{s:s, s:s, s:O, s:O}", "file", file, "worker", x->w[i].id, "bytes",
					json_object_get(out, "bytes"), "sha256", json_object_get(out, "sha256"));
		if (extra)
			json_object_update(ent, extra);
		json_array_append_new(files, ent);
		x->count[i]++;
	}
	json_decref(out);
	return 0;
}

/* meta.json.lz4 and every index_<T>.lz4, through files in the staging
 * directory (removed after). */
static int take_meta(struct bk *x)
{
	char path[400], file[100];
	bool none[CTL_MAX_WORKERS] = { false };
	json_t *meta = cbackup_meta_dump(x->m, x->db, x->err, x->errlen), *v;
	const char *t;
	if (!meta)
		return -EIO;
	char *s = json_dumps(meta, JSON_COMPACT);
	snprintf(path, sizeof path, "%s/backup-%d-meta.lz4", x->c->staging, (int)getpid());
	int r = !s ? -ENOMEM : cbackup_lz4_write(path, s, strlen(s), x->err, x->errlen);
	free(s);
	if (!r)
		r = upload(x, pick(x, none), "meta.json.lz4", path, x->files, NULL);
	unlink(path);
	json_object_foreach(json_object_get(meta, "index_create"), t, v) {
		long long rows = 0;
		snprintf(file, sizeof file, "index_%s.lz4", t);
		if (r || (r = cbackup_index_dump(x->m, x->db, t, path, &rows, x->err, x->errlen)))
			break;
		json_t *extra = json_pack("{s:s, s:I}", "table", t, "rows", (json_int_t)rows);
		r = upload(x, pick(x, none), file, path, x->files, extra);
		json_decref(extra);
		unlink(path);
	}
	json_decref(meta);
	return r;
}

/* Every --backup-include file (the czar's users, grants and quotas) as
 * extra_<its name>, {"extra": true} in the manifest (one that does not
 * exist is left out); a restore checks its checksum and leaves it on the
 * pool (and in DIR) for the operator. */
static int take_extra(struct bk *x)
{
	bool none[CTL_MAX_WORKERS] = { false };
	int r = 0;
	for (int i = 0; !r && i < x->c->nbackup_include; i++) {
		const char *path = x->c->backup_include[i], *base = strrchr(path, '/');
		char file[CBACKUP_NAME_MAX + 1];
		base = base ? base + 1 : path;
		if (snprintf(file, sizeof file, "extra_%s", base) >= (int)sizeof file || !cbackup_name_ok(file)) {
			snprintf(x->err, x->errlen, "--backup-include %s: its name is not a backup file name", path);
			return -EINVAL;
		}
		if (access(path, R_OK) < 0 && errno == ENOENT) {
			log_info("backup %s: --backup-include %s does not exist (yet): not in the backup", x->name, path);
			continue;    /* a czar with no grants or quotas made yet */
		}
		if (access(path, R_OK) < 0) {
			snprintf(x->err, x->errlen, "--backup-include %s: %s", path, strerror(errno));
			return -EIO;
		}
		json_t *extra = json_pack("{s:b}", "extra", 1);
		r = upload(x, pick(x, none), file, path, x->files, extra);
		json_decref(extra);
	}
	return r;
}

/* manifest.json on every usable worker; *ret the manifest. */
static int put_manifest(struct bk *x, json_t **ret)
{
	struct timeval tv;
	char path[400];
	gettimeofday(&tv, NULL);
	json_t *man = json_pack("{s:i, s:s, s:s, s:I, s:O}", "format", 1, "name", x->name, "database", x->db,
				"created_ms", (json_int_t)tv.tv_sec * 1000 + tv.tv_usec / 1000, "files", x->files);
	snprintf(path, sizeof path, "%s/backup-%d-manifest.json", x->c->staging, (int)getpid());
	int r = json_dump_file(man, path, JSON_INDENT(1)) ? -EIO : 0;
	if (r)
		snprintf(x->err, x->errlen, "%s: cannot write", path);
	for (size_t i = 0; !r && i < x->nw; i++)
		if (x->usable[i])
			r = upload(x, i, "manifest.json", path, NULL, NULL);
	unlink(path);
	if (r)
		json_decref(man);
	else
		*ret = man;
	return r;
}

static int backup_run(struct ctl *c, MYSQL *m, const char *db, const char *name, json_t **ret, char *err,
		      size_t errlen)
{
	struct bk x = { .c = c, .m = m, .db = db, .name = name, .err = err, .errlen = errlen };
	int r = cmeta_workers_all(m, &x.w, &x.nw, err, errlen);
	if (r)
		return r;
	x.usable = calloc(x.nw + 1, sizeof *x.usable);
	x.count = calloc(x.nw + 1, sizeof *x.count);
	x.files = json_array();
	size_t first = x.nw;
	for (size_t i = 0; x.usable && i < x.nw; i++) {
		x.usable[i] = x.w[i].enabled && chealth_usable(c, x.w[i].id, x.w[i].maint);
		if (x.usable[i] && first == x.nw)
			first = i;
	}
	r = !x.usable || !x.count ? -ENOMEM : first == x.nw ? -EAGAIN : 0;
	if (r == -EAGAIN)
		snprintf(err, errlen, "no usable worker");
	if (!r)
		r = take_chunks(&x);
	if (!r) {   /* the regular tables, from the first usable worker, onto another one when there is one */
		bool hold[CTL_MAX_WORKERS] = { false };
		struct cbackup_call k;
		hold[first] = true;
		plan(&x, -1, first, pick(&x, hold), &k);
		r = pulls(&x, &k, 1, x.total - 1, x.total);
	}
	long long open = 0;
	if (!r)
		r = take_meta(&x);
	if (!r)
		r = take_extra(&x);
	if (!r && !(r = cmeta_open_trans(m, db, &open, err, errlen)) && open) {
		snprintf(err, errlen, "a transaction of %s began during the backup: it is not consistent", db);
		r = -EBUSY;
	}
	if (!r)
		r = put_manifest(&x, ret);
	json_decref(x.files);
	free(x.w);
	free(x.usable);
	free(x.count);
	return r;
}

/* ---- the job ---- */

static void *job_main(void *arg)
{
	struct ctl *c = arg;
	char err[1024] = "", name[CBACKUP_NAME_MAX + 1], db[65], as[65];
	json_t *man = NULL;
	pthread_mutex_lock(&J.mu);
	bool restore = J.restore;
	memcpy(name, J.name, sizeof name), memcpy(db, J.db, sizeof db), memcpy(as, J.as, sizeof as);
	pthread_mutex_unlock(&J.mu);
	MYSQL *m = qsql_connect(&c->sql, err, sizeof err);
	int r = !m ? -EIO : restore ? crestore_run(c, m, name, as, &man, err, sizeof err)
				    : backup_run(c, m, db, name, &man, err, sizeof err);
	if (m)
		mysql_close(m);
	if (r && !err[0])
		snprintf(err, sizeof err, "%s (no detail)", strerror(r < 0 ? -r : r));
	if (r)
		log_warn("%s %s: %s", restore ? "restore" : "backup", name, err);
	else
		log_info("%s %s of %s: done", restore ? "restore" : "backup", name, restore && as[0] ? as : db);
	pthread_mutex_lock(&J.mu);
	snprintf(J.state, sizeof J.state, "%s", r ? "failed" : "done");
	snprintf(J.err, sizeof J.err, "%s", r ? err : "");
	json_decref(J.manifest);
	J.manifest = man;
	J.running = false;
	pthread_mutex_unlock(&J.mu);
	return NULL;
}

/* Takes the job slot (409 while one runs) and starts the thread. */
static int job_begin(struct ctl *c, bool restore, const char *name, const char *db, const char *as, char *err,
		     size_t errlen)
{
	pthread_mutex_lock(&J.mu);
	if (J.running) {
		snprintf(err, errlen, "a %s (%s) is running: one backup or restore at a time",
			 J.restore ? "restore" : "backup", J.name);
		pthread_mutex_unlock(&J.mu);
		return -EBUSY;
	}
	J.running = true, J.restore = restore, J.done = J.total = 0, J.err[0] = '\0';
	snprintf(J.name, sizeof J.name, "%s", name);
	snprintf(J.db, sizeof J.db, "%s", db);
	snprintf(J.as, sizeof J.as, "%s", as);
	snprintf(J.state, sizeof J.state, "running");
	json_decref(J.manifest);
	J.manifest = NULL;
	pthread_mutex_unlock(&J.mu);
	return 0;
}

static int job_launch(struct ctl *c, char *err, size_t errlen)
{
	pthread_t t;
	if (pthread_create(&t, NULL, job_main, c) == 0) {
		pthread_detach(t);
		return 0;
	}
	pthread_mutex_lock(&J.mu);
	J.running = false;
	snprintf(J.state, sizeof J.state, "failed");
	pthread_mutex_unlock(&J.mu);
	snprintf(err, errlen, "cannot start the job thread");
	return -ENOMEM;
}

/* name of body b, or <db>-<UTC time> */
static int job_name(json_t *b, const char *db, char *ret, char *err, size_t errlen)
{
	const char *n = json_string_value(json_object_get(b, "name"));
	if (!n) {
		time_t now = time(NULL);
		struct tm tm;
		char ts[32];
		gmtime_r(&now, &tm);
		strftime(ts, sizeof ts, "%Y%m%d-%H%M%S", &tm);
		snprintf(ret, CBACKUP_NAME_MAX + 1, "%.64s-%s", db, ts);
		return 0;
	}
	if (!cbackup_name_ok(n)) {
		snprintf(err, errlen, "name: 1 to %d letters, digits, '_', '-', '.' (not first)", CBACKUP_NAME_MAX);
		return -EINVAL;
	}
	snprintf(ret, CBACKUP_NAME_MAX + 1, "%s", n);
	return 0;
}

int cbackup_start(struct ctl *c, MYSQL *m, json_t *b, json_t **ret, char *err, size_t errlen)
{
	const char *db = json_string_value(json_object_get(b, "database"));
	char name[CBACKUP_NAME_MAX + 1];
	struct cdb d;
	long long open = 0;
	int r = sqlid_check(SQLID_DATABASE, "database", db, err, errlen) ? -EINVAL : 0;
	if (r || (r = job_name(b, db, name, err, errlen)) || (r = cmeta_db(m, db, &d, err, errlen)))
		return r;
	if ((r = job_begin(c, false, name, db, "", err, errlen)))
		return r;
	/* locked first (cbackup_locked), then counted: a transaction cannot slip in between unseen */
	if ((r = cmeta_open_trans(m, db, &open, err, errlen)) == 0 && open) {
		snprintf(err, errlen, "database %s has %lld open transaction(s): commit or abort them before a backup",
			 db, open);
		r = -EBUSY;
	} else if (!r && !d.published) {
		snprintf(err, errlen, "database %s is not published: only a published database is backed up", db);
		r = -EPERM;
	}
	if (!r)
		r = job_launch(c, err, errlen);
	if (r) {
		pthread_mutex_lock(&J.mu);
		J.running = false;
		snprintf(J.state, sizeof J.state, "failed");
		snprintf(J.err, sizeof J.err, "%s", err);
		pthread_mutex_unlock(&J.mu);
		return r;
	}
	*ret = json_pack("{s:s, s:s, s:s, s:s}", "name", name, "kind", "backup", "database", db, "state", "running");
	return 0;
}

int crestore_start(struct ctl *c, MYSQL *m, json_t *b, json_t **ret, char *err, size_t errlen)
{
	const char *name = json_string_value(json_object_get(b, "name"));
	const char *as = json_string_value(json_object_get(b, "as"));
	if (!cbackup_name_ok(name)) {
		snprintf(err, errlen, "name: a backup name is 1 to %d letters, digits, '_', '-', '.'", CBACKUP_NAME_MAX);
		return -EINVAL;
	}
	if (as && *as && sqlid_check(SQLID_DATABASE, "as", as, err, errlen))
		return -EINVAL;
	int r = job_begin(c, true, name, "", as ? as : "", err, errlen);
	if (!r)
		r = job_launch(c, err, errlen);
	if (r)
		return r;
	*ret = json_pack("{s:s, s:s, s:s}", "name", name, "kind", "restore", "state", "running");
	return 0;
}
