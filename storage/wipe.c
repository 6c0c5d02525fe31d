/* wipe.c: erasing a disk the operator named (qserv.wipe= or `qstorage wipe
 * <id> --yes`).  Every signature libblkid can find is erased (blkid_do_wipe,
 * what wipefs does, so RAID/LVM superblocks at the end go too), then the
 * first and last MiB are zeroed so the disk probes as blank.  The caller
 * holds the disk open O_EXCL, so a mounted or claimed disk never gets here. */
#include "internal.h"
#include "util.h"

#include <blkid/blkid.h>
#include <errno.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define MIB (1024 * 1024)

static int zero_range(int fd, uint64_t off, size_t len)
{
	char *buf = calloc(1, len);
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	n = pwrite(fd, buf, len, (off_t)off);
	free(buf);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int qs_wipe_fd(int fd, const char *dev_path, char *err, size_t errlen)
{
	blkid_probe pr = blkid_new_probe();
	struct stat st;
	uint64_t size;
	int r;

	if (!pr)
		return qs_err(err, errlen, -ENOMEM, "out of memory");
	if (blkid_probe_set_device(pr, fd, 0, 0) < 0) {
		blkid_free_probe(pr);
		return qs_err(err, errlen, -EIO, "%s: libblkid cannot use the device", dev_path);
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_MAGIC);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_MAGIC);
	while (blkid_do_probe(pr) == 0) {
		if (blkid_do_wipe(pr, 0) < 0) {
			blkid_free_probe(pr);
			return qs_err(err, errlen, -EIO, "%s: erasing a signature failed", dev_path);
		}
	}
	blkid_free_probe(pr);
	if (fstat(fd, &st) < 0)
		return qs_err(err, errlen, -errno, "%s: %s", dev_path, strerror(errno));
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size) < 0)
			return qs_err(err, errlen, -errno, "%s: size: %s", dev_path, strerror(errno));
	} else {
		size = (uint64_t)st.st_size;
	}
	size_t head = size < MIB ? (size_t)size : MIB;
	if ((r = zero_range(fd, 0, head)) < 0 || (size > MIB && (r = zero_range(fd, size - MIB, MIB)) < 0))
		return qs_err(err, errlen, r, "%s: zeroing failed: %s", dev_path, strerror(-r));
	if (fsync(fd) < 0)
		return qs_err(err, errlen, -errno, "%s: fsync: %s", dev_path, strerror(errno));
	if (S_ISBLK(st.st_mode))
		ioctl(fd, BLKRRPART); /* drop the kernel's view of old partitions; may fail */
	return 0;
}
