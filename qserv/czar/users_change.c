/* users_change.c: CREATE/DROP/ALTER USER, roles, GRANT/REVOKE and SHOW
 * GRANTS on the store of users.c, each change saved (users file, grants
 * file) before it answers; a save that fails undoes the change.  Errors
 * are MySQL's: 1396 for a user or role that exists (CREATE) or does not
 * (DROP, ALTER), 1959 for a role that is not one, 1133 for a grantee that
 * does not exist, 1141 for a REVOKE of what was not granted. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mariadb/mysqld_error.h>

#include "czar.h"
#include "log.h"
#include "users_internal.h"

static unsigned fail(struct users_err *e, unsigned code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static unsigned fail(struct users_err *e, unsigned code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return e->code = code;
}

static struct users_db *db_of(struct czar *cz)
{
	return (struct users_db *)cz->users_db;
}

static struct auth_user *find(struct czar *cz, const char *name)
{
	return (struct auth_user *)auth_users_find(&cz->users, name);
}

static unsigned save_users(struct czar *cz, struct users_err *e)
{
	char err[256];

	if (auth_users_save(db_of(cz)->path, &cz->users, err, sizeof(err)) < 0) {
		log_warn("users: %s", err);
		return fail(e, ER_UNKNOWN_ERROR, "cannot save the users: %s", err);
	}
	return 0;
}

static unsigned save_grants(struct czar *cz, struct users_err *e)
{
	char err[256];

	if (users_grants_save(db_of(cz)->gpath, &db_of(cz)->g, err, sizeof(err)) < 0) {
		log_warn("users: %s", err);
		return fail(e, ER_UNKNOWN_ERROR, "cannot save the grants: %s", err);
	}
	return 0;
}

static void apply(struct auth_user *u, const struct users_attrs *a)
{
	if (a->max_questions >= 0)
		u->max_questions = (unsigned)a->max_questions;
	if (a->max_conn_hour >= 0)
		u->max_conn_hour = (unsigned)a->max_conn_hour;
	if (a->max_user_conn >= 0)
		u->max_connections = (unsigned)a->max_user_conn;
	if (a->lock >= 0)
		u->locked = a->lock;
	if (a->hash) {
		memcpy(u->hash, a->hash, AUTH_HASH_LEN);
		u->has_password = 1;
	}
}

static void set_password(struct auth_user *u, const char *pw)
{
	u->has_password = pw[0] != 0;
	memset(u->hash, 0, sizeof(u->hash));
	if (pw[0])
		auth_hash_password(pw, strlen(pw), u->hash);
}

unsigned users_create(struct czar *cz, const char *name, const char *pw, int if_not_exists,
		      const struct users_attrs *a, struct users_err *e)
{
	struct auth_user *nv, *u;
	unsigned code = 0;

	e->code = 0;
	pthread_mutex_lock(&db_of(cz)->lock);
	if (find(cz, name) || users_grants_role(&db_of(cz)->g, name) >= 0) {
		if (!if_not_exists)
			code = fail(e, ER_CANNOT_USER, "Operation CREATE USER failed for '%s'@'%%'", name);
	} else if (!(nv = realloc(cz->users.v, (cz->users.n + 1) * sizeof(*nv)))) {
		code = fail(e, ER_OUT_OF_RESOURCES, "Out of memory");
	} else {
		cz->users.v = nv;
		u = &nv[cz->users.n++];
		memset(u, 0, sizeof(*u));
		snprintf(u->name, sizeof(u->name), "%s", name);
		set_password(u, pw ? pw : "");
		u->restricted = 1;
		apply(u, a);
		if ((code = save_users(cz, e)) != 0)
			cz->users.n--;
	}
	pthread_mutex_unlock(&db_of(cz)->lock);
	return code;
}

/* Removes user i from cz->users.  Locked. */
static void remove_user(struct czar *cz, size_t i)
{
	memmove(&cz->users.v[i], &cz->users.v[i + 1], (cz->users.n - i - 1) * sizeof(cz->users.v[0]));
	cz->users.n--;
}

unsigned users_drop(struct czar *cz, const char *name, int if_exists, int role, struct users_err *e)
{
	struct users_db *db = db_of(cz);
	struct auth_user *u, keep = { 0 };
	unsigned code = 0;

	e->code = 0;
	pthread_mutex_lock(&db->lock);
	u = find(cz, name);
	if (role ? users_grants_role(&db->g, name) < 0 : !u) {
		if (!if_exists)
			code = role ? fail(e, ER_CANNOT_USER, "Operation DROP ROLE failed for '%s'", name)
				    : fail(e, ER_CANNOT_USER, "Operation DROP USER failed for '%s'@'%%'", name);
	} else if (u && u->admin) {
		code = fail(e, ER_CANNOT_USER, "Operation DROP USER failed for '%s'@'%%' (an admin of the users "
			    "file: remove its line there)", name);
	} else {
		if (u)
			keep = *u;
		if (u)
			remove_user(cz, (size_t)(u - cz->users.v));
		if (u && (code = save_users(cz, e)) != 0) {
			cz->users.v[cz->users.n++] = keep;   /* the array did not shrink */
		} else {
			users_grants_forget(&db->g, name);
			code = save_grants(cz, e);
		}
	}
	pthread_mutex_unlock(&db->lock);
	return code;
}

unsigned users_alter(struct czar *cz, const char *name, const char *pw, int if_exists,
		     const struct users_attrs *a, struct users_err *e)
{
	struct auth_user *u, old;
	unsigned code = 0;

	e->code = 0;
	pthread_mutex_lock(&db_of(cz)->lock);
	if (!(u = find(cz, name))) {
		if (!if_exists)
			code = fail(e, ER_CANNOT_USER, "Operation ALTER USER failed for '%s'@'%%'", name);
	} else {
		old = *u;
		if (pw)
			set_password(u, pw);
		apply(u, a);
		if ((code = save_users(cz, e)) != 0)
			*u = old;
	}
	pthread_mutex_unlock(&db_of(cz)->lock);
	return code;
}

unsigned users_create_role(struct czar *cz, const char *role, int if_not_exists, struct users_err *e)
{
	struct users_db *db = db_of(cz);
	unsigned code = 0;

	e->code = 0;
	pthread_mutex_lock(&db->lock);
	if (find(cz, role) || users_grants_role(&db->g, role) >= 0) {
		if (!if_not_exists)
			code = fail(e, ER_CANNOT_USER, "Operation CREATE ROLE failed for '%s'", role);
	} else if (users_grants_add_role(&db->g, role) < 0) {
		code = fail(e, ER_OUT_OF_RESOURCES, "Out of memory");
	} else if ((code = save_grants(cz, e)) != 0) {
		db->g.nroles--;
	}
	pthread_mutex_unlock(&db->lock);
	return code;
}

/* A user receiving its first grant reads granted databases only from now
 * on (users.h): saved before the grant itself.  Locked. */
static unsigned restrict_user(struct czar *cz, struct auth_user *u, struct users_err *e)
{
	unsigned code;

	if (!u || u->restricted)
		return 0;
	u->restricted = 1;
	if ((code = save_users(cz, e)) != 0)
		u->restricted = 0;
	return code;
}

/* A GRANT (or REVOKE) once its names are checked: a role membership
 * (member: a = user, b = role) or a SELECT (a = who, b = database); i is
 * the entry's index (-1: none), u the grantee when a user.  Locked. */
static unsigned grant_change(struct czar *cz, struct auth_user *u, int member, const char *a, const char *b,
			     long i, int revoke, struct users_err *e)
{
	struct users_grants *g = &db_of(cz)->g;
	unsigned code;

	if (revoke && i < 0)
		return fail(e, ER_NONEXISTING_GRANT, "There is no such grant defined for user '%s' on host '%%'", a);
	if (revoke) {
		if (member)
			g->members[i] = g->members[--g->nmembers];
		else
			g->privs[i] = g->privs[--g->nprivs];
		return save_grants(cz, e);
	}
	if (i >= 0 || (code = restrict_user(cz, u, e)) != 0)
		return i >= 0 ? 0 : code;
	if ((member ? users_grants_add_member(g, a, b) : users_grants_add_priv(g, a, b)) < 0)
		return fail(e, ER_OUT_OF_RESOURCES, "Out of memory");
	if ((code = save_grants(cz, e)) != 0) {
		if (member)
			g->nmembers--;
		else
			g->nprivs--;
	}
	return code;
}

unsigned users_grant_role(struct czar *cz, const char *role, const char *user, int revoke, struct users_err *e)
{
	struct users_db *db = db_of(cz);
	struct auth_user *u;
	unsigned code;

	e->code = 0;
	pthread_mutex_lock(&db->lock);
	u = find(cz, user);
	if (users_grants_role(&db->g, role) < 0)
		code = fail(e, ER_INVALID_ROLE, "Invalid role specification `%s`", role);
	else if (!u)
		code = fail(e, ER_PASSWORD_NO_MATCH, "Can't find any matching row in the user table");
	else
		code = grant_change(cz, u, 1, user, role, users_grants_member(&db->g, user, role), revoke, e);
	pthread_mutex_unlock(&db->lock);
	return code;
}

unsigned users_grant_select(struct czar *cz, const char *dbname, const char *who, int revoke, struct users_err *e)
{
	struct users_db *db = db_of(cz);
	struct auth_user *u;
	unsigned code;

	e->code = 0;
	pthread_mutex_lock(&db->lock);
	u = find(cz, who);
	if (!u && users_grants_role(&db->g, who) < 0)
		code = fail(e, ER_PASSWORD_NO_MATCH, "Can't find any matching row in the user table");
	else
		code = grant_change(cz, u, 0, who, dbname, users_grants_priv(&db->g, who, dbname), revoke, e);
	pthread_mutex_unlock(&db->lock);
	return code;
}

/* The first line of SHOW GRANTS for user u.  Locked. */
static void user_line(const struct auth_user *u, struct buf *out)
{
	char hash[42];

	buf_printf(out, "GRANT %s ON *.* TO `%s`@`%%`", u->admin ? "ALL PRIVILEGES" : u->restricted ? "USAGE" : "SELECT",
		   u->name);
	if (u->has_password) {
		auth_hash_format(u->hash, hash);
		buf_printf(out, " IDENTIFIED BY PASSWORD '%s'", hash);
	}
	if (u->require_ssl)
		buf_puts(out, " REQUIRE SSL");
	if (u->admin || u->max_questions || u->max_conn_hour || u->max_connections)
		buf_puts(out, " WITH");
	if (u->admin)
		buf_puts(out, " GRANT OPTION");
	if (u->max_questions)
		buf_printf(out, " MAX_QUERIES_PER_HOUR %u", u->max_questions);
	if (u->max_conn_hour)
		buf_printf(out, " MAX_CONNECTIONS_PER_HOUR %u", u->max_conn_hour);
	if (u->max_connections)
		buf_printf(out, " MAX_USER_CONNECTIONS %u", u->max_connections);
	buf_put(out, "", 1);
}

size_t users_show_grants(struct czar *cz, const char *name, struct buf *out, struct users_err *e)
{
	struct users_db *db = db_of(cz);
	const struct auth_user *u;
	const char *q;
	size_t i, n = 0;

	e->code = 0;
	pthread_mutex_lock(&db->lock);
	u = find(cz, name);
	q = u ? "@`%`" : "";
	if (u) {
		user_line(u, out);
		n++;
	} else if (users_grants_role(&db->g, name) >= 0) {
		buf_printf(out, "GRANT USAGE ON *.* TO `%s`", name);
		buf_put(out, "", 1);
		n++;
	} else {
		fail(e, ER_NONEXISTING_GRANT, "There is no such grant defined for user '%s' on host '%%'", name);
	}
	for (i = 0; n && i < db->g.nmembers; i++)
		if (!strcmp(db->g.members[i].user, name)) {
			buf_printf(out, "GRANT `%s` TO `%s`%s", db->g.members[i].role, name, q);
			buf_put(out, "", 1);
			n++;
		}
	for (i = 0; n && i < db->g.nprivs; i++)
		if (!strcmp(db->g.privs[i].who, name)) {
			if (!strcmp(db->g.privs[i].db, "*"))
				buf_printf(out, "GRANT SELECT ON *.* TO `%s`%s", name, q);
			else
				buf_printf(out, "GRANT SELECT ON `%s`.* TO `%s`%s", db->g.privs[i].db, name, q);
			buf_put(out, "", 1);
			n++;
		}
	pthread_mutex_unlock(&db->lock);
	return n;
}
