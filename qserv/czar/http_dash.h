/* http_dash.h: the operations dashboard the czar's HTTPS frontend serves
 * (http.h: same listener, same HTTP Basic users, admin flag and all).
 *
 *   GET  /dashboard/                      the page (index.html, dash.js, dash.css
 *                                         compiled into the binary: no files on disk)
 *   GET  /dashboard/api/me                {user, admin}
 *   GET  /dashboard/api/queries           {running, history}: the caller's own
 *                                         queries (every query for an admin), the
 *                                         running ones with chunks done / total
 *   POST /dashboard/api/cancel/:id        stops query id (KILL QUERY of its session,
 *                                         or CANCEL for a SUBMIT): the SQL port's rules
 *   GET  /dashboard/api/cluster           admin: the registry's nodes (--registry-url),
 *                                         else the controller's workers and health
 *   GET  /dashboard/api/ingest            admin: databases, transactions, contributions
 *   GET  /dashboard/api/replication       admin: the controller's replication status
 *   GET  /dashboard/api/mobu              admin: qserv-mobu's per-flock runs (--mobu-url)
 * A POST needs the header X-Qserv-Dashboard (a cross-site form cannot send
 * it, so a page elsewhere cannot cancel with the browser's cached
 * credentials).  The quota view reads the frontend's own GET /quota.
 *
 * http_dash.c owns the routes and the static files; http_dash_queries.c
 * the query views and cancel; http_dash_fetch.c the outbound GETs (each
 * bounded by DASH_FETCH_TIMEOUT_MS in total and DASH_FETCH_MAX_BYTES). */
#ifndef QSERV_CZAR_HTTP_DASH_H
#define QSERV_CZAR_HTTP_DASH_H

#include <stddef.h>

#include <jansson.h>
#include <microhttpd.h>

#include "http.h"

struct czar;

#define DASH_FETCH_TIMEOUT_MS 3000L       /* one outbound request, connect to last byte */
#define DASH_FETCH_MAX_BYTES (4u << 20)   /* its reply */
#define DASH_HISTORY_ROWS 50              /* recent queries shown */

/* The services the admin views read (each NULL: not configured):
 * controller the cluster's controller (its open GET routes; https:// is
 * checked against ca_file, the cluster CA), registry the czar node's
 * agent /status (http://127.0.0.1:9400/status: its "registry" member),
 * mobu qserv-mobu's metrics (http://127.0.0.1:9402).  Before threads
 * start.  0, or -EINVAL with err. */
int http_dash_setup(const char *controller, const char *ca_file, const char *registry, const char *mobu, char *err,
		    size_t errlen);
/* Serves a /dashboard route for the authenticated who. */
enum MHD_Result http_dash_route(struct czar *cz, struct MHD_Connection *c, const char *url, const char *method,
				const struct http_who *who);

/* The page's files, compiled in by qserv/czar/dashboard/embed.sh
 * (build/gen/dash_assets.c). */
struct dash_asset {
	const char *name;             /* "index.html", "dash.js", ... */
	const unsigned char *data;
	size_t len;
};
extern const struct dash_asset dash_assets[];
extern const size_t dash_nassets;

/* ---- http_dash_queries.c ------------------------------------------------ */

/* {running: [...], history: [...]} of who's queries (all for an admin);
 * NULL with err. */
json_t *dash_queries(struct czar *cz, const struct http_who *who, char *err, size_t errlen);
/* Stops query id for who: 0, or -ENOENT (no such running query of who's),
 * or the statement's error; err says why. */
int dash_cancel(struct czar *cz, const struct http_who *who, long long id, char *err, size_t errlen);

/* ---- http_dash_fetch.c -------------------------------------------------- */

/* GET base + path (bounded); 0 and the body (NUL-terminated, caller
 * frees) and the HTTP status, or -errno with err. */
int dash_fetch(const char *base, const char *path, const char *ca_file, char **ret_body, long *ret_status, char *err,
	       size_t errlen);
/* The same, the body parsed as a JSON object (caller decrefs). */
int dash_fetch_json(const char *base, const char *path, const char *ca_file, json_t **ret, char *err, size_t errlen);

#endif
