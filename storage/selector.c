/* selector.c: the qserv.disks= expression language: a tokenizer and a
 * recursive-descent parser into a small AST, evaluated per disk.
 *
 *   expr    := and ( "||" and )*
 *   and     := unary ( "&&" unary )*
 *   unary   := "!" unary | "(" expr ")" | field op value
 *   op      := "==" | "!=" | "<" | "<=" | ">" | ">=" | "~" | "!~"
 *   value   := number [unit] | "string" | true | false
 *
 * Each field has a type (number, bool, string) fixed by a table; the parser
 * checks the operator and value against it, so evaluation cannot fail.
 * Errors carry the byte offset where the parser stopped.  `~` is a glob
 * (fnmatch) on strings.  Sizes: K M G T P are powers of 1000, Ki..Pi of
 * 1024, an optional trailing B; numbers that overflow 64 bits are errors. */
#include "qstorage.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum ftype { F_NUM, F_BOOL, F_STR };
enum fid { FD_NAME, FD_ID, FD_SIZE, FD_ROT, FD_REM, FD_RO, FD_TRANSPORT, FD_MODEL, FD_SERIAL,
	   FD_WWID, FD_LSEC, FD_PSEC };
static const struct { const char *name; enum fid id; enum ftype type; } fields[] = {
	{ "name", FD_NAME, F_STR },           { "id", FD_ID, F_STR },
	{ "size", FD_SIZE, F_NUM },           { "rotational", FD_ROT, F_BOOL },
	{ "removable", FD_REM, F_BOOL },      { "read_only", FD_RO, F_BOOL },
	{ "transport", FD_TRANSPORT, F_STR }, { "model", FD_MODEL, F_STR },
	{ "serial", FD_SERIAL, F_STR },       { "wwid", FD_WWID, F_STR },
	{ "logical_sector", FD_LSEC, F_NUM }, { "physical_sector", FD_PSEC, F_NUM },
};

enum op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_GLOB, OP_NGLOB };
enum ntype { N_AND, N_OR, N_NOT, N_CMP };

struct qstorage_selector {
	enum ntype type;
	struct qstorage_selector *l, *r;  /* AND/OR: both; NOT: l */
	enum fid field;
	enum ftype ftype;
	enum op op;
	uint64_t num;                     /* F_NUM value, F_BOOL 0/1 */
	char *str;                        /* F_STR value */
};

struct parser {
	const char *s;
	size_t pos;
	char *err;
	size_t errlen;
	int depth;
};

/* Parse errors.  They return their constant themselves: a reader (and the
 * static analyzer, which stops following calls a few levels down the
 * recursive descent) sees at once that a failed parse returns < 0. */
static int perr(struct parser *p, size_t pos, const char *fmt, const char *arg)
{
	char msg[200];

	snprintf(msg, sizeof(msg), fmt, arg);
	p->pos = pos;
	qs_err(p->err, p->errlen, -EINVAL, "selector: position %zu: %s", pos + 1, msg);
	return -EINVAL;
}

static int oom(struct parser *p)
{
	qs_err(p->err, p->errlen, -ENOMEM, "out of memory");
	return -ENOMEM;
}

static void skip_ws(struct parser *p)
{
	while (isspace((unsigned char)p->s[p->pos]))
		p->pos++;
}

static bool eat(struct parser *p, const char *tok)
{
	size_t l = strlen(tok);

	skip_ws(p);
	if (strncmp(p->s + p->pos, tok, l))
		return false;
	p->pos += l;
	return true;
}

static struct qstorage_selector *node(enum ntype t)
{
	struct qstorage_selector *n = calloc(1, sizeof(*n));

	if (n)
		n->type = t;
	return n;
}

static int parse_or(struct parser *p, struct qstorage_selector **ret);

static int parse_op(struct parser *p, enum op *ret)
{
	static const struct { const char *tok; enum op op; } ops[] = {
		{ "==", OP_EQ }, { "!=", OP_NE }, { "<=", OP_LE }, { ">=", OP_GE },
		{ "!~", OP_NGLOB }, { "<", OP_LT }, { ">", OP_GT }, { "~", OP_GLOB },
	};

	skip_ws(p);
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (eat(p, ops[i].tok)) {
			*ret = ops[i].op;
			return 0;
		}
	return perr(p, p->pos, "expected an operator (== != < <= > >= ~ !~)%s", "");
}

static int parse_number(struct parser *p, uint64_t *ret)
{
	static const struct { const char *suf; uint64_t mul; } units[] = {
		{ "Ki", 1ull << 10 }, { "Mi", 1ull << 20 }, { "Gi", 1ull << 30 },
		{ "Ti", 1ull << 40 }, { "Pi", 1ull << 50 }, { "K", 1000ull },
		{ "M", 1000000ull }, { "G", 1000000000ull }, { "T", 1000000000000ull },
		{ "P", 1000000000000000ull },
	};
	size_t start = p->pos;
	uint64_t v = 0, mul = 1;

	while (isdigit((unsigned char)p->s[p->pos])) {
		unsigned dgt = (unsigned)(p->s[p->pos] - '0');
		if (v > (UINT64_MAX - dgt) / 10)
			return perr(p, start, "number too large%s", "");
		v = v * 10 + dgt;
		p->pos++;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t l = strlen(units[i].suf);
		if (!strncmp(p->s + p->pos, units[i].suf, l)) {
			mul = units[i].mul;
			p->pos += l;
			break;
		}
	}
	if (p->s[p->pos] == 'B')
		p->pos++;
	if (isalnum((unsigned char)p->s[p->pos]) || p->s[p->pos] == '_')
		return perr(p, p->pos, "unknown size unit (use K M G T P, Ki Mi Gi Ti Pi)%s", "");
	if (v && mul > UINT64_MAX / v)
		return perr(p, start, "number too large%s", "");
	*ret = v * mul;
	return 0;
}

static int parse_string(struct parser *p, char **ret)
{
	size_t start = p->pos, n = 0;
	char *out = malloc(strlen(p->s + p->pos) + 1);

	if (!out)
		return oom(p);
	p->pos++; /* opening quote */
	for (;;) {
		char c = p->s[p->pos];
		if (!c) {
			free(out);
			return perr(p, start, "unterminated string%s", "");
		}
		p->pos++;
		if (c == '"')
			break;
		if (c == '\\' && (p->s[p->pos] == '"' || p->s[p->pos] == '\\'))
			c = p->s[p->pos++];
		out[n++] = c;
	}
	out[n] = '\0';
	*ret = out;
	return 0;
}

static int parse_cmp(struct parser *p, struct qstorage_selector **ret)
{
	struct qstorage_selector *n;
	size_t start, vpos;
	char ident[32];
	size_t l = 0;
	int r;

	skip_ws(p);
	start = p->pos;
	while (isalnum((unsigned char)p->s[p->pos]) || p->s[p->pos] == '_') {
		if (l + 1 < sizeof(ident))
			ident[l++] = p->s[p->pos];
		p->pos++;
	}
	ident[l] = '\0';
	if (p->pos == start) {
		if (!p->s[p->pos])
			return perr(p, start, "unexpected end, expected a field name or '('%s", "");
		return perr(p, start, "expected a field name or '('%s", "");
	}
	size_t f = 0;
	while (f < sizeof(fields) / sizeof(fields[0]) && strcmp(fields[f].name, ident))
		f++;
	if (f == sizeof(fields) / sizeof(fields[0]))
		return perr(p, start,
			    "unknown field '%s' (name id size rotational removable read_only transport "
			    "model serial wwid logical_sector physical_sector)", ident);
	n = node(N_CMP);
	if (!n)
		return oom(p);
	n->field = fields[f].id;
	n->ftype = fields[f].type;
	size_t oppos;
	skip_ws(p);
	oppos = p->pos;
	if ((r = parse_op(p, &n->op)) < 0)
		goto fail;
	if ((n->op == OP_GLOB || n->op == OP_NGLOB) && n->ftype != F_STR) {
		r = perr(p, oppos, "'~' needs a string field, '%s' is not one", ident);
		goto fail;
	}
	if (n->op >= OP_LT && n->op <= OP_GE && n->ftype != F_NUM) {
		r = perr(p, oppos, "ordering needs a number field, '%s' is not one", ident);
		goto fail;
	}
	skip_ws(p);
	vpos = p->pos;
	char c = p->s[vpos];
	if (n->ftype == F_STR) {
		if (c != '"') {
			r = perr(p, vpos, "expected a \"string\" for '%s'", ident);
			goto fail;
		}
		r = parse_string(p, &n->str);
	} else if (n->ftype == F_NUM) {
		if (!isdigit((unsigned char)c)) {
			r = perr(p, vpos, "expected a number for '%s'", ident);
			goto fail;
		}
		r = parse_number(p, &n->num);
	} else {
		if (eat(p, "true") && !isalnum((unsigned char)p->s[p->pos]))
			n->num = 1;
		else if ((p->pos = vpos, eat(p, "false")) && !isalnum((unsigned char)p->s[p->pos]))
			n->num = 0;
		else
			r = perr(p, vpos, "expected true or false for '%s'", ident);
	}
	if (r < 0)
		goto fail;
	*ret = n;
	return 0;
fail:
	qstorage_selector_free(n);
	return r;
}

static int parse_unary(struct parser *p, struct qstorage_selector **ret)
{
	struct qstorage_selector *n;
	int r;

	if (++p->depth > 64)
		return perr(p, p->pos, "expression nested too deeply%s", "");
	skip_ws(p);
	if (p->s[p->pos] == '!' && p->s[p->pos + 1] != '=' && p->s[p->pos + 1] != '~') {
		p->pos++;
		if (!(n = node(N_NOT)))
			return oom(p);
		if ((r = parse_unary(p, &n->l)) < 0) {
			free(n);
			return r;
		}
		*ret = n;
	} else if (p->s[p->pos] == '(') {
		p->pos++;
		if ((r = parse_or(p, ret)) < 0)
			return r;
		if (!eat(p, ")")) {
			qstorage_selector_free(*ret);
			return perr(p, p->pos, "expected ')'%s", "");
		}
	} else if ((r = parse_cmp(p, ret)) < 0) {
		return r;
	}
	p->depth--;
	return 0;
}

static int parse_binary(struct parser *p, struct qstorage_selector **ret, bool is_or)
{
	struct qstorage_selector *l, *n, *r_;
	int r;

	r = is_or ? parse_binary(p, &l, false) : parse_unary(p, &l);
	if (r < 0)
		return r;
	while (eat(p, is_or ? "||" : "&&")) {
		r = is_or ? parse_binary(p, &r_, false) : parse_unary(p, &r_);
		if (r < 0) {
			qstorage_selector_free(l);
			return r;
		}
		if (!(n = node(is_or ? N_OR : N_AND))) {
			qstorage_selector_free(l);
			qstorage_selector_free(r_);
			return oom(p);
		}
		n->l = l, n->r = r_, l = n;
	}
	*ret = l;
	return 0;
}

static int parse_or(struct parser *p, struct qstorage_selector **ret)
{
	return parse_binary(p, ret, true);
}

int qstorage_selector_parse(const char *expr, struct qstorage_selector **ret_sel,
			    size_t *ret_errpos, char *err, size_t errlen)
{
	struct parser p = { .s = expr ? expr : "", .err = err, .errlen = errlen };
	struct qstorage_selector *sel;
	int r;

	r = parse_or(&p, &sel);
	if (r == 0) {
		skip_ws(&p);
		if (p.s[p.pos]) {
			qstorage_selector_free(sel);
			r = perr(&p, p.pos, "unexpected '%.20s' (expected && || or the end)", p.s + p.pos);
		}
	}
	if (r < 0) {
		if (ret_errpos)
			*ret_errpos = p.pos;
		return r;
	}
	*ret_sel = sel;
	return 0;
}

static const char *str_field(enum fid f, const struct qstorage_disk *d)
{
	switch (f) {
	case FD_NAME: return d->name;
	case FD_ID: return d->id;
	case FD_TRANSPORT: return d->transport;
	case FD_MODEL: return d->model;
	case FD_SERIAL: return d->serial;
	case FD_WWID: return d->wwid;
	default: return "";
	}
}

static uint64_t num_field(enum fid f, const struct qstorage_disk *d)
{
	switch (f) {
	case FD_SIZE: return d->size_bytes;
	case FD_ROT: return d->rotational;
	case FD_REM: return d->removable;
	case FD_RO: return d->read_only;
	case FD_LSEC: return d->logical_sector;
	case FD_PSEC: return d->physical_sector;
	default: return 0;
	}
}

bool qstorage_selector_match(const struct qstorage_selector *s, const struct qstorage_disk *d)
{
	if (!s)
		return true;
	switch (s->type) {
	case N_AND: return qstorage_selector_match(s->l, d) && qstorage_selector_match(s->r, d);
	case N_OR: return qstorage_selector_match(s->l, d) || qstorage_selector_match(s->r, d);
	case N_NOT: return !qstorage_selector_match(s->l, d);
	case N_CMP: break;
	}
	if (s->ftype == F_STR) {
		const char *v = str_field(s->field, d);
		switch (s->op) {
		case OP_EQ: return !strcmp(v, s->str);
		case OP_NE: return strcmp(v, s->str) != 0;
		case OP_GLOB: return fnmatch(s->str, v, 0) == 0;
		case OP_NGLOB: return fnmatch(s->str, v, 0) != 0;
		default: return false;
		}
	}
	uint64_t v = num_field(s->field, d);
	switch (s->op) {
	case OP_EQ: return v == s->num;
	case OP_NE: return v != s->num;
	case OP_LT: return v < s->num;
	case OP_LE: return v <= s->num;
	case OP_GT: return v > s->num;
	case OP_GE: return v >= s->num;
	default: return false;
	}
}

void qstorage_selector_free(struct qstorage_selector *s)
{
	if (!s)
		return;
	qstorage_selector_free(s->l);
	qstorage_selector_free(s->r);
	free(s->str);
	free(s);
}
