/* disks.c: provisioning, hot-plug and discovery through libqstorage (see
 * disks.h).  A rescan builds a new report from the previous one, so disks
 * that went away stay listed as `missing`. */
#include "disks.h"

#include "log.h"

#include <stdlib.h>
#include <string.h>

static void log_disk(const struct qstorage_disk *n, const struct qstorage_disk *old)
{
	if (old && old->state == n->state && !strcmp(old->mountpoint, n->mountpoint))
		return;
	log_info("disk %s (%s): %s%s%s%s%s — %s", n->name, n->id, qstorage_state_name(n->state),
		 n->pool ? " " : "", qstorage_pool_name(n->pool), n->mountpoint[0] ? " at " : "",
		 n->mountpoint, n->reason);
}

static const struct qstorage_disk *find(const struct qstorage_report *r, const char *id)
{
	for (size_t i = 0; r && i < r->n; i++)
		if (!strcmp(r->disks[i].id, id))
			return &r->disks[i];
	return NULL;
}

static void provision(struct agent_disks *d)
{
	struct qstorage_report *next = NULL;
	char err[256];

	if (qstorage_provision(&d->opts, d->report, &next, err, sizeof(err)) < 0) {
		log_error("storage: %s", err);
		return;
	}
	for (size_t i = 0; i < next->n; i++) {
		struct qstorage_disk *n = &next->disks[i];
		const struct qstorage_disk *old = find(d->report, n->id);

		/* A disk provisioned earlier in this boot stays "provisioned-now"
		 * when a later rescan finds it ours and mounted. */
		if (old && old->state == QSTORAGE_PROVISIONED_NOW && n->state == QSTORAGE_OURS_MOUNTED &&
		    !strcmp(old->mountpoint, n->mountpoint)) {
			n->state = QSTORAGE_PROVISIONED_NOW;
			memcpy(n->reason, old->reason, sizeof(n->reason));
		}
		log_disk(n, old);
	}
	if (next->warning[0] && (!d->report || strcmp(next->warning, d->report->warning)))
		log_warn("storage: %s", next->warning);
	if (next->mariadb_dir[0] && (!d->report || strcmp(next->mariadb_dir, d->report->mariadb_dir)))
		log_info("storage: MariaDB data in %s, staging in %s", next->mariadb_dir, next->staging_dir);
	qstorage_report_free(d->report);
	d->report = next;
}

static void discover(struct agent_disks *d)
{
	char err[256];

	qstorage_disks_free(d->found, d->n_found);
	d->found = NULL;
	d->n_found = 0;
	if (qstorage_discover(d->opts.sysfs_root, 0, &d->found, &d->n_found, err, sizeof(err)) < 0) {
		log_warn("disk discovery: %s", err);
		return;
	}
	for (size_t i = 0; i < d->n_found; i++)
		log_info("disk %s: %s, %llu MiB, %s, %s", d->found[i].name, d->found[i].id,
			 (unsigned long long)(d->found[i].size_bytes >> 20), d->found[i].transport,
			 d->found[i].rotational ? "rotational" : "non-rotational");
}

void disks_start(struct agent_disks *d)
{
	char err[256];

	if (!d->provision) {
		discover(d);
		return;
	}
	if (qstorage_watch_open(&d->watch, err, sizeof(err)) < 0) {
		log_warn("storage: no hot-plug events: %s", err);
		d->watch = NULL;
	}
	provision(d);
}

int disks_watch_fd(const struct agent_disks *d)
{
	return d->watch ? qstorage_watch_fd(d->watch) : -1;
}

void disks_on_event(struct agent_disks *d)
{
	bool rescan = false;
	char err[256];

	if (qstorage_watch_read(d->watch, &rescan, err, sizeof(err)) < 0)
		log_warn("storage: uevent: %s", err);
	if (rescan)
		provision(d);
}

void disks_rescan(struct agent_disks *d)
{
	if (d->provision)
		provision(d);
	else
		discover(d);
}

json_t *disks_json(const struct agent_disks *d)
{
	if (d->provision)
		return d->report ? qstorage_disks_json(d->report->disks, d->report->n) : json_array();
	return qstorage_disks_json(d->found, d->n_found);
}

/* The disks in state foreign or error, for the heartbeat's health (the
 * registry alerts on them: agent/registry/registry_disks.c). */
static json_t *problems_json(const struct qstorage_report *r)
{
	json_t *a = json_array();

	for (size_t i = 0; i < r->n; i++) {
		const struct qstorage_disk *k = &r->disks[i];
		if (k->state == QSTORAGE_FOREIGN || k->state == QSTORAGE_ERROR)
			json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s}", "id", k->id, "name", k->name, "state",
							   qstorage_state_name(k->state), "reason", k->reason));
	}
	return a;
}

json_t *disks_storage_json(const struct agent_disks *d)
{
	json_t *s;

	if (!d->provision || !d->report)
		return json_null();
	s = qstorage_report_json(d->report);
	json_object_del(s, "disks");
	json_object_set_new(s, "problems", problems_json(d->report));
	return s;
}

char *disks_metrics(const struct agent_disks *d)
{
	return d->provision && d->report ? qstorage_report_metrics(d->report) : NULL;
}

const char *disks_mariadb_dir(const struct agent_disks *d)
{
	return d->report && d->report->mariadb_dir[0] ? d->report->mariadb_dir : NULL;
}

void disks_stop(struct agent_disks *d)
{
	qstorage_watch_close(d->watch);
	d->watch = NULL;
	qstorage_report_free(d->report);
	d->report = NULL;
	qstorage_disks_free(d->found, d->n_found);
	d->found = NULL;
	d->n_found = 0;
}
