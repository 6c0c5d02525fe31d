/* csv.c: CSV dialects, record splitting, field decoding and encoding,
 * following Qserv's src/partition/Csv.cc (same defaults, same validation,
 * same unescape table: \0 \b \f \n \r \t \v \Z map to control characters,
 * any other escaped character to itself). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "csv.h"

static const char prohibited[] = "0bfnrtvNZ";

static char unescape(char c)
{
	switch (c) {
	case '0': return '\0';
	case 'b': return '\b';
	case 'f': return '\f';
	case 'n': return '\n';
	case 'r': return '\r';
	case 't': return '\t';
	case 'v': return '\v';
	case 'Z': return '\x1a';
	default: return c;
	}
}

static int get_char(const struct qpart_config *cfg, const char *prefix, const char *name, char def,
		    char *ret, char *err, size_t errlen)
{
	char key[128];
	snprintf(key, sizeof(key), "%s%s", prefix, name);
	int r = qpart_config_char(cfg, key, ret, err, errlen);
	if (r == -ENOENT) {
		*ret = def;
		return 0;
	}
	return r;
}

static int get_flag(const struct qpart_config *cfg, const char *prefix, const char *name, bool *ret,
		    char *err, size_t errlen)
{
	char key[128];
	snprintf(key, sizeof(key), "%s%s", prefix, name);
	int r = qpart_config_bool(cfg, key, ret, err, errlen);
	if (r == -ENOENT) {
		*ret = false;
		return 0;
	}
	return r;
}

static int validate(const struct qpart_dialect *d, const char *prefix, char *err, size_t errlen)
{
	if (d->delim == '\0' || d->delim == '\n' || d->delim == '\r') {
		snprintf(err, errlen, "%sdelimiter may not be NUL, CR or LF", prefix);
		return -EINVAL;
	}
	if (d->escape == d->delim || d->escape == '\n' || d->escape == '\r') {
		snprintf(err, errlen, "%sescape may not be CR, LF or the delimiter", prefix);
		return -EINVAL;
	}
	if (d->quote == d->delim || d->quote == '\n' || d->quote == '\r') {
		snprintf(err, errlen, "%squote may not be CR, LF or the delimiter", prefix);
		return -EINVAL;
	}
	if (d->escape != '\0') {
		if (d->escape == d->quote) {
			snprintf(err, errlen, "%sescape and %squote are identical", prefix, prefix);
			return -EINVAL;
		}
		if (strchr(prohibited, d->escape) || (d->quote && strchr(prohibited, d->quote)) ||
		    strchr(prohibited, d->delim)) {
			snprintf(err, errlen,
				 "%s: escaping the delimiter, quote or escape character would produce a "
				 "standard escape sequence; avoid characters from '%s' or disable escaping",
				 prefix, prohibited);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < d->null_len; ++i)
		if (d->null[i] == '\n' || d->null[i] == '\r' || d->null[i] == d->delim) {
			snprintf(err, errlen, "%snull must not contain CR, LF or the delimiter", prefix);
			return -EINVAL;
		}
	return 0;
}

int qpart_dialect_from_config(const struct qpart_config *cfg, const char *prefix,
			      struct qpart_dialect *ret, char *err, size_t errlen)
{
	struct qpart_dialect d;
	bool noq, noe;
	memset(&d, 0, sizeof(d));
	if (get_char(cfg, prefix, "delimiter", '\t', &d.delim, err, errlen) < 0 ||
	    get_flag(cfg, prefix, "no-quote", &noq, err, errlen) < 0 ||
	    get_flag(cfg, prefix, "no-escape", &noe, err, errlen) < 0 ||
	    get_char(cfg, prefix, "quote", '"', &d.quote, err, errlen) < 0 ||
	    get_char(cfg, prefix, "escape", '\\', &d.escape, err, errlen) < 0)
		return -EINVAL;
	if (noq)
		d.quote = '\0';
	if (noe)
		d.escape = '\0';
	char key[128];
	const char *null;
	snprintf(key, sizeof(key), "%snull", prefix);
	int r = qpart_config_str(cfg, key, &null, err, errlen);
	if (r == -EINVAL)
		return r;
	if (r == 0) {
		if (strlen(null) >= sizeof(d.null)) {
			snprintf(err, errlen, "%s: NULL string too long", key);
			return -EINVAL;
		}
		strcpy(d.null, null);
	} else if (d.quote) {
		strcpy(d.null, "NULL");
	} else if (d.escape) {
		d.null[0] = d.escape;
		d.null[1] = 'N';
	}
	d.null_len = strlen(d.null);
	if ((r = validate(&d, prefix, err, errlen)) < 0)
		return r;
	*ret = d;
	return 0;
}

size_t qpart_csv_split(const struct qpart_dialect *d, const char *rec, size_t len,
		       struct qpart_field *fields, size_t max)
{
	size_t n = 0, i = 0;
	const char delim = d->delim, esc = d->escape, quote = d->quote;
	for (;;) {
		size_t start = i;
		bool quoted = quote && i < len && rec[i] == quote;
		if (quoted) {
			for (++i; i < len; ++i) {
				if (esc && rec[i] == esc) {
					++i;
				} else if (rec[i] == quote) {
					if (i + 1 < len && rec[i + 1] == quote) {
						++i;
					} else {
						++i;
						break;
					}
				}
			}
		}
		for (; i < len && rec[i] != delim; ++i)
			if (esc && rec[i] == esc)
				++i;
		if (i > len)
			i = len;
		if (n < max)
			fields[n] = (struct qpart_field){ rec + start, i - start };
		++n;
		if (i >= len)
			return n;
		++i;	/* skip the delimiter */
	}
}

bool qpart_csv_is_null(const struct qpart_dialect *d, const struct qpart_field *f)
{
	return f->len == d->null_len && memcmp(f->p, d->null, f->len) == 0;
}

long qpart_csv_decode(const struct qpart_dialect *d, const struct qpart_field *f, char *buf,
		      size_t cap)
{
	const char *v = f->p;
	size_t size = f->len, j = 0;
	bool quoted = d->quote && size > 0 && v[0] == d->quote;
	if (quoted)
		++v, --size;
	for (size_t i = 0; i < size; ++j) {
		if (j + 1 >= cap)
			return -1;
		char c = v[i++];
		if (d->escape && c == d->escape) {
			if (i < size)
				c = unescape(v[i++]);
		} else if (quoted && c == d->quote) {
			if (i < size) {
				if (v[i] == d->quote)
					++i;
			} else {
				break;
			}
		}
		buf[j] = c;
	}
	if (j >= cap)
		return -1;
	buf[j] = '\0';
	return (long)j;
}

long qpart_csv_encode(const struct qpart_dialect *d, const char *value, size_t len, char *buf,
		      size_t cap)
{
	if (!value) {
		if (d->null_len > cap)
			return -1;
		memcpy(buf, d->null, d->null_len);
		return (long)d->null_len;
	}
	bool special = false;
	for (size_t i = 0; i < len && !special; ++i) {
		char c = value[i];
		special = c == '\n' || c == '\r' || c == d->delim || (d->escape && c == d->escape) ||
			  (d->quote && c == d->quote);
	}
	bool looks_null = len == d->null_len && memcmp(value, d->null, len) == 0;
	size_t j = 0;
	if (!special && !looks_null) {
		if (len > cap)
			return -1;
		memcpy(buf, value, len);
		return (long)len;
	}
	if (d->quote && (looks_null || !d->escape)) {
		/* quote the value; embedded quotes doubled */
		if (cap < 2)
			return -1;
		buf[j++] = d->quote;
		for (size_t i = 0; i < len; ++i) {
			if (value[i] == '\n' || value[i] == '\r')
				return -1;
			if (j + 3 > cap)
				return -1;
			if (value[i] == d->quote)
				buf[j++] = d->quote;
			else if (d->escape && value[i] == d->escape)
				buf[j++] = d->escape;	/* escapes are read inside quotes too */
			buf[j++] = value[i];
		}
		buf[j++] = d->quote;
		return (long)j;
	}
	if (!d->escape)
		return -1;
	if (looks_null)
		return -1;	/* ambiguous with NULL in this dialect */
	for (size_t i = 0; i < len; ++i) {
		char c = value[i];
		if (j + 2 > cap)
			return -1;
		if (c == '\n' || c == '\r') {
			buf[j++] = d->escape;
			c = c == '\n' ? 'n' : 'r';
		} else if (c == d->delim || c == d->escape || (d->quote && c == d->quote)) {
			buf[j++] = d->escape;
		}
		buf[j++] = c;
	}
	if (j == d->null_len && memcmp(buf, d->null, j) == 0)
		return -1;	/* escaped into the NULL string: ambiguous */
	return (long)j;
}

bool qpart_dialect_equal(const struct qpart_dialect *a, const struct qpart_dialect *b)
{
	return a->delim == b->delim && a->quote == b->quote && a->escape == b->escape &&
	       a->null_len == b->null_len && memcmp(a->null, b->null, a->null_len) == 0;
}
