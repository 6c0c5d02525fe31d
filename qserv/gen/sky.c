/* sky.c: PRNG and footprint model of qserv-gen (see sky.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "sky.h"

#define DEG (M_PI / 180.0)

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void qgen_rng_seed(struct qgen_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; ++i)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t qgen_rng_next(struct qgen_rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

double qgen_rng_unit(struct qgen_rng *r)
{
	return (double)(qgen_rng_next(r) >> 11) * 0x1.0p-53;
}

double qgen_rng_normal(struct qgen_rng *r)
{
	double u = qgen_rng_unit(r), v = qgen_rng_unit(r);
	if (u < 1e-300)
		u = 1e-300;
	return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

double qgen_galactic_lat(double ra, double dec)
{
	/* north galactic pole (J2000): ra 192.85948, dec 27.12825 */
	const double ra_p = 192.85948 * DEG, dec_p = 27.12825 * DEG;
	double s = sin(dec * DEG) * sin(dec_p) + cos(dec * DEG) * cos(dec_p) * cos(ra * DEG - ra_p);
	return asin(s > 1 ? 1 : (s < -1 ? -1 : s)) / DEG;
}

static double ra_span(const struct qgen_sky *sky)
{
	double w = sky->ra_max - sky->ra_min;
	return w <= 0 ? w + 360.0 : w;
}

/* Uniform on the sphere inside the RA range and declination band. */
static void uniform(const struct qgen_sky *sky, struct qgen_rng *rng, double *ra, double *dec)
{
	double z0 = sin(sky->dec_min * DEG), z1 = sin(sky->dec_max * DEG);
	double z = z0 + (z1 - z0) * qgen_rng_unit(rng);
	*dec = asin(z) / DEG;
	if (*dec < sky->dec_min)
		*dec = sky->dec_min;
	if (*dec > sky->dec_max)
		*dec = sky->dec_max;
	*ra = fmod(sky->ra_min + ra_span(sky) * qgen_rng_unit(rng), 360.0);
}

int qgen_sky_init(struct qgen_sky *sky, struct qgen_rng *rng)
{
	if (sky->ncluster < 1)
		sky->ncluster = 1;
	sky->cl_ra = malloc(sky->ncluster * sizeof(double));
	sky->cl_dec = malloc(sky->ncluster * sizeof(double));
	if (!sky->cl_ra || !sky->cl_dec) {
		qgen_sky_free(sky);
		return -ENOMEM;
	}
	for (int i = 0; i < sky->ncluster; ++i)
		uniform(sky, rng, &sky->cl_ra[i], &sky->cl_dec[i]);
	return 0;
}

void qgen_sky_free(struct qgen_sky *sky)
{
	free(sky->cl_ra);
	free(sky->cl_dec);
	sky->cl_ra = sky->cl_dec = NULL;
}

static bool in_ra(const struct qgen_sky *sky, double ra)
{
	if (ra_span(sky) >= 360.0)
		return true;
	if (sky->ra_min <= sky->ra_max)
		return ra >= sky->ra_min && ra <= sky->ra_max;
	return ra >= sky->ra_min || ra <= sky->ra_max;
}

void qgen_sky_draw(const struct qgen_sky *sky, struct qgen_rng *rng, double *ret_ra,
		   double *ret_dec)
{
	for (;;) {
		double ra, dec;
		if (qgen_rng_unit(rng) < sky->cluster_frac) {
			int k = (int)(qgen_rng_unit(rng) * sky->ncluster);
			dec = sky->cl_dec[k] + sky->cluster_sigma * qgen_rng_normal(rng);
			double c = cos(dec * DEG);
			ra = sky->cl_ra[k] + sky->cluster_sigma * qgen_rng_normal(rng) / (c > 0.01 ? c : 0.01);
			ra = fmod(ra, 360.0);
			if (ra < 0)
				ra += 360.0;
			if (dec < sky->dec_min || dec > sky->dec_max || !in_ra(sky, ra))
				continue;
		} else {
			uniform(sky, rng, &ra, &dec);
			if (fabs(qgen_galactic_lat(ra, dec)) < 10.0 &&
			    qgen_rng_unit(rng) >= sky->plane_keep)
				continue;
		}
		*ret_ra = ra;
		*ret_dec = dec;
		return;
	}
}
