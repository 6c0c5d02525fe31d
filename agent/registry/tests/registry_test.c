/* registry_test.c: the registry and the join client in one process over
 * real TLS on loopback: first start, join and stable ordinals, refusals
 * (wrong token, wrong pin, malformed and oversized messages) that change
 * nothing and leave the registry serving, heartbeat sessions with down/ready
 * transitions, token rotation, a registry restart keeping identities,
 * decommissioning (a removed node refused on every path until re-admitted),
 * certificates naming the node and its address, the renewal of one that
 * does not (issued before subjectAltNames), and failure zones (JOIN and
 * HELLO, the newest wins, persisted, bad ones refused). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <pthread.h>
#include <stdbool.h>

#include <kselftest_harness.h>

#include "../join.h"
#include "../join_renew.h"
#include "../registry.h"
#include "../registry_msg.h"
#include "frame.h"

static void quiet(void *ctx, enum reg_event_level lvl, const char *msg)
{
	(void)ctx;
	if (getenv("REG_TEST_VERBOSE"))
		fprintf(stderr, "# event %d: %s\n", lvl, msg);
}

FIXTURE(reg)
{
	char dir[64], regdir[128], addr[64], token[128], pin[TLS_PIN_LEN];
	struct registry *r;
};

static void reg_up(struct __test_metadata *_metadata, FIXTURE_DATA(reg) *self)
{
	char err[256];
	struct registry_opts o = { .state_dir = self->regdir, .cluster = "testc", .listen_addr = "127.0.0.1",
				   .self_uuid = "czar-machine", .down_after_ms = 600, .event = quiet };
	ASSERT_EQ(0, registry_start(&o, &self->r, err, sizeof(err))) TH_LOG("%s", err);
	snprintf(self->addr, sizeof(self->addr), "127.0.0.1:%u", registry_port(self->r));
	registry_secrets(self->r, self->token, self->pin);
}

FIXTURE_SETUP(reg)
{
	strcpy(self->dir, "/tmp/regtest.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->regdir, sizeof(self->regdir), "%s/registry", self->dir);
	reg_up(_metadata, self);
}

FIXTURE_TEARDOWN(reg)
{
	char cmd[128];
	registry_stop(self->r);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
	(void)!system(cmd);
}

static struct join_opts jopts(FIXTURE_DATA(reg) *self, const char *node, const char *uuid, char *dirbuf)
{
	sprintf(dirbuf, "%s/%s", self->dir, node);
	struct join_opts o = { .state_dir = dirbuf, .registry = self->addr, .token = self->token,
			       .pin = self->pin, .uuid = uuid, .role = "worker", .heartbeat_ms = 100,
			       .event = quiet };
	return o;
}

static char *slurp(const char *dir, const char *file)
{
	char p[256], *t = NULL;
	if (snprintf(p, sizeof(p), "%s/%s", dir, file) >= (int)sizeof(p))
		return NULL;
	return tls_file_read(p, &t) == 0 ? t : NULL;
}

static void identity_of(const char *dir, char *name)
{
	char *crt = slurp(dir, "node.crt"), err[128];
	struct tls_identity id = { 0 };
	if (crt)
		tls_cert_identity(crt, &id, err, sizeof(err));
	strcpy(name, id.name);
	free(crt);
}

TEST_F(reg, first_start_creates_ca_and_token)
{
	char p[256], got[TLS_PIN_LEN], err[128];
	struct stat st;
	snprintf(p, sizeof(p), "%s/ca.key", self->regdir);
	ASSERT_EQ(0, stat(p, &st));
	EXPECT_EQ(0600, st.st_mode & 0777);
	char *ca = slurp(self->regdir, "ca.crt");
	ASSERT_NE(NULL, ca);
	ASSERT_EQ(0, tls_pin(ca, got, err, sizeof(err)));
	EXPECT_STREQ(self->pin, got);
	free(ca);
	EXPECT_EQ(23, strlen(self->token));
	json_t *s = registry_status_json(self->r);
	EXPECT_STREQ(self->pin, json_string_value(json_object_get(s, "ca_pin")));
	EXPECT_STREQ(self->token, json_string_value(json_object_get(s, "token")));
	json_decref(s);
}

TEST_F(reg, join_gives_stable_ordinals)
{
	char d1[256], d2[256], d3[256], name[64], err[256];
	struct join_opts a = jopts(self, "a", "uuid-aaaa", d1), b = jopts(self, "b", "uuid-bbbb", d2);
	ASSERT_EQ(0, join_once(&a, err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(0, join_once(&b, err, sizeof(err))) TH_LOG("%s", err);
	identity_of(d1, name);
	EXPECT_STREQ("worker-0", name);
	identity_of(d2, name);
	EXPECT_STREQ("worker-1", name);
	/* machine a again with its node key: same name */
	ASSERT_EQ(0, join_once(&a, err, sizeof(err))) TH_LOG("%s", err);
	identity_of(d1, name);
	EXPECT_STREQ("worker-0", name);
	/* from a wiped node directory (a new key) it cannot prove the key ... */
	struct join_opts a2 = jopts(self, "a-reinstalled", "uuid-aaaa", d3);
	EXPECT_EQ(-EPERM, join_once(&a2, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "machine uuid-aaaa is already worker-0: it must prove its node key, or the "
			       "operator re-admits it with `qservctl nodes readmit worker-0`")) TH_LOG("%s", err);
	/* ... until the operator re-admits it: then the same name */
	ASSERT_EQ(0, registry_node_readmit(self->r, "worker-0", err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(0, join_once(&a2, err, sizeof(err))) TH_LOG("%s", err);
	identity_of(d3, name);
	EXPECT_STREQ("worker-0", name);
	char *map = slurp(d3, "cluster-map.json");
	ASSERT_NE(NULL, map);
	EXPECT_NE(NULL, strstr(map, "worker-1"));
	free(map);
	char p[300];
	struct stat st;
	snprintf(p, sizeof(p), "%s/node.key", d1);
	ASSERT_EQ(0, stat(p, &st));
	EXPECT_EQ(0600, st.st_mode & 0777);
	/* the czar role is only for the registry's own machine */
	struct join_opts c = jopts(self, "c", "uuid-cccc", d3);
	c.role = "czar";
	EXPECT_EQ(-EPERM, join_once(&c, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "role_conflict")) TH_LOG("%s", err);
	c.uuid = "czar-machine";
	ASSERT_EQ(0, join_once(&c, err, sizeof(err))) TH_LOG("%s", err);
	identity_of(d3, name);
	EXPECT_STREQ("czar-0", name);
}

/* Certificates name the node and the address the registry records for it
 * (subjectAltName), so clients that check host names accept them. */
TEST_F(reg, certificates_carry_name_and_address)
{
	char d1[256], d2[256], err[256], san[2048];
	struct join_opts a = jopts(self, "a", "uuid-aaaa", d1), c = jopts(self, "c", "czar-machine", d2);
	c.role = "czar";
	ASSERT_EQ(0, join_once(&a, err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(0, join_once(&c, err, sizeof(err))) TH_LOG("%s", err);
	char *crt = slurp(d1, "node.crt");
	ASSERT_NE(NULL, crt);
	ASSERT_EQ(0, tls_cert_san(crt, san, sizeof(san), err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_STREQ("DNS:worker-0,IP:127.0.0.1", san);
	free(crt);
	/* the czar's names its own machine's addresses too (loopback first) */
	crt = slurp(d2, "node.crt");
	ASSERT_NE(NULL, crt);
	ASSERT_EQ(0, tls_cert_san(crt, san, sizeof(san), err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(0, strncmp(san, "DNS:czar-0,IP:127.0.0.1", 23)) TH_LOG("%s", san);
	free(crt);
}

TEST_F(reg, wrong_token_and_pin_refused_without_state_change)
{
	char d1[256], d2[256], err[256];
	char *before = slurp(self->regdir, "state.json");
	struct join_opts a = jopts(self, "a", "uuid-aaaa", d1);
	a.token = "000000.0000000000000000";
	EXPECT_EQ(-EACCES, join_once(&a, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "bad_token")) TH_LOG("%s", err);
	char *after = slurp(self->regdir, "state.json");
	EXPECT_STREQ(before, after);
	free(after);
	EXPECT_EQ(NULL, slurp(d1, "node.crt"));
	/* wrong pin: the agent refuses the registry before sending the token */
	a.token = self->token;
	a.pin = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
	EXPECT_EQ(-EPERM, join_once(&a, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "pin")) TH_LOG("%s", err);
	after = slurp(self->regdir, "state.json");
	EXPECT_STREQ(before, after);
	free(after);
	free(before);
	/* and the registry still serves others */
	struct join_opts b = jopts(self, "b", "uuid-bbbb", d2);
	ASSERT_EQ(0, join_once(&b, err, sizeof(err))) TH_LOG("%s", err);
}

/* Raw pinned TLS client sending arbitrary frames. */
static int raw_exchange(FIXTURE_DATA(reg) *self, int type, const char *payload, size_t len,
			int *ret_type, char *ret_code)
{
	char err[256];
	struct tls_config *cfg;
	struct tls_conn *t;
	struct tls_config_opts co = { .peer_auth = TLS_PEER_PIN, .pin = self->pin };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(registry_port(self->r)) };
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0), rc;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || tls_config_new(&co, &cfg, err, sizeof(err)) < 0)
		return -1;
	rc = tls_conn_new(cfg, fd, "registry", &t, err, sizeof(err));
	if (rc == 0) {
		if (len > REG_MSG_MAX_REQ) {
			/* header only, announcing a huge payload */
			uint8_t h[FRAME_HDR_LEN];
			frame_hdr_encode(&(struct frame_hdr){ .type = (uint8_t)type, .len = (uint32_t)len }, h);
			tls_io_write(t, h, sizeof(h), 2000);
		} else {
			frame_write(tls_io_write, t, (uint8_t)type, 0, payload, len, FRAME_MAX_ABS, 2000);
		}
		json_t *m = NULL;
		rc = reg_msg_recv(tls_io_read, t, REG_MSG_MAX_REPLY, 5000, ret_type, &m, err, sizeof(err));
		if (rc == 0)
			reg_msg_str(m, "code", ret_code, 32, 0, err, sizeof(err));
		json_decref(m);
		tls_conn_free(t);
	}
	tls_config_free(cfg);
	close(fd);
	return rc;
}

TEST_F(reg, malformed_and_oversized_messages)
{
	int type;
	char code[32], d1[256], err[256];
	ASSERT_EQ(0, raw_exchange(self, REG_MSG_JOIN, "{\"token\": ", 10, &type, code));
	EXPECT_EQ(REG_MSG_ERROR, type);
	EXPECT_STREQ("bad_request", code);
	ASSERT_EQ(0, raw_exchange(self, REG_MSG_JOIN, "[1,2]", 5, &type, code));
	EXPECT_STREQ("bad_request", code);
	ASSERT_EQ(0, raw_exchange(self, REG_MSG_JOIN, "{\"token\":\"x\",\"token\":\"y\"}", 25, &type, code));
	EXPECT_STREQ("bad_request", code);
	ASSERT_EQ(0, raw_exchange(self, REG_MSG_HEARTBEAT, "{}", 2, &type, code));
	EXPECT_STREQ("bad_request", code);
	ASSERT_EQ(0, raw_exchange(self, 200, "{}", 2, &type, code));
	EXPECT_STREQ("bad_request", code);
	ASSERT_EQ(0, raw_exchange(self, REG_MSG_JOIN, NULL, 100u << 20, &type, code));
	EXPECT_EQ(REG_MSG_ERROR, type);
	EXPECT_STREQ("too_large", code);
	/* a correct token with a garbage CSR */
	char req[512];
	int n = snprintf(req, sizeof(req), "{\"token\":\"%s\",\"uuid\":\"u-1\",\"role\":\"worker\",\"csr\":\"junk\"}",
			 self->token);
	ASSERT_EQ(0, raw_exchange(self, REG_MSG_JOIN, req, (size_t)n, &type, code));
	EXPECT_STREQ("bad_csr", code);
	json_t *s = registry_status_json(self->r);
	EXPECT_EQ(0, json_array_size(json_object_get(s, "nodes")));   /* nothing registered */
	json_decref(s);
	struct join_opts a = jopts(self, "a", "u-1", d1);
	ASSERT_EQ(0, join_once(&a, err, sizeof(err))) TH_LOG("%s", err);
	char name[64];
	identity_of(d1, name);
	EXPECT_STREQ("worker-0", name);   /* the failed attempt did not burn ordinal 0 */
}

static const char *node_state(struct registry *r, const char *name)
{
	static char buf[32];
	json_t *s = registry_status_json(r), *n;
	size_t i;
	strcpy(buf, "absent");
	json_array_foreach(json_object_get(s, "nodes"), i, n)
		if (!strcmp(json_string_value(json_object_get(n, "name")), name))
			snprintf(buf, sizeof(buf), "%s", json_string_value(json_object_get(n, "state")));
	json_decref(s);
	return buf;
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

static bool wait_join(struct join *j, const char *want, int ms)
{
	for (int i = 0; i < ms / 20; i++) {
		json_t *s = join_status_json(j);
		bool ok = !strcmp(json_string_value(json_object_get(s, "state")), want);
		json_decref(s);
		if (ok)
			return true;
		usleep(20000);
	}
	return false;
}

TEST_F(reg, heartbeats_down_ready_and_map_push)
{
	char d1[256], d2[256], err[256];
	struct join *ja, *jb;
	struct join_opts a = jopts(self, "a", "uuid-aaaa", d1), b = jopts(self, "b", "uuid-bbbb", d2);
	ASSERT_EQ(0, join_start(&a, &ja, err, sizeof(err)));
	ASSERT_EQ(0, join_start(&b, &jb, err, sizeof(err)));
	ASSERT_TRUE(wait_join(ja, "ready", 10000));
	ASSERT_TRUE(wait_join(jb, "ready", 10000));
	/* a and b joined concurrently: either may be worker-0 */
	char bname[64];
	json_t *bs = join_status_json(jb);
	snprintf(bname, sizeof(bname), "%s", json_string_value(json_object_get(bs, "name")));
	json_decref(bs);
	EXPECT_TRUE(!strcmp(bname, "worker-0") || !strcmp(bname, "worker-1"));
	EXPECT_TRUE(wait_state(self->r, "worker-0", "ready", 5000));
	EXPECT_TRUE(wait_state(self->r, "worker-1", "ready", 5000));
	usleep(400000);
	json_t *s = join_status_json(ja);
	EXPECT_GE(json_integer_value(json_object_get(s, "acks")), 2);
	/* every heartbeat acknowledged (one may be in flight) */
	EXPECT_GE(json_integer_value(json_object_get(s, "acks")),
		  json_integer_value(json_object_get(s, "heartbeats_sent")) - 1);
	json_decref(s);
	/* b stops: down in the registry after the timeout, and a's map says so */
	join_stop(jb);
	EXPECT_TRUE(wait_state(self->r, bname, "down", 5000));
	bool pushed = false;
	for (int i = 0; i < 100 && !pushed; i++) {
		json_t *m = join_cluster_map(ja), *n;
		size_t k;
		json_array_foreach(json_object_get(m, "nodes"), k, n)
			if (!strcmp(json_string_value(json_object_get(n, "name")), bname) &&
			    !strcmp(json_string_value(json_object_get(n, "state")), "down"))
				pushed = true;
		json_decref(m);
		usleep(20000);
	}
	EXPECT_TRUE(pushed);
	char *f = slurp(d1, "cluster-map.json");
	EXPECT_TRUE(f && strstr(f, "\"down\"") != NULL);
	free(f);
	/* b comes back (stored certificate, no token needed): ready again */
	b.token = "rotated-away";
	ASSERT_EQ(0, join_start(&b, &jb, err, sizeof(err)));
	EXPECT_TRUE(wait_state(self->r, bname, "ready", 5000));
	json_t *st = join_status_json(jb);
	EXPECT_EQ(0, json_integer_value(json_object_get(st, "joins")));
	json_decref(st);
	join_stop(jb);
	join_stop(ja);
}

TEST_F(reg, token_rotation_keeps_joined_nodes)
{
	char d1[256], d2[256], err[256], newtok[128];
	struct join *ja;
	struct join_opts a = jopts(self, "a", "uuid-aaaa", d1);
	ASSERT_EQ(0, join_once(&a, err, sizeof(err)));
	ASSERT_EQ(0, registry_token_rotate(self->r, newtok, err, sizeof(err)));
	EXPECT_NE(0, strcmp(newtok, self->token));
	/* new machine with the old token: refused */
	struct join_opts b = jopts(self, "b", "uuid-bbbb", d2);
	EXPECT_EQ(-EACCES, join_once(&b, err, sizeof(err)));
	b.token = newtok;
	EXPECT_EQ(0, join_once(&b, err, sizeof(err))) TH_LOG("%s", err);
	/* the joined node's session still works */
	ASSERT_EQ(0, join_start(&a, &ja, err, sizeof(err)));
	EXPECT_TRUE(wait_join(ja, "ready", 10000));
	join_stop(ja);
	/* the rotation survives a restart */
	registry_stop(self->r);
	reg_up(_metadata, self);
	EXPECT_STREQ(newtok, self->token);
}

TEST_F(reg, restart_keeps_ca_and_identities)
{
	char d1[256], d2[256], err[256], pin_before[TLS_PIN_LEN], name[64];
	struct join *ja;
	struct join_opts a = jopts(self, "a", "uuid-aaaa", d1), b = jopts(self, "b", "uuid-bbbb", d2);
	ASSERT_EQ(0, join_once(&a, err, sizeof(err)));
	ASSERT_EQ(0, join_once(&b, err, sizeof(err)));
	strcpy(pin_before, self->pin);
	registry_stop(self->r);
	/* what a crash in the middle of an atomic write leaves behind */
	char stale[256];
	snprintf(stale, sizeof(stale), "%s/state.json.tmp.123.0", self->regdir);
	FILE *f = fopen(stale, "w");
	fputs("{\"torn", f);
	fclose(f);
	reg_up(_metadata, self);
	EXPECT_NE(0, access(stale, F_OK));
	EXPECT_STREQ(pin_before, self->pin);
	EXPECT_STREQ("down", node_state(self->r, "worker-1"));   /* unknown until it speaks */
	/* stored certificates still open sessions */
	ASSERT_EQ(0, join_start(&b, &ja, err, sizeof(err)));
	EXPECT_TRUE(wait_state(self->r, "worker-1", "ready", 10000));
	join_stop(ja);
	/* a fresh join of machine b (its node key, another directory) keeps
	 * worker-1, and retires the old cert */
	char d3[256], cmd[1024];
	struct join_opts b2 = jopts(self, "b2", "uuid-bbbb", d3);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s && cp -p %s/node.key %s/", d3, d2, d3);
	ASSERT_EQ(0, system(cmd));
	ASSERT_EQ(0, join_once(&b2, err, sizeof(err))) TH_LOG("%s", err);
	identity_of(d3, name);
	EXPECT_STREQ("worker-1", name);
	ASSERT_EQ(0, join_start(&b, &ja, err, sizeof(err)));   /* old cert: re-joins by itself */
	EXPECT_TRUE(wait_join(ja, "ready", 10000));
	json_t *st = join_status_json(ja);
	EXPECT_EQ(1, json_integer_value(json_object_get(st, "joins")));
	EXPECT_STREQ("worker-1", json_string_value(json_object_get(st, "name")));
	json_decref(st);
	join_stop(ja);
}

static bool map_says(struct join *j, const char *name, const char *state)
{
	json_t *m = join_cluster_map(j), *n;
	size_t k;
	bool yes = false;
	json_array_foreach(json_object_get(m, "nodes"), k, n)
		if (!strcmp(json_string_value(json_object_get(n, "name")), name) &&
		    !strcmp(json_string_value(json_object_get(n, "state")), state))
			yes = true;
	json_decref(m);
	return yes;
}

static bool last_error_has(struct join *j, const char *what)
{
	json_t *s = join_status_json(j);
	const char *e = json_string_value(json_object_get(s, "last_error"));
	bool yes = e && strstr(e, what);
	json_decref(s);
	return yes;
}

TEST_F(reg, removed_node_refused_everywhere_until_readmitted)
{
	char d1[256], d2[256], d3[256], d4[256], err[256], name[64];
	struct join *ja, *jb;
	struct join_opts a = jopts(self, "a", "uuid-aaaa", d1), b = jopts(self, "b", "uuid-bbbb", d2);
	ASSERT_EQ(0, join_once(&a, err, sizeof(err)));
	ASSERT_EQ(0, join_once(&b, err, sizeof(err)));
	ASSERT_EQ(0, join_start(&a, &ja, err, sizeof(err)));
	ASSERT_EQ(0, join_start(&b, &jb, err, sizeof(err)));
	ASSERT_TRUE(wait_state(self->r, "worker-1", "ready", 10000));
	ASSERT_TRUE(wait_join(ja, "ready", 10000));
	/* the czar cannot be removed, unknown names are refused */
	EXPECT_EQ(-ENOENT, registry_node_remove(self->r, "worker-7", err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "worker-7"));
	/* remove worker-1 while its session is up: the next heartbeat is refused */
	ASSERT_EQ(0, registry_node_remove(self->r, "worker-1", err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(-EALREADY, registry_node_remove(self->r, "worker-1", err, sizeof(err)));
	EXPECT_STREQ("removed", node_state(self->r, "worker-1"));
	EXPECT_TRUE(wait_join(jb, "removed", 5000));
	EXPECT_TRUE(last_error_has(jb, "node worker-1 was removed from the cluster")) TH_LOG("removal not in b's status");
	/* stays removed: not marked down by the monitor, and the others' maps show it */
	usleep(900000);
	EXPECT_STREQ("removed", node_state(self->r, "worker-1"));
	bool pushed = false;
	for (int i = 0; i < 100 && !(pushed = map_says(ja, "worker-1", "removed")); i++)
		usleep(20000);
	EXPECT_TRUE(pushed);
	join_stop(jb);
	/* the same machine with the token, from a wiped node directory: refused */
	struct join_opts b2 = jopts(self, "b2", "uuid-bbbb", d3);
	EXPECT_EQ(-EKEYREVOKED, join_once(&b2, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "node worker-1 was removed from the cluster")) TH_LOG("%s", err);
	/* a new machine never gets the name */
	struct join_opts c = jopts(self, "c", "uuid-cccc", d4);
	ASSERT_EQ(0, join_once(&c, err, sizeof(err)));
	identity_of(d4, name);
	EXPECT_STREQ("worker-2", name);
	/* the removal survives a registry restart */
	join_stop(ja);
	registry_stop(self->r);
	reg_up(_metadata, self);
	EXPECT_STREQ("removed", node_state(self->r, "worker-1"));
	ASSERT_EQ(0, join_start(&b, &jb, err, sizeof(err)));      /* stored certificate: refused */
	EXPECT_TRUE(wait_join(jb, "removed", 5000));
	/* re-admitted: the same machine comes back by itself, same name */
	ASSERT_EQ(0, registry_node_readmit(self->r, "worker-1", err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(-EALREADY, registry_node_readmit(self->r, "worker-1", err, sizeof(err)));
	EXPECT_TRUE(wait_join(jb, "ready", 15000));
	EXPECT_TRUE(wait_state(self->r, "worker-1", "ready", 5000));
	json_t *st = join_status_json(jb);
	EXPECT_STREQ("worker-1", json_string_value(json_object_get(st, "name")));
	json_decref(st);
	join_stop(jb);
}

/* Field `field` of node name in the registry's listing, or "absent". */
static const char *node_field(struct registry *r, const char *name, const char *field)
{
	static char buf[128];
	json_t *s = registry_status_json(r), *n;
	size_t i;
	strcpy(buf, "absent");
	json_array_foreach(json_object_get(s, "nodes"), i, n)
		if (!strcmp(json_string_value(json_object_get(n, "name")), name) &&
		    json_is_string(json_object_get(n, field)))
			snprintf(buf, sizeof(buf), "%s", json_string_value(json_object_get(n, field)));
	json_decref(s);
	return buf;
}

/* Node name's "zone" in the map stored in dir (cluster-map.json), or
 * "absent". */
static const char *map_zone_in(const char *dir, const char *name)
{
	static char buf[128];
	char p[300];
	json_t *m, *n;
	size_t k;
	snprintf(p, sizeof(p), "%s/cluster-map.json", dir);
	m = json_load_file(p, 0, NULL);
	strcpy(buf, "absent");
	json_array_foreach(json_object_get(m, "nodes"), k, n)
		if (!strcmp(json_string_value(json_object_get(n, "name")), name) &&
		    json_is_string(json_object_get(n, "zone")))
			snprintf(buf, sizeof(buf), "%s", json_string_value(json_object_get(n, "zone")));
	json_decref(m);
	return buf;
}

static bool wait_zone(struct registry *r, const char *name, const char *want, int ms)
{
	for (int i = 0; i < ms / 20; i++) {
		if (!strcmp(node_field(r, name, "zone"), want))
			return true;
		usleep(20000);
	}
	return false;
}

TEST_F(reg, zones_from_join_and_hello_newest_wins_persisted)
{
	char d1[256], d2[256], err[256];
	struct join *ja;
	struct join_opts a = jopts(self, "a", "uuid-aaaa", d1), b = jopts(self, "b", "uuid-bbbb", d2);

	/* a joins in rack1, b without a zone: the listing and the map say so */
	a.zone = "rack1";
	ASSERT_EQ(0, join_once(&a, err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(0, join_once(&b, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_STREQ("rack1", node_field(self->r, "worker-0", "zone"));
	EXPECT_STREQ("", node_field(self->r, "worker-1", "zone"));
	EXPECT_STREQ("rack1", map_zone_in(d2, "worker-0"));
	EXPECT_STREQ("", map_zone_in(d2, "worker-1"));
	/* a bad zone in a JOIN: refused naming the field, nothing changed */
	char *before = slurp(self->regdir, "state.json");
	a.zone = "rack/1";
	EXPECT_EQ(-EPERM, join_once(&a, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "bad_request: field 'zone' must be a string of 1-64 characters")) TH_LOG("%s", err);
	a.zone = "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz";     /* 65 */
	EXPECT_EQ(-EPERM, join_once(&a, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "field 'zone'")) TH_LOG("%s", err);
	char *after = slurp(self->regdir, "state.json");
	EXPECT_STREQ(before, after);
	free(before);
	free(after);
	EXPECT_STREQ("rack1", node_field(self->r, "worker-0", "zone"));
	/* a reboot with another zone says HELLO only (stored certificate): the newest wins */
	a.zone = "rack2";
	ASSERT_EQ(0, join_start(&a, &ja, err, sizeof(err)));
	EXPECT_TRUE(wait_zone(self->r, "worker-0", "rack2", 10000));
	EXPECT_TRUE(wait_join(ja, "ready", 10000));
	json_t *st = join_status_json(ja);
	EXPECT_EQ(0, json_integer_value(json_object_get(st, "joins")));
	EXPECT_STREQ("rack2", json_string_value(json_object_get(st, "zone")));
	json_decref(st);
	join_stop(ja);
	/* a bad zone in a HELLO: refused naming the field, the zone kept */
	a.zone = "rack 3";
	ASSERT_EQ(0, join_start(&a, &ja, err, sizeof(err)));
	bool told = false;
	for (int i = 0; i < 250 && !(told = last_error_has(ja, "field 'zone'")); i++)
		usleep(20000);
	EXPECT_TRUE(told);
	join_stop(ja);
	EXPECT_STREQ("rack2", node_field(self->r, "worker-0", "zone"));
	/* persisted: a restarted registry still knows it */
	registry_stop(self->r);
	reg_up(_metadata, self);
	EXPECT_STREQ("rack2", node_field(self->r, "worker-0", "zone"));
	EXPECT_STREQ("", node_field(self->r, "worker-1", "zone"));
	/* a re-join without a zone clears it */
	a.zone = NULL;
	ASSERT_EQ(0, join_once(&a, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_STREQ("", node_field(self->r, "worker-0", "zone"));
}

/* Replace the node.crt in dir by one the registry's CA signs for the same
 * key, identity and serial but without subjectAltName (a certificate
 * issued before they were added). */
static void write_old_style_cert(FIXTURE_DATA(reg) *self, const char *dir)
{
	char *ca = slurp(self->regdir, "ca.crt"), *cakey = slurp(self->regdir, "ca.key");
	char *crt = slurp(dir, "node.crt"), *key = slurp(dir, "node.key"), *csr = NULL, *old = NULL, err[256], p[300];
	struct tls_identity id;

	if (!ca || !cakey || !crt || !key || tls_cert_identity(crt, &id, err, sizeof(err)) < 0 ||
	    tls_csr_create(key, &id, &csr, err, sizeof(err)) < 0 ||
	    tls_csr_sign(ca, cakey, csr, &id, strtoull(id.serial, NULL, 16), 30, &old, err, sizeof(err)) < 0)
		abort();
	snprintf(p, sizeof(p), "%s/node.crt", dir);
	if (tls_file_write(p, old, 0644) < 0)
		abort();
	free(ca); free(cakey); free(crt); free(key); free(csr); free(old);
}

static bool has_san(const char *dir, const char *want)
{
	char *crt = slurp(dir, "node.crt"), san[1024], err[128];
	bool yes = crt && tls_cert_san(crt, san, sizeof(san), err, sizeof(err)) == 0 && !strcmp(san, want);
	free(crt);
	return yes;
}

TEST_F(reg, certificate_without_names_is_renewed_keeping_the_identity)
{
	char d1[256], d2[256], err[256], name[64];
	struct join_opts a = jopts(self, "a", "uuid-aaaa", d1), b = jopts(self, "b", "uuid-bbbb", d2);
	struct join *ja = NULL, *jb = NULL;

	ASSERT_EQ(0, join_once(&a, err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(0, join_once(&b, err, sizeof(err))) TH_LOG("%s", err);
	write_old_style_cert(self, d1);
	write_old_style_cert(self, d2);
	ASSERT_FALSE(has_san(d1, "DNS:worker-0,IP:127.0.0.1"));
	/* a: renewed at its session start, proving its node key */
	ASSERT_EQ(0, join_start(&a, &ja, err, sizeof(err)));
	for (int i = 0; i < 500 && !has_san(d1, "DNS:worker-0,IP:127.0.0.1"); i++)
		usleep(20000);
	EXPECT_TRUE(has_san(d1, "DNS:worker-0,IP:127.0.0.1"));
	EXPECT_TRUE(wait_join(ja, "ready", 10000));
	identity_of(d1, name);
	EXPECT_STREQ("worker-0", name);
	/* b: the renewal is refused (wrong token): it keeps its certificate and session */
	b.token = "wrong-token";
	ASSERT_EQ(0, join_start(&b, &jb, err, sizeof(err)));
	EXPECT_TRUE(wait_join(jb, "ready", 10000));
	EXPECT_TRUE(wait_state(self->r, "worker-1", "ready", 5000));
	identity_of(d2, name);
	EXPECT_STREQ("worker-1", name);
	char *crt = slurp(d2, "node.crt"), san[256];
	ASSERT_NE(NULL, crt);
	EXPECT_EQ(-ENOENT, tls_cert_san(crt, san, sizeof(san), err, sizeof(err)));
	free(crt);
	join_stop(ja);
	join_stop(jb);
}

/* Disk problems a node's heartbeat reports reach opts.disk_alert once when
 * they appear, and are cleared when the node no longer reports them. */
static pthread_mutex_t D_lock = PTHREAD_MUTEX_INITIALIZER;
static char D_log[1024];

static void disk_seen(void *ctx, bool raise, const char *kind, const char *subject, const char *message)
{
	(void)ctx, (void)message;
	pthread_mutex_lock(&D_lock);
	size_t n = strlen(D_log);
	snprintf(D_log + n, sizeof(D_log) - n, "%s %s %s;", raise ? "raise" : "clear", kind, subject);
	pthread_mutex_unlock(&D_lock);
}

static bool disk_log_is(const char *want, int ms)
{
	for (int i = 0; i < ms / 20; i++) {
		pthread_mutex_lock(&D_lock);
		bool same = !strcmp(D_log, want);
		pthread_mutex_unlock(&D_lock);
		if (same)
			return true;
		usleep(20000);
	}
	return false;
}

TEST_F(reg, disk_problems_in_heartbeats_alert_once_and_clear)
{
	char d1[256], err[256], name[64], want[512];
	struct join *ja;

	registry_stop(self->r);
	struct registry_opts o = { .state_dir = self->regdir, .cluster = "testc", .listen_addr = "127.0.0.1",
				   .self_uuid = "czar-machine", .down_after_ms = 600, .event = quiet,
				   .disk_alert = disk_seen };
	ASSERT_EQ(0, registry_start(&o, &self->r, err, sizeof(err))) TH_LOG("%s", err);
	snprintf(self->addr, sizeof(self->addr), "127.0.0.1:%u", registry_port(self->r));
	struct join_opts a = jopts(self, "a", "uuid-disk", d1);
	ASSERT_EQ(0, join_start(&a, &ja, err, sizeof(err)));
	ASSERT_TRUE(wait_join(ja, "ready", 10000));
	json_t *st = join_status_json(ja);
	snprintf(name, sizeof(name), "%s", json_string_value(json_object_get(st, "name")));
	json_decref(st);
	const char *foreign = "{\"storage\":{\"problems\":[{\"id\":\"wwn-1\",\"name\":\"sdb\","
			      "\"state\":\"foreign\",\"reason\":\"ext4 signature\"}]}}";
	join_set_health(ja, json_loads(foreign, 0, NULL));
	snprintf(want, sizeof(want), "raise disk_foreign %s/wwn-1;", name);
	EXPECT_TRUE(disk_log_is(want, 5000)) TH_LOG("%s", D_log);
	usleep(400000);   /* more heartbeats with the same problem: no second alert */
	EXPECT_TRUE(disk_log_is(want, 100)) TH_LOG("%s", D_log);
	join_set_health(ja, json_loads("{\"storage\":{\"problems\":[]}}", 0, NULL));
	snprintf(want + strlen(want), sizeof(want) - strlen(want), "clear disk_foreign %s/wwn-1;", name);
	EXPECT_TRUE(disk_log_is(want, 5000)) TH_LOG("%s", D_log);
	join_stop(ja);
}

TEST(cert_stale_by_name_and_map_address)
{
	char *ca, *cakey, *key, *csr, *crt, *plain, why[256], err[256];
	struct tls_identity id = { .name = "worker-3", .role = "worker" };
	const char *san[] = { "worker-3", "10.0.0.3" };
	json_t *map = json_pack("{s:[{s:s, s:s}]}", "nodes", "name", "worker-3", "addr", "10.0.0.3");

	ASSERT_EQ(0, tls_ca_create("t", 30, &ca, &cakey, err, sizeof(err)));
	ASSERT_EQ(0, tls_key_generate(&key, err, sizeof(err)));
	ASSERT_EQ(0, tls_csr_create(key, &id, &csr, err, sizeof(err)));
	ASSERT_EQ(0, tls_csr_sign_san(ca, cakey, csr, &id, san, 2, 5, 30, &crt, err, sizeof(err)));
	ASSERT_EQ(0, tls_csr_sign(ca, cakey, csr, &id, 5, 30, &plain, err, sizeof(err)));
	EXPECT_EQ(0, join_cert_stale(crt, map, "worker-3", why, sizeof(why)));
	EXPECT_EQ(1, join_cert_stale(plain, map, "worker-3", why, sizeof(why)));
	EXPECT_NE(NULL, strstr(why, "names no host")) TH_LOG("%s", why);
	EXPECT_EQ(1, join_cert_stale(crt, map, "worker-4", why, sizeof(why)));       /* another name */
	json_object_set_new(json_array_get(json_object_get(map, "nodes"), 0), "addr", json_string("10.0.0.33"));
	EXPECT_EQ(1, join_cert_stale(crt, map, "worker-3", why, sizeof(why)));       /* its address moved */
	EXPECT_NE(NULL, strstr(why, "does not name its address 10.0.0.33")) TH_LOG("%s", why);
	json_decref(map);
	free(ca); free(cakey); free(key); free(csr); free(crt); free(plain);
}

TEST_HARNESS_MAIN
