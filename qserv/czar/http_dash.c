/* http_dash.c: the dashboard's routes (http_dash.h): its compiled-in
 * files, who the caller is, the query views and Cancel (any user, own
 * queries), and the admin views, each the open GET routes of a cluster
 * service read by the czar (http_dash_fetch.c) and answered as JSON.
 *
 * State: the services' URLs, set once before threads start, read-only
 * after.  A view whose service is not configured or does not answer is
 * HTTP 200 with success 0 and the reason: the page shows it in place of
 * the view, the rest of the page still works.  The registry's status
 * carries its join token and CA pin: only its node list is passed on. */
#include "http_dash.h"
#include "http_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "czar.h"

static struct {
	char controller[512], ca[512], registry[512], mobu[512];   /* "" = not configured */
} dash;

static int set_url(char *dst, size_t n, const char *url, const char *what, char *err, size_t errlen)
{
	size_t len;

	if (!url)
		return 0;
	len = strlen(url);
	while (len && url[len - 1] == '/')
		len--;
	if ((strncmp(url, "https://", 8) && strncmp(url, "http://", 7)) || len >= n) {
		snprintf(err, errlen, "%s wants http(s)://HOST:PORT[/PATH]: %s", what, url);
		return -EINVAL;
	}
	memcpy(dst, url, len);
	dst[len] = '\0';
	return 0;
}

int http_dash_setup(const char *controller, const char *ca_file, const char *registry, const char *mobu, char *err,
		    size_t errlen)
{
	if (set_url(dash.controller, sizeof dash.controller, controller, "the controller URL", err, errlen) < 0 ||
	    set_url(dash.registry, sizeof dash.registry, registry, "--registry-url", err, errlen) < 0 ||
	    set_url(dash.mobu, sizeof dash.mobu, mobu, "--mobu-url", err, errlen) < 0)
		return -EINVAL;
	if (ca_file && (size_t)snprintf(dash.ca, sizeof dash.ca, "%s", ca_file) >= sizeof dash.ca) {
		snprintf(err, errlen, "CA file path too long");
		return -ENAMETOOLONG;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		snprintf(err, errlen, "cannot initialise the HTTP client");
		return -EIO;
	}
	return 0;
}

/* ---- the page's files ----------------------------------------------------- */

static enum MHD_Result asset(struct MHD_Connection *c, const char *name)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
	};
	const char *dot = strrchr(name, '.'), *type = NULL;
	struct MHD_Response *r;
	enum MHD_Result ret;

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(dot, types[i].ext))
			type = types[i].type;
	for (size_t i = 0; type && i < dash_nassets; i++) {
		if (strcmp(dash_assets[i].name, name))
			continue;
		r = MHD_create_response_from_buffer(dash_assets[i].len, (void *)dash_assets[i].data,
						    MHD_RESPMEM_PERSISTENT);
		if (!r)
			return MHD_NO;
		MHD_add_response_header(r, "Content-Type", type);
		/* everything the page loads is the czar's own: no other origin */
		MHD_add_response_header(r, "Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'");
		MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
		MHD_add_response_header(r, "Cache-Control", "no-store");
		ret = MHD_queue_response(c, MHD_HTTP_OK, r);
		MHD_destroy_response(r);
		return ret;
	}
	return http_fail(c, MHD_HTTP_NOT_FOUND, NULL, "No such dashboard file: %s", name);
}

/* ---- admin views ----------------------------------------------------------- */

/* Answers j (consumed) or, when NULL, success 0 with err. */
static enum MHD_Result view(struct MHD_Connection *c, json_t *j, const char *err)
{
	return j ? http_reply(c, MHD_HTTP_OK, j) : http_fail(c, MHD_HTTP_OK, NULL, "%s", err);
}

/* o's member k (a new reference) into out as name; missing: null. */
static void move(json_t *out, const char *name, json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	json_object_set(out, name, v ? v : json_null());
}

static json_t *cluster(char *err, size_t errlen)
{
	json_t *out = json_object(), *a = NULL, *b = NULL, *reg;

	if (dash.registry[0]) {
		if (dash_fetch_json(dash.registry, "", NULL, &a, err, errlen) < 0)
			goto fail;
		reg = json_object_get(a, "registry");
		json_object_set_new(out, "source", json_string("registry"));
		move(out, "nodes", reg ? reg : a, "nodes");
		move(out, "map_version", reg ? reg : a, "map_version");
	} else if (dash.controller[0]) {
		if (dash_fetch_json(dash.controller, "/meta/workers", dash.ca, &a, err, errlen) < 0 ||
		    dash_fetch_json(dash.controller, "/replication/status", dash.ca, &b, err, errlen) < 0)
			goto fail;
		json_object_set_new(out, "source", json_string("controller"));
		move(out, "workers", a, "locations");
		move(out, "health", b, "workers");
	} else {
		snprintf(err, errlen, "neither --registry-url nor the controller (--ingest-url) is configured");
		goto fail;
	}
	json_decref(a);
	json_decref(b);
	return out;
fail:
	json_decref(a);
	json_decref(b);
	json_decref(out);
	return NULL;
}

/* Databases, transactions, and the contributions of the latest few. */
static json_t *ingest(char *err, size_t errlen)
{
	json_t *out = json_object(), *a = NULL, *b = NULL, *t, *tr, *contrib = json_array();
	size_t i, n;
	char path[96];

	if (!dash.controller[0]) {
		snprintf(err, errlen, "the controller (--ingest-url) is not configured");
		goto fail;
	}
	if (dash_fetch_json(dash.controller, "/ingest/database", dash.ca, &a, err, errlen) < 0 ||
	    dash_fetch_json(dash.controller, "/ingest/trans", dash.ca, &b, err, errlen) < 0)
		goto fail;
	move(out, "databases", a, "databases");
	move(out, "transactions", b, "transactions");
	tr = json_object_get(b, "transactions");
	n = json_array_size(tr);
	for (i = n > 3 ? n - 3 : 0; i < n; i++) {
		json_int_t id = json_integer_value(json_object_get(json_array_get(tr, i), "id"));
		snprintf(path, sizeof path, "/ingest/trans/%lld?contrib=1", (long long)id);
		if (id > 0 && dash_fetch_json(dash.controller, path, dash.ca, &t, err, errlen) == 0) {
			json_t *c = json_object_get(json_object_get(t, "transaction"), "contrib");
			json_array_append_new(contrib, json_pack("{s:I,s:O?}", "transaction", id, "summary",
								  json_object_get(c, "summary")));
			json_decref(t);
		}
	}
	json_object_set_new(out, "contributions", contrib);
	json_decref(a);
	json_decref(b);
	return out;
fail:
	json_decref(contrib);
	json_decref(a);
	json_decref(b);
	json_decref(out);
	return NULL;
}

static json_t *replication(char *err, size_t errlen)
{
	json_t *a = NULL;

	if (!dash.controller[0]) {
		snprintf(err, errlen, "the controller (--ingest-url) is not configured");
		return NULL;
	}
	if (dash_fetch_json(dash.controller, "/replication/status", dash.ca, &a, err, errlen) < 0)
		return NULL;
	json_object_del(a, "success");
	json_object_del(a, "error");
	json_object_del(a, "error_ext");
	json_object_del(a, "warning");
	return json_pack("{s:o}", "status", a);
}

/* qserv-mobu's Prometheus text, passed as text (the page reads the
 * qserv_mobu_* series it knows). */
static json_t *mobu(char *err, size_t errlen)
{
	char *body = NULL;
	long status;
	json_t *j;

	if (!dash.mobu[0]) {
		snprintf(err, errlen, "--mobu-url is not configured");
		return NULL;
	}
	if (dash_fetch(dash.mobu, "/metrics", NULL, &body, &status, err, errlen) < 0)
		return NULL;
	if (status != 200) {
		snprintf(err, errlen, "%s/metrics: HTTP %ld", dash.mobu, status);
		free(body);
		return NULL;
	}
	j = json_pack("{s:s}", "metrics", body);
	free(body);
	if (!j)
		snprintf(err, errlen, "qserv-mobu's metrics are not UTF-8 text");
	return j;
}

/* ---- routes ---------------------------------------------------------------- */

static enum MHD_Result admin_view(struct MHD_Connection *c, const char *name, const struct http_who *who)
{
	static const struct { const char *name; json_t *(*fn)(char *, size_t); } views[] = {
		{ "cluster", cluster }, { "ingest", ingest }, { "replication", replication }, { "mobu", mobu },
	};
	char err[700] = "";

	for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++) {
		if (strcmp(name, views[i].name))
			continue;
		if (!who->admin)
			return http_fail(c, MHD_HTTP_FORBIDDEN, NULL, "The %s view is for admin users.", name);
		return view(c, views[i].fn(err, sizeof err), err);
	}
	return http_fail(c, MHD_HTTP_NOT_FOUND, NULL, "No such dashboard service: %s", name);
}

static enum MHD_Result cancel(struct czar *cz, struct MHD_Connection *c, const char *id_s, const struct http_who *who)
{
	char err[700], *end;
	long long id;
	int rc;

	if (!MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Qserv-Dashboard"))
		return http_fail(c, MHD_HTTP_FORBIDDEN, NULL, "A dashboard POST needs the header X-Qserv-Dashboard.");
	id = strtoll(id_s, &end, 10);
	if (!*id_s || *end || id <= 0 || strspn(id_s, "0123456789") > 18)
		return http_fail(c, MHD_HTTP_BAD_REQUEST, NULL, "Not a query id: %s", id_s);
	rc = dash_cancel(cz, who, id, err, sizeof err);
	if (rc == -ENOENT)
		return http_fail(c, MHD_HTTP_NOT_FOUND, NULL, "%s", err);
	return rc < 0 ? http_fail(c, MHD_HTTP_OK, NULL, "%s", err) : http_reply(c, MHD_HTTP_OK, json_object());
}

enum MHD_Result http_dash_route(struct czar *cz, struct MHD_Connection *c, const char *url, const char *method,
				const struct http_who *who)
{
	static const char api[] = "/dashboard/api/", can[] = "cancel/";
	const char *rest = url + sizeof(api) - 1;
	char err[700] = "";

	if (!strcmp(method, "POST") && !strncmp(url, api, sizeof(api) - 1) && !strncmp(rest, can, sizeof(can) - 1))
		return cancel(cz, c, rest + sizeof(can) - 1, who);
	if (strcmp(method, "GET"))
		return http_fail(c, MHD_HTTP_METHOD_NOT_ALLOWED, NULL, "Method %s not allowed here", method);
	if (!strcmp(url, "/dashboard") || !strcmp(url, "/dashboard/"))
		return asset(c, "index.html");
	if (strncmp(url, api, sizeof(api) - 1) != 0)
		return asset(c, url + sizeof("/dashboard/") - 1);
	if (!strcmp(rest, "me"))
		return http_reply(c, MHD_HTTP_OK, json_pack("{s:s,s:b}", "user", who->user, "admin", who->admin));
	if (!strcmp(rest, "queries"))
		return view(c, dash_queries(cz, who, err, sizeof err), err);
	return admin_view(c, rest, who);
}
