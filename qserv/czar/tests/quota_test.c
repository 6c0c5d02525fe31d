/* quota_test.c: quota.c's limits as Gafaelfawr adds them (default + group
 * grants, user overrides, 0 blocks, unset unlimited), admission and
 * release, the API bodies' checks, and the file a restart reads back. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "../quota.h"

static struct quota *fresh(char *path, size_t n)
{
	struct quota *q = NULL;
	char err[300];

	snprintf(path, n, "/tmp/quota_test.%d.json", (int)getpid());
	unlink(path);
	if (quota_open(path, 900, &q, err, sizeof(err)) < 0)
		return NULL;
	return q;
}

static int set(struct quota *q, const char *scope, const char *name, const char *body, int replace)
{
	char err[300];
	json_t *j = json_loads(body, 0, NULL);
	int rc = quota_set(q, scope, name, j, replace, err, sizeof(err));

	json_decref(j);
	return rc;
}

TEST(unset_is_unlimited)
{
	char path[100];
	struct quota *q = fresh(path, sizeof(path));
	struct quota_refusal r;

	ASSERT_NE(NULL, q);
	for (int i = 0; i < 1000; i++)
		ASSERT_EQ(0, quota_admit(q, "u", NULL, 0, QUOTA_ADMIT_QUERY | QUOTA_ADMIT_SCAN, &r));
	quota_free(q);
	unlink(path);
}

TEST(default_plus_group_grants_and_override)
{
	char path[100];
	struct quota *q = fresh(path, sizeof(path));
	const char *groups[] = { "g1", "g2", "nosuch" };
	struct quota_row rows[QUOTA_NKINDS];

	ASSERT_NE(NULL, q);
	ASSERT_EQ(0, set(q, "default", NULL, "{\"queries\": 10, \"window\": 60}", 1));
	ASSERT_EQ(0, set(q, "group", "g1", "{\"queries\": 5, \"scans\": 2}", 1));
	ASSERT_EQ(0, set(q, "group", "g2", "{\"queries\": 1}", 1));
	quota_status(q, "u", groups, 3, rows);
	EXPECT_EQ(16, rows[QUOTA_QUERIES].limit);
	EXPECT_EQ(2, rows[QUOTA_SCANS].limit);          /* no default: the grants alone */
	EXPECT_EQ(QUOTA_UNSET, rows[QUOTA_CONCURRENT].limit);
	EXPECT_EQ(60u, rows[QUOTA_QUERIES].window_s);
	ASSERT_EQ(0, set(q, "user", "u", "{\"queries\": 3}", 1));
	quota_status(q, "u", groups, 3, rows);
	EXPECT_EQ(3, rows[QUOTA_QUERIES].limit);        /* the override wins */
	EXPECT_EQ(2, rows[QUOTA_SCANS].limit);
	quota_status(q, "other", NULL, 0, rows);
	EXPECT_EQ(10, rows[QUOTA_QUERIES].limit);
	quota_free(q);
	unlink(path);
}

TEST(admission_refusal_and_release)
{
	char path[100];
	struct quota *q = fresh(path, sizeof(path));
	struct quota_refusal r;

	ASSERT_NE(NULL, q);
	ASSERT_EQ(0, set(q, "user", "u", "{\"queries\": 2, \"concurrent\": 1}", 1));
	ASSERT_EQ(0, quota_admit(q, "u", NULL, 0, QUOTA_ADMIT_QUERY, &r));
	ASSERT_EQ(-EDQUOT, quota_admit(q, "u", NULL, 0, QUOTA_ADMIT_QUERY, &r));
	EXPECT_EQ(QUOTA_CONCURRENT, r.kind);
	quota_release(q, "u");
	ASSERT_EQ(0, quota_admit(q, "u", NULL, 0, QUOTA_ADMIT_QUERY, &r));
	quota_release(q, "u");
	ASSERT_EQ(-EDQUOT, quota_admit(q, "u", NULL, 0, QUOTA_ADMIT_QUERY, &r));
	EXPECT_EQ(QUOTA_QUERIES, r.kind);
	EXPECT_EQ(0, r.blocked);
	EXPECT_EQ(2, r.limit);
	EXPECT_EQ(900u, r.window_s);
	EXPECT_TRUE(r.resets_in_s >= 1 && r.resets_in_s <= 900);
	ASSERT_EQ(0, set(q, "user", "u", "{\"queries\": 0}", 0));   /* POST: concurrent kept */
	ASSERT_EQ(-EDQUOT, quota_admit(q, "u", NULL, 0, QUOTA_ADMIT_QUERY, &r));
	EXPECT_EQ(1, r.blocked);
	ASSERT_EQ(0, set(q, "user", "b", "{\"result_bytes\": 10}", 1));
	ASSERT_EQ(0, quota_admit(q, "b", NULL, 0, QUOTA_ADMIT_QUERY, &r));
	quota_release(q, "b");
	quota_charge_bytes(q, "b", NULL, 0, 11);
	ASSERT_EQ(-EDQUOT, quota_admit(q, "b", NULL, 0, QUOTA_ADMIT_QUERY, &r));
	EXPECT_EQ(QUOTA_RESULT_BYTES, r.kind);
	quota_free(q);
	unlink(path);
}

TEST(bad_bodies_and_names)
{
	char path[100];
	struct quota *q = fresh(path, sizeof(path));
	char err[300];

	ASSERT_NE(NULL, q);
	EXPECT_EQ(-EINVAL, set(q, "user", "u", "{\"queries\": -1}", 1));
	EXPECT_EQ(-EINVAL, set(q, "user", "u", "{\"queries\": \"3\"}", 1));
	EXPECT_EQ(-EINVAL, set(q, "user", "u", "{\"query\": 3}", 1));
	EXPECT_EQ(-EINVAL, set(q, "user", "u", "{\"window\": 0}", 1));
	EXPECT_EQ(-EINVAL, set(q, "user", "u", "[]", 1));
	EXPECT_EQ(-EINVAL, set(q, "user", "a/b", "{}", 1));
	EXPECT_EQ(-EINVAL, set(q, "user", "", "{}", 1));
	EXPECT_EQ(-EINVAL, set(q, "role", "x", "{}", 1));
	EXPECT_EQ(-ENOENT, quota_delete(q, "user", "nobody", err, sizeof(err)));
	EXPECT_EQ(-EINVAL, quota_delete(q, "default", NULL, err, sizeof(err)));
	quota_free(q);
	unlink(path);
}

TEST(file_survives_a_restart)
{
	char path[100], err[300];
	struct quota *q = fresh(path, sizeof(path));
	struct quota_row rows[QUOTA_NKINDS];
	const char *g[] = { "g" };

	ASSERT_NE(NULL, q);
	ASSERT_EQ(0, set(q, "default", NULL, "{\"scans\": 4}", 1));
	ASSERT_EQ(0, set(q, "group", "g", "{\"scans\": 1, \"window\": 30}", 1));
	ASSERT_EQ(0, set(q, "user", "x", "{\"queries\": 7}", 1));
	ASSERT_EQ(0, set(q, "user", "y", "{\"queries\": 8}", 1));
	ASSERT_EQ(0, quota_delete(q, "user", "y", err, sizeof(err)));
	quota_free(q);
	ASSERT_EQ(0, quota_open(path, 900, &q, err, sizeof(err)));
	quota_status(q, "x", g, 1, rows);
	EXPECT_EQ(7, rows[QUOTA_QUERIES].limit);
	EXPECT_EQ(5, rows[QUOTA_SCANS].limit);
	EXPECT_EQ(30u, rows[QUOTA_SCANS].window_s);
	quota_status(q, "y", NULL, 0, rows);
	EXPECT_EQ(QUOTA_UNSET, rows[QUOTA_QUERIES].limit);
	quota_free(q);
	/* a damaged file is refused with its name, not taken as "no quotas" */
	FILE *f = fopen(path, "w");
	ASSERT_NE(NULL, f);
	fputs("{\"users\": {\"x\": {\"queries\": \"many\"}}}", f);
	fclose(f);
	EXPECT_EQ(-EINVAL, quota_open(path, 900, &q, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, path));
	unlink(path);
}

TEST_HARNESS_MAIN
