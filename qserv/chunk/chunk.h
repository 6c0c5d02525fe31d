/* chunk.h: Qserv's spherical partitioning (libqchunk.a).
 *
 * The sky is cut into num_stripes latitude stripes of height 180/S degrees;
 * each stripe into chunks whose count comes from qchunk_segments(), each
 * stripe into SS sub-stripes of height 180/(S*SS), and each sub-stripe into
 * sub-chunks (segments of the sub-stripe divided by the stripe's chunk count,
 * per chunk).  Identifiers follow Qserv exactly (src/partition/Chunker.h and
 * lsst/sphgeom Chunker):
 *
 *   chunkId    = stripe * 2 * S + chunk
 *   subChunkId = (subStripe - stripe * SS) * M + (subChunk - chunk * nsc)
 *
 * where M is the largest sub-chunks-per-chunk count of any sub-stripe and
 * nsc the count of the row's sub-stripe.  Known values: S=85, SS=12 gives
 * 169 chunks in the equatorial stripe and 8,983 chunks on the sky; S=340,
 * SS=3 gives 146,332.
 *
 * Overlap: a position also belongs, as an overlap row, to every sub-chunk
 * (of the same or a neighbouring chunk) whose box expanded by the overlap
 * radius R contains it; the longitude expansion is alpha(R, |lat|max) and
 * wraps at RA 0/360.  Parameter checks are Qserv's: S, SS >= 1, R in
 * [0, 10] deg, R no larger than a sub-stripe height and alpha(R) no larger
 * than a sub-chunk width.
 *
 * All angles are degrees; longitudes are reduced into [0, 360).  The library
 * never logs; functions return 0 or a negative errno and, where a caller
 * needs to tell a user why, fill an err buffer.  A struct qchunk is
 * immutable after qchunk_new() and can be shared by threads. */
#ifndef QSERV_CHUNK_H
#define QSERV_CHUNK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct qchunk;

/* One location of a position: its chunk and sub-chunk, and whether it is an
 * overlap (copy) location rather than the position's own. */
struct qchunk_loc {
	int32_t chunk_id;
	int32_t sub_chunk_id;
	bool overlap;
};

/* A growable array of locations; zero-initialise, release with
 * qchunk_locs_free().  The functions filling it append. */
struct qchunk_locs {
	struct qchunk_loc *v;
	size_t n, cap;
};

/* A growable array of ids (chunk or sub-chunk ids), ascending where the
 * producing function says so; zero-initialise, qchunk_ids_free(). */
struct qchunk_ids {
	int32_t *v;
	size_t n, cap;
};

/* A longitude/latitude box.  lon_min > lon_max means the box wraps through
 * RA 0/360 (e.g. 350..10).  A box with lon_min == 0 and lon_max == 360 is
 * a full band. */
struct qchunk_box {
	double lon_min, lon_max, lat_min, lat_max;
};

/* -- parameters and layout ------------------------------------------------ */

/* Qserv's segments(): how many equal-width segments a latitude range is cut
 * into so that points one segment apart are >= width degrees apart. */
int qchunk_segments(double lat_min, double lat_max, double width);

/* Qserv's maxAlpha(): the largest half-width in longitude of a circle of
 * radius r (deg) centred at latitude center_lat; 180 near the poles. */
double qchunk_max_alpha(double r, double center_lat);

/* Reduce a longitude into [0, 360). */
double qchunk_reduce_lon(double lon);

/* Builds a chunker.  overlap is the overlap radius R in degrees.  Returns 0,
 * -EINVAL with a message in err (Qserv's wording) for bad parameters, or
 * -ENOMEM.  *ret is untouched on failure. */
int qchunk_new(int32_t num_stripes, int32_t num_sub_stripes, double overlap,
	       struct qchunk **ret, char *err, size_t errlen);
void qchunk_free(struct qchunk *c);

int32_t qchunk_num_stripes(const struct qchunk *c);
int32_t qchunk_num_sub_stripes(const struct qchunk *c);	/* per stripe */
double qchunk_overlap(const struct qchunk *c);
/* Chunks in one stripe (0 if stripe is out of range). */
int32_t qchunk_chunks_in_stripe(const struct qchunk *c, int32_t stripe);
/* Chunks on the whole sky. */
int64_t qchunk_total_chunks(const struct qchunk *c);
/* M: largest number of sub-chunks per chunk in any sub-stripe. */
int32_t qchunk_max_sub_chunks_per_chunk(const struct qchunk *c);

/* True if chunk_id names a chunk of this layout. */
bool qchunk_chunk_valid(const struct qchunk *c, int32_t chunk_id);
/* True if sub_chunk_id names a sub-chunk of chunk chunk_id. */
bool qchunk_sub_chunk_valid(const struct qchunk *c, int32_t chunk_id, int32_t sub_chunk_id);

/* Bounds of a chunk / sub-chunk (lon_min < lon_max, never wrapping).
 * -EINVAL for an id that is not valid. */
int qchunk_chunk_bounds(const struct qchunk *c, int32_t chunk_id, struct qchunk_box *ret);
int qchunk_sub_chunk_bounds(const struct qchunk *c, int32_t chunk_id, int32_t sub_chunk_id,
			    struct qchunk_box *ret);

/* Every chunk id of the sky, ascending.  0 or -ENOMEM. */
int qchunk_all_chunks(const struct qchunk *c, struct qchunk_ids *ret);
/* Every sub-chunk id of one chunk, ascending.  0, -EINVAL or -ENOMEM. */
int qchunk_all_sub_chunks(const struct qchunk *c, int32_t chunk_id, struct qchunk_ids *ret);

/* -- locating positions --------------------------------------------------- */

/* The position's own (non-overlap) chunk and sub-chunk.  lon is reduced
 * into [0, 360); lat must lie in [-90, 90] and both must be finite, else
 * -EDOM. */
int qchunk_locate(const struct qchunk *c, double lon, double lat, struct qchunk_loc *ret);

/* Appends every location of the position: its own first, then overlap
 * locations (none when R is 0).  With chunk_id >= 0 only locations in that
 * chunk are appended (Qserv's locate(pos, chunkId, locs)).  0, -EDOM or
 * -ENOMEM. */
int qchunk_locate_all(const struct qchunk *c, double lon, double lat, int32_t chunk_id,
		      struct qchunk_locs *locs);

void qchunk_locs_free(struct qchunk_locs *locs);
void qchunk_ids_free(struct qchunk_ids *ids);

/* -- regions (qserv_areaspec_* and the scisql s2PtIn* shapes) -------------- */

enum qchunk_region_kind {
	QCHUNK_REGION_BOX,
	QCHUNK_REGION_CIRCLE,
	QCHUNK_REGION_ELLIPSE,
	QCHUNK_REGION_POLY,
};

#define QCHUNK_POLY_MAX 64	/* vertices of a convex polygon */

/* A region, filled by one of the qchunk_region_* constructors, which check
 * the arguments with scisql's rules. Plain data: copy freely. */
struct qchunk_region {
	enum qchunk_region_kind kind;
	union {
		struct qchunk_box box;
		struct { double lon, lat, radius; } circle;	/* deg */
		struct {
			double lon, lat;		/* centre, deg */
			double semi_major, semi_minor;	/* arcsec, as scisql */
			double pos_angle;		/* deg east of north */
			/* a convex polygon containing the ellipse (bn = 0: none),
			 * used to cover it more tightly than its circle */
			int bn;
			double blon[16], blat[16], bedge[16][3];
		} ellipse;
		struct {
			int n;
			double lon[QCHUNK_POLY_MAX], lat[QCHUNK_POLY_MAX];
			double edge[QCHUNK_POLY_MAX][3];	/* inward edge normals */
		} poly;
	} u;
};

/* qserv_areaspec_box(lonMin, latMin, lonMax, latMax): lat_min <= lat_max,
 * both in [-90, 90]; lon_min > lon_max wraps through 0; an extent of 360 or
 * more is a full band.  0 or -EINVAL (message in err). */
int qchunk_region_box(struct qchunk_region *ret, double lon_min, double lat_min,
		      double lon_max, double lat_max, char *err, size_t errlen);
/* qserv_areaspec_circle(lon, lat, radius): radius in [0, 180] deg. */
int qchunk_region_circle(struct qchunk_region *ret, double lon, double lat, double radius,
			 char *err, size_t errlen);
/* qserv_areaspec_ellipse(lon, lat, semiMajor", semiMinor", posAngle):
 * 0 <= semi_minor <= semi_major <= 36000 arcsec (10 deg). */
int qchunk_region_ellipse(struct qchunk_region *ret, double lon, double lat, double semi_major,
			  double semi_minor, double pos_angle, char *err, size_t errlen);
/* qserv_areaspec_poly(lon1, lat1, lon2, lat2, ...): 3..QCHUNK_POLY_MAX
 * vertices of a convex polygon, in either winding order; edges are great
 * circle arcs.  Degenerate or non-convex polygons are -EINVAL. */
int qchunk_region_poly(struct qchunk_region *ret, const double *lon, const double *lat, int n,
		       char *err, size_t errlen);

/* Point in region, with scisql's semantics (boundary counts as inside). */
bool qchunk_region_contains(const struct qchunk_region *r, double lon, double lat);

/* Conservative box-region test: false only when the region and the box
 * certainly do not intersect. */
bool qchunk_region_may_intersect(const struct qchunk_region *r, const struct qchunk_box *b);

/* Appends, ascending, the ids of every chunk the region may intersect.
 * Never misses a chunk; may include a chunk that the region only touches
 * within rounding or, for an ellipse, that meets a 16-gon around it but
 * not the ellipse itself.  0 or -ENOMEM. */
int qchunk_chunks_in(const struct qchunk *c, const struct qchunk_region *r, struct qchunk_ids *ret);

/* Appends, ascending, the ids of the sub-chunks of chunk_id the region may
 * intersect (same guarantee).  0, -EINVAL (bad chunk id) or -ENOMEM. */
int qchunk_sub_chunks_in(const struct qchunk *c, const struct qchunk_region *r, int32_t chunk_id,
			 struct qchunk_ids *ret);

/* Angular separation in degrees of two positions (scisql_angSep's formula). */
double qchunk_ang_sep(double lon1, double lat1, double lon2, double lat2);

#endif
