/* qhttp.c: libmicrohttpd glue for the worker and controller APIs (see
 * qhttp.h); the listener itself starts and stops through lib/httpd.h.
 * One struct qhttp_req per connection request, created at the first
 * callback, filled by the upload callbacks, handed to the
 * application handler at the last one and freed by the completion
 * callback (which also removes a spool file the handler left behind). */
#include "qhttp.h"

#include "fileio.h"
#include "httpd.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct qhttp_server {
	struct MHD_Daemon *d;
	qhttp_handler_fn handler;
	qhttp_spool_fn spool;
	void *app;
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

bool qhttp_auth_ok(struct qhttp_req *r, const char *key)
{
	if (!key || !*key)
		return true;
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Qserv-Auth-Key");
	if (!h)
		h = qhttp_arg(r, "auth_key");
	if (h)
		return same(h, key);
	if (r->len && r->body && r->body[0] == '{') {
		json_t *j = json_loadb(r->body, r->len, 0, NULL);
		const char *k = json_string_value(json_object_get(j, "auth_key"));
		bool ok = k && same(k, key);
		json_decref(j);
		return ok;
	}
	return false;
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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct qhttp_server *s = cls;
	struct qhttp_req *r = *con_cls;
	if (!r) {
		r = calloc(1, sizeof *r);
		if (!r)
			return MHD_NO;
		r->conn = conn, r->method = method, r->url = url, r->spool_fd = -1;
		if (s->spool && s->spool(s->app, method, url, r->spool_path, sizeof r->spool_path)) {
			r->spool_fd = open(r->spool_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
			if (r->spool_fd < 0)
				r->io_error = errno;
		}
		*con_cls = r;
		return MHD_YES;
	}
	if (*upload_size) {
		if (!r->too_big && !r->io_error)
			body_append(r, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
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
	else
		s->handler(s->app, r);
	if (!r->replied)
		qhttp_reply_error(r, 500, "no reply for %s %s", method, url);
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

struct qhttp_server *qhttp_start(const char *bind_addr, int port, qhttp_handler_fn h,
				 qhttp_spool_fn spool, void *app, char *err, size_t errlen)
{
	struct qhttp_server *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->handler = h, s->spool = spool, s->app = app;
	/* a thread per connection: a handler may block on MariaDB for as long
	 * as a load takes, so no idle timeout either */
	struct httpd_opts o = {
		.bind = bind_addr,
		.port = (uint16_t)port,
		.thread_per_connection = true,
		.reuse_address = true,
		.connection_timeout_s = 0,
		.handler = on_request,
		.handler_cls = s,
		.completed = on_done,
		.completed_cls = s,
	};
	if (httpd_start(&o, &s->d, err, errlen) < 0) {
		free(s);
		return NULL;
	}
	return s;
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
