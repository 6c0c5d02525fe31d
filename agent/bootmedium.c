/* bootmedium.c: finds the boot medium by the GPT GUID of its ESP (or the
 * FAT label of its config partition), mounts the config partition
 * read-only, and installs the medium onto an internal disk with two boot
 * slots (see bootmedium.h).
 *
 * Partitions are listed from sysfs (<sysfs>/block/<disk>/<part>/partition),
 * so the whole disk's kernel name comes for free; file systems are probed
 * through libqstorage's libblkid probe, partition tables with libblkid's
 * partlist on the whole disk (which also works on a disk image file, so the
 * unit tests need no loop device).  Polling rather than listening to
 * uevents: the agent has nothing else to do before its configuration is
 * read, and a 200 ms poll is simpler than a second uevent consumer.
 *
 * Install is a byte copy of the medium's partitioned area rather than new
 * partitions and file copies: the copy boots exactly as the medium did
 * (same loaders, same syslinux boot sector and ldlinux.sys, same
 * qserv.conf) and needs no mtools or mkfs in the image; libfdisk then
 * rewrites the GPT, and the kernel's vfat writes the second slot and the
 * boot entries (text files; ldlinux.sys, whose sectors the boot sector
 * records, is never moved).  The entry and syslinux.cfg formats are the
 * ones images/build-usb.sh writes; keep them in step.
 *
 * Blessing a boot-counted entry is the agent's only write to the medium it
 * booted from, and only after an operator or upgrade put a counted entry
 * there: the ESP is mounted read-only to look, so an ordinary boot writes
 * nothing (the QEMU tests compare the stick byte for byte). */
#include "bootmedium.h"
#include "errbuf.h"

#include "storage/qstorage.h"

#include <blkid/blkid.h>
#include <ctype.h>
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

#define ESP_TYPE "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"

static int fail(char *err, size_t errlen, int e, const char *fmt, ...)
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
	char want[sizeof(ret->label)];
	struct dirent **disks;
	char dir[512];
	int n, r = -ENOENT;

	if (strlen(label) >= sizeof(want))
		return fail(err, errlen, -EINVAL, "label %s too long", label);
	snprintf(want, sizeof(want), "%s", label); /* label may be ret->label */
	snprintf(dir, sizeof(dir), "%s/block", sysfs_root);
	n = scandir(dir, &disks, only_visible, alphasort);
	if (n < 0)
		return fail(err, errlen, -errno, "%s: %s", dir, strerror(errno));
	for (int i = 0; i < n; i++) {
		if (r < 0 && strlen(disks[i]->d_name) < sizeof(ret->disk))
			r = find_on_disk(sysfs_root, dev_root, disks[i]->d_name, want, ret);
		free(disks[i]);
	}
	free(disks);
	if (r < 0)
		return fail(err, errlen, r, "no FAT partition labelled %s", want);
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

/* The kernel name of partition number partno of disk (sysfs `partition`
 * attribute); -ENOENT when sysfs does not (yet) show it. */
static int part_by_number(const char *sysfs_root, const char *disk, int partno, char *ret_name,
			  size_t size)
{
	struct dirent **parts;
	char dir[512], path[800];
	int n, r = -ENOENT;

	snprintf(dir, sizeof(dir), "%s/block/%s", sysfs_root, disk);
	n = scandir(dir, &parts, only_visible, alphasort);
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
		return fail(err, errlen, -EINVAL, "PARTUUID %s too long", partuuid);
	snprintf(dir, sizeof(dir), "%s/block", sysfs_root);
	n = scandir(dir, &disks, only_visible, alphasort);
	if (n < 0)
		return fail(err, errlen, -errno, "%s: %s", dir, strerror(errno));
	for (int i = 0; i < n; i++) {
		if (partno < 0 && strlen(disks[i]->d_name) < sizeof(found.disk)) {
			snprintf(dev, sizeof(dev), "%s/%s", dev_root, disks[i]->d_name);
			partno = partno_of_uuid(dev, partuuid);
			if (partno >= 0)
				snprintf(found.disk, sizeof(found.disk), "%s", disks[i]->d_name);
		}
		free(disks[i]);
	}
	free(disks);
	if (partno < 0)
		return fail(err, errlen, -ENOENT, "no partition with PARTUUID %s", partuuid);
	if (part_by_number(sysfs_root, found.disk, partno, found.esp_part, sizeof(found.esp_part)) < 0)
		return fail(err, errlen, -ENOENT, "%s: partition %d (PARTUUID %s) not in sysfs yet",
			    found.disk, partno, partuuid);
	snprintf(dev, sizeof(dev), "%s", found.disk); /* find_on_disk fills found.disk */
	if (find_on_disk(sysfs_root, dev_root, dev, BOOTMEDIUM_LABEL, &found) < 0)
		return fail(err, errlen, -ENOENT, "%s (PARTUUID %s on %s) has no FAT partition labelled %s",
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

/* The first max bytes of path, NUL-terminated (malloc'd, caller frees);
 * NULL if it cannot be read. */
static char *read_small(const char *path, size_t max)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = malloc(max + 1);
	if (buf) {
		n = fread(buf, 1, max, f);
		buf[n] = '\0';
	}
	fclose(f);
	return buf;
}

int bootmedium_open(struct bootmedium *bm, const char *sysfs_root, const char *dev_root,
		    const char *cmdline_path, const char *mountpoint, unsigned wait_ms, char *err,
		    size_t errlen)
{
	char *cmdline = read_small(cmdline_path, 4096);
	struct timespec pause = { 0, 200 * 1000 * 1000 };
	unsigned waited = 0;
	int r;

	memset(bm, 0, sizeof(*bm));
	snprintf(bm->label, sizeof(bm->label), "%s", BOOTMEDIUM_LABEL);
	if (cmdline) {
		r = bootmedium_cmdline(cmdline, bm);
		free(cmdline);
		if (r == -EINVAL)
			return fail(err, errlen, r, "%s: bad bootmedium= or bootslot= word", cmdline_path);
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

/* ---- boot slots -------------------------------------------------------- */

/* Writes text to dir/name through dir/name.tmp, synced, then renamed. */
static int write_file(const char *dir, const char *name, const char *text, char *err, size_t errlen)
{
	char path[512], tmp[520];
	size_t len = strlen(text);
	int fd, r = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return fail(err, errlen, -errno, "create %s: %s", tmp, strerror(errno));
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0)
		r = fail(err, errlen, -EIO, "write %s: %s", tmp, strerror(errno));
	close(fd);
	if (r == 0 && rename(tmp, path) < 0)
		r = fail(err, errlen, -errno, "rename %s: %s", tmp, strerror(errno));
	if (r < 0)
		unlink(tmp);
	return r;
}

/* Copies file src to dst through dst.tmp, synced, then renamed. */
static int copy_file(const char *src, const char *dst, char *err, size_t errlen)
{
	char tmp[520], *buf = malloc(1 << 20);
	int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, r = 0;
	ssize_t got;

	snprintf(tmp, sizeof(tmp), "%s.tmp", dst);
	if (!buf || in < 0) {
		r = fail(err, errlen, buf ? -errno : -ENOMEM, "open %s: %s", src, strerror(errno));
		goto out;
	}
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		r = fail(err, errlen, -errno, "create %s: %s", tmp, strerror(errno));
		goto out;
	}
	while ((got = read(in, buf, 1 << 20)) > 0)
		if (write(out, buf, (size_t)got) != got)
			break;
	if (got != 0 || fsync(out) < 0)
		r = fail(err, errlen, -EIO, "copy %s to %s: %s", src, tmp, strerror(errno));
	if (r == 0 && rename(tmp, dst) < 0)
		r = fail(err, errlen, -errno, "rename %s: %s", tmp, strerror(errno));
out:
	if (out >= 0)
		close(out);
	if (r < 0 && out >= 0)
		unlink(tmp);
	if (in >= 0)
		close(in);
	free(buf);
	return r;
}

/* True for an entry file of slot: qserv-<slot>.conf, or with systemd-boot's
 * boot counting suffix qserv-<slot>+LEFT[-DONE].conf. */
static bool slot_entry(const char *name, const char *slot)
{
	size_t n = strlen(slot);

	if (strncmp(name, "qserv-", 6) || strncmp(name + 6, slot, n))
		return false;
	name += 6 + n;
	return !strcmp(name, ".conf") || (name[0] == '+' && strlen(name) > 5 &&
					  !strcmp(name + strlen(name) - 5, ".conf"));
}

/* The options of slot's entry in dir/loader/entries without its
 * bootmedium= and bootslot= words, into ret (size bytes). */
static int slot_options(const char *dir, const char *slot, char *ret, size_t size, char *err,
			size_t errlen)
{
	struct dirent **ents;
	char edir[512], path[800], *text = NULL;
	int n;

	snprintf(edir, sizeof(edir), "%s/loader/entries", dir);
	n = scandir(edir, &ents, only_visible, alphasort);
	if (n < 0)
		return fail(err, errlen, -ENOENT, "%s: %s", edir, strerror(errno));
	for (int i = 0; i < n; i++) {
		if (!text && slot_entry(ents[i]->d_name, slot)) {
			snprintf(path, sizeof(path), "%s/%s", edir, ents[i]->d_name);
			text = read_small(path, 16384);
		}
		free(ents[i]);
	}
	free(ents);
	if (!text)
		return fail(err, errlen, -ENOENT, "%s: no entry for slot %s", edir, slot);
	ret[0] = '\0';
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, "options", 7) || !strchr(" \t", line[7]))
			continue;
		for (char *p = line + 7; *p;) {
			size_t w, len = strlen(ret);

			p += strspn(p, " \t\r");
			w = strcspn(p, " \t\r");
			if (w && strncmp(p, "bootmedium=", 11) && strncmp(p, "bootslot=", 9) &&
			    len + w + 2 < size)
				snprintf(ret + len, size - len, "%s%.*s", len ? " " : "", (int)w, p);
			p += w;
		}
	}
	free(text);
	return 0;
}

/* Removes the entries of dir/loader/entries that belong to a slot but are
 * not named keep1 or keep2 (older or counted names). */
static void remove_other_entries(const char *dir, const char *keep1, const char *keep2)
{
	struct dirent **ents;
	char edir[512], path[800];
	int n;

	snprintf(edir, sizeof(edir), "%s/loader/entries", dir);
	n = scandir(edir, &ents, only_visible, alphasort);
	for (int i = 0; i < n; i++) {
		const char *e = ents[i]->d_name;

		if (!strncmp(e, "qserv-", 6) && strcmp(e, keep1) && strcmp(e, keep2)) {
			snprintf(path, sizeof(path), "%s/%s", edir, e);
			unlink(path);
		}
		free(ents[i]);
	}
	if (n >= 0)
		free(ents);
}

int bootmedium_write_slots(const char *esp_dir, const char *slot, const char *partuuid, char *err,
			   size_t errlen)
{
	const char *slots[2] = { "a", "b" }, *other;
	char opts[2048], src[512], dst[512], dir[512], text[8192], syslinux[8192];
	size_t sl;
	int r;

	if (strcmp(slot, "a") && strcmp(slot, "b"))
		return fail(err, errlen, -EINVAL, "boot slot %s: not a or b", slot);
	other = !strcmp(slot, "a") ? "b" : "a";
	r = slot_options(esp_dir, slot, opts, sizeof(opts), err, errlen);
	if (r < 0)
		return r;
	snprintf(dir, sizeof(dir), "%s/qserv/%s", esp_dir, other);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return fail(err, errlen, -errno, "mkdir %s: %s", dir, strerror(errno));
	for (int i = 0; i < 2 && r == 0; i++) {
		const char *f = i ? "initramfs" : "vmlinuz";

		snprintf(src, sizeof(src), "%s/qserv/%s/%s", esp_dir, slot, f);
		snprintf(dst, sizeof(dst), "%s/qserv/%s/%s", esp_dir, other, f);
		r = copy_file(src, dst, err, errlen);
	}
	if (r < 0)
		return r;
	sl = (size_t)snprintf(syslinux, sizeof(syslinux),
			      "SERIAL 0 115200\nDEFAULT qserv-%s\nPROMPT 0\nTIMEOUT 0\n", slot);
	snprintf(dir, sizeof(dir), "%s/loader/entries", esp_dir);
	for (int i = 0; i < 2 && r == 0; i++) {
		const char *s = slots[i];
		char name[32];

		snprintf(text, sizeof(text),
			 "title    qserv-node slot %s\nsort-key qserv\nversion  %d\n"
			 "linux    /qserv/%s/vmlinuz\ninitrd   /qserv/%s/initramfs\n"
			 "options  %s bootmedium=PARTUUID=%s bootslot=%s\n",
			 s, strcmp(s, slot) ? 1 : 2, s, s, opts, partuuid, s);
		snprintf(name, sizeof(name), "qserv-%s.conf", s);
		r = write_file(dir, name, text, err, errlen);
		if (sl < sizeof(syslinux))
			sl += (size_t)snprintf(syslinux + sl, sizeof(syslinux) - sl,
					       "LABEL qserv-%s\n  LINUX /qserv/%s/vmlinuz\n"
					       "  INITRD /qserv/%s/initramfs\n"
					       "  APPEND %s bootmedium=PARTUUID=%s bootslot=%s\n",
					       s, s, s, opts, partuuid, s);
	}
	if (r < 0)
		return r;
	remove_other_entries(esp_dir, "qserv-a.conf", "qserv-b.conf");
	snprintf(dir, sizeof(dir), "%s/syslinux", esp_dir);
	return write_file(dir, "syslinux.cfg", syslinux, err, errlen);
}

/* ---- install ----------------------------------------------------------- */

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
		return fail(err, errlen, -ENOMEM, "out of memory");
	r = fdisk_assign_device_by_fd(cxt, fd, dst, 0);
	if (r == 0 && !fdisk_is_labeltype(cxt, FDISK_DISKLABEL_GPT))
		r = -EINVAL;
	if (r == 0)
		r = new_guids(cxt, ret_esp);
	if (r == 0)
		r = fdisk_write_disklabel(cxt);
	if (r < 0)
		fail(err, errlen, r, "%s: rewriting the copied GPT: %s", dst, strerror(-r));
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
	r = relocate_gpt(out, dst, ret_esp, err, errlen);
	if (r == 0 && fsync(out) < 0)
		r = fail(err, errlen, -errno, "fsync %s: %s", dst, strerror(errno));
	*ret_blockdev = fstat(out, &st) == 0 && S_ISBLK(st.st_mode);
	if (r == 0 && *ret_blockdev && ioctl(out, BLKRRPART) < 0)
		r = fail(err, errlen, -errno, "%s: re-reading partitions: %s", dst, strerror(errno));
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
		return fail(err, errlen, -ENOENT, "%s: the copy has no EFI system partition", disk);
	/* The re-read is done; devtmpfs makes the node a moment later. */
	for (int waited = 0;; waited += 100) {
		r = part_by_number(sysfs_root, disk, esp->partno, name, sizeof(name));
		if (r == 0) {
			snprintf(dev, sizeof(dev), "%s/%s", dev_root, name);
			if (access(dev, F_OK) == 0)
				break;
		}
		if (waited >= 5000)
			return fail(err, errlen, -ENOENT, "%s: partition %d did not appear", disk,
				    esp->partno);
		nanosleep(&pause, NULL);
	}
	if (mkdir(BOOTMEDIUM_INSTALL_DIR, 0755) < 0 && errno != EEXIST)
		return fail(err, errlen, -errno, "mkdir %s: %s", BOOTMEDIUM_INSTALL_DIR, strerror(errno));
	if (mount(dev, BOOTMEDIUM_INSTALL_DIR, "vfat", MS_NOSUID | MS_NODEV | MS_NOEXEC, "") < 0)
		return fail(err, errlen, -errno, "mount %s: %s", dev, strerror(errno));
	r = bootmedium_write_slots(BOOTMEDIUM_INSTALL_DIR, slot, esp->uuid, err, errlen);
	if (umount(BOOTMEDIUM_INSTALL_DIR) < 0 && r == 0)
		r = fail(err, errlen, -errno, "umount %s: %s", dev, strerror(errno));
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
	struct esp_id esp = { .partno = 0 };
	bool medium_matches = false, blockdev = false;
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
	r = copy_bytes(src, dst, end, &esp, &blockdev, err, errlen);
	if (r == 0 && blockdev)
		r = install_slots(sysfs_root, dev_root, target.name, &esp, bm->slot[0] ? bm->slot : "a",
				  err, errlen);
	if (r < 0)
		return r;
	snprintf(ret_target, target_size, "%s", target.name);
	return 0;
}

/* ---- boot counting ----------------------------------------------------- */

int bootmedium_bless_dir(const char *esp_dir, const char *slot, char *ret_entry, size_t size,
			 char *err, size_t errlen)
{
	struct dirent **ents;
	char edir[512], from[800], to[800];
	int n, r = 0;

	snprintf(edir, sizeof(edir), "%s/loader/entries", esp_dir);
	n = scandir(edir, &ents, only_visible, alphasort);
	if (n < 0)
		return fail(err, errlen, -errno, "%s: %s", edir, strerror(errno));
	for (int i = 0; i < n; i++) {
		const char *e = ents[i]->d_name;

		if (r == 0 && slot_entry(e, slot) && strchr(e, '+')) {
			snprintf(from, sizeof(from), "%s/%s", edir, e);
			snprintf(to, sizeof(to), "%s/qserv-%s.conf", edir, slot);
			if (rename(from, to) < 0)
				r = fail(err, errlen, -errno, "rename %s: %s", from, strerror(errno));
			else
				r = 1;
			if (ret_entry && size)
				snprintf(ret_entry, size, "%s", e);
		}
		free(ents[i]);
	}
	free(ents);
	return r;
}

int bootmedium_bless(const struct bootmedium *bm, const char *dev_root, const char *mountpoint,
		     char *ret_entry, size_t size, char *err, size_t errlen)
{
	char dev[96], edir[512];
	bool counted = false;
	struct dirent **ents;
	int n, r;

	if (!bm->esp_part[0] || !bm->slot[0])
		return 0;
	snprintf(dev, sizeof(dev), "%s/%s", dev_root, bm->esp_part);
	if (mkdir(mountpoint, 0755) < 0 && errno != EEXIST)
		return fail(err, errlen, -errno, "mkdir %s: %s", mountpoint, strerror(errno));
	/* A look read-only first: the ESP is written only to bless. */
	if (mount(dev, mountpoint, "vfat", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "") < 0)
		return fail(err, errlen, -errno, "mount %s: %s", dev, strerror(errno));
	snprintf(edir, sizeof(edir), "%s/loader/entries", mountpoint);
	n = scandir(edir, &ents, only_visible, alphasort);
	for (int i = 0; i < n; i++) {
		counted |= slot_entry(ents[i]->d_name, bm->slot) && strchr(ents[i]->d_name, '+');
		free(ents[i]);
	}
	if (n >= 0)
		free(ents);
	r = 0;
	if (counted && mount(dev, mountpoint, "vfat", MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			     "") < 0)
		r = fail(err, errlen, -errno, "remount %s read-write: %s", dev, strerror(errno));
	else if (counted)
		r = bootmedium_bless_dir(mountpoint, bm->slot, ret_entry, size, err, errlen);
	if (umount(mountpoint) < 0 && r >= 0)
		r = fail(err, errlen, -errno, "umount %s: %s", dev, strerror(errno));
	return r;
}
