/* http.h: Qserv's HTTP query frontend on the czar (HTTPS only, off unless
 * --http-port is given; doc/user/http-frontend-*.rst in lsst/qserv).
 *
 * http.c owns the listener (lib/httpd.h, the czar's --ssl-cert/--ssl-key),
 * HTTP Basic authentication against the czar's users file (the same users,
 * passwords and admin flag as the SQL port; require_ssl holds since every
 * request is HTTPS), Qserv's `version` check and the routes:
 *   GET    /meta/version
 *   POST   /query                          {"query", "database", "binary_encoding"}
 *   POST   /query-async                    {"query", "database"} -> {"queryId"}
 *   GET    /query-async/status/:id
 *   GET    /query-async/result/:id         ?binary_encoding=
 *   DELETE /query-async/result/:id
 *   DELETE /query-async/:id                (cancel)
 *   /dashboard/...                         the operations dashboard (http_dash.h)
 *   GET    /quota, PUT|POST /quota/{default,group/:name,user/:name},
 *   DELETE /quota/{group,user}/:name      (admins only; http_quota.c)
 * Every answer is a JSON object with Qserv's success/error/error_ext/warning;
 * a failed request is HTTP 200 with "success": 0, as in Qserv.  Missing or
 * wrong credentials get 401 with WWW-Authenticate.
 *
 * http_result.c runs one statement as the SQL port does (http_run) and
 * turns its answer into Qserv's "schema" + "rows". */
#ifndef QSERV_CZAR_HTTP_H
#define QSERV_CZAR_HTTP_H

#include <stddef.h>

#include <jansson.h>

#include "auth.h"

struct czar;
struct http_frontend;

#define HTTP_API_VERSION 54       /* Qserv's frontend API version answered (its docs' current one;
					 * Rubin's qserv-kafka bridge asks for 51) */
#define HTTP_API_MIN_VERSION 30   /* oldest `version` a request may ask for */

enum http_binenc { HTTP_BIN_HEX, HTTP_BIN_B64, HTTP_BIN_ARRAY };

/* The authenticated caller of a request. */
struct http_who {
	char user[AUTH_NAME_MAX + 1];
	char host[64];
	int admin;
	const struct auth_user *u;    /* &acct */
	struct auth_user acct;        /* a copy of its entry at authentication (users.h) */
	int fd;                       /* its connection's socket (-1: none), watched for a hang-up */
};

/* What one statement answered: schema and rows (NULL for an error, or
 * empty arrays for a statement without a result set), or code + error. */
struct http_answer {
	json_t *schema, *rows;
	unsigned code;                /* MySQL error number (0: none) */
	unsigned retry_after;         /* a quota refused it: seconds to wait (quota_czar.h) */
	char error[600];
};

/* Starts the frontend on bind:port with the PEM files.  NULL with err. */
struct http_frontend *http_start(struct czar *cz, const char *bind, int port, const char *cert_file,
				 const char *key_file, char *err, size_t errlen);
void http_stop(struct http_frontend *h);

/* Runs sql (len bytes) as who, in database db (NULL or "": none), as the
 * SQL port would: 0 with a->schema and a->rows (the caller's), or < 0 with
 * a->error (and a->code when MySQL's). */
int http_run(struct czar *cz, const struct http_who *who, const char *db, const char *sql, size_t len,
	     enum http_binenc enc, struct http_answer *a);

#endif
