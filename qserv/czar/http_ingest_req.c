/* http_ingest_req.c: the checks of a user-table ingest request of the
 * HTTP frontend (see http_ingest.h) and the rows' CSV, without network or
 * MariaDB, so a fuzz target drives them (tests/fuzz_ingest.c).
 *
 * Every name goes through qserv/common/sqlid.h (the controller's and the
 * workers' validator) and every column type through its grammar; what is
 * forwarded to the controller is the canonical type, never the request's
 * string.  Errors name the field and never quote a refused value (a name
 * that passed the validator may be quoted). */
#include "http_ingest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mbedtls/base64.h>

#include "qserv/common/csvd.h"
#include "qserv/common/mpart.h"
#include "qserv/common/sqlid.h"

int ingest_check_names(const char *user, bool admin, const char *db, const char *table, char *err, size_t errlen)
{
	if (!db || !*db) {
		snprintf(err, errlen, "database is required");
		return -EINVAL;
	}
	if (strncasecmp(db, "user_", 5) != 0 || !db[5]) {
		if (sqlid_ok(db))
			snprintf(err, errlen, "database %s is not a user database: the frontend writes only databases "
				 "named user_<username>; catalogs are loaded by operators through the ingest API", db);
		else
			snprintf(err, errlen, "database: the frontend writes only databases named user_<username>");
		return -EPERM;
	}
	if (sqlid_check(SQLID_DATABASE, "database", db, err, errlen))
		return -EINVAL;
	if (!admin && strcasecmp(db + 5, user) != 0) {
		snprintf(err, errlen, "database %s belongs to another user: user %s may write only user_%s", db, user,
			 user);
		return -EPERM;
	}
	if (!table)
		return 0;
	if (sqlid_check(SQLID_TABLE, "table", table, err, errlen))
		return -EINVAL;
	if (strlen(db) + strlen(table) > INGEST_NAMES_MAX) {
		snprintf(err, errlen, "database and table: their names together may have at most %d characters",
			 INGEST_NAMES_MAX);
		return -EINVAL;
	}
	return 0;
}

/* Whether a canonical column type holds bytes that binary_encoding names. */
static unsigned char binary_type(const char *t)
{
	static const char *const b[] = { "BINARY", "VARBINARY", "TINYBLOB", "BLOB", "MEDIUMBLOB", "LONGBLOB", "BIT" };
	for (size_t i = 0; i < sizeof b / sizeof *b; i++) {
		size_t n = strlen(b[i]);
		if (!strncmp(t, b[i], n) && (t[n] == '\0' || t[n] == '(' || t[n] == ' '))
			return 1;
	}
	return 0;
}

/* schema: [{name, type}...] into r->schema with canonical types. */
static int parse_schema(json_t *s, struct ingest_req *r, char *err, size_t errlen)
{
	char canon[SQLID_TYPE_MAX * 2 + 16];
	json_t *col;
	size_t i;

	if (!json_is_array(s) || !json_array_size(s) || json_array_size(s) > sizeof r->binary) {
		snprintf(err, errlen, "schema must be a non-empty array of {\"name\", \"type\"} (at most %zu columns)",
			 sizeof r->binary);
		return -EINVAL;
	}
	if (!(r->schema = json_array()))
		return -ENOMEM;
	json_array_foreach(s, i, col) {
		char field[64], tfield[200], *c = NULL;
		json_t *n = json_object_get(col, "name"), *t = json_object_get(col, "type");
		if (!json_is_string(n) || !json_is_string(t)) {
			snprintf(err, errlen, "schema[%zu] must be an object {\"name\": string, \"type\": string}", i);
			return -EINVAL;
		}
		snprintf(field, sizeof field, "schema[%zu].name", i);
		if (sqlid_check_n(SQLID_COLUMN, field, json_string_value(n), json_string_length(n), err, errlen))
			return -EINVAL;
		for (size_t k = 0; k < i; k++)
			if (!strcasecmp(json_string_value(json_object_get(json_array_get(r->schema, k), "name")),
					json_string_value(n))) {
				snprintf(err, errlen, "%s: column %s is named twice", field, json_string_value(n));
				return -EINVAL;
			}
		snprintf(tfield, sizeof tfield, "schema[%zu].type (column %s)", i, json_string_value(n));
		if (strlen(json_string_value(t)) != json_string_length(t)) {
			snprintf(err, errlen, "%s: contains a NUL byte", tfield);
			return -EINVAL;
		}
		c = sqlid_type(tfield, json_string_value(t), canon, sizeof canon, err, errlen) ? NULL : canon;
		if (!c)
			return -EINVAL;
		r->binary[i] = binary_type(c);
		if (json_array_append_new(r->schema, json_pack("{s:s,s:s}", "name", json_string_value(n), "type", c)))
			return -ENOMEM;
	}
	r->ncols = (unsigned)json_array_size(s);
	return 0;
}

static bool schema_has(const struct ingest_req *r, const char *col)
{
	for (unsigned i = 0; i < r->ncols; i++)
		if (!strcasecmp(json_string_value(json_object_get(json_array_get(r->schema, i), "name")), col))
			return true;
	return false;
}

/* One index's columns: [{column, length, ascending}...] of the schema. */
static int index_columns(const struct ingest_req *r, json_t *cols, size_t i, json_t *out, char *err, size_t errlen)
{
	json_t *c;
	size_t k;

	if (!json_is_array(cols) || !json_array_size(cols) || json_array_size(cols) > 32) {
		snprintf(err, errlen, "indexes[%zu].columns must be a non-empty array of at most 32 columns", i);
		return -EINVAL;
	}
	json_array_foreach(cols, k, c) {
		char field[96];
		json_t *n = json_object_get(c, "column"), *len = json_object_get(c, "length"),
		       *asc = json_object_get(c, "ascending");
		snprintf(field, sizeof field, "indexes[%zu].columns[%zu].column", i, k);
		if (!json_is_string(n) || sqlid_check_n(SQLID_COLUMN, field, json_string_value(n), json_string_length(n),
							err, errlen)) {
			if (!json_is_string(n))
				snprintf(err, errlen, "%s must be a string", field);
			return -EINVAL;
		}
		if (!schema_has(r, json_string_value(n))) {
			snprintf(err, errlen, "%s: %s is not a column of the schema", field, json_string_value(n));
			return -EINVAL;
		}
		if ((len && (!json_is_integer(len) || json_integer_value(len) < 0 || json_integer_value(len) > 65535)) ||
		    (asc && (!json_is_integer(asc) || json_integer_value(asc) < 0 || json_integer_value(asc) > 1))) {
			snprintf(err, errlen, "indexes[%zu].columns[%zu]: length 0..65535 and ascending 0|1 are integers",
				 i, k);
			return -EINVAL;
		}
		json_array_append_new(out, json_pack("{s:s,s:I,s:I}", "column", json_string_value(n), "length",
						     len ? json_integer_value(len) : 0, "ascending",
						     asc ? json_integer_value(asc) : 1));
	}
	return 0;
}

/* indexes: [{index, spec, comment, columns}...] into r->indexes. */
static int parse_indexes(json_t *a, struct ingest_req *r, char *err, size_t errlen)
{
	static const char *const specs[] = { "DEFAULT", "UNIQUE", "FULLTEXT", "SPATIAL" };
	json_t *ix;
	size_t i;

	if (!(r->indexes = json_array()))
		return -ENOMEM;
	if (!a)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > INGEST_MAX_INDEXES) {
		snprintf(err, errlen, "indexes must be an array of at most %d index specifications", INGEST_MAX_INDEXES);
		return -EINVAL;
	}
	json_array_foreach(a, i, ix) {
		char field[64];
		const char *name = json_string_value(json_object_get(ix, "index"));
		const char *spec = json_string_value(json_object_get(ix, "spec"));
		json_t *cm = json_object_get(ix, "comment"), *cols = json_array();
		size_t s;
		snprintf(field, sizeof field, "indexes[%zu].index", i);
		if (!json_is_object(ix) || sqlid_check(SQLID_INDEX, field, name, err, errlen)) {
			json_decref(cols);
			return -EINVAL;
		}
		for (s = 0; spec && s < sizeof specs / sizeof *specs && strcasecmp(spec, specs[s]); s++)
			;
		if (!spec || s == sizeof specs / sizeof *specs || (cm && !json_is_string(cm))) {
			snprintf(err, errlen, "indexes[%zu]: spec is one of DEFAULT, UNIQUE, FULLTEXT, SPATIAL and "
				 "comment a string", i);
			json_decref(cols);
			return -EINVAL;
		}
		if (index_columns(r, json_object_get(ix, "columns"), i, cols, err, errlen)) {
			json_decref(cols);
			return -EINVAL;
		}
		json_array_append_new(r->indexes, json_pack("{s:s,s:s,s:s,s:o}", "index", name, "spec", specs[s],
							     "comment", cm ? json_string_value(cm) : "", "columns", cols));
	}
	return 0;
}

/* A string field (absent: dflt), at most cap-1 bytes, no NUL. */
static int str_field(json_t *b, const char *k, const char *dflt, const char **ret, size_t cap, char *err,
		     size_t errlen)
{
	json_t *v = json_object_get(b, k);
	if (!v) {
		*ret = dflt;
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) >= cap || strlen(json_string_value(v)) != json_string_length(v)) {
		snprintf(err, errlen, "%s must be a string of at most %zu bytes", k, cap - 1);
		return -EINVAL;
	}
	*ret = json_string_value(v);
	return 0;
}

/* timeout: a number (or, in a form, digits) 1..INGEST_TIMEOUT_MAX. */
static int parse_timeout(json_t *v, unsigned *ret, char *err, size_t errlen)
{
	long long t = INGEST_TIMEOUT_DEFAULT;
	char *end = NULL;

	if (json_is_integer(v))
		t = json_integer_value(v);
	else if (json_is_string(v)) {
		t = strtoll(json_string_value(v), &end, 10);
		if (!json_string_length(v) || *end)
			t = -1;
	} else if (v) {
		t = -1;
	}
	if (t < 1 || t > INGEST_TIMEOUT_MAX) {
		snprintf(err, errlen, "timeout must be a number of seconds, 1..%d (it may not be 0)", INGEST_TIMEOUT_MAX);
		return -EINVAL;
	}
	*ret = (unsigned)t;
	return 0;
}

/* charset_name, collation_name, binary_encoding, timeout, the dialect. */
static int parse_options(json_t *b, struct ingest_req *r, char *err, size_t errlen)
{
	static const char *const dk[4] = { "fields_terminated_by", "fields_enclosed_by", "fields_escaped_by",
					   "lines_terminated_by" };
	const char *cs, *co, *be;

	if (str_field(b, "charset_name", "latin1", &cs, sizeof r->charset, err, errlen) ||
	    str_field(b, "collation_name", "", &co, sizeof r->collation, err, errlen) ||
	    str_field(b, "binary_encoding", "hex", &be, 8, err, errlen))
		return -EINVAL;
	if (sqlid_check(SQLID_CHARSET, "charset_name", cs, err, errlen) ||
	    (*co && sqlid_check(SQLID_CHARSET, "collation_name", co, err, errlen)))
		return -EINVAL;
	snprintf(r->charset, sizeof r->charset, "%s", cs);
	snprintf(r->collation, sizeof r->collation, "%s", co);
	r->enc = !strcmp(be, "hex") ? HTTP_BIN_HEX : !strcmp(be, "b64") ? HTTP_BIN_B64 : HTTP_BIN_ARRAY;
	if (strcmp(be, "hex") && strcmp(be, "b64") && strcmp(be, "array")) {   /* http_binenc's names */
		snprintf(err, errlen, "binary_encoding must be one of hex, b64, array");
		return -EINVAL;
	}
	if (parse_timeout(json_object_get(b, "timeout"), &r->timeout_s, err, errlen))
		return -EINVAL;
	for (int i = 0; i < 4; i++)
		if (str_field(b, dk[i], NULL, &r->dialect[i], 8, err, errlen))
			return -EINVAL;
	return csvd_parse(&r->d, r->dialect[0], r->dialect[1], r->dialect[2], r->dialect[3], err, errlen) ? -EINVAL : 0;
}

/* Whether is_partitioned asks for a partitioned table (anything but
 * absent, 0, "0", "", false). */
static bool partitioned(json_t *v)
{
	const char *s = json_string_value(v);

	if (!v || json_is_false(v) || json_is_null(v))
		return false;
	if (json_is_integer(v))
		return json_integer_value(v) != 0;
	return !s || (strcmp(s, "0") && strcmp(s, ""));
}

int ingest_req_parse(json_t *b, const char *user, bool admin, struct ingest_req *ret, int *ret_status, char *err,
		     size_t errlen)
{
	const char *db = json_string_value(json_object_get(b, "database"));
	const char *t = json_string_value(json_object_get(b, "table"));
	int r;

	memset(ret, 0, sizeof(*ret));
	*ret_status = MHD_HTTP_OK;
	if (!json_is_object(b) || !db || !t) {
		snprintf(err, errlen, "the request needs strings database and table");
		return -EINVAL;
	}
	if (strlen(db) != json_string_length(json_object_get(b, "database")) ||
	    strlen(t) != json_string_length(json_object_get(b, "table"))) {
		snprintf(err, errlen, "database and table may not hold a NUL byte");
		return -EINVAL;
	}
	if ((r = ingest_check_names(user, admin, db, t, err, errlen))) {
		if (r == -EPERM)
			*ret_status = MHD_HTTP_FORBIDDEN;
		return r;
	}
	if (partitioned(json_object_get(b, "is_partitioned"))) {
		snprintf(err, errlen, "is_partitioned: partitioned (director and dependent) user tables are not "
			 "supported here yet; leave it out or 0 for a fully replicated table");
		return -EINVAL;
	}
	snprintf(ret->db, sizeof ret->db, "%s", db);
	snprintf(ret->table, sizeof ret->table, "%s", t);
	if ((r = parse_schema(json_object_get(b, "schema"), ret, err, errlen)) ||
	    (r = parse_indexes(json_object_get(b, "indexes"), ret, err, errlen)) ||
	    (r = parse_options(b, ret, err, errlen)))
		return r;
	return 0;
}

void ingest_req_free(struct ingest_req *r)
{
	if (!r)
		return;
	json_decref(r->schema);
	json_decref(r->indexes);
	r->schema = r->indexes = NULL;
}

/* ---- /ingest/data's rows as TSV ----------------------------------------- */

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A binary value in encoding enc into bytes (*ret, caller frees). */
static int decode_binary(json_t *v, enum http_binenc enc, unsigned char **ret, size_t *ret_n)
{
	const char *s = json_string_value(v);
	size_t n = s ? json_string_length(v) : json_array_size(v), k;
	unsigned char *b = malloc(n + 1);
	json_t *e;

	*ret = b;
	*ret_n = 0;
	if (!b)
		return -ENOMEM;
	if (enc == HTTP_BIN_HEX && s && n % 2 == 0) {
		for (k = 0; k < n; k += 2) {
			int hi = hexval((unsigned char)s[k]), lo = hexval((unsigned char)s[k + 1]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			b[(*ret_n)++] = (unsigned char)(hi << 4 | lo);
		}
		return 0;
	}
	if (enc == HTTP_BIN_B64 && s)
		return mbedtls_base64_decode(b, n + 1, ret_n, (const unsigned char *)s, n) ? -EINVAL : 0;
	if (enc == HTTP_BIN_ARRAY && json_is_array(v)) {
		json_array_foreach(v, k, e) {
			if (!json_is_integer(e) || json_integer_value(e) < 0 || json_integer_value(e) > 255)
				return -EINVAL;
			b[(*ret_n)++] = (unsigned char)json_integer_value(e);
		}
		return 0;
	}
	return -EINVAL;
}

/* One value of column i. */
static int put_value(const struct ingest_req *r, unsigned i, json_t *v, struct buf *out)
{
	char num[64];
	unsigned char *bin;
	size_t n;
	int rc;

	if (json_is_null(v)) {
		buf_put(out, "\\N", 2);
	} else if (r->binary[i]) {
		rc = decode_binary(v, r->enc, &bin, &n);
		if (!rc)
			csvd_escape(out, bin, n);
		free(bin);
		return rc;
	} else if (json_is_string(v)) {
		csvd_escape(out, json_string_value(v), json_string_length(v));
	} else if (json_is_integer(v)) {
		buf_put(out, num, (size_t)snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v)));
	} else if (json_is_real(v)) {
		buf_put(out, num, (size_t)snprintf(num, sizeof num, "%.17g", json_real_value(v)));
	} else if (json_is_boolean(v)) {
		buf_put(out, json_is_true(v) ? "1" : "0", 1);
	} else {
		return -EINVAL;
	}
	return 0;
}

int ingest_rows_tsv(const struct ingest_req *r, json_t *rows, struct buf *out, char *err, size_t errlen)
{
	json_t *row;
	size_t i;

	if (!json_is_array(rows)) {
		snprintf(err, errlen, "rows must be an array of rows, each an array of %u values", r->ncols);
		return -EINVAL;
	}
	json_array_foreach(rows, i, row) {
		if (!json_is_array(row) || json_array_size(row) != r->ncols) {
			snprintf(err, errlen, "rows[%zu]: %zu values, the schema has %u columns", i,
				 json_is_array(row) ? json_array_size(row) : 0, r->ncols);
			return -EINVAL;
		}
		for (unsigned k = 0; k < r->ncols; k++) {
			if (k)
				buf_put(out, "\t", 1);
			if (put_value(r, k, json_array_get(row, k), out)) {
				snprintf(err, errlen, "rows[%zu][%u] (column %s): %s", i, k,
					 json_string_value(json_object_get(json_array_get(r->schema, k), "name")),
					 r->binary[k] ? "not a binary value in the request's binary_encoding"
						      : "a value is a string, a number, a boolean or null");
				return -EINVAL;
			}
		}
		buf_put(out, "\n", 1);
		if (out->oom)
			return -ENOMEM;
	}
	return 0;
}

/* ---- /ingest/csv's form -------------------------------------------------- */

/* A JSON part (schema, indexes): parsed into the request object. */
static int form_json(json_t *o, const char *name, const char *v, size_t n, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = json_loadb(v, n, JSON_REJECT_DUPLICATES, &je);

	if (!j) {
		snprintf(err, errlen, "%s: not JSON (line %d: %s)", name, je.line, je.text);
		return -EINVAL;
	}
	json_object_set_new(o, name, j);
	return 0;
}

/* One part of the form into o (or, for rows, its place). */
static int form_part(json_t *o, const char *body, const struct mpart_part *p, bool *rows, size_t *ret_off,
		     size_t *ret_len, char *err, size_t errlen)
{
	if (json_object_get(o, p->name) || (*rows && !strcmp(p->name, "rows"))) {
		snprintf(err, errlen, "multipart: part %s is repeated", p->name);
		return -EINVAL;
	}
	if (!strcmp(p->name, "rows")) {
		*rows = true;
		*ret_off = p->off;
		*ret_len = p->len;
		return 0;
	}
	if (!strcmp(p->name, "schema") || !strcmp(p->name, "indexes"))
		return form_json(o, p->name, body + p->off, p->len, err, errlen);
	if (p->len > MPART_VALUE) {
		snprintf(err, errlen, "multipart: field %s: at most %d bytes", p->name, MPART_VALUE);
		return -EINVAL;
	}
	if (!strcmp(p->name, "version") && p->len && p->len < 10 && strspn(body + p->off, "0123456789") >= p->len) {
		json_object_set_new(o, p->name, json_integer(strtol(body + p->off, NULL, 10)));
		return 0;   /* a form's version is text: the number the version check reads */
	}
	json_object_set_new_nocheck(o, p->name, json_stringn_nocheck(body + p->off, p->len));
	return 0;
}

int ingest_form(const char *body, size_t n, const char *ctype, json_t **ret, size_t *ret_off, size_t *ret_len,
		char *err, size_t errlen)
{
	char b[MPART_BOUNDARY];
	struct mpart_part parts[2 * MPART_FIELDS];
	size_t np = 0;
	bool rows = false;
	json_t *o;
	int rc;

	*ret = NULL;
	if ((rc = mpart_boundary(ctype, b, err, errlen)) ||
	    (rc = mpart_parse(body, n, b, parts, sizeof parts / sizeof *parts, &np, err, errlen)))
		return rc;
	if (!(o = json_object()))
		return -ENOMEM;
	for (size_t i = 0; i < np && !rc; i++)
		rc = form_part(o, body, &parts[i], &rows, ret_off, ret_len, err, errlen);
	if (!rc && !rows) {
		snprintf(err, errlen, "multipart: the rows part (the CSV file) is missing");
		rc = -EINVAL;
	}
	if (rc) {
		json_decref(o);
		return rc;
	}
	*ret = o;
	return 0;
}
