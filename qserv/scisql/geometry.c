/* geometry.c: scisql's spherical geometry UDFs.
 *
 *   scisql_angSep(lon1, lat1, lon2, lat2)        deg, haversine form
 *   scisql_angSep(x1, y1, z1, x2, y2, z2)        deg between two vectors
 *   scisql_s2PtInBox(lon, lat, lonMin, latMin, lonMax, latMax)
 *   scisql_s2PtInCircle(lon, lat, lonCen, latCen, radius)
 *   scisql_s2PtInEllipse(lon, lat, lonCen, latCen, semiMajor", semiMinor", posAngle)
 *   scisql_s2PtInCPoly(lon, lat, lon1, lat1, lon2, lat2, lon3, lat3, ...)
 *   scisql_s2PtInCPoly(lon, lat, scisql_s2CPolyToBin(...))
 *   scisql_s2CPolyToBin(lon1, lat1, ...)          binary polygon (edges)
 *
 * Semantics follow scisql (udf.h): angSep is NULL for a NULL argument or a
 * latitude outside [-90, 90]; the predicates return 1/0, 0 for NULL
 * arguments, NULL for invalid ones.  Box: lonMax < lonMin wraps when both
 * are in [0, 360], is invalid otherwise; latMin > latMax is empty.  Circle
 * radius must be in [0, 180].  Ellipse axes in arcsec, 0 <= minor <= major
 * <= 36000, position angle east of north.  Polygons: 3 to QCHUNK_POLY_MAX
 * vertices in counter-clockwise order (as scisql: a point is inside when
 * it is on the inner side of every edge v[i] x v[i+1]); the binary form is
 * the edge normals, 3 little-endian doubles each. */
#include <stdlib.h>
#include <string.h>

#include "qserv/chunk/chunk.h"
#include "udf.h"

#define RAD (M_PI / 180.0)

static int lat_ok(double lat)
{
	return isfinite(lat) && lat >= -90.0 && lat <= 90.0;
}

static void vec(double lon, double lat, double v[3])
{
	v[0] = cos(lon * RAD) * cos(lat * RAD);
	v[1] = sin(lon * RAD) * cos(lat * RAD);
	v[2] = sin(lat * RAD);
}

/* -- angSep ----------------------------------------------------------------- */

QSCISQL_API my_bool scisql_angSep_init(UDF_INIT *initid, UDF_ARGS *args, char *message)
{
	if (args->arg_count != 4 && args->arg_count != 6) {
		snprintf(message, MYSQL_ERRMSG_SIZE, "scisql_angSep() expects 4 or 6 arguments");
		return 1;
	}
	return qscisql_init_real(initid, args, message, "scisql_angSep", 4, 6);
}

QSCISQL_API double scisql_angSep(UDF_INIT *initid, UDF_ARGS *args, char *is_null, char *error)
{
	double a[6];
	(void)initid, (void)error;
	if (args->arg_count != 4 && args->arg_count != 6) { /* _init refuses others */
		*is_null = 1;
		return 0.0;
	}
	for (unsigned i = 0; i < args->arg_count; ++i) {
		if (!qscisql_arg(args, i, &a[i]) || !isfinite(a[i])) {
			*is_null = 1;
			return 0.0;
		}
	}
	if (args->arg_count == 4) {
		if (!lat_ok(a[1]) || !lat_ok(a[3])) {
			*is_null = 1;
			return 0.0;
		}
		return qchunk_ang_sep(a[0], a[1], a[2], a[3]);
	}
	double n[3] = { a[1] * a[5] - a[2] * a[4], a[2] * a[3] - a[0] * a[5], a[0] * a[4] - a[1] * a[3] };
	double ss = sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
	double cs = a[0] * a[3] + a[1] * a[4] + a[2] * a[5];
	if ((a[0] == 0 && a[1] == 0 && a[2] == 0) || (a[3] == 0 && a[4] == 0 && a[5] == 0)) {
		*is_null = 1;
		return 0.0;
	}
	double d = atan2(ss, cs) / RAD;
	return d > 180.0 ? 180.0 : d;
}

/* -- s2PtInBox / Circle / Ellipse --------------------------------------------- */

/* Reads n arguments for a predicate: 0 if any is NULL (result 0), -1 if
 * any is not finite (result NULL), 1 otherwise. */
static int pred_args(UDF_ARGS *args, unsigned n, double *a)
{
	for (unsigned i = 0; i < n; ++i)
		if (!qscisql_arg(args, i, &a[i]))
			return 0;
	for (unsigned i = 0; i < n; ++i)
		if (!isfinite(a[i]))
			return -1;
	return 1;
}

#define PRED_INIT(NAME, N)                                                              \
	QSCISQL_API my_bool NAME##_init(UDF_INIT *initid, UDF_ARGS *args, char *message) \
	{                                                                                \
		return qscisql_init_real(initid, args, message, #NAME, N, N);            \
	}

PRED_INIT(scisql_s2PtInBox, 6)
PRED_INIT(scisql_s2PtInCircle, 5)
PRED_INIT(scisql_s2PtInEllipse, 7)

QSCISQL_API long long scisql_s2PtInBox(UDF_INIT *initid, UDF_ARGS *args, char *is_null, char *error)
{
	double a[6];
	(void)initid, (void)error;
	int r = pred_args(args, 6, a);
	if (r <= 0 || !lat_ok(a[1]) || !lat_ok(a[3]) || !lat_ok(a[5])) {
		*is_null = r != 0;
		return 0;
	}
	double lon = a[0], lat = a[1], lon_min = a[2], lat_min = a[3], lon_max = a[4], lat_max = a[5];
	if (lon_max < lon_min && (lon_max < 0.0 || lon_min > 360.0)) {
		*is_null = 1;
		return 0;
	}
	if (lat_min > lat_max || lat < lat_min || lat > lat_max)
		return 0;
	if (lon_max - lon_min >= 360.0)
		return 1;
	lon = qchunk_reduce_lon(lon);
	lon_min = qchunk_reduce_lon(lon_min);
	lon_max = qchunk_reduce_lon(lon_max);
	if (lon_min <= lon_max)
		return lon >= lon_min && lon <= lon_max;
	return lon >= lon_min || lon <= lon_max;
}

QSCISQL_API long long scisql_s2PtInCircle(UDF_INIT *initid, UDF_ARGS *args, char *is_null,
					  char *error)
{
	double a[5];
	(void)initid, (void)error;
	int r = pred_args(args, 5, a);
	if (r <= 0 || !lat_ok(a[1]) || !lat_ok(a[3]) || a[4] < 0.0 || a[4] > 180.0) {
		*is_null = r != 0;
		return 0;
	}
	return qchunk_ang_sep(a[0], a[1], a[2], a[3]) <= a[4];
}

QSCISQL_API long long scisql_s2PtInEllipse(UDF_INIT *initid, UDF_ARGS *args, char *is_null,
					   char *error)
{
	double a[7];
	struct qchunk_region e;
	(void)initid, (void)error;
	int r = pred_args(args, 7, a);
	if (r <= 0 || !lat_ok(a[1]) ||
	    qchunk_region_ellipse(&e, a[2], a[3], a[4], a[5], a[6], NULL, 0) < 0) {
		*is_null = r != 0;
		return 0;
	}
	return qchunk_region_contains(&e, a[0], a[1]);
}

/* -- convex polygons ------------------------------------------------------------ */

struct cpoly {
	int n;
	double edge[QCHUNK_POLY_MAX][3];
};

/* Edges of the polygon given by n (lon, lat) pairs; -1 if invalid. */
static int cpoly_from_verts(const double *ll, int n, struct cpoly *p)
{
	double v[QCHUNK_POLY_MAX][3];
	if (n < 3 || n > QCHUNK_POLY_MAX)
		return -1;
	for (int i = 0; i < n; ++i) {
		if (!isfinite(ll[2 * i]) || !lat_ok(ll[2 * i + 1]))
			return -1;
		vec(ll[2 * i], ll[2 * i + 1], v[i]);
	}
	p->n = n;
	for (int i = 0; i < n; ++i) {
		const double *a = v[i], *b = v[(i + 1) % n];
		p->edge[i][0] = a[1] * b[2] - a[2] * b[1];
		p->edge[i][1] = a[2] * b[0] - a[0] * b[2];
		p->edge[i][2] = a[0] * b[1] - a[1] * b[0];
	}
	return 0;
}

static int cpoly_from_bin(const char *s, unsigned long len, struct cpoly *p)
{
	if (!s || len % 24 != 0 || len / 24 < 3 || len / 24 > QCHUNK_POLY_MAX)
		return -1;
	p->n = (int)(len / 24);
	for (int i = 0; i < p->n; ++i)
		for (int k = 0; k < 3; ++k) {
			double d;
			memcpy(&d, s + 24 * i + 8 * k, 8);	/* little-endian hosts only */
			if (!isfinite(d))
				return -1;
			p->edge[i][k] = d;
		}
	return 0;
}

QSCISQL_API my_bool scisql_s2PtInCPoly_init(UDF_INIT *initid, UDF_ARGS *args, char *message)
{
	unsigned n = args->arg_count;
	if (n != 3 && (n < 8 || n % 2 != 0 || n > 2 + 2 * QCHUNK_POLY_MAX)) {
		snprintf(message, MYSQL_ERRMSG_SIZE,
			 "scisql_s2PtInCPoly() expects lon, lat and a binary polygon, or lon, lat and "
			 "3 to %d vertex (lon, lat) pairs", QCHUNK_POLY_MAX);
		return 1;
	}
	for (unsigned i = 0; i < n; ++i)
		args->arg_type[i] = (n == 3 && i == 2) ? STRING_RESULT : REAL_RESULT;
	initid->maybe_null = 1;
	initid->const_item = 0;
	return 0;
}

QSCISQL_API long long scisql_s2PtInCPoly(UDF_INIT *initid, UDF_ARGS *args, char *is_null,
					 char *error)
{
	double lon = 0, lat = 0, ll[2 * QCHUNK_POLY_MAX] = { 0 };
	struct cpoly p;
	(void)initid, (void)error;
	for (unsigned i = 0; i < args->arg_count; ++i)
		if (!args->args[i])
			return 0;
	qscisql_arg(args, 0, &lon);
	qscisql_arg(args, 1, &lat);
	int bad;
	if (args->arg_count == 3) {
		bad = cpoly_from_bin(args->args[2], args->lengths[2], &p);
	} else {
		int n = (int)(args->arg_count - 2) / 2;
		for (int i = 0; i < 2 * n; ++i)
			qscisql_arg(args, 2 + i, &ll[i]);
		bad = cpoly_from_verts(ll, n, &p);
	}
	if (bad || !isfinite(lon) || !lat_ok(lat)) {
		*is_null = 1;
		return 0;
	}
	double v[3];
	vec(lon, lat, v);
	for (int i = 0; i < p.n; ++i)
		if (v[0] * p.edge[i][0] + v[1] * p.edge[i][1] + v[2] * p.edge[i][2] < 0.0)
			return 0;
	return 1;
}

QSCISQL_API my_bool scisql_s2CPolyToBin_init(UDF_INIT *initid, UDF_ARGS *args, char *message)
{
	unsigned n = args->arg_count;
	if (n < 6 || n % 2 != 0 || n > 2 * QCHUNK_POLY_MAX) {
		snprintf(message, MYSQL_ERRMSG_SIZE,
			 "scisql_s2CPolyToBin() expects 3 to %d vertex (lon, lat) pairs", QCHUNK_POLY_MAX);
		return 1;
	}
	for (unsigned i = 0; i < n; ++i)
		args->arg_type[i] = REAL_RESULT;
	initid->maybe_null = 1;
	initid->max_length = 24 * QCHUNK_POLY_MAX;
	initid->ptr = malloc(24 * QCHUNK_POLY_MAX);
	if (!initid->ptr) {
		snprintf(message, MYSQL_ERRMSG_SIZE, "scisql_s2CPolyToBin(): out of memory");
		return 1;
	}
	return 0;
}

QSCISQL_API void scisql_s2CPolyToBin_deinit(UDF_INIT *initid)
{
	free(initid->ptr);
}

QSCISQL_API char *scisql_s2CPolyToBin(UDF_INIT *initid, UDF_ARGS *args, char *result,
				      unsigned long *length, char *is_null, char *error)
{
	double ll[2 * QCHUNK_POLY_MAX] = { 0 };
	struct cpoly p;
	(void)result, (void)error;
	int n = (int)args->arg_count / 2;
	for (int i = 0; i < 2 * n; ++i) {
		if (!qscisql_arg(args, i, &ll[i])) {
			*is_null = 1;
			return NULL;
		}
	}
	if (cpoly_from_verts(ll, n, &p) < 0) {
		*is_null = 1;
		return NULL;
	}
	for (int i = 0; i < n; ++i)
		memcpy(initid->ptr + 24 * i, p.edge[i], 24);
	*length = 24ul * n;
	return initid->ptr;
}

QSCISQL_API my_bool scisql_getVersion_init(UDF_INIT *initid, UDF_ARGS *args, char *message)
{
	if (args->arg_count != 0) {
		snprintf(message, MYSQL_ERRMSG_SIZE, "scisql_getVersion() expects no arguments");
		return 1;
	}
	initid->maybe_null = 0;
	initid->const_item = 1;
	initid->max_length = 64;
	return 0;
}

QSCISQL_API char *scisql_getVersion(UDF_INIT *initid, UDF_ARGS *args, char *result,
				    unsigned long *length, char *is_null, char *error)
{
	static const char v[] = "qserv-node-scisql-1.0";
	(void)initid, (void)args, (void)result, (void)is_null, (void)error;
	*length = sizeof(v) - 1;
	return (char *)v;
}
