/* users.h: the czar's accounts at run time -- users (the users file,
 * auth.h), roles and SELECT grants (FILE.grants, users_store.h), the
 * read check every statement passes, and MySQL's per-account resource
 * limits.  One lock inside guards all of it; every function here may be
 * called from any session or HTTP thread.
 *
 * Who reads what (users_may_read):
 *   - an admin (users file "admin") reads every database;
 *   - information_schema, and the user's own user_<name> database (the
 *     HTTP ingest's), are readable by everyone;
 *   - a user without the "restricted" option reads every catalog, as
 *     before grants existed: every user of an operator-written users file
 *     that never received a GRANT;
 *   - a restricted user reads the databases granted to it (GRANT SELECT
 *     ON db.*, or *.*) directly or through its roles.  CREATE USER makes
 *     restricted users; the first GRANT to a file user makes it restricted
 *     for good (REVOKE never widens what it reads).  Every role granted
 *     to a user is active from login, like MariaDB's default role.
 *
 * Limits (MySQL's, counted in memory per account since the czar started,
 * in windows of one hour from the first event, like MySQL):
 * max_questions (statements), max_connections_per_hour (logins, SQL port),
 * max_user_connections (sessions at once; session.c counts them). */
#ifndef QSERV_CZAR_USERS_H
#define QSERV_CZAR_USERS_H

#include <stddef.h>

#include "auth.h"
#include "users_store.h"

struct czar;

/* Loads users_path.grants beside the users file cz->users came from.
 * 0, or -errno with err filled. */
int users_open(struct czar *cz, const char *users_path, char *err, size_t errlen);

/* A copy of user name's entry: 0, or -ENOENT. */
int users_get(struct czar *cz, const char *name, struct auth_user *ret);
/* The roles granted to user (directly); returns how many were written. */
size_t users_roles(struct czar *cz, const char *user, char ret[][AUTH_NAME_MAX + 1], size_t max);
int users_is_admin(struct czar *cz, const char *user);
/* 1 when user may read database db (rules above), else 0. */
int users_may_read(struct czar *cz, const char *user, const char *db);
/* 1 when user is restricted (reads granted databases only), else 0. */
int users_restricted(struct czar *cz, const char *user);
/* Appends ", 'db'" for every database user may read by name (grants,
 * its roles', its user_<name>); returns 1 when it holds *.* instead. */
int users_granted_dbs(struct czar *cz, const char *user, struct buf *out);

/* One more login / statement of user within its hourly limit: 0, or
 * ER_USER_LIMIT_REACHED with *limit and *what ("max_questions",
 * "max_connections_per_hour") set. */
unsigned users_count_connection(struct czar *cz, const char *user, unsigned *limit);
unsigned users_count_question(struct czar *cz, const char *user, unsigned *limit);

/* ---- changes (users_sql.c), each saved to disk before it answers ------ */

/* The result of a change: 0, or a MySQL error code with msg filled. */
struct users_err {
	unsigned code;
	char msg[300];
};

/* The limits and lock an ALTER/CREATE USER sets: -1 each when not named;
 * hash: IDENTIFIED BY PASSWORD '*HEX' (NULL: none). */
struct users_attrs {
	long long max_questions, max_conn_hour, max_user_conn;
	int lock;
	const unsigned char *hash;
};

unsigned users_create(struct czar *cz, const char *name, const char *pw, int if_not_exists,
		      const struct users_attrs *a, struct users_err *e);
unsigned users_drop(struct czar *cz, const char *name, int if_exists, int role, struct users_err *e);
/* pw NULL: the password is left alone. */
unsigned users_alter(struct czar *cz, const char *name, const char *pw, int if_exists,
		     const struct users_attrs *a, struct users_err *e);
unsigned users_create_role(struct czar *cz, const char *role, int if_not_exists, struct users_err *e);
unsigned users_grant_role(struct czar *cz, const char *role, const char *user, int revoke, struct users_err *e);
unsigned users_grant_select(struct czar *cz, const char *db, const char *who, int revoke, struct users_err *e);
/* The lines of SHOW GRANTS FOR name, each appended to out NUL-separated;
 * returns how many, or 0 with e set. */
size_t users_show_grants(struct czar *cz, const char *name, struct buf *out, struct users_err *e);

/* ---- on a session (users_sql.c) -------------------------------------- */
struct sess;
struct sql_stmt;

/* Runs an account statement (SQL_USER) and answers it. */
void users_sql_run(struct sess *s, const struct sql_stmt *st);
/* 1 after writing 1142 when the SELECT st reads a table of a database
 * s's user may not read (a table without a database: s->db). */
int users_check_select(struct sess *s, const struct sql_stmt *st);
/* users_schema.c, for a restricted user: 1 after writing 1142 when st
 * reads an information_schema table not known to be safe; and the
 * condition keeping information_schema rows to the databases it reads,
 * added to st's WHERE (0, or -ENOMEM). */
int users_check_schema(struct sess *s, const struct sql_stmt *st);
int users_filter_schema(struct sess *s, struct sql_stmt *st);
/* A SHOW or DESCRIBE: 1 after answering it (an error, or SHOW DATABASES
 * listing only what a restricted user reads), 0 to run it as usual. */
int users_check_show(struct sess *s, const struct sql_stmt *st);
/* 0 when s's user may use db, else 1044 written and returned. */
unsigned users_check_db(struct sess *s, const char *db);
/* At login of user u (password checked): a locked account (4151) or
 * max_connections_per_hour reached (1226).  0, or the error written. */
unsigned users_check_login(struct sess *s, const struct auth_user *u);
/* Before each statement: max_questions reached (1226).  0 or written. */
unsigned users_check_question(struct sess *s);

#endif
