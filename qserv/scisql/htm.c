/* htm.c: scisql's HTM UDFs.
 *
 *   scisql_s2HtmId(lon, lat, level)   HTM id of a position, level 0..24
 *   scisql_s2HtmLevel(id)             subdivision level of an HTM id
 *
 * The Hierarchical Triangular Mesh (Kunszt, Szalay, Thakar): 8 root
 * triangles S0..S3 (ids 8..11), N0..N3 (12..15) with vertices on the axes,
 * each split into 4 children (id*4 + 0..3) at the edge midpoints; the same
 * numbering as scisql and Qserv (src/partition/Geometry.cc).  NULL for a
 * NULL or invalid argument. */
#include <stdint.h>

#include "udf.h"

#define HTM_MAX_LEVEL 24
#define RAD (M_PI / 180.0)

static const double AX[6][3] = {
	{ 0, 0, 1 }, { 1, 0, 0 }, { 0, 1, 0 }, { -1, 0, 0 }, { 0, -1, 0 }, { 0, 0, -1 },
};
/* root triangle vertices, by index into AX: S0 S1 S2 S3 N0 N1 N2 N3 */
static const int ROOT[8][3] = {
	{ 1, 5, 2 }, { 2, 5, 3 }, { 3, 5, 4 }, { 4, 5, 1 },
	{ 1, 0, 4 }, { 4, 0, 3 }, { 3, 0, 2 }, { 2, 0, 1 },
};

static int root_of(const double v[3])
{
	if (v[2] < 0.0) {
		if (v[1] > 0.0)
			return v[0] > 0.0 ? 0 : 1;
		if (v[1] == 0.0)
			return v[0] >= 0.0 ? 0 : 2;
		return v[0] < 0.0 ? 2 : 3;
	}
	if (v[1] > 0.0)
		return v[0] > 0.0 ? 7 : 6;
	if (v[1] == 0.0)
		return v[0] >= 0.0 ? 7 : 5;
	return v[0] < 0.0 ? 5 : 4;
}

static void mid(const double a[3], const double b[3], double r[3])
{
	double s[3] = { a[0] + b[0], a[1] + b[1], a[2] + b[2] };
	double n = sqrt(s[0] * s[0] + s[1] * s[1] + s[2] * s[2]);
	r[0] = s[0] / n, r[1] = s[1] / n, r[2] = s[2] / n;
}

/* v . ((a + b) x (a - b)): >= 0 when v is on the inner side of edge b->a
 * of a counter-clockwise triangle. */
static double side(const double v[3], const double a[3], const double b[3])
{
	double p[3] = { a[0] + b[0], a[1] + b[1], a[2] + b[2] };
	double m[3] = { a[0] - b[0], a[1] - b[1], a[2] - b[2] };
	double c[3] = { p[1] * m[2] - p[2] * m[1], p[2] * m[0] - p[0] * m[2], p[0] * m[1] - p[1] * m[0] };
	return v[0] * c[0] + v[1] * c[1] + v[2] * c[2];
}

static void set(double d[3], const double s[3])
{
	d[0] = s[0], d[1] = s[1], d[2] = s[2];
}

static int64_t htm_id(const double v[3], int level)
{
	int r = root_of(v);
	double v0[3], v1[3], v2[3], sv0[3], sv1[3], sv2[3];
	set(v0, AX[ROOT[r][0]]);
	set(v1, AX[ROOT[r][1]]);
	set(v2, AX[ROOT[r][2]]);
	int64_t id = r + 8;
	for (; level > 0; --level) {
		mid(v2, v0, sv1);
		mid(v0, v1, sv2);
		if (side(v, sv1, sv2) >= 0) {
			set(v1, sv2), set(v2, sv1);
			id <<= 2;
			continue;
		}
		mid(v1, v2, sv0);
		if (side(v, sv2, sv0) >= 0) {
			set(v0, v1), set(v1, sv0), set(v2, sv2);
			id = (id << 2) + 1;
			continue;
		}
		if (side(v, sv0, sv1) >= 0) {
			set(v0, v2), set(v1, sv1), set(v2, sv0);
			id = (id << 2) + 2;
		} else {
			set(v0, sv0), set(v1, sv1), set(v2, sv2);
			id = (id << 2) + 3;
		}
	}
	return id;
}

/* Level of an HTM id, -1 if invalid: the highest set bit must be the top
 * of a 4-bit root (8..15) followed by 2 bits per level. */
static int htm_level(int64_t id)
{
	if (id < 8)
		return -1;
	int msb = 63 - __builtin_clzll((unsigned long long)id);
	if ((msb - 3) % 2 != 0)
		return -1;
	int level = (msb - 3) / 2;
	return level > HTM_MAX_LEVEL ? -1 : level;
}

QSCISQL_API my_bool scisql_s2HtmId_init(UDF_INIT *initid, UDF_ARGS *args, char *message)
{
	return qscisql_init_real(initid, args, message, "scisql_s2HtmId", 3, 3);
}

QSCISQL_API long long scisql_s2HtmId(UDF_INIT *initid, UDF_ARGS *args, char *is_null, char *error)
{
	double lon, lat, lv;
	(void)initid, (void)error;
	if (!qscisql_arg(args, 0, &lon) || !qscisql_arg(args, 1, &lat) || !qscisql_arg(args, 2, &lv) ||
	    !isfinite(lon) || !isfinite(lat) || lat < -90.0 || lat > 90.0 || !(lv >= 0) ||
	    lv > HTM_MAX_LEVEL || lv != floor(lv)) {
		*is_null = 1;
		return 0;
	}
	double v[3] = { cos(lon * RAD) * cos(lat * RAD), sin(lon * RAD) * cos(lat * RAD), sin(lat * RAD) };
	return htm_id(v, (int)lv);
}

QSCISQL_API my_bool scisql_s2HtmLevel_init(UDF_INIT *initid, UDF_ARGS *args, char *message)
{
	if (args->arg_count != 1) {
		snprintf(message, MYSQL_ERRMSG_SIZE, "scisql_s2HtmLevel() expects exactly 1 argument");
		return 1;
	}
	args->arg_type[0] = INT_RESULT;
	initid->maybe_null = 1;
	initid->const_item = args->args[0] != NULL;
	return 0;
}

QSCISQL_API long long scisql_s2HtmLevel(UDF_INIT *initid, UDF_ARGS *args, char *is_null,
					char *error)
{
	(void)initid, (void)error;
	if (!args->args[0]) {
		*is_null = 1;
		return 0;
	}
	int level = htm_level(*(long long *)args->args[0]);
	if (level < 0) {
		*is_null = 1;
		return 0;
	}
	return level;
}
