/* json.c: JSON views of disks and state/pool names (jansson).  The keys are
 * an interface: the agent serves them under /status and `qstorage list
 * --json` prints them; add keys, never rename them. */
#include "qstorage.h"

#include <stdlib.h>
#include <string.h>

/* A JSON string even from bytes that are not UTF-8 (a tool's message, a
 * model string): anything outside printable ASCII becomes '?'. */
static json_t *jstr(const char *s)
{
	json_t *j = json_string(s);

	if (j)
		return j;
	char *c = strdup(s);
	if (!c)
		return NULL;
	for (char *p = c; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
	j = json_string(c);
	free(c);
	return j;
}

const char *qstorage_state_name(enum qstorage_state s)
{
	switch (s) {
	case QSTORAGE_UNKNOWN: return "unknown";
	case QSTORAGE_OURS_MOUNTED: return "ours-mounted";
	case QSTORAGE_PROVISIONED_NOW: return "provisioned-now";
	case QSTORAGE_FOREIGN: return "foreign";
	case QSTORAGE_BOOT_MEDIUM: return "boot-medium";
	case QSTORAGE_EXCLUDED: return "excluded";
	case QSTORAGE_MISSING: return "missing";
	case QSTORAGE_ERROR: return "error";
	}
	return "unknown";
}

const char *qstorage_pool_name(enum qstorage_pool p)
{
	switch (p) {
	case QSTORAGE_POOL_FAST: return "fast";
	case QSTORAGE_POOL_BULK: return "bulk";
	case QSTORAGE_POOL_NONE: break;
	}
	return "";
}

json_t *qstorage_disk_json(const struct qstorage_disk *d)
{
	json_t *o = json_pack("{s:o, s:o, s:I, s:b, s:o, s:o, s:o, s:o, s:i, s:i, s:b, s:b}",
			      "name", jstr(d->name), "id", jstr(d->id), "size_bytes",
			      (json_int_t)d->size_bytes, "rotational", d->rotational, "transport",
			      jstr(d->transport), "model", jstr(d->model), "serial", jstr(d->serial),
			      "wwid", jstr(d->wwid), "logical_sector", (int)d->logical_sector,
			      "physical_sector", (int)d->physical_sector, "removable", d->removable,
			      "read_only", d->read_only);
	if (!o || d->state == QSTORAGE_UNKNOWN)
		return o;
	json_t *pool = d->pool == QSTORAGE_POOL_NONE ? json_null()
						      : json_string(qstorage_pool_name(d->pool));
	if (json_object_set_new(o, "state", json_string(qstorage_state_name(d->state))) ||
	    json_object_set_new(o, "pool", pool) ||
	    json_object_set_new(o, "reason", jstr(d->reason)) ||
	    json_object_set_new(o, "signature", jstr(d->signature)) ||
	    json_object_set_new(o, "mountpoint", jstr(d->mountpoint)) ||
	    json_object_set_new(o, "fs_type", jstr(d->fs_type)) ||
	    json_object_set_new(o, "fs_size_bytes", json_integer((json_int_t)d->fs_size_bytes)) ||
	    json_object_set_new(o, "fs_used_bytes", json_integer((json_int_t)d->fs_used_bytes))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *qstorage_disks_json(const struct qstorage_disk *disks, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++) {
		json_t *o = qstorage_disk_json(&disks[i]);
		if (!o || json_array_append_new(a, o)) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}
