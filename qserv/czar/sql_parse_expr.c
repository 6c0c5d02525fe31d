/* sql_parse_expr.c: the expression grammar of the czar's SQL parser.
 *
 * One function per rule, following MySQL's operator precedence (lowest
 * first): OR/||, XOR, AND/&&, NOT, comparison/IS/LIKE/IN/BETWEEN, |, &,
 * << >>, + -, * / DIV % MOD, ^, unary - ~ + !, BINARY; then primaries
 * (literals, columns, function calls, CASE, CAST).  Nesting (parentheses
 * and prefix operators) and operator chains are bounded so the trees the
 * printer and planner walk recursively stay shallow enough for a session
 * thread's stack.  Sub-queries, user variables, window functions and other
 * constructs Qserv cannot answer exactly are refused here.  Statements are
 * sql_parse.c's. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mariadb/mysqld_error.h>

#include "sql_parser.h"

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
	return sqlp_refuse(p, pos, "more than %d chained operators in one statement (long OR lists: use IN (...))",
			   SQL_MAX_CHAINED);
}

static struct sql_expr *binary(struct parser *p, const char *op, struct sql_expr *l, struct sql_expr *r, int pos)
{
	struct sql_expr *e;

	if (!l || !r)
		return NULL;
	e = sqlp_mk(p, SQL_E_BINARY, 2, pos);
	if (!e)
		return NULL;
	e->text = op;
	e->args[0] = l;
	e->args[1] = r;
	return e;
}

static struct sql_expr *from_vec(struct parser *p, enum sql_expr_kind kind, struct vec *v, int pos)
{
	struct sql_expr *e = sqlp_mk(p, kind, 0, pos);

	if (!e)
		return NULL;
	e->args = (struct sql_expr **)v->v;
	e->nargs = v->n;
	return e;
}

/* Functions that reach past the statement into the server: its files
 * (LOAD_FILE) or locks and replication state shared with other sessions.
 * The czar's MariaDB account has no FILE privilege either; refusing here
 * gives the user a clear error instead of a silent NULL. */
static int server_function(const char *name)
{
	static const char *const deny[] = { "LOAD_FILE", "GET_LOCK", "RELEASE_LOCK", "RELEASE_ALL_LOCKS",
		"IS_FREE_LOCK", "IS_USED_LOCK", "MASTER_POS_WAIT", "MASTER_GTID_WAIT", "SYS_EXEC", "SYS_EVAL",
		"SYS_GET", "SYS_SET", NULL };
	size_t i;

	for (i = 0; deny[i]; i++)
		if (!strcasecmp(name, deny[i]))
			return 1;
	return 0;
}

/* Function names reach the SQL sent on as written: [A-Za-z0-9_$] only. */
static int plain_name(const char *name)
{
	size_t i;

	for (i = 0; name[i]; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '$')
			return 0;
	return i > 0;
}

static struct sql_expr *func_call(struct parser *p, const char *name, int pos)
{
	struct vec args = { 0 };
	struct sql_expr *e;
	int distinct = 0, star = 0;

	if (!plain_name(name))
		return sqlp_refuse(p, pos, "function names other than letters, digits and _"), NULL;
	if (server_function(name))
		return sqlp_refuse(p, pos, "%s(): it acts on the czar's server, not on the catalog", name), NULL;
	/* current token is '(' */
	sqlp_next(p);
	if (sqlp_accept_kw(p, "DISTINCT"))
		distinct = 1;
	else
		sqlp_accept_kw(p, "ALL");
	if (sqlp_is_op(p, "*") && !strcasecmp(name, "COUNT")) {
		sqlp_next(p);
		star = 1;
	} else if (!sqlp_is_op(p, ")")) {
		do {
			struct sql_expr *a = sqlp_expr(p);
			if (!a || sqlp_vec_push(p, &args, a) < 0)
				return NULL;
		} while (sqlp_accept_op(p, ","));
	}
	if (sqlp_is_kw(p, "ORDER") || sqlp_is_kw(p, "SEPARATOR"))
		return sqlp_refuse(p, p->t.pos, "ORDER BY or SEPARATOR inside an aggregate"), NULL;
	sqlp_expect_op(p, ")");
	if (sqlp_is_kw(p, "OVER"))
		return sqlp_refuse(p, p->t.pos, "window functions"), NULL;
	if (p->rc)
		return NULL;
	if (distinct && !star && args.n == 0)
		return sqlp_syntax(p, pos, "DISTINCT needs an argument"), NULL;
	e = from_vec(p, SQL_E_FUNC, &args, pos);
	if (!e)
		return NULL;
	e->text = name;
	e->distinct = distinct;
	if (star) {
		struct sql_expr *s = sqlp_mk(p, SQL_E_STAR, 0, pos);
		struct vec one = { 0 };
		if (!s || sqlp_vec_push(p, &one, s) < 0)
			return NULL;
		e->args = (struct sql_expr **)one.v;
		e->nargs = 1;
	}
	if (distinct && !sql_is_aggregate(e))
		return sqlp_syntax(p, pos, "DISTINCT inside %s(), which is not an aggregate", name), NULL;
	return e;
}

static struct sql_expr *case_expr(struct parser *p, int pos)
{
	struct vec v = { 0 };
	struct sql_expr *x = NULL;

	sqlp_next(p);   /* CASE */
	if (!sqlp_is_kw(p, "WHEN") && !(x = sqlp_expr(p)))
		return NULL;
	if (sqlp_vec_push(p, &v, x) < 0)
		return NULL;
	if (!sqlp_is_kw(p, "WHEN"))
		return sqlp_syntax(p, p->t.pos, "expected WHEN, found %s", sqlp_describe(&p->t)), NULL;
	while (sqlp_accept_kw(p, "WHEN")) {
		struct sql_expr *w = sqlp_expr(p), *t;
		sqlp_expect_kw(p, "THEN");
		t = sqlp_expr(p);
		if (!w || !t || sqlp_vec_push(p, &v, w) < 0 || sqlp_vec_push(p, &v, t) < 0)
			return NULL;
	}
	x = NULL;
	if (sqlp_accept_kw(p, "ELSE") && !(x = sqlp_expr(p)))
		return NULL;
	if (sqlp_vec_push(p, &v, x) < 0)
		return NULL;
	sqlp_expect_kw(p, "END");
	return p->rc ? NULL : from_vec(p, SQL_E_CASE, &v, pos);
}

static struct sql_expr *cast_expr(struct parser *p, int pos)
{
	static const char *const types[] = { "SIGNED", "UNSIGNED", "CHAR", "DOUBLE", "FLOAT", "DECIMAL",
		"DATE", "DATETIME", "TIME", "BINARY", "INTEGER", "INT", NULL };
	struct sql_expr *e, *x;
	char buf[64];
	const char *ty;
	size_t i;

	sqlp_next(p);   /* ( */
	if (!(x = sqlp_expr(p)))
		return NULL;
	sqlp_expect_kw(p, "AS");
	if (p->rc)
		return NULL;
	ty = p->t.kind == TK_IDENT ? p->t.text : "";
	for (i = 0; types[i]; i++)
		if (!strcasecmp(ty, types[i]))
			break;
	if (!types[i])
		return sqlp_syntax(p, p->t.pos, "expected a CAST type, found %s", sqlp_describe(&p->t)), NULL;
	snprintf(buf, sizeof(buf), "%s", types[i]);
	sqlp_next(p);
	if (sqlp_is_kw(p, "INTEGER") || sqlp_is_kw(p, "INT")) {    /* SIGNED INTEGER */
		sqlp_next(p);
	}
	if (sqlp_accept_op(p, "(")) {                          /* DECIMAL(10,2), CHAR(5) */
		if (p->t.kind != TK_NUM)
			return sqlp_syntax(p, p->t.pos, "expected a length"), NULL;
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "(%s", p->t.text);
		sqlp_next(p);
		if (sqlp_accept_op(p, ",")) {
			if (p->t.kind != TK_NUM)
				return sqlp_syntax(p, p->t.pos, "expected a scale"), NULL;
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), ",%s", p->t.text);
			sqlp_next(p);
		}
		sqlp_expect_op(p, ")");
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), ")");
	}
	sqlp_expect_op(p, ")");
	if (p->rc || !(e = sqlp_mk(p, SQL_E_CAST, 1, pos)))
		return NULL;
	e->args[0] = x;
	e->text = sql_strdup(p->a, buf);
	return e->text ? e : sqlp_oom(p);
}

static struct sql_expr *column_or_call(struct parser *p)
{
	int pos = p->t.pos;
	const char *parts[3];
	int n = 0, quoted;
	struct sql_expr *e;

	if (p->t.kind == TK_IDENT && (sqlp_is_kw(p, "LEFT") || sqlp_is_kw(p, "RIGHT") || sqlp_is_kw(p, "MOD") ||
				      sqlp_is_kw(p, "IF") || sqlp_is_kw(p, "INSERT")) && sqlp_peek(p).kind == TK_OP &&
	    !strcmp(sqlp_peek(p).text, "(")) {
		const char *name = p->t.text;
		sqlp_next(p);
		return func_call(p, name, pos);
	}
	quoted = p->t.kind == TK_QIDENT;
	if (!(parts[n++] = sqlp_ident(p, "an expression")))
		return NULL;
	if (sqlp_is_op(p, "(")) {
		/* a function name is printed as written: only a plain one */
		if (quoted)
			return sqlp_refuse(p, pos, "back-quoted function names"), NULL;
		if (!strcasecmp(parts[0], "CAST"))
			return cast_expr(p, pos);
		return func_call(p, parts[0], pos);
	}
	while (n < 3 && sqlp_accept_op(p, ".")) {
		if (sqlp_is_op(p, "*")) {
			parts[n++] = "*";
			sqlp_next(p);
			break;
		}
		if (p->t.kind == TK_IDENT || p->t.kind == TK_QIDENT) {   /* reserved words allowed after '.' */
			parts[n++] = p->t.text;
			sqlp_next(p);
		} else {
			return sqlp_syntax(p, p->t.pos, "expected a column name after '.'"), NULL;
		}
	}
	if (sqlp_is_op(p, "."))
		return sqlp_syntax(p, p->t.pos, "too many '.' in a name"), NULL;
	if (p->rc || !(e = sqlp_mk(p, SQL_E_COL, 0, pos)))
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
	struct sql_expr *e = sqlp_mk(p, kind, 0, pos);

	if (!e)
		return NULL;
	e->text = p->t.text;
	sqlp_next(p);
	return e;
}

/* A word and the literal after it (_latin1'abc', DATE '2020-01-01'): one
 * string literal whose text is both, space-separated. */
static struct sql_expr *introduced_literal(struct parser *p, int pos)
{
	const char *word = p->t.text;
	struct sql_expr *e;
	char *s;

	sqlp_next(p);
	s = sql_alloc(p->a, strlen(word) + strlen(p->t.text) + 2);
	if (!s || !(e = sqlp_mk(p, SQL_E_STR, 0, pos)))
		return sqlp_oom(p);
	sprintf(s, "%s %s", word, p->t.text);
	e->text = s;
	sqlp_next(p);
	return e;
}

static struct sql_expr *primary(struct parser *p)
{
	struct sql_expr *e;
	int pos = p->t.pos;

	if (p->rc)
		return NULL;
	if (++p->depth > 200) {
		sqlp_refuse(p, pos, "expressions nested deeper than 200 levels");
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
			return sqlp_refuse(p, pos, "user variables"), NULL;
		e = token_literal(p, SQL_E_SYSVAR, pos);
		goto out;
	case TK_PARAM:
		return sqlp_refuse(p, pos, "prepared-statement parameters"), NULL;
	case TK_OP:
		if (sqlp_is_op(p, "(")) {
			sqlp_next(p);
			if (sqlp_is_kw(p, "SELECT") || sqlp_is_kw(p, "WITH"))
				return sqlp_refuse(p, p->t.pos, "sub-queries"), NULL;
			e = sqlp_expr(p);
			if (sqlp_is_op(p, ","))
				return sqlp_refuse(p, p->t.pos, "row constructors"), NULL;
			sqlp_expect_op(p, ")");
			goto out;
		}
		if (sqlp_is_op(p, "{"))
			return sqlp_refuse(p, pos, "ODBC escapes"), NULL;
		return sqlp_syntax(p, pos, "expected an expression, found '%s'", p->t.text), NULL;
	case TK_IDENT:
		if (sqlp_accept_kw(p, "NULL")) {
			e = sqlp_mk(p, SQL_E_NULL, 0, pos);
			goto out;
		}
		if (sqlp_is_kw(p, "TRUE") || sqlp_is_kw(p, "FALSE")) {
			if (!(e = sqlp_mk(p, SQL_E_BOOL, 0, pos)))
				return NULL;
			e->ival = sqlp_is_kw(p, "TRUE");
			sqlp_next(p);
			goto out;
		}
		if (sqlp_is_kw(p, "CASE")) {
			e = case_expr(p, pos);
			goto out;
		}
		if (sqlp_is_kw(p, "EXISTS"))
			return sqlp_refuse(p, pos, "sub-queries (EXISTS)"), NULL;
		if (sqlp_is_kw(p, "INTERVAL"))
			return sqlp_refuse(p, pos, "INTERVAL expressions"), NULL;
		if (sqlp_is_kw(p, "SELECT"))
			return sqlp_refuse(p, pos, "sub-queries"), NULL;
		/* _charset'literal' introducers */
		if (p->t.text[0] == '_' && (sqlp_peek(p).kind == TK_STR ||
					    (sqlp_peek(p).kind == TK_NUM && sqlp_peek(p).text[0] == '0' &&
					     (sqlp_peek(p).text[1] == 'x' || sqlp_peek(p).text[1] == 'b')))) {
			e = introduced_literal(p, pos);
			goto out;
		}
		if ((sqlp_is_kw(p, "DATE") || sqlp_is_kw(p, "TIMESTAMP") || sqlp_is_kw(p, "TIME")) &&
		    sqlp_peek(p).kind == TK_STR) {         /* DATE '2020-01-01' */
			e = introduced_literal(p, pos);
			goto out;
		}
		/* fall through */
	case TK_QIDENT:
		e = column_or_call(p);
		goto out;
	case TK_END:
		return sqlp_syntax(p, pos, "unexpected end of statement"), NULL;
	default:
		return sqlp_syntax(p, pos, "expected an expression"), NULL;
	}
out:
	p->depth--;
	return p->rc ? NULL : e;
}

/* A prefix operator (unary - + ~ ! and NOT): op operand, counted against
 * the nesting limit like a parenthesis. */
static struct sql_expr *prefix(struct parser *p, const char *op, struct sql_expr *(*operand)(struct parser *))
{
	int pos = p->t.pos;
	struct sql_expr *e, *x;

	if (++p->depth > 200)
		return sqlp_refuse(p, pos, "expressions nested deeper than 200 levels"), NULL;
	sqlp_next(p);
	x = operand(p);
	p->depth--;
	if (!x || !(e = sqlp_mk(p, SQL_E_UNARY, 1, pos)))
		return NULL;
	e->text = op;
	e->args[0] = x;
	return e;
}

static struct sql_expr *unary(struct parser *p)
{
	static const char *const ops[] = { "-", "+", "~", "!", NULL };
	size_t i;

	if (p->rc)
		return NULL;
	for (i = 0; ops[i]; i++)
		if (sqlp_is_op(p, ops[i]))
			return prefix(p, ops[i], unary);
	if (sqlp_is_kw(p, "BINARY"))       /* counted in the nesting depth like the others */
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
			if (isalpha((unsigned char)ops[i][0]) ? sqlp_is_kw(p, ops[i]) : sqlp_is_op(p, ops[i]))
				break;
		if (!ops[i])
			break;
		if (chained(p, pos) < 0)
			return NULL;
		sqlp_next(p);
		l = binary(p, ops[i + 1], l, operand(p), pos);
	}
	return l;
}

static struct sql_expr *bitxor(struct parser *p)
{
	static const char *const ops[] = { "^", "^", NULL };
	struct sql_expr *l = left_assoc(p, unary, ops);

	if (l && sqlp_is_kw(p, "COLLATE"))
		return sqlp_refuse(p, p->t.pos, "COLLATE"), NULL;
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
		if (sqlp_is_op(p, ops[i]))
			return !strcmp(ops[i], "!=") ? "<>" : ops[i];
	return NULL;
}

/* x IS [NOT] NULL|TRUE|FALSE|UNKNOWN; the current token is IS. */
static struct sql_expr *is_test(struct parser *p, struct sql_expr *l, int pos)
{
	struct sql_expr *e;
	int neg = 0;

	sqlp_next(p);
	if (sqlp_accept_kw(p, "NOT"))
		neg = 1;
	if (!(sqlp_is_kw(p, "NULL") || sqlp_is_kw(p, "TRUE") || sqlp_is_kw(p, "FALSE") || sqlp_is_kw(p, "UNKNOWN")))
		return sqlp_syntax(p, p->t.pos, "expected NULL, TRUE, FALSE or UNKNOWN after IS"), NULL;
	if (!(e = sqlp_mk(p, SQL_E_IS, 1, pos)))
		return NULL;
	e->text = !strcasecmp(p->t.text, "NULL") ? "NULL" : !strcasecmp(p->t.text, "TRUE") ? "TRUE"
		: !strcasecmp(p->t.text, "FALSE") ? "FALSE" : "UNKNOWN";
	e->negated = neg;
	e->args[0] = l;
	sqlp_next(p);
	return e;
}

/* x [NOT] BETWEEN lo AND hi, after BETWEEN.  MariaDB binds both bounds
 * tighter than comparisons: 2 BETWEEN 1 AND 3 = 1 is
 * (2 BETWEEN 1 AND 3) = 1. */
static struct sql_expr *between(struct parser *p, struct sql_expr *l, int neg, int pos)
{
	struct sql_expr *lo = bitor(p), *hi, *e;

	sqlp_expect_kw(p, "AND");
	hi = bitor(p);
	if (!lo || !hi || !(e = sqlp_mk(p, SQL_E_BETWEEN, 3, pos)))
		return NULL;
	e->args[0] = l;
	e->args[1] = lo;
	e->args[2] = hi;
	e->negated = neg;
	return e;
}

/* x [NOT] IN (a, b, ...), after IN. */
static struct sql_expr *in_list(struct parser *p, struct sql_expr *l, int neg, int pos)
{
	struct vec v = { 0 };
	struct sql_expr *e;

	sqlp_expect_op(p, "(");
	if (sqlp_is_kw(p, "SELECT") || sqlp_is_kw(p, "WITH"))
		return sqlp_refuse(p, p->t.pos, "sub-queries"), NULL;
	if (sqlp_vec_push(p, &v, l) < 0)
		return NULL;
	do {
		struct sql_expr *x = sqlp_expr(p);
		if (!x || sqlp_vec_push(p, &v, x) < 0)
			return NULL;
	} while (sqlp_accept_op(p, ","));
	sqlp_expect_op(p, ")");
	if (p->rc || !(e = from_vec(p, SQL_E_IN, &v, pos)))
		return NULL;
	e->negated = neg;
	return e;
}

/* x [NOT] LIKE pattern [ESCAPE c] or x [NOT] REGEXP|RLIKE pattern; the
 * current token is the operator. */
static struct sql_expr *like(struct parser *p, struct sql_expr *l, int neg, int pos)
{
	const char *kind = sqlp_is_kw(p, "LIKE") ? "LIKE" : "REGEXP";
	struct sql_expr *pat, *esc = NULL, *e;

	sqlp_next(p);
	pat = bitor(p);
	if (!strcmp(kind, "LIKE") && sqlp_accept_kw(p, "ESCAPE") && !(esc = primary(p)))
		return NULL;
	if (!pat || !(e = sqlp_mk(p, SQL_E_LIKE, esc ? 3 : 2, pos)))
		return NULL;
	e->text = kind;
	e->args[0] = l;
	e->args[1] = pat;
	if (esc)
		e->args[2] = esc;
	e->negated = neg;
	return e;
}

/* NOT followed by IN, BETWEEN, LIKE, REGEXP or RLIKE negates that
 * predicate; any other NOT belongs to an enclosing rule. */
static int negates_predicate(struct parser *p)
{
	struct sql_token nt;

	if (!sqlp_is_kw(p, "NOT"))
		return 0;
	nt = sqlp_peek(p);
	return nt.kind == TK_IDENT && (!strcasecmp(nt.text, "IN") || !strcasecmp(nt.text, "BETWEEN") ||
				       !strcasecmp(nt.text, "LIKE") || !strcasecmp(nt.text, "REGEXP") ||
				       !strcasecmp(nt.text, "RLIKE"));
}

/* Comparisons, IS, [NOT] BETWEEN/IN/LIKE/REGEXP: each applies to the
 * operand built so far (a = b IS NULL is (a = b) IS NULL). */
static struct sql_expr *predicate(struct parser *p)
{
	struct sql_expr *l = bitor(p);
	int applied = 0;              /* operators applied to l so far */

	for (;;) {
		const char *op;
		int pos = p->t.pos, neg = 0;

		if (!l || p->rc)
			return NULL;
		if ((op = comparison_op(p))) {
			sqlp_next(p);
			if (sqlp_is_kw(p, "ANY") || sqlp_is_kw(p, "ALL") || sqlp_is_kw(p, "SOME"))
				return sqlp_refuse(p, p->t.pos, "sub-queries (ANY/ALL)"), NULL;
			l = binary(p, op, l, bitor(p), pos);
		} else if (sqlp_is_kw(p, "IS")) {
			l = is_test(p, l, pos);
		} else {
			if (sqlp_is_kw(p, "NOT")) {
				if (!negates_predicate(p))
					return l;
				sqlp_next(p);
				neg = 1;
			}
			if (sqlp_accept_kw(p, "BETWEEN"))
				l = between(p, l, neg, pos);
			else if (sqlp_accept_kw(p, "IN"))
				l = in_list(p, l, neg, pos);
			else if (sqlp_is_kw(p, "LIKE") || sqlp_is_kw(p, "REGEXP") || sqlp_is_kw(p, "RLIKE"))
				l = like(p, l, neg, pos);
			else if (neg)
				return sqlp_syntax(p, p->t.pos, "expected IN, BETWEEN, LIKE or REGEXP after NOT"), NULL;
			else if (sqlp_is_kw(p, "SOUNDS"))
				return sqlp_refuse(p, pos, "SOUNDS LIKE"), NULL;
			else
				return l;
		}
		if (applied++ && chained(p, pos) < 0)
			return NULL;
	}
}

static struct sql_expr *not_(struct parser *p)
{
	if (sqlp_is_kw(p, "NOT"))
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

struct sql_expr *sqlp_expr(struct parser *p)
{
	static const char *const ops[] = { "OR", "OR", "||", "OR", NULL };
	struct sql_expr *l = left_assoc(p, xor_, ops);

	if (l && sqlp_is_op(p, ":="))
		return sqlp_refuse(p, p->t.pos, "assignments (:=)"), NULL;
	return p->rc ? NULL : l;
}
