/* sky.h: the random sky model of qserv-gen: a portable PRNG (xoshiro256**
 * seeded by splitmix64, so a seed gives the same catalog on every machine)
 * and positions with survey-like coverage: uniform on the sphere inside a
 * declination band / RA range, thinned near the galactic plane, with a
 * fraction of objects in compact clusters. */
#ifndef QGEN_SKY_H
#define QGEN_SKY_H

#include <stdbool.h>
#include <stdint.h>

struct qgen_rng {
	uint64_t s[4];
};

void qgen_rng_seed(struct qgen_rng *r, uint64_t seed);
uint64_t qgen_rng_next(struct qgen_rng *r);
/* Uniform in [0, 1). */
double qgen_rng_unit(struct qgen_rng *r);
/* Standard normal (Box-Muller). */
double qgen_rng_normal(struct qgen_rng *r);

struct qgen_sky {
	double ra_min, ra_max;		/* ra_min > ra_max wraps through 0 */
	double dec_min, dec_max;
	double plane_keep;		/* probability to keep a point with |b| < 10 */
	double cluster_frac;		/* fraction of objects in clusters */
	double cluster_sigma;		/* deg */
	int ncluster;
	double *cl_ra, *cl_dec;		/* cluster centres */
};

/* Sets up the model (cluster centres drawn from rng).  0 or -ENOMEM. */
int qgen_sky_init(struct qgen_sky *sky, struct qgen_rng *rng);
void qgen_sky_free(struct qgen_sky *sky);

/* Draws one position inside the footprint. */
void qgen_sky_draw(const struct qgen_sky *sky, struct qgen_rng *rng, double *ret_ra,
		   double *ret_dec);

/* Galactic latitude (deg) of an ICRS position. */
double qgen_galactic_lat(double ra, double dec);

#endif
