/* region_test.c: query regions and the chunk / sub-chunk cover.
 *  - box cover equal to lsst/sphgeom tests/testChunker.cc
 *    (ChunksIntersecting1: box lon -0.1..4, lat -6..6, S=85, SS=14);
 *  - containment against hand-computed values (separations along a
 *    meridian or the equator are plain differences of coordinates);
 *  - no false negatives: random points inside random regions always fall
 *    in a returned chunk and sub-chunk;
 *  - tightness: small regions return few chunks. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <kselftest_harness.h>

#include "../chunk.h"

static struct qchunk *mk(int32_t s, int32_t ss, double r)
{
	struct qchunk *c = NULL;
	char err[256];
	if (qchunk_new(s, ss, r, &c, err, sizeof(err)) < 0)
		fprintf(stderr, "# %s\n", err);
	return c;
}

TEST(sphgeom_box_cover)
{
	static const int32_t want[21] = { 6630, 6631, 6797, 6800, 6801, 6968, 6970,
					  6971, 7138, 7140, 7141, 7308, 7310, 7311,
					  7478, 7480, 7481, 7648, 7650, 7651, 7817 };
	struct qchunk *c = mk(85, 14, 0.0);
	ASSERT_NE(NULL, c);
	struct qchunk_region r;
	ASSERT_EQ(0, qchunk_region_box(&r, -0.1, -6, 4, 6, NULL, 0));
	struct qchunk_ids ids = { 0 };
	ASSERT_EQ(0, qchunk_chunks_in(c, &r, &ids));
	ASSERT_EQ(21, ids.n);
	for (int i = 0; i < 21; ++i)
		EXPECT_EQ(want[i], ids.v[i]);
	qchunk_ids_free(&ids);
	qchunk_free(c);
}

TEST(ang_sep_values)
{
	EXPECT_LT(fabs(qchunk_ang_sep(0, 0, 1, 0) - 1.0), 1e-12);
	EXPECT_LT(fabs(qchunk_ang_sep(0, 0, 0, 90) - 90.0), 1e-12);
	EXPECT_LT(fabs(qchunk_ang_sep(0, 89, 180, 89) - 2.0), 1e-9);
	EXPECT_LT(fabs(qchunk_ang_sep(10, 20, 190, -20) - 180.0), 1e-9);
	EXPECT_LT(fabs(qchunk_ang_sep(359.5, 0, 0.5, 0) - 1.0), 1e-12);
}

TEST(box_contains)
{
	struct qchunk_region r;
	char err[128];
	ASSERT_EQ(0, qchunk_region_box(&r, 350, -5, 10, 5, err, sizeof(err)));
	EXPECT_TRUE(qchunk_region_contains(&r, 355, 0));
	EXPECT_TRUE(qchunk_region_contains(&r, 5, 5));	/* boundary is inside */
	EXPECT_TRUE(qchunk_region_contains(&r, -5, 0));
	EXPECT_FALSE(qchunk_region_contains(&r, 180, 0));
	EXPECT_FALSE(qchunk_region_contains(&r, 0, 5.001));
	ASSERT_EQ(0, qchunk_region_box(&r, 350, -5, 370, 5, err, sizeof(err)));
	EXPECT_TRUE(qchunk_region_contains(&r, 5, 0));
	EXPECT_FALSE(qchunk_region_contains(&r, 11, 0));
	ASSERT_EQ(0, qchunk_region_box(&r, -200, -5, 200, 5, err, sizeof(err)));
	EXPECT_TRUE(qchunk_region_contains(&r, 123, 0));
	EXPECT_EQ(-EINVAL, qchunk_region_box(&r, 0, 5, 10, -5, err, sizeof(err)));
	EXPECT_EQ(-EINVAL, qchunk_region_box(&r, 0, -95, 10, 5, err, sizeof(err)));
	EXPECT_EQ(-EINVAL, qchunk_region_box(&r, 370, 0, 10, 5, err, sizeof(err)));
	EXPECT_EQ(-EINVAL, qchunk_region_box(&r, NAN, 0, 10, 5, err, sizeof(err)));
}

TEST(circle_contains)
{
	struct qchunk_region r;
	ASSERT_EQ(0, qchunk_region_circle(&r, 359.9, 0, 0.2, NULL, 0));
	EXPECT_TRUE(qchunk_region_contains(&r, 0.0999, 0));
	EXPECT_FALSE(qchunk_region_contains(&r, 0.1001, 0));
	EXPECT_TRUE(qchunk_region_contains(&r, 359.9, 0.1999));
	EXPECT_FALSE(qchunk_region_contains(&r, 359.9, -0.2001));
	EXPECT_EQ(-EINVAL, qchunk_region_circle(&r, 0, 0, -1, NULL, 0));
	EXPECT_EQ(-EINVAL, qchunk_region_circle(&r, 0, 91, 1, NULL, 0));
}

TEST(ellipse_contains)
{
	struct qchunk_region r;
	/* 36" x 18", major axis north-south (position angle 0) */
	ASSERT_EQ(0, qchunk_region_ellipse(&r, 0, 0, 36, 18, 0, NULL, 0));
	EXPECT_TRUE(qchunk_region_contains(&r, 0, 35.5 / 3600));
	EXPECT_FALSE(qchunk_region_contains(&r, 0, 36.5 / 3600));
	EXPECT_TRUE(qchunk_region_contains(&r, 17.5 / 3600, 0));
	EXPECT_FALSE(qchunk_region_contains(&r, 18.5 / 3600, 0));
	EXPECT_FALSE(qchunk_region_contains(&r, 180, 0));	/* antipode */
	/* position angle 90: major axis east-west */
	ASSERT_EQ(0, qchunk_region_ellipse(&r, 0, 0, 36, 18, 90, NULL, 0));
	EXPECT_TRUE(qchunk_region_contains(&r, 35.5 / 3600, 0));
	EXPECT_FALSE(qchunk_region_contains(&r, 0, 18.5 / 3600));
	EXPECT_EQ(-EINVAL, qchunk_region_ellipse(&r, 0, 0, 18, 36, 0, NULL, 0));
	EXPECT_EQ(-EINVAL, qchunk_region_ellipse(&r, 0, 0, 36001, 1, 0, NULL, 0));
	EXPECT_EQ(-EINVAL, qchunk_region_ellipse(&r, 0, 0, 10, -1, 0, NULL, 0));
}

TEST(poly_contains_and_checks)
{
	struct qchunk_region ccw, cw;
	char err[128];
	double lon[4] = { 0, 10, 10, 0 }, lat[4] = { 0, 0, 10, 10 };
	double rlon[4] = { 0, 0, 10, 10 }, rlat[4] = { 0, 10, 10, 0 };
	ASSERT_EQ(0, qchunk_region_poly(&ccw, lon, lat, 4, err, sizeof(err)));
	ASSERT_EQ(0, qchunk_region_poly(&cw, rlon, rlat, 4, err, sizeof(err)));
	EXPECT_TRUE(qchunk_region_contains(&ccw, 5, 5));
	EXPECT_TRUE(qchunk_region_contains(&cw, 5, 5));
	EXPECT_FALSE(qchunk_region_contains(&ccw, 11, 5));
	EXPECT_FALSE(qchunk_region_contains(&cw, -1, 5));
	EXPECT_FALSE(qchunk_region_contains(&ccw, 185, -5));
	/* the top edge is a great circle arc bulging north of lat 10: at lon 5
	 * it peaks at atan(tan(10 deg) / cos(5 deg)) = 10.0381 deg */
	EXPECT_TRUE(qchunk_region_contains(&ccw, 5, 10.035));
	EXPECT_FALSE(qchunk_region_contains(&ccw, 5, 10.041));
	/* non-convex: a dart */
	double dlon[4] = { 0, 10, 5, 10 }, dlat[4] = { 0, 0, 2, 10 };
	EXPECT_EQ(-EINVAL, qchunk_region_poly(&ccw, dlon, dlat, 4, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "convex"));
	EXPECT_EQ(-EINVAL, qchunk_region_poly(&ccw, lon, lat, 2, err, sizeof(err)));
	double same_lon[3] = { 1, 1, 2 }, same_lat[3] = { 1, 1, 2 };
	EXPECT_EQ(-EINVAL, qchunk_region_poly(&ccw, same_lon, same_lat, 3, err, sizeof(err)));
}

static double frand(double lo, double hi)
{
	return lo + (hi - lo) * rand() / ((double)RAND_MAX + 1);
}

static bool has(const struct qchunk_ids *ids, int32_t id)
{
	for (size_t i = 0; i < ids->n; ++i)
		if (ids->v[i] == id)
			return true;
	return false;
}

/* Random points near the region's centre; every contained point must be
 * covered by chunks_in and sub_chunks_in. */
static int check_cover(struct __test_metadata *_metadata, struct qchunk *c,
		       const struct qchunk_region *r, double clon, double clat, double spread)
{
	struct qchunk_ids ids = { 0 };
	if (qchunk_chunks_in(c, r, &ids) < 0)
		return -1;
	for (size_t i = 1; i < ids.n; ++i)
		if (ids.v[i - 1] >= ids.v[i])
			return -2;
	int inside = 0;
	for (int i = 0; i < 400; ++i) {
		double lat = clat + frand(-spread, spread);
		if (lat > 90 || lat < -90)
			continue;
		double lon = clon + frand(-spread, spread) / fmax(cos(lat * M_PI / 180), 0.01);
		if (!qchunk_region_contains(r, lon, lat))
			continue;
		inside++;
		struct qchunk_loc loc;
		if (qchunk_locate(c, lon, lat, &loc) < 0)
			return -3;
		if (!has(&ids, loc.chunk_id)) {
			TH_LOG("missed chunk %d for %.8f %.8f", loc.chunk_id, lon, lat);
			return -4;
		}
		struct qchunk_ids subs = { 0 };
		qchunk_sub_chunks_in(c, r, loc.chunk_id, &subs);
		bool ok = has(&subs, loc.sub_chunk_id);
		qchunk_ids_free(&subs);
		if (!ok) {
			TH_LOG("missed sub-chunk %d/%d for %.8f %.8f", loc.chunk_id, loc.sub_chunk_id,
			       lon, lat);
			return -5;
		}
	}
	qchunk_ids_free(&ids);
	return inside;
}

TEST(cover_never_misses)
{
	struct qchunk *c = mk(85, 12, 0.01667);
	ASSERT_NE(NULL, c);
	srand(7);
	int total = 0;
	for (int k = 0; k < 60; ++k) {
		struct qchunk_region r;
		double clon = frand(0, 360), clat = k % 10 == 0 ? frand(80, 90) : frand(-89, 89);
		double size = frand(0.05, 3.0);
		int rc;
		ASSERT_EQ(0, qchunk_region_circle(&r, clon, clat, size, NULL, 0));
		rc = check_cover(_metadata, c, &r, clon, clat, size * 1.2);
		ASSERT_GE(rc, 0);
		total += rc;
		ASSERT_EQ(0, qchunk_region_ellipse(&r, clon, clat, size * 3600, size * 1800,
						   frand(0, 180), NULL, 0));
		rc = check_cover(_metadata, c, &r, clon, clat, size * 1.2);
		ASSERT_GE(rc, 0);
		total += rc;
		/* an elongated one: 10:1 */
		ASSERT_EQ(0, qchunk_region_ellipse(&r, clon, clat, size * 3600, size * 360,
						   frand(0, 360), NULL, 0));
		rc = check_cover(_metadata, c, &r, clon, clat, size * 1.2);
		ASSERT_GE(rc, 0);
		total += rc;
		double blat0 = fmax(clat - size, -90), blat1 = fmin(clat + size, 90);
		ASSERT_EQ(0, qchunk_region_box(&r, clon - size, blat0, clon + size, blat1, NULL, 0));
		rc = check_cover(_metadata, c, &r, clon, clat, size * 1.5);
		ASSERT_GE(rc, 0);
		total += rc;
		/* a random convex polygon: points on a circle, in angle order */
		if (clat < 85 && clat > -85) {
			double plon[6], plat[6];
			double a0 = frand(0, 60);
			for (int i = 0; i < 6; ++i) {
				double a = (a0 + i * 60 + frand(-20, 20)) * M_PI / 180;
				plat[i] = clat + size * sin(a);
				plon[i] = clon + size * cos(a) / cos(clat * M_PI / 180);
			}
			char err[128];
			if (qchunk_region_poly(&r, plon, plat, 6, err, sizeof(err)) == 0) {
				rc = check_cover(_metadata, c, &r, clon, clat, size * 1.5);
				ASSERT_GE(rc, 0);
				total += rc;
			}
		}
	}
	ASSERT_GT(total, 10000);	/* the sample really tested points */
	qchunk_free(c);
}

TEST(cover_is_tight)
{
	struct qchunk *c = mk(85, 12, 0.01667);
	struct qchunk_region r;
	struct qchunk_ids ids = { 0 };
	/* a 0.1 deg circle well inside chunk 7140's stripe: at most 4 chunks */
	ASSERT_EQ(0, qchunk_region_circle(&r, 1.0, 0.1, 0.1, NULL, 0));
	ASSERT_EQ(0, qchunk_chunks_in(c, &r, &ids));
	EXPECT_GE(ids.n, 1);
	EXPECT_LE(ids.n, 2);
	EXPECT_TRUE(has(&ids, 7140));
	qchunk_ids_free(&ids);
	/* a triangle inside one chunk returns that chunk only */
	struct qchunk_box b;
	ASSERT_EQ(0, qchunk_chunk_bounds(c, 7141, &b));
	double mlon = (b.lon_min + b.lon_max) / 2, mlat = (b.lat_min + b.lat_max) / 2;
	double lon[3] = { mlon - 0.3, mlon + 0.3, mlon }, lat[3] = { mlat - 0.3, mlat - 0.3, mlat + 0.3 };
	ASSERT_EQ(0, qchunk_region_poly(&r, lon, lat, 3, NULL, 0));
	ASSERT_EQ(0, qchunk_chunks_in(c, &r, &ids));
	ASSERT_EQ(1, ids.n);
	EXPECT_EQ(7141, ids.v[0]);
	qchunk_ids_free(&ids);
	/* a 10 x 0.1 deg ellipse along the equator stays in the equatorial
	 * stripe (chunks 7140..7308), unlike its 10 deg bounding circle */
	ASSERT_EQ(0, qchunk_region_ellipse(&r, 10, 0, 36000, 360, 90, NULL, 0));
	ASSERT_EQ(0, qchunk_chunks_in(c, &r, &ids));
	EXPECT_GE(ids.n, 9);
	EXPECT_LE(ids.n, 12);
	for (size_t i = 0; i < ids.n; ++i)
		EXPECT_EQ(42, ids.v[i] / 170);
	qchunk_ids_free(&ids);
	ASSERT_EQ(0, qchunk_region_circle(&r, 10, 0, 10, NULL, 0));
	ASSERT_EQ(0, qchunk_chunks_in(c, &r, &ids));
	EXPECT_GT(ids.n, 60);
	qchunk_ids_free(&ids);
	/* whole sky */
	ASSERT_EQ(0, qchunk_region_box(&r, 0, -90, 360, 90, NULL, 0));
	ASSERT_EQ(0, qchunk_chunks_in(c, &r, &ids));
	EXPECT_EQ(8983, ids.n);
	qchunk_ids_free(&ids);
	/* a polar cap */
	ASSERT_EQ(0, qchunk_region_circle(&r, 0, 90, 1.0, NULL, 0));
	ASSERT_EQ(0, qchunk_chunks_in(c, &r, &ids));
	EXPECT_EQ(1, ids.n);
	EXPECT_EQ(84 * 170, ids.v[0]);
	qchunk_ids_free(&ids);
	qchunk_free(c);
}

/* Longitude ranges [a0,a1] and [b0,b1] (a may wrap: a0 > a1) overlap,
 * widened by eps; an independent formulation on unwrapped copies. */
static bool lon_meet(double a0, double a1, double b0, double b1, double eps)
{
	if (a0 > a1)
		a1 += 360.0;
	for (int k = -1; k <= 1; ++k) {
		double c0 = b0 + 360.0 * k, c1 = b1 + 360.0 * k;
		if (c0 <= a1 + eps && c1 >= a0 - eps)
			return true;
	}
	return false;
}

TEST(box_cover_matches_brute_force)
{
	struct qchunk *c = mk(85, 12, 0.0);
	struct qchunk_ids all = { 0 };
	ASSERT_EQ(0, qchunk_all_chunks(c, &all));
	srand(11);
	for (int k = 0; k < 40; ++k) {
		double lon0 = frand(0, 360), w = frand(0.01, 40), lat0 = frand(-90, 85), h = frand(0.01, 20);
		double lat1 = fmin(lat0 + h, 90), lon1 = fmod(lon0 + w, 360.0);
		struct qchunk_region r;
		ASSERT_EQ(0, qchunk_region_box(&r, lon0, lat0, lon1, lat1, NULL, 0));
		struct qchunk_ids ids = { 0 };
		ASSERT_EQ(0, qchunk_chunks_in(c, &r, &ids));
		for (size_t i = 0; i < all.n; ++i) {
			struct qchunk_box b;
			qchunk_chunk_bounds(c, all.v[i], &b);
			bool lat_in = b.lat_min <= lat1 && b.lat_max >= lat0;
			bool must = lat_in && lon_meet(lon0, lon1, b.lon_min, b.lon_max, -1e-6) &&
				    b.lat_min < lat1 - 1e-6 && b.lat_max > lat0 + 1e-6;
			bool may = b.lat_min <= lat1 + 1e-6 && b.lat_max >= lat0 - 1e-6 &&
				   lon_meet(lon0, lon1, b.lon_min, b.lon_max, 1e-6);
			bool got = has(&ids, all.v[i]);
			if (must)
				ASSERT_TRUE(got) TH_LOG("box %g %g %g %g missed chunk %d", lon0, lat0, lon1, lat1, all.v[i]);
			if (!may)
				ASSERT_FALSE(got) TH_LOG("box %g %g %g %g extra chunk %d", lon0, lat0, lon1, lat1, all.v[i]);
		}
		qchunk_ids_free(&ids);
	}
	qchunk_ids_free(&all);
	qchunk_free(c);
}

/* The 16-gon around an ellipse contains every point of the ellipse. */
TEST(ellipse_bound_contains_ellipse)
{
	srand(13);
	int inside = 0;
	for (int k = 0; k < 50; ++k) {
		struct qchunk_region e, p;
		double clon = frand(0, 360), clat = frand(-90, 90), M = frand(1, 36000);
		double m = M * frand(0.01, 1.0);
		ASSERT_EQ(0, qchunk_region_ellipse(&e, clon, clat, M, m, frand(-360, 360), NULL, 0));
		ASSERT_EQ(16, e.u.ellipse.bn);
		ASSERT_EQ(0, qchunk_region_poly(&p, e.u.ellipse.blon, e.u.ellipse.blat, 16, NULL, 0));
		double d = M / 3600.0 * 1.1;
		for (int i = 0; i < 2000; ++i) {
			double lat = fmax(-90, fmin(90, clat + frand(-d, d)));
			double lon = clon + frand(-d, d) / fmax(cos(lat * M_PI / 180), 1e-3);
			if (!qchunk_region_contains(&e, lon, lat))
				continue;
			inside++;
			ASSERT_TRUE(qchunk_region_contains(&p, lon, lat))
				TH_LOG("ellipse %g %g %g %g: point %g %g outside its bound", clon, clat, M, m, lon, lat);
		}
	}
	ASSERT_GT(inside, 5000);
}

TEST_HARNESS_MAIN
