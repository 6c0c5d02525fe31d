/* bootmedium_install.c: installs the boot medium onto an internal disk
 * (`install=SELECTOR`, see bootmedium.h).
 *
 * Install is a byte copy of the medium's partitioned area rather than new
 * partitions and file copies: the copy boots exactly as the medium did
 * (same loaders, same syslinux boot sector and ldlinux.sys, same
 * qserv.conf) and needs no mtools or mkfs in the image; libfdisk then
 * rewrites the GPT (new GUIDs, backup header at the end of the disk), and
 * the kernel's vfat writes the second slot and the boot entries
 * (bootmedium_slots.c; ldlinux.sys, whose sectors the boot sector records,
 * is never moved). */
#include "bootmedium_int.h"

#include "fileio.h"
#include "storage/qstorage.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libfdisk/libfdisk.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>

#define ESP_TYPE "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"

/* End of the medium's partitioned area in bytes: the end of its last
 * partition plus 1 MiB (where the image keeps its backup GPT). */
static int medium_end(const char *sysfs_root, const char *disk, uint64_t *ret_end)
{
	struct dirent **parts;
	char path[800];
	uint64_t end = 0;
	int n;

	snprintf(path, sizeof(path), "%s/block/%s", sysfs_root, disk);
	n = scandir(path, &parts, bm_only_visible, alphasort);
	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		unsigned long long start = 0, size = 0;
		FILE *f;

		snprintf(path, sizeof(path), "%s/block/%s/%s/start", sysfs_root, disk, parts[i]->d_name);
		f = fopen(path, "re");
		if (f) {
			if (fscanf(f, "%llu", &start) != 1)
				start = 0;
			fclose(f);
			snprintf(path, sizeof(path), "%s/block/%s/%s/size", sysfs_root, disk,
				 parts[i]->d_name);
			f = fopen(path, "re");
			if (f && fscanf(f, "%llu", &size) == 1 && (start + size) * 512 > end)
				end = (start + size) * 512;
			if (f)
				fclose(f);
		}
		free(parts[i]);
	}
	free(parts);
	if (!end)
		return -ENOENT;
	*ret_end = end + 1024 * 1024;
	return 0;
}

static int new_guid(char *buf, size_t size)
{
	FILE *f = fopen("/proc/sys/kernel/random/uuid", "re");
	int r;

	buf[0] = '\0';
	r = f && fgets(buf, (int)size, f) ? 0 : -EIO;
	if (f)
		fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	for (char *p = buf; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return r;
}

/* The ESP's new GUID and partition number (0 = none) of the copy. */
struct esp_id {
	char uuid[40];
	int partno;
};

/* True when partition i of cxt has the EFI system partition type. */
static bool is_esp(struct fdisk_context *cxt, size_t i)
{
	struct fdisk_partition *pa = NULL;
	struct fdisk_parttype *t;
	bool esp = false;

	if (fdisk_get_partition(cxt, i, &pa) == 0) {
		t = fdisk_partition_get_type(pa);
		esp = t && fdisk_parttype_get_string(t) &&
		      !strcasecmp(fdisk_parttype_get_string(t), ESP_TYPE);
	}
	fdisk_unref_partition(pa);
	return esp;
}

/* New GUIDs for the disk and each partition: the copy must not share them
 * with the medium (or with another node's copy).  Notes the ESP's. */
static int new_guids(struct fdisk_context *cxt, struct esp_id *ret_esp)
{
	char guid[sizeof(ret_esp->uuid)];
	size_t n = fdisk_get_npartitions(cxt);
	int r = new_guid(guid, sizeof(guid));

	if (r == 0)
		r = fdisk_set_disklabel_id_from_string(cxt, guid);
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct fdisk_partition *pa;

		if (!fdisk_is_partition_used(cxt, i))
			continue;
		pa = fdisk_new_partition();
		r = pa ? new_guid(guid, sizeof(guid)) : -ENOMEM;
		if (r == 0 && is_esp(cxt, i) && !ret_esp->partno) {
			snprintf(ret_esp->uuid, sizeof(ret_esp->uuid), "%s", guid);
			ret_esp->partno = (int)i + 1;
		}
		if (r == 0)
			r = fdisk_partition_set_uuid(pa, guid);
		if (r == 0)
			r = fdisk_set_partition(cxt, i, pa);
		fdisk_unref_partition(pa);
	}
	return r;
}

/* The copied GPT still says the disk ends where the medium ended: libfdisk
 * rewrites it with the backup header and last usable LBA at the end of
 * this disk, and new GUIDs (the protective MBR's boot code is kept). */
static int relocate_gpt(int fd, const char *dst, struct esp_id *ret_esp, char *err, size_t errlen)
{
	struct fdisk_context *cxt = fdisk_new_context();
	int r;

	if (!cxt)
		return bm_fail(err, errlen, -ENOMEM, "out of memory");
	r = fdisk_assign_device_by_fd(cxt, fd, dst, 0);
	if (r == 0 && !fdisk_is_labeltype(cxt, FDISK_DISKLABEL_GPT))
		r = -EINVAL;
	if (r == 0)
		r = new_guids(cxt, ret_esp);
	if (r == 0)
		r = fdisk_write_disklabel(cxt);
	if (r < 0)
		bm_fail(err, errlen, r, "%s: rewriting the copied GPT: %s", dst, strerror(-r));
	fdisk_deassign_device(cxt, 1);
	fdisk_unref_context(cxt);
	return r < 0 ? r : 0;
}

/* Copies len bytes from src to dst (both block devices or files), then
 * relocates the GPT and has the kernel re-read a block device's
 * partitions (*ret_blockdev). */
static int copy_bytes(const char *src, const char *dst, uint64_t len, struct esp_id *ret_esp,
		      bool *ret_blockdev, char *err, size_t errlen)
{
	size_t chunk = 1024 * 1024;
	char *buf = malloc(chunk);
	int in = open(src, O_RDONLY | O_CLOEXEC);
	int out = open(dst, O_RDWR | O_CLOEXEC | O_EXCL);
	struct stat st;
	int r = 0;

	if (!buf || in < 0 || out < 0) {
		r = bm_fail(err, errlen, buf ? -errno : -ENOMEM, "open %s: %s", in < 0 ? src : dst,
			    strerror(errno));
		goto out;
	}
	for (uint64_t done = 0; done < len;) {
		size_t want = len - done < chunk ? (size_t)(len - done) : chunk;
		ssize_t got = read(in, buf, want);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			r = bm_fail(err, errlen, got < 0 ? -errno : -EIO, "read %s at %llu: %s", src,
				    (unsigned long long)done, got < 0 ? strerror(errno) : "short read");
			goto out;
		}
		r = fileio_write_full(out, buf, (size_t)got);
		if (r < 0) {
			bm_fail(err, errlen, r, "write %s at %llu: %s", dst, (unsigned long long)done, strerror(-r));
			goto out;
		}
		done += (uint64_t)got;
	}
	if (fsync(out) < 0) {
		r = bm_fail(err, errlen, -errno, "fsync %s: %s", dst, strerror(errno));
		goto out;
	}
	r = relocate_gpt(out, dst, ret_esp, err, errlen);
	if (r == 0 && fsync(out) < 0)
		r = bm_fail(err, errlen, -errno, "fsync %s: %s", dst, strerror(errno));
	*ret_blockdev = fstat(out, &st) == 0 && S_ISBLK(st.st_mode);
	if (r == 0 && *ret_blockdev && ioctl(out, BLKRRPART) < 0)
		r = bm_fail(err, errlen, -errno, "%s: re-reading partitions: %s", dst, strerror(errno));
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	free(buf);
	return r;
}

/* Mounts the copied ESP (partition esp->partno of disk) read-write and
 * writes both slots with entries naming its new GUID. */
static int install_slots(const char *sysfs_root, const char *dev_root, const char *disk,
			 const struct esp_id *esp, const char *slot, char *err, size_t errlen)
{
	struct timespec pause = { 0, 100 * 1000 * 1000 };
	char name[32], dev[96];
	int r;

	if (!esp->partno)
		return bm_fail(err, errlen, -ENOENT, "%s: the copy has no EFI system partition", disk);
	/* The re-read is done; devtmpfs makes the node a moment later. */
	for (int waited = 0;; waited += 100) {
		r = bm_part_by_number(sysfs_root, disk, esp->partno, name, sizeof(name));
		if (r == 0) {
			snprintf(dev, sizeof(dev), "%s/%s", dev_root, name);
			if (access(dev, F_OK) == 0)
				break;
		}
		if (waited >= 5000)
			return bm_fail(err, errlen, -ENOENT, "%s: partition %d did not appear", disk,
				       esp->partno);
		nanosleep(&pause, NULL);
	}
	if (mkdir(BOOTMEDIUM_INSTALL_DIR, 0755) < 0 && errno != EEXIST)
		return bm_fail(err, errlen, -errno, "mkdir %s: %s", BOOTMEDIUM_INSTALL_DIR, strerror(errno));
	if (mount(dev, BOOTMEDIUM_INSTALL_DIR, "vfat", MS_NOSUID | MS_NODEV | MS_NOEXEC, "") < 0)
		return bm_fail(err, errlen, -errno, "mount %s: %s", dev, strerror(errno));
	r = bootmedium_write_slots(BOOTMEDIUM_INSTALL_DIR, slot, esp->uuid, err, errlen);
	if (umount(BOOTMEDIUM_INSTALL_DIR) < 0 && r == 0)
		r = bm_fail(err, errlen, -errno, "umount %s: %s", dev, strerror(errno));
	return r;
}

/* The one disk matching selector, other than skip (*ret_skip_matches says
 * whether skip matches too); -ENOENT/-E2BIG otherwise. */
static int install_target(const char *sysfs_root, const char *selector, const char *skip,
			  struct qstorage_disk *ret, bool *ret_skip_matches, char *err, size_t errlen)
{
	struct qstorage_selector *sel = NULL;
	struct qstorage_disk *disks = NULL;
	size_t n = 0, errpos = 0, matches = 0;
	char names[256] = "";
	int r;

	r = qstorage_selector_parse(selector, &sel, &errpos, err, errlen);
	if (r < 0)
		return r;
	r = qstorage_discover(sysfs_root, 0, &disks, &n, err, errlen);
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (!qstorage_selector_match(sel, &disks[i]))
			continue;
		if (!strcmp(disks[i].name, skip)) {
			*ret_skip_matches = true;
			continue;
		}
		if (matches++ == 0)
			*ret = disks[i];
		snprintf(names + strlen(names), sizeof(names) - strlen(names), " %s", disks[i].name);
	}
	qstorage_disks_free(disks, n);
	qstorage_selector_free(sel);
	if (r < 0)
		return r;
	if (matches == 0)
		return bm_fail(err, errlen, -ENOENT, "no disk matches install=%s", selector);
	if (matches > 1)
		return bm_fail(err, errlen, -E2BIG, "install=%s matches several disks:%s", selector, names);
	return 0;
}

int bootmedium_install(const struct bootmedium *bm, const char *sysfs_root, const char *dev_root,
		       const char *selector, char *ret_target, size_t target_size, char *err,
		       size_t errlen)
{
	struct qstorage_disk target;
	struct qstorage_probe probe;
	struct bootmedium there;
	char src[96], dst[96];
	struct esp_id esp = { .partno = 0 };
	bool medium_matches = false, blockdev = false;
	uint64_t end = 0;
	int r;

	if (!bm->disk[0])
		return bm_fail(err, errlen, -ENODEV, "no boot medium to install from");
	r = install_target(sysfs_root, selector, bm->disk, &target, &medium_matches, err, errlen);
	if (r == -ENOENT && medium_matches)
		return bm_fail(err, errlen, 1, "booted from %s, the disk install= selects", bm->disk);
	if (r < 0)
		return r;
	if (bm_find_on_disk(sysfs_root, dev_root, target.name, bm->label, &there) == 0)
		return bm_fail(err, errlen, 1, "%s already holds a %s partition (%s)", target.name,
			       bm->label, there.part);
	snprintf(dst, sizeof(dst), "%s/%s", dev_root, target.name);
	snprintf(src, sizeof(src), "%s/%s", dev_root, bm->disk);
	r = qstorage_probe_disk(dst, &probe, err, errlen);
	if (r < 0)
		return r;
	if (probe.content != QSTORAGE_CONTENT_BLANK)
		return bm_fail(err, errlen, -EEXIST, "%s (%s) is not blank (%s): not installing", target.name,
			       target.id, probe.signature[0] ? probe.signature : "data");
	r = medium_end(sysfs_root, bm->disk, &end);
	if (r < 0)
		return bm_fail(err, errlen, r, "%s: no partitions in sysfs", bm->disk);
	if (end > target.size_bytes)
		return bm_fail(err, errlen, -ENOSPC, "%s has %llu bytes, the boot files need %llu",
			       target.name, (unsigned long long)target.size_bytes,
			       (unsigned long long)end);
	r = copy_bytes(src, dst, end, &esp, &blockdev, err, errlen);
	if (r == 0 && blockdev)
		r = install_slots(sysfs_root, dev_root, target.name, &esp, bm->slot[0] ? bm->slot : "a",
				  err, errlen);
	if (r < 0)
		return r;
	snprintf(ret_target, target_size, "%s", target.name);
	return 0;
}
