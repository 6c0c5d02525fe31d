/* stats.c: a flock's counts, latency histogram and last errors (stats.h). */
#include "stats.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Bucket b holds latencies in [LO * R^b, LO * R^(b+1)) ms; LO = 10 us and
 * R chosen so that the last bucket ends at 100 s. */
#define LO_MS 0.01
static double ratio(void)
{
	return pow(100000.0 / LO_MS, 1.0 / STATS_BUCKETS);
}

static int bucket(double ms)
{
	int b;

	if (ms <= LO_MS)
		return 0;
	b = (int)(log(ms / LO_MS) / log(ratio()));
	return b >= STATS_BUCKETS ? STATS_BUCKETS - 1 : b;
}

void stats_init(struct stats *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
}

static void record(struct stats *s, double ms)
{
	s->hist[bucket(ms)]++;
	s->sum_ms += ms;
	if (ms > s->max_ms)
		s->max_ms = ms;
}

void stats_success(struct stats *s, double ms)
{
	pthread_mutex_lock(&s->mu);
	s->ok++;
	record(s, ms);
	pthread_mutex_unlock(&s->mu);
}

void stats_failure(struct stats *s, double ms, const char *why)
{
	struct stats_error *e;

	pthread_mutex_lock(&s->mu);
	s->failed++;
	record(s, ms);
	e = &s->errors[s->nerrors++ % STATS_ERRORS];
	e->when = time(NULL);
	snprintf(e->text, sizeof(e->text), "%s", why);
	pthread_mutex_unlock(&s->mu);
}

void stats_snapshot(struct stats *s, struct stats *out)
{
	pthread_mutex_lock(&s->mu);
	memcpy(out, s, sizeof(*out));
	pthread_mutex_unlock(&s->mu);
	memset(&out->mu, 0, sizeof(out->mu));
}

double stats_quantile(const struct stats *s, double q)
{
	uint64_t n = s->ok + s->failed, seen = 0, want;
	int b;

	if (!n)
		return 0;
	want = (uint64_t)ceil(q * (double)n);
	if (want < 1)
		want = 1;
	for (b = 0; b < STATS_BUCKETS; b++) {
		seen += s->hist[b];
		if (seen >= want) {   /* the bucket's middle, geometrically, never past the largest */
			double mid = LO_MS * pow(ratio(), b + 0.5);
			return mid < s->max_ms ? mid : s->max_ms;
		}
	}
	return s->max_ms;
}
