/* chealth.c: the controller's view of its workers' health, eviction and
 * healing.
 *
 * Two threads.  The prober, every CHEALTH_PERIOD_MS, reads the enabled
 * workers from qservMeta and GETs each one's /status (HTTPS with the
 * controller's certificate; CHEALTH_PROBE_MS for the whole request), with
 * no lock held across the call.  A worker that answered is `up`; an evicted
 * one that answers again is `returning` (still evicted: neither a copy
 * source nor a target) until cverify.c has registered again the replicas
 * it still holds that match the reference checksums and dropped the
 * others (chealth_return_done), then up.  One silent for `evict_after_s` (--evict-after, default
 * 120 s; PUT /replication/evict-after) and not in maintenance is evicted:
 * its qservMeta.chunks rows go (cmeta_evict_worker; chunks nobody else
 * holds move to lost_chunks), so the czar never sends it a chunk again, and
 * the healer is woken.  Before that it is `down`: its replicas still count
 * (a rebooting worker is not copied around) but it is neither a source nor
 * a target.  On the appliance the czar's agent also passes on the
 * registry's view (POST /replication/health, chealth_registry): a worker
 * whose heartbeat stopped is down at once, one back is probed at once.
 * A worker in maintenance (qservMeta.workers.maintenance,
 * PUT /replication/maintenance) is never evicted nor chosen for a copy.
 *
 * The healer runs a heal pass (crepl_heal: every published database to
 * its level from surviving replicas, CREPL_PARALLEL copies at once) when
 * woken, and every CHEALTH_HEAL_CHECK_MS when some chunk is
 * under-replicated; after a pass with failed copies it waits
 * CHEALTH_HEAL_BACKOFF_MS; after each check it gives crebal.c its turn
 * (a trim after copies, a rebalance when asked).  Draining workers
 * (enabled=0) are probed too: they are copy sources until they hold
 * nothing.  Eviction state lives in memory: a restarted
 * controller starts every worker's silence clock again.
 *
 * Invariant: every field of ctl.h is read and written under h.mu; the
 * threads hold it only to copy or update state, never across MariaDB or
 * network calls.  Probes of a round run at once, one thread per worker
 * (joined before the round ends): a hung worker delays nobody; hundreds of
 * workers would want one curl multi handle instead. */
#include "controller.h"
#include "qserv/common/alert.h"
#include "log.h"
#include "monotime.h"
#include "qserv/common/qhttpc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHEALTH_PERIOD_MS 2000
#define CHEALTH_PROBE_MS 1500L
#define CHEALTH_HEAL_CHECK_MS 5000
#define CHEALTH_HEAL_BACKOFF_MS 10000

/* GET /status of w, bounded by CHEALTH_PROBE_MS: true when it answered 200
 * (over HTTPS with the controller's certificate when qhttpc has them). */
static bool probe(const struct cworker *w)
{
	char url[300];
	long code;
	snprintf(url, sizeof url, "http://%s:%d/status", w->host, w->ingest_port);
	return qhttpc_probe(url, CHEALTH_PROBE_MS, &code) == 0 && code == 200;
}

/* The entry of id (added, its clock starting now); NULL when full. Under mu. */
static struct chealth_w *entry(struct chealth *h, const char *id, bool add)
{
	for (size_t i = 0; i < h->nw; i++)
		if (!strcmp(h->w[i].id, id))
			return &h->w[i];
	if (!add || h->nw == CTL_MAX_WORKERS)
		return NULL;
	struct chealth_w *e = &h->w[h->nw++];
	memset(e, 0, sizeof *e);
	snprintf(e->id, sizeof e->id, "%s", id);
	e->last_ok_ms = monotime_ms();
	return e;
}

/* Records one probe; true when w is to be evicted now.  An evicted worker
 * that answers starts returning (cverify.c is woken, outside mu). */
static bool note(struct ctl *c, const struct cworker *w, bool ok)
{
	struct chealth *h = &c->h;
	bool evict = false, back = false;
	int64_t now = monotime_ms();
	pthread_mutex_lock(&h->mu);
	struct chealth_w *e = entry(h, w->id, true);
	if (e && ok) {
		back = e->evicted && !e->returning;
		if (back || e->down) {
			log_info("worker %s answers again%s", w->id, back ? ": verifying the replicas it still holds" : "");
			alert_clear("worker_down", w->id);
			alert_clear("worker_evicted", w->id);
		}
		e->last_ok_ms = now;
		e->down = false;
		e->returning |= back;   /* evicted until chealth_return_done */
	} else if (e) {
		if (!e->down && !e->evicted && !w->maint)
			alert_raise("worker_down", w->id, "worker %s does not answer the controller's probe "
				    "(evicted after %d s of silence)", w->id, h->evict_after_s);
		else if (!e->down && !e->evicted)
			log_warn("worker %s does not answer (in maintenance)", w->id);
		e->down = true;
		if (w->maint)
			e->last_ok_ms = now;   /* maintenance: its silence does not count */
		evict = !e->evicted && !w->maint && now - e->last_ok_ms >= (int64_t)h->evict_after_s * 1000;
	}
	pthread_mutex_unlock(&h->mu);
	if (back)
		cverify_wake(c);
	return evict;
}

static void evict(struct ctl *c, MYSQL *m, const struct cworker *w)
{
	char err[512];
	long long dropped = 0, lost = 0;
	int r = cmeta_evict_worker(c, m, w->id, &dropped, &lost, err, sizeof err);
	if (r) {
		log_warn("evicting worker %s: %s", w->id, err);
		return;
	}
	pthread_mutex_lock(&c->h.mu);
	struct chealth_w *e = entry(&c->h, w->id, true);
	if (e)
		e->evicted = true;
	c->h.evictions++;
	c->h.heal_wanted = true;
	pthread_cond_broadcast(&c->h.cv);
	int after = c->h.evict_after_s;
	pthread_mutex_unlock(&c->h.mu);
	alert_raise("worker_evicted", w->id, "worker %s silent for %d s: evicted (%lld replica(s) dropped, "
		    "%lld chunk(s) lost); healing from the other replicas", w->id, after, dropped, lost);
}

/* Waits up to ms or until stop; true when stopping. Under mu. */
static bool nap(struct chealth *h, int ms, bool until_heal)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L)
		ts.tv_sec++, ts.tv_nsec -= 1000000000L;
	while (!h->stop && !(until_heal && h->heal_wanted) && !(!until_heal && h->probe_now))
		if (pthread_cond_timedwait(&h->cv, &h->mu, &ts) == ETIMEDOUT)
			break;
	if (!until_heal)
		h->probe_now = false;
	return h->stop;
}

struct probe_job {
	const struct cworker *w;
	bool *ok;
};

static void *probe_one(void *arg)
{
	struct probe_job *j = arg;
	*j->ok = probe(j->w);
	return NULL;
}

/* Probes the n workers at once (one thread each, all joined: a round lasts
 * at most CHEALTH_PROBE_MS plus thread start); ok[i] their answers. */
static void probe_all(const struct cworker *w, size_t n, bool *ok)
{
	pthread_t t[CTL_MAX_WORKERS];
	struct probe_job j[CTL_MAX_WORKERS];
	bool started[CTL_MAX_WORKERS] = { 0 };
	for (size_t i = 0; i < n && i < CTL_MAX_WORKERS; i++) {
		j[i] = (struct probe_job){ .w = &w[i], .ok = &ok[i] };
		started[i] = pthread_create(&t[i], NULL, probe_one, &j[i]) == 0;
		if (!started[i])
			ok[i] = probe(&w[i]);
	}
	for (size_t i = CTL_MAX_WORKERS; i < n; i++)
		ok[i] = probe(&w[i]);   /* past the table: one after another */
	for (size_t i = 0; i < n && i < CTL_MAX_WORKERS; i++)
		if (started[i])
			pthread_join(t[i], NULL);
}

static void probe_round(struct ctl *c)
{
	char err[512];
	struct cworker *w = NULL;
	size_t n = 0;
	MYSQL *m = qsql_connect(&c->sql, err, sizeof err);
	if (!m || cmeta_workers_all(m, &w, &n, err, sizeof err)) {   /* draining ones are copy sources */
		log_warn("health: %s", err);
		if (m)
			mysql_close(m);
		return;
	}
	bool *ok = calloc(n + 1, sizeof *ok);
	if (ok) {
		probe_all(w, n, ok);
		for (size_t i = 0; i < n; i++)
			if (note(c, &w[i], ok[i]))
				evict(c, m, &w[i]);
	}
	free(ok);
	free(w);
	mysql_close(m);
}

static void *prober(void *arg)
{
	struct ctl *c = arg;
	for (;;) {
		int64_t t0 = monotime_ms();
		probe_round(c);
		int64_t left = CHEALTH_PERIOD_MS - (monotime_ms() - t0);
		pthread_mutex_lock(&c->h.mu);
		bool stop = nap(&c->h, left > 0 ? (int)left : 1, false);
		pthread_mutex_unlock(&c->h.mu);
		if (stop)
			return NULL;
	}
}

/* Chunks under their level for longer than --alert-under-replicated-after
 * raise an alert (once, until every chunk is at its level again). */
static void under_alert(struct ctl *c, long long under)
{
	int64_t now = monotime_ms(), since;
	int after;

	pthread_mutex_lock(&c->h.mu);
	if (!under)
		c->h.under_since_ms = 0;
	else if (!c->h.under_since_ms)
		c->h.under_since_ms = now;
	since = c->h.under_since_ms;
	after = c->h.alert_under_s;
	pthread_mutex_unlock(&c->h.mu);
	if (!under)
		alert_clear("under_replicated", "cluster");
	else if (after > 0 && now - since >= (int64_t)after * 1000)
		alert_raise("under_replicated", "cluster", "%lld chunk(s) under their replica level for %lld s", under,
			    (long long)(now - since) / 1000);
}

/* One heal pass if anything is under-replicated; false after failures. */
static bool heal_pass(struct ctl *c)
{
	char err[768];
	long long under = 0, copies = 0, failed = 0;
	MYSQL *m = qsql_connect(&c->sql, err, sizeof err);
	if (!m) {
		log_warn("heal: %s", err);
		return false;
	}
	if (crepl_under_total(c, m, &under, err, sizeof err) || !under) {
		mysql_close(m);
		if (!under)
			under_alert(c, 0);
		return true;
	}
	under_alert(c, under);
	int64_t t0 = monotime_ms();
	pthread_mutex_lock(&c->h.mu);
	long long plain0 = c->h.plain_bytes;
	pthread_mutex_unlock(&c->h.mu);
	int r = crepl_heal(c, m, &copies, &failed, err, sizeof err);
	double s = (double)(monotime_ms() - t0) / 1000.0;
	mysql_close(m);
	pthread_mutex_lock(&c->h.mu);
	c->h.heals++;
	if (copies) {
		c->h.last_heal_s = s;
		c->h.last_heal_copies = copies;
		c->h.last_heal_plain_bytes = c->h.plain_bytes - plain0;   /* publishes meanwhile count too */
	}
	pthread_mutex_unlock(&c->h.mu);
	if (copies)
		log_info("heal: %lld chunk(s) under-replicated, %lld copies (%lld failed) in %.1f s%s%s", under, copies,
			 failed, s, r ? ": " : "", r ? err : "");
	return !r;
}

static void *healer(void *arg)
{
	struct ctl *c = arg;
	int wait_ms = CHEALTH_HEAL_CHECK_MS;
	for (;;) {
		pthread_mutex_lock(&c->h.mu);
		bool stop = nap(&c->h, wait_ms, true);
		c->h.heal_wanted = false;
		pthread_mutex_unlock(&c->h.mu);
		if (stop)
			return NULL;
		wait_ms = heal_pass(c) ? CHEALTH_HEAL_CHECK_MS : CHEALTH_HEAL_BACKOFF_MS;
		crebal_after_heal(c);   /* trim, rebalance (crebal.c) */
	}
}

int chealth_start(struct ctl *c, char *err, size_t errlen)
{
	pthread_mutex_init(&c->h.mu, NULL);
	pthread_cond_init(&c->h.cv, NULL);
	if (pthread_create(&c->h.probe_t, NULL, prober, c)) {
		snprintf(err, errlen, "cannot start the health thread");
		return -EAGAIN;
	}
	if (pthread_create(&c->h.heal_t, NULL, healer, c)) {
		chealth_stop(c);
		snprintf(err, errlen, "cannot start the heal thread");
		return -EAGAIN;
	}
	c->h.started = true;
	return 0;
}

void chealth_stop(struct ctl *c)
{
	pthread_mutex_lock(&c->h.mu);
	c->h.stop = true;
	pthread_cond_broadcast(&c->h.cv);
	pthread_mutex_unlock(&c->h.mu);
	pthread_join(c->h.probe_t, NULL);
	if (c->h.started)
		pthread_join(c->h.heal_t, NULL);
}

bool chealth_usable(struct ctl *c, const char *id, bool maint)
{
	pthread_mutex_lock(&c->h.mu);
	struct chealth_w *e = entry(&c->h, id, false);
	bool ok = !maint && (!e || (!e->down && !e->evicted && e->hold_until_ms <= monotime_ms()));
	pthread_mutex_unlock(&c->h.mu);
	return ok;
}

bool chealth_evicted(struct ctl *c, const char *id)
{
	pthread_mutex_lock(&c->h.mu);
	struct chealth_w *e = entry(&c->h, id, false);
	bool ev = e && e->evicted;
	pthread_mutex_unlock(&c->h.mu);
	return ev;
}

const char *chealth_state(struct ctl *c, const char *id, bool enabled, bool maint)
{
	pthread_mutex_lock(&c->h.mu);
	struct chealth_w *e = entry(&c->h, id, false);
	const char *s = e && e->evicted ? "evicted" : maint ? "maintenance" : !enabled ? "draining"
		      : e && e->down ? "down" : "up";
	pthread_mutex_unlock(&c->h.mu);
	return s;
}

void chealth_copy_begin(struct ctl *c)
{
	pthread_mutex_lock(&c->h.mu);
	c->h.in_flight++;
	pthread_mutex_unlock(&c->h.mu);
}

void chealth_copy_end(struct ctl *c, int rc, json_t *out)
{
	pthread_mutex_lock(&c->h.mu);
	c->h.in_flight--;
	if (rc) {
		c->h.failed++;
	} else {
		c->h.done++;
		c->h.bytes += json_integer_value(json_object_get(out, "bytes"));
		c->h.plain_bytes += json_integer_value(json_object_get(out, "plain_bytes"));
	}
	pthread_mutex_unlock(&c->h.mu);
}

int chealth_maintenance(struct ctl *c, MYSQL *m, const char *id, bool on, json_t **ret, char *err, size_t errlen)
{
	int r = cmeta_set_maintenance(m, id, on, err, errlen);
	if (r)
		return r;
	pthread_mutex_lock(&c->h.mu);
	struct chealth_w *e = entry(&c->h, id, true);
	if (e && !on)
		e->last_ok_ms = monotime_ms();   /* its silence counts from now */
	pthread_mutex_unlock(&c->h.mu);
	log_info("worker %s: maintenance %s", id, on ? "on" : "off");
	*ret = json_pack("{s:s, s:b}", "worker", id, "maintenance", on);
	return 0;
}

/* What the registry (the czar's agent, from the cluster map) says of a
 * worker: down makes it `down` at once (neither a copy source nor target;
 * its silence clock still runs from its last answer: the registry's word
 * never evicts it sooner), up makes the prober look at once. */
int chealth_registry(struct ctl *c, MYSQL *m, const char *id, bool up, json_t **ret, char *err, size_t errlen)
{
	struct cworker w;
	int r = cmeta_worker(m, id, &w, err, errlen);
	if (r)
		return r;
	pthread_mutex_lock(&c->h.mu);
	struct chealth_w *e = entry(&c->h, id, true);
	if (e && !up && !e->down && !e->evicted) {
		e->down = true;
		log_warn("registry: worker %s is down (its heartbeat stopped): not a copy source or target", id);
	}
	if (up) {
		c->h.probe_now = true;
		pthread_cond_broadcast(&c->h.cv);
	}
	pthread_mutex_unlock(&c->h.mu);
	*ret = json_pack("{s:s, s:b}", "worker", id, "up", up);
	return 0;
}

void chealth_set_evict_after(struct ctl *c, int seconds)
{
	pthread_mutex_lock(&c->h.mu);
	c->h.evict_after_s = seconds;
	pthread_mutex_unlock(&c->h.mu);
	log_info("evict-after %d s", seconds);
}

json_t *chealth_json(struct ctl *c)
{
	struct chealth *h = &c->h;
	pthread_mutex_lock(&h->mu);
	json_t *j = json_pack("{s:i, s:I, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:I, s:I}}", "evict_after", h->evict_after_s,
			      "evictions", (json_int_t)h->evictions, "copies", "in_flight", (json_int_t)h->in_flight,
			      "done", (json_int_t)h->done, "failed", (json_int_t)h->failed, "bytes", (json_int_t)h->bytes,
			      "plain_bytes", (json_int_t)h->plain_bytes, "heal_passes", (json_int_t)h->heals,
			      "last_heal_seconds", h->last_heal_s, "last_heal_copies", (json_int_t)h->last_heal_copies,
			      "last_heal_plain_bytes", (json_int_t)h->last_heal_plain_bytes);
	pthread_mutex_unlock(&h->mu);
	return j;
}

size_t chealth_returning(struct ctl *c, char (*ret)[65], size_t max)
{
	size_t n = 0;
	pthread_mutex_lock(&c->h.mu);
	for (size_t i = 0; i < c->h.nw && n < max; i++)
		if (c->h.w[i].returning)
			snprintf(ret[n++], 65, "%s", c->h.w[i].id);
	pthread_mutex_unlock(&c->h.mu);
	return n;
}

bool chealth_return_done(struct ctl *c, const char *id, bool ok)
{
	pthread_mutex_lock(&c->h.mu);
	struct chealth_w *e = entry(&c->h, id, false);
	if (e) {
		e->returning = false;
		if (ok && !e->down)
			e->evicted = false;
	}
	bool up = e && !e->evicted;
	if (up) {
		c->h.heal_wanted = true;
		pthread_cond_broadcast(&c->h.cv);
		log_info("worker %s: up (a copy source and target again)", id);
	}
	pthread_mutex_unlock(&c->h.mu);
	return up;
}

void chealth_hold(struct ctl *c, const char *id, int ms)
{
	pthread_mutex_lock(&c->h.mu);
	struct chealth_w *e = entry(&c->h, id, true);
	if (e)
		e->hold_until_ms = ms ? monotime_ms() + ms : 0;
	pthread_mutex_unlock(&c->h.mu);
}

void chealth_wake_heal(struct ctl *c)
{
	pthread_mutex_lock(&c->h.mu);
	c->h.heal_wanted = true;
	pthread_cond_broadcast(&c->h.cv);
	pthread_mutex_unlock(&c->h.mu);
}
