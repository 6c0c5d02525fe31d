/* bootmedium_int.h: helpers the boot medium's files share, private to agent/
 * (the API is bootmedium.h):
 *
 *   bootmedium.c          finding the medium (command line, sysfs, libblkid)
 *                         and mounting its config partition
 *   bootmedium_slots.c    writing both boot slots into an ESP
 *   bootmedium_bless.c    boot counting: blessing the slot that booted
 *   bootmedium_install.c  copying the medium onto an internal disk */
#ifndef AGENT_BOOTMEDIUM_INT_H
#define AGENT_BOOTMEDIUM_INT_H

#include "bootmedium.h"

#include <dirent.h>

/* Fills err (errbuf_printf) and returns e. */
int bm_fail(char *err, size_t errlen, int e, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* scandir filter: no dot entries. */
int bm_only_visible(const struct dirent *e);
/* Looks through the partitions of one disk for a FAT file system labelled
 * label; 0 and fills label, part, disk and dev of ret when found. */
int bm_find_on_disk(const char *sysfs_root, const char *dev_root, const char *disk, const char *label,
		    struct bootmedium *ret);
/* The kernel name of partition number partno of disk (sysfs `partition`
 * attribute); -ENOENT when sysfs does not (yet) show it. */
int bm_part_by_number(const char *sysfs_root, const char *disk, int partno, char *ret_name, size_t size);
/* True for an entry file of slot: qserv-<slot>.conf, or with systemd-boot's
 * boot counting suffix qserv-<slot>+LEFT[-DONE].conf. */
bool bm_slot_entry(const char *name, const char *slot);

#endif
