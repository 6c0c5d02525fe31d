/* bootmedium.h: the medium the node booted from (a USB stick made from
 * qserv-node.img, or an internal disk it was installed on) and its boot
 * slots.
 *
 * The boot entries on the medium's EFI system partition (QSERVBOOT) name
 * it on the kernel command line by that partition's GPT GUID and name the
 * slot they boot: `bootmedium=PARTUUID=<GUID> bootslot=a`.  The agent waits
 * for the partition with that GUID (USB disks appear a few seconds after
 * the kernel starts /init) and takes the config partition (FAT labelled
 * BOOTMEDIUM_LABEL) on the same disk: a stick left plugged into a node
 * installed on its internal disk is never taken for it.  The older form
 * `bootmedium=<LABEL>` (first such FAT partition in kernel name order) is
 * still accepted.  Without either word (PXE boot) the agent takes a single
 * look for the label, so a stick left plugged into a PXE-booted node is
 * recognised and never provisioned.  The disk is the boot device of
 * struct qstorage_opts.
 *
 * Boot slots (docs/usb.md): the ESP holds /qserv/<slot>/{vmlinuz,initramfs}
 * for slots a and b, a systemd-boot entry /loader/entries/qserv-<slot>.conf
 * per slot (the one with the highest `version` not marked bad by boot
 * counting boots) and a syslinux.cfg label qserv-<slot> per slot (DEFAULT =
 * the active one).  The stick carries slot a; installing writes both.
 *
 * Functions return 0 or a negative errno with a one-line err; they never log. */
#ifndef AGENT_BOOTMEDIUM_H
#define AGENT_BOOTMEDIUM_H

#include <stdbool.h>
#include <stddef.h>

#define BOOTMEDIUM_LABEL "QSERVCONF"
#define BOOTMEDIUM_DIR "/run/bootmedium"
#define BOOTMEDIUM_INSTALL_DIR "/run/bootmedium-install"
#define BOOTMEDIUM_CONF "qserv.conf"
#define BOOTMEDIUM_WAIT_MS 30000

struct bootmedium {
	bool wanted;          /* the kernel command line named a medium */
	char label[32];       /* FAT label of the config partition */
	char partuuid[40];    /* GUID of the ESP named by bootmedium=PARTUUID= ("": by label) */
	char slot[8];         /* bootslot= of the command line: "a", "b" ("" = none) */
	char esp_part[32];    /* kernel name of that ESP: sda2 ("" when found by label) */
	char part[32];        /* kernel name of the config partition: sda1 */
	char disk[32];        /* kernel name of the whole disk: sda ("" = none found) */
	char dev[96];         /* device node of the config partition: /dev/sda1 */
	char mountpoint[128]; /* where it is mounted read-only, "" if not */
	char conf_path[160];  /* <mountpoint>/qserv.conf when that file exists, else "" */
};

/* Parses the `bootmedium=` and `bootslot=` words of a kernel command line
 * (the last of each wins) into ret->partuuid (PARTUUID=GUID form, upper
 * case) or ret->label, and ret->slot; other fields are untouched.  0 when
 * a medium is named, -ENOENT when not (ret->slot may still be set),
 * -EINVAL for a malformed word (empty, too long, not a GUID, a slot other
 * than a lower-case letter or digit string of up to 7). */
int bootmedium_cmdline(const char *cmdline, struct bootmedium *ret);

/* Looks once through the partitions of sysfs_root/block/<disk>/<part>
 * (sorted by name) for a FAT file system labelled `label` (case-insensitive),
 * probing dev_root/<part> with libblkid.  Fills label, part, disk and dev of
 * *ret; -ENOENT if none (ret untouched). */
int bootmedium_find(const char *sysfs_root, const char *dev_root, const char *label,
		    struct bootmedium *ret, char *err, size_t errlen);

/* Looks once through the whole disks of sysfs_root/block for the GPT
 * partition whose GUID is partuuid (case-insensitive; libblkid reads each
 * dev_root/<disk>'s table), then for the FAT partition labelled
 * BOOTMEDIUM_LABEL on that same disk.  Fills partuuid, esp_part, label,
 * part, disk and dev of *ret; -ENOENT if either is missing (ret untouched,
 * err says which). */
int bootmedium_find_partuuid(const char *sysfs_root, const char *dev_root, const char *partuuid,
			     struct bootmedium *ret, char *err, size_t errlen);

/* Mounts bm->dev read-only (vfat, nosuid, nodev, noexec) at mountpoint,
 * creating the directory; fills bm->mountpoint and bm->conf_path. */
int bootmedium_mount(struct bootmedium *bm, const char *mountpoint, char *err, size_t errlen);

/* The boot call: reads the medium and slot from cmdline_path (bm->wanted),
 * finds the medium (polling up to wait_ms when wanted, one look otherwise)
 * and mounts its config partition at mountpoint.  *bm is zeroed first; on
 * -ENOENT bm->wanted says whether that is a problem. */
int bootmedium_open(struct bootmedium *bm, const char *sysfs_root, const char *dev_root,
		    const char *cmdline_path, const char *mountpoint, unsigned wait_ms, char *err,
		    size_t errlen);

/* Writes both boot slots into the ESP mounted (read-write) at esp_dir,
 * from the files of `slot` ("a" or "b", the one booted): the other slot's
 * /qserv/<other>/ gets copies of /qserv/<slot>/vmlinuz and initramfs; every
 * /loader/entries/qserv-*.conf is replaced by qserv-a.conf and qserv-b.conf
 * (`slot` with the higher version, so it stays the active one) and
 * syslinux.cfg by one with both labels, DEFAULT qserv-<slot>.  Their kernel
 * command line is the options of slot's current entry with its bootmedium=
 * and bootslot= words replaced by `bootmedium=PARTUUID=<partuuid>
 * bootslot=<s>`.  Each file is written to a temporary name, synced and
 * renamed.  -ENOENT when slot has no entry or files, -EINVAL for a bad slot. */
int bootmedium_write_slots(const char *esp_dir, const char *slot, const char *partuuid, char *err,
			   size_t errlen);

/* Boot counting (systemd-boot, UEFI): an entry written as
 * qserv-<slot>+3.conf (images/stick.sh slot) is renamed by the loader on
 * each try (+2-1, +1-2, +0-3: then marked bad, sorted last, and the other
 * slot boots).  bootmedium_bless_dir renames slot's counted entry in the
 * ESP mounted at esp_dir back to qserv-<slot>.conf (ret_entry = its old
 * name): the boot counts as good.  1 when renamed, 0 when slot's entry is
 * not counted. */
int bootmedium_bless_dir(const char *esp_dir, const char *slot, char *ret_entry, size_t size,
			 char *err, size_t errlen);

/* The same on the medium booted from: mounts bm->esp_part read-only at
 * mountpoint, and read-write only when bm->slot's entry is counted.  0
 * when there is nothing to do (no ESP known: found by label, PXE). */
int bootmedium_bless(const struct bootmedium *bm, const char *dev_root, const char *mountpoint,
		     char *ret_entry, size_t size, char *err, size_t errlen);

/* Installs the boot medium onto an internal disk (`install=SELECTOR`): the
 * one disk of sysfs_root matching selector, other than bm->disk, gets a
 * byte copy of the medium's partitioned area (protective MBR with its boot
 * code, GPT, QSERVCONF with the current qserv.conf, the ESP with both
 * loaders and the boot files); libfdisk then gives it new GUIDs and moves
 * the backup GPT to the end of the disk, and the kernel re-reads its
 * partitions.  The copied ESP is then mounted at BOOTMEDIUM_INSTALL_DIR
 * and gets both slots from bm->slot (default a) with entries naming its new
 * GUID (bootmedium_write_slots); a target that is a regular file (tests)
 * has no partition to mount and keeps the medium's entries.  The target
 * must be blank (libqstorage's probe: no signature, zero first and last
 * MiB), is opened O_EXCL, and must be big enough.  Returns 0 when written
 * (ret_target = its kernel name), 1 when there is nothing to do (the
 * medium is that disk, or the disk already holds a QSERVCONF partition:
 * err says which), negative errno otherwise (no match, several matches,
 * foreign content, I/O). */
int bootmedium_install(const struct bootmedium *bm, const char *sysfs_root, const char *dev_root,
		       const char *selector, char *ret_target, size_t target_size, char *err,
		       size_t errlen);

#endif
