/* ingest.c: `qservctl ingest DIR`, a whole qserv-ingest dataset through the
 * controller's API.
 *
 *   qservctl [--url URL] ingest [-j N] [--batch N] [--state FILE]
 *            [--transfer auto|file|upload] [--no-publish] [--auth-key-file F]
 *            [--validate input|loaded|none] [-q] DIR
 *
 * DIR holds metadata.json (version 12: "database" names the database JSON,
 * "tables"[] each with a "schema" table JSON and "data"[] entries of a
 * "directory" with "chunks"/"overlaps" lists (chunk_<id>.txt,
 * chunk_<id>_overlap.txt) or "files" for regular tables).  Steps: register
 * the database and tables (directors first), load the files in
 * transactions of --batch files with -j contributions in parallel (chunk
 * placement asked from the controller, rows sent to the worker as a
 * file:// URL when the worker is on this host, else uploaded), commit,
 * publish, build the director index when the database does not build it at
 * commit, create the table indexes the dataset lists ("indexes"), then
 * compare the row counts the workers hold with the input.  The CSV dialect
 * of a file comes from its table JSON, metadata.json's "formats" entry for
 * its extension, or metadata.json itself (default: TSV, \N, backslash).
 *
 * DIR may be an http(s):// URL, as qserv-ingest serves its datasets: the
 * JSON files are fetched and the workers fetch the data files themselves.
 *
 * Resuming: the state file (default DIR/.qservctl-ingest.state, or
 * ./.qservctl-ingest-<URL>.state for a URL) gets
 * "begin TOKEN" (before the transaction exists; TOKEN is also its context
 * at the controller), "open T TOKEN", "file T table path", "rows T table
 * N path" (rows the worker loaded, for --validate loaded) and
 * "commit T"/"abort T" lines, fsync'd, before and after each step.  A rerun skips files of committed
 * transactions, asks the controller about transactions left open (a
 * FINISHED one counts as committed, any other is aborted, which removes its
 * rows), so an interrupted ingest never duplicates or loses rows. */
#include "ctl.h"
#include "qserv/common/qhttpc.h"
#include "qserv/common/qjson.h"
#include "qserv/common/qlz4.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum transfer { TR_AUTO, TR_FILE, TR_UPLOAD };
/* What the table row counts are compared with: the input files' lines
 * (reads the whole input again), the rows the workers reported loading
 * (recorded in the state file), or nothing. */
enum validate { V_INPUT, V_LOADED, V_NONE };

struct tbl {
	char name[65];
	json_t *json;               /* the table JSON as read */
	bool partitioned, director;
	unsigned long long expect_rows, expect_overlap;
};

struct job {
	size_t t;                   /* index in ing.t */
	char *path;                 /* absolute path or URL (owned) */
	char *rel;                  /* relative to DIR: the resume key (owned) */
	int32_t chunk;
	bool overlap, done;
	unsigned long long bytes;
	long long loaded_rows;      /* rows the worker reported loading, -1 unknown */
};

struct ing {
	const char *url, *dir, *state_path;
	int par, batch;
	enum transfer transfer;
	enum validate validate;
	bool publish, quiet;
	char db[65];
	json_t *dbjson;
	const char *charset;
	json_t *meta;
	struct tbl *t;
	size_t nt;
	struct job *j;
	size_t nj;
	FILE *state;
	json_t *regular;            /* locations of every worker */
	json_t *chunk_loc;          /* "chunk" -> location (cache) */
	pthread_mutex_t mu;
	/* the running batch */
	size_t *batch_v, batch_n, next;
	long long trans;
	bool failed;
	char err[2048];
	/* progress */
	size_t files_done, files_total;
	unsigned long long rows, bytes;
	double t0, last_print;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A dataset given as an http(s):// URL (qserv-ingest serves its datasets
 * over HTTP): metadata is fetched, and the workers fetch the data files. */
static bool is_url(const char *s)
{
	return !strncmp(s, "http://", 7) || !strncmp(s, "https://", 8);
}

/* Downloads url into an unlinked temporary file, returned at offset 0. */
static int fetch_tmp(const char *url, char *err, size_t errlen)
{
	const char *td = getenv("TMPDIR");
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/qservctl.XXXXXX", td && *td ? td : "/tmp");
	int fd = mkstemp(path);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	unlink(path);
	if (qhttpc_download(url, fd, NULL, err, errlen)) {
		close(fd);
		return -1;
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static json_t *load_json(const char *dir, const char *name, char *err, size_t errlen)
{
	char path[PATH_MAX];
	json_error_t je;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	json_t *j;
	if (is_url(dir)) {
		int fd = fetch_tmp(path, err, errlen);
		if (fd < 0)
			return NULL;
		j = json_loadfd(fd, 0, &je);
		close(fd);
	} else {
		j = json_load_file(path, 0, &je);
	}
	if (!j)
		snprintf(err, errlen, "%s:%d: %s", path, je.line, je.text);
	else if (!json_is_object(j)) {
		snprintf(err, errlen, "%s: not a JSON object", path);
		json_decref(j);
		j = NULL;
	}
	return j;
}

static int api(struct ing *g, const char *method, const char *path, json_t *body, json_t **ret,
	       char *err, size_t errlen)
{
	char url[1024];
	snprintf(url, sizeof url, "%s%s", g->url, path);
	return qhttpc_json(method, url, body, ret, err, errlen);
}

/* -- dataset ------------------------------------------------------------- */

static int add_job(struct ing *g, size_t t, const char *dir, const char *file, int32_t chunk, bool overlap,
		   char *err, size_t errlen)
{
	struct job *v = realloc(g->j, (g->nj + 1) * sizeof *v);
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	g->j = v;
	struct job *j = &v[g->nj];
	memset(j, 0, sizeof *j);
	j->t = t, j->chunk = chunk, j->overlap = overlap;
	j->loaded_rows = -1;
	char rel[PATH_MAX], p[PATH_MAX * 2 + 8], real[PATH_MAX];
	snprintf(rel, sizeof rel, "%s%s%s", dir, *dir ? "/" : "", file);
	snprintf(p, sizeof p, "%s/%s", g->dir, rel);
	if (!is_url(g->dir)) {
		struct stat st;
		if (access(p, F_OK) < 0) {
			/* qserv-partition with out.lz4 writes chunk_<id>.txt.lz4 */
			char z[sizeof p + 4];
			snprintf(z, sizeof z, "%s.lz4", p);
			if (access(z, F_OK) == 0) {
				snprintf(p, sizeof p, "%s", z);
				snprintf(rel + strlen(rel), sizeof rel - strlen(rel), ".lz4");
			}
		}
		if (!realpath(p, real) || stat(real, &st) < 0) {
			snprintf(err, errlen, "%s: %s (listed in metadata.json)", p, strerror(errno));
			return -ENOENT;
		}
		j->bytes = (unsigned long long)st.st_size;
	}
	/* a URL: the worker fetches it and its size comes back in the reply */
	j->rel = strdup(rel);
	j->path = strdup(is_url(g->dir) ? p : real);
	if (!j->rel || !j->path) {
		free(j->rel), free(j->path);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	g->nj++;
	return 0;
}

/* A chunk number from metadata.json (a number or a numeric string). */
static int32_t chunk_of(json_t *v)
{
	if (json_is_integer(v))
		return (int32_t)json_integer_value(v);
	return json_is_string(v) ? atoi(json_string_value(v)) : -1;
}

static int add_table_data(struct ing *g, size_t ti, json_t *data, char *err, size_t errlen)
{
	size_t i, k;
	json_t *d, *v;
	json_array_foreach(data, i, d) {
		const char *dir = qjson_str(d, "directory", "");
		char name[64];
		int r;
		json_array_foreach(json_object_get(d, "chunks"), k, v) {
			int32_t c = chunk_of(v);
			snprintf(name, sizeof name, "chunk_%d.txt", c);
			if ((r = add_job(g, ti, dir, name, c, false, err, errlen)))
				return r;
		}
		json_array_foreach(json_object_get(d, "overlaps"), k, v) {
			int32_t c = chunk_of(v);
			snprintf(name, sizeof name, "chunk_%d_overlap.txt", c);
			if ((r = add_job(g, ti, dir, name, c, true, err, errlen)))
				return r;
		}
		json_array_foreach(json_object_get(d, "files"), k, v) {
			if (!json_is_string(v)) {
				snprintf(err, errlen, "table %s: 'files' must list file names", g->t[ti].name);
				return -EINVAL;
			}
			if ((r = add_job(g, ti, dir, json_string_value(v), -1, false, err, errlen)))
				return r;
		}
	}
	return 0;
}

static int read_dataset(struct ing *g, char *err, size_t errlen)
{
	if (!(g->meta = load_json(g->dir, "metadata.json", err, errlen)))
		return -EINVAL;
	long long ver = qjson_int(g->meta, "version", 0);
	if (ver != 12)
		fprintf(stderr, "qservctl: warning: metadata.json version %lld (this tool follows version 12)\n", ver);
	g->charset = qjson_str(g->meta, "charset_name", "latin1");
	const char *dbf = qjson_str(g->meta, "database", NULL);
	json_t *tables = json_object_get(g->meta, "tables");
	if (!dbf || !json_is_array(tables)) {
		snprintf(err, errlen, "%s/metadata.json: needs \"database\" and \"tables\"", g->dir);
		return -EINVAL;
	}
	if (!(g->dbjson = load_json(g->dir, dbf, err, errlen)))
		return -EINVAL;
	snprintf(g->db, sizeof g->db, "%s", qjson_str(g->dbjson, "database", ""));
	size_t n = json_array_size(tables);
	g->t = calloc(n ? n : 1, sizeof *g->t);
	/* directors first: children name them when they are registered */
	for (int pass = 0; pass < 2; pass++) {
		size_t i;
		json_t *e;
		json_array_foreach(tables, i, e) {
			const char *sf = qjson_str(e, "schema", NULL);
			json_t *tj = sf ? load_json(g->dir, sf, err, errlen) : NULL;
			if (!tj) {
				if (!sf)
					snprintf(err, errlen, "metadata.json: table %zu has no \"schema\"", i + 1);
				return -EINVAL;
			}
			const char *dt = qjson_str(tj, "director_table", "");
			const char *name = qjson_str(tj, "table", "");
			bool part = qjson_int(tj, "is_partitioned", 0) != 0;
			bool director = part && (!*dt || !strcmp(dt, name));
			if ((pass == 0) != director) {
				json_decref(tj);
				continue;
			}
			struct tbl *t = &g->t[g->nt];
			snprintf(t->name, sizeof t->name, "%s", name);
			t->json = tj, t->partitioned = part, t->director = director;
			json_object_set_new(tj, "database", json_string(g->db));
			int r = add_table_data(g, g->nt++, json_object_get(e, "data"), err, errlen);
			if (r)
				return r;
		}
	}
	return 0;
}

struct nl {
	unsigned long long n;
	char last;
};

static int count_nl(void *ud, const char *data, size_t len)
{
	struct nl *c = ud;
	for (const char *p = data, *end = data + len; (p = memchr(p, '\n', (size_t)(end - p))); p++)
		c->n++;
	c->last = data[len - 1];
	return 0;
}

/* Rows in a file: its line terminators (plus a last unterminated line);
 * LZ4-framed files are counted decompressed. */
static int count_rows(const char *path, unsigned long long *ret)
{
	char err[512];
	int fd = is_url(path) ? fetch_tmp(path, err, sizeof err) : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return is_url(path) ? -EIO : -errno;
	if (qlz4_is_frame(fd)) {
		struct nl c = { 0, '\n' };
		char err[256] = "";
		int r = qlz4_stream(fd, count_nl, &c, err, sizeof err);
		close(fd);
		if (!r)
			*ret = c.n + (c.last != '\n');
		return r;
	}
	static __thread char buf[1 << 20];
	unsigned long long n = 0;
	char last = '\n';
	ssize_t k;
	while ((k = read(fd, buf, sizeof buf)) > 0) {
		for (char *p = buf, *end = buf + k; (p = memchr(p, '\n', (size_t)(end - p))); p++)
			n++;
		last = buf[k - 1];
	}
	close(fd);
	if (k < 0)
		return -EIO;
	*ret = n + (last != '\n');
	return 0;
}

/* -- state file ---------------------------------------------------------- */

static int state_write(struct ing *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int state_write(struct ing *g, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(g->state, fmt, ap);
	va_end(ap);
	if (fflush(g->state) || fsync(fileno(g->state)))
		return -errno;
	return 0;
}

/* The job of (table, rel) through a hash of "table/rel" -> index (jansson's
 * object), so replaying a state file stays linear in its length. */
static struct job *find_job(struct ing *g, json_t *index, const char *table, const char *rel)
{
	char key[PATH_MAX + 80];
	snprintf(key, sizeof key, "%s/%s", table, rel);
	json_t *v = json_object_get(index, key);
	return v ? &g->j[json_integer_value(v)] : NULL;
}

static json_t *job_index(struct ing *g)
{
	json_t *index = json_object();
	char key[PATH_MAX + 80];
	for (size_t i = 0; i < g->nj; i++) {
		snprintf(key, sizeof key, "%s/%s", g->t[g->j[i].t].name, g->j[i].rel);
		json_object_set_new(index, key, json_integer((json_int_t)i));
	}
	return index;
}

/* Replays the state file: files of committed transactions are done;
 * transactions left open are resolved with the controller. */
static int state_resume(struct ing *g, char *err, size_t errlen)
{
	FILE *f = fopen(g->state_path, "r");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	char line[PATH_MAX + 200];
	long long *open = NULL;
	size_t nopen = 0;
	struct { long long tid; struct job *j; long long rows; } *files = NULL;
	size_t nfiles = 0;
	char (*begun)[128] = NULL;
	size_t nbegun = 0;
	int r = 0;
	json_t *index = job_index(g);
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		long long tid, nrows;
		char table[65], tok[128];
		int off = 0;
		if (sscanf(line, "begin %127s", tok) == 1) {
			begun = realloc(begun, (nbegun + 1) * sizeof *begun);
			snprintf(begun[nbegun++], sizeof *begun, "%s", tok);
			continue;
		}
		if (sscanf(line, "open %lld %127s", &tid, tok) == 2)
			for (size_t i = 0; i < nbegun; i++)
				if (!strcmp(begun[i], tok))
					begun[i][0] = '\0'; /* it got its id: handled as "open" */
		if (sscanf(line, "open %lld", &tid) == 1) {
			open = realloc(open, (nopen + 1) * sizeof *open);
			open[nopen++] = tid;
		} else if (sscanf(line, "file %lld %64s %n", &tid, table, &off) == 2 && off) {
			struct job *j = find_job(g, index, table, line + off);
			if (j) {
				files = realloc(files, (nfiles + 1) * sizeof *files);
				files[nfiles].tid = tid, files[nfiles].rows = -1, files[nfiles++].j = j;
			}
		} else if (sscanf(line, "rows %lld %64s %lld %n", &tid, table, &nrows, &off) == 3 && off) {
			struct job *j = find_job(g, index, table, line + off);
			for (size_t k = nfiles; j && k-- > 0;)
				if (files[k].j == j && files[k].tid == tid) {
					files[k].rows = nrows;
					break;
				}
		} else if (sscanf(line, "commit %lld", &tid) == 1 || sscanf(line, "abort %lld", &tid) == 1) {
			bool commit = line[0] == 'c';
			for (size_t i = 0; i < nopen; i++)
				if (open[i] == tid)
					open[i] = commit ? -tid : 0;
		}
	}
	fclose(f);
	json_decref(index);
	for (size_t i = 0; i < nopen && !r; i++) {
		long long tid = open[i];
		if (tid > 0) {
			/* left open by an interrupted run: ask the controller */
			char path[64];
			json_t *rep = NULL;
			snprintf(path, sizeof path, "/ingest/trans/%lld", tid);
			r = api(g, "GET", path, NULL, &rep, err, errlen);
			if (r)
				break;
			char st[17];
			snprintf(st, sizeof st, "%s", qjson_str(json_object_get(rep, "transaction"), "state", ""));
			bool finished = !strcmp(st, "FINISHED");
			json_decref(rep);
			if (!finished) {
				snprintf(path, sizeof path, "/ingest/trans/%lld?abort=1", tid);
				if (strcmp(st, "ABORTED") && (r = api(g, "PUT", path, NULL, NULL, err, errlen))) {
					/* a commit still running at the controller may have won */
					snprintf(path, sizeof path, "/ingest/trans/%lld", tid);
					if (api(g, "GET", path, NULL, &rep, err, errlen))
						break;
					finished = !strcmp(qjson_str(json_object_get(rep, "transaction"), "state", ""),
							   "FINISHED");
					json_decref(rep);
					if (!finished)
						break;
					r = 0;
				} else {
					fprintf(stderr, "qservctl: transaction %lld of an interrupted run aborted\n", tid);
				}
			}
			state_write(g, "%s %lld\n", finished ? "commit" : "abort", tid);
			open[i] = finished ? -tid : 0;
			tid = open[i];
		}
		if (tid < 0)
			for (size_t k = 0; k < nfiles; k++)
				if (files[k].tid == -tid) {
					files[k].j->done = true;
					files[k].j->loaded_rows = files[k].rows;
				}
	}
	/* announced but never recorded: find them by their context and abort */
	size_t pending = 0;
	for (size_t i = 0; i < nbegun; i++)
		pending += begun[i][0] != '\0';
	if (!r && pending) {
		char path[160];
		json_t *rep = NULL, *t;
		size_t i;
		snprintf(path, sizeof path, "/ingest/trans?database=%s", g->db);
		r = api(g, "GET", path, NULL, &rep, err, errlen);
		json_array_foreach(json_object_get(rep, "transactions"), i, t) {
			const char *tok = qjson_str(json_object_get(t, "context"), "qservctl", "");
			const char *st = qjson_str(t, "state", "");
			long long tid = qjson_int(t, "id", 0);
			for (size_t k = 0; !r && *tok && k < nbegun; k++) {
				if (strcmp(begun[k], tok) || !strcmp(st, "ABORTED") || !strcmp(st, "FINISHED"))
					continue;
				snprintf(path, sizeof path, "/ingest/trans/%lld?abort=1", tid);
				if (!(r = api(g, "PUT", path, NULL, NULL, err, errlen))) {
					state_write(g, "abort %lld\n", tid);
					fprintf(stderr, "qservctl: transaction %lld of an interrupted run aborted\n", tid);
				}
			}
		}
		json_decref(rep);
	}
	free(begun);
	free(open);
	free(files);
	return r;
}

/* -- loading ------------------------------------------------------------- */

static bool local_host(const char *h)
{
	return !strncmp(h, "127.", 4) || !strcmp(h, "localhost") || !strcmp(h, "::1");
}

/* A CSV dialect key for a file: the table JSON's, else metadata.json's
 * "formats" entry for the file's extension (qserv-ingest: "formats":
 * {"txt": {"fields_terminated_by": ","}}), else metadata.json's own, else
 * unset (the worker's default: Qserv's TSV). */
static const char *dialect(struct ing *g, struct tbl *t, struct job *j, const char *key)
{
	const char *v = qjson_str(t->json, key, NULL);
	if (v)
		return v;
	char ext[16] = "";
	const char *name = strrchr(j->rel, '/') ? strrchr(j->rel, '/') + 1 : j->rel;
	size_t n = strlen(name);
	if (n > 4 && !strcmp(name + n - 4, ".lz4"))
		n -= 4;
	for (size_t i = n; i-- > 0;)
		if (name[i] == '.') {
			if (n - i - 1 < sizeof ext)
				snprintf(ext, sizeof ext, "%.*s", (int)(n - i - 1), name + i + 1);
			break;
		}
	json_t *fmt = json_object_get(json_object_get(g->meta, "formats"), ext);
	v = qjson_str(fmt, key, NULL);
	return v ? v : qjson_str(g->meta, key, NULL);
}

/* Sends one file to one worker location. */
static int contribute(struct ing *g, struct job *j, json_t *loc, unsigned long long *ret_rows,
		      unsigned long long *ret_bytes, char *err, size_t errlen)
{
	struct tbl *t = &g->t[j->t];
	const char *host = qjson_str(loc, "http_host", qjson_str(loc, "host", ""));
	int port = (int)qjson_int(loc, "http_port", qjson_int(loc, "port", 0));
	bool url_mode = is_url(j->path);
	bool upload = !url_mode && (g->transfer == TR_UPLOAD || (g->transfer == TR_AUTO && !local_host(host)));
	static const char *const dk[] = { "fields_terminated_by", "fields_enclosed_by", "fields_escaped_by",
					  "lines_terminated_by" };
	json_t *rep = NULL;
	char url[PATH_MAX + 512], e[1500];
	int r;
	if (!upload) {
		json_t *body = json_pack("{s:I, s:s, s:i, s:i, s:s, s:s}", "transaction_id", (json_int_t)g->trans,
					 "table", t->name, "chunk", j->chunk, "overlap", j->overlap ? 1 : 0,
					 "charset_name", g->charset, "database", g->db);
		char fu[PATH_MAX + 8];
		snprintf(fu, sizeof fu, "%s%s", url_mode ? "" : "file://", j->path);
		json_object_set_new(body, "url", json_string(fu));
		for (int i = 0; i < 4; i++) {
			const char *v = dialect(g, t, j, dk[i]);
			if (v)
				json_object_set_new(body, dk[i], json_string(v));
		}
		snprintf(url, sizeof url, "http://%s:%d/ingest/file", host, port);
		r = qhttpc_json("POST", url, body, &rep, e, sizeof e);
		json_decref(body);
	} else {
		size_t off = (size_t)snprintf(url, sizeof url,
			"http://%s:%d/ingest/csv?transaction_id=%lld&table=%s&chunk=%d&overlap=%d&database=%s&charset_name=%s",
			host, port, g->trans, t->name, j->chunk, j->overlap ? 1 : 0, g->db, g->charset);
		for (int i = 0; i < 4; i++) {
			const char *v = dialect(g, t, j, dk[i]);
			char *ev = v ? qhttpc_escape(v) : NULL;
			if (ev)
				off += (size_t)snprintf(url + off, sizeof url - off, "&%s=%s", dk[i], ev);
			free(ev);
		}
		r = qhttpc_post_file(url, j->path, &rep, e, sizeof e);
	}
	if (r)
		snprintf(err, errlen, "%s (table %s) -> %s: %s", j->rel, t->name, qjson_str(loc, "worker", host), e);
	else {
		*ret_rows = (unsigned long long)qjson_int(json_object_get(rep, "contrib"), "num_rows", 0);
		*ret_bytes = (unsigned long long)qjson_int(json_object_get(rep, "contrib"), "num_bytes", 0);
	}
	json_decref(rep);
	return r;
}

/* Where chunk c goes (cached: placement is stable). */
static json_t *chunk_location(struct ing *g, int32_t c, char *err, size_t errlen)
{
	char key[16];
	snprintf(key, sizeof key, "%d", c);
	pthread_mutex_lock(&g->mu);
	json_t *loc = json_object_get(g->chunk_loc, key);
	json_incref(loc);
	pthread_mutex_unlock(&g->mu);
	if (loc)
		return loc;
	json_t *body = json_pack("{s:I, s:i}", "transaction_id", (json_int_t)g->trans, "chunk", c), *rep = NULL;
	int r = api(g, "POST", "/ingest/chunk", body, &rep, err, errlen);
	json_decref(body);
	if (r)
		return NULL;
	loc = json_incref(json_object_get(rep, "location"));
	json_decref(rep);
	pthread_mutex_lock(&g->mu);
	json_object_set(g->chunk_loc, key, loc);
	pthread_mutex_unlock(&g->mu);
	return loc;
}

static void progress(struct ing *g, bool final)
{
	double t = now_s(), dt = t - g->t0;
	if (g->quiet || (!final && t - g->last_print < 1.0))
		return;
	g->last_print = t;
	fprintf(stderr, "qservctl: %s files %zu/%zu, rows %llu, %.1f MB, %.1f MB/s, %.0f rows/s\n",
		final ? "loaded" : "progress", g->files_done, g->files_total, g->rows, (double)g->bytes / 1e6,
		dt > 0 ? (double)g->bytes / 1e6 / dt : 0.0, dt > 0 ? (double)g->rows / dt : 0.0);
}

static void *loader(void *arg)
{
	struct ing *g = arg;
	for (;;) {
		pthread_mutex_lock(&g->mu);
		if (g->failed || g->next >= g->batch_n) {
			pthread_mutex_unlock(&g->mu);
			return NULL;
		}
		struct job *j = &g->j[g->batch_v[g->next++]];
		pthread_mutex_unlock(&g->mu);
		char err[2048] = "";
		unsigned long long rows = 0, n, bytes = 0;
		int r = 0;
		if (g->t[j->t].partitioned) {
			json_t *loc = chunk_location(g, j->chunk, err, sizeof err);
			r = loc ? contribute(g, j, loc, &rows, &bytes, err, sizeof err) : -EIO;
			json_decref(loc);
		} else {
			size_t i;
			json_t *loc;
			json_array_foreach(g->regular, i, loc) {
				if ((r = contribute(g, j, loc, &n, &bytes, err, sizeof err)))
					break;
				rows = n; /* the same rows on every worker */
			}
		}
		pthread_mutex_lock(&g->mu);
		if (r && !g->failed) {
			g->failed = true;
			snprintf(g->err, sizeof g->err, "%s", err);
		} else if (!r) {
			g->files_done++;
			g->rows += rows;
			j->loaded_rows = (long long)rows;
			/* informational (a lost line only means counting that file):
			 * flushed, not fsync'd, so loaders do not queue on the disk */
			fprintf(g->state, "rows %lld %s %llu %s\n", g->trans, g->t[j->t].name, rows, j->rel);
			fflush(g->state);
			g->bytes += j->bytes ? j->bytes : bytes;
			progress(g, false);
		}
		pthread_mutex_unlock(&g->mu);
	}
}

/* One transaction over the files batch_v[0..batch_n).  The transaction is
 * announced in the state file ("begin TOKEN") before it exists and created
 * with context {"qservctl": TOKEN}, so a run killed between the two can
 * still find and abort it. */
static int run_batch(struct ing *g, char *err, size_t errlen)
{
	char token[128], host[64] = "";
	static unsigned seq;
	gethostname(host, sizeof host - 1);
	snprintf(token, sizeof token, "%s-%d-%lld-%u", host, (int)getpid(), (long long)time(NULL), ++seq);
	int r = state_write(g, "begin %s\n", token);
	if (r) {
		snprintf(err, errlen, "%s: %s", g->state_path, strerror(-r));
		return r;
	}
	json_t *body = json_pack("{s:s, s:{s:s}}", "database", g->db, "context", "qservctl", token), *rep = NULL;
	r = api(g, "POST", "/ingest/trans", body, &rep, err, errlen);
	json_decref(body);
	if (r)
		return r;
	g->trans = qjson_int(json_object_get(rep, "transaction"), "id", 0);
	json_decref(rep);
	if ((r = state_write(g, "open %lld %s\n", g->trans, token)))
		goto write_failed;
	for (size_t i = 0; i < g->batch_n; i++) {
		struct job *j = &g->j[g->batch_v[i]];
		if ((r = state_write(g, "file %lld %s %s\n", g->trans, g->t[j->t].name, j->rel)))
			goto write_failed;
	}
	g->next = 0;
	g->failed = false;
	int nth = g->par < (int)g->batch_n ? g->par : (int)g->batch_n;
	pthread_t th[64];
	for (int i = 0; i < nth; i++)
		pthread_create(&th[i], NULL, loader, g);
	for (int i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	char path[80];
	if (g->failed) {
		snprintf(err, errlen, "%s", g->err);
		snprintf(path, sizeof path, "/ingest/trans/%lld?abort=1", g->trans);
		char e2[512];
		if (!api(g, "PUT", path, NULL, NULL, e2, sizeof e2))
			state_write(g, "abort %lld\n", g->trans);
		else
			fprintf(stderr, "qservctl: aborting transaction %lld: %s\n", g->trans, e2);
		return -EIO;
	}
	snprintf(path, sizeof path, "/ingest/trans/%lld?abort=0", g->trans);
	if ((r = api(g, "PUT", path, NULL, NULL, err, errlen)))
		return r;
	for (size_t i = 0; i < g->batch_n; i++)
		g->j[g->batch_v[i]].done = true;
	return state_write(g, "commit %lld\n", g->trans);
write_failed:
	snprintf(err, errlen, "%s: %s", g->state_path, strerror(-r));
	return r;
}

static int load_all(struct ing *g, char *err, size_t errlen)
{
	g->batch_v = calloc(g->nj ? g->nj : 1, sizeof *g->batch_v);
	g->files_total = 0;
	for (size_t i = 0; i < g->nj; i++)
		g->files_total += !g->j[i].done;
	size_t i = 0;
	int r = 0;
	while (!r) {
		g->batch_n = 0;
		for (; i < g->nj && g->batch_n < (size_t)g->batch; i++)
			if (!g->j[i].done)
				g->batch_v[g->batch_n++] = i;
		if (!g->batch_n)
			break;
		r = run_batch(g, err, errlen);
	}
	progress(g, true);
	return r;
}

/* -- registration, publish, validation ----------------------------------- */

static int is_published(struct ing *g, bool *ret, char *err, size_t errlen)
{
	json_t *rep = NULL;
	int r = api(g, "GET", "/ingest/database", NULL, &rep, err, errlen);
	if (r)
		return r;
	size_t i;
	json_t *d;
	*ret = false;
	json_array_foreach(json_object_get(rep, "databases"), i, d)
		if (!strcmp(qjson_str(d, "database", ""), g->db))
			*ret = qjson_int(d, "is_published", 0) != 0;
	json_decref(rep);
	return 0;
}

static int register_all(struct ing *g, char *err, size_t errlen)
{
	int r = api(g, "POST", "/ingest/database", g->dbjson, NULL, err, errlen);
	for (size_t i = 0; !r && i < g->nt; i++)
		r = api(g, "POST", "/ingest/table", g->t[i].json, NULL, err, errlen);
	return r;
}

/* The table indexes metadata.json lists ("indexes": ["idx_T.json"], each
 * a POST /replication/sql/index request); idempotent. */
static int create_indexes(struct ing *g, char *err, size_t errlen)
{
	size_t i, k;
	json_t *e, *f;
	json_array_foreach(json_object_get(g->meta, "tables"), i, e) {
		json_array_foreach(json_object_get(e, "indexes"), k, f) {
			if (!json_is_string(f))
				continue;
			json_t *ix = load_json(g->dir, json_string_value(f), err, errlen);
			if (!ix)
				return -EINVAL;
			json_object_set_new(ix, "database", json_string(g->db));
			int r = api(g, "POST", "/replication/sql/index", ix, NULL, err, errlen);
			json_decref(ix);
			if (r)
				return r;
		}
	}
	return 0;
}

static int validate(struct ing *g, char *err, size_t errlen)
{
	if (g->validate == V_NONE) {
		if (!g->quiet)
			fprintf(stderr, "qservctl: row counts not validated (--validate none)\n");
		return 0;
	}
	for (size_t i = 0; i < g->nj; i++) {
		unsigned long long n = 0;
		int r = 0;
		if (g->validate == V_LOADED && g->j[i].loaded_rows >= 0)
			n = (unsigned long long)g->j[i].loaded_rows;
		else
			r = count_rows(g->j[i].path, &n);
		if (r) {
			snprintf(err, errlen, "%s: %s", g->j[i].path, strerror(-r));
			return r;
		}
		if (g->j[i].overlap)
			g->t[g->j[i].t].expect_overlap += n;
		else
			g->t[g->j[i].t].expect_rows += n;
	}
	size_t nworkers = json_array_size(g->regular);
	int bad = 0;
	for (size_t i = 0; i < g->nt; i++) {
		struct tbl *t = &g->t[i];
		char path[200];
		json_t *rep = NULL;
		snprintf(path, sizeof path, "/ingest/rows/%s/%s", g->db, t->name);
		int r = api(g, "GET", path, NULL, &rep, err, errlen);
		if (r)
			return r;
		unsigned long long rows = (unsigned long long)qjson_int(rep, "rows", -1);
		unsigned long long orows = (unsigned long long)qjson_int(rep, "overlap_rows", -1);
		unsigned long long want = t->partitioned ? t->expect_rows : t->expect_rows * nworkers;
		bool ok = rows == want && (!t->director || orows == t->expect_overlap);
		if (!t->partitioned) {
			/* a regular table: a full copy on every worker, not just the right total */
			const char *wid;
			json_t *n;
			json_object_foreach(json_object_get(rep, "workers"), wid, n) {
				if ((unsigned long long)json_integer_value(n) != t->expect_rows) {
					printf("%s.%s: %lld rows on %s, input %llu\n", g->db, t->name,
					       (long long)json_integer_value(n), wid, t->expect_rows);
					ok = false;
				}
			}
		}
		json_decref(rep);
		printf("%s.%s: %llu rows%s, input %llu%s: %s\n", g->db, t->name, rows,
		       t->partitioned ? "" : " over all workers", want, t->director ? " (+overlap)" : "",
		       ok ? "ok" : "MISMATCH");
		if (t->director && orows != t->expect_overlap)
			printf("%s.%s: %llu overlap rows, input %llu\n", g->db, t->name, orows, t->expect_overlap);
		bad += !ok;
	}
	if (bad) {
		snprintf(err, errlen, "%d table(s) do not hold the input's row count", bad);
		return -EIO;
	}
	return 0;
}

static int run(struct ing *g, char *err, size_t errlen)
{
	int r = read_dataset(g, err, errlen);
	bool published = false;
	if (r || (r = is_published(g, &published, err, errlen)))
		return r;
	json_t *rep = NULL;
	if ((r = api(g, "GET", "/ingest/regular", NULL, &rep, err, errlen)))
		return r;
	g->regular = json_incref(json_object_get(rep, "locations"));
	json_decref(rep);
	if (!published) {
		if ((r = register_all(g, err, errlen)))
			return r;
		if (!(g->state = fopen(g->state_path, "a"))) {
			snprintf(err, errlen, "%s: %s", g->state_path, strerror(errno));
			return -errno;
		}
		if ((r = state_resume(g, err, errlen)) || (r = load_all(g, err, errlen)))
			return r;
		if (g->publish) {
			char path[100];
			snprintf(path, sizeof path, "/ingest/database/%s", g->db);
			if ((r = api(g, "PUT", path, NULL, NULL, err, errlen)))
				return r;
			if (!qjson_int(g->dbjson, "auto_build_secondary_index", 1)) {
				json_t *b = json_pack("{s:s}", "database", g->db);
				r = api(g, "POST", "/ingest/index/secondary", b, NULL, err, errlen);
				json_decref(b);
				if (r)
					return r;
			}
			if ((r = create_indexes(g, err, errlen)))
				return r;
			if (!g->quiet)
				fprintf(stderr, "qservctl: database %s published\n", g->db);
		}
	} else {
		if (!g->quiet)
			fprintf(stderr, "qservctl: database %s is already published: validating only\n", g->db);
		/* the loaded row counts of earlier runs are in the state file */
		if (g->validate == V_LOADED && access(g->state_path, F_OK) == 0) {
			if (!(g->state = fopen(g->state_path, "a"))) {
				snprintf(err, errlen, "%s: %s", g->state_path, strerror(errno));
				return -errno;
			}
			if ((r = state_resume(g, err, errlen)))
				return r;
		}
	}
	return validate(g, err, errlen);
}

static int usage(void)
{
	fprintf(stderr, "usage: qservctl [--url URL] ingest [-j N] [--batch N] [--state FILE]\n"
			"                [--transfer auto|file|upload] [--no-publish] [--auth-key-file F]\n"
			"                [--validate input|loaded|none] [-q] DIR\n"
			"  The controller URL defaults to $QSERV_INGEST_URL, the auth key to $QSERV_AUTH_KEY.\n");
	return 2;
}

int ctl_ingest(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, 0, 'u' }, { "jobs", required_argument, 0, 'j' },
		{ "batch", required_argument, 0, 'b' }, { "state", required_argument, 0, 's' },
		{ "transfer", required_argument, 0, 't' }, { "no-publish", no_argument, 0, 'n' },
		{ "quiet", no_argument, 0, 'q' }, { "auth-key-file", required_argument, 0, 'k' },
		{ "validate", required_argument, 0, 'V' },
		{ 0, 0, 0, 0 },
	};
	struct ing g = { .par = 4, .batch = 64, .publish = true };
	g.url = ctl_url ? ctl_url : getenv("QSERV_INGEST_URL");
	const char *keyfile = NULL;
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "j:q", opts, NULL)) != -1) {
		switch (o) {
		case 'u': g.url = optarg; break;
		case 'j': g.par = atoi(optarg); break;
		case 'b': g.batch = atoi(optarg); break;
		case 's': g.state_path = optarg; break;
		case 't':
			if (!strcmp(optarg, "auto")) g.transfer = TR_AUTO;
			else if (!strcmp(optarg, "file")) g.transfer = TR_FILE;
			else if (!strcmp(optarg, "upload")) g.transfer = TR_UPLOAD;
			else return usage();
			break;
		case 'n': g.publish = false; break;
		case 'q': g.quiet = true; break;
		case 'k': keyfile = optarg; break;
		case 'V':
			if (!strcmp(optarg, "input")) g.validate = V_INPUT;
			else if (!strcmp(optarg, "loaded")) g.validate = V_LOADED;
			else if (!strcmp(optarg, "none")) g.validate = V_NONE;
			else return usage();
			break;
		default: return usage();
		}
	}
	if (optind + 1 != argc || g.par < 1 || g.par > 64 || g.batch < 1)
		return usage();
	if (!g.url || !*g.url) {
		fprintf(stderr, "qservctl ingest: no controller URL (--url or QSERV_INGEST_URL)\n");
		return 2;
	}
	char dir[PATH_MAX], sp[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", argv[optind]);
	for (size_t n = strlen(dir); n > 1 && dir[n - 1] == '/'; n--)
		dir[n - 1] = '\0';
	g.dir = dir;
	if (!g.state_path && is_url(g.dir)) {
		/* a URL cannot hold the state: keep it here, named after the URL */
		size_t n = (size_t)snprintf(sp, sizeof sp, ".qservctl-ingest-");
		for (const char *c = g.dir; *c && n + 7 < sizeof sp; c++)
			sp[n++] = isalnum((unsigned char)*c) ? *c : '_';
		snprintf(sp + n, sizeof sp - n, ".state");
		g.state_path = sp;
	} else if (!g.state_path) {
		snprintf(sp, sizeof sp, "%s/.qservctl-ingest.state", g.dir);
		g.state_path = sp;
	}
	pthread_mutex_init(&g.mu, NULL);
	g.chunk_loc = json_object();
	g.t0 = now_s();
	qhttpc_init();
	char err[2048] = "", key[256] = "";
	if (keyfile) {
		FILE *kf = fopen(keyfile, "r");
		if (!kf || !fgets(key, sizeof key, kf)) {
			fprintf(stderr, "qservctl ingest: %s: cannot read the auth key\n", keyfile);
			if (kf)
				fclose(kf);
			return 2;
		}
		fclose(kf);
		key[strcspn(key, "\r\n")] = '\0';
	}
	qhttpc_set_auth_key(keyfile ? key : getenv("QSERV_AUTH_KEY"));
	int r = run(&g, err, sizeof err);
	if (r)
		fprintf(stderr, "qservctl ingest: %s\n", err);
	if (g.state)
		fclose(g.state);
	for (size_t i = 0; i < g.nt; i++)
		json_decref(g.t[i].json);
	free(g.t);
	for (size_t i = 0; i < g.nj; i++)
		free(g.j[i].rel), free(g.j[i].path);
	free(g.j);
	free(g.batch_v);
	json_decref(g.meta);
	json_decref(g.dbjson);
	json_decref(g.regular);
	json_decref(g.chunk_loc);
	return r ? 1 : 0;
}
