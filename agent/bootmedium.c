/* bootmedium.c: finds the boot medium by the FAT label of its config
 * partition and mounts that partition read-only (see bootmedium.h).
 *
 * Partitions are listed from sysfs (<sysfs>/block/<disk>/<part>/partition),
 * so the whole disk's kernel name comes for free; each is probed through
 * libqstorage's libblkid probe, read-only.  Polling rather than listening
 * to uevents: the agent has nothing else to do before its configuration is
 * read, and a 200 ms poll is simpler than a second uevent consumer. */
#include "bootmedium.h"

#include "storage/qstorage.h"

#include <dirent.h>
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
