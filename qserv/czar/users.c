/* users.c: accounts, roles, grants and resource limits at run time (see
 * users.h).  cz->users (auth.h) and the grants (users_store.h) change only
 * under db->lock; every reader copies what it needs under it. */
#include "users_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <mariadb/mysqld_error.h>

#include "czar.h"
#include "log.h"

int users_open(struct czar *cz, const char *users_path, char *err, size_t errlen)
{
	struct users_db *db = calloc(1, sizeof(*db));
	int rc;

	if (!db)
		return snprintf(err, errlen, "out of memory"), -ENOMEM;
	pthread_mutex_init(&db->lock, NULL);
	snprintf(db->path, sizeof(db->path), "%s", users_path);
	snprintf(db->gpath, sizeof(db->gpath), "%s.grants", users_path);
	if ((rc = users_grants_load(db->gpath, &db->g, err, errlen)) < 0) {
		free(db);
		return rc;
	}
	cz->users_db = db;
	return 0;
}

static void lock(struct czar *cz)
{
	pthread_mutex_lock(&cz->users_db->lock);
}

static void unlock(struct czar *cz)
{
	pthread_mutex_unlock(&cz->users_db->lock);
}

static struct auth_user *find(struct czar *cz, const char *name)
{
	return (struct auth_user *)auth_users_find(&cz->users, name);
}

int users_get(struct czar *cz, const char *name, struct auth_user *ret)
{
	const struct auth_user *u;
	int rc = -ENOENT;

	lock(cz);
	if ((u = find(cz, name)) != NULL) {
		*ret = *u;
		rc = 0;
	}
	unlock(cz);
	return rc;
}

size_t users_roles(struct czar *cz, const char *user, char ret[][AUTH_NAME_MAX + 1], size_t max)
{
	const struct users_grants *g;
	size_t i, n = 0;

	lock(cz);
	g = &cz->users_db->g;
	for (i = 0; i < g->nmembers && n < max; i++)
		if (!strcmp(g->members[i].user, user))
			snprintf(ret[n++], AUTH_NAME_MAX + 1, "%s", g->members[i].role);
	unlock(cz);
	return n;
}

int users_is_admin(struct czar *cz, const char *user)
{
	const struct auth_user *u;
	int admin;

	lock(cz);
	admin = (u = find(cz, user)) && u->admin;
	unlock(cz);
	return admin;
}

int users_restricted(struct czar *cz, const char *user)
{
	const struct auth_user *u;
	int r;

	lock(cz);
	r = !(u = find(cz, user)) || (u->restricted && !u->admin);
	unlock(cz);
	return r;
}

/* 1 when who (a user or a role) holds SELECT on db, or on *.*.  Locked. */
static int holds(const struct users_grants *g, const char *who, const char *db)
{
	return users_grants_priv(g, who, db) >= 0 || users_grants_priv(g, who, "*") >= 0;
}

static int own_db(const char *user, const char *db)
{
	return !strncasecmp(db, "user_", 5) && !strcasecmp(db + 5, user);
}

int users_may_read(struct czar *cz, const char *user, const char *db)
{
	const struct users_grants *g;
	const struct auth_user *u;
	int ok = 0;
	size_t i;

	if (!strcasecmp(db, "information_schema") || own_db(user, db))
		return 1;
	lock(cz);
	g = &cz->users_db->g;
	if (!(u = find(cz, user)))
		ok = 0;
	else if (u->admin || !u->restricted || holds(g, user, db))
		ok = 1;
	for (i = 0; !ok && u && i < g->nmembers; i++)
		if (!strcmp(g->members[i].user, user) && holds(g, g->members[i].role, db))
			ok = 1;
	unlock(cz);
	return ok;
}

/* Appends who's databases to out; 1 when it holds *.*.  Locked. */
static int dbs_of(const struct users_grants *g, const char *who, struct buf *out)
{
	int all = 0;

	for (size_t i = 0; i < g->nprivs; i++) {
		if (strcmp(g->privs[i].who, who))
			continue;
		if (!strcmp(g->privs[i].db, "*"))
			all = 1;
		else
			buf_printf(out, ", '%s'", g->privs[i].db);   /* sqlid_ok names: no quoting needed */
	}
	return all;
}

int users_granted_dbs(struct czar *cz, const char *user, struct buf *out)
{
	const struct users_grants *g;
	int all;

	lock(cz);
	g = &cz->users_db->g;
	all = dbs_of(g, user, out);
	for (size_t i = 0; i < g->nmembers; i++)
		if (!strcmp(g->members[i].user, user))
			all |= dbs_of(g, g->members[i].role, out);
	unlock(cz);
	if (strlen(user) <= 59)
		buf_printf(out, ", 'user_%s'", user);
	return all;
}

/* user's counters, added when missing (NULL: out of memory).  Locked. */
static struct hourly *hourly(struct users_db *db, const char *user)
{
	struct hourly *nv;

	for (size_t i = 0; i < db->nh; i++)
		if (!strcmp(db->h[i].name, user))
			return &db->h[i];
	if (!(nv = realloc(db->h, (db->nh + 1) * sizeof(*nv))))
		return NULL;
	db->h = nv;
	memset(&nv[db->nh], 0, sizeof(*nv));
	snprintf(nv[db->nh].name, sizeof(nv->name), "%s", user);
	return &nv[db->nh++];
}

/* One more event in the window starting at *start (reset after an hour). */
static int count(time_t *start, unsigned *n, unsigned limit)
{
	time_t now = time(NULL);

	if (!*start || now - *start >= 3600) {
		*start = now;
		*n = 0;
	}
	if (limit && *n >= limit)
		return -1;
	(*n)++;
	return 0;
}

static unsigned count_event(struct czar *cz, const char *user, int question, unsigned *limit)
{
	const struct auth_user *u;
	struct hourly *h;
	unsigned code = 0;

	lock(cz);
	u = find(cz, user);
	*limit = u ? (question ? u->max_questions : u->max_conn_hour) : 0;
	if (u && (h = hourly(cz->users_db, user)) != NULL) {
		if (question ? count(&h->q_start, &h->questions, *limit) : count(&h->c_start, &h->conns, *limit))
			code = ER_USER_LIMIT_REACHED;
	}
	unlock(cz);
	return code;
}

unsigned users_count_connection(struct czar *cz, const char *user, unsigned *limit)
{
	return count_event(cz, user, 0, limit);
}

unsigned users_count_question(struct czar *cz, const char *user, unsigned *limit)
{
	return count_event(cz, user, 1, limit);
}
