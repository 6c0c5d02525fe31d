/* dataset_test.c: libqloader's dataset reading through qloader_run(),
 * with no controller behind the URL (every case here ends before or at
 * the first request): bad options, a missing metadata.json, a listed file
 * that is missing (named in the error), a metadata version other than 12
 * (an event, not an error), a chunk file found as .txt.lz4. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "qserv/common/qhttpc.h"
#include "qserv/loader/loader.h"
#include "testfiles.h"

struct seen {
	int version_events;
	long long version;
};

static void collect(void *ctx, const struct qloader_event *ev)
{
	struct seen *s = ctx;
	if (ev->kind == QLOADER_EV_VERSION) {
		s->version_events++;
		s->version = ev->version;
	}
}


/* A dataset of one director table with chunk 5 listed. */
static void dataset(const char *dir, int version)
{
	char meta[512];
	snprintf(meta, sizeof meta,
		 "{\"version\": %d, \"database\": \"db.json\", \"tables\": [{\"schema\": \"Object.json\","
		 " \"data\": [{\"directory\": \"\", \"chunks\": [5]}]}]}", version);
	put(dir, "metadata.json", meta);
	put(dir, "db.json", "{\"database\": \"t1\"}");
	put(dir, "Object.json", "{\"table\": \"Object\", \"is_partitioned\": 1}");
}

static struct qloader_opts opts(const char *dir)
{
	/* port 1: nothing listens, the first request fails */
	return (struct qloader_opts){ .url = "http://127.0.0.1:1", .dir = dir, .jobs = 2, .batch = 4,
				      .publish = true };
}

TEST(bad_options_refused)
{
	char err[256] = "";
	struct qloader_opts o = opts("/nonexistent");
	o.jobs = 0;
	EXPECT_EQ(-EINVAL, qloader_run(&o, NULL, NULL, err, sizeof err));
	o = opts("/nonexistent");
	o.url = NULL;
	EXPECT_EQ(-EINVAL, qloader_run(&o, NULL, NULL, err, sizeof err));
}

TEST(missing_metadata_named)
{
	char dir[] = "/tmp/qloader_XXXXXX", err[2048] = "";
	ASSERT_NE(NULL, mkdtemp(dir));
	struct qloader_opts o = opts(dir);
	EXPECT_EQ(-EINVAL, qloader_run(&o, NULL, NULL, err, sizeof err));
	EXPECT_NE(NULL, strstr(err, "metadata.json")) TH_LOG("%s", err);
	rmdir(dir);
}

TEST(missing_chunk_file_named_and_version_reported)
{
	char dir[] = "/tmp/qloader_XXXXXX", err[2048] = "", cmd[64];
	ASSERT_NE(NULL, mkdtemp(dir));
	dataset(dir, 11);
	struct seen s = { 0, 0 };
	struct qloader_opts o = opts(dir);
	EXPECT_EQ(-ENOENT, qloader_run(&o, collect, &s, err, sizeof err));
	EXPECT_NE(NULL, strstr(err, "chunk_5.txt: ")) TH_LOG("%s", err);
	EXPECT_NE(NULL, strstr(err, "(listed in metadata.json)")) TH_LOG("%s", err);
	EXPECT_EQ(1, s.version_events);
	EXPECT_EQ(11, s.version);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ASSERT_EQ(0, system(cmd));
}

/* qserv-partition with out.lz4 writes chunk_5.txt.lz4: found, the dataset
 * reads, and the run goes on to the controller (absent here). */
TEST(lz4_chunk_file_found)
{
	char dir[] = "/tmp/qloader_XXXXXX", err[2048] = "", cmd[64];
	ASSERT_NE(NULL, mkdtemp(dir));
	dataset(dir, 12);
	put(dir, "chunk_5.txt.lz4", "");
	struct seen s = { 0, 0 };
	struct qloader_opts o = opts(dir);
	int r = qloader_run(&o, collect, &s, err, sizeof err);
	EXPECT_NE(0, r);
	EXPECT_NE(-ENOENT, r) TH_LOG("%s", err);
	EXPECT_EQ(NULL, strstr(err, "listed in metadata.json")) TH_LOG("%s", err);
	EXPECT_EQ(0, s.version_events);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ASSERT_EQ(0, system(cmd));
}

/* A dataset path longer than PATH_MAX: an error, never a cut path. */
TEST(overlong_path_refused)
{
	char err[2048] = "";
	size_t n = 5000;
	char *dir = malloc(n + 1);
	ASSERT_NE(NULL, dir);
	memset(dir, 'd', n);
	dir[0] = '/';
	dir[n] = '\0';
	struct qloader_opts o = opts(dir);
	EXPECT_EQ(-ENAMETOOLONG, qloader_run(&o, NULL, NULL, err, sizeof err));
	free(dir);
}

int main(int argc, char **argv)
{
	qhttpc_init();
	return test_harness_run(argc, argv);
}
