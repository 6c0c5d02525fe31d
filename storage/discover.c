/* discover.c: block-device discovery from sysfs.
 *
 * Reads <sysfs_root>/block/<name>/... only, so unit tests run on fake trees.
 * The transport and the by-path id come from where the block/<name> link
 * points in the device tree (.../nvme/..., .../ata1/..., .../usb2/...).
 * Skipped outright (never listed): ram, zram, dm, md, nbd, floppies, optical
 * drives (scsi type 5), devices of size 0 and, unless asked for, loop devices.
 * Disks held by md/dm are listed with their holders so planning can report
 * them; disks are sorted by name. */
#include "qstorage.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool skipped_name(const char *name, unsigned flags)
{
	static const char *const skip[] = { "ram", "zram", "dm-", "md", "nbd", "fd", "sr", "scd" };

	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (!strncmp(name, skip[i], strlen(skip[i])))
			return true;
	if (!strncmp(name, "loop", 4))
		return !(flags & QSTORAGE_DISCOVER_LOOP);
	return name[0] == '.';
}

/* Transport from the device path the block/<name> link points to. */
static const char *transport_of(const char *name, const char *target)
{
	if (!strncmp(name, "loop", 4))
		return "loop";
	if (strstr(target, "/nvme") || !strncmp(name, "nvme", 4))
		return "nvme";
	if (strstr(target, "/usb"))
		return "usb";
	if (strstr(target, "/mmc_host/") || !strncmp(name, "mmcblk", 6))
		return "mmc";
	if (strstr(target, "/ata"))
		return "sata";
	if (strstr(target, "/end_device-") || strstr(target, "/sas_"))
		return "sas";
	if (strstr(target, "/target"))
		return "scsi";
	if (strstr(target, "/virtio") || !strncmp(name, "vd", 2))
		return "virtio";
	return "unknown";
}

static bool is_pci_addr(const char *s, size_t l)
{
	/* 0000:00:1f.2 */
	if (l != 12)
		return false;
	for (size_t i = 0; i < l; i++) {
		char c = s[i];
		if (i == 4 || i == 7) {
			if (c != ':')
				return false;
		} else if (i == 10) {
			if (c != '.')
				return false;
		} else if (!isxdigit((unsigned char)c)) {
			return false;
		}
	}
	return true;
}

static bool is_hctl(const char *s, size_t l)
{
	int colons = 0;

	for (size_t i = 0; i < l; i++) {
		if (s[i] == ':')
			colons++;
		else if (!isdigit((unsigned char)s[i]))
			return false;
	}
	return colons == 3 && l >= 7;
}

/* "path-pci-0000:00:04.0-scsi-0:0:1:0", "path-pci-0000:00:05.0-nvme-1". */
static void by_path(const char *name, const char *target, char *out, size_t size)
{
	char pci[16] = "", hctl[32] = "";
	const char *p = target;

	while (*p) {
		const char *e = strchr(p, '/');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (is_pci_addr(p, l))
			snprintf(pci, sizeof(pci), "%.*s", (int)l, p);
		else if (is_hctl(p, l) && l < sizeof(hctl))
			snprintf(hctl, sizeof(hctl), "%.*s", (int)l, p);
		if (!e)
			break;
		p = e + 1;
	}
	if (!pci[0]) {
		snprintf(out, size, "path-%s", name);
		return;
	}
	const char *ns = !strncmp(name, "nvme", 4) ? strrchr(name, 'n') : NULL;
	if (hctl[0])
		snprintf(out, size, "path-pci-%s-scsi-%s", pci, hctl);
	else if (ns && ns != name && isdigit((unsigned char)ns[1]))
		snprintf(out, size, "path-pci-%s-nvme-%s", pci, ns + 1);
	else
		snprintf(out, size, "path-pci-%s", pci);
}

/* SCSI unit serial number VPD page: 4-byte header, length in byte 3. */
static void vpd80_serial(const char *dir, char *out, size_t size)
{
	char path[4096];
	unsigned char buf[256];
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof(path), "%s/device/vpd_pg80", dir) >= (int)sizeof(path))
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 4 || buf[1] != 0x80)
		return;
	size_t len = buf[3];
	if (len > (size_t)n - 4)
		len = (size_t)n - 4;
	if (len >= size)
		len = size - 1;
	memcpy(out, buf + 4, len);
	out[len] = '\0';
	qs_tidy(out);
}

static void list_dir(const char *dir, const char *sub, bool partitions, char *out, size_t size)
{
	char path[4096];
	struct dirent *de;
	DIR *d;
	size_t used = 0;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s%s%s", dir, sub[0] ? "/" : "", sub);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		char probe[64];
		if (de->d_name[0] == '.')
			continue;
		if (partitions) {
			char rel[512];
			snprintf(rel, sizeof(rel), "%s/partition", de->d_name);
			if (qs_read_line(path, rel, probe, sizeof(probe)) < 0)
				continue;
		}
		int n = snprintf(out + used, size - used, "%s%s", used ? " " : "", de->d_name);
		if (n < 0 || (size_t)n >= size - used) {
			out[used] = '\0';
			break;
		}
		used += (size_t)n;
	}
	closedir(d);
}

static void stable_id(struct qstorage_disk *d, const char *dir, const char *target)
{
	char buf[4096];

	if (!strcmp(d->transport, "loop")) {
		if (qs_read_line(dir, "loop/backing_file", buf, sizeof(buf)) < 0)
			qs_strlcpy(buf, d->name, sizeof(buf));
		if (snprintf(d->id, sizeof(d->id), "loop:%s", buf) >= (int)sizeof(d->id))
			d->id[sizeof(d->id) - 1] = '\0'; /* long paths: truncated id */
		return;
	}
	if (d->wwid[0]) {
		qs_strlcpy(d->id, d->wwid, sizeof(d->id));
	} else if (d->serial[0]) {
		snprintf(d->id, sizeof(d->id), "serial-%s%s%s", d->model, d->model[0] ? "_" : "",
			 d->serial);
	} else {
		by_path(d->name, target, d->id, sizeof(d->id));
	}
	/* ids travel in qserv.wipe= lists and shell words */
	for (char *p = d->id; *p; p++)
		if (*p == ',' || *p == ' ' || *p == '"' || *p == '\'')
			*p = '_';
}

int qstorage_discover_one(const char *sysfs_root, const char *name, unsigned flags,
			  struct qstorage_disk *ret_disk, char *err, size_t errlen)
{
	struct qstorage_disk d;
	char dir[4096], target[4096], buf[256];
	ssize_t n;

	if (!sysfs_root)
		sysfs_root = "/sys";
	if (skipped_name(name, flags) || strlen(name) >= sizeof(d.name))
		return -ENOENT;
	memset(&d, 0, sizeof(d));
	d.index = -1;
	qs_strlcpy(d.name, name, sizeof(d.name));
	snprintf(dir, sizeof(dir), "%s/block/%s", sysfs_root, name);
	n = readlink(dir, target, sizeof(target) - 1);
	if (n < 0) {
		if (errno != EINVAL)
			return qs_err(err, errlen, -errno, "%s: %s", dir, strerror(errno));
		n = 0; /* a plain directory (old sysfs, fake trees) */
	}
	target[n] = '\0';

	d.size_bytes = qs_read_u64(dir, "size", 0) * 512;
	if (d.size_bytes == 0)
		return -ENOENT;
	if (qs_read_u64(dir, "device/type", 0) == 5) /* TYPE_ROM: CD/DVD */
		return -ENOENT;
	d.logical_sector = (unsigned)qs_read_u64(dir, "queue/logical_block_size", 512);
	d.physical_sector = (unsigned)qs_read_u64(dir, "queue/physical_block_size", d.logical_sector);
	d.rotational = qs_read_u64(dir, "queue/rotational", 0) != 0;
	d.removable = qs_read_u64(dir, "removable", 0) != 0;
	d.read_only = qs_read_u64(dir, "ro", 0) != 0;
	if (qs_read_line(dir, "dev", buf, sizeof(buf)) == 0)
		sscanf(buf, "%u:%u", &d.dev_major, &d.dev_minor);
	qs_strlcpy(d.transport, transport_of(name, target), sizeof(d.transport));

	if (qs_read_line(dir, "device/model", d.model, sizeof(d.model)) < 0 &&
	    qs_read_line(dir, "device/name", d.model, sizeof(d.model)) < 0)
		d.model[0] = '\0';
	qs_tidy(d.model);
	if (qs_read_line(dir, "serial", d.serial, sizeof(d.serial)) < 0 &&
	    qs_read_line(dir, "device/serial", d.serial, sizeof(d.serial)) < 0)
		vpd80_serial(dir, d.serial, sizeof(d.serial));
	qs_tidy(d.serial);
	if (qs_read_line(dir, "wwid", d.wwid, sizeof(d.wwid)) < 0 &&
	    qs_read_line(dir, "device/wwid", d.wwid, sizeof(d.wwid)) < 0)
		d.wwid[0] = '\0';
	qs_tidy(d.wwid);
	stable_id(&d, dir, target);
	list_dir(dir, "holders", false, d.holders, sizeof(d.holders));
	list_dir(dir, "", true, d.partitions, sizeof(d.partitions));
	*ret_disk = d;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	const struct qstorage_disk *x = a, *y = b;
	size_t lx = strlen(x->name), ly = strlen(y->name);

	/* sdb before sdaa, loop2 before loop10 */
	if (lx != ly)
		return lx < ly ? -1 : 1;
	return strcmp(x->name, y->name);
}

int qstorage_discover(const char *sysfs_root, unsigned flags, struct qstorage_disk **ret_disks,
		      size_t *ret_n, char *err, size_t errlen)
{
	struct qstorage_disk *disks = NULL;
	size_t n = 0, cap = 0;
	char dir[4096];
	struct dirent *de;
	DIR *dp;
	int r = 0;

	if (!sysfs_root)
		sysfs_root = "/sys";
	snprintf(dir, sizeof(dir), "%s/block", sysfs_root);
	dp = opendir(dir);
	if (!dp)
		return qs_err(err, errlen, -errno, "cannot list %s: %s", dir, strerror(errno));
	while ((de = readdir(dp))) {
		struct qstorage_disk d;
		if (qstorage_discover_one(sysfs_root, de->d_name, flags, &d, NULL, 0) < 0)
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct qstorage_disk *nd = realloc(disks, ncap * sizeof(*nd));
			if (!nd) {
				r = qs_err(err, errlen, -ENOMEM, "out of memory");
				break;
			}
			disks = nd, cap = ncap;
		}
		disks[n++] = d;
	}
	closedir(dp);
	if (r < 0) {
		free(disks);
		return r;
	}
	if (n)
		qsort(disks, n, sizeof(*disks), by_name);
	*ret_disks = disks;
	*ret_n = n;
	return 0;
}

void qstorage_disks_free(struct qstorage_disk *disks, size_t n)
{
	(void)n;
	free(disks);
}
