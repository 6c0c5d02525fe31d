/* cover.c: the chunks and sub-chunks a query region may intersect.
 *
 * Like lsst/sphgeom's Chunker::getChunksIntersecting(): bound the region by
 * a longitude/latitude box, visit only the stripes and chunks meeting that
 * box, and keep those whose bounds pass qchunk_region_may_intersect().  The
 * result never misses a chunk holding a point of the region (bounds are
 * widened by a tolerance); it may hold a chunk the region only grazes. */
#include <errno.h>
#include <math.h>

#include "chunk.h"
#include "chunk_internal.h"

#define BOUND_EPS 1e-7	/* deg added to bounding boxes */

static double clamp_lat(double lat)
{
	return lat > 90.0 ? 90.0 : (lat < -90.0 ? -90.0 : lat);
}

/* Bounding box of a cap of radius r (deg) centred at (lon, lat). */
static void cap_bounds(double lon, double lat, double r, struct qchunk_box *b)
{
	r += BOUND_EPS;
	b->lat_min = clamp_lat(lat - r);
	b->lat_max = clamp_lat(lat + r);
	double a = qchunk_max_alpha(r, lat);
	if (a >= 180.0 - 1e-9 || r >= 90.0) {
		b->lon_min = 0.0;
		b->lon_max = 360.0;
		if (r >= 90.0)
			b->lat_min = -90.0, b->lat_max = 90.0;
		return;
	}
	b->lon_min = qchunk_reduce_lon(lon - a);
	b->lon_max = qchunk_reduce_lon(lon + a);
}

static void poly_bounds(const struct qchunk_region *r, struct qchunk_box *b)
{
	double c[3] = { 0, 0, 0 }, v[3];
	int n = r->u.poly.n;
	for (int i = 0; i < n; ++i) {
		qchunk__vec(r->u.poly.lon[i], r->u.poly.lat[i], v);
		c[0] += v[0], c[1] += v[1], c[2] += v[2];
	}
	double l = sqrt(c[0] * c[0] + c[1] * c[1] + c[2] * c[2]);
	if (l < 1e-12) {
		*b = (struct qchunk_box){ 0.0, 360.0, -90.0, 90.0 };
		return;
	}
	double clon = qchunk_reduce_lon(atan2(c[1], c[0]) * QCHUNK_DEG);
	double clat = asin(c[2] / l) * QCHUNK_DEG;
	double rad = 0.0;
	for (int i = 0; i < n; ++i)
		rad = fmax(rad, qchunk_ang_sep(clon, clat, r->u.poly.lon[i], r->u.poly.lat[i]));
	/* A convex polygon is the hull of its vertices, so it lies in any cap
	 * under a hemisphere that holds them all. */
	cap_bounds(clon, clat, rad, b);
}

static void region_bounds(const struct qchunk_region *r, struct qchunk_box *b)
{
	switch (r->kind) {
	case QCHUNK_REGION_BOX:
		*b = r->u.box;
		b->lat_min = clamp_lat(b->lat_min - BOUND_EPS);
		b->lat_max = clamp_lat(b->lat_max + BOUND_EPS);
		if (b->lon_max - b->lon_min < 360.0) {
			b->lon_min = qchunk_reduce_lon(b->lon_min - BOUND_EPS);
			b->lon_max = qchunk_reduce_lon(b->lon_max + BOUND_EPS);
		}
		break;
	case QCHUNK_REGION_CIRCLE:
		cap_bounds(r->u.circle.lon, r->u.circle.lat, r->u.circle.radius, b);
		break;
	case QCHUNK_REGION_ELLIPSE:
		cap_bounds(r->u.ellipse.lon, r->u.ellipse.lat, r->u.ellipse.semi_major / 3600.0, b);
		break;
	case QCHUNK_REGION_POLY:
		poly_bounds(r, b);
		break;
	}
}

static int32_t sub_stripe_of(const struct qchunk *c, double lat)
{
	int32_t ss = (int32_t)floor((lat + 90.0) / qchunk__ss_height(c));
	int32_t nss = qchunk__nss(c);
	return ss < 0 ? 0 : (ss >= nss ? nss - 1 : ss);
}

/* Visits chunks [lo, hi] of stripe s, keeping those the region meets. */
static int scan(const struct qchunk *c, const struct qchunk_region *r, int32_t s, int32_t lo,
		int32_t hi, struct qchunk_ids *ret)
{
	for (int32_t k = lo; k <= hi; ++k) {
		int32_t id = qchunk__chunk_id(c, s, k);
		struct qchunk_box cb;
		qchunk_chunk_bounds(c, id, &cb);
		if (qchunk_region_may_intersect(r, &cb) && qchunk__ids_push(ret, id) < 0)
			return -ENOMEM;
	}
	return 0;
}

int qchunk_chunks_in(const struct qchunk *c, const struct qchunk_region *r, struct qchunk_ids *ret)
{
	struct qchunk_box b;
	region_bounds(r, &b);
	int32_t SS = qchunk_num_sub_stripes(c);
	int32_t s0 = sub_stripe_of(c, b.lat_min) / SS, s1 = sub_stripe_of(c, b.lat_max) / SS;
	bool full = b.lon_max - b.lon_min >= 360.0;
	for (int32_t s = s0; s <= s1; ++s) {
		int32_t nc = qchunk_chunks_in_stripe(c, s);
		double w = 360.0 / nc;
		int32_t a = (int32_t)floor(b.lon_min / w), z = (int32_t)floor(b.lon_max / w);
		a = a > nc - 1 ? nc - 1 : a;
		z = z > nc - 1 ? nc - 1 : z;
		int rc;
		if (full || (a == z && b.lon_min > b.lon_max))
			rc = scan(c, r, s, 0, nc - 1, ret);
		else if (b.lon_min <= b.lon_max)
			rc = scan(c, r, s, a, z, ret);
		else if ((rc = scan(c, r, s, 0, z, ret)) == 0)
			rc = scan(c, r, s, a, nc - 1, ret);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int qchunk_sub_chunks_in(const struct qchunk *c, const struct qchunk_region *r, int32_t chunk_id,
			 struct qchunk_ids *ret)
{
	if (!qchunk_chunk_valid(c, chunk_id))
		return -EINVAL;
	struct qchunk_box b;
	region_bounds(r, &b);
	int32_t SS = qchunk_num_sub_stripes(c), M = qchunk_max_sub_chunks_per_chunk(c);
	int32_t stripe = chunk_id / (2 * qchunk_num_stripes(c));
	int32_t ss0 = sub_stripe_of(c, b.lat_min), ss1 = sub_stripe_of(c, b.lat_max);
	for (int32_t j = 0; j < SS; ++j) {
		int32_t ss = stripe * SS + j;
		if (ss < ss0 || ss > ss1)
			continue;
		for (int32_t k = 0; k < qchunk__nsc(c, ss); ++k) {
			struct qchunk_box sb;
			qchunk_sub_chunk_bounds(c, chunk_id, j * M + k, &sb);
			if (qchunk_region_may_intersect(r, &sb) && qchunk__ids_push(ret, j * M + k) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}
