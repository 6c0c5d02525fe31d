/* dataset.c: reading a qserv-ingest dataset: metadata.json, the database
 * and table JSON files, one job per input file (chunk, overlap or regular
 * file; a chunk file qserv-partition wrote LZ4-framed as .txt.lz4 is found
 * too), and counting an input file's records for validation (with the
 * file's CSV dialect: records.h).
 *
 * A dataset given as an http(s):// URL (qserv-ingest serves its datasets
 * over HTTP): the JSON files are fetched here, the data files are fetched
 * by the workers themselves (their size comes back in the reply).
 *
 * Tables are kept in registration order: directors, then children and
 * regular tables, then match tables (Qserv's ref-match tables: a table
 * JSON with director_table2; the controller checks both their directors
 * exist).  A match table's chunk files load like a child's: no overlaps.
 * Its row count is the records of its chunk files: a match whose two
 * objects lie in different chunks is one record in each chunk file, and
 * one row in each chunk table on the workers, so the two counts agree. */
#include "internal.h"
#include "records.h"

#include "errbuf.h"
#include "qserv/common/qhttpc.h"
#include "qserv/common/qjson.h"
#include "qserv/common/qlz4.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool ldr_is_url(const char *s)
{
	return !strncmp(s, "http://", 7) || !strncmp(s, "https://", 8);
}

/* Downloads url into an unlinked temporary file, returned at offset 0;
 * -1 with err filled on failure. */
static int fetch_tmp(const char *url, char *err, size_t errlen)
{
	const char *td = getenv("TMPDIR");
	char path[PATH_MAX];
	if (snprintf(path, sizeof path, "%s/qservctl.XXXXXX", td && *td ? td : "/tmp") >= (int)sizeof path) {
		errbuf_printf(err, errlen, "TMPDIR: path too long");
		return -1;
	}
	int fd = mkstemp(path);
	if (fd < 0) {
		errbuf_printf(err, errlen, "%s: %s", path, strerror(errno));
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

json_t *ldr_load_json(const char *dir, const char *name, char *err, size_t errlen)
{
	char path[PATH_MAX];
	json_error_t je;
	if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) {
		errbuf_printf(err, errlen, "%s/%s: path too long", dir, name);
		return NULL;
	}
	json_t *j;
	if (ldr_is_url(dir)) {
		int fd = fetch_tmp(path, err, errlen);
		if (fd < 0)
			return NULL;
		j = json_loadfd(fd, 0, &je);
		close(fd);
	} else {
		j = json_load_file(path, 0, &je);
	}
	if (!j)
		errbuf_printf(err, errlen, "%s:%d: %s", path, je.line, je.text);
	else if (!json_is_object(j)) {
		errbuf_printf(err, errlen, "%s: not a JSON object", path);
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* The local file behind DIR/rel: its real path and size, or the
 * chunk_<id>.txt.lz4 qserv-partition writes with out.lz4 (rel then gets
 * the ".lz4" too). */
static int local_file(struct ing *g, char *rel, size_t rellen, char *ret_real,
		      unsigned long long *ret_bytes, char *err, size_t errlen)
{
	char p[PATH_MAX + 8];
	struct stat st;
	int n = snprintf(p, sizeof p, "%s/%s", g->dir, rel);
	if (n < 0 || (size_t)n >= sizeof p - 4) {
		errbuf_printf(err, errlen, "%s/%s: path too long", g->dir, rel);
		return -ENAMETOOLONG;
	}
	if (access(p, F_OK) < 0) {
		memcpy(p + n, ".lz4", 5);
		if (access(p, F_OK) == 0 && strlen(rel) + 4 < rellen)
			strcat(rel, ".lz4");
		else
			p[n] = '\0';
	}
	if (!realpath(p, ret_real) || stat(ret_real, &st) < 0) {
		errbuf_printf(err, errlen, "%s: %s (listed in metadata.json)", p, strerror(errno));
		return -ENOENT;
	}
	*ret_bytes = (unsigned long long)st.st_size;
	return 0;
}

static int add_job(struct ing *g, size_t t, const char *dir, const char *file, int32_t chunk, bool overlap,
		   char *err, size_t errlen)
{
	struct job *v = realloc(g->j, (g->nj + 1) * sizeof *v);
	if (!v) {
		errbuf_printf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	g->j = v;
	struct job *j = &v[g->nj];
	memset(j, 0, sizeof *j);
	j->t = t, j->chunk = chunk, j->overlap = overlap;
	j->loaded_rows = -1;
	char rel[PATH_MAX], real[PATH_MAX];
	if (snprintf(rel, sizeof rel, "%s%s%s", dir, *dir ? "/" : "", file) >= (int)sizeof rel) {
		errbuf_printf(err, errlen, "%s/%s: path too long (listed in metadata.json)", dir, file);
		return -ENAMETOOLONG;
	}
	char *path = NULL;
	if (ldr_is_url(g->dir)) {
		/* the worker fetches it and its size comes back in the reply */
		if (asprintf(&path, "%s/%s", g->dir, rel) < 0)
			path = NULL;
	} else {
		int r = local_file(g, rel, sizeof rel, real, &j->bytes, err, errlen);
		if (r)
			return r;
		path = strdup(real);
	}
	j->rel = strdup(rel);
	j->path = path;
	if (!j->rel || !j->path) {
		free(j->rel), free(j->path);
		errbuf_printf(err, errlen, "out of memory");
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
			if (g->t[ti].match) {
				errbuf_printf(err, errlen, "table %s: a match table has no overlap files "
					      "(metadata.json lists chunk_%d_overlap.txt)", g->t[ti].name, c);
				return -EINVAL;
			}
			snprintf(name, sizeof name, "chunk_%d_overlap.txt", c);
			if ((r = add_job(g, ti, dir, name, c, true, err, errlen)))
				return r;
		}
		json_array_foreach(json_object_get(d, "files"), k, v) {
			if (!json_is_string(v)) {
				errbuf_printf(err, errlen, "table %s: 'files' must list file names", g->t[ti].name);
				return -EINVAL;
			}
			if ((r = add_job(g, ti, dir, json_string_value(v), -1, false, err, errlen)))
				return r;
		}
	}
	return 0;
}

int ldr_table_pass(json_t *tj)
{
	const char *dt = qjson_str(tj, "director_table", "");
	const char *name = qjson_str(tj, "table", "");
	if (qjson_int(tj, "is_partitioned", 0) == 0)
		return LDR_PASS_OTHERS;
	if (*qjson_str(tj, "director_table2", ""))
		return LDR_PASS_MATCHES;
	return !*dt || !strcmp(dt, name) ? LDR_PASS_DIRECTORS : LDR_PASS_OTHERS;
}

/* Reads the table JSON of metadata.json's tables[i] and, when it belongs
 * to this pass (ldr_table_pass), adds it and its files. */
static int add_table(struct ing *g, json_t *e, size_t i, int pass, char *err, size_t errlen)
{
	const char *sf = qjson_str(e, "schema", NULL);
	json_t *tj = sf ? ldr_load_json(g->dir, sf, err, errlen) : NULL;
	if (!tj) {
		if (!sf)
			errbuf_printf(err, errlen, "metadata.json: table %zu has no \"schema\"", i + 1);
		return -EINVAL;
	}
	if (ldr_table_pass(tj) != pass) {
		json_decref(tj);
		return 0;
	}
	struct tbl *t = &g->t[g->nt];
	snprintf(t->name, sizeof t->name, "%s", qjson_str(tj, "table", ""));
	t->json = tj, t->partitioned = qjson_int(tj, "is_partitioned", 0) != 0;
	t->director = pass == LDR_PASS_DIRECTORS, t->match = pass == LDR_PASS_MATCHES;
	json_object_set_new(tj, "database", json_string(g->db));
	return add_table_data(g, g->nt++, json_object_get(e, "data"), err, errlen);
}

int ldr_read_dataset(struct ing *g, char *err, size_t errlen)
{
	if (!(g->meta = ldr_load_json(g->dir, "metadata.json", err, errlen)))
		return -EINVAL;
	long long ver = qjson_int(g->meta, "version", 0);
	if (ver != 12)
		ldr_emit(g, &(struct qloader_event){ .kind = QLOADER_EV_VERSION, .version = ver });
	g->charset = qjson_str(g->meta, "charset_name", "latin1");
	const char *dbf = qjson_str(g->meta, "database", NULL);
	json_t *tables = json_object_get(g->meta, "tables");
	if (!dbf || !json_is_array(tables)) {
		errbuf_printf(err, errlen, "%s/metadata.json: needs \"database\" and \"tables\"", g->dir);
		return -EINVAL;
	}
	if (!(g->dbjson = ldr_load_json(g->dir, dbf, err, errlen)))
		return -EINVAL;
	snprintf(g->db, sizeof g->db, "%s", qjson_str(g->dbjson, "database", ""));
	size_t n = json_array_size(tables);
	if (!(g->t = calloc(n ? n : 1, sizeof *g->t))) {
		errbuf_printf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* directors first: children name them when they are registered, and
	 * match tables both of theirs */
	for (int pass = LDR_PASS_DIRECTORS; pass <= LDR_PASS_MATCHES; pass++) {
		size_t i;
		json_t *e;
		json_array_foreach(tables, i, e) {
			int r = add_table(g, e, i, pass, err, errlen);
			if (r)
				return r;
		}
	}
	return 0;
}

static int count_block(void *ud, const char *data, size_t len)
{
	return ldr_records_feed(ud, data, len);
}

/* Records in a file, read with its dialect d (records.h); LZ4-framed
 * files are counted decompressed.  -EBADMSG names the record whose field
 * count is not the table's ncols. */
int ldr_count_rows(const char *path, const struct csvd *d, unsigned ncols, unsigned long long *ret,
		   char *err, size_t errlen)
{
	int fd = ldr_is_url(path) ? fetch_tmp(path, err, errlen) : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (ldr_is_url(path))
			return -EIO;
		errbuf_printf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	static __thread char buf[1 << 20];
	struct ldr_records rc;
	ldr_records_init(&rc, d, ncols);
	int r = 0;
	if (qlz4_is_frame(fd)) {
		r = qlz4_stream(fd, count_block, &rc, err, errlen);
	} else {
		ssize_t k;
		while (!r && (k = read(fd, buf, sizeof buf)) != 0) {
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0) {
				r = -errno;
				errbuf_printf(err, errlen, "%s: %s", path, strerror(errno));
				break;
			}
			r = ldr_records_feed(&rc, buf, (size_t)k);
		}
	}
	close(fd);
	if (!r)
		r = ldr_records_end(&rc);
	if (r == -EBADMSG)
		errbuf_printf(err, errlen, "%s: record %llu: %u fields, expected %u", path, rc.c.bad_line,
			      rc.c.bad_fields, ncols);
	if (!r)
		*ret = ldr_records_count(&rc);
	return r;
}
