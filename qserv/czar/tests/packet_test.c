/* packet_test.c: MySQL packet framing, field codecs and login decoding. */
#include <errno.h>
#include <signal.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include <mariadb/mysql.h>

#include "../myproto.h"
#include "../packet.h"

TEST(lenenc_round_trip_at_boundaries)
{
	static const uint64_t v[] = { 0, 1, 250, 251, 0xffff, 0x10000, 0xffffff, 0x1000000,
				      0xffffffffull, 0x123456789abcdefull };
	struct buf b;
	struct lerd r;
	size_t i;

	buf_init(&b);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		pkt_put_lenenc(&b, v[i]);
	ASSERT_EQ(0, b.oom);
	/* 1-byte form below 251, 0xfc/0xfd/0xfe forms above */
	EXPECT_EQ(250, b.data[2]);
	EXPECT_EQ(0xfc, b.data[3]);
	lerd_init(&r, b.data, b.len);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		EXPECT_EQ(v[i], pkt_get_lenenc(&r));
	EXPECT_EQ(0, r.err);
	EXPECT_EQ(0, lerd_remaining(&r));
	buf_free(&b);
}

TEST(reader_latches_errors_on_short_fields)
{
	static const unsigned char trunc[] = { 0xfd, 0x01 };   /* 3-byte length cut short */
	static const unsigned char nul_missing[] = { 'a', 'b' };
	static const unsigned char lenstr_long[] = { 5, 'a', 'b' };
	static const unsigned char null_marker[] = { 0xfb };
	struct lerd r;
	size_t n;

	lerd_init(&r, trunc, sizeof(trunc));
	pkt_get_lenenc(&r);
	EXPECT_EQ(-EBADMSG, r.err);
	EXPECT_EQ(0, lerd_u32(&r));    /* stays failed */

	lerd_init(&r, nul_missing, sizeof(nul_missing));
	EXPECT_EQ(NULL, pkt_get_nulstr(&r, &n));
	EXPECT_EQ(-EBADMSG, r.err);

	lerd_init(&r, lenstr_long, sizeof(lenstr_long));
	EXPECT_EQ(NULL, pkt_get_lenstr(&r, &n));
	EXPECT_EQ(-EBADMSG, r.err);

	lerd_init(&r, null_marker, sizeof(null_marker));
	pkt_get_lenenc(&r);
	EXPECT_EQ(-EBADMSG, r.err);
}

FIXTURE(pair) { int fd[2]; struct pkt_conn srv, cli; struct buf in; };
FIXTURE_SETUP(pair)
{
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, self->fd));
	pkt_conn_init(&self->srv, self->fd[0]);
	pkt_conn_init(&self->cli, self->fd[1]);
	buf_init(&self->in);
}
FIXTURE_TEARDOWN(pair)
{
	pkt_conn_free(&self->srv);
	pkt_conn_free(&self->cli);
	buf_free(&self->in);
	close(self->fd[0]);
	close(self->fd[1]);
}

static void *writer(void *arg)
{
	struct pkt_conn *c = arg;
	pkt_flush(c);
	return NULL;
}

TEST_F(pair, small_packets_keep_sequence)
{
	pkt_begin(&self->cli);
	pkt_put_nulstr(&self->cli.out, "hello");
	ASSERT_EQ(0, pkt_end(&self->cli));
	pkt_begin(&self->cli);
	lebuf_u8(&self->cli.out, 7);
	ASSERT_EQ(0, pkt_end(&self->cli));
	ASSERT_EQ(0, pkt_flush(&self->cli));
	ASSERT_EQ(0, pkt_read(&self->srv, &self->in, 1024, 1));
	EXPECT_EQ(6, self->in.len);
	EXPECT_STREQ("hello", (char *)self->in.data);
	ASSERT_EQ(0, pkt_read(&self->srv, &self->in, 1024, 1));
	EXPECT_EQ(1, self->in.len);
	EXPECT_EQ(7, self->in.data[0]);
	EXPECT_EQ(2, self->srv.seq);
}

TEST_F(pair, wrong_sequence_is_a_protocol_error)
{
	self->cli.seq = 5;
	pkt_begin(&self->cli);
	lebuf_u8(&self->cli.out, 1);
	pkt_end(&self->cli);
	pkt_flush(&self->cli);
	EXPECT_EQ(-EPROTO, pkt_read(&self->srv, &self->in, 1024, 1));
}

TEST_F(pair, oversized_packet_is_refused)
{
	char big[2000];

	memset(big, 'x', sizeof(big));
	pkt_begin(&self->cli);
	buf_put(&self->cli.out, big, sizeof(big));
	pkt_end(&self->cli);
	pkt_flush(&self->cli);
	EXPECT_EQ(-EMSGSIZE, pkt_read(&self->srv, &self->in, 1000, 1));
}

TEST_F(pair, eof_is_connreset)
{
	close(self->fd[1]);
	self->fd[1] = -1;
	EXPECT_EQ(-ECONNRESET, pkt_read(&self->srv, &self->in, 1000, 1));
}

/* A payload of exactly 2 x 0xffffff bytes goes out as two full packets and an
 * empty third one, and is read back whole. */
TEST_F(pair, continuation_packets_split_and_join)
{
	size_t n = 2 * (size_t)PKT_MAX_PAYLOAD, i;
	unsigned char *p = malloc(n);
	pthread_t t;

	ASSERT_NE(NULL, p);
	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 7);
	pkt_begin(&self->cli);
	buf_put(&self->cli.out, p, n);
	ASSERT_EQ(0, pkt_end(&self->cli));
	EXPECT_EQ(n + 12, self->cli.out.len);
	EXPECT_EQ(3, self->cli.seq);
	ASSERT_EQ(0, pthread_create(&t, NULL, writer, &self->cli));
	ASSERT_EQ(0, pkt_read(&self->srv, &self->in, 64u << 20, 1));
	pthread_join(t, NULL);
	ASSERT_EQ(n, self->in.len);
	EXPECT_EQ(0, memcmp(p, self->in.data, n));
	EXPECT_EQ(3, self->srv.seq);
	free(p);
}

/* A HandshakeResponse41 as Connector/C sends it. */
static size_t build_login(unsigned char *out, uint32_t caps, const char *user, const char *db,
			  const char *plugin)
{
	struct buf b;
	size_t n;

	buf_init(&b);
	lebuf_u32(&b, caps);
	lebuf_u32(&b, 1 << 24);
	lebuf_u8(&b, 45);
	buf_put(&b, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 23);
	pkt_put_nulstr(&b, user);
	pkt_put_lenstr(&b, "01234567890123456789", 20);
	if (db)
		pkt_put_nulstr(&b, db);
	if (plugin)
		pkt_put_nulstr(&b, plugin);
	n = b.len;
	memcpy(out, b.data, n);
	buf_free(&b);
	return n;
}

TEST_F(pair, read_times_out)
{
	self->srv.read_timeout_ms = 50;
	EXPECT_EQ(-ETIMEDOUT, pkt_read(&self->srv, &self->in, 1024, 1));
	/* half a header, then nothing: still a timeout, not a hang */
	ASSERT_EQ(2, write(self->fd[1], "\x05\x00", 2));
	EXPECT_EQ(-ETIMEDOUT, pkt_read(&self->srv, &self->in, 1024, 1));
}

/* Fills cli's output with n bytes the peer never reads. */
static void fill(struct pkt_conn *c, size_t n)
{
	pkt_begin(c);
	buf_reserve(&c->out, n + 8);
	memset(c->out.data + c->out.len, 'x', n);
	c->out.len += n;
	pkt_end(c);
}

TEST_F(pair, write_to_a_client_that_does_not_read_times_out)
{
	self->cli.write_timeout_ms = 300;
	fill(&self->cli, 8u << 20);
	EXPECT_EQ(-ETIMEDOUT, pkt_flush(&self->cli));
	EXPECT_EQ(0, self->cli.out.len);
}

static void *set_later(void *arg)
{
	volatile sig_atomic_t *flag = arg;
	usleep(100 * 1000);
	*flag = 1;
	return NULL;
}

TEST_F(pair, blocked_write_gives_up_when_cancelled)
{
	volatile sig_atomic_t killed = 0;
	pthread_t t;

	self->cli.write_timeout_ms = -1;      /* only the cancel can end it */
	self->cli.cancel = &killed;
	fill(&self->cli, 8u << 20);
	ASSERT_EQ(0, pthread_create(&t, NULL, set_later, (void *)&killed));
	EXPECT_EQ(-ECANCELED, pkt_flush(&self->cli));
	pthread_join(t, NULL);
}

TEST(login_decodes_user_db_plugin)
{
	unsigned char p[256];
	uint32_t caps = CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH |
			CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA | CLIENT_CONNECT_WITH_DB;
	size_t n = build_login(p, caps, "qsmaster", "LSST", "mysql_native_password");
	struct myp_login l;

	ASSERT_EQ(0, myp_parse_login(p, n, &l));
	EXPECT_STREQ("qsmaster", l.user);
	EXPECT_STREQ("LSST", l.db);
	EXPECT_STREQ("mysql_native_password", l.plugin);
	EXPECT_EQ(20, l.auth_len);
	EXPECT_EQ(0, memcmp(l.auth, "01234567890123456789", 20));
}

TEST(login_every_truncation_fails_cleanly)
{
	unsigned char p[256];
	uint32_t caps = CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH |
			CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA | CLIENT_CONNECT_WITH_DB;
	size_t n = build_login(p, caps, "u", "d", "mysql_native_password"), k;
	struct myp_login l;
	int ok = 0;

	/* Cuts inside a field are refused; the optional trailing fields may be
	 * absent, so the cuts right after the auth data and right after the
	 * database name parse (the full packet is not among the prefixes). */
	for (k = 0; k < n; k++) {
		unsigned char *copy = malloc(k ? k : 1);   /* exact size: ASan sees overreads */
		memcpy(copy, p, k);
		if (myp_parse_login(copy, k, &l) == 0)
			ok++;
		free(copy);
	}
	EXPECT_EQ(2, ok);
}

TEST(login_without_protocol_41_is_refused)
{
	unsigned char p[256];
	size_t n = build_login(p, CLIENT_SECURE_CONNECTION, "u", NULL, NULL);
	struct myp_login l;

	EXPECT_EQ(-EPROTO, myp_parse_login(p, n, &l));
}

TEST(login_overlong_user_is_refused)
{
	unsigned char p[512];
	char user[100];
	size_t n;
	struct myp_login l;

	memset(user, 'a', 99);
	user[99] = 0;
	n = build_login(p, CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION, user, NULL, NULL);
	EXPECT_EQ(-ENAMETOOLONG, myp_parse_login(p, n, &l));
}

TEST(err_packet_layout)
{
	struct pkt_conn c;

	pkt_conn_init(&c, -1);
	myp_err(&c, 1064, NULL, "bad %s", "sql");
	ASSERT_EQ(4 + 1 + 2 + 1 + 5 + 7, c.out.len);
	EXPECT_EQ(0xff, c.out.data[4]);
	EXPECT_EQ(1064 & 0xff, c.out.data[5]);
	EXPECT_EQ(0, memcmp(c.out.data + 7, "#42000bad sql", 13));
	pkt_conn_free(&c);
}

TEST_HARNESS_MAIN
