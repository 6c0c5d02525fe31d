/* stages.c: per-stage timers and their histograms (see stages.h).
 *
 * hist[stage][bucket] counts durations <= bounds_us[bucket] (the last
 * bucket is +Inf); sum_us[stage] and count[stage] complete the Prometheus
 * histogram.  Cumulative counts are computed when /metrics is read. */
#include "stages.h"

#include <stdio.h>
#include <string.h>

#include "monotime.h"

static const int64_t bounds_us[] = { 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 100000, 1000000, 10000000 };
#define NBUCKETS (sizeof(bounds_us) / sizeof(bounds_us[0]) + 1)
static const char *const names[STAGE_N] = { "parse", "plan", "index", "dispatch", "first_row", "done" };

static unsigned long long hist[STAGE_N][NBUCKETS];
static unsigned long long sum_us[STAGE_N], count[STAGE_N];

int64_t stages_now_us(void)
{
	return monotime_ns() / 1000;
}

void stages_start(struct stage_times *t)
{
	memset(t, 0, sizeof(*t));
	t->t0 = stages_now_us();
}

void stages_mark(struct stage_times *t, enum stage k)
{
	t->mark[k] = stages_now_us();
}

/* Stage k's duration: from the last mark before it (or t0) to its own. */
static int64_t duration(const struct stage_times *t, int k)
{
	int64_t prev = t->t0;
	int i;

	for (i = 0; i < k; i++)
		if (t->mark[i])
			prev = t->mark[i];
	return t->mark[k] && t->mark[k] > prev ? t->mark[k] - prev : 0;
}

void stages_finish(struct stage_times *t)
{
	int k;

	stages_mark(t, STAGE_DONE);
	if (!t->distributed)
		return;
	for (k = 0; k < STAGE_N; k++) {
		int64_t d = duration(t, k);
		size_t b = 0;
		while (b < NBUCKETS - 1 && d > bounds_us[b])
			b++;
		__atomic_add_fetch(&hist[k][b], 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&sum_us[k], (unsigned long long)d, __ATOMIC_RELAXED);
		__atomic_add_fetch(&count[k], 1, __ATOMIC_RELAXED);
	}
}

void stages_format(const struct stage_times *t, char *out, size_t n)
{
	size_t o = 0;
	int k;

	out[0] = 0;
	for (k = 0; k < STAGE_N && o < n; k++) {
		o += (size_t)snprintf(out + o, n - o, "%s%s %lld%s", k ? " " : "", names[k], (long long)duration(t, k),
				      k == STAGE_INDEX && t->index_hit ? " (cache)" : "");
	}
	if (o < n)
		snprintf(out + o, n - o, " us");
}

void stages_metrics(struct buf *b)
{
	int k;
	size_t i;

	buf_puts(b, "# HELP qserv_czar_stage_seconds Time distributed statements spent in each stage "
		 "(parse, plan, index, dispatch, first_row, done).\n# TYPE qserv_czar_stage_seconds histogram\n");
	for (k = 0; k < STAGE_N; k++) {
		unsigned long long cum = 0;
		for (i = 0; i < NBUCKETS; i++) {
			cum += __atomic_load_n(&hist[k][i], __ATOMIC_RELAXED);
			if (i < NBUCKETS - 1)
				buf_printf(b, "qserv_czar_stage_seconds_bucket{stage=\"%s\",le=\"%g\"} %llu\n", names[k],
					   bounds_us[i] / 1e6, cum);
			else
				buf_printf(b, "qserv_czar_stage_seconds_bucket{stage=\"%s\",le=\"+Inf\"} %llu\n", names[k],
					   cum);
		}
		buf_printf(b, "qserv_czar_stage_seconds_sum{stage=\"%s\"} %.6f\n", names[k],
			   __atomic_load_n(&sum_us[k], __ATOMIC_RELAXED) / 1e6);
		buf_printf(b, "qserv_czar_stage_seconds_count{stage=\"%s\"} %llu\n", names[k],
			   __atomic_load_n(&count[k], __ATOMIC_RELAXED));
	}
}
