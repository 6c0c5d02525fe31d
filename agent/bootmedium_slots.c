/* bootmedium_slots.c: the two boot slots of an ESP (see bootmedium.h):
 * /qserv/<slot>/{vmlinuz,initramfs}, a systemd-boot entry per slot and a
 * syslinux.cfg with a label per slot.  Writing them copies the booted
 * slot's files into the other slot and rewrites every entry from the
 * booted slot's kernel command line.  Each file is replaced atomically
 * (fileio_write_atomic), so a power cut leaves the old file or the new one.
 * The entry and syslinux.cfg formats are the ones images/build-usb.sh
 * writes; keep them in step. */
#include "bootmedium_int.h"

#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Writes text to dir/name atomically (fileio_write_atomic). */
static int write_file(const char *dir, const char *name, const char *text, char *err, size_t errlen)
{
	char path[512];
	int r;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return bm_fail(err, errlen, -ENAMETOOLONG, "%s/%s: name too long", dir, name);
	r = fileio_write_atomic(path, text, strlen(text), 0644);
	if (r < 0)
		return bm_fail(err, errlen, r, "write %s: %s", path, strerror(-r));
	return 0;
}

/* Copies file src to dst atomically: src is mapped (a kernel or initramfs
 * of tens of MiB is not read into a buffer) and written by
 * fileio_write_atomic. */
static int copy_file(const char *src, const char *dst, char *err, size_t errlen)
{
	int in = open(src, O_RDONLY | O_CLOEXEC), r;
	void *map = MAP_FAILED;
	struct stat st;

	if (in < 0 || fstat(in, &st) < 0) {
		r = bm_fail(err, errlen, -errno, "open %s: %s", src, strerror(errno));
		goto out;
	}
	if (st.st_size > 0 && (map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, in, 0)) == MAP_FAILED) {
		r = bm_fail(err, errlen, -errno, "read %s: %s", src, strerror(errno));
		goto out;
	}
	r = fileio_write_atomic(dst, map == MAP_FAILED ? "" : map, (size_t)st.st_size, 0644);
	if (r < 0)
		bm_fail(err, errlen, r, "copy %s to %s: %s", src, dst, strerror(-r));
out:
	if (map != MAP_FAILED)
		munmap(map, (size_t)st.st_size);
	if (in >= 0)
		close(in);
	return r;
}

bool bm_slot_entry(const char *name, const char *slot)
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
	n = scandir(edir, &ents, bm_only_visible, alphasort);
	if (n < 0)
		return bm_fail(err, errlen, -ENOENT, "%s: %s", edir, strerror(errno));
	for (int i = 0; i < n; i++) {
		if (!text && bm_slot_entry(ents[i]->d_name, slot)) {
			snprintf(path, sizeof(path), "%s/%s", edir, ents[i]->d_name);
			text = fileio_read_all(path, 16384, NULL);
		}
		free(ents[i]);
	}
	free(ents);
	if (!text)
		return bm_fail(err, errlen, -ENOENT, "%s: no entry for slot %s", edir, slot);
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
	n = scandir(edir, &ents, bm_only_visible, alphasort);
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
		return bm_fail(err, errlen, -EINVAL, "boot slot %s: not a or b", slot);
	other = !strcmp(slot, "a") ? "b" : "a";
	r = slot_options(esp_dir, slot, opts, sizeof(opts), err, errlen);
	if (r < 0)
		return r;
	snprintf(dir, sizeof(dir), "%s/qserv/%s", esp_dir, other);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return bm_fail(err, errlen, -errno, "mkdir %s: %s", dir, strerror(errno));
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
