/* layout_test.c: libqchunk's stripe/chunk/sub-chunk layout, locate() and
 * overlap, against values computed outside this library:
 *  - chunk counts 169 / 8,983 (S=85, SS=12) and 146,332 (S=340, SS=3):
 *    the values Qserv's documentation and the issue quote;
 *  - AllSubChunks of chunk 9630 (S=85, SS=12): lsst/sphgeom
 *    tests/testChunker.cc;
 *  - the locate() table: a Python transcription of Qserv's
 *    src/partition/Chunker.cc run outside this code base;
 *  - overlap: a brute-force search over every sub-chunk of the neighbouring
 *    sub-stripes with the definition "the R-expanded box (lat +- R,
 *    lon +- alpha) contains the point", for random points. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <kselftest_harness.h>

#include "../chunk.h"

static struct qchunk *mk(int32_t s, int32_t ss, double r)
{
	char err[256];
	struct qchunk *c = NULL;
	int rc = qchunk_new(s, ss, r, &c, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "# qchunk_new: %s\n", err);
	return c;
}

TEST(known_chunk_counts)
{
	struct qchunk *c = mk(85, 12, 0.01667);
	ASSERT_NE(NULL, c);
	EXPECT_EQ(169, qchunk_chunks_in_stripe(c, 42));
	EXPECT_EQ(8983, qchunk_total_chunks(c));
	EXPECT_EQ(69, qchunk_max_sub_chunks_per_chunk(c));
	struct qchunk_ids ids = { 0 };
	ASSERT_EQ(0, qchunk_all_chunks(c, &ids));
	EXPECT_EQ(8983, (int)ids.n);
	for (size_t i = 1; i < ids.n; ++i)
		ASSERT_LT(ids.v[i - 1], ids.v[i]);
	for (size_t i = 0; i < ids.n; ++i)
		ASSERT_TRUE(qchunk_chunk_valid(c, ids.v[i]));
	qchunk_ids_free(&ids);
	qchunk_free(c);
	c = mk(340, 3, 0.0);
	ASSERT_NE(NULL, c);
	EXPECT_EQ(146332, qchunk_total_chunks(c));
	qchunk_free(c);
}

TEST(segments_values)
{
	/* Near the pole a stripe is a single segment; a 180 deg width is 1. */
	EXPECT_EQ(1, qchunk_segments(89.0, 90.0, 1.0));
	EXPECT_EQ(1, qchunk_segments(0.0, 1.0, 180.0));
	/* Off the equator a segment must be wider than w: 359, not 360. */
	EXPECT_EQ(359, qchunk_segments(-0.5, 0.5, 1.0));
	EXPECT_EQ(169, qchunk_segments(-1.0588235294117647, 1.0588235294117647, 180.0 / 85));
}

TEST(sphgeom_all_sub_chunks_9630)
{
	static const int32_t want[] = {
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
		69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80,
		138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149,
		207, 208, 209, 210, 211, 212, 213, 214, 215, 216, 217, 218,
		276, 277, 278, 279, 280, 281, 282, 283, 284, 285, 286, 287,
		345, 346, 347, 348, 349, 350, 351, 352, 353, 354, 355, 356,
		414, 415, 416, 417, 418, 419, 420, 421, 422, 423, 424, 425,
		483, 484, 485, 486, 487, 488, 489, 490, 491, 492, 493, 494,
		552, 553, 554, 555, 556, 557, 558, 559, 560, 561, 562, 563,
		621, 622, 623, 624, 625, 626, 627, 628, 629, 630, 631, 632,
		690, 691, 692, 693, 694, 695, 696, 697, 698, 699, 700, 701,
		759, 760, 761, 762, 763, 764, 765, 766, 767, 768, 769, 770,
	};
	struct qchunk *c = mk(85, 12, 0.0);
	ASSERT_NE(NULL, c);
	struct qchunk_ids ids = { 0 };
	ASSERT_EQ(0, qchunk_all_sub_chunks(c, 9630, &ids));
	ASSERT_EQ(sizeof(want) / sizeof(want[0]), ids.n);
	for (size_t i = 0; i < ids.n; ++i)
		EXPECT_EQ(want[i], ids.v[i]);
	EXPECT_EQ(-EINVAL, qchunk_all_sub_chunks(c, 56 * 170 + qchunk_chunks_in_stripe(c, 56), &ids));
	EXPECT_FALSE(qchunk_chunk_valid(c, 56 * 170 + qchunk_chunks_in_stripe(c, 56)));
	EXPECT_FALSE(qchunk_chunk_valid(c, -1));
	EXPECT_FALSE(qchunk_chunk_valid(c, 85 * 170));
	qchunk_ids_free(&ids);
	qchunk_free(c);
}

struct locate_case {
	int32_t s, ss;
	double lon, lat;
	int32_t chunk, sub;
};

/* From the Python transcription of Chunker.cc (see the file comment). */
static const struct locate_case locate_cases[] = {
	{ 85, 12, 10, 45, 10713, 624 },
	{ 85, 12, 0.5, 0.5, 7140, 554 },
	{ 85, 12, 359.99, -89.9, 0, 0 },
	{ 85, 12, 180, 89.95, 14280, 759 },
	{ 85, 12, 123.456, -33.3, 4467, 629 },
	{ 85, 12, 271.2, 12.7, 8284, 348 },
	{ 85, 12, 0, -90, 0, 0 },
	{ 85, 12, 359.9999, 90, 14280, 759 },
	{ 18, 100, 10, 45, 468, 30970 },
	{ 18, 100, 123.456, -33.3, 189, 41434 },
	{ 18, 100, 271.2, 12.7, 384, 16777 },
};

TEST(locate_table)
{
	for (size_t i = 0; i < sizeof(locate_cases) / sizeof(locate_cases[0]); ++i) {
		const struct locate_case *t = &locate_cases[i];
		struct qchunk *c = mk(t->s, t->ss, 0.0);
		ASSERT_NE(NULL, c);
		struct qchunk_loc loc;
		ASSERT_EQ(0, qchunk_locate(c, t->lon, t->lat, &loc));
		EXPECT_EQ(t->chunk, loc.chunk_id) TH_LOG("case %zu", i);
		EXPECT_EQ(t->sub, loc.sub_chunk_id) TH_LOG("case %zu", i);
		EXPECT_FALSE(loc.overlap);
		qchunk_free(c);
	}
}

TEST(locate_wraps_and_rejects)
{
	struct qchunk *c = mk(85, 12, 0.01667);
	struct qchunk_loc a, b;
	ASSERT_EQ(0, qchunk_locate(c, -10.0, 3.0, &a));
	ASSERT_EQ(0, qchunk_locate(c, 350.0, 3.0, &b));
	EXPECT_EQ(a.chunk_id, b.chunk_id);
	EXPECT_EQ(a.sub_chunk_id, b.sub_chunk_id);
	ASSERT_EQ(0, qchunk_locate(c, 360.0, 3.0, &a));
	ASSERT_EQ(0, qchunk_locate(c, 0.0, 3.0, &b));
	EXPECT_EQ(a.chunk_id, b.chunk_id);
	EXPECT_EQ(-EDOM, qchunk_locate(c, 0.0, 90.0001, &a));
	EXPECT_EQ(-EDOM, qchunk_locate(c, 0.0, -91, &a));
	EXPECT_EQ(-EDOM, qchunk_locate(c, NAN, 0, &a));
	EXPECT_EQ(-EDOM, qchunk_locate(c, INFINITY, 0, &a));
	qchunk_free(c);
}

TEST(parameter_checks)
{
	char err[256];
	struct qchunk *c = (struct qchunk *)0x1;
	EXPECT_EQ(-EINVAL, qchunk_new(0, 12, 0.0, &c, err, sizeof(err)));
	EXPECT_EQ(-EINVAL, qchunk_new(85, 0, 0.0, &c, err, sizeof(err)));
	EXPECT_EQ(-EINVAL, qchunk_new(85, 12, -0.1, &c, err, sizeof(err)));
	EXPECT_EQ(-EINVAL, qchunk_new(1, 1, 10.5, &c, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "[0, 10]"));
	/* sub-stripe height 180/1020 = 0.176 deg < 0.2 */
	EXPECT_EQ(-EINVAL, qchunk_new(85, 12, 0.2, &c, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "sub-stripe height"));
	EXPECT_EQ(-EINVAL, qchunk_new(85, 12, NAN, &c, err, sizeof(err)));
	EXPECT_EQ(-EINVAL, qchunk_new(40000, 1, 0.0, &c, err, sizeof(err)));	/* ids overflow */
	EXPECT_EQ(-EINVAL, qchunk_new(1000, 1000, 0.0, &c, err, sizeof(err)));	/* < 1" sub-stripes */
	/* output untouched on failure */
	EXPECT_EQ((struct qchunk *)0x1, c);
	c = NULL;
	/* fits the sub-stripe height but alpha exceeds a polar sub-chunk */
	EXPECT_EQ(-EINVAL, qchunk_new(85, 12, 0.176, &c, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "sub-chunk width"));
	ASSERT_EQ(0, qchunk_new(85, 12, 0.01667, &c, err, sizeof(err)));
	qchunk_free(c);
}

/* Every sub-chunk of the layout: ids and bounds tile the chunk. */
TEST(bounds_contain_located_points)
{
	struct qchunk *c = mk(85, 12, 0.0);
	srand(1);
	for (int i = 0; i < 20000; ++i) {
		double lon = 360.0 * rand() / ((double)RAND_MAX + 1);
		double lat = asin(2.0 * rand() / RAND_MAX - 1.0) * 180.0 / M_PI;
		struct qchunk_loc loc;
		struct qchunk_box cb, sb;
		ASSERT_EQ(0, qchunk_locate(c, lon, lat, &loc));
		/* chunkId = stripe * 2S + chunk with stripe from the latitude */
		int32_t stripe = (int32_t)floor((lat + 90.0) / (180.0 / 85));
		if (stripe > 84)
			stripe = 84;
		ASSERT_EQ(stripe, loc.chunk_id / 170);
		ASSERT_EQ(0, qchunk_chunk_bounds(c, loc.chunk_id, &cb));
		ASSERT_EQ(0, qchunk_sub_chunk_bounds(c, loc.chunk_id, loc.sub_chunk_id, &sb));
		ASSERT_TRUE(lon >= cb.lon_min && lon <= cb.lon_max && lat >= cb.lat_min - 1e-9 &&
			    lat <= cb.lat_max + 1e-9);
		ASSERT_TRUE(lon >= sb.lon_min && lon <= sb.lon_max && lat >= sb.lat_min - 1e-9 &&
			    lat <= sb.lat_max + 1e-9);
		ASSERT_TRUE(sb.lon_min >= cb.lon_min - 1e-9 && sb.lon_max <= cb.lon_max + 1e-9);
	}
	qchunk_free(c);
}

/* Brute force: every (chunk, sub-chunk) in sub-stripes ss-1..ss+1 other
 * than the point's own, whose R-expanded box contains the point. */
static int brute_overlaps(struct qchunk *c, int32_t S, int32_t SS, double R, double lon,
			  double lat, int32_t own_chunk, int32_t own_sub, struct qchunk_locs *out)
{
	double h = 180.0 / (S * SS);
	int32_t ss0 = (int32_t)floor((lat + 90.0) / h);
	if (ss0 >= S * SS)
		ss0 = S * SS - 1;
	int32_t M = qchunk_max_sub_chunks_per_chunk(c);
	int n = 0;
	for (int32_t ss = ss0 - 1; ss <= ss0 + 1; ++ss) {
		if (ss < 0 || ss >= S * SS)
			continue;
		int32_t stripe = ss / SS;
		double lat_min = ss * h - 90.0, lat_max = (ss + 1) * h - 90.0;
		if (!(lat >= lat_min - R && lat <= lat_max + R))
			continue;
		double alpha = qchunk_max_alpha(R, fmax(fabs(lat_min), fabs(lat_max)));
		for (int32_t k = 0; k < qchunk_chunks_in_stripe(c, stripe); ++k) {
			int32_t chunk_id = stripe * 2 * S + k;
			for (int32_t j = 0; j < M; ++j) {
				int32_t sub = (ss - stripe * SS) * M + j;
				struct qchunk_box b;
				if (qchunk_sub_chunk_bounds(c, chunk_id, sub, &b) < 0)
					break;
				if (chunk_id == own_chunk && sub == own_sub)
					continue;
				double d = lon;	/* wrap to the box's nearest copy */
				if (d < b.lon_min - alpha)
					d += 360.0;
				if (d > b.lon_max + alpha)
					d -= 360.0;
				if (d >= b.lon_min - alpha && d <= b.lon_max + alpha) {
					out->v[n].chunk_id = chunk_id;
					out->v[n].sub_chunk_id = sub;
					n++;
				}
			}
		}
	}
	return n;
}

static int loc_cmp(const void *a, const void *b)
{
	const struct qchunk_loc *x = a, *y = b;
	if (x->chunk_id != y->chunk_id)
		return x->chunk_id < y->chunk_id ? -1 : 1;
	return x->sub_chunk_id < y->sub_chunk_id ? -1 : x->sub_chunk_id > y->sub_chunk_id;
}

static void check_overlap(struct __test_metadata *_metadata, int32_t S, int32_t SS, double R,
			  int npoints, double lat_lo, double lat_hi)
{
	struct qchunk *c = mk(S, SS, R);
	ASSERT_NE(NULL, c);
	struct qchunk_loc want_buf[64];
	struct qchunk_locs want = { want_buf, 0, 64 };
	int with_overlap = 0;
	for (int i = 0; i < npoints; ++i) {
		double lon = 360.0 * rand() / ((double)RAND_MAX + 1);
		double lat = lat_lo + (lat_hi - lat_lo) * rand() / ((double)RAND_MAX + 1);
		struct qchunk_locs got = { 0 };
		ASSERT_EQ(0, qchunk_locate_all(c, lon, lat, -1, &got));
		ASSERT_GE(got.n, 1);
		ASSERT_FALSE(got.v[0].overlap);
		int n = brute_overlaps(c, S, SS, R, lon, lat, got.v[0].chunk_id,
				       got.v[0].sub_chunk_id, &want);
		ASSERT_EQ((size_t)n, got.n - 1) TH_LOG("lon %.9f lat %.9f", lon, lat);
		for (size_t k = 1; k < got.n; ++k)
			ASSERT_TRUE(got.v[k].overlap);
		qsort(got.v + 1, got.n - 1, sizeof(got.v[0]), loc_cmp);
		qsort(want.v, n, sizeof(want.v[0]), loc_cmp);
		for (int k = 0; k < n; ++k) {
			ASSERT_EQ(want.v[k].chunk_id, got.v[k + 1].chunk_id);
			ASSERT_EQ(want.v[k].sub_chunk_id, got.v[k + 1].sub_chunk_id);
		}
		/* restricting to one chunk keeps exactly that chunk's entries */
		struct qchunk_locs one = { 0 };
		int32_t pick = got.v[got.n - 1].chunk_id;
		ASSERT_EQ(0, qchunk_locate_all(c, lon, lat, pick, &one));
		size_t cnt = 0;
		for (size_t k = 0; k < got.n; ++k)
			cnt += got.v[k].chunk_id == pick;
		ASSERT_EQ(cnt, one.n);
		with_overlap += n > 0;
		qchunk_locs_free(&one);
		qchunk_locs_free(&got);
	}
	/* the sample must exercise overlap at all */
	ASSERT_GT(with_overlap, npoints / 20);
	qchunk_free(c);
}

TEST(overlap_matches_brute_force_mid)
{
	srand(2);
	check_overlap(_metadata, 85, 12, 0.01667, 3000, -60.0, 60.0);
}

TEST(overlap_matches_brute_force_large_radius)
{
	srand(3);
	check_overlap(_metadata, 18, 10, 0.9, 1500, -85.0, 85.0);
}

TEST(overlap_wraps_at_ra_zero)
{
	struct qchunk *c = mk(85, 12, 0.01667);
	struct qchunk_locs got = { 0 };
	ASSERT_EQ(0, qchunk_locate_all(c, 0.001, 0.5, -1, &got));
	struct qchunk_loc own = got.v[0];
	int wrapped = 0;
	for (size_t k = 1; k < got.n; ++k) {
		struct qchunk_box b;
		ASSERT_EQ(0, qchunk_sub_chunk_bounds(c, got.v[k].chunk_id, got.v[k].sub_chunk_id, &b));
		wrapped += b.lon_max > 359.0;
	}
	EXPECT_EQ(1, wrapped);	/* the last sub-chunk of the stripe, same sub-stripe */
	EXPECT_EQ(7140, own.chunk_id);
	qchunk_locs_free(&got);
	qchunk_free(c);
}

TEST(no_overlap_when_radius_zero)
{
	struct qchunk *c = mk(85, 12, 0.0);
	struct qchunk_locs got = { 0 };
	ASSERT_EQ(0, qchunk_locate_all(c, 0.0, 0.0, -1, &got));
	EXPECT_EQ(1, got.n);
	qchunk_locs_free(&got);
	qchunk_free(c);
}

TEST_HARNESS_MAIN
