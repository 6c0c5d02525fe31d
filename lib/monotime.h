/* monotime.h: the one monotonic clock of the project (CLOCK_MONOTONIC:
 * never jumps with the wall clock; for timeouts, deadlines, back-off and
 * durations, never for timestamps that leave the process).
 *
 * Header-only, like errbuf.h: libqchunk and libqpartition link no
 * libqcommon.a and use it too. */
#ifndef QSERV_MONOTIME_H
#define QSERV_MONOTIME_H

#include <stdint.h>
#include <time.h>

static inline int64_t monotime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t monotime_ms(void)
{
	return monotime_ns() / 1000000;
}

/* Seconds as a double, for durations printed to people and rates. */
static inline double monotime_s(void)
{
	return (double)monotime_ns() / 1e9;
}

#endif
