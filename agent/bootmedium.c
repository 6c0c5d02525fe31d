/* bootmedium.c: finds the boot medium by the GPT GUID of its ESP (or the
 * FAT label of its config partition) and mounts the config partition
 * read-only (see bootmedium.h; the slots, boot counting and install live
 * in the other bootmedium_*.c, see bootmedium_int.h).
 *
 * Partitions are listed from sysfs (<sysfs>/block/<disk>/<part>/partition),
 * so the whole disk's kernel name comes for free; file systems are probed
 * through libqstorage's libblkid probe, partition tables with libblkid's
 * partlist on the whole disk (which also works on a disk image file, so the
 * unit tests need no loop device).  Polling rather than listening to
 * uevents: the agent has nothing else to do before its configuration is
 * read, and a 200 ms poll is simpler than a second uevent consumer. */
#include "bootmedium_int.h"

#include "errbuf.h"
#include "fileio.h"
#include "storage/qstorage.h"

#include <blkid/blkid.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int bm_fail(char *err, size_t errlen, int e, const char *fmt, ...)
	    {
	    va_list ap;

	va_start(ap, fmt);
	errbuf_vprintf(err, errlen, fmt, ap);
	va_end(ap);
	return e;
}

/* The value of the last `key` word (key includes the '=') of cmdline:
 * *ret_val points into cmdline, *ret_len is its length; false if none. */
static bool cmdline_word(const char *cmdline, const char *key, const char **ret_val, size_t *ret_len)
{
	size_t klen = strlen(key);
	bool found = false;

	for (const char *p = cmdline; p && *p;) {
		size_t n;

		p += strspn(p, " \t\n");
		n = strcspn(p, " \t\n");
		if (n >= klen && !strncmp(p, key, klen)) {
			*ret_val = p + klen;
			*ret_len = n - klen;
			found = true;
		}
		p += n;
	}
	return found;
}

static bool is_guid(const char *s, size_t n)
{
	if (n != 36)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((i == 8 || i == 13 || i == 18 || i == 23) ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

static bool is_slot(const char *s, size_t n)
{
	if (n == 0 || n >= sizeof(((struct bootmedium *)0)->slot))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]))
			return false;
	return true;
}

int bootmedium_cmdline(const char *cmdline, struct bootmedium *ret)
{
	static const char uuid_key[] = "PARTUUID=";
	const char *v;
	size_t n;

	if (cmdline_word(cmdline, "bootslot=", &v, &n)) {
		if (!is_slot(v, n))
			return -EINVAL;
		memcpy(ret->slot, v, n);
		ret->slot[n] = '\0';
	}
	if (!cmdline_word(cmdline, "bootmedium=", &v, &n))
		return -ENOENT;
	if (n > sizeof(uuid_key) - 1 && !strncmp(v, uuid_key, sizeof(uuid_key) - 1)) {
		v += sizeof(uuid_key) - 1;
		n -= sizeof(uuid_key) - 1;
		if (!is_guid(v, n))
			return -EINVAL;
		for (size_t i = 0; i < n; i++)
			ret->partuuid[i] = (char)toupper((unsigned char)v[i]);
		ret->partuuid[n] = '\0';
		return 0;
	}
	if (n == 0 || n >= sizeof(ret->label) || !strncmp(v, uuid_key, n))
		return -EINVAL;
	memcpy(ret->label, v, n);
	ret->label[n] = '\0';
	ret->partuuid[0] = '\0';
	return 0;
}

int bm_only_visible(const struct dirent *e)
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

int bm_find_on_disk(const char *sysfs_root, const char *dev_root, const char *disk, const char *label,
		    struct bootmedium *ret)
{
	struct dirent **parts;
	char dir[512], path[800], dev[96];
	int n, found = -ENOENT;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/block/%s", sysfs_root, disk);
	n = scandir(dir, &parts, bm_only_visible, alphasort);
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
	char want[sizeof(ret->label)];
	struct dirent **disks;
	char dir[512];
	int n, r = -ENOENT;

	if (strlen(label) >= sizeof(want))
		return bm_fail(err, errlen, -EINVAL, "label %s too long", label);
	snprintf(want, sizeof(want), "%s", label); /* label may be ret->label */
	snprintf(dir, sizeof(dir), "%s/block", sysfs_root);
	n = scandir(dir, &disks, bm_only_visible, alphasort);
	if (n < 0)
		return bm_fail(err, errlen, -errno, "%s: %s", dir, strerror(errno));
	for (int i = 0; i < n; i++) {
		if (r < 0 && strlen(disks[i]->d_name) < sizeof(ret->disk))
			r = bm_find_on_disk(sysfs_root, dev_root, disks[i]->d_name, want, ret);
		free(disks[i]);
	}
	free(disks);
	if (r < 0)
		return bm_fail(err, errlen, r, "no FAT partition labelled %s", want);
	return 0;
}

/* The number of the partition of disk image/device `dev` whose GPT GUID
 * is uuid; -ENOENT if none (or no readable partition table). */
static int partno_of_uuid(const char *dev, const char *uuid)
{
	blkid_probe pr = blkid_new_probe_from_filename(dev);
	blkid_partlist ls;
	int r = -ENOENT, n;

	if (!pr)
		return -ENOENT;
	blkid_probe_enable_superblocks(pr, 0);
	blkid_probe_enable_partitions(pr, 1);
	ls = blkid_probe_get_partitions(pr);
	n = ls ? blkid_partlist_numof_partitions(ls) : 0;
	for (int i = 0; i < n && r < 0; i++) {
		blkid_partition par = blkid_partlist_get_partition(ls, i);
		const char *u = par ? blkid_partition_get_uuid(par) : NULL;

		if (u && !strcasecmp(u, uuid))
			r = blkid_partition_get_partno(par);
	}
	blkid_free_probe(pr);
	return r;
}

int bm_part_by_number(const char *sysfs_root, const char *disk, int partno, char *ret_name, size_t size)
{
	struct dirent **parts;
	char dir[512], path[800];
	int n, r = -ENOENT;

	snprintf(dir, sizeof(dir), "%s/block/%s", sysfs_root, disk);
	n = scandir(dir, &parts, bm_only_visible, alphasort);
	if (n < 0)
		return -ENOENT;
	for (int i = 0; i < n; i++) {
		FILE *f;
		int no;

		snprintf(path, sizeof(path), "%s/%s/partition", dir, parts[i]->d_name);
		f = r < 0 ? fopen(path, "re") : NULL;
		if (f) {
			if (fscanf(f, "%d", &no) == 1 && no == partno && strlen(parts[i]->d_name) < size) {
				snprintf(ret_name, size, "%s", parts[i]->d_name);
				r = 0;
			}
			fclose(f);
		}
		free(parts[i]);
	}
	free(parts);
	return r;
}

int bootmedium_find_partuuid(const char *sysfs_root, const char *dev_root, const char *partuuid,
			     struct bootmedium *ret, char *err, size_t errlen)
{
	struct bootmedium found = { 0 };
	struct dirent **disks;
	char dir[512], dev[600];
	int n, partno = -ENOENT;

	if (strlen(partuuid) >= sizeof(found.partuuid))
		return bm_fail(err, errlen, -EINVAL, "PARTUUID %s too long", partuuid);
	snprintf(dir, sizeof(dir), "%s/block", sysfs_root);
	n = scandir(dir, &disks, bm_only_visible, alphasort);
	if (n < 0)
		return bm_fail(err, errlen, -errno, "%s: %s", dir, strerror(errno));
	for (int i = 0; i < n; i++) {
		const char *disk = disks[i]->d_name;
		size_t len = strlen(disk);

		if (partno < 0 && len < sizeof(found.disk)) {
			snprintf(dev, sizeof(dev), "%s/%s", dev_root, disk);
			partno = partno_of_uuid(dev, partuuid);
			if (partno >= 0)
				memcpy(found.disk, disk, len + 1);
		}
		free(disks[i]);
	}
	free(disks);
	if (partno < 0)
		return bm_fail(err, errlen, -ENOENT, "no partition with PARTUUID %s", partuuid);
	if (bm_part_by_number(sysfs_root, found.disk, partno, found.esp_part, sizeof(found.esp_part)) < 0)
		return bm_fail(err, errlen, -ENOENT, "%s: partition %d (PARTUUID %s) not in sysfs yet",
			       found.disk, partno, partuuid);
	snprintf(dev, sizeof(dev), "%s", found.disk); /* bm_find_on_disk fills found.disk */
	if (bm_find_on_disk(sysfs_root, dev_root, dev, BOOTMEDIUM_LABEL, &found) < 0)
		return bm_fail(err, errlen, -ENOENT, "%s (PARTUUID %s on %s) has no FAT partition labelled %s",
			       dev, partuuid, found.esp_part, BOOTMEDIUM_LABEL);
	snprintf(found.partuuid, sizeof(found.partuuid), "%s", partuuid);
	snprintf(ret->partuuid, sizeof(ret->partuuid), "%s", found.partuuid);
	snprintf(ret->esp_part, sizeof(ret->esp_part), "%s", found.esp_part);
	snprintf(ret->label, sizeof(ret->label), "%s", found.label);
	snprintf(ret->part, sizeof(ret->part), "%s", found.part);
	snprintf(ret->disk, sizeof(ret->disk), "%s", found.disk);
	snprintf(ret->dev, sizeof(ret->dev), "%s", found.dev);
	return 0;
}

int bootmedium_mount(struct bootmedium *bm, const char *mountpoint, char *err, size_t errlen)
{
	char conf[sizeof(bm->conf_path)];

	if (strlen(mountpoint) >= sizeof(bm->mountpoint) ||
	    strlen(mountpoint) + 1 + strlen(BOOTMEDIUM_CONF) >= sizeof(conf))
		return bm_fail(err, errlen, -ENAMETOOLONG, "%s: name too long", mountpoint);
	if (mkdir(mountpoint, 0755) < 0 && errno != EEXIST)
		return bm_fail(err, errlen, -errno, "mkdir %s: %s", mountpoint, strerror(errno));
	if (mount(bm->dev, mountpoint, "vfat", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "") < 0 && errno != EBUSY)
		return bm_fail(err, errlen, -errno, "mount %s on %s: %s", bm->dev, mountpoint,
			       strerror(errno));
	snprintf(bm->mountpoint, sizeof(bm->mountpoint), "%s", mountpoint);
	snprintf(conf, sizeof(conf), "%s/%s", mountpoint, BOOTMEDIUM_CONF);
	bm->conf_path[0] = '\0';
	if (access(conf, R_OK) == 0)
		snprintf(bm->conf_path, sizeof(bm->conf_path), "%s", conf);
	return 0;
}

int bootmedium_open(struct bootmedium *bm, const char *sysfs_root, const char *dev_root,
		    const char *cmdline_path, const char *mountpoint, unsigned wait_ms, char *err,
		    size_t errlen)
{
	char *cmdline = fileio_read_all(cmdline_path, 4096, NULL);
	struct timespec pause = { 0, 200 * 1000 * 1000 };
	unsigned waited = 0;
	int r;

	memset(bm, 0, sizeof(*bm));
	snprintf(bm->label, sizeof(bm->label), "%s", BOOTMEDIUM_LABEL);
	if (cmdline) {
		r = bootmedium_cmdline(cmdline, bm);
		free(cmdline);
		if (r == -EINVAL)
			return bm_fail(err, errlen, r, "%s: bad bootmedium= or bootslot= word", cmdline_path);
		bm->wanted = r == 0;
	}
	for (;;) {
		if (bm->partuuid[0])
			r = bootmedium_find_partuuid(sysfs_root, dev_root, bm->partuuid, bm, err, errlen);
		else
			r = bootmedium_find(sysfs_root, dev_root, bm->label, bm, err, errlen);
		if (r != -ENOENT || !bm->wanted || waited >= wait_ms)
			break;
		nanosleep(&pause, NULL);
		waited += 200;
	}
	if (r == -ENOENT && bm->wanted) {
		size_t n = strlen(err);

		snprintf(err + n, errlen - n, " after %u s", wait_ms / 1000);
	}
	if (r < 0)
		return r;
	return bootmedium_mount(bm, mountpoint, err, errlen);
}

