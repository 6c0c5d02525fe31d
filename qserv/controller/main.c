/* main.c: qserv-controller, the ingest controller on the czar node.
 *
 *   qserv-controller --socket PATH [--port 25081] [--bind ADDR] [--staging DIR]
 *                    [--worker ID=HOST:INGEST_PORT[:QUERY_PORT][@ZONE]]... [--auth-key-file F]
 *                    [--tls-dir DIR --tls-name NAME] [--local-port P]
 *                    [--replication-level N|auto] [--evict-after S] [--heal-max-mbps N]
 *                    [--verify-interval S] [--czar-notify PATH] [--no-default-index]
 *                    [--backup-include FILE]...
 *
 * --auth-key-file: the cluster admin key (64 hex) that every write must
 * carry (capi.c's route table; without a key, writes are refused);
 * --tls-dir: the API is HTTPS with DIR/NAME.pem and NAME.key (the czar's
 * certificate), asking for client certificates of DIR/ca.pem, and the
 * controller calls the workers over HTTPS with that same certificate (and
 * the key); without it, plain HTTP (development only, a warning is logged).
 * --replication-level: the cluster's default replica level (crepl.c; an
 * operator's PUT /replication/level overrides it): N, or auto = 2 once 2
 * workers are enabled, else 1 (the default).  Tests about a single copy
 * of each chunk pass --replication-level 1.
 * --worker ...@ZONE: that worker's failure zone (a rack; POST /meta/worker's
 * "zone"): the replicas of a chunk go to distinct zones when they can.
 * --evict-after: seconds a worker may stay silent before it is evicted and
 * its chunks are copied from the survivors (chealth.c; default 120);
 * --heal-max-mbps: those copies' average plain MB/s over a heal pass
 * (default 0: no cap; publish and level changes are never capped).
 * --verify-interval: seconds between verify passes (cverify.c: every
 * replica's checksums against the reference; default 86400, 0 = none;
 * PUT /replication/verify-interval, POST /replication/verify runs one).
 * --czar-notify: the czar's unix datagram socket (its --meta-notify): one
 * datagram "reload" after every committed change the czar reads (cnotify.c).
 * --backup-include: a file of this node every backup carries as it is
 * (extra_<name>; the czar's users and grants files), at most 8 (cbackup.c).
 * --alert-webhook, --alert-slack, --alert-sentry, --alert-cluster: where
 * the controller's alerts go besides its log (qserv/common/alert.h):
 * worker_down (a probe unanswered), worker_evicted, under_replicated
 * (chunks under their level for --alert-under-replicated-after seconds,
 * default 600, 0 = never).
 * --no-default-index: publish builds no index on the director keys of the
 * chunk tables (csqlidx.c; by default it does, where one is missing).
 * --local-port: a second listener, plain HTTP on 127.0.0.1 only, for the
 * node's own agent (registering workers); the same route policy: its
 * writes need the key too.
 *
 * Steps: connect to the czar node's MariaDB, create qservMeta (META.md),
 * record the --worker entries, serve the ingest API (capi.c) until SIGTERM
 * or SIGINT.  Logs here only; exit 111 temporary failure, 100 usage. */
#include "controller.h"
#include "creq.h"
#include "daemon.h"
#include "log.h"
#include "qserv/common/alert.h"
#include "qserv/common/qhttpc.h"
#include "tls.h"
#include "qserv/common/qhttp.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void usage(void)
{
	fprintf(stderr, "usage: qserv-controller --socket PATH [--port 25081] [--bind ADDR] [--staging DIR]\n"
			"                        [--worker ID=HOST:INGEST_PORT[:QUERY_PORT][@ZONE]]... [--auth-key-file F]\n"
			"                        [--tls-dir DIR --tls-name NAME] [--local-port P]\n"
			"                        [--replication-level N|auto] [--evict-after S] [--heal-max-mbps N]\n"
			"                        [--verify-interval S] [--czar-notify PATH] [--no-default-index]\n"
			"                        [--backup-include FILE]...\n"
			"                        [--alert-webhook URL] [--alert-slack URL] [--alert-sentry DSN]\n"
			"                        [--alert-cluster NAME] [--alert-under-replicated-after S]\n");
	exit(100);
}

static int parse_worker(const char *s, struct cworker *w)
{
	memset(w, 0, sizeof *w);
	const char *eq = strchr(s, '='), *colon = eq ? strchr(eq, ':') : NULL;
	if (!eq || !colon || eq - s >= (long)sizeof w->id || colon - eq - 1 >= (long)sizeof w->host)
		return -EINVAL;
	memcpy(w->id, s, (size_t)(eq - s));
	memcpy(w->host, eq + 1, (size_t)(colon - eq - 1));
	char *end;
	w->ingest_port = (int)strtol(colon + 1, &end, 10);
	if (*end == ':')
		w->query_port = (int)strtol(end + 1, &end, 10);
	if (*end == '@' && strlen(end + 1) < sizeof w->zone && end[1]) {
		snprintf(w->zone, sizeof w->zone, "%s", end + 1);
		end += strlen(end);
	}
	return *end ? -EINVAL : 0;
}

/* The API (and the agent's loopback copy) until SIGTERM/SIGINT. */
static int serve(struct ctl *c, int local_port, const char *ca, const char *cert, const char *key, size_t nw)
{
	char err[1024];
	sigset_t set;
	daemon_block_stop_signals(&set);
	struct qhttp_conf hc = { .bind = c->bind, .port = c->port, .handler = capi_handle, .policy = capi_policy,
				 .app = c, .admin_key = c->auth_key, .cert_pem = cert, .key_pem = key, .ca_pem = ca };
	struct qhttp_server *http = qhttp_start(&hc, err, sizeof err), *local = NULL;
	if (!http) {
		log_error("ingest API: %s", err);
		return 111;
	}
	if (local_port > 0) {
		hc.bind = "127.0.0.1", hc.port = local_port;
		hc.cert_pem = hc.key_pem = hc.ca_pem = NULL;
		if (!(local = qhttp_start(&hc, err, sizeof err))) {
			log_error("local ingest API: %s", err);
			qhttp_stop(http);
			return 111;
		}
	}
	log_info("ingest API on %s://%s:%d%s, qservMeta at %s, %zu worker(s) from the command line",
		 ca ? "https" : "http", c->bind ? c->bind : "0.0.0.0", c->port, local ? " and loopback" : "",
		 c->sql.socket, nw);
	if (chealth_start(c, err, sizeof err)) {
		log_error("%s", err);
		qhttp_stop(local);
		qhttp_stop(http);
		return 111;
	}
	log_info("probing the workers every 2 s, evicting after %d s of silence", c->h.evict_after_s);
	if (cverify_start(c, err, sizeof err))
		log_error("%s: no verify pass, returning workers stay evicted", err);
	else
		log_info("verifying every replica every %d s%s", c->v.interval_s, c->v.interval_s ? "" : " (off)");
	log_info("signal %d: stopping", daemon_wait_stop_signal(&set));
	cverify_stop(c);
	chealth_stop(c);
	qhttp_stop(local);
	qhttp_stop(http);
	return 0;
}

/* qservMeta's tables and the --worker entries; logs its failure. */
static int init_meta(struct ctl *c, const struct cworker *workers, size_t nw)
{
	char err[1024];
	MYSQL *m = qsql_connect(&c->sql, err, sizeof err);
	if (!m) {
		log_error("%s", err);
		return -EIO;
	}
	int r = cmeta_init(m, err, sizeof err);
	if (!r)
		r = crepl_init(m, err, sizeof err);
	if (!r)
		r = cverify_init(m, err, sizeof err);
	for (size_t i = 0; !r && i < nw; i++)
		r = cmeta_add_worker(m, &workers[i], err, sizeof err);
	mysql_close(m);
	if (r)
		log_error("qservMeta: %s", err);
	return r;
}

/* Locks and the verify defaults (before the options). */
static void init_ctl(struct ctl *c)
{
	c->v.interval_s = 86400;
	pthread_mutex_init(&c->place_mu, NULL);
	pthread_cond_init(&c->place_cv, NULL);
	pthread_mutex_init(&c->trans_mu, NULL);
	pthread_mutex_init(&c->v.mu, NULL);
	pthread_cond_init(&c->v.cv, NULL);
	crebal_init(c);
}

/* What the command line says beside struct ctl's own fields. */
struct args {
	const char *keyfile, *tls_dir, *tls_name;
	int local_port;
	struct cworker workers[256];
	size_t nw;
	struct alert_config alerts;
};

static void parse_args(int argc, char **argv, struct ctl *c, struct args *a)
{
	static const struct option opts[] = {
		{ "socket", required_argument, 0, 's' }, { "port", required_argument, 0, 'p' },
		{ "bind", required_argument, 0, 'b' },   { "staging", required_argument, 0, 'S' },
		{ "worker", required_argument, 0, 'w' }, { "user", required_argument, 0, 'u' },
		{ "password", required_argument, 0, 'P' }, { "auth-key-file", required_argument, 0, 'k' },
		{ "tls-dir", required_argument, 0, 'T' }, { "tls-name", required_argument, 0, 'N' },
		{ "local-port", required_argument, 0, 'L' }, { "replication-level", required_argument, 0, 'R' },
		{ "evict-after", required_argument, 0, 'E' }, { "heal-max-mbps", required_argument, 0, 'M' },
		{ "verify-interval", required_argument, 0, 'V' }, { "czar-notify", required_argument, 0, 'Z' },
		{ "alert-webhook", required_argument, 0, 'h' }, { "alert-slack", required_argument, 0, 'l' },
		{ "alert-sentry", required_argument, 0, 'y' }, { "alert-cluster", required_argument, 0, 'c' },
		{ "alert-under-replicated-after", required_argument, 0, 'U' },
		{ "no-default-index", no_argument, 0, 'I' }, { "backup-include", required_argument, 0, 'i' },
		{ 0, 0, 0, 0 },
	};
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'k': a->keyfile = optarg; break;
		case 'T': a->tls_dir = optarg; break;
		case 'L': a->local_port = atoi(optarg); break;
		case 'R':
			c->repl_level = !strcmp(optarg, "auto") ? 0 : atoi(optarg);
			if (c->repl_level < 0 || c->repl_level > CREQ_MAX_LEVEL || (!c->repl_level && strcmp(optarg, "auto")))
				usage();
			break;
		case 'N': a->tls_name = optarg; break;
		case 'Z': c->czar_notify = optarg; break;
		case 'I': c->no_default_index = true; break;
		case 'i':   /* a file of this node every backup carries (cbackup.c: the czar's users, grants) */
			if (c->nbackup_include == CTL_MAX_INCLUDE)
				usage();
			c->backup_include[c->nbackup_include++] = optarg;
			break;
		case 'M':
			c->heal_max_mbps = atoi(optarg);
			if (c->heal_max_mbps < 0 || c->heal_max_mbps > 100000)
				usage();
			break;
		case 'E':
			c->h.evict_after_s = atoi(optarg);
			if (c->h.evict_after_s < 1 || c->h.evict_after_s > CREQ_MAX_EVICT_AFTER)
				usage();
			break;
		case 'V':
			if ((c->v.interval_s = atoi(optarg)) < 0 || c->v.interval_s > CREQ_MAX_VERIFY_INTERVAL)
				usage();
			break;
		case 'h': a->alerts.webhook_url = optarg; break;
		case 'l': a->alerts.slack_url = optarg; break;
		case 'y': a->alerts.sentry_dsn = optarg; break;
		case 'c': a->alerts.cluster = optarg; break;
		case 'U':
			if ((c->h.alert_under_s = atoi(optarg)) < 0 || c->h.alert_under_s > 86400 * 30)
				usage();
			break;
		case 's': c->sql.socket = optarg; break;
		case 'p': c->port = atoi(optarg); break;
		case 'b': c->bind = optarg; break;
		case 'S': c->staging = optarg; break;
		case 'u': c->sql.user = optarg; break;
		case 'P': c->sql.password = optarg; break;
		case 'w':
			if (a->nw == 256 || parse_worker(optarg, &a->workers[a->nw])) {
				fprintf(stderr, "qserv-controller: bad --worker '%s'\n", optarg);
				usage();
			}
			a->nw++;
			break;
		default: usage();
		}
	}
	if (!c->sql.socket || !c->staging || c->port <= 0 || c->port > 65535 || optind != argc ||
	    !a->tls_dir != !a->tls_name)
		usage();
}

int main(int argc, char **argv)
{
	static struct ctl c;
	static struct args a;
	c.port = 25081;
	c.repl_level = 0;   /* auto: see --replication-level above */
	c.h.evict_after_s = 120;
	c.h.alert_under_s = 600;
	init_ctl(&c);
	c.staging = "/tmp";
	c.sql.user = "root";
	c.sql.password = "";
	char *ca = NULL, *cert = NULL, *key = NULL;
	parse_args(argc, argv, &c, &a);
	log_init("qserv-controller", LOG_LVL_INFO);
	if (mkdir(c.staging, 0700) < 0 && errno != EEXIST) {
		log_error("staging directory %s: %s", c.staging, strerror(errno));
		return 111;
	}
	char err[1024];
	if (alert_start(&a.alerts, err, sizeof err) < 0) {
		log_error("alerts: %s", err);
		return 100;
	}
	if (a.keyfile && qhttp_read_key(a.keyfile, c.auth_key, sizeof c.auth_key, err, sizeof err)) {
		log_error("auth key: %s", err);
		return 100;
	}
	if (a.tls_dir && tls_dir_load(a.tls_dir, a.tls_name, &ca, &cert, &key, err, sizeof err) < 0) {
		log_error("TLS: %s", err);
		return 100;
	}
	if (!a.tls_dir)
		log_warn("ingest API over plain HTTP (no --tls-dir): for development only");
	if (!c.auth_key[0])
		log_warn("no --auth-key-file: every write to the ingest API is refused");
	if (init_meta(&c, a.workers, a.nw))
		return 111;
	/* the calls to the workers (placements, commits, copies, probes every
	 * 2 s) reuse their connections instead of a TLS handshake each */
	if (qhttpc_init() || qhttpc_keep_connections()) {
		log_error("libcurl initialisation failed");
		return 111;
	}
	qhttpc_set_auth_key(c.auth_key);
	c.tls = ca != NULL;
	if (ca && qhttpc_set_tls(ca, cert, key) < 0) {
		log_error("out of memory");
		return 111;
	}
	int rc = serve(&c, a.local_port, ca, cert, key, a.nw);
	alert_stop();   /* what is queued goes out */
	return rc;
}
