/* bootmedium.h: the medium the node booted from (a USB stick made from
 * qserv-node.img, or later an internal disk it was installed on).
 *
 * The medium is recognised by the FAT label of its config partition
 * (BOOTMEDIUM_LABEL; docs/usb.md).  The boot loaders on the stick put
 * `bootmedium=<LABEL>` on the kernel command line: then the agent waits for
 * that partition (USB disks appear a few seconds after the kernel starts
 * /init), mounts it read-only and reads qserv.conf from it.  Without that
 * word (PXE boot) it still takes a single look, so a stick left plugged
 * into a PXE-booted node is recognised and never provisioned.  The disk
 * holding that partition is the boot device of struct qstorage_opts.
 *
 * Functions return 0 or a negative errno with a one-line err; they never log. */
#ifndef AGENT_BOOTMEDIUM_H
#define AGENT_BOOTMEDIUM_H

#include <stdbool.h>
#include <stddef.h>

#define BOOTMEDIUM_LABEL "QSERVCONF"
#define BOOTMEDIUM_DIR "/run/bootmedium"
#define BOOTMEDIUM_CONF "qserv.conf"
#define BOOTMEDIUM_WAIT_MS 30000

struct bootmedium {
	bool wanted;          /* the kernel command line named a medium */
	char label[32];       /* FAT label looked for */
	char part[32];        /* kernel name of the config partition: sda1 */
	char disk[32];        /* kernel name of the whole disk: sda ("" = none found) */
	char dev[96];         /* device node of the partition: /dev/sda1 */
	char mountpoint[128]; /* where it is mounted read-only, "" if not */
	char conf_path[160];  /* <mountpoint>/qserv.conf when that file exists, else "" */
};

/* The label of a `bootmedium=LABEL` word of a kernel command line, copied
 * into ret_label; -ENOENT when there is none, -EINVAL if empty or too long. */
int bootmedium_cmdline_label(const char *cmdline, char *ret_label, size_t size);

/* Looks once through the partitions of sysfs_root/block/<disk>/<part>
 * (sorted by name) for a FAT file system labelled `label` (case-insensitive),
 * probing dev_root/<part> with libblkid.  Fills label, part, disk and dev of
 * *ret; -ENOENT if none (ret untouched). */
int bootmedium_find(const char *sysfs_root, const char *dev_root, const char *label,
		    struct bootmedium *ret, char *err, size_t errlen);

/* Mounts bm->dev read-only (vfat, nosuid, nodev, noexec) at mountpoint,
 * creating the directory; fills bm->mountpoint and bm->conf_path. */
int bootmedium_mount(struct bootmedium *bm, const char *mountpoint, char *err, size_t errlen);

/* The boot call: reads the label from cmdline_path (bm->wanted), finds it
 * (polling up to wait_ms when wanted, one look otherwise) and mounts it at
 * mountpoint.  *bm is zeroed first; on -ENOENT bm->wanted says whether that
 * is a problem. */
int bootmedium_open(struct bootmedium *bm, const char *sysfs_root, const char *dev_root,
		    const char *cmdline_path, const char *mountpoint, unsigned wait_ms, char *err,
		    size_t errlen);

/* Installs the boot medium onto an internal disk (`install=SELECTOR`): the
 * one disk of sysfs_root matching selector, other than bm->disk, gets a
 * byte copy of the medium's partitioned area (protective MBR with its boot
 * code, GPT, QSERVCONF with the current qserv.conf, the ESP with both
 * loaders and the boot files); libfdisk then moves the backup GPT to the
 * end of the disk, and the kernel re-reads its partitions.  The medium's
 * own files are not re-read: a later boot from the disk is what checks them.
 * The target must be blank (libqstorage's probe: no signature, zero first
 * and last MiB), is opened O_EXCL, and must be big enough.  Returns 0 when
 * written (ret_target = its kernel name), 1 when there is nothing to do
 * (the medium is that disk, or the disk already holds a QSERVCONF
 * partition: err says which), negative errno otherwise (no match, several
 * matches, foreign content, I/O). */
int bootmedium_install(const struct bootmedium *bm, const char *sysfs_root, const char *dev_root,
		       const char *selector, char *ret_target, size_t target_size, char *err,
		       size_t errlen);

#endif
