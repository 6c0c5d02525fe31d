/* roles.c: what runs on each role once MariaDB answers and the node has
 * joined (see roles.h).  One small state machine per node:
 *
 *   WAITING (no node.crt yet) --credentials--> STARTED (daemons supervised)
 *
 * and, on the czar, a sync every few seconds of the cluster map's ready
 * workers into the controller.  The map is read from the file the join
 * thread keeps (<data_dir>/agent/cluster-map.json): no new interface into
 * the registry.  Trade-off: a worker's registration lags the map by up to
 * one sync period; the ingest tool waits for workers anyway.
 *
 * A worker is registered again when its address or its failure zone (the
 * map's "zone", qserv.zone of that node) changes: the memo of what the
 * controller was told is keyed on both (registered, registered_zone).
 *
 * A worker the map shows "removed" (qservctl nodes remove) is taken out of
 * the controller (DELETE /meta/worker/<name>, never with force: the
 * operator's qservctl already did that, or was refused; this is the
 * backstop) and out of the registered list; it is never registered again
 * until the registry re-admits it. */
#include "roles.h"

#include "agent/registry/registry_msg.h"      /* reg_zone_valid */
#include "fileio.h"
#include "log.h"
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#define ROLES_SYNC_MS 3000

void roles_init(struct roles *r, enum agent_role role, bool in_cluster, const char *data_dir,
		const char *staging, const char *socket, const char *hostname)
{
	memset(r, 0, sizeof(*r));
	r->role = role;
	r->in_cluster = in_cluster;
	snprintf(r->data_dir, sizeof(r->data_dir), "%s", data_dir ? data_dir : "");
	snprintf(r->staging, sizeof(r->staging), "%s", staging && staging[0] ? staging : "/tmp");
	snprintf(r->socket, sizeof(r->socket), "%s", socket);
	snprintf(r->hostname, sizeof(r->hostname), "%s", hostname);
	r->registered = json_object();
	r->registered_zone = json_object();
	r->removed = json_object();
	r->health = json_object();
	snprintf(r->bin, sizeof(r->bin), "/usr/bin");
	r->controller_port = ROLES_CONTROLLER_LOCAL_PORT;
}

static void path_in(char *buf, size_t len, const struct roles *r, const char *rel)
{
	snprintf(buf, len, "%s/%s", r->data_dir, rel);
}

void roles_set_chunk_dirs(struct roles *r, char *const *dirs, size_t n)
{
	struct passwd *pw = getpwnam("mysql");
	char path[320], text[ROLES_MAX_CHUNK_DIRS * 258] = "", *old;
	size_t off = 0, before = r->n_chunk_dirs;
	int rc;

	r->n_chunk_dirs = 0;
	for (size_t i = 0; i < n && r->n_chunk_dirs < ROLES_MAX_CHUNK_DIRS; i++) {
		if (mkdir(dirs[i], 0750) < 0 && errno != EEXIST)
			continue;
		if (pw && chown(dirs[i], pw->pw_uid, pw->pw_gid) < 0)
			continue;
		snprintf(r->chunk_dirs[r->n_chunk_dirs++], sizeof(r->chunk_dirs[0]), "%s", dirs[i]);
	}
	/* one disk: its tables stay in MariaDB's own directory (an empty list) */
	for (size_t i = 0; r->n_chunk_dirs > 1 && i < r->n_chunk_dirs; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, "%s\n", r->chunk_dirs[i]);
	path_in(path, sizeof(path), r, ROLES_CHUNK_DIRS_FILE);
	old = fileio_read_all(path, sizeof(text), NULL);
	if (!old || strcmp(old, text)) {
		if ((rc = tls_file_write(path, text, 0644)) < 0)
			log_error("roles: %s: %s", path, strerror(-rc));
		else if (old)     /* a disk joined or left MariaDB's pool while running */
			log_info("worker: chunk tables now spread over %zu chunk dir(s), was %zu", r->n_chunk_dirs, before);
	}
	free(old);
}

void roles_free(struct roles *r)
{
	json_decref(r->registered);
	r->registered = NULL;
	json_decref(r->registered_zone);
	r->registered_zone = NULL;
	json_decref(r->removed);
	r->removed = NULL;
	json_decref(r->health);
	r->health = NULL;
}

/* The registry name from <data_dir>/agent/identity.json, once node.crt (the
 * last credential the join writes) exists. */
static bool read_name(struct roles *r)
{
	char path[400];
	json_t *id;
	const char *name;

	path_in(path, sizeof(path), r, "agent/node.crt");
	if (!r->data_dir[0] || access(path, R_OK) < 0)
		return false;
	path_in(path, sizeof(path), r, "agent/identity.json");
	id = json_load_file(path, 0, NULL);
	name = json_string_value(json_object_get(id, "name"));
	if (name)
		snprintf(r->name, sizeof(r->name), "%s", name);
	json_decref(id);
	return name != NULL;
}

static int relink(const char *target, const char *link)
{
	unlink(link);
	return symlink(target, link) < 0 ? -errno : 0;
}

/* <data_dir>/tls: ca.pem, NAME.pem, NAME.key -> the join credentials. */
static int make_tls_dir(const struct roles *r, char *dir, size_t dirlen)
{
	char src[400], dst[400];
	static const char *const files[][2] = { { "ca.crt", "ca" }, { "node.crt", NULL }, { "node.key", NULL } };
	static const char *const exts[] = { "pem", "pem", "key" };
	int rc = 0;

	path_in(dir, dirlen, r, "tls");
	mkdir(dir, 0700);
	for (int i = 0; i < 3 && rc == 0; i++) {
		path_in(src, sizeof(src), r, "agent");
		snprintf(src + strlen(src), sizeof(src) - strlen(src), "/%s", files[i][0]);
		snprintf(dst, sizeof(dst), "%s/%s.%s", dir, files[i][1] ? files[i][1] : r->name, exts[i]);
		rc = relink(src, dst);
	}
	return rc;
}

/* The czar's users file, made once: a random password kept next to it
 * (both 0600 on the node's data disk), its hash from qserv-czar itself. */
static int czar_users(struct roles *r, char *users, size_t ulen)
{
	char dir[300], pwpath[400], cmd[256], hash[128], line[256];
	unsigned char raw[9];
	FILE *p;

	path_in(dir, sizeof(dir), r, "czar");
	mkdir(dir, 0700);
	snprintf(pwpath, sizeof(pwpath), "%s/password", dir);
	snprintf(users, ulen, "%s/users", dir);
	if (fileio_read_line(pwpath, r->password, sizeof(r->password)) > 0 && access(users, R_OK) == 0)
		return 0;
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return -EIO;
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(r->password + 2 * i, 3, "%02x", raw[i]);
	snprintf(cmd, sizeof(cmd), "echo %s | %s/qserv-czar --hash-password", r->password, r->bin);
	p = popen(cmd, "r");
	if (!p)
		return -errno;
	if (!fgets(hash, sizeof(hash), p))
		hash[0] = '\0';
	if (pclose(p) != 0 || !hash[0])
		return -EIO;
	hash[strcspn(hash, "\r\n")] = '\0';
	snprintf(line, sizeof(line), "%s:%s:admin\n", ROLES_CZAR_USER, hash);   /* the operator's user */
	snprintf(hash, sizeof(hash), "%s\n", r->password);
	if (fileio_write_atomic(users, line, strlen(line), 0600) < 0 ||
	    fileio_write_atomic(pwpath, hash, strlen(hash), 0600) < 0)
		return -EIO;
	return 0;
}

/* The cluster admin key, made once (64 hex, 0600 beside the users file);
 * the path into keypath. */
static int czar_admin_key(struct roles *r, char *keypath, size_t len)
{
	char dir[300], hex[80];

	path_in(dir, sizeof(dir), r, "czar");
	mkdir(dir, 0700);
	snprintf(keypath, len, "%s/admin.key", dir);
	if (fileio_read_line(keypath, hex, sizeof(hex)) > 0 && strlen(hex) == 64) {
		snprintf(r->admin_key, sizeof(r->admin_key), "%s", hex);
		return 0;
	}
	if (tls_random_hex(32, r->admin_key) < 0)
		return -EIO;
	snprintf(hex, sizeof(hex), "%s\n", r->admin_key);
	if (fileio_write_atomic(keypath, hex, strlen(hex), 0600) < 0) {
		r->admin_key[0] = '\0';
		return -EIO;
	}
	return 0;
}

/* qserv-czar holds one descriptor per 4040 connection, logged in or not
 * (its flood defence counts on thousands): raise the limit its children
 * inherit (the agent runs as root).  Best effort. */
static void raise_nofile(void)
{
	struct rlimit rl = { 65536, 65536 };

	if (setrlimit(RLIMIT_NOFILE, &rl) == 0 || getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	log_warn("roles: cannot raise the open-files limit to 65536 (%s); using %llu", strerror(errno),
		 (unsigned long long)rl.rlim_max);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

void roles_set_ops(struct roles *r, const char *cluster, const char *webhook, const char *slack, const char *sentry,
		   const char *firefighter)
{
	snprintf(r->cluster, sizeof(r->cluster), "%s", cluster ? cluster : "");
	snprintf(r->alert_webhook, sizeof(r->alert_webhook), "%s", webhook ? webhook : "");
	snprintf(r->alert_slack, sizeof(r->alert_slack), "%s", slack ? slack : "");
	snprintf(r->alert_sentry, sizeof(r->alert_sentry), "%s", sentry ? sentry : "");
	snprintf(r->firefighter, sizeof(r->firefighter), "%s", firefighter ? firefighter : "");
}

static void add(struct supervisor *sup, const char *name, char *const argv[])
{
	int rc = sup_add(sup, name, argv);

	if (rc < 0)
		log_error("roles: %s not started: %s", name, strerror(-rc));
}

/* argv grows by pairs; the arrays are the caller's, NULL-terminated. */
#define ARGV_MAX 48
static void arg2(char **argv, int *n, const char *flag, const char *value)
{
	if (!value || !value[0] || *n + 3 > ARGV_MAX)
		return;
	argv[(*n)++] = (char *)flag;
	argv[(*n)++] = (char *)value;
	argv[*n] = NULL;
}

/* The alert sinks of the node's configuration, for a daemon's argv. */
static void alert_args(struct roles *r, char **argv, int *n)
{
	arg2(argv, n, "--alert-webhook", r->alert_webhook);
	arg2(argv, n, "--alert-slack", r->alert_slack);
	arg2(argv, n, "--alert-sentry", r->alert_sentry);
	arg2(argv, n, "--alert-cluster", r->cluster);
}

/* The firefighter: a few monkeys checking lookups, cone searches and async
 * queries on the node's own catalog for ever (until the catalog exists its
 * setup fails and the supervisor restarts it with back-off). */
static void start_firefighter(struct roles *r, struct supervisor *sup)
{
	static char bin[160], port[16], mport[16];
	static char *argv[ARGV_MAX];
	int n = 0;

	if (!r->firefighter[0])
		return;
	snprintf(bin, sizeof(bin), "%s/qserv-mobu", r->bin);
	snprintf(port, sizeof(port), "%d", ROLES_SQL_PORT);
	snprintf(mport, sizeof(mport), "%d", ROLES_FIREFIGHTER_METRICS_PORT);
	const char *fixed[] = { bin, "-h", "127.0.0.1", "-P", port, "-u", ROLES_CZAR_USER, "-p", r->password,
				"-D", r->firefighter, "--duration", "0", "--ramp", "10", "--wait-ms", "1000",
				"--flock", "firefighter-lookup:lookup:2", "--flock", "firefighter-cone:cone:1",
				"--flock", "firefighter-async:async:1", "--metrics-port", mport,
				"--alert-below", "0.95", "--alert-window", "60" };
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		argv[n++] = (char *)fixed[i];
	argv[n] = NULL;
	alert_args(r, argv, &n);
	add(sup, "qserv-mobu", argv);
	log_info("czar: firefighter flock on catalog %s (metrics on 127.0.0.1:%d)", r->firefighter,
		 ROLES_FIREFIGHTER_METRICS_PORT);
}

static void start_czar(struct roles *r, struct supervisor *sup)
{
	char tls[400], users[400], staging[300], ctlbin[160], czarbin[160], keypath[400], lport[16];
	char sslcert[520], sslkey[520], hport[16], notify[400], ingest[64], statusurl[64], mobuurl[64];
	char grants[420], quotas[420];
	char *ctl[ARGV_MAX] = { ctlbin, "--socket", r->socket, "--staging", staging, "--tls-dir", tls, "--tls-name",
				r->name, "--local-port", lport, "--czar-notify", notify, NULL };
	char *czar[ARGV_MAX] = { czarbin, "--users", users, "--mariadb-socket", r->socket,
				 "--tls-dir", tls, "--tls-name", r->name,
				 "--ssl-cert", sslcert, "--ssl-key", sslkey,   /* MySQL SSL on 4040 */
				 "--http-port", hport,                         /* HTTPS frontend, same certificate */
				 "--meta-notify", notify,                      /* the controller's metadata notice */
				 NULL };
	int rc, nctl = 13, nczar = 17;

	snprintf(ctlbin, sizeof(ctlbin), "%s/qserv-controller", r->bin);
	snprintf(czarbin, sizeof(czarbin), "%s/qserv-czar", r->bin);
	snprintf(staging, sizeof(staging), "%s/controller", r->staging);
	mkdir(staging, 0700);
	snprintf(lport, sizeof(lport), "%d", ROLES_CONTROLLER_LOCAL_PORT);
	snprintf(hport, sizeof(hport), "%d", ROLES_HTTP_PORT);
	/* the frontend's ingest calls the controller's loopback listener (its writes need the key too) */
	snprintf(ingest, sizeof(ingest), "http://127.0.0.1:%d", ROLES_CONTROLLER_LOCAL_PORT);
	if ((rc = make_tls_dir(r, tls, sizeof(tls))) < 0)
		log_error("roles: TLS dir %s: %s", tls, strerror(-rc));
	snprintf(sslcert, sizeof(sslcert), "%s/%s.pem", tls, r->name);
	snprintf(sslkey, sizeof(sslkey), "%s/%s.key", tls, r->name);
	raise_nofile();
	if ((rc = czar_admin_key(r, keypath, sizeof(keypath))) < 0) {
		log_error("roles: admin key %s: %s; the ingest API refuses every write", keypath, strerror(-rc));
	} else {
		arg2(ctl, &nctl, "--auth-key-file", keypath);
		/* user-table ingest through the frontend drives the controller with the key */
		arg2(czar, &nczar, "--ingest-url", ingest);
		arg2(czar, &nczar, "--ingest-key-file", keypath);
		log_info("czar: admin key: %s (kept in %s)", r->admin_key, keypath);
	}
	alert_args(r, ctl, &nctl);
	alert_args(r, czar, &nczar);   /* quota blocks */
	/* the dashboard's cluster map (the registry's nodes in this agent's
	 * /status) and load-runner view (the firefighter's listener) */
	snprintf(statusurl, sizeof(statusurl), "http://127.0.0.1:%d/status", ROLES_AGENT_STATUS_PORT);
	arg2(czar, &nczar, "--registry-url", statusurl);
	if (r->firefighter[0]) {
		snprintf(mobuurl, sizeof(mobuurl), "http://127.0.0.1:%d", ROLES_FIREFIGHTER_METRICS_PORT);
		arg2(czar, &nczar, "--mobu-url", mobuurl);
	}
	if ((rc = czar_users(r, users, sizeof(users))) < 0) {
		log_error("roles: czar users file %s: %s; qserv-czar not started", users, strerror(-rc));
		czar[0] = NULL;
	} else {
		/* backups carry the czar's users, grants (users.h) and quotas (quota.h) */
		snprintf(grants, sizeof(grants), "%s.grants", users);
		snprintf(quotas, sizeof(quotas), "%.*s/quota.json", (int)(strrchr(users, '/') - users), users);
		arg2(ctl, &nctl, "--backup-include", users);
		arg2(ctl, &nctl, "--backup-include", grants);
		arg2(ctl, &nctl, "--backup-include", quotas);
	}
	path_in(notify, sizeof(notify), r, "czar/meta.sock");
	add(sup, "qserv-controller", ctl);
	if (czar[0]) {
		add(sup, "qserv-czar", czar);
		/* tools/cluster reads the password from this line: keep its shape */
		log_info("czar: SQL on port %d, user %s password %s (kept in %s/czar/password)",
			 ROLES_SQL_PORT, ROLES_CZAR_USER, r->password, r->data_dir);
		log_info("czar: HTTPS query frontend on port %d (the SQL users, HTTP Basic)", ROLES_HTTP_PORT);
		start_firefighter(r, sup);
	}
}

/* Where the worker keeps the admin key's SHA-256 (the directory made). */
static void worker_sha_path(const struct roles *r, char *path, size_t len)
{
	char dir[300];

	path_in(dir, sizeof(dir), r, "worker");
	mkdir(dir, 0700);
	snprintf(path, len, "%s/admin.key.sha256", dir);
}

/* The worker's environment goes through env(1): the supervisor execs argv
 * as given, so per-service variables need no supervisor change. */
static void start_worker(struct roles *r, struct supervisor *sup)
{
	char dirs_file[320], sha[400];
	char tls[400], qport[48], tlsenv[420], bin[160];
	char *argv[SUP_MAX_ARGS + 1];
	size_t n = 0;
	int rc;

	snprintf(bin, sizeof(bin), "%s/qserv-worker", r->bin);
	if (r->in_cluster) {
		if ((rc = make_tls_dir(r, tls, sizeof(tls))) < 0)
			log_error("roles: TLS dir %s: %s", tls, strerror(-rc));
		snprintf(qport, sizeof(qport), "QSERV_QUERY_PORT=%d", ROLES_WORKER_QUERY_PORT);
		snprintf(tlsenv, sizeof(tlsenv), "QSERV_TLS_DIR=%s", tls);
		argv[n++] = "/usr/bin/env";
		argv[n++] = qport;
		argv[n++] = tlsenv;
	}
	argv[n++] = bin;
	argv[n++] = "--socket";
	argv[n++] = r->socket;
	argv[n++] = "--staging";
	argv[n++] = r->staging;
	argv[n++] = "--id";
	argv[n++] = r->in_cluster ? r->name : r->hostname;
	path_in(dirs_file, sizeof(dirs_file), r, ROLES_CHUNK_DIRS_FILE);
	argv[n++] = "--chunk-dirs-file";   /* read again by the worker when it changes */
	argv[n++] = dirs_file;
	if (r->in_cluster) {   /* HTTPS from QSERV_TLS_DIR with the certificate named by --id */
		worker_sha_path(r, sha, sizeof(sha));
		argv[n++] = "--auth-key-sha256-file";
		argv[n++] = sha;
	}
	argv[n] = NULL;
	add(sup, "qserv-worker", argv);
	if (!r->in_cluster)
		log_info("worker: not in a cluster; qserv-worker as %s without the query service, %zu chunk dir(s)",
			 r->hostname, r->n_chunk_dirs);
	else
		log_info("worker: qserv-worker as %s (ingest :%d, chunk queries :%d, %zu chunk dir(s))", r->name,
			 ROLES_WORKER_INGEST_PORT, ROLES_WORKER_QUERY_PORT, r->n_chunk_dirs);
}

/* METHOD body to 127.0.0.1:port/path; the HTTP status (0 when there was no
 * answer, err says why).  Bounded by 2 s socket timeouts (the controller is
 * local).  err gets the status line or the reply's error on a non-2xx. */
static int http_local(int port, const char *key, const char *method, const char *path, const char *body,
		      char *err, size_t errlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { 2, 0 };
	char req[1024], resp[1024];
	int fd, n, code = 0;
	ssize_t got = 0, k;

	n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
		     "Authorization: Bearer %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s", method, path,
		     key, strlen(body), body);
	if (n < 0 || (size_t)n >= sizeof(req)) {
		snprintf(err, errlen, "request too long");
		return 0;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return 0;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || write(fd, req, (size_t)n) != n) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto out;
	}
	while (got < (ssize_t)sizeof(resp) - 1 && (k = read(fd, resp + got, sizeof(resp) - 1 - (size_t)got)) > 0)
		got += k;
	resp[got] = '\0';
	if (sscanf(resp, "HTTP/%*s %d", &code) != 1)
		code = 0;
	if (code < 200 || code >= 300) {
		const char *body_at = strstr(resp, "\r\n\r\n");
		json_t *j = body_at ? json_loads(body_at + 4, 0, NULL) : NULL;
		const char *e = json_string_value(json_object_get(j, "error"));
		if (e)
			snprintf(err, errlen, "%s", e);
		else
			snprintf(err, errlen, "answer '%.*s'", (int)strcspn(resp, "\r\n"), resp);
		json_decref(j);
	}
out:
	close(fd);
	return code;
}

static int http_post_local(int port, const char *key, const char *path, const char *body, char *err, size_t errlen)
{
	int code = http_local(port, key, "POST", path, body, err, errlen);
	return code >= 200 && code < 300 ? 0 : -EIO;
}

/* A worker the registry removed: out of the controller (once it agrees) and
 * out of the registered list.  r->removed: {name: true once done, false
 * while the controller refuses (logged once)}. */
static void drop_worker(struct roles *r, const char *name)
{
	char path[128], err[512];
	json_t *done = json_object_get(r->removed, name);
	int code;

	if (json_is_true(done))
		return;
	snprintf(path, sizeof(path), "/meta/worker/%s", name);
	code = http_local(r->controller_port, r->admin_key, "DELETE", path, "", err, sizeof(err));
	if ((code >= 200 && code < 300) || code == 404) {
		log_info("czar: worker %s was removed from the cluster; %s", name,
			 code == 404 ? "the controller does not list it" : "dropped from the controller");
		json_object_del(r->registered, name);
		json_object_del(r->registered_zone, name);
		json_object_set_new(r->removed, name, json_true());
	} else if (!done) {
		log_warn("czar: worker %s was removed from the cluster but the controller keeps it: %s", name, err);
		json_object_set_new(r->removed, name, json_false());
	}
}

/* A map entry's failure zone: "" when it has none, or one that is not a
 * zone (a map from a registry before zones cannot hold one, the registry
 * checks them: never expected). */
static const char *map_zone(json_t *node)
{
	const char *zone = json_string_value(json_object_get(node, "zone"));

	return zone && reg_zone_valid(zone) ? zone : "";
}

/* POST /meta/worker for worker name at addr in zone, and the memo of it;
 * had: the address it was registered with before, or NULL. */
static void register_worker(struct roles *r, const char *name, const char *addr, const char *zone,
			    const char *had)
{
	char body[384], err[128];
	const char *zone_had = json_string_value(json_object_get(r->registered_zone, name));

	snprintf(body, sizeof(body), "{\"id\":\"%s\",\"host\":\"%s\",\"ingest_port\":%d,\"query_port\":%d,"
		 "\"zone\":\"%s\"}", name, addr, ROLES_WORKER_INGEST_PORT, ROLES_WORKER_QUERY_PORT, zone);
	if (http_post_local(r->controller_port, r->admin_key, "/meta/worker", body, err, sizeof(err)) < 0) {
		log_debug("roles: registering %s into the controller: %s (retrying)", name, err);
		return;
	}
	if (!had)
		log_info("czar: worker %s at %s%s%s registered in the controller", name, addr,
			 zone[0] ? " in zone " : "", zone);
	else if (strcmp(had, addr))
		log_info("czar: worker %s at %s registered in the controller (address changed)", name, addr);
	if (had && zone_had && strcmp(zone_had, zone))
		log_info("czar: worker %s registered in the controller in zone %s (was %s)", name,
			 zone[0] ? zone : "none", zone_had[0] ? zone_had : "none");
	json_object_set_new(r->registered, name, json_string(addr));
	json_object_set_new(r->registered_zone, name, json_string(zone));
}

/* Ready workers of the cluster map -> the controller, when new, moved or
 * in another failure zone. */
/* The registry's word on a worker to the controller (POST
 * /replication/health), once per change: "down" when its heartbeat
 * stopped, "up" when it is ready again after that (a worker the
 * controller does not know is refused there: nothing to tell). */
static void tell_health(struct roles *r, const char *name, const char *state)
{
	const char *h = !strcmp(state, "down") ? "down" : !strcmp(state, "ready") ? "up" : NULL;
	const char *told = json_string_value(json_object_get(r->health, name));
	char err[256], *body;
	json_t *b;
	int rc;

	if (!h || (told && !strcmp(told, h)) || (!told && !strcmp(h, "up")))
		return;
	b = json_pack("{s:s, s:b}", "worker", name, "up", !strcmp(h, "up"));
	body = b ? json_dumps(b, JSON_COMPACT) : NULL;
	json_decref(b);
	if (!body)
		return;
	rc = http_post_local(r->controller_port, r->admin_key, "/replication/health", body, err, sizeof(err));
	free(body);
	if (rc < 0) {
		log_debug("roles: telling the controller %s is %s: %s", name, h, err);
		if (!strcmp(h, "down"))
			return;   /* unknown to it yet, or it is restarting: the next map tries again */
	} else {
		log_info("czar: the registry says worker %s is %s; told the controller", name, h);
	}
	json_object_set_new(r->health, name, json_string(h));
}

void roles_sync_workers(struct roles *r)
{
	char path[400];
	json_t *map, *nodes, *n;
	size_t i;

	path_in(path, sizeof(path), r, "agent/cluster-map.json");
	map = json_load_file(path, 0, NULL);
	nodes = json_object_get(map, "nodes");
	json_array_foreach(nodes, i, n) {
		const char *name = json_string_value(json_object_get(n, "name"));
		const char *role = json_string_value(json_object_get(n, "role"));
		const char *state = json_string_value(json_object_get(n, "state"));
		const char *addr = json_string_value(json_object_get(n, "addr"));
		const char *zone = map_zone(n), *had, *zone_had;

		if (name && role && state && !strcmp(role, "worker") && !strcmp(state, "removed")) {
			drop_worker(r, name);
			continue;
		}
		if (name && json_object_get(r->removed, name))
			json_object_del(r->removed, name);       /* re-admitted */
		if (name && role && state && !strcmp(role, "worker"))
			tell_health(r, name, state);
		if (!name || !role || !state || !addr || !addr[0] || strcmp(role, "worker") || strcmp(state, "ready"))
			continue;
		had = json_string_value(json_object_get(r->registered, name));
		zone_had = json_string_value(json_object_get(r->registered_zone, name));
		if (had && !strcmp(had, addr) && zone_had && !strcmp(zone_had, zone))
			continue;
		register_worker(r, name, addr, zone, had);
	}
	json_decref(map);
}

/* The czar's address from the cluster map, or false. */
static bool czar_addr(const struct roles *r, char *addr, size_t len)
{
	char path[400];
	json_t *map, *n;
	size_t i;
	bool found = false;

	path_in(path, sizeof(path), r, "agent/cluster-map.json");
	map = json_load_file(path, 0, NULL);
	json_array_foreach(json_object_get(map, "nodes"), i, n) {
		const char *role = json_string_value(json_object_get(n, "role"));
		const char *a = json_string_value(json_object_get(n, "addr"));

		if (role && a && a[0] && !strcmp(role, "czar")) {
			snprintf(addr, len, "%s", a);
			found = true;
			break;
		}
	}
	json_decref(map);
	return found;
}

/* GET path over HTTPS from addr:port, the server verified against the
 * cluster CA and of role "czar"; the reply's body (JSON) or NULL with err.
 * Bounded: 2 s to connect, 2 s handshake, 2 s per read. */
static json_t *https_get_czar(const struct roles *r, const char *addr, int port, const char *path,
			      char *err, size_t errlen)
{
	char f[400], req[256], resp[4096];
	char *ca = NULL, *cert = NULL, *key = NULL;
	struct tls_config *cfg = NULL;
	struct tls_conn *c = NULL;
	struct tls_identity id = { 0 };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct timeval tv = { 2, 0 };
	json_t *j = NULL;
	ssize_t got = 0, k;
	int fd = -1;

	path_in(f, sizeof(f), r, "agent/ca.crt");
	tls_file_read(f, &ca);
	path_in(f, sizeof(f), r, "agent/node.crt");
	tls_file_read(f, &cert);
	path_in(f, sizeof(f), r, "agent/node.key");
	tls_file_read(f, &key);
	struct tls_config_opts o = { .server = false, .peer_auth = TLS_PEER_CA, .ca_pem = ca, .cert_pem = cert,
				     .key_pem = key, .timeout_ms = 2000 };
	if (!ca || inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		snprintf(err, errlen, "no CA or a bad address %s", addr);
		goto out;
	}
	if (tls_config_new(&o, &cfg, err, errlen) < 0)
		goto out;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto out;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(err, errlen, "%s:%d: %s", addr, port, strerror(errno));
		goto out;
	}
	if (tls_conn_new(cfg, fd, NULL, &c, err, errlen) < 0)
		goto out;
	if (tls_conn_peer(c, &id) < 0 || strcmp(id.role, "czar")) {
		snprintf(err, errlen, "%s:%d is not the czar (certificate role '%s')", addr, port, id.role);
		goto out;
	}
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, addr);
	if (tls_io_write(c, req, strlen(req), 2000) < 0) {
		snprintf(err, errlen, "%s:%d: write failed", addr, port);
		goto out;
	}
	while (got < (ssize_t)sizeof(resp) - 1 && (k = tls_io_read(c, resp + got, sizeof(resp) - 1 - (size_t)got, 2000)) > 0)
		got += k;
	resp[got] = '\0';
	const char *body = strstr(resp, "\r\n\r\n");
	if (strncmp(resp, "HTTP/1.1 200", 12) || !body || !(j = json_loads(body + 4, 0, NULL)))
		snprintf(err, errlen, "%s:%d%s: answer '%.*s'", addr, port, path, (int)strcspn(resp, "\r\n"), resp);
out:
	tls_conn_free(c);
	if (fd >= 0)
		close(fd);
	tls_config_free(cfg);
	free(ca);
	free(cert);
	free(key);
	return j;
}

/* Worker: the admin key's SHA-256 from the czar's controller, once, into
 * the file qserv-worker reads (--auth-key-sha256-file). */
static void fetch_key_sha(struct roles *r)
{
	char path[400], addr[64], err[512] = "", line[80];
	json_t *j;
	const char *hex;

	worker_sha_path(r, path, sizeof(path));
	if (fileio_read_line(path, line, sizeof(line)) > 0 && strlen(line) == 64) {
		r->have_key_sha = true;
		return;
	}
	if (!czar_addr(r, addr, sizeof(addr)))
		return;
	j = https_get_czar(r, addr, ROLES_CONTROLLER_PORT, "/meta/auth-key-sha256", err, sizeof(err));
	hex = json_string_value(json_object_get(j, "sha256"));
	if (!hex || strlen(hex) != 64 || strspn(hex, "0123456789abcdef") != 64) {
		log_debug("roles: the admin key's SHA-256 from %s: %s (retrying)", addr, err[0] ? err : "no sha256");
	} else {
		snprintf(line, sizeof(line), "%s\n", hex);
		if (fileio_write_atomic(path, line, strlen(line), 0600) < 0) {
			log_error("roles: cannot write %s", path);
		} else {
			log_info("worker: the admin key's SHA-256 from the controller at %s is in %s", addr, path);
			r->have_key_sha = true;
		}
	}
	json_decref(j);
}

void roles_tick(struct roles *r, struct supervisor *sup, uint64_t now_ms)
{
	if (r->role == ROLE_NONE)
		return;
	if (!r->started) {
		if (r->in_cluster && !read_name(r)) {
			if (!r->told_waiting)
				log_info("roles: MariaDB ready; waiting for the cluster credentials before the %s daemons",
					 config_role_name(r->role));
			r->told_waiting = true;
			return;
		}
		char worker[160];

		snprintf(worker, sizeof(worker), "%s/qserv-worker", r->bin);
		if (r->role == ROLE_CZAR)
			start_czar(r, sup);
		else if (access(worker, X_OK) == 0)
			start_worker(r, sup);
		r->started = true;
		sup_tick(sup, now_ms);
		return;
	}
	if (r->role == ROLE_CZAR && now_ms >= r->next_sync_ms) {
		r->next_sync_ms = now_ms + ROLES_SYNC_MS;
		roles_sync_workers(r);
	}
	if (r->role == ROLE_WORKER && r->in_cluster && !r->have_key_sha && now_ms >= r->next_key_fetch_ms) {
		r->next_key_fetch_ms = now_ms + ROLES_SYNC_MS;
		fetch_key_sha(r);
	}
}

void roles_status(const struct roles *r, json_t *status)
{
	json_t *q;

	if (r->role == ROLE_NONE)
		return;
	q = json_pack("{s:s, s:b, s:s}", "state", r->started ? "started" : "waiting",
		      "in_cluster", r->in_cluster, "name", r->name[0] ? r->name : r->hostname);
	if (r->role == ROLE_CZAR) {
		json_object_set_new(q, "sql_port", json_integer(ROLES_SQL_PORT));
		json_object_set_new(q, "ingest_port", json_integer(ROLES_CONTROLLER_PORT));
		json_object_set_new(q, "user", json_string(ROLES_CZAR_USER));
		json_object_set_new(q, "password", r->password[0] ? json_string(r->password) : json_null());
		json_object_set_new(q, "admin_key", r->admin_key[0] ? json_string(r->admin_key) : json_null());
		json_object_set_new(q, "registered_workers", json_deep_copy(r->registered));
		json_object_set_new(q, "registered_zones", json_deep_copy(r->registered_zone));
		json_object_set_new(q, "registry_health", json_deep_copy(r->health));
	} else {
		json_object_set_new(q, "ingest_port", json_integer(ROLES_WORKER_INGEST_PORT));
		json_object_set_new(q, "query_port", r->in_cluster ? json_integer(ROLES_WORKER_QUERY_PORT) : json_null());
	}
	json_object_set_new(status, "qserv", q);
}
