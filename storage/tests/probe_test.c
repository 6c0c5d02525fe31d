/* probe_test.c: libblkid probing on real image files (no root needed):
 * blank, ext4, foreign GPT, ours, stale filesystem at 1 MiB, unknown data,
 * and qs_gpt_write + qs_wipe_fd on files. */
/* the harness compares int literals with size_t */
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <kselftest_harness.h>

#include <fcntl.h>

#include "../internal.h"
#include "fakesys.h"

FIXTURE(img) { char *dir; char path[512]; };
FIXTURE_SETUP(img)
{
	self->dir = fs_root();
	snprintf(self->path, sizeof(self->path), "%s/disk.img", self->dir);
	int fd = open(self->path, O_CREAT | O_RDWR, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 64 << 20));
	close(fd);
}
FIXTURE_TEARDOWN(img) { fs_rm(self->dir); free(self->dir); }

static int sh(const char *fmt, const char *arg)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), fmt, arg, arg);
	return system(cmd);
}

TEST_F(img, blank)
{
	struct qstorage_probe p;
	char err[256];
	ASSERT_EQ(0, qstorage_probe_disk(self->path, &p, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(QSTORAGE_CONTENT_BLANK, p.content);
}

TEST_F(img, ext4_is_foreign)
{
	struct qstorage_probe p;
	ASSERT_EQ(0, sh("mkfs.ext4 -q -F -L mydata %s >/dev/null 2>&1", self->path));
	ASSERT_EQ(0, qstorage_probe_disk(self->path, &p, NULL, 0));
	EXPECT_EQ(QSTORAGE_CONTENT_FOREIGN, p.content);
	EXPECT_STREQ("ext4", p.signature);
}

TEST_F(img, swap_is_foreign)
{
	struct qstorage_probe p;
	ASSERT_EQ(0, sh("mkswap %s >/dev/null 2>&1", self->path));
	ASSERT_EQ(0, qstorage_probe_disk(self->path, &p, NULL, 0));
	EXPECT_EQ(QSTORAGE_CONTENT_FOREIGN, p.content);
	EXPECT_STREQ("swap", p.signature);
}

TEST_F(img, foreign_gpt)
{
	struct qstorage_probe p;
	/* a Linux filesystem partition: GPT, but not our type */
	ASSERT_EQ(0, sh("echo 'label: gpt\n,,L' | sfdisk -q %s >/dev/null 2>&1", self->path));
	ASSERT_EQ(0, qstorage_probe_disk(self->path, &p, NULL, 0));
	EXPECT_EQ(QSTORAGE_CONTENT_FOREIGN, p.content);
	EXPECT_NE(NULL, strstr(p.signature, "gpt (1 partition, type 0fc63daf")) TH_LOG("%s", p.signature);
}

TEST_F(img, mbr_is_foreign)
{
	struct qstorage_probe p;
	ASSERT_EQ(0, sh("echo 'label: dos\n,,83' | sfdisk -q %s >/dev/null 2>&1", self->path));
	ASSERT_EQ(0, qstorage_probe_disk(self->path, &p, NULL, 0));
	EXPECT_EQ(QSTORAGE_CONTENT_FOREIGN, p.content);
	EXPECT_STREQ("dos", p.signature);
}

TEST_F(img, ours_then_filesystem)
{
	struct qstorage_probe p;
	char err[256];
	ASSERT_EQ(0, qs_gpt_write(self->path, "qserv-bulk3", err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(0, qstorage_probe_disk(self->path, &p, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(QSTORAGE_CONTENT_OURS, p.content);
	EXPECT_STREQ("qserv-bulk3", p.part_label);
	EXPECT_EQ(1, p.part_no);
	EXPECT_STREQ("", p.fs_type); /* no filesystem yet */
	/* a filesystem inside the partition (offset 1 MiB) is seen by offset */
	ASSERT_EQ(0, sh("mkfs.ext4 -q -F -L qserv-bulk3 -E offset=1048576 %s 32M >/dev/null 2>&1",
			self->path));
	ASSERT_EQ(0, qstorage_probe_disk(self->path, &p, NULL, 0));
	EXPECT_EQ(QSTORAGE_CONTENT_OURS, p.content);
	EXPECT_STREQ("ext4", p.fs_type);
	EXPECT_STREQ("qserv-bulk3", p.fs_label);
}

TEST_F(img, two_partitions_of_our_type_are_foreign)
{
	struct qstorage_probe p;
	ASSERT_EQ(0, sh("echo 'label: gpt\n,16M,8c632489-3482-48d4-a9d8-66d45b05a2f0\n,,8c632489-3482-48d4-a9d8-66d45b05a2f0' | sfdisk -q %s >/dev/null 2>&1",
			self->path));
	ASSERT_EQ(0, qstorage_probe_disk(self->path, &p, NULL, 0));
	EXPECT_EQ(QSTORAGE_CONTENT_FOREIGN, p.content);
	EXPECT_NE(NULL, strstr(p.signature, "2 partitions"));
}

TEST_F(img, stale_filesystem_at_1mib)
{
	struct qstorage_probe p;
	/* an old partition's ext4 whose partition table was zeroed */
	ASSERT_EQ(0, sh("mkfs.ext4 -q -F -E offset=1048576 %s 32M >/dev/null 2>&1", self->path));
	ASSERT_EQ(0, qstorage_probe_disk(self->path, &p, NULL, 0));
	EXPECT_EQ(QSTORAGE_CONTENT_FOREIGN, p.content);
	EXPECT_NE(NULL, strstr(p.signature, "ext4 at 1 MiB")) TH_LOG("%s", p.signature);
}

TEST_F(img, unknown_data_is_foreign)
{
	struct qstorage_probe p;
	int fd = open(self->path, O_WRONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(5, pwrite(fd, "hello", 5, (64 << 20) - 4096)); /* near the end */
	close(fd);
	ASSERT_EQ(0, qstorage_probe_disk(self->path, &p, NULL, 0));
	EXPECT_EQ(QSTORAGE_CONTENT_FOREIGN, p.content);
	EXPECT_NE(NULL, strstr(p.signature, "unknown data"));
}

TEST_F(img, wipe_makes_blank)
{
	struct qstorage_probe p;
	char err[256];
	ASSERT_EQ(0, sh("echo 'label: gpt\n,,L' | sfdisk -q %s >/dev/null 2>&1", self->path));
	int fd = open(self->path, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, qs_wipe_fd(fd, self->path, err, sizeof(err))) TH_LOG("%s", err);
	close(fd);
	ASSERT_EQ(0, qstorage_probe_disk(self->path, &p, NULL, 0));
	EXPECT_EQ(QSTORAGE_CONTENT_BLANK, p.content) TH_LOG("%s", p.signature);
}

TEST(missing_device)
{
	struct qstorage_probe p;
	char err[256];
	EXPECT_EQ(-ENOENT, qstorage_probe_disk("/nonexistent/disk", &p, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "/nonexistent/disk"));
}

TEST_HARNESS_MAIN
