/* qhttp.c: libmicrohttpd glue for the worker and controller APIs (see
 * qhttp.h); the listener itself starts and stops through lib/httpd.h.
 * One struct qhttp_req per connection request, created at the first
 * callback, filled by the upload callbacks, handed to the
 * application handler at the last one and freed by the completion
 * callback (which also removes a spool file the handler left behind).
 * The first callback also decides who may go on (auth_first): nothing of
 * the body is read before that. */
#include "qhttp.h"

#include "fileio.h"
#include "httpd.h"
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct qhttp_server {
	struct MHD_Daemon *d;
	struct qhttp_conf conf;
	char key[QHTTP_KEY_HEX * 4 + 1];   /* copies of the credentials */
	char key_sha256[65];
	char sha_file[256];                /* conf.admin_key_sha256_file, until read */
	pthread_mutex_t sha_mu;
};

static void queue(struct qhttp_req *r, int status, struct MHD_Response *resp)
{
	if (!resp || r->replied)
		return;
	MHD_queue_response(r->conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	r->replied = 1;
}

void qhttp_reply_json(struct qhttp_req *r, int status, json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	if (!s)
		return;
	size_t n = strlen(s);
	s[n] = '\0';
	struct MHD_Response *resp = MHD_create_response_from_buffer(n, s, MHD_RESPMEM_MUST_FREE);
	if (resp)
		MHD_add_response_header(resp, "Content-Type", "application/json");
	else
		free(s);
	queue(r, status, resp);
}

void qhttp_reply_ok(struct qhttp_req *r, json_t *obj)
{
	json_t *o = json_object();
	if (obj)
		json_object_update(o, obj);
	json_decref(obj);
	json_object_set_new(o, "success", json_integer(1));
	json_object_set_new(o, "error", json_string(""));
	qhttp_reply_json(r, 200, o);
}

void qhttp_reply_error(struct qhttp_req *r, int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	json_t *o = json_pack("{s:i, s:s}", "success", 0, "error", msg);
	qhttp_reply_json(r, status, o);
}

void qhttp_reply_fd(struct qhttp_req *r, int status, int fd, off_t size, const char *ctype)
{
	struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)size, fd);
	if (!resp) {
		close(fd);
		return;
	}
	MHD_add_response_header(resp, "Content-Type", ctype);
	queue(r, status, resp);
}

bool qhttp_path_match(const char *pattern, const char *url, const char **ret_rest)
{
	size_t n = strlen(pattern);
	if (n && pattern[n - 1] == '*') {
		if (strncmp(url, pattern, n - 1))
			return false;
		*ret_rest = url + n - 1;
		return true;
	}
	*ret_rest = NULL;
	return !strcmp(url, pattern);
}

const char *qhttp_arg(struct qhttp_req *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

json_t *qhttp_body_json(struct qhttp_req *r, char *err, size_t errlen)
{
	if (r->len == 0)
		return json_object();
	json_error_t je;
	json_t *j = json_loadb(r->body, r->len, 0, &je);
	if (!j) {
		snprintf(err, errlen, "request body is not JSON: %s (line %d)", je.text, je.line);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		snprintf(err, errlen, "request body is not a JSON object");
		return NULL;
	}
	return j;
}

static bool same(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	unsigned char d = na != nb;
	for (size_t i = 0; i < na; i++)
		d |= (unsigned char)(a[i] ^ b[i % (nb ? nb : 1)]);
	return d == 0;
}

void qhttp_sha256_hex(const char *s, char hex[65])
{
	unsigned char md[32];
	gnutls_hash_fast(GNUTLS_DIG_SHA256, s, strlen(s), md);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* The digest from conf.admin_key_sha256_file, once it is there. */
static void sha_file_read(struct qhttp_server *s)
{
	char hex[80];
	pthread_mutex_lock(&s->sha_mu);
	if (s->sha_file[0] && !s->key_sha256[0]) {
		FILE *f = fopen(s->sha_file, "r");
		if (f && fgets(hex, sizeof hex, f)) {
			hex[strcspn(hex, "\r\n")] = '\0';
			if (strlen(hex) == 64 && strspn(hex, "0123456789abcdef") == 64)
				memcpy(s->key_sha256, hex, 65);
		}
		if (f)
			fclose(f);
	}
	pthread_mutex_unlock(&s->sha_mu);
}

static bool has_key(struct qhttp_server *s)
{
	if (!s->key[0] && !s->key_sha256[0] && s->sha_file[0])
		sha_file_read(s);
	return s->key[0] || s->key_sha256[0];
}

/* given is the admin key (compared in constant time, or its hash). */
static bool key_ok(struct qhttp_server *s, const char *given)
{
	if (!given || !given[0] || !has_key(s))
		return false;
	if (s->key[0])
		return same(given, s->key);
	if (s->key_sha256[0]) {
		char hex[65];
		qhttp_sha256_hex(given, hex);
		return same(hex, s->key_sha256);
	}
	return false;
}

/* The key a request carries in its headers or query string, or NULL. */
static const char *header_key(struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (h && !strncmp(h, "Bearer ", 7))
		return h + 7;
	if ((h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Qserv-Auth-Key")))
		return h;
	if ((h = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "auth_key")))
		return h;
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "admin_auth_key");
}

/* The auth_key / admin_auth_key field of the in-memory JSON body. */
static bool body_key_ok(struct qhttp_server *s, struct qhttp_req *r)
{
	if (!r->len || !r->body || r->body[0] != '{')
		return false;
	json_t *j = json_loadb(r->body, r->len, 0, NULL);
	bool ok = key_ok(s, json_string_value(json_object_get(j, "auth_key"))) ||
		  key_ok(s, json_string_value(json_object_get(j, "admin_auth_key")));
	json_decref(j);
	return ok;
}

/* Content-Length of the request, or -1 when it has none. */
static long long content_length(struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	char *end;
	if (!h)
		return -1;
	long long n = strtoll(h, &end, 10);
	return *end || n < 0 ? -1 : n;
}

/* A refusal at the headers: sent now, or after the body was drained (see
 * QHTTP_DRAIN_MAX). */
static void refuse(struct qhttp_req *r, int status, const char *fmt, ...)
{
	long long cl = content_length(r->conn);
	const char *expect = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->refuse_msg, sizeof r->refuse_msg, fmt, ap);
	va_end(ap);
	if (cl > 0 && cl <= (long long)QHTTP_DRAIN_MAX && !expect)
		r->refuse_status = status;
	else
		qhttp_reply_error(r, status, "%s", r->refuse_msg);
}

/* First callback, headers only: 0 to go on (r->auth_in_body when the key
 * must still be found in the body), else the request is refused. */
static int auth_first(struct qhttp_server *s, struct qhttp_req *r, bool spooled)
{
	long long cl = content_length(r->conn);
	unsigned long long cap = spooled ? s->conf.max_spool : QHTTP_MAX_MEM_BODY;
	struct tls_identity id;
	if (cl >= 0 && (unsigned long long)cl > cap) {
		qhttp_reply_error(r, 413, "request body larger than %llu bytes", cap);
		return -1;
	}
	int peer = httpd_peer_identity(r->conn, &id);
	if (peer == 0)
		snprintf(r->peer_role, sizeof r->peer_role, "%s", id.role);
	enum qhttp_auth need = s->conf.policy ? s->conf.policy(s->conf.app, r->method, r->url) : QHTTP_KEY;
	if (need == QHTTP_OPEN) {
		r->key_given = peer != -EPERM && key_ok(s, header_key(r->conn));
		return 0;
	}
	if (peer == -EPERM) {
		refuse(r, 403, "the client certificate is not one of this cluster's");
		return -1;
	}
	if ((need == QHTTP_KEY_OR_CZAR && !strcmp(r->peer_role, "czar")) ||
	    (need == QHTTP_KEY_OR_WORKER && !strcmp(r->peer_role, "worker")))
		return 0;
	const char *given = header_key(r->conn);
	if (key_ok(s, given)) {
		r->key_given = 1;
		return 0;
	}
	if (!has_key(s)) {
		refuse(r, 403, "this service has no admin key configured");
		return -1;
	}
	if (given) {
		refuse(r, 401, "wrong admin key");
		return -1;
	}
	if (r->peer_role[0]) {
		refuse(r, 403, "a %s certificate may not call %s %s", r->peer_role, r->method,
				  qhttp_path_printable(r->url));
		return -1;
	}
	if (!spooled && cl >= 0 && cl <= (long long)QHTTP_AUTH_BODY_MAX) {
		r->auth_in_body = 1;
		return 0;
	}
	refuse(r, 401, "missing admin key (Authorization: Bearer <key>)");
	return -1;
}

int qhttp_read_key(const char *path, char *buf, size_t len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!buf[0]) {
		snprintf(err, errlen, "%s: empty key", path);
		return -EINVAL;
	}
	return 0;
}

static int body_append(struct qhttp_req *r, const char *data, size_t n)
{
	if (r->spool_fd >= 0) {
		int e = fileio_write_full(r->spool_fd, data, n);
		if (e < 0) {
			r->io_error = -e;
			return -1;
		}
		r->spooled += n;
		return 0;
	}
	if (r->len + n + 1 > QHTTP_MAX_MEM_BODY) {
		r->too_big = 1;
		return -1;
	}
	if (r->len + n + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;
		while (cap < r->len + n + 1)
			cap *= 2;
		char *b = realloc(r->body, cap);
		if (!b) {
			r->too_big = 1;
			return -1;
		}
		r->body = b, r->cap = cap;
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
	return 0;
}

/* A request's first callback: its state, the auth decision, its spool file. */
static int request_begin(struct qhttp_server *s, struct MHD_Connection *conn, const char *url,
			 const char *method, struct qhttp_req **ret)
{
	struct qhttp_req *r = calloc(1, sizeof *r);
	if (!r)
		return -ENOMEM;
	r->conn = conn, r->method = method, r->url = url, r->spool_fd = -1;
	*ret = r;
	char path[sizeof r->spool_path];
	bool spooled = s->conf.spool && s->conf.spool(s->conf.app, method, url, path, sizeof path);
	if (auth_first(s, r, spooled) < 0)
		return 0;
	if (spooled) {
		memcpy(r->spool_path, path, sizeof path);
		r->spool_fd = open(r->spool_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (r->spool_fd < 0)
			r->io_error = errno;
	}
	return 0;
}

/* The last callback: the body is in; the handler runs with no idle timeout
 * (a load may take long), the timeout starts again with the reply. */
static void request_end(struct qhttp_server *s, struct qhttp_req *r)
{
	if (r->spool_fd >= 0) {
		if (fsync(r->spool_fd) < 0 && !r->io_error)
			r->io_error = errno;
		close(r->spool_fd);
		r->spool_fd = -1;
	}
	if (r->too_big)
		qhttp_reply_error(r, 413, "request body larger than %u bytes", QHTTP_MAX_MEM_BODY);
	else if (r->io_error)
		qhttp_reply_error(r, 500, "cannot store the request body in %s: %s",
				  r->spool_path, strerror(r->io_error));
	else if (r->auth_in_body && !body_key_ok(s, r))
		qhttp_reply_error(r, 401, "missing or wrong admin key (Authorization: Bearer <key>)");
	else {
		MHD_set_connection_option(r->conn, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
		s->conf.handler(s->conf.app, r);
		/* from 0, setting a timeout also restarts the idle clock */
		MHD_set_connection_option(r->conn, MHD_CONNECTION_OPTION_TIMEOUT, s->conf.timeout_s);
	}
	if (!r->replied)
		qhttp_reply_error(r, 500, "no reply for %s %s", r->method, qhttp_path_printable(r->url));
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct qhttp_server *s = cls;
	struct qhttp_req *r = *con_cls;
	if (!r) {
		if (request_begin(s, conn, url, method, &r) < 0)
			return MHD_NO;
		*con_cls = r;
		return MHD_YES;
	}
	if (r->replied) {        /* refused at the first callback: the body is not kept */
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->refuse_status) {  /* refused: the body read and dropped, then the answer */
		if (!*upload_size)
			qhttp_reply_error(r, r->refuse_status, "%s", r->refuse_msg);
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size) {
		if (!r->too_big && !r->io_error)
			body_append(r, upload, *upload_size);
		if (r->auth_in_body && r->len > QHTTP_AUTH_BODY_MAX)
			r->too_big = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	request_end(s, r);
	return MHD_YES;
}

static void on_done(void *cls, struct MHD_Connection *conn, void **con_cls,
		    enum MHD_RequestTerminationCode toe)
{
	struct qhttp_req *r = *con_cls;
	if (!r)
		return;
	if (r->spool_fd >= 0)
		close(r->spool_fd);
	if (r->spool_path[0])
		unlink(r->spool_path);
	free(r->body);
	free(r);
	*con_cls = NULL;
}

struct qhttp_server *qhttp_start(const struct qhttp_conf *conf, char *err, size_t errlen)
{
	struct qhttp_server *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->conf = *conf;
	if (!s->conf.max_spool)
		s->conf.max_spool = QHTTP_MAX_SPOOL_BODY;
	if (!s->conf.timeout_s)
		s->conf.timeout_s = 30;
	if (!s->conf.max_conns)
		s->conf.max_conns = 1024;
	if ((conf->admin_key && strlen(conf->admin_key) >= sizeof s->key) ||
	    (conf->admin_key_sha256 && conf->admin_key_sha256[0] && strlen(conf->admin_key_sha256) != 64)) {
		snprintf(err, errlen, "the admin key is too long or its SHA-256 is not 64 hex characters");
		free(s);
		return NULL;
	}
	snprintf(s->key, sizeof s->key, "%s", conf->admin_key ? conf->admin_key : "");
	snprintf(s->key_sha256, sizeof s->key_sha256, "%s", conf->admin_key_sha256 ? conf->admin_key_sha256 : "");
	snprintf(s->sha_file, sizeof s->sha_file, "%s",
		 conf->admin_key_sha256_file ? conf->admin_key_sha256_file : "");
	pthread_mutex_init(&s->sha_mu, NULL);
	s->conf.admin_key = s->conf.admin_key_sha256 = s->conf.admin_key_sha256_file = NULL;
	/* a thread per connection (a handler may block on MariaDB for as long
	 * as a load takes), so the connection cap bounds the threads too */
	struct httpd_opts o = {
		.bind = conf->bind,
		.port = (uint16_t)conf->port,
		.thread_per_connection = true,
		.reuse_address = true,
		.connection_timeout_s = s->conf.timeout_s,
		.connection_limit = s->conf.max_conns,
		.per_ip_limit = QHTTP_PER_IP_CONNS,
		.handler = on_request,
		.handler_cls = s,
		.completed = on_done,
		.completed_cls = s,
		.tls_cert_pem = conf->cert_pem,
		.tls_key_pem = conf->key_pem,
		.tls_client_ca_pem = conf->ca_pem,
	};
	if (httpd_start(&o, &s->d, err, errlen) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

int qhttp_status_of(int rc)
{
	switch (rc) {
	case -EINVAL: return 400;
	case -ENOENT: return 404;
	case -EPERM: case -EBUSY: case -EEXIST: return 409;
	case -ENODEV: return 503;
	default: return 500;
	}
}

void qhttp_reply_rc(struct qhttp_req *r, int rc, const char *err, json_t *ok)
{
	if (rc) {
		qhttp_reply_error(r, qhttp_status_of(rc), "%s", err);
		json_decref(ok);
	} else {
		qhttp_reply_ok(r, ok);
	}
}

const char *qhttp_split_db(const char *s, char db[65])
{
	const char *slash = strchr(s, '/');
	if (!slash || slash - s >= 65)
		return NULL;
	memcpy(db, s, (size_t)(slash - s));
	db[slash - s] = '\0';
	return slash + 1;
}

void qhttp_stop(struct qhttp_server *s)
{
	if (!s)
		return;
	httpd_stop(s->d);
	free(s);
}

const char *qhttp_path_printable(const char *url)
{
	size_t n = url ? strlen(url) : 0;
	if (n && n <= 200 &&
	    strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_-.") == n)
		return url;
	return "(path not shown)";
}
