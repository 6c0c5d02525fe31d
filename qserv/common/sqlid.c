/* sqlid.c: the identifier validator and the column type grammar (rules in
 * sqlid.h).  The type parser is a small tokenizer (words, unsigned and
 * signed numbers, '...' strings, parentheses, commas; any other byte is
 * refused) and a recursive-descent grammar that re-emits every token it
 * accepts into the caller's buffer, so the text that reaches CREATE TABLE
 * is made only of tokens the grammar knows. */
#include "sqlid.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define NAME_MAX_BYTES 64

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

bool sqlid_ok_n(const char *s, size_t n)
{
	if (!s || n == 0 || n > NAME_MAX_BYTES || is_digit((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!is_alpha(c) && !is_digit(c) && c != '_')
			return false;
	}
	return true;
}

bool sqlid_ok(const char *s)
{
	return s && sqlid_ok_n(s, strlen(s));
}

static bool has_prefix_ci(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);
	return n >= k && strncasecmp(s, prefix, k) == 0;
}

/* Why a syntactically valid name of this kind is refused, or NULL. */
static const char *reserved(enum sqlid_kind kind, const char *s, size_t n)
{
	static const char *const system_dbs[] = { "mysql", "information_schema", "performance_schema", "sys" };
	switch (kind) {
	case SQLID_DATABASE:
		for (size_t i = 0; i < sizeof system_dbs / sizeof *system_dbs; i++)
			if (n == strlen(system_dbs[i]) && !strncasecmp(s, system_dbs[i], n))
				return "is a system database of the server";
		if (has_prefix_ci(s, n, "qserv"))
			return "starts with \"qserv\", reserved for Qserv's own databases";
		if (has_prefix_ci(s, n, "Subchunks_"))
			return "starts with \"Subchunks_\", reserved for the workers' sub-chunk databases";
		return NULL;
	case SQLID_TABLE:
	case SQLID_COLUMN:
		if (has_prefix_ci(s, n, "qserv"))
			return "starts with \"qserv\", reserved for Qserv's own tables and columns";
		return NULL;
	default:
		return NULL;
	}
}

int sqlid_check_n(enum sqlid_kind kind, const char *field, const char *name, size_t n,
		  char *err, size_t errlen)
{
	const char *why = NULL;
	if (!name || n == 0) {
		snprintf(err, errlen, "%s is required", field);
		return -EINVAL;
	}
	if (n > NAME_MAX_BYTES)
		why = "is longer than 64 bytes";
	else if (memchr(name, '\0', n))
		why = "contains a NUL byte";
	else if (is_digit((unsigned char)name[0]))
		why = "starts with a digit";
	else if (!sqlid_ok_n(name, n))
		why = "may hold only ASCII letters, digits and '_'";
	else
		why = reserved(kind, name, n);
	if (why) {
		snprintf(err, errlen, "%s: the name %s", field, why);
		return -EINVAL;
	}
	return 0;
}

int sqlid_check(enum sqlid_kind kind, const char *field, const char *name, char *err, size_t errlen)
{
	return sqlid_check_n(kind, field, name, name ? strlen(name) : 0, err, errlen);
}

/* ---- column types ---- */

enum tok { T_END, T_WORD, T_NUM, T_STR, T_LP, T_RP, T_COMMA };

struct parser {
	const char *s;          /* the type text */
	size_t pos;             /* next byte to read */
	enum tok t;             /* the current token */
	const char *tp;         /* its text and length */
	size_t tn;
	char word[NAME_MAX_BYTES + 1]; /* T_WORD, upper case */
	bool plain_int;         /* T_NUM: digits only */
	unsigned long long num; /* T_NUM with plain_int: its value (saturated) */
	char *out;              /* canonical output */
	size_t outlen, used;
	bool overflow;
	const char *field;
	char *err;
	size_t errlen;
	int failed;             /* the first error, then every call returns it */
};

static int fail(struct parser *p, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct parser *p, int rc, const char *fmt, ...)
{
	if (p->failed)
		return p->failed;
	char why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s: %s", p->field, why);
	p->failed = rc;
	return rc;
}

static void emit_n(struct parser *p, const char *s, size_t n)
{
	if (p->used + n + 1 > p->outlen) {
		p->overflow = true;
		return;
	}
	memcpy(p->out + p->used, s, n);
	p->used += n;
	p->out[p->used] = '\0';
}

static void emit(struct parser *p, const char *s)
{
	emit_n(p, s, strlen(s));
}

/* A space before a word unless at the start or after '(' or ','. */
static void emit_word(struct parser *p, const char *w)
{
	if (p->used && p->out[p->used - 1] != '(' && p->out[p->used - 1] != ',')
		emit(p, " ");
	emit(p, w);
}

static int lex_number(struct parser *p, size_t i)
{
	const char *s = p->s;
	size_t start = i;
	bool plain = true;
	if (s[i] == '+' || s[i] == '-')
		i++, plain = false;
	unsigned long long v = 0;
	while (is_digit((unsigned char)s[i])) {
		unsigned d = (unsigned)(s[i++] - '0');
		v = v > (~0ULL - d) / 10 ? ~0ULL : v * 10 + d;
	}
	if (s[i] == '.') {
		plain = false;
		i++;
		while (is_digit((unsigned char)s[i]))
			i++;
	}
	if (s[i] == 'e' || s[i] == 'E') {
		plain = false;
		i++;
		if (s[i] == '+' || s[i] == '-')
			i++;
		if (!is_digit((unsigned char)s[i]))
			return fail(p, -EINVAL, "a number's exponent needs digits");
		while (is_digit((unsigned char)s[i]))
			i++;
	}
	if (is_alpha((unsigned char)s[i]) || s[i] == '_')
		return fail(p, -EINVAL, "a number runs into a word at byte %zu", i + 1);
	if (i - start > 40)
		return fail(p, -EINVAL, "a number is longer than 40 characters");
	p->t = T_NUM;
	p->tp = s + start;
	p->tn = i - start;
	p->plain_int = plain;
	p->num = v;
	p->pos = i;
	return 0;
}

/* '...' of printable ASCII without backslash; '' stands for a quote. */
static int lex_string(struct parser *p, size_t i)
{
	const char *s = p->s;
	size_t start = i++;
	for (;;) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\0')
			return fail(p, -EINVAL, "a quoted string is not closed");
		if (c == '\'') {
			if (s[i + 1] == '\'') {
				i += 2;
				continue;
			}
			break;
		}
		if (c == '\\')
			return fail(p, -EINVAL, "a backslash is not allowed in a quoted string");
		if (c < 0x20 || c > 0x7e)
			return fail(p, -EINVAL, "a quoted string may hold only printable ASCII");
		i++;
	}
	p->t = T_STR;
	p->tp = s + start;
	p->tn = i + 1 - start;
	p->pos = i + 1;
	return 0;
}

static int next(struct parser *p)
{
	const char *s = p->s;
	size_t i = p->pos;
	if (p->failed)
		return p->failed;
	while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
		i++;
	p->pos = i;
	unsigned char c = (unsigned char)s[i];
	if (c == '\0') {
		p->t = T_END;
		return 0;
	}
	if (c == '(' || c == ')' || c == ',') {
		p->t = c == '(' ? T_LP : c == ')' ? T_RP : T_COMMA;
		p->pos = i + 1;
		return 0;
	}
	if (is_alpha(c) || c == '_') {
		size_t n = 0;
		while (is_alpha((unsigned char)s[i + n]) || is_digit((unsigned char)s[i + n]) || s[i + n] == '_')
			n++;
		if (n > NAME_MAX_BYTES)
			return fail(p, -EINVAL, "a word is longer than 64 characters");
		for (size_t k = 0; k < n; k++)
			p->word[k] = (char)toupper((unsigned char)s[i + k]);
		p->word[n] = '\0';
		p->t = T_WORD;
		p->tp = s + i;
		p->tn = n;
		p->pos = i + n;
		return 0;
	}
	if (is_digit(c) || ((c == '-' || c == '+') && is_digit((unsigned char)s[i + 1])))
		return lex_number(p, i);
	if (c == '\'')
		return lex_string(p, i);
	if (c == '`' || c == '"')
		return fail(p, -EINVAL, "quotes and backticks are not part of a type (byte %zu)", i + 1);
	if (c == ';' || c == '#' || c == '/' || c == '-' || c == '*')
		return fail(p, -EINVAL, "';', comments and operators are not part of a type (byte %zu)", i + 1);
	if (c >= 0x80)
		return fail(p, -EINVAL, "a type is plain ASCII (non-ASCII byte at %zu)", i + 1);
	return fail(p, -EINVAL, "unexpected character at byte %zu", i + 1);
}

static bool is_word(struct parser *p, const char *w)
{
	return !p->failed && p->t == T_WORD && !strcmp(p->word, w);
}

/* An unsigned integer argument in [lo, hi], emitted. */
static int arg(struct parser *p, const char *what, unsigned long long lo, unsigned long long hi,
	       unsigned long long *ret)
{
	if (p->failed)
		return p->failed;
	if (p->t != T_NUM || !p->plain_int)
		return fail(p, -EINVAL, "%s must be an unsigned integer", what);
	if (p->num < lo || p->num > hi)
		return fail(p, -EINVAL, "%s must be in %llu..%llu", what, lo, hi);
	emit_n(p, p->tp, p->tn);
	if (ret)
		*ret = p->num;
	return next(p);
}

static int expect(struct parser *p, enum tok t, const char *what)
{
	if (p->failed)
		return p->failed;
	if (p->t != t)
		return fail(p, -EINVAL, "%s expected", what);
	emit(p, t == T_LP ? "(" : t == T_RP ? ")" : ",");
	return next(p);
}

/* [ '(' n ')' ] with n in [lo, hi]; required when need. */
static int opt_len(struct parser *p, const char *type, unsigned long long lo, unsigned long long hi, bool need)
{
	char what[96];
	if (p->failed)
		return p->failed;
	if (p->t != T_LP) {
		if (need)
			return fail(p, -EINVAL, "%s needs a length, e.g. %s(255)", type, type);
		return 0;
	}
	snprintf(what, sizeof what, "the length of %s", type);
	expect(p, T_LP, "'('");
	arg(p, what, lo, hi, NULL);
	return expect(p, T_RP, "')'");
}

/* [ '(' m [, d] ')' ]: precision m in [1, mmax], scale d in [0, dmax],
 * d <= m; both required when need_scale. */
static int opt_prec(struct parser *p, const char *type, unsigned long long mmax, unsigned long long dmax,
		    bool need_scale)
{
	unsigned long long m = 0, d = 0;
	char what[96];
	if (p->failed || p->t != T_LP)
		return p->failed;
	expect(p, T_LP, "'('");
	snprintf(what, sizeof what, "the precision of %s", type);
	arg(p, what, need_scale || strcmp(type, "FLOAT") ? 1 : 0, mmax, &m);
	if (!p->failed && p->t != T_COMMA && !need_scale && !strcmp(type, "FLOAT") && m > 53)
		return fail(p, -EINVAL, "the precision of FLOAT(p) must be in 0..53");
	if (!p->failed && p->t == T_COMMA) {
		expect(p, T_COMMA, "','");
		snprintf(what, sizeof what, "the scale of %s", type);
		arg(p, what, 0, dmax, &d);
		if (!p->failed && d > m)
			return fail(p, -EINVAL, "the scale of %s is larger than its precision", type);
	} else if (need_scale) {
		return fail(p, -EINVAL, "%s takes (precision, scale)", type);
	}
	return expect(p, T_RP, "')'");
}

/* { SIGNED | UNSIGNED | ZEROFILL }, each once, SIGNED xor UNSIGNED. */
static int num_attrs(struct parser *p)
{
	bool sign = false, zf = false;
	while (is_word(p, "SIGNED") || is_word(p, "UNSIGNED") || is_word(p, "ZEROFILL")) {
		bool *seen = is_word(p, "ZEROFILL") ? &zf : &sign;
		if (*seen)
			return fail(p, -EINVAL, "%s repeats or contradicts an attribute", p->word);
		*seen = true;
		emit_word(p, p->word);
		next(p);
	}
	return p->failed;
}

static int name_after(struct parser *p, const char *what)
{
	if (p->failed)
		return p->failed;
	if (p->t != T_WORD || !sqlid_ok_n(p->tp, p->tn))
		return fail(p, -EINVAL, "%s needs a name (letters, digits, '_')", what);
	emit_word(p, p->word);
	return next(p);
}

/* [BINARY] { CHARACTER SET x | CHARSET x | COLLATE x }, each once. */
static int text_attrs(struct parser *p, bool allow_binary)
{
	bool bin = false, cs = false, coll = false;
	while (!p->failed) {
		if (allow_binary && is_word(p, "BINARY")) {
			if (bin)
				return fail(p, -EINVAL, "BINARY repeats");
			bin = true;
			emit_word(p, "BINARY");
			next(p);
		} else if (is_word(p, "CHARACTER") || is_word(p, "CHARSET")) {
			if (cs)
				return fail(p, -EINVAL, "the character set is given twice");
			cs = true;
			bool two = is_word(p, "CHARACTER");
			emit_word(p, p->word);
			next(p);
			if (two) {
				if (!is_word(p, "SET"))
					return fail(p, -EINVAL, "CHARACTER must be followed by SET");
				emit_word(p, "SET");
				next(p);
			}
			name_after(p, "CHARACTER SET");
		} else if (is_word(p, "COLLATE")) {
			if (coll)
				return fail(p, -EINVAL, "COLLATE is given twice");
			coll = true;
			emit_word(p, "COLLATE");
			next(p);
			name_after(p, "COLLATE");
		} else {
			break;
		}
	}
	return p->failed;
}

/* ENUM / SET ( 'a', 'b', ... ) */
static int value_list(struct parser *p, const char *type, size_t max)
{
	size_t n = 0;
	if (p->failed)
		return p->failed;
	if (p->t != T_LP)
		return fail(p, -EINVAL, "%s needs a list of quoted values, e.g. %s('a','b')", type, type);
	expect(p, T_LP, "'('");
	for (;;) {
		if (p->failed)
			return p->failed;
		if (p->t != T_STR)
			return fail(p, -EINVAL, "%s values must be quoted strings", type);
		if (++n > max)
			return fail(p, -EINVAL, "%s takes at most %zu values", type, max);
		emit_n(p, p->tp, p->tn);
		next(p);
		if (p->t == T_RP)
			break;
		expect(p, T_COMMA, "',' or ')'");
	}
	return expect(p, T_RP, "')'");
}

enum kind { K_INT, K_PLAIN, K_BIT, K_DEC, K_FLOAT, K_DOUBLE, K_REAL, K_YEAR, K_FSP, K_CHAR, K_VARCHAR,
	    K_BINARY, K_VARBINARY, K_BLOBN, K_TEXT, K_TEXTN, K_ENUM, K_SET, K_NATIONAL };

static const struct tdef {
	const char *name;
	enum kind kind;
} types[] = {
	{ "TINYINT", K_INT }, { "SMALLINT", K_INT }, { "MEDIUMINT", K_INT }, { "MIDDLEINT", K_INT },
	{ "INT", K_INT }, { "INTEGER", K_INT }, { "BIGINT", K_INT }, { "INT1", K_INT }, { "INT2", K_INT },
	{ "INT3", K_INT }, { "INT4", K_INT }, { "INT8", K_INT },
	{ "BOOL", K_PLAIN }, { "BOOLEAN", K_PLAIN }, { "BIT", K_BIT },
	{ "DECIMAL", K_DEC }, { "DEC", K_DEC }, { "NUMERIC", K_DEC }, { "FIXED", K_DEC },
	{ "FLOAT", K_FLOAT }, { "FLOAT4", K_FLOAT }, { "DOUBLE", K_DOUBLE }, { "FLOAT8", K_REAL },
	{ "REAL", K_REAL },
	{ "DATE", K_PLAIN }, { "YEAR", K_YEAR }, { "TIME", K_FSP }, { "DATETIME", K_FSP }, { "TIMESTAMP", K_FSP },
	{ "CHAR", K_CHAR }, { "CHARACTER", K_CHAR }, { "NCHAR", K_CHAR }, { "NATIONAL", K_NATIONAL },
	{ "VARCHAR", K_VARCHAR }, { "NVARCHAR", K_VARCHAR },
	{ "BINARY", K_BINARY }, { "VARBINARY", K_VARBINARY },
	{ "TINYBLOB", K_PLAIN }, { "BLOB", K_BLOBN }, { "MEDIUMBLOB", K_PLAIN }, { "LONGBLOB", K_PLAIN },
	{ "TINYTEXT", K_TEXT }, { "TEXT", K_TEXTN }, { "MEDIUMTEXT", K_TEXT }, { "LONGTEXT", K_TEXT },
	{ "ENUM", K_ENUM }, { "SET", K_SET }, { "JSON", K_PLAIN },
	{ "GEOMETRY", K_PLAIN }, { "POINT", K_PLAIN }, { "LINESTRING", K_PLAIN }, { "POLYGON", K_PLAIN },
	{ "MULTIPOINT", K_PLAIN }, { "MULTILINESTRING", K_PLAIN }, { "MULTIPOLYGON", K_PLAIN },
	{ "GEOMETRYCOLLECTION", K_PLAIN }, { "INET4", K_PLAIN }, { "INET6", K_PLAIN }, { "UUID", K_PLAIN },
};

/* CHAR [VARYING] / VARCHAR with their length and text attributes. */
static int char_type(struct parser *p, const char *name, bool varying)
{
	if (!varying && is_word(p, "VARYING")) {
		emit_word(p, "VARYING");
		next(p);
		varying = true;
	}
	opt_len(p, name, 0, varying ? 65535 : 255, varying);
	return text_attrs(p, true);
}

static int base_type(struct parser *p)
{
	const struct tdef *d = NULL;
	char name[NAME_MAX_BYTES + 1];
	if (p->failed)
		return p->failed;
	if (p->t != T_WORD)
		return fail(p, -EINVAL, "a type must start with its name, e.g. INT, DOUBLE, VARCHAR(64)");
	for (size_t i = 0; i < sizeof types / sizeof *types && !d; i++)
		if (!strcmp(p->word, types[i].name))
			d = &types[i];
	if (!d)
		return fail(p, -EINVAL, "unknown type %s", p->word);
	snprintf(name, sizeof name, "%s", d->name);
	emit_word(p, name);
	next(p);
	switch (d->kind) {
	case K_INT:
		opt_len(p, name, 1, 255, false);
		return num_attrs(p);
	case K_PLAIN:
		return p->failed;
	case K_BIT:
		return opt_len(p, name, 1, 64, false);
	case K_DEC:
		opt_prec(p, name, 65, 38, false);
		return num_attrs(p);
	case K_FLOAT:
		opt_prec(p, name, 255, 30, false);
		return num_attrs(p);
	case K_DOUBLE:
		if (is_word(p, "PRECISION")) {
			emit_word(p, "PRECISION");
			next(p);
		}
		/* fall through */
	case K_REAL:
		opt_prec(p, name, 255, 30, true);
		return num_attrs(p);
	case K_YEAR:
		if (!p->failed && p->t == T_LP) {
			expect(p, T_LP, "'('");
			arg(p, "the width of YEAR", 4, 4, NULL);
			expect(p, T_RP, "')'");
		}
		return p->failed;
	case K_FSP:
		return opt_len(p, name, 0, 6, false);
	case K_CHAR:
		return char_type(p, name, false);
	case K_VARCHAR:
		return char_type(p, name, true);
	case K_NATIONAL:
		if (!is_word(p, "CHAR") && !is_word(p, "CHARACTER") && !is_word(p, "VARCHAR"))
			return fail(p, -EINVAL, "NATIONAL must be followed by CHAR, CHARACTER or VARCHAR");
		snprintf(name, sizeof name, "%s", p->word);
		emit_word(p, name);
		next(p);
		return char_type(p, name, !strcmp(name, "VARCHAR"));
	case K_BINARY:
		return opt_len(p, name, 0, 255, false);
	case K_VARBINARY:
		return opt_len(p, name, 0, 65535, true);
	case K_BLOBN:
		return opt_len(p, name, 0, 4294967295ULL, false);
	case K_TEXT:
		return text_attrs(p, true);
	case K_TEXTN:
		opt_len(p, name, 0, 4294967295ULL, false);
		return text_attrs(p, true);
	case K_ENUM:
		value_list(p, name, 65535);
		return text_attrs(p, false);
	case K_SET:
		value_list(p, name, 64);
		return text_attrs(p, false);
	}
	return p->failed;
}

static int default_value(struct parser *p)
{
	if (p->failed)
		return p->failed;
	if (is_word(p, "NULL") || is_word(p, "TRUE") || is_word(p, "FALSE")) {
		emit_word(p, p->word);
		return next(p);
	}
	if (is_word(p, "CURRENT_TIMESTAMP")) {
		emit_word(p, p->word);
		next(p);
		if (!p->failed && p->t == T_LP) {
			expect(p, T_LP, "'('");
			if (!p->failed && p->t != T_RP)
				arg(p, "the precision of CURRENT_TIMESTAMP", 0, 6, NULL);
			expect(p, T_RP, "')'");
		}
		return p->failed;
	}
	if (p->t == T_NUM || p->t == T_STR) {
		emit_word(p, "");
		emit_n(p, p->tp, p->tn);
		return next(p);
	}
	return fail(p, -EINVAL, "DEFAULT takes NULL, TRUE, FALSE, a number, a quoted string or CURRENT_TIMESTAMP");
}

/* { NULL | NOT NULL | DEFAULT v | COMMENT 's' }, each once. */
static int column_attrs(struct parser *p)
{
	bool nul = false, def = false, com = false;
	while (!p->failed && p->t != T_END) {
		if (is_word(p, "NULL") || is_word(p, "NOT")) {
			if (nul)
				return fail(p, -EINVAL, "NULL / NOT NULL is given twice");
			nul = true;
			if (is_word(p, "NOT")) {
				emit_word(p, "NOT");
				next(p);
				if (!is_word(p, "NULL"))
					return fail(p, -EINVAL, "NOT must be followed by NULL");
			}
			emit_word(p, "NULL");
			next(p);
		} else if (is_word(p, "DEFAULT")) {
			if (def)
				return fail(p, -EINVAL, "DEFAULT is given twice");
			def = true;
			emit_word(p, "DEFAULT");
			next(p);
			default_value(p);
		} else if (is_word(p, "COMMENT")) {
			if (com)
				return fail(p, -EINVAL, "COMMENT is given twice");
			com = true;
			emit_word(p, "COMMENT");
			next(p);
			if (p->failed || p->t != T_STR)
				return fail(p, -EINVAL, "COMMENT takes a quoted string");
			emit_word(p, "");
			emit_n(p, p->tp, p->tn);
			next(p);
		} else if (p->t == T_WORD) {
			return fail(p, -EINVAL, "%s is not allowed here (after the type: NULL, NOT NULL, DEFAULT,"
				    " COMMENT)", p->word);
		} else {
			return fail(p, -EINVAL, "unexpected %s after the type",
				    p->t == T_NUM ? "number" : p->t == T_STR ? "string" : "punctuation");
		}
	}
	return p->failed;
}

int sqlid_type(const char *field, const char *type, char *out, size_t outlen, char *err, size_t errlen)
{
	struct parser p = { .s = type, .out = out, .outlen = outlen, .field = field, .err = err,
			    .errlen = errlen };
	if (!type || !*type) {
		snprintf(err, errlen, "%s is required", field);
		return -EINVAL;
	}
	if (strlen(type) > SQLID_TYPE_MAX) {
		snprintf(err, errlen, "%s: a type is at most %d bytes", field, SQLID_TYPE_MAX);
		return -ENAMETOOLONG;
	}
	if (outlen)
		out[0] = '\0';
	next(&p);
	base_type(&p);
	column_attrs(&p);
	if (p.failed)
		return p.failed;
	if (p.overflow) {
		snprintf(err, errlen, "%s: the type does not fit the statement buffer", field);
		return -ENAMETOOLONG;
	}
	return 0;
}
