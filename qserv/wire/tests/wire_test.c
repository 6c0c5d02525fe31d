/* wire_test.c: czar <-> worker messages -- round trips, LZ4 row batches,
 * frames over a socketpair, and every truncation / random corruption of
 * each message type (QUERY, COLUMNS, ROWS, END, ERROR, KEEPALIVE) either refused with
 * a clean error or decoded within bounds.  The corruption's seed is
 * printed; SEED=N replays it. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "../wire.h"

TEST(query_round_trip)
{
	struct wire_query q = { .query_id = 0x1122334455667788ull, .chunk_id = 1234567890, .flags = WIRE_Q_SCAN,
				.sql = "SELECT 1", .sql_len = 8 }, d;
	struct buf b = { 0 };

	ASSERT_EQ(0, wire_query_encode(&q, &b));
	ASSERT_EQ(0, wire_query_decode(b.data, b.len, &d));
	EXPECT_EQ(q.query_id, d.query_id);
	EXPECT_EQ(q.chunk_id, d.chunk_id);
	EXPECT_EQ(q.flags, d.flags);
	EXPECT_EQ(8, d.sql_len);
	EXPECT_EQ(0, memcmp(d.sql, "SELECT 1", 8));
	b.data[0] = 9;   /* unknown version */
	EXPECT_EQ(-EPROTONOSUPPORT, wire_query_decode(b.data, b.len, &d));
	buf_free(&b);
}

TEST(query_sub_chunks_round_trip)
{
	static const int32_t sub[3] = { 0, 17, 1000000 };
	struct wire_query q = { .query_id = 7, .chunk_id = 6630, .sql = "SELECT %SS%", .sql_len = 11,
				.sub_db = "e2e", .sub_db_len = 3, .sub_table = "Object", .sub_table_len = 6,
				.nsub = 3, .sub = sub }, d;
	struct buf b = { 0 };
	uint32_t i;

	ASSERT_EQ(0, wire_query_encode(&q, &b));
	EXPECT_EQ(2, b.data[0]);          /* version 2 only with sub-chunks */
	ASSERT_EQ(0, wire_query_decode(b.data, b.len, &d));
	EXPECT_EQ(6630, d.chunk_id);
	EXPECT_EQ(11, d.sql_len);
	ASSERT_EQ(3, d.sub_db_len);
	EXPECT_EQ(0, memcmp(d.sub_db, "e2e", 3));
	ASSERT_EQ(6, d.sub_table_len);
	EXPECT_EQ(0, memcmp(d.sub_table, "Object", 6));
	ASSERT_EQ(3, d.nsub);
	for (i = 0; i < 3; i++)
		EXPECT_EQ(sub[i], wire_query_sub(&d, i));
	EXPECT_EQ(-EBADMSG, wire_query_decode(b.data, b.len - 1, &d));   /* truncated list */
	b.len = 0;
	q.nsub = 0;                       /* an old-style query stays version 1 */
	ASSERT_EQ(0, wire_query_encode(&q, &b));
	EXPECT_EQ(1, b.data[0]);
	ASSERT_EQ(0, wire_query_decode(b.data, b.len, &d));
	EXPECT_EQ(0, d.nsub);
	buf_free(&b);
}

TEST(columns_round_trip)
{
	struct wire_col c[2] = {
		{ .name = "objectId", .org_name = "objectId", .table = "o", .org_table = "Object_1",
		  .db = "LSST", .length = 20, .flags = 35, .charset = 63, .type = 8, .decimals = 0 },
		{ .name = "s", .org_name = "", .table = "", .org_table = "", .db = "", .length = 80,
		  .flags = 0, .charset = 45, .type = 253, .decimals = 39 },
	};
	struct buf b = { 0 };
	struct wire_cols d;

	ASSERT_EQ(0, wire_cols_encode(c, 2, &b));
	ASSERT_EQ(0, wire_cols_decode(b.data, b.len, &d));
	ASSERT_EQ(2, d.n);
	EXPECT_STREQ("objectId", d.v[0].name);
	EXPECT_STREQ("Object_1", d.v[0].org_table);
	EXPECT_STREQ("LSST", d.v[0].db);
	EXPECT_EQ(35, d.v[0].flags);
	EXPECT_EQ(253, d.v[1].type);
	EXPECT_EQ(39, d.v[1].decimals);
	EXPECT_STREQ("", d.v[1].table);
	wire_cols_free(&d);
	buf_free(&b);
}

TEST(rows_round_trip_with_nulls_and_binary)
{
	struct wire_batch bt;
	struct buf out = { 0 };
	struct wire_rows r;
	const char *v1[3] = { "1", NULL, "a\0b" }, *v2[3] = { "", "x", NULL };
	unsigned long l1[3] = { 1, 0, 3 }, l2[3] = { 0, 1, 0 };
	int i;

	wire_batch_init(&bt, 3);
	ASSERT_EQ(0, wire_batch_add(&bt, v1, l1));
	for (i = 0; i < 1000; i++)
		ASSERT_EQ(0, wire_batch_add(&bt, v2, l2));
	ASSERT_EQ(0, wire_batch_seal(&bt, &out));
	EXPECT_GT(1001 * 12, out.len);    /* repetitive rows compress */
	ASSERT_EQ(0, wire_rows_decode(out.data, out.len, 3, &r));
	ASSERT_EQ(1001, r.nrows);
	EXPECT_EQ(0, memcmp(r.vals[0], "1", 1));
	EXPECT_EQ(NULL, r.vals[1]);
	EXPECT_EQ(3, r.lens[2]);
	EXPECT_EQ(0, memcmp(r.vals[2], "a\0b", 3));
	EXPECT_EQ(0, r.lens[3]);
	EXPECT_NE(NULL, r.vals[3]);       /* empty string is not NULL */
	EXPECT_EQ(NULL, r.vals[3 * 1000 + 2]);
	wire_rows_free(&r);
	/* the batch is empty after sealing */
	ASSERT_EQ(0, wire_batch_seal(&bt, &out));
	ASSERT_EQ(0, wire_rows_decode(out.data, out.len, 3, &r));
	EXPECT_EQ(0, r.nrows);
	wire_rows_free(&r);
	/* wrong column count is detected */
	wire_batch_add(&bt, v1, l1);
	wire_batch_seal(&bt, &out);
	EXPECT_EQ(-EBADMSG, wire_rows_decode(out.data, out.len, 2, &r));
	wire_batch_free(&bt);
	buf_free(&out);
}

TEST(error_and_end_round_trip)
{
	struct wire_error e = { .code = 1146, .sqlstate = "42S02", .msg = "Table 'LSST.x' doesn't exist" }, d;
	struct buf b = { 0 };
	uint64_t rows;

	ASSERT_EQ(0, wire_error_encode(&e, &b));
	ASSERT_EQ(0, wire_error_decode(b.data, b.len, &d));
	EXPECT_EQ(1146, d.code);
	EXPECT_STREQ("42S02", d.sqlstate);
	EXPECT_STREQ(e.msg, d.msg);
	b.len = 0;
	ASSERT_EQ(0, wire_end_encode(12345678901ull, &b));
	ASSERT_EQ(0, wire_end_decode(b.data, b.len, &rows));
	EXPECT_EQ(12345678901ull, rows);
	buf_free(&b);
}

/* Malformed messages: one encoded message of each type, cut at every
 * length and corrupted at random.  A decoder must either refuse with a
 * clean error code or succeed with every field within bounds, and never
 * read out of bounds (the test runs under ASan). */
enum { M_QUERY, M_COLS, M_ROWS, M_END, M_ERROR, M_KEEPALIVE, M_N };
static const char *const msg_name[M_N] = { "QUERY", "COLUMNS", "ROWS", "END", "ERROR", "KEEPALIVE" };

static void encode_each_type(struct buf m[M_N])
{
	struct wire_query q = { .query_id = 7, .chunk_id = 3, .sql = "SELECT * FROM t", .sql_len = 15 };
	struct wire_col c[2] = {
		{ .name = "a", .org_name = "a", .table = "t", .org_table = "t", .db = "d", .type = 3 },
		{ .name = "bb", .org_name = "", .table = "t", .org_table = "t", .db = "d", .type = 253 },
	};
	const char *v[1] = { "12345" };
	unsigned long l[1] = { 5 };
	struct wire_batch bt;
	struct wire_error e = { .code = 1146, .sqlstate = "42S02", .msg = "no such table" };

	wire_query_encode(&q, &m[M_QUERY]);
	wire_cols_encode(c, 2, &m[M_COLS]);
	wire_batch_init(&bt, 1);
	wire_batch_add(&bt, v, l);
	wire_batch_add(&bt, v, l);
	wire_batch_seal(&bt, &m[M_ROWS]);
	wire_batch_free(&bt);
	wire_end_encode(12345, &m[M_END]);
	wire_error_encode(&e, &m[M_ERROR]);
	wire_keepalive_encode(2001, &m[M_KEEPALIVE]);
}

static uint64_t le_bytes(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static bool clean_error(int type, int r)
{
	return r == -EBADMSG || (type == M_QUERY && r == -EPROTONOSUPPORT);
}

static bool cols_sane(const struct wire_cols *c, size_t n)
{
	size_t total = 0;
	if (c->n < 1 || c->n > WIRE_MAX_COLS)
		return false;
	for (unsigned i = 0; i < c->n; i++) {
		const char *s[5] = { c->v[i].name, c->v[i].org_name, c->v[i].table, c->v[i].org_table,
				     c->v[i].db };
		for (int k = 0; k < 5; k++) {
			if (!s[k] || s[k] < c->strings)
				return false;
			total += strlen(s[k]);
		}
	}
	return total <= n;
}

static bool rows_sane(const struct wire_rows *w, const unsigned char *p, size_t n)
{
	uint64_t raw = n >= 4 ? le_bytes(p, 4) : 0;
	if (w->ncols != 1 || raw < 4 || (uint64_t)w->nrows * 4 > raw)
		return false;
	for (uint32_t i = 0; i < w->nrows; i++) {
		if (!w->vals[i]) {
			if (w->lens[i])
				return false;
		} else if (w->vals[i] < w->data || w->lens[i] > raw ||
			   w->vals[i] + w->lens[i] > w->data + raw) {
			return false;
		}
	}
	return true;
}

/* Decodes the n bytes at p as a message of type; returns the decoder's
 * result and, on success, in *ret_sane whether every decoded field lies
 * within its bounds (pointers inside the payload, strings terminated). */
static int decode_checked(int type, const unsigned char *p, size_t n, bool *ret_sane)
{
	struct wire_query q;
	struct wire_cols c;
	struct wire_rows w;
	struct wire_error e;
	uint64_t rows;
	uint32_t ms;
	int r = -EINVAL;

	*ret_sane = true;
	switch (type) {
	case M_QUERY:
		if ((r = wire_query_decode(p, n, &q)) == 0)
			*ret_sane = (const unsigned char *)q.sql >= p && q.sql_len <= n &&
				    (const unsigned char *)q.sql + q.sql_len == p + n;
		break;
	case M_COLS:
		if ((r = wire_cols_decode(p, n, &c)) == 0) {
			*ret_sane = cols_sane(&c, n);
			wire_cols_free(&c);
		}
		break;
	case M_ROWS:
		if ((r = wire_rows_decode(p, n, 1, &w)) == 0) {
			*ret_sane = rows_sane(&w, p, n);
			wire_rows_free(&w);
		}
		break;
	case M_END:
		if ((r = wire_end_decode(p, n, &rows)) == 0)
			*ret_sane = n == 8 && rows == le_bytes(p, 8);
		break;
	case M_ERROR:
		if ((r = wire_error_decode(p, n, &e)) == 0)
			*ret_sane = memchr(e.msg, '\0', sizeof(e.msg)) && e.sqlstate[5] == '\0' && e.code <= 0xffff;
		break;
	case M_KEEPALIVE:
		if ((r = wire_keepalive_decode(p, n, &ms)) == 0)
			*ret_sane = n == 4 && ms == le_bytes(p, 4);
		break;
	}
	return r;
}

/* xorshift64*: the corruption is replayable from the printed seed. */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1Dull;
}

TEST(truncated_messages_fail_cleanly)
{
	struct buf m[M_N] = { { 0 } };
	size_t want = 0, bad = 0;
	bool sane;

	encode_each_type(m);
	for (int t = 0; t < M_N; t++) {
		ASSERT_LT(0, m[t].len);
		want += m[t].len;
		for (size_t k = 0; k < m[t].len; k++) {
			unsigned char *copy = malloc(k ? k : 1);
			memcpy(copy, m[t].data, k);
			int r = decode_checked(t, copy, k, &sane);
			free(copy);
			if (r < 0) {
				EXPECT_TRUE(clean_error(t, r)) TH_LOG("%s cut at %zu: error %d", msg_name[t], k, r);
				bad++;
			}
		}
	}
	/* every strict prefix is refused */
	EXPECT_EQ(want, bad);
	for (int t = 0; t < M_N; t++)
		buf_free(&m[t]);
}

TEST(corrupted_messages_fail_cleanly_or_decode_in_bounds)
{
	enum { ROUNDS = 2000 };
	struct buf m[M_N] = { { 0 } };
	const char *env = getenv("SEED");
	uint64_t seed = env && *env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	uint64_t rs = seed ? seed : 1;
	unsigned ok[M_N] = { 0 }, refused[M_N] = { 0 };

	TH_LOG("seed %llu (SEED=%llu replays this run)", (unsigned long long)seed, (unsigned long long)seed);
	encode_each_type(m);
	for (int t = 0; t < M_N; t++) {
		unsigned char *copy = malloc(m[t].len);
		ASSERT_NE(NULL, copy);
		for (int k = 0; k < ROUNDS; k++) {
			int flips = 1 + (int)(next_rand(&rs) % 3);
			bool sane;
			memcpy(copy, m[t].data, m[t].len);
			for (int f = 0; f < flips; f++)
				copy[next_rand(&rs) % m[t].len] ^= (unsigned char)(1 + next_rand(&rs) % 255);
			int r = decode_checked(t, copy, m[t].len, &sane);
			if (r < 0) {
				ASSERT_TRUE(clean_error(t, r))
					TH_LOG("%s round %d: error %d is not a clean refusal", msg_name[t], k, r);
				refused[t]++;
			} else {
				ASSERT_TRUE(sane) TH_LOG("%s round %d: decoded out of bounds", msg_name[t], k);
				ok[t]++;
			}
		}
		free(copy);
		TH_LOG("%s: %u decoded in bounds, %u refused", msg_name[t], ok[t], refused[t]);
		EXPECT_EQ(ROUNDS, ok[t] + refused[t]);
		if (t == M_END || t == M_KEEPALIVE) {
			EXPECT_EQ(ROUNDS, ok[t]);   /* any 8 (4) bytes are a row count (a time) */
		} else {
			/* a flipped length is refused, a flipped text byte is not */
			EXPECT_LT(0, refused[t]);
			EXPECT_LT(0, ok[t]);
		}
	}
	for (int t = 0; t < M_N; t++)
		buf_free(&m[t]);
}

TEST(frames_over_a_socket)
{
	int fd[2];
	struct wire_io a, b;
	struct frame_hdr h;
	void *buf;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, fd));
	a = (struct wire_io){ frame_fd_read, frame_fd_write, &fd[0], 5000 };
	b = (struct wire_io){ frame_fd_read, frame_fd_write, &fd[1], 5000 };
	ASSERT_EQ(0, wire_send(&a, WIRE_END, 0, "12345678", 8));
	ASSERT_EQ(0, wire_recv(&b, &h, &buf));
	EXPECT_EQ(WIRE_END, h.type);
	EXPECT_EQ(8, h.len);
	free(buf);
	close(fd[0]);
	EXPECT_NE(0, wire_recv(&b, &h, &buf));
	close(fd[1]);
}

TEST_HARNESS_MAIN
