/* stats_test.c: qserv-mobu's latency histogram and error ring (stats.c). */
#include <kselftest_harness.h>
#include "qserv/mobu/stats.h"

#include <string.h>

TEST(quantiles_within_the_bucket_width)
{
	struct stats s;

	stats_init(&s);
	for (int i = 1; i <= 1000; i++)
		stats_success(&s, i * 0.1);   /* 0.1 .. 100 ms, uniform */
	/* buckets are about 2% wide: the quantile lands within 3% */
	ASSERT_LT(stats_quantile(&s, 0.5) / 50.0 - 1, 0.03);
	ASSERT_GT(stats_quantile(&s, 0.5) / 50.0 - 1, -0.03);
	ASSERT_LT(stats_quantile(&s, 0.99) / 99.0 - 1, 0.03);
	ASSERT_GT(stats_quantile(&s, 0.99) / 99.0 - 1, -0.03);
	ASSERT_EQ(s.ok, 1000);
}

TEST(extremes_are_clamped)
{
	struct stats s;

	stats_init(&s);
	ASSERT_EQ(stats_quantile(&s, 0.5), 0);
	stats_success(&s, 0.0001);
	stats_success(&s, 1e9);
	ASSERT_GT(stats_quantile(&s, 1.0), 1000);
	ASSERT_LT(stats_quantile(&s, 0.0), 0.02);
}

TEST(failures_keep_the_last_errors)
{
	struct stats s;
	char why[32];

	stats_init(&s);
	for (int i = 0; i < 12; i++) {
		snprintf(why, sizeof(why), "error %d", i);
		stats_failure(&s, 1, why);
	}
	ASSERT_EQ(s.failed, 12);
	ASSERT_EQ(s.nerrors, 12);
	/* the ring holds errors 7..11, the newest at (12 - 1) % STATS_ERRORS */
	ASSERT_STREQ(s.errors[11 % STATS_ERRORS].text, "error 11");
	ASSERT_STREQ(s.errors[7 % STATS_ERRORS].text, "error 7");
}

TEST_HARNESS_MAIN
