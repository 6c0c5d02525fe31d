/* bootmedium_test.c: the boot medium is found by the FAT label of its config
 * partition in a fake sysfs tree whose "device nodes" are FAT images made
 * with mkfs.fat (dosfstools); the `bootmedium=` kernel word is parsed;
 * install copies a GPT "stick" made by sfdisk onto a blank file disk and
 * refuses foreign, ambiguous, missing and too small targets. */
#include <kselftest_harness.h>

#include "agent/bootmedium.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void sh(const char *fmt, const char *a, const char *b)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), fmt, a, b);
	if (system(cmd) != 0)
		abort();
}

FIXTURE(tree) {
	char root[64];
	char sys[128], dev[128], cmdline[128];
	bool have_mkfs;
};

/* sda: sda1 (FAT "OTHER"), sda2 (FAT "qservconf", lower case); sdb: sdb1
 * (FAT "QSERVCONF", found second); nvme0n1: no partitions. */
FIXTURE_SETUP(tree)
{
	strcpy(self->root, "/tmp/qagent-bm-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->root));
	snprintf(self->sys, sizeof(self->sys), "%s/sys", self->root);
	snprintf(self->dev, sizeof(self->dev), "%s/dev", self->root);
	snprintf(self->cmdline, sizeof(self->cmdline), "%s/cmdline", self->root);
	sh("mkdir -p %s/block/sda/sda1 %s/block/sda/queue", self->sys, self->sys);
	sh("mkdir -p %s/block/sda/sda2 %s/block/sdb/sdb1", self->sys, self->sys);
	sh("mkdir -p %s/block/nvme0n1/queue %s", self->sys, self->dev);
	sh("echo 1 > %s/block/sda/sda1/partition; echo 2 > %s/block/sda/sda2/partition",
	   self->sys, self->sys);
	sh("echo 1 > %s/block/sdb/sdb1/partition; : %s", self->sys, "");
	self->have_mkfs = system("command -v mkfs.fat >/dev/null 2>&1 || "
				 "test -x /usr/sbin/mkfs.fat || test -x /sbin/mkfs.fat") == 0;
	if (self->have_mkfs) {
		sh("PATH=$PATH:/usr/sbin:/sbin; mkfs.fat -C -n OTHER %s/sda1 1024 >/dev/null; : %s",
		   self->dev, "");
		sh("PATH=$PATH:/usr/sbin:/sbin; mkfs.fat -C -n qservconf %s/sda2 1024 >/dev/null 2>&1; : %s",
		   self->dev, "");
		sh("PATH=$PATH:/usr/sbin:/sbin; mkfs.fat -C -n QSERVCONF %s/sdb1 1024 >/dev/null; : %s",
		   self->dev, "");
	}
}

FIXTURE_TEARDOWN(tree)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", self->root);
	if (system(cmd) != 0)
		TH_LOG("cleanup failed");
}

TEST_F(tree, finds_label_case_insensitive_first_disk_first)
{
	struct bootmedium bm = { 0 };
	char err[256];

	if (!self->have_mkfs)
		SKIP(return, "mkfs.fat (dosfstools) not installed");
	ASSERT_EQ(0, bootmedium_find(self->sys, self->dev, "QSERVCONF", &bm, err, sizeof(err)));
	EXPECT_STREQ("sda2", bm.part);
	EXPECT_STREQ("sda", bm.disk);
	EXPECT_STREQ("QSERVCONF", bm.label);
	EXPECT_NE(NULL, strstr(bm.dev, "/dev/sda2"));
}

TEST_F(tree, other_label)
{
	struct bootmedium bm = { 0 };
	char err[256];

	if (!self->have_mkfs)
		SKIP(return, "mkfs.fat (dosfstools) not installed");
	ASSERT_EQ(0, bootmedium_find(self->sys, self->dev, "OTHER", &bm, err, sizeof(err)));
	EXPECT_STREQ("sda1", bm.part);
	EXPECT_STREQ("sda", bm.disk);
}

TEST_F(tree, missing_label_leaves_result_untouched)
{
	struct bootmedium bm = { .disk = "keep" };
	char err[256] = "";

	ASSERT_EQ(-ENOENT, bootmedium_find(self->sys, self->dev, "NOSUCH", &bm, err, sizeof(err)));
	EXPECT_STREQ("keep", bm.disk);
	EXPECT_NE(NULL, strstr(err, "NOSUCH"));
}

TEST_F(tree, no_sysfs)
{
	struct bootmedium bm = { 0 };
	char err[256];

	EXPECT_EQ(-ENOENT, bootmedium_find("/nonexistent-sysfs", self->dev, "QSERVCONF", &bm, err,
					   sizeof(err)));
}

TEST_F(tree, open_waits_only_when_asked)
{
	struct bootmedium bm;
	char err[256];
	FILE *f;

	/* Asked for a label that never appears: -ENOENT after the wait, wanted. */
	f = fopen(self->cmdline, "w");
	ASSERT_NE(NULL, f);
	fputs("console=ttyS0 bootmedium=NOSTICK quiet\n", f);
	fclose(f);
	EXPECT_EQ(-ENOENT, bootmedium_open(&bm, self->sys, self->dev, self->cmdline, "/nonexistent/mnt",
					   400, err, sizeof(err)));
	EXPECT_TRUE(bm.wanted);
	EXPECT_NE(NULL, strstr(err, "NOSTICK"));

	/* Not asked (PXE boot), default label absent from an empty tree: not wanted. */
	f = fopen(self->cmdline, "w");
	ASSERT_NE(NULL, f);
	fputs("console=ttyS0 qserv.role=worker\n", f);
	fclose(f);
	EXPECT_EQ(-ENOENT, bootmedium_open(&bm, "/nonexistent-sysfs", self->dev, self->cmdline,
					   "/nonexistent/mnt", 10000, err, sizeof(err)));
	EXPECT_FALSE(bm.wanted);
	EXPECT_STREQ("", bm.disk);
}

TEST(cmdline_label)
{
	char label[16];

	ASSERT_EQ(0, bootmedium_cmdline_label("BOOT_IMAGE=/q console=ttyS0 bootmedium=QSERVCONF",
					      label, sizeof(label)));
	EXPECT_STREQ("QSERVCONF", label);
	ASSERT_EQ(0, bootmedium_cmdline_label("bootmedium=X\n", label, sizeof(label)));
	EXPECT_STREQ("X", label);
	EXPECT_EQ(-ENOENT, bootmedium_cmdline_label("console=ttyS0 xbootmedium=Y", label,
						    sizeof(label)));
	EXPECT_EQ(-ENOENT, bootmedium_cmdline_label("", label, sizeof(label)));
	EXPECT_EQ(-EINVAL, bootmedium_cmdline_label("bootmedium= quiet", label, sizeof(label)));
	EXPECT_EQ(-EINVAL, bootmedium_cmdline_label("bootmedium=AVERYLONGLABELNAME", label,
						    sizeof(label)));
}

/* bootmedium_install on files: sda is a "stick" with a GPT made by sfdisk,
 * vdb (16 MiB) and vdd (3 MiB) are blank, vdc holds data. */
FIXTURE(inst) {
	char root[64];
	char sys[128], dev[128];
	struct bootmedium bm;
	bool have_sfdisk;
};

static void fake_disk(const char *sys, const char *dev, const char *name, unsigned long long sectors)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "mkdir -p %s/block/%s/queue && echo %llu > %s/block/%s/size && "
		 "truncate -s %llu %s/%s", sys, name, sectors, sys, name, sectors * 512, dev, name);
	if (system(cmd) != 0)
		abort();
}

FIXTURE_SETUP(inst)
{
	strcpy(self->root, "/tmp/qagent-bmi-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->root));
	snprintf(self->sys, sizeof(self->sys), "%s/sys", self->root);
	snprintf(self->dev, sizeof(self->dev), "%s/dev", self->root);
	sh("mkdir -p %s %s", self->sys, self->dev);
	fake_disk(self->sys, self->dev, "sda", 16384);
	fake_disk(self->sys, self->dev, "vdb", 32768);
	fake_disk(self->sys, self->dev, "vdc", 32768);
	fake_disk(self->sys, self->dev, "vdd", 6144);
	sh("echo some data | dd of=%s/vdc conv=notrunc status=none; : %s", self->dev, "");
	/* the stick: GPT, one partition at 1 MiB of 2 MiB, filled with a pattern */
	self->have_sfdisk = system("PATH=$PATH:/usr/sbin:/sbin; command -v sfdisk >/dev/null") == 0;
	if (self->have_sfdisk) {
		sh("PATH=$PATH:/usr/sbin:/sbin; echo 'label: gpt\nstart=2048, size=4096, name=\"QSERVCONF\"' | "
		   "sfdisk -q %s/sda >/dev/null; : %s", self->dev, "");
		sh("yes qserv | head -c 2097152 | dd of=%s/sda bs=512 seek=2048 conv=notrunc status=none; : %s",
		   self->dev, "");
		sh("mkdir -p %s/block/sda/sda1 && echo 1 > %s/block/sda/sda1/partition", self->sys, self->sys);
		sh("echo 2048 > %s/block/sda/sda1/start && echo 4096 > %s/block/sda/sda1/size", self->sys,
		   self->sys);
	}
	memset(&self->bm, 0, sizeof(self->bm));
	strcpy(self->bm.disk, "sda");
	strcpy(self->bm.part, "sda1");
	strcpy(self->bm.label, "QSERVCONF");
}

FIXTURE_TEARDOWN(inst)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", self->root);
	if (system(cmd) != 0)
		TH_LOG("cleanup failed");
}

TEST_F(inst, copies_onto_blank_disk_and_moves_backup_gpt)
{
	char target[32] = "", err[256] = "", cmd[512];

	if (!self->have_sfdisk)
		SKIP(return, "sfdisk (fdisk) not installed");
	ASSERT_EQ(0, bootmedium_install(&self->bm, self->sys, self->dev, "name == \"vdb\"", target,
					sizeof(target), err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_STREQ("vdb", target);
	/* the partition's bytes are the stick's */
	snprintf(cmd, sizeof(cmd), "cmp -s -i 1048576 -n 2097152 %s/sda %s/vdb", self->dev, self->dev);
	EXPECT_EQ(0, system(cmd));
	/* same partition, GPT valid for the bigger disk, new disk GUID */
	snprintf(cmd, sizeof(cmd), "PATH=$PATH:/usr/sbin:/sbin; sfdisk -d %s/vdb 2>&1 | "
		 "grep -q 'start=        2048, size=        4096' && sfdisk -d %s/vdb 2>&1 | "
		 "grep -q 'last-lba: 32734' && ! sfdisk -d %s/vdb 2>&1 | grep -q 'not on the end'",
		 self->dev, self->dev, self->dev);
	EXPECT_EQ(0, system(cmd));
	snprintf(cmd, sizeof(cmd), "PATH=$PATH:/usr/sbin:/sbin; test \"$(sfdisk --disk-id %s/sda)\" != "
		 "\"$(sfdisk --disk-id %s/vdb)\"", self->dev, self->dev);
	EXPECT_EQ(0, system(cmd));
}

TEST_F(inst, refuses_what_it_must_not_write)
{
	char target[32] = "", err[256] = "", cmd[256];

	if (!self->have_sfdisk)
		SKIP(return, "sfdisk (fdisk) not installed");
	EXPECT_EQ(-EEXIST, bootmedium_install(&self->bm, self->sys, self->dev, "name == \"vdc\"",
					      target, sizeof(target), err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "not blank"));
	snprintf(cmd, sizeof(cmd), "head -c 9 %s/vdc | grep -q 'some data'", self->dev);
	EXPECT_EQ(0, system(cmd));
	EXPECT_EQ(-E2BIG, bootmedium_install(&self->bm, self->sys, self->dev, "name ~ \"vd*\"", target,
					     sizeof(target), err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "vdb vdc vdd"));
	EXPECT_EQ(-ENOENT, bootmedium_install(&self->bm, self->sys, self->dev, "name == \"nvme9n1\"",
					      target, sizeof(target), err, sizeof(err)));
	EXPECT_EQ(-ENOSPC, bootmedium_install(&self->bm, self->sys, self->dev, "name == \"vdd\"",
					      target, sizeof(target), err, sizeof(err)));
	EXPECT_EQ(1, bootmedium_install(&self->bm, self->sys, self->dev, "name == \"sda\"", target,
					sizeof(target), err, sizeof(err)));
	EXPECT_STREQ("", target);
	EXPECT_EQ(-EINVAL, bootmedium_install(&self->bm, self->sys, self->dev, "name ==", target,
					      sizeof(target), err, sizeof(err)));
	self->bm.disk[0] = '\0';
	EXPECT_EQ(-ENODEV, bootmedium_install(&self->bm, self->sys, self->dev, "name == \"vdb\"",
					      target, sizeof(target), err, sizeof(err)));
}

TEST_HARNESS_MAIN
