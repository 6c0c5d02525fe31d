/* qstorage.h: libqstorage, the node's disk manager (discovery, selectors,
 * probing, planning, provisioning, hot-plug).  Linked as
 * `libqstorage.a libqcommon.a -lblkid -lfdisk -ljansson -lmnl`.
 *
 * The rules it enforces (docs/storage.md is the operator's version):
 *  - disks are named by a stable id (WWID, else serial, else by-path), never
 *    by /dev/sdX;
 *  - a disk carrying any signature that is not ours (partition table,
 *    filesystem, RAID, LVM, swap, or unknown non-zero data) is never written:
 *    it is reported `foreign` with the signature found, unless its id is in
 *    the operator's wipe list;
 *  - ours = GPT with one partition of type QSTORAGE_PART_TYPE named
 *    "qserv-<pool><index>", a filesystem labelled the same and a marker file
 *    QSTORAGE_MARKER at its root recording node uuid, pool, index and disk id.
 *    Ours are located first and mounted as found (fsck first), never
 *    re-created; damaged ones are reported `error`, not reformatted;
 *  - only blank disks (no signature, first and last MiB all zero) are
 *    provisioned.
 *
 * Every call returns 0 or a negative errno and, when given an err buffer,
 * a one-line explanation; the library never logs.  Output parameters are
 * untouched on failure.  Nothing here is thread-safe; one caller (the agent's
 * event loop or the CLI) owns a report at a time. */
#ifndef QSTORAGE_H
#define QSTORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* GPT partition type GUID of qserv-node data partitions. */
#define QSTORAGE_PART_TYPE "8c632489-3482-48d4-a9d8-66d45b05a2f0"
/* Marker file at the root of every filesystem of ours. */
#define QSTORAGE_MARKER ".qserv-disk"

/* ---- discovery ------------------------------------------------------- */

/* Disk states, as in /status.  UNKNOWN = discovered, not planned yet. */
enum qstorage_state {
	QSTORAGE_UNKNOWN = 0,
	QSTORAGE_OURS_MOUNTED,    /* ours, found and mounted (or already mounted) */
	QSTORAGE_PROVISIONED_NOW, /* was blank, partitioned+formatted+mounted now */
	QSTORAGE_FOREIGN,         /* carries a signature that is not ours: untouched */
	QSTORAGE_BOOT_MEDIUM,     /* the medium the node booted from: untouched */
	QSTORAGE_EXCLUDED,        /* not selected (selector, removable, read-only, too small) */
	QSTORAGE_MISSING,         /* was here, has gone away */
	QSTORAGE_ERROR,           /* ours or provisionable, but something failed (reason) */
};

enum qstorage_pool { QSTORAGE_POOL_NONE = 0, QSTORAGE_POOL_FAST, QSTORAGE_POOL_BULK };

#define QSTORAGE_REASON_MAX 256

struct qstorage_disk {
	char name[32];           /* kernel name: sda, nvme0n1, vdb, loop3 */
	char id[160];            /* stable id: wwid, "serial-<s>", "path-<by-path>", "loop:<file>" */
	uint64_t size_bytes;
	unsigned logical_sector, physical_sector;
	bool rotational, removable, read_only;
	char transport[16];      /* nvme|sata|sas|scsi|virtio|usb|mmc|loop|unknown */
	char model[64], serial[64], wwid[128];
	unsigned dev_major, dev_minor;
	char holders[128];       /* space-separated holder names (md0 dm-1), "" if none */
	char partitions[256];    /* space-separated kernel partition names */

	/* Filled by planning/provisioning (qstorage_provision and friends). */
	enum qstorage_state state;
	enum qstorage_pool pool;
	int index;                       /* pool index (fast<index>), -1 if none */
	char signature[96];              /* what blkid found: "gpt", "ext4", "LVM2_member"... */
	char part_dev[64];               /* /dev path of our data partition */
	char mountpoint[256];            /* where it is mounted, "" if not */
	char fs_type[16];                /* ext4|xfs for ours */
	char reason[QSTORAGE_REASON_MAX]; /* one line: why this state */
	uint64_t fs_size_bytes, fs_used_bytes; /* statvfs of the mounted fs */
};

/* Discovery flags. */
#define QSTORAGE_DISCOVER_LOOP 0x1u   /* also list attached loop devices */

/* Lists the block devices of sysfs_root ("/sys" normally) that may be disks:
 * skips ram, zram, dm, md, optical drives, empty devices and (without
 * QSTORAGE_DISCOVER_LOOP) loop devices.  On success *ret_disks is a malloc'd
 * array of *ret_n entries sorted by name (caller frees it with
 * qstorage_disks_free), states UNKNOWN. */
int qstorage_discover(const char *sysfs_root, unsigned flags, struct qstorage_disk **ret_disks,
		      size_t *ret_n, char *err, size_t errlen);
/* Reads one disk by kernel name; -ENOENT if it is not there or is skipped. */
int qstorage_discover_one(const char *sysfs_root, const char *name, unsigned flags,
			  struct qstorage_disk *ret_disk, char *err, size_t errlen);
void qstorage_disks_free(struct qstorage_disk *disks, size_t n);

/* JSON array of disks: objects with name, id, size_bytes, rotational (bool),
 * transport, model, serial, wwid, logical_sector, physical_sector,
 * removable, read_only, and once planned: state, pool, reason, signature,
 * mountpoint, fs_type, fs_size_bytes, fs_used_bytes.  New reference, NULL on
 * out of memory. */
json_t *qstorage_disks_json(const struct qstorage_disk *disks, size_t n);
json_t *qstorage_disk_json(const struct qstorage_disk *d);

const char *qstorage_state_name(enum qstorage_state s);   /* "ours-mounted"... */
const char *qstorage_pool_name(enum qstorage_pool p);     /* "fast", "bulk", "" */

/* ---- selectors -------------------------------------------------------- */

/* A parsed qserv.disks= expression, e.g.
 *   rotational == false && size >= 100G
 *   transport == "nvme" || model ~ "INTEL*"
 * Fields: name id size rotational removable read_only transport model serial
 * wwid logical_sector physical_sector.  Operators: == != < <= > >= ~ (glob)
 * !~, && || ! and parentheses.  Sizes take K M G T P (powers of 1000) or
 * Ki Mi Gi Ti Pi (powers of 1024), optionally followed by B. */
struct qstorage_selector;

/* Parses expr.  On a syntax error returns -EINVAL, *ret_errpos = 0-based
 * byte offset of the error, and err says what was expected there. */
int qstorage_selector_parse(const char *expr, struct qstorage_selector **ret_sel,
			    size_t *ret_errpos, char *err, size_t errlen);
bool qstorage_selector_match(const struct qstorage_selector *sel, const struct qstorage_disk *d);
void qstorage_selector_free(struct qstorage_selector *sel);

/* ---- probing ---------------------------------------------------------- */

enum qstorage_content {
	QSTORAGE_CONTENT_BLANK,   /* no signature, first/last MiB zero */
	QSTORAGE_CONTENT_OURS,    /* GPT with exactly one partition of QSTORAGE_PART_TYPE */
	QSTORAGE_CONTENT_FOREIGN, /* anything else */
};

struct qstorage_probe {
	enum qstorage_content content;
	char signature[96];       /* foreign: what was found; ours: "gpt" */
	char part_label[40];      /* ours: GPT partition name, "qserv-fast0" */
	int part_no;              /* ours: partition number (1) */
	uint64_t part_start, part_size; /* ours: partition extent in bytes */
	char fs_type[16];         /* ours: filesystem found on the partition, "" if none */
	char fs_label[40];
};

/* Probes the whole-disk device dev_path with libblkid, read-only. */
int qstorage_probe_disk(const char *dev_path, struct qstorage_probe *ret_probe, char *err,
			size_t errlen);
/* Probes a partition (or any device) for a filesystem: type and label. */
int qstorage_probe_fs(const char *dev_path, char *ret_type, size_t typelen, char *ret_label,
		      size_t labellen, char *err, size_t errlen);

/* ---- planning --------------------------------------------------------- */

struct qstorage_opts {
	const char *sysfs_root;   /* default "/sys" */
	const char *dev_root;     /* default "/dev" */
	const char *mount_root;   /* default "/data" */
	const char *selector;     /* qserv.disks=, NULL/"" = "removable == false" */
	const char *wipe;         /* qserv.wipe=: comma-separated ids the operator allows to wipe */
	const char *fs_type;      /* "ext4" (default) or "xfs" */
	const char *node_uuid;    /* recorded in the marker; NULL = not checked */
	const char *boot_device;  /* kernel name or id of the boot medium, never touched (the
				   * disk holding "/" or /boot is found by itself) */
	const char *only;         /* comma-separated globs on kernel name or id: every other
				   * disk is ignored, not even probed (tests, benches) */
	unsigned flags;           /* QSTORAGE_F_* */
	uint64_t min_size_bytes;  /* smaller disks are excluded; 0 = 64 MiB */
};

#define QSTORAGE_F_LOOP   0x1u  /* consider loop devices (tests, benches) */
#define QSTORAGE_F_TMPFS  0x2u  /* no usable disk: mount a tmpfs at <mount_root>/tmpfs0 */
#define QSTORAGE_F_DRYRUN 0x4u  /* plan only: probe read-only, touch nothing */

/* One decision per disk, before anything is touched. */
enum qstorage_action {
	QSTORAGE_ACT_NONE,        /* leave it (foreign, excluded, boot medium, already mounted) */
	QSTORAGE_ACT_MOUNT,       /* ours: fsck and mount as found */
	QSTORAGE_ACT_PROVISION,   /* blank: GPT + mkfs + marker + mount */
	QSTORAGE_ACT_WIPE_PROVISION, /* foreign, operator allowed the wipe */
};

/* Pure decision function (no I/O), unit-tested: given the discovered disk,
 * what the probe saw, whether the disk is in the wipe list, whether it is
 * selected and whether it is the boot medium, fills d->state (the state it
 * will have if the action succeeds), d->pool, d->reason, and returns the
 * action. */
enum qstorage_action qstorage_plan_disk(struct qstorage_disk *d, const struct qstorage_probe *p,
					bool selected, bool wipe_allowed, bool boot_medium,
					uint64_t min_size_bytes);

/* ---- provisioning ----------------------------------------------------- */

struct qstorage_pool_info {
	unsigned disks, missing;
	uint64_t size_bytes, used_bytes;
	bool degraded;            /* a disk of the pool is missing or in error */
};

struct qstorage_report {
	struct qstorage_disk *disks;  /* every disk seen, including missing ones */
	size_t n;
	struct qstorage_pool_info fast, bulk;
	char mariadb_dir[256];    /* MariaDB datadir: <fast0>/mariadb, else <bulk0>/mariadb */
	char staging_dir[256];    /* ingest staging: <bulk0>/staging, else <fast0>/staging */
	char backup_dir[256];     /* backups: <bulk0>/backups, else <fast0>/backups */
	char **chunk_dirs;        /* <mnt>/chunks on every mounted disk of MariaDB's pool,
				   * in pool index order */
	size_t n_chunk_dirs;
	bool tmpfs;               /* no disk: everything on a tmpfs */
	bool dry_run;             /* QSTORAGE_F_DRYRUN: states are what would be */
	char warning[256];        /* loud warning for logs and /status, "" if none */
};

/* The boot call: discovers, probes, locates ours, provisions blank disks,
 * wipes those in opts->wipe, mounts, and fills a report (caller frees with
 * qstorage_report_free).  A failure on one disk is that disk's `error`
 * state, not a failure of the call; the call fails only when it cannot run
 * at all (bad selector: -EINVAL with the position in err; no sysfs).
 * With prev (may be NULL), disks of prev that are gone are carried over
 * as `missing`: this is how hot-plug rescans keep history. */
int qstorage_provision(const struct qstorage_opts *opts, const struct qstorage_report *prev,
		       struct qstorage_report **ret_report, char *err, size_t errlen);
void qstorage_report_free(struct qstorage_report *r);

/* {"disks":[...], "pools":{"fast":{...},"bulk":{...}}, "mariadb_dir":...,
 *  "staging_dir":..., "backup_dir":..., "chunk_dirs":[...], "tmpfs":bool,
 *  "warning":..., "dry_run":bool}.  New reference. */
json_t *qstorage_report_json(const struct qstorage_report *r);
/* Prometheus text: qserv_storage_pool_{size_bytes,used_bytes,disks,degraded}
 * {pool=}, qserv_storage_tmpfs, qserv_storage_disks{state=},
 * qserv_storage_disk_size_bytes{id=,name=,state=,pool=}.  Returns malloc'd
 * text (caller frees) or NULL. */
char *qstorage_report_metrics(const struct qstorage_report *r);
/* Where to create a new chunk's tables (DATA DIRECTORY): chunk_dirs[chunk_id
 * % n].  A placement choice for new tables only: MariaDB records each
 * table's directory itself, so a pool growing by a disk moves nothing. */
const char *qstorage_chunk_dir(const struct qstorage_report *r, unsigned chunk_id);

/* Wipes one disk by id (the `qstorage wipe` command): refuses a disk that is
 * mounted, held (md/dm) or the boot medium.  Erases every signature and the
 * first and last MiB.  dev_root/sysfs_root as in opts. */
int qstorage_wipe(const struct qstorage_opts *opts, const char *id, char *err, size_t errlen);

/* ---- hot-plug --------------------------------------------------------- */

/* A NETLINK_KOBJECT_UEVENT socket (libmnl) for block-disk events. */
struct qstorage_watch;

int qstorage_watch_open(struct qstorage_watch **ret_w, char *err, size_t errlen);
/* The fd to poll for POLLIN (non-blocking, close-on-exec). */
int qstorage_watch_fd(const struct qstorage_watch *w);
/* Drains pending uevents; *ret_rescan = true when a whole disk was added,
 * removed or changed (SUBSYSTEM=block, DEVTYPE=disk), or events were lost
 * (ENOBUFS).  The caller then runs qstorage_provision(opts, current, &next),
 * frees current and keeps next: the pass is idempotent, so extra rescans
 * cost a probe of each disk and nothing else.  A short settle delay
 * (~100 ms) before rescanning lets a burst of events arrive first. */
int qstorage_watch_read(struct qstorage_watch *w, bool *ret_rescan, char *err, size_t errlen);
void qstorage_watch_close(struct qstorage_watch *w);

#endif
