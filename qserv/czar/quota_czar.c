/* quota_czar.c: quotas on the czar's statements (see quota_czar.h): the
 * options, the hooks query.c calls around a statement and before a
 * distributed query, SHOW QUOTA and the quota_block alert.  A czar
 * without cz->quota (unit tests) enforces nothing. */
#include "quota_czar.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mariadb/mysql.h>
#include <mariadb/mysqld_error.h>

#include "qserv/common/alert.h"

#include "czar.h"
#include "myproto.h"
#include "plan.h"
#include "quota.h"
#include "session.h"
#include "sql.h"

#define QUOTA_MAX_GROUPS 64

static struct {
	const char *file;
	unsigned window;
	struct alert_config alerts;
} qopts = { .alerts = { .cluster = "" } };

int quota_czar_opt(int c, const char *arg)
{
	char *end;
	unsigned long v;

	switch (c) {
	case QUOTA_OPT_FILE: qopts.file = arg; return 0;
	case QUOTA_OPT_WEBHOOK: qopts.alerts.webhook_url = arg; return 0;
	case QUOTA_OPT_SLACK: qopts.alerts.slack_url = arg; return 0;
	case QUOTA_OPT_SENTRY: qopts.alerts.sentry_dsn = arg; return 0;
	case QUOTA_OPT_CLUSTER: qopts.alerts.cluster = arg; return 0;
	case QUOTA_OPT_WINDOW:
		errno = 0;
		v = strtoul(arg, &end, 10);
		if (errno || end == arg || *end || v < 1 || v > 31536000)
			return fprintf(stderr, "qserv-czar: --quota-window: want 1..31536000: %s\n", arg), -EINVAL;
		qopts.window = (unsigned)v;
		return 0;
	}
	return -EINVAL;
}

int quota_czar_setup(struct czar *cz, const char *users_path, char *err, size_t errlen)
{
	char path[4096];
	const char *slash = strrchr(users_path, '/');

	if (qopts.file)
		snprintf(path, sizeof(path), "%s", qopts.file);
	else
		snprintf(path, sizeof(path), "%.*squota.json", slash ? (int)(slash - users_path + 1) : 0, users_path);
	return quota_open(path, qopts.window, &cz->quota, err, errlen);
}

int quota_czar_alerts(char *err, size_t errlen)
{
	return alert_start(&qopts.alerts, err, errlen);
}

size_t quota_user_groups(struct czar *cz, const char *user, char ret[][AUTH_NAME_MAX + 1], size_t max)
{
	/* the lead wires users_roles(cz, user, ret, max) (users.h) in here */
	(void)cz;
	(void)user;
	(void)ret;
	(void)max;
	return 0;
}

/* user's groups as pointers into names (storage of the caller). */
static size_t groups_of(struct czar *cz, const char *user, char names[][AUTH_NAME_MAX + 1], const char **ret)
{
	size_t n = quota_user_groups(cz, user, names, QUOTA_MAX_GROUPS);

	for (size_t i = 0; i < n; i++)
		ret[i] = names[i];
	return n;
}

/* Answers the refusal, raises the alert; the MySQL code written. */
static unsigned refuse(struct sess *s, const struct quota_refusal *r)
{
	const char *name = quota_names[r->kind];

	s->quota_retry_s = r->resets_in_s ? r->resets_in_s : 1;
	if (r->blocked) {
		alert_raise("quota_block", s->user, "user '%s' is blocked by quota '%s' (a statement refused)", s->user,
			    name);
		myp_err(&s->conn, ER_ACCOUNT_HAS_BEEN_LOCKED, "HY000", "Access denied, user '%s' is blocked by quota "
			"'%s'", s->user, name);
		return ER_ACCOUNT_HAS_BEEN_LOCKED;
	}
	alert_raise("quota_block", s->user, "user '%s' reached quota '%s' (limit %lld per %u s)", s->user, name,
		    (long long)r->limit, r->window_s);
	if (r->kind == QUOTA_CONCURRENT)
		myp_err(&s->conn, ER_USER_LIMIT_REACHED, "42000", "User '%s' has exceeded the 'concurrent' quota "
			"(limit %lld statements at once); retry when one ends", s->user, (long long)r->limit);
	else
		myp_err(&s->conn, ER_USER_LIMIT_REACHED, "42000", "User '%s' has exceeded the '%s' quota (limit %lld "
			"per %u s); the window resets in %u s", s->user, name, (long long)r->limit, r->window_s,
			r->resets_in_s);
	return ER_USER_LIMIT_REACHED;
}

static unsigned admit(struct sess *s, unsigned what)
{
	char names[QUOTA_MAX_GROUPS][AUTH_NAME_MAX + 1];
	const char *groups[QUOTA_MAX_GROUPS];
	size_t n = groups_of(s->cz, s->user, names, groups);
	struct quota_refusal r;

	if (quota_admit(s->cz->quota, s->user, groups, n, what, &r) < 0)
		return refuse(s, &r);
	return 0;
}

unsigned quota_stmt_begin(struct sess *s, const struct sql_stmt *st)
{
	unsigned code;

	s->quota_retry_s = 0;
	s->quota_held = 0;
	s->bytes_sent = 0;
	if (!s->cz->quota || !(st->kind == SQL_SUBMIT || (st->kind == SQL_SELECT && st->select && st->select->nfrom)))
		return 0;
	if ((code = admit(s, QUOTA_ADMIT_QUERY)) == 0)
		s->quota_held = 1;
	return code;
}

void quota_stmt_end(struct sess *s)
{
	if (!s->cz->quota)
		return;
	if (s->quota_held)
		quota_release(s->cz->quota, s->user);
	s->quota_held = 0;
	if (s->bytes_sent) {
		char names[QUOTA_MAX_GROUPS][AUTH_NAME_MAX + 1];
		const char *groups[QUOTA_MAX_GROUPS];
		size_t n = groups_of(s->cz, s->user, names, groups);
		quota_charge_bytes(s->cz->quota, s->user, groups, n, s->bytes_sent);
	}
}

unsigned quota_scan_check(struct sess *s, const struct plan *p)
{
	/* every chunk: no restrictor, no director-key lookup, not regular tables only */
	if (!s->cz->quota || p->kind != PLAN_CHUNKS || p->regular_only || p->area || p->index_sql)
		return 0;
	return admit(s, QUOTA_ADMIT_SCAN);
}

void quota_show(struct sess *s, const char *user)
{
	static const char *const names[] = { "quota", "limit", "used", "window_s", "resets_in_s" };
	char gnames[QUOTA_MAX_GROUPS][AUTH_NAME_MAX + 1], v[4][24];
	const char *groups[QUOTA_MAX_GROUPS], *val[5];
	struct quota_row rows[QUOTA_NKINDS];
	unsigned long len[5];
	struct myp_column col;
	size_t n;

	if (!user)
		user = s->user;
	if (strcmp(user, s->user) && !s->admin) {
		myp_err(&s->conn, ER_SPECIFIC_ACCESS_DENIED_ERROR, NULL, "Access denied; only an admin may see another "
			"user's quotas");
		return;
	}
	if (!s->cz->quota) {
		myp_err(&s->conn, ER_NOT_SUPPORTED_YET, NULL, "quotas are off on this czar");
		return;
	}
	n = groups_of(s->cz, user, gnames, groups);
	quota_status(s->cz->quota, user, groups, n, rows);
	myp_column_count(&s->conn, 5);
	for (int i = 0; i < 5; i++) {
		memset(&col, 0, sizeof(col));
		col.name = col.org_name = names[i];
		col.charset = i ? MYP_CHARSET_BINARY : MYP_CHARSET_UTF8MB4;
		col.type = i ? MYSQL_TYPE_LONGLONG : MYSQL_TYPE_VAR_STRING;
		col.length = i ? 20 : 64;
		col.flags = i ? (BINARY_FLAG | NUM_FLAG) : NOT_NULL_FLAG;
		myp_column(&s->conn, &col, 0);
	}
	myp_eof(&s->conn, s->status);
	for (int k = 0; k < QUOTA_NKINDS; k++) {
		snprintf(v[0], sizeof(v[0]), "%lld", (long long)rows[k].limit);
		snprintf(v[1], sizeof(v[1]), "%llu", (unsigned long long)rows[k].used);
		snprintf(v[2], sizeof(v[2]), "%u", rows[k].window_s);
		snprintf(v[3], sizeof(v[3]), "%u", rows[k].resets_in_s);
		val[0] = quota_names[k];
		val[1] = rows[k].limit == QUOTA_UNSET ? NULL : v[0];   /* NULL: unlimited */
		val[2] = v[1];
		val[3] = v[2];
		val[4] = k == QUOTA_CONCURRENT ? NULL : v[3];
		for (int i = 0; i < 5; i++)
			len[i] = val[i] ? strlen(val[i]) : 0;
		myp_row(&s->conn, val, len, 5);
	}
	myp_eof(&s->conn, s->status);
}
