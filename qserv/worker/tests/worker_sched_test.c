/* worker_sched_test.c: the worker's chunk-query scheduler
 * (qserv/worker/query_sched.c): the slot limit holds, a waiting
 * interactive query starts before a scan that was queued earlier, waiting
 * scans start in one ascending walk over the chunks from the cursor
 * (wrapping around, oldest first on one chunk), and the scans of one
 * chunk take the free slots together, and scans run on at most max_chunks
 * chunks at once, a scan on one of them joining at once. */
#include <pthread.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "../query_sched.h"

struct job {
	struct query_sched *s;
	int scan;
	int order;                  /* position in which it started */
	int32_t chunk;
};

static int started;
static pthread_mutex_t order_lock = PTHREAD_MUTEX_INITIALIZER;

static void *run(void *arg)
{
	struct job *j = arg;

	query_sched_acquire(j->s, j->scan, j->chunk);
	pthread_mutex_lock(&order_lock);
	j->order = ++started;
	pthread_mutex_unlock(&order_lock);
	query_sched_release(j->s, j->scan, j->chunk);
	return NULL;
}

static void wait_queued(struct query_sched *s, unsigned inter, unsigned scans)
{
	for (;;) {
		unsigned a, b;
		pthread_mutex_lock(&s->lock);
		a = s->waiting_interactive;
		b = s->waiting_scans;
		pthread_mutex_unlock(&s->lock);
		if (a == inter && b == scans)
			return;
		usleep(1000);
	}
}

TEST(interactive_goes_ahead_of_a_queued_scan)
{
	struct query_sched s;
	struct job scan = { &s, 1, 0, 7 }, inter = { &s, 0, 0, 7 };
	pthread_t a, b;

	query_sched_init(&s, 1, 0);
	query_sched_acquire(&s, 1, 7);       /* a running scan holds the only slot */
	ASSERT_EQ(0, pthread_create(&a, NULL, run, &scan));
	wait_queued(&s, 0, 1);               /* the scan queued first */
	ASSERT_EQ(0, pthread_create(&b, NULL, run, &inter));
	wait_queued(&s, 1, 1);
	query_sched_release(&s, 1, 7);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	EXPECT_EQ(1, inter.order);
	EXPECT_EQ(2, scan.order);
	EXPECT_EQ(2, s.started_scans);
	EXPECT_EQ(1, s.started_interactive);
	query_sched_destroy(&s);
}

static struct query_sched limit_s;
static int inside, max_inside;
static pthread_mutex_t inside_lock = PTHREAD_MUTEX_INITIALIZER;

static void *busy(void *arg)
{
	int i;

	for (i = 0; i < 50; i++) {
		query_sched_acquire(&limit_s, (int)(long)arg & 1, (int32_t)((long)arg % 5));
		pthread_mutex_lock(&inside_lock);
		if (++inside > max_inside)
			max_inside = inside;
		pthread_mutex_unlock(&inside_lock);
		usleep(200);
		pthread_mutex_lock(&inside_lock);
		inside--;
		pthread_mutex_unlock(&inside_lock);
		query_sched_release(&limit_s, (int)(long)arg & 1, (int32_t)((long)arg % 5));
	}
	return NULL;
}

TEST(never_more_than_the_slots)
{
	pthread_t t[12];
	long i;

	query_sched_init(&limit_s, 3, 0);
	for (i = 0; i < 12; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, busy, (void *)i));
	for (i = 0; i < 12; i++)
		pthread_join(t[i], NULL);
	EXPECT_GE(3, max_inside);
	EXPECT_EQ(0, inside);
	EXPECT_EQ(600, limit_s.started_scans + limit_s.started_interactive);
	query_sched_destroy(&limit_s);
}

/* slots 1, the cursor on chunk 50: scans queued on 70, 10, 50, 60, 50
 * start 50, 50 (oldest first), 60, 70, then 10 (wrapped around). */
TEST(scans_walk_the_chunks_from_the_cursor)
{
	struct query_sched s;
	int32_t chunks[5] = { 70, 10, 50, 60, 50 };
	struct job j[5];
	pthread_t t[5];

	started = 0;
	query_sched_init(&s, 1, 0);
	query_sched_acquire(&s, 1, 50);
	for (int i = 0; i < 5; i++) {
		j[i] = (struct job){ &s, 1, 0, chunks[i] };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, run, &j[i]));
		wait_queued(&s, 0, (unsigned)i + 1);
	}
	query_sched_release(&s, 1, 50);
	for (int i = 0; i < 5; i++)
		pthread_join(t[i], NULL);
	EXPECT_EQ(1, j[2].order);
	EXPECT_EQ(2, j[4].order);
	EXPECT_EQ(3, j[3].order);
	EXPECT_EQ(4, j[0].order);
	EXPECT_EQ(5, j[1].order);
	EXPECT_EQ(0, s.shared_scans);   /* one slot: none joined a running pass */
	query_sched_destroy(&s);
}

static int go;
static void *hold(void *arg)
{
	struct job *j = arg;

	query_sched_acquire(j->s, j->scan, j->chunk);
	pthread_mutex_lock(&order_lock);
	j->order = ++started;
	pthread_mutex_unlock(&order_lock);
	for (;;) {
		pthread_mutex_lock(&order_lock);
		int g = go;
		pthread_mutex_unlock(&order_lock);
		if (g)
			break;
		usleep(1000);
	}
	query_sched_release(j->s, j->scan, j->chunk);
	return NULL;
}

/* slots 3 held by interactive queries, scans queued on chunks 2 1 2 1 3 1:
 * when the slots free up, the three scans of chunk 1 take them together. */
TEST(scans_of_one_chunk_run_together)
{
	struct query_sched s;
	int32_t chunks[6] = { 2, 1, 2, 1, 3, 1 };
	struct job j[6];
	pthread_t t[6];

	started = 0;
	go = 0;
	query_sched_init(&s, 3, 0);
	for (int i = 0; i < 3; i++)
		query_sched_acquire(&s, 0, 0);
	for (int i = 0; i < 6; i++) {
		j[i] = (struct job){ &s, 1, 0, chunks[i] };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, hold, &j[i]));
	}
	wait_queued(&s, 0, 6);
	for (int i = 0; i < 3; i++)
		query_sched_release(&s, 0, 0);
	for (;;) {
		pthread_mutex_lock(&order_lock);
		int n = started;
		pthread_mutex_unlock(&order_lock);
		if (n == 3)
			break;
		usleep(1000);
	}
	usleep(20000);                  /* no fourth may start meanwhile */
	pthread_mutex_lock(&order_lock);
	EXPECT_EQ(3, started);
	EXPECT_NE(0, j[1].order);
	EXPECT_NE(0, j[3].order);
	EXPECT_NE(0, j[5].order);
	go = 1;
	pthread_mutex_unlock(&order_lock);
	for (int i = 0; i < 6; i++)
		pthread_join(t[i], NULL);
	EXPECT_EQ(0, s.running);        /* all released */
	EXPECT_EQ(6, s.started_scans);
	query_sched_destroy(&s);
}

static void wait_started(int n)
{
	for (;;) {
		pthread_mutex_lock(&order_lock);
		int got = started;
		pthread_mutex_unlock(&order_lock);
		if (got == n)
			return;
		usleep(1000);
	}
}

/* slots 4, max_chunks 2: scans queued on chunks 1, 2, 3: only those on 1
 * and 2 start (two slots stay free); a new scan on chunk 1 joins at once;
 * the one on 3 starts when chunk 1's pass is over. */
TEST(scans_on_at_most_max_chunks)
{
	struct query_sched s;
	int32_t chunks[4] = { 1, 2, 3, 1 };
	struct job j[4];
	pthread_t t[4];

	started = 0;
	go = 0;
	query_sched_init(&s, 4, 2);
	for (int i = 0; i < 4; i++)
		query_sched_acquire(&s, 0, 0);
	for (int i = 0; i < 3; i++) {
		j[i] = (struct job){ &s, 1, 0, chunks[i] };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, hold, &j[i]));
	}
	wait_queued(&s, 0, 3);
	for (int i = 0; i < 4; i++)
		query_sched_release(&s, 0, 0);
	wait_started(2);
	usleep(20000);
	pthread_mutex_lock(&order_lock);
	EXPECT_EQ(2, started);
	EXPECT_EQ(0, j[2].order);       /* chunk 3 waits: 2 chunks are scanned */
	pthread_mutex_unlock(&order_lock);
	j[3] = (struct job){ &s, 1, 0, chunks[3] };
	ASSERT_EQ(0, pthread_create(&t[3], NULL, hold, &j[3]));
	wait_started(3);                /* joined chunk 1's pass */
	EXPECT_EQ(1, s.shared_scans);
	pthread_mutex_lock(&order_lock);
	go = 1;
	pthread_mutex_unlock(&order_lock);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	EXPECT_EQ(4, j[2].order);
	EXPECT_EQ(0, s.running);
	EXPECT_EQ(0, s.nactive);
	query_sched_destroy(&s);
}

TEST_HARNESS_MAIN
