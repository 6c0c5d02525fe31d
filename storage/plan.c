/* plan.c: the per-disk decision, a pure function of what discovery and the
 * probe saw plus the operator's choices.  Order of the rules (first match
 * wins): boot medium; ours (mount as found, or `error` when its label or
 * filesystem is not what we write: never reformatted); held by md/dm or
 * partitioned in the kernel without a table blkid names; foreign (untouched
 * unless the operator listed its id for wiping); read-only; not selected;
 * too small; else provision it in the pool its rotational flag says.
 * The state written is the one the disk will have if the action succeeds;
 * provisioning turns it into `error` with a reason when a step fails. */
#include "qstorage.h"
#include "internal.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REASON(d, ...) qs_line((d)->reason, sizeof((d)->reason), __VA_ARGS__)

/* "qserv-fast0" -> FAST, 0.  false on anything else. */
bool qs_parse_label(const char *label, enum qstorage_pool *ret_pool, int *ret_index)
{
	enum qstorage_pool pool;
	const char *p;
	char *end;

	if (!strncmp(label, "qserv-fast", 10))
		pool = QSTORAGE_POOL_FAST;
	else if (!strncmp(label, "qserv-bulk", 10))
		pool = QSTORAGE_POOL_BULK;
	else
		return false;
	p = label + 10;
	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1]))
		return false;
	long idx = strtol(p, &end, 10);
	if (*end || idx > 99)
		return false;
	*ret_pool = pool;
	*ret_index = (int)idx;
	return true;
}

static enum qstorage_action plan_ours(struct qstorage_disk *d, const struct qstorage_probe *p)
{
	qs_strlcpy(d->signature, p->part_label, sizeof(d->signature));
	if (!qs_parse_label(p->part_label, &d->pool, &d->index)) {
		d->state = QSTORAGE_ERROR;
		REASON(d, "our partition type but its name '%s' is not qserv-<fast|bulk><n>; untouched",
		       p->part_label);
		return QSTORAGE_ACT_NONE;
	}
	if (!p->fs_type[0]) {
		d->state = QSTORAGE_ERROR;
		REASON(d, "ours (%s) but no filesystem found on the partition; not reformatting "
			  "(qstorage wipe %s --yes to start over)", p->part_label, d->id);
		return QSTORAGE_ACT_NONE;
	}
	if (strcmp(p->fs_type, "ext4") && strcmp(p->fs_type, "xfs")) {
		d->state = QSTORAGE_ERROR;
		REASON(d, "ours (%s) but the partition holds %s, not ext4/xfs; untouched",
		       p->part_label, p->fs_type);
		return QSTORAGE_ACT_NONE;
	}
	if (strcmp(p->fs_label, p->part_label)) {
		d->state = QSTORAGE_ERROR;
		REASON(d, "ours (%s) but the filesystem label is '%s'; untouched", p->part_label,
		       p->fs_label);
		return QSTORAGE_ACT_NONE;
	}
	qs_strlcpy(d->fs_type, p->fs_type, sizeof(d->fs_type));
	d->state = QSTORAGE_OURS_MOUNTED;
	REASON(d, "ours: %s (%s), check and mount as found", p->part_label, p->fs_type);
	return QSTORAGE_ACT_MOUNT;
}

enum qstorage_action qstorage_plan_disk(struct qstorage_disk *d, const struct qstorage_probe *p,
					bool selected, bool wipe_allowed, bool boot_medium,
					uint64_t min_size_bytes)
{
	bool wipe = false;

	d->pool = QSTORAGE_POOL_NONE;
	d->index = -1;
	d->signature[0] = d->fs_type[0] = '\0';
	if (boot_medium) {
		d->state = QSTORAGE_BOOT_MEDIUM;
		REASON(d, "the medium this node booted from; never touched");
		return QSTORAGE_ACT_NONE;
	}
	if (p->content == QSTORAGE_CONTENT_OURS)
		return plan_ours(d, p);
	if (d->holders[0]) {
		d->state = QSTORAGE_FOREIGN;
		qs_strlcpy(d->signature, p->content == QSTORAGE_CONTENT_FOREIGN ? p->signature : "held",
			   sizeof(d->signature));
		REASON(d, "in use by %s (%s); untouched", d->holders, d->signature);
		return QSTORAGE_ACT_NONE;
	}
	if (p->content == QSTORAGE_CONTENT_FOREIGN || d->partitions[0]) {
		qs_strlcpy(d->signature, p->content == QSTORAGE_CONTENT_FOREIGN ? p->signature
										 : "kernel partitions",
			   sizeof(d->signature));
		if (!wipe_allowed) {
			d->state = QSTORAGE_FOREIGN;
			REASON(d, "foreign: %s; untouched (allow with qserv.wipe=%s)", d->signature,
			       d->id);
			return QSTORAGE_ACT_NONE;
		}
		wipe = true;
	}
	if (d->read_only) {
		d->state = QSTORAGE_EXCLUDED;
		REASON(d, "read-only device%s", wipe ? "; wipe not done" : "");
		return QSTORAGE_ACT_NONE;
	}
	if (!selected) {
		d->state = QSTORAGE_EXCLUDED;
		REASON(d, "not selected by qserv.disks%s%s", d->removable ? " (removable)" : "",
		       wipe ? "; wipe not done" : "");
		return QSTORAGE_ACT_NONE;
	}
	if (d->size_bytes < min_size_bytes) {
		d->state = QSTORAGE_EXCLUDED;
		REASON(d, "too small (%llu MiB < %llu MiB)%s",
		       (unsigned long long)(d->size_bytes >> 20),
		       (unsigned long long)(min_size_bytes >> 20), wipe ? "; wipe not done" : "");
		return QSTORAGE_ACT_NONE;
	}
	d->pool = d->rotational ? QSTORAGE_POOL_BULK : QSTORAGE_POOL_FAST;
	d->state = QSTORAGE_PROVISIONED_NOW;
	if (wipe) {
		REASON(d, "foreign (%s), wipe allowed by the operator: wipe and provision into %s",
		       d->signature, qstorage_pool_name(d->pool));
		return QSTORAGE_ACT_WIPE_PROVISION;
	}
	qs_strlcpy(d->signature, "", sizeof(d->signature));
	REASON(d, "blank %s disk: provision into %s", d->rotational ? "rotational" : "non-rotational",
	       qstorage_pool_name(d->pool));
	return QSTORAGE_ACT_PROVISION;
}
