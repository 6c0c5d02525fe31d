/* backup.c: `qservctl backup` and `qservctl restore`, a published
 * database's backups (the controller's cbackup*.c, docs/operations.md
 * "Backups").
 *
 *   qservctl backup DB [--to DIR] [--name NAME] [--controller URL] [--timeout S]
 *   qservctl restore NAME|DIR [--as DB2] [--controller URL] [--timeout S]
 *
 * backup: POST /backup {database, name}; the controller has the workers
 * write the files on their bulk pools; this polls GET /backup/status every
 * second (chunks done / total printed as they change) for at most --timeout
 * seconds (default 21600).  With --to DIR every file of the manifest is then
 * downloaded from its worker (GET /backup/file/NAME/FILE, the admin key),
 * its SHA-256 checked, and the manifest written as DIR/manifest.json.
 *
 * restore: NAME is a backup on the pools; DIR (a directory holding
 * manifest.json) is first checked here (every file's SHA-256: a bad one
 * stops before anything is sent, naming it), then uploaded to the current
 * workers (POST /backup/file/NAME/FILE, spread over them) with the manifest
 * on each.  Then POST /restore {name, as} and the same polling.  Exit 0 on
 * success, 1 on a failure (printed), 2 on a usage error. */
#include "ctl.h"

#include "qserv/common/qhttpc.h"

#include <errno.h>
#include <fcntl.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct opts {
	const char *controller, *to, *name, *as;
	long timeout_s;
};

static int parse(int argc, char **argv, struct opts *o, const char **ret_arg)
{
	*o = (struct opts){ .timeout_s = 21600 };
	*ret_arg = NULL;
	for (int i = 1; i < argc && argv[i]; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--to") && v)
			o->to = v, i++;
		else if (!strcmp(a, "--name") && v)
			o->name = v, i++;
		else if (!strcmp(a, "--as") && v)
			o->as = v, i++;
		else if (!strcmp(a, "--controller") && v)
			o->controller = v, i++;
		else if (!strcmp(a, "--timeout") && v && atol(v) > 0)
			o->timeout_s = atol(v), i++;
		else if (a[0] != '-' && !*ret_arg)
			*ret_arg = a;
		else
			return -1;
	}
	return *ret_arg ? 0 : -1;
}

static int file_sha(const char *path, char out[65])
{
	unsigned char buf[1 << 16], h[32];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	mbedtls_sha256_context x;
	mbedtls_sha256_init(&x);
	mbedtls_sha256_starts_ret(&x, 0);
	while ((n = read(fd, buf, sizeof buf)) > 0)
		mbedtls_sha256_update_ret(&x, buf, (size_t)n);
	mbedtls_sha256_finish_ret(&x, h);
	mbedtls_sha256_free(&x);
	close(fd);
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", h[i]);
	return n < 0 ? -EIO : 0;
}

/* Polls GET /backup/status until the job ends; *ret_status (may be NULL) the last reply. */
static int wait_job(const char *who, const char *url, const char *name, long timeout_s, json_t **ret_status)
{
	time_t end = time(NULL) + timeout_s;
	long long last = -1;
	for (;;) {
		json_t *s = NULL;
		if (ctl_controller_call(who, url, "GET", "/backup/status", NULL, &s) < 0)
			return 1;
		const char *st = json_string_value(json_object_get(s, "state"));
		long long done = json_integer_value(json_object_get(s, "done"));
		long long total = json_integer_value(json_object_get(s, "total"));
		if (strcmp(json_string_value(json_object_get(s, "name")), name)) {
			fprintf(stderr, "qservctl %s: another job (%s) replaced %s\n", who,
				json_string_value(json_object_get(s, "name")), name);
			json_decref(s);
			return 1;
		}
		if (done != last && total) {
			printf("%s %s: %lld/%lld\n", who, name, done, total);
			fflush(stdout);
			last = done;
		}
		if (st && strcmp(st, "running")) {
			int r = strcmp(st, "done") ? 1 : 0;
			if (r)
				fprintf(stderr, "qservctl %s: %s failed: %s\n", who, name,
					json_string_value(json_object_get(s, "reason")));
			if (ret_status && !r)
				*ret_status = s;
			else
				json_decref(s);
			return r;
		}
		json_decref(s);
		if (time(NULL) >= end) {
			fprintf(stderr, "qservctl %s: %s still running after %ld s (GET /backup/status)\n", who, name,
				timeout_s);
			return 1;
		}
		sleep(1);
	}
}

/* {worker id: "http://host:port"} of GET /meta/workers. */
static json_t *worker_urls(const char *who, const char *url)
{
	json_t *r = NULL, *l;
	size_t i;
	if (ctl_controller_call(who, url, "GET", "/meta/workers", NULL, &r) < 0)
		return NULL;
	json_t *o = json_object();
	json_array_foreach(json_object_get(r, "locations"), i, l) {
		char u[320];
		snprintf(u, sizeof u, "http://%s:%lld", json_string_value(json_object_get(l, "host")),
			 json_integer_value(json_object_get(l, "port")));
		json_object_set_new(o, json_string_value(json_object_get(l, "worker")), json_string(u));
	}
	json_decref(r);
	return o;
}

/* --to DIR: every file of the manifest from its worker, checked. */
static int download(const char *who, const char *url, const char *dir, json_t *man)
{
	json_t *ws = worker_urls(who, url), *f;
	const char *name = json_string_value(json_object_get(man, "name"));
	size_t k;
	char path[4096], u[1024], e[1024], sha[65];
	if (!ws || (mkdir(dir, 0700) < 0 && errno != EEXIST)) {
		fprintf(stderr, "qservctl %s: %s: %s\n", who, dir, ws ? strerror(errno) : "no workers");
		json_decref(ws);
		return 1;
	}
	json_array_foreach(json_object_get(man, "files"), k, f) {
		const char *file = json_string_value(json_object_get(f, "file"));
		const char *wu = json_string_value(json_object_get(ws, json_string_value(json_object_get(f, "worker"))));
		snprintf(path, sizeof path, "%s/%s", dir, file);
		snprintf(u, sizeof u, "%s/backup/file/%s/%s", wu ? wu : "", name, file);
		int fd = wu ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
		int r = fd < 0 ? -EIO : qhttpc_download_ours(u, fd, NULL, e, sizeof e);
		if (fd >= 0)
			close(fd);
		if (!r && (file_sha(path, sha) || strcmp(sha, json_string_value(json_object_get(f, "sha256"))))) {
			snprintf(e, sizeof e, "checksum %s differs from the manifest's", sha);
			r = -EIO;
		}
		if (r) {
			fprintf(stderr, "qservctl %s: %s: %s\n", who, path, fd < 0 && !wu ? "its worker is unknown" : e);
			json_decref(ws);
			return 1;
		}
	}
	json_decref(ws);
	snprintf(path, sizeof path, "%s/manifest.json", dir);
	if (json_dump_file(man, path, JSON_INDENT(1))) {
		fprintf(stderr, "qservctl %s: %s: cannot write\n", who, path);
		return 1;
	}
	printf("%s: %zu files in %s\n", name, json_array_size(json_object_get(man, "files")), dir);
	return 0;
}

int ctl_backup(int argc, char **argv)
{
	struct opts o;
	const char *db;
	json_t *st = NULL, *r = NULL;
	if (parse(argc, argv, &o, &db) || o.as) {
		fprintf(stderr, "usage: qservctl backup DB [--to DIR] [--name NAME] [--controller URL] [--timeout S]\n");
		return 2;
	}
	const char *url = ctl_controller_url(o.controller);
	if (ctl_controller_init("backup", NULL) < 0)
		return 1;
	json_t *b = json_pack("{s:s}", "database", db);
	if (o.name)
		json_object_set_new(b, "name", json_string(o.name));
	if (ctl_controller_call("backup", url, "POST", "/backup", b, &r) < 0)
		return 1;
	char name[128];
	snprintf(name, sizeof name, "%s", json_string_value(json_object_get(r, "name")));
	json_decref(r);
	int rc = wait_job("backup", url, name, o.timeout_s, &st);
	if (!rc)
		printf("backup %s of %s: %zu files on the workers' pools\n", name, db,
		       json_array_size(json_object_get(json_object_get(st, "manifest"), "files")));
	if (!rc && o.to)
		rc = download("backup", url, o.to, json_object_get(st, "manifest"));
	json_decref(st);
	return rc;
}

/* restore DIR: the files checked here, then sent to the workers (spread),
 * the manifest (with their new places) to every worker; *ret_name. */
static int upload(const char *who, const char *url, const char *dir, char *ret_name, size_t len)
{
	char path[4096], u[1024], e[1024], sha[65];
	snprintf(path, sizeof path, "%s/manifest.json", dir);
	json_t *man = json_load_file(path, 0, NULL), *ws = NULL, *f, *v = NULL;
	const char *name = json_string_value(json_object_get(man, "name")), *id = "";
	size_t k, nw = 0;
	int r = name ? 0 : -EINVAL;
	if (r)
		fprintf(stderr, "qservctl %s: %s: not a backup manifest\n", who, path);
	json_array_foreach(json_object_get(man, "files"), k, f) {
		snprintf(path, sizeof path, "%s/%s", dir, json_string_value(json_object_get(f, "file")));
		if (!r && (file_sha(path, sha) || strcmp(sha, json_string_value(json_object_get(f, "sha256"))))) {
			fprintf(stderr, "qservctl %s: %s: checksum %s differs from the manifest's %s: nothing restored\n",
				who, path, sha, json_string_value(json_object_get(f, "sha256")));
			r = -EIO;
		}
	}
	if (!r && (!(ws = worker_urls(who, url)) || !(nw = json_object_size(ws)))) {
		fprintf(stderr, "qservctl %s: no worker to upload to\n", who);
		r = -EIO;
	}
	json_array_foreach(json_object_get(man, "files"), k, f) {
		size_t pick = k % (nw ? nw : 1), j = 0;
		json_object_foreach(ws, id, v)
			if (j++ == pick)
				break;
		const char *file = json_string_value(json_object_get(f, "file"));
		snprintf(path, sizeof path, "%s/%s", dir, file);
		snprintf(u, sizeof u, "%s/backup/file/%s/%s", json_string_value(v), name, file);
		if (!r && (r = qhttpc_post_file(u, path, NULL, e, sizeof e)))
			fprintf(stderr, "qservctl %s: %s to %s: %s\n", who, path, id, e);
		json_object_set_new(f, "worker", json_string(id));
	}
	snprintf(path, sizeof path, "%s/.manifest-upload-%d.json", dir, (int)getpid());
	if (!r && json_dump_file(man, path, JSON_INDENT(1)))
		r = -EIO;
	json_object_foreach(ws, id, v) {
		snprintf(u, sizeof u, "%s/backup/file/%s/manifest.json", json_string_value(v), name);
		if (!r && (r = qhttpc_post_file(u, path, NULL, e, sizeof e)))
			fprintf(stderr, "qservctl %s: the manifest to %s: %s\n", who, id, e);
	}
	unlink(path);
	if (!r)
		snprintf(ret_name, len, "%s", name);
	json_decref(ws);
	json_decref(man);
	return r ? 1 : 0;
}

int ctl_restore(int argc, char **argv)
{
	struct opts o;
	const char *what;
	char name[128], mpath[4096];
	struct stat sb;
	json_t *r = NULL;
	if (parse(argc, argv, &o, &what) || o.to || o.name) {
		fprintf(stderr, "usage: qservctl restore NAME|DIR [--as DB] [--controller URL] [--timeout S]\n");
		return 2;
	}
	const char *url = ctl_controller_url(o.controller);
	if (ctl_controller_init("restore", NULL) < 0)
		return 1;
	snprintf(name, sizeof name, "%s", what);
	snprintf(mpath, sizeof mpath, "%s/manifest.json", what);
	if (stat(mpath, &sb) == 0 && upload("restore", url, what, name, sizeof name))
		return 1;
	json_t *b = json_pack("{s:s}", "name", name);
	if (o.as)
		json_object_set_new(b, "as", json_string(o.as));
	if (ctl_controller_call("restore", url, "POST", "/restore", b, &r) < 0)
		return 1;
	json_decref(r);
	int rc = wait_job("restore", url, name, o.timeout_s, NULL);
	if (!rc)
		printf("restore %s: done, published\n", name);
	return rc;
}
