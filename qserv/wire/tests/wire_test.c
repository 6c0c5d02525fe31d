/* wire_test.c: czar <-> worker messages -- round trips, LZ4 row batches,
 * frames over a socketpair, and every truncation / random corruption of
 * each message failing cleanly. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

/* Truncations and random corruption of every message: decoders either
 * fail with an error or succeed, never read out of bounds (ASan). */
TEST(malformed_messages_fail_cleanly)
{
	struct wire_query q = { .query_id = 7, .chunk_id = 3, .sql = "SELECT * FROM t", .sql_len = 15 };
	struct wire_col c = { .name = "a", .org_name = "a", .table = "t", .org_table = "t", .db = "d", .type = 3 };
	const char *v[1] = { "12345" };
	unsigned long l[1] = { 5 };
	struct buf m[4] = { { 0 } };
	struct wire_batch bt;
	struct wire_error e = { .code = 1, .sqlstate = "HY000", .msg = "x" };
	size_t i, k;
	int bad = 0;

	wire_query_encode(&q, &m[0]);
	wire_cols_encode(&c, 1, &m[1]);
	wire_batch_init(&bt, 1);
	wire_batch_add(&bt, v, l);
	wire_batch_add(&bt, v, l);
	wire_batch_seal(&bt, &m[2]);
	wire_batch_free(&bt);
	wire_error_encode(&e, &m[3]);
	srand(42);
	for (i = 0; i < 4; i++) {
		for (k = 0; k < m[i].len; k++) {
			unsigned char *copy = malloc(k ? k : 1);
			struct wire_query dq;
			struct wire_cols dc;
			struct wire_rows dr;
			struct wire_error de;
			memcpy(copy, m[i].data, k);
			switch (i) {
			case 0: bad += wire_query_decode(copy, k, &dq) < 0; break;
			case 1: if (wire_cols_decode(copy, k, &dc) < 0) bad++; else wire_cols_free(&dc); break;
			case 2: if (wire_rows_decode(copy, k, 1, &dr) < 0) bad++; else wire_rows_free(&dr); break;
			case 3: bad += wire_error_decode(copy, k, &de) < 0; break;
			}
			free(copy);
		}
		for (k = 0; k < 2000; k++) {
			unsigned char *copy = malloc(m[i].len);
			struct wire_cols dc;
			struct wire_rows dr;
			struct wire_query dq;
			memcpy(copy, m[i].data, m[i].len);
			copy[rand() % m[i].len] ^= (unsigned char)(1 + rand() % 255);
			if (i == 1 && wire_cols_decode(copy, m[i].len, &dc) == 0)
				wire_cols_free(&dc);
			if (i == 2 && wire_rows_decode(copy, m[i].len, 1, &dr) == 0)
				wire_rows_free(&dr);
			if (i == 0)
				wire_query_decode(copy, m[i].len, &dq);
			free(copy);
		}
	}
	/* every strict prefix is refused */
	EXPECT_EQ(m[0].len + m[1].len + m[2].len + m[3].len, bad);
	for (i = 0; i < 4; i++)
		buf_free(&m[i]);
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
