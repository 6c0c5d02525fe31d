/* stats.h: what one flock of qserv-mobu's monkeys measured: successes,
 * failures, a latency histogram (log-spaced buckets from 10 us to 100 s,
 * about 2% wide, so percentiles need no stored samples) and the last few
 * errors with their time.  Monkeys record into their flock's stats under
 * its mutex; the reporter reads a copy. */
#ifndef QSERV_MOBU_STATS_H
#define QSERV_MOBU_STATS_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#define STATS_BUCKETS 800
#define STATS_ERRORS 5
#define STATS_ERRLEN 240

struct stats_error {
	time_t when;
	char text[STATS_ERRLEN];
};

struct stats {
	pthread_mutex_t mu;
	uint64_t ok, failed;
	uint64_t hist[STATS_BUCKETS];
	double sum_ms, max_ms;
	struct stats_error errors[STATS_ERRORS];   /* ring, newest at (nerrors - 1) % STATS_ERRORS */
	uint64_t nerrors;
};

void stats_init(struct stats *s);
void stats_success(struct stats *s, double ms);
/* A failure after ms (the error text is kept among the last STATS_ERRORS). */
void stats_failure(struct stats *s, double ms, const char *why);
/* A consistent copy (without the mutex) for reporting. */
void stats_snapshot(struct stats *s, struct stats *out);
/* The q-quantile (0..1) of the recorded latencies in ms, 0 when none. */
double stats_quantile(const struct stats *s, double q);

#endif
