/* http_quota.c: the quota API of the HTTP frontend (quota.h), for the
 * czar's admins only (HTTP Basic as every route; others get 403):
 *   GET    /quota                  the configuration and every user's usage
 *   PUT    /quota/default          replace the default entry
 *   POST   /quota/default          change the fields the body names
 *   PUT|POST /quota/group/:name    the same for a group's grant
 *   PUT|POST /quota/user/:name     the same for a user's override
 *   DELETE /quota/group/:name, /quota/user/:name
 * Bodies: {"queries":n,"scans":n,"concurrent":n,"result_bytes":n,
 * "window":s} (null unsets a field).  Failures keep Qserv's JSON shape
 * with an HTTP status: 400 bad request, 403 not an admin, 404 no such
 * entry or route, 405 method, 500 the file could not be written.
 *
 * Also the answer of a statement a quota refused: 429 with Retry-After
 * (over a quota), 403 (blocked by a quota of 0); other refusals keep
 * Qserv's HTTP 200 with "success": 0. */
#include "http_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <mariadb/mysqld_error.h>

#include "czar.h"
#include "quota.h"
#include "quota_czar.h"

/* One user's quotas: {"queries": {"limit","used","window_s","resets_in_s"}, ...}. */
static json_t *user_usage(struct czar *cz, const char *user)
{
	char names[64][AUTH_NAME_MAX + 1];
	const char *groups[64];
	size_t n = quota_user_groups(cz, user, names, 64);
	struct quota_row rows[QUOTA_NKINDS];
	json_t *o = json_object(), *g = json_array();

	for (size_t i = 0; i < n; i++) {
		groups[i] = names[i];
		json_array_append_new(g, json_string(names[i]));
	}
	quota_status(cz->quota, user, groups, n, rows);
	for (int k = 0; o && k < QUOTA_NKINDS; k++)
		json_object_set_new(o, quota_names[k],
				    json_pack("{s:o,s:I,s:i,s:i}", "limit",
					      rows[k].limit == QUOTA_UNSET ? json_null() : json_integer(rows[k].limit),
					      "used", (json_int_t)rows[k].used, "window_s", (int)rows[k].window_s,
					      "resets_in_s", (int)rows[k].resets_in_s));
	return json_pack("{s:s,s:o,s:o}", "user", user, "groups", g, "quotas", o);
}

static enum MHD_Result get_all(struct czar *cz, struct MHD_Connection *c)
{
	json_t *j = quota_config_json(cz->quota), *users = quota_users_json(cz->quota), *usage = json_array(), *v;
	size_t i;

	if (!j || !users || !usage) {
		json_decref(j);
		json_decref(users);
		json_decref(usage);
		return http_fail(c, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "out of memory");
	}
	json_array_foreach(users, i, v)
		json_array_append_new(usage, user_usage(cz, json_string_value(v)));
	json_decref(users);
	json_object_set_new(j, "usage", usage);
	return http_reply(c, MHD_HTTP_OK, j);
}

static unsigned status_of(int rc)
{
	return rc == -EINVAL ? MHD_HTTP_BAD_REQUEST : rc == -ENOENT ? MHD_HTTP_NOT_FOUND :
	       MHD_HTTP_INTERNAL_SERVER_ERROR;
}

/* PUT/POST/DELETE of /quota/default, /quota/group/NAME, /quota/user/NAME. */
static enum MHD_Result change(struct czar *cz, struct MHD_Connection *c, const char *path, const char *method,
			      const char *body, size_t len)
{
	char scope[8] = "", err[300];
	const char *name = NULL;
	json_error_t je;
	json_t *j;
	int rc;

	if (!strcmp(path, "default"))
		snprintf(scope, sizeof(scope), "default");
	else if (!strncmp(path, "group/", 6) || !strncmp(path, "user/", 5)) {
		snprintf(scope, sizeof(scope), "%s", path[0] == 'g' ? "group" : "user");
		name = path + strlen(scope) + 1;
	} else
		return http_fail(c, MHD_HTTP_NOT_FOUND, NULL, "no such route: /quota/%.100s", path);
	if (!strcmp(method, "DELETE")) {
		if ((rc = quota_delete(cz->quota, scope, name, err, sizeof(err))) < 0)
			return http_fail(c, status_of(rc), NULL, "%s", err);
		return http_reply(c, MHD_HTTP_OK, json_object());
	}
	if (strcmp(method, "PUT") && strcmp(method, "POST"))
		return http_fail(c, MHD_HTTP_METHOD_NOT_ALLOWED, NULL, "/quota/%s takes PUT, POST or DELETE", scope);
	if (!(j = json_loadb(len ? body : "{}", len ? len : 2, JSON_REJECT_DUPLICATES, &je)))
		return http_fail(c, MHD_HTTP_BAD_REQUEST, NULL, "the body is not JSON: %s", je.text);
	rc = quota_set(cz->quota, scope, name, j, !strcmp(method, "PUT"), err, sizeof(err));
	json_decref(j);
	if (rc < 0)
		return http_fail(c, status_of(rc), NULL, "%s", err);
	return get_all(cz, c);
}

enum MHD_Result http_quota_route(struct czar *cz, struct MHD_Connection *c, const char *url, const char *method,
				 const struct http_who *who, const char *body, size_t len)
{
	if (!who->admin)
		return http_fail(c, MHD_HTTP_FORBIDDEN, NULL, "Only an admin of the czar may read or change quotas.");
	if (!cz->quota)
		return http_fail(c, MHD_HTTP_NOT_FOUND, NULL, "quotas are off on this czar");
	if (!strcmp(url, "/quota") || !strcmp(url, "/quota/")) {
		if (strcmp(method, "GET"))
			return http_fail(c, MHD_HTTP_METHOD_NOT_ALLOWED, NULL, "/quota takes GET");
		return get_all(cz, c);
	}
	return change(cz, c, url + 7, method, body, len);
}

int http_quota_refused(struct MHD_Connection *c, const struct http_answer *a, enum MHD_Result *ret)
{
	char secs[16];

	if (a->code == ER_ACCOUNT_HAS_BEEN_LOCKED) {
		*ret = http_fail(c, MHD_HTTP_FORBIDDEN, json_pack("{s:i}", "code", (int)a->code), "%s", a->error);
		return 1;
	}
	/* 1226 from a quota only (retry_after set): max_user_connections keeps Qserv's 200 */
	if (a->code != ER_USER_LIMIT_REACHED || !a->retry_after)
		return 0;
	snprintf(secs, sizeof(secs), "%u", a->retry_after);
	*ret = http_reply_hdr(c, MHD_HTTP_TOO_MANY_REQUESTS,
			      json_pack("{s:i,s:s,s:{s:i,s:i}}", "success", 0, "error", a->error, "error_ext", "code",
					(int)a->code, "retry_after", (int)a->retry_after),
			      "Retry-After", secs);
	return 1;
}
