/* users_store.c: the roles and grants file (see users_store.h). */
#include "users_store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fileio.h"
#include "qserv/common/sqlid.h"

#define GRANTS_MAX (4 << 20)

static void *grow(void *v, size_t n, size_t size)
{
	return realloc(v, (n + 1) * size);
}

int users_grants_add_role(struct users_grants *g, const char *role)
{
	void *nv = grow(g->roles, g->nroles, sizeof(*g->roles));

	if (!nv)
		return -ENOMEM;
	g->roles = nv;
	snprintf(g->roles[g->nroles++], AUTH_NAME_MAX + 1, "%s", role);
	return 0;
}

int users_grants_add_member(struct users_grants *g, const char *user, const char *role)
{
	struct users_member *nv = grow(g->members, g->nmembers, sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	g->members = nv;
	snprintf(nv[g->nmembers].user, AUTH_NAME_MAX + 1, "%s", user);
	snprintf(nv[g->nmembers++].role, AUTH_NAME_MAX + 1, "%s", role);
	return 0;
}

int users_grants_add_priv(struct users_grants *g, const char *who, const char *db)
{
	struct users_priv *nv = grow(g->privs, g->nprivs, sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	g->privs = nv;
	snprintf(nv[g->nprivs].who, AUTH_NAME_MAX + 1, "%s", who);
	snprintf(nv[g->nprivs++].db, AUTH_NAME_MAX + 1, "%s", db);
	return 0;
}

long users_grants_role(const struct users_grants *g, const char *role)
{
	for (size_t i = 0; i < g->nroles; i++)
		if (!strcmp(g->roles[i], role))
			return (long)i;
	return -1;
}

long users_grants_member(const struct users_grants *g, const char *user, const char *role)
{
	for (size_t i = 0; i < g->nmembers; i++)
		if (!strcmp(g->members[i].user, user) && !strcmp(g->members[i].role, role))
			return (long)i;
	return -1;
}

long users_grants_priv(const struct users_grants *g, const char *who, const char *db)
{
	for (size_t i = 0; i < g->nprivs; i++)
		if (!strcmp(g->privs[i].who, who) && !strcasecmp(g->privs[i].db, db))
			return (long)i;
	return -1;
}

void users_grants_forget(struct users_grants *g, const char *who)
{
	size_t i, k;

	for (i = k = 0; i < g->nroles; i++)
		if (strcmp(g->roles[i], who))
			memmove(g->roles[k++], g->roles[i], sizeof(g->roles[i]));
	g->nroles = k;
	for (i = k = 0; i < g->nmembers; i++)
		if (strcmp(g->members[i].user, who) && strcmp(g->members[i].role, who))
			g->members[k++] = g->members[i];
	g->nmembers = k;
	for (i = k = 0; i < g->nprivs; i++)
		if (strcmp(g->privs[i].who, who))
			g->privs[k++] = g->privs[i];
	g->nprivs = k;
}

void users_grants_free(struct users_grants *g)
{
	if (!g)
		return;
	free(g->roles);
	free(g->members);
	free(g->privs);
	memset(g, 0, sizeof(*g));
}

/* One line's words into w (at most 4); returns how many. */
static int words(char *line, char *w[4])
{
	char *save = NULL, *t;
	int n = 0;

	for (t = strtok_r(line, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (n == 4)
			return 5;
		w[n++] = t;
	}
	return n;
}

static int parse_line(struct users_grants *g, char *line, const char **why)
{
	char *w[4];
	int n = words(line, w);

	if (n == 0 || w[0][0] == '#')
		return 0;
	for (int i = 1; i < n && i < 4; i++)
		if (!sqlid_ok(w[i]) && !(i == 2 && !strcmp(w[0], "select") && !strcmp(w[i], "*")))
			return *why = "a name is not 1..64 ASCII letters, digits or '_'", -EINVAL;
	if (!strcmp(w[0], "role") && n == 2)
		return users_grants_add_role(g, w[1]);
	if (!strcmp(w[0], "member") && n == 3)
		return users_grants_add_member(g, w[1], w[2]);
	if (!strcmp(w[0], "select") && n == 3)
		return users_grants_add_priv(g, w[1], w[2]);
	return *why = "expected 'role R', 'member U R' or 'select WHO DB'", -EINVAL;
}

int users_grants_parse(const char *text, struct users_grants *ret, char *err, size_t errlen)
{
	struct users_grants g = { 0 };
	char *copy = strdup(text), *save = NULL, *line;
	const char *why = "out of memory";
	int lineno = 0, rc = 0;

	if (!copy)
		return -ENOMEM;
	/* strsep keeps empty lines, so the line numbers stay right */
	for (save = copy; (line = strsep(&save, "\n")) != NULL;) {
		lineno++;
		line[strcspn(line, "\r")] = 0;
		if ((rc = parse_line(&g, line, &why)) < 0)
			break;
	}
	free(copy);
	if (rc < 0) {
		snprintf(err, errlen, "line %d: %s", lineno, why);
		users_grants_free(&g);
		return rc;
	}
	*ret = g;
	return 0;
}

void users_grants_format(const struct users_grants *g, struct buf *out)
{
	size_t i;

	buf_puts(out, "# qserv-czar roles and grants (rewritten by CREATE/DROP ROLE, GRANT, REVOKE)\n");
	for (i = 0; i < g->nroles; i++)
		buf_printf(out, "role %s\n", g->roles[i]);
	for (i = 0; i < g->nmembers; i++)
		buf_printf(out, "member %s %s\n", g->members[i].user, g->members[i].role);
	for (i = 0; i < g->nprivs; i++)
		buf_printf(out, "select %s %s\n", g->privs[i].who, g->privs[i].db);
}

int users_grants_load(const char *path, struct users_grants *ret, char *err, size_t errlen)
{
	char *text = fileio_read_all(path, GRANTS_MAX, NULL);
	char why[200];
	int rc;

	if (!text && errno == ENOENT) {
		memset(ret, 0, sizeof(*ret));
		return 0;
	}
	if (!text) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	rc = users_grants_parse(text, ret, why, sizeof(why));
	free(text);
	if (rc < 0)
		snprintf(err, errlen, "%s: %s", path, why);
	return rc;
}

int users_grants_save(const char *path, const struct users_grants *g, char *err, size_t errlen)
{
	struct buf b;
	int rc;

	buf_init(&b);
	users_grants_format(g, &b);
	rc = b.oom ? -ENOMEM : fileio_write_atomic(path, b.data, b.len, 0600);
	if (rc < 0)
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
	buf_free(&b);
	return rc;
}
