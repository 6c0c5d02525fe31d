/* main.c: qserv-worker, the per-node Qserv worker daemon.
 *
 *   qserv-worker --socket PATH [--port 25004] [--bind ADDR] [--id NAME]
 *                [--staging DIR] [--user U] [--password P]
 *                [--auth-key-file F | --auth-key-sha256-file F]
 *                [--tls-dir DIR --tls-name NAME] [--file-root DIR] [--async-loads N]
 *                [--chunk-dir DIR]...   (chunk tables spread over these disks)
 *                [--chunk-dirs-file F]  (or over those F lists, read again when it changes)
 *
 * --auth-key-file: the cluster admin key (64 hex); --auth-key-sha256-file:
 * only its SHA-256 (hex), what the appliance's workers get (the agent
 * writes it when the controller answered: read when a key is first needed,
 * until then writes with a key are refused).  Who may call
 * what is wapi.c's route table: contributions need the key, management the
 * key or the czar's certificate; without a key, those are refused (403).
 * --tls-dir: the API is HTTPS with DIR/NAME.pem and DIR/NAME.key and asks
 * for client certificates of DIR/ca.pem (default: $QSERV_TLS_DIR, the
 * query service's, and the --id as NAME); without either, or with
 * --plain-http (benchmarks of what TLS costs), plain HTTP (development
 * only, a warning is logged).
 * --file-root: file:// contributions must name files under DIR.
 * --async-loads: asynchronous contributions loading at once (default 8);
 * the others wait with status QUEUED.
 *
 * Steps: parse options, connect to the local mariadbd over its unix socket
 * and create the bookkeeping schema, start the ingest API (wapi.c), start
 * the chunk-query service (query.h; only when QSERV_QUERY_PORT is set),
 * then wait for SIGTERM/SIGINT and stop in reverse order.  Logs once per failure, here; exit 111 on a
 * temporary failure (MariaDB not up yet), 100 on a permanent one (usage). */
#include "worker.h"
#include "query.h"
#include "daemon.h"
#include "log.h"
#include "qserv/common/qhttp.h"
#include "qserv/common/qhttpc.h"
#include "wcopy.h"
#include "tls.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void usage(void)
{
	fprintf(stderr, "usage: qserv-worker --socket PATH [--port 25004] [--bind ADDR] [--id NAME]\n"
			"                    [--staging DIR] [--user U] [--password P]\n"
			"                    [--auth-key-file F | --auth-key-sha256-file F]\n"
			"                    [--tls-dir DIR --tls-name NAME | --plain-http] [--file-root DIR]\n"
			"                    [--async-loads N]\n"
			"                    [--chunk-dir DIR]... [--chunk-dirs-file FILE]\n");
	exit(100);
}

struct api_opts {
	const char *sha_file, *tls_dir, *tls_name;
	char *ca, *cert, *key;
};

/* The API's TLS files; warns of what a production node must not run
 * without. */
static int api_load(struct api_opts *a, char *err, size_t errlen)
{
	if (a->sha_file && access(a->sha_file, R_OK) < 0)
		log_warn("%s: %s; writes with the admin key refused until it is there", a->sha_file,
			 strerror(errno));
	if (a->tls_dir)
		return tls_dir_load(a->tls_dir, a->tls_name, &a->ca, &a->cert, &a->key, err, errlen);
	log_warn("ingest API over plain HTTP (no --tls-dir): for development only");
	return 0;
}

/* What the command line says beyond struct worker. */
struct args {
	const char *keyfile, *chunk_dirs_file;
	bool plain;
	struct api_opts api;
	const char *chunk_dirs[16];
	size_t n_chunk_dirs;
};

/* Fills w and a from the command line; usage() (exit 100) when it is wrong. */
static void parse_args(int argc, char **argv, struct worker *w, struct args *a)
{
	static const struct option opts[] = {
		{ "socket", required_argument, 0, 's' }, { "port", required_argument, 0, 'p' },
		{ "bind", required_argument, 0, 'b' },   { "id", required_argument, 0, 'i' },
		{ "staging", required_argument, 0, 'S' }, { "user", required_argument, 0, 'u' },
		{ "password", required_argument, 0, 'P' }, { "help", no_argument, 0, 'h' },
		{ "auth-key-file", required_argument, 0, 'k' }, { "file-root", required_argument, 0, 'r' },
		{ "async-loads", required_argument, 0, 'a' }, { "chunk-dir", required_argument, 0, 'c' },
		{ "chunk-dirs-file", required_argument, 0, 'C' },
		{ "auth-key-sha256-file", required_argument, 0, 'K' }, { "tls-dir", required_argument, 0, 'T' },
		{ "tls-name", required_argument, 0, 'N' }, { "plain-http", no_argument, 0, 'H' },
		{ 0, 0, 0, 0 },
	};
	int o;

	w->port = 25004;
	w->async_max = 8;
	/* contribution ids stay unique across restarts (clients poll them) */
	w->next_contrib = (uint32_t)(time(NULL) % 1000000) * 1000u;
	w->id = "worker";
	w->staging = "/tmp";
	w->sql.user = "root";
	w->sql.password = "";
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'k': a->keyfile = optarg; break;
		case 'K': a->api.sha_file = optarg; break;
		case 'T': a->api.tls_dir = optarg; break;
		case 'N': a->api.tls_name = optarg; break;
		case 'H': a->plain = true; break;
		case 'c':
			if (a->n_chunk_dirs == sizeof(a->chunk_dirs) / sizeof(a->chunk_dirs[0]))
				usage();
			a->chunk_dirs[a->n_chunk_dirs++] = optarg;
			break;
		case 'C': a->chunk_dirs_file = optarg; break;
		case 'a': w->async_max = atoi(optarg); break;
		case 'r': w->file_root = optarg; break;
		case 's': w->sql.socket = optarg; break;
		case 'p': w->port = atoi(optarg); break;
		case 'b': w->bind = optarg; break;
		case 'i': w->id = optarg; break;
		case 'S': w->staging = optarg; break;
		case 'u': w->sql.user = optarg; break;
		case 'P': w->sql.password = optarg; break;
		default: usage();
		}
	}
	if (!w->sql.socket || w->async_max < 1 || w->port <= 0 || w->port > 65535 || optind != argc ||
	    (a->keyfile && a->api.sha_file) || !a->api.tls_dir != !a->api.tls_name)
		usage();
}

int main(int argc, char **argv)
{
	static struct worker w;
	static struct args args;
	struct api_opts *api = &args.api;
	parse_args(argc, argv, &w, &args);
	log_init("qserv-worker", LOG_LVL_INFO);
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	if (mkdir(w.staging, 0700) < 0 && errno != EEXIST) {
		log_error("staging directory %s: %s", w.staging, strerror(errno));
		return 111;
	}
	char err[1024];
	if (wmeta_set_chunk_dirs(args.chunk_dirs, args.n_chunk_dirs, args.chunk_dirs_file, err, sizeof err)) {
		log_error("%s", err);
		return 100;
	}
	if (args.keyfile && qhttp_read_key(args.keyfile, w.auth_key, sizeof w.auth_key, err, sizeof err)) {
		log_error("auth key: %s", err);
		return 100;
	}
	const char *tls_env = getenv("QSERV_TLS_DIR");
	if (!api->tls_dir && !args.plain && tls_env && *tls_env)
		api->tls_dir = tls_env, api->tls_name = w.id;
	if (api_load(api, err, sizeof err) < 0) {
		log_error("%s", err);
		return 100;
	}
	MYSQL *m = qsql_connect(&w.sql, err, sizeof err);
	if (!m) {
		log_error("%s", err);
		return 111;
	}
	int r = wmeta_init(m, &w, err, sizeof err);
	if (r) {
		mysql_close(m);
		log_error("creating the qservWorker schema: %s", err);
		return 111;
	}
	if (wcopy_cleanup(m, err, sizeof err))
		log_warn("dropping the staging tables of interrupted chunk copies: %s -- %s", err, qsql_detail());
	mysql_close(m);
	w.auth_sha_file = api->sha_file;
	w.tls_ca = api->ca, w.tls_cert = api->cert, w.tls_key = api->key;
	if (qhttpc_init()) {
		log_error("libcurl initialisation failed");
		return 111;
	}
	sigset_t set;
	daemon_block_stop_signals(&set);
	struct qhttp_conf hc = { .bind = w.bind, .port = w.port, .handler = wapi_handle, .spool = wapi_spool,
				 .policy = wapi_policy, .app = &w, .admin_key = w.auth_key,
				 .admin_key_sha256_file = api->sha_file, .cert_pem = api->cert, .key_pem = api->key,
				 .ca_pem = api->ca };
	struct qhttp_server *http = qhttp_start(&hc, err, sizeof err);
	if (!http) {
		log_error("ingest API: %s", err);
		return 111;
	}
	if (worker_query_start(&w, err, sizeof err)) {
		log_error("query service: %s", err);
		qhttp_stop(http);
		return 111;
	}
	log_info("%s: ingest API on %s:%d, MariaDB at %s, %zu transactions known", w.id,
		 w.bind ? w.bind : "0.0.0.0", w.port, w.sql.socket, w.ntrans);
	log_info("signal %d: stopping", daemon_wait_stop_signal(&set));
	worker_query_stop(&w);
	qhttp_stop(http);
	return 0;
}
