/* main.c: qserv-czar, the Qserv SQL front end (MySQL protocol, port 4040).
 *
 * main is a straight list of steps: options, users file, czar MariaDB pool,
 * listening socket, then the accept loop.  Each client gets a detached
 * thread (session.c) with a small stack, up to --max-connections; SIGTERM
 * and SIGINT arrive through a signalfd polled next to the listener, and end
 * the process (sessions hold no state that outlives them). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "account.h"
#include "async.h"
#include "history_queue.h"
#include "director_map.h"
#include "index_cache.h"
#include "czar.h"
#include "http.h"
#include "http_ingest.h"
#include "http_dash.h"
#include "metrics.h"
#include "notify.h"
#include "quota_czar.h"
#include "session.h"
#include "tls.h"
#include "users.h"

struct opts {
	const char *bind, *users, *socket, *my_user, *my_password_file, *tls_dir, *tls_name;
	const char *ssl_cert, *ssl_key, *spill_dir;
	const char *meta_notify;
	int port;
	unsigned pool, max_conn, window, slow_ms;
	unsigned max_user_conn, max_pending, login_timeout, wait_timeout, write_timeout, local_timeout;
	unsigned silence_timeout, worker_conns;
	unsigned result_ttl, history_max, async_jobs, index_cache, director_map_mb;
	int metrics_port;
	unsigned http_port, http_max_bytes;
	unsigned long long max_result_rows, max_result_bytes;
	int check_only, hash_password;
};

/* ---- user-table ingest of the HTTP frontend (http_ingest.h) ---- */
enum { OPT_INGEST_URL = 1000, OPT_INGEST_KEY_FILE, OPT_INGEST_MAX_BYTES };
static struct {
	const char *url, *key_file;
	unsigned long max_bytes;
} ingest_opts;

static int ingest_opt(int c, const char *arg)
{
	char *end;

	if (c == OPT_INGEST_URL)
		ingest_opts.url = arg;
	else if (c == OPT_INGEST_KEY_FILE)
		ingest_opts.key_file = arg;
	else {
		errno = 0;
		ingest_opts.max_bytes = strtoul(arg, &end, 10);
		if (errno || end == arg || *end || ingest_opts.max_bytes < 4096 || ingest_opts.max_bytes > 4294967295ul)
			return fprintf(stderr, "qserv-czar: --ingest-max-bytes: want 4096..4294967295: %s\n", arg),
			       -EINVAL;
	}
	return 0;
}

/* Before any thread starts (libcurl's global init). */
static int ingest_setup(const char *tls_dir)
{
	char err[512];

	if (!ingest_opts.url != !ingest_opts.key_file)
		return fprintf(stderr, "qserv-czar: --ingest-url and --ingest-key-file go together\n"), -EINVAL;
	if (http_ingest_setup(ingest_opts.url, ingest_opts.key_file, tls_dir, ingest_opts.max_bytes, err,
			      sizeof(err)) < 0)
		return fprintf(stderr, "qserv-czar: ingest: %s\n", err), -EINVAL;
	return 0;
}
/* ---- end of the ingest options ---- */

/* ---- the dashboard's services (http_dash.h) ---- */
enum { OPT_REGISTRY_URL = 1200, OPT_MOBU_URL };   /* after ingest (1000) and quota (1100) */
static const char *dash_registry, *dash_mobu;

/* Before any thread starts; the controller is --ingest-url's. */
static int dash_setup(const char *tls_dir)
{
	char err[600], ca[4096];

	if (tls_dir && (size_t)snprintf(ca, sizeof ca, "%s/ca.pem", tls_dir) >= sizeof ca)
		return fprintf(stderr, "qserv-czar: --tls-dir: path too long\n"), -EINVAL;
	if (http_dash_setup(ingest_opts.url, tls_dir ? ca : NULL, dash_registry, dash_mobu, err, sizeof(err)) < 0)
		return fprintf(stderr, "qserv-czar: dashboard: %s\n", err), -EINVAL;
	return 0;
}
/* ---- end of the dashboard's options ---- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: qserv-czar --users FILE [options]\n"
		"       qserv-czar --hash-password < password\n"
		"  --port N               MySQL protocol port (default 4040)\n"
		"  --bind ADDR            listen address (default 0.0.0.0)\n"
		"  --users FILE           'user:*HASH' lines (hash from --hash-password)\n"
		"  --mariadb-socket PATH  the czar's own MariaDB (unix socket)\n"
		"  --mariadb-user NAME    its account (default root)\n"
		"  --mariadb-password-file FILE\n"
		"  --pool N               connections to the czar MariaDB per account (default 16)\n"
		"  --max-connections N    logged-in client sessions (default 1024)\n"
		"  --max-user-connections N  sessions per user (default 0: no limit; users file may say)\n"
		"  --max-pending-logins N connections not logged in yet (default 4096; the oldest is\n"
		"                         closed for a new one)\n"
		"  --login-timeout S      seconds from connect to login (default 10)\n"
		"  --wait-timeout S       idle seconds before a session is closed (default 28800)\n"
		"  --net-write-timeout S  seconds a client may read nothing of an answer (default 60)\n"
		"  --local-statement-timeout S  limit of statements on the czar MariaDB (default 300)\n"
		"  --ssl-cert FILE        certificate (PEM chain) offered to clients asking for SSL\n"
		"  --ssl-key FILE         its key; with --ssl-cert, MySQL protocol SSL is offered\n"
		"  --tls-dir DIR          ca.pem and NAME.pem/.key for mutual TLS to the workers\n"
		"  --tls-name NAME        this czar's certificate name (default czar)\n"
		"  --window N             chunk queries in flight per worker (default 8)\n"
		"  --worker-silence-timeout S  seconds a worker may send nothing in an answer,\n"
		"                         keep-alives included, before the chunk moves to\n"
		"                         another replica (default 15, at least 3)\n"
		"  --worker-connections N connections open to one worker at most (default and\n"
		"                         most 128, the worker's handshake budget); more chunk\n"
		"                         queries wait for one to come back (60 s at most)\n"
		"  --spill-dir DIR        where a chunk's rows past 8 MiB wait for the chunk to\n"
		"                         complete (default $TMPDIR or /tmp)\n"
		"  --max-result-rows N    rows a merge or a SUBMIT result may collect (default 10000000)\n"
		"  --max-result-bytes N   result bytes of one query, SUBMIT or not (default 5001 MiB, Qserv's; 0: none)\n"
		"  --meta-notify PATH     unix datagram socket the controller's `reload` notices arrive on\n"
		"  --async-result-ttl S   an unclaimed SUBMIT result is dropped S seconds after it\n"
		"                         completed (default 3600)\n"
		"  --query-history N      query history rows kept (default 10000)\n"
		"  --async-jobs N         SUBMITs run at once (default 4; more wait their turn)\n"
		"  --slow-ms N            log statements slower than N ms (default 10000, 0 off)\n"
		"  --index-cache N        director-index answers kept in memory (default 100000, 0 off)\n"
		"  --director-map-mb N    published director indexes held in memory, MB (default 256, 0 off)\n"
		"  --metrics-port N       serve GET /metrics on the --bind address (default off)\n"
		"  --http-port N          Qserv's HTTP query frontend, HTTPS with --ssl-cert/--ssl-key,\n"
		"                         HTTP Basic with the --users (default off; Qserv uses 4041)\n"
		"  --http-max-result-bytes N  JSON result bound of one HTTP query (default 268435456)\n"
		"  --ingest-url URL       the cluster's ingest controller (https://HOST:PORT) the HTTP\n"
		"                         frontend's /ingest/data, /ingest/csv and DELETE /ingest/...\n"
		"                         drive (default off: they answer that ingest is off)\n"
		"  --ingest-key-file FILE the cluster admin key sent to it (with --ingest-url; its\n"
		"                         certificate is checked against --tls-dir's ca.pem)\n"
		"  --ingest-max-bytes N   body cap of an ingest request (default 67108864)\n"
		"  --registry-url URL     the czar node agent's status (http://127.0.0.1:9400/status):\n"
		"                         the dashboard's cluster map (default: the controller's workers)\n"
		"  --mobu-url URL         qserv-mobu's metrics listener (http://127.0.0.1:9402) the\n"
		"                         dashboard shows (default off)\n"
		QUOTA_USAGE
		"  -n, --check            check the configuration and exit\n");
}

static int parse_uint(const char *s, unsigned long max, unsigned long *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* The numeric options: limits and timeouts of the port and of the
 * workers, the HTTP frontend's port and bound, pools, async jobs. */
static int limit_opt(int c, const char *arg, struct opts *o)
{
	static const struct { int c; const char *name; unsigned long min, max; } t[] = {
		{ 'x', "--max-user-connections", 0, 100000 }, { 'X', "--max-pending-logins", 1, 100000 },
		{ 'l', "--login-timeout", 1, 3600 }, { 'W', "--wait-timeout", 1, 31536000 },
		{ 'N', "--net-write-timeout", 1, 3600 }, { 'L', "--local-statement-timeout", 1, 86400 },
		{ 'Z', "--worker-silence-timeout", 3, 3600 }, { 'G', "--http-port", 1, 65535 },
		{ 'B', "--http-max-result-bytes", 4096, 4294967295ul }, { 'o', "--pool", 1, 1000 },
		{ 'w', "--window", 1, 256 }, { 'A', "--async-result-ttl", 1, 31536000 },
		{ 'Q', "--query-history", 1, 100000000 }, { 'J', "--async-jobs", 1, 256 },
		{ 'S', "--slow-ms", 0, 86400000 }, { 'K', "--index-cache", 0, 100000000 },
		{ 'V', "--worker-connections", 1, 128 }, { 'Y', "--director-map-mb", 0, 1048576 },
	};
	unsigned *dst[] = { &o->max_user_conn, &o->max_pending, &o->login_timeout, &o->wait_timeout,
			    &o->write_timeout, &o->local_timeout, &o->silence_timeout, &o->http_port, &o->http_max_bytes,
			    &o->pool, &o->window, &o->result_ttl, &o->history_max, &o->async_jobs, &o->slow_ms,
			    &o->index_cache, &o->worker_conns, &o->director_map_mb };
	unsigned long v;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].c == c) {
			if (parse_uint(arg, t[i].max, &v) < 0 || v < t[i].min)
				return fprintf(stderr, "qserv-czar: %s: want %lu..%lu: %s\n", t[i].name, t[i].min,
					       t[i].max, arg), -EINVAL;
			*dst[i] = (unsigned)v;
			return 0;
		}
	return -EINVAL;
}

static void opts_defaults(struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->bind = "0.0.0.0";
	o->port = 4040;
	o->pool = 16;
	o->max_conn = 1024;
	o->tls_name = "czar";
	o->window = 8;
	o->max_result_rows = 10000000;
	o->max_result_bytes = 5001ull << 20;   /* Qserv's resultdb.maxtablesize_mb default */
	o->http_max_bytes = 256u << 20;
	o->slow_ms = 10000;
	o->max_pending = 4096;
	o->login_timeout = 10;
	o->wait_timeout = 28800;
	o->write_timeout = 60;
	o->local_timeout = 300;
	o->silence_timeout = 15;
	o->result_ttl = 3600;
	o->history_max = 10000;
	o->async_jobs = 4;
	o->index_cache = 100000;
	o->director_map_mb = 256;
}

/* The options getopt_long reads (usage() says what each does). */
static const struct option long_opts[] = {
	{ "port", required_argument, 0, 'p' },     { "bind", required_argument, 0, 'b' },
	{ "users", required_argument, 0, 'u' },    { "mariadb-socket", required_argument, 0, 's' },
	{ "mariadb-user", required_argument, 0, 'U' }, { "mariadb-password-file", required_argument, 0, 'P' },
	{ "pool", required_argument, 0, 'o' },     { "max-connections", required_argument, 0, 'm' },
	{ "check", no_argument, 0, 'n' },          { "hash-password", no_argument, 0, 'H' },
	{ "tls-dir", required_argument, 0, 't' },  { "tls-name", required_argument, 0, 'T' },
	{ "window", required_argument, 0, 'w' },   { "max-result-rows", required_argument, 0, 'r' },
	{ "slow-ms", required_argument, 0, 'S' },  { "metrics-port", required_argument, 0, 'M' },
	{ "max-user-connections", required_argument, 0, 'x' },
	{ "max-pending-logins", required_argument, 0, 'X' },
	{ "login-timeout", required_argument, 0, 'l' }, { "wait-timeout", required_argument, 0, 'W' },
	{ "net-write-timeout", required_argument, 0, 'N' },
	{ "local-statement-timeout", required_argument, 0, 'L' },
	{ "worker-silence-timeout", required_argument, 0, 'Z' },
	{ "worker-connections", required_argument, 0, 'V' },
	{ "spill-dir", required_argument, 0, 'd' },
	{ "async-result-ttl", required_argument, 0, 'A' }, { "query-history", required_argument, 0, 'Q' },
	{ "async-jobs", required_argument, 0, 'J' },
	{ "http-port", required_argument, 0, 'G' }, { "http-max-result-bytes", required_argument, 0, 'B' },
	{ "ssl-cert", required_argument, 0, 'c' }, { "ssl-key", required_argument, 0, 'k' },
	{ "meta-notify", required_argument, 0, 'O' }, { "max-result-bytes", required_argument, 0, 'R' },
	{ "ingest-url", required_argument, 0, OPT_INGEST_URL },
	{ "ingest-key-file", required_argument, 0, OPT_INGEST_KEY_FILE },
	{ "ingest-max-bytes", required_argument, 0, OPT_INGEST_MAX_BYTES },
	{ "index-cache", required_argument, 0, 'K' },     { "director-map-mb", required_argument, 0, 'Y' },
	QUOTA_LONG_OPTIONS,
	{ "registry-url", required_argument, 0, OPT_REGISTRY_URL }, { "mobu-url", required_argument, 0, OPT_MOBU_URL },
	{ "help", no_argument, 0, 'h' },           { 0, 0, 0, 0 },
};

static int parse_opts(int argc, char **argv, struct opts *o)
{
	unsigned long v;
	int c;

	opts_defaults(o);
	while ((c = getopt_long(argc, argv, "nh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_uint(optarg, 65535, &v) < 0)
				return fprintf(stderr, "qserv-czar: --port: not a port: %s\n", optarg), -EINVAL;
			o->port = (int)v;
			break;
		case 'b': o->bind = optarg; break;
		case 'u': o->users = optarg; break;
		case 's': o->socket = optarg; break;
		case 'U': o->my_user = optarg; break;
		case 'P': o->my_password_file = optarg; break;
		case 'm':
			if (parse_uint(optarg, 100000, &v) < 0 || v == 0)
				return fprintf(stderr, "qserv-czar: --max-connections: want 1..100000: %s\n", optarg), -EINVAL;
			o->max_conn = (unsigned)v;
			break;
		case 't': o->tls_dir = optarg; break;
		case 'T': o->tls_name = optarg; break;
		case 'r':
			if (parse_uint(optarg, 1000000000000ul, &v) < 0 || v == 0)
				return fprintf(stderr, "qserv-czar: --max-result-rows: not a count: %s\n", optarg), -EINVAL;
			o->max_result_rows = v;
			break;
		case 'M':
			if (parse_uint(optarg, 65535, &v) < 0)
				return fprintf(stderr, "qserv-czar: --metrics-port: not a port: %s\n", optarg), -EINVAL;
			o->metrics_port = (int)v;
			break;
		case 'x': case 'X': case 'l': case 'W': case 'N': case 'L': case 'Z': case 'G': case 'B':
		case 'o': case 'w': case 'A': case 'Q': case 'J': case 'S': case 'K': case 'V': case 'Y':
			if (limit_opt(c, optarg, o) < 0)
				return -EINVAL;
			break;
		case 'c': o->ssl_cert = optarg; break;
		case 'd': o->spill_dir = optarg; break;
		case 'k': o->ssl_key = optarg; break;
		case 'O': o->meta_notify = optarg; break;
		case 'R':
			if (parse_uint(optarg, (unsigned long)-1, &v) < 0)
				return fprintf(stderr, "qserv-czar: --max-result-bytes: not a count: %s\n", optarg), -EINVAL;
			o->max_result_bytes = v;
			break;
		case 'n': o->check_only = 1; break;
		case 'H': o->hash_password = 1; break;
		case 'h': usage(stdout); exit(0);
		case OPT_INGEST_URL: case OPT_INGEST_KEY_FILE: case OPT_INGEST_MAX_BYTES:
			if (ingest_opt(c, optarg) < 0)
				return -EINVAL;
			break;
		case OPT_REGISTRY_URL: dash_registry = optarg; break;
		case OPT_MOBU_URL: dash_mobu = optarg; break;
		case QUOTA_OPT_FILE: case QUOTA_OPT_WINDOW: case QUOTA_OPT_WEBHOOK: case QUOTA_OPT_SLACK:
		case QUOTA_OPT_SENTRY: case QUOTA_OPT_CLUSTER:
			if (quota_czar_opt(c, optarg) < 0)
				return -EINVAL;
			break;
		default: usage(stderr); return -EINVAL;
		}
	}
	if (!o->ssl_cert != !o->ssl_key)
		return fprintf(stderr, "qserv-czar: --ssl-cert and --ssl-key go together\n"), -EINVAL;
	if (o->http_port && !o->ssl_cert)
		return fprintf(stderr, "qserv-czar: --http-port needs --ssl-cert and --ssl-key (HTTPS only)\n"), -EINVAL;
	if (optind != argc)
		return fprintf(stderr, "qserv-czar: unexpected argument: %s\n", argv[optind]), -EINVAL;
	if (!o->hash_password && !o->users)
		return fprintf(stderr, "qserv-czar: --users FILE is required\n"), -EINVAL;
	return 0;
}

static int hash_password(void)
{
	char pw[1024], out[42];
	unsigned char h[AUTH_HASH_LEN];
	size_t n;

	if (!fgets(pw, sizeof(pw), stdin)) {
		fprintf(stderr, "qserv-czar: no password on stdin\n");
		return 1;
	}
	n = strcspn(pw, "\r\n");
	auth_hash_password(pw, n, h);
	auth_hash_format(h, out);
	printf("%s\n", out);
	return 0;
}

static char *read_secret(const char *path)
{
	char buf[512];
	FILE *f = fopen(path, "re");

	if (!f)
		return NULL;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	buf[strcspn(buf, "\r\n")] = 0;
	return strdup(buf);
}

static int listen_on(const char *addr, int port)
{
	struct sockaddr_in sa;
	int fd, one = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 512) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* The databases merge tables, SUBMIT results and the query history live
 * in; leftovers of a crash are dropped, claimable results kept (async.h). */
static void prepare_result_db(struct czar *cz)
{
	char err[256];

	if (async_start(cz, err, sizeof(err)) < 0)
		log_warn("%s (merges and SUBMIT will fail until it is up)", err);
}

/* The restricted account users' statements run as (account.h) and its
 * pool; a MariaDB not up yet is retried on first use.  0 or -1. */
static int start_account(struct czar *cz, const struct opts *o)
{
	struct backend_cfg ucfg = { .socket = o->socket, .user = cz->account_name, .size = o->pool };
	char err[512];

	snprintf(cz->account_name, sizeof(cz->account_name), "qserv_sql_%d", o->port);
	if (account_password(cz->account_pw) < 0) {
		log_error("cannot draw a password for the MariaDB account %s", cz->account_name);
		return -1;
	}
	ucfg.password = cz->account_pw;
	if (backend_new(&ucfg, &cz->user_backend) < 0) {
		log_error("out of memory");
		return -1;
	}
	if (account_sync(cz, 0, err, sizeof(err)) < 0)
		log_warn("%s (retried on first use)", err);
	return 0;
}

/* The merge account (account.h) and its pool.  Its grants are reset
 * here (an older czar's table grants go), after prepare_result_db dropped
 * the result tables an older czar left.  0 or -1. */
static int start_merge_account(struct czar *cz, const struct opts *o)
{
	struct backend_cfg mcfg = { .socket = o->socket, .user = cz->merge_name, .size = o->pool };
	char err[512];

	snprintf(cz->merge_name, sizeof(cz->merge_name), "qserv_merge_%d", o->port);
	if (account_password(cz->merge_pw) < 0) {
		log_error("cannot draw a password for the MariaDB account %s", cz->merge_name);
		return -1;
	}
	mcfg.password = cz->merge_pw;
	if (backend_new(&mcfg, &cz->merge_backend) < 0) {
		log_error("out of memory");
		return -1;
	}
	if (account_merge_start(cz, err, sizeof(err)) < 0)
		log_warn("%s (merges retry on first use)", err);
	return 0;
}

static void serve_one(struct czar *cz, int fd, const struct sockaddr_in *peer, pthread_attr_t *attr)
{
	char host[INET_ADDRSTRLEN] = "?";
	struct sess *s;
	pthread_t t;
	int one = 1;

	inet_ntop(AF_INET, &peer->sin_addr, host, sizeof(host));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	s = sess_new(cz, fd, host);
	if (!s) {
		log_warn("refused a connection from %s: too many connections or out of memory", host);
		return;
	}
	if (pthread_create(&t, attr, sess_thread, s) != 0) {
		log_warn("cannot start a session thread for %s", host);
		sess_thread_abort(s);
	}
}

/* MySQL protocol SSL on the port: the czar's certificate and key (TLS 1.2
 * with lib/tls.h's ECDHE-ECDSA AEAD suites); the handshake is bounded by
 * the login timeout.  0, or -EINVAL after printing why. */
static int configure_ssl(struct czar *cz, const struct opts *o)
{
	struct tls_config_opts to = { .server = true, .peer_auth = TLS_PEER_NONE,
				      .timeout_ms = (int)o->login_timeout * 1000 };
	char *cert = NULL, *key = NULL, err[512];
	int rc;

	if ((rc = tls_file_read(o->ssl_cert, &cert)) < 0) {
		fprintf(stderr, "qserv-czar: --ssl-cert %s: %s\n", o->ssl_cert, strerror(-rc));
		return -EINVAL;
	}
	if ((rc = tls_file_read(o->ssl_key, &key)) < 0) {
		fprintf(stderr, "qserv-czar: --ssl-key %s: %s\n", o->ssl_key, strerror(-rc));
		free(cert);
		return -EINVAL;
	}
	to.cert_pem = cert;
	to.key_pem = key;
	rc = tls_config_new(&to, &cz->tls, err, sizeof(err));
	explicit_bzero(key, strlen(key));
	free(key);
	free(cert);
	if (rc < 0) {
		fprintf(stderr, "qserv-czar: SSL on the SQL port: %s\n", err);
		return -EINVAL;
	}
	return 0;
}

/* The users, the MariaDB password and the worker TLS the options name: 0,
 * or -EINVAL after printing why to stderr. */
static int configure(struct czar *cz, const struct opts *o, char **ret_password)
{
	char err[512];

	if (auth_users_load(o->users, &cz->users, err, sizeof(err)) < 0 ||
	    users_open(cz, o->users, err, sizeof(err)) < 0) {
		fprintf(stderr, "qserv-czar: %s\n", err);
		return -EINVAL;
	}
	if (o->my_password_file && !(*ret_password = read_secret(o->my_password_file))) {
		fprintf(stderr, "qserv-czar: %s: %s\n", o->my_password_file, strerror(errno));
		return -EINVAL;
	}
	if (o->ssl_cert && configure_ssl(cz, o) < 0)
		return -EINVAL;
	if (quota_czar_setup(cz, o->users, err, sizeof(err)) < 0) {
		fprintf(stderr, "qserv-czar: quotas: %s\n", err);
		return -EINVAL;
	}
	if (o->tls_dir) {
		struct dispatch_cfg dc = { .tls_dir = o->tls_dir, .name = o->tls_name, .window = o->window,
					  .silence_ms = (int)o->silence_timeout * 1000,
					  .spill_dir = o->spill_dir, .max_conns = o->worker_conns };
		if (dispatch_new(&dc, &cz->dispatch, err, sizeof(err)) < 0) {
			fprintf(stderr, "qserv-czar: worker TLS: %s\n", err);
			return -EINVAL;
		}
	}
	return 0;
}

/* Raises the soft limit of open files to the hard one: every pending login
 * and session holds a descriptor, and running out of them stops accept()
 * for everyone.  When even the hard limit is short, the pending logins get
 * what sessions and the MariaDB pools leave (at least 16; the oldest are
 * evicted for newcomers), so a flood of idle sockets never takes the
 * descriptors users need. */
static void fit_nofile(struct czar *cz, unsigned pool)
{
	struct rlimit rl;
	/* three pools (admin, users, merge) and KILL connections */
	rlim_t fixed = (rlim_t)cz->max_connections + 5 * (rlim_t)pool + 64, budget;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= fixed + cz->max_pending)
		return;
	budget = rl.rlim_cur > fixed + 16 ? rl.rlim_cur - fixed : 16;
	log_warn("open files limited to %llu: pending logins capped at %llu instead of %u (raise LimitNOFILE)",
		 (unsigned long long)rl.rlim_cur, (unsigned long long)budget, cz->max_pending);
	cz->max_pending = (unsigned)budget;
}

/* Accepts clients, one detached session thread each, until a signal
 * arrives on sfd.  The exit status. */
static int serve(struct czar *cz, int lfd, int sfd)
{
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* 8 MiB, as a default thread: parsing, planning and printing recurse
	 * with the expression (200 levels of nesting and 20,000 chained
	 * operators at most, sql_parse_expr.c), 256 KiB overflowed at ~130
	 * parentheses; only the pages a session touches are ever committed */
	pthread_attr_setstacksize(&attr, 8u << 20);
	for (;;) {
		struct pollfd p[2] = { { .fd = lfd, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
		struct sockaddr_in peer;
		socklen_t plen = sizeof(peer);
		int fd;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("poll: %s", strerror(errno));
			return 1;
		}
		if (p[1].revents) {
			log_info("stopping on signal");
			break;
		}
		fd = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
		if (fd < 0) {
			int e = errno;
			if (e != EINTR && e != ECONNABORTED && e != EAGAIN)
				log_warn("accept: %s", strerror(e));
			/* out of descriptors: free one held by a connection that
			 * has not logged in (its thread closes it), then retry */
			if (e == EMFILE || e == ENFILE) {
				sess_evict_pending(cz);
				usleep(20000);
			}
			continue;
		}
		serve_one(cz, fd, &peer, &attr);
	}
	return 0;
}

/* The czar's limits and counters from the command line. */
static int set_limits(struct czar *cz, const struct opts *o)
{
	cz->next_qid = (uint64_t)time(NULL) << 24;   /* unique across restarts: result tables never collide */
	cz->max_result_rows = o->max_result_rows;
	cz->max_result_bytes = o->max_result_bytes;
	cz->http_max_bytes = (size_t)o->http_max_bytes;
	cz->port = o->port;
	cz->result_ttl = o->result_ttl;
	cz->history_max = o->history_max;
	cz->slow_ms = o->slow_ms;
	cz->row_counters = 1;
	cz->max_packet = 16 * 1024 * 1024;
	cz->max_connections = o->max_conn;
	cz->max_user_connections = o->max_user_conn;
	cz->max_pending = o->max_pending;
	cz->login_timeout_ms = (int)o->login_timeout * 1000;
	cz->wait_timeout = o->wait_timeout;
	cz->write_timeout_ms = (int)o->write_timeout * 1000;
	cz->local_timeout = o->local_timeout;
	return index_cache_new(o->index_cache, &cz->index_cache);
}

int main(int argc, char **argv)
{
	struct czar cz;
	struct opts o;
	struct backend_cfg bcfg;
	char err[512], *password = NULL;
	sigset_t mask;
	int lfd, sfd, rc;

	if (parse_opts(argc, argv, &o) < 0)
		return 2;
	if (o.hash_password)
		return hash_password();
	log_init("qserv-czar", LOG_LVL_INFO);
	if (ingest_setup(o.tls_dir) < 0 || dash_setup(o.tls_dir) < 0)
		return 2;
	memset(&cz, 0, sizeof(cz));
	pthread_mutex_init(&cz.lock, NULL);
	pthread_mutex_init(&cz.meta_lock, NULL);
	if (set_limits(&cz, &o) < 0)
		return 1;
	if (configure(&cz, &o, &password) < 0) {
		free(password);
		return 1;
	}
	if (o.check_only) {
		printf("qserv-czar: configuration OK (%zu users)\n", cz.users.n);
		free(password);
		return 0;
	}
	memset(&bcfg, 0, sizeof(bcfg));
	bcfg.socket = o.socket;
	bcfg.user = o.my_user;
	bcfg.password = password;
	bcfg.size = o.pool;
	int brc = mysql_library_init(0, NULL, NULL) != 0 ? -1 : backend_new(&bcfg, &cz.backend);
	bcfg.size = o.async_jobs;   /* SUBMITs writing their results at once (async.h) */
	if (brc == 0)
		brc = backend_new(&bcfg, &cz.async_backend);
	free(password); /* the backend keeps its own copy */
	if (brc < 0) {
		fprintf(stderr, "qserv-czar: cannot initialise the MariaDB client library\n");
		return 1;
	}
	prepare_result_db(&cz);
	if (start_account(&cz, &o) < 0 || start_merge_account(&cz, &o) < 0)
		return 1;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);   /* inherited by every session */
	sigdelset(&mask, SIGPIPE);
	if (quota_czar_alerts(err, sizeof(err)) < 0) {   /* its thread after the mask: signals stay ours */
		log_error("alerts: %s", err);
		return 1;
	}
	if (dmap_new(cz.backend, (size_t)o.director_map_mb << 20, &cz.dmap) < 0) {   /* (after the mask too) */
		log_error("director map: cannot start its loader");
		return 1;
	}
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		log_error("cannot listen on %s:%d: %s", o.bind, o.port, strerror(errno));
		return 1;
	}
	fit_nofile(&cz, o.pool);
	lfd = listen_on(o.bind, o.port);
	if (lfd < 0) {
		log_error("cannot listen on %s:%d: %s", o.bind, o.port, strerror(-lfd));
		return 1;
	}
	if (o.metrics_port && !metrics_start(&cz, o.bind, o.metrics_port, err, sizeof(err))) {
		log_error("%s", err);
		return 1;
	}
	if (o.http_port && !http_start(&cz, o.bind, (int)o.http_port, o.ssl_cert, o.ssl_key, err, sizeof(err))) {
		log_error("%s", err);
		return 1;
	}
	if (o.meta_notify && notify_start(&cz, o.meta_notify, err, sizeof(err)) < 0) {
		log_error("--meta-notify: %s", err);
		return 1;
	}
	log_info("listening on %s:%d (%zu users, SSL %s, czar MariaDB %s, workers %s)", o.bind, o.port, cz.users.n,
		 cz.tls ? "offered" : "off", o.socket ? o.socket : "default socket",
		 cz.dispatch ? "over mutual TLS" : "off (no --tls-dir)");
	rc = serve(&cz, lfd, sfd);
	close(lfd);
	history_queue_stop(&cz);   /* the queued history rows are written before exit */
	return rc;
}
