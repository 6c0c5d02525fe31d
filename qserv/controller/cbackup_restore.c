/* cbackup_restore.c: POST /restore {name, [as]}, the restore job of a
 * backup NAME on the workers' bulk pools (cbackup.c describes its files).
 *
 * Steps, each bounded (qhttpc's timeouts, chunk copies' limits):
 *   1. the manifest, from the first usable worker that has it;
 *   2. the database (the backup's, or `as`) must not exist: 409;
 *   3. every file's SHA-256 checked where it lies (POST /worker/backup/verify):
 *      the first bad or missing file stops the restore, naming it, before
 *      anything is written (nothing already in the cluster is touched);
 *   4. the metadata rows (cbackup_meta_load: unpublished) and, on every
 *      usable worker, the database and its tables (cjoin_database, as for a
 *      joining worker) with the default index (csqlidx_defaults);
 *   5. every chunk placed by the controller (cplace_chunk: the current
 *      workers) and loaded there from its backup file, CBACKUP_PARALLEL
 *      loads at once (cbackup_calls): POST /worker/replica
 *      {..., backup_file: NAME/FILE} pulls the file from the worker holding
 *      it as a copy stream (wcopy_in.c: every table's rows and CHECKSUM
 *      TABLE compared with the backed-up ones before it is swapped in);
 *   6. the regular tables the same way on every usable worker;
 *   7. the director indexes loaded from their files (row counts checked);
 *   8. the publish (cpublish_request: replicas to the level, reference
 *      checksums, the czar told).
 * A failure after step 3 leaves the new database unpublished and partial:
 * drop it and restore again. */
#include "cbackup.h"
#include "qserv/common/qhttpc.h"
#include "qserv/common/qlz4.h"
#include "qserv/common/sqlid.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct rs {
	struct ctl *c;
	MYSQL *m;
	const char *name;
	char db[65];
	struct cworker *w;
	bool *usable;
	size_t nw;
	json_t *man;
	char *err;
	size_t errlen;
};

/* NAME/file from worker i into the new file path. */
static int fetch(struct rs *x, size_t i, const char *file, const char *path)
{
	char base[300], url[600], e[768];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(x->err, x->errlen, "%s: %s", path, strerror(errno));
		return -EIO;
	}
	cbackup_worker_url(x->c, &x->w[i], base, sizeof base);
	snprintf(url, sizeof url, "%s/backup/file/%s/%s", base, x->name, file);
	int r = qhttpc_download_ours(url, fd, NULL, e, sizeof e);
	close(fd);
	if (r)
		snprintf(x->err, x->errlen, "backup %s: file %s from worker %s: %s", x->name, file, x->w[i].id, e);
	return r;
}

static int manifest(struct rs *x)
{
	char path[400];
	snprintf(path, sizeof path, "%s/restore-%d-manifest.json", x->c->staging, (int)getpid());
	for (size_t i = 0; !x->man && i < x->nw; i++)
		if (x->usable[i] && fetch(x, i, "manifest.json", path) == 0)
			x->man = json_load_file(path, 0, NULL);
	unlink(path);
	if (!x->man || !json_is_array(json_object_get(x->man, "files"))) {
		snprintf(x->err, x->errlen, "no usable worker has a backup %s (its manifest.json)", x->name);
		return -ENOENT;
	}
	return 0;
}

/* Step 3: every file checked on its worker. */
static int verify(struct rs *x)
{
	json_t *files = json_object_get(x->man, "files"), *f;
	size_t k;
	json_array_foreach(files, k, f) {
		size_t i = ctl_worker_index(x->w, x->nw, json_string_value(json_object_get(f, "worker")));
		if (i == x->nw || !x->usable[i]) {
			snprintf(x->err, x->errlen, "backup %s: file %s is on worker %s, which is not usable now", x->name,
				 json_string_value(json_object_get(f, "file")),
				 json_string_value(json_object_get(f, "worker")));
			return -EAGAIN;
		}
	}
	for (size_t i = 0; i < x->nw; i++) {
		json_t *mine = json_array();
		json_array_foreach(files, k, f)
			if (!strcmp(json_string_value(json_object_get(f, "worker")), x->w[i].id))
				json_array_append_new(mine, json_pack("{s:O, s:O}", "file", json_object_get(f, "file"),
								      "sha256", json_object_get(f, "sha256")));
		json_t *b = json_pack("{s:s, s:o}", "name", x->name, "files", mine);
		int r = json_array_size(mine) ? ctl_worker_call(&x->w[i], "POST", "backup/verify", b, NULL, x->err,
								x->errlen) : 0;
		json_decref(b);
		if (r)
			return r;
	}
	return 0;
}

/* The JSON of the LZ4 file `file` of the backup. */
static json_t *fetch_json(struct rs *x, json_t *f)
{
	char path[400], plain[400];
	size_t i = ctl_worker_index(x->w, x->nw, json_string_value(json_object_get(f, "worker")));
	snprintf(path, sizeof path, "%s/restore-%d-meta.lz4", x->c->staging, (int)getpid());
	snprintf(plain, sizeof plain, "%s/restore-%d-meta.json", x->c->staging, (int)getpid());
	int r = fetch(x, i, json_string_value(json_object_get(f, "file")), path);
	int in = r ? -1 : open(path, O_RDONLY | O_CLOEXEC);
	int out = r ? -1 : open(plain, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (!r && (in < 0 || out < 0 || qlz4_decompress_fd(in, out, NULL, x->err, x->errlen)))
		r = -EIO;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	json_t *j = r ? NULL : json_load_file(plain, 0, NULL);
	if (!r && !j)
		snprintf(x->err, x->errlen, "backup %s: %s is not JSON", x->name, json_string_value(json_object_get(f, "file")));
	unlink(path);
	unlink(plain);
	return j;
}

static json_t *file_named(struct rs *x, const char *name)
{
	json_t *f;
	size_t k;
	json_array_foreach(json_object_get(x->man, "files"), k, f)
		if (!strcmp(json_string_value(json_object_get(f, "file")), name))
			return f;
	return NULL;
}

/* The call making worker dst load chunk (or, < 0, the regular tables) from the file f. */
static void plan(struct rs *x, const struct cworker *dst, int32_t chunk, json_t *f, struct cbackup_call *k)
{
	char url[300], bf[CBACKUP_NAME_MAX * 2 + 2];
	size_t i = ctl_worker_index(x->w, x->nw, json_string_value(json_object_get(f, "worker")));
	cbackup_worker_url(x->c, &x->w[i], url, sizeof url);
	snprintf(bf, sizeof bf, "%s/%s", x->name, json_string_value(json_object_get(f, "file")));
	*k = (struct cbackup_call){ .w = *dst, .path = "replica", .chunk = chunk, .src = i };
	k->body = json_pack("{s:s, s:s, s:s, s:s}", "database", x->db, "source_id", x->w[i].id, "source_url", url,
			    "backup_file", bf);
	json_object_set_new(k->body, chunk < 0 ? "regular" : "chunk", chunk < 0 ? json_true() : json_integer(chunk));
}

/* Steps 5 and 6: every chunk placed (one at a time: placement is the
 * controller's, on this connection), then every load, CBACKUP_PARALLEL at once. */
static int load_tables(struct rs *x)
{
	json_t *files = json_object_get(x->man, "files"), *f, *reg = file_named(x, "regular.lz4");
	size_t k, n = 0;
	int r = 0;
	struct cbackup_call *v = calloc(json_array_size(files) + x->nw + 1, sizeof *v);
	if (!v) {
		snprintf(x->err, x->errlen, "out of memory");
		return -ENOMEM;
	}
	json_array_foreach(files, k, f) {
		struct cworker t;
		if (r || !json_object_get(f, "chunk"))
			continue;
		int32_t chunk = (int32_t)json_integer_value(json_object_get(f, "chunk"));
		if (!(r = cplace_chunk(x->c, x->m, x->db, chunk, &t, x->err, x->errlen)))
			plan(x, &t, chunk, f, &v[n++]);
	}
	for (size_t i = 0; !r && reg && i < x->nw; i++)
		if (x->usable[i])
			plan(x, &x->w[i], -1, reg, &v[n++]);
	if (!r) {
		cbackup_progress(0, (long long)n);
		cbackup_calls(v, n, 0, (long long)n);
	}
	for (size_t i = 0; i < n; i++) {
		if (!r && v[i].rc) {
			snprintf(x->err, x->errlen, "%s", v[i].err);
			r = v[i].rc;
		}
		json_decref(v[i].body);
		json_decref(v[i].out);
	}
	free(v);
	return r;
}

/* Step 7. */
static int load_indexes(struct rs *x, json_t *meta)
{
	json_t *f;
	size_t k;
	char path[400];
	snprintf(path, sizeof path, "%s/restore-%d-index.lz4", x->c->staging, (int)getpid());
	json_array_foreach(json_object_get(x->man, "files"), k, f) {
		const char *t = json_string_value(json_object_get(f, "table"));
		long long rows = 0, want = json_integer_value(json_object_get(f, "rows"));
		if (!t)
			continue;
		size_t i = ctl_worker_index(x->w, x->nw, json_string_value(json_object_get(f, "worker")));
		int r = fetch(x, i, json_string_value(json_object_get(f, "file")), path);
		if (!r)
			r = cbackup_index_load(x->c, x->m, meta, x->db, t, path, &rows, x->err, x->errlen);
		unlink(path);
		if (!r && rows != want) {
			snprintf(x->err, x->errlen, "director index of %s: %lld rows loaded of %lld backed up", t, rows, want);
			r = -EIO;
		}
		if (r)
			return r;
	}
	return 0;
}

static int steps(struct rs *x)
{
	struct cdb d;
	json_t *meta_f, *meta = NULL, *out = NULL;
	int r = manifest(x);
	if (r)
		return r;
	const char *from = json_string_value(json_object_get(x->man, "database"));
	if (!x->db[0])
		snprintf(x->db, sizeof x->db, "%s", from ? from : "");
	if (sqlid_check(SQLID_DATABASE, "database", x->db, x->err, x->errlen))
		return -EINVAL;
	if ((r = cmeta_db(x->m, x->db, &d, x->err, x->errlen)) != -ENOENT) {
		if (!r)
			snprintf(x->err, x->errlen, "database %s exists: drop it or restore under another name (as)", x->db);
		return r ? r : -EEXIST;
	}
	if ((r = verify(x)))
		return r;
	if (!(meta_f = file_named(x, "meta.json.lz4")) || !(meta = fetch_json(x, meta_f))) {
		if (!meta_f)
			snprintf(x->err, x->errlen, "backup %s has no meta.json.lz4", x->name);
		return -EIO;
	}
	r = cbackup_meta_load(x->m, meta, x->db, x->err, x->errlen);
	for (size_t i = 0; !r && i < x->nw; i++)
		if (x->usable[i])
			r = cjoin_database(x->c, x->m, &x->w[i], x->db, x->err, x->errlen);
	if (!r)   /* the default index on the prototypes: the chunk tables are made like them */
		r = csqlidx_defaults(x->c, x->m, x->db, NULL, NULL, x->err, x->errlen);
	if (!r)
		r = load_tables(x);
	if (!r)
		r = load_indexes(x, meta);
	if (!r)
		r = cpublish_request(x->c, x->m, x->db, true, false, &out, x->err, x->errlen);
	json_decref(out);
	json_decref(meta);
	return r;
}

int crestore_run(struct ctl *c, MYSQL *m, const char *name, const char *as, json_t **ret_manifest,
		 char *err, size_t errlen)
{
	struct rs x = { .c = c, .m = m, .name = name, .err = err, .errlen = errlen };
	snprintf(x.db, sizeof x.db, "%s", as);
	int r = cmeta_workers_all(m, &x.w, &x.nw, err, errlen);
	if (r)
		return r;
	x.usable = calloc(x.nw + 1, sizeof *x.usable);
	for (size_t i = 0; x.usable && i < x.nw; i++)
		x.usable[i] = x.w[i].enabled && chealth_usable(c, x.w[i].id, x.w[i].maint);
	r = x.usable ? steps(&x) : -ENOMEM;
	if (r == -ENOMEM && !x.usable)
		snprintf(err, errlen, "out of memory");
	*ret_manifest = x.man;
	free(x.w);
	free(x.usable);
	return r;
}
