/* alert.h: the one alert interface of the cluster's daemons (the
 * controller's worker and replication alerts, qserv-mobu's firefighter).
 *
 * alert_raise(kind, subject, message) never blocks: the alert is
 * deduplicated (the same kind and subject again within dedup_s is counted,
 * not sent; alert_clear() ends a condition so that its next occurrence
 * alerts again), rate-limited (at most max_per_min alerts a minute, the
 * others counted as suppressed) and queued (bounded; a full queue drops
 * and counts) for one sender thread, which delivers it to every sink the
 * configuration names:
 *
 *   log      always (the caller's log, warning level);
 *   webhook  POST of a JSON object {cluster, kind, subject, message,
 *            severity, time} to a URL;
 *   slack    Slack's incoming-webhook format, POST {"text": ...};
 *   sentry   Sentry's envelope API for a DSN (https://KEY@HOST/PROJECT):
 *            POST HOST/api/PROJECT/envelope/ with X-Sentry-Auth, one
 *            "event" item per alert.
 *
 * Each delivery is bounded (5 s connect, 10 s in all) and a failed one is
 * counted, never retried in a loop.  Kinds are short words the Prometheus
 * rules in docs/operations.md use too (worker_down, worker_evicted,
 * under_replicated, firefighter). */
#ifndef QSERV_ALERT_H
#define QSERV_ALERT_H

#include <stddef.h>

struct alert_config {
	const char *cluster;        /* named in every alert; "" allowed */
	const char *webhook_url;    /* NULL: no such sink */
	const char *slack_url;
	const char *sentry_dsn;
	unsigned dedup_s;           /* 0: 600 */
	unsigned max_per_min;       /* 0: 20 */
};

struct alert_counts {
	unsigned long long raised, sent, deduplicated, suppressed, dropped, failed;
};

/* Starts the sender: 0, or -EINVAL with err for a malformed URL or DSN.
 * The configuration's strings must outlive alert_stop(). */
int alert_start(const struct alert_config *c, char *err, size_t errlen);
void alert_raise(const char *kind, const char *subject, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void alert_clear(const char *kind, const char *subject);
void alert_get_counts(struct alert_counts *ret);
/* Delivers what is queued (bounded by the deliveries' own limits) and stops. */
void alert_stop(void);

#endif
