/* quota.c: `qservctl quota`, the czar's per-user quotas through its HTTPS
 * frontend's /quota API (qserv/czar/http_quota.c):
 *
 *   qservctl quota [OPTS] show [--json]
 *   qservctl quota [OPTS] set default|group NAME|user NAME [--replace] KEY=N...
 *   qservctl quota [OPTS] delete group|user NAME
 *
 * KEY is queries, scans, concurrent, result_bytes or window; N a count or
 * "none" (unset).  set changes the named fields (POST), --replace drops the
 * others (PUT).  OPTS: --czar URL (else $QSERV_HTTP_URL, else
 * https://127.0.0.1:4041), --user NAME (else $QSERV_USER) and
 * --password-file F (else $QSERV_PASSWORD): a czar admin, sent as HTTP
 * Basic.  The server's certificate is checked against the cluster CA
 * (--ca F of qservctl, or $QSERV_CA_FILE), without its host name: node
 * certificates name none.  Every request is bounded (5 s connect, 30 s in all). */
#include "ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

struct conn {
	const char *url, *user;
	char password[256];
};

static size_t collect(char *p, size_t sz, size_t n, void *arg)
{
	FILE *f = arg;

	return fwrite(p, sz, n, f);
}

/* One request: 0 and *ret (the reply object), or -1 printed. */
static int call(const struct conn *k, const char *method, const char *path, json_t *body, json_t **ret)
{
	const char *ca = getenv("QSERV_CA_FILE");
	char url[1024], *text = NULL, *data = body ? json_dumps(body, JSON_COMPACT) : NULL, userpwd[400];
	size_t tlen = 0;
	FILE *f = open_memstream(&text, &tlen);
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	CURL *c = curl_easy_init();
	long code = 0;
	CURLcode cc = CURLE_FAILED_INIT;
	json_error_t je;

	snprintf(url, sizeof(url), "%s%s", k->url, path);
	snprintf(userpwd, sizeof(userpwd), "%s:%s", k->user, k->password);
	if (c && f) {
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
		if (ca && ca[0]) {
			curl_easy_setopt(c, CURLOPT_CAINFO, ca);
			curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
		}
		if (data)
			curl_easy_setopt(c, CURLOPT_POSTFIELDS, data);
		cc = curl_easy_perform(c);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	}
	if (f)
		fclose(f);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	free(data);
	explicit_bzero(userpwd, sizeof(userpwd));
	*ret = cc == CURLE_OK && text ? json_loads(text, 0, &je) : NULL;
	if (cc != CURLE_OK)
		fprintf(stderr, "qservctl quota: %s: %s\n", url, curl_easy_strerror(cc));
	else if (!json_is_object(*ret))
		fprintf(stderr, "qservctl quota: %s: HTTP %ld, not a JSON answer\n", url, code);
	else if (code != 200 || json_integer_value(json_object_get(*ret, "success")) != 1)
		fprintf(stderr, "qservctl quota: %s: HTTP %ld: %s\n", url, code,
			json_string_value(json_object_get(*ret, "error")) ?: "?");
	else {
		free(text);
		return 0;
	}
	free(text);
	json_decref(*ret);
	*ret = NULL;
	return -1;
}

/* A limit as text: "-" when absent (unlimited). */
static void limit_str(json_t *o, const char *key, char *buf, size_t n)
{
	json_t *v = json_object_get(o, key);

	if (json_is_integer(v))
		snprintf(buf, n, "%lld", (long long)json_integer_value(v));
	else
		snprintf(buf, n, "-");
}

static void print_entry(const char *what, json_t *e)
{
	static const char *const keys[] = { "queries", "scans", "concurrent", "result_bytes", "window" };
	char v[5][24];

	for (int i = 0; i < 5; i++)
		limit_str(e, keys[i], v[i], sizeof(v[i]));
	printf("%-24s %10s %8s %10s %14s %8s\n", what, v[0], v[1], v[2], v[3], v[4]);
}

static int show(const struct conn *k, int as_json)
{
	json_t *r, *e, *u, *q;
	const char *name;
	size_t i;

	if (call(k, "GET", "/quota", NULL, &r) < 0)
		return 1;
	if (as_json) {
		json_dumpf(r, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		printf("\n");
		json_decref(r);
		return 0;
	}
	printf("window when no entry says one: %lld s\n\n", (long long)json_integer_value(json_object_get(r, "window")));
	printf("%-24s %10s %8s %10s %14s %8s\n", "ENTRY", "QUERIES", "SCANS", "CONCURRENT", "RESULT_BYTES", "WINDOW");
	print_entry("default", json_object_get(r, "default"));
	json_object_foreach(json_object_get(r, "groups"), name, e) {
		char w[100];
		snprintf(w, sizeof(w), "group %s", name);
		print_entry(w, e);
	}
	json_object_foreach(json_object_get(r, "users"), name, e) {
		char w[100];
		snprintf(w, sizeof(w), "user %s", name);
		print_entry(w, e);
	}
	printf("\n%-24s %-13s %14s %14s %10s\n", "USER", "QUOTA", "USED", "LIMIT", "RESETS_IN");
	json_array_foreach(json_object_get(r, "usage"), i, u) {
		json_object_foreach(json_object_get(u, "quotas"), name, q) {
			char l[24];
			limit_str(q, "limit", l, sizeof(l));
			printf("%-24s %-13s %14lld %14s %9llds\n", json_string_value(json_object_get(u, "user")), name,
			       (long long)json_integer_value(json_object_get(q, "used")), l,
			       (long long)json_integer_value(json_object_get(q, "resets_in_s")));
		}
	}
	json_decref(r);
	return 0;
}

/* KEY=N or KEY=none into body: 0 or -1 printed. */
static int set_field(json_t *body, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char key[32], *end;
	long long v;

	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(key))
		return fprintf(stderr, "qservctl quota set: want KEY=N, not '%s'\n", arg), -1;
	snprintf(key, sizeof(key), "%.*s", (int)(eq - arg), arg);
	if (!strcmp(eq + 1, "none") || !strcmp(eq + 1, "null"))
		return json_object_set_new(body, key, json_null());
	errno = 0;
	v = strtoll(eq + 1, &end, 10);
	if (errno || end == eq + 1 || *end || v < 0)
		return fprintf(stderr, "qservctl quota set: %s: not a count\n", arg), -1;
	return json_object_set_new(body, key, json_integer(v));
}

/* set/delete SCOPE [NAME] ...: the API path into path; the next argument's index. */
static int target(int argc, char **argv, int i, char *path, size_t n)
{
	if (i < argc && !strcmp(argv[i], "default")) {
		snprintf(path, n, "/quota/default");
		return i + 1;
	}
	if (i + 1 < argc && (!strcmp(argv[i], "group") || !strcmp(argv[i], "user"))) {
		char *esc = curl_easy_escape(NULL, argv[i + 1], 0);
		snprintf(path, n, "/quota/%s/%s", argv[i], esc ? esc : "");
		curl_free(esc);
		return i + 2;
	}
	fprintf(stderr, "qservctl quota: want default, group NAME or user NAME\n");
	return -1;
}

static int change(const struct conn *k, int argc, char **argv, int i)
{
	int del = !strcmp(argv[i], "delete"), replace = 0;
	char path[400];
	json_t *body = del ? NULL : json_object(), *r;

	if ((i = target(argc, argv, i + 1, path, sizeof(path))) < 0 || (del && !strcmp(path, "/quota/default"))) {
		json_decref(body);
		return del && i >= 0 ? fprintf(stderr, "qservctl quota: the default is changed with set\n"), 2 : 2;
	}
	for (; !del && i < argc; i++)
		if (!strcmp(argv[i], "--replace"))
			replace = 1;
		else if (set_field(body, argv[i]) < 0) {
			json_decref(body);
			return 2;
		}
	if (del && i < argc)
		return fprintf(stderr, "qservctl quota delete: unexpected '%s'\n", argv[i]), 2;
	if (call(k, del ? "DELETE" : replace ? "PUT" : "POST", path, body, &r) < 0) {
		json_decref(body);
		return 1;
	}
	json_decref(body);
	json_decref(r);
	printf("%s %s\n", del ? "deleted" : "set", path + 7);
	return 0;
}

/* The password: the first line of path, else $QSERV_PASSWORD. */
static int password(struct conn *k, const char *path)
{
	const char *env = getenv("QSERV_PASSWORD");
	FILE *f;

	if (!path) {
		snprintf(k->password, sizeof(k->password), "%s", env ? env : "");
		return 0;
	}
	if (!(f = fopen(path, "re")) || !fgets(k->password, sizeof(k->password), f)) {
		fprintf(stderr, "qservctl quota: %s: cannot read a password\n", path);
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	k->password[strcspn(k->password, "\r\n")] = 0;
	return 0;
}

int ctl_quota(int argc, char **argv)
{
	struct conn k = { .url = getenv("QSERV_HTTP_URL"), .user = getenv("QSERV_USER") };
	const char *pwfile = NULL;
	int i = 1, rc;

	for (; i + 1 < argc && argv[i][0] == '-' && strcmp(argv[i], "--json"); i += 2) {
		if (!strcmp(argv[i], "--czar"))
			k.url = argv[i + 1];
		else if (!strcmp(argv[i], "--user"))
			k.user = argv[i + 1];
		else if (!strcmp(argv[i], "--password-file"))
			pwfile = argv[i + 1];
		else
			break;
	}
	if (!k.url || !k.url[0])
		k.url = "https://127.0.0.1:4041";
	if (i >= argc || !k.user || password(&k, pwfile) < 0) {
		fprintf(stderr, "usage: qservctl quota [--czar URL] [--user NAME] [--password-file F] show [--json] |\n"
			"       set default|group NAME|user NAME [--replace] KEY=N|none... | delete group|user NAME\n"
			"  (KEY: queries, scans, concurrent, result_bytes, window; a czar admin's credentials)\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!strcmp(argv[i], "show"))
		rc = show(&k, i + 1 < argc && !strcmp(argv[i + 1], "--json"));
	else if (!strcmp(argv[i], "set") || !strcmp(argv[i], "delete"))
		rc = change(&k, argc, argv, i);
	else
		rc = (fprintf(stderr, "qservctl quota: unknown action '%s' (show, set, delete)\n", argv[i]), 2);
	explicit_bzero(k.password, sizeof(k.password));
	return rc;
}
