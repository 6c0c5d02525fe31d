/* probe.c: what is on a disk, read-only, through libblkid.
 *
 * A disk is BLANK only when libblkid finds no signature at all (partition
 * table, filesystem, RAID, LVM, swap...), none at 1 MiB either (where an old
 * partition would have started), and its first and last MiB read as zeros:
 * data we cannot name is still data.  It is OURS when it carries a GPT with
 * exactly one partition whose type is QSTORAGE_PART_TYPE; the filesystem on
 * that partition is probed by offset, so no partition device node is
 * needed.  Everything else is FOREIGN, with what was found. */
#include "qstorage.h"
#include "util.h"

#include <blkid/blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/fs.h>
#include <unistd.h>

#define MIB (1024 * 1024)

static void lookup(blkid_probe pr, const char *name, char *out, size_t size)
{
	const char *v = NULL;

	out[0] = '\0';
	if (blkid_probe_lookup_value(pr, name, &v, NULL) == 0 && v)
		qs_strlcpy(out, v, size);
}

/* Superblocks + partition tables at [off, off+size) of fd: 1 found, 0 none,
 * -EIO/-EEXIST (ambivalent: several signatures). */
static int signature_at(int fd, uint64_t off, uint64_t size, bool parts, char *sig, size_t siglen,
			char *label, size_t labellen)
{
	blkid_probe pr = blkid_new_probe();
	int r;

	sig[0] = '\0';
	if (label)
		label[0] = '\0';
	if (!pr)
		return -ENOMEM;
	if (blkid_probe_set_device(pr, fd, (blkid_loff_t)off, (blkid_loff_t)size) < 0) {
		blkid_free_probe(pr);
		return -EIO;
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_LABEL |
						      BLKID_SUBLKS_USAGE);
	blkid_probe_enable_partitions(pr, parts);
	if (parts)
		blkid_probe_set_partitions_flags(pr, BLKID_PARTS_MAGIC);
	r = blkid_do_safeprobe(pr);
	if (r == 0) {
		lookup(pr, "PTTYPE", sig, siglen);
		if (!sig[0])
			lookup(pr, "TYPE", sig, siglen);
		if (!sig[0])
			qs_strlcpy(sig, "unknown signature", siglen);
		if (label)
			lookup(pr, "LABEL", label, labellen);
		r = 1;
	} else if (r == -2) {
		qs_strlcpy(sig, "several signatures (ambivalent)", siglen);
		r = 1;
	} else if (r == 1) {
		r = 0;
	} else {
		r = -EIO;
	}
	blkid_free_probe(pr);
	return r;
}

static int dev_size(int fd, uint64_t *ret)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		uint64_t sz;
		if (ioctl(fd, BLKGETSIZE64, &sz) < 0)
			return -errno;
		*ret = sz;
	} else {
		*ret = (uint64_t)st.st_size;
	}
	return 0;
}

/* 1 if [off, off+len) is all zero, 0 if not, -errno. */
static int all_zero(int fd, uint64_t off, size_t len)
{
	static unsigned char buf[64 * 1024];

	while (len) {
		size_t chunk = len < sizeof(buf) ? len : sizeof(buf);
		ssize_t n = pread(fd, buf, chunk, (off_t)off);
		if (n < 0)
			return -errno;
		if (n == 0)
			return 1;
		for (ssize_t i = 0; i < n; i++)
			if (buf[i])
				return 0;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 1;
}

/* The whole disk's page cache is not kept coherent with writes made through
 * its partitions (mkfs, a mounted filesystem): drop it, so a probe sees
 * what is on the disk now, not what a probe saw before. */
static void drop_cache(int fd)
{
	struct stat st;

	if (fstat(fd, &st) == 0 && S_ISBLK(st.st_mode))
		ioctl(fd, BLKFLSBUF, 0);
}

/* GPT: is it exactly one partition of our type?  Fills p when it is. */
static int check_gpt(int fd, uint64_t size, struct qstorage_probe *p)
{
	blkid_probe pr = blkid_new_probe();
	blkid_partlist ls;
	int r = 0;

	if (!pr)
		return -ENOMEM;
	if (blkid_probe_set_device(pr, fd, 0, 0) < 0) {
		blkid_free_probe(pr);
		return -EIO;
	}
	ls = blkid_probe_get_partitions(pr);
	int n = ls ? blkid_partlist_numof_partitions(ls) : 0;
	blkid_partition par = n == 1 ? blkid_partlist_get_partition(ls, 0) : NULL;
	const char *type = par ? blkid_partition_get_type_string(par) : NULL;
	if (!par || !type || strcasecmp(type, QSTORAGE_PART_TYPE)) {
		snprintf(p->signature, sizeof(p->signature), "gpt (%d partition%s%s%s)", n,
			 n == 1 ? "" : "s", n == 1 ? ", type " : "", n == 1 && type ? type : "");
		p->content = QSTORAGE_CONTENT_FOREIGN;
		goto out;
	}
	const char *name = blkid_partition_get_name(par);
	qs_strlcpy(p->part_label, name ? name : "", sizeof(p->part_label));
	p->part_no = blkid_partition_get_partno(par);
	uint64_t start = (uint64_t)blkid_partition_get_start(par) * 512;
	uint64_t len = (uint64_t)blkid_partition_get_size(par) * 512;
	if (start + len > size) {
		p->content = QSTORAGE_CONTENT_FOREIGN;
		qs_strlcpy(p->signature, "gpt (partition beyond the end of the disk)", sizeof(p->signature));
		goto out;
	}
	p->content = QSTORAGE_CONTENT_OURS;
	p->part_start = start;
	p->part_size = len;
	qs_strlcpy(p->signature, "gpt", sizeof(p->signature));
	r = signature_at(fd, start, len, false, p->fs_type, sizeof(p->fs_type), p->fs_label,
			 sizeof(p->fs_label));
	if (r > 0 && strstr(p->fs_type, "ambivalent"))
		p->fs_type[0] = '\0';
	r = r < 0 ? r : 0;
out:
	blkid_free_probe(pr);
	return r;
}

int qstorage_probe_disk(const char *dev_path, struct qstorage_probe *ret_probe, char *err,
			size_t errlen)
{
	struct qstorage_probe p;
	uint64_t size = 0;
	int fd, r;

	memset(&p, 0, sizeof(p));
	fd = open(dev_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return qs_err(err, errlen, -errno, "%s: %s", dev_path, strerror(errno));
	if ((r = dev_size(fd, &size)) < 0) {
		qs_err(err, errlen, r, "%s: size: %s", dev_path, strerror(-r));
		goto out;
	}
	drop_cache(fd);
	r = signature_at(fd, 0, 0, true, p.signature, sizeof(p.signature), NULL, 0);
	if (r < 0) {
		qs_err(err, errlen, r, "%s: libblkid probe failed", dev_path);
		goto out;
	}
	if (r > 0) {
		p.content = QSTORAGE_CONTENT_FOREIGN;
		if (!strcmp(p.signature, "gpt") && (r = check_gpt(fd, size, &p)) < 0) {
			qs_err(err, errlen, r, "%s: reading the GPT failed", dev_path);
			goto out;
		}
		r = 0;
		goto done;
	}
	/* No signature at 0: an old partition's filesystem at 1 MiB? */
	if (size > 2 * MIB) {
		char sig[64];
		r = signature_at(fd, MIB, size - MIB, false, sig, sizeof(sig), NULL, 0);
		if (r > 0) {
			p.content = QSTORAGE_CONTENT_FOREIGN;
			snprintf(p.signature, sizeof(p.signature), "%s at 1 MiB (old partition)", sig);
			r = 0;
			goto done;
		}
	}
	/* No signature anywhere blkid looks: require zeros at both ends. */
	uint64_t head = size < MIB ? size : MIB;
	int z = all_zero(fd, 0, (size_t)head);
	if (z == 1 && size > MIB)
		z = all_zero(fd, size - MIB, MIB);
	if (z < 0) {
		r = qs_err(err, errlen, z, "%s: read: %s", dev_path, strerror(-z));
		goto out;
	}
	if (z == 0) {
		p.content = QSTORAGE_CONTENT_FOREIGN;
		qs_strlcpy(p.signature, "unknown data (no known signature, first/last MiB not zero)",
			   sizeof(p.signature));
	} else {
		p.content = QSTORAGE_CONTENT_BLANK;
	}
	r = 0;
done:
	*ret_probe = p;
out:
	close(fd);
	return r;
}

int qstorage_probe_fs(const char *dev_path, char *ret_type, size_t typelen, char *ret_label,
		      size_t labellen, char *err, size_t errlen)
{
	char type[64], label[64];
	int fd, r;

	fd = open(dev_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return qs_err(err, errlen, -errno, "%s: %s", dev_path, strerror(errno));
	drop_cache(fd);
	r = signature_at(fd, 0, 0, false, type, sizeof(type), label, sizeof(label));
	close(fd);
	if (r < 0)
		return qs_err(err, errlen, r, "%s: libblkid probe failed", dev_path);
	qs_strlcpy(ret_type, r ? type : "", typelen);
	qs_strlcpy(ret_label, r ? label : "", labellen);
	return 0;
}
