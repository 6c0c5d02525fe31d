/* photometry.c: scisql's photometry UDFs (flux <-> AB magnitude, raw DN,
 * nanojansky), with scisql's formulas (src/photometry.h):
 *
 *   fluxToAbMag(f)            = -2.5 log10(f) - 48.6        (erg/cm2/s/Hz)
 *   fluxToAbMagSigma(f, s)    = 2.5/ln(10) * s / f
 *   abMagToFlux(m)            = 10^(-0.4 (m + 48.6))
 *   abMagToFluxSigma(m, s)    = s * abMagToFlux(m) * ln(10)/2.5
 *   dnToFlux(dn, f0)          = 10^(-48.6/2.5) * dn / f0
 *   dnToFluxSigma(dn, s, f0, s0) = 10^(-48.6/2.5) hypot(dn s0, s f0) / f0^2
 *   dnToAbMag, dnToAbMagSigma, fluxToDn, fluxToDnSigma, abMagToDn,
 *   abMagToDnSigma: compositions of the above
 *   nanojanskyToAbMag(f)      = -2.5 log10(f) + 31.4        (nJy)
 *   nanojanskyToAbMagSigma(f, s) = 2.5/ln(10) * s / f
 *   abMagToNanojansky(m)      = 10^(-0.4 (m - 31.4))
 *   abMagToNanojanskySigma(m, s) = s * abMagToNanojansky(m) * ln(10)/2.5
 *
 * Any NULL argument, or a result that is not finite (zero flux, zero
 * fluxMag0), gives NULL. */
#include <math.h>

#include "udf.h"

#define FIVE_OVER_2LOG10 1.085736204758129569
#define TWOLOG10_OVER_5 0.9210340371976182736
#define AB_FLUX_SCALE 3.630780547701013425e-20

static double flux2ab(double f) { return -2.5 * log10(f) - 48.6; }
static double flux2absigma(double f, double s) { return FIVE_OVER_2LOG10 * s / f; }
static double ab2flux(double m) { return pow(10.0, -0.4 * (m + 48.6)); }
static double ab2fluxsigma(double m, double s) { return s * ab2flux(m) * TWOLOG10_OVER_5; }
static double dn2flux(double dn, double f0) { return AB_FLUX_SCALE * dn / f0; }
static double dn2fluxsigma(double dn, double s, double f0, double s0)
{
	return AB_FLUX_SCALE * hypot(dn * s0, s * f0) / (f0 * f0);
}
static double flux2dn(double f, double f0) { return f * f0 / AB_FLUX_SCALE; }
static double flux2dnsigma(double f, double s, double f0, double s0)
{
	return hypot(f * s0, f0 * s) / AB_FLUX_SCALE;
}
static double nj2ab(double f) { return -2.5 * log10(f) + 31.4; }
static double ab2nj(double m) { return pow(10.0, -0.4 * (m - 31.4)); }

/* Reads n REAL arguments; false if any is NULL. */
static int args_n(UDF_ARGS *args, unsigned n, double *v)
{
	for (unsigned i = 0; i < n; ++i)
		if (!qscisql_arg(args, i, &v[i]))
			return 0;
	return 1;
}

/* Defines NAME_init and NAME for an N-argument real function; EXPR uses
 * the argument array a[]. */
#define REAL_UDF(NAME, N, EXPR)                                                          \
	QSCISQL_API my_bool NAME##_init(UDF_INIT *initid, UDF_ARGS *args, char *message)  \
	{                                                                                 \
		return qscisql_init_real(initid, args, message, #NAME, N, N);             \
	}                                                                                 \
	QSCISQL_API double NAME(UDF_INIT *initid, UDF_ARGS *args, char *is_null,          \
				char *error)                                              \
	{                                                                                 \
		double a[N];                                                              \
		(void)initid;                                                             \
		(void)error;                                                              \
		if (!args_n(args, N, a)) {                                                \
			*is_null = 1;                                                     \
			return 0.0;                                                       \
		}                                                                         \
		return qscisql_real((EXPR), is_null);                                     \
	}

/* Every argument must be finite, as scisql requires; NaN in, NULL out. */
#define FIN1 (isfinite(a[0]) ? 0.0 : NAN)
#define FIN2 (isfinite(a[0]) && isfinite(a[1]) ? 0.0 : NAN)
#define FIN4 (isfinite(a[0]) && isfinite(a[1]) && isfinite(a[2]) && isfinite(a[3]) ? 0.0 : NAN)

REAL_UDF(scisql_fluxToAbMag, 1, FIN1 + flux2ab(a[0]))
REAL_UDF(scisql_fluxToAbMagSigma, 2, FIN2 + flux2absigma(a[0], a[1]))
REAL_UDF(scisql_abMagToFlux, 1, FIN1 + ab2flux(a[0]))
REAL_UDF(scisql_abMagToFluxSigma, 2, FIN2 + ab2fluxsigma(a[0], a[1]))
REAL_UDF(scisql_dnToFlux, 2, FIN2 + dn2flux(a[0], a[1]))
REAL_UDF(scisql_dnToFluxSigma, 4, FIN4 + dn2fluxsigma(a[0], a[1], a[2], a[3]))
REAL_UDF(scisql_dnToAbMag, 2, FIN2 + flux2ab(dn2flux(a[0], a[1])))
REAL_UDF(scisql_dnToAbMagSigma, 4,
	 FIN4 + flux2absigma(dn2flux(a[0], a[2]), dn2fluxsigma(a[0], a[1], a[2], a[3])))
REAL_UDF(scisql_fluxToDn, 2, FIN2 + flux2dn(a[0], a[1]))
REAL_UDF(scisql_fluxToDnSigma, 4, FIN4 + flux2dnsigma(a[0], a[1], a[2], a[3]))
REAL_UDF(scisql_abMagToDn, 2, FIN2 + flux2dn(ab2flux(a[0]), a[1]))
REAL_UDF(scisql_abMagToDnSigma, 4,
	 FIN4 + flux2dnsigma(ab2flux(a[0]), a[1] * ab2flux(a[0]) * TWOLOG10_OVER_5, a[2], a[3]))
REAL_UDF(scisql_nanojanskyToAbMag, 1, FIN1 + nj2ab(a[0]))
REAL_UDF(scisql_nanojanskyToAbMagSigma, 2, FIN2 + flux2absigma(a[0], a[1]))
REAL_UDF(scisql_abMagToNanojansky, 1, FIN1 + ab2nj(a[0]))
REAL_UDF(scisql_abMagToNanojanskySigma, 2, FIN2 + a[1] * ab2nj(a[0]) * TWOLOG10_OVER_5)
