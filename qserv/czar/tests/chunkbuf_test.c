/* chunkbuf_test.c: a chunk's held-back row batches (chunkbuf.h): payloads
 * come back in order, identical, from memory and past the bound from the
 * spill file; a reset forgets an attempt; the caller can stop the replay. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "../chunkbuf.h"

/* Payload i: i+1 bytes (mod 5000) of the byte i. */
static uint32_t plen(unsigned i) { return 1 + i % 5000; }

struct seen { unsigned n, bad, stop_at; };

static int check(void *ctx, const void *p, uint32_t len)
{
	struct seen *s = ctx;
	const unsigned char *c = p;
	uint32_t k;

	if (len != plen(s->n))
		s->bad++;
	for (k = 0; k < len && len == plen(s->n); k++)
		if (c[k] != (unsigned char)s->n) {
			s->bad++;
			break;
		}
	s->n++;
	return s->stop_at && s->n == s->stop_at ? 7 : 0;
}

static void add_n(struct __test_metadata *_metadata, struct chunkbuf *b, unsigned n)
{
	char err[256], *p = malloc(5000);
	unsigned i;

	ASSERT_NE(NULL, p);
	for (i = 0; i < n; i++) {
		memset(p, (unsigned char)i, plen(i));
		ASSERT_EQ(0, chunkbuf_add(b, p, plen(i), err, sizeof(err))) TH_LOG("%s", err);
	}
	free(p);
}

TEST(in_memory_in_order)
{
	struct chunkbuf b;
	struct seen s = { 0 };
	char err[256];

	chunkbuf_init(&b, 1 << 20, NULL);
	add_n(_metadata, &b, 100);
	EXPECT_EQ(-1, b.fd);
	EXPECT_EQ(0, chunkbuf_each(&b, check, &s, err, sizeof(err)));
	EXPECT_EQ(100, s.n);
	EXPECT_EQ(0, s.bad);
	chunkbuf_free(&b);
}

TEST(spills_past_the_bound_and_replays_in_order)
{
	struct chunkbuf b;
	struct seen s = { 0 };
	char err[256], dir[] = "/tmp/chunkbuf_test.XXXXXX";

	ASSERT_NE(NULL, mkdtemp(dir));
	chunkbuf_init(&b, 64 << 10, dir);
	add_n(_metadata, &b, 400);              /* ~80 kB: most of it spilled */
	EXPECT_LE(0, b.fd);
	EXPECT_LT(0, b.spilled);
	EXPECT_GE(64u << 10, b.mem.len);
	EXPECT_EQ(400, b.frames);
	EXPECT_EQ(0, chunkbuf_each(&b, check, &s, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(400, s.n);
	EXPECT_EQ(0, s.bad);
	/* twice: the replay rewinds the file */
	memset(&s, 0, sizeof(s));
	EXPECT_EQ(0, chunkbuf_each(&b, check, &s, err, sizeof(err)));
	EXPECT_EQ(400, s.n);
	chunkbuf_free(&b);
	EXPECT_EQ(0, rmdir(dir));              /* the spill file left nothing behind */
}

TEST(reset_forgets_an_attempt)
{
	struct chunkbuf b;
	struct seen s = { 0 };
	char err[256];

	chunkbuf_init(&b, 16 << 10, NULL);
	add_n(_metadata, &b, 50);
	chunkbuf_reset(&b);
	EXPECT_EQ(-1, b.fd);
	EXPECT_EQ(0, b.frames);
	add_n(_metadata, &b, 30);
	EXPECT_EQ(0, chunkbuf_each(&b, check, &s, err, sizeof(err)));
	EXPECT_EQ(30, s.n);
	EXPECT_EQ(0, s.bad);
	chunkbuf_free(&b);
}

TEST(the_callback_stops_the_replay)
{
	struct chunkbuf b;
	struct seen s = { .stop_at = 5 };
	char err[256];

	chunkbuf_init(&b, 16 << 10, NULL);
	add_n(_metadata, &b, 50);
	EXPECT_EQ(7, chunkbuf_each(&b, check, &s, err, sizeof(err)));
	EXPECT_EQ(5, s.n);
	chunkbuf_free(&b);
}

TEST(a_shared_budget_spills_the_buffer_that_finds_it_used)
{
	struct chunkbuf a, b;
	struct seen s = { 0 };
	uint64_t held = 0;
	char err[256];

	chunkbuf_init(&a, 1 << 20, NULL);
	chunkbuf_init(&b, 1 << 20, NULL);
	chunkbuf_share(&a, &held, 32 << 10);
	chunkbuf_share(&b, &held, 32 << 10);
	add_n(_metadata, &a, 60);              /* 60 payloads of 1..60 bytes: in memory */
	EXPECT_EQ(-1, a.fd);
	add_n(_metadata, &b, 400);             /* ~80 kB: past the budget, spilled */
	EXPECT_LE(0, b.fd);
	EXPECT_GE(32u << 10, held);
	EXPECT_EQ(a.mem.len + b.mem.len, held);
	EXPECT_EQ(0, chunkbuf_each(&b, check, &s, err, sizeof(err)));
	EXPECT_EQ(400, s.n);
	EXPECT_EQ(0, s.bad);
	chunkbuf_free(&b);
	EXPECT_EQ(a.mem.len, held);            /* freed buffers give their share back */
	chunkbuf_free(&a);
	EXPECT_EQ(0, held);
}

TEST(an_unusable_spill_dir_is_an_error)
{
	struct chunkbuf b;
	char err[256] = "", big[100];

	memset(big, 1, sizeof(big));
	chunkbuf_init(&b, 0, "/nonexistent/dir");
	EXPECT_GT(0, chunkbuf_add(&b, big, sizeof(big), err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "/nonexistent/dir"));
	chunkbuf_free(&b);
}

TEST_HARNESS_MAIN
