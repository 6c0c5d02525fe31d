/* bootmedium.c: finds the boot medium by the FAT label of its config
 * partition, mounts that partition read-only, and installs the medium onto
 * an internal disk (see bootmedium.h).
 *
 * Partitions are listed from sysfs (<sysfs>/block/<disk>/<part>/partition),
 * so the whole disk's kernel name comes for free; each is probed through
 * libqstorage's libblkid probe, read-only.  Polling rather than listening
 * to uevents: the agent has nothing else to do before its configuration is
 * read, and a 200 ms poll is simpler than a second uevent consumer.
 *
 * Install is a byte copy of the medium's partitioned area rather than new
 * partitions and file copies: the copy boots exactly as the medium did
 * (same loaders, same boot sector, same qserv.conf) and needs no mtools or
 * mkfs in the image; only the GPT is then rewritten by libfdisk. */
#include "bootmedium.h"

#include "storage/qstorage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libfdisk/libfdisk.h>
#include <stdarg.h>
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

static int fail(char *err, size_t errlen, int e, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return e;
}

int bootmedium_cmdline_label(const char *cmdline, char *ret_label, size_t size)
{
	static const char key[] = "bootmedium=";
	const char *p = cmdline;

	while (p && *p) {
		size_t n;

		p += strspn(p, " \t\n");
		n = strcspn(p, " \t\n");
		if (n >= sizeof(key) - 1 && !strncmp(p, key, sizeof(key) - 1)) {
			size_t l = n - (sizeof(key) - 1);

			if (l == 0 || l >= size)
				return -EINVAL;
			memcpy(ret_label, p + sizeof(key) - 1, l);
			ret_label[l] = '\0';
			return 0;
		}
		p += n;
	}
	return -ENOENT;
}

static int only_visible(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

/* Probes dev_root/part; true when it is FAT labelled `label`. */
static bool labelled(const char *dev_root, const char *part, const char *label, char *dev,
		     size_t devlen)
{
	char type[32], fslabel[64];

	snprintf(dev, devlen, "%s/%s", dev_root, part);
	if (qstorage_probe_fs(dev, type, sizeof(type), fslabel, sizeof(fslabel), NULL, 0) < 0)
		return false;
	return !strcmp(type, "vfat") && !strcasecmp(fslabel, label);
}

/* Looks through the partitions of one disk; 0 and fills ret when found. */
static int find_on_disk(const char *sysfs_root, const char *dev_root, const char *disk,
			const char *label, struct bootmedium *ret)
{
	struct dirent **parts;
	char dir[512], path[800], dev[96];
	int n, found = -ENOENT;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/block/%s", sysfs_root, disk);
	n = scandir(dir, &parts, only_visible, alphasort);
	if (n < 0)
		return -ENOENT;
	for (int i = 0; i < n; i++) {
		const char *part = parts[i]->d_name;

		snprintf(path, sizeof(path), "%s/%s/partition", dir, part);
		if (found == 0 || strlen(part) >= sizeof(ret->part) || stat(path, &st) < 0 ||
		    !labelled(dev_root, part, label, dev, sizeof(dev)))
			continue;
		snprintf(ret->label, sizeof(ret->label), "%s", label);
		snprintf(ret->part, sizeof(ret->part), "%s", part);
		snprintf(ret->disk, sizeof(ret->disk), "%s", disk);
		snprintf(ret->dev, sizeof(ret->dev), "%s", dev);
		found = 0;
	}
	for (int i = 0; i < n; i++)
		free(parts[i]);
	free(parts);
	return found;
}

int bootmedium_find(const char *sysfs_root, const char *dev_root, const char *label,
		    struct bootmedium *ret, char *err, size_t errlen)
{
	struct dirent **disks;
	char dir[512];
	int n, r = -ENOENT;

	if (strlen(label) >= sizeof(ret->label))
		return fail(err, errlen, -EINVAL, "label %s too long", label);
	snprintf(dir, sizeof(dir), "%s/block", sysfs_root);
	n = scandir(dir, &disks, only_visible, alphasort);
	if (n < 0)
		return fail(err, errlen, -errno, "%s: %s", dir, strerror(errno));
	for (int i = 0; i < n; i++) {
		if (r < 0 && strlen(disks[i]->d_name) < sizeof(ret->disk))
			r = find_on_disk(sysfs_root, dev_root, disks[i]->d_name, label, ret);
		free(disks[i]);
	}
	free(disks);
	if (r < 0)
		return fail(err, errlen, r, "no FAT partition labelled %s", label);
	return 0;
}

int bootmedium_mount(struct bootmedium *bm, const char *mountpoint, char *err, size_t errlen)
{
	char conf[sizeof(bm->conf_path)];

	if (strlen(mountpoint) >= sizeof(bm->mountpoint) ||
	    strlen(mountpoint) + 1 + strlen(BOOTMEDIUM_CONF) >= sizeof(conf))
		return fail(err, errlen, -ENAMETOOLONG, "%s: name too long", mountpoint);
	if (mkdir(mountpoint, 0755) < 0 && errno != EEXIST)
		return fail(err, errlen, -errno, "mkdir %s: %s", mountpoint, strerror(errno));
	if (mount(bm->dev, mountpoint, "vfat", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "") < 0 && errno != EBUSY)
		return fail(err, errlen, -errno, "mount %s on %s: %s", bm->dev, mountpoint,
			    strerror(errno));
	snprintf(bm->mountpoint, sizeof(bm->mountpoint), "%s", mountpoint);
	snprintf(conf, sizeof(conf), "%s/%s", mountpoint, BOOTMEDIUM_CONF);
	bm->conf_path[0] = '\0';
	if (access(conf, R_OK) == 0)
		snprintf(bm->conf_path, sizeof(bm->conf_path), "%s", conf);
	return 0;
}

static char *read_small(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = malloc(4097);
	if (buf) {
		n = fread(buf, 1, 4096, f);
		buf[n] = '\0';
	}
	fclose(f);
	return buf;
}

int bootmedium_open(struct bootmedium *bm, const char *sysfs_root, const char *dev_root,
		    const char *cmdline_path, const char *mountpoint, unsigned wait_ms, char *err,
		    size_t errlen)
{
	char label[sizeof(bm->label)] = BOOTMEDIUM_LABEL;
	char *cmdline = read_small(cmdline_path);
	struct timespec pause = { 0, 200 * 1000 * 1000 };
	unsigned waited = 0;
	int r;

	memset(bm, 0, sizeof(*bm));
	if (cmdline) {
		r = bootmedium_cmdline_label(cmdline, label, sizeof(label));
		free(cmdline);
		if (r == -EINVAL)
			return fail(err, errlen, r, "%s: bad bootmedium= word", cmdline_path);
		bm->wanted = r == 0;
	}
	for (;;) {
		r = bootmedium_find(sysfs_root, dev_root, label, bm, err, errlen);
		if (r != -ENOENT || !bm->wanted || waited >= wait_ms)
			break;
		nanosleep(&pause, NULL);
		waited += 200;
	}
	if (r == -ENOENT && bm->wanted)
		return fail(err, errlen, r, "no FAT partition labelled %s after %u s", label,
			    wait_ms / 1000);
	if (r < 0)
		return r;
	return bootmedium_mount(bm, mountpoint, err, errlen);
}

/* End of the medium's partitioned area in bytes: the end of its last
 * partition plus 1 MiB (where the image keeps its backup GPT). */
static int medium_end(const char *sysfs_root, const char *disk, uint64_t *ret_end)
{
	struct dirent **parts;
	char path[800];
	uint64_t end = 0;
	int n;

	snprintf(path, sizeof(path), "%s/block/%s", sysfs_root, disk);
	n = scandir(path, &parts, only_visible, alphasort);
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
	int r = f && fgets(buf, (int)size, f) ? 0 : -EIO;

	if (f)
		fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return r;
}

/* New GUIDs for the disk and each partition: the copy must not share them
 * with the medium (or with another node's copy). */
static int new_guids(struct fdisk_context *cxt)
{
	char guid[64];
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
static int relocate_gpt(int fd, const char *dst, char *err, size_t errlen)
{
	struct fdisk_context *cxt = fdisk_new_context();
	int r;

	if (!cxt)
		return fail(err, errlen, -ENOMEM, "out of memory");
	r = fdisk_assign_device_by_fd(cxt, fd, dst, 0);
	if (r == 0 && !fdisk_is_labeltype(cxt, FDISK_DISKLABEL_GPT))
		r = -EINVAL;
	if (r == 0)
		r = new_guids(cxt);
	if (r == 0)
		r = fdisk_write_disklabel(cxt);
	if (r < 0)
		fail(err, errlen, r, "%s: rewriting the copied GPT: %s", dst, strerror(-r));
	fdisk_deassign_device(cxt, 1);
	fdisk_unref_context(cxt);
	return r < 0 ? r : 0;
}

/* Copies len bytes from src to dst (both block devices or files). */
static int copy_bytes(const char *src, const char *dst, uint64_t len, char *err, size_t errlen)
{
	size_t chunk = 1024 * 1024;
	char *buf = malloc(chunk);
	int in = open(src, O_RDONLY | O_CLOEXEC);
	int out = open(dst, O_RDWR | O_CLOEXEC | O_EXCL);
	int r = 0;

	if (!buf || in < 0 || out < 0) {
		r = fail(err, errlen, buf ? -errno : -ENOMEM, "open %s: %s", in < 0 ? src : dst,
			 strerror(errno));
		goto out;
	}
	for (uint64_t done = 0; done < len;) {
		size_t want = len - done < chunk ? (size_t)(len - done) : chunk;
		ssize_t got = pread(in, buf, want, (off_t)done);

		if (got <= 0) {
			r = fail(err, errlen, got < 0 ? -errno : -EIO, "read %s at %llu: %s", src,
				 (unsigned long long)done, got < 0 ? strerror(errno) : "short read");
			goto out;
		}
		if (pwrite(out, buf, (size_t)got, (off_t)done) != got) {
			r = fail(err, errlen, -EIO, "write %s at %llu: %s", dst,
				 (unsigned long long)done, strerror(errno));
			goto out;
		}
		done += (uint64_t)got;
	}
	if (fsync(out) < 0) {
		r = fail(err, errlen, -errno, "fsync %s: %s", dst, strerror(errno));
		goto out;
	}
	r = relocate_gpt(out, dst, err, errlen);
	if (r == 0 && fsync(out) < 0)
		r = fail(err, errlen, -errno, "fsync %s: %s", dst, strerror(errno));
	if (r == 0)
		ioctl(out, BLKRRPART); /* a regular file (tests) has no partitions to re-read */
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	free(buf);
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
		return fail(err, errlen, -ENOENT, "no disk matches install=%s", selector);
	if (matches > 1)
		return fail(err, errlen, -E2BIG, "install=%s matches several disks:%s", selector, names);
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
	bool medium_matches = false;
	uint64_t end = 0;
	int r;

	if (!bm->disk[0])
		return fail(err, errlen, -ENODEV, "no boot medium to install from");
	r = install_target(sysfs_root, selector, bm->disk, &target, &medium_matches, err, errlen);
	if (r == -ENOENT && medium_matches)
		return fail(err, errlen, 1, "booted from %s, the disk install= selects", bm->disk);
	if (r < 0)
		return r;
	if (find_on_disk(sysfs_root, dev_root, target.name, bm->label, &there) == 0)
		return fail(err, errlen, 1, "%s already holds a %s partition (%s)", target.name,
			    bm->label, there.part);
	snprintf(dst, sizeof(dst), "%s/%s", dev_root, target.name);
	snprintf(src, sizeof(src), "%s/%s", dev_root, bm->disk);
	r = qstorage_probe_disk(dst, &probe, err, errlen);
	if (r < 0)
		return r;
	if (probe.content != QSTORAGE_CONTENT_BLANK)
		return fail(err, errlen, -EEXIST, "%s (%s) is not blank (%s): not installing", target.name,
			    target.id, probe.signature[0] ? probe.signature : "data");
	r = medium_end(sysfs_root, bm->disk, &end);
	if (r < 0)
		return fail(err, errlen, r, "%s: no partitions in sysfs", bm->disk);
	if (end > target.size_bytes)
		return fail(err, errlen, -ENOSPC, "%s has %llu bytes, the boot files need %llu",
			    target.name, (unsigned long long)target.size_bytes,
			    (unsigned long long)end);
	r = copy_bytes(src, dst, end, err, errlen);
	if (r < 0)
		return r;
	snprintf(ret_target, target_size, "%s", target.name);
	return 0;
}
