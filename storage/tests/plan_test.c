/* plan_test.c: planning decisions for every disk state (pure function on
 * fake probe results), label parsing, and a dry-run provisioning pass over
 * a fake sysfs whose /dev holds image files (ours, foreign, blank,
 * removable): pools, indexes, reasons, report JSON and metrics. */
/* the harness compares int literals with size_t */
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <kselftest_harness.h>

#include <fcntl.h>

#include "../internal.h"
#include "fakesys.h"

static struct qstorage_disk disk(bool rotational)
{
	struct qstorage_disk d = { .name = "sdx", .id = "naa.5000", .size_bytes = 1ull << 40,
				   .rotational = rotational, .transport = "sata", .index = -1 };
	return d;
}

static const struct qstorage_probe blank = { .content = QSTORAGE_CONTENT_BLANK };
static const struct qstorage_probe ext4 = { .content = QSTORAGE_CONTENT_FOREIGN, .signature = "ext4" };
static const struct qstorage_probe ours = { .content = QSTORAGE_CONTENT_OURS, .signature = "gpt",
					    .part_label = "qserv-bulk2", .part_no = 1,
					    .fs_type = "xfs", .fs_label = "qserv-bulk2" };

#define MIN (64ull << 20)

TEST(blank_disks_go_to_the_pool_of_their_kind)
{
	struct qstorage_disk d = disk(false);
	EXPECT_EQ(QSTORAGE_ACT_PROVISION, qstorage_plan_disk(&d, &blank, true, false, false, MIN));
	EXPECT_EQ(QSTORAGE_PROVISIONED_NOW, d.state);
	EXPECT_EQ(QSTORAGE_POOL_FAST, d.pool);
	d = disk(true);
	EXPECT_EQ(QSTORAGE_ACT_PROVISION, qstorage_plan_disk(&d, &blank, true, false, false, MIN));
	EXPECT_EQ(QSTORAGE_POOL_BULK, d.pool);
	EXPECT_NE(NULL, strstr(d.reason, "blank rotational disk: provision into bulk"));
}

TEST(boot_medium_is_never_touched)
{
	struct qstorage_disk d = disk(false);
	EXPECT_EQ(QSTORAGE_ACT_NONE, qstorage_plan_disk(&d, &blank, true, true, true, MIN));
	EXPECT_EQ(QSTORAGE_BOOT_MEDIUM, d.state);
	d = disk(false);
	EXPECT_EQ(QSTORAGE_ACT_NONE, qstorage_plan_disk(&d, &ours, true, true, true, MIN));
	EXPECT_EQ(QSTORAGE_BOOT_MEDIUM, d.state);
}

TEST(foreign_untouched_unless_wipe_allowed)
{
	struct qstorage_disk d = disk(false);
	EXPECT_EQ(QSTORAGE_ACT_NONE, qstorage_plan_disk(&d, &ext4, true, false, false, MIN));
	EXPECT_EQ(QSTORAGE_FOREIGN, d.state);
	EXPECT_STREQ("ext4", d.signature);
	EXPECT_NE(NULL, strstr(d.reason, "qserv.wipe=naa.5000"));
	d = disk(true);
	EXPECT_EQ(QSTORAGE_ACT_WIPE_PROVISION, qstorage_plan_disk(&d, &ext4, true, true, false, MIN));
	EXPECT_EQ(QSTORAGE_PROVISIONED_NOW, d.state);
	EXPECT_EQ(QSTORAGE_POOL_BULK, d.pool);
	/* allowed to wipe but not selected: nothing happens */
	d = disk(true);
	EXPECT_EQ(QSTORAGE_ACT_NONE, qstorage_plan_disk(&d, &ext4, false, true, false, MIN));
	EXPECT_EQ(QSTORAGE_EXCLUDED, d.state);
	EXPECT_NE(NULL, strstr(d.reason, "wipe not done"));
}

TEST(held_or_partitioned_disks_are_foreign_even_with_wipe)
{
	struct qstorage_disk d = disk(true);
	strcpy(d.holders, "md127");
	EXPECT_EQ(QSTORAGE_ACT_NONE, qstorage_plan_disk(&d, &blank, true, true, false, MIN));
	EXPECT_EQ(QSTORAGE_FOREIGN, d.state);
	EXPECT_NE(NULL, strstr(d.reason, "in use by md127"));
	d = disk(true);
	strcpy(d.partitions, "sdx1");
	EXPECT_EQ(QSTORAGE_ACT_NONE, qstorage_plan_disk(&d, &blank, true, false, false, MIN));
	EXPECT_EQ(QSTORAGE_FOREIGN, d.state);
	EXPECT_STREQ("kernel partitions", d.signature);
}

TEST(excluded_read_only_unselected_small)
{
	struct qstorage_disk d = disk(false);
	d.read_only = true;
	EXPECT_EQ(QSTORAGE_ACT_NONE, qstorage_plan_disk(&d, &blank, true, false, false, MIN));
	EXPECT_EQ(QSTORAGE_EXCLUDED, d.state);
	EXPECT_NE(NULL, strstr(d.reason, "read-only"));
	d = disk(false);
	EXPECT_EQ(QSTORAGE_ACT_NONE, qstorage_plan_disk(&d, &blank, false, false, false, MIN));
	EXPECT_EQ(QSTORAGE_EXCLUDED, d.state);
	EXPECT_NE(NULL, strstr(d.reason, "not selected"));
	d = disk(false);
	d.size_bytes = 10 << 20;
	EXPECT_EQ(QSTORAGE_ACT_NONE, qstorage_plan_disk(&d, &blank, true, false, false, MIN));
	EXPECT_EQ(QSTORAGE_EXCLUDED, d.state);
	EXPECT_NE(NULL, strstr(d.reason, "too small"));
}

TEST(ours_is_mounted_as_found_whatever_the_selector)
{
	struct qstorage_disk d = disk(false); /* non-rotational, but labelled bulk2 */
	EXPECT_EQ(QSTORAGE_ACT_MOUNT, qstorage_plan_disk(&d, &ours, false, true, false, MIN));
	EXPECT_EQ(QSTORAGE_OURS_MOUNTED, d.state);
	EXPECT_EQ(QSTORAGE_POOL_BULK, d.pool);
	EXPECT_EQ(2, d.index);
	EXPECT_STREQ("xfs", d.fs_type);
}

TEST(damaged_ours_is_an_error_never_reformatted)
{
	struct qstorage_probe p = ours;
	struct qstorage_disk d = disk(false);
	p.fs_type[0] = '\0';
	EXPECT_EQ(QSTORAGE_ACT_NONE, qstorage_plan_disk(&d, &p, true, true, false, MIN));
	EXPECT_EQ(QSTORAGE_ERROR, d.state);
	EXPECT_NE(NULL, strstr(d.reason, "not reformatting"));
	EXPECT_EQ(2, d.index); /* the index stays reserved */

	p = ours;
	strcpy(p.fs_label, "other");
	d = disk(false);
	EXPECT_EQ(QSTORAGE_ACT_NONE, qstorage_plan_disk(&d, &p, true, false, false, MIN));
	EXPECT_EQ(QSTORAGE_ERROR, d.state);

	p = ours;
	strcpy(p.fs_type, "vfat");
	d = disk(false);
	EXPECT_EQ(QSTORAGE_ACT_NONE, qstorage_plan_disk(&d, &p, true, false, false, MIN));
	EXPECT_EQ(QSTORAGE_ERROR, d.state);

	p = ours;
	strcpy(p.part_label, "data");
	d = disk(false);
	EXPECT_EQ(QSTORAGE_ACT_NONE, qstorage_plan_disk(&d, &p, true, false, false, MIN));
	EXPECT_EQ(QSTORAGE_ERROR, d.state);
	EXPECT_NE(NULL, strstr(d.reason, "is not qserv-"));
}

TEST(labels)
{
	enum qstorage_pool pool;
	int idx;
	EXPECT_TRUE(qs_parse_label("qserv-fast0", &pool, &idx));
	EXPECT_EQ(QSTORAGE_POOL_FAST, pool);
	EXPECT_EQ(0, idx);
	EXPECT_TRUE(qs_parse_label("qserv-bulk17", &pool, &idx));
	EXPECT_EQ(QSTORAGE_POOL_BULK, pool);
	EXPECT_EQ(17, idx);
	const char *bad[] = { "qserv-fast", "qserv-fast01", "qserv-slow0", "qserv-fast1x",
			      "qserv-fast100", "qserv-fast-1", "", "fast0" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_FALSE(qs_parse_label(bad[i], &pool, &idx)) TH_LOG("%s", bad[i]);
	}
}

/* ---- dry-run pass over a fake node ---- */

FIXTURE(node) { char *root; char sys[512], dev[512]; };

static void image(const char *dev, const char *name, long mib)
{
	char path[700];
	snprintf(path, sizeof(path), "%s/%s", dev, name);
	int fd = open(path, O_CREAT | O_RDWR, 0600);
	if (fd < 0 || ftruncate(fd, mib << 20))
		abort();
	close(fd);
}

static int shell(const char *fmt, const char *a)
{
	char cmd[1400];
	snprintf(cmd, sizeof(cmd), fmt, a, a);
	return system(cmd);
}

FIXTURE_SETUP(node)
{
	char path[700];
	self->root = fs_root();
	snprintf(self->sys, sizeof(self->sys), "%s/sys", self->root);
	snprintf(self->dev, sizeof(self->dev), "%s/dev", self->root);
	fs_mkdirs(self->dev);
	const char *d;
	/* nvme0n1: blank SSD; nvme1n1: ours (fast0); sda: blank HDD; sdb: ext4;
	 * sdc: blank removable USB; sdd: boot medium */
	d = fs_disk(self->sys, "pci0000:00/0000:00:04.0/nvme/nvme0", "nvme0n1", 256 << 11, 0);
	fs_write(d, "wwid", "eui.aaaa");
	d = fs_disk(self->sys, "pci0000:00/0000:00:05.0/nvme/nvme1", "nvme1n1", 256 << 11, 0);
	fs_write(d, "wwid", "eui.bbbb");
	d = fs_disk(self->sys, "pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0", "sda",
		    256 << 11, 1);
	fs_write(d, "device/wwid", "naa.1111");
	d = fs_disk(self->sys, "pci0000:00/0000:00:1f.2/ata2/host1/target1:0:0/1:0:0:0", "sdb",
		    128 << 11, 1);
	fs_write(d, "device/wwid", "naa.2222");
	d = fs_disk(self->sys, "pci0000:00/0000:00:14.0/usb2/2-1/host6/target6:0:0/6:0:0:0", "sdc",
		    128 << 11, 0);
	fs_write(d, "removable", "1");
	fs_write(d, "serial", "USB1");
	d = fs_disk(self->sys, "pci0000:00/0000:00:14.0/usb2/2-2/host7/target7:0:0/7:0:0:0", "sdd",
		    128 << 11, 0);
	fs_write(d, "serial", "BOOT1");
	image(self->dev, "nvme0n1", 256);
	image(self->dev, "nvme1n1", 256);
	image(self->dev, "sda", 256);
	image(self->dev, "sdb", 128);
	image(self->dev, "sdc", 128);
	image(self->dev, "sdd", 128);
	snprintf(path, sizeof(path), "%s/nvme1n1", self->dev);
	char err[256];
	ASSERT_EQ(0, qs_gpt_write(path, "qserv-fast0", err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(0, shell("mkfs.ext4 -q -F -L qserv-fast0 -E offset=1048576 %s 200M >/dev/null 2>&1", path));
	snprintf(path, sizeof(path), "%s/sdb", self->dev);
	ASSERT_EQ(0, shell("mkfs.ext4 -q -F %s >/dev/null 2>&1", path));
}
FIXTURE_TEARDOWN(node) { fs_rm(self->root); free(self->root); }

static const struct qstorage_disk *by(const struct qstorage_report *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->disks[i].name, name))
			return &r->disks[i];
	return NULL;
}

TEST_F(node, dry_run_plans_every_disk)
{
	struct qstorage_opts o = { .sysfs_root = self->sys, .dev_root = self->dev,
				   .mount_root = "/nonexistent/data", .boot_device = "sdd",
				   .flags = QSTORAGE_F_DRYRUN };
	struct qstorage_report *r;
	char err[256];
	ASSERT_EQ(0, qstorage_provision(&o, NULL, &r, err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(6, r->n);
	const struct qstorage_disk *d = by(r, "nvme1n1");
	EXPECT_EQ(QSTORAGE_OURS_MOUNTED, d->state) TH_LOG("%s", d->reason);
	EXPECT_NE(NULL, strstr(d->reason, "would check and mount at /nonexistent/data/fast0"));
	d = by(r, "nvme0n1"); /* blank SSD: next fast index after ours */
	EXPECT_EQ(QSTORAGE_PROVISIONED_NOW, d->state);
	EXPECT_EQ(1, d->index);
	EXPECT_NE(NULL, strstr(d->reason, "would provision as qserv-fast1 (ext4) at /nonexistent/data/fast1"))
		TH_LOG("%s", d->reason);
	d = by(r, "sda");
	EXPECT_EQ(QSTORAGE_PROVISIONED_NOW, d->state);
	EXPECT_EQ(QSTORAGE_POOL_BULK, d->pool);
	EXPECT_EQ(0, d->index);
	EXPECT_EQ(QSTORAGE_FOREIGN, by(r, "sdb")->state);
	EXPECT_EQ(QSTORAGE_EXCLUDED, by(r, "sdc")->state); /* removable, default selector */
	EXPECT_EQ(QSTORAGE_BOOT_MEDIUM, by(r, "sdd")->state);

	json_t *j = qstorage_report_json(r);
	ASSERT_NE(NULL, j);
	EXPECT_EQ(6, json_array_size(json_object_get(j, "disks")));
	EXPECT_NE(NULL, json_object_get(json_object_get(j, "pools"), "fast"));
	EXPECT_TRUE(json_is_boolean(json_object_get(j, "tmpfs")));
	json_decref(j);
	char *m = qstorage_report_metrics(r);
	ASSERT_NE(NULL, m);
	EXPECT_NE(NULL, strstr(m, "qserv_storage_pool_size_bytes{pool=\"fast\"}"));
	EXPECT_NE(NULL, strstr(m, "qserv_storage_disks{state=\"foreign\"} 1"));
	EXPECT_NE(NULL, strstr(m, "qserv_storage_disks{state=\"boot-medium\"} 1"));
	free(m);
	qstorage_report_free(r);

	/* nothing was written: the blank images are still blank */
	struct qstorage_probe p;
	char path[700];
	snprintf(path, sizeof(path), "%s/nvme0n1", self->dev);
	ASSERT_EQ(0, qstorage_probe_disk(path, &p, NULL, 0));
	EXPECT_EQ(QSTORAGE_CONTENT_BLANK, p.content);
}

TEST_F(node, selector_and_wipe_list)
{
	struct qstorage_opts o = { .sysfs_root = self->sys, .dev_root = self->dev,
				   .mount_root = "/nonexistent/data", .boot_device = "sdd",
				   .selector = "transport == \"nvme\" || size < 200M",
				   .wipe = "naa.2222,bogus", .flags = QSTORAGE_F_DRYRUN };
	struct qstorage_report *r;
	ASSERT_EQ(0, qstorage_provision(&o, NULL, &r, NULL, 0));
	EXPECT_EQ(QSTORAGE_EXCLUDED, by(r, "sda")->state);          /* HDD not selected */
	EXPECT_EQ(QSTORAGE_PROVISIONED_NOW, by(r, "sdb")->state);   /* ext4, wipe allowed */
	EXPECT_NE(NULL, strstr(by(r, "sdb")->reason, "would wipe (allowed by operator) and provision as qserv-bulk0"))
		TH_LOG("%s", by(r, "sdb")->reason);
	EXPECT_EQ(QSTORAGE_PROVISIONED_NOW, by(r, "sdc")->state);   /* removable, but selected */
	qstorage_report_free(r);
}

TEST_F(node, missing_disks_are_carried_and_degrade_their_pool)
{
	struct qstorage_opts o = { .sysfs_root = self->sys, .dev_root = self->dev,
				   .mount_root = "/nonexistent/data", .boot_device = "sdd",
				   .flags = QSTORAGE_F_DRYRUN };
	struct qstorage_report *r1, *r2;
	char link[700];
	ASSERT_EQ(0, qstorage_provision(&o, NULL, &r1, NULL, 0));
	snprintf(link, sizeof(link), "%s/block/nvme1n1", self->sys); /* unplug ours (fast0) */
	ASSERT_EQ(0, unlink(link));
	ASSERT_EQ(0, qstorage_provision(&o, r1, &r2, NULL, 0));
	const struct qstorage_disk *d = NULL;
	for (size_t i = 0; i < r2->n; i++)
		if (!strcmp(r2->disks[i].id, "eui.bbbb"))
			d = &r2->disks[i];
	ASSERT_NE(NULL, d);
	EXPECT_EQ(QSTORAGE_MISSING, d->state);
	EXPECT_TRUE(r2->fast.degraded);
	EXPECT_EQ(1, r2->fast.missing);
	/* the blank SSD must not take the missing disk's index */
	EXPECT_EQ(1, by(r2, "nvme0n1")->index);
	qstorage_report_free(r1);
	qstorage_report_free(r2);
}

TEST_F(node, a_disk_failing_its_probe_keeps_its_pool)
{
	struct qstorage_opts o = { .sysfs_root = self->sys, .dev_root = self->dev,
				   .mount_root = "/nonexistent/data", .boot_device = "sdd",
				   .flags = QSTORAGE_F_DRYRUN };
	struct qstorage_report *r1, *r2;
	char path[700];
	ASSERT_EQ(0, qstorage_provision(&o, NULL, &r1, NULL, 0));
	snprintf(path, sizeof(path), "%s/nvme1n1", self->dev); /* ours, fast0: now unreadable */
	ASSERT_EQ(0, unlink(path));
	ASSERT_EQ(0, qstorage_provision(&o, r1, &r2, NULL, 0));
	const struct qstorage_disk *d = by(r2, "nvme1n1");
	EXPECT_EQ(QSTORAGE_ERROR, d->state);
	EXPECT_NE(NULL, strstr(d->reason, "cannot probe"));
	EXPECT_EQ(QSTORAGE_POOL_FAST, d->pool);
	EXPECT_EQ(0, d->index);
	EXPECT_TRUE(r2->fast.degraded);
	EXPECT_EQ(1, by(r2, "nvme0n1")->index); /* fast0 stays reserved */
	qstorage_report_free(r1);
	qstorage_report_free(r2);
}

TEST_F(node, bad_selector_and_fs_are_rejected)
{
	struct qstorage_opts o = { .sysfs_root = self->sys, .dev_root = self->dev,
				   .selector = "size >>= 1", .flags = QSTORAGE_F_DRYRUN };
	struct qstorage_report *r = (void *)1;
	char err[256] = "";
	EXPECT_EQ(-EINVAL, qstorage_provision(&o, NULL, &r, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "position 7")) TH_LOG("%s", err);
	EXPECT_EQ((void *)1, r);
	o.selector = NULL;
	o.fs_type = "btrfs";
	EXPECT_EQ(-EINVAL, qstorage_provision(&o, NULL, &r, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "btrfs"));
}

TEST(chunk_dirs_spread)
{
	char *dirs[] = { "/data/fast0/chunks", "/data/fast1/chunks" };
	struct qstorage_report r = { .chunk_dirs = dirs, .n_chunk_dirs = 2 };
	EXPECT_STREQ("/data/fast0/chunks", qstorage_chunk_dir(&r, 100));
	EXPECT_STREQ("/data/fast1/chunks", qstorage_chunk_dir(&r, 101));
	r.n_chunk_dirs = 0;
	EXPECT_EQ(NULL, qstorage_chunk_dir(&r, 1));
}

TEST_HARNESS_MAIN
