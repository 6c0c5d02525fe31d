/* sqlid.h: the one gate between a request's names and types and the SQL
 * the controller and the worker build: the identifier validator and the
 * column type grammar.  Nothing from a request is pasted into a statement
 * unless it passed here (names) or was escaped (literals: qsql_quote).
 *
 * Names (Qserv's rules, doc/ingest/api/reference/rest/controller/
 * db-table-management.rst of lsst/qserv, made strict):
 *   - ASCII letters, digits and '_' only, 1 to 64 bytes (MySQL's limit);
 *     no '$', no quotes, backticks, spaces, dots, comment markers, control
 *     bytes or NUL, no non-ASCII byte (no Unicode look-alike of a letter);
 *   - not starting with a digit (MariaDB reads an unquoted 1e5 or 0x1 as a
 *     number, the czar's SQL parser too);
 *   - tables and columns: not starting with "qserv" (any case), the prefix
 *     Qserv reserves for its own tables and columns (qserv_trans_id);
 *   - databases: not a MariaDB system schema (mysql, information_schema,
 *     performance_schema, sys), not starting with "qserv" (qservMeta,
 *     qservWorker, qservResult are the daemons' own) nor "Subchunks_" (the
 *     worker's sub-chunk databases), any case.
 * Qserv treats names case-insensitively; the reserved checks do too.
 *
 * Column types: an allow-list grammar of MySQL/MariaDB column types with
 * their arguments (ranges checked), SIGNED/UNSIGNED/ZEROFILL on numbers,
 * BINARY/CHARACTER SET/CHARSET/COLLATE on text types, then NULL, NOT NULL,
 * DEFAULT <literal> and COMMENT '<text>' in any order, each at most once.
 * Literals: NULL, TRUE, FALSE, numbers, '...' strings of printable ASCII
 * without backslash ('' is a quote), CURRENT_TIMESTAMP[(n)].  What goes
 * into CREATE TABLE is the canonical text the parser re-emits from its
 * tokens, never the request's string.  See docs/ingest.md for the list.
 *
 * Errors name the request field (the caller's `field`, e.g. "longitude_key"
 * or "schema[2].type (column ra)") and say why, never quoting the refused
 * value (a type error may quote one word of it). */
#ifndef QSERV_SQLID_H
#define QSERV_SQLID_H

#include <stdbool.h>
#include <stddef.h>

enum sqlid_kind {
	SQLID_DATABASE,
	SQLID_TABLE,
	SQLID_COLUMN,
	SQLID_INDEX,    /* an index name: syntax only */
	SQLID_CHARSET,  /* a character set or collation name: syntax only */
};

/* True when the n bytes at s are a name by the syntax rules above (no
 * reserved-name check). */
bool sqlid_ok_n(const char *s, size_t n);
bool sqlid_ok(const char *s);

/* 0 when name (n bytes; may hold a NUL, which is refused) is an acceptable
 * name of that kind, else -EINVAL with err "<field>: <why>".  A NULL or
 * empty name is "<field> is required". */
int sqlid_check_n(enum sqlid_kind kind, const char *field, const char *name, size_t n,
		  char *err, size_t errlen);
int sqlid_check(enum sqlid_kind kind, const char *field, const char *name, char *err, size_t errlen);

/* Parses a column type; on success writes its canonical form (keywords in
 * upper case, single spaces) into out and returns 0.  -EINVAL with err
 * "<field>: <why>" when it does not parse, -ENAMETOOLONG when type is over
 * SQLID_TYPE_MAX bytes or out is too small (2 * strlen(type) + 16 always
 * suffices). */
#define SQLID_TYPE_MAX 4096
int sqlid_type(const char *field, const char *type, char *out, size_t outlen, char *err, size_t errlen);

#endif
