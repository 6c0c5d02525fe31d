/* http_ingest.h: Qserv's user-table ingest on the czar's HTTP frontend
 * (doc/user/http-frontend-ingest.rst in lsst/qserv):
 *   POST   /ingest/data                    JSON: database, table, schema, rows, ...
 *   POST   /ingest/csv                     multipart/form-data, the rows a CSV part
 *   DELETE /ingest/table/:database/:table
 *   DELETE /ingest/database/:database
 * Only fully replicated (regular) tables, as Qserv's /ingest/data; the
 * czar writes nothing itself: it drives the cluster's controller
 * (--ingest-url, the admin key of --ingest-key-file, the cluster CA of
 * --tls-dir) through qserv/common/qhttpc.h, as any loader would.
 *
 * http_ingest.c owns the routes and the controller calls;
 * http_ingest_req.c the request checks and the rows' CSV (no network: a
 * fuzz target).  Who may write what:
 *   - an authenticated SQL user (HTTP Basic, http.c) only;
 *   - a database named user_<name>: a user writes only user_<its name>
 *     (names compared case-insensitively, as Qserv's), an admin user any
 *     user_* database; anything else is a catalog database: 403;
 *   - a user_* database holding a partitioned table is a catalog an
 *     operator loaded under that name: 403 as well. */
#ifndef QSERV_CZAR_HTTP_INGEST_H
#define QSERV_CZAR_HTTP_INGEST_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <microhttpd.h>

#include "buf.h"
#include "http.h"
#include "qserv/common/csvd.h"

#define INGEST_MAX_BODY_DEFAULT (64u << 20)   /* --ingest-max-bytes default */
#define INGEST_TIMEOUT_DEFAULT 300            /* Qserv's `timeout` default (s) */
#define INGEST_TIMEOUT_MAX 3600
#define INGEST_NAMES_MAX 56                   /* Qserv's: database + table bytes */
#define INGEST_MAX_AT_ONCE 4                  /* ingest requests served at once */
#define INGEST_MAX_INDEXES 32

/* Flags of qserv-czar: url NULL leaves the routes answering that ingest
 * is not configured.  key_file: the cluster admin key (first line);
 * tls_dir: its ca.pem pins the controller's certificate.  Before threads
 * start.  0, or -errno with err. */
int http_ingest_setup(const char *url, const char *key_file, const char *tls_dir, size_t max_body, char *err,
		      size_t errlen);
/* The body cap of a request to url (the ingest cap for /ingest/..., else 0:
 * the frontend's own). */
size_t http_ingest_body_cap(const char *url);
/* Serves an /ingest/ route for the authenticated who; body/len the raw
 * request body, ctype its Content-Type. */
enum MHD_Result http_ingest_route(struct MHD_Connection *c, const char *url, const char *method,
				  const struct http_who *who, const char *body, size_t len, const char *ctype);

/* ---- http_ingest_req.c: checks without network ----------------------- */

/* One table request, every name and type checked. */
struct ingest_req {
	char db[65], table[65];
	json_t *schema;            /* [{name, type}] with the canonical types (owned) */
	json_t *indexes;           /* [{index, spec, comment, columns}] checked (owned) */
	unsigned ncols;
	unsigned char binary[4096];   /* per column: a binary type */
	char charset[65], collation[65];
	unsigned timeout_s;
	enum http_binenc enc;
	struct csvd d;             /* the rows' dialect (/ingest/csv) */
	const char *dialect[4];    /* the dialect strings as sent (NULL: default), borrowed */
};

/* 0 when who may write database db (and table, when not NULL): 400-worthy
 * -EINVAL or 403-worthy -EPERM with err. */
int ingest_check_names(const char *user, bool admin, const char *db, const char *table, char *err, size_t errlen);
/* The table request of a JSON object b (/ingest/data's body, or the
 * fields of an /ingest/csv form): names (as ingest_check_names), schema,
 * indexes, charset_name, collation_name, timeout, binary_encoding and
 * the CSV dialect.  ingest_req_free after, also after a failure. */
int ingest_req_parse(json_t *b, const char *user, bool admin, struct ingest_req *ret, int *ret_status, char *err,
		     size_t errlen);
void ingest_req_free(struct ingest_req *r);
/* /ingest/data's rows (an array of arrays of r->ncols values) as the
 * worker's default dialect (tab, backslash escapes, \N for NULL) into out;
 * binary columns decoded from r->enc.  -EINVAL with err naming the row. */
int ingest_rows_tsv(const struct ingest_req *r, json_t *rows, struct buf *out, char *err, size_t errlen);
/* An /ingest/csv form: its fields (and the schema / indexes parts, JSON)
 * as one object like /ingest/data's body (*ret, caller decrefs), and where
 * the rows part lies.  -EINVAL with err. */
int ingest_form(const char *body, size_t n, const char *ctype, json_t **ret, size_t *ret_off, size_t *ret_len,
		char *err, size_t errlen);

#endif
