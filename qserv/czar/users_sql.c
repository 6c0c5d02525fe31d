/* users_sql.c: the users module on a session (users.h): account
 * statements run for a client (admins manage accounts; anyone changes
 * their own password and sees their own grants), the read checks a
 * statement passes (1142 for a table, 1044 for a database) and the login
 * and statement limits (1226, a locked account's 4151). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mariadb/mysql.h>
#include <mariadb/mysqld_error.h>

#include "myproto.h"
#include "relay.h"
#include "session.h"
#include "sql.h"
#include "qserv/common/sqlid.h"
#include "users.h"

static void denied_manage(struct sess *s)
{
	myp_err(&s->conn, ER_SPECIFIC_ACCESS_DENIED_ERROR, "42000", "Access denied; you need (at least one of) "
		"the CREATE USER privilege(s) for this operation");
}

/* 1 after writing MySQL's error when a name of st is not acceptable. */
static int bad_names(struct sess *s, const struct sql_user_stmt *u)
{
	const char *n[2] = { u->name, u->role };

	for (int i = 0; i < 2; i++)
		if (n[i] && (!sqlid_ok(n[i]) || strlen(n[i]) > AUTH_NAME_MAX)) {
			myp_err(&s->conn, ER_WRONG_USAGE, NULL, "Incorrect user or role name '%.64s': ASCII letters, "
				"digits and '_', 1..%d bytes, not starting with a digit", n[i], AUTH_NAME_MAX);
			return 1;
		}
	if (u->db && strcmp(u->db, "*") && !sqlid_ok(u->db)) {
		myp_err(&s->conn, ER_WRONG_DB_NAME, NULL, "Incorrect database name '%.64s'", u->db);
		return 1;
	}
	return 0;
}

/* The attributes of a CREATE/ALTER USER or SET PASSWORD into a (hash
 * parsed into hash).  1 after writing an error. */
static int attrs_of(struct sess *s, const struct sql_user_stmt *u, struct users_attrs *a, unsigned char *hash)
{
	a->max_questions = u->max_questions;
	a->max_conn_hour = u->max_conn_hour;
	a->max_user_conn = u->max_user_conn;
	a->lock = u->lock;
	a->hash = NULL;
	if (a->max_user_conn > 100000) {
		myp_err(&s->conn, ER_WRONG_VALUE_FOR_VAR, NULL, "MAX_USER_CONNECTIONS is 0..100000");
		return 1;
	}
	if (u->hash && auth_hash_parse(u->hash, hash) < 0) {
		myp_err(&s->conn, ER_PASSWD_LENGTH, "HY000", "Password hash should be a 41-digit hexadecimal number");
		return 1;
	}
	if (u->hash)
		a->hash = hash;
	/* the port faces the network: no account without a password (MariaDB's
	 * answer when a password validation plugin refuses one) */
	if ((u->op == SQL_U_CREATE_USER && !u->password && !u->hash) || (u->password && !u->password[0])) {
		myp_err(&s->conn, ER_NOT_VALID_PASSWORD, "HY000", "Your password does not satisfy the current policy "
			"requirements (the czar wants a non-empty password)");
		return 1;
	}
	return 0;
}

/* SHOW GRANTS [FOR name]: one column, MySQL's "Grants for u@%". */
static void show_grants(struct sess *s, const char *name)
{
	char title[AUTH_NAME_MAX + 20];
	struct users_err e;
	struct myp_column col;
	struct buf out;
	size_t n, i, off = 0;

	buf_init(&out);
	n = users_show_grants(s->cz, name, &out, &e);
	if (!n) {
		myp_err(&s->conn, e.code, "42000", "%s", e.msg);
		buf_free(&out);
		return;
	}
	snprintf(title, sizeof(title), "Grants for %s@%%", name);
	myp_column_count(&s->conn, 1);
	memset(&col, 0, sizeof(col));
	col.name = col.org_name = title;
	col.charset = MYP_CHARSET_UTF8MB4;
	col.type = MYSQL_TYPE_VAR_STRING;
	col.length = 1024;
	myp_column(&s->conn, &col, 0);
	myp_eof(&s->conn, s->status);
	for (i = 0; i < n; i++) {
		const char *v = (const char *)out.data + off;
		unsigned long len = strlen(v);
		myp_row(&s->conn, &v, &len, 1);
		off += len + 1;
	}
	myp_eof(&s->conn, s->status);
	buf_free(&out);
}

/* 1 when the session's user holds role (SHOW GRANTS FOR a role of one's own). */
static int holds_role(struct sess *s, const char *role)
{
	char r[64][AUTH_NAME_MAX + 1];
	size_t n = users_roles(s->cz, s->user, r, 64);

	for (size_t i = 0; i < n; i++)
		if (!strcmp(r[i], role))
			return 1;
	return 0;
}

/* The change itself, once allowed: the error (0: none) in e. */
static void change(struct sess *s, const struct sql_user_stmt *u, const char *who, const struct users_attrs *a,
		   struct users_err *e)
{
	e->code = 0;
	switch (u->op) {
	case SQL_U_CREATE_USER: users_create(s->cz, who, u->password, u->if_exists, a, e); break;
	case SQL_U_DROP_USER: users_drop(s->cz, who, u->if_exists, 0, e); break;
	case SQL_U_DROP_ROLE: users_drop(s->cz, who, u->if_exists, 1, e); break;
	case SQL_U_ALTER_USER:
	case SQL_U_SET_PASSWORD: users_alter(s->cz, who, u->password, u->if_exists, a, e); break;
	case SQL_U_CREATE_ROLE: users_create_role(s->cz, who, u->if_exists, e); break;
	case SQL_U_GRANT_ROLE: users_grant_role(s->cz, u->role, who, 0, e); break;
	case SQL_U_REVOKE_ROLE: users_grant_role(s->cz, u->role, who, 1, e); break;
	case SQL_U_GRANT_SELECT: users_grant_select(s->cz, u->db, who, 0, e); break;
	case SQL_U_REVOKE_SELECT: users_grant_select(s->cz, u->db, who, 1, e); break;
	case SQL_U_SHOW_GRANTS: break;
	}
}

void users_sql_run(struct sess *s, const struct sql_stmt *st)
{
	const struct sql_user_stmt *u = st->user;
	const char *who = u->name ? u->name : s->user;
	int self = !strcmp(who, s->user);
	unsigned char hash[AUTH_HASH_LEN];
	struct users_attrs a;
	struct users_err e;
	struct buf summary;

	buf_init(&summary);   /* SHOW SESSIONS shows "CREATE USER ...", never the password */
	sql_print_stmt(&summary, st);
	sess_set_state(s, "Query", summary.oom ? NULL : buf_str(&summary), summary.len);
	buf_free(&summary);
	if (u->op == SQL_U_SHOW_GRANTS) {
		if (!s->admin && !self && !holds_role(s, who))
			myp_err(&s->conn, ER_DBACCESS_DENIED_ERROR, "42000", "Access denied for user '%s'@'%%' to "
				"database 'mysql'", s->user);
		else
			show_grants(s, who);
		return;
	}
	if (!s->admin && !(u->op == SQL_U_SET_PASSWORD && self)) {
		denied_manage(s);
		return;
	}
	if (bad_names(s, u) || attrs_of(s, u, &a, hash))
		return;
	change(s, u, who, &a, &e);
	if (e.code)
		myp_err(&s->conn, e.code, "HY000", "%s", e.msg);
	else
		myp_ok(&s->conn, 0, s->status, NULL);
}

static void denied_table(struct sess *s, const char *db, const char *table)
{
	myp_err(&s->conn, ER_TABLEACCESS_DENIED_ERROR, "42000", "SELECT command denied to user '%s'@'%%' for table "
		"'%.64s.%.64s'", s->user, db, table ? table : "");
}

unsigned users_check_db(struct sess *s, const char *db)
{
	if (users_may_read(s->cz, s->user, db))
		return 0;
	myp_err(&s->conn, ER_DBACCESS_DENIED_ERROR, "42000", "Access denied for user '%s'@'%%' to database '%.64s'",
		s->user, db);
	return ER_DBACCESS_DENIED_ERROR;
}

int users_check_select(struct sess *s, const struct sql_stmt *st)
{
	for (size_t i = 0; st->select && i < st->select->nfrom; i++) {
		const struct sql_table *t = &st->select->from[i];
		const char *db = t->db ? t->db : s->db[0] ? s->db : NULL;
		if (db && t->name && !users_may_read(s->cz, s->user, db)) {
			denied_table(s, db, t->name);
			return 1;
		}
	}
	return 0;
}

/* SHOW DATABASES of a restricted user: the czar's MariaDB filters the
 * list by name (information_schema, granted databases, user_<name>). */
static int show_databases(struct sess *s, const struct sql_stmt *st)
{
	struct buf q;

	if (!users_restricted(s->cz, s->user))
		return 0;
	buf_init(&q);
	buf_puts(&q, "SHOW DATABASES WHERE `Database` IN ('information_schema'");
	if (users_granted_dbs(s->cz, s->user, &q)) {   /* SELECT ON *.* */
		buf_free(&q);
		return 0;
	}
	if (st->show_where) {
		buf_free(&q);
		myp_err(&s->conn, ER_NOT_SUPPORTED_YET, NULL, "Qserv does not support SHOW DATABASES WHERE for users "
			"with grants (use LIKE)");
		return 1;
	}
	buf_puts(&q, ")");
	if (st->show_like)
		buf_printf(&q, " AND `Database` LIKE %s", st->show_like);
	if (q.oom)
		myp_err(&s->conn, ER_OUT_OF_RESOURCES, NULL, "Out of memory");
	else
		relay_run(s, (const char *)q.data, q.len);
	buf_free(&q);
	return 1;
}

int users_check_show(struct sess *s, const struct sql_stmt *st)
{
	const char *db;

	if (st->kind == SQL_DESCRIBE) {
		db = st->table && st->table->db ? st->table->db : s->db[0] ? s->db : NULL;
		if (db && !users_may_read(s->cz, s->user, db)) {
			denied_table(s, db, st->table ? st->table->name : NULL);
			return 1;
		}
		return 0;
	}
	if (st->show_what && (!strcmp(st->show_what, "DATABASES") || !strcmp(st->show_what, "SCHEMAS")))
		return show_databases(s, st);
	db = st->db ? st->db : s->db[0] ? s->db : NULL;
	return db && users_check_db(s, db) != 0;
}

unsigned users_check_login(struct sess *s, const struct auth_user *u)
{
	unsigned limit;

	if (u->locked) {
		myp_err(&s->conn, ER_ACCOUNT_HAS_BEEN_LOCKED, "HY000", "Access denied, this account is locked");
		return ER_ACCOUNT_HAS_BEEN_LOCKED;
	}
	if (users_count_connection(s->cz, u->name, &limit)) {
		myp_err(&s->conn, ER_USER_LIMIT_REACHED, "42000", "User '%s' has exceeded the 'max_connections_per_hour' "
			"resource (current value: %u)", u->name, limit);
		return ER_USER_LIMIT_REACHED;
	}
	return 0;
}

unsigned users_check_question(struct sess *s)
{
	unsigned limit;

	if (!users_count_question(s->cz, s->user, &limit))
		return 0;
	myp_err(&s->conn, ER_USER_LIMIT_REACHED, "42000", "User '%s' has exceeded the 'max_questions' resource "
		"(current value: %u)", s->user, limit);
	return ER_USER_LIMIT_REACHED;
}
