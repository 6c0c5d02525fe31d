/* chunker.c: the stripe / chunk / sub-chunk layout and locating positions.
 *
 * Owns struct qchunk: per-stripe chunk counts, per-sub-stripe sub-chunk
 * counts, sub-chunk widths and overlap half-widths (alpha), computed once in
 * qchunk_new() exactly as Qserv's Chunker::_initialize() does, so ids match
 * a real Qserv deployment bit for bit.  Invariants after qchunk_new():
 * S >= 1, SS >= 1, every stripe has >= 1 chunk, every sub-stripe >= 1
 * sub-chunk per chunk, alpha[ss] <= sub_chunk_width[ss], and
 * max_sc == max over ss of nsc[ss].
 *
 * One deliberate difference from Qserv's locate(): when a sub-stripe holds
 * exactly two sub-chunks and a row lies within alpha of both of its edges,
 * Qserv emits the same overlap location twice; here it is emitted once. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "chunk.h"
#include "chunk_internal.h"

struct qchunk {
	int32_t S, SS, nss;	/* stripes, sub-stripes per stripe, sub-stripes */
	int32_t max_sc;		/* M */
	double overlap, ss_height;
	int64_t total;
	int32_t *nc;		/* [S] chunks per stripe */
	int32_t *nsc;		/* [nss] sub-chunks per chunk */
	double *scw;		/* [nss] sub-chunk width */
	double *alpha;		/* [nss] overlap half-width in longitude */
};

static double clamp_lat(double lat)
{
	return lat > 90.0 ? 90.0 : (lat < -90.0 ? -90.0 : lat);
}

static double clamp_lon(double lon)
{
	return lon > 360.0 ? 360.0 : lon;
}

double qchunk_reduce_lon(double lon)
{
	lon = fmod(lon, 360.0);
	if (lon < 0.0) {
		lon += 360.0;
		if (lon == 360.0)
			lon = 0.0;
	}
	return lon;
}

/* Qserv's segments().  Qserv clamps a tiny width with the integer
 * expression 1/3600 (== 0); the intended 1 arcsecond is used here, which
 * only matters for sub-stripes under an arcsecond. */
int qchunk_segments(double lat_min, double lat_max, double width)
{
	double lat = fmax(fabs(lat_min), fabs(lat_max));
	if (lat > 90.0 - 1 / 3600.0)
		return 1;
	if (width >= 180.0)
		return 1;
	if (width < 1 / 3600.0)
		width = 1 / 3600.0;
	lat *= QCHUNK_RAD;
	double cw = cos(width * QCHUNK_RAD);
	double sl = sin(lat), cl = cos(lat);
	double x = cw - sl * sl;
	double u = cl * cl;
	double y = sqrt(fabs(u * u - x * x));
	return (int)floor(360.0 / fabs(QCHUNK_DEG * atan2(y, x)));
}

double qchunk_max_alpha(double r, double center_lat)
{
	if (r <= 0.0)
		return 0.0;
	if (r > 90.0)
		return 180.0;
	double lat = clamp_lat(center_lat);
	if (fabs(lat) + r > 90.0 - 1 / 3600.0)
		return 180.0;
	r *= QCHUNK_RAD;
	lat *= QCHUNK_RAD;
	double y = sin(r);
	double x = sqrt(fabs(cos(lat - r) * cos(lat + r)));
	return QCHUNK_DEG * fabs(atan(y / x));
}

void qchunk_free(struct qchunk *c)
{
	if (!c)
		return;
	free(c->nc);
	free(c->nsc);
	free(c->scw);
	free(c->alpha);
	free(c);
}

/* Fills the per-sub-stripe tables of stripe i; -EINVAL if the overlap does
 * not fit a sub-chunk. */
static int init_stripe(struct qchunk *c, int32_t i, double stripe_h, char *err, size_t errlen)
{
	int32_t nc = qchunk_segments(i * stripe_h - 90.0, (i + 1) * stripe_h - 90.0, stripe_h);
	c->nc[i] = nc;
	c->total += nc;
	for (int32_t j = 0; j < c->SS; ++j) {
		int32_t ss = i * c->SS + j;
		double lat_min = ss * c->ss_height - 90.0;
		double lat_max = (ss + 1) * c->ss_height - 90.0;
		int32_t nsc = qchunk_segments(lat_min, lat_max, c->ss_height) / nc;
		if (nsc < 1) {
			errbuf_printf(err, errlen, "sub-stripe %d has no sub-chunks", ss);
			return -EINVAL;
		}
		if (nsc > c->max_sc)
			c->max_sc = nsc;
		c->nsc[ss] = nsc;
		c->scw[ss] = 360.0 / ((double)nsc * nc);
		double a = qchunk_max_alpha(c->overlap, fmax(fabs(lat_min), fabs(lat_max)));
		if (a > c->scw[ss]) {
			errbuf_printf(err, errlen, "The overlap radius is greater than the sub-chunk width.");
			return -EINVAL;
		}
		c->alpha[ss] = a;
	}
	return 0;
}

int qchunk_new(int32_t num_stripes, int32_t num_sub_stripes, double overlap,
	       struct qchunk **ret, char *err, size_t errlen)
{
	if (num_stripes < 1 || num_sub_stripes < 1) {
		errbuf_printf(err, errlen, "The number of stripes and sub-stripes per stripe must be positive.");
		return -EINVAL;
	}
	if (2 * (int64_t)num_stripes * num_stripes > INT32_MAX) {
		errbuf_printf(err, errlen, "Too many stripes: chunk ids would not fit 32 bits.");
		return -EINVAL;
	}
	if ((int64_t)num_stripes * num_sub_stripes > 180 * 3600) {
		errbuf_printf(err, errlen, "Sub-stripes are too small (more than 648000 sub-stripes).");
		return -EINVAL;
	}
	if (!(overlap >= 0.0 && overlap <= 10.0)) {
		errbuf_printf(err, errlen, "The overlap radius must be in range [0, 10] deg.");
		return -EINVAL;
	}
	int32_t nss = num_stripes * num_sub_stripes;
	double ss_height = 180.0 / nss;
	if (ss_height < overlap) {
		errbuf_printf(err, errlen, "The overlap radius is greater than the sub-stripe height.");
		return -EINVAL;
	}
	struct qchunk *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->S = num_stripes;
	c->SS = num_sub_stripes;
	c->nss = nss;
	c->overlap = overlap;
	c->ss_height = ss_height;
	c->nc = calloc(num_stripes, sizeof(*c->nc));
	c->nsc = calloc(nss, sizeof(*c->nsc));
	c->scw = calloc(nss, sizeof(*c->scw));
	c->alpha = calloc(nss, sizeof(*c->alpha));
	if (!c->nc || !c->nsc || !c->scw || !c->alpha) {
		qchunk_free(c);
		return -ENOMEM;
	}
	double stripe_h = 180.0 / num_stripes;
	for (int32_t i = 0; i < num_stripes; ++i) {
		int r = init_stripe(c, i, stripe_h, err, errlen);
		if (r < 0) {
			qchunk_free(c);
			return r;
		}
	}
	*ret = c;
	return 0;
}

int32_t qchunk_num_stripes(const struct qchunk *c) { return c->S; }
int32_t qchunk_num_sub_stripes(const struct qchunk *c) { return c->SS; }
double qchunk_overlap(const struct qchunk *c) { return c->overlap; }
int64_t qchunk_total_chunks(const struct qchunk *c) { return c->total; }
int32_t qchunk_max_sub_chunks_per_chunk(const struct qchunk *c) { return c->max_sc; }

int32_t qchunk_chunks_in_stripe(const struct qchunk *c, int32_t stripe)
{
	return stripe >= 0 && stripe < c->S ? c->nc[stripe] : 0;
}

/* Internal layout accessors for cover.c. */
int32_t qchunk__nss(const struct qchunk *c) { return c->nss; }
double qchunk__ss_height(const struct qchunk *c) { return c->ss_height; }
int32_t qchunk__nsc(const struct qchunk *c, int32_t ss) { return c->nsc[ss]; }
double qchunk__scw(const struct qchunk *c, int32_t ss) { return c->scw[ss]; }

static int32_t chunk_id_of(const struct qchunk *c, int32_t stripe, int32_t chunk)
{
	return stripe * 2 * c->S + chunk;
}

static int32_t sub_chunk_id_of(const struct qchunk *c, int32_t stripe, int32_t ss, int32_t chunk,
			       int32_t sc)
{
	return (ss - stripe * c->SS) * c->max_sc + (sc - chunk * c->nsc[ss]);
}

int32_t qchunk__chunk_id(const struct qchunk *c, int32_t stripe, int32_t chunk)
{
	return chunk_id_of(c, stripe, chunk);
}

int32_t qchunk__sub_chunk_id(const struct qchunk *c, int32_t stripe, int32_t ss, int32_t chunk,
			     int32_t sc)
{
	return sub_chunk_id_of(c, stripe, ss, chunk, sc);
}

bool qchunk_chunk_valid(const struct qchunk *c, int32_t chunk_id)
{
	if (chunk_id < 0)
		return false;
	int32_t stripe = chunk_id / (2 * c->S);
	int32_t chunk = chunk_id - stripe * 2 * c->S;
	return stripe < c->S && chunk < c->nc[stripe];
}

bool qchunk_sub_chunk_valid(const struct qchunk *c, int32_t chunk_id, int32_t sub_chunk_id)
{
	if (!qchunk_chunk_valid(c, chunk_id) || sub_chunk_id < 0)
		return false;
	int32_t stripe = chunk_id / (2 * c->S);
	int32_t local = sub_chunk_id / c->max_sc;
	int32_t sc = sub_chunk_id % c->max_sc;
	return local < c->SS && sc < c->nsc[stripe * c->SS + local];
}

int qchunk_chunk_bounds(const struct qchunk *c, int32_t chunk_id, struct qchunk_box *ret)
{
	if (!qchunk_chunk_valid(c, chunk_id))
		return -EINVAL;
	int32_t stripe = chunk_id / (2 * c->S);
	int32_t chunk = chunk_id - stripe * 2 * c->S;
	double width = 360.0 / c->nc[stripe];
	ret->lon_min = chunk * width;
	ret->lon_max = clamp_lon((chunk + 1) * width);
	ret->lat_min = clamp_lat(stripe * c->SS * c->ss_height - 90.0);
	ret->lat_max = clamp_lat((stripe + 1) * c->SS * c->ss_height - 90.0);
	return 0;
}

int qchunk_sub_chunk_bounds(const struct qchunk *c, int32_t chunk_id, int32_t sub_chunk_id,
			    struct qchunk_box *ret)
{
	if (!qchunk_sub_chunk_valid(c, chunk_id, sub_chunk_id))
		return -EINVAL;
	int32_t stripe = chunk_id / (2 * c->S);
	int32_t chunk = chunk_id - stripe * 2 * c->S;
	int32_t ss = stripe * c->SS + sub_chunk_id / c->max_sc;
	int32_t sc = sub_chunk_id % c->max_sc + chunk * c->nsc[ss];
	ret->lon_min = sc * c->scw[ss];
	ret->lon_max = clamp_lon((sc + 1) * c->scw[ss]);
	ret->lat_min = clamp_lat(ss * c->ss_height - 90.0);
	ret->lat_max = clamp_lat((ss + 1) * c->ss_height - 90.0);
	return 0;
}

void qchunk_locs_free(struct qchunk_locs *locs)
{
	free(locs->v);
	locs->v = NULL;
	locs->n = locs->cap = 0;
}

void qchunk_ids_free(struct qchunk_ids *ids)
{
	free(ids->v);
	ids->v = NULL;
	ids->n = ids->cap = 0;
}

int qchunk__ids_push(struct qchunk_ids *ids, int32_t id)
{
	if (ids->n == ids->cap) {
		size_t cap = ids->cap ? ids->cap * 2 : 64;
		int32_t *v = realloc(ids->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		ids->v = v;
		ids->cap = cap;
	}
	ids->v[ids->n++] = id;
	return 0;
}

static int locs_push(struct qchunk_locs *locs, int32_t chunk_id, int32_t sub_chunk_id, bool overlap)
{
	if (locs->n == locs->cap) {
		size_t cap = locs->cap ? locs->cap * 2 : 8;
		struct qchunk_loc *v = realloc(locs->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		locs->v = v;
		locs->cap = cap;
	}
	locs->v[locs->n++] = (struct qchunk_loc){ chunk_id, sub_chunk_id, overlap };
	return 0;
}

int qchunk_all_chunks(const struct qchunk *c, struct qchunk_ids *ret)
{
	for (int32_t s = 0; s < c->S; ++s)
		for (int32_t k = 0; k < c->nc[s]; ++k)
			if (qchunk__ids_push(ret, chunk_id_of(c, s, k)) < 0)
				return -ENOMEM;
	return 0;
}

int qchunk_all_sub_chunks(const struct qchunk *c, int32_t chunk_id, struct qchunk_ids *ret)
{
	if (!qchunk_chunk_valid(c, chunk_id))
		return -EINVAL;
	int32_t stripe = chunk_id / (2 * c->S);
	for (int32_t j = 0; j < c->SS; ++j)
		for (int32_t k = 0; k < c->nsc[stripe * c->SS + j]; ++k)
			if (qchunk__ids_push(ret, j * c->max_sc + k) < 0)
				return -ENOMEM;
	return 0;
}

/* Where a valid position falls: sub-stripe, stripe, global sub-chunk index
 * within the sub-stripe and chunk within the stripe. */
struct where {
	int32_t ss, stripe, sc, chunk, n_sc;
};

static int find(const struct qchunk *c, double *lon, double lat, struct where *w)
{
	if (!isfinite(*lon) || !isfinite(lat) || lat < -90.0 || lat > 90.0)
		return -EDOM;
	*lon = qchunk_reduce_lon(*lon);
	w->ss = (int32_t)floor((lat + 90.0) / c->ss_height);
	if (w->ss >= c->nss)
		w->ss = c->nss - 1;
	w->stripe = w->ss / c->SS;
	w->sc = (int32_t)floor(*lon / c->scw[w->ss]);
	int32_t per = c->nsc[w->ss];
	w->n_sc = c->nc[w->stripe] * per;
	if (w->sc >= w->n_sc)
		w->sc = w->n_sc - 1;
	w->chunk = w->sc / per;
	return 0;
}

int qchunk_locate(const struct qchunk *c, double lon, double lat, struct qchunk_loc *ret)
{
	struct where w;
	if (find(c, &lon, lat, &w) < 0)
		return -EDOM;
	ret->chunk_id = chunk_id_of(c, w.stripe, w.chunk);
	ret->sub_chunk_id = sub_chunk_id_of(c, w.stripe, w.ss, w.chunk, w.sc);
	ret->overlap = false;
	return 0;
}

/* Appends overlap location (stripe, ss, sc) unless filtered by chunk_id. */
static int add_overlap(const struct qchunk *c, int32_t stripe, int32_t ss, int32_t sc,
		       int32_t chunk_id, struct qchunk_locs *locs)
{
	int32_t chunk = sc / c->nsc[ss];
	int32_t id = chunk_id_of(c, stripe, chunk);
	if (chunk_id >= 0 && id != chunk_id)
		return 0;
	return locs_push(locs, id, sub_chunk_id_of(c, stripe, ss, chunk, sc), true);
}

/* Qserv's _upDownOverlap(): sub-chunks of sub-stripe ss whose overlap
 * region (alpha-expanded in longitude) contains lon, with 0/360 wrap. */
static int up_down(const struct qchunk *c, double lon, int32_t chunk_id, int32_t ss,
		   struct qchunk_locs *locs)
{
	int32_t stripe = ss / c->SS;
	int32_t n_sc = c->nc[stripe] * c->nsc[ss];
	double w = c->scw[ss], a = c->alpha[ss];
	int32_t lo = (int32_t)floor((lon - a) / w);
	int32_t hi = (int32_t)floor((lon + a) / w);
	if (lo < 0)
		lo += n_sc;
	if (hi >= n_sc)
		hi -= n_sc;
	int r = 0;
	if (lo > hi) {
		for (int32_t sc = lo; sc < n_sc && r == 0; ++sc)
			r = add_overlap(c, stripe, ss, sc, chunk_id, locs);
		lo = 0;
	}
	for (int32_t sc = lo; sc <= hi && r == 0; ++sc)
		r = add_overlap(c, stripe, ss, sc, chunk_id, locs);
	return r;
}

/* Overlap locations to the left and right in the position's own
 * sub-stripe. */
static int left_right(const struct qchunk *c, double lon, const struct where *w, int32_t chunk_id,
		      struct qchunk_locs *locs)
{
	if (w->n_sc == 1)
		return 0;
	double lon_min = w->sc * c->scw[w->ss];
	double lon_max = clamp_lon((w->sc + 1) * c->scw[w->ss]);
	double a = c->alpha[w->ss];
	int32_t left = -1;
	if (lon < lon_min + a) {
		left = w->sc == 0 ? w->n_sc - 1 : w->sc - 1;
		int r = add_overlap(c, w->stripe, w->ss, left, chunk_id, locs);
		if (r < 0)
			return r;
	}
	if (lon > lon_max - a) {
		int32_t right = w->sc == w->n_sc - 1 ? 0 : w->sc + 1;
		if (right != left)
			return add_overlap(c, w->stripe, w->ss, right, chunk_id, locs);
	}
	return 0;
}

int qchunk_locate_all(const struct qchunk *c, double lon, double lat, int32_t chunk_id,
		      struct qchunk_locs *locs)
{
	struct where w;
	if (find(c, &lon, lat, &w) < 0)
		return -EDOM;
	int32_t own = chunk_id_of(c, w.stripe, w.chunk);
	int r = 0;
	if (chunk_id < 0 || own == chunk_id)
		r = locs_push(locs, own, sub_chunk_id_of(c, w.stripe, w.ss, w.chunk, w.sc), false);
	if (r < 0 || c->overlap == 0.0)
		return r;
	double lat_min = clamp_lat(w.ss * c->ss_height - 90.0);
	double lat_max = clamp_lat((w.ss + 1) * c->ss_height - 90.0);
	if (w.ss > 0 && lat < lat_min + c->overlap)
		r = up_down(c, lon, chunk_id, w.ss - 1, locs);
	if (r == 0 && w.ss < c->nss - 1 && lat >= lat_max - c->overlap)
		r = up_down(c, lon, chunk_id, w.ss + 1, locs);
	if (r == 0)
		r = left_right(c, lon, &w, chunk_id, locs);
	return r;
}
