/* watch_test.c: which kernel uevents trigger a rescan (whole disks added,
 * removed, changed) and which do not (partitions, other subsystems,
 * libudev's own messages, truncated datagrams). */
/* the harness compares int literals with size_t */
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <kselftest_harness.h>

#include "../internal.h"

#define EV(s) s, sizeof(s) - 1

TEST(whole_disk_events)
{
	EXPECT_TRUE(qs_uevent_is_disk(EV("add@/devices/pci0000:00/0000:00:04.0/virtio1/host0/target0:0:1/0:0:1:0/block/sdb\0"
					 "ACTION=add\0DEVPATH=/devices/.../block/sdb\0SUBSYSTEM=block\0"
					 "MAJOR=8\0MINOR=16\0DEVNAME=sdb\0DEVTYPE=disk\0SEQNUM=1234\0")));
	EXPECT_TRUE(qs_uevent_is_disk(EV("remove@/devices/virtual/block/loop3\0ACTION=remove\0"
					 "SUBSYSTEM=block\0DEVTYPE=disk\0")));
	EXPECT_TRUE(qs_uevent_is_disk(EV("change@/devices/virtual/block/loop3\0ACTION=change\0"
					 "SUBSYSTEM=block\0DEVTYPE=disk\0RESIZE=1\0")));
}

TEST(ignored_events)
{
	/* a partition: our own partitioning must not retrigger work */
	EXPECT_FALSE(qs_uevent_is_disk(EV("add@/devices/virtual/block/loop3/loop3p1\0ACTION=add\0"
					  "SUBSYSTEM=block\0DEVTYPE=partition\0")));
	EXPECT_FALSE(qs_uevent_is_disk(EV("add@/devices/virtual/net/veth0\0ACTION=add\0SUBSYSTEM=net\0")));
	EXPECT_FALSE(qs_uevent_is_disk(EV("bind@/devices/x\0ACTION=bind\0SUBSYSTEM=block\0DEVTYPE=disk\0")));
	/* libudev's netlink messages carry a binary header, no '@' */
	EXPECT_FALSE(qs_uevent_is_disk(EV("libudev\0\xfe\xed\xca\xfe")));
	/* missing keys, truncated, empty */
	EXPECT_FALSE(qs_uevent_is_disk(EV("add@/devices/virtual/block/loop3\0ACTION=add\0")));
	EXPECT_FALSE(qs_uevent_is_disk(EV("add@/devices/virtual/block/loop3\0ACTION=add\0SUBSYS")));
	EXPECT_FALSE(qs_uevent_is_disk("", 0));
	EXPECT_FALSE(qs_uevent_is_disk(EV("x")));
}

TEST(no_terminator_is_safe)
{
	/* a datagram without a final NUL must not be read past its end (ASan) */
	char buf[64];
	memcpy(buf, "add@/x\0ACTION=add\0SUBSYSTEM=block\0DEVTYPE=disk", 47);
	EXPECT_TRUE(qs_uevent_is_disk(buf, 47));
	char *heap = malloc(6);
	memcpy(heap, "add@/x", 6);
	EXPECT_FALSE(qs_uevent_is_disk(heap, 6));
	free(heap);
	heap = malloc(23);
	memcpy(heap, "add@/x\0ACTION=add\0ACTIO", 23); /* a key cut short at the end */
	EXPECT_FALSE(qs_uevent_is_disk(heap, 23));
	free(heap);
}

TEST_HARNESS_MAIN
