/* quota_czar.h: the czar's use of quota.h -- its options, the statement
 * hooks of query.c (the SQL port and the HTTP frontend alike, whose
 * statements run through query_run), SHOW QUOTA, and the quota_block
 * alert (qserv/common/alert.h).
 *
 * Refusals are MySQL errors the statement answers: over a quota, 1226
 * (ER_USER_LIMIT_REACHED) "User 'u' has exceeded the 'queries' quota
 * (limit 100 per 900 s); the window resets in 412 s"; blocked (limit 0),
 * 4151 (ER_ACCOUNT_HAS_BEEN_LOCKED) "Access denied, user 'u' is blocked
 * by quota 'queries'".  The session's quota_retry_s says when to retry
 * (the HTTP frontend's Retry-After). */
#ifndef QSERV_CZAR_QUOTA_CZAR_H
#define QSERV_CZAR_QUOTA_CZAR_H

#include <stddef.h>

#include "auth.h"

struct czar;
struct sess;
struct plan;
struct sql_stmt;

/* main.c's getopt_long codes and entries for the options below. */
enum { QUOTA_OPT_FILE = 1100, QUOTA_OPT_WINDOW, QUOTA_OPT_WEBHOOK, QUOTA_OPT_SLACK, QUOTA_OPT_SENTRY,
       QUOTA_OPT_CLUSTER };
#define QUOTA_LONG_OPTIONS \
	{ "quota-file", required_argument, 0, QUOTA_OPT_FILE }, \
	{ "quota-window", required_argument, 0, QUOTA_OPT_WINDOW }, \
	{ "alert-webhook", required_argument, 0, QUOTA_OPT_WEBHOOK }, \
	{ "alert-slack", required_argument, 0, QUOTA_OPT_SLACK }, \
	{ "alert-sentry", required_argument, 0, QUOTA_OPT_SENTRY }, \
	{ "alert-cluster", required_argument, 0, QUOTA_OPT_CLUSTER }
#define QUOTA_USAGE \
	"  --quota-file FILE      the quota configuration (default: quota.json next to --users)\n" \
	"  --quota-window S       a quota window when no entry says one (default 900)\n" \
	"  --alert-webhook URL, --alert-slack URL, --alert-sentry DSN, --alert-cluster NAME\n" \
	"                         where alerts (quota_block) go besides the log\n"

/* One option (code c of QUOTA_LONG_OPTIONS): 0, or -EINVAL after printing why. */
int quota_czar_opt(int c, const char *arg);
/* Opens the configuration into cz->quota: 0, or -errno with err. */
int quota_czar_setup(struct czar *cz, const char *users_path, char *err, size_t errlen);
/* Starts the alert sender (after the signal mask: its thread inherits it). */
int quota_czar_alerts(char *err, size_t errlen);

/* The groups (SQL roles) of user, at most max.  No roles yet: 0.  The
 * one place the users helper's users_roles() is wired in. */
size_t quota_user_groups(struct czar *cz, const char *user, char ret[][AUTH_NAME_MAX + 1], size_t max);

/* Before a statement: charges a query (and a concurrent slot) when st
 * reads a table.  0, or the MySQL error written (1226, 4151). */
unsigned quota_stmt_begin(struct sess *s, const struct sql_stmt *st);
/* After it, on every path: gives the slot back, charges its result bytes. */
void quota_stmt_end(struct sess *s);
/* Before a distributed query: charges a scan when p reads every chunk.
 * 0, or the MySQL error written. */
unsigned quota_scan_check(struct sess *s, const struct plan *p);
/* SHOW QUOTA [FOR 'user'] (user NULL: the session's own; others' for admins). */
void quota_show(struct sess *s, const char *user);

#endif
