/* inventory_test.c: CPUs, memory, UUID and NICs read from a fake sysfs and
 * procfs tree built in a temporary directory. */
#include <kselftest_harness.h>

#include "agent/inventory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void put(const char *root, const char *rel, const char *content)
{
	char path[1024], cmd[1200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	if (system(cmd) != 0)
		abort();
	f = fopen(path, "w");
	if (!f)
		abort();
	fputs(content, f);
	fclose(f);
}

FIXTURE(tree) {
	char root[64];
	char sys[128], proc[128];
};

FIXTURE_SETUP(tree)
{
	strcpy(self->root, "/tmp/qagent-inv-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->root));
	snprintf(self->sys, sizeof(self->sys), "%s/sys", self->root);
	snprintf(self->proc, sizeof(self->proc), "%s/proc", self->root);
	put(self->sys, "devices/system/cpu/online", "0-3,6\n");
	put(self->proc, "meminfo", "MemTotal:        2048000 kB\nMemFree: 1 kB\n");
	put(self->sys, "class/dmi/id/product_uuid", "4c4c4544-0042-3510-8052-b4c04f4e5331\n");
	put(self->sys, "class/net/lo/address", "00:00:00:00:00:00\n");
	put(self->sys, "class/net/sit0/address", "00:00:00:00\n");
	put(self->sys, "class/net/eth1/device/vendor", "0x8086\n");
	put(self->sys, "class/net/eth0/device/vendor", "0x1af4\n");
	put(self->sys, "class/net/eth1/address", "52:54:00:12:34:57\n");
	put(self->sys, "class/net/eth1/operstate", "down\n");
	put(self->sys, "class/net/eth0/address", "52:54:00:12:34:56\n");
	put(self->sys, "class/net/eth0/operstate", "up\n");
	put(self->sys, "class/net/eth0/carrier", "1\n");
	put(self->sys, "class/net/eth0/speed", "10000\n");
}

FIXTURE_TEARDOWN(tree)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", self->root);
	if (system(cmd) != 0)
		TH_LOG("cleanup failed");
}

TEST_F(tree, reads_everything)
{
	struct inventory inv;

	ASSERT_EQ(0, inventory_read(self->sys, self->proc, &inv));
	EXPECT_EQ(5, inv.cpus);
	EXPECT_EQ(2048000ull * 1024, inv.mem_bytes);
	EXPECT_STREQ("4c4c4544-0042-3510-8052-b4c04f4e5331", inv.uuid);
	ASSERT_EQ(2, inv.n_nics); /* lo and sit0 have no device: not NICs */
	EXPECT_STREQ("eth0", inv.nics[0].name);
	EXPECT_STREQ("52:54:00:12:34:56", inv.nics[0].mac);
	EXPECT_EQ(1, inv.nics[0].carrier);
	EXPECT_EQ(10000, inv.nics[0].speed_mbps);
	EXPECT_STREQ("eth1", inv.nics[1].name);
	EXPECT_EQ(-1, inv.nics[1].carrier);
	EXPECT_STREQ("down", inv.nics[1].operstate);
}

TEST_F(tree, bad_uuid_ignored)
{
	struct inventory inv;

	put(self->sys, "class/dmi/id/product_uuid", "not-a-uuid\n");
	ASSERT_EQ(0, inventory_read(self->sys, self->proc, &inv));
	EXPECT_STREQ("", inv.uuid);
}

TEST(missing_tree_is_an_error)
{
	struct inventory inv;

	EXPECT_GT(0, inventory_read("/nonexistent-sysfs", "/nonexistent-proc", &inv));
	EXPECT_EQ(0, inv.cpus);
}

TEST_HARNESS_MAIN
