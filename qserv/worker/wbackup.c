/* wbackup.c: this worker's share of database backups (the controller's
 * cbackup.c drives them; docs/operations.md "Backups").  A backup NAME is
 * the directory <staging>/backups/NAME/ on the bulk pool (the worker's
 * --staging), holding whole files, each verified by its SHA-256:
 *
 *   POST   /worker/backup {database, chunk | regular: true, name, source_id,
 *          source_url}            pulls the copy stream of that chunk (or of
 *          the regular tables) from the source worker, GET
 *          <source_url>/replica/chunk (wcopy.c: LZ4, per-table checksums),
 *          with this node's certificate (wcopy_curl_peer), into
 *          chunk_<n>.lz4 (regular.lz4) as it is: {file, bytes, sha256}
 *   POST   /worker/backup/verify {name, files: [{file, sha256}]}  every file
 *          read again: the first missing or different one is an error
 *          naming it (nothing is loaded before a restore verified them all)
 *   DELETE /worker/backup/NAME    the backup's files here
 *   GET    /backup/file/NAME/FILE[/...]   the file as it is (a restore's
 *          target worker pulls it as a copy stream: wcopy_in.c asks for
 *          /backup/file/NAME/FILE/replica/chunk?...), the admin key or a
 *          worker certificate (QHTTP_KEY_OR_WORKER)
 *   POST   /backup/file/NAME/FILE  the body (spooled to the staging
 *          directory by the HTTP layer) becomes the file: the controller's
 *          metadata files and qservctl's restore from a directory; admin key
 *
 * A pull is bounded like a chunk copy (10 s to connect, QSERV_COPY_TIMEOUT_S
 * in all, 600 s without a byte) and written to FILE.part, renamed when
 * complete; a failed one leaves nothing.  Names: letters, digits, '_', '-',
 * '.', not starting with '.', at most 100 bytes (never a path). */
#include "worker.h"
#include "wcopy.h"
#include "qserv/common/qhttp.h"
#include "log.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NAME_MAX_LEN 100

static bool name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return n > 0 && n <= NAME_MAX_LEN && s[0] != '.' &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

/* <staging>/backups/NAME[/FILE] into ret; the directories made when mk. */
static int path_of(const struct worker *w, const char *name, const char *file, bool mk, char *ret, size_t len,
		   char *err, size_t errlen)
{
	if (!name_ok(name) || (file && !name_ok(file))) {
		snprintf(err, errlen, "backup and file names are 1 to %d letters, digits, '_', '-', '.' (not first)",
			 NAME_MAX_LEN);
		return -EINVAL;
	}
	snprintf(ret, len, "%s/backups", w->staging);
	if (mk && mkdir(ret, 0700) < 0 && errno != EEXIST)
		goto fail;
	snprintf(ret, len, "%s/backups/%s", w->staging, name);
	if (mk && mkdir(ret, 0700) < 0 && errno != EEXIST)
		goto fail;
	if (file && snprintf(ret, len, "%s/backups/%s/%s", w->staging, name, file) >= (int)len) {
		snprintf(err, errlen, "staging directory name too long");
		return -ENAMETOOLONG;
	}
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", ret, strerror(errno));
	return -EIO;
}

static void hex(const unsigned char *h, char out[65])
{
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", h[i]);
}

/* The SHA-256 and size of the file at path. */
static int file_sha(const char *path, char out[65], long long *ret_size, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? -ENOENT : -EIO;
	}
	mbedtls_sha256_context x;
	unsigned char buf[1 << 16], h[32];
	long long size = 0;
	ssize_t n;
	mbedtls_sha256_init(&x);
	mbedtls_sha256_starts_ret(&x, 0);
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		mbedtls_sha256_update_ret(&x, buf, (size_t)n);
		size += n;
	}
	mbedtls_sha256_finish_ret(&x, h);
	mbedtls_sha256_free(&x);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -EIO;
	}
	hex(h, out);
	*ret_size = size;
	return 0;
}

struct sink {
	FILE *f;
	long http;
	CURL *c;
	char reply[512];
	size_t nreply;
};

static size_t on_data(char *p, size_t size, size_t nmemb, void *ud)
{
	struct sink *s = ud;
	size_t n = size * nmemb;
	if (wcopy_refusal(s->c, &s->http, s->reply, sizeof s->reply, &s->nreply, p, n))
		return n;
	return fwrite(p, 1, n, s->f) == n ? n : 0;
}

/* GET url into path (a new file), bounded as a chunk copy. */
static int pull(const struct worker *w, const char *url, const char *src, const char *path, char *err, size_t errlen)
{
	struct sink s = { .f = fopen(path, "we") };
	char cerr[CURL_ERROR_SIZE] = "";
	struct curl_slist *h = NULL;
	CURL *c = s.f ? curl_easy_init() : NULL;
	if (!c) {
		snprintf(err, errlen, "%s: %s", path, s.f ? "out of memory" : strerror(errno));
		if (s.f)
			fclose(s.f);
		return -EIO;
	}
	s.c = c;
	wcopy_curl_peer(w, c, url, cerr, &h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	CURLcode cr = curl_easy_perform(c);
	if (!s.http)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &s.http);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	int r = fclose(s.f) ? -EIO : 0;
	if (cr != CURLE_OK) {
		snprintf(err, errlen, "backup from %s: %s", src, cerr[0] ? cerr : curl_easy_strerror(cr));
		return -EIO;
	}
	if (s.http != 200) {
		json_t *j = json_loads(s.reply, 0, NULL);
		const char *e = json_string_value(json_object_get(j, "error"));
		snprintf(err, errlen, "source %s answered HTTP %ld: %s", src, s.http, e ? e : "(no error text)");
		json_decref(j);
		return s.http == 404 ? -ENOENT : -EIO;
	}
	if (r)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return r;
}

/* POST /worker/backup */
int wbackup_take(struct worker *w, json_t *b, json_t **ret, char *err, size_t errlen)
{
	struct wreq_replica q;
	const char *name = json_string_value(json_object_get(b, "name"));
	char file[32] = "regular.lz4", path[512], part[520], url[700], sha[65];
	long long size = 0;
	int r = wreq_replica(b, &q, err, errlen);
	if (r)
		return r;
	if (q.chunk != WREQ_REGULAR)
		snprintf(file, sizeof file, "chunk_%d.lz4", q.chunk);
	if ((r = path_of(w, name, file, true, path, sizeof path, err, errlen)))
		return r;
	snprintf(part, sizeof part, "%s.part", path);
	if (q.chunk == WREQ_REGULAR)
		snprintf(url, sizeof url, "%s/replica/chunk?database=%s&regular=1", q.source_url, q.db);
	else
		snprintf(url, sizeof url, "%s/replica/chunk?database=%s&chunk=%d", q.source_url, q.db, q.chunk);
	r = pull(w, url, q.source_id, part, err, errlen);
	if (!r)
		r = file_sha(part, sha, &size, err, errlen);
	if (!r && rename(part, path) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		r = -EIO;
	}
	if (r) {
		unlink(part);
		return r;
	}
	*ret = json_pack("{s:s, s:s, s:I, s:s}", "name", name, "file", file, "bytes", (json_int_t)size, "sha256", sha);
	return 0;
}

/* POST /worker/backup/verify */
int wbackup_verify(struct worker *w, json_t *b, json_t **ret, char *err, size_t errlen)
{
	const char *name = json_string_value(json_object_get(b, "name"));
	json_t *files = json_object_get(b, "files"), *f;
	size_t i;
	if (!json_is_array(files)) {
		snprintf(err, errlen, "files: must be an array of {file, sha256}");
		return -EINVAL;
	}
	json_array_foreach(files, i, f) {
		const char *file = json_string_value(json_object_get(f, "file"));
		const char *want = json_string_value(json_object_get(f, "sha256"));
		char path[512], sha[65], e[600];
		long long size;
		int r = path_of(w, name, file, false, path, sizeof path, err, errlen);
		if (r)
			return r;
		if ((r = file_sha(path, sha, &size, e, sizeof e))) {
			snprintf(err, errlen, "backup %s: file %s on %s: %s", name, file, w->id, e);
			return r;
		}
		if (!want || strcmp(sha, want)) {
			snprintf(err, errlen, "backup %s: file %s on %s: checksum %s differs from the manifest's %s",
				 name, file, w->id, sha, want ? want : "(none)");
			return -EIO;
		}
	}
	*ret = json_pack("{s:s, s:i}", "name", name, "verified", (int)json_array_size(files));
	return 0;
}

/* DELETE /worker/backup/NAME */
int wbackup_remove(struct worker *w, const char *name, json_t **ret, char *err, size_t errlen)
{
	char dir[512], path[800];
	int r = path_of(w, name, NULL, false, dir, sizeof dir, err, errlen), n = 0;
	DIR *d = r ? NULL : opendir(dir);
	if (r)
		return r;
	if (!d) {
		snprintf(err, errlen, "no backup %s here", name);
		return -ENOENT;
	}
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < (int)sizeof path)
			n += unlink(path) == 0;
	closedir(d);
	rmdir(dir);
	*ret = json_pack("{s:s, s:i}", "name", name, "files", n);
	return 0;
}

/* NAME/FILE[/...] of rest into name and file. */
static int split(const char *rest, char name[NAME_MAX_LEN + 1], char file[NAME_MAX_LEN + 1])
{
	const char *s = rest ? strchr(rest, '/') : NULL;
	if (!s || s == rest || (size_t)(s - rest) > NAME_MAX_LEN)
		return -EINVAL;
	memcpy(name, rest, (size_t)(s - rest));
	name[s - rest] = '\0';
	size_t n = strcspn(s + 1, "/?");
	if (!n || n > NAME_MAX_LEN)
		return -EINVAL;
	memcpy(file, s + 1, n);
	file[n] = '\0';
	return 0;
}

/* GET /backup/file/NAME/FILE[/...] */
void wbackup_get(struct worker *w, struct qhttp_req *r, const char *rest)
{
	char name[NAME_MAX_LEN + 1], file[NAME_MAX_LEN + 1], path[512], err[256];
	struct stat st;
	if (split(rest, name, file) || path_of(w, name, file, false, path, sizeof path, err, sizeof err)) {
		qhttp_reply_error(r, 400, "use GET /backup/file/<backup>/<file>");
		return;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		qhttp_reply_error(r, 404, "backup %s: no file %s on %s", name, file, w->id);
		return;
	}
	qhttp_reply_fd(r, 200, fd, st.st_size, "application/octet-stream");
}

bool wbackup_upload_url(const char *method, const char *url)
{
	return !strcmp(method, "POST") && !strncmp(url, "/backup/file/", 13);
}

/* POST /backup/file/NAME/FILE (spooled body) */
void wbackup_put(struct worker *w, struct qhttp_req *r, const char *rest)
{
	char name[NAME_MAX_LEN + 1], file[NAME_MAX_LEN + 1], path[512], err[600], sha[65];
	long long size = 0;
	int rc = split(rest, name, file) ? -EINVAL : path_of(w, name, file, true, path, sizeof path, err, sizeof err);
	if (rc == -EINVAL)
		snprintf(err, sizeof err, "use POST /backup/file/<backup>/<file> with the file as the body");
	if (!rc && (!r->spool_path[0] || r->spool_fd >= 0 || rename(r->spool_path, path) < 0)) {
		snprintf(err, sizeof err, "%s: the upload was not spooled to the staging directory", path);
		rc = -EIO;
	}
	if (!rc)
		rc = file_sha(path, sha, &size, err, sizeof err);
	if (rc) {
		qhttp_reply_rc(r, rc, err, NULL);
		return;
	}
	log_info("backup %s: file %s received, %lld bytes", name, file, size);
	qhttp_reply_ok(r, json_pack("{s:s, s:s, s:I, s:s}", "name", name, "file", file, "bytes", (json_int_t)size,
				    "sha256", sha));
}
