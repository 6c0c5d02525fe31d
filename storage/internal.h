/* internal.h: functions shared between libqstorage's files, not exported
 * to the agent (see qstorage.h for the API). */
#ifndef QSTORAGE_INTERNAL_H
#define QSTORAGE_INTERNAL_H

#include "qstorage.h"

#include <stdbool.h>
#include <stddef.h>

/* gpt.c: fresh GPT on dev_path (a disk or an image file) with one
 * partition of QSTORAGE_PART_TYPE named name, then BLKRRPART for block
 * devices.  Opens O_EXCL: refused while anything holds the disk. */
int qs_gpt_write(const char *dev_path, const char *name, char *err, size_t errlen);

/* gpt.c: tells the kernel about partition partno (BLKPG), for kernels
 * that do not parse GPTs themselves (no CONFIG_EFI_PARTITION). */
int qs_part_add(const char *dev_path, int partno, uint64_t start, uint64_t size, char *err,
		size_t errlen);

/* plan.c: "qserv-fast0" -> FAST, 0; false for anything else. */
bool qs_parse_label(const char *label, enum qstorage_pool *ret_pool, int *ret_index);

/* fs.c: filesystems of ours. */
/* Runs argv (PATH search, stdin /dev/null); returns the exit status (>= 0),
 * or -errno if it could not run.  The last line of its output goes to err. */
int qs_run(char *const argv[], char *err, size_t errlen);
int qs_mkfs(const char *dev, const char *fs_type, const char *label, char *err, size_t errlen);
/* 0 clean or repaired, -EUCLEAN damaged beyond automatic repair, -errno. */
int qs_fsck(const char *dev, const char *fs_type, char *err, size_t errlen);
/* mkdir -p mountpoint, mount(2) with MS_NOATIME. */
int qs_mount(const char *dev, const char *mountpoint, const char *fs_type, char *err,
	     size_t errlen);
/* Where device major:minor is mounted (first mount in /proc/self/mountinfo):
 * 1 found, 0 not mounted. */
int qs_find_mount(unsigned major, unsigned minor, char *ret_mountpoint, size_t size);
/* Is path a mount point (of anything)? */
bool qs_is_mountpoint(const char *path);
int qs_mkdir_p(const char *path, unsigned mode);
/* The marker file at the root of our filesystems. */
struct qs_marker {
	char node[64];
	char pool[8];
	int index;
	char disk[160];
};
int qs_marker_write(const char *mnt, const struct qs_marker *m, char *err, size_t errlen);
/* -ENOENT when there is none. */
int qs_marker_read(const char *mnt, struct qs_marker *ret_m);

/* wipe.c: erase every signature and the first and last MiB of an open
 * (O_EXCL) disk. */
int qs_wipe_fd(int fd, const char *dev_path, char *err, size_t errlen);

/* watch.c: is this kernel uevent (raw datagram) about a whole disk being
 * added, removed or changed? */
bool qs_uevent_is_disk(const char *buf, size_t len);

#endif
