/* run.c: the streaming partitioner (see partition.h).
 *
 * Threads: the caller's thread reads; spec->workers threads partition.
 * Blocks cycle between a free list and a work queue (both guarded by one
 * mutex), so at most workers + 2 blocks exist.  A block always ends at a
 * record boundary (an unescaped LF); the reader carries a partial record
 * over to the next block and grows a block only for a record longer than
 * the block size.  Each worker keeps an output batch (rows tagged with
 * chunk/overlap key); when it passes 4 blocks it is grouped by key and
 * appended to the chunk files, one write per chunk file.  Within a chunk
 * file rows of one batch keep their input order.
 *
 * A match table's rows (spec->matches) are placed by match.c: once per
 * distinct chunk of their two positions, with the flags column.
 *
 * Bad rows (wrong column count, NULL/unparsable/out-of-range position) are
 * reported as "file:line: reason" and skipped; once more than max_errors
 * were seen the run stops (abort flag) and returns -ECANCELED. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qserv/chunk/chunk.h"
#include "index.h"
#include "match.h"
#include "output.h"
#include "partition.h"

#define MAX_FIELDS 4096

struct block {
	char *buf;
	size_t len, cap;
	const char *file;
	uint64_t line0;		/* line number of the first record */
	struct block *next;
};

struct job {
	const struct qpart_spec *spec;
	struct qpart_out *out;
	qpart_report_fn report;
	void *ctx;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct block *free, *work, *work_tail;
	bool done;		/* no more blocks will be queued */
	atomic_int abort;	/* too many errors or an I/O error */
	atomic_ulong bad;
	pthread_mutex_t report_lock;
	int err_code;		/* first fatal error (under lock) */
	int index_fd;		/* <prefix>_object_index.txt, -1 if not written */
	char err[512];
	/* totals, under lock */
	uint64_t rows_in, rows_out, overlap_out;
};

struct rec {
	int64_t key;	/* chunk_id * 2 + overlap */
	size_t off;
	size_t len;
};

struct worker {
	struct job *job;
	pthread_t tid;
	char *data;
	size_t len, cap;
	struct rec *recs;
	size_t nrec, caprec;
	char *scratch;
	size_t scratch_cap;
	char *vbuf;	/* one decoded value (dialect conversion) */
	size_t vcap;
	struct group *groups;	/* flush: rows grouped by key */
	size_t gcap, ngroups_cap;
	size_t *next;		/* flush: chain of record indexes */
	char *ibuf;		/* object index lines of the batch */
	size_t ilen, icap;
	struct qchunk_locs locs;
	struct qpart_field fields[MAX_FIELDS];
	uint64_t rows_in, rows_out, overlap_out;
};

static void fatal(struct job *j, int code, const char *msg)
{
	pthread_mutex_lock(&j->lock);
	if (!j->err_code) {
		j->err_code = code;
		snprintf(j->err, sizeof(j->err), "%s", msg);
	}
	pthread_mutex_unlock(&j->lock);
	atomic_store(&j->abort, 1);
	pthread_mutex_lock(&j->lock);
	pthread_cond_broadcast(&j->cond);
	pthread_mutex_unlock(&j->lock);
}

static void bad_row(struct job *j, const char *file, uint64_t line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void bad_row(struct job *j, const char *file, uint64_t line, const char *fmt, ...)
{
	/* Allocated: an input path may be as long as PATH_MAX (a fixed buffer
	 * here once overflowed the stack with a long path and one bad row). */
	char *reason = NULL, *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&reason, fmt, ap) < 0)
		reason = NULL;
	va_end(ap);
	if (!reason || asprintf(&msg, "%s:%llu: %s", file, (unsigned long long)line, reason) < 0)
		msg = NULL;
	unsigned long bad = atomic_fetch_add(&j->bad, 1) + 1;
	if (j->report) {
		pthread_mutex_lock(&j->report_lock);
		j->report(j->ctx, msg ? msg : "bad row (out of memory formatting its reason)");
		pthread_mutex_unlock(&j->report_lock);
	}
	free(msg);
	free(reason);
	if ((long)bad > j->spec->max_errors) {
		char m[200];
		snprintf(m, sizeof(m), "%lu bad rows: more than --max-errors=%ld", bad,
			 j->spec->max_errors);
		fatal(j, -ECANCELED, m);
	}
}

/* -- output batch -------------------------------------------------------- */

/* *buf holds at least need bytes (and is allocated, even for need 0). */
static int reserve(char **buf, size_t *cap, size_t need)
{
	if (*buf && need <= *cap)
		return 0;
	size_t c = *cap ? *cap : 1 << 16;
	while (c < need)
		c *= 2;
	char *p = realloc(*buf, c);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = c;
	return 0;
}

/* Groups the batch by key in one pass: chains of record indexes (input
 * order kept within a key) hung off an open-addressed table, then one
 * write per key.  O(rows), where sorting was 20% of the run time. */
struct group {
	int64_t key;	/* -1 when empty */
	size_t head, tail, bytes, rows;
};

static int group_batch(struct worker *w)
{
	size_t cap = 1024;
	while (cap < 2 * w->nrec && cap < ((size_t)1 << 30))
		cap *= 2;
	if (cap > w->gcap) {
		struct group *g = realloc(w->groups, cap * sizeof(*g));
		size_t *n = realloc(w->next, (w->nrec + 1) * sizeof(*n));
		if (g)
			w->groups = g;
		if (n)
			w->next = n;
		if (!g || !n)
			return -ENOMEM;
		w->gcap = cap;
	} else {
		size_t *n = realloc(w->next, (w->nrec + 1) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		w->next = n;
		cap = w->gcap;
	}
	for (size_t i = 0; i < cap; ++i)
		w->groups[i].key = -1;
	w->ngroups_cap = cap;
	for (size_t i = 0; i < w->nrec; ++i) {
		int64_t key = w->recs[i].key;
		size_t h = (size_t)(((uint64_t)key * 0x9e3779b97f4a7c15ull) >> 20) & (cap - 1);
		while (w->groups[h].key != -1 && w->groups[h].key != key)
			h = (h + 1) & (cap - 1);
		struct group *g = &w->groups[h];
		w->next[i] = (size_t)-1;
		if (g->key == -1) {
			*g = (struct group){ key, i, i, 0, 0 };
		} else {
			w->next[g->tail] = i;
			g->tail = i;
		}
		g->bytes += w->recs[i].len;
		g->rows++;
	}
	return 0;
}

/* Appends the batch's object index lines (one write, under the lock). */
static int flush_index(struct worker *w)
{
	struct job *j = w->job;
	int r = 0;
	if (j->index_fd < 0 || w->ilen == 0)
		return 0;
	pthread_mutex_lock(&j->lock);
	for (size_t at = 0; at < w->ilen;) {
		ssize_t n = write(j->index_fd, w->ibuf + at, w->ilen - at);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		at += (size_t)n;
	}
	pthread_mutex_unlock(&j->lock);
	w->ilen = 0;
	if (r < 0) {
		char m[300];
		snprintf(m, sizeof(m), "%s/%s_object_index.txt: %s", j->spec->out_dir, j->spec->prefix,
			 strerror(-r));
		fatal(j, r, m);
	}
	return r;
}

static int flush(struct worker *w)
{
	struct job *j = w->job;
	if (flush_index(w) < 0)
		return -EIO;
	if (j->spec->dry_run || w->nrec == 0) {
		w->len = 0;
		w->nrec = 0;
		return 0;
	}
	if (group_batch(w) < 0) {
		fatal(j, -ENOMEM, "out of memory");
		return -ENOMEM;
	}
	for (size_t h = 0; h < w->ngroups_cap; ++h) {
		const struct group *g = &w->groups[h];
		if (g->key == -1)
			continue;
		if (reserve(&w->scratch, &w->scratch_cap, g->bytes) < 0) {
			fatal(j, -ENOMEM, "out of memory");
			return -ENOMEM;
		}
		size_t at = 0;
		for (size_t m = g->head; m != (size_t)-1; m = w->next[m]) {
			memcpy(w->scratch + at, w->data + w->recs[m].off, w->recs[m].len);
			at += w->recs[m].len;
		}
		char err[512];
		int r = qpart_out_write(j->out, (int32_t)(g->key / 2), g->key % 2, w->scratch, at,
					g->rows, err, sizeof(err));
		if (r < 0) {
			fatal(j, r, err);
			return r;
		}
	}
	w->len = 0;
	w->nrec = 0;
	return 0;
}

static char *put_int(char *p, int32_t v)
{
	char tmp[12];
	int n = 0;
	uint32_t u = v < 0 ? (uint32_t)-(int64_t)v : (uint32_t)v;
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*p++ = '-';
	while (n)
		*p++ = tmp[--n];
	return p;
}

/* Appends one output row for location loc of the record (flags: the
 * match flags column's value, unused for other tables). */
static int emit(struct worker *w, const char *rec, size_t len, size_t nf,
		const struct qchunk_loc *loc, int flags)
{
	const struct qpart_spec *s = w->job->spec;
	size_t need = w->len + (s->fast ? len : 2 * len + 16 * s->nout) + 32;
	if (reserve(&w->data, &w->cap, need) < 0)
		return -ENOMEM;
	char *start = w->data + w->len, *p = start;
	if (s->fast) {
		memcpy(p, rec, len);
		p += len;
		*p++ = s->out.delim;
		p = put_int(p, loc->chunk_id);
		*p++ = s->out.delim;
		p = put_int(p, loc->sub_chunk_id);
		if (s->matches) {
			*p++ = s->out.delim;
			p = put_int(p, flags);
		}
	} else {
		for (size_t i = 0; i < s->nout; ++i) {
			int m = s->out_map[i];
			if (i)
				*p++ = s->out.delim;
			if (m == QPART_COL_CHUNK) {
				p = put_int(p, loc->chunk_id);
			} else if (m == QPART_COL_SUB) {
				p = put_int(p, loc->sub_chunk_id);
			} else if (m == QPART_COL_FLAGS) {
				p = put_int(p, flags);
			} else if (qpart_dialect_equal(&s->in, &s->out)) {
				memcpy(p, w->fields[m].p, w->fields[m].len);
				p += w->fields[m].len;
			} else {
				long n = -1;
				bool isnull = qpart_csv_is_null(&s->in, &w->fields[m]);
				if (reserve(&w->vbuf, &w->vcap, len + 1) < 0)
					return -ENOMEM;
				if (isnull || (n = qpart_csv_decode(&s->in, &w->fields[m], w->vbuf, len + 1)) >= 0)
					n = qpart_csv_encode(&s->out, isnull ? NULL : w->vbuf, isnull ? 0 : (size_t)n,
							     p, w->cap - (size_t)(p - w->data) - 32);
				if (n < 0)
					return -EINVAL;
				p += n;
			}
		}
	}
	(void)nf;
	*p++ = '\n';
	if (w->nrec == w->caprec) {
		size_t c = w->caprec ? w->caprec * 2 : 4096;
		struct rec *r = realloc(w->recs, c * sizeof(*r));
		if (!r)
			return -ENOMEM;
		w->recs = r;
		w->caprec = c;
	}
	w->recs[w->nrec++] = (struct rec){ (int64_t)loc->chunk_id * 2 + loc->overlap, w->len,
					   (size_t)(p - start) };
	w->len += (size_t)(p - start);
	if (loc->overlap)
		w->overlap_out++;
	else
		w->rows_out++;
	return 0;
}

/* Parses a coordinate field; false with a reason on failure. */
static bool coord(const struct qpart_spec *s, const struct qpart_field *f, double *ret,
		  const char **why)
{
	char buf[128];
	if (qpart_csv_is_null(&s->in, f)) {
		*why = "is NULL";
		return false;
	}
	if (qpart_csv_decode(&s->in, f, buf, sizeof(buf)) < 0) {
		*why = "is not a number";
		return false;
	}
	char *end;
	errno = 0;
	double d = strtod(buf, &end);
	while (*end == ' ')
		end++;
	if (end == buf || *end || errno == ERANGE || !isfinite(d)) {
		*why = "is not a finite number";
		return false;
	}
	*ret = d;
	return true;
}

/* A record's position from its lon/lat fields; false (a bad row,
 * reported) when one is NULL, not a number, or the latitude is outside
 * [-90, 90]. */
static bool position(struct worker *w, const char *file, uint64_t line, int lon_idx, int lat_idx,
		     double *ret_lon, double *ret_lat)
{
	const struct qpart_spec *s = w->job->spec;
	const char *why;
	if (!coord(s, &w->fields[lon_idx], ret_lon, &why)) {
		bad_row(w->job, file, line, "longitude %s %s", s->in_fields[lon_idx], why);
		return false;
	}
	if (!coord(s, &w->fields[lat_idx], ret_lat, &why)) {
		bad_row(w->job, file, line, "latitude %s %s", s->in_fields[lat_idx], why);
		return false;
	}
	if (*ret_lat < -90.0 || *ret_lat > 90.0) {
		bad_row(w->job, file, line, "latitude %s=%.17g is outside [-90, 90]",
			s->in_fields[lat_idx], *ret_lat);
		return false;
	}
	return true;
}

/* One position of a match row: false (a bad row, reported) when it is
 * not NULL and does not parse; NULL (either coordinate) leaves it invalid. */
static bool match_pos(struct worker *w, const char *file, uint64_t line, int lon_idx, int lat_idx,
		      struct qpart_match_pos *ret)
{
	const struct qpart_spec *s = w->job->spec;
	ret->valid = false;
	if (qpart_csv_is_null(&s->in, &w->fields[lon_idx]) ||
	    qpart_csv_is_null(&s->in, &w->fields[lat_idx]))
		return true;
	ret->valid = position(w, file, line, lon_idx, lat_idx, &ret->lon, &ret->lat);
	return ret->valid;
}

/* A match row: to the chunk of each of its positions (match.h). */
static int match_record(struct worker *w, const char *file, uint64_t line, const char *rec,
			size_t len, size_t nf)
{
	const struct qpart_spec *s = w->job->spec;
	struct qpart_match_pos p1, p2;
	struct qpart_match_place pl[2];
	size_t n = 0;
	double sep = 0;
	if (!match_pos(w, file, line, s->lon_idx, s->lat_idx, &p1) ||
	    !match_pos(w, file, line, s->lon2_idx, s->lat2_idx, &p2))
		return 0;
	int r = qpart_match_place(s->chunker, &p1, &p2, pl, &n, &sep);
	if (r == -EINVAL) {
		bad_row(w->job, file, line, "both positions (%s,%s and %s,%s) are NULL",
			s->in_fields[s->lon_idx], s->in_fields[s->lat_idx],
			s->in_fields[s->lon2_idx], s->in_fields[s->lat2_idx]);
		return 0;
	}
	if (r == -ERANGE) {
		bad_row(w->job, file, line, "the positions are %.6g deg apart, not less than "
			"--part.overlap=%g", sep, qchunk_overlap(s->chunker));
		return 0;
	}
	if (r < 0) {
		bad_row(w->job, file, line, "a position cannot be located");
		return 0;
	}
	size_t nrec = w->nrec, len0 = w->len;
	uint64_t out0 = w->rows_out;
	for (size_t i = 0; i < n; ++i) {
		struct qchunk_loc loc = { pl[i].chunk_id, pl[i].sub_chunk_id, false };
		r = emit(w, rec, len, nf, &loc, pl[i].flags);
		if (r == -EINVAL) {
			w->nrec = nrec, w->len = len0, w->rows_out = out0;
			bad_row(w->job, file, line, "a value cannot be written in the output dialect");
			return 0;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static int record(struct worker *w, const char *file, uint64_t line, const char *rec, size_t len)
{
	struct job *j = w->job;
	const struct qpart_spec *s = j->spec;
	w->rows_in++;
	size_t nf = qpart_csv_split(&s->in, rec, len, w->fields, MAX_FIELDS);
	if (nf != s->nin) {
		bad_row(j, file, line, "expected %zu fields, found %zu", s->nin, nf);
		return 0;
	}
	if (s->matches)
		return match_record(w, file, line, rec, len, nf);
	if (s->lon_idx < 0) {
		/* id mode: the director's location, no overlap */
		const struct qpart_field *id = &w->fields[s->id_idx];
		struct qchunk_loc loc = { .overlap = false };
		if (qpart_index_find(s->index, id->p, id->len, &loc.chunk_id, &loc.sub_chunk_id) < 0) {
			bad_row(j, file, line, "%s=%.*s is not in the object index",
				s->in_fields[s->id_idx], (int)(id->len > 64 ? 64 : id->len), id->p);
			return 0;
		}
		int r = emit(w, rec, len, nf, &loc, 0);
		if (r == -EINVAL) {	/* emit() stores nothing when it fails */
			bad_row(j, file, line, "a value cannot be written in the output dialect");
			return 0;
		}
		return r;
	}
	double lon, lat;
	if (!position(w, file, line, s->lon_idx, s->lat_idx, &lon, &lat))
		return 0;
	w->locs.n = 0;
	if (qchunk_locate_all(s->chunker, lon, lat, -1, &w->locs) < 0)
		return -ENOMEM;
	/* all locations or none: a value the output dialect cannot write
	 * rolls the row back */
	size_t nrec = w->nrec, len0 = w->len;
	uint64_t out0 = w->rows_out, ov0 = w->overlap_out;
	for (size_t i = 0; i < w->locs.n; ++i) {
		int r = emit(w, rec, len, nf, &w->locs.v[i], 0);
		if (r == -EINVAL) {
			w->nrec = nrec, w->len = len0, w->rows_out = out0, w->overlap_out = ov0;
			bad_row(j, file, line, "a value cannot be written in the output dialect");
			return 0;
		}
		if (r < 0)
			return r;
	}
	if (s->write_index) {
		const struct qpart_field *id = &w->fields[s->id_idx];
		if (reserve(&w->ibuf, &w->icap, w->ilen + id->len + 32) < 0)
			return -ENOMEM;
		char *p = w->ibuf + w->ilen;
		memcpy(p, id->p, id->len);
		p += id->len;
		*p++ = s->out.delim;
		p = put_int(p, w->locs.v[0].chunk_id);
		*p++ = s->out.delim;
		p = put_int(p, w->locs.v[0].sub_chunk_id);
		*p++ = '\n';
		w->ilen = (size_t)(p - w->ibuf);
	}
	return 0;
}

/* End of the record starting at p: the first LF not escaped. */
static const char *eol(const struct qpart_dialect *d, const char *p, const char *end)
{
	for (;;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl || !d->escape)
			return nl;
		size_t esc = 0;
		for (const char *q = nl; q > p && q[-1] == d->escape; --q)
			esc++;
		if (esc % 2 == 0)
			return nl;
		p = nl + 1;
	}
}

static uint64_t count_lines(const char *p, const char *end)
{
	uint64_t n = 0;
	while ((p = memchr(p, '\n', (size_t)(end - p)))) {
		n++;
		p++;
	}
	return n;
}

static int process(struct worker *w, struct block *b)
{
	const struct qpart_spec *s = w->job->spec;
	const char *p = b->buf, *end = b->buf + b->len;
	uint64_t line = b->line0;
	while (p < end && !atomic_load(&w->job->abort)) {
		const char *nl = eol(&s->in, p, end);
		const char *stop = nl ? nl : end;
		size_t len = (size_t)(stop - p);
		if (len && p[len - 1] == '\r')
			len--;
		if (len) {
			int r = record(w, b->file, line, p, len);
			if (r < 0)
				return r;
		}
		line += nl ? count_lines(p, nl + 1) : 1;
		p = nl ? nl + 1 : end;
		if (w->len >= 4 * s->block_size && flush(w) < 0)
			return -EIO;
	}
	return 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct job *j = w->job;
	for (;;) {
		pthread_mutex_lock(&j->lock);
		while (!j->work && !j->done && !atomic_load(&j->abort))
			pthread_cond_wait(&j->cond, &j->lock);
		struct block *b = j->work;
		if (b) {
			j->work = b->next;
			if (!j->work)
				j->work_tail = NULL;
		}
		pthread_mutex_unlock(&j->lock);
		if (!b)
			break;
		int r = atomic_load(&j->abort) ? 0 : process(w, b);
		if (r == -ENOMEM)
			fatal(j, r, "out of memory");
		pthread_mutex_lock(&j->lock);
		b->next = j->free;
		j->free = b;
		pthread_cond_broadcast(&j->cond);
		pthread_mutex_unlock(&j->lock);
	}
	if (!atomic_load(&j->abort) && (w->nrec || w->ilen))
		flush(w);
	pthread_mutex_lock(&j->lock);
	j->rows_in += w->rows_in;
	j->rows_out += w->rows_out;
	j->overlap_out += w->overlap_out;
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

/* -- reader ---------------------------------------------------------------- */

static struct block *get_free(struct job *j)
{
	pthread_mutex_lock(&j->lock);
	while (!j->free && !atomic_load(&j->abort))
		pthread_cond_wait(&j->cond, &j->lock);
	struct block *b = j->free;
	if (b)
		j->free = b->next;
	pthread_mutex_unlock(&j->lock);
	return b;
}

static void queue(struct job *j, struct block *b)
{
	pthread_mutex_lock(&j->lock);
	b->next = NULL;
	if (j->work_tail)
		j->work_tail->next = b;
	else
		j->work = b;
	j->work_tail = b;
	pthread_cond_broadcast(&j->cond);
	pthread_mutex_unlock(&j->lock);
}

/* Last record end in buf[0, len): one past the last unescaped LF, or 0. */
static size_t last_eol(const struct qpart_dialect *d, const char *buf, size_t len)
{
	const char *p = buf, *cut = NULL, *end = buf + len;
	/* memrchr then check escaping backwards */
	for (size_t n = len; n > 0;) {
		const char *nl = memrchr(buf, '\n', n);
		if (!nl)
			break;
		size_t esc = 0;
		for (const char *q = nl; q > p && q[-1] == d->escape && d->escape; --q)
			esc++;
		if (esc % 2 == 0) {
			cut = nl + 1;
			break;
		}
		n = (size_t)(nl - buf);
	}
	(void)end;
	return cut ? (size_t)(cut - buf) : 0;
}

static int read_file(struct job *j, const char *path, uint64_t *bytes)
{
	const struct qpart_spec *s = j->spec;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		char m[512];
		int e = errno;
		snprintf(m, sizeof(m), "%s: %s", path, strerror(e));
		fatal(j, -e, m);
		return -e;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	char *carry = NULL;
	size_t carry_len = 0, carry_cap = 0;
	uint64_t line = 1;
	bool eof = false;
	int rc = 0;
	while (!eof && !atomic_load(&j->abort)) {
		struct block *b = get_free(j);
		if (!b)
			break;
		size_t want = carry_len + s->block_size;
		if (reserve(&b->buf, &b->cap, want) < 0) {
			rc = -ENOMEM;
			fatal(j, rc, "out of memory");
			break;
		}
		if (carry_len)
			memcpy(b->buf, carry, carry_len);
		b->len = carry_len;
		while (b->len < want) {
			ssize_t n = read(fd, b->buf + b->len, want - b->len);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				char m[512];
				rc = -errno;
				snprintf(m, sizeof(m), "%s: %s", path, strerror(-rc));
				fatal(j, rc, m);
				break;
			}
			if (n == 0) {
				eof = true;
				break;
			}
			b->len += (size_t)n;
			*bytes += (size_t)n;
		}
		if (rc < 0) {
			pthread_mutex_lock(&j->lock);
			b->next = j->free, j->free = b;
			pthread_mutex_unlock(&j->lock);
			break;
		}
		size_t cut = eof ? b->len : last_eol(&s->in, b->buf, b->len);
		/* a record longer than the block: keep it all as carry, read on */
		if (reserve(&carry, &carry_cap, b->len - cut + 1) < 0) {
			rc = -ENOMEM;
			fatal(j, rc, "out of memory");
			break;
		}
		carry_len = b->len - cut;
		memcpy(carry, b->buf + cut, carry_len);
		b->len = cut;
		b->file = path;
		b->line0 = line;
		line += count_lines(b->buf, b->buf + b->len);
		if (b->len == 0) {
			pthread_mutex_lock(&j->lock);
			b->next = j->free, j->free = b;
			pthread_mutex_unlock(&j->lock);
			continue;
		}
		queue(j, b);
	}
	free(carry);
	close(fd);
	return rc;
}

int qpart_run(const struct qpart_spec *spec, qpart_report_fn report, void *ctx,
	      struct qpart_stats *ret, char *err, size_t errlen)
{
	struct job j;
	memset(&j, 0, sizeof(j));
	j.spec = spec;
	j.report = report;
	j.ctx = ctx;
	pthread_mutex_init(&j.lock, NULL);
	pthread_mutex_init(&j.report_lock, NULL);
	pthread_cond_init(&j.cond, NULL);
	int r = qpart_out_open(spec->out_dir, spec->prefix, spec->lz4, spec->num_nodes, &j.out, err,
			       errlen);
	if (r < 0)
		return r;
	j.index_fd = -1;
	if (spec->write_index) {
		char path[4200];
		snprintf(path, sizeof(path), "%s/%s_object_index.txt", spec->out_dir, spec->prefix);
		j.index_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (j.index_fd < 0) {
			r = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(-r));
			qpart_out_close(j.out, NULL, 0);
			return r;
		}
	}
	int nw = spec->workers, nblocks = nw + 2;
	struct worker *ws = calloc(nw, sizeof(*ws));
	struct block *blocks = calloc(nblocks, sizeof(*blocks));
	if (!ws || !blocks) {
		free(ws), free(blocks);
		qpart_out_close(j.out, NULL, 0);
		return -ENOMEM;
	}
	for (int i = 0; i < nblocks; ++i) {
		blocks[i].next = j.free;
		j.free = &blocks[i];
	}
	int started = 0;
	for (; started < nw; ++started) {
		ws[started].job = &j;
		if (pthread_create(&ws[started].tid, NULL, worker_main, &ws[started]) != 0)
			break;
	}
	uint64_t bytes = 0;
	if (started < nw)
		fatal(&j, -EAGAIN, "cannot start worker threads");
	for (size_t i = 0; i < spec->npaths && !atomic_load(&j.abort); ++i)
		read_file(&j, spec->paths[i], &bytes);
	pthread_mutex_lock(&j.lock);
	j.done = true;
	pthread_cond_broadcast(&j.cond);
	pthread_mutex_unlock(&j.lock);
	for (int i = 0; i < started; ++i)
		pthread_join(ws[i].tid, NULL);
	struct qpart_stats st = {
		.rows_in = j.rows_in, .rows_bad = atomic_load(&j.bad), .rows_out = j.rows_out,
		.overlap_out = j.overlap_out, .bytes_in = bytes,
		.chunks = qpart_out_num_chunks(j.out, false),
		.overlap_chunks = qpart_out_num_chunks(j.out, true),
	};
	char cerr[512] = "";
	int cr = qpart_out_close(j.out, cerr, sizeof(cerr));
	if (j.index_fd >= 0 && close(j.index_fd) < 0 && cr == 0) {
		cr = -errno;
		snprintf(cerr, sizeof(cerr), "%s/%s_object_index.txt: %s", spec->out_dir, spec->prefix,
			 strerror(-cr));
	}
	r = j.err_code;
	if (r < 0)
		snprintf(err, errlen, "%s", j.err);
	else if (cr < 0)
		snprintf(err, errlen, "%s", cerr), r = cr;
	for (int i = 0; i < nw; ++i) {
		free(ws[i].data);
		free(ws[i].recs);
		free(ws[i].scratch);
		free(ws[i].vbuf);
		free(ws[i].groups);
		free(ws[i].ibuf);
		free(ws[i].next);
		qchunk_locs_free(&ws[i].locs);
	}
	for (int i = 0; i < nblocks; ++i)
		free(blocks[i].buf);
	free(ws);
	free(blocks);
	pthread_cond_destroy(&j.cond);
	pthread_mutex_destroy(&j.lock);
	pthread_mutex_destroy(&j.report_lock);
	*ret = st;
	return r;
}
