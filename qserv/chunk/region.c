/* region.c: the query regions (box, circle, ellipse, convex polygon):
 * argument checks, point containment with scisql's semantics, and the
 * conservative region/box intersection test the chunk cover is built on.
 *
 * Containment follows scisql (src/udfs/s2PtIn*.c): the boundary counts as
 * inside; the angular separation is the haversine form scisql uses; the
 * ellipse test projects onto the (north, east) tangent basis at the centre
 * and, unlike scisql, also requires the point to lie in the centre's
 * hemisphere (scisql would accept the antipode of the centre).  Polygons
 * are stored counter-clockwise (edge normals v[i] x v[i+1] point inward),
 * whatever order the caller gave.
 *
 * Intersection with a box (a chunk or sub-chunk) is conservative: exact
 * geometry with a small tolerance for boxes, circles and polygons; an
 * ellipse must meet both its bounding circle (semi-major axis) and a
 * circumscribed 16-gon (an affine image of a regular 16-gon around the unit
 * circle, in scisql's orthographic coordinates; the great-circle edges
 * bulge outward in that projection, so the spherical polygon contains the
 * planar one and hence the ellipse).  A false
 * positive only costs the czar a chunk query that returns no rows; a false
 * negative would lose rows, so every doubt answers "may intersect". */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "chunk.h"
#include "chunk_internal.h"

#define EPS_DEG 1e-9		/* tolerance in degrees (~4 micro-arcsec) */
#define EPS_DOT 1e-12		/* tolerance on dot products of unit vectors */

void qchunk__vec(double lon, double lat, double v[3])
{
	double l = lon * QCHUNK_RAD, b = lat * QCHUNK_RAD;
	v[0] = cos(l) * cos(b);
	v[1] = sin(l) * cos(b);
	v[2] = sin(b);
}

static double dot(const double a[3], const double b[3])
{
	return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

static void cross(const double a[3], const double b[3], double r[3])
{
	r[0] = a[1] * b[2] - a[2] * b[1];
	r[1] = a[2] * b[0] - a[0] * b[2];
	r[2] = a[0] * b[1] - a[1] * b[0];
}

static double norm(const double a[3])
{
	return sqrt(dot(a, a));
}

double qchunk_ang_sep(double lon1, double lat1, double lon2, double lat2)
{
	double x = sin((lon1 - lon2) * QCHUNK_RAD * 0.5);
	double y = sin((lat1 - lat2) * QCHUNK_RAD * 0.5);
	double z = cos((lat1 + lat2) * QCHUNK_RAD * 0.5);
	x *= x;
	y *= y;
	z *= z;
	double d2 = 4.0 * (x * (z - y) + y);
	d2 = d2 < 0.0 ? 0.0 : (d2 > 4.0 ? 4.0 : d2);
	double a = 2.0 * QCHUNK_DEG * asin(sqrt(d2 * 0.25));
	return a > 180.0 ? 180.0 : a;
}

static bool lat_ok(double lat)
{
	return isfinite(lat) && lat >= -90.0 && lat <= 90.0;
}

int qchunk_region_box(struct qchunk_region *ret, double lon_min, double lat_min,
		      double lon_max, double lat_max, char *err, size_t errlen)
{
	if (!isfinite(lon_min) || !isfinite(lon_max) || !lat_ok(lat_min) || !lat_ok(lat_max)) {
		errbuf_printf(err, errlen, "box: latitudes must lie in [-90, 90] and values be finite");
		return -EINVAL;
	}
	if (lat_min > lat_max) {
		errbuf_printf(err, errlen, "box: latMin %g is greater than latMax %g", lat_min, lat_max);
		return -EINVAL;
	}
	if (lon_max < lon_min && (lon_max < 0.0 || lon_min > 360.0)) {
		errbuf_printf(err, errlen, "box: lonMax < lonMin with a longitude outside [0, 360]");
		return -EINVAL;
	}
	memset(ret, 0, sizeof(*ret));
	ret->kind = QCHUNK_REGION_BOX;
	if (lon_max - lon_min >= 360.0) {
		lon_min = 0.0;
		lon_max = 360.0;
	} else {
		lon_min = qchunk_reduce_lon(lon_min);
		lon_max = lon_max == 360.0 ? 360.0 : qchunk_reduce_lon(lon_max);
	}
	ret->u.box = (struct qchunk_box){ lon_min, lon_max, lat_min, lat_max };
	return 0;
}

int qchunk_region_circle(struct qchunk_region *ret, double lon, double lat, double radius,
			 char *err, size_t errlen)
{
	if (!isfinite(lon) || !lat_ok(lat) || !isfinite(radius) || radius < 0.0 || radius > 180.0) {
		errbuf_printf(err, errlen, "circle: need finite lon, lat in [-90, 90], radius in [0, 180] deg");
		return -EINVAL;
	}
	memset(ret, 0, sizeof(*ret));
	ret->kind = QCHUNK_REGION_CIRCLE;
	ret->u.circle.lon = qchunk_reduce_lon(lon);
	ret->u.circle.lat = lat;
	ret->u.circle.radius = radius;
	return 0;
}

static void ellipse_bound(struct qchunk_region *e);

int qchunk_region_ellipse(struct qchunk_region *ret, double lon, double lat, double semi_major,
			  double semi_minor, double pos_angle, char *err, size_t errlen)
{
	if (!isfinite(lon) || !lat_ok(lat) || !isfinite(pos_angle) || !isfinite(semi_major) ||
	    !isfinite(semi_minor)) {
		errbuf_printf(err, errlen, "ellipse: need finite values and lat in [-90, 90]");
		return -EINVAL;
	}
	if (semi_minor < 0.0 || semi_minor > semi_major || semi_major > 36000.0) {
		errbuf_printf(err, errlen,
			      "ellipse: need 0 <= semiMinor <= semiMajor <= 36000 arcsec (10 deg)");
		return -EINVAL;
	}
	memset(ret, 0, sizeof(*ret));
	ret->kind = QCHUNK_REGION_ELLIPSE;
	ret->u.ellipse.lon = qchunk_reduce_lon(lon);
	ret->u.ellipse.lat = lat;
	ret->u.ellipse.semi_major = semi_major;
	ret->u.ellipse.semi_minor = semi_minor;
	ret->u.ellipse.pos_angle = pos_angle;
	ellipse_bound(ret);
	return 0;
}

/* Stores edges v[i] x v[i+1] of the vertices in the given order. */
static void poly_edges(struct qchunk_region *r)
{
	int n = r->u.poly.n;
	for (int i = 0; i < n; ++i) {
		double a[3], b[3];
		int j = (i + 1) % n;
		qchunk__vec(r->u.poly.lon[i], r->u.poly.lat[i], a);
		qchunk__vec(r->u.poly.lon[j], r->u.poly.lat[j], b);
		cross(a, b, r->u.poly.edge[i]);
	}
}

/* True if every vertex lies on the inner side of every edge. */
static bool poly_convex(const struct qchunk_region *r)
{
	int n = r->u.poly.n;
	for (int k = 0; k < n; ++k) {
		double v[3];
		qchunk__vec(r->u.poly.lon[k], r->u.poly.lat[k], v);
		for (int i = 0; i < n; ++i)
			if (dot(v, r->u.poly.edge[i]) < -EPS_DOT)
				return false;
	}
	return true;
}

static void poly_reverse(struct qchunk_region *r)
{
	int n = r->u.poly.n;
	for (int i = 0, j = n - 1; i < j; ++i, --j) {
		double t = r->u.poly.lon[i];
		r->u.poly.lon[i] = r->u.poly.lon[j];
		r->u.poly.lon[j] = t;
		t = r->u.poly.lat[i];
		r->u.poly.lat[i] = r->u.poly.lat[j];
		r->u.poly.lat[j] = t;
	}
	poly_edges(r);
}

int qchunk_region_poly(struct qchunk_region *ret, const double *lon, const double *lat, int n,
		       char *err, size_t errlen)
{
	if (n < 3 || n > QCHUNK_POLY_MAX) {
		errbuf_printf(err, errlen, "polygon: need 3 to %d vertices, got %d", QCHUNK_POLY_MAX, n);
		return -EINVAL;
	}
	struct qchunk_region r;
	memset(&r, 0, sizeof(r));
	r.kind = QCHUNK_REGION_POLY;
	r.u.poly.n = n;
	for (int i = 0; i < n; ++i) {
		if (!isfinite(lon[i]) || !lat_ok(lat[i])) {
			errbuf_printf(err, errlen, "polygon: vertex %d: need finite lon and lat in [-90, 90]",
				      i + 1);
			return -EINVAL;
		}
		r.u.poly.lon[i] = qchunk_reduce_lon(lon[i]);
		r.u.poly.lat[i] = lat[i];
	}
	poly_edges(&r);
	for (int i = 0; i < n; ++i) {
		if (norm(r.u.poly.edge[i]) < 1e-12) {
			errbuf_printf(err, errlen, "polygon: vertices %d and %d coincide or are antipodal",
				      i + 1, (i + 1) % n + 1);
			return -EINVAL;
		}
	}
	/* Orientation: the centroid direction must be inside (CCW). */
	double c[3] = { 0, 0, 0 }, v[3];
	for (int i = 0; i < n; ++i) {
		qchunk__vec(r.u.poly.lon[i], r.u.poly.lat[i], v);
		c[0] += v[0], c[1] += v[1], c[2] += v[2];
	}
	double s = 0.0;
	for (int i = 0; i < n; ++i)
		s += dot(c, r.u.poly.edge[i]);
	if (s < 0.0)
		poly_reverse(&r);
	if (!poly_convex(&r)) {
		errbuf_printf(err, errlen, "polygon: vertices do not form a convex polygon");
		return -EINVAL;
	}
	*ret = r;
	return 0;
}

/* The circumscribed 16-gon of an ellipse (see the file comment); left
 * empty (bn = 0) for a degenerate ellipse or if the polygon check fails. */
static void ellipse_bound(struct qchunk_region *e)
{
	enum { N = 16 };
	double M = e->u.ellipse.semi_major / 3600.0 * QCHUNK_RAD;
	double m = e->u.ellipse.semi_minor / 3600.0 * QCHUNK_RAD;
	e->u.ellipse.bn = 0;
	if (m < 1e-9)
		return;
	double cl = e->u.ellipse.lon * QCHUNK_RAD, cb = e->u.ellipse.lat * QCHUNK_RAD;
	double pa = e->u.ellipse.pos_angle * QCHUNK_RAD;
	double C[3], Nv[3] = { -sin(cb) * cos(cl), -sin(cb) * sin(cl), cos(cb) };
	double E[3] = { -sin(cl), cos(cl), 0.0 }, A[3], B[3];
	qchunk__vec(e->u.ellipse.lon, e->u.ellipse.lat, C);
	for (int k = 0; k < 3; ++k) {
		A[k] = cos(pa) * Nv[k] + sin(pa) * E[k];	/* major axis */
		B[k] = cos(pa) * E[k] - sin(pa) * Nv[k];	/* minor axis */
	}
	double grow = 1.0 / cos(QCHUNK_PI / N) * (1.0 + 1e-9);
	double lon[N], lat[N];
	for (int i = 0; i < N; ++i) {
		double t = 2.0 * QCHUNK_PI * i / N;
		double px = M * cos(t) * grow, py = m * sin(t) * grow;
		double pz = sqrt(1.0 - px * px - py * py), w[3];
		for (int k = 0; k < 3; ++k)
			w[k] = px * A[k] + py * B[k] + pz * C[k];
		lon[i] = qchunk_reduce_lon(atan2(w[1], w[0]) * QCHUNK_DEG);
		lat[i] = asin(w[2] > 1.0 ? 1.0 : (w[2] < -1.0 ? -1.0 : w[2])) * QCHUNK_DEG;
	}
	struct qchunk_region p;
	if (qchunk_region_poly(&p, lon, lat, N, NULL, 0) < 0)
		return;
	e->u.ellipse.bn = N;
	memcpy(e->u.ellipse.blon, p.u.poly.lon, sizeof(e->u.ellipse.blon));
	memcpy(e->u.ellipse.blat, p.u.poly.lat, sizeof(e->u.ellipse.blat));
	memcpy(e->u.ellipse.bedge, p.u.poly.edge, sizeof(e->u.ellipse.bedge));
}

static bool lon_in(double lon, double lo, double hi)
{
	if (lo <= hi)
		return lon >= lo && lon <= hi;
	return lon >= lo || lon <= hi;
}

static bool ellipse_contains(const struct qchunk_region *r, double lon, double lat)
{
	double cl = r->u.ellipse.lon * QCHUNK_RAD, cb = r->u.ellipse.lat * QCHUNK_RAD;
	double pa = r->u.ellipse.pos_angle * QCHUNK_RAD;
	double M = r->u.ellipse.semi_major / 3600.0 * QCHUNK_RAD;
	double m = r->u.ellipse.semi_minor / 3600.0 * QCHUNK_RAD;
	double v[3], c[3];
	qchunk__vec(lon, lat, v);
	qchunk__vec(r->u.ellipse.lon, r->u.ellipse.lat, c);
	if (dot(v, c) < 0.0)
		return false;
	double xne = cos(cb) * v[2] - sin(cb) * (sin(cl) * v[1] + cos(cl) * v[0]);
	double yne = cos(cl) * v[1] - sin(cl) * v[0];
	double x = sin(pa) * yne + cos(pa) * xne;
	double y = cos(pa) * yne - sin(pa) * xne;
	/* scisql divides by m*m; a zero axis only admits points on the axis. */
	double tx = M > 0.0 ? x * x / (M * M) : (x == 0.0 ? 0.0 : INFINITY);
	double ty = m > 0.0 ? y * y / (m * m) : (y == 0.0 ? 0.0 : INFINITY);
	return tx + ty <= 1.0;
}

bool qchunk_region_contains(const struct qchunk_region *r, double lon, double lat)
{
	if (!isfinite(lon) || !lat_ok(lat))
		return false;
	lon = qchunk_reduce_lon(lon);
	switch (r->kind) {
	case QCHUNK_REGION_BOX: {
		const struct qchunk_box *b = &r->u.box;
		if (lat < b->lat_min || lat > b->lat_max)
			return false;
		if (b->lon_max - b->lon_min >= 360.0)
			return true;
		return lon_in(lon, b->lon_min, b->lon_max);
	}
	case QCHUNK_REGION_CIRCLE:
		return qchunk_ang_sep(lon, lat, r->u.circle.lon, r->u.circle.lat) <= r->u.circle.radius;
	case QCHUNK_REGION_ELLIPSE:
		return ellipse_contains(r, lon, lat);
	case QCHUNK_REGION_POLY: {
		double v[3];
		qchunk__vec(lon, lat, v);
		for (int i = 0; i < r->u.poly.n; ++i)
			if (dot(v, r->u.poly.edge[i]) < 0.0)
				return false;
		return true;
	}
	}
	return false;
}

/* -- region / box intersection ------------------------------------------- */

/* Longitude intervals [a0,a1] and [b0,b1] (each may wrap, lo > hi) meet. */
static bool lon_overlap(double a0, double a1, double b0, double b1)
{
	if (a1 - a0 >= 360.0 || b1 - b0 >= 360.0)
		return true;
	return lon_in(a0, b0, b1) || lon_in(b0, a0, a1);
}

/* Angular distance (deg) from p to the meridian arc at lon, lat in
 * [lat0, lat1]. */
static double dist_meridian(double plon, double plat, double lon, double lat0, double lat1)
{
	double dl = (plon - lon) * QCHUNK_RAD;
	/* Closest point of the full meridian half-circle at lon: the latitude
	 * of p's projection onto the meridian plane, when on lon's side. */
	double pc = cos(plat * QCHUNK_RAD) * cos(dl);
	double plat_proj = atan2(sin(plat * QCHUNK_RAD), pc) * QCHUNK_DEG;
	if (pc > 0.0 && plat_proj >= lat0 && plat_proj <= lat1) {
		double s = fabs(cos(plat * QCHUNK_RAD) * sin(dl));
		return asin(s > 1.0 ? 1.0 : s) * QCHUNK_DEG;
	}
	return fmin(qchunk_ang_sep(plon, plat, lon, lat0), qchunk_ang_sep(plon, plat, lon, lat1));
}

/* Angular distance from p to the latitude arc lat, lon in [lon0, lon1]
 * (may wrap): along p's meridian if it crosses the arc, else the nearer
 * end (distance is monotonic in longitude difference). */
static double dist_parallel(double plon, double plat, double lat, double lon0, double lon1)
{
	if (lon1 - lon0 >= 360.0 || lon_in(plon, lon0, lon1))
		return fabs(plat - lat);
	return fmin(qchunk_ang_sep(plon, plat, lon0, lat), qchunk_ang_sep(plon, plat, lon1, lat));
}

static bool circle_may_intersect(double lon, double lat, double radius, const struct qchunk_box *b)
{
	if (radius >= 180.0)
		return true;
	struct qchunk_region box;
	box.kind = QCHUNK_REGION_BOX;
	box.u.box = *b;
	if (qchunk_region_contains(&box, lon, lat))
		return true;
	double r = radius + EPS_DEG;
	if (dist_parallel(lon, lat, b->lat_min, b->lon_min, b->lon_max) <= r ||
	    dist_parallel(lon, lat, b->lat_max, b->lon_min, b->lon_max) <= r)
		return true;
	if (b->lon_max - b->lon_min >= 360.0)
		return false;
	return dist_meridian(lon, lat, b->lon_min, b->lat_min, b->lat_max) <= r ||
	       dist_meridian(lon, lat, b->lon_max, b->lat_min, b->lat_max) <= r;
}

/* p (unit) lies on the great-circle arc a->b with normal n = a x b. */
static bool on_arc(const double a[3], const double b[3], const double n[3], const double p[3])
{
	double t[3];
	cross(a, p, t);
	if (dot(t, n) < -EPS_DOT)
		return false;
	cross(p, b, t);
	return dot(t, n) >= -EPS_DOT;
}

/* Polygon edge a->b crosses the meridian arc lon, [lat0, lat1]. */
static bool edge_meets_meridian(const double a[3], const double b[3], const double n[3],
				double lon, double lat0, double lat1)
{
	double m[3] = { -sin(lon * QCHUNK_RAD), cos(lon * QCHUNK_RAD), 0.0 };
	double p[3];
	cross(n, m, p);
	double l = norm(p);
	if (l < 1e-15)
		return true;	/* same great circle: let vertex tests decide, stay safe */
	for (int s = 0; s < 2; ++s) {
		double q[3] = { p[0] / l, p[1] / l, p[2] / l };
		if (s) {
			q[0] = -q[0], q[1] = -q[1], q[2] = -q[2];
		}
		double along = q[0] * cos(lon * QCHUNK_RAD) + q[1] * sin(lon * QCHUNK_RAD);
		double qlat = asin(q[2] > 1.0 ? 1.0 : (q[2] < -1.0 ? -1.0 : q[2])) * QCHUNK_DEG;
		bool pole = fabs(qlat) > 90.0 - EPS_DEG;
		if ((along >= -EPS_DOT || pole) && qlat >= lat0 - EPS_DEG && qlat <= lat1 + EPS_DEG &&
		    on_arc(a, b, n, q))
			return true;
	}
	return false;
}

/* Polygon edge a->b crosses the parallel lat, lon in [lon0, lon1]. */
static bool edge_meets_parallel(const double a[3], const double b[3], const double n[3],
				double lat, double lon0, double lon1)
{
	double z0 = sin(lat * QCHUNK_RAD);
	double rho2 = 1.0 - z0 * z0;
	double u = n[0] * n[0] + n[1] * n[1];
	if (u < 1e-24)
		return fabs(lat) < EPS_DEG;	/* edge on the equator */
	double d = -n[2] * z0;
	double h2 = rho2 - d * d / u;
	if (h2 < -EPS_DOT)
		return false;
	double h = h2 > 0.0 ? sqrt(h2) : 0.0;
	double su = sqrt(u);
	for (int s = -1; s <= 1; s += 2) {
		double q[3] = { n[0] * d / u + s * (-n[1]) * h / su, n[1] * d / u + s * n[0] * h / su, z0 };
		double l = norm(q);
		q[0] /= l, q[1] /= l, q[2] /= l;
		double qlon = qchunk_reduce_lon(atan2(q[1], q[0]) * QCHUNK_DEG);
		bool in_lon = lon1 - lon0 >= 360.0 || lon_in(qlon, lon0 - EPS_DEG, lon1 + EPS_DEG) ||
			      lon_in(qlon + 360.0, lon0 - EPS_DEG, lon1 + EPS_DEG);
		if (in_lon && on_arc(a, b, n, q))
			return true;
	}
	return false;
}

static bool poly_may_intersect(int n, const double *plon, const double *plat,
			       const double (*edge)[3], const struct qchunk_box *b)
{
	struct qchunk_region box;
	box.kind = QCHUNK_REGION_BOX;
	box.u.box = (struct qchunk_box){ b->lon_min - EPS_DEG, b->lon_max + EPS_DEG,
					 b->lat_min - EPS_DEG, b->lat_max + EPS_DEG };
	if (box.u.box.lon_max - box.u.box.lon_min < 360.0) {
		box.u.box.lon_min = qchunk_reduce_lon(box.u.box.lon_min);
		box.u.box.lon_max = qchunk_reduce_lon(box.u.box.lon_max);
	}
	for (int i = 0; i < n; ++i)
		if (qchunk_region_contains(&box, plon[i], plat[i]))
			return true;
	double corner_lon[2] = { b->lon_min, b->lon_max }, corner_lat[2] = { b->lat_min, b->lat_max };
	for (int i = 0; i < 2; ++i)
		for (int j = 0; j < 2; ++j) {
			double v[3];
			qchunk__vec(corner_lon[i], corner_lat[j], v);
			bool in = true;
			for (int k = 0; k < n && in; ++k)
				in = dot(v, edge[k]) >= -EPS_DOT;
			if (in)
				return true;
		}
	bool full = b->lon_max - b->lon_min >= 360.0;
	for (int i = 0; i < n; ++i) {
		double a[3], c[3];
		const double *e = edge[i];
		int j = (i + 1) % n;
		qchunk__vec(plon[i], plat[i], a);
		qchunk__vec(plon[j], plat[j], c);
		if (edge_meets_parallel(a, c, e, b->lat_min, b->lon_min, b->lon_max) ||
		    edge_meets_parallel(a, c, e, b->lat_max, b->lon_min, b->lon_max))
			return true;
		if (!full && (edge_meets_meridian(a, c, e, b->lon_min, b->lat_min, b->lat_max) ||
			      edge_meets_meridian(a, c, e, b->lon_max, b->lat_min, b->lat_max)))
			return true;
	}
	return false;
}

bool qchunk_region_may_intersect(const struct qchunk_region *r, const struct qchunk_box *b)
{
	switch (r->kind) {
	case QCHUNK_REGION_BOX: {
		const struct qchunk_box *a = &r->u.box;
		if (a->lat_max < b->lat_min - EPS_DEG || a->lat_min > b->lat_max + EPS_DEG)
			return false;
		return lon_overlap(a->lon_min - EPS_DEG, a->lon_max + EPS_DEG, b->lon_min, b->lon_max) ||
		       lon_overlap(qchunk_reduce_lon(a->lon_min - EPS_DEG),
				   qchunk_reduce_lon(a->lon_max + EPS_DEG), b->lon_min, b->lon_max);
	}
	case QCHUNK_REGION_CIRCLE:
		return circle_may_intersect(r->u.circle.lon, r->u.circle.lat, r->u.circle.radius, b);
	case QCHUNK_REGION_ELLIPSE:
		if (!circle_may_intersect(r->u.ellipse.lon, r->u.ellipse.lat,
					  r->u.ellipse.semi_major / 3600.0, b))
			return false;
		return r->u.ellipse.bn == 0 ||
		       poly_may_intersect(r->u.ellipse.bn, r->u.ellipse.blon, r->u.ellipse.blat,
					  (const double (*)[3])r->u.ellipse.bedge, b);
	case QCHUNK_REGION_POLY:
		return poly_may_intersect(r->u.poly.n, r->u.poly.lon, r->u.poly.lat,
					  (const double (*)[3])r->u.poly.edge, b);
	}
	return true;
}
