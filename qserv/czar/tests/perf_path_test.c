/* perf_path_test.c: the lookup path's pieces (index_cache.h, tpool.h,
 * stages.h): the cache answers only what was filled in the same epoch,
 * stays within its bound, keeps hot keys; pool threads are reused and run
 * every task; stage durations add up and reach the histograms. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "../index_cache.h"
#include "../stages.h"
#include "../tpool.h"

TEST(the_cache_answers_the_same_epoch_only)
{
	struct index_cache *c;
	int32_t chunk = -1;

	ASSERT_EQ(0, index_cache_new(16, &c));
	index_cache_put(c, 1, "SELECT 1 WHERE k = 5", 57);
	ASSERT_EQ(1, index_cache_get(c, 1, "SELECT 1 WHERE k = 5", &chunk));
	EXPECT_EQ(57, chunk);
	EXPECT_EQ(0, index_cache_get(c, 2, "SELECT 1 WHERE k = 5", &chunk));   /* a newer catalog */
	EXPECT_EQ(0, index_cache_get(c, 1, "SELECT 1 WHERE k = 6", &chunk));
	index_cache_free(c);
}

TEST(a_cap_of_zero_is_no_cache)
{
	struct index_cache *c = (void *)1;
	int32_t chunk;

	ASSERT_EQ(0, index_cache_new(0, &c));
	ASSERT_EQ(NULL, c);
	index_cache_put(c, 1, "k", 1);
	EXPECT_EQ(0, index_cache_get(c, 1, "k", &chunk));
}

TEST(the_cache_stays_bounded_and_keeps_a_hot_key)
{
	struct index_cache *c;
	struct index_cache_stats st;
	char key[64];
	int32_t chunk;
	unsigned i;

	ASSERT_EQ(0, index_cache_new(64, &c));
	index_cache_put(c, 1, "hot", 9);
	for (i = 0; i < 10000; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		index_cache_put(c, 1, key, (int32_t)i);
		/* referenced between any two fills: the clock passes it by */
		ASSERT_EQ(1, index_cache_get(c, 1, "hot", &chunk));
	}
	index_cache_get_stats(c, &st);
	EXPECT_LE(st.entries, 64);
	EXPECT_EQ(1, index_cache_get(c, 1, "hot", &chunk));
	EXPECT_EQ(9, chunk);
	index_cache_free(c);
}

static pthread_mutex_t lk = PTHREAD_MUTEX_INITIALIZER;
static unsigned ran;

static void task(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lk);
	ran++;
	pthread_mutex_unlock(&lk);
}

TEST(pool_threads_are_reused_and_run_every_task)
{
	struct tpool *p;
	unsigned long long started, reused;
	unsigned i, n;

	ASSERT_EQ(0, tpool_new(256 * 1024, 8, &p));
	for (i = 0; i < 200; i++) {
		ASSERT_EQ(0, tpool_run(p, task, NULL));
		usleep(i % 10 == 0 ? 2000 : 0);
	}
	for (i = 0; i < 500; i++) {
		pthread_mutex_lock(&lk);
		n = ran;
		pthread_mutex_unlock(&lk);
		if (n == 200)
			break;
		usleep(2000);
	}
	EXPECT_EQ(200, n);
	tpool_get_stats(p, &started, &reused);
	EXPECT_EQ(200, started + reused);
	EXPECT_GT(reused, 0);
}

TEST(stages_add_up_and_reach_the_histogram)
{
	struct stage_times t;
	struct buf b = { 0 };
	char line[200];

	stages_start(&t);
	t.distributed = 1;
	usleep(1000);
	stages_mark(&t, STAGE_PARSE);
	stages_mark(&t, STAGE_PLAN);   /* index, dispatch, first row not reached: they count 0 */
	usleep(1000);
	stages_finish(&t);
	stages_format(&t, line, sizeof(line));
	EXPECT_NE(NULL, strstr(line, "parse "));
	EXPECT_NE(NULL, strstr(line, "index 0 "));
	stages_metrics(&b);
	EXPECT_NE(NULL, strstr(buf_str(&b), "qserv_czar_stage_seconds_count{stage=\"done\"} 1\n"));
	EXPECT_NE(NULL, strstr(buf_str(&b), "qserv_czar_stage_seconds_bucket{stage=\"parse\",le=\"+Inf\"} 1\n"));
	buf_free(&b);
}

TEST_HARNESS_MAIN
