/* qstorage.c: the qstorage CLI over libqstorage, for operators and tests.
 *
 *   qstorage [options] list [--json]    disks with their current/planned state
 *   qstorage [options] plan [--json]    what apply would do, one line per disk
 *   qstorage [options] apply [--json]   locate ours, provision blank disks, mount
 *   qstorage [options] wipe ID --yes    erase one disk the operator names
 *   qstorage [options] watch            apply, then re-apply on every disk uevent
 *
 * Exit status: 0 done, 1 a disk is in `error` or the command failed, 2 usage.
 * Runs on any Linux host; options point it at other trees for tests. */
#include "qstorage.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fputs("usage: qstorage [options] list|plan|apply [--json]\n"
	      "       qstorage [options] wipe ID --yes\n"
	      "       qstorage [options] watch [--json]\n"
	      "options:\n"
	      "  --disks EXPR       selector (qserv.disks=), default 'removable == false'\n"
	      "  --wipe ID[,ID]     disks the operator allows to be wiped (qserv.wipe=)\n"
	      "  --fs ext4|xfs      filesystem for new disks (default ext4)\n"
	      "  --mount-root DIR   where pools are mounted (default /data)\n"
	      "  --node-uuid UUID   recorded on new disks, checked on ours\n"
	      "  --boot-device NAME never touched\n"
	      "  --only PAT[,PAT]   consider only disks whose name or id matches (globs)\n"
	      "  --loop             consider loop devices too\n"
	      "  --tmpfs            no usable disk: mount a tmpfs instead\n"
	      "  --sysfs DIR --dev DIR   other sysfs / dev trees\n", f);
}

static const char *human(uint64_t b, char *buf, size_t size)
{
	const char *u[] = { "B", "K", "M", "G", "T", "P" };
	double v = (double)b;
	int i = 0;

	while (v >= 1000 && i < 5)
		v /= 1000, i++;
	snprintf(buf, size, i ? "%.1f%s" : "%.0f%s", v, u[i]);
	return buf;
}

/* `list` shows what is, not what apply would do */
static const char *list_state(const struct qstorage_report *r, const struct qstorage_disk *d)
{
	if (r->dry_run && d->state == QSTORAGE_PROVISIONED_NOW)
		return d->signature[0] ? "foreign(wipe)" : "blank";
	if (r->dry_run && d->state == QSTORAGE_OURS_MOUNTED && !d->mountpoint[0])
		return "ours";
	return qstorage_state_name(d->state);
}

static void print_table(const struct qstorage_report *r, bool reasons)
{
	char sz[32];

	if (!reasons)
		printf("%-10s %-40s %8s %-9s %-4s %-20s %-16s %-5s %s\n", "NAME", "ID", "SIZE", "TRANSPORT",
		       "ROT", "MODEL", "STATE", "POOL", "MOUNT");
	for (size_t i = 0; i < r->n; i++) {
		const struct qstorage_disk *d = &r->disks[i];
		if (reasons)
			printf("%-10s %-40s %8s %-6s %-3s -> %-15s %-4s %s\n", d->name, d->id,
			       human(d->size_bytes, sz, sizeof(sz)), d->transport,
			       d->rotational ? "hdd" : "ssd", qstorage_state_name(d->state),
			       d->pool ? qstorage_pool_name(d->pool) : "-", d->reason);
		else
			printf("%-10s %-40s %8s %-9s %-4s %-20s %-16s %-5s %s\n", d->name, d->id,
			       human(d->size_bytes, sz, sizeof(sz)), d->transport,
			       d->rotational ? "yes" : "no", d->model[0] ? d->model : "-",
			       list_state(r, d), d->pool ? qstorage_pool_name(d->pool) : "-",
			       d->mountpoint[0] ? d->mountpoint : "-");
	}
	if (r->mariadb_dir[0])
		printf("mariadb: %s  staging: %s  backups: %s  chunk dirs: %zu\n", r->mariadb_dir,
		       r->staging_dir, r->backup_dir, r->n_chunk_dirs);
	if (r->warning[0])
		printf("WARNING: %s\n", r->warning);
}

static int print_report(const struct qstorage_report *r, bool json, bool reasons)
{
	int bad = 0;

	for (size_t i = 0; i < r->n; i++)
		bad |= r->disks[i].state == QSTORAGE_ERROR;
	if (json) {
		json_t *o = qstorage_report_json(r);
		if (!o || json_dumpf(o, stdout, JSON_INDENT(2)) < 0) {
			json_decref(o);
			fprintf(stderr, "qstorage: out of memory\n");
			return 1;
		}
		putchar('\n');
		json_decref(o);
	} else {
		print_table(r, reasons);
	}
	fflush(stdout);
	return bad ? 1 : 0;
}

/* The wipe goes into the kernel log too: the node's console keeps it. */
static void record_wipe(const char *id)
{
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);

	fprintf(stderr, "qstorage: wiping disk %s at the operator's request\n", id);
	if (fd >= 0) {
		dprintf(fd, "qstorage: wiping disk %s at the operator's request\n", id);
		close(fd);
	}
}

static int watch(struct qstorage_opts *o, bool json)
{
	struct qstorage_report *cur = NULL, *next;
	struct qstorage_watch *w;
	char err[512];

	if (qstorage_watch_open(&w, err, sizeof(err)) < 0) {
		fprintf(stderr, "qstorage: %s\n", err);
		return 1;
	}
	for (bool rescan = true;;) {
		if (rescan) {
			if (qstorage_provision(o, cur, &next, err, sizeof(err)) < 0) {
				fprintf(stderr, "qstorage: %s\n", err);
				break;
			}
			qstorage_report_free(cur);
			cur = next;
			print_report(cur, json, true);
			if (!json)
				puts("--");
			fflush(stdout);
		}
		struct pollfd p = { .fd = qstorage_watch_fd(w), .events = POLLIN };
		if (poll(&p, 1, -1) < 0)
			continue;
		if (qstorage_watch_read(w, &rescan, err, sizeof(err)) < 0) {
			fprintf(stderr, "qstorage: %s\n", err);
			break;
		}
		if (rescan) /* let a burst of events (disk + partitions) settle */
			nanosleep(&(struct timespec){ .tv_nsec = 100 * 1000 * 1000 }, NULL);
		bool more = false;
		qstorage_watch_read(w, &more, NULL, 0);
	}
	qstorage_report_free(cur);
	qstorage_watch_close(w);
	return 1;
}

int main(int argc, char **argv)
{
	enum { O_DISKS = 256, O_WIPE, O_FS, O_MROOT, O_NODE, O_BOOT, O_ONLY, O_LOOP, O_TMPFS,
	       O_SYSFS, O_DEV, O_JSON, O_YES };
	static const struct option lo[] = {
		{ "disks", 1, 0, O_DISKS }, { "wipe", 1, 0, O_WIPE }, { "fs", 1, 0, O_FS },
		{ "mount-root", 1, 0, O_MROOT }, { "node-uuid", 1, 0, O_NODE },
		{ "boot-device", 1, 0, O_BOOT }, { "only", 1, 0, O_ONLY }, { "loop", 0, 0, O_LOOP },
		{ "tmpfs", 0, 0, O_TMPFS }, { "sysfs", 1, 0, O_SYSFS }, { "dev", 1, 0, O_DEV },
		{ "json", 0, 0, O_JSON }, { "yes", 0, 0, O_YES }, { "help", 0, 0, 'h' }, { 0 },
	};
	struct qstorage_opts o = { 0 };
	bool json = false, yes = false;
	struct qstorage_report *r;
	char err[512];
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case O_DISKS: o.selector = optarg; break;
		case O_WIPE: o.wipe = optarg; break;
		case O_FS: o.fs_type = optarg; break;
		case O_MROOT: o.mount_root = optarg; break;
		case O_NODE: o.node_uuid = optarg; break;
		case O_BOOT: o.boot_device = optarg; break;
		case O_ONLY: o.only = optarg; break;
		case O_LOOP: o.flags |= QSTORAGE_F_LOOP; break;
		case O_TMPFS: o.flags |= QSTORAGE_F_TMPFS; break;
		case O_SYSFS: o.sysfs_root = optarg; break;
		case O_DEV: o.dev_root = optarg; break;
		case O_JSON: json = true; break;
		case O_YES: yes = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[optind++];
	if (!strcmp(cmd, "wipe")) {
		if (optind != argc - 1 || !yes) {
			fprintf(stderr, "qstorage: wipe takes one disk id and --yes: this erases the disk\n");
			return 2;
		}
		record_wipe(argv[optind]);
		if (qstorage_wipe(&o, argv[optind], err, sizeof(err)) < 0) {
			fprintf(stderr, "qstorage: wipe: %s\n", err);
			return 1;
		}
		printf("wiped %s\n", argv[optind]);
		return 0;
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(cmd, "watch"))
		return watch(&o, json);
	if (!strcmp(cmd, "list") || !strcmp(cmd, "plan"))
		o.flags |= QSTORAGE_F_DRYRUN;
	else if (strcmp(cmd, "apply")) {
		usage(stderr);
		return 2;
	}
	if (qstorage_provision(&o, NULL, &r, err, sizeof(err)) < 0) {
		fprintf(stderr, "qstorage: %s\n", err);
		if (o.selector && strstr(err, "selector: position")) {
			const char *p = strstr(err, "position ") + 9;
			int pos = atoi(p);
			fprintf(stderr, "  %s\n  %*s^\n", o.selector, pos > 0 ? pos - 1 : 0, "");
		}
		return 1;
	}
	int ret = print_report(r, json, strcmp(cmd, "list") != 0);
	qstorage_report_free(r);
	return ret;
}
