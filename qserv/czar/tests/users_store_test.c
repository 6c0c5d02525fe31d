/* users_store_test.c: the grants file (users_store.h) and the users file
 * lines the czar writes back (auth_user_format). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "../auth.h"
#include "../users_store.h"

TEST(grants_parse_format_round_trip)
{
	struct users_grants g, h;
	struct buf b;
	char err[200];

	ASSERT_EQ(0, users_grants_parse("# c\n\nrole analyst\nmember bob analyst\nselect analyst LSST\n"
					"select bob *\n", &g, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(1, g.nroles);
	EXPECT_EQ(1, g.nmembers);
	EXPECT_EQ(2, g.nprivs);
	EXPECT_EQ(0, users_grants_role(&g, "analyst"));
	EXPECT_EQ(0, users_grants_member(&g, "bob", "analyst"));
	EXPECT_EQ(0, users_grants_priv(&g, "analyst", "lsst"));   /* database names: any case */
	EXPECT_EQ(1, users_grants_priv(&g, "bob", "*"));
	EXPECT_EQ(-1, users_grants_priv(&g, "bob", "LSST"));
	buf_init(&b);
	users_grants_format(&g, &b);
	ASSERT_EQ(0, b.oom);
	ASSERT_EQ(0, users_grants_parse(buf_str(&b), &h, err, sizeof(err)));
	EXPECT_EQ(g.nroles, h.nroles);
	EXPECT_EQ(g.nmembers, h.nmembers);
	EXPECT_EQ(g.nprivs, h.nprivs);
	EXPECT_STREQ("LSST", h.privs[0].db);
	users_grants_forget(&h, "analyst");
	EXPECT_EQ(0, h.nroles);
	EXPECT_EQ(0, h.nmembers);
	EXPECT_EQ(1, h.nprivs);
	buf_free(&b);
	users_grants_free(&g);
	users_grants_free(&h);
}

TEST(grants_parse_errors_name_the_line)
{
	static const struct { const char *text, *want; } cases[] = {
		{ "role a\nrole\n", "line 2: expected" },
		{ "member a\n", "line 1: expected" },
		{ "select a b c\n", "line 1: expected" },
		{ "role a-b\n", "line 1: a name is not" },
		{ "select * db\n", "line 1: a name is not" },
		{ "grant a b\n", "line 1: expected" },
	};
	struct users_grants g;
	char err[200];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		EXPECT_EQ(-EINVAL, users_grants_parse(cases[i].text, &g, err, sizeof(err)));
		EXPECT_NE(NULL, strstr(err, cases[i].want)) TH_LOG("case %zu: %s", i, err);
	}
}

TEST(grants_file_save_load_missing)
{
	char dir[] = "/tmp/users-store-XXXXXX", path[64], err[200];
	struct users_grants g = { 0 }, h;

	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/users.grants", dir);
	ASSERT_EQ(0, users_grants_load(path, &h, err, sizeof(err)));   /* missing: empty */
	EXPECT_EQ(0, h.nroles + h.nmembers + h.nprivs);
	ASSERT_EQ(0, users_grants_add_role(&g, "r1"));
	ASSERT_EQ(0, users_grants_add_priv(&g, "r1", "db1"));
	ASSERT_EQ(0, users_grants_save(path, &g, err, sizeof(err)));
	ASSERT_EQ(0, users_grants_load(path, &h, err, sizeof(err)));
	EXPECT_EQ(0, users_grants_priv(&h, "r1", "db1"));
	users_grants_free(&g);
	users_grants_free(&h);
	unlink(path);
	rmdir(dir);
}

TEST(users_line_round_trip)
{
	struct auth_user x = { .name = "bob", .has_password = 1, .restricted = 1, .locked = 1,
			       .max_connections = 2, .max_questions = 10, .max_conn_hour = 3 };
	struct auth_users u = { .v = &x, .n = 1 }, back;
	char dir[] = "/tmp/users-store-XXXXXX", path[64], err[200];
	const struct auth_user *y;

	auth_hash_password("pw", 2, x.hash);
	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/users", dir);
	ASSERT_EQ(0, auth_users_save(path, &u, err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(0, auth_users_load(path, &back, err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_NE(NULL, (y = auth_users_find(&back, "bob")));
	EXPECT_EQ(0, memcmp(x.hash, y->hash, AUTH_HASH_LEN));
	EXPECT_EQ(1, y->restricted);
	EXPECT_EQ(1, y->locked);
	EXPECT_EQ(0, y->admin);
	EXPECT_EQ(2, y->max_connections);
	EXPECT_EQ(10, y->max_questions);
	EXPECT_EQ(3, y->max_conn_hour);
	auth_users_free(&back);
	unlink(path);
	rmdir(dir);
}

TEST_HARNESS_MAIN
