/* gpt.c: writes our partition table with libfdisk: a fresh GPT holding one
 * partition of type QSTORAGE_PART_TYPE, named after pool and index
 * ("qserv-fast0"), aligned by libfdisk's defaults (1 MiB) and spanning the
 * disk.  The device is opened O_EXCL, so a disk that anything has mounted or
 * claimed is refused by the kernel, and the kernel is told to re-read the
 * table (BLKRRPART) afterwards.  Callers have already decided the disk may be
 * written (blank, or a wipe the operator allowed). */
#include "internal.h"
#include "qstorage.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libfdisk/libfdisk.h>
#include <linux/blkpg.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

static int add_partition(struct fdisk_context *cxt, const char *name, char *err, size_t errlen)
{
	/* not in libfdisk's table of known types: an "unknown" type by GUID */
	struct fdisk_parttype *t = fdisk_new_unknown_parttype(0, QSTORAGE_PART_TYPE);
	struct fdisk_partition *pa = fdisk_new_partition();
	int r;

	if (!t || !pa) {
		r = qs_err(err, errlen, -ENOMEM, "libfdisk: cannot make the partition");
		goto out;
	}
	if ((r = fdisk_partition_set_partno(pa, 0)) < 0 ||
	    (r = fdisk_partition_start_follow_default(pa, 1)) < 0 ||
	    (r = fdisk_partition_end_follow_default(pa, 1)) < 0 ||
	    (r = fdisk_partition_set_type(pa, t)) < 0 || (r = fdisk_partition_set_name(pa, name)) < 0 ||
	    (r = fdisk_add_partition(cxt, pa, NULL)) < 0)
		qs_err(err, errlen, r, "libfdisk: adding the partition failed: %s", strerror(-r));
out:
	fdisk_unref_partition(pa);
	fdisk_unref_parttype(t);
	return r;
}

int qs_gpt_write(const char *dev_path, const char *name, char *err, size_t errlen)
{
	struct fdisk_context *cxt;
	struct stat st;
	int fd, r;

	fd = open(dev_path, O_RDWR | O_CLOEXEC | O_EXCL);
	if (fd < 0)
		return qs_err(err, errlen, -errno, "%s: open for writing: %s", dev_path, strerror(errno));
	cxt = fdisk_new_context();
	if (!cxt) {
		r = qs_err(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	if ((r = fdisk_assign_device_by_fd(cxt, fd, dev_path, 0)) < 0) {
		qs_err(err, errlen, r, "%s: libfdisk cannot use the device: %s", dev_path, strerror(-r));
		goto out;
	}
	if ((r = fdisk_create_disklabel(cxt, "gpt")) < 0) {
		qs_err(err, errlen, r, "%s: cannot create a GPT: %s", dev_path, strerror(-r));
		goto out_dev;
	}
	if ((r = add_partition(cxt, name, err, errlen)) < 0)
		goto out_dev;
	if ((r = fdisk_write_disklabel(cxt)) < 0) {
		qs_err(err, errlen, r, "%s: writing the GPT failed: %s", dev_path, strerror(-r));
		goto out_dev;
	}
	if (fsync(fd) < 0) {
		r = qs_err(err, errlen, -errno, "%s: fsync: %s", dev_path, strerror(errno));
		goto out_dev;
	}
	if (fstat(fd, &st) == 0 && S_ISBLK(st.st_mode) && ioctl(fd, BLKRRPART) < 0) {
		r = qs_err(err, errlen, -errno,
			   "%s: the kernel did not re-read the partition table: %s%s", dev_path,
			   strerror(errno), errno == EINVAL ? " (loop device without partscan?)" : "");
		goto out_dev;
	}
	r = 0;
out_dev:
	fdisk_deassign_device(cxt, 1);
out:
	fdisk_unref_context(cxt);
	close(fd);
	return r;
}

int qs_part_add(const char *dev_path, int partno, uint64_t start, uint64_t size, char *err,
		size_t errlen)
{
	struct blkpg_partition part = { .start = (long long)start, .length = (long long)size,
					.pno = partno };
	struct blkpg_ioctl_arg arg = { .op = BLKPG_ADD_PARTITION, .datalen = sizeof(part),
				       .data = &part };
	int fd = open(dev_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	int r = 0;

	if (fd < 0)
		return qs_err(err, errlen, -errno, "%s: %s", dev_path, strerror(errno));
	if (ioctl(fd, BLKPG, &arg) < 0 && errno != EBUSY) /* EBUSY: already there */
		r = qs_err(err, errlen, -errno, "%s: adding partition %d (BLKPG): %s", dev_path, partno,
			   strerror(errno));
	close(fd);
	return r;
}
