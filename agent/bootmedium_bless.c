/* bootmedium_bless.c: boot counting (see bootmedium.h).  An entry written
 * as qserv-<slot>+3.conf is renamed by systemd-boot on each try; once the
 * agent is up it renames the booted slot's counted entry back to
 * qserv-<slot>.conf: the boot counts as good.
 *
 * Blessing is the agent's only write to the medium it booted from, and
 * only after an operator or upgrade put a counted entry there: the ESP is
 * mounted read-only to look, so an ordinary boot writes nothing (the QEMU
 * tests compare the stick byte for byte). */
#include "bootmedium_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

int bootmedium_bless_dir(const char *esp_dir, const char *slot, char *ret_entry, size_t size,
			 char *err, size_t errlen)
{
	struct dirent **ents;
	char edir[512], from[800], to[800];
	int n, r = 0;

	snprintf(edir, sizeof(edir), "%s/loader/entries", esp_dir);
	n = scandir(edir, &ents, bm_only_visible, alphasort);
	if (n < 0)
		return bm_fail(err, errlen, -errno, "%s: %s", edir, strerror(errno));
	for (int i = 0; i < n; i++) {
		const char *e = ents[i]->d_name;

		if (r == 0 && bm_slot_entry(e, slot) && strchr(e, '+')) {
			snprintf(from, sizeof(from), "%s/%s", edir, e);
			snprintf(to, sizeof(to), "%s/qserv-%s.conf", edir, slot);
			if (rename(from, to) < 0)
				r = bm_fail(err, errlen, -errno, "rename %s: %s", from, strerror(errno));
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
		return bm_fail(err, errlen, -errno, "mkdir %s: %s", mountpoint, strerror(errno));
	/* A look read-only first: the ESP is written only to bless. */
	if (mount(dev, mountpoint, "vfat", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "") < 0)
		return bm_fail(err, errlen, -errno, "mount %s: %s", dev, strerror(errno));
	snprintf(edir, sizeof(edir), "%s/loader/entries", mountpoint);
	n = scandir(edir, &ents, bm_only_visible, alphasort);
	for (int i = 0; i < n; i++) {
		counted |= bm_slot_entry(ents[i]->d_name, bm->slot) && strchr(ents[i]->d_name, '+');
		free(ents[i]);
	}
	if (n >= 0)
		free(ents);
	r = 0;
	if (counted && mount(dev, mountpoint, "vfat", MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			     "") < 0)
		r = bm_fail(err, errlen, -errno, "remount %s read-write: %s", dev, strerror(errno));
	else if (counted)
		r = bootmedium_bless_dir(mountpoint, bm->slot, ret_entry, size, err, errlen);
	if (umount(mountpoint) < 0 && r >= 0)
		r = bm_fail(err, errlen, -errno, "umount %s: %s", dev, strerror(errno));
	return r;
}
