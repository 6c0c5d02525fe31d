/* dispatch_pool.c: the dispatcher's worker connections and their pools
 * (dispatch_pool.h); struct dispatch's life (dispatch.h). */
#include "dispatch_pool.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "monotime.h"
#include "tls.h"
#include "tpool.h"

int dispatch_new(const struct dispatch_cfg *cfg, struct dispatch **ret, char *err, size_t errlen)
{
	struct dispatch *d = calloc(1, sizeof(*d));
	int rc;

	if (!d)
		return -ENOMEM;
	d->window = cfg->window ? cfg->window : 8;
	d->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 10000;
	d->silence_ms = cfg->silence_ms > 0 ? cfg->silence_ms : 15000;
	d->max_conns = cfg->max_conns && cfg->max_conns <= POOL_OPEN_MAX ? cfg->max_conns : POOL_OPEN_MAX;
	if (cfg->spill_dir && !(d->spill_dir = strdup(cfg->spill_dir))) {
		dispatch_free(d);
		return -ENOMEM;
	}
	pthread_mutex_init(&d->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->freed, &ca);
	pthread_condattr_destroy(&ca);
	if (tpool_new(256 * 1024, 256, &d->threads) < 0) {
		dispatch_free(d);
		return -ENOMEM;
	}
	rc = wire_tls_config(cfg->tls_dir, cfg->name, false, d->timeout_ms, &d->tls, err, errlen);
	if (rc < 0) {
		dispatch_free(d);
		return rc;
	}
	*ret = d;
	return 0;
}

void wpool_close_conn(struct wconn *c)
{
	if (!c)
		return;
	tls_conn_free(c->tls);
	close(c->fd);
	if (c->d) {
		pthread_mutex_lock(&c->d->lock);
		c->d->pools[c->pool].nopen--;
		pthread_cond_broadcast(&c->d->freed);
		pthread_mutex_unlock(&c->d->lock);
	}
	free(c);
}

void dispatch_get_stats(struct dispatch *d, struct dispatch_stats *ret)
{
	ret->unreachable = __atomic_load_n(&d->stats.unreachable, __ATOMIC_RELAXED);
	ret->silent = __atomic_load_n(&d->stats.silent, __ATOMIC_RELAXED);
	ret->lost = __atomic_load_n(&d->stats.lost, __ATOMIC_RELAXED);
	ret->spilled = __atomic_load_n(&d->stats.spilled, __ATOMIC_RELAXED);
	ret->opened = __atomic_load_n(&d->stats.opened, __ATOMIC_RELAXED);
	ret->waits = __atomic_load_n(&d->stats.waits, __ATOMIC_RELAXED);
	ret->open_max = __atomic_load_n(&d->stats.open_max, __ATOMIC_RELAXED);
}

void dispatch_free(struct dispatch *d)
{
	size_t i;
	unsigned k;

	if (!d)
		return;
	for (i = 0; i < d->npools; i++)
		for (k = 0; k < d->pools[i].nidle; k++) {
			d->pools[i].idle[k]->d = NULL;
			wpool_close_conn(d->pools[i].idle[k]);
		}
	free(d->pools);
	pthread_cond_destroy(&d->freed);
	tls_config_free(d->tls);
	free(d->spill_dir);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

static int tcp_connect(const char *host, int port, int timeout_ms)
{
	struct addrinfo hints, *ai = NULL, *a;
	char ps[16];
	int fd = -1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	snprintf(ps, sizeof(ps), "%d", port);
	if (getaddrinfo(host, ps, &hints, &ai) != 0)
		return -EHOSTUNREACH;
	for (a = ai; a; a = a->ai_next) {
		struct pollfd p;
		int err = 0;
		socklen_t el = sizeof(err);

		fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			continue;
		if (connect(fd, a->ai_addr, a->ai_addrlen) < 0 && errno != EINPROGRESS) {
			close(fd);
			fd = -1;
			continue;
		}
		p.fd = fd;
		p.events = POLLOUT;
		if (poll(&p, 1, timeout_ms) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
			close(fd);
			fd = -1;
			continue;
		}
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		wire_tcp_tune(fd);
		break;
	}
	freeaddrinfo(ai);
	return fd >= 0 ? fd : -ECONNREFUSED;
}

static struct wpool *wpool_of(struct dispatch *d, const struct meta_worker *w)
{
	char key[sizeof(((struct wpool *)0)->key)];
	size_t i;
	struct wpool *v;

	snprintf(key, sizeof(key), "%s@%s:%d", w->id, w->host, w->query_port);
	for (i = 0; i < d->npools; i++)
		if (!strcmp(d->pools[i].key, key))
			return &d->pools[i];
	v = realloc(d->pools, (d->npools + 1) * sizeof(*v));
	if (!v)
		return NULL;
	d->pools = v;
	memset(&v[d->npools], 0, sizeof(*v));
	snprintf(v[d->npools].key, sizeof(v[d->npools].key), "%s", key);
	return &v[d->npools++];
}

/* A new connection to w, counted in pool ix (nopen and nconnecting were
 * raised by the caller under the lock; both set right here). */
static struct wconn *connect_counted(struct dispatch *d, const struct meta_worker *w, size_t ix, char *err,
				     size_t errlen)
{
	struct wconn *c = NULL;
	int fd = -1;

	if (w->query_port <= 0)
		snprintf(err, errlen, "worker %s has no query port in qservMeta.workers", w->id);
	else if ((fd = tcp_connect(w->host, w->query_port, d->timeout_ms)) < 0)
		snprintf(err, errlen, "worker %s (%s:%d): %s", w->id, w->host, w->query_port, strerror(-fd));
	else if (!(c = calloc(1, sizeof(*c))))
		snprintf(err, errlen, "out of memory");
	else if (c->fd = fd, tls_conn_new(d->tls, fd, w->id, &c->tls, err, errlen) < 0) {
		char why[256];
		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "worker %s: TLS: %s", w->id, why);
		free(c);
		c = NULL;
	}
	if (!c && fd >= 0)
		close(fd);
	pthread_mutex_lock(&d->lock);
	d->pools[ix].nconnecting--;
	if (!c)
		d->pools[ix].nopen--;
	pthread_cond_broadcast(&d->freed);
	pthread_mutex_unlock(&d->lock);
	if (c) {
		c->d = d;
		c->pool = ix;
		__atomic_add_fetch(&d->stats.opened, 1, __ATOMIC_RELAXED);
	}
	return c;
}

/* Counts a new connection to w in p and opens it; called with d->lock
 * held, which it releases. */
static struct wconn *open_unlock(struct dispatch *d, struct wpool *p, const struct meta_worker *w, char *err,
				 size_t errlen)
{
	size_t ix = (size_t)(p - d->pools);

	p->nopen++;
	p->nconnecting++;
	if (p->nopen > d->stats.open_max)
		d->stats.open_max = p->nopen;   /* under d->lock; read atomically */
	pthread_mutex_unlock(&d->lock);
	return connect_counted(d, w, ix, err, errlen);
}

struct wconn *wpool_get(struct dispatch *d, const struct meta_worker *w, char *err, size_t errlen)
{
	struct timespec until;
	struct wconn *c = NULL;
	struct wpool *p;
	int waited = 0;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += POOL_WAIT_MS / 1000;
	pthread_mutex_lock(&d->lock);
	for (;;) {
		if (!(p = wpool_of(d, w))) {
			pthread_mutex_unlock(&d->lock);
			snprintf(err, errlen, "out of memory");
			return NULL;
		}
		if (p->nidle) {
			c = p->idle[--p->nidle];
			pthread_mutex_unlock(&d->lock);
			c->reused = 1;
			return c;
		}
		if (p->nopen < d->max_conns && p->nconnecting < POOL_CONNECTING_MAX)
			break;
		if (!waited++)
			__atomic_add_fetch(&d->stats.waits, 1, __ATOMIC_RELAXED);
		if (pthread_cond_timedwait(&d->freed, &d->lock, &until) == ETIMEDOUT) {
			unsigned n = p->nopen;
			pthread_mutex_unlock(&d->lock);
			snprintf(err, errlen, "worker %s: all %u connections of this czar busy for %d s", w->id, n,
				 POOL_WAIT_MS / 1000);
			return NULL;
		}
	}
	return open_unlock(d, p, w, err, errlen);
}

struct wconn *wpool_get_fresh(struct dispatch *d, const struct meta_worker *w, char *err, size_t errlen)
{
	struct wpool *p;

	pthread_mutex_lock(&d->lock);
	if (!(p = wpool_of(d, w))) {
		pthread_mutex_unlock(&d->lock);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return open_unlock(d, p, w, err, errlen);
}

/* Closes every idle connection to w (after one of them turned out dead:
 * the worker restarted, the others are dead too). */
void wpool_drain(struct dispatch *d, const struct meta_worker *w)
{
	struct wconn *idle[POOL_IDLE_MAX];
	struct wpool *p;
	unsigned n = 0, i;

	pthread_mutex_lock(&d->lock);
	p = wpool_of(d, w);
	if (p) {
		n = p->nidle;
		memcpy(idle, p->idle, n * sizeof(*idle));
		p->nidle = 0;
	}
	pthread_mutex_unlock(&d->lock);
	for (i = 0; i < n; i++)
		wpool_close_conn(idle[i]);
}

void wpool_put(struct dispatch *d, const struct meta_worker *w, struct wconn *c)
{
	struct wpool *p;

	pthread_mutex_lock(&d->lock);
	p = wpool_of(d, w);
	if (p && p->nidle < POOL_IDLE_MAX) {
		p->idle[p->nidle++] = c;
		c = NULL;
		pthread_cond_broadcast(&d->freed);
	}
	pthread_mutex_unlock(&d->lock);
	wpool_close_conn(c);
}

/* w failed to connect or fell silent: its idle connections are dead too,
 * and for SUSPECT_MS the next queries try its chunks elsewhere first. */
void wpool_mark_suspect(struct dispatch *d, const struct meta_worker *w)
{
	struct wpool *p;

	wpool_drain(d, w);
	pthread_mutex_lock(&d->lock);
	p = wpool_of(d, w);
	if (p)
		p->suspect_until = monotime_ms() + SUSPECT_MS;
	pthread_mutex_unlock(&d->lock);
}

int wpool_is_suspect(struct dispatch *d, const struct meta_worker *w)
{
	struct wpool *p;
	int r;

	pthread_mutex_lock(&d->lock);
	p = wpool_of(d, w);
	r = p && p->suspect_until > monotime_ms();
	pthread_mutex_unlock(&d->lock);
	return r;
}

