/* csv.h: CSV/TSV dialects as sph-partition defines them (in.csv.* and
 * out.csv.*): a delimiter (default TAB), an optional quote character
 * (default '"', off with no-quote), an optional escape character (default
 * '\\', off with no-escape) and a NULL string (default "NULL" when quoting
 * is on, else "<escape>N", else empty).  Splitting works on one record
 * without its line terminator; nothing is copied. */
#ifndef QPART_CSV_H
#define QPART_CSV_H

#include <stdbool.h>
#include <stddef.h>

struct qpart_config;

struct qpart_dialect {
	char delim, quote, escape;	/* quote/escape '\0' when disabled */
	char null[64];
	size_t null_len;
};

struct qpart_field {
	const char *p;
	size_t len;	/* raw bytes, still quoted/escaped */
};

/* Reads <prefix>delimiter, quote, no-quote, escape, no-escape, null from
 * the configuration with Qserv's defaults and checks them as Qserv's
 * Dialect::_validate() does.  0 or -EINVAL (message in err). */
int qpart_dialect_from_config(const struct qpart_config *cfg, const char *prefix,
			      struct qpart_dialect *ret, char *err, size_t errlen);

/* Splits a record into raw fields, storing at most max of them; returns
 * the number of fields found (which may exceed max). */
size_t qpart_csv_split(const struct qpart_dialect *d, const char *rec, size_t len,
		       struct qpart_field *fields, size_t max);

/* True if the raw field is the dialect's NULL. */
bool qpart_csv_is_null(const struct qpart_dialect *d, const struct qpart_field *f);

/* Decodes a raw field (quotes and escapes removed) into buf (cap bytes,
 * NUL-terminated).  Returns the decoded length, or -1 if it does not fit. */
long qpart_csv_decode(const struct qpart_dialect *d, const struct qpart_field *f, char *buf,
		      size_t cap);

/* Encodes a value for the dialect (value NULL means SQL NULL) into buf.
 * Returns the length, or -1 if it does not fit or cannot be represented. */
long qpart_csv_encode(const struct qpart_dialect *d, const char *value, size_t len, char *buf,
		      size_t cap);

/* True if both dialects write the same bytes for every value. */
bool qpart_dialect_equal(const struct qpart_dialect *a, const struct qpart_dialect *b);

#endif
