/* registry_state_test.c: ordinal assignment stability, the state file's
 * round trip and validation, crash safety (a writer killed at random
 * moments leaves the old state or the new one, never a torn file), the
 * size limit the writer and the reader share, and the node keys, readmit
 * allowances, single-use tokens and failure zones the file keeps. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "../registry_state.h"

FIXTURE(dir) { char path[64]; char file[128]; };
FIXTURE_SETUP(dir)
{
	strcpy(self->path, "/tmp/regstate.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->path));
	snprintf(self->file, sizeof(self->file), "%s/state.json", self->path);
}
FIXTURE_TEARDOWN(dir)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->path);
	(void)!system(cmd);
}

static struct reg_node *assign(struct reg_state *st, const char *uuid, const char *role, bool *is_new)
{
	struct reg_node *n = NULL;
	if (reg_state_assign(st, uuid, role, &n, is_new) < 0)
		return NULL;
	return n;
}

TEST(ordinals_stable_and_never_reused)
{
	struct reg_state st;
	bool nw;
	reg_state_init(&st, "c1");
	EXPECT_STREQ("worker-0", assign(&st, "uuid-a", "worker", &nw)->name);
	EXPECT_TRUE(nw);
	EXPECT_STREQ("worker-1", assign(&st, "uuid-b", "worker", &nw)->name);
	EXPECT_STREQ("czar-0", assign(&st, "uuid-c", "czar", &nw)->name);
	EXPECT_STREQ("worker-2", assign(&st, "uuid-d", "worker", &nw)->name);
	/* same machine, same identity, no new record */
	struct reg_node *a = assign(&st, "uuid-a", "worker", &nw);
	EXPECT_STREQ("worker-0", a->name);
	EXPECT_EQ(0, a->ordinal);
	EXPECT_FALSE(nw);
	EXPECT_EQ(4, st.n);
	/* a machine cannot change role behind its name */
	struct reg_node *n = NULL;
	EXPECT_EQ(-EEXIST, reg_state_assign(&st, "uuid-a", "czar", &n, &nw));
	EXPECT_STREQ("worker-0", n->name);
	EXPECT_EQ(-EINVAL, reg_state_assign(&st, "bad uuid", "worker", &n, &nw));
	EXPECT_EQ(-EINVAL, reg_state_assign(&st, "uuid-e", "admin", &n, &nw));
	EXPECT_EQ(-EINVAL, reg_state_assign(&st, "", "worker", &n, &nw));
	reg_state_free(&st);
}

TEST_F(dir, round_trip_keeps_identities)
{
	struct reg_state st, back;
	char err[256];
	bool nw;
	reg_state_init(&st, "c1");
	strcpy(st.token, "abcdef.0123456789abcdef");
	for (int i = 0; i < 50; i++) {
		char u[32];
		snprintf(u, sizeof(u), "machine-%02d", i);
		struct reg_node *n = assign(&st, u, "worker", &nw);
		ASSERT_NE(NULL, n);
		n->serial = reg_state_next_serial(&st);
		snprintf(n->addr, sizeof(n->addr), "10.0.0.%d", i + 1);
	}
	ASSERT_EQ(0, reg_state_save(self->file, &st, err, sizeof(err))) TH_LOG("%s", err);
	struct stat sb;
	ASSERT_EQ(0, stat(self->file, &sb));
	EXPECT_EQ(0600, sb.st_mode & 0777);
	ASSERT_EQ(0, reg_state_load(self->file, &back, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_STREQ("c1", back.cluster);
	EXPECT_STREQ("abcdef.0123456789abcdef", back.token);
	ASSERT_EQ(50, back.n);
	EXPECT_STREQ("worker-17", reg_state_find(&back, "machine-17")->name);
	EXPECT_STREQ("10.0.0.18", reg_state_find(&back, "machine-17")->addr);
	EXPECT_EQ(st.nodes[17]->serial, reg_state_find(&back, "machine-17")->serial);
	/* after reload: old machines keep ordinals, a new one gets the next */
	EXPECT_STREQ("worker-3", assign(&back, "machine-03", "worker", &nw)->name);
	EXPECT_STREQ("worker-50", assign(&back, "machine-new", "worker", &nw)->name);
	EXPECT_EQ(st.next_serial, back.next_serial);
	reg_state_free(&st);
	reg_state_free(&back);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

TEST_F(dir, bad_files_refused_with_reason)
{
	struct reg_state st;
	char err[256];
	EXPECT_EQ(-ENOENT, reg_state_load(self->file, &st, err, sizeof(err)));
	write_file(self->file, "{\"format\":1, \"cluster\":");
	EXPECT_EQ(-EBADMSG, reg_state_load(self->file, &st, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "state.json:"));
	/* two machines with one name */
	write_file(self->file, "{\"format\":1,\"cluster\":\"c\",\"token\":\"t\",\"next_serial\":9,"
		   "\"next_ordinal\":{\"worker\":2,\"czar\":0},\"nodes\":["
		   "{\"uuid\":\"a\",\"name\":\"worker-1\",\"role\":\"worker\",\"ordinal\":1,\"serial\":2},"
		   "{\"uuid\":\"b\",\"name\":\"worker-1\",\"role\":\"worker\",\"ordinal\":1,\"serial\":3}]}");
	EXPECT_EQ(-EBADMSG, reg_state_load(self->file, &st, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "duplicate")) TH_LOG("%s", err);
	/* name that does not match role-ordinal */
	write_file(self->file, "{\"format\":1,\"cluster\":\"c\",\"token\":\"t\",\"next_serial\":9,"
		   "\"next_ordinal\":{\"worker\":2,\"czar\":0},\"nodes\":["
		   "{\"uuid\":\"a\",\"name\":\"worker-9\",\"role\":\"worker\",\"ordinal\":1,\"serial\":2}]}");
	EXPECT_EQ(-EBADMSG, reg_state_load(self->file, &st, err, sizeof(err)));
	/* counters behind the nodes are pulled forward: no ordinal reuse */
	write_file(self->file, "{\"format\":1,\"cluster\":\"c\",\"token\":\"t\",\"next_serial\":2,"
		   "\"next_ordinal\":{\"worker\":0,\"czar\":0},\"nodes\":["
		   "{\"uuid\":\"a\",\"name\":\"worker-4\",\"role\":\"worker\",\"ordinal\":4,\"serial\":7}]}");
	ASSERT_EQ(0, reg_state_load(self->file, &st, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(5, st.next_worker);
	EXPECT_EQ(8, st.next_serial);
	reg_state_free(&st);
}

/* Two distinguishable states of a few hundred KB so a write takes a while. */
static void big_state(struct reg_state *st, const char *tag)
{
	bool nw;
	reg_state_init(st, tag);
	snprintf(st->token, sizeof(st->token), "%s", tag);
	for (int i = 0; i < 1500; i++) {
		char u[48];
		snprintf(u, sizeof(u), "%s-machine-%05d", tag, i);
		struct reg_node *n = assign(st, u, "worker", &nw);
		n->serial = (uint64_t)i + 2;
	}
}

TEST_F(dir, kill_mid_write_leaves_old_or_new)
{
	struct reg_state a, b, got;
	char err[256];
	int seen_a = 0, seen_b = 0;
	big_state(&a, "stateA");
	big_state(&b, "stateB");
	ASSERT_EQ(0, reg_state_save(self->file, &a, err, sizeof(err)));
	/* SEED=N replays a run; the seed is printed either way */
	unsigned seed = getenv("SEED") ? (unsigned)strtoul(getenv("SEED"), NULL, 10) : (unsigned)time(NULL);
	TH_LOG("SEED=%u", seed);
	srand(seed);
	for (int round = 0; round < 40; round++) {
		int pfd[2];
		ASSERT_EQ(0, pipe(pfd));
		pid_t pid = fork();
		ASSERT_GE(pid, 0);
		if (pid == 0) {
			close(pfd[0]);
			for (int k = 0;; k++) {
				reg_state_save(self->file, k % 2 ? &a : &b, err, sizeof(err));
				(void)!write(pfd[1], "s", 1);
			}
		}
		close(pfd[1]);
		/* let 0..2 saves complete, then kill at a random point of the
		 * next.  The first rounds kill at once after 1 save (B written
		 * last) or 2 (A written last), so both states are seen whatever
		 * the seed; the rest draw both numbers at random. */
		char c;
		int done = round < 6 ? 1 + round % 2 : rand() % 3;
		for (int k = done; k > 0; k--)
			ASSERT_EQ(1, read(pfd[0], &c, 1));
		usleep(round < 6 ? 0 : rand() % 20000);
		kill(pid, SIGKILL);
		close(pfd[0]);
		waitpid(pid, NULL, 0);
		ASSERT_EQ(0, reg_state_load(self->file, &got, err, sizeof(err))) TH_LOG("round %d: %s", round, err);
		ASSERT_EQ(1500, got.n);
		if (!strcmp(got.cluster, "stateA"))
			seen_a++;
		else if (!strcmp(got.cluster, "stateB"))
			seen_b++;
		/* every record belongs to the same version */
		ASSERT_EQ(0, strncmp(got.nodes[1499]->uuid, got.cluster, 6));
		reg_state_free(&got);
	}
	TH_LOG("old/new states seen: A %d, B %d", seen_a, seen_b);
	EXPECT_EQ(40, seen_a + seen_b);
	EXPECT_GT(seen_a, 0);    /* a kill must be able to leave either one */
	EXPECT_GT(seen_b, 0);
	reg_state_free(&a);
	reg_state_free(&b);
}

TEST_F(dir, removed_node_keeps_its_name_reserved_and_persists)
{
	struct reg_state st, back;
	struct reg_node *n = NULL;
	char err[256];
	bool nw;
	reg_state_init(&st, "c1");
	strcpy(st.token, "abcdef.0123456789abcdef");
	ASSERT_NE(NULL, assign(&st, "uuid-czar", "czar", &nw));
	ASSERT_NE(NULL, assign(&st, "uuid-a", "worker", &nw));
	ASSERT_NE(NULL, assign(&st, "uuid-b", "worker", &nw));
	/* refusals: unknown name, the czar; nothing changes */
	EXPECT_EQ(-ENOENT, reg_state_remove(&st, "worker-9", &n));
	EXPECT_EQ(-EPERM, reg_state_remove(&st, "czar-0", &n));
	EXPECT_FALSE(reg_node_removed(reg_state_find_name(&st, "czar-0")));
	/* remove worker-1 (machine b) */
	ASSERT_EQ(0, reg_state_remove(&st, "worker-1", &n));
	EXPECT_STREQ("uuid-b", n->uuid);
	EXPECT_TRUE(reg_node_removed(n));
	EXPECT_STREQ("removed", reg_node_state_name(n->state));
	EXPECT_EQ(-EALREADY, reg_state_remove(&st, "worker-1", &n));
	/* the same machine cannot come back by joining again */
	n = NULL;
	EXPECT_EQ(-EKEYREVOKED, reg_state_assign(&st, "uuid-b", "worker", &n, &nw));
	ASSERT_NE(NULL, n);
	EXPECT_STREQ("worker-1", n->name);
	EXPECT_FALSE(nw);
	/* a new machine never gets the removed name or ordinal */
	struct reg_node *c = assign(&st, "uuid-c", "worker", &nw);
	ASSERT_NE(NULL, c);
	EXPECT_STREQ("worker-2", c->name);
	EXPECT_EQ(4, st.n);
	/* persisted: the mark and the reservation survive a restart */
	ASSERT_EQ(0, reg_state_save(self->file, &st, err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(0, reg_state_load(self->file, &back, err, sizeof(err))) TH_LOG("%s", err);
	n = reg_state_find_name(&back, "worker-1");
	ASSERT_NE(NULL, n);
	EXPECT_TRUE(reg_node_removed(n));
	EXPECT_EQ(REG_NODE_REMOVED, n->state);
	EXPECT_EQ(reg_state_find_name(&st, "worker-1")->removed_at, n->removed_at);
	EXPECT_FALSE(reg_node_removed(reg_state_find_name(&back, "worker-0")));
	EXPECT_EQ(REG_NODE_DOWN, reg_state_find_name(&back, "worker-0")->state);
	EXPECT_EQ(-EKEYREVOKED, reg_state_assign(&back, "uuid-b", "worker", &n, &nw));
	EXPECT_STREQ("worker-3", assign(&back, "uuid-d", "worker", &nw)->name);
	/* re-admission: the same machine, the same name; no new record; on a
	 * member it is the allowance of one join without the key proof */
	EXPECT_FALSE(reg_state_find_name(&back, "worker-0")->readmit);
	EXPECT_EQ(0, reg_state_readmit(&back, "worker-0", &n));
	EXPECT_TRUE(n->readmit);
	EXPECT_EQ(-EALREADY, reg_state_readmit(&back, "worker-0", &n));
	EXPECT_EQ(-ENOENT, reg_state_readmit(&back, "worker-7", &n));
	ASSERT_EQ(0, reg_state_readmit(&back, "worker-1", &n));
	EXPECT_FALSE(reg_node_removed(n));
	EXPECT_TRUE(n->readmit);
	EXPECT_STREQ("down", reg_node_state_name(n->state));
	size_t count = back.n;
	ASSERT_EQ(0, reg_state_assign(&back, "uuid-b", "worker", &n, &nw));
	EXPECT_STREQ("worker-1", n->name);
	EXPECT_FALSE(nw);
	EXPECT_EQ(count, back.n);
	reg_state_free(&back);
	reg_state_free(&st);
}

TEST_F(dir, removed_mark_validated_on_load)
{
	struct reg_state st;
	char err[256];
	const char *base = "{\"format\":1,\"cluster\":\"c\",\"token\":\"t\",\"next_serial\":5,"
			   "\"next_ordinal\":{\"worker\":1,\"czar\":1},\"nodes\":[%s]}";
	const char *cases[] = {
		/* a removed czar would leave the cluster without its registry */
		"{\"uuid\":\"u1\",\"name\":\"czar-0\",\"role\":\"czar\",\"ordinal\":0,\"serial\":2,\"removed_at\":5}",
		"{\"uuid\":\"u1\",\"name\":\"worker-0\",\"role\":\"worker\",\"ordinal\":0,\"serial\":2,\"removed_at\":-1}",
		"{\"uuid\":\"u1\",\"name\":\"worker-0\",\"role\":\"worker\",\"ordinal\":0,\"serial\":2,\"removed_at\":\"yes\"}",
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		FILE *f = fopen(self->file, "w");
		ASSERT_NE(NULL, f);
		fprintf(f, base, cases[i]);
		fclose(f);
		EXPECT_EQ(-EBADMSG, reg_state_load(self->file, &st, err, sizeof(err))) TH_LOG("case %zu", i);
	}
	/* a file without the key (older registries) loads: nobody is removed */
	FILE *f = fopen(self->file, "w");
	fprintf(f, base, "{\"uuid\":\"u1\",\"name\":\"worker-0\",\"role\":\"worker\",\"ordinal\":0,\"serial\":2}");
	fclose(f);
	ASSERT_EQ(0, reg_state_load(self->file, &st, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_FALSE(reg_node_removed(st.nodes[0]));
	reg_state_free(&st);
}

/* A record with every field at its longest. */
static void fill_max(struct reg_node *n, size_t i)
{
	snprintf(n->uuid, sizeof(n->uuid), "%0*zu", (int)sizeof(n->uuid) - 1, i);
	snprintf(n->addr, sizeof(n->addr), "%0*zu", (int)sizeof(n->addr) - 1, i);
	memset(n->pubkey, 'K', sizeof(n->pubkey) - 1);
	n->pubkey[sizeof(n->pubkey) - 1] = '\0';
	memset(n->zone, 'Z', sizeof(n->zone) - 1);
	n->zone[sizeof(n->zone) - 1] = '\0';
	n->serial = UINT64_C(0x7fffffffffffffff) - i;
	n->joined_at = INT64_C(0x7fffffffffffffff);
	n->readmit = true;
}

TEST_F(dir, size_limit_shared_by_writer_and_reader)
{
	struct reg_state st, back;
	struct reg_node *n;
	char err[256];
	bool nw;

	reg_state_init(&st, "c1");
	snprintf(st.token, sizeof(st.token), "%0127d", 7);
	for (size_t i = 0; i < REG_MAX_NODES; i++) {
		char uuid[32];
		snprintf(uuid, sizeof(uuid), "u%zu", i);
		ASSERT_EQ(0, reg_state_assign(&st, uuid, "worker", &n, &nw));
		fill_max(n, i);
		if (i % 2)
			n->removed_at = INT64_C(0x7fffffffffffffff);
	}
	EXPECT_EQ(-ENOSPC, reg_state_assign(&st, "one-more", "worker", &n, &nw));
	/* the most the registry can hold is written and read back */
	ASSERT_EQ(0, reg_state_save(self->file, &st, err, sizeof(err))) TH_LOG("%s", err);
	struct stat sb;
	ASSERT_EQ(0, stat(self->file, &sb));
	TH_LOG("%d records at their longest: %lld bytes (limit %u)", REG_MAX_NODES, (long long)sb.st_size,
	       REG_STATE_MAX_BYTES);
	ASSERT_EQ(0, reg_state_load(self->file, &back, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(REG_MAX_NODES, back.n);
	EXPECT_STREQ(st.nodes[5]->pubkey, back.nodes[5]->pubkey);
	EXPECT_STREQ(st.nodes[5]->zone, back.nodes[5]->zone);
	EXPECT_TRUE(back.nodes[5]->readmit);
	reg_state_free(&back);
	/* a state past the limit (records added behind assign's back) is refused
	 * by the writer, which leaves the old file */
	struct reg_node **more = realloc(st.nodes, (st.n + REG_MAX_NODES) * sizeof(*more));
	ASSERT_NE(NULL, more);
	st.nodes = more;
	st.cap = st.n + REG_MAX_NODES;
	for (size_t i = 0; i < REG_MAX_NODES; i++) {
		n = calloc(1, sizeof(*n));
		ASSERT_NE(NULL, n);
		fill_max(n, REG_MAX_NODES + i);
		snprintf(n->role, sizeof(n->role), "worker");
		n->ordinal = (int)(REG_MAX_NODES + i);
		snprintf(n->name, sizeof(n->name), "worker-%d", n->ordinal);
		st.nodes[st.n++] = n;
	}
	EXPECT_EQ(-EFBIG, reg_state_save(self->file, &st, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "more than")) TH_LOG("%s", err);
	ASSERT_EQ(0, reg_state_load(self->file, &back, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(REG_MAX_NODES, back.n);
	reg_state_free(&back);
	reg_state_free(&st);
	/* and a file past the limit is refused by the reader, with the reason */
	FILE *f = fopen(self->file, "w");
	ASSERT_NE(NULL, f);
	for (size_t i = 0; i <= REG_STATE_MAX_BYTES; i++)
		fputc(' ', f);
	fclose(f);
	EXPECT_EQ(-EFBIG, reg_state_load(self->file, &back, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "larger than")) TH_LOG("%s", err);
}

TEST_F(dir, keys_allowances_and_single_use_tokens_persist)
{
	struct reg_state st, back;
	struct reg_node *n;
	char err[256];
	bool nw;

	reg_state_init(&st, "c1");
	ASSERT_EQ(0, reg_state_assign(&st, "uuid-a", "worker", &n, &nw));
	snprintf(n->pubkey, sizeof(n->pubkey), "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE");
	ASSERT_EQ(0, reg_state_assign(&st, "uuid-b", "worker", &n, &nw));
	ASSERT_EQ(0, reg_state_readmit(&st, "worker-1", &n));
	ASSERT_EQ(0, reg_state_single_use_add(&st, "aaaaaa.0000000000000001", "", 600));
	ASSERT_EQ(0, reg_state_single_use_add(&st, "bbbbbb.0000000000000002", "uuid-x", 600));
	ASSERT_EQ(0, reg_state_single_use_add(&st, "cccccc.0000000000000003", "", 600));
	EXPECT_EQ(-EINVAL, reg_state_single_use_add(&st, "dddddd.0000000000000004", "bad uuid", 600));
	st.single_use[2].expires = (int64_t)time(NULL) - 1;     /* expired */
	ASSERT_EQ(0, reg_state_save(self->file, &st, err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(0, reg_state_load(self->file, &back, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_STREQ("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE", reg_state_find(&back, "uuid-a")->pubkey);
	EXPECT_FALSE(reg_state_find(&back, "uuid-a")->readmit);
	EXPECT_TRUE(reg_state_find(&back, "uuid-b")->readmit);
	EXPECT_EQ(2, back.n_single_use);                        /* the expired one dropped */
	EXPECT_LE(0, reg_state_single_use_find(&back, "aaaaaa.0000000000000001", "uuid-q"));
	EXPECT_EQ(-1, reg_state_single_use_find(&back, "bbbbbb.0000000000000002", "uuid-q"));
	int i = reg_state_single_use_find(&back, "bbbbbb.0000000000000002", "uuid-x");
	EXPECT_LE(0, i);
	EXPECT_EQ(-1, reg_state_single_use_find(&back, "cccccc.0000000000000003", "uuid-q"));
	EXPECT_EQ(-1, reg_state_single_use_find(&back, "aaaaaa.000000000000000", "uuid-q"));
	reg_state_single_use_del(&back, i);
	EXPECT_EQ(-1, reg_state_single_use_find(&back, "bbbbbb.0000000000000002", "uuid-x"));
	/* bounded */
	for (int k = (int)back.n_single_use; k < REG_SINGLE_USE_MAX; k++)
		ASSERT_EQ(0, reg_state_single_use_add(&back, "eeeeee.0000000000000005", "", 60));
	EXPECT_EQ(-ENOSPC, reg_state_single_use_add(&back, "ffffff.0000000000000006", "", 60));
	reg_state_free(&back);
	reg_state_free(&st);
}

/* A node's failure zone persists; files from before zones (no "zone")
 * load with none; a zone breaking the rule is refused with the reason. */
TEST_F(dir, zones_persist_old_files_load_bad_ones_refused)
{
	static const char base[] = "{\"format\":1,\"cluster\":\"c\",\"token\":\"t\",\"next_serial\":9,"
				   "\"next_ordinal\":{\"worker\":2,\"czar\":0},\"nodes\":[%s]}";
	struct reg_state st, back;
	struct reg_node *n;
	char err[256], text[1024], *file;
	bool nw;

	reg_state_init(&st, "c1");
	ASSERT_EQ(0, reg_state_assign(&st, "uuid-a", "worker", &n, &nw));
	snprintf(n->zone, sizeof(n->zone), "rack-1.row_2");
	ASSERT_EQ(0, reg_state_assign(&st, "uuid-b", "worker", &n, &nw));
	ASSERT_EQ(0, reg_state_save(self->file, &st, err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(0, reg_state_load(self->file, &back, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_STREQ("rack-1.row_2", reg_state_find(&back, "uuid-a")->zone);
	EXPECT_STREQ("", reg_state_find(&back, "uuid-b")->zone);
	reg_state_free(&back);
	reg_state_free(&st);
	/* written only for a node that has one */
	ASSERT_EQ(0, tls_file_read(self->file, &file));
	ASSERT_NE(NULL, strstr(file, "\"zone\":\"rack-1.row_2\""));
	EXPECT_EQ(NULL, strstr(strstr(file, "\"zone\"") + 1, "\"zone\"")) TH_LOG("%s", file);
	free(file);
	/* a file of an older registry: no zone */
	snprintf(text, sizeof(text), base, "{\"uuid\":\"a\",\"name\":\"worker-0\",\"role\":\"worker\",\"ordinal\":0,"
		 "\"serial\":2,\"addr\":\"10.0.0.2\",\"joined_at\":1}");
	write_file(self->file, text);
	ASSERT_EQ(0, reg_state_load(self->file, &back, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_STREQ("", back.nodes[0]->zone);
	reg_state_free(&back);
	/* bad zones: a slash, 65 characters, not a string */
	const char *bad[] = { "\"rack/1\"", "\"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\"", "7" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char node[256];
		snprintf(node, sizeof(node), "{\"uuid\":\"a\",\"name\":\"worker-0\",\"role\":\"worker\",\"ordinal\":0,"
			 "\"serial\":2,\"zone\":%s}", bad[i]);
		snprintf(text, sizeof(text), base, node);
		write_file(self->file, text);
		EXPECT_EQ(-EBADMSG, reg_state_load(self->file, &back, err, sizeof(err))) TH_LOG("%s", bad[i]);
		EXPECT_NE(NULL, strstr(err, "nodes[0]")) TH_LOG("%s", err);
		if (i < 2)
			EXPECT_NE(NULL, strstr(err, "zone must be 1-64 characters")) TH_LOG("%s", err);
	}
}

TEST(token_format)
{
	char t1[24], t2[24];
	ASSERT_EQ(0, reg_token_generate(t1));
	ASSERT_EQ(0, reg_token_generate(t2));
	EXPECT_EQ(23, strlen(t1));
	EXPECT_EQ('.', t1[6]);
	EXPECT_NE(0, strcmp(t1, t2));
}

TEST_HARNESS_MAIN
