/* sql_parse.c: recursive-descent parser for the czar's SQL dialect.
 *
 * One function per grammar rule, following MySQL's operator precedence
 * (lowest first): OR/||, XOR, AND/&&, NOT, comparison/IS/LIKE/IN/BETWEEN,
 * |, &, << >>, + -, * / DIV % MOD, ^, unary - ~ + !, BINARY.  The first
 * error wins: p->failed stops every rule, and the error names the position
 * (line and the text near it) like MariaDB's own ER_PARSE_ERROR.  Constructs
 * Qserv cannot answer exactly are refused here with ER_NOT_SUPPORTED_YET,
 * before any planning, so they can never produce a wrong answer. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mariadb/mysqld_error.h>

#include "sql_internal.h"

struct parser {
	struct sql_lexer lx;
	struct sql_token t;          /* current token */
	struct sql_arena *a;
	struct sql_error *err;
	int failed;
	int depth;
	int chained;                 /* operators applied to an earlier operand */
	int prev_end;                /* end offset of the last consumed token */
};

static const char *const reserved[] = {
	"SELECT", "FROM", "WHERE", "GROUP", "BY", "HAVING", "ORDER", "LIMIT", "OFFSET", "AND", "OR",
	"NOT", "XOR", "IN", "IS", "NULL", "LIKE", "BETWEEN", "CASE", "WHEN", "THEN", "ELSE", "END",
	"AS", "ON", "USING", "JOIN", "INNER", "LEFT", "RIGHT", "CROSS", "OUTER", "NATURAL", "DISTINCT",
	"DISTINCTROW", "ALL", "UNION", "DIV", "MOD", "ASC", "DESC", "TRUE", "FALSE", "INTO", "FOR",
	"STRAIGHT_JOIN", "REGEXP", "RLIKE", "ESCAPE", "EXISTS", "WITH", "LOCK", "INTERSECT", "EXCEPT",
	"WINDOW", "FORCE", "IGNORE", "USE", "PROCEDURE", "BINARY", "COLLATE", "INTERVAL", "SOUNDS", NULL,
};

static int is_reserved(const char *s)
{
	size_t i;

	for (i = 0; reserved[i]; i++)
		if (!strcasecmp(s, reserved[i]))
			return 1;
	return 0;
}

static int line_of(const char *src, int pos)
{
	int i, line = 1;

	for (i = 0; i < pos; i++)
		if (src[i] == '\n')
			line++;
	return line;
}

static void set_error(struct parser *p, unsigned code, int pos, const char *fmt, va_list ap)
{
	char why[200];
	const char *near;
	int n;

	if (p->failed)
		return;
	p->failed = 1;
	vsnprintf(why, sizeof(why), fmt, ap);
	near = p->lx.src + pos;
	n = (int)(p->lx.len - (size_t)pos);
	if (n > 60)
		n = 60;
	p->err->code = code;
	p->err->pos = pos;
	p->err->line = line_of(p->lx.src, pos);
	if (code == ER_PARSE_ERROR)
		snprintf(p->err->msg, sizeof(p->err->msg),
			 "You have an error in your SQL syntax (%s) near '%.*s' at line %d", why, n, near,
			 p->err->line);
	else
		snprintf(p->err->msg, sizeof(p->err->msg), "Qserv does not support %s (near '%.*s' at line %d)",
			 why, n, near, p->err->line);
}

static void syntax(struct parser *p, int pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void syntax(struct parser *p, int pos, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_error(p, ER_PARSE_ERROR, pos, fmt, ap);
	va_end(ap);
}

static void refuse(struct parser *p, int pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void refuse(struct parser *p, int pos, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_error(p, ER_NOT_SUPPORTED_YET, pos, fmt, ap);
	va_end(ap);
}

static void next(struct parser *p)
{
	if (p->failed)
		return;
	p->prev_end = p->t.pos + p->t.len;
	p->t = sql_lex_next(&p->lx);
	if (p->t.kind == TK_ERROR) {
		if (!strcmp(p->lx.error, "executable comments are not supported"))
			refuse(p, p->t.pos, "executable comments");
		else
			syntax(p, p->t.pos, "%s", p->lx.error);
	}
}

static struct sql_token peek(struct parser *p)
{
	struct sql_lexer save = p->lx;
	struct sql_token t = sql_lex_next(&p->lx);

	p->lx = save;
	return t;
}

static int is_kw(const struct parser *p, const char *kw)
{
	return !p->failed && p->t.kind == TK_IDENT && !strcasecmp(p->t.text, kw);
}

static int accept_kw(struct parser *p, const char *kw)
{
	if (!is_kw(p, kw))
		return 0;
	next(p);
	return 1;
}

static int is_op(const struct parser *p, const char *op)
{
	return !p->failed && p->t.kind == TK_OP && !strcmp(p->t.text, op);
}

static int accept_op(struct parser *p, const char *op)
{
	if (!is_op(p, op))
		return 0;
	next(p);
	return 1;
}

static const char *describe(const struct sql_token *t)
{
	return t->kind == TK_END ? "end of statement" : t->text ? t->text : "?";
}

static void expect_kw(struct parser *p, const char *kw)
{
	if (!accept_kw(p, kw))
		syntax(p, p->t.pos, "expected %s, found %s", kw, describe(&p->t));
}

static void expect_op(struct parser *p, const char *op)
{
	if (!accept_op(p, op))
		syntax(p, p->t.pos, "expected '%s', found %s", op, describe(&p->t));
}

static void *oom(struct parser *p)
{
	if (!p->failed) {
		p->failed = 1;
		p->err->code = ER_OUT_OF_RESOURCES;
		snprintf(p->err->msg, sizeof(p->err->msg), "Out of memory parsing the statement");
	}
	return NULL;
}

static struct sql_expr *mk(struct parser *p, enum sql_expr_kind kind, size_t nargs, int pos)
{
	struct sql_expr *e = sql_expr_new(p->a, kind, nargs);

	if (!e)
		return oom(p);
	e->pos = pos;
	return e;
}

/* A growable array of pointers in the arena. */
struct vec {
	void **v;
	size_t n, cap;
};

static int vec_push(struct parser *p, struct vec *v, void *x)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 4;
		void **nv = sql_alloc(p->a, cap * sizeof(*nv));
		if (!nv)
			return oom(p), -1;
		if (v->n)
			memcpy(nv, v->v, v->n * sizeof(*nv));
		v->v = nv;
		v->cap = cap;
	}
	v->v[v->n++] = x;
	return 0;
}

/* Identifier (plain non-reserved or back-quoted), or NULL after an error. */
static const char *ident(struct parser *p, const char *what)
{
	const char *s;

	if (p->failed)
		return NULL;
	if (p->t.kind == TK_QIDENT || (p->t.kind == TK_IDENT && !is_reserved(p->t.text))) {
		s = p->t.text;
		next(p);
		return s;
	}
	syntax(p, p->t.pos, "expected %s, found %s", what, describe(&p->t));
	return NULL;
}

static struct sql_expr *expr(struct parser *p);

/* An operator applied to an operand built before it (1 + 1 + 1 ...,
 * x IS NULL IS NULL ...) deepens the tree without recursing here, but the
 * printer, the planner and sql_stmt_free do recurse: chains are bounded
 * per statement, as nesting is (200 levels), to stay far inside a session
 * thread's 8 MiB stack (a 100,000-term chain still fitted; MariaDB on the
 * workers stops parsing the printed form somewhere past 20,000). */
#define SQL_MAX_CHAINED 20000
static int chained(struct parser *p, int pos)
{
	if (++p->chained <= SQL_MAX_CHAINED)
		return 0;
	refuse(p, pos, "more than %d chained operators in one statement (long OR lists: use IN (...))",
	       SQL_MAX_CHAINED);
	return -1;
}

static struct sql_expr *binary(struct parser *p, const char *op, struct sql_expr *l, struct sql_expr *r, int pos)
{
	struct sql_expr *e;

	if (!l || !r)
		return NULL;
	e = mk(p, SQL_E_BINARY, 2, pos);
	if (!e)
		return NULL;
	e->text = op;
	e->args[0] = l;
	e->args[1] = r;
	return e;
}

static struct sql_expr *from_vec(struct parser *p, enum sql_expr_kind kind, struct vec *v, int pos)
{
	struct sql_expr *e = mk(p, kind, 0, pos);

	if (!e)
		return NULL;
	e->args = (struct sql_expr **)v->v;
	e->nargs = v->n;
	return e;
}

static struct sql_expr *func_call(struct parser *p, const char *name, int pos)
{
	struct vec args = { 0 };
	struct sql_expr *e;
	int distinct = 0, star = 0;

	/* current token is '(' */
	next(p);
	if (accept_kw(p, "DISTINCT"))
		distinct = 1;
	else
		accept_kw(p, "ALL");
	if (is_op(p, "*") && !strcasecmp(name, "COUNT")) {
		next(p);
		star = 1;
	} else if (!is_op(p, ")")) {
		do {
			struct sql_expr *a = expr(p);
			if (!a || vec_push(p, &args, a) < 0)
				return NULL;
		} while (accept_op(p, ","));
	}
	if (is_kw(p, "ORDER") || is_kw(p, "SEPARATOR"))
		return refuse(p, p->t.pos, "ORDER BY or SEPARATOR inside an aggregate"), NULL;
	expect_op(p, ")");
	if (is_kw(p, "OVER"))
		return refuse(p, p->t.pos, "window functions"), NULL;
	if (p->failed)
		return NULL;
	if (distinct && !star && args.n == 0)
		return syntax(p, pos, "DISTINCT needs an argument"), NULL;
	e = from_vec(p, SQL_E_FUNC, &args, pos);
	if (!e)
		return NULL;
	e->text = name;
	e->distinct = distinct;
	if (star) {
		struct sql_expr *s = mk(p, SQL_E_STAR, 0, pos);
		struct vec one = { 0 };
		if (!s || vec_push(p, &one, s) < 0)
			return NULL;
		e->args = (struct sql_expr **)one.v;
		e->nargs = 1;
	}
	if (distinct && !sql_is_aggregate(e))
		return syntax(p, pos, "DISTINCT inside %s(), which is not an aggregate", name), NULL;
	return e;
}

static struct sql_expr *case_expr(struct parser *p, int pos)
{
	struct vec v = { 0 };
	struct sql_expr *x = NULL;

	next(p);   /* CASE */
	if (!is_kw(p, "WHEN") && !(x = expr(p)))
		return NULL;
	if (vec_push(p, &v, x) < 0)
		return NULL;
	if (!is_kw(p, "WHEN"))
		return syntax(p, p->t.pos, "expected WHEN, found %s", describe(&p->t)), NULL;
	while (accept_kw(p, "WHEN")) {
		struct sql_expr *w = expr(p), *t;
		expect_kw(p, "THEN");
		t = expr(p);
		if (!w || !t || vec_push(p, &v, w) < 0 || vec_push(p, &v, t) < 0)
			return NULL;
	}
	x = NULL;
	if (accept_kw(p, "ELSE") && !(x = expr(p)))
		return NULL;
	if (vec_push(p, &v, x) < 0)
		return NULL;
	expect_kw(p, "END");
	return p->failed ? NULL : from_vec(p, SQL_E_CASE, &v, pos);
}

static struct sql_expr *cast_expr(struct parser *p, int pos)
{
	static const char *const types[] = { "SIGNED", "UNSIGNED", "CHAR", "DOUBLE", "FLOAT", "DECIMAL",
		"DATE", "DATETIME", "TIME", "BINARY", "INTEGER", "INT", NULL };
	struct sql_expr *e, *x;
	char buf[64];
	const char *ty;
	size_t i;

	next(p);   /* ( */
	if (!(x = expr(p)))
		return NULL;
	expect_kw(p, "AS");
	if (p->failed)
		return NULL;
	ty = p->t.kind == TK_IDENT ? p->t.text : "";
	for (i = 0; types[i]; i++)
		if (!strcasecmp(ty, types[i]))
			break;
	if (!types[i])
		return syntax(p, p->t.pos, "expected a CAST type, found %s", describe(&p->t)), NULL;
	snprintf(buf, sizeof(buf), "%s", types[i]);
	next(p);
	if (is_kw(p, "INTEGER") || is_kw(p, "INT")) {    /* SIGNED INTEGER */
		next(p);
	}
	if (accept_op(p, "(")) {                          /* DECIMAL(10,2), CHAR(5) */
		if (p->t.kind != TK_NUM)
			return syntax(p, p->t.pos, "expected a length"), NULL;
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "(%s", p->t.text);
		next(p);
		if (accept_op(p, ",")) {
			if (p->t.kind != TK_NUM)
				return syntax(p, p->t.pos, "expected a scale"), NULL;
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), ",%s", p->t.text);
			next(p);
		}
		expect_op(p, ")");
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), ")");
	}
	expect_op(p, ")");
	if (p->failed || !(e = mk(p, SQL_E_CAST, 1, pos)))
		return NULL;
	e->args[0] = x;
	e->text = sql_strdup(p->a, buf);
	return e->text ? e : oom(p);
}

static struct sql_expr *column_or_call(struct parser *p)
{
	int pos = p->t.pos;
	const char *parts[3];
	int n = 0;
	struct sql_expr *e;

	if (p->t.kind == TK_IDENT && (is_kw(p, "LEFT") || is_kw(p, "RIGHT") || is_kw(p, "MOD") ||
				      is_kw(p, "IF") || is_kw(p, "INSERT")) && peek(p).kind == TK_OP &&
	    !strcmp(peek(p).text, "(")) {
		const char *name = p->t.text;
		next(p);
		return func_call(p, name, pos);
	}
	if (!(parts[n++] = ident(p, "an expression")))
		return NULL;
	if (is_op(p, "(")) {
		if (!strcasecmp(parts[0], "CAST"))
			return cast_expr(p, pos);
		return func_call(p, parts[0], pos);
	}
	while (n < 3 && accept_op(p, ".")) {
		if (is_op(p, "*")) {
			parts[n++] = "*";
			next(p);
			break;
		}
		if (p->t.kind == TK_IDENT || p->t.kind == TK_QIDENT) {   /* reserved words allowed after '.' */
			parts[n++] = p->t.text;
			next(p);
		} else {
			return syntax(p, p->t.pos, "expected a column name after '.'"), NULL;
		}
	}
	if (is_op(p, "."))
		return syntax(p, p->t.pos, "too many '.' in a name"), NULL;
	if (p->failed || !(e = mk(p, SQL_E_COL, 0, pos)))
		return NULL;
	e->name = parts[n - 1];
	if (n >= 2)
		e->table = parts[n - 2];
	if (n == 3)
		e->db = parts[0];
	return e;
}

/* The current token as a literal of the given kind (its text kept as is). */
static struct sql_expr *token_literal(struct parser *p, enum sql_expr_kind kind, int pos)
{
	struct sql_expr *e = mk(p, kind, 0, pos);

	if (!e)
		return NULL;
	e->text = p->t.text;
	next(p);
	return e;
}

/* A word and the literal after it (_latin1'abc', DATE '2020-01-01'): one
 * string literal whose text is both, space-separated. */
static struct sql_expr *introduced_literal(struct parser *p, int pos)
{
	const char *word = p->t.text;
	struct sql_expr *e;
	char *s;

	next(p);
	s = sql_alloc(p->a, strlen(word) + strlen(p->t.text) + 2);
	if (!s || !(e = mk(p, SQL_E_STR, 0, pos)))
		return oom(p);
	sprintf(s, "%s %s", word, p->t.text);
	e->text = s;
	next(p);
	return e;
}

static struct sql_expr *primary(struct parser *p)
{
	struct sql_expr *e;
	int pos = p->t.pos;

	if (p->failed)
		return NULL;
	if (++p->depth > 200) {
		refuse(p, pos, "expressions nested deeper than 200 levels");
		return NULL;
	}
	switch (p->t.kind) {
	case TK_NUM:
		e = token_literal(p, SQL_E_NUM, pos);
		goto out;
	case TK_STR:
		e = token_literal(p, SQL_E_STR, pos);
		goto out;
	case TK_VAR:
		if (p->t.text[1] != '@')
			return refuse(p, pos, "user variables"), NULL;
		e = token_literal(p, SQL_E_SYSVAR, pos);
		goto out;
	case TK_PARAM:
		return refuse(p, pos, "prepared-statement parameters"), NULL;
	case TK_OP:
		if (is_op(p, "(")) {
			next(p);
			if (is_kw(p, "SELECT") || is_kw(p, "WITH"))
				return refuse(p, p->t.pos, "sub-queries"), NULL;
			e = expr(p);
			if (is_op(p, ","))
				return refuse(p, p->t.pos, "row constructors"), NULL;
			expect_op(p, ")");
			goto out;
		}
		if (is_op(p, "{"))
			return refuse(p, pos, "ODBC escapes"), NULL;
		return syntax(p, pos, "expected an expression, found '%s'", p->t.text), NULL;
	case TK_IDENT:
		if (accept_kw(p, "NULL")) {
			e = mk(p, SQL_E_NULL, 0, pos);
			goto out;
		}
		if (is_kw(p, "TRUE") || is_kw(p, "FALSE")) {
			if (!(e = mk(p, SQL_E_BOOL, 0, pos)))
				return NULL;
			e->ival = is_kw(p, "TRUE");
			next(p);
			goto out;
		}
		if (is_kw(p, "CASE")) {
			e = case_expr(p, pos);
			goto out;
		}
		if (is_kw(p, "EXISTS"))
			return refuse(p, pos, "sub-queries (EXISTS)"), NULL;
		if (is_kw(p, "INTERVAL"))
			return refuse(p, pos, "INTERVAL expressions"), NULL;
		if (is_kw(p, "SELECT"))
			return refuse(p, pos, "sub-queries"), NULL;
		/* _charset'literal' introducers */
		if (p->t.text[0] == '_' && (peek(p).kind == TK_STR ||
					    (peek(p).kind == TK_NUM && peek(p).text[0] == '0' &&
					     (peek(p).text[1] == 'x' || peek(p).text[1] == 'b')))) {
			e = introduced_literal(p, pos);
			goto out;
		}
		if ((is_kw(p, "DATE") || is_kw(p, "TIMESTAMP") || is_kw(p, "TIME")) &&
		    peek(p).kind == TK_STR) {         /* DATE '2020-01-01' */
			e = introduced_literal(p, pos);
			goto out;
		}
		/* fall through */
	case TK_QIDENT:
		e = column_or_call(p);
		goto out;
	case TK_END:
		return syntax(p, pos, "unexpected end of statement"), NULL;
	default:
		return syntax(p, pos, "expected an expression"), NULL;
	}
out:
	p->depth--;
	return p->failed ? NULL : e;
}

/* A prefix operator (unary - + ~ ! and NOT): op operand, counted against
 * the nesting limit like a parenthesis. */
static struct sql_expr *prefix(struct parser *p, const char *op, struct sql_expr *(*operand)(struct parser *))
{
	int pos = p->t.pos;
	struct sql_expr *e, *x;

	if (++p->depth > 200)
		return refuse(p, pos, "expressions nested deeper than 200 levels"), NULL;
	next(p);
	x = operand(p);
	p->depth--;
	if (!x || !(e = mk(p, SQL_E_UNARY, 1, pos)))
		return NULL;
	e->text = op;
	e->args[0] = x;
	return e;
}

static struct sql_expr *unary(struct parser *p)
{
	static const char *const ops[] = { "-", "+", "~", "!", NULL };
	size_t i;

	if (p->failed)
		return NULL;
	for (i = 0; ops[i]; i++)
		if (is_op(p, ops[i]))
			return prefix(p, ops[i], unary);
	if (is_kw(p, "BINARY"))       /* counted in the nesting depth like the others */
		return prefix(p, "BINARY", unary);
	return primary(p);
}

/* One left-associative level of binary operators: operand (OP operand)*.
 * ops pairs each token with the operator it stands for (NULL-terminated):
 * a keyword when it starts with a letter, else an operator token. */
static struct sql_expr *left_assoc(struct parser *p, struct sql_expr *(*operand)(struct parser *),
				   const char *const *ops)
{
	struct sql_expr *l = operand(p);
	size_t i;

	while (l) {
		int pos = p->t.pos;
		for (i = 0; ops[i]; i += 2)
			if (isalpha((unsigned char)ops[i][0]) ? is_kw(p, ops[i]) : is_op(p, ops[i]))
				break;
		if (!ops[i])
			break;
		if (chained(p, pos) < 0)
			return NULL;
		next(p);
		l = binary(p, ops[i + 1], l, operand(p), pos);
	}
	return l;
}

static struct sql_expr *bitxor(struct parser *p)
{
	static const char *const ops[] = { "^", "^", NULL };
	struct sql_expr *l = left_assoc(p, unary, ops);

	if (l && is_kw(p, "COLLATE"))
		return refuse(p, p->t.pos, "COLLATE"), NULL;
	return l;
}

static struct sql_expr *mul(struct parser *p)
{
	static const char *const ops[] = { "*", "*", "/", "/", "%", "%", "MOD", "%", "DIV", "DIV", NULL };

	return left_assoc(p, bitxor, ops);
}

/* `a + INTERVAL ...` (date arithmetic) is refused by primary(). */
static struct sql_expr *add(struct parser *p)
{
	static const char *const ops[] = { "+", "+", "-", "-", NULL };

	return left_assoc(p, mul, ops);
}

static struct sql_expr *shift(struct parser *p)
{
	static const char *const ops[] = { "<<", "<<", ">>", ">>", NULL };

	return left_assoc(p, add, ops);
}

static struct sql_expr *bitand_(struct parser *p)
{
	static const char *const ops[] = { "&", "&", NULL };

	return left_assoc(p, shift, ops);
}

static struct sql_expr *bitor(struct parser *p)
{
	static const char *const ops[] = { "|", "|", NULL };

	return left_assoc(p, bitand_, ops);
}

static const char *comparison_op(struct parser *p)
{
	static const char *const ops[] = { "=", "<=>", "<>", "!=", "<", "<=", ">", ">=", NULL };
	size_t i;

	for (i = 0; ops[i]; i++)
		if (is_op(p, ops[i]))
			return !strcmp(ops[i], "!=") ? "<>" : ops[i];
	return NULL;
}

static struct sql_expr *predicate(struct parser *p)
{
	struct sql_expr *l = bitor(p), *e;
	int applied = 0;              /* operators applied to l so far */

	for (;;) {
		const char *op;
		int pos = p->t.pos, neg = 0;

		if (!l || p->failed)
			return NULL;
		if ((op = comparison_op(p))) {
			next(p);
			if (is_kw(p, "ANY") || is_kw(p, "ALL") || is_kw(p, "SOME"))
				return refuse(p, p->t.pos, "sub-queries (ANY/ALL)"), NULL;
			l = binary(p, op, l, bitor(p), pos);
			if (applied++ && chained(p, pos) < 0)
				return NULL;
			continue;
		}
		if (is_kw(p, "IS")) {
			next(p);
			if (accept_kw(p, "NOT"))
				neg = 1;
			if (!(is_kw(p, "NULL") || is_kw(p, "TRUE") || is_kw(p, "FALSE") || is_kw(p, "UNKNOWN")))
				return syntax(p, p->t.pos, "expected NULL, TRUE, FALSE or UNKNOWN after IS"), NULL;
			if (!(e = mk(p, SQL_E_IS, 1, pos)))
				return NULL;
			e->text = !strcasecmp(p->t.text, "NULL") ? "NULL" : !strcasecmp(p->t.text, "TRUE") ? "TRUE"
				: !strcasecmp(p->t.text, "FALSE") ? "FALSE" : "UNKNOWN";
			e->negated = neg;
			e->args[0] = l;
			next(p);
			l = e;
			if (applied++ && chained(p, pos) < 0)
				return NULL;
			continue;
		}
		if (is_kw(p, "NOT")) {
			struct sql_token nt = peek(p);
			if (nt.kind != TK_IDENT || !(!strcasecmp(nt.text, "IN") || !strcasecmp(nt.text, "BETWEEN") ||
						     !strcasecmp(nt.text, "LIKE") || !strcasecmp(nt.text, "REGEXP") ||
						     !strcasecmp(nt.text, "RLIKE")))
				return l;
			next(p);
			neg = 1;
		}
		if (accept_kw(p, "BETWEEN")) {
			/* MariaDB binds both bounds tighter than comparisons:
			 * 2 BETWEEN 1 AND 3 = 1 is (2 BETWEEN 1 AND 3) = 1. */
			struct sql_expr *lo = bitor(p), *hi;
			expect_kw(p, "AND");
			hi = bitor(p);
			if (!lo || !hi || !(e = mk(p, SQL_E_BETWEEN, 3, pos)))
				return NULL;
			e->args[0] = l;
			e->args[1] = lo;
			e->args[2] = hi;
			e->negated = neg;
			l = e;
			if (applied++ && chained(p, pos) < 0)
				return NULL;
			continue;
		}
		if (accept_kw(p, "IN")) {
			struct vec v = { 0 };
			expect_op(p, "(");
			if (is_kw(p, "SELECT") || is_kw(p, "WITH"))
				return refuse(p, p->t.pos, "sub-queries"), NULL;
			if (vec_push(p, &v, l) < 0)
				return NULL;
			do {
				struct sql_expr *x = expr(p);
				if (!x || vec_push(p, &v, x) < 0)
					return NULL;
			} while (accept_op(p, ","));
			expect_op(p, ")");
			if (p->failed || !(e = from_vec(p, SQL_E_IN, &v, pos)))
				return NULL;
			e->negated = neg;
			l = e;
			if (applied++ && chained(p, pos) < 0)
				return NULL;
			continue;
		}
		if (is_kw(p, "LIKE") || is_kw(p, "REGEXP") || is_kw(p, "RLIKE")) {
			const char *kind = is_kw(p, "LIKE") ? "LIKE" : "REGEXP";
			struct sql_expr *pat, *esc = NULL;
			next(p);
			pat = bitor(p);
			if (!strcmp(kind, "LIKE") && accept_kw(p, "ESCAPE") && !(esc = primary(p)))
				return NULL;
			if (!pat || !(e = mk(p, SQL_E_LIKE, esc ? 3 : 2, pos)))
				return NULL;
			e->text = kind;
			e->args[0] = l;
			e->args[1] = pat;
			if (esc)
				e->args[2] = esc;
			e->negated = neg;
			l = e;
			if (applied++ && chained(p, pos) < 0)
				return NULL;
			continue;
		}
		if (neg)
			return syntax(p, p->t.pos, "expected IN, BETWEEN, LIKE or REGEXP after NOT"), NULL;
		if (is_kw(p, "SOUNDS"))
			return refuse(p, pos, "SOUNDS LIKE"), NULL;
		return l;
	}
}

static struct sql_expr *not_(struct parser *p)
{
	if (is_kw(p, "NOT"))
		return prefix(p, "NOT", not_);
	return predicate(p);
}

static struct sql_expr *and_(struct parser *p)
{
	static const char *const ops[] = { "AND", "AND", "&&", "AND", NULL };

	return left_assoc(p, not_, ops);
}

static struct sql_expr *xor_(struct parser *p)
{
	static const char *const ops[] = { "XOR", "XOR", NULL };

	return left_assoc(p, and_, ops);
}

static struct sql_expr *expr(struct parser *p)
{
	static const char *const ops[] = { "OR", "OR", "||", "OR", NULL };
	struct sql_expr *l = left_assoc(p, xor_, ops);

	if (l && is_op(p, ":="))
		return refuse(p, p->t.pos, "assignments (:=)"), NULL;
	return p->failed ? NULL : l;
}

static const char *alias(struct parser *p, int required)
{
	if (accept_kw(p, "AS"))
		required = 1;
	if (p->t.kind == TK_STR && required) {      /* AS 'alias' */
		const char *s = p->t.text;
		size_t n = strlen(s);
		char *a;
		if (s[0] != '\'' && s[0] != '"')
			return syntax(p, p->t.pos, "expected an alias"), NULL;
		a = sql_alloc(p->a, n);
		if (!a)
			return oom(p);
		memcpy(a, s + 1, n - 2);
		if (strchr(a, '\\') || strchr(a, s[0]))
			return refuse(p, p->t.pos, "escapes inside a quoted alias"), NULL;
		next(p);
		return a;
	}
	if (p->t.kind == TK_QIDENT || (p->t.kind == TK_IDENT && !is_reserved(p->t.text)))
		return ident(p, "an alias");
	if (required)
		syntax(p, p->t.pos, "expected an alias, found %s", describe(&p->t));
	return NULL;
}

static int table_factor(struct parser *p, struct sql_table *t)
{
	const char *a, *b = NULL;

	t->pos = p->t.pos;
	if (is_op(p, "(")) {
		struct sql_token nt = peek(p);
		if (nt.kind == TK_IDENT && !strcasecmp(nt.text, "SELECT"))
			return refuse(p, p->t.pos, "sub-queries in FROM"), -1;
		return refuse(p, p->t.pos, "parenthesised joins"), -1;
	}
	if (!(a = ident(p, "a table name")))
		return -1;
	if (accept_op(p, ".")) {
		if (p->t.kind == TK_IDENT || p->t.kind == TK_QIDENT) {
			b = p->t.text;
			next(p);
		} else {
			return syntax(p, p->t.pos, "expected a table name after '.'"), -1;
		}
	}
	t->db = b ? a : NULL;
	t->name = b ? b : a;
	t->alias = alias(p, 0);
	if (is_kw(p, "USE") || is_kw(p, "FORCE") || is_kw(p, "IGNORE"))
		return refuse(p, p->t.pos, "index hints"), -1;
	if (is_kw(p, "PARTITION"))
		return refuse(p, p->t.pos, "PARTITION selection"), -1;
	return p->failed ? -1 : 0;
}

static int join_spec(struct parser *p, struct sql_table *t)
{
	if (accept_kw(p, "ON")) {
		t->on = expr(p);
		return t->on ? 0 : -1;
	}
	if (accept_kw(p, "USING")) {
		struct vec v = { 0 };
		expect_op(p, "(");
		do {
			const char *c = ident(p, "a column name");
			if (!c || vec_push(p, &v, (void *)c) < 0)
				return -1;
		} while (accept_op(p, ","));
		expect_op(p, ")");
		t->using_cols = (const char **)v.v;
		t->nusing = v.n;
		return p->failed ? -1 : 0;
	}
	return 1;   /* none */
}

static int from_clause(struct parser *p, struct sql_select *s)
{
	struct sql_table tabs[64];
	size_t n = 0;

	memset(tabs, 0, sizeof(tabs));
	if (table_factor(p, &tabs[n++]) < 0)
		return -1;
	for (;;) {
		enum sql_join j;
		int need_spec = 0, rc;
		if (accept_op(p, ","))
			j = SQL_J_COMMA;
		else if (accept_kw(p, "JOIN"))
			j = SQL_J_INNER;
		else if (accept_kw(p, "INNER")) {
			expect_kw(p, "JOIN");
			j = SQL_J_INNER;
		} else if (accept_kw(p, "CROSS")) {
			expect_kw(p, "JOIN");
			j = SQL_J_CROSS;
		} else if (accept_kw(p, "STRAIGHT_JOIN"))
			j = SQL_J_STRAIGHT;
		else if (is_kw(p, "LEFT") || is_kw(p, "RIGHT")) {
			j = is_kw(p, "LEFT") ? SQL_J_LEFT : SQL_J_RIGHT;
			next(p);
			accept_kw(p, "OUTER");
			expect_kw(p, "JOIN");
			need_spec = 1;
		} else if (is_kw(p, "NATURAL")) {
			return refuse(p, p->t.pos, "NATURAL joins"), -1;
		} else if (is_kw(p, "FULL")) {
			return refuse(p, p->t.pos, "FULL joins"), -1;
		} else
			break;
		if (p->failed)
			return -1;
		if (n == sizeof(tabs) / sizeof(tabs[0]))
			return refuse(p, p->t.pos, "more than 64 tables in one query"), -1;
		tabs[n].join = j;
		if (table_factor(p, &tabs[n]) < 0)
			return -1;
		if (j != SQL_J_COMMA) {
			rc = join_spec(p, &tabs[n]);
			if (rc < 0)
				return -1;
			if (rc == 1 && need_spec)
				return syntax(p, p->t.pos, "expected ON or USING after an outer join"), -1;
		}
		n++;
	}
	s->from = sql_alloc(p->a, n * sizeof(*s->from));
	if (!s->from)
		return oom(p), -1;
	memcpy(s->from, tabs, n * sizeof(*s->from));
	s->nfrom = n;
	return 0;
}

static int parse_int(struct parser *p, int64_t *ret)
{
	char *end;
	long long v;

	if (p->t.kind != TK_NUM || !isdigit((unsigned char)p->t.text[0]) || strchr(p->t.text, '.') ||
	    strchr(p->t.text, 'e') || strchr(p->t.text, 'E') || !strncmp(p->t.text, "0x", 2) ||
	    !strncmp(p->t.text, "0b", 2)) {
		syntax(p, p->t.pos, "expected a non-negative integer, found %s", describe(&p->t));
		return -1;
	}
	errno = 0;
	v = strtoll(p->t.text, &end, 10);
	if (errno || *end)
		return syntax(p, p->t.pos, "integer out of range: %s", p->t.text), -1;
	*ret = v;
	next(p);
	return 0;
}

static int order_list(struct parser *p, struct sql_order **ret, size_t *ret_n)
{
	struct vec v = { 0 };
	size_t i;
	struct sql_order *o;

	do {
		struct sql_order *x = sql_alloc(p->a, sizeof(*x));
		if (!x)
			return oom(p), -1;
		if (!(x->e = expr(p)))
			return -1;
		if (accept_kw(p, "DESC"))
			x->desc = 1;
		else
			accept_kw(p, "ASC");
		if (vec_push(p, &v, x) < 0)
			return -1;
	} while (accept_op(p, ","));
	o = sql_alloc(p->a, (v.n ? v.n : 1) * sizeof(*o));
	if (!o)
		return oom(p), -1;
	for (i = 0; i < v.n; i++)
		o[i] = *(struct sql_order *)v.v[i];
	*ret = o;
	*ret_n = v.n;
	return 0;
}

static struct sql_select *select_stmt(struct parser *p)
{
	struct sql_select *s = sql_alloc(p->a, sizeof(*s));
	struct vec items = { 0 };
	size_t i;

	if (!s)
		return oom(p);
	next(p);   /* SELECT */
	for (;;) {
		if (accept_kw(p, "DISTINCT") || accept_kw(p, "DISTINCTROW"))
			s->distinct = 1;
		else if (accept_kw(p, "ALL") || accept_kw(p, "SQL_NO_CACHE") || accept_kw(p, "SQL_CACHE") ||
			 accept_kw(p, "HIGH_PRIORITY") || accept_kw(p, "SQL_SMALL_RESULT") ||
			 accept_kw(p, "SQL_BIG_RESULT") || accept_kw(p, "SQL_BUFFER_RESULT")) {
			/* hints with no effect on the answer */
		}
		else if (is_kw(p, "SQL_CALC_FOUND_ROWS"))
			return refuse(p, p->t.pos, "SQL_CALC_FOUND_ROWS"), NULL;
		else if (is_kw(p, "STRAIGHT_JOIN"))
			next(p);
		else
			break;
	}
	do {
		struct sql_item *it = sql_alloc(p->a, sizeof(*it));
		if (!it)
			return oom(p);
		if (is_op(p, "*")) {
			if (!(it->e = mk(p, SQL_E_STAR, 0, p->t.pos)))
				return NULL;
			next(p);
		} else {
			it->start = p->t.pos;
			if (!(it->e = expr(p)))
				return NULL;
			it->end = p->prev_end;
			it->alias = alias(p, 0);
		}
		if (p->failed || vec_push(p, &items, it) < 0)
			return NULL;
	} while (accept_op(p, ","));
	s->items = sql_alloc(p->a, items.n * sizeof(*s->items));
	if (!s->items)
		return oom(p);
	for (i = 0; i < items.n; i++)
		s->items[i] = *(struct sql_item *)items.v[i];
	s->nitems = items.n;
	if (is_kw(p, "INTO"))
		return refuse(p, p->t.pos, "SELECT ... INTO"), NULL;
	if (accept_kw(p, "FROM")) {
		if (is_kw(p, "DUAL"))
			next(p);
		else if (from_clause(p, s) < 0)
			return NULL;
	}
	if (accept_kw(p, "WHERE") && !(s->where = expr(p)))
		return NULL;
	if (accept_kw(p, "GROUP")) {
		struct sql_order *o;
		size_t n;
		expect_kw(p, "BY");
		if (p->failed || order_list(p, &o, &n) < 0)
			return NULL;
		if (!(s->group = sql_alloc(p->a, n * sizeof(*s->group))))
			return oom(p);
		for (i = 0; i < n; i++) {
			if (o[i].desc)
				return refuse(p, o[i].e->pos, "GROUP BY ... DESC (use ORDER BY)"), NULL;
			s->group[i] = o[i].e;
		}
		s->ngroup = n;
		if (is_kw(p, "WITH"))
			return refuse(p, p->t.pos, "WITH ROLLUP"), NULL;
	}
	if (accept_kw(p, "HAVING") && !(s->having = expr(p)))
		return NULL;
	if (is_kw(p, "WINDOW"))
		return refuse(p, p->t.pos, "window functions"), NULL;
	if (accept_kw(p, "ORDER")) {
		expect_kw(p, "BY");
		if (p->failed || order_list(p, &s->order, &s->norder) < 0)
			return NULL;
	}
	if (accept_kw(p, "LIMIT")) {
		int64_t a, b;
		if (parse_int(p, &a) < 0)
			return NULL;
		s->has_limit = 1;
		s->limit = a;
		if (accept_op(p, ",")) {
			if (parse_int(p, &b) < 0)
				return NULL;
			s->offset = a;
			s->limit = b;
		} else if (accept_kw(p, "OFFSET")) {
			if (parse_int(p, &b) < 0)
				return NULL;
			s->offset = b;
		}
	}
	if (is_kw(p, "UNION") || is_kw(p, "INTERSECT") || is_kw(p, "EXCEPT"))
		return refuse(p, p->t.pos, "%s", p->t.text), NULL;
	if (is_kw(p, "INTO"))
		return refuse(p, p->t.pos, "SELECT ... INTO"), NULL;
	if (is_kw(p, "FOR") || is_kw(p, "LOCK"))
		return refuse(p, p->t.pos, "locking reads"), NULL;
	if (is_kw(p, "PROCEDURE"))
		return refuse(p, p->t.pos, "PROCEDURE"), NULL;
	return p->failed ? NULL : s;
}

/* Passes over the rest of a statement the czar's MariaDB checks (SHOW ...,
 * SET ...), refusing user variables and sub-queries in it.  -1 on error. */
static int skip_to_end(struct parser *p)
{
	while (!p->failed && p->t.kind != TK_END && !is_op(p, ";")) {
		if (p->t.kind == TK_VAR && p->t.text[1] != '@')
			return refuse(p, p->t.pos, "user variables"), -1;
		if (is_kw(p, "SELECT"))
			return refuse(p, p->t.pos, "sub-queries"), -1;
		next(p);
	}
	return p->failed ? -1 : 0;
}

static int show_stmt(struct parser *p, struct sql_stmt *st)
{
	static const char *const ok[] = { "DATABASES", "SCHEMAS", "TABLES", "COLUMNS", "FIELDS", "CREATE",
		"TABLE", "INDEX", "INDEXES", "KEYS", "VARIABLES", "STATUS", "WARNINGS", "ERRORS", "COLLATION",
		"CHARACTER", "CHARSET", "ENGINES", "PROCESSLIST", NULL };
	size_t i;
	int pos;

	next(p);   /* SHOW */
	if (accept_kw(p, "FULL"))
		st->show_full = 1;
	if (is_kw(p, "GLOBAL") || is_kw(p, "SESSION"))
		next(p);
	pos = p->t.pos;
	if (p->t.kind != TK_IDENT)
		return syntax(p, pos, "expected what to SHOW"), -1;
	for (i = 0; ok[i]; i++)
		if (is_kw(p, ok[i]))
			break;
	if (!ok[i])
		return refuse(p, pos, "SHOW %s", p->t.text), -1;
	st->show_what = ok[i];
	if (is_kw(p, "PROCESSLIST")) {
		next(p);
		st->kind = SQL_SHOW_PROCESSLIST;
		return p->failed ? -1 : 0;
	}
	if (is_kw(p, "CREATE")) {
		struct sql_token nt = peek(p);
		if (nt.kind != TK_IDENT || strcasecmp(nt.text, "TABLE"))
			return refuse(p, pos, "SHOW CREATE other than TABLE"), -1;
	}
	st->kind = SQL_SHOW;
	/* The rest (FROM db, LIKE 'x', WHERE ...) is checked by the czar's
	 * MariaDB, which answers SHOW; only its tokens are validated here. */
	return skip_to_end(p);
}

static int describe_stmt(struct parser *p, struct sql_stmt *st)
{
	struct sql_table *t = sql_alloc(p->a, sizeof(*t));

	if (!t)
		return oom(p), -1;
	next(p);   /* DESCRIBE / DESC / EXPLAIN */
	if (is_kw(p, "SELECT") || is_kw(p, "EXTENDED") || is_kw(p, "FORMAT") || is_kw(p, "PARTITIONS"))
		return refuse(p, p->t.pos, "EXPLAIN of a query"), -1;
	if (table_factor(p, t) < 0)
		return -1;
	st->kind = SQL_DESCRIBE;
	st->table = t;
	return 0;
}

static int set_stmt(struct parser *p, struct sql_stmt *st)
{
	next(p);   /* SET */
	if (is_kw(p, "GLOBAL") || (p->t.kind == TK_VAR && !strncasecmp(p->t.text, "@@global.", 9)))
		return refuse(p, p->t.pos, "SET GLOBAL"), -1;
	if (is_kw(p, "PASSWORD"))
		return refuse(p, p->t.pos, "SET PASSWORD"), -1;
	if (skip_to_end(p) < 0)
		return -1;
	st->kind = SQL_SET;
	return 0;
}

static int kill_stmt(struct parser *p, struct sql_stmt *st)
{
	next(p);   /* KILL */
	(void)(accept_kw(p, "HARD") || accept_kw(p, "SOFT"));
	if (accept_kw(p, "QUERY"))
		st->kill_query = 1;
	else
		accept_kw(p, "CONNECTION");
	if (is_kw(p, "ID"))
		next(p);
	if (parse_int(p, &st->kill_id) < 0)
		return -1;
	st->kind = SQL_KILL;
	return 0;
}

int sql_parse(const char *sql, size_t len, struct sql_stmt **ret, struct sql_error *err)
{
	static const char *const dml[] = { "INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP",
		"ALTER", "TRUNCATE", "RENAME", "LOAD", "GRANT", "REVOKE", "CALL", "DO", "HANDLER", "LOCK",
		"UNLOCK", "FLUSH", "INSTALL", "UNINSTALL", "OPTIMIZE", "REPAIR", "ANALYZE", "CHECK",
		"PREPARE", "EXECUTE", "DEALLOCATE", "START", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT",
		"RELEASE", "XA", "RESET", "PURGE", "CHANGE", "BACKUP", "CACHE", "SHUTDOWN", "VALUES",
		"TABLE", "WITH", "BINLOG", NULL };
	struct parser p;
	struct sql_stmt *st;
	struct sql_arena *a = sql_arena_new();
	int rc = 0;
	size_t i;

	memset(err, 0, sizeof(*err));
	if (!a)
		return -ENOMEM;
	st = sql_alloc(a, sizeof(*st));
	if (!st) {
		sql_arena_free(a);
		return -ENOMEM;
	}
	st->arena = a;
	memset(&p, 0, sizeof(p));
	p.a = a;
	p.err = err;
	sql_lex_init(&p.lx, sql, len, a);
	if (memchr(sql, 0, len))
		syntax(&p, (int)((const char *)memchr(sql, 0, len) - sql), "NUL byte in the statement");
	next(&p);
	if (p.failed)
		goto out;
	if (is_kw(&p, "SELECT")) {
		st->kind = SQL_SELECT;
		st->select = select_stmt(&p);
	} else if (is_kw(&p, "SHOW")) {
		show_stmt(&p, st);
	} else if (is_kw(&p, "DESCRIBE") || is_kw(&p, "DESC") || is_kw(&p, "EXPLAIN")) {
		describe_stmt(&p, st);
	} else if (is_kw(&p, "SET")) {
		set_stmt(&p, st);
	} else if (is_kw(&p, "USE")) {
		next(&p);
		st->kind = SQL_USE;
		st->db = ident(&p, "a database name");
	} else if (is_kw(&p, "KILL")) {
		kill_stmt(&p, st);
	} else if (is_op(&p, "(")) {
		refuse(&p, p.t.pos, "parenthesised queries");
	} else if (p.t.kind == TK_END) {
		syntax(&p, p.t.pos, "empty statement");
	} else {
		for (i = 0; dml[i]; i++)
			if (is_kw(&p, dml[i]))
				break;
		if (dml[i])
			refuse(&p, p.t.pos, "%s: the czar is read-only and answers SELECT, SHOW and DESCRIBE",
			       dml[i]);
		else
			syntax(&p, p.t.pos, "unknown statement");
	}
	if (!p.failed) {
		int semi = accept_op(&p, ";");
		if (!p.failed && p.t.kind != TK_END) {
			if (semi)
				refuse(&p, p.t.pos, "multiple statements");
			else
				syntax(&p, p.t.pos, "unexpected %s", describe(&p.t));
		}
	}
out:
	if (p.failed) {
		rc = err->code == ER_OUT_OF_RESOURCES ? -ENOMEM : -EINVAL;
		sql_arena_free(a);
		return rc;
	}
	*ret = st;
	return 0;
}
