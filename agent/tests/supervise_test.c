/* supervise_test.c: the supervisor's state machine with real child
 * processes: restart with back-off, crash-loop detection, ordered stop. */
#include <errno.h>
#include <kselftest_harness.h>

#include "agent/supervise.h"
#include "monotime.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct events {
	char log[2048];
};

static void record(void *ctx, const struct sup_service *svc, const char *event)
{
	struct events *e = ctx;
	size_t n = strlen(e->log);

	snprintf(e->log + n, sizeof(e->log) - n, "%s:%s;", svc->name, event);
}

/* Waits for the child to exit and reaps it at "started + 5 ms" of the
 * supervisor's clock: a quick exit, whatever virtual time the test is at. */
static void wait_exit(struct supervisor *s, int idx)
{
	for (int i = 0; i < 500 && s->svc[idx].state == SUP_UP; i++) {
		usleep(10000);
		sup_reap(s, s->svc[idx].started_ms + 5);
	}
}

TEST(restart_with_backoff_and_crash_loop)
{
	struct supervisor s;
	struct events e = { "" };
	char *argv[] = { "/bin/false", NULL };
	uint64_t t;

	sup_init(&s, record, &e);
	ASSERT_EQ(0, sup_add(&s, "flaky", argv));
	t = monotime_ms();
	sup_tick(&s, t);
	EXPECT_EQ(SUP_UP, s.svc[0].state);
	for (int round = 0; round < 3; round++) {
		wait_exit(&s, 0);
		ASSERT_EQ(SUP_BACKOFF, s.svc[0].state);
		/* not restarted before its back-off expires */
		EXPECT_LT(0, sup_tick(&s, s.svc[0].next_start_ms - 1));
		EXPECT_EQ(SUP_BACKOFF, s.svc[0].state);
		sup_tick(&s, s.svc[0].next_start_ms);
		EXPECT_EQ(SUP_UP, s.svc[0].state);
	}
	EXPECT_EQ(3, s.svc[0].restarts);
	EXPECT_TRUE(s.svc[0].crash_loop);
	EXPECT_EQ(8000, s.svc[0].backoff_ms);
	sup_stop_all(&s, 1000);
	sup_free(&s);
}

TEST(stop_in_reverse_order)
{
	struct supervisor s;
	struct events e = { "" };
	char *db[] = { "/bin/sleep", "60", NULL };
	char *role[] = { "/bin/sleep", "61", NULL };

	sup_init(&s, record, &e);
	ASSERT_EQ(0, sup_add(&s, "mariadb", db));
	ASSERT_EQ(1, sup_add(&s, "role", role));
	sup_tick(&s, monotime_ms());
	e.log[0] = '\0';
	sup_stop_all(&s, 2000);
	EXPECT_STREQ("role:stopping;role:stopped;mariadb:stopping;mariadb:stopped;", e.log);
	EXPECT_EQ(SUP_DOWN, s.svc[0].state);
	EXPECT_EQ(SUP_DOWN, s.svc[1].state);
	/* nothing restarts after a stop */
	EXPECT_EQ(-1, sup_tick(&s, monotime_ms() + 100000));
	EXPECT_EQ(SUP_DOWN, s.svc[0].state);
	sup_free(&s);
}

TEST(stubborn_child_is_killed)
{
	struct supervisor s;
	struct events e = { "" };
	char *argv[] = { "/bin/sh", "-c", "trap '' TERM; sleep 30 & wait; sleep 30", NULL };

	sup_init(&s, record, &e);
	ASSERT_EQ(0, sup_add(&s, "stubborn", argv));
	sup_tick(&s, monotime_ms());
	usleep(200000);
	sup_stop_all(&s, 300);
	EXPECT_NE(NULL, strstr(e.log, "killing"));
	EXPECT_EQ(SUP_DOWN, s.svc[0].state);
	EXPECT_TRUE(WIFSIGNALED(s.svc[0].last_status));
	sup_free(&s);
}

TEST(missing_program_is_reported)
{
	struct supervisor s;
	struct events e = { "" };
	char *argv[] = { "/nonexistent/daemon", NULL };

	sup_init(&s, record, &e);
	ASSERT_EQ(0, sup_add(&s, "ghost", argv));
	sup_tick(&s, monotime_ms());
	wait_exit(&s, 0);
	EXPECT_EQ(SUP_BACKOFF, s.svc[0].state);
	EXPECT_TRUE(WIFEXITED(s.svc[0].last_status));
	EXPECT_EQ(127, WEXITSTATUS(s.svc[0].last_status));
	sup_free(&s);
}

TEST(too_long_argv_is_refused_not_cut)
{
	struct supervisor s;
	char *argv[SUP_MAX_ARGS + 2];
	int i;

	for (i = 0; i <= SUP_MAX_ARGS; i++)
		argv[i] = "/bin/true";
	argv[i] = NULL;
	sup_init(&s, NULL, NULL);
	EXPECT_EQ(-E2BIG, sup_add(&s, "long", argv));
	argv[SUP_MAX_ARGS] = NULL;   /* exactly SUP_MAX_ARGS words: kept whole */
	ASSERT_EQ(0, sup_add(&s, "fits", argv));
	EXPECT_STREQ("/bin/true", s.svc[0].argv[SUP_MAX_ARGS - 1]);
	sup_free(&s);
}

TEST_HARNESS_MAIN
