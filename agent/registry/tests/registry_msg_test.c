/* registry_msg_test.c: encoding and decoding of registry messages: round
 * trips over a socketpair, and every kind of bad input refused with its
 * reason (non-objects, duplicate keys, NUL bytes, truncated JSON, unknown
 * types, oversized frames, fields of the wrong type or size). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "../registry_msg.h"

FIXTURE(pair) { int sv[2]; char err[256]; };
FIXTURE_SETUP(pair) { ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, self->sv)); }
FIXTURE_TEARDOWN(pair) { close(self->sv[0]); close(self->sv[1]); }

TEST_F(pair, round_trip)
{
	int type;
	json_t *m;
	ASSERT_EQ(0, reg_msg_send(frame_fd_write, &self->sv[0], REG_MSG_HEARTBEAT,
				  json_pack("{s:i, s:s, s:{s:f}}", "seq", 7, "state", "ready", "health", "load1", 0.25),
				  REG_MSG_MAX_REQ, 1000));
	ASSERT_EQ(0, reg_msg_recv(frame_fd_read, &self->sv[1], REG_MSG_MAX_REQ, 1000, &type, &m,
				  self->err, sizeof(self->err)));
	EXPECT_EQ(REG_MSG_HEARTBEAT, type);
	EXPECT_EQ(7, json_integer_value(json_object_get(m, "seq")));
	EXPECT_STREQ("ready", json_string_value(json_object_get(m, "state")));
	json_decref(m);
	reg_msg_send_error(frame_fd_write, &self->sv[0], "bad_token", "wrong join token");
	ASSERT_EQ(0, reg_msg_recv(frame_fd_read, &self->sv[1], REG_MSG_MAX_REQ, 1000, &type, &m,
				  self->err, sizeof(self->err)));
	EXPECT_EQ(REG_MSG_ERROR, type);
	EXPECT_STREQ("bad_token", json_string_value(json_object_get(m, "code")));
	json_decref(m);
	EXPECT_STREQ("JOIN", reg_msg_name(REG_MSG_JOIN));
	EXPECT_STREQ("?", reg_msg_name(77));
}

TEST_F(pair, unknown_type_and_oversized)
{
	int type;
	json_t *m = NULL;
	ASSERT_EQ(0, frame_write(frame_fd_write, &self->sv[0], 42, 0, "{}", 2, 100, 1000));
	EXPECT_EQ(-EBADMSG, reg_msg_recv(frame_fd_read, &self->sv[1], REG_MSG_MAX_REQ, 1000, &type, &m,
					 self->err, sizeof(self->err)));
	EXPECT_NE(NULL, strstr(self->err, "unknown message type 42"));
	EXPECT_EQ(NULL, m);
	char *big = malloc(REG_MSG_MAX_REQ + 2);
	memset(big, ' ', REG_MSG_MAX_REQ + 1);
	big[0] = '{';
	big[REG_MSG_MAX_REQ] = '}';
	/* the sender refuses to build it, the receiver refuses the header */
	EXPECT_EQ(-EMSGSIZE, frame_write(frame_fd_write, &self->sv[0], REG_MSG_JOIN, 0, big, REG_MSG_MAX_REQ + 1,
					 REG_MSG_MAX_REQ, 1000));
	uint8_t h[FRAME_HDR_LEN];
	frame_hdr_encode(&(struct frame_hdr){ .type = REG_MSG_JOIN, .len = REG_MSG_MAX_REQ + 1 }, h);
	ASSERT_EQ(FRAME_HDR_LEN, write(self->sv[0], h, sizeof(h)));
	EXPECT_EQ(-EMSGSIZE, reg_msg_recv(frame_fd_read, &self->sv[1], REG_MSG_MAX_REQ, 1000, &type, &m,
					  self->err, sizeof(self->err)));
	EXPECT_NE(NULL, strstr(self->err, "larger than"));
	free(big);
}

static int decode(const char *text, size_t len, char *err)
{
	json_t *m = NULL;
	int r = reg_msg_decode(text, len, &m, err, 256);
	json_decref(m);
	return r;
}

TEST(decode_refuses_bad_payloads)
{
	char err[256];
	EXPECT_EQ(0, decode("{\"a\":1}", 7, err));
	EXPECT_EQ(-EBADMSG, decode("[1,2,3]", 7, err));
	EXPECT_NE(NULL, strstr(err, "not a JSON object"));
	EXPECT_EQ(-EBADMSG, decode("\"str\"", 5, err));
	EXPECT_EQ(-EBADMSG, decode("{\"a\":1,\"a\":2}", 13, err));
	EXPECT_NE(NULL, strstr(err, "duplicate"));
	EXPECT_EQ(-EBADMSG, decode("{\"a\":", 5, err));
	EXPECT_NE(NULL, strstr(err, "malformed JSON"));
	EXPECT_EQ(-EBADMSG, decode("{\"a\":1}\0xx", 10, err));
	EXPECT_NE(NULL, strstr(err, "NUL"));
	EXPECT_EQ(-EBADMSG, decode("", 0, err));
	EXPECT_EQ(-EBADMSG, decode("{\"a\":1} {\"b\":2}", 15, err));
}

TEST(string_fields_checked)
{
	char err[256], buf[8];
	json_t *m = json_pack("{s:s, s:i, s:s, s:s}", "ok", "worker", "num", 5, "long", "0123456789",
			      "ctl", "a\tb");
	EXPECT_EQ(0, reg_msg_str(m, "ok", buf, sizeof(buf), 1, err, sizeof(err)));
	EXPECT_STREQ("worker", buf);
	EXPECT_EQ(-ENOENT, reg_msg_str(m, "missing", buf, sizeof(buf), 1, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "missing field 'missing'"));
	EXPECT_EQ(0, reg_msg_str(m, "missing", buf, sizeof(buf), 0, err, sizeof(err)));
	EXPECT_STREQ("", buf);
	EXPECT_EQ(-EBADMSG, reg_msg_str(m, "num", buf, sizeof(buf), 1, err, sizeof(err)));
	EXPECT_EQ(-EBADMSG, reg_msg_str(m, "long", buf, sizeof(buf), 1, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "at most 7 bytes"));
	EXPECT_EQ(-EBADMSG, reg_msg_str(m, "ctl", buf, sizeof(buf), 1, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "control character"));
	json_decref(m);
}

TEST_HARNESS_MAIN
