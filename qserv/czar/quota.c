/* quota.c: the quota configuration, per-user usage and admission (see
 * quota.h).  The lock guards everything in struct quota; the file is
 * written under it (changes are rare: an administrator's API call).
 * Invariants: entries have distinct names; a usage's start is 0 or the
 * monotonic second its window began; used[QUOTA_CONCURRENT] counts the
 * slots taken and not given back. */
#include "quota.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "monotime.h"

const char *const quota_names[QUOTA_NKINDS] = { "queries", "scans", "concurrent", "result_bytes" };

struct quota_entry {
	char name[QUOTA_NAME_MAX + 1];
	struct quota_limits l;
};

struct quota_usage {
	char user[QUOTA_NAME_MAX + 1];
	int64_t start;                /* monotonic s its window began (0: none yet) */
	int64_t window;               /* its length, fixed when it began */
	uint64_t used[QUOTA_NKINDS];
};

struct entries {
	struct quota_entry *v;
	size_t n;
};

struct quota {
	pthread_mutex_t lock;
	char *path;
	unsigned window;              /* when no entry says one */
	struct quota_limits def;
	struct entries groups, users;
	struct quota_usage *u;
	size_t nu;
};

static void limits_unset(struct quota_limits *l)
{
	for (int k = 0; k < QUOTA_NKINDS; k++)
		l->v[k] = QUOTA_UNSET;
	l->window = QUOTA_UNSET;
}

static struct quota_entry *find(const struct entries *e, const char *name)
{
	for (size_t i = 0; i < e->n; i++)
		if (!strcmp(e->v[i].name, name))
			return &e->v[i];
	return NULL;
}

/* user's limits as quota.h adds them (window always set). */
static void effective(const struct quota *q, const char *user, const char *const *groups, size_t ngroups,
		      struct quota_limits *ret)
{
	const struct quota_entry *o = find(&q->users, user), *g;
	int64_t gwindow = QUOTA_UNSET;

	*ret = q->def;
	for (size_t i = 0; i < ngroups; i++) {
		if (!(g = find(&q->groups, groups[i])))
			continue;
		for (int k = 0; k < QUOTA_NKINDS; k++)
			if (g->l.v[k] != QUOTA_UNSET)
				ret->v[k] = (ret->v[k] == QUOTA_UNSET ? 0 : ret->v[k]) + g->l.v[k];
		if (gwindow == QUOTA_UNSET)
			gwindow = g->l.window;
	}
	if (gwindow != QUOTA_UNSET)
		ret->window = gwindow;
	if (o) {
		for (int k = 0; k < QUOTA_NKINDS; k++)
			if (o->l.v[k] != QUOTA_UNSET)
				ret->v[k] = o->l.v[k];
		if (o->l.window != QUOTA_UNSET)
			ret->window = o->l.window;
	}
	if (ret->window == QUOTA_UNSET)
		ret->window = q->window;
}

/* user's usage with its window rolled over when it ended; NULL on OOM
 * (create 0: NULL when it has none).  A window begun by create lasts
 * window seconds. */
static struct quota_usage *usage(struct quota *q, const char *user, int64_t window, int create)
{
	int64_t now = monotime_ms() / 1000 + 1;   /* never 0 */
	struct quota_usage *u = NULL, *nv;

	for (size_t i = 0; i < q->nu && !u; i++)
		if (!strcmp(q->u[i].user, user))
			u = &q->u[i];
	if (!u) {
		if (!create || !(nv = realloc(q->u, (q->nu + 1) * sizeof(*nv))))
			return NULL;
		q->u = nv;
		u = &q->u[q->nu++];
		memset(u, 0, sizeof(*u));
		snprintf(u->user, sizeof(u->user), "%s", user);
	}
	if (u->start && now >= u->start + u->window) {
		for (int k = 0; k < QUOTA_NKINDS; k++)
			if (k != QUOTA_CONCURRENT)
				u->used[k] = 0;
		u->start = 0;
	}
	if (create && !u->start) {
		u->start = now;
		u->window = window;
	}
	return u;
}

static unsigned resets_in(const struct quota_usage *u, int64_t window)
{
	int64_t left = u && u->start ? u->start + u->window - (monotime_ms() / 1000 + 1) : window;

	return left > 0 ? (unsigned)left : 1;
}

/* 1 (and *ret) when one more of kind (n of them) goes over the limit. */
static int over(const struct quota_limits *l, const struct quota_usage *u, enum quota_kind k, uint64_t n,
		struct quota_refusal *ret)
{
	if (l->v[k] == QUOTA_UNSET || (l->v[k] > 0 && u->used[k] + n <= (uint64_t)l->v[k]))
		return 0;
	ret->kind = k;
	ret->blocked = l->v[k] == 0;
	ret->limit = l->v[k];
	ret->window_s = (unsigned)l->window;
	ret->resets_in_s = k == QUOTA_CONCURRENT ? 0 : resets_in(u, l->window);
	return 1;
}

int quota_admit(struct quota *q, const char *user, const char *const *groups, size_t ngroups, unsigned what,
		struct quota_refusal *ret)
{
	struct quota_limits l;
	struct quota_usage *u;
	int rc = 0;

	pthread_mutex_lock(&q->lock);
	effective(q, user, groups, ngroups, &l);
	if (!(u = usage(q, user, l.window, 1))) {
		pthread_mutex_unlock(&q->lock);
		return 0;   /* out of memory: not a reason to refuse */
	}
	if (what & QUOTA_ADMIT_QUERY) {
		/* result_bytes: 0 blocks; used up (used >= limit) refuses the next query */
		if (over(&l, u, QUOTA_QUERIES, 1, ret) || over(&l, u, QUOTA_CONCURRENT, 1, ret) ||
		    over(&l, u, QUOTA_RESULT_BYTES, 1, ret))
			rc = -EDQUOT;
	}
	if (!rc && (what & QUOTA_ADMIT_SCAN) && over(&l, u, QUOTA_SCANS, 1, ret))
		rc = -EDQUOT;
	if (!rc && (what & QUOTA_ADMIT_QUERY)) {
		u->used[QUOTA_QUERIES]++;
		u->used[QUOTA_CONCURRENT]++;
	}
	if (!rc && (what & QUOTA_ADMIT_SCAN))
		u->used[QUOTA_SCANS]++;
	pthread_mutex_unlock(&q->lock);
	return rc;
}

void quota_release(struct quota *q, const char *user)
{
	struct quota_usage *u;

	pthread_mutex_lock(&q->lock);
	if ((u = usage(q, user, 0, 0)) && u->used[QUOTA_CONCURRENT])
		u->used[QUOTA_CONCURRENT]--;
	pthread_mutex_unlock(&q->lock);
}

void quota_charge_bytes(struct quota *q, const char *user, const char *const *groups, size_t ngroups, uint64_t n)
{
	struct quota_limits l;
	struct quota_usage *u;

	if (!n)
		return;
	pthread_mutex_lock(&q->lock);
	effective(q, user, groups, ngroups, &l);
	if ((u = usage(q, user, l.window, 1)))
		u->used[QUOTA_RESULT_BYTES] += n;
	pthread_mutex_unlock(&q->lock);
}

void quota_status(struct quota *q, const char *user, const char *const *groups, size_t ngroups,
		  struct quota_row ret[QUOTA_NKINDS])
{
	struct quota_limits l;
	struct quota_usage *u;

	pthread_mutex_lock(&q->lock);
	effective(q, user, groups, ngroups, &l);
	u = usage(q, user, l.window, 0);
	for (int k = 0; k < QUOTA_NKINDS; k++) {
		ret[k].limit = l.v[k];
		ret[k].used = u ? u->used[k] : 0;
		ret[k].window_s = (unsigned)l.window;
		ret[k].resets_in_s = k == QUOTA_CONCURRENT ? 0 : resets_in(u, l.window);
	}
	pthread_mutex_unlock(&q->lock);
}

/* ---- the configuration and its file ------------------------------------ */

static json_t *entries_json(const struct entries *e)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < e->n; i++)
		json_object_set_new(o, e->v[i].name, quota_limits_json(&e->v[i].l));
	return o;
}

static json_t *config_json(const struct quota *q)
{
	return json_pack("{s:I,s:o,s:o,s:o}", "window", (json_int_t)q->window, "default", quota_limits_json(&q->def),
			 "groups", entries_json(&q->groups), "users", entries_json(&q->users));
}

json_t *quota_config_json(struct quota *q)
{
	json_t *j;

	pthread_mutex_lock(&q->lock);
	j = config_json(q);
	pthread_mutex_unlock(&q->lock);
	return j;
}

json_t *quota_users_json(struct quota *q)
{
	json_t *a = json_array();

	pthread_mutex_lock(&q->lock);
	for (size_t i = 0; a && i < q->nu; i++)
		json_array_append_new(a, json_string(q->u[i].user));
	for (size_t i = 0; a && i < q->users.n; i++)
		if (!usage(q, q->users.v[i].name, 0, 0))
			json_array_append_new(a, json_string(q->users.v[i].name));
	pthread_mutex_unlock(&q->lock);
	return a;
}

/* The configuration into the file, durably (fileio_write_atomic: a
 * temporary file, fsync, rename, directory fsync).  0 or -errno. */
static int save(const struct quota *q)
{
	json_t *j = config_json(q);
	char *text = j ? json_dumps(j, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
	int rc = text ? fileio_write_atomic(q->path, text, strlen(text), 0600) : -ENOMEM;

	free(text);
	json_decref(j);
	return rc;
}

static struct entries *scope_entries(struct quota *q, const char *scope)
{
	if (!strcmp(scope, "group"))
		return &q->groups;
	if (!strcmp(scope, "user"))
		return &q->users;
	return NULL;
}

/* Sets an entry to *l: 0 or -ENOMEM. */
static int put_entry(struct entries *e, const char *name, const struct quota_limits *l)
{
	struct quota_entry *x = find(e, name), *nv;

	if (!x) {
		if (!(nv = realloc(e->v, (e->n + 1) * sizeof(*nv))))
			return -ENOMEM;
		e->v = nv;
		x = &e->v[e->n++];
		snprintf(x->name, sizeof(x->name), "%s", name);
	}
	x->l = *l;
	return 0;
}

static void drop_entry(struct entries *e, const char *name)
{
	struct quota_entry *x = find(e, name);

	if (x)
		*x = e->v[--e->n];
}

int quota_set(struct quota *q, const char *scope, const char *name, const json_t *body, int replace, char *err,
	      size_t errlen)
{
	int isdef = !strcmp(scope, "default"), rc, existed;
	struct entries *e = isdef ? NULL : scope_entries(q, scope);
	struct quota_limits l, old;
	struct quota_entry *x;

	if (!isdef && (!e || !name || !quota_name_ok(name)))
		return snprintf(err, errlen, "a %s name is 1 to 64 of A-Z a-z 0-9 _ . @ -", e ? scope : "quota"),
		       -EINVAL;
	pthread_mutex_lock(&q->lock);
	x = isdef ? NULL : find(e, name);
	existed = isdef || x;
	if (existed)
		old = isdef ? q->def : x->l;
	else
		limits_unset(&old);
	l = old;
	if ((rc = quota_limits_parse(body, replace, &l, err, errlen)) == 0) {
		rc = isdef ? (q->def = l, 0) : put_entry(e, name, &l);
		if (rc == 0 && (rc = save(q)) < 0) {
			snprintf(err, errlen, "cannot write %s: %s", q->path, strerror(-rc));
			if (isdef)
				q->def = old;
			else if (existed)
				put_entry(e, name, &old);
			else
				drop_entry(e, name);
		}
	}
	pthread_mutex_unlock(&q->lock);
	return rc;
}

int quota_delete(struct quota *q, const char *scope, const char *name, char *err, size_t errlen)
{
	struct entries *e = scope_entries(q, scope);
	struct quota_entry *x;
	struct quota_limits old;
	int rc;

	if (!e || !name)
		return snprintf(err, errlen, "only a group or user entry may be deleted"), -EINVAL;
	pthread_mutex_lock(&q->lock);
	if (!(x = find(e, name))) {
		pthread_mutex_unlock(&q->lock);
		return snprintf(err, errlen, "no quota entry for %s '%s'", scope, name), -ENOENT;
	}
	old = x->l;
	drop_entry(e, name);
	if ((rc = save(q)) < 0) {
		snprintf(err, errlen, "cannot write %s: %s", q->path, strerror(-rc));
		put_entry(e, name, &old);
	}
	pthread_mutex_unlock(&q->lock);
	return rc;
}

/* The entries of object o (may be NULL) into e: 0 or -EINVAL with err. */
static int load_entries(const json_t *o, const char *what, struct entries *e, char *err, size_t errlen)
{
	const char *name;
	json_t *v;
	struct quota_limits l;
	char why[160];

	if (o && !json_is_object(o))
		return snprintf(err, errlen, "\"%s\" is not an object", what), -EINVAL;
	json_object_foreach((json_t *)o, name, v) {
		if (!quota_name_ok(name))
			return snprintf(err, errlen, "%s: bad name '%.64s'", what, name), -EINVAL;
		if (quota_limits_parse(v, 1, &l, why, sizeof(why)) < 0)
			return snprintf(err, errlen, "%s '%.64s': %.160s", what, name, why), -EINVAL;
		if (put_entry(e, name, &l) < 0)
			return snprintf(err, errlen, "out of memory"), -ENOMEM;
	}
	return 0;
}

static int load(struct quota *q, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = json_load_file(q->path, 0, &je), *d;
	char why[300];
	int rc;

	if (!j) {
		if (access(q->path, F_OK) < 0 && errno == ENOENT)
			return 0;
		return snprintf(err, errlen, "%s:%d: %s", q->path, je.line, je.text), -EINVAL;
	}
	d = json_object_get(j, "default");
	if (!json_is_object(j) || (d && quota_limits_parse(d, 1, &q->def, why, sizeof(why)) < 0)) {
		snprintf(err, errlen, "%s: default: %s", q->path, json_is_object(j) ? why : "not an object");
		rc = -EINVAL;
	} else if ((rc = load_entries(json_object_get(j, "groups"), "groups", &q->groups, why, sizeof(why))) < 0 ||
		 (rc = load_entries(json_object_get(j, "users"), "users", &q->users, why, sizeof(why))) < 0)
		snprintf(err, errlen, "%s: %s", q->path, why);
	json_decref(j);
	return rc;
}

int quota_open(const char *path, unsigned window_s, struct quota **ret, char *err, size_t errlen)
{
	struct quota *q = calloc(1, sizeof(*q));
	int rc;

	if (!q || !(q->path = strdup(path))) {
		free(q);
		return snprintf(err, errlen, "out of memory"), -ENOMEM;
	}
	pthread_mutex_init(&q->lock, NULL);
	q->window = window_s ? window_s : QUOTA_DEFAULT_WINDOW;
	limits_unset(&q->def);
	if ((rc = load(q, err, errlen)) < 0) {
		quota_free(q);
		return rc;
	}
	*ret = q;
	return 0;
}

void quota_free(struct quota *q)
{
	if (!q)
		return;
	pthread_mutex_destroy(&q->lock);
	free(q->groups.v);
	free(q->users.v);
	free(q->u);
	free(q->path);
	free(q);
}
