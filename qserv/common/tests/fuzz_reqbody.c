/* fuzz_reqbody.c: libFuzzer target for what qserv/common contributes to the
 * JSON request bodies: the identifier validator and the column type
 * grammar (sqlid.c) and the CSV dialect (csvd.c), fed with body-shaped
 * JSON.  The bodies themselves go through their real parsers in the
 * components' own targets: creq (qserv/controller/creq.c) and wreq
 * (qserv/worker/wreq.c).  Here: arbitrary bytes parsed as qhttp_body_json
 * parses a body, then every field that names a database, table, column,
 * index or character set goes through sqlid_check, every schema[] entry
 * through sqlid_check_n and sqlid_type, every index columns[] entry
 * through sqlid_check, the four dialect fields through csvd_parse.
 * Invariants (sqlid.h): an accepted name is 1-64 bytes of [A-Za-z0-9_]
 * not starting with a digit; an accepted type's canonical text parses
 * again to itself and holds nothing that ends a string, a statement or
 * starts a comment outside a '...' literal. */
#include <ctype.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qserv/common/csvd.h"
#include "qserv/common/sqlid.h"

static const struct { const char *key; enum sqlid_kind kind; } names[] = {
	{ "database", SQLID_DATABASE }, { "table", SQLID_TABLE }, { "director_table", SQLID_TABLE },
	{ "director_key", SQLID_COLUMN }, { "latitude_key", SQLID_COLUMN }, { "longitude_key", SQLID_COLUMN },
	{ "chunk_id_key", SQLID_COLUMN }, { "sub_chunk_id_key", SQLID_COLUMN }, { "index", SQLID_INDEX },
	{ "charset_name", SQLID_CHARSET }, { "column", SQLID_COLUMN }, { "name", SQLID_COLUMN },
};

static void name_ok(enum sqlid_kind kind, const char *s, size_t n)
{
	char err[256];
	size_t i;

	if (sqlid_check_n(kind, "f", s, n, err, sizeof(err)) != 0)
		return;
	if (n < 1 || n > 64 || isdigit((unsigned char)s[0]))
		abort();
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			abort();
}

static void type_ok(const char *t)
{
	char canon[2 * 4096 + 16], again[sizeof(canon)], err[256];
	int in_str = 0;
	size_t i;

	if (sqlid_type("t", t, canon, sizeof(canon), err, sizeof(err)) != 0)
		return;
	if (sqlid_type("t", canon, again, sizeof(again), err, sizeof(err)) != 0 || strcmp(canon, again))
		abort();
	for (i = 0; canon[i]; i++) {
		if (canon[i] == '\'')
			in_str = !in_str;
		else if ((unsigned char)canon[i] < 0x20 || canon[i] == '\\' || (unsigned char)canon[i] > 0x7e)
			abort();
		else if (!in_str && (strchr(";`\"#", canon[i]) || !strncmp(canon + i, "--", 2) ||
				     !strncmp(canon + i, "/*", 2)))
			abort();
	}
	if (in_str)
		abort();
}

static void check_object(json_t *o, int depth)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(o, key, v) {
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (json_is_string(v) && !strcmp(key, names[i].key))
				name_ok(names[i].kind, json_string_value(v), json_string_length(v));
		if (json_is_string(v) && !strcmp(key, "type"))
			type_ok(json_string_value(v));
		if (json_is_object(v) && depth < 4)
			check_object(v, depth + 1);
		for (i = 0; json_is_array(v) && depth < 4 && i < json_array_size(v); i++)
			if (json_is_object(json_array_get(v, i)))
				check_object(json_array_get(v, i), depth + 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t je;
	json_t *b = json_loadb((const char *)data, size, 0, &je);
	struct csvd d;
	char err[256], sql[256];

	if (!json_is_object(b)) {
		json_decref(b);
		return 0;
	}
	check_object(b, 0);
	if (csvd_parse(&d, json_string_value(json_object_get(b, "fields_terminated_by")),
		       json_string_value(json_object_get(b, "fields_enclosed_by")),
		       json_string_value(json_object_get(b, "fields_escaped_by")),
		       json_string_value(json_object_get(b, "lines_terminated_by")), err, sizeof(err)) == 0)
		csvd_sql(&d, sql, sizeof(sql));
	json_decref(b);
	return 0;
}
