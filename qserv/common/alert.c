/* alert.c: deduplicated, rate-limited alerts delivered to the log, a JSON
 * webhook, Slack and Sentry by one sender thread (alert.h). */
#include "alert.h"
#include "qhttpc.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <jansson.h>

#include "log.h"

#define QUEUE_MAX 64
#define SEEN_MAX 256
#define TEXT_MAX 512

struct alert {
	char kind[32], subject[128], message[TEXT_MAX];
	time_t when;
};

struct seen {                  /* a condition alerted and when */
	char kind[32], subject[128];
	time_t at;
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	bool running, stopping;
	struct alert_config c;
	char sentry_url[512], sentry_auth[256];
	struct alert q[QUEUE_MAX];
	int head, len;
	struct seen seen[SEEN_MAX];
	time_t minute;             /* the rate limit's current minute */
	unsigned in_minute;
	struct alert_counts n;
} A = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

/* https://KEY@HOST[:PORT]/PROJECT -> the envelope URL and the auth header. */
static int sentry_parse(const char *dsn, char *err, size_t errlen)
{
	const char *scheme_end = strstr(dsn, "://"), *at, *slash;

	if (!scheme_end || !(at = strchr(scheme_end + 3, '@')) || !(slash = strrchr(at, '/')) || !slash[1] ||
	    at == scheme_end + 3 || strspn(slash + 1, "0123456789") != strlen(slash + 1)) {
		snprintf(err, errlen, "sentry DSN: want https://KEY@HOST/PROJECT");
		return -EINVAL;
	}
	snprintf(A.sentry_url, sizeof(A.sentry_url), "%.*s://%.*s/api/%s/envelope/", (int)(scheme_end - dsn), dsn,
		 (int)(slash - at - 1), at + 1, slash + 1);
	snprintf(A.sentry_auth, sizeof(A.sentry_auth),
		 "X-Sentry-Auth: Sentry sentry_version=7, sentry_client=qserv-node/1.0, sentry_key=%.*s",
		 (int)(at - scheme_end - 3), scheme_end + 3);
	return 0;
}

/* One bounded POST (5 s to connect, 10 s in all); 0 on a 2xx answer. */
static int post(const char *url, const char *body, const char *extra_header, char *err, size_t errlen)
{
	return qhttpc_post_out(url, body, extra_header, 10000, err, errlen);
}

static void iso_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
}

static char *sentry_envelope(const struct alert *a)
{
	unsigned char raw[16];
	char id[33], when[32], *head, *item, *out = NULL;
	json_t *event;

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		memset(raw, 0x5a, sizeof(raw));
	for (int i = 0; i < 16; i++)
		snprintf(id + 2 * i, 3, "%02x", raw[i]);
	iso_time(a->when, when, sizeof(when));
	event = json_pack("{s:s,s:I,s:s,s:s,s:s,s:{s:s},s:{s:s,s:s,s:s}}", "event_id", id, "timestamp",
			  (json_int_t)a->when, "level", "error", "platform", "c", "logger", "qserv-node", "message",
			  "formatted", a->message, "tags", "kind", a->kind, "subject", a->subject, "cluster", A.c.cluster);
	head = json_dumps(json_pack("{s:s,s:s,s:s}", "event_id", id, "dsn", A.c.sentry_dsn, "sent_at", when),
			  JSON_COMPACT);
	item = json_dumps(event, JSON_COMPACT);
	if (head && item && asprintf(&out, "%s\n{\"type\":\"event\"}\n%s\n", head, item) < 0)
		out = NULL;
	free(head);
	free(item);
	json_decref(event);
	return out;
}

static void deliver(const struct alert *a)
{
	char err[256], when[32], *body;
	int failed = 0;

	log_warn("ALERT %s %s: %s", a->kind, a->subject, a->message);
	iso_time(a->when, when, sizeof(when));
	if (A.c.webhook_url && (body = json_dumps(json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "cluster", A.c.cluster, "kind",
							   a->kind, "subject", a->subject, "message", a->message,
							   "severity", "error", "time", when), JSON_COMPACT))) {
		if (post(A.c.webhook_url, body, NULL, err, sizeof(err)) < 0)
			failed++, log_warn("alert webhook: %s", err);
		free(body);
	}
	if (A.c.slack_url) {
		char text[TEXT_MAX + 256];
		snprintf(text, sizeof(text), ":rotating_light: *%s* `%s` on %s: %s", a->kind, a->subject,
			 A.c.cluster[0] ? A.c.cluster : "the cluster", a->message);
		if ((body = json_dumps(json_pack("{s:s}", "text", text), JSON_COMPACT))) {
			if (post(A.c.slack_url, body, NULL, err, sizeof(err)) < 0)
				failed++, log_warn("alert slack: %s", err);
			free(body);
		}
	}
	if (A.c.sentry_dsn && (body = sentry_envelope(a))) {
		if (post(A.sentry_url, body, A.sentry_auth, err, sizeof(err)) < 0)
			failed++, log_warn("alert sentry: %s", err);
		free(body);
	}
	pthread_mutex_lock(&A.mu);
	if (failed)
		A.n.failed++;
	else
		A.n.sent++;
	pthread_mutex_unlock(&A.mu);
}

static void *sender(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&A.mu);
	for (;;) {
		while (!A.len && !A.stopping)
			pthread_cond_wait(&A.cv, &A.mu);
		if (!A.len)
			break;
		struct alert a = A.q[A.head];
		A.head = (A.head + 1) % QUEUE_MAX;
		A.len--;
		pthread_mutex_unlock(&A.mu);
		deliver(&a);   /* no lock across the network */
		pthread_mutex_lock(&A.mu);
	}
	pthread_mutex_unlock(&A.mu);
	return NULL;
}

int alert_start(const struct alert_config *c, char *err, size_t errlen)
{
	A.c = *c;
	if (!A.c.cluster)
		A.c.cluster = "";
	if (!A.c.dedup_s)
		A.c.dedup_s = 600;
	if (!A.c.max_per_min)
		A.c.max_per_min = 20;
	if (A.c.sentry_dsn && sentry_parse(A.c.sentry_dsn, err, errlen) < 0)
		return -EINVAL;
	if (pthread_create(&A.thread, NULL, sender, NULL) != 0) {
		snprintf(err, errlen, "cannot start the alert sender");
		return -EAGAIN;
	}
	A.running = true;
	return 0;
}

/* The condition's slot: true when it alerted within dedup_s (caller locks). */
static bool recently(const char *kind, const char *subject, time_t now)
{
	struct seen *free_slot = NULL, *oldest = &A.seen[0];

	for (int i = 0; i < SEEN_MAX; i++) {
		struct seen *s = &A.seen[i];
		if (s->kind[0] && !strcmp(s->kind, kind) && !strcmp(s->subject, subject)) {
			if (now - s->at < (time_t)A.c.dedup_s)
				return true;
			s->at = now;
			return false;
		}
		if (!s->kind[0] && !free_slot)
			free_slot = s;
		if (s->at < oldest->at)
			oldest = s;
	}
	free_slot = free_slot ? free_slot : oldest;
	snprintf(free_slot->kind, sizeof(free_slot->kind), "%s", kind);
	snprintf(free_slot->subject, sizeof(free_slot->subject), "%s", subject);
	free_slot->at = now;
	return false;
}

void alert_raise(const char *kind, const char *subject, const char *fmt, ...)
{
	struct alert *a;
	time_t now = time(NULL);
	va_list ap;

	if (!A.running) {   /* no sender: the log is the only sink */
		char msg[TEXT_MAX];
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		log_warn("ALERT %s %s: %s", kind, subject, msg);
		return;
	}
	pthread_mutex_lock(&A.mu);
	A.n.raised++;
	if (recently(kind, subject, now)) {
		A.n.deduplicated++;
		goto out;
	}
	if (now / 60 != A.minute) {
		A.minute = now / 60;
		A.in_minute = 0;
	}
	if (A.in_minute >= A.c.max_per_min) {
		A.n.suppressed++;
		goto out;
	}
	if (A.len == QUEUE_MAX) {
		A.n.dropped++;
		goto out;
	}
	A.in_minute++;
	a = &A.q[(A.head + A.len++) % QUEUE_MAX];
	snprintf(a->kind, sizeof(a->kind), "%s", kind);
	snprintf(a->subject, sizeof(a->subject), "%s", subject);
	va_start(ap, fmt);
	vsnprintf(a->message, sizeof(a->message), fmt, ap);
	va_end(ap);
	a->when = now;
	pthread_cond_signal(&A.cv);
out:
	pthread_mutex_unlock(&A.mu);
}

void alert_clear(const char *kind, const char *subject)
{
	pthread_mutex_lock(&A.mu);
	for (int i = 0; i < SEEN_MAX; i++)
		if (!strcmp(A.seen[i].kind, kind) && !strcmp(A.seen[i].subject, subject))
			A.seen[i].kind[0] = '\0';
	pthread_mutex_unlock(&A.mu);
}

void alert_get_counts(struct alert_counts *ret)
{
	pthread_mutex_lock(&A.mu);
	*ret = A.n;
	pthread_mutex_unlock(&A.mu);
}

void alert_stop(void)
{
	if (!A.running)
		return;
	pthread_mutex_lock(&A.mu);
	A.stopping = true;
	pthread_cond_signal(&A.cv);
	pthread_mutex_unlock(&A.mu);
	pthread_join(A.thread, NULL);
	A.running = false;
}
