/* cconfig.c: Qserv's per-database ingest configuration (GET/PUT
 * /ingest/config): every key Qserv has, stored in
 * qservMeta.ingest_config when set, Qserv's default otherwise; the keys
 * that mean something here (TIMEOUT, ASYNC_PROC_LIMIT) are applied by the
 * workers (POST /worker/config), at every PUT to all of them and when a
 * worker joins (cjoin.c, cconfig_apply); the others are stored and
 * reported only (docs/ingest.md). */
#include "controller.h"
#include "creq.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The body of POST /worker/config: the keys the workers apply, from a
 * database's configuration as cconfig_get gives it. */
static json_t *worker_body(json_t *conf)
{
	return json_pack("{s:O, s:O, s:O}", "database", json_object_get(conf, "database"), "TIMEOUT",
			 json_object_get(conf, "TIMEOUT"), "ASYNC_PROC_LIMIT", json_object_get(conf, "ASYNC_PROC_LIMIT"));
}

/* The ingest configuration of db: every Qserv key, the value set or
 * Qserv's default (numbers as numbers), beside "database". */
int cconfig_get(MYSQL *m, const char *db, json_t **out, char *err, size_t errlen)
{
	size_t n;
	const struct creq_config_key *k = creq_config_keys(&n);
	json_t *o = json_pack("{s:s}", "database", db);
	for (size_t i = 0; i < n; i++)
		json_object_set_new(o, k[i].name, k[i].numeric ? json_integer(atoll(k[i].dflt)) : json_string(k[i].dflt));
	MYSQL_RES *res = qsql_query(m, err, errlen, "SELECT param, value FROM qservMeta.ingest_config WHERE db='%s'",
				    db);
	MYSQL_ROW row;
	if (!res) {
		json_decref(o);
		return -EIO;
	}
	while ((row = mysql_fetch_row(res)))
		for (size_t i = 0; i < n; i++)
			if (!strcmp(row[0], k[i].name))
				json_object_set_new(o, k[i].name, k[i].numeric ? json_integer(atoll(row[1]))
									     : json_string(row[1]));
	mysql_free_result(res);
	*out = o;
	return 0;
}

/* PUT /ingest/config: the keys the body names, stored (creq_config
 * checked them; values go in as escaped literals), then TIMEOUT and
 * ASYNC_PROC_LIMIT sent to every worker (POST /worker/config), which
 * applies them; a worker that misses them fails the request (send it
 * again). */
int cconfig_put(MYSQL *m, json_t *b, json_t **out, char *err, size_t errlen)
{
	struct cdb d;
	size_t n;
	const struct creq_config_key *k = creq_config_keys(&n);
	struct creq_config *q = malloc(sizeof *q);   /* ~1 MB: not on a thread's stack */
	int r = q ? creq_config(b, q, err, errlen) : -ENOMEM;
	if (r == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (!r)
		r = cmeta_db(m, q->db, &d, err, errlen);
	for (size_t i = 0; !r && i < n; i++) {
		if (!q->set[i])
			continue;
		char *v = qsql_quote(m, q->value[i]);
		if (!v || qsql_exec(m, err, errlen, "REPLACE INTO qservMeta.ingest_config VALUES ('%s', '%s', '%s')",
				    q->db, k[i].name, v))
			r = -EIO;
		free(v);
	}
	if (!r)
		r = cconfig_get(m, q->db, out, err, errlen);
	free(q);
	if (!r) {
		json_t *body = worker_body(*out);
		r = ctl_all_workers(m, "POST", "config", body, err, errlen);
		json_decref(body);
		if (r) {
			json_decref(*out);
			*out = NULL;
		}
	}
	return r;
}

int cconfig_apply(const struct cworker *w, MYSQL *m, const char *db, char *err, size_t errlen)
{
	long long n = 0;
	json_t *conf = NULL;
	if (qsql_int(m, &n, err, errlen, "SELECT COUNT(*) FROM qservMeta.ingest_config WHERE db='%s'", db))
		return -EIO;
	if (!n)
		return 0;   /* nothing set: the worker's defaults are Qserv's */
	int r = cconfig_get(m, db, &conf, err, errlen);
	json_t *body = r ? NULL : worker_body(conf);
	if (!r)
		r = body ? ctl_worker_call(w, "POST", "config", body, NULL, err, errlen) : -ENOMEM;
	json_decref(body);
	json_decref(conf);
	return r;
}
