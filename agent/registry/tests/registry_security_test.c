/* registry_security_test.c: who gets a certificate from the registry, over
 * real TLS on loopback: a known machine re-joins only by proving its node
 * key (forged, garbage and missing proofs refused, the refused takeover
 * reported with the peer address, the real node keeping its identity);
 * the operator's readmit allows one join without the proof; JOINs are
 * rate-limited per source address (the bucket itself, and end to end from
 * 127.0.0.1 while 127.0.0.2 still joins); single-use tokens admit one join
 * (of one machine when bound), across a restart; idle and trickling
 * sockets do not keep a join from finishing. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "../join.h"
#include "../registry.h"
#include "../registry_int.h"
#include "../registry_msg.h"
#include "../registry_proof.h"
#include "frame.h"

static pthread_mutex_t ev_mu = PTHREAD_MUTEX_INITIALIZER;
static char ev_log[32768];

static void capture(void *ctx, enum reg_event_level lvl, const char *msg)
{
	(void)ctx;
	pthread_mutex_lock(&ev_mu);
	size_t used = strlen(ev_log);
	snprintf(ev_log + used, sizeof(ev_log) - used, "%s\n", msg);
	pthread_mutex_unlock(&ev_mu);
	if (getenv("REG_TEST_VERBOSE"))
		fprintf(stderr, "# event %d: %s\n", lvl, msg);
}

static bool logged(const char *what)
{
	pthread_mutex_lock(&ev_mu);
	bool yes = strstr(ev_log, what) != NULL;
	pthread_mutex_unlock(&ev_mu);
	return yes;
}

FIXTURE(sec)
{
	char dir[64], regdir[128], addr[64], token[128], pin[TLS_PIN_LEN];
	struct registry *r;
	uint16_t port;
};

static void reg_up(struct __test_metadata *_metadata, FIXTURE_DATA(sec) *self, int burst, int per_min)
{
	char err[256];
	struct registry_opts o = { .state_dir = self->regdir, .cluster = "testc", .listen_addr = "127.0.0.1",
				   .self_uuid = "czar-machine", .down_after_ms = 2000, .event = capture,
				   .join_burst = burst, .join_per_min = per_min, .limit_loopback = burst > 0 };
	if (!self->regdir[0])
		snprintf(self->regdir, sizeof(self->regdir), "%s/registry", self->dir);
	o.state_dir = self->regdir;
	o.port = self->port;         /* the same port after a restart */
	ASSERT_EQ(0, registry_start(&o, &self->r, err, sizeof(err))) TH_LOG("%s", err);
	self->port = registry_port(self->r);
	snprintf(self->addr, sizeof(self->addr), "127.0.0.1:%u", self->port);
	registry_secrets(self->r, self->token, self->pin);
}

FIXTURE_SETUP(sec)
{
	strcpy(self->dir, "/tmp/regsec.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	self->regdir[0] = '\0';
	self->port = 0;
	ev_log[0] = '\0';
	self->r = NULL;
}

FIXTURE_TEARDOWN(sec)
{
	char cmd[128];
	registry_stop(self->r);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
	(void)!system(cmd);
}

static struct join_opts jopts(FIXTURE_DATA(sec) *self, const char *node, const char *uuid, char *dirbuf)
{
	sprintf(dirbuf, "%s/%s", self->dir, node);
	struct join_opts o = { .state_dir = dirbuf, .registry = self->addr, .token = self->token,
			       .pin = self->pin, .uuid = uuid, .role = "worker", .heartbeat_ms = 100,
			       .event = capture };
	return o;
}

static void identity_of(const char *dir, char *name)
{
	char p[300], *crt = NULL, err[128];
	struct tls_identity id = { 0 };
	snprintf(p, sizeof(p), "%s/node.crt", dir);
	if (tls_file_read(p, &crt) == 0)
		tls_cert_identity(crt, &id, err, sizeof(err));
	strcpy(name, id.name);
	free(crt);
}

enum raw_mode { RAW_FORGED, RAW_GARBAGE, RAW_NO_PROOF, RAW_PLAIN };

/* A hand-made joiner from source address src: JOIN with a fresh key; on
 * CHALLENGE it answers as mode says (a proof signed by its own key, bytes
 * that are no signature, or HELLO instead of PROOF).  Returns the type of
 * the registry's last message (code and message of an ERROR), or <0. */
static int raw_join(FIXTURE_DATA(sec) *self, const char *src, const char *uuid, const char *token,
		    enum raw_mode mode, bool *ret_challenged, char *code, char *message)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(self->port) };
	struct sockaddr_in me = { .sin_family = AF_INET };
	struct tls_config_opts co = { .peer_auth = TLS_PEER_PIN, .pin = self->pin, .timeout_ms = 20000 };
	struct tls_identity id = { .name = "joining", .role = "worker" };
	struct tls_config *cfg = NULL;
	struct tls_conn *t = NULL;
	char *key = NULL, *csr = NULL, err[256], sig[REG_SIG_MAX];
	json_t *msg = NULL;
	int fd, type = -1, rc;

	*ret_challenged = false;
	code[0] = message[0] = '\0';
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	inet_pton(AF_INET, src, &me.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	rc = tls_key_generate(&key, err, sizeof(err));
	if (rc == 0)
		rc = tls_csr_create(key, &id, &csr, err, sizeof(err));
	if (rc == 0)
		rc = tls_config_new(&co, &cfg, err, sizeof(err));
	if (rc == 0)
		rc = tls_conn_new(cfg, fd, "registry", &t, err, sizeof(err));
	if (rc == 0)
		rc = reg_msg_send(tls_io_write, t, REG_MSG_JOIN, json_pack("{s:s, s:s, s:s, s:s}", "token", token,
			"uuid", uuid, "role", "worker", "csr", csr), REG_MSG_MAX_REQ, 5000);
	if (rc == 0)
		rc = reg_msg_recv(tls_io_read, t, REG_MSG_MAX_REPLY, 15000, &type, &msg, err, sizeof(err));
	if (rc == 0 && type == REG_MSG_CHALLENGE) {
		const char *nonce = json_string_value(json_object_get(msg, "nonce"));
		*ret_challenged = true;
		if (mode == RAW_FORGED)
			rc = reg_proof_sign(key, uuid, nonce ? nonce : "", sig, sizeof(sig), err, sizeof(err));
		else
			snprintf(sig, sizeof(sig), "bm90IGEgc2lnbmF0dXJl");
		if (rc == 0)
			rc = mode == RAW_NO_PROOF ?
			     reg_msg_send(tls_io_write, t, REG_MSG_HELLO, json_pack("{s:i}", "map_version", 0),
					  REG_MSG_MAX_REQ, 5000) :
			     reg_msg_send(tls_io_write, t, REG_MSG_PROOF, json_pack("{s:s}", "sig", sig),
					  REG_MSG_MAX_REQ, 5000);
		json_decref(msg);
		msg = NULL;
		if (rc == 0)
			rc = reg_msg_recv(tls_io_read, t, REG_MSG_MAX_REPLY, 15000, &type, &msg, err, sizeof(err));
	}
	if (rc == 0 && type == REG_MSG_ERROR) {
		snprintf(code, 64, "%s", json_string_value(json_object_get(msg, "code")));
		snprintf(message, 512, "%s", json_string_value(json_object_get(msg, "message")));
	}
	json_decref(msg);
	tls_conn_free(t);
	tls_config_free(cfg);
	close(fd);
	free(key);
	free(csr);
	return rc < 0 ? rc : type;
}

static const char *node_state(struct registry *r, const char *name)
{
	static char out[32];
	json_t *s = registry_status_json(r), *n;
	size_t i;
	strcpy(out, "absent");
	json_array_foreach(json_object_get(s, "nodes"), i, n)
		if (!strcmp(json_string_value(json_object_get(n, "name")), name))
			snprintf(out, sizeof(out), "%s", json_string_value(json_object_get(n, "state")));
	json_decref(s);
	return out;
}

static bool wait_state(struct registry *r, const char *name, const char *want, int ms)
{
	for (int i = 0; i < ms / 20; i++) {
		if (!strcmp(node_state(r, name), want))
			return true;
		usleep(20000);
	}
	return false;
}

static long long counter(struct registry *r, const char *name)
{
	json_t *s = registry_status_json(r);
	long long v = json_integer_value(json_object_get(json_object_get(s, "counters"), name));
	json_decref(s);
	return v;
}

TEST_F(sec, known_machine_proves_its_key_forgeries_refused)
{
	char d1[256], err[256], name[64], code[64], message[512];
	bool challenged;
	struct join *ja;

	reg_up(_metadata, self, -1, 0);
	struct join_opts a = jopts(self, "a", "uuid-aaaa", d1);
	ASSERT_EQ(0, join_once(&a, err, sizeof(err))) TH_LOG("%s", err);
	/* the same machine with its node key: accepted, same name */
	ASSERT_EQ(0, join_once(&a, err, sizeof(err))) TH_LOG("%s", err);
	identity_of(d1, name);
	EXPECT_STREQ("worker-0", name);
	EXPECT_TRUE(logged("worker-0 re-joined (machine uuid-aaaa) from 127.0.0.1 (node key proven)"));
	/* a stolen token and the known uuid: proof by another key, no
	 * signature at all, no PROOF: each refused, each reported */
	enum raw_mode modes[] = { RAW_FORGED, RAW_GARBAGE, RAW_NO_PROOF };
	for (size_t i = 0; i < 3; i++) {
		EXPECT_EQ(REG_MSG_ERROR, raw_join(self, "127.0.0.1", "uuid-aaaa", self->token, modes[i], &challenged,
						  code, message));
		EXPECT_TRUE(challenged);
		EXPECT_STREQ("node_key_required", code);
		EXPECT_STREQ("machine uuid-aaaa is already worker-0: it must prove its node key, or the operator "
			     "re-admits it with `qservctl nodes readmit worker-0`", message);
	}
	EXPECT_TRUE(logged("join from 127.0.0.1 refused: takeover of worker-0 (machine uuid-aaaa) refused: "
			   "the proof is not signed by the node's key"));
	EXPECT_EQ(3, counter(self->r, "takeovers_refused"));
	/* a wrong token learns nothing about the uuid: no challenge */
	EXPECT_EQ(REG_MSG_ERROR, raw_join(self, "127.0.0.1", "uuid-aaaa", "000000.0000000000000000", RAW_FORGED,
					  &challenged, code, message));
	EXPECT_FALSE(challenged);
	EXPECT_STREQ("bad_token", code);
	/* a new machine is not challenged */
	EXPECT_EQ(REG_MSG_JOINED, raw_join(self, "127.0.0.1", "uuid-new", self->token, RAW_FORGED, &challenged,
					   code, message));
	EXPECT_FALSE(challenged);
	/* the real node keeps its identity: its certificate still opens sessions */
	ASSERT_EQ(0, join_start(&a, &ja, err, sizeof(err)));
	EXPECT_TRUE(wait_state(self->r, "worker-0", "ready", 10000));
	join_stop(ja);
	identity_of(d1, name);
	EXPECT_STREQ("worker-0", name);
}

TEST_F(sec, readmit_allows_one_join_without_proof)
{
	char d1[256], d2[256], d3[256], d4[256], err[256], name[64];
	struct join *ja;

	reg_up(_metadata, self, -1, 0);
	struct join_opts a = jopts(self, "a", "uuid-aaaa", d1);
	ASSERT_EQ(0, join_once(&a, err, sizeof(err))) TH_LOG("%s", err);
	/* the machine's disk was replaced: a new key, refused ... */
	struct join_opts a2 = jopts(self, "a2", "uuid-aaaa", d2), a3 = jopts(self, "a3", "uuid-aaaa", d3);
	EXPECT_EQ(-EPERM, join_once(&a2, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "node_key_required")) TH_LOG("%s", err);
	/* ... the operator re-admits it (persisted across a restart) ... */
	ASSERT_EQ(0, registry_node_readmit(self->r, "worker-0", err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(-EALREADY, registry_node_readmit(self->r, "worker-0", err, sizeof(err)));
	registry_stop(self->r);
	reg_up(_metadata, self, -1, 0);
	/* ... one join of that uuid without the proof, same name ... */
	ASSERT_EQ(0, join_once(&a2, err, sizeof(err))) TH_LOG("%s", err);
	identity_of(d2, name);
	EXPECT_STREQ("worker-0", name);
	EXPECT_TRUE(logged("worker-0 re-joined (machine uuid-aaaa) from 127.0.0.1 (re-admitted by the operator)"));
	/* ... and only one: another new key is refused, and so is the old key,
	 * which is no longer the node's */
	EXPECT_EQ(-EPERM, join_once(&a3, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "must prove its node key")) TH_LOG("%s", err);
	EXPECT_EQ(-EPERM, join_once(&a, err, sizeof(err)));
	/* the re-admitted machine proves its new key from now on */
	ASSERT_EQ(0, join_once(&a2, err, sizeof(err))) TH_LOG("%s", err);
	/* a readmit unused when the node opens a session with its current
	 * certificate is used up by that session */
	ASSERT_EQ(0, registry_node_readmit(self->r, "worker-0", err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(0, join_start(&a2, &ja, err, sizeof(err)));
	EXPECT_TRUE(wait_state(self->r, "worker-0", "ready", 10000));
	join_stop(ja);
	struct join_opts a4 = jopts(self, "a4", "uuid-aaaa", d4);
	EXPECT_EQ(-EPERM, join_once(&a4, err, sizeof(err)));
}

TEST(rate_bucket_per_address)
{
	struct registry *r = calloc(1, sizeof(*r));
	ASSERT_NE(NULL, r);
	r->join_burst = 3;
	r->join_per_min = 60;          /* one a second */
	for (int i = 0; i < 3; i++)
		EXPECT_TRUE(reg_rate_take_locked(r, "10.0.0.1", 1000));
	EXPECT_FALSE(reg_rate_take_locked(r, "10.0.0.1", 1000));
	EXPECT_FALSE(reg_rate_take_locked(r, "10.0.0.1", 1500));
	EXPECT_TRUE(reg_rate_take_locked(r, "10.0.0.2", 1500));      /* its own bucket */
	EXPECT_TRUE(reg_rate_take_locked(r, "10.0.0.1", 2000));      /* refilled: one */
	EXPECT_FALSE(reg_rate_take_locked(r, "10.0.0.1", 2000));
	/* loopback exempt unless asked */
	for (int i = 0; i < 10; i++)
		EXPECT_TRUE(reg_rate_take_locked(r, "127.0.0.1", 2000));
	r->limit_loopback = true;
	for (int i = 0; i < 3; i++)
		EXPECT_TRUE(reg_rate_take_locked(r, "127.0.0.1", 2000));
	EXPECT_FALSE(reg_rate_take_locked(r, "127.0.0.1", 2000));
	/* a flood of addresses stays in the bounded table; each is judged on its own */
	char a[32];
	for (int i = 0; i < 3 * RATE_TABLE; i++) {
		snprintf(a, sizeof(a), "10.1.%d.%d", i / 256, i % 256);
		EXPECT_TRUE(reg_rate_take_locked(r, a, 3000 + (uint64_t)i));
	}
	for (int i = 0; i < 3; i++)
		EXPECT_TRUE(reg_rate_take_locked(r, "10.9.9.9", 9000));
	EXPECT_FALSE(reg_rate_take_locked(r, "10.9.9.9", 9000));
	/* no limit at all */
	r->join_burst = -1;
	EXPECT_TRUE(reg_rate_take_locked(r, "10.9.9.9", 9000));
	free(r);
}

TEST_F(sec, rapid_joins_from_one_address_refused_others_join)
{
	char d[4][256], err[256], code[64], message[512];
	bool challenged;
	const char *uuids[] = { "uuid-r0", "uuid-r1", "uuid-r2", "uuid-r3" };

	reg_up(_metadata, self, 2, 1);
	struct join_opts o0 = jopts(self, "r0", uuids[0], d[0]), o1 = jopts(self, "r1", uuids[1], d[1]);
	struct join_opts o2 = jopts(self, "r2", uuids[2], d[2]);
	ASSERT_EQ(0, join_once(&o0, err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(0, join_once(&o1, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(-EPERM, join_once(&o2, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "rate_limited: too many join attempts from 127.0.0.1")) TH_LOG("%s", err);
	EXPECT_TRUE(logged("join from 127.0.0.1 refused: rate limited"));
	EXPECT_STREQ("absent", node_state(self->r, "worker-2"));
	/* another address is not blocked */
	EXPECT_EQ(REG_MSG_JOINED, raw_join(self, "127.0.0.2", uuids[3], self->token, RAW_PLAIN, &challenged,
					   code, message)) TH_LOG("%s: %s", code, message);
	EXPECT_EQ(1, counter(self->r, "rate_limited"));
}

TEST_F(sec, single_use_tokens)
{
	char d[6][256], err[256], tok[128], bound[128], kept[128], none[128];

	reg_up(_metadata, self, -1, 0);
	ASSERT_EQ(0, registry_token_issue(self->r, "", 600, tok, err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(0, registry_token_issue(self->r, "uuid-x", 0, bound, err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(0, registry_token_issue(self->r, "", 600, kept, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(-EINVAL, registry_token_issue(self->r, "bad uuid", 600, none, err, sizeof(err)));
	EXPECT_STRNE(tok, self->token);
	struct join_opts e = jopts(self, "e", "uuid-e", d[0]), f = jopts(self, "f", "uuid-f", d[1]);
	e.token = f.token = tok;
	ASSERT_EQ(0, join_once(&e, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(-EACCES, join_once(&f, err, sizeof(err)));       /* used once already */
	EXPECT_NE(NULL, strstr(err, "bad_token")) TH_LOG("%s", err);
	/* bound to one machine */
	struct join_opts y = jopts(self, "y", "uuid-y", d[2]), x = jopts(self, "x", "uuid-x", d[3]);
	y.token = x.token = bound;
	EXPECT_EQ(-EACCES, join_once(&y, err, sizeof(err)));
	ASSERT_EQ(0, join_once(&x, err, sizeof(err))) TH_LOG("%s", err);
	/* kept in the state across a restart until used */
	registry_stop(self->r);
	reg_up(_metadata, self, -1, 0);
	struct join_opts g = jopts(self, "g", "uuid-g", d[4]), h = jopts(self, "h", "uuid-h", d[5]);
	g.token = h.token = kept;
	ASSERT_EQ(0, join_once(&g, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(-EACCES, join_once(&h, err, sizeof(err)));
	/* the cluster token still admits new machines */
	h.token = self->token;
	ASSERT_EQ(0, join_once(&h, err, sizeof(err))) TH_LOG("%s", err);
}

TEST_F(sec, idle_and_trickling_sockets_do_not_block_a_join)
{
	char d1[256], err[256];
	enum { IDLE = 200, TRICKLE = 2 * HANDSHAKE_SLOTS };
	int fds[IDLE + TRICKLE];
	struct sockaddr_in sa = { .sin_family = AF_INET };

	reg_up(_metadata, self, -1, 0);
	sa.sin_port = htons(self->port);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	for (int i = 0; i < IDLE + TRICKLE; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		ASSERT_EQ(0, connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)));
		if (i >= IDLE)      /* the first byte of a TLS record, then nothing */
			ASSERT_EQ(1, write(fds[i], "\x16", 1));
	}
	struct join_opts a = jopts(self, "a", "uuid-aaaa", d1);
	EXPECT_EQ(0, join_once(&a, err, sizeof(err))) TH_LOG("%s", err);
	for (int i = 0; i < IDLE + TRICKLE; i++)
		close(fds[i]);
}

TEST(pending_cap_per_address)
{
	struct registry *r = calloc(1, sizeof(*r));
	uint32_t a, b, lo;

	ASSERT_NE(NULL, r);
	inet_pton(AF_INET, "10.0.0.1", &a);
	inet_pton(AF_INET, "10.0.0.2", &b);
	inet_pton(AF_INET, "127.0.0.1", &lo);
	for (int i = 0; i < HANDSHAKES_PER_ADDR; i++)
		EXPECT_TRUE(reg_pending_take_locked(r, a));
	EXPECT_FALSE(reg_pending_take_locked(r, a));
	EXPECT_FALSE(reg_pending_take_locked(r, a));
	EXPECT_EQ(2, r->handshakes_capped);
	EXPECT_TRUE(reg_pending_take_locked(r, b));          /* its own count */
	reg_pending_give_locked(r, a);
	EXPECT_TRUE(reg_pending_take_locked(r, a));          /* one given back: one more */
	EXPECT_FALSE(reg_pending_take_locked(r, a));
	for (int i = 0; i < HANDSHAKES_PER_ADDR; i++)
		reg_pending_give_locked(r, a);
	reg_pending_give_locked(r, b);
	EXPECT_EQ(0, r->npending);                            /* no address left behind */
	for (int i = 0; i < 3 * HANDSHAKES_PER_ADDR; i++)     /* loopback exempt unless asked */
		EXPECT_TRUE(reg_pending_take_locked(r, lo));
	r->limit_loopback = true;
	for (int i = 0; i < HANDSHAKES_PER_ADDR; i++)
		EXPECT_TRUE(reg_pending_take_locked(r, lo));
	EXPECT_FALSE(reg_pending_take_locked(r, lo));
	free(r);
}

/* One address holding many idle and trickling connections gets
 * HANDSHAKES_PER_ADDR of them, the rest closed at once and counted; a join
 * from another address goes through meanwhile. */
TEST_F(sec, one_address_cannot_hold_the_handshake_slots)
{
	enum { HELD = 2 * HANDSHAKE_SLOTS + 8 };
	int fds[HELD];
	char code[64], message[512];
	bool challenged;
	struct sockaddr_in sa = { .sin_family = AF_INET };

	reg_up(_metadata, self, 100, 100);          /* limit_loopback: 127.0.0.1 is capped too */
	sa.sin_port = htons(self->port);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	for (int i = 0; i < HELD; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		ASSERT_EQ(0, connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)));
		if (i % 2)          /* the first byte of a TLS record, then nothing */
			(void)!write(fds[i], "\x16", 1);
	}
	for (int i = 0; i < 500 && counter(self->r, "handshakes_capped") < HELD - HANDSHAKES_PER_ADDR; i++)
		usleep(20000);
	EXPECT_EQ(HELD - HANDSHAKES_PER_ADDR, counter(self->r, "handshakes_capped"));
	EXPECT_EQ(REG_MSG_JOINED, raw_join(self, "127.0.0.2", "uuid-other", self->token, RAW_PLAIN, &challenged,
					   code, message)) TH_LOG("%s: %s", code, message);
	EXPECT_EQ(HELD - HANDSHAKES_PER_ADDR, counter(self->r, "handshakes_capped"));
	EXPECT_EQ(0, counter(self->r, "rate_limited"));
	for (int i = 0; i < HELD; i++)
		close(fds[i]);
}

TEST_HARNESS_MAIN
