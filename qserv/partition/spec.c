/* spec.c: turns a configuration into a checked qpart_spec: layout
 * parameters (part.*), position and id columns (loading the director's
 * object index for part.id-url), input/output field lists
 * and dialects (in.csv.*, out.csv.*), inputs (in.path, directories
 * expanded, empty files skipped as sph-partition does), output (out.dir,
 * part.prefix, out.lz4, out.num-nodes) and run limits (mr.num-workers, mr.block-size,
 * max-errors).  Every error names the option at fault.  For a match table
 * (qserv-partition-matches) the positions come from match.c and the flags
 * column joins the chunk and sub-chunk output columns. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "qserv/chunk/chunk.h"
#include "config.h"
#include "index.h"
#include "match.h"
#include "partition.h"

static int find_field(char **fields, size_t n, const char *name)
{
	for (size_t i = 0; i < n; ++i)
		if (!strcmp(fields[i], name))
			return (int)i;
	return -1;
}

static int get_int(const struct qpart_config *cfg, const char *key, long def, long *ret, char *err,
		   size_t errlen)
{
	int r = qpart_config_int(cfg, key, ret, err, errlen);
	if (r == -ENOENT) {
		*ret = def;
		return 0;
	}
	return r;
}

static int layout(const struct qpart_config *cfg, struct qpart_spec *s, char *err, size_t errlen)
{
	long ns, nss;
	double overlap = 0.01;
	int r;
	if ((r = get_int(cfg, "part.num-stripes", 18, &ns, err, errlen)) < 0 ||
	    (r = get_int(cfg, "part.num-sub-stripes", 100, &nss, err, errlen)) < 0)
		return r;
	r = qpart_config_double(cfg, "part.overlap", &overlap, err, errlen);
	if (r == -ENOENT)
		r = qpart_config_double(cfg, "part.default-overlap", &overlap, err, errlen);
	if (r == -EINVAL)
		return r;
	if (!s->matches && !qpart_config_has(cfg, "part.pos"))
		overlap = 0.0;	/* as Qserv: no overlap without positions; a match
				 * table keeps it as its maximum match distance */
	char why[200];
	r = qchunk_new((int32_t)ns, (int32_t)nss, overlap, &s->chunker, why, sizeof(why));
	if (r < 0)
		snprintf(err, errlen, "partitioning parameters (part.num-stripes=%ld, "
			 "part.num-sub-stripes=%ld, part.overlap=%g): %s", ns, nss, overlap, why);
	return r;
}

/* part.id: the object id column.  With part.pos the run writes the object
 * index; without it the rows are placed through the index at part.id-url. */
static int id_column(const struct qpart_config *cfg, struct qpart_spec *s, char *err, size_t errlen)
{
	const char *id, *url;
	s->id_idx = -1;
	int r = qpart_config_str(cfg, "part.id", &id, err, errlen);
	if (r == -ENOENT) {
		if (qpart_config_has(cfg, "part.pos"))
			return 0;
		snprintf(err, errlen, "Neither --part.pos nor --part.id option were specified.");
		return -EINVAL;
	}
	if (r < 0)
		return r;
	if ((s->id_idx = find_field(s->in_fields, s->nin, id)) < 0) {
		snprintf(err, errlen, "--part.id=%s: not an input field (in.csv.field)", id);
		return -EINVAL;
	}
	if (qpart_config_has(cfg, "part.pos")) {
		s->write_index = true;
		return 0;
	}
	r = qpart_config_str(cfg, "part.id-url", &url, err, errlen);
	if (r == -ENOENT) {
		snprintf(err, errlen, "Secondary index URL --part.id-url was not specified.");
		return -EINVAL;
	}
	if (r < 0)
		return r;
	return qpart_index_load(url, &s->in, &s->index, err, errlen);
}

int qpart_spec_pos(const struct qpart_config *cfg, const struct qpart_spec *s, const char *key,
		   int *ret_lon, int *ret_lat, char *err, size_t errlen)
{
	char **pos = NULL;
	size_t n = 0;
	int r = qpart_config_list(cfg, key, &pos, &n, err, errlen);
	if (r < 0)
		return r;
	if (n != 2) {
		snprintf(err, errlen, "--%s is not a comma separated field name pair", key);
		qpart_strv_free(pos);
		return -EINVAL;
	}
	int lon = find_field(s->in_fields, s->nin, pos[0]);
	int lat = find_field(s->in_fields, s->nin, pos[1]);
	if (lon < 0 || lat < 0 || lon == lat) {
		snprintf(err, errlen, "--%s=%s,%s: %s is not an input field (in.csv.field)", key,
			 pos[0], pos[1], lon < 0 ? pos[0] : pos[1]);
		qpart_strv_free(pos);
		return -EINVAL;
	}
	qpart_strv_free(pos);
	*ret_lon = lon, *ret_lat = lat;
	return 0;
}

static int position(const struct qpart_config *cfg, struct qpart_spec *s, char *err, size_t errlen)
{
	if (s->matches)
		return qpart_match_columns(cfg, s, err, errlen);
	int r = id_column(cfg, s, err, errlen);
	if (r < 0)
		return r;
	s->lon_idx = s->lat_idx = -1;
	r = qpart_spec_pos(cfg, s, "part.pos", &s->lon_idx, &s->lat_idx, err, errlen);
	return r == -ENOENT ? 0 : r;	/* absent: id mode */
}

/* The output column names: part.chunk, part.sub-chunk and, for a match
 * table, part.flags (Qserv's default partitioningFlags); NULL flags for
 * other tables. */
static int column_names(const struct qpart_config *cfg, const struct qpart_spec *s,
			const char **chunk, const char **sub, const char **flags, char *err,
			size_t errlen)
{
	int r;
	*flags = NULL;
	if ((r = qpart_config_str(cfg, "part.chunk", chunk, err, errlen)) == -EINVAL ||
	    (r = qpart_config_str(cfg, "part.sub-chunk", sub, err, errlen)) == -EINVAL)
		return r;
	if (s->matches) {
		*flags = "partitioningFlags";
		if ((r = qpart_config_str(cfg, "part.flags", flags, err, errlen)) == -EINVAL)
			return r;
		if (!**flags || !strcmp(*flags, *chunk) || !strcmp(*flags, *sub)) {
			snprintf(err, errlen, "--part.flags=%s: must name a column of its own", *flags);
			return -EINVAL;
		}
	}
	if (!strcmp(*chunk, *sub)) {
		snprintf(err, errlen, "--part.chunk and --part.sub-chunk name the same column");
		return -EINVAL;
	}
	return 0;
}

/* Output columns: out.csv.field (default the input fields) with the chunk,
 * sub-chunk (and match flags) columns appended unless already listed. */
static int columns(const struct qpart_config *cfg, struct qpart_spec *s, char *err, size_t errlen)
{
	const char *chunk = "chunkId", *sub = "subChunkId", *flags;
	int r = column_names(cfg, s, &chunk, &sub, &flags, err, errlen);
	if (r < 0)
		return r;
	char **out = NULL;
	size_t n = 0;
	r = qpart_config_list(cfg, "out.csv.field", &out, &n, err, errlen);
	if (r == -EINVAL || r == -ENOMEM)
		return r;
	char **names = out ? out : s->in_fields;
	if (!out)
		n = s->nin;
	s->out_map = calloc(n + 3, sizeof(int));
	if (!s->out_map) {
		qpart_strv_free(out);
		return -ENOMEM;
	}
	bool has_chunk = false, has_sub = false, has_flags = !flags;
	for (size_t i = 0; i < n; ++i) {
		if (flags && !strcmp(names[i], flags)) {
			s->out_map[i] = QPART_COL_FLAGS, has_flags = true;
		} else if (!strcmp(names[i], chunk)) {
			s->out_map[i] = QPART_COL_CHUNK, has_chunk = true;
		} else if (!strcmp(names[i], sub)) {
			s->out_map[i] = QPART_COL_SUB, has_sub = true;
		} else if ((s->out_map[i] = find_field(s->in_fields, s->nin, names[i])) < 0) {
			snprintf(err, errlen, "--out.csv.field: %s is not an input field", names[i]);
			qpart_strv_free(out);
			return -EINVAL;
		}
	}
	if (!has_chunk)
		s->out_map[n++] = QPART_COL_CHUNK;
	if (!has_sub)
		s->out_map[n++] = QPART_COL_SUB;
	if (!has_flags)
		s->out_map[n++] = QPART_COL_FLAGS;
	s->nout = n;
	qpart_strv_free(out);
	/* fast: the input record as it is, then the appended columns */
	s->fast = qpart_dialect_equal(&s->in, &s->out) && n == s->nin + 2 + (flags != NULL) &&
		  (!flags || s->out_map[n - 1] == QPART_COL_FLAGS);
	for (size_t i = 0; s->fast && i < s->nin; ++i)
		s->fast = s->out_map[i] == (int)i;
	return 0;
}

static int push_path(struct qpart_spec *s, const char *p)
{
	char **v = realloc(s->paths, (s->npaths + 2) * sizeof(char *));
	if (!v)
		return -ENOMEM;
	s->paths = v;
	if (!(v[s->npaths] = strdup(p)))
		return -ENOMEM;
	v[++s->npaths] = NULL;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_input(struct qpart_spec *s, const char *p, char *err, size_t errlen)
{
	struct stat st;
	if (stat(p, &st) < 0) {
		int e = errno;
		snprintf(err, errlen, "--in.path=%s: %s", p, strerror(e));
		return -e;
	}
	if (S_ISREG(st.st_mode))
		return st.st_size > 0 ? push_path(s, p) : 0;
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "--in.path=%s: not a file or directory", p);
		return -EINVAL;
	}
	struct dirent **ents;
	int n = scandir(p, &ents, NULL, NULL);
	if (n < 0) {
		int e = errno;
		snprintf(err, errlen, "--in.path=%s: %s", p, strerror(e));
		return -e;
	}
	char **names = calloc(n + 1, sizeof(char *));
	int k = 0, r = names ? 0 : -ENOMEM;
	for (int i = 0; i < n; ++i) {
		char full[4096];
		snprintf(full, sizeof(full), "%s/%s", p, ents[i]->d_name);
		if (r == 0 && ents[i]->d_name[0] != '.' && stat(full, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_size > 0 && !(names[k++] = strdup(full)))
			r = -ENOMEM;
		free(ents[i]);
	}
	free(ents);
	if (names) {
		qsort(names, k, sizeof(char *), cmp_str);
		for (int i = 0; i < k; ++i) {
			if (r == 0)
				r = push_path(s, names[i]);
			free(names[i]);
		}
		free(names);
	}
	return r;
}

static int inputs(const struct qpart_config *cfg, struct qpart_spec *s, char *err, size_t errlen)
{
	char **v = NULL;
	size_t n = 0;
	int r = qpart_config_paths(cfg, "in.path", &v, &n, err, errlen);
	if (r == -ENOENT) {
		snprintf(err, errlen, "At least one input file must be provided using --in.path.");
		return -EINVAL;
	}
	for (size_t i = 0; r == 0 && i < n; ++i)
		r = add_input(s, v[i], err, errlen);
	qpart_strv_free(v);
	if (r == 0 && s->npaths == 0) {
		snprintf(err, errlen, "No non-empty input files found among the files and directories "
			 "specified via --in.path.");
		r = -EINVAL;
	}
	return r;
}

static int output(const struct qpart_config *cfg, struct qpart_spec *s, char *err, size_t errlen)
{
	const char *dir, *prefix = "chunk";
	int r = qpart_config_str(cfg, "out.dir", &dir, err, errlen);
	if (r == -ENOENT) {
		snprintf(err, errlen, "No output directory specified (use --out.dir).");
		return -EINVAL;
	}
	if (r < 0 || (r = qpart_config_str(cfg, "part.prefix", &prefix, err, errlen)) == -EINVAL)
		return r;
	if (!*prefix || strchr(prefix, '/')) {
		snprintf(err, errlen, "--part.prefix=%s: must be a plain file name prefix", prefix);
		return -EINVAL;
	}
	s->out_dir = strdup(dir);
	s->prefix = strdup(prefix);
	if (!s->out_dir || !s->prefix)
		return -ENOMEM;
	r = qpart_config_bool(cfg, "out.lz4", &s->lz4, err, errlen);
	if (r < 0 && r != -ENOENT)
		return r;
	r = qpart_config_bool(cfg, "part.disable-chunks", &s->dry_run, err, errlen);
	return r == -ENOENT ? 0 : r;
}

static int limits(const struct qpart_config *cfg, struct qpart_spec *s, char *err, size_t errlen)
{
	long w, mib, maxerr, nodes;
	int r;
	if ((r = get_int(cfg, "out.num-nodes", 1, &nodes, err, errlen)) < 0 ||
	    (r = get_int(cfg, "mr.num-workers", 2, &w, err, errlen)) < 0 ||
	    (r = get_int(cfg, "mr.block-size", 4, &mib, err, errlen)) < 0 ||
	    (r = get_int(cfg, "max-errors", 0, &maxerr, err, errlen)) < 0)
		return r;
	if (w < 1 || w > 64) {
		snprintf(err, errlen, "--mr.num-workers=%ld: must be between 1 and 64", w);
		return -EINVAL;
	}
	if (mib < 1 || mib > 1024) {
		snprintf(err, errlen, "The IO block size given by --mr.block-size must be between 1 and "
			 "1024 MiB.");
		return -EINVAL;
	}
	if (nodes < 1 || nodes > 99999) {
		snprintf(err, errlen, "--out.num-nodes=%ld: must be between 1 and 99999", nodes);
		return -EINVAL;
	}
	s->num_nodes = (uint32_t)nodes;
	if (maxerr < 0) {
		snprintf(err, errlen, "--max-errors=%ld: must not be negative", maxerr);
		return -EINVAL;
	}
	s->workers = (int)w;
	s->block_size = (size_t)mib << 20;
	s->max_errors = maxerr;
	return 0;
}

int qpart_spec_from_config(const struct qpart_config *cfg, struct qpart_spec *ret, char *err,
			   size_t errlen)
{
	return qpart_spec_resolve(cfg, false, ret, err, errlen);
}

int qpart_spec_resolve(const struct qpart_config *cfg, bool matches, struct qpart_spec *ret,
		       char *err, size_t errlen)
{
	struct qpart_spec s;
	memset(&s, 0, sizeof(s));
	s.matches = matches;
	int r = qpart_config_list(cfg, "in.csv.field", &s.in_fields, &s.nin, err, errlen);
	if (r == -ENOENT)
		snprintf(err, errlen, "Input CSV field names not specified (in.csv.field).");
	if (r == 0 && s.nin == 0) {
		snprintf(err, errlen, "in.csv.field is empty");
		r = -EINVAL;
	}
	for (size_t i = 0; r == 0 && i < s.nin; ++i)
		if (find_field(s.in_fields, i, s.in_fields[i]) >= 0) {
			snprintf(err, errlen, "in.csv.field: duplicate field %s", s.in_fields[i]);
			r = -EINVAL;
		}
	if (r == 0)
		r = qpart_dialect_from_config(cfg, "in.csv.", &s.in, err, errlen);
	if (r == 0)
		r = qpart_dialect_from_config(cfg, "out.csv.", &s.out, err, errlen);
	if (r == 0)
		r = layout(cfg, &s, err, errlen);
	if (r == 0)
		r = position(cfg, &s, err, errlen);
	if (r == 0)
		r = columns(cfg, &s, err, errlen);
	if (r == 0)
		r = output(cfg, &s, err, errlen);
	if (r == 0)
		r = limits(cfg, &s, err, errlen);
	if (r == 0)
		r = inputs(cfg, &s, err, errlen);
	if (r < 0) {
		if (r == -ENOENT)
			r = -EINVAL;
		qpart_spec_free(&s);
		return r;
	}
	*ret = s;
	return 0;
}

void qpart_spec_free(struct qpart_spec *s)
{
	qchunk_free(s->chunker);
	qpart_index_free(s->index);
	qpart_strv_free(s->in_fields);
	qpart_strv_free(s->paths);
	free(s->out_map);
	free(s->out_dir);
	free(s->prefix);
	memset(s, 0, sizeof(*s));
}
