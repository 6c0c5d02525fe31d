/* main.c: qserv-mobu, a load runner in the spirit of Rubin's mobu: flocks
 * of monkeys, each monkey a simulated user with its own connection to the
 * czar's SQL port running one business (business.h) in a loop, checking
 * every answer.  Per flock: successes, failures, latency percentiles and
 * the last errors, as a summary at the end (and every --report-every
 * seconds on stderr), as JSON with --json, and as Prometheus text on
 * --metrics-port for a continuous "firefighter" flock.
 *
 *   qserv-mobu [-h HOST] [-P PORT] [-u USER] [-p PASSWORD] [-D DB] [--ssl-ca FILE]
 *              --flock NAME:BUSINESS:MONKEYS[:STATEMENT] ...
 *              [--duration S] [--ramp S] [--wait-ms N] [--report-every S]
 *              [--json] [--metrics-port N] [--metrics-bind ADDR]
 *              [--director T] [--key C] [--ra C] [--decl C] [--child T] [--cone-radius DEG]
 *              [--alert-below RATIO [--alert-window S] [--alert-webhook URL] [--alert-slack URL]
 *               [--alert-sentry DSN] [--alert-cluster NAME]]
 *
 * With --alert-below a flock whose success rate over a window (60 s) is
 * under RATIO raises a "firefighter" alert (watch.h) to the log and the
 * sinks named (qserv/common/alert.h).
 * The password may come from $QSERV_PASSWORD.  Exit status: 0 when every
 * run succeeded, 1 when any failed, 2 for a usage error, 3 when the
 * reference answers could not be taken. */
#include "business.h"
#include "report.h"
#include "stats.h"
#include "watch.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "qserv/common/alert.h"
#include "qserv/common/sqlid.h"

#define MAX_FLOCKS 16
#define MAX_MONKEYS 20000

struct conn_opts {
	const char *host, *user, *password, *db, *ssl_ca;
	unsigned port;
};

struct run {
	struct conn_opts co;
	struct catalog cat;
	struct reference ref;
	struct flock flocks[MAX_FLOCKS];
	int nflocks;
	double duration_s, ramp_s;
	unsigned wait_ms;
	struct watch watch;
	struct alert_config alerts;
	volatile sig_atomic_t stop;
	struct timespec t0;
};

static struct run R;

static double since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static MYSQL *connect_one(const struct conn_opts *o, char *err, size_t errlen)
{
	MYSQL *my = mysql_init(NULL);
	unsigned t_conn = 10, t_io = 300;

	if (!my) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &t_conn);
	mysql_options(my, MYSQL_OPT_READ_TIMEOUT, &t_io);
	mysql_options(my, MYSQL_OPT_WRITE_TIMEOUT, &t_io);
	if (o->ssl_ca)
		mysql_optionsv(my, MYSQL_OPT_SSL_CA, o->ssl_ca);
	if (!mysql_real_connect(my, o->host, o->user, o->password, o->db, o->port, NULL, 0)) {
		snprintf(err, errlen, "connect: ERROR %u: %s", mysql_errno(my), mysql_error(my));
		mysql_close(my);
		return NULL;
	}
	return my;
}

struct monkey {
	struct flock *f;
	unsigned seed;
	double start_after_s;
};

static void nap_ms(unsigned ms)
{
	struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&t, NULL);
}

static bool over(void)
{
	return R.stop || (R.duration_s > 0 && since(&R.t0) >= R.duration_s);
}

static void *monkey_main(void *arg)
{
	struct monkey *m = arg;
	MYSQL *my = NULL;
	char why[512];
	int lost;

	while (!over() && since(&R.t0) < m->start_after_s)
		nap_ms(20);
	while (!over()) {
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (!my && !(my = connect_one(&R.co, why, sizeof(why)))) {
			stats_failure(&m->f->st, since(&t) * 1000, why);
			nap_ms(1000);   /* a refused connection is not retried in a tight loop */
			continue;
		}
		if (business_run(my, m->f->kind, &R.cat, &R.ref, &m->f->sql, &m->seed, &lost, why, sizeof(why)) == 0) {
			stats_success(&m->f->st, since(&t) * 1000);
		} else {
			stats_failure(&m->f->st, since(&t) * 1000, why);
			if (lost) {
				mysql_close(my);
				my = NULL;
			}
		}
		if (R.wait_ms)
			nap_ms(R.wait_ms);
	}
	if (my)
		mysql_close(my);
	return NULL;
}

/* NAME:BUSINESS:MONKEYS[:STATEMENT] */
static int parse_flock(const char *spec, struct flock *f)
{
	char buf[4096], *name, *biz, *n, *stmt, *end;
	long v;

	snprintf(buf, sizeof(buf), "%s", spec);
	name = strtok_r(buf, ":", &end);
	biz = name ? strtok_r(NULL, ":", &end) : NULL;
	n = biz ? strtok_r(NULL, ":", &end) : NULL;
	stmt = n ? end : NULL;
	if (!n || !*name || strlen(name) >= sizeof(f->name) || business_parse(biz, &f->kind) < 0) {
		fprintf(stderr, "qserv-mobu: --flock %s: want NAME:BUSINESS:MONKEYS[:STATEMENT], BUSINESS one of "
			"lookup, cone, join, scan, async, sql\n", spec);
		return -1;
	}
	v = strtol(n, &end, 10);
	if (*end || v < 1 || v > MAX_MONKEYS) {
		fprintf(stderr, "qserv-mobu: --flock %s: MONKEYS must be 1..%d\n", spec, MAX_MONKEYS);
		return -1;
	}
	if ((f->kind == BIZ_SQL) != (stmt && *stmt)) {
		fprintf(stderr, "qserv-mobu: --flock %s: a STATEMENT is given with the sql business, and only then\n", spec);
		return -1;
	}
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->monkeys = (int)v;
	f->sql.statement = stmt && *stmt ? strdup(stmt) : NULL;
	pthread_mutex_init(&f->sql.mu, NULL);
	stats_init(&f->st);
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	R.stop = 1;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: qserv-mobu [-h HOST] [-P PORT] [-u USER] [-p PASSWORD] [-D DB] [--ssl-ca FILE]\n"
		"                  --flock NAME:BUSINESS:MONKEYS[:STATEMENT] ...\n"
		"                  [--duration S (60; 0 = until SIGTERM)] [--ramp S (5)] [--wait-ms N (0)]\n"
		"                  [--report-every S (0 = only at the end)] [--json]\n"
		"                  [--metrics-port N] [--metrics-bind ADDR (127.0.0.1)]\n"
		"                  [--director Object] [--key objectId] [--ra ra] [--decl decl] [--child Source]\n"
		"                  [--cone-radius 0.05]\n"
		"                  [--alert-below RATIO [--alert-window S (60)] [--alert-webhook URL] [--alert-slack URL]\n"
		"                   [--alert-sentry DSN] [--alert-cluster NAME]]\n"
		"businesses: lookup cone join scan async sql (business.h)\n");
	return 2;
}

static double num_arg(const char *s, double lo, double hi, int *bad)
{
	char *end;
	double v = strtod(s, &end);

	if (*end || !(v >= lo && v <= hi))
		*bad = 1;
	return v;
}

static int parse_args(int argc, char **argv, struct report_opts *ro)
{
	static const struct option opts[] = {
		{ "host", required_argument, 0, 'h' }, { "port", required_argument, 0, 'P' },
		{ "user", required_argument, 0, 'u' }, { "password", required_argument, 0, 'p' },
		{ "database", required_argument, 0, 'D' }, { "ssl-ca", required_argument, 0, 'C' },
		{ "flock", required_argument, 0, 'f' }, { "duration", required_argument, 0, 'd' },
		{ "ramp", required_argument, 0, 'r' }, { "wait-ms", required_argument, 0, 'w' },
		{ "report-every", required_argument, 0, 'e' }, { "json", no_argument, 0, 'j' },
		{ "metrics-port", required_argument, 0, 'm' }, { "metrics-bind", required_argument, 0, 'b' },
		{ "director", required_argument, 0, 'T' }, { "key", required_argument, 0, 'K' },
		{ "ra", required_argument, 0, 'A' }, { "decl", required_argument, 0, 'E' },
		{ "child", required_argument, 0, 'S' }, { "cone-radius", required_argument, 0, 'R' },
		{ "alert-below", required_argument, 0, 'a' }, { "alert-window", required_argument, 0, 'W' },
		{ "alert-webhook", required_argument, 0, 'k' }, { "alert-slack", required_argument, 0, 'l' },
		{ "alert-sentry", required_argument, 0, 'y' }, { "alert-cluster", required_argument, 0, 'c' },
		{ "help", no_argument, 0, 'H' }, { 0, 0, 0, 0 },
	};
	int c, bad = 0;

	while ((c = getopt_long(argc, argv, "h:P:u:p:D:", opts, NULL)) != -1) {
		switch (c) {
		case 'h': R.co.host = optarg; break;
		case 'P': R.co.port = (unsigned)num_arg(optarg, 1, 65535, &bad); break;
		case 'u': R.co.user = optarg; break;
		case 'p': R.co.password = optarg; break;
		case 'D': R.co.db = optarg; break;
		case 'C': R.co.ssl_ca = optarg; break;
		case 'f':
			if (R.nflocks == MAX_FLOCKS || parse_flock(optarg, &R.flocks[R.nflocks]) < 0)
				return 2;
			R.nflocks++;
			break;
		case 'd': R.duration_s = num_arg(optarg, 0, 1e9, &bad); break;
		case 'r': R.ramp_s = num_arg(optarg, 0, 3600, &bad); break;
		case 'w': R.wait_ms = (unsigned)num_arg(optarg, 0, 3600000, &bad); break;
		case 'e': ro->every_s = num_arg(optarg, 0, 86400, &bad); break;
		case 'j': ro->json = true; break;
		case 'm': ro->metrics_port = (unsigned)num_arg(optarg, 1, 65535, &bad); break;
		case 'b': ro->metrics_bind = optarg; break;
		case 'T': R.cat.director = optarg; break;
		case 'K': R.cat.key = optarg; break;
		case 'A': R.cat.ra = optarg; break;
		case 'E': R.cat.decl = optarg; break;
		case 'S': R.cat.child = optarg; break;
		case 'R': R.cat.cone_radius = num_arg(optarg, 1e-6, 10, &bad); break;
		case 'a': R.watch.below = num_arg(optarg, 0, 1, &bad); break;
		case 'W': R.watch.window_s = num_arg(optarg, 1, 86400, &bad); break;
		case 'k': R.alerts.webhook_url = optarg; break;
		case 'l': R.alerts.slack_url = optarg; break;
		case 'y': R.alerts.sentry_dsn = optarg; break;
		case 'c': R.alerts.cluster = optarg; break;
		default: return usage();
		}
	}
	if (bad || optind != argc || R.nflocks == 0)
		return usage();
	const char *ids[] = { R.cat.director, R.cat.key, R.cat.ra, R.cat.decl, R.cat.child[0] ? R.cat.child : "x" };
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (!sqlid_ok(ids[i])) {
			fprintf(stderr, "qserv-mobu: %s is not a valid table or column name\n", ids[i]);
			return 2;
		}
	return 0;
}

static void defaults(void)
{
	R.co.host = "127.0.0.1";
	R.co.port = 4040;
	R.co.user = "qsmaster";
	R.co.password = getenv("QSERV_PASSWORD") ? getenv("QSERV_PASSWORD") : "";
	R.cat = (struct catalog){ "Object", "objectId", "ra", "decl", "Source", 0.05 };
	R.duration_s = 60;
	R.ramp_s = 5;
	R.watch.window_s = 60;
}

static int start_monkeys(struct monkey **ret, pthread_t **tids, int *n)
{
	pthread_attr_t attr;
	int total = 0, k = 0;

	for (int i = 0; i < R.nflocks; i++)
		total += R.flocks[i].monkeys;
	*ret = calloc((size_t)total, sizeof(**ret));
	*tids = calloc((size_t)total, sizeof(**tids));
	if (!*ret || !*tids)
		return -ENOMEM;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (int i = 0; i < R.nflocks; i++)
		for (int j = 0; j < R.flocks[i].monkeys; j++, k++) {
			struct monkey *m = &(*ret)[k];
			m->f = &R.flocks[i];
			m->seed = (unsigned)(k * 2654435761u + 12345);
			m->start_after_s = total > 1 ? R.ramp_s * k / (total - 1) : 0;
			if (pthread_create(&(*tids)[k], &attr, monkey_main, m) != 0) {
				fprintf(stderr, "qserv-mobu: cannot start monkey %d of %d\n", k + 1, total);
				R.stop = 1;
				*n = k;
				return -EAGAIN;
			}
		}
	pthread_attr_destroy(&attr);
	*n = k;
	return 0;
}

int main(int argc, char **argv)
{
	struct report_opts ro = { .metrics_bind = "127.0.0.1" };
	struct monkey *monkeys = NULL;
	pthread_t *tids = NULL;
	char err[512];
	MYSQL *my;
	int rc, n = 0;

	defaults();
	if ((rc = parse_args(argc, argv, &ro)) != 0)
		return rc;
	if (mysql_library_init(0, NULL, NULL) != 0 || !(my = connect_one(&R.co, err, sizeof(err)))) {
		fprintf(stderr, "qserv-mobu: %s\n", mysql_library_init(0, NULL, NULL) ? "client library" : err);
		return 3;
	}
	if (business_setup(my, &R.cat, &R.ref, err, sizeof(err)) < 0) {
		fprintf(stderr, "qserv-mobu: reference answers: %s\n", err);
		mysql_close(my);
		return 3;
	}
	mysql_close(my);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	clock_gettime(CLOCK_MONOTONIC, &R.t0);
	if ((R.watch.below > 0 && alert_start(&R.alerts, err, sizeof(err)) < 0) ||
	    report_start(&ro, R.flocks, R.nflocks, err, sizeof(err)) < 0) {
		fprintf(stderr, "qserv-mobu: %s\n", err);
		return 2;
	}
	if (start_monkeys(&monkeys, &tids, &n) < 0)
		R.stop = 1;
	while (!over()) {
		nap_ms(200);
		report_tick(&ro, R.flocks, R.nflocks, since(&R.t0));
		watch_tick(&R.watch, R.flocks, R.nflocks, since(&R.t0));
	}
	for (int i = 0; i < n; i++)
		pthread_join(tids[i], NULL);
	rc = report_final(&ro, R.flocks, R.nflocks, since(&R.t0));
	report_stop(&ro);
	alert_stop();
	free(monkeys);
	free(tids);
	mysql_library_end();
	return rc;
}
