/* http_internal.h: what http.c shares with http_async.c (answers in
 * Qserv's JSON shape, the version check, the binary encoding names). */
#ifndef QSERV_CZAR_HTTP_INTERNAL_H
#define QSERV_CZAR_HTTP_INTERNAL_H

#include <microhttpd.h>
#include <jansson.h>

#include "http.h"

/* Queues j (consumed; success/error/error_ext/warning added when absent). */
enum MHD_Result http_reply(struct MHD_Connection *c, unsigned status, json_t *j);
/* The same with one more header (name NULL: none). */
enum MHD_Result http_reply_hdr(struct MHD_Connection *c, unsigned status, json_t *j, const char *name,
			       const char *value);
/* Queues {"success":0,"error":msg,"error_ext":ext (consumed; NULL: {})}. */
enum MHD_Result http_fail(struct MHD_Connection *c, unsigned status, json_t *ext, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Qserv's `version` (body, else query string): 0, or answered and -EINVAL. */
int http_check_version(struct MHD_Connection *c, json_t *body, enum MHD_Result *ret);
/* "hex" (or NULL), "b64", "array": 0, else -EINVAL. */
int http_binenc(const char *s, enum http_binenc *ret);
/* The answer of http_run (rc its return). */
enum MHD_Result http_result_reply(struct MHD_Connection *c, int rc, struct http_answer *a);
/* The /query-async routes (and 404/405 for anything else); body is the
 * parsed JSON of a POST (else NULL). */
enum MHD_Result http_async_route(struct czar *cz, struct MHD_Connection *c, const char *url, const char *method,
				 const struct http_who *who, json_t *body);
/* http_quota.c: GET/PUT/POST/DELETE /quota... (admins only). */
enum MHD_Result http_quota_route(struct czar *cz, struct MHD_Connection *c, const char *url, const char *method,
				 const struct http_who *who, const char *body, size_t len);
/* A statement a quota refused (a->code 1226 or 4151): 1 and *ret queued
 * (429 with Retry-After, or 403), else 0. */
int http_quota_refused(struct MHD_Connection *c, const struct http_answer *a, enum MHD_Result *ret);

#endif
