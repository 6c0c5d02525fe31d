/* creq.c: the request bodies of the controller's API, parsed and checked
 * without MariaDB (see creq.h).  Lenient where Qserv's loaders are (numbers
 * as strings, flags as 0/1 or booleans: qserv/common/qjson.h), strict on
 * everything that reaches SQL: names through sqlid, column types through
 * its grammar, numbers range-checked before they are narrowed. */
#include "creq.h"
#include "qserv/common/qjson.h"
#include "qserv/common/sqlid.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* name (may be NULL) into ret when it is a valid name of that kind. */
static int name(enum sqlid_kind kind, const char *field, const char *s, char ret[CREQ_NAME],
		char *err, size_t errlen)
{
	if (sqlid_check(kind, field, s, err, errlen))
		return -EINVAL;
	snprintf(ret, CREQ_NAME, "%s", s);
	return 0;
}

int creq_database(json_t *b, struct creq_database *ret, char *err, size_t errlen)
{
	memset(ret, 0, sizeof *ret);
	if (name(SQLID_DATABASE, "database", qjson_str(b, "database", NULL), ret->name, err, errlen))
		return -EINVAL;
	long long s = qjson_int(b, "num_stripes", 0), ss = qjson_int(b, "num_sub_stripes", 0);
	double ov = qjson_real(b, "overlap", -1);
	/* !(in range) also refuses a NaN */
	if (s < 1 || s > INT_MAX || ss < 1 || ss > INT_MAX || !(ov >= 0 && ov <= 10)) {
		snprintf(err, errlen, "database %s: need num_stripes >= 1, num_sub_stripes >= 1, overlap in [0, 10]",
			 ret->name);
		return -EINVAL;
	}
	ret->num_stripes = (int)s;
	ret->num_sub_stripes = (int)ss;
	ret->overlap = ov;
	ret->auto_index = qjson_int(b, "auto_build_secondary_index", 1) != 0;
	return 0;
}

/* A director_table[2] value v (Qserv's `[<database>.]<table>`): the table
 * part when the database part is absent or t's own database; NULL (err
 * set) when it names another database, which is not supported here. */
static const char *director_in_db(const char *db, const char *field, json_t *v, char *err, size_t errlen)
{
	const char *s = json_string_value(v), *dot = strchr(s, '.');
	if (!dot || strlen(s) != json_string_length(v))
		return s;
	size_t n = (size_t)(dot - s);
	if (n == strlen(db) && !strncmp(s, db, n))
		return dot + 1;
	if (n < CREQ_NAME && !sqlid_ok_n(s, n)) {
		snprintf(err, errlen, "%s: not a valid <database>.<table>", field);
		return NULL;
	}
	snprintf(err, errlen, "%s: names a table of database %.*s: the directors of a table must be tables of its"
		 " own database %s here (directors in another database of the family are not supported)", field,
		 (int)(n < CREQ_NAME ? n : 0), s, db);
	return NULL;
}

/* The optional name fields of a table body: a string ("" = unset) that is
 * a valid name, or absent. */
static int table_opt_names(json_t *b, struct creq_table *t, char *err, size_t errlen)
{
	const struct { const char *field; enum sqlid_kind kind; char *dst; const char *dflt; } opt[] = {
		{ "director_table", SQLID_TABLE, t->director_table, "" },
		{ "director_key", SQLID_COLUMN, t->director_key, "" },
		{ "latitude_key", SQLID_COLUMN, t->latitude_key, "" },
		{ "longitude_key", SQLID_COLUMN, t->longitude_key, "" },
		{ "chunk_id_key", SQLID_COLUMN, t->chunk_key, "chunkId" },
		{ "sub_chunk_id_key", SQLID_COLUMN, t->sub_chunk_key, "subChunkId" },
		{ "director_table2", SQLID_TABLE, t->director_table2, "" },
		{ "director_key2", SQLID_COLUMN, t->director_key2, "" },
		{ "flag", SQLID_COLUMN, t->flag, "" },
	};
	for (size_t i = 0; i < sizeof opt / sizeof *opt; i++) {
		json_t *v = json_object_get(b, opt[i].field);
		if (v && !json_is_string(v)) {
			snprintf(err, errlen, "%s must be a string", opt[i].field);
			return -EINVAL;
		}
		const char *n = v ? json_string_value(v) : opt[i].dflt;
		size_t len = v ? json_string_length(v) : strlen(n);
		if (v && opt[i].kind == SQLID_TABLE) {
			const char *tn = director_in_db(t->db, opt[i].field, v, err, errlen);
			if (!tn)
				return -EINVAL;
			len -= (size_t)(tn - n);
			n = tn;
		}
		if (*n && sqlid_check_n(opt[i].kind, opt[i].field, n, len, err, errlen))
			return -EINVAL;
		snprintf(opt[i].dst, CREQ_NAME, "%s", n);
	}
	return 0;
}

/* Every schema[] entry is {name, type} with a valid name and type. */
static int table_schema(json_t *schema, char *err, size_t errlen)
{
	json_t *col;
	size_t i;
	if (!json_is_array(schema) || !json_array_size(schema)) {
		snprintf(err, errlen, "schema must be a non-empty array of {name, type}");
		return -EINVAL;
	}
	json_array_foreach(schema, i, col) {
		char field[64], tfield[160], canon[SQLID_TYPE_MAX * 2 + 16];
		json_t *n = json_object_get(col, "name"), *t = json_object_get(col, "type");
		snprintf(field, sizeof field, "schema[%zu].name", i);
		if (!json_is_string(n) || !json_is_string(t)) {
			snprintf(err, errlen, "schema[%zu] must be an object {\"name\": string, \"type\": string}", i);
			return -EINVAL;
		}
		if (sqlid_check_n(SQLID_COLUMN, field, json_string_value(n), json_string_length(n), err, errlen))
			return -EINVAL;
		snprintf(tfield, sizeof tfield, "schema[%zu].type (column %s)", i, json_string_value(n));
		if (strlen(json_string_value(t)) != json_string_length(t)) {
			snprintf(err, errlen, "%s: contains a NUL byte", tfield);
			return -EINVAL;
		}
		if (sqlid_type(tfield, json_string_value(t), canon, sizeof canon, err, errlen))
			return -EINVAL;
	}
	return 0;
}

static bool schema_has(json_t *schema, const char *col)
{
	json_t *c;
	size_t j;
	json_array_foreach(schema, j, c)
		if (!strcmp(qjson_str(c, "name", ""), col))
			return true;
	return false;
}

/* The columns the partitioned layout relies on are in the schema, and the
 * chunk and director index table names fit in 64 bytes. */
static int table_layout(const struct creq_table *t, char *err, size_t errlen)
{
	bool part = t->partitioned;
	const char *need[5] = { part ? t->director_key : "", part ? t->chunk_key : "",
				part ? t->sub_chunk_key : "", t->latitude_key, t->longitude_key };
	const char *what[5] = { "director_key", "chunk_id_key", "sub_chunk_id_key", "latitude_key", "longitude_key" };
	for (int i = 0; i < 5; i++) {
		if (!need[i][0] && part && i < 3) {
			snprintf(err, errlen, "partitioned table %s: %s is required", t->table, what[i]);
			return -EINVAL;
		}
		if (need[i][0] && !schema_has(t->schema, need[i])) {
			snprintf(err, errlen, "%s: %s is not a column of table %s", what[i], need[i], t->table);
			return -EINVAL;
		}
	}
	if (t->director && (!t->latitude_key[0] || !t->longitude_key[0])) {
		snprintf(err, errlen, "director table %s: latitude_key and longitude_key are required", t->table);
		return -EINVAL;
	}
	if (part && strlen(t->table) + strlen("FullOverlap_1234567890") > 64) {
		snprintf(err, errlen, "table: a partitioned table's name is at most 42 bytes (its chunk tables"
			 " are named %sFullOverlap_<chunk>)", t->table);
		return -EINVAL;
	}
	if (t->director && strlen(t->db) + 2 + strlen(t->table) > 64) {
		snprintf(err, errlen, "table: the director index name %s__%s would be longer than 64 bytes",
			 t->db, t->table);
		return -EINVAL;
	}
	return 0;
}

/* A ref-match table's own rules (ref-match.rst): director_table2 makes it
 * one; then both directors, both keys and the flags column are required,
 * the three columns distinct and in the schema, 0 < ang_sep. */
static int table_match(json_t *b, struct creq_table *t, char *err, size_t errlen)
{
	t->match = t->partitioned && t->director_table2[0];
	if (!t->match) {
		if (t->director_table2[0] || t->director_key2[0] || t->flag[0] || json_object_get(b, "ang_sep")) {
			snprintf(err, errlen, "table %s: director_table2, director_key2, flag and ang_sep are for"
				 " partitioned ref-match tables only", t->table);
			return -EINVAL;
		}
		return 0;
	}
	const char *need[4] = { t->director_table, t->director_key, t->director_key2, t->flag };
	const char *what[4] = { "director_table", "director_key", "director_key2", "flag" };
	for (int i = 0; i < 4; i++) {
		if (!need[i][0]) {
			snprintf(err, errlen, "ref-match table %s: %s is required", t->table, what[i]);
			return -EINVAL;
		}
		if (i && !schema_has(t->schema, need[i])) {
			snprintf(err, errlen, "%s: %s is not a column of table %s", what[i], need[i], t->table);
			return -EINVAL;
		}
	}
	if (!strcmp(t->director_key, t->director_key2) || !strcmp(t->director_key, t->flag) ||
	    !strcmp(t->director_key2, t->flag)) {
		snprintf(err, errlen, "ref-match table %s: director_key, director_key2 and flag must be distinct"
			 " columns", t->table);
		return -EINVAL;
	}
	if (!strcmp(t->director_table2, t->table) || !strcmp(t->director_table, t->table)) {
		snprintf(err, errlen, "ref-match table %s: its directors must be other tables", t->table);
		return -EINVAL;
	}
	t->ang_sep = qjson_real(b, "ang_sep", 0);
	if (!(t->ang_sep > 0 && t->ang_sep <= 10)) {
		snprintf(err, errlen, "ref-match table %s: ang_sep must be a number of degrees > 0 (and at most the"
			 " database's overlap)", t->table);
		return -EINVAL;
	}
	return 0;
}

int creq_table(json_t *b, struct creq_table *ret, char *err, size_t errlen)
{
	memset(ret, 0, sizeof *ret);
	if (name(SQLID_DATABASE, "database", qjson_str(b, "database", NULL), ret->db, err, errlen) ||
	    name(SQLID_TABLE, "table", qjson_str(b, "table", NULL), ret->table, err, errlen) ||
	    table_opt_names(b, ret, err, errlen))
		return -EINVAL;
	ret->schema = json_object_get(b, "schema");
	if (table_schema(ret->schema, err, errlen))
		return -EINVAL;
	ret->partitioned = qjson_int(b, "is_partitioned", 0) != 0;
	ret->director = ret->partitioned && (!ret->director_table[0] || !strcmp(ret->director_table, ret->table));
	if (table_match(b, ret, err, errlen))
		return -EINVAL;
	if (ret->match)   /* ignored for ref-match tables, as in Qserv */
		ret->latitude_key[0] = ret->longitude_key[0] = '\0';
	if (table_layout(ret, err, errlen))
		return -EINVAL;
	if (!ret->partitioned)
		ret->chunk_key[0] = ret->sub_chunk_key[0] = '\0';
	return 0;
}

int creq_trans(json_t *b, struct creq_trans *ret, char *err, size_t errlen)
{
	memset(ret, 0, sizeof *ret);
	if (name(SQLID_DATABASE, "database", qjson_str(b, "database", NULL), ret->db, err, errlen))
		return -EINVAL;
	ret->context = json_object_get(b, "context");
	return 0;
}

int creq_target(json_t *b, struct creq_target *ret, char *err, size_t errlen)
{
	memset(ret, 0, sizeof *ret);
	ret->trans_id = qjson_int(b, "transaction_id", 0);
	if (ret->trans_id > 0)
		return 0;
	ret->trans_id = 0;
	const char *db = qjson_str(b, "database", NULL);
	if (!db) {
		snprintf(err, errlen, "database or transaction_id is required");
		return -EINVAL;
	}
	return name(SQLID_DATABASE, "database", db, ret->db, err, errlen);
}

int creq_chunk(json_t *b, struct creq_chunk *ret, char *err, size_t errlen)
{
	memset(ret, 0, sizeof *ret);
	if (creq_target(b, &ret->target, err, errlen))
		return -EINVAL;
	if (!json_object_get(b, "chunk")) {
		snprintf(err, errlen, "chunk is required");
		return -EINVAL;
	}
	long long c = qjson_int(b, "chunk", -1);
	ret->chunk = c < INT32_MIN || c > INT32_MAX ? -1 : (int32_t)c;
	return 0;
}

int creq_chunks(json_t *b, struct creq_target *ret, int32_t **ret_chunks, size_t *ret_n,
		char *err, size_t errlen)
{
	json_t *chunks = json_object_get(b, "chunks"), *v;
	size_t i, n = json_array_size(chunks);
	*ret_chunks = NULL;
	*ret_n = 0;
	if (creq_target(b, ret, err, errlen))
		return -EINVAL;
	if (!n)
		return 0;
	int32_t *a = calloc(n, sizeof *a);
	if (!a) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	json_array_foreach(chunks, i, v) {
		long long c = json_is_integer(v) ? json_integer_value(v) :
			      json_is_string(v) ? strtoll(json_string_value(v), NULL, 10) : -1;
		a[i] = c < INT32_MIN || c > INT32_MAX ? -1 : (int32_t)c;
	}
	*ret_chunks = a;
	*ret_n = n;
	return 0;
}

int creq_rebuild(json_t *b, struct creq_rebuild *ret, char *err, size_t errlen)
{
	memset(ret, 0, sizeof *ret);
	if (creq_target(b, &ret->target, err, errlen))
		return -EINVAL;
	const char *dt = qjson_str(b, "director_table", NULL);
	if (dt && *dt && name(SQLID_TABLE, "director_table", dt, ret->director_table, err, errlen))
		return -EINVAL;
	return 0;
}

int creq_index(json_t *b, struct creq_index *ret, char *err, size_t errlen)
{
	json_t *cols = json_object_get(b, "columns"), *c;
	size_t i;
	memset(ret, 0, sizeof *ret);
	if (name(SQLID_DATABASE, "database", qjson_str(b, "database", NULL), ret->db, err, errlen) ||
	    name(SQLID_TABLE, "table", qjson_str(b, "table", NULL), ret->table, err, errlen) ||
	    name(SQLID_INDEX, "index", qjson_str(b, "index", NULL), ret->index, err, errlen))
		return -EINVAL;
	if (!json_is_array(cols) || !json_array_size(cols)) {
		snprintf(err, errlen, "columns must be a non-empty array of {column, length, ascending}");
		return -EINVAL;
	}
	json_array_foreach(cols, i, c) {
		char field[48];
		snprintf(field, sizeof field, "columns[%zu].column", i);
		if (sqlid_check(SQLID_COLUMN, field, qjson_str(c, "column", NULL), err, errlen))
			return -EINVAL;
	}
	return 0;
}

int creq_index_drop(json_t *b, struct creq_index *ret, bool *ret_overlap, char *err, size_t errlen)
{
	json_t *ov = json_object_get(b, "overlap");
	memset(ret, 0, sizeof *ret);
	if (name(SQLID_DATABASE, "database", qjson_str(b, "database", NULL), ret->db, err, errlen) ||
	    name(SQLID_TABLE, "table", qjson_str(b, "table", NULL), ret->table, err, errlen) ||
	    name(SQLID_INDEX, "index", qjson_str(b, "index", NULL), ret->index, err, errlen))
		return -EINVAL;
	if (ov && !json_is_boolean(ov) && !json_is_integer(ov)) {
		snprintf(err, errlen, "overlap: must be 0 or 1");
		return -EINVAL;
	}
	*ret_overlap = json_is_true(ov) || (json_is_integer(ov) && json_integer_value(ov) != 0);
	return 0;
}

int creq_publish(json_t *b, bool *ret_publish, char *err, size_t errlen)
{
	json_t *p = json_object_get(b, "publish");
	*ret_publish = true;
	if (p && !json_is_boolean(p)) {
		snprintf(err, errlen, "publish: must be true or false");
		return -EINVAL;
	}
	*ret_publish = !json_is_false(p);
	return 0;
}

#define ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

bool creq_worker_id_ok(const char *id)
{
	size_t n = strlen(id);
	return n > 0 && n <= 64 && strspn(id, ALNUM "_-.") == n;
}

bool creq_zone_ok(const char *zone)
{
	return !zone[0] || creq_worker_id_ok(zone);
}

int creq_worker_check(const char *id, const char *host, int ingest_port, int query_port,
		      char *err, size_t errlen)
{
	size_t h = strlen(host);
	if (!creq_worker_id_ok(id)) {
		snprintf(err, errlen, "id: a worker id is 1 to 64 letters, digits, '_', '-' or '.'");
		return -EINVAL;
	}
	if (h == 0 || h > 253 || strspn(host, ALNUM ".-:") != h) {
		snprintf(err, errlen, "host: must be a host name or an IP address");
		return -EINVAL;
	}
	if (ingest_port <= 0 || ingest_port > 65535 || query_port < 0 || query_port > 65535) {
		snprintf(err, errlen, "ingest_port, query_port: must be port numbers");
		return -EINVAL;
	}
	return 0;
}

int creq_worker(json_t *b, struct creq_worker *ret, char *err, size_t errlen)
{
	const char *id = qjson_str(b, "id", ""), *host = qjson_str(b, "host", ""), *zone = qjson_str(b, "zone", "");
	long long ip = qjson_int(b, "ingest_port", 25004), qp = qjson_int(b, "query_port", 0);
	memset(ret, 0, sizeof *ret);
	/* too long is refused, never cut to something valid */
	if (strlen(id) >= sizeof ret->id || strlen(host) >= sizeof ret->host) {
		snprintf(err, errlen, "%s: too long", strlen(id) >= sizeof ret->id ? "id" : "host");
		return -EINVAL;
	}
	if (ip < INT_MIN || ip > INT_MAX || qp < INT_MIN || qp > INT_MAX)
		ip = qp = -1;   /* refused below, never narrowed to a valid port */
	if (creq_worker_check(id, host, (int)ip, (int)qp, err, errlen))
		return -EINVAL;
	json_t *zv = json_object_get(b, "zone");
	if (strlen(zone) >= sizeof ret->zone || !creq_zone_ok(zone) || (zv && !json_is_string(zv)) ||
	    (zv && json_string_length(zv) != strlen(zone))) {
		snprintf(err, errlen, "zone: a failure zone is 1 to 64 letters, digits, '_', '-' or '.' (or \"\": none)");
		return -EINVAL;
	}
	snprintf(ret->zone, sizeof ret->zone, "%s", zone);
	snprintf(ret->id, sizeof ret->id, "%s", id);
	snprintf(ret->host, sizeof ret->host, "%s", host);
	ret->ingest_port = (int)ip;
	ret->query_port = (int)qp;
	return 0;
}

int creq_level(json_t *b, struct creq_level *ret, char *err, size_t errlen)
{
	memset(ret, 0, sizeof *ret);
	json_t *l = json_object_get(b, "level");
	long long v = json_is_integer(l) ? json_integer_value(l) : -1;
	if (v < 1 || v > CREQ_MAX_LEVEL) {
		snprintf(err, errlen, "level: must be an integer from 1 to %d", CREQ_MAX_LEVEL);
		return -EINVAL;
	}
	ret->level = (int)v;
	json_t *d = json_object_get(b, "database");
	if (!d || (json_is_string(d) && !json_string_length(d)))
		return 0;
	if (!json_is_string(d) || strlen(json_string_value(d)) != json_string_length(d)) {
		snprintf(err, errlen, "database: must be a database name");
		return -EINVAL;
	}
	return name(SQLID_DATABASE, "database", json_string_value(d), ret->db, err, errlen);
}

/* {"worker": ID, flag: true|false}: maintenance, drain. */
static int worker_flag(json_t *b, const char *flag, struct creq_maint *ret, char *err, size_t errlen)
{
	json_t *w = json_object_get(b, "worker"), *on = json_object_get(b, flag);
	memset(ret, 0, sizeof *ret);
	if (!json_is_string(w) || strlen(json_string_value(w)) != json_string_length(w) ||
	    !creq_worker_id_ok(json_string_value(w))) {
		snprintf(err, errlen, "worker: a worker id is 1 to 64 letters, digits, '_', '-' or '.'");
		return -EINVAL;
	}
	if (!json_is_boolean(on)) {
		snprintf(err, errlen, "%s: must be true or false", flag);
		return -EINVAL;
	}
	snprintf(ret->worker, sizeof ret->worker, "%s", json_string_value(w));
	ret->on = json_is_true(on);
	return 0;
}

int creq_maint(json_t *b, struct creq_maint *ret, char *err, size_t errlen)
{
	return worker_flag(b, "maintenance", ret, err, errlen);
}

int creq_drain(json_t *b, struct creq_maint *ret, char *err, size_t errlen)
{
	return worker_flag(b, "drain", ret, err, errlen);
}

int creq_health(json_t *b, struct creq_maint *ret, char *err, size_t errlen)
{
	return worker_flag(b, "up", ret, err, errlen);
}

int creq_evict_after(json_t *b, int *ret_seconds, char *err, size_t errlen)
{
	json_t *s = json_object_get(b, "seconds");
	long long v = json_is_integer(s) ? json_integer_value(s) : -1;
	*ret_seconds = 0;
	if (v < 1 || v > CREQ_MAX_EVICT_AFTER) {
		snprintf(err, errlen, "seconds: must be an integer from 1 to %d", CREQ_MAX_EVICT_AFTER);
		return -EINVAL;
	}
	*ret_seconds = (int)v;
	return 0;
}

int creq_verify_interval(json_t *b, int *ret_seconds, char *err, size_t errlen)
{
	json_t *s = json_object_get(b, "seconds");
	long long v = json_is_integer(s) ? json_integer_value(s) : -1;
	*ret_seconds = 0;
	if (v < 0 || v > CREQ_MAX_VERIFY_INTERVAL) {
		snprintf(err, errlen, "seconds: must be an integer from 0 (no periodic pass) to %d",
			 CREQ_MAX_VERIFY_INTERVAL);
		return -EINVAL;
	}
	*ret_seconds = (int)v;
	return 0;
}

/* Qserv's per-database ingest configuration keys (PUT /ingest/config):
 * name, numeric or string, and its default (GET reports it when unset). */
static const struct creq_config_key config_keys[] = {
	{ "SSL_VERIFYHOST", true, "2" }, { "SSL_VERIFYPEER", true, "1" },
	{ "CAPATH", false, "/etc/ssl/certs" }, { "CAINFO", false, "/etc/ssl/certs/ca-certificates.crt" },
	{ "CAINFO_VAL", false, "" }, { "PROXY_SSL_VERIFYHOST", true, "2" },
	{ "PROXY_SSL_VERIFYPEER", true, "1" }, { "PROXY_CAPATH", false, "" }, { "PROXY_CAINFO", false, "" },
	{ "PROXY_CAINFO_VAL", false, "" }, { "CURLOPT_PROXY", false, "" }, { "CURLOPT_NOPROXY", false, "" },
	{ "CURLOPT_HTTPPROXYTUNNEL", true, "0" }, { "CONNECTTIMEOUT", true, "0" }, { "TIMEOUT", true, "0" },
	{ "LOW_SPEED_LIMIT", true, "0" }, { "LOW_SPEED_TIME", true, "0" }, { "ASYNC_PROC_LIMIT", true, "0" },
};

const struct creq_config_key *creq_config_keys(size_t *ret_n)
{
	*ret_n = sizeof config_keys / sizeof *config_keys;
	return config_keys;
}

/* One configuration value v of key k: a number 0..2^31-1 (a JSON integer
 * or a string of digits, as loaders send them) or a string of at most
 * CREQ_CONFIG_VALUE bytes without NUL, into ret (a JSON text). */
static int config_value(const struct creq_config_key *k, json_t *v, char *ret, size_t cap, char *err,
			size_t errlen)
{
	if (k->numeric) {
		long long n = -1;
		const char *s = json_string_value(v);
		if (json_is_integer(v))
			n = json_integer_value(v);
		else if (s && *s && strlen(s) == json_string_length(v) && strlen(s) <= 10 &&
			 strspn(s, "0123456789") == strlen(s))
			n = strtoll(s, NULL, 10);
		if (n < 0 || n > INT_MAX) {
			snprintf(err, errlen, "%s: must be a number 0 to %d", k->name, INT_MAX);
			return -EINVAL;
		}
		snprintf(ret, cap, "%lld", n);
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) > CREQ_CONFIG_VALUE ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		snprintf(err, errlen, "%s: must be a string of at most %d bytes", k->name, CREQ_CONFIG_VALUE);
		return -EINVAL;
	}
	snprintf(ret, cap, "%s", json_string_value(v));
	return 0;
}

int creq_config(json_t *b, struct creq_config *ret, char *err, size_t errlen)
{
	memset(ret, 0, sizeof *ret);
	if (name(SQLID_DATABASE, "database", qjson_str(b, "database", NULL), ret->db, err, errlen))
		return -EINVAL;
	for (size_t i = 0; i < sizeof config_keys / sizeof *config_keys; i++) {
		json_t *v = json_object_get(b, config_keys[i].name);
		if (!v)
			continue;
		ret->set[i] = true;
		if (config_value(&config_keys[i], v, ret->value[i], sizeof ret->value[i], err, errlen))
			return -EINVAL;
	}
	return 0;
}

/* digits only, 1..max */
static int id_arg(const char *s, long long max, long long *ret)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 10 || strspn(s, "0123456789") != n)
		return -EINVAL;
	long long v = strtoll(s, NULL, 10);
	if (v < 1 || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

int creq_contrib_id(const char *s, long long *ret, char *err, size_t errlen)
{
	if (id_arg(s, 0xffffffffLL, ret)) {
		snprintf(err, errlen, "id: must be a contribution number (1 to 4294967295)");
		return -EINVAL;
	}
	return 0;
}

int creq_trans_id(const char *s, long long *ret, char *err, size_t errlen)
{
	if (id_arg(s, 0x7fffffffLL, ret)) {
		snprintf(err, errlen, "id: must be a transaction number (1 to 2147483647)");
		return -EINVAL;
	}
	return 0;
}

/* overlap_selector (absent: CHUNK_AND_OVERLAP) */
static int overlap_sel(json_t *b, enum creq_overlap *ret, char *err, size_t errlen)
{
	json_t *v = json_object_get(b, "overlap_selector");
	const char *s = json_string_value(v);
	*ret = CREQ_CHUNK_AND_OVERLAP;
	if (!v)
		return 0;
	if (s && !strcmp(s, "CHUNK"))
		*ret = CREQ_CHUNK;
	else if (s && !strcmp(s, "OVERLAP"))
		*ret = CREQ_OVERLAP;
	else if (!s || strcmp(s, "CHUNK_AND_OVERLAP")) {
		snprintf(err, errlen, "overlap_selector must be CHUNK, OVERLAP or CHUNK_AND_OVERLAP");
		return -EINVAL;
	}
	return 0;
}

int creq_stats(json_t *b, struct creq_stats *ret, char *err, size_t errlen)
{
	memset(ret, 0, sizeof *ret);
	if (name(SQLID_DATABASE, "database", qjson_str(b, "database", NULL), ret->db, err, errlen) ||
	    name(SQLID_TABLE, "table", qjson_str(b, "table", NULL), ret->table, err, errlen) ||
	    overlap_sel(b, &ret->overlap, err, errlen))
		return -EINVAL;
	ret->force_rescan = qjson_int(b, "force_rescan", 0) != 0;
	ret->deploy = qjson_int(b, "row_counters_deploy_at_qserv", 0) != 0;
	json_t *v = json_object_get(b, "row_counters_state_update_policy");
	const char *p = json_string_value(v);
	ret->policy = CREQ_POLICY_DISABLED;
	if (p && !strcmp(p, "ENABLED"))
		ret->policy = CREQ_POLICY_ENABLED;
	else if (p && !strcmp(p, "FORCED"))
		ret->policy = CREQ_POLICY_FORCED;
	else if (v && (!p || strcmp(p, "DISABLED"))) {
		snprintf(err, errlen, "row_counters_state_update_policy must be DISABLED, ENABLED or FORCED");
		return -EINVAL;
	}
	return 0;
}

int creq_stats_delete(json_t *b, enum creq_overlap *ret_overlap, bool *ret_qserv_only, char *err, size_t errlen)
{
	if (overlap_sel(b, ret_overlap, err, errlen))
		return -EINVAL;
	*ret_qserv_only = qjson_int(b, "qserv_only", 0) != 0;
	return 0;
}

int creq_publish_counters(json_t *b, bool *ret_deploy, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	*ret_deploy = qjson_int(b, "row_counters_deploy_at_qserv", 0) != 0;
	return 0;
}
