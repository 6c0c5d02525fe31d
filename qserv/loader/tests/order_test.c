/* order_test.c: the order libqloader registers a dataset's tables in
 * (ldr_read_dataset, dataset.c): directors, then children and regular
 * tables, then match tables (after both their directors), whatever order
 * metadata.json lists them in; a match table's JSON reaches the controller
 * as given (its match fields kept); its chunk files load like a child's
 * and an overlap file listed for it is refused with the table named. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "qserv/common/qjson.h"
#include "qserv/loader/internal.h"
#include "testfiles.h"


static const char *MATCH_JSON =
	"{\"table\": \"RefDeepSrcMatch\", \"is_partitioned\": 1, \"is_director\": 0,"
	" \"director_table\": \"RefObject\", \"director_key\": \"refObjectId\","
	" \"director_table2\": \"RunDeepSource\", \"director_key2\": \"sourceId\","
	" \"flag\": \"flags\", \"ang_sep\": 0.01}";

/* Five tables listed match table first, directors last.  overlaps: list
 * an overlap file for the match table. */
static void dataset(const char *dir, bool overlaps)
{
	char meta[1024];
	snprintf(meta, sizeof meta,
		 "{\"version\": 12, \"database\": \"db.json\", \"tables\": ["
		 "{\"schema\": \"M.json\", \"data\": [{\"directory\": \"m\", \"chunks\": [5, 7]%s}]},"
		 "{\"schema\": \"S.json\", \"data\": [{\"directory\": \"\", \"chunks\": [5]}]},"
		 "{\"schema\": \"F.json\", \"data\": [{\"directory\": \"\", \"files\": [\"f.txt\"]}]},"
		 "{\"schema\": \"D.json\", \"data\": [{\"directory\": \"\", \"chunks\": [5]}]},"
		 "{\"schema\": \"R.json\", \"data\": [{\"directory\": \"\", \"chunks\": [5]}]}]}",
		 overlaps ? ", \"overlaps\": [5]" : "");
	put(dir, "metadata.json", meta);
	put(dir, "db.json", "{\"database\": \"t1\"}");
	put(dir, "M.json", MATCH_JSON);
	put(dir, "S.json", "{\"table\": \"DeepSrc\", \"is_partitioned\": 1, \"director_table\": "
	    "\"RunDeepSource\", \"director_key\": \"sourceId\"}");
	put(dir, "F.json", "{\"table\": \"Filter\", \"is_partitioned\": 0}");
	put(dir, "D.json", "{\"table\": \"RunDeepSource\", \"is_partitioned\": 1, "
	    "\"director_table\": \"\"}");
	put(dir, "R.json", "{\"table\": \"RefObject\", \"is_partitioned\": 1}");
	put(dir, "chunk_5.txt", "1\n");
	put(dir, "f.txt", "1\n");
	char sub[512];
	snprintf(sub, sizeof sub, "%s/m", dir);
	mkdir(sub, 0755);
	put(sub, "chunk_5.txt", "1\n");
	put(sub, "chunk_7.txt", "1\n");
	put(sub, "chunk_5_overlap.txt", "1\n");
}

static void ing_release(struct ing *g)
{
	for (size_t i = 0; i < g->nt; i++)
		json_decref(g->t[i].json);
	for (size_t i = 0; i < g->nj; i++)
		free(g->j[i].rel), free(g->j[i].path);
	free(g->t), free(g->j);
	json_decref(g->meta);
	json_decref(g->dbjson);
}

static void cleanup(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "# %s failed\n", cmd);
}

/* Writes the dataset into a new directory dir and reads it into g. */
static int read_dataset(char *dir, bool overlaps, struct ing *g, char *err, size_t errlen)
{
	if (!mkdtemp(dir))
		return -errno;
	dataset(dir, overlaps);
	memset(g, 0, sizeof *g);
	snprintf(g->dir, sizeof g->dir, "%s", dir);
	return ldr_read_dataset(g, err, errlen);
}

TEST(directors_then_children_then_match_tables)
{
	char dir[] = "/tmp/qloader_order_XXXXXX", err[2048] = "";
	struct ing g;
	ASSERT_EQ(0, read_dataset(dir, false, &g, err, sizeof err)) TH_LOG("%s", err);
	ASSERT_EQ(5, g.nt);
	const char *want[] = { "RunDeepSource", "RefObject", "DeepSrc", "Filter", "RefDeepSrcMatch" };
	for (size_t i = 0; i < 5; i++)
		EXPECT_STREQ(want[i], g.t[i].name);
	EXPECT_TRUE(g.t[0].director && g.t[1].director && !g.t[4].director);
	EXPECT_TRUE(g.t[4].match && g.t[4].partitioned && !g.t[2].match);
	/* the match table's JSON as given, with the database added */
	json_t *m = g.t[4].json;
	EXPECT_STREQ("RunDeepSource", qjson_str(m, "director_table2", ""));
	EXPECT_STREQ("sourceId", qjson_str(m, "director_key2", ""));
	EXPECT_STREQ("flags", qjson_str(m, "flag", ""));
	EXPECT_STREQ("t1", qjson_str(m, "database", ""));
	EXPECT_EQ(0.01, json_real_value(json_object_get(m, "ang_sep")));
	/* its two chunk files, no overlap */
	int nmatch = 0;
	for (size_t i = 0; i < g.nj; i++)
		if (g.j[i].t == 4) {
			nmatch++;
			EXPECT_FALSE(g.j[i].overlap);
			EXPECT_TRUE(g.j[i].chunk == 5 || g.j[i].chunk == 7);
		}
	EXPECT_EQ(2, nmatch);
	ing_release(&g);
	cleanup(dir);
}

TEST(match_table_overlap_file_refused)
{
	char dir[] = "/tmp/qloader_order_XXXXXX", err[2048] = "";
	struct ing g;
	EXPECT_EQ(-EINVAL, read_dataset(dir, true, &g, err, sizeof err));
	EXPECT_NE(NULL, strstr(err, "RefDeepSrcMatch: a match table has no overlap files")) TH_LOG("%s", err);
	ing_release(&g);
	cleanup(dir);
}

TEST(table_pass)
{
	json_t *t = json_loads(MATCH_JSON, 0, NULL);
	ASSERT_NE(NULL, t);
	EXPECT_EQ(LDR_PASS_MATCHES, ldr_table_pass(t));
	json_object_set_new(t, "director_table2", json_string(""));
	EXPECT_EQ(LDR_PASS_OTHERS, ldr_table_pass(t));	/* a child of RefObject */
	json_object_set_new(t, "director_table", json_string("RefDeepSrcMatch"));
	EXPECT_EQ(LDR_PASS_DIRECTORS, ldr_table_pass(t));
	json_object_set_new(t, "is_partitioned", json_integer(0));
	json_object_set_new(t, "director_table2", json_string("X"));
	EXPECT_EQ(LDR_PASS_OTHERS, ldr_table_pass(t));	/* regular */
	json_decref(t);
}

TEST_HARNESS_MAIN
