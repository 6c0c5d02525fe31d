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
 * in err.
 *
 * Authentication happens here, at the first callback of a request (headers
 * only), before any body byte is read or spooled.  The application's policy
 * callback says what a (method, url) needs (enum qhttp_auth: a column of
 * its route table); credentials are the admin key (Authorization: Bearer,
 * X-Qserv-Auth-Key, auth_key/admin_auth_key query argument) or a client
 * certificate of the cluster CA whose role the route allows.  For Qserv's
 * loaders, which send the key as the auth_key / admin_auth_key field of a
 * JSON body, a request without a header credential whose Content-Length is
 * at most QHTTP_AUTH_BODY_MAX (and whose body is not spooled) is read into
 * memory and checked before the handler runs; anything else is refused at
 * once (401).  No admin key configured: every route that needs one is
 * refused (403), never open.
 *
 * Limits of every listener: idle connections closed after timeout_s (none
 * while a handler runs), at most max_conns connections (one thread each)
 * and QHTTP_PER_IP_CONNS from one address, so idle sockets from a few
 * hosts cannot take every connection (128 idle sockets locked every client
 * out when the cap was 128 with no per-address limit), a body whose Content-Length passes the limit answered 413 before it is
 * read (in-memory bodies QHTTP_MAX_MEM_BODY, spooled ones max_spool). */
#ifndef QSERV_QHTTP_H
#define QSERV_QHTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define QHTTP_PER_IP_CONNS 64   /* a loader's -j 32 twice over; a flood needs 16 hosts */
#include <jansson.h>

#define QHTTP_MAX_MEM_BODY (16u << 20)
#define QHTTP_AUTH_BODY_MAX (64u << 10)   /* JSON body read before its auth_key is checked */
/* A request refused at its headers whose body (Content-Length, no Expect:
 * 100-continue) is at most this is answered after its body was read and
 * dropped: closing on unread bytes sends a TCP reset, which can destroy
 * the refusal before the client reads it.  Larger ones are answered at
 * once and the connection closed. */
#define QHTTP_DRAIN_MAX (1u << 20)
#define QHTTP_KEY_HEX 64                  /* the admin key: 64 lowercase hex characters */

struct qhttp_server;

/* Who may call a route (the policy column of the route tables). */
enum qhttp_auth {
	QHTTP_OPEN,            /* anyone (GETs that reveal nothing sensitive) */
	QHTTP_KEY,             /* the admin key only */
	QHTTP_KEY_OR_CZAR,     /* the admin key or a certificate of role "czar" */
	QHTTP_KEY_OR_WORKER,   /* the admin key or a certificate of role "worker" */
};

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
	int auth_in_body;      /* the credential must be in the JSON body */
	int refuse_status;     /* refused at the headers, answered once the body
				* (at most QHTTP_DRAIN_MAX) was read and dropped */
	char refuse_msg[256];
	char peer_role[64];    /* role of a verified client certificate, or "" */
	int key_given;         /* the headers carry the admin key (checked on open
				* routes too: they may show the key holder more) */
};

/* Called once when the request headers are in: return 1 and fill
 * ret_path (a file to create) to spool the body to a file, 0 otherwise. */
typedef int (*qhttp_spool_fn)(void *app, const char *method, const char *url,
			      char *ret_path, size_t len);
typedef void (*qhttp_handler_fn)(void *app, struct qhttp_req *r);
/* What (method, url) needs; called at the first callback of a request. */
typedef enum qhttp_auth (*qhttp_policy_fn)(void *app, const char *method, const char *url);

struct qhttp_conf {
	const char *bind;          /* IPv4 dotted quad, NULL = any */
	int port;
	qhttp_handler_fn handler;
	qhttp_spool_fn spool;      /* may be NULL */
	qhttp_policy_fn policy;    /* NULL: every route QHTTP_KEY */
	void *app;
	const char *cert_pem, *key_pem, *ca_pem;  /* all three: HTTPS asking for client
						     certificates of ca_pem; none: HTTP */
	const char *admin_key;          /* the key, or NULL/"" */
	const char *admin_key_sha256;   /* or its SHA-256 (hex), or NULL/"" */
	const char *admin_key_sha256_file;  /* or a file holding it, read when a key is
					       first needed and until it exists (the
					       agent may write it after the start) */
	unsigned long long max_spool;   /* spooled body limit; 0: QHTTP_MAX_SPOOL_BODY */
	unsigned timeout_s;             /* idle connection timeout; 0: 30 */
	unsigned max_conns;             /* connection (= thread) cap; 0: 1024 */
};
#define QHTTP_MAX_SPOOL_BODY (64ull << 30)

/* Starts the listener.  Returns the server or NULL with err filled. */
struct qhttp_server *qhttp_start(const struct qhttp_conf *conf, char *err, size_t errlen);
void qhttp_stop(struct qhttp_server *s);

/* Splits a route's rest "<db>/<second>" (db at most 64 bytes) into db;
 * the part after the slash, or NULL when there is none. */
const char *qhttp_split_db(const char *s, char db[65]);
/* Lowercase hex SHA-256 of s into hex[65]. */
void qhttp_sha256_hex(const char *s, char hex[65]);

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

/* Reads a key file's first line into buf; -errno + err. */
int qhttp_read_key(const char *path, char *buf, size_t len, char *err, size_t errlen);

/* The HTTP status of a handler's negative errno: -EINVAL 400, -ENOENT 404,
 * -EPERM/-EBUSY/-EEXIST 409 (refused by the current state), -ENODEV 503,
 * anything else 500. */
int qhttp_status_of(int rc);
/* Replies ok (consumed) when rc is 0, else the error err with the status
 * of rc (ok freed).  The caller logs what it wants first. */
void qhttp_reply_rc(struct qhttp_req *r, int rc, const char *err, json_t *ok);
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
