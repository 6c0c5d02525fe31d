/* worker_sched_test.c: the worker's chunk-query scheduler
 * (qserv/worker/query_sched.c): the slot limit holds, and a waiting
 * interactive query starts before a scan that was queued earlier. */
#include <pthread.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "../query_sched.h"

struct job {
	struct query_sched *s;
	int scan;
	int order;                  /* position in which it started */
};

static int started;
static pthread_mutex_t order_lock = PTHREAD_MUTEX_INITIALIZER;

static void *run(void *arg)
{
	struct job *j = arg;

	query_sched_acquire(j->s, j->scan);
	pthread_mutex_lock(&order_lock);
	j->order = ++started;
	pthread_mutex_unlock(&order_lock);
	query_sched_release(j->s);
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
	struct job scan = { &s, 1, 0 }, inter = { &s, 0, 0 };
	pthread_t a, b;

	query_sched_init(&s, 1);
	query_sched_acquire(&s, 1);          /* a running scan holds the only slot */
	ASSERT_EQ(0, pthread_create(&a, NULL, run, &scan));
	wait_queued(&s, 0, 1);               /* the scan queued first */
	ASSERT_EQ(0, pthread_create(&b, NULL, run, &inter));
	wait_queued(&s, 1, 1);
	query_sched_release(&s);
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
		query_sched_acquire(&limit_s, (int)(long)arg & 1);
		pthread_mutex_lock(&inside_lock);
		if (++inside > max_inside)
			max_inside = inside;
		pthread_mutex_unlock(&inside_lock);
		usleep(200);
		pthread_mutex_lock(&inside_lock);
		inside--;
		pthread_mutex_unlock(&inside_lock);
		query_sched_release(&limit_s);
	}
	return NULL;
}

TEST(never_more_than_the_slots)
{
	pthread_t t[12];
	long i;

	query_sched_init(&limit_s, 3);
	for (i = 0; i < 12; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, busy, (void *)i));
	for (i = 0; i < 12; i++)
		pthread_join(t[i], NULL);
	EXPECT_GE(3, max_inside);
	EXPECT_EQ(0, inside);
	EXPECT_EQ(600, limit_s.started_scans + limit_s.started_interactive);
	query_sched_destroy(&limit_s);
}

TEST_HARNESS_MAIN
