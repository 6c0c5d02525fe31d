/* http.c: the HTTP query frontend's listener, authentication, version
 * check and routes (see http.h); async routes in http_async.c, the
 * statement and its JSON in http_result.c. */
#include "http.h"
#include "users.h"
#include "http_internal.h"
#include "http_ingest.h"
#include "http_dash.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>

#include "buf.h"
#include "httpd.h"
#include "tls.h"

#include "czar.h"

#define HTTP_MAX_BODY (1u << 20)   /* a request body (the query text) */

struct http_frontend {
	struct czar *cz;
	struct MHD_Daemon *d;
};

struct req {
	struct buf body;
	int too_big;
	size_t cap;                   /* body bytes kept (HTTP_MAX_BODY, or the ingest cap) */
	int replied;                  /* answered at the first callback: the body is dropped */
};

/* ---- answers ------------------------------------------------------------- */

enum MHD_Result http_reply(struct MHD_Connection *c, unsigned status, json_t *j)
{
	return http_reply_hdr(c, status, j, NULL, NULL);
}

enum MHD_Result http_reply_hdr(struct MHD_Connection *c, unsigned status, json_t *j, const char *name,
			       const char *value)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *s;

	if (!j)
		return MHD_NO;
	if (!json_object_get(j, "success"))
		json_object_set_new(j, "success", json_integer(1));
	if (!json_object_get(j, "error"))
		json_object_set_new(j, "error", json_string(""));
	if (!json_object_get(j, "error_ext"))
		json_object_set_new(j, "error_ext", json_object());
	if (!json_object_get(j, "warning"))
		json_object_set_new(j, "warning", json_string(""));
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!s || !(r = MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE))) {
		free(s);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "application/json");
	if (name)
		MHD_add_response_header(r, name, value);
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r, "WWW-Authenticate", "Basic realm=\"qserv\", charset=\"UTF-8\"");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result http_fail(struct MHD_Connection *c, unsigned status, json_t *ext, const char *fmt, ...)
{
	char msg[700];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return http_reply(c, status, json_pack("{s:i,s:s,s:o}", "success", 0, "error", msg, "error_ext",
					       ext ? ext : json_object()));
}

/* ---- who is calling ------------------------------------------------------ */

/* 0 and *who when the request's Basic credentials name a user of the
 * users file with that password, else -EACCES. */
static int authenticate(struct czar *cz, struct MHD_Connection *c, struct http_who *who)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	unsigned char dec[2 * AUTH_NAME_MAX + 200], hash[AUTH_HASH_LEN], diff = 0;
	const struct auth_user *u;
	size_t n, k;
	char *colon;
	int rc = -EACCES;

	const union MHD_ConnectionInfo *fi = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

	memset(who, 0, sizeof(*who));
	who->fd = fi ? fi->connect_fd : -1;
	snprintf(who->host, sizeof(who->host), "http");
	if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, who->host, sizeof(who->host));
	if (!h || strncasecmp(h, "Basic ", 6) != 0)
		return -EACCES;
	h += 6;
	while (*h == ' ')
		h++;
	if (mbedtls_base64_decode(dec, sizeof(dec) - 1, &n, (const unsigned char *)h, strlen(h)) != 0)
		return -EACCES;
	dec[n] = 0;
	if (!(colon = memchr(dec, ':', n)) || (size_t)(colon - (char *)dec) > AUTH_NAME_MAX)
		goto out;
	*colon = 0;
	if (users_get(cz, (const char *)dec, &who->acct) < 0 || who->acct.locked)
		goto out;
	u = &who->acct;
	k = n - (size_t)(colon + 1 - (char *)dec);
	if (u->has_password) {
		auth_hash_password(colon + 1, k, hash);
		for (size_t i = 0; i < AUTH_HASH_LEN; i++)
			diff |= hash[i] ^ u->hash[i];
		if (diff || k == 0)
			goto out;
	} else if (k != 0) {
		goto out;
	}
	snprintf(who->user, sizeof(who->user), "%s", u->name);
	who->admin = u->admin;
	who->u = u;
	rc = 0;
out:
	explicit_bzero(dec, sizeof(dec));
	explicit_bzero(hash, sizeof(hash));
	return rc;
}

/* Qserv's push-mode version check: 0, or an answer queued and -EINVAL. */
int http_check_version(struct MHD_Connection *c, json_t *body, enum MHD_Result *ret)
{
	json_t *v = body ? json_object_get(body, "version") : NULL;
	const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "version");
	long long want;
	char *end = NULL;

	if (v && !json_is_integer(v))
		goto bad_type;
	if (v)
		want = json_integer_value(v);
	else if (q) {
		want = strtoll(q, &end, 10);
		if (!*q || *end)
			goto bad_type;
	} else
		return 0;
	if (want >= HTTP_API_MIN_VERSION && want <= HTTP_API_VERSION)
		return 0;
	*ret = http_fail(c, MHD_HTTP_OK,
			 json_pack("{s:i,s:i}", "max_version", HTTP_API_VERSION, "min_version", HTTP_API_MIN_VERSION),
			 "The requested version %lld of the API is not in the range supported by the service.", want);
	return -EINVAL;
bad_type:
	*ret = http_fail(c, MHD_HTTP_OK, NULL, "The parameter 'version' is not a number.");
	return -EINVAL;
}

/* ---- routes -------------------------------------------------------------- */

static enum MHD_Result meta_version(struct http_frontend *h, struct MHD_Connection *c)
{
	return http_reply(c, MHD_HTTP_OK, json_pack("{s:s,s:s,s:i,s:s,s:i}", "kind", "qserv-czar-query-frontend",
						    "name", "http", "id", h->cz->port, "instance_id", "qserv-node",
						    "version", HTTP_API_VERSION));
}

/* "binary_encoding" of a body or the query string: 0, or -EINVAL. */
int http_binenc(const char *s, enum http_binenc *ret)
{
	if (!s || !strcmp(s, "hex"))
		*ret = HTTP_BIN_HEX;
	else if (!strcmp(s, "b64"))
		*ret = HTTP_BIN_B64;
	else if (!strcmp(s, "array"))
		*ret = HTTP_BIN_ARRAY;
	else
		return -EINVAL;
	return 0;
}

/* The answer of a statement run through http_run. */
enum MHD_Result http_result_reply(struct MHD_Connection *c, int rc, struct http_answer *a)
{
	enum MHD_Result ret;

	if (rc < 0 && http_quota_refused(c, a, &ret))   /* 429 / 403 */
		return ret;
	if (rc < 0)
		return http_fail(c, MHD_HTTP_OK, a->code ? json_pack("{s:i}", "code", (int)a->code) : NULL, "%s",
				 a->error);
	return http_reply(c, MHD_HTTP_OK, json_pack("{s:o,s:o}", "schema", a->schema, "rows", a->rows));
}

static enum MHD_Result query_sync(struct http_frontend *h, struct MHD_Connection *c, const struct http_who *who,
				  json_t *body)
{
	const char *sql = NULL, *db = NULL, *enc = NULL;
	enum http_binenc be;
	struct http_answer a;
	enum MHD_Result ret;

	if (json_unpack(body, "{s:s,s?s,s?s}", "query", &sql, "database", &db, "binary_encoding", &enc) < 0)
		return http_fail(c, MHD_HTTP_OK, NULL, "The request body needs a string 'query' (and optionally "
				 "strings 'database' and 'binary_encoding').");
	if (http_binenc(enc, &be) < 0)
		return http_fail(c, MHD_HTTP_OK, NULL, "binary_encoding must be one of hex, b64, array.");
	if (http_check_version(c, body, &ret) < 0)
		return ret;
	return http_result_reply(c, http_run(h->cz, who, db, sql, strlen(sql), be, &a), &a);
}

static enum MHD_Result route(struct http_frontend *h, struct MHD_Connection *c, const char *url,
			     const char *method, struct req *rq)
{
	struct http_who who;
	json_t *body = NULL;
	json_error_t je;
	enum MHD_Result ret;

	if (!strcmp(url, "/meta/version") && !strcmp(method, "GET")) {
		if (http_check_version(c, NULL, &ret) < 0)
			return ret;
		return meta_version(h, c);
	}
	if (authenticate(h->cz, c, &who) < 0)
		return http_fail(c, MHD_HTTP_UNAUTHORIZED, NULL, "Authentication failed: HTTP Basic credentials of a "
				 "czar user are required.");
	if (rq->too_big)
		return http_fail(c, MHD_HTTP_CONTENT_TOO_LARGE, NULL, "The request body is larger than %zu bytes.",
				 rq->cap);
	if (!strncmp(url, "/dashboard", 10) && (!url[10] || url[10] == '/'))
		return http_dash_route(h->cz, c, url, method, &who);
	if (!strncmp(url, "/quota", 6) && (!url[6] || url[6] == '/'))
		return http_quota_route(h->cz, c, url, method, &who, (const char *)rq->body.data, rq->body.len);
	if (!strncmp(url, "/ingest/", 8))
		return http_ingest_route(c, url, method, &who, (const char *)rq->body.data, rq->body.len,
					 MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE));
	if (!strcmp(method, "POST")) {
		body = json_loadb(rq->body.len ? (const char *)rq->body.data : "{}", rq->body.len ? rq->body.len : 2, 0,
				  &je);
		if (!json_is_object(body)) {
			json_decref(body);
			return http_fail(c, MHD_HTTP_OK, NULL, "The request body is not a JSON object.");
		}
	}
	if (!strcmp(url, "/query") && body)
		ret = query_sync(h, c, &who, body);
	else
		ret = http_async_route(h->cz, c, url, method, &who, body);
	json_decref(body);
	return ret;
}

/* The first callback of an ingest route (large bodies): the body cap and
 * the credentials checked on the headers, before any byte of the body is
 * kept.  0, or answered (rq->replied). */
static int ingest_first(struct http_frontend *h, struct MHD_Connection *c, struct req *rq)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	struct http_who who;

	if (cl && strtoull(cl, NULL, 10) > rq->cap) {
		rq->replied = 1;
		return http_fail(c, MHD_HTTP_CONTENT_TOO_LARGE, NULL, "The request body is larger than %zu bytes.",
				 rq->cap) == MHD_YES ? 0 : -1;
	}
	if (authenticate(h->cz, c, &who) < 0) {
		rq->replied = 1;
		return http_fail(c, MHD_HTTP_UNAUTHORIZED, NULL, "Authentication failed: HTTP Basic credentials of "
				 "a czar user are required.") == MHD_YES ? 0 : -1;
	}
	return 0;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct req *rq = *con_cls;

	(void)version;
	if (!rq) {
		if (!(rq = calloc(1, sizeof(*rq))))
			return MHD_NO;
		buf_init(&rq->body);
		*con_cls = rq;
		rq->cap = http_ingest_body_cap(url);
		if (!rq->cap)
			rq->cap = HTTP_MAX_BODY;
		else if (ingest_first(cls, c, rq) < 0)
			return MHD_NO;
		return MHD_YES;
	}
	if (rq->replied) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size) {
		if (rq->body.len + *upload_size > rq->cap)
			rq->too_big = 1;
		else
			buf_put(&rq->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (rq->body.oom)
		return MHD_NO;
	return route(cls, c, url, method, rq);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (rq) {
		buf_free(&rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

struct http_frontend *http_start(struct czar *cz, const char *bind, int port, const char *cert_file,
				 const char *key_file, char *err, size_t errlen)
{
	struct http_frontend *h = calloc(1, sizeof(*h));
	struct httpd_opts o = { .bind = bind, .port = (uint16_t)port, .thread_per_connection = true,
				.reuse_address = true, .connection_timeout_s = 60, .connection_limit = 256,
				.per_ip_limit = 64, .handler = handle, .completed = completed };
	char *cert = NULL, *key = NULL;
	int rc;

	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->cz = cz;
	o.handler_cls = h;
	if ((rc = tls_file_read(cert_file, &cert)) < 0 || (rc = tls_file_read(key_file, &key)) < 0) {
		snprintf(err, errlen, "HTTP frontend: cannot read %s: %s", cert ? key_file : cert_file, strerror(-rc));
	} else {
		o.tls_cert_pem = cert;
		o.tls_key_pem = key;
		rc = httpd_start(&o, &h->d, err, errlen);
		explicit_bzero(key, strlen(key));
	}
	free(key);
	free(cert);
	if (rc < 0) {
		free(h);
		return NULL;
	}
	return h;
}

void http_stop(struct http_frontend *h)
{
	if (!h)
		return;
	httpd_stop(h->d);
	free(h);
}
