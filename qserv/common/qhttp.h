/* qhttp.h: the small HTTP server layer of the worker and the controller,
 * over libmicrohttpd (thread per connection, so a handler may block on
 * MariaDB for as long as a load takes).
 *
 * A request's body is collected in memory (JSON, capped at
 * QHTTP_MAX_MEM_BODY) or, when the spool callback says so for that URL,
 * streamed into a file (CSV uploads of any size, bounded memory).  The
 * handler runs once, after the whole body arrived, and must queue exactly
 * one reply through qhttp_reply_*; if it does not, the layer answers 500.
 * The layer never logs: errors of the listener come back from qhttp_start
 * in err. */
#ifndef QSERV_QHTTP_H
#define QSERV_QHTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>

#define QHTTP_MAX_MEM_BODY (16u << 20)

struct qhttp_server;

struct qhttp_req {
	void *conn;            /* struct MHD_Connection * */
	const char *method;
	const char *url;       /* path only, query string removed */
	char *body;            /* NUL-terminated in-memory body (may be NULL) */
	size_t len, cap;
	int spool_fd;          /* -1 unless the body goes to spool_path */
	char spool_path[256];
	unsigned long long spooled;
	int too_big, io_error, replied;
};

/* Called once when the request headers are in: return 1 and fill
 * ret_path (a file to create) to spool the body to a file, 0 otherwise. */
typedef int (*qhttp_spool_fn)(void *app, const char *method, const char *url,
			      char *ret_path, size_t len);
typedef void (*qhttp_handler_fn)(void *app, struct qhttp_req *r);

/* Listens on bind_addr:port (IPv4 dotted quad, NULL = any).  Returns the
 * server or NULL with err filled. */
struct qhttp_server *qhttp_start(const char *bind_addr, int port, qhttp_handler_fn h,
				 qhttp_spool_fn spool, void *app, char *err, size_t errlen);
void qhttp_stop(struct qhttp_server *s);

/* Route tables: true when url matches pattern, an exact path or a prefix
 * ending in '*' that matches any rest (even "").  *ret_rest gets what '*'
 * matched, NULL for an exact pattern. */
bool qhttp_path_match(const char *pattern, const char *url, const char **ret_rest);
/* url when it is plain (letters, digits, '/', '_', '-', '.'), else a
 * placeholder: what an error reply may quote of a request path. */
const char *qhttp_path_printable(const char *url);

/* Query-string argument, or NULL. */
const char *qhttp_arg(struct qhttp_req *r, const char *key);
/* The in-memory body as a JSON object (an empty body is {}); NULL and err
 * filled when it does not parse.  Caller owns the result. */
json_t *qhttp_body_json(struct qhttp_req *r, char *err, size_t errlen);

/* Shared-secret check (Qserv's auth_key): true when key is NULL/"" or the
 * request carries it in the X-Qserv-Auth-Key header, the auth_key query
 * argument or the auth_key field of its JSON body.  Constant time. */
bool qhttp_auth_ok(struct qhttp_req *r, const char *key);
/* Reads a key file's first line into buf; -errno + err. */
int qhttp_read_key(const char *path, char *buf, size_t len, char *err, size_t errlen);

/* Replies; obj is stolen. */
void qhttp_reply_json(struct qhttp_req *r, int status, json_t *obj);
/* {"success":1, ...obj's keys} */
void qhttp_reply_ok(struct qhttp_req *r, json_t *obj);
/* {"success":0,"error":"..."} with the given HTTP status */
void qhttp_reply_error(struct qhttp_req *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Streams size bytes of fd (taken over, closed by the layer). */
void qhttp_reply_fd(struct qhttp_req *r, int status, int fd, off_t size, const char *ctype);

#endif
