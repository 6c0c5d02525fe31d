/* disks.h: the agent's view of its disks, over libqstorage.
 *
 * In image mode the agent provisions (qstorage_provision: locate ours,
 * mount them, provision blank disks, never touch foreign ones) and keeps the
 * report current through kobject uevents (hot-plug).  In host mode it only
 * discovers, so tests on a developer machine never write a disk.  Logging
 * of disk decisions happens here, once per disk and change. */
#ifndef AGENT_DISKS_H
#define AGENT_DISKS_H

#include <stdbool.h>
#include <jansson.h>

#include "storage/qstorage.h"

struct agent_disks {
	bool provision;                 /* image mode: provision and watch */
	struct qstorage_opts opts;      /* strings point into the agent's config */
	struct qstorage_report *report; /* provisioning mode: current report */
	struct qstorage_disk *found;    /* discovery mode: current disks */
	size_t n_found;
	struct qstorage_watch *watch;   /* uevent socket, NULL if none */
};

/* First pass: provisioning (with hot-plug watch) or discovery only. */
void disks_start(struct agent_disks *d);
/* fd to poll for hot-plug events, -1 if none. */
int disks_watch_fd(const struct agent_disks *d);
/* Called when the watch fd is readable: rescans and provisions new disks. */
void disks_on_event(struct agent_disks *d);
/* Re-reads everything (SIGHUP). */
void disks_rescan(struct agent_disks *d);
/* The "disks" array for /status, and the "storage" object (pools, dirs). */
json_t *disks_json(const struct agent_disks *d);
json_t *disks_storage_json(const struct agent_disks *d);
/* Prometheus lines (malloc'd, may be NULL). */
char *disks_metrics(const struct agent_disks *d);
const char *disks_mariadb_dir(const struct agent_disks *d);
void disks_stop(struct agent_disks *d);

#endif
