/* bootmedium_test.c: the boot medium is found by the FAT label of its config
 * partition in a fake sysfs tree whose "device nodes" are FAT images made
 * with mkfs.fat (dosfstools), or by the GPT GUID of its ESP in whole-disk
 * images made with sfdisk (the config partition on that same disk, not the
 * first in name order); the `bootmedium=` and `bootslot=` kernel words are
 * parsed; both boot slots are written into an ESP directory; install
 * copies a GPT "stick" made by sfdisk onto a blank file disk and refuses
 * foreign, ambiguous, missing and too small targets. */
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

/* A fresh directory /tmp/qagent-<tag>-XXXXXX in root (64 bytes), and the
 * names of its sys/ and dev/ in sys and dev (128 bytes each, or NULL):
 * the shape of every fixture here. */
static bool make_root(const char *tag, char *root, char *sys, char *dev)
{
	snprintf(root, 64, "/tmp/qagent-%s-XXXXXX", tag);
	if (!mkdtemp(root))
		return false;
	if (sys)
		snprintf(sys, 128, "%s/sys", root);
	if (dev)
		snprintf(dev, 128, "%s/dev", root);
	return true;
}

static int remove_root(const char *root)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
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
	ASSERT_TRUE(make_root("bm", self->root, self->sys, self->dev));
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
	if (remove_root(self->root) != 0)
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

TEST(cmdline)
{
	struct bootmedium bm = { 0 };

	ASSERT_EQ(0, bootmedium_cmdline("BOOT_IMAGE=/q console=ttyS0 bootmedium=QSERVCONF", &bm));
	EXPECT_STREQ("QSERVCONF", bm.label);
	EXPECT_STREQ("", bm.partuuid);
	EXPECT_STREQ("", bm.slot);
	ASSERT_EQ(0, bootmedium_cmdline("bootmedium=X\n", &bm));
	EXPECT_STREQ("X", bm.label);
	/* the GUID form, upper-cased, and the slot */
	memset(&bm, 0, sizeof(bm));
	ASSERT_EQ(0, bootmedium_cmdline("console=ttyS0 bootmedium=PARTUUID=0f8e2b1c-4d3a-4b5c-9d6e-7f8091a2b3c4 "
					"bootslot=b no_timer_check", &bm));
	EXPECT_STREQ("0F8E2B1C-4D3A-4B5C-9D6E-7F8091A2B3C4", bm.partuuid);
	EXPECT_STREQ("", bm.label);
	EXPECT_STREQ("b", bm.slot);
	/* the last word wins (words appended to an entry override it) */
	ASSERT_EQ(0, bootmedium_cmdline("bootmedium=PARTUUID=0F8E2B1C-4D3A-4B5C-9D6E-7F8091A2B3C4 "
					"bootslot=a bootmedium=QSERVCONF bootslot=b", &bm));
	EXPECT_STREQ("", bm.partuuid);
	EXPECT_STREQ("QSERVCONF", bm.label);
	EXPECT_STREQ("b", bm.slot);
	/* no medium named: -ENOENT, the slot is still read */
	memset(&bm, 0, sizeof(bm));
	EXPECT_EQ(-ENOENT, bootmedium_cmdline("console=ttyS0 xbootmedium=Y bootslot=a", &bm));
	EXPECT_STREQ("a", bm.slot);
	EXPECT_EQ(-ENOENT, bootmedium_cmdline("", &bm));
	/* malformed words */
	EXPECT_EQ(-EINVAL, bootmedium_cmdline("bootmedium= quiet", &bm));
	EXPECT_EQ(-EINVAL, bootmedium_cmdline("bootmedium=AVERYLONGLABELNAMEOFMORETHAN31CHARS", &bm));
	EXPECT_EQ(-EINVAL, bootmedium_cmdline("bootmedium=PARTUUID=", &bm));
	EXPECT_EQ(-EINVAL, bootmedium_cmdline("bootmedium=PARTUUID=0F8E2B1C", &bm));
	EXPECT_EQ(-EINVAL, bootmedium_cmdline("bootmedium=PARTUUID=0F8E2B1C-4D3A-4B5C-9D6E-7F8091A2B3CX", &bm));
	EXPECT_EQ(-EINVAL, bootmedium_cmdline("bootmedium=PARTUUID=0F8E2B1C04D3A-4B5C-9D6E-7F8091A2B3C4", &bm));
	EXPECT_EQ(-EINVAL, bootmedium_cmdline("bootmedium=QSERVCONF bootslot=", &bm));
	EXPECT_EQ(-EINVAL, bootmedium_cmdline("bootmedium=QSERVCONF bootslot=B", &bm));
	EXPECT_EQ(-EINVAL, bootmedium_cmdline("bootmedium=QSERVCONF bootslot=toolongslot", &bm));
}

/* Whole-disk images with a GPT (sfdisk) next to their "partition" files:
 * sda (a stick left plugged in: QSERVCONF + ESP ...A1), vda (the installed
 * disk: QSERVCONF + ESP ...B2), vdb (an ESP ...C3 and no QSERVCONF), sr0
 * (no device node). */
#define UUID_STICK "1A2B3C4D-0000-4000-8000-0000000000A1"
#define UUID_DISK "1A2B3C4D-0000-4000-8000-0000000000B2"
#define UUID_NOCONF "1A2B3C4D-0000-4000-8000-0000000000C3"

FIXTURE(gpt) {
	char root[64];
	char sys[128], dev[128], mnt[128], cmdline[128];
	bool have_tools;
};

static void gpt_disk(const char *sys, const char *dev, const char *disk, const char *p1,
		     const char *p2, const char *esp_uuid, bool conf)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd),
		 "PATH=$PATH:/usr/sbin:/sbin; set -e; mkdir -p %s/block/%s/%s %s/block/%s/%s; "
		 "echo 1 > %s/block/%s/%s/partition; echo 2 > %s/block/%s/%s/partition; "
		 "truncate -s 8M %s/%s; printf 'label: gpt\\nstart=2048, size=4096, name=QSERVCONF\\n"
		 "start=6144, size=8192, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=%s\\n' | "
		 "sfdisk -q %s/%s > /dev/null; %s",
		 sys, disk, p1, sys, disk, p2, sys, disk, p1, sys, disk, p2, dev, disk, esp_uuid, dev,
		 disk, conf ? "" : "true");
	if (system(cmd) != 0)
		abort();
	if (conf) {
		snprintf(cmd, sizeof(cmd), "PATH=$PATH:/usr/sbin:/sbin; mkfs.fat -C -n QSERVCONF %s/%s 1024 "
			 "> /dev/null", dev, p1);
		if (system(cmd) != 0)
			abort();
	}
}

FIXTURE_SETUP(gpt)
{
	ASSERT_TRUE(make_root("bmg", self->root, self->sys, self->dev));
	snprintf(self->mnt, sizeof(self->mnt), "%s/mnt", self->root);
	snprintf(self->cmdline, sizeof(self->cmdline), "%s/cmdline", self->root);
	sh("mkdir -p %s/block/sr0 %s", self->sys, self->dev);
	self->have_tools = system("PATH=$PATH:/usr/sbin:/sbin; command -v sfdisk >/dev/null && "
				  "command -v mkfs.fat >/dev/null") == 0;
	if (!self->have_tools)
		return;
	gpt_disk(self->sys, self->dev, "sda", "sda1", "sda2", UUID_STICK, true);
	gpt_disk(self->sys, self->dev, "vda", "vda1", "vda2", UUID_DISK, true);
	gpt_disk(self->sys, self->dev, "vdb", "vdb1", "vdb2", UUID_NOCONF, false);
}

FIXTURE_TEARDOWN(gpt)
{
	if (remove_root(self->root) != 0)
		TH_LOG("cleanup failed");
}

TEST_F(gpt, partuuid_names_the_disk_not_the_first_label)
{
	struct bootmedium bm = { 0 };
	char err[256] = "";

	if (!self->have_tools)
		SKIP(return, "sfdisk or mkfs.fat not installed");
	/* by label, the stick (first in name order) would win */
	ASSERT_EQ(0, bootmedium_find(self->sys, self->dev, "QSERVCONF", &bm, err, sizeof(err)));
	EXPECT_STREQ("sda", bm.disk);
	/* by the ESP's GUID, the disk the loader booted from */
	memset(&bm, 0, sizeof(bm));
	ASSERT_EQ(0, bootmedium_find_partuuid(self->sys, self->dev, UUID_DISK, &bm, err, sizeof(err)))
		TH_LOG("%s", err);
	EXPECT_STREQ("vda", bm.disk);
	EXPECT_STREQ("vda1", bm.part);
	EXPECT_STREQ("vda2", bm.esp_part);
	EXPECT_STREQ("QSERVCONF", bm.label);
	EXPECT_STREQ(UUID_DISK, bm.partuuid);
	EXPECT_NE(NULL, strstr(bm.dev, "/dev/vda1"));
	/* case does not matter (libblkid prints lower case) */
	memset(&bm, 0, sizeof(bm));
	ASSERT_EQ(0, bootmedium_find_partuuid(self->sys, self->dev, "1a2b3c4d-0000-4000-8000-0000000000a1",
					      &bm, err, sizeof(err)));
	EXPECT_STREQ("sda", bm.disk);
	EXPECT_STREQ("sda2", bm.esp_part);
}

TEST_F(gpt, partuuid_missing_or_without_config_partition)
{
	struct bootmedium bm = { .disk = "keep" };
	char err[256] = "";

	if (!self->have_tools)
		SKIP(return, "sfdisk or mkfs.fat not installed");
	EXPECT_EQ(-ENOENT, bootmedium_find_partuuid(self->sys, self->dev, UUID_NOCONF, &bm, err,
						    sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "vdb")) TH_LOG("%s", err);
	EXPECT_NE(NULL, strstr(err, "no FAT partition labelled QSERVCONF"));
	EXPECT_EQ(-ENOENT, bootmedium_find_partuuid(self->sys, self->dev,
						    "1A2B3C4D-0000-4000-8000-0000000000D4", &bm, err,
						    sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "no partition with PARTUUID"));
	EXPECT_STREQ("keep", bm.disk);
}

TEST_F(gpt, open_by_partuuid_reads_slot)
{
	struct bootmedium bm;
	char err[256] = "";
	FILE *f;
	int r;

	if (!self->have_tools)
		SKIP(return, "sfdisk or mkfs.fat not installed");
	f = fopen(self->cmdline, "w");
	ASSERT_NE(NULL, f);
	fputs("console=ttyS0 bootmedium=PARTUUID=" UUID_DISK " bootslot=b\n", f);
	fclose(f);
	/* found; mounting a plain file then fails (no loop device), not -ENOENT */
	r = bootmedium_open(&bm, self->sys, self->dev, self->cmdline, self->mnt, 400, err, sizeof(err));
	EXPECT_NE(-ENOENT, r) TH_LOG("%s", err);
	EXPECT_TRUE(bm.wanted);
	EXPECT_STREQ("vda", bm.disk);
	EXPECT_STREQ("vda1", bm.part);
	EXPECT_STREQ("b", bm.slot);
	/* a GUID that never appears: -ENOENT after the wait */
	f = fopen(self->cmdline, "w");
	ASSERT_NE(NULL, f);
	fputs("bootmedium=PARTUUID=1A2B3C4D-0000-4000-8000-0000000000D4\n", f);
	fclose(f);
	EXPECT_EQ(-ENOENT, bootmedium_open(&bm, self->sys, self->dev, self->cmdline, self->mnt, 400,
					   err, sizeof(err)));
	EXPECT_TRUE(bm.wanted);
	EXPECT_STREQ("", bm.disk);
	EXPECT_NE(NULL, strstr(err, "after 0 s")) TH_LOG("%s", err);
}

/* An ESP directory as the stick has it (slot a, a stale counted entry
 * of slot b from an earlier upgrade attempt) gets both slots. */
FIXTURE(esp) {
	char root[64];
};

FIXTURE_SETUP(esp)
{
	ASSERT_TRUE(make_root("bme", self->root, NULL, NULL));
	sh("cd %s && mkdir -p loader/entries syslinux qserv/a && echo kernel-a > qserv/a/vmlinuz && "
	   "echo initramfs-a > qserv/a/initramfs && echo old > syslinux/syslinux.cfg && "
	   "echo 'title x' > loader/entries/qserv-b+0-3.conf && echo keep > loader/entries/other.conf%s",
	   self->root, "");
	sh("printf 'title    qserv-node slot a\\nversion  1\\nlinux    /qserv/a/vmlinuz\\n"
	   "options  console=ttyS0 bootmedium=PARTUUID=" UUID_STICK " bootslot=a no_timer_check\\n' "
	   "> %s/loader/entries/qserv-a.conf%s", self->root, "");
}

FIXTURE_TEARDOWN(esp)
{
	if (remove_root(self->root) != 0)
		TH_LOG("cleanup failed");
}

static int file_is(const char *root, const char *name, const char *want)
{
	char path[256], got[2048] = "";
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", root, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(got, 1, sizeof(got) - 1, f);
	got[n] = '\0';
	fclose(f);
	if (strcmp(got, want))
		fprintf(stderr, "# %s:\n%s", name, got);
	return strcmp(got, want) ? 1 : 0;
}

TEST_F(esp, writes_both_slots)
{
	char err[256] = "", path[256];

	ASSERT_EQ(0, bootmedium_write_slots(self->root, "a", UUID_DISK, err, sizeof(err)))
		TH_LOG("%s", err);
	EXPECT_EQ(0, file_is(self->root, "qserv/b/vmlinuz", "kernel-a\n"));
	EXPECT_EQ(0, file_is(self->root, "qserv/b/initramfs", "initramfs-a\n"));
	EXPECT_EQ(0, file_is(self->root, "loader/entries/qserv-a.conf",
			     "title    qserv-node slot a\nsort-key qserv\nversion  2\n"
			     "linux    /qserv/a/vmlinuz\ninitrd   /qserv/a/initramfs\n"
			     "options  console=ttyS0 no_timer_check bootmedium=PARTUUID=" UUID_DISK
			     " bootslot=a\n"));
	EXPECT_EQ(0, file_is(self->root, "loader/entries/qserv-b.conf",
			     "title    qserv-node slot b\nsort-key qserv\nversion  1\n"
			     "linux    /qserv/b/vmlinuz\ninitrd   /qserv/b/initramfs\n"
			     "options  console=ttyS0 no_timer_check bootmedium=PARTUUID=" UUID_DISK
			     " bootslot=b\n"));
	EXPECT_EQ(0, file_is(self->root, "syslinux/syslinux.cfg",
			     "SERIAL 0 115200\nDEFAULT qserv-a\nPROMPT 0\nTIMEOUT 0\n"
			     "LABEL qserv-a\n  LINUX /qserv/a/vmlinuz\n  INITRD /qserv/a/initramfs\n"
			     "  APPEND console=ttyS0 no_timer_check bootmedium=PARTUUID=" UUID_DISK " bootslot=a\n"
			     "LABEL qserv-b\n  LINUX /qserv/b/vmlinuz\n  INITRD /qserv/b/initramfs\n"
			     "  APPEND console=ttyS0 no_timer_check bootmedium=PARTUUID=" UUID_DISK " bootslot=b\n"));
	snprintf(path, sizeof(path), "%s/loader/entries/qserv-b+0-3.conf", self->root);
	EXPECT_NE(0, access(path, F_OK));
	EXPECT_EQ(0, file_is(self->root, "loader/entries/other.conf", "keep\n"));

	/* from slot b: b stays active (higher version, DEFAULT), a gets b's files */
	sh("echo kernel-b > %s/qserv/b/vmlinuz%s", self->root, "");
	ASSERT_EQ(0, bootmedium_write_slots(self->root, "b", UUID_DISK, err, sizeof(err)))
		TH_LOG("%s", err);
	EXPECT_EQ(0, file_is(self->root, "qserv/a/vmlinuz", "kernel-b\n"));
	snprintf(path, sizeof(path), "grep -qx 'version  2' %s/loader/entries/qserv-b.conf && "
		 "grep -qx 'DEFAULT qserv-b' %s/syslinux/syslinux.cfg", self->root, self->root);
	EXPECT_EQ(0, system(path));
}

TEST_F(esp, refuses_bad_or_missing_slot)
{
	char err[256] = "";

	EXPECT_EQ(-EINVAL, bootmedium_write_slots(self->root, "c", UUID_DISK, err, sizeof(err)));
	sh("rm %s/loader/entries/qserv-a.conf%s", self->root, "");
	EXPECT_EQ(-ENOENT, bootmedium_write_slots(self->root, "a", UUID_DISK, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "no entry for slot a"));
	EXPECT_EQ(-ENOENT, bootmedium_write_slots(self->root, "b", UUID_DISK, err, sizeof(err)));
}

TEST_F(esp, bless_renames_the_counted_entry_of_the_slot)
{
	char err[256] = "", entry[64] = "", path[256];

	sh("cd %s/loader/entries && mv qserv-a.conf qserv-a+2-1.conf%s", self->root, "");
	ASSERT_EQ(1, bootmedium_bless_dir(self->root, "a", entry, sizeof(entry), err, sizeof(err)))
		TH_LOG("%s", err);
	EXPECT_STREQ("qserv-a+2-1.conf", entry);
	snprintf(path, sizeof(path), "%s/loader/entries/qserv-a.conf", self->root);
	EXPECT_EQ(0, access(path, F_OK));
	EXPECT_EQ(0, bootmedium_bless_dir(self->root, "a", entry, sizeof(entry), err, sizeof(err)));
	/* the loader renames +1-2 to +0-3 before the last try: a good last try is blessed too */
	EXPECT_EQ(1, bootmedium_bless_dir(self->root, "b", entry, sizeof(entry), err, sizeof(err)));
	EXPECT_STREQ("qserv-b+0-3.conf", entry);
	EXPECT_EQ(0, file_is(self->root, "loader/entries/qserv-b.conf", "title x\n"));
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
	ASSERT_TRUE(make_root("bmi", self->root, self->sys, self->dev));
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
	if (remove_root(self->root) != 0)
		TH_LOG("cleanup failed");
}

TEST_F(inst, copies_onto_blank_disk_and_moves_backup_gpt)
{
	char target[32] = "", err[256] = "", cmd[1024];

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
