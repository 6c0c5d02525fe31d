/* provision.c: the boot-time (and hot-plug rescan) pass over all disks.
 *
 * Steps, in order, so that nothing of ours is ever mistaken for blank:
 *   1. discover (sysfs), keep the disks opts->only allows;
 *   2. probe each read-only (libblkid) and plan it (plan.c);
 *   3. locate ours: check and mount every disk of ours as found, at
 *      <mount_root>/<pool><index>; two disks claiming the same label are
 *      both kept out of use;
 *   4. disks of the previous report that are gone become `missing` (their
 *      mount is detached), degrade their pool and keep their index;
 *   5. provision blank disks (and those the operator allowed to wipe) into
 *      the lowest free index of their pool, re-probing each right before
 *      writing: it must still be blank;
 *   6. choose the directories (MariaDB, staging, backups, chunk dirs) and
 *      fall back to a tmpfs when asked and nothing is mounted.
 * A failure on one disk is that disk's `error` state; the pass goes on. */
#include "internal.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define REASON(d, ...) qs_line((d)->reason, sizeof((d)->reason), __VA_ARGS__)

struct ctx {
	struct qstorage_opts o;
	struct qstorage_selector *sel;
	struct qstorage_report *r;
	enum qstorage_action *act;     /* per present disk */
	struct qstorage_probe *probe;  /* per present disk */
	int boot_maj, boot_min;   /* device mounted at "/", -1 if none */
};

static bool only_allows(const char *only, const struct qstorage_disk *d)
{
	char pat[512];
	const char *p = only;

	if (!only || !only[0])
		return true;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		snprintf(pat, sizeof(pat), "%.*s", (int)l, p);
		if (pat[0] && (!fnmatch(pat, d->name, 0) || !fnmatch(pat, d->id, 0)))
			return true;
		if (!e)
			break;
		p = e + 1;
	}
	return false;
}

/* Partition number partno of disk d: kernel name and dev numbers; 0, or
 * -ENOENT when sysfs does not show it (yet). */
static int find_partition(const struct ctx *c, const struct qstorage_disk *d, int partno,
			  char *ret_name, size_t size, unsigned *ret_maj, unsigned *ret_min)
{
	char dir[4200], rel[600], buf[64];
	struct dirent *de;
	DIR *dp;
	int r = -ENOENT;

	snprintf(dir, sizeof(dir), "%s/block/%s", c->o.sysfs_root, d->name);
	if (!(dp = opendir(dir)))
		return -ENOENT; /* not there (yet): the caller waits and retries */
	while ((de = readdir(dp))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(rel, sizeof(rel), "%s/partition", de->d_name);
		if ((int)qs_read_u64(dir, rel, 0) != partno)
			continue;
		snprintf(rel, sizeof(rel), "%s/dev", de->d_name);
		if (qs_read_line(dir, rel, buf, sizeof(buf)) < 0 ||
		    sscanf(buf, "%u:%u", ret_maj, ret_min) != 2)
			continue;
		qs_strlcpy(ret_name, de->d_name, size);
		r = 0;
		break;
	}
	closedir(dp);
	return r;
}

/* The partition's device node, waiting for the kernel (and devtmpfs) to
 * show it.  A kernel that does not parse GPTs is told about the partition
 * (BLKPG, from the extent we read); the node is created when /dev is not
 * devtmpfs. */
static int partition_dev(const struct ctx *c, struct qstorage_disk *d, const struct qstorage_probe *p,
			 unsigned *ret_maj, unsigned *ret_min, char *err, size_t errlen)
{
	char name[64], disk_dev[300];
	struct stat st;
	int r = -ENOENT;

	for (int i = 0; i < 100; i++) { /* up to 5 s */
		if (r < 0)
			r = find_partition(c, d, p->part_no, name, sizeof(name), ret_maj, ret_min);
		if (r < 0 && i == 0) { /* BLKRRPART is synchronous: no GPT parser */
			snprintf(disk_dev, sizeof(disk_dev), "%s/%s", c->o.dev_root, d->name);
			int e = qs_part_add(disk_dev, p->part_no, p->part_start, p->part_size, err, errlen);
			if (e < 0)
				return e;
		}
		if (r == 0) {
			int e = qs_path(d->part_dev, sizeof(d->part_dev), err, errlen, "%s/%s",
					c->o.dev_root, name);
			if (e < 0)
				return e;
			if (stat(d->part_dev, &st) == 0 && S_ISBLK(st.st_mode) &&
			    st.st_rdev == makedev(*ret_maj, *ret_min))
				return 0;
			if (i == 20)
				mknod(d->part_dev, S_IFBLK | 0600, makedev(*ret_maj, *ret_min));
		}
		usleep(50 * 1000);
	}
	if (r < 0)
		return qs_err(err, errlen, -ENOENT, "partition %d of %s does not appear in sysfs",
			      p->part_no, d->name);
	return qs_err(err, errlen, -ENOENT, "no device node %s", d->part_dev);
}

static void fill_usage(struct qstorage_disk *d)
{
	struct statvfs sv;

	if (!d->mountpoint[0] || statvfs(d->mountpoint, &sv) < 0)
		return;
	d->fs_size_bytes = (uint64_t)sv.f_blocks * sv.f_frsize;
	d->fs_used_bytes = (uint64_t)(sv.f_blocks - sv.f_bfree) * sv.f_frsize;
}

static void mountpoint_of(const struct ctx *c, const struct qstorage_disk *d, char *out, size_t size)
{
	snprintf(out, size, "%s/%s%d", c->o.mount_root, qstorage_pool_name(d->pool), d->index);
}

/* Step 3 for one disk of ours. */
static void mount_ours(struct ctx *c, struct qstorage_disk *d, const struct qstorage_probe *p)
{
	char err[QSTORAGE_REASON_MAX], mnt[256], label[40];
	unsigned maj, min;
	struct qs_marker m;
	int r;

	snprintf(label, sizeof(label), "qserv-%s%d", qstorage_pool_name(d->pool), d->index);
	mountpoint_of(c, d, mnt, sizeof(mnt));
	if (c->o.flags & QSTORAGE_F_DRYRUN) { /* look, never wait or tell the kernel anything */
		char name[64];
		if (find_partition(c, d, p->part_no, name, sizeof(name), &maj, &min) == 0 &&
		    qs_find_mount(maj, min, d->mountpoint, sizeof(d->mountpoint)) == 1) {
			REASON(d, "ours: %s (%s), already mounted at %s", label, d->fs_type,
			       d->mountpoint);
			fill_usage(d);
		} else {
			REASON(d, "ours: %s (%s), would check and mount at %s", label, d->fs_type, mnt);
		}
		return;
	}
	if (partition_dev(c, d, p, &maj, &min, err, sizeof(err)) < 0) {
		d->state = QSTORAGE_ERROR;
		REASON(d, "ours (%s) but %s", label, err);
		return;
	}
	if (qs_find_mount(maj, min, d->mountpoint, sizeof(d->mountpoint)) == 1) {
		REASON(d, "ours: %s (%s), already mounted at %s", label, d->fs_type, d->mountpoint);
		fill_usage(d);
		return;
	}
	if (qs_fsck(d->part_dev, d->fs_type, err, sizeof(err)) < 0) {
		d->state = QSTORAGE_ERROR;
		REASON(d, "ours (%s): %s", label, err);
		return;
	}
	if (qs_mount(d->part_dev, mnt, d->fs_type, err, sizeof(err)) < 0) {
		d->state = QSTORAGE_ERROR;
		REASON(d, "ours (%s): %s; not reformatted (check it with %s)", label, err,
		       strcmp(d->fs_type, "xfs") ? "e2fsck -f" : "xfs_repair");
		return;
	}
	qs_strlcpy(d->mountpoint, mnt, sizeof(d->mountpoint));
	r = qs_marker_read(mnt, &m);
	if (r == 0 && c->o.node_uuid && c->o.node_uuid[0] && m.node[0] &&
	    strcmp(m.node, c->o.node_uuid)) {
		umount2(mnt, 0);
		d->mountpoint[0] = '\0';
		d->state = QSTORAGE_FOREIGN;
		qs_strlcpy(d->signature, label, sizeof(d->signature));
		REASON(d, "a qserv disk (%s) of node %s, not of this node; untouched (allow with "
			  "qserv.wipe=%s)", label, m.node, d->id);
		d->pool = QSTORAGE_POOL_NONE;
		return;
	}
	if (r < 0) { /* provisioning interrupted before the marker: record it now */
		struct qs_marker nm = { .index = d->index };
		qs_strlcpy(nm.node, c->o.node_uuid ? c->o.node_uuid : "", sizeof(nm.node));
		qs_strlcpy(nm.pool, qstorage_pool_name(d->pool), sizeof(nm.pool));
		qs_strlcpy(nm.disk, d->id, sizeof(nm.disk));
		qs_marker_write(mnt, &nm, NULL, 0);
	}
	REASON(d, "ours: %s (%s), checked and mounted at %s", label, d->fs_type, mnt);
	fill_usage(d);
}

static int next_index(const struct ctx *c, enum qstorage_pool pool)
{
	for (int idx = 0; idx < 100; idx++) {
		bool used = false;
		for (size_t i = 0; i < c->r->n && !used; i++) {
			const struct qstorage_disk *d = &c->r->disks[i];
			used = d->pool == pool && d->index == idx; /* ours, errors, missing too */
		}
		if (!used)
			return idx;
	}
	return -1;
}

static int wipe_disk(const char *dev, char *err, size_t errlen)
{
	int fd = open(dev, O_RDWR | O_EXCL | O_CLOEXEC);
	int r;

	if (fd < 0)
		return qs_err(err, errlen, -errno, "%s: open for wiping: %s", dev, strerror(errno));
	r = qs_wipe_fd(fd, dev, err, errlen);
	close(fd);
	return r;
}

/* Step 5 for one blank (or wipe-allowed) disk. */
static void provision_blank(struct ctx *c, struct qstorage_disk *d, bool wipe)
{
	char err[QSTORAGE_REASON_MAX] = "", dev[300], label[40], mnt[256];
	struct qstorage_probe p;
	unsigned maj, min;

	d->index = next_index(c, d->pool);
	if (d->index < 0) {
		d->state = QSTORAGE_ERROR;
		REASON(d, "pool %s already has 100 disks", qstorage_pool_name(d->pool));
		return;
	}
	snprintf(label, sizeof(label), "qserv-%s%d", qstorage_pool_name(d->pool), d->index);
	mountpoint_of(c, d, mnt, sizeof(mnt));
	if (c->o.flags & QSTORAGE_F_DRYRUN) {
		REASON(d, "%s: would %sprovision as %s (%s) at %s", wipe ? "foreign" : "blank",
		       wipe ? "wipe (allowed by operator) and " : "", label, c->o.fs_type, mnt);
		return;
	}
	snprintf(dev, sizeof(dev), "%s/%s", c->o.dev_root, d->name);
	if (wipe && wipe_disk(dev, err, sizeof(err)) < 0)
		goto fail;
	/* last look before writing: it must (still) be blank */
	if (qstorage_probe_disk(dev, &p, err, sizeof(err)) < 0)
		goto fail;
	if (p.content != QSTORAGE_CONTENT_BLANK) {
		d->state = QSTORAGE_FOREIGN;
		qs_strlcpy(d->signature, p.signature, sizeof(d->signature));
		REASON(d, "changed under us: now carries %s; untouched", p.signature);
		d->pool = QSTORAGE_POOL_NONE;
		d->index = -1;
		return;
	}
	if (qs_gpt_write(dev, label, err, sizeof(err)) < 0)
		goto fail;
	/* read back what we wrote: it must now probe as ours */
	if (qstorage_probe_disk(dev, &p, err, sizeof(err)) < 0)
		goto fail;
	if (p.content != QSTORAGE_CONTENT_OURS || strcmp(p.part_label, label)) {
		snprintf(err, sizeof(err), "the GPT written reads back as %s", p.signature);
		goto fail;
	}
	if (partition_dev(c, d, &p, &maj, &min, err, sizeof(err)) < 0 ||
	    qs_mkfs(d->part_dev, c->o.fs_type, label, err, sizeof(err)) < 0 ||
	    qs_mount(d->part_dev, mnt, c->o.fs_type, err, sizeof(err)) < 0)
		goto fail;
	qs_strlcpy(d->mountpoint, mnt, sizeof(d->mountpoint));
	qs_strlcpy(d->fs_type, c->o.fs_type, sizeof(d->fs_type));
	struct qs_marker m = { .index = d->index };
	qs_strlcpy(m.node, c->o.node_uuid ? c->o.node_uuid : "", sizeof(m.node));
	qs_strlcpy(m.pool, qstorage_pool_name(d->pool), sizeof(m.pool));
	qs_strlcpy(m.disk, d->id, sizeof(m.disk));
	if (qs_marker_write(mnt, &m, err, sizeof(err)) < 0)
		goto fail;
	REASON(d, "%s: provisioned now as %s (%s) at %s", wipe ? "wiped (operator allowed)" : "blank",
	       label, c->o.fs_type, mnt);
	d->signature[0] = '\0';
	fill_usage(d);
	return;
fail:
	d->state = QSTORAGE_ERROR;
	REASON(d, "provisioning %s failed: %s", label, err);
}

static void detect_root(struct ctx *c)
{
	struct stat st;

	c->boot_maj = c->boot_min = -1;
	if (stat("/", &st) == 0 && major(st.st_dev) != 0) {
		c->boot_maj = (int)major(st.st_dev);
		c->boot_min = (int)minor(st.st_dev);
	}
}

/* Is major:minor the root device or mounted at /boot...? */
static bool boot_dev(const struct ctx *c, const char *dir, const char *rel)
{
	char buf[64], mnt[4096];
	unsigned maj, min;

	if (qs_read_line(dir, rel, buf, sizeof(buf)) < 0 || sscanf(buf, "%u:%u", &maj, &min) != 2)
		return false;
	if ((int)maj == c->boot_maj && (int)min == c->boot_min)
		return true;
	return qs_find_mount(maj, min, mnt, sizeof(mnt)) == 1 &&
	       (!strcmp(mnt, "/") || !strncmp(mnt, "/boot", 5));
}

/* The boot medium: named by the caller, or holding "/" or /boot itself or
 * through one of its partitions. */
static bool holds_boot(const struct ctx *c, const struct qstorage_disk *d)
{
	char dir[4200], rel[600];
	bool hit;
	struct dirent *de;
	DIR *dp;

	if (c->o.boot_device && c->o.boot_device[0] &&
	    (!strcmp(c->o.boot_device, d->name) || !strcmp(c->o.boot_device, d->id)))
		return true;
	snprintf(dir, sizeof(dir), "%s/block/%s", c->o.sysfs_root, d->name);
	hit = boot_dev(c, dir, "dev");
	if (hit || !(dp = opendir(dir)))
		return hit;
	while (!hit && (de = readdir(dp))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(rel, sizeof(rel), "%s/partition", de->d_name);
		if (qs_read_u64(dir, rel, 0) == 0)
			continue;
		snprintf(rel, sizeof(rel), "%s/dev", de->d_name);
		hit = boot_dev(c, dir, rel);
	}
	closedir(dp);
	return hit;
}

/* Steps 1-2. */
static int discover_and_plan(struct ctx *c, char *err, size_t errlen)
{
	struct qstorage_disk *all;
	size_t n, k = 0;
	int r;

	r = qstorage_discover(c->o.sysfs_root, (c->o.flags & QSTORAGE_F_LOOP) ? QSTORAGE_DISCOVER_LOOP : 0,
			      &all, &n, err, errlen);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (only_allows(c->o.only, &all[i]))
			all[k++] = all[i];
	c->r->disks = all;
	c->r->n = k;
	c->act = calloc(k ? k : 1, sizeof(*c->act));
	c->probe = calloc(k ? k : 1, sizeof(*c->probe));
	if (!c->act || !c->probe)
		return qs_err(err, errlen, -ENOMEM, "out of memory");
	detect_root(c);
	for (size_t i = 0; i < k; i++) {
		struct qstorage_disk *d = &all[i];
		struct qstorage_probe p;
		char dev[300], perr[200];

		snprintf(dev, sizeof(dev), "%s/%s", c->o.dev_root, d->name);
		bool boot = holds_boot(c, d);
		memset(&p, 0, sizeof(p));
		if (!boot && qstorage_probe_disk(dev, &p, perr, sizeof(perr)) < 0) {
			d->state = QSTORAGE_ERROR;
			d->index = -1;
			REASON(d, "cannot probe: %s", perr);
			continue;
		}
		c->act[i] = qstorage_plan_disk(d, &p, qstorage_selector_match(c->sel, d),
					       qs_in_list(c->o.wipe, d->id), boot, c->o.min_size_bytes);
		c->probe[i] = p;
	}
	return 0;
}

/* Step 3: ours first; a label on two disks keeps both out of use. */
static void locate_ours(struct ctx *c)
{
	for (size_t i = 0; i < c->r->n; i++) {
		struct qstorage_disk *d = &c->r->disks[i];
		if (c->act[i] != QSTORAGE_ACT_MOUNT)
			continue;
		for (size_t j = 0; j < c->r->n; j++) {
			struct qstorage_disk *o = &c->r->disks[j];
			if (j == i || c->act[j] != QSTORAGE_ACT_MOUNT || o->pool != d->pool ||
			    o->index != d->index)
				continue;
			d->state = QSTORAGE_ERROR;
			REASON(d, "ours, but qserv-%s%d is also on %s (%s); neither is used",
			       qstorage_pool_name(d->pool), d->index, o->name, o->id);
		}
	}
	for (size_t i = 0; i < c->r->n; i++) {
		struct qstorage_disk *d = &c->r->disks[i];
		if (c->act[i] == QSTORAGE_ACT_MOUNT && d->state == QSTORAGE_OURS_MOUNTED)
			mount_ours(c, d, &c->probe[i]);
	}
}

/* A disk that could not be probed now (going away, I/O errors) but was
 * in a pool before stays in it: the pool shows degraded, the index stays
 * reserved, and if it then disappears it is missing from that pool. */
static void keep_pools(struct ctx *c, const struct qstorage_report *prev)
{
	for (size_t i = 0; prev && i < c->r->n; i++) {
		struct qstorage_disk *d = &c->r->disks[i];
		if (d->state != QSTORAGE_ERROR || d->pool != QSTORAGE_POOL_NONE)
			continue;
		for (size_t j = 0; j < prev->n; j++) {
			const struct qstorage_disk *pd = &prev->disks[j];
			if (strcmp(pd->id, d->id) || pd->pool == QSTORAGE_POOL_NONE)
				continue;
			d->pool = pd->pool;
			d->index = pd->index;
			qs_strlcpy(d->fs_type, pd->fs_type, sizeof(d->fs_type));
			break;
		}
	}
}

/* Step 4. */
static int carry_missing(struct ctx *c, const struct qstorage_report *prev, char *err, size_t errlen)
{
	for (size_t i = 0; prev && i < prev->n; i++) {
		const struct qstorage_disk *pd = &prev->disks[i];
		bool here = false;
		for (size_t j = 0; j < c->r->n && !here; j++)
			here = !strcmp(c->r->disks[j].id, pd->id);
		if (here)
			continue;
		struct qstorage_disk *nd = realloc(c->r->disks, (c->r->n + 1) * sizeof(*nd));
		if (!nd)
			return qs_err(err, errlen, -ENOMEM, "out of memory");
		c->r->disks = nd;
		struct qstorage_disk *d = &nd[c->r->n++];
		*d = *pd;
		if (pd->state == QSTORAGE_MISSING)
			continue;
		d->state = QSTORAGE_MISSING;
		d->fs_size_bytes = d->fs_used_bytes = 0;
		if (d->mountpoint[0] && !(c->o.flags & QSTORAGE_F_DRYRUN) &&
		    qs_is_mountpoint(d->mountpoint)) {
			umount2(d->mountpoint, MNT_DETACH);
			REASON(d, "gone (was %s, %s); its mount was detached", d->name,
			       qstorage_state_name(pd->state));
		} else {
			REASON(d, "gone (was %s, %s)", d->name, qstorage_state_name(pd->state));
		}
		d->mountpoint[0] = '\0';
	}
	return 0;
}

static bool in_use(const struct qstorage_disk *d)
{
	return (d->state == QSTORAGE_OURS_MOUNTED || d->state == QSTORAGE_PROVISIONED_NOW) &&
	       d->pool != QSTORAGE_POOL_NONE;
}

static void sum_pools(struct qstorage_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct qstorage_disk *d = &r->disks[i];
		struct qstorage_pool_info *pi = d->pool == QSTORAGE_POOL_FAST ? &r->fast
					       : d->pool == QSTORAGE_POOL_BULK ? &r->bulk : NULL;
		if (!pi)
			continue;
		if (in_use(d)) {
			pi->disks++;
			pi->size_bytes += d->fs_size_bytes;
			pi->used_bytes += d->fs_used_bytes;
		} else if (d->state == QSTORAGE_MISSING) {
			pi->missing++;
			pi->degraded = true;
		} else if (d->state == QSTORAGE_ERROR) {
			pi->degraded = true;
		}
	}
}

/* The mounted disk of pool holding sub/ already, else its lowest index. */
static const struct qstorage_disk *pick(const struct qstorage_report *r, enum qstorage_pool pool,
					const char *sub)
{
	const struct qstorage_disk *best = NULL;
	char path[600];
	struct stat st;

	for (size_t i = 0; i < r->n; i++) {
		const struct qstorage_disk *d = &r->disks[i];
		if (!in_use(d) || d->pool != pool || !d->mountpoint[0])
			continue;
		snprintf(path, sizeof(path), "%s/%s", d->mountpoint, sub);
		if (stat(path, &st) == 0)
			return d;
		if (!best || d->index < best->index)
			best = d;
	}
	return best;
}

static int add_chunk_dir(struct qstorage_report *r, const char *dir)
{
	char **nd = realloc(r->chunk_dirs, (r->n_chunk_dirs + 1) * sizeof(*nd));

	if (!nd)
		return -ENOMEM;
	r->chunk_dirs = nd;
	if (!(nd[r->n_chunk_dirs] = strdup(dir)))
		return -ENOMEM;
	r->n_chunk_dirs++;
	return 0;
}

/* MariaDB's, staging's and backups' directories under their mount points. */
static int set_dirs(struct qstorage_report *r, const char *db, const char *st, const char *bk,
		    char *err, size_t errlen)
{
	int e = qs_path(r->mariadb_dir, sizeof(r->mariadb_dir), err, errlen, "%s/mariadb", db);
	if (e == 0)
		e = qs_path(r->staging_dir, sizeof(r->staging_dir), err, errlen, "%s/staging", st);
	if (e == 0)
		e = qs_path(r->backup_dir, sizeof(r->backup_dir), err, errlen, "%s/backups", bk);
	return e;
}

/* Step 6. */
static int choose_dirs(struct ctx *c, char *err, size_t errlen)
{
	struct qstorage_report *r = c->r;
	bool dry = c->o.flags & QSTORAGE_F_DRYRUN;
	enum qstorage_pool dbpool = r->fast.disks ? QSTORAGE_POOL_FAST : QSTORAGE_POOL_BULK;
	enum qstorage_pool stpool = r->bulk.disks ? QSTORAGE_POOL_BULK : QSTORAGE_POOL_FAST;
	const struct qstorage_disk *db = pick(r, dbpool, "mariadb");
	const struct qstorage_disk *st = pick(r, stpool, "staging");
	const struct qstorage_disk *bk = pick(r, stpool, "backups");
	char dir[600];
	int e;

	if (!db) {
		if (!(c->o.flags & QSTORAGE_F_TMPFS)) {
			snprintf(r->warning, sizeof(r->warning), "no usable disk: nothing mounted");
			return 0;
		}
		/* room left in dir for "/chunks" */
		if ((e = qs_path(dir, sizeof(dir) - 8, err, errlen, "%s/tmpfs0", c->o.mount_root)) < 0)
			return e;
		if (!dry && !qs_is_mountpoint(dir)) {
			e = qs_mkdir_p(dir, 0755);
			if (e < 0 || mount("tmpfs", dir, "tmpfs", MS_NOATIME | MS_NODEV | MS_NOSUID,
					   "mode=0755") < 0)
				return qs_err(err, errlen, e < 0 ? e : -errno, "tmpfs on %s: %s", dir,
					      strerror(e < 0 ? -e : errno));
		}
		r->tmpfs = true;
		qs_line(r->warning, sizeof(r->warning), "NO DISK: all data on a tmpfs at %s, lost at reboot",
			dir);
		if ((e = set_dirs(r, dir, dir, dir, err, errlen)) < 0)
			return e;
		snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "/chunks");
		if (add_chunk_dir(r, dir) < 0)
			return qs_err(err, errlen, -ENOMEM, "out of memory");
	} else {
		if ((e = set_dirs(r, db->mountpoint, st->mountpoint, bk->mountpoint, err, errlen)) < 0)
			return e;
		/* in index order: stable whatever the kernel names the disks */
		for (int idx = 0; idx < 100; idx++)
			for (size_t i = 0; i < r->n; i++) {
				const struct qstorage_disk *d = &r->disks[i];
				if (!in_use(d) || d->pool != dbpool || !d->mountpoint[0] || d->index != idx)
					continue;
				snprintf(dir, sizeof(dir), "%s/chunks", d->mountpoint);
				if (add_chunk_dir(r, dir) < 0)
					return qs_err(err, errlen, -ENOMEM, "out of memory");
			}
		if (r->fast.degraded || r->bulk.degraded)
			snprintf(r->warning, sizeof(r->warning), "pool%s%s degraded: a disk is missing or failed",
				 r->fast.degraded ? " fast" : "", r->bulk.degraded ? " bulk" : "");
	}
	if (dry)
		return 0;
	const char *dirs[] = { r->mariadb_dir, r->staging_dir, r->backup_dir };
	for (size_t i = 0; i < 3; i++)
		qs_mkdir_p(dirs[i], 0750);
	for (size_t i = 0; i < r->n_chunk_dirs; i++)
		qs_mkdir_p(r->chunk_dirs[i], 0750);
	return 0;
}

int qstorage_provision(const struct qstorage_opts *opts, const struct qstorage_report *prev,
		       struct qstorage_report **ret_report, char *err, size_t errlen)
{
	struct ctx c = { .o = *opts };
	size_t errpos;
	int r;

	if (!c.o.sysfs_root)
		c.o.sysfs_root = "/sys";
	if (!c.o.dev_root)
		c.o.dev_root = "/dev";
	if (!c.o.mount_root)
		c.o.mount_root = "/data";
	if (!c.o.fs_type || !c.o.fs_type[0])
		c.o.fs_type = "ext4";
	if (!c.o.min_size_bytes)
		c.o.min_size_bytes = 64ull << 20;
	if (strcmp(c.o.fs_type, "ext4") && strcmp(c.o.fs_type, "xfs"))
		return qs_err(err, errlen, -EINVAL, "filesystem '%s' not supported (ext4 or xfs)",
			      c.o.fs_type);
	r = qstorage_selector_parse(c.o.selector && c.o.selector[0] ? c.o.selector
								      : "removable == false",
				    &c.sel, &errpos, err, errlen);
	if (r < 0)
		return r;
	if (!(c.r = calloc(1, sizeof(*c.r)))) {
		qstorage_selector_free(c.sel);
		return qs_err(err, errlen, -ENOMEM, "out of memory");
	}
	c.r->dry_run = (c.o.flags & QSTORAGE_F_DRYRUN) != 0;
	if ((r = discover_and_plan(&c, err, errlen)) < 0)
		goto fail;
	locate_ours(&c);
	keep_pools(&c, prev);
	/* missing disks keep their labels' indexes reserved */
	size_t present = c.r->n;
	if ((r = carry_missing(&c, prev, err, errlen)) < 0)
		goto fail;
	/* NVMe first, so the fastest disk gets index 0 (MariaDB's home) */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < present; i++) {
			bool nvme = !strcmp(c.r->disks[i].transport, "nvme");
			if (nvme != (pass == 0))
				continue;
			if (c.act[i] == QSTORAGE_ACT_PROVISION || c.act[i] == QSTORAGE_ACT_WIPE_PROVISION)
				provision_blank(&c, &c.r->disks[i], c.act[i] == QSTORAGE_ACT_WIPE_PROVISION);
		}
	sum_pools(c.r);
	if ((r = choose_dirs(&c, err, errlen)) < 0)
		goto fail;
	free(c.act);
	free(c.probe);
	qstorage_selector_free(c.sel);
	*ret_report = c.r;
	return 0;
fail:
	free(c.act);
	free(c.probe);
	qstorage_selector_free(c.sel);
	qstorage_report_free(c.r);
	return r;
}

void qstorage_report_free(struct qstorage_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_chunk_dirs; i++)
		free(r->chunk_dirs[i]);
	free(r->chunk_dirs);
	free(r->disks);
	free(r);
}

const char *qstorage_chunk_dir(const struct qstorage_report *r, unsigned chunk_id)
{
	if (!r || !r->n_chunk_dirs)
		return NULL;
	return r->chunk_dirs[chunk_id % r->n_chunk_dirs];
}

int qstorage_wipe(const struct qstorage_opts *opts, const char *id, char *err, size_t errlen)
{
	struct ctx c = { .o = *opts };
	struct qstorage_disk *all;
	char dev[300];
	size_t n;
	int r;

	if (!c.o.sysfs_root)
		c.o.sysfs_root = "/sys";
	if (!c.o.dev_root)
		c.o.dev_root = "/dev";
	r = qstorage_discover(c.o.sysfs_root, (c.o.flags & QSTORAGE_F_LOOP) ? QSTORAGE_DISCOVER_LOOP : 0,
			      &all, &n, err, errlen);
	if (r < 0)
		return r;
	detect_root(&c);
	struct qstorage_disk *d = NULL;
	for (size_t i = 0; i < n && !d; i++)
		if (!strcmp(all[i].id, id) && only_allows(c.o.only, &all[i]))
			d = &all[i];
	if (!d)
		r = qs_err(err, errlen, -ENOENT, "no disk with id '%s' (see qstorage list)", id);
	else if (holds_boot(&c, d))
		r = qs_err(err, errlen, -EPERM, "%s (%s) is the boot medium: refusing to wipe it", id,
			   d->name);
	else if (d->holders[0])
		r = qs_err(err, errlen, -EBUSY, "%s (%s) is in use by %s: refusing to wipe it", id,
			   d->name, d->holders);
	else if (d->read_only)
		r = qs_err(err, errlen, -EROFS, "%s (%s) is read-only", id, d->name);
	else {
		snprintf(dev, sizeof(dev), "%s/%s", c.o.dev_root, d->name);
		r = wipe_disk(dev, err, errlen);
		if (r == -EBUSY)
			qs_err(err, errlen, r, "%s (%s) is busy (mounted or held): refusing to wipe it", id,
			       d->name);
	}
	qstorage_disks_free(all, n);
	return r;
}
