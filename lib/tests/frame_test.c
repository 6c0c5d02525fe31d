/* frame_test.c: unit tests of lib/frame.c over socketpairs: round trip,
 * maximum size enforced on both sides, bad magic, truncation, timeouts. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "frame.h"

FIXTURE(pair) { int sv[2]; };
FIXTURE_SETUP(pair) { ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, self->sv)); }
FIXTURE_TEARDOWN(pair) { close(self->sv[0]); close(self->sv[1]); }

TEST_F(pair, round_trip_and_empty)
{
	struct frame_hdr h;
	void *buf;
	ASSERT_EQ(0, frame_write(frame_fd_write, &self->sv[0], 3, FRAME_F_LZ4, "hello", 5, 100, 1000));
	ASSERT_EQ(0, frame_write(frame_fd_write, &self->sv[0], 4, 0, NULL, 0, 100, 1000));
	ASSERT_EQ(0, frame_read(frame_fd_read, &self->sv[1], 100, 1000, &h, &buf));
	EXPECT_EQ(3, h.type);
	EXPECT_EQ(FRAME_F_LZ4, h.flags);
	EXPECT_EQ(5, h.len);
	EXPECT_STREQ("hello", (char *)buf);   /* NUL appended */
	free(buf);
	ASSERT_EQ(0, frame_read(frame_fd_read, &self->sv[1], 100, 1000, &h, &buf));
	EXPECT_EQ(4, h.type);
	EXPECT_EQ(0, h.len);
	free(buf);
	close(self->sv[0]);
	self->sv[0] = -1;
	EXPECT_EQ(-ENODATA, frame_read(frame_fd_read, &self->sv[1], 100, 1000, &h, &buf));
}

TEST_F(pair, max_size_enforced)
{
	struct frame_hdr h;
	void *buf = NULL;
	char big[101] = { 0 };
	EXPECT_EQ(-EMSGSIZE, frame_write(frame_fd_write, &self->sv[0], 1, 0, big, 101, 100, 1000));
	EXPECT_EQ(0, frame_write(frame_fd_write, &self->sv[0], 1, 0, big, 100, 100, 1000));
	/* reader with a smaller limit refuses the header, allocates nothing */
	EXPECT_EQ(-EMSGSIZE, frame_read(frame_fd_read, &self->sv[1], 99, 1000, &h, &buf));
	EXPECT_EQ(NULL, buf);
	/* a forged 4 GiB header is refused even by a generous reader */
	uint8_t hdr[FRAME_HDR_LEN] = { 'Q', 'F', 1, 0, 0xff, 0xff, 0xff, 0xff };
	EXPECT_EQ(-EMSGSIZE, frame_hdr_decode(hdr, FRAME_MAX_ABS * 2ull, &h));
}

TEST_F(pair, bad_magic)
{
	struct frame_hdr h;
	void *buf = NULL;
	ASSERT_EQ(16, write(self->sv[0], "GET / HTTP/1.1\r\n", 16));
	EXPECT_EQ(-EPROTO, frame_read(frame_fd_read, &self->sv[1], 1 << 20, 1000, &h, &buf));
	EXPECT_EQ(NULL, buf);
}

TEST_F(pair, truncated_frame)
{
	struct frame_hdr h;
	void *buf = NULL;
	uint8_t hdr[FRAME_HDR_LEN];
	frame_hdr_encode(&(struct frame_hdr){ .type = 1, .len = 10 }, hdr);
	ASSERT_EQ(8, write(self->sv[0], hdr, 8));
	ASSERT_EQ(3, write(self->sv[0], "abc", 3));
	close(self->sv[0]);
	self->sv[0] = -1;
	EXPECT_EQ(-ECONNRESET, frame_read(frame_fd_read, &self->sv[1], 100, 1000, &h, &buf));
	EXPECT_EQ(NULL, buf);
}

TEST_F(pair, timeout_mid_frame)
{
	struct frame_hdr h;
	void *buf = NULL;
	ASSERT_EQ(4, write(self->sv[0], "QF\1\0", 4));
	EXPECT_EQ(-ETIMEDOUT, frame_read(frame_fd_read, &self->sv[1], 100, 100, &h, &buf));
	EXPECT_EQ(NULL, buf);
}

TEST_HARNESS_MAIN
