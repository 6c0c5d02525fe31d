/* sql_parse_user.c: MySQL's account statements, parsed into struct
 * sql_user_stmt (sql.h) for users_sql.c to run:
 *   CREATE USER [IF NOT EXISTS] acct [IDENTIFIED BY 'pw' | IDENTIFIED BY PASSWORD '*HEX']
 *       [WITH limit n ...] [ACCOUNT LOCK | UNLOCK]
 *   ALTER USER [IF EXISTS] acct (the same options, at least one)
 *   DROP USER [IF EXISTS] acct, CREATE ROLE [IF NOT EXISTS] r, DROP ROLE [IF EXISTS] r
 *   SET PASSWORD [FOR acct] = PASSWORD('pw') | '*HEX'
 *   GRANT SELECT ON db.* | *.* TO acct, REVOKE SELECT ON ... FROM acct
 *   GRANT r TO acct, REVOKE r FROM acct, SHOW GRANTS [FOR acct | CURRENT_USER[()]]
 * acct is name, 'name', `name`, optionally @host ('%', 'localhost', ...:
 * accepted and ignored, one account per name).  Limits: MAX_QUERIES_PER_HOUR,
 * MAX_CONNECTIONS_PER_HOUR, MAX_USER_CONNECTIONS (and MAX_UPDATES_PER_HOUR,
 * accepted and ignored: the czar writes nothing).  One account per
 * statement; other privileges, table grants and GRANT OPTION are refused
 * (the czar is read-only).  Names are checked by users_sql.c. */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <mariadb/mysqld_error.h>

#include "sql_parser.h"

static int peek_kw(struct parser *p, const char *kw)
{
	struct sql_token t = sqlp_peek(p);

	return t.kind == TK_IDENT && !strcasecmp(t.text, kw);
}

int sqlp_is_user_stmt(struct parser *p)
{
	if (sqlp_is_kw(p, "CREATE") || sqlp_is_kw(p, "DROP"))
		return peek_kw(p, "USER") || peek_kw(p, "ROLE");
	if (sqlp_is_kw(p, "ALTER"))
		return peek_kw(p, "USER");
	if (sqlp_is_kw(p, "SET"))
		return peek_kw(p, "PASSWORD");
	if (sqlp_is_kw(p, "SHOW"))
		return peek_kw(p, "GRANTS");
	return sqlp_is_kw(p, "GRANT") || sqlp_is_kw(p, "REVOKE");
}

/* A quoted string's value ('' and backslash escapes undone), or NULL
 * after an error. */
static const char *string(struct parser *p, const char *what)
{
	const char *s = p->t.text;
	size_t n, i, k = 0;
	char *out, q;

	if (p->rc)
		return NULL;
	if (p->t.kind != TK_STR || (s[0] != '\'' && s[0] != '"'))
		return sqlp_syntax(p, p->t.pos, "expected %s, found %s", what, sqlp_describe(&p->t)), NULL;
	q = s[0];
	n = strlen(s);
	if (!(out = sql_alloc(p->a, n)))
		return sqlp_oom(p);
	for (i = 1; i + 1 < n; i++) {
		if (s[i] == q && s[i + 1] == q)
			i++;
		else if (s[i] == '\\' && i + 2 < n)
			i++;
		out[k++] = s[i];
	}
	out[k] = 0;
	sqlp_next(p);
	return out;
}

/* A user or role name: identifier or string. */
static const char *name(struct parser *p, const char *what)
{
	if (p->t.kind == TK_STR)
		return string(p, what);
	return sqlp_ident(p, what);
}

/* acct: name [@host], or CURRENT_USER[()] (NULL name, *self set). */
static const char *account(struct parser *p, int *self)
{
	const char *n;

	*self = 0;
	if (sqlp_accept_kw(p, "CURRENT_USER")) {
		if (sqlp_accept_op(p, "("))
			sqlp_expect_op(p, ")");
		*self = 1;
		return NULL;
	}
	if (!(n = name(p, "a user name")))
		return NULL;
	if (p->t.kind == TK_VAR && p->t.text[0] == '@' && p->t.text[1] != '@') {
		int bare = p->t.text[1] == 0;
		sqlp_next(p);
		if (bare && !name(p, "a host after @"))
			return NULL;
	}
	return n;
}

static int limit_value(struct parser *p, int64_t *v)
{
	if (sqlp_int(p, v) < 0)
		return p->rc;
	if (*v > 4000000000LL)
		return sqlp_syntax(p, p->t.pos, "a resource limit is 0..4000000000");
	return 0;
}

/* [IDENTIFIED BY ...] [WITH limit n ...] [ACCOUNT LOCK|UNLOCK]; returns
 * how many options were named, or p->rc. */
static int user_options(struct parser *p, struct sql_user_stmt *u)
{
	int n = 0;
	int64_t ignored;

	if (sqlp_accept_kw(p, "IDENTIFIED")) {
		sqlp_expect_kw(p, "BY");
		if (sqlp_accept_kw(p, "PASSWORD"))
			u->hash = string(p, "a password hash '*HEX'");
		else
			u->password = string(p, "a password");
		n++;
	}
	if (sqlp_is_kw(p, "REQUIRE"))
		return sqlp_refuse(p, p->t.pos, "REQUIRE (the users file's require_ssl option)");
	if (sqlp_accept_kw(p, "WITH")) {
		do {
			int64_t *v = sqlp_accept_kw(p, "MAX_QUERIES_PER_HOUR") ? &u->max_questions
				   : sqlp_accept_kw(p, "MAX_CONNECTIONS_PER_HOUR") ? &u->max_conn_hour
				   : sqlp_accept_kw(p, "MAX_USER_CONNECTIONS") ? &u->max_user_conn
				   : sqlp_accept_kw(p, "MAX_UPDATES_PER_HOUR") ? &ignored : NULL;
			if (!v)
				return sqlp_syntax(p, p->t.pos, "expected MAX_QUERIES_PER_HOUR, MAX_CONNECTIONS_PER_HOUR, "
						   "MAX_USER_CONNECTIONS or MAX_UPDATES_PER_HOUR, found %s",
						   sqlp_describe(&p->t));
			if (limit_value(p, v) < 0)
				return p->rc;
			n++;
		} while (p->t.kind == TK_IDENT && !sqlp_is_kw(p, "ACCOUNT"));
	}
	if (sqlp_accept_kw(p, "ACCOUNT")) {
		if (sqlp_accept_kw(p, "LOCK"))
			u->lock = 1;
		else if (sqlp_accept_kw(p, "UNLOCK"))
			u->lock = 0;
		else
			return sqlp_syntax(p, p->t.pos, "expected LOCK or UNLOCK after ACCOUNT");
		n++;
	}
	return p->rc ? p->rc : n;
}

static int if_exists(struct parser *p, int not)
{
	if (!sqlp_accept_kw(p, "IF"))
		return 0;
	if (not)
		sqlp_expect_kw(p, "NOT");
	sqlp_expect_kw(p, "EXISTS");
	return !p->rc;
}

static int one_account(struct parser *p)
{
	if (sqlp_is_op(p, ","))
		return sqlp_refuse(p, p->t.pos, "more than one account in a statement");
	return p->rc;
}

static int create_drop(struct parser *p, struct sql_user_stmt *u, int create)
{
	int role = sqlp_accept_kw(p, "ROLE"), self;

	if (!role)
		sqlp_expect_kw(p, "USER");
	if (create && sqlp_is_kw(p, "OR"))
		return sqlp_refuse(p, p->t.pos, "CREATE OR REPLACE (DROP, then CREATE)");
	u->if_exists = if_exists(p, create);
	u->op = create ? (role ? SQL_U_CREATE_ROLE : SQL_U_CREATE_USER) : (role ? SQL_U_DROP_ROLE : SQL_U_DROP_USER);
	u->name = role ? name(p, "a role name") : account(p, &self);
	if (!p->rc && !u->name)
		return sqlp_syntax(p, p->t.pos, "expected a user name");
	if (create && !role && user_options(p, u) < 0)
		return p->rc;
	if (create && role && sqlp_is_kw(p, "WITH"))
		return sqlp_refuse(p, p->t.pos, "CREATE ROLE ... WITH ADMIN");
	return one_account(p);
}

static int alter_user(struct parser *p, struct sql_user_stmt *u)
{
	int self, n;

	sqlp_expect_kw(p, "USER");
	u->op = SQL_U_ALTER_USER;
	u->if_exists = if_exists(p, 0);
	u->name = account(p, &self);
	if (p->rc || one_account(p) < 0 || (n = user_options(p, u)) < 0)
		return p->rc;
	if (n == 0)
		return sqlp_syntax(p, p->t.pos, "expected IDENTIFIED BY, WITH or ACCOUNT, found %s", sqlp_describe(&p->t));
	return 0;
}

static int set_password(struct parser *p, struct sql_user_stmt *u)
{
	int self;

	sqlp_expect_kw(p, "PASSWORD");
	u->op = SQL_U_SET_PASSWORD;
	if (sqlp_accept_kw(p, "FOR"))
		u->name = account(p, &self);
	sqlp_expect_op(p, "=");
	if (sqlp_accept_kw(p, "PASSWORD")) {
		sqlp_expect_op(p, "(");
		u->password = string(p, "a password");
		sqlp_expect_op(p, ")");
	} else {
		u->hash = string(p, "PASSWORD('...') or a password hash '*HEX'");
	}
	return p->rc;
}

/* ON db.* | *.* into u->db. */
static int on_database(struct parser *p, struct sql_user_stmt *u)
{
	sqlp_expect_kw(p, "ON");
	if (sqlp_accept_kw(p, "TABLE"))
		return sqlp_refuse(p, p->t.pos, "table-level grants (GRANT SELECT ON db.*)");
	if (sqlp_accept_op(p, "*"))
		u->db = "*";
	else
		u->db = sqlp_ident(p, "a database name or *");
	sqlp_expect_op(p, ".");
	if (!p->rc && !sqlp_accept_op(p, "*"))
		return sqlp_refuse(p, p->t.pos, "table-level grants (GRANT SELECT ON db.*)");
	return p->rc;
}

static int grant_revoke(struct parser *p, struct sql_user_stmt *u)
{
	int grant = sqlp_accept_kw(p, "GRANT"), self;

	if (!grant)
		sqlp_expect_kw(p, "REVOKE");
	if (sqlp_accept_kw(p, "SELECT")) {
		u->op = grant ? SQL_U_GRANT_SELECT : SQL_U_REVOKE_SELECT;
		if (sqlp_is_op(p, "(") || sqlp_is_op(p, ","))
			return sqlp_refuse(p, p->t.pos, "column grants and lists of privileges (SELECT only)");
		if (on_database(p, u) < 0)
			return p->rc;
	} else if (p->t.kind == TK_IDENT && !sqlp_is_kw(p, "ALL") && !sqlp_is_reserved(p->t.text) && (peek_kw(p, "TO") || peek_kw(p, "FROM"))) {
		u->op = grant ? SQL_U_GRANT_ROLE : SQL_U_REVOKE_ROLE;
		u->role = name(p, "a role name");
	} else if (p->t.kind == TK_STR || p->t.kind == TK_QIDENT) {
		u->op = grant ? SQL_U_GRANT_ROLE : SQL_U_REVOKE_ROLE;
		u->role = name(p, "a role name");
	} else {
		return sqlp_refuse(p, p->t.pos, "privileges other than SELECT (the czar is read-only)");
	}
	if (sqlp_is_op(p, ","))
		return sqlp_refuse(p, p->t.pos, "more than one role in a statement");
	sqlp_expect_kw(p, grant ? "TO" : "FROM");
	u->name = account(p, &self);
	if (!p->rc && !u->name)
		return sqlp_syntax(p, p->t.pos, "expected a user or role name");
	if (!p->rc && grant && sqlp_is_kw(p, "WITH"))
		return sqlp_refuse(p, p->t.pos, "WITH GRANT OPTION / WITH ADMIN OPTION (admins are the users file's)");
	return one_account(p);
}

int sqlp_user_stmt(struct parser *p, struct sql_stmt *st)
{
	struct sql_user_stmt *u = sql_alloc(p->a, sizeof(*u));
	int self;

	if (!u)
		return sqlp_nomem(p);
	memset(u, 0, sizeof(*u));
	u->max_questions = u->max_conn_hour = u->max_user_conn = -1;
	u->lock = -1;
	st->kind = SQL_USER;
	st->user = u;
	if (sqlp_accept_kw(p, "CREATE"))
		return create_drop(p, u, 1);
	if (sqlp_accept_kw(p, "DROP"))
		return create_drop(p, u, 0);
	if (sqlp_accept_kw(p, "ALTER"))
		return alter_user(p, u);
	if (sqlp_accept_kw(p, "SET"))
		return set_password(p, u);
	if (sqlp_accept_kw(p, "SHOW")) {
		sqlp_expect_kw(p, "GRANTS");
		u->op = SQL_U_SHOW_GRANTS;
		if (sqlp_accept_kw(p, "FOR"))
			u->name = account(p, &self);
		return p->rc;
	}
	return grant_revoke(p, u);
}

void sqlp_show_note(struct parser *p, struct sql_stmt *st, int *froms)
{
	struct sql_token nt = sqlp_peek(p);
	int ident = p->t.kind == TK_IDENT || p->t.kind == TK_QIDENT;
	const char *w = st->show_what;

	if (sqlp_is_kw(p, "LIKE") && nt.kind == TK_STR) {
		st->show_like = nt.text;
	} else if (sqlp_is_kw(p, "WHERE")) {
		st->show_where = 1;
	} else if (sqlp_is_kw(p, "FROM") || sqlp_is_kw(p, "IN")) {
		++*froms;
		if ((nt.kind == TK_IDENT || nt.kind == TK_QIDENT) &&
		    (!strcmp(w, "TABLES") || !strcmp(w, "TABLE") || *froms >= 2))
			st->db = nt.text;
	} else if (ident && nt.kind == TK_OP && !strcmp(nt.text, ".") && !(*froms >= 2)) {
		st->db = p->t.text;   /* db.table */
	}
}
