/* auth_test.c: password hashes, mysql_native_password and the users file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "../auth.h"

/* MySQL: SELECT PASSWORD('password') -> this value (documented widely,
 * and MariaDB 10.11 prints the same). */
TEST(hash_matches_mysql_password_function)
{
	unsigned char h[AUTH_HASH_LEN];
	char s[42];

	auth_hash_password("password", 8, h);
	auth_hash_format(h, s);
	EXPECT_STREQ("*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19", s);
}

TEST(hash_parse_round_trip_and_errors)
{
	unsigned char h[AUTH_HASH_LEN], g[AUTH_HASH_LEN];
	char s[42];

	auth_hash_password("x", 1, h);
	auth_hash_format(h, s);
	ASSERT_EQ(0, auth_hash_parse(s, g));
	EXPECT_EQ(0, memcmp(h, g, sizeof(h)));
	s[0] = '#';
	EXPECT_EQ(-EINVAL, auth_hash_parse(s, g));
	EXPECT_EQ(-EINVAL, auth_hash_parse("*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E1", g));
	EXPECT_EQ(-EINVAL, auth_hash_parse("*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E1Z", g));
}

TEST(native_token_checks)
{
	struct auth_user u = { .name = "qsmaster", .has_password = 1 };
	unsigned char scr[AUTH_SCRAMBLE_LEN], tok[AUTH_HASH_LEN];
	int i;

	ASSERT_EQ(0, auth_scramble(scr));
	for (i = 0; i < AUTH_SCRAMBLE_LEN; i++)
		EXPECT_NE(0, scr[i]);
	auth_hash_password("secret", 6, u.hash);
	auth_native_token("secret", 6, scr, tok);
	EXPECT_EQ(1, auth_native_check(&u, scr, tok, sizeof(tok)));
	auth_native_token("Secret", 6, scr, tok);
	EXPECT_EQ(0, auth_native_check(&u, scr, tok, sizeof(tok)));
	EXPECT_EQ(0, auth_native_check(&u, scr, tok, 0));
	EXPECT_EQ(0, auth_native_check(&u, scr, tok, 19));
	u.has_password = 0;
	EXPECT_EQ(1, auth_native_check(&u, scr, tok, 0));
	EXPECT_EQ(0, auth_native_check(&u, scr, tok, sizeof(tok)));
}

static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/czar-users-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return NULL;
	close(fd);
	return path;
}

TEST(users_file_loads)
{
	char *p = write_tmp("# users\n\nqsmaster:*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19\nanon:\n");
	struct auth_users u;
	char err[256];
	const struct auth_user *x;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, auth_users_load(p, &u, err, sizeof(err)));
	EXPECT_EQ(2, u.n);
	x = auth_users_find(&u, "qsmaster");
	ASSERT_NE(NULL, x);
	EXPECT_EQ(1, x->has_password);
	x = auth_users_find(&u, "anon");
	ASSERT_NE(NULL, x);
	EXPECT_EQ(0, x->has_password);
	EXPECT_EQ(NULL, auth_users_find(&u, "nobody"));
	auth_users_free(&u);
	unlink(p);
	free(p);
}

TEST(users_file_options)
{
	char *p = write_tmp("a:*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19:require_ssl\n"
			    "b::admin, max_user_connections=3\n"
			    "c:*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19\n");
	struct auth_users u;
	char err[256];
	const struct auth_user *x;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, auth_users_load(p, &u, err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_NE(NULL, (x = auth_users_find(&u, "a")));
	EXPECT_EQ(1, x->has_password);
	EXPECT_EQ(1, x->require_ssl);
	EXPECT_EQ(0, x->admin);
	ASSERT_NE(NULL, (x = auth_users_find(&u, "b")));
	EXPECT_EQ(0, x->has_password);
	EXPECT_EQ(0, x->require_ssl);
	EXPECT_EQ(1, x->admin);
	EXPECT_EQ(3, x->max_connections);
	ASSERT_NE(NULL, (x = auth_users_find(&u, "c")));
	EXPECT_EQ(0, x->require_ssl + x->admin + (int)x->max_connections);
	auth_users_free(&u);
	unlink(p);
	free(p);
}

TEST(users_file_errors_name_the_line)
{
	static const struct { const char *text, *want; } cases[] = {
		{ "a:\nb *123\n", ":2: expected 'user:*HASH'" },
		{ "a:\na:\n", ":2: duplicate user 'a'" },
		{ "x:*1234\n", ":1: password hash must be" },
		{ ":\n", ":1: user name must be" },
		{ "a::sudo\n", ":1: unknown option 'sudo'" },
		{ "a::max_user_connections=x\n", ":1: max_user_connections wants" },
		{ "a::max_user_connections=100001\n", ":1: max_user_connections wants" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *p = write_tmp(cases[i].text), err[256];
		struct auth_users u = { 0 };
		ASSERT_NE(NULL, p);
		EXPECT_EQ(-EINVAL, auth_users_load(p, &u, err, sizeof(err)));
		EXPECT_NE(NULL, strstr(err, cases[i].want)) TH_LOG("case %zu: %s", i, err);
		EXPECT_EQ(0, u.n);
		unlink(p);
		free(p);
	}
}

TEST_HARNESS_MAIN
