/* discover_test.c: discovery on fake sysfs trees: transports, stable ids,
 * skipped device kinds, sizes and flags, holders/partitions, JSON keys. */
/* the harness compares int literals with size_t */
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <kselftest_harness.h>

#include "../qstorage.h"
#include "fakesys.h"

FIXTURE(sys) { char *root; };
FIXTURE_SETUP(sys) { self->root = fs_root(); }
FIXTURE_TEARDOWN(sys) { fs_rm(self->root); free(self->root); }

static const struct qstorage_disk *find(const struct qstorage_disk *d, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(d[i].name, name))
			return &d[i];
	return NULL;
}

TEST_F(sys, transports_ids_and_attributes)
{
	const char *dir;
	struct qstorage_disk *d;
	size_t n;
	char err[256];

	dir = fs_disk(self->root, "pci0000:00/0000:00:04.0/nvme/nvme0", "nvme0n1", 2000000, 0);
	fs_write(dir, "wwid", "eui.0123456789abcdef");
	fs_write(dir, "device/model", "INTEL SSDPE2KX010T8  ");
	fs_write(dir, "device/serial", "  PHLJ1234  ");
	dir = fs_disk(self->root, "pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0", "sda",
		      4000000, 1);
	fs_write(dir, "device/model", "ST4000NM0035");
	fs_write(dir, "device/wwid", "naa.5000c500a1b2c3d4");
	dir = fs_disk(self->root, "pci0000:00/0000:00:05.0/virtio2/host1/target1:0:3/1:0:3:0",
		      "sdb", 1000000, 0);
	fs_write(dir, "device/model", "QEMU HARDDISK");
	fs_write(dir, "ro", "1");
	dir = fs_disk(self->root, "pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host6/target6:0:0/6:0:0:0",
		      "sdc", 30000000, 0);
	fs_write(dir, "removable", "1");
	fs_write(dir, "serial", "USB123");
	fs_write(dir, "device/model", "Ultra");
	fs_disk(self->root, "pci0000:00/0000:00:06.0/virtio3", "vda", 100000, 1);

	ASSERT_EQ(0, qstorage_discover(self->root, 0, &d, &n, err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(5, n);
	/* sorted by name, short names first */
	EXPECT_STREQ("sda", d[0].name);
	EXPECT_STREQ("nvme0n1", d[4].name);

	const struct qstorage_disk *x = find(d, n, "nvme0n1");
	ASSERT_NE(NULL, x);
	EXPECT_STREQ("nvme", x->transport);
	EXPECT_STREQ("eui.0123456789abcdef", x->id);
	EXPECT_STREQ("INTEL_SSDPE2KX010T8", x->model);
	EXPECT_STREQ("PHLJ1234", x->serial);
	EXPECT_EQ(2000000ull * 512, x->size_bytes);
	EXPECT_EQ(512, x->logical_sector);
	EXPECT_EQ(4096, x->physical_sector);
	EXPECT_FALSE(x->rotational);

	x = find(d, n, "sda");
	EXPECT_STREQ("sata", x->transport);
	EXPECT_TRUE(x->rotational);
	EXPECT_STREQ("naa.5000c500a1b2c3d4", x->id);

	x = find(d, n, "sdb"); /* no wwid, no serial: by-path */
	EXPECT_STREQ("scsi", x->transport);
	EXPECT_STREQ("path-pci-0000:00:05.0-scsi-1:0:3:0", x->id);
	EXPECT_TRUE(x->read_only);

	x = find(d, n, "sdc");
	EXPECT_STREQ("usb", x->transport);
	EXPECT_TRUE(x->removable);
	EXPECT_STREQ("serial-Ultra_USB123", x->id);

	x = find(d, n, "vda");
	EXPECT_STREQ("virtio", x->transport);
	EXPECT_STREQ("path-pci-0000:00:06.0", x->id);
	qstorage_disks_free(d, n);
}

TEST_F(sys, skips_virtual_optical_and_empty)
{
	const char *dir;
	struct qstorage_disk *d;
	size_t n;

	fs_disk(self->root, "virtual/block", "ram0", 8192, 0);
	fs_disk(self->root, "virtual/block", "zram0", 8192, 0);
	fs_disk(self->root, "virtual/block", "dm-0", 8192, 0);
	fs_disk(self->root, "virtual/block", "md127", 8192, 0);
	dir = fs_disk(self->root, "virtual/block", "loop0", 8192, 0);
	fs_write(dir, "loop/backing_file", "/tmp/x/disk0.img");
	fs_disk(self->root, "virtual/block", "loop1", 0, 0);
	dir = fs_disk(self->root, "pci0000:00/0000:00:1f.2/ata2/host1/target1:0:0/1:0:0:0", "sr0",
		      8192, 1);
	dir = fs_disk(self->root, "pci0000:00/0000:00:1f.2/ata3/host2/target2:0:0/2:0:0:0", "sdd",
		      8192, 1);
	fs_write(dir, "device/type", "5"); /* optical drive named sd? */
	dir = fs_disk(self->root, "pci0000:00/0000:00:1f.2/ata4/host3/target3:0:0/3:0:0:0", "sde",
		      8192, 1);
	fs_write(dir, "device/type", "0");
	fs_write(dir, "holders/md127", "");
	fs_write(dir, "sde1/partition", "1");
	fs_write(dir, "sde2/partition", "2");

	ASSERT_EQ(0, qstorage_discover(self->root, 0, &d, &n, NULL, 0));
	ASSERT_EQ(1, n);
	EXPECT_STREQ("sde", d[0].name);
	EXPECT_STREQ("md127", d[0].holders);
	EXPECT_TRUE(!strcmp(d[0].partitions, "sde1 sde2") || !strcmp(d[0].partitions, "sde2 sde1"));
	qstorage_disks_free(d, n);

	ASSERT_EQ(0, qstorage_discover(self->root, QSTORAGE_DISCOVER_LOOP, &d, &n, NULL, 0));
	ASSERT_EQ(2, n); /* loop0 (attached), not loop1 (size 0) */
	EXPECT_STREQ("loop0", d[1].name); /* shorter names sort first */
	EXPECT_STREQ("loop", d[1].transport);
	EXPECT_STREQ("loop:/tmp/x/disk0.img", d[1].id);
	qstorage_disks_free(d, n);
}

TEST_F(sys, missing_sysfs_is_an_error)
{
	struct qstorage_disk *d = (void *)1;
	size_t n = 77;
	char err[256] = "";
	char path[4200];

	snprintf(path, sizeof(path), "%s/nonexistent", self->root);
	EXPECT_EQ(-ENOENT, qstorage_discover(path, 0, &d, &n, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "nonexistent"));
	EXPECT_EQ((void *)1, d); /* untouched on failure */
	EXPECT_EQ(77, n);
}

TEST_F(sys, json_keys)
{
	const char *dir;
	struct qstorage_disk *d;
	size_t n;

	dir = fs_disk(self->root, "pci0000:00/0000:00:04.0/nvme/nvme0", "nvme0n1", 2048, 0);
	fs_write(dir, "wwid", "eui.01");
	ASSERT_EQ(0, qstorage_discover(self->root, 0, &d, &n, NULL, 0));
	json_t *a = qstorage_disks_json(d, n);
	ASSERT_NE(NULL, a);
	json_t *o = json_array_get(a, 0);
	EXPECT_STREQ("nvme0n1", json_string_value(json_object_get(o, "name")));
	EXPECT_STREQ("eui.01", json_string_value(json_object_get(o, "id")));
	EXPECT_EQ(2048 * 512, json_integer_value(json_object_get(o, "size_bytes")));
	EXPECT_TRUE(json_is_false(json_object_get(o, "rotational")));
	EXPECT_STREQ("nvme", json_string_value(json_object_get(o, "transport")));
	EXPECT_NE(NULL, json_object_get(o, "model"));
	EXPECT_NE(NULL, json_object_get(o, "serial"));
	EXPECT_STREQ("eui.01", json_string_value(json_object_get(o, "wwid")));
	EXPECT_EQ(NULL, json_object_get(o, "state")); /* not planned yet */
	json_decref(a);

	d[0].state = QSTORAGE_FOREIGN;
	snprintf(d[0].reason, sizeof(d[0].reason), "has ext4");
	o = qstorage_disk_json(&d[0]);
	EXPECT_STREQ("foreign", json_string_value(json_object_get(o, "state")));
	EXPECT_TRUE(json_is_null(json_object_get(o, "pool")));
	json_decref(o);

	/* a tool's message that is not UTF-8 must not lose the disk */
	snprintf(d[0].reason, sizeof(d[0].reason), "mkfs said \xff\xfe");
	o = qstorage_disk_json(&d[0]);
	ASSERT_NE(NULL, o);
	EXPECT_STREQ("mkfs said ??", json_string_value(json_object_get(o, "reason")));
	json_decref(o);
	qstorage_disks_free(d, n);
}

TEST_HARNESS_MAIN
