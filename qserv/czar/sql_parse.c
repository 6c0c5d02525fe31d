/* sql_parse.c: the czar's SQL parser -- statements (SELECT and its
 * clauses, SHOW, DESCRIBE, USE, KILL), the token and error plumbing
 * every rule shares, and sql_parse() itself.  Expressions are
 * sql_parse_expr.c's; SET and the transaction statements
 * sql_parse_session.c's.
 *
 * Recursive descent, one function per grammar rule.  The first error wins:
 * p->rc (a negative errno) stops every rule, and the error names the
 * position (line and the text near it) like MariaDB's own ER_PARSE_ERROR.
 * Constructs Qserv cannot answer exactly are refused here with
 * ER_NOT_SUPPORTED_YET, before any planning, so they can never produce a
 * wrong answer. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mariadb/mysqld_error.h>

#include "sql_parser.h"

/* ---- tokens and errors --------------------------------------------------- */

static const char *const reserved[] = {
	"SELECT", "FROM", "WHERE", "GROUP", "BY", "HAVING", "ORDER", "LIMIT", "OFFSET", "AND", "OR",
	"NOT", "XOR", "IN", "IS", "NULL", "LIKE", "BETWEEN", "CASE", "WHEN", "THEN", "ELSE", "END",
	"AS", "ON", "USING", "JOIN", "INNER", "LEFT", "RIGHT", "CROSS", "OUTER", "NATURAL", "DISTINCT",
	"DISTINCTROW", "ALL", "UNION", "DIV", "MOD", "ASC", "DESC", "TRUE", "FALSE", "INTO", "FOR",
	"STRAIGHT_JOIN", "REGEXP", "RLIKE", "ESCAPE", "EXISTS", "WITH", "LOCK", "INTERSECT", "EXCEPT",
	"WINDOW", "FORCE", "IGNORE", "USE", "PROCEDURE", "BINARY", "COLLATE", "INTERVAL", "SOUNDS", NULL,
};

int sqlp_is_reserved(const char *s)
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

/* Records the first error (a later one changes nothing): the MySQL code,
 * the position and a message naming the line and the text near it.
 * Returns the parse's result, -EINVAL. */
static int set_error(struct parser *p, unsigned code, int pos, const char *fmt, va_list ap)
{
	char why[200];
	const char *near;
	int n;

	if (p->rc)
		return p->rc;
	p->rc = -EINVAL;
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
	return p->rc;
}

int sqlp_syntax(struct parser *p, int pos, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = set_error(p, ER_PARSE_ERROR, pos, fmt, ap);
	va_end(ap);
	return rc;
}

int sqlp_refuse(struct parser *p, int pos, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = set_error(p, ER_NOT_SUPPORTED_YET, pos, fmt, ap);
	va_end(ap);
	return rc;
}

void sqlp_next(struct parser *p)
{
	if (p->rc)
		return;
	p->prev_end = p->t.pos + p->t.len;
	p->t = sql_lex_next(&p->lx);
	if (p->t.kind == TK_ERROR) {
		if (!strcmp(p->lx.error, "executable comments are not supported"))
			sqlp_refuse(p, p->t.pos, "executable comments");
		else
			sqlp_syntax(p, p->t.pos, "%s", p->lx.error);
	}
}

struct sql_token sqlp_peek(struct parser *p)
{
	struct sql_lexer save = p->lx;
	struct sql_token t = sql_lex_next(&p->lx);

	p->lx = save;
	return t;
}

int sqlp_is_kw(const struct parser *p, const char *kw)
{
	return !p->rc && p->t.kind == TK_IDENT && !strcasecmp(p->t.text, kw);
}

int sqlp_accept_kw(struct parser *p, const char *kw)
{
	if (!sqlp_is_kw(p, kw))
		return 0;
	sqlp_next(p);
	return 1;
}

int sqlp_is_op(const struct parser *p, const char *op)
{
	return !p->rc && p->t.kind == TK_OP && !strcmp(p->t.text, op);
}

int sqlp_accept_op(struct parser *p, const char *op)
{
	if (!sqlp_is_op(p, op))
		return 0;
	sqlp_next(p);
	return 1;
}

const char *sqlp_describe(const struct sql_token *t)
{
	return t->kind == TK_END ? "end of statement" : t->text ? t->text : "?";
}

void sqlp_expect_kw(struct parser *p, const char *kw)
{
	if (!sqlp_accept_kw(p, kw))
		sqlp_syntax(p, p->t.pos, "expected %s, found %s", kw, sqlp_describe(&p->t));
}

void sqlp_expect_op(struct parser *p, const char *op)
{
	if (!sqlp_accept_op(p, op))
		sqlp_syntax(p, p->t.pos, "expected '%s', found %s", op, sqlp_describe(&p->t));
}

int sqlp_nomem(struct parser *p)
{
	if (!p->rc) {
		p->rc = -ENOMEM;
		p->err->code = ER_OUT_OF_RESOURCES;
		snprintf(p->err->msg, sizeof(p->err->msg), "Out of memory parsing the statement");
	}
	return p->rc;
}

void *sqlp_oom(struct parser *p)
{
	sqlp_nomem(p);
	return NULL;
}

struct sql_expr *sqlp_mk(struct parser *p, enum sql_expr_kind kind, size_t nargs, int pos)
{
	struct sql_expr *e = sql_expr_new(p->a, kind, nargs);

	if (!e)
		return sqlp_oom(p);
	e->pos = pos;
	return e;
}

int sqlp_vec_push(struct parser *p, struct vec *v, void *x)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 4;
		void **nv = sql_alloc(p->a, cap * sizeof(*nv));
		if (!nv)
			return sqlp_nomem(p);
		if (v->n)
			memcpy(nv, v->v, v->n * sizeof(*nv));
		v->v = nv;
		v->cap = cap;
	}
	v->v[v->n++] = x;
	return 0;
}

/* Identifier (plain non-reserved or back-quoted), or NULL after an error. */
const char *sqlp_ident(struct parser *p, const char *what)
{
	const char *s;

	if (p->rc)
		return NULL;
	if (p->t.kind == TK_QIDENT || (p->t.kind == TK_IDENT && !sqlp_is_reserved(p->t.text))) {
		s = p->t.text;
		sqlp_next(p);
		return s;
	}
	sqlp_syntax(p, p->t.pos, "expected %s, found %s", what, sqlp_describe(&p->t));
	return NULL;
}
/* ---- statements ---------------------------------------------------------- */

static const char *alias(struct parser *p, int required)
{
	if (sqlp_accept_kw(p, "AS"))
		required = 1;
	if (p->t.kind == TK_STR && required) {      /* AS 'alias' */
		const char *s = p->t.text;
		size_t n = strlen(s);
		char *a;
		if (s[0] != '\'' && s[0] != '"')
			return sqlp_syntax(p, p->t.pos, "expected an alias"), NULL;
		a = sql_alloc(p->a, n);
		if (!a)
			return sqlp_oom(p);
		memcpy(a, s + 1, n - 2);
		if (strchr(a, '\\') || strchr(a, s[0]))
			return sqlp_refuse(p, p->t.pos, "escapes inside a quoted alias"), NULL;
		if (!a[0])   /* would print as `` , which does not parse (fuzz-sql) */
			return sqlp_syntax(p, p->t.pos, "empty alias"), NULL;
		sqlp_next(p);
		return a;
	}
	if (p->t.kind == TK_QIDENT || (p->t.kind == TK_IDENT && !sqlp_is_reserved(p->t.text)))
		return sqlp_ident(p, "an alias");
	if (required)
		sqlp_syntax(p, p->t.pos, "expected an alias, found %s", sqlp_describe(&p->t));
	return NULL;
}

static int table_factor(struct parser *p, struct sql_table *t)
{
	const char *a, *b = NULL;

	t->pos = p->t.pos;
	if (sqlp_is_op(p, "(")) {
		struct sql_token nt = sqlp_peek(p);
		if (nt.kind == TK_IDENT && !strcasecmp(nt.text, "SELECT"))
			return sqlp_refuse(p, p->t.pos, "sub-queries in FROM");
		return sqlp_refuse(p, p->t.pos, "parenthesised joins");
	}
	if (!(a = sqlp_ident(p, "a table name")))
		return p->rc;
	if (sqlp_accept_op(p, ".")) {
		if (p->t.kind == TK_IDENT || p->t.kind == TK_QIDENT) {
			b = p->t.text;
			sqlp_next(p);
		} else {
			return sqlp_syntax(p, p->t.pos, "expected a table name after '.'");
		}
	}
	t->db = b ? a : NULL;
	t->name = b ? b : a;
	t->alias = alias(p, 0);
	if (sqlp_is_kw(p, "USE") || sqlp_is_kw(p, "FORCE") || sqlp_is_kw(p, "IGNORE"))
		return sqlp_refuse(p, p->t.pos, "index hints");
	if (sqlp_is_kw(p, "PARTITION"))
		return sqlp_refuse(p, p->t.pos, "PARTITION selection");
	return p->rc;
}

static int join_spec(struct parser *p, struct sql_table *t)
{
	if (sqlp_accept_kw(p, "ON")) {
		t->on = sqlp_expr(p);
		return t->on ? 0 : -1;
	}
	if (sqlp_accept_kw(p, "USING")) {
		struct vec v = { 0 };
		sqlp_expect_op(p, "(");
		do {
			const char *c = sqlp_ident(p, "a column name");
			if (!c || sqlp_vec_push(p, &v, (void *)c) < 0)
				return p->rc;
		} while (sqlp_accept_op(p, ","));
		sqlp_expect_op(p, ")");
		t->using_cols = (const char **)v.v;
		t->nusing = v.n;
		return p->rc;
	}
	return 1;   /* none */
}

static int from_clause(struct parser *p, struct sql_select *s)
{
	struct sql_table tabs[64];
	size_t n = 0;

	memset(tabs, 0, sizeof(tabs));
	if (table_factor(p, &tabs[n++]) < 0)
		return p->rc;
	for (;;) {
		enum sql_join j;
		int need_spec = 0, rc;
		if (sqlp_accept_op(p, ","))
			j = SQL_J_COMMA;
		else if (sqlp_accept_kw(p, "JOIN"))
			j = SQL_J_INNER;
		else if (sqlp_accept_kw(p, "INNER")) {
			sqlp_expect_kw(p, "JOIN");
			j = SQL_J_INNER;
		} else if (sqlp_accept_kw(p, "CROSS")) {
			sqlp_expect_kw(p, "JOIN");
			j = SQL_J_CROSS;
		} else if (sqlp_accept_kw(p, "STRAIGHT_JOIN"))
			j = SQL_J_STRAIGHT;
		else if (sqlp_is_kw(p, "LEFT") || sqlp_is_kw(p, "RIGHT")) {
			j = sqlp_is_kw(p, "LEFT") ? SQL_J_LEFT : SQL_J_RIGHT;
			sqlp_next(p);
			sqlp_accept_kw(p, "OUTER");
			sqlp_expect_kw(p, "JOIN");
			need_spec = 1;
		} else if (sqlp_is_kw(p, "NATURAL")) {
			return sqlp_refuse(p, p->t.pos, "NATURAL joins");
		} else if (sqlp_is_kw(p, "FULL")) {
			return sqlp_refuse(p, p->t.pos, "FULL joins");
		} else
			break;
		if (p->rc)
			return p->rc;
		if (n == sizeof(tabs) / sizeof(tabs[0]))
			return sqlp_refuse(p, p->t.pos, "more than 64 tables in one query");
		tabs[n].join = j;
		if (table_factor(p, &tabs[n]) < 0)
			return p->rc;
		if (j != SQL_J_COMMA) {
			rc = join_spec(p, &tabs[n]);
			if (rc < 0)
				return p->rc;
			if (rc == 1 && need_spec)
				return sqlp_syntax(p, p->t.pos, "expected ON or USING after an outer join");
		}
		n++;
	}
	s->from = sql_alloc(p->a, n * sizeof(*s->from));
	if (!s->from)
		return sqlp_nomem(p);
	memcpy(s->from, tabs, n * sizeof(*s->from));
	s->nfrom = n;
	return 0;
}

int sqlp_int(struct parser *p, int64_t *ret)
{
	char *end;
	long long v;

	if (p->t.kind != TK_NUM || !isdigit((unsigned char)p->t.text[0]) || strchr(p->t.text, '.') ||
	    strchr(p->t.text, 'e') || strchr(p->t.text, 'E') || !strncmp(p->t.text, "0x", 2) ||
	    !strncmp(p->t.text, "0b", 2)) {
		sqlp_syntax(p, p->t.pos, "expected a non-negative integer, found %s", sqlp_describe(&p->t));
		return -EINVAL;
	}
	errno = 0;
	v = strtoll(p->t.text, &end, 10);
	if (errno || *end) {
		sqlp_syntax(p, p->t.pos, "integer out of range: %s", p->t.text);
		return -EINVAL;
	}
	*ret = v;
	sqlp_next(p);
	return 0;
}

static int order_list(struct parser *p, struct sql_order **ret, size_t *ret_n)
{
	struct vec v = { 0 };
	size_t i;
	struct sql_order *o;

	*ret = NULL;
	*ret_n = 0;
	do {
		struct sql_order *x = sql_alloc(p->a, sizeof(*x));
		if (!x)
			return sqlp_nomem(p);
		if (!(x->e = sqlp_expr(p)))
			return p->rc;
		if (sqlp_accept_kw(p, "DESC"))
			x->desc = 1;
		else
			sqlp_accept_kw(p, "ASC");
		if (sqlp_vec_push(p, &v, x) < 0)
			return p->rc;
	} while (sqlp_accept_op(p, ","));
	o = sql_alloc(p->a, (v.n ? v.n : 1) * sizeof(*o));
	if (!o)
		return sqlp_nomem(p);
	for (i = 0; i < v.n; i++)
		o[i] = *(struct sql_order *)v.v[i];
	*ret = o;
	*ret_n = v.n;
	return 0;
}
/* SELECT's modifiers: DISTINCT, and hints with no effect on the answer. */
static int select_options(struct parser *p, struct sql_select *s)
{
	for (;;) {
		if (sqlp_accept_kw(p, "DISTINCT") || sqlp_accept_kw(p, "DISTINCTROW"))
			s->distinct = 1;
		else if (sqlp_accept_kw(p, "ALL") || sqlp_accept_kw(p, "SQL_NO_CACHE") ||
			 sqlp_accept_kw(p, "SQL_CACHE") || sqlp_accept_kw(p, "HIGH_PRIORITY") ||
			 sqlp_accept_kw(p, "SQL_SMALL_RESULT") || sqlp_accept_kw(p, "SQL_BIG_RESULT") ||
			 sqlp_accept_kw(p, "SQL_BUFFER_RESULT")) {
			/* hints with no effect on the answer */
		}
		else if (sqlp_is_kw(p, "SQL_CALC_FOUND_ROWS"))
			return sqlp_refuse(p, p->t.pos, "SQL_CALC_FOUND_ROWS");
		else if (sqlp_is_kw(p, "STRAIGHT_JOIN"))
			sqlp_next(p);
		else
			break;
	}
	return p->rc;
}

/* The select list: * or expressions, each with its source text span (for
 * the column name a client sees) and alias. */
static int select_list(struct parser *p, struct sql_select *s)
{
	struct vec items = { 0 };
	size_t i;

	do {
		struct sql_item *it = sql_alloc(p->a, sizeof(*it));
		if (!it)
			return sqlp_nomem(p);
		if (sqlp_is_op(p, "*")) {
			if (!(it->e = sqlp_mk(p, SQL_E_STAR, 0, p->t.pos)))
				return p->rc;
			sqlp_next(p);
		} else {
			it->start = p->t.pos;
			if (!(it->e = sqlp_expr(p)))
				return p->rc;
			it->end = p->prev_end;
			it->alias = alias(p, 0);
		}
		if (p->rc || sqlp_vec_push(p, &items, it) < 0)
			return p->rc;
	} while (sqlp_accept_op(p, ","));
	s->items = sql_alloc(p->a, items.n * sizeof(*s->items));
	if (!s->items)
		return sqlp_nomem(p);
	for (i = 0; i < items.n; i++)
		s->items[i] = *(struct sql_item *)items.v[i];
	s->nitems = items.n;
	return 0;
}

/* GROUP BY a, b (after GROUP): ascending only, no ROLLUP. */
static int group_by(struct parser *p, struct sql_select *s)
{
	struct sql_order *o;
	size_t n, i;

	sqlp_expect_kw(p, "BY");
	if (p->rc || order_list(p, &o, &n) < 0)
		return p->rc;
	if (!(s->group = sql_alloc(p->a, n * sizeof(*s->group))))
		return sqlp_nomem(p);
	for (i = 0; i < n; i++) {
		if (o[i].desc)
			return sqlp_refuse(p, o[i].e->pos, "GROUP BY ... DESC (use ORDER BY)");
		s->group[i] = o[i].e;
	}
	s->ngroup = n;
	if (sqlp_is_kw(p, "WITH"))
		return sqlp_refuse(p, p->t.pos, "WITH ROLLUP");
	return 0;
}

/* LIMIT n, LIMIT offset, n or LIMIT n OFFSET offset (after LIMIT). */
static int limit_clause(struct parser *p, struct sql_select *s)
{
	int64_t a, b;

	if (sqlp_int(p, &a) < 0)
		return p->rc;
	s->has_limit = 1;
	s->limit = a;
	if (sqlp_accept_op(p, ",")) {
		if (sqlp_int(p, &b) < 0)
			return p->rc;
		s->offset = a;
		s->limit = b;
	} else if (sqlp_accept_kw(p, "OFFSET")) {
		if (sqlp_int(p, &b) < 0)
			return p->rc;
		s->offset = b;
	}
	return 0;
}

/* What may follow a SELECT that Qserv cannot answer. */
static int select_end(struct parser *p)
{
	if (sqlp_is_kw(p, "UNION") || sqlp_is_kw(p, "INTERSECT") || sqlp_is_kw(p, "EXCEPT"))
		return sqlp_refuse(p, p->t.pos, "%s", p->t.text);
	if (sqlp_is_kw(p, "INTO"))
		return sqlp_refuse(p, p->t.pos, "SELECT ... INTO");
	if (sqlp_is_kw(p, "FOR") || sqlp_is_kw(p, "LOCK"))
		return sqlp_refuse(p, p->t.pos, "locking reads");
	if (sqlp_is_kw(p, "PROCEDURE"))
		return sqlp_refuse(p, p->t.pos, "PROCEDURE");
	return p->rc;
}

static struct sql_select *select_stmt(struct parser *p)
{
	struct sql_select *s = sql_alloc(p->a, sizeof(*s));

	if (!s)
		return sqlp_oom(p);
	sqlp_next(p);   /* SELECT */
	if (select_options(p, s) < 0 || select_list(p, s) < 0)
		return NULL;
	if (sqlp_is_kw(p, "INTO"))
		return sqlp_refuse(p, p->t.pos, "SELECT ... INTO"), NULL;
	if (sqlp_accept_kw(p, "FROM")) {
		if (sqlp_is_kw(p, "DUAL"))
			sqlp_next(p);
		else if (from_clause(p, s) < 0)
			return NULL;
	}
	if (sqlp_accept_kw(p, "WHERE") && !(s->where = sqlp_expr(p)))
		return NULL;
	if (sqlp_accept_kw(p, "GROUP") && group_by(p, s) < 0)
		return NULL;
	if (sqlp_accept_kw(p, "HAVING") && !(s->having = sqlp_expr(p)))
		return NULL;
	if (sqlp_is_kw(p, "WINDOW"))
		return sqlp_refuse(p, p->t.pos, "window functions"), NULL;
	if (sqlp_accept_kw(p, "ORDER")) {
		sqlp_expect_kw(p, "BY");
		if (p->rc || order_list(p, &s->order, &s->norder) < 0)
			return NULL;
	}
	if (sqlp_accept_kw(p, "LIMIT") && limit_clause(p, s) < 0)
		return NULL;
	return select_end(p) < 0 ? NULL : s;
}

/* Passes over the rest of a statement the czar's MariaDB checks (SHOW ...,
 * SET ...), refusing user variables and sub-queries in it.  0, or the
 * parse's negative errno. */
static int skip_to_end(struct parser *p)
{
	while (!p->rc && p->t.kind != TK_END && !sqlp_is_op(p, ";")) {
		if (p->t.kind == TK_VAR && p->t.text[1] != '@')
			return sqlp_refuse(p, p->t.pos, "user variables");
		if (sqlp_is_kw(p, "SELECT"))
			return sqlp_refuse(p, p->t.pos, "sub-queries");
		sqlp_next(p);
	}
	return p->rc;
}

/* SHOW QUOTA [FOR 'user' | FOR user] (quota_czar.h); the name's quotes dropped. */
static int show_quota(struct parser *p, struct sql_stmt *st)
{
	size_t n;

	st->kind = SQL_SHOW_QUOTA;
	sqlp_next(p);
	if (!sqlp_accept_kw(p, "FOR"))
		return p->rc;
	if (p->t.kind == TK_STR && p->t.text[0] != 'x' && p->t.text[0] != 'X' && p->t.text[0] != 'b' &&
	    p->t.text[0] != 'B' && p->t.text[0] != 'n' && p->t.text[0] != 'N') {
		n = strlen(p->t.text);
		if (n < 3 || memchr(p->t.text + 1, p->t.text[0], n - 2) || memchr(p->t.text, '\\', n))
			return sqlp_syntax(p, p->t.pos, "expected a user name");
		st->quota_user = sql_strdup(p->a, p->t.text + 1);
		if (st->quota_user)
			((char *)st->quota_user)[n - 2] = 0;
		sqlp_next(p);
	} else {
		st->quota_user = sqlp_ident(p, "a user name");
	}
	return st->quota_user || p->rc ? p->rc : sqlp_nomem(p);
}

static int show_stmt(struct parser *p, struct sql_stmt *st)
{
	static const char *const ok[] = { "DATABASES", "SCHEMAS", "TABLES", "COLUMNS", "FIELDS", "CREATE",
		"TABLE", "INDEX", "INDEXES", "KEYS", "VARIABLES", "STATUS", "WARNINGS", "ERRORS", "COLLATION",
		"CHARACTER", "CHARSET", "ENGINES", "PROCESSLIST", "SESSIONS", "QUOTA", NULL };
	size_t i;
	int pos;

	sqlp_next(p);   /* SHOW */
	if (sqlp_accept_kw(p, "FULL"))
		st->show_full = 1;
	if (sqlp_is_kw(p, "GLOBAL") || sqlp_is_kw(p, "SESSION"))
		sqlp_next(p);
	pos = p->t.pos;
	if (p->t.kind != TK_IDENT)
		return sqlp_syntax(p, pos, "expected what to SHOW");
	for (i = 0; ok[i]; i++)
		if (sqlp_is_kw(p, ok[i]))
			break;
	if (!ok[i])
		return sqlp_refuse(p, pos, "SHOW %s", p->t.text);
	st->show_what = ok[i];
	if (sqlp_is_kw(p, "PROCESSLIST") || sqlp_is_kw(p, "SESSIONS")) {
		st->kind = sqlp_is_kw(p, "PROCESSLIST") ? SQL_SHOW_PROCESSLIST : SQL_SHOW_SESSIONS;
		sqlp_next(p);
		return p->rc;
	}
	if (sqlp_is_kw(p, "QUOTA"))
		return show_quota(p, st);
	if (sqlp_is_kw(p, "CREATE")) {
		struct sql_token nt = sqlp_peek(p);
		if (nt.kind != TK_IDENT || strcasecmp(nt.text, "TABLE"))
			return sqlp_refuse(p, pos, "SHOW CREATE other than TABLE");
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
		return sqlp_nomem(p);
	sqlp_next(p);   /* DESCRIBE / DESC / EXPLAIN */
	if (sqlp_is_kw(p, "SELECT") || sqlp_is_kw(p, "EXTENDED") || sqlp_is_kw(p, "FORMAT") || sqlp_is_kw(p, "PARTITIONS"))
		return sqlp_refuse(p, p->t.pos, "EXPLAIN of a query");
	if (table_factor(p, t) < 0)
		return p->rc;
	st->kind = SQL_DESCRIBE;
	st->table = t;
	return 0;
}

static int kill_stmt(struct parser *p, struct sql_stmt *st)
{
	sqlp_next(p);   /* KILL */
	(void)(sqlp_accept_kw(p, "HARD") || sqlp_accept_kw(p, "SOFT"));
	if (sqlp_accept_kw(p, "QUERY"))
		st->kill_query = 1;
	else
		sqlp_accept_kw(p, "CONNECTION");
	if (sqlp_is_kw(p, "ID"))
		sqlp_next(p);
	if (sqlp_int(p, &st->kill_id) < 0)
		return p->rc;
	st->kind = SQL_KILL;
	return 0;
}

int sql_parse(const char *sql, size_t len, struct sql_stmt **ret, struct sql_error *err)
{
	static const char *const dml[] = { "INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP",
		"ALTER", "TRUNCATE", "RENAME", "LOAD", "GRANT", "REVOKE", "CALL", "DO", "HANDLER", "LOCK",
		"UNLOCK", "FLUSH", "INSTALL", "UNINSTALL", "OPTIMIZE", "REPAIR", "ANALYZE", "CHECK",
		"PREPARE", "EXECUTE", "DEALLOCATE", "START", "SAVEPOINT",
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
		sqlp_syntax(&p, (int)((const char *)memchr(sql, 0, len) - sql), "NUL byte in the statement");
	sqlp_next(&p);
	if (p.rc)
		goto out;
	if (sqlp_is_kw(&p, "SELECT")) {
		if (sqlp_result_fetch(&p, st) == 0) {
			st->kind = SQL_SELECT;
			st->select = select_stmt(&p);
		}
	} else if (sqlp_is_kw(&p, "SUBMIT") || sqlp_is_kw(&p, "CANCEL") ||
		   (sqlp_is_kw(&p, "CALL") && sqlp_peek(&p).kind == TK_IDENT &&
		    !strcasecmp(sqlp_peek(&p).text, "qserv_result_delete"))) {
		sqlp_async_stmt(&p, st, select_stmt);
	} else if (sqlp_is_kw(&p, "SHOW")) {
		show_stmt(&p, st);
	} else if (sqlp_is_kw(&p, "DESCRIBE") || sqlp_is_kw(&p, "DESC") || sqlp_is_kw(&p, "EXPLAIN")) {
		describe_stmt(&p, st);
	} else if (sqlp_is_kw(&p, "SET")) {
		sqlp_set_stmt(&p, st);
	} else if (sqlp_is_kw(&p, "BEGIN") || sqlp_is_kw(&p, "COMMIT") || sqlp_is_kw(&p, "ROLLBACK") ||
		   (sqlp_is_kw(&p, "START") && sqlp_peek(&p).kind == TK_IDENT && !strcasecmp(sqlp_peek(&p).text, "TRANSACTION"))) {
		sqlp_txn_stmt(&p, st);
	} else if (sqlp_is_kw(&p, "USE")) {
		sqlp_next(&p);
		st->kind = SQL_USE;
		st->db = sqlp_ident(&p, "a database name");
	} else if (sqlp_is_kw(&p, "KILL")) {
		kill_stmt(&p, st);
	} else if (sqlp_is_op(&p, "(")) {
		sqlp_refuse(&p, p.t.pos, "parenthesised queries");
	} else if (p.t.kind == TK_END) {
		sqlp_syntax(&p, p.t.pos, "empty statement");
	} else {
		for (i = 0; dml[i]; i++)
			if (sqlp_is_kw(&p, dml[i]))
				break;
		if (dml[i])
			sqlp_refuse(&p, p.t.pos, "%s: the czar is read-only and answers SELECT, SHOW and DESCRIBE",
			       dml[i]);
		else
			sqlp_syntax(&p, p.t.pos, "unknown statement");
	}
	if (!p.rc) {
		int semi = sqlp_accept_op(&p, ";");
		if (!p.rc && p.t.kind != TK_END) {
			if (semi)
				sqlp_refuse(&p, p.t.pos, "multiple statements");
			else
				sqlp_syntax(&p, p.t.pos, "unexpected %s", sqlp_describe(&p.t));
		}
	}
out:
	if (p.rc) {
		rc = p.rc;
		sql_arena_free(a);
		return rc;
	}
	*ret = st;
	return 0;
}
