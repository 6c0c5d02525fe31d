/* ingest.c: `qservctl ingest DIR`, a whole qserv-ingest dataset through the
 * controller's API: argument parsing and what the operator sees; the
 * engine (dataset, journal, transactions of contributions, publish,
 * validation) is libqloader (qserv/loader/loader.h says what it does).
 *
 *   qservctl [--url URL] ingest [-j N] [--batch N] [--state FILE]
 *            [--transfer auto|file|upload] [--no-publish] [--auth-key-file F]
 *            [--ca F] [--validate input|loaded|none] [--num-retries N]
 *            [--max-warnings N] [-q] DIR
 *
 * --num-retries N: automatic retries of a contribution that failed for a
 * transient reason (0..10, Qserv's num_retries; default 1; 0 = none).
 * --max-warnings N: MariaDB warnings a contribution may raise (a value cut
 * or not converted; the workers count and keep them as Qserv's do); more
 * fail its batch, which is aborted.  Default 0: none.
 * The admin key: --auth-key-file F or $QSERV_AUTH_KEY; the cluster CA the
 * controller's and workers' HTTPS certificates must chain to: --ca F or
 * $QSERV_CA_FILE (cluster.env of tools/dev-cluster and tools/cluster has
 * both).
 *
 * DIR may be an http(s):// URL, as qserv-ingest serves its datasets.
 * Progress (at most once a second) and notices go to stderr (-q: only
 * warnings), the row-count comparison of every table to stdout. */
#include "ctl.h"
#include "monotime.h"
#include "qserv/common/qhttpc.h"
#include "qserv/loader/loader.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the operator sees of a run. */
struct view {
	bool quiet;
	double t0, last_print;
};

static void print_progress(struct view *v, const struct qloader_progress *p, bool final)
{
	double t = monotime_s(), dt = t - v->t0;
	if (v->quiet || (!final && t - v->last_print < 1.0))
		return;
	v->last_print = t;
	fprintf(stderr, "qservctl: %s files %zu/%zu, rows %llu, %.1f MB, %.1f MB/s, %.0f rows/s\n",
		final ? "loaded" : "progress", p->files_done, p->files_total, p->rows, (double)p->bytes / 1e6,
		dt > 0 ? (double)p->bytes / 1e6 / dt : 0.0, dt > 0 ? (double)p->rows / dt : 0.0);
}

static void print_table(const struct qloader_event *ev)
{
	switch (ev->kind) {
	case QLOADER_EV_WORKER_ROWS:
		printf("%s.%s: %lld rows on %s, input %llu\n", ev->db, ev->table, ev->rows, ev->worker, ev->want);
		break;
	case QLOADER_EV_TABLE_ROWS:
		printf("%s.%s: %llu rows%s, input %llu%s: %s\n", ev->db, ev->table, (unsigned long long)ev->rows,
		       ev->partitioned ? "" : " over all workers", ev->want, ev->director ? " (+overlap)" : "",
		       ev->ok ? "ok" : "MISMATCH");
		break;
	case QLOADER_EV_OVERLAP_ROWS:
		printf("%s.%s: %llu overlap rows, input %llu\n", ev->db, ev->table, (unsigned long long)ev->rows,
		       ev->want);
		break;
	default:
		break;
	}
}

static void report(void *ctx, const struct qloader_event *ev)
{
	struct view *v = ctx;
	switch (ev->kind) {
	case QLOADER_EV_VERSION:
		fprintf(stderr, "qservctl: warning: metadata.json version %lld (this tool follows version 12)\n",
			ev->version);
		break;
	case QLOADER_EV_PROGRESS:
	case QLOADER_EV_LOADED:
		print_progress(v, &ev->progress, ev->kind == QLOADER_EV_LOADED);
		break;
	case QLOADER_EV_RESUME_ABORTED:
		fprintf(stderr, "qservctl: transaction %lld of an interrupted run aborted\n", ev->trans);
		break;
	case QLOADER_EV_ABORT_FAILED:
		fprintf(stderr, "qservctl: aborting transaction %lld: %s\n", ev->trans, ev->text);
		break;
	case QLOADER_EV_PUBLISHED:
		if (!v->quiet)
			fprintf(stderr, "qservctl: database %s published\n", ev->db);
		break;
	case QLOADER_EV_ALREADY_PUBLISHED:
		if (!v->quiet)
			fprintf(stderr, "qservctl: database %s is already published: validating only\n", ev->db);
		break;
	case QLOADER_EV_RETRY:
		fprintf(stderr, "qservctl: %s on %s: attempt %d failed (%s); retrying\n", ev->table,
			ev->worker ? ev->worker : "?", ev->attempt, ev->text ? ev->text : "");
		break;
	case QLOADER_EV_NOT_VALIDATED:
		if (!v->quiet)
			fprintf(stderr, "qservctl: row counts not validated (--validate none)\n");
		break;
	default:
		print_table(ev);
		break;
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: qservctl [--url URL] ingest [-j N] [--batch N] [--state FILE]\n"
			"                [--transfer auto|file|upload] [--no-publish] [--auth-key-file F]\n"
			"                [--validate input|loaded|none] [--num-retries N] [--max-warnings N] [-q] DIR\n"
			"  The controller URL defaults to $QSERV_INGEST_URL, the auth key to $QSERV_AUTH_KEY.\n");
	return 2;
}

static int parse_transfer(const char *s, enum qloader_transfer *ret)
{
	if (!strcmp(s, "auto")) *ret = QLOADER_TRANSFER_AUTO;
	else if (!strcmp(s, "file")) *ret = QLOADER_TRANSFER_FILE;
	else if (!strcmp(s, "upload")) *ret = QLOADER_TRANSFER_UPLOAD;
	else return -1;
	return 0;
}

static int parse_validate(const char *s, enum qloader_validate *ret)
{
	if (!strcmp(s, "input")) *ret = QLOADER_VALIDATE_INPUT;
	else if (!strcmp(s, "loaded")) *ret = QLOADER_VALIDATE_LOADED;
	else if (!strcmp(s, "none")) *ret = QLOADER_VALIDATE_NONE;
	else return -1;
	return 0;
}

int ctl_ingest(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, 0, 'u' }, { "jobs", required_argument, 0, 'j' },
		{ "batch", required_argument, 0, 'b' }, { "state", required_argument, 0, 's' },
		{ "transfer", required_argument, 0, 't' }, { "no-publish", no_argument, 0, 'n' },
		{ "quiet", no_argument, 0, 'q' }, { "auth-key-file", required_argument, 0, 'k' },
		{ "validate", required_argument, 0, 'V' }, { "ca", required_argument, 0, 'C' },
		{ "num-retries", required_argument, 0, 'r' }, { "max-warnings", required_argument, 0, 'W' },
		{ 0, 0, 0, 0 },
	};
	struct qloader_opts o = { .jobs = 4, .batch = 64, .publish = true };
	struct view v = { .quiet = false };
	o.url = ctl_url ? ctl_url : getenv("QSERV_INGEST_URL");
	const char *keyfile = NULL, *cafile = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "j:q", opts, NULL)) != -1) {
		switch (c) {
		case 'u': o.url = optarg; break;
		case 'j': o.jobs = atoi(optarg); break;
		case 'b': o.batch = atoi(optarg); break;
		case 's': o.state_path = optarg; break;
		case 't':
			if (parse_transfer(optarg, &o.transfer))
				return usage();
			break;
		case 'n': o.publish = false; break;
		case 'q': v.quiet = true; break;
		case 'k': keyfile = optarg; break;
		case 'C': cafile = optarg; break;
		case 'V':
			if (parse_validate(optarg, &o.validate))
				return usage();
			break;
		case 'r': {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*end || end == optarg || n < 0 || n > QLOADER_MAX_RETRIES)
				return usage();
			o.num_retries = n ? (int)n : QLOADER_NO_RETRIES;
			break;
		}
		case 'W': {
			char *end;
			long long n = strtoll(optarg, &end, 10);
			if (*end || end == optarg || n < 0)
				return usage();
			o.max_warnings = n;
			break;
		}
		default: return usage();
		}
	}
	if (optind + 1 != argc || o.jobs < 1 || o.jobs > QLOADER_MAX_JOBS || o.batch < 1)
		return usage();
	if (!o.url || !*o.url) {
		fprintf(stderr, "qservctl ingest: no controller URL (--url or QSERV_INGEST_URL)\n");
		return 2;
	}
	o.dir = argv[optind];
	v.t0 = monotime_s();
	char err[2048] = "";
	/* one connection per loader thread and service, not a TLS handshake per file */
	if (qhttpc_init() < 0 || qhttpc_client_setup(keyfile, cafile, err, sizeof err) < 0 ||
	    qhttpc_keep_connections() < 0) {
		fprintf(stderr, "qservctl ingest: %s\n", err[0] ? err : "cannot set up the HTTP client");
		return 2;
	}
	int r = qloader_run(&o, report, &v, err, sizeof err);
	if (r)
		fprintf(stderr, "qservctl ingest: %s\n", err);
	return r ? 1 : 0;
}
