/* http_async.c: the HTTP frontend's /query-async routes (see http.h).
 *
 * Each is the SQL port's statement for it, run through http_run as the
 * caller (so its rules hold unchanged: owner-only results and CANCEL,
 * admins may act on every query): POST /query-async is SUBMIT, GET
 * /query-async/result/:id is SELECT * FROM qserv_result(id), DELETE
 * /query-async/result/:id is CALL qserv_result_delete(id), DELETE
 * /query-async/:id is CANCEL id.  GET /query-async/status/:id reads the
 * query's history row (async.h) on the czar's admin connection and answers
 * it only to its user or an admin user; another user's query is reported
 * as unknown, as a missing one. */
#include "http_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mariadb/mysql.h>

#include "czar.h"

/* The decimal query id of s (1..19 digits): 0 and *ret, else -EINVAL. */
static int parse_id(const char *s, long long *ret)
{
	size_t n = strspn(s, "0123456789");
	char *end;

	if (n == 0 || n > 18 || s[n])
		return -EINVAL;
	*ret = strtoll(s, &end, 10);
	return *ret > 0 ? 0 : -EINVAL;
}

static enum MHD_Result submit(struct czar *cz, struct MHD_Connection *c, const struct http_who *who, json_t *body)
{
	const char *sql = NULL, *db = NULL;
	struct http_answer a;
	enum MHD_Result ret;
	json_t *id;
	char *stmt;
	int rc;

	if (json_unpack(body, "{s:s,s?s}", "query", &sql, "database", &db) < 0)
		return http_fail(c, MHD_HTTP_OK, NULL, "The request body needs a string 'query' (and optionally a "
				 "string 'database').");
	if (http_check_version(c, body, &ret) < 0)
		return ret;
	if (asprintf(&stmt, "SUBMIT %s", sql) < 0)
		return MHD_NO;
	rc = http_run(cz, who, db, stmt, strlen(stmt), HTTP_BIN_HEX, &a);
	free(stmt);
	if (rc < 0)
		return http_result_reply(c, rc, &a);
	id = json_array_get(json_array_get(a.rows, 0), 0);
	ret = json_is_string(id) ? http_reply(c, MHD_HTTP_OK, json_pack("{s:I}", "queryId",
									 (json_int_t)strtoll(json_string_value(id), NULL, 10)))
				 : http_fail(c, MHD_HTTP_OK, NULL, "SUBMIT answered no query id");
	json_decref(a.schema);
	json_decref(a.rows);
	return ret;
}

static json_int_t num(const char *v)
{
	return v ? (json_int_t)strtoll(v, NULL, 10) : 0;
}

/* GET /query-async/status/:id from the query's history row. */
static enum MHD_Result status(struct czar *cz, struct MHD_Connection *c, const struct http_who *who, long long id)
{
	struct backend_conn *bc;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	char sql[400], err[256];
	json_t *st = NULL;

	if (!(bc = backend_get(cz->backend, err, sizeof(err))))
		return http_fail(c, MHD_HTTP_OK, NULL, "czar history: %s", err);
	snprintf(sql, sizeof(sql), "SELECT USER, STATUS, CHUNKS, CHUNKS_COMP, UNIX_TIMESTAMP(SUBMITTED), "
		 "UNIX_TIMESTAMP(UPDATED), QUERY, ERROR, BYTES, ROWS_COLLECTED, `ROWS` "
		 "FROM qservCzar.queries WHERE CZAR_ID = %d AND ID = %lld", cz->port, id);
	if (mysql_query(bc->my, sql) != 0 || !(res = mysql_store_result(bc->my))) {
		snprintf(err, sizeof(err), "czar history: %s", mysql_error(bc->my));
		backend_put(cz->backend, bc, mysql_errno(bc->my) >= 2000);
		return http_fail(c, MHD_HTTP_OK, NULL, "%s", err);
	}
	row = mysql_fetch_row(res);
	/* Qserv's fields up to API version 54; one czar serves 4040 and this
	 * frontend, so czarType is "http" as Qserv's frontend czar reports */
	if (row && row[0] && row[1] && (who->admin || !strcmp(row[0], who->user)))
		st = json_pack("{s:I,s:s,s:s,s:s,s:i,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "queryId", (json_int_t)id,
			       "query", row[6] ? row[6] : "", "status", row[1], "error", row[7] ? row[7] : "",
			       "czarId", cz->port, "czarType", "http", "totalChunks", num(row[2]),
			       "completedChunks", num(row[3]), "collectedBytes", num(row[8]), "collectedRows", num(row[9]),
			       "finalRows", num(row[10]), "queryBeginEpoch", num(row[4]), "lastUpdateEpoch", num(row[5]));
	mysql_free_result(res);
	backend_put(cz->backend, bc, 0);
	if (!st)
		return http_fail(c, MHD_HTTP_OK, NULL, "failed to obtain info for queryId=%lld: unknown query", id);
	return http_reply(c, MHD_HTTP_OK, json_pack("{s:o}", "status", st));
}

/* A statement about query id whose answer is {"success": 1} or Qserv's
 * error (result delete, cancel), or the result itself (enc). */
static enum MHD_Result about(struct czar *cz, struct MHD_Connection *c, const struct http_who *who, const char *fmt,
			     long long id, int result, enum http_binenc enc)
{
	struct http_answer a;
	char sql[100];
	int rc;

	snprintf(sql, sizeof(sql), fmt, id);
	rc = http_run(cz, who, NULL, sql, strlen(sql), enc, &a);
	if (rc == 0 && !result) {
		json_decref(a.schema);
		json_decref(a.rows);
		return http_reply(c, MHD_HTTP_OK, json_object());
	}
	return http_result_reply(c, rc, &a);
}

enum MHD_Result http_async_route(struct czar *cz, struct MHD_Connection *c, const char *url, const char *method,
				 const struct http_who *who, json_t *body)
{
	static const char pre[] = "/query-async/", st[] = "status/", res[] = "result/";
	const char *rest = url + sizeof(pre) - 1;
	enum MHD_Result ret;
	enum http_binenc enc;
	long long id;

	if (!strcmp(url, "/query-async") && !strcmp(method, "POST"))
		return submit(cz, c, who, body);
	if (strncmp(url, pre, sizeof(pre) - 1) != 0)
		return http_fail(c, MHD_HTTP_NOT_FOUND, NULL, "No such service: %s %s", method, url);
	if (!strcmp(method, "GET") || !strcmp(method, "DELETE"))
		if (http_check_version(c, NULL, &ret) < 0)
			return ret;
	if (!strncmp(rest, st, sizeof(st) - 1) && parse_id(rest + sizeof(st) - 1, &id) == 0 && !strcmp(method, "GET"))
		return status(cz, c, who, id);
	if (!strncmp(rest, res, sizeof(res) - 1) && parse_id(rest + sizeof(res) - 1, &id) == 0) {
		if (!strcmp(method, "DELETE"))
			return about(cz, c, who, "CALL qserv_result_delete(%lld)", id, 0, HTTP_BIN_HEX);
		if (strcmp(method, "GET"))
			return http_fail(c, MHD_HTTP_METHOD_NOT_ALLOWED, NULL, "Method %s not allowed here", method);
		if (http_binenc(MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "binary_encoding"), &enc) < 0)
			return http_fail(c, MHD_HTTP_OK, NULL, "binary_encoding must be one of hex, b64, array.");
		return about(cz, c, who, "SELECT * FROM qserv_result(%lld)", id, 1, enc);
	}
	if (parse_id(rest, &id) == 0 && !strcmp(method, "DELETE"))
		return about(cz, c, who, "CANCEL %lld", id, 0, HTTP_BIN_HEX);
	return http_fail(c, MHD_HTTP_NOT_FOUND, NULL, "No such service: %s %s", method, url);
}
