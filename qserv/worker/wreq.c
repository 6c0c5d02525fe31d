/* wreq.c: the request bodies of the worker's API, parsed and checked
 * without MariaDB (see wreq.h).  Lenient where Qserv's loaders are
 * (numbers as strings, flags as 0/1 or booleans), strict on everything
 * that reaches SQL or a file name: names through sqlid (a NUL inside a
 * JSON string is refused, never cut off), column types through its
 * grammar, URLs by their scheme and bytes, numbers range-checked before
 * they are narrowed. */
#include "wreq.h"
#include "qserv/common/sqlid.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static long long jint(json_t *o, const char *k, long long dflt)
{
	json_t *v = json_object_get(o, k);
	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_string(v) && *json_string_value(v))
		return strtoll(json_string_value(v), NULL, 10);
	if (json_is_boolean(v))
		return json_is_true(v);
	return dflt;
}

static bool jbool(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_true(v) || (json_is_integer(v) && json_integer_value(v) != 0) ||
	       (json_is_string(v) && atoi(json_string_value(v)) != 0);
}

static int32_t jint32(json_t *o, const char *k)
{
	long long v = jint(o, k, -1);
	return v < INT32_MIN || v > INT32_MAX ? -1 : (int32_t)v;
}

/* Field k of o, a string that is a name of that kind, into ret; absent or
 * "" is "<k> is required" unless dflt (then ret = dflt, unchecked). */
static int name(json_t *o, const char *k, enum sqlid_kind kind, const char *dflt, char ret[WREQ_NAME],
		char *err, size_t errlen)
{
	json_t *v = json_object_get(o, k);
	const char *s = json_string_value(v);
	if ((!s || !*s) && dflt) {
		snprintf(ret, WREQ_NAME, "%s", dflt);
		return 0;
	}
	if (sqlid_check_n(kind, k, s, s ? json_string_length(v) : 0, err, errlen))
		return -EINVAL;
	snprintf(ret, WREQ_NAME, "%s", s);
	return 0;
}

/* A contribution URL: file://, http:// or https://, printable ASCII
 * without quotes, backslash or spaces, at most 1023 bytes. */
static int url_check(const char *url, size_t n, char *err, size_t errlen)
{
	bool ok = n > 0 && n < 1024 && strlen(url) == n && (!strncmp(url, "file://", 7) ||
		  !strncmp(url, "http://", 7) || !strncmp(url, "https://", 8));
	for (size_t i = 0; ok && i < n; i++)
		ok = url[i] > 0x20 && url[i] < 0x7f && !strchr("'\"`\\<>", url[i]);
	if (!ok) {
		snprintf(err, errlen, "url: must be a file://, http:// or https:// URL of printable ASCII"
			 " without quotes, backslashes or spaces");
		return -EINVAL;
	}
	return 0;
}

static int contrib_dialect(json_t *p, struct wreq_contrib *c, char *err, size_t errlen)
{
	static const char *const keys[4] = { "fields_terminated_by", "fields_enclosed_by", "fields_escaped_by",
					     "lines_terminated_by" };
	char *dst[4] = { c->ft, c->enc, c->esc, c->lt };
	for (int i = 0; i < 4; i++) {
		json_t *v = json_object_get(p, keys[i]);
		const char *s = json_string_value(v);
		if (s && (json_string_length(v) > 2 || strlen(s) != json_string_length(v))) {
			snprintf(err, errlen, "%s: at most 2 bytes (a character or an escape like \\t)", keys[i]);
			return -EINVAL;
		}
		if (s)
			snprintf(dst[i], sizeof c->ft, "%s", s);
		else
			snprintf(dst[i], sizeof c->ft, "%s", i == 2 ? "\\\\" : "");
	}
	return 0;
}

int wreq_contrib(json_t *p, struct wreq_contrib *ret, char *err, size_t errlen)
{
	long long tid = jint(p, "transaction_id", 0);
	json_t *url = json_object_get(p, "url"), *cs = json_object_get(p, "charset_name");
	memset(ret, 0, sizeof *ret);
	if (tid <= 0 || tid > 0x7fffffff) {
		snprintf(err, errlen, "transaction_id: a transaction number is required");
		return -EINVAL;
	}
	ret->trans_id = (uint32_t)tid;
	if (name(p, "table", SQLID_TABLE, NULL, ret->table, err, errlen) ||
	    name(p, "database", SQLID_DATABASE, "", ret->db, err, errlen) ||
	    (json_is_string(cs) && json_string_length(cs) &&
	     sqlid_check_n(SQLID_CHARSET, "charset_name", json_string_value(cs), json_string_length(cs),
			   err, errlen)) ||
	    (json_is_string(url) && url_check(json_string_value(url), json_string_length(url), err, errlen)))
		return -EINVAL;
	if (json_is_string(cs) && json_string_length(cs) >= sizeof ret->charset) {
		snprintf(err, errlen, "charset_name: at most %zu bytes", sizeof ret->charset - 1);
		return -EINVAL;
	}
	snprintf(ret->charset, sizeof ret->charset, "%s", json_is_string(cs) ? json_string_value(cs) : "");
	snprintf(ret->url, sizeof ret->url, "%s", json_is_string(url) ? json_string_value(url) : "");
	ret->chunk = jint32(p, "chunk");
	ret->overlap = jint(p, "overlap", 0) != 0;
	long long mw = jint(p, "max_num_warnings", WREQ_MAX_WARNINGS);
	if (mw < 0 || mw > WREQ_MAX_WARNINGS_LIMIT) {
		snprintf(err, errlen, "max_num_warnings: must be 0 to %d", WREQ_MAX_WARNINGS_LIMIT);
		return -EINVAL;
	}
	ret->max_warnings = (unsigned)mw;
	long long nr = jint(p, "num_retries", -1);
	if (json_object_get(p, "num_retries") && (nr < 0 || nr > WREQ_MAX_RETRIES_LIMIT)) {
		snprintf(err, errlen, "num_retries: must be 0 to %d", WREQ_MAX_RETRIES_LIMIT);
		return -EINVAL;
	}
	ret->num_retries = json_object_get(p, "num_retries") ? (int)nr : -1;
	return contrib_dialect(p, ret, err, errlen);
}

int wreq_trans(json_t *b, struct wreq_trans *ret, char *err, size_t errlen)
{
	const char *action = jstr(b, "action");
	long long id = jint(b, "transaction_id", 0);
	memset(ret, 0, sizeof *ret);
	if (!action || id <= 0 || id > 0x7fffffff) {
		snprintf(err, errlen, "transaction_id and action are required");
		return -EINVAL;
	}
	ret->id = (uint32_t)id;
	if (!strcmp(action, "begin"))
		ret->action = WREQ_BEGIN;
	else if (!strcmp(action, "commit"))
		ret->action = WREQ_COMMIT;
	else if (!strcmp(action, "abort"))
		ret->action = WREQ_ABORT;
	else {
		snprintf(err, errlen, "action: must be begin, commit or abort");
		return -EINVAL;
	}
	if (ret->action == WREQ_BEGIN)
		return name(b, "database", SQLID_DATABASE, NULL, ret->db, err, errlen);
	return 0;
}

int wreq_db(json_t *b, char ret_db[WREQ_NAME], char *err, size_t errlen)
{
	ret_db[0] = '\0';
	return name(b, "database", SQLID_DATABASE, NULL, ret_db, err, errlen);
}

int wreq_chunk(json_t *b, char ret_db[WREQ_NAME], int32_t *ret_chunk, char *err, size_t errlen)
{
	*ret_chunk = jint32(b, "chunk");
	if (wreq_db(b, ret_db, err, errlen))
		return -EINVAL;
	if (*ret_chunk < 0) {
		snprintf(err, errlen, "chunk: must be a chunk number (0 or more)");
		return -EINVAL;
	}
	return 0;
}

/* "`a` T,`b` U," (canonical types) into defs and "`a`,`b`" into cols. */
static int column_defs(json_t *schema, struct buf *defs, struct buf *cols, char *err, size_t errlen)
{
	char canon[2 * SQLID_TYPE_MAX + 16];
	size_t n = json_array_size(schema);
	if (!json_is_array(schema) || n == 0) {
		snprintf(err, errlen, "schema must be a non-empty array of {name, type}");
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *c = json_array_get(schema, i);
		json_t *jn = json_object_get(c, "name"), *jt = json_object_get(c, "type");
		char field[48], tfield[160];
		snprintf(field, sizeof field, "schema[%zu].name", i);
		if (!json_is_string(jn) || !json_is_string(jt)) {
			snprintf(err, errlen, "schema[%zu] must be an object {\"name\": string, \"type\": string}", i);
			return -EINVAL;
		}
		const char *name = json_string_value(jn), *type = json_string_value(jt);
		if (sqlid_check_n(SQLID_COLUMN, field, name, json_string_length(jn), err, errlen))
			return -EINVAL;
		snprintf(tfield, sizeof tfield, "schema[%zu].type (column %s)", i, name);
		if (strlen(type) != json_string_length(jt)) {
			snprintf(err, errlen, "%s: contains a NUL byte", tfield);
			return -EINVAL;
		}
		int r = sqlid_type(tfield, type, canon, sizeof canon, err, errlen);
		if (r)
			return -EINVAL;     /* -ENAMETOOLONG too: the request's fault */
		buf_printf(defs, "`%s` %s,", name, canon);
		buf_printf(cols, "%s`%s`", i ? "," : "", name);
	}
	return 0;
}

/* A key column field of a table body: absent (or not a string) = dflt;
 * "" = none, refused when required; else a valid column name. */
static int key(json_t *b, const char *k, const char *dflt, bool required, char ret[WREQ_NAME],
	       char *err, size_t errlen)
{
	json_t *v = json_object_get(b, k);
	if (!json_is_string(v) || (!json_string_length(v) && !required)) {
		snprintf(ret, WREQ_NAME, "%s", json_is_string(v) ? "" : dflt);
		return 0;
	}
	return name(b, k, SQLID_COLUMN, NULL, ret, err, errlen);
}

int wreq_table(json_t *b, struct wreq_table *ret, char *err, size_t errlen)
{
	memset(ret, 0, sizeof *ret);
	buf_init(&ret->defs);
	buf_init(&ret->cols);
	ret->partitioned = jbool(b, "is_partitioned");
	ret->director = ret->partitioned && jbool(b, "is_director");
	bool part = ret->partitioned;
	if (name(b, "database", SQLID_DATABASE, NULL, ret->db, err, errlen) ||
	    name(b, "table", SQLID_TABLE, NULL, ret->table, err, errlen) ||
	    key(b, "director_key", "", false, ret->director_key, err, errlen) ||
	    key(b, "chunk_id_key", "chunkId", part, ret->chunk_key, err, errlen) ||
	    key(b, "sub_chunk_id_key", "subChunkId", part, ret->sub_chunk_key, err, errlen))
		return -EINVAL;
	if (part && strlen(ret->table) + strlen("FullOverlap_1234567890") > 64) {
		snprintf(err, errlen, "table: a partitioned table's name is at most 42 bytes (its chunk tables"
			 " are named %sFullOverlap_<chunk>)", ret->table);
		return -EINVAL;
	}
	json_t *schema = json_object_get(b, "schema");
	if (column_defs(schema, &ret->defs, &ret->cols, err, errlen))
		return -EINVAL;
	if (ret->defs.oom || ret->cols.oom) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret->ncols = (unsigned)json_array_size(schema);
	return 0;
}

void wreq_table_free(struct wreq_table *t)
{
	buf_free(&t->defs);
	buf_free(&t->cols);
}

/* One columns[] entry of an index body appended to list at *off. */
static int index_column(json_t *c, size_t i, char *list, size_t size, size_t *off, char *err, size_t errlen)
{
	json_t *jc = json_object_get(c, "column"), *asc = json_object_get(c, "ascending");
	json_int_t len = json_integer_value(json_object_get(c, "length"));
	bool desc = asc && (json_is_false(asc) || (json_is_integer(asc) && !json_integer_value(asc)));
	const char *col = json_string_value(jc);
	char field[48], lenb[16] = "";
	snprintf(field, sizeof field, "columns[%zu].column", i);
	if (sqlid_check_n(SQLID_COLUMN, field, col, col ? json_string_length(jc) : 0, err, errlen))
		return -EINVAL;
	if (len < 0 || len > 65535) {
		snprintf(err, errlen, "columns[%zu].length: must be in 0..65535", i);
		return -EINVAL;
	}
	if (len)
		snprintf(lenb, sizeof lenb, "(%d)", (int)len);
	*off += (size_t)snprintf(list + *off, size - *off, "%s`%s`%s%s", i ? "," : "", col, lenb,
				 desc ? " DESC" : "");
	return 0;
}

int wreq_index(json_t *b, struct wreq_index *ret, char *err, size_t errlen)
{
	json_t *cols = json_object_get(b, "columns"), *c;
	const char *spec = jstr(b, "spec");
	size_t off = 0, i;
	memset(ret, 0, sizeof *ret);
	if (name(b, "database", SQLID_DATABASE, NULL, ret->db, err, errlen) ||
	    name(b, "table", SQLID_TABLE, NULL, ret->table, err, errlen) ||
	    name(b, "index", SQLID_INDEX, NULL, ret->index, err, errlen))
		return -EINVAL;
	if (!spec)
		spec = "DEFAULT";
	ret->kind = !strcasecmp(spec, "DEFAULT") ? "" : !strcasecmp(spec, "UNIQUE") ? "UNIQUE " :
		    !strcasecmp(spec, "FULLTEXT") ? "FULLTEXT " : !strcasecmp(spec, "SPATIAL") ? "SPATIAL " : NULL;
	if (!ret->kind || !json_is_array(cols) || !json_array_size(cols) || json_array_size(cols) > 32) {
		snprintf(err, errlen, "spec, columns: spec must be DEFAULT, UNIQUE, FULLTEXT or SPATIAL and"
			 " columns a non-empty array of at most 32");
		return -EINVAL;
	}
	json_array_foreach(cols, i, c)
		if (index_column(c, i, ret->list, sizeof ret->list, &off, err, errlen))
			return -EINVAL;
	ret->comment = jstr(b, "comment") ? jstr(b, "comment") : "";
	ret->overlap = jbool(b, "overlap");
	return 0;
}

int wreq_subchunks(json_t *b, struct wreq_subchunks *ret, char *err, size_t errlen)
{
	json_t *a = json_object_get(b, "sub_chunks"), *v;
	size_t i, n = json_array_size(a);
	memset(ret, 0, sizeof *ret);
	if (name(b, "database", SQLID_DATABASE, NULL, ret->db, err, errlen) ||
	    name(b, "table", SQLID_TABLE, NULL, ret->table, err, errlen))
		return -EINVAL;
	ret->chunk = jint32(b, "chunk");
	ret->sub = calloc(n ? n : 1, sizeof *ret->sub);
	if (!ret->sub) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	json_array_foreach(a, i, v) {
		json_int_t s = json_is_integer(v) ? json_integer_value(v) : -1;
		ret->sub[i] = s < INT32_MIN || s > INT32_MAX ? -1 : (int32_t)s;
	}
	ret->n = n;
	return 0;
}

/* http(s)://host[:port][/] with a plain host name or address. */
static bool base_url_ok(const char *s)
{
	const char *h = !strncmp(s, "https://", 8) ? s + 8 : !strncmp(s, "http://", 7) ? s + 7 : NULL;
	if (!h)
		return false;
	size_t hn = strspn(h, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-");
	if (hn == 0 || hn > 253)
		return false;
	const char *p = h + hn;
	if (*p == ':') {
		size_t pn = strspn(p + 1, "0123456789");
		if (pn == 0 || pn > 5 || atoi(p + 1) > 65535 || atoi(p + 1) < 1)
			return false;
		p += 1 + pn;
	}
	return !*p || !strcmp(p, "/");
}

/* A flag of a replica request: absent, null, false, 0, "0" or "" is
 * false; true, 1 or "1" is true; anything else is refused. */
static int flag(json_t *o, const char *k, bool *ret, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, k);
	const char *s = json_string_value(v);
	json_int_t i = json_is_integer(v) ? json_integer_value(v) : -1;
	*ret = json_is_true(v) || i == 1 || (s && !strcmp(s, "1"));
	if (*ret || !v || json_is_null(v) || json_is_false(v) || i == 0 || (s && (!*s || !strcmp(s, "0"))))
		return 0;
	snprintf(err, errlen, "%s: must be true or false (1 or 0)", k);
	return -EINVAL;
}

/* The database and either the chunk or "regular": true of a replica body. */
static int replica_target(json_t *b, struct wreq_replica *ret, char *err, size_t errlen)
{
	bool regular;
	json_t *c = json_object_get(b, "chunk");
	bool has_chunk = c && !json_is_null(c);
	if (wreq_db(b, ret->db, err, errlen) || flag(b, "regular", &regular, err, errlen))
		return -EINVAL;
	if (regular == has_chunk) {
		snprintf(err, errlen, "chunk, regular: %s", regular ? "a copy is of one chunk or of the regular"
			 " tables, not both" : "one of the two is required (a chunk number, or regular: true)");
		return -EINVAL;
	}
	ret->chunk = regular ? WREQ_REGULAR : -1;
	return regular ? 0 : wreq_chunk(b, ret->db, &ret->chunk, err, errlen);
}

/* "backup_file": "<backup>/<file>" (optional): names of letters, digits,
 * '_', '-', '.', not starting with '.'. */
static int backup_file(json_t *b, struct wreq_replica *ret, char *err, size_t errlen)
{
	json_t *v = json_object_get(b, "backup_file");
	const char *s = json_string_value(v), *slash = s ? strchr(s, '/') : NULL;
	size_t n = s ? json_string_length(v) : 0;
	if (!v)
		return 0;
	if (!s || !slash || n >= sizeof ret->backup_file || strlen(s) != n || s[0] == '.' || slash[1] == '.' ||
	    strchr(slash + 1, '/') || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-/") != n ||
	    slash == s || !slash[1]) {
		snprintf(err, errlen, "backup_file: must be <backup name>/<file name>");
		return -EINVAL;
	}
	memcpy(ret->backup_file, s, n + 1);
	return 0;
}

int wreq_replica(json_t *b, struct wreq_replica *ret, char *err, size_t errlen)
{
	memset(ret, 0, sizeof *ret);
	if (replica_target(b, ret, err, errlen))
		return -EINVAL;
	json_t *v = json_object_get(b, "source_id");
	const char *id = json_string_value(v);
	size_t n = id ? json_string_length(v) : 0;
	if (!id || n == 0 || n >= WREQ_NAME || strlen(id) != n ||
	    strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") != n) {
		snprintf(err, errlen, "source_id: must be a worker name (letters, digits, '_', '.', '-')");
		return -EINVAL;
	}
	memcpy(ret->source_id, id, n + 1);
	v = json_object_get(b, "source_url");
	const char *u = json_string_value(v);
	n = u ? json_string_length(v) : 0;
	if (!u || n >= sizeof ret->source_url || strlen(u) != n || !base_url_ok(u)) {
		snprintf(err, errlen, "source_url: must be http(s)://<host>[:<port>] of the source worker's API");
		return -EINVAL;
	}
	memcpy(ret->source_url, u, n + 1);
	if (n && ret->source_url[n - 1] == '/')
		ret->source_url[n - 1] = '\0';
	return backup_file(b, ret, err, errlen);
}

int wreq_db_arg(json_t *q, char ret_db[WREQ_NAME], char *err, size_t errlen)
{
	ret_db[0] = '\0';
	return name(q, "database", SQLID_DATABASE, "", ret_db, err, errlen);
}

int wreq_chunk_arg(json_t *q, char ret_db[WREQ_NAME], int32_t *ret_chunk, char *err, size_t errlen)
{
	json_t *v = json_object_get(q, "chunk");
	const char *s = json_string_value(v);
	size_t n = s ? json_string_length(v) : 0;
	bool regular;
	*ret_chunk = -1;
	if (wreq_db(q, ret_db, err, errlen) || flag(q, "regular", &regular, err, errlen))
		return -EINVAL;
	if (regular && v) {
		snprintf(err, errlen, "chunk, regular: one chunk or the regular tables, not both");
		return -EINVAL;
	}
	if (regular) {
		*ret_chunk = WREQ_REGULAR;
		return 0;
	}
	if (n == 0 || n > 10 || strspn(s, "0123456789") != n || strtoll(s, NULL, 10) > INT32_MAX) {
		snprintf(err, errlen, "chunk: must be a chunk number (0 or more)");
		return -EINVAL;
	}
	*ret_chunk = (int32_t)strtoll(s, NULL, 10);
	return 0;
}

/* A decimal id of digits only, 1..max, from a string of n bytes. */
static int id_str(const char *s, size_t n, unsigned long long max, unsigned long long *ret)
{
	if (!s || n == 0 || n > 10 || strspn(s, "0123456789") != n || strlen(s) != n)
		return -EINVAL;
	unsigned long long v = strtoull(s, NULL, 10);
	if (v == 0 || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

int wreq_id(const char *s, uint32_t *ret, char *err, size_t errlen)
{
	unsigned long long v = 0;
	if (id_str(s, s ? strlen(s) : 0, 0xffffffffULL, &v)) {
		snprintf(err, errlen, "id: must be a contribution number (1 to 4294967295)");
		return -EINVAL;
	}
	*ret = (uint32_t)v;
	return 0;
}

int wreq_contribs_arg(json_t *q, uint32_t *ret_trans, uint32_t *ret_id, char *err, size_t errlen)
{
	json_t *t = json_object_get(q, "transaction_id"), *i = json_object_get(q, "id");
	unsigned long long v = 0;
	*ret_trans = *ret_id = 0;
	if (!t == !i) {
		snprintf(err, errlen, "transaction_id, id: exactly one of the two is required");
		return -EINVAL;
	}
	if (t && id_str(json_string_value(t), json_string_length(t), 0x7fffffff, &v)) {
		snprintf(err, errlen, "transaction_id: must be a transaction number (1 to 2147483647)");
		return -EINVAL;
	}
	if (t) {
		*ret_trans = (uint32_t)v;
		return 0;
	}
	if (id_str(json_string_value(i), json_string_length(i), 0xffffffffULL, &v)) {
		snprintf(err, errlen, "id: must be a contribution number (1 to 4294967295)");
		return -EINVAL;
	}
	*ret_id = (uint32_t)v;
	return 0;
}

/* A number 0..2^31-1: an integer or a string of digits; absent is 0. */
static int conf_num(json_t *b, const char *k, long *ret, char *err, size_t errlen)
{
	json_t *v = json_object_get(b, k);
	const char *s = json_string_value(v);
	long long n = !v ? 0 : json_is_integer(v) ? json_integer_value(v) : -1;
	if (s && *s && strlen(s) <= 10 && strlen(s) == json_string_length(v) && strspn(s, "0123456789") == strlen(s))
		n = strtoll(s, NULL, 10);
	if (n < 0 || n > 0x7fffffff) {
		snprintf(err, errlen, "%s: must be a number 0 to 2147483647", k);
		return -EINVAL;
	}
	*ret = (long)n;
	return 0;
}

int wreq_config(json_t *b, struct wreq_config *ret, char *err, size_t errlen)
{
	memset(ret, 0, sizeof *ret);
	if (wreq_db(b, ret->db, err, errlen) || conf_num(b, "TIMEOUT", &ret->timeout_s, err, errlen) ||
	    conf_num(b, "ASYNC_PROC_LIMIT", &ret->async_limit, err, errlen))
		return -EINVAL;
	return 0;
}
