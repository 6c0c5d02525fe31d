/* report.c: the provisioning report as JSON (for /status and `qstorage
 * --json`) and as Prometheus text (for /metrics).  Key and metric names are
 * an interface: add, never rename. */
#include "qstorage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *pool_json(const struct qstorage_pool_info *p)
{
	return json_pack("{s:i, s:i, s:I, s:I, s:b}", "disks", (int)p->disks, "missing",
			 (int)p->missing, "size_bytes", (json_int_t)p->size_bytes, "used_bytes",
			 (json_int_t)p->used_bytes, "degraded", p->degraded);
}

json_t *qstorage_report_json(const struct qstorage_report *r)
{
	json_t *o, *dirs = json_array();

	for (size_t i = 0; dirs && i < r->n_chunk_dirs; i++)
		if (json_array_append_new(dirs, json_string(r->chunk_dirs[i]))) {
			json_decref(dirs);
			return NULL;
		}
	o = json_pack("{s:o, s:{s:o, s:o}, s:s, s:s, s:s, s:o, s:b, s:s, s:b}", "disks",
		      qstorage_disks_json(r->disks, r->n), "pools", "fast", pool_json(&r->fast),
		      "bulk", pool_json(&r->bulk), "mariadb_dir", r->mariadb_dir, "staging_dir",
		      r->staging_dir, "backup_dir", r->backup_dir, "chunk_dirs", dirs, "tmpfs",
		      r->tmpfs, "warning", r->warning, "dry_run", r->dry_run);
	return o; /* json_pack's "o" steals references, also on failure */
}

/* Prometheus label values: escape backslash, quote and newline. */
static void label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*s, f);
	}
}

char *qstorage_report_metrics(const struct qstorage_report *r)
{
	static const enum qstorage_state states[] = {
		QSTORAGE_OURS_MOUNTED, QSTORAGE_PROVISIONED_NOW, QSTORAGE_FOREIGN, QSTORAGE_BOOT_MEDIUM,
		QSTORAGE_EXCLUDED, QSTORAGE_MISSING, QSTORAGE_ERROR,
	};
	const struct { const char *name; const struct qstorage_pool_info *p; } pools[] = {
		{ "fast", &r->fast }, { "bulk", &r->bulk },
	};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fputs("# HELP qserv_storage_pool_size_bytes Capacity of the mounted filesystems of a pool.\n"
	      "# TYPE qserv_storage_pool_size_bytes gauge\n", f);
	for (size_t i = 0; i < 2; i++)
		fprintf(f, "qserv_storage_pool_size_bytes{pool=\"%s\"} %llu\n", pools[i].name,
			(unsigned long long)pools[i].p->size_bytes);
	fputs("# HELP qserv_storage_pool_used_bytes Bytes used on the mounted filesystems of a pool.\n"
	      "# TYPE qserv_storage_pool_used_bytes gauge\n", f);
	for (size_t i = 0; i < 2; i++)
		fprintf(f, "qserv_storage_pool_used_bytes{pool=\"%s\"} %llu\n", pools[i].name,
			(unsigned long long)pools[i].p->used_bytes);
	fputs("# HELP qserv_storage_pool_disks Disks in use in a pool.\n"
	      "# TYPE qserv_storage_pool_disks gauge\n", f);
	for (size_t i = 0; i < 2; i++)
		fprintf(f, "qserv_storage_pool_disks{pool=\"%s\"} %u\n", pools[i].name, pools[i].p->disks);
	fputs("# HELP qserv_storage_pool_degraded 1 when a disk of the pool is missing or failed.\n"
	      "# TYPE qserv_storage_pool_degraded gauge\n", f);
	for (size_t i = 0; i < 2; i++)
		fprintf(f, "qserv_storage_pool_degraded{pool=\"%s\"} %d\n", pools[i].name,
			pools[i].p->degraded);
	fputs("# HELP qserv_storage_tmpfs 1 when no disk is usable and data lives on a tmpfs.\n"
	      "# TYPE qserv_storage_tmpfs gauge\n", f);
	fprintf(f, "qserv_storage_tmpfs %d\n", r->tmpfs);
	fputs("# HELP qserv_storage_disks Disks by state.\n# TYPE qserv_storage_disks gauge\n", f);
	for (size_t s = 0; s < sizeof(states) / sizeof(states[0]); s++) {
		unsigned n = 0;
		for (size_t i = 0; i < r->n; i++)
			n += r->disks[i].state == states[s];
		fprintf(f, "qserv_storage_disks{state=\"%s\"} %u\n", qstorage_state_name(states[s]), n);
	}
	fputs("# HELP qserv_storage_disk_size_bytes Size of each disk, labelled by state and pool.\n"
	      "# TYPE qserv_storage_disk_size_bytes gauge\n", f);
	for (size_t i = 0; i < r->n; i++) {
		const struct qstorage_disk *d = &r->disks[i];
		fputs("qserv_storage_disk_size_bytes{id=\"", f);
		label(f, d->id);
		fprintf(f, "\",name=\"%s\",state=\"%s\",pool=\"%s\"} %llu\n", d->name,
			qstorage_state_name(d->state), qstorage_pool_name(d->pool),
			(unsigned long long)d->size_bytes);
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
