/* query_live.c: keep-alive frames of chunk queries (see query_live.h). */
#include "query_live.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "monotime.h"
#include "tls.h"
#include "qserv/wire/wire.h"

#define LIVE_TICK_MS 500
#define LIVE_WRITE_MS 1000

struct qlive {
	pthread_mutex_t wlock;       /* writes on tc; busy, since, last_tx */
	struct tls_conn *tc;
	int fd;
	int busy;                    /* in an answer */
	int64_t since, last_tx;      /* monotime_ms of the query, of the last write */
	int closed;                  /* under live.mu: the connection is done */
	struct qlive *next;          /* under live.mu */
};

static struct {
	pthread_mutex_t mu;
	struct qlive *head;
	pthread_t thread;
	int running, stop_fd;
} live = { .mu = PTHREAD_MUTEX_INITIALIZER, .stop_fd = -1 };

struct qlive *query_live_open(struct tls_conn *tc, int fd)
{
	struct qlive *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	pthread_mutex_init(&l->wlock, NULL);
	l->tc = tc;
	l->fd = fd;
	pthread_mutex_lock(&live.mu);
	l->next = live.head;
	live.head = l;
	pthread_mutex_unlock(&live.mu);
	return l;
}

void query_live_close(struct qlive *l)
{
	struct qlive **p;

	if (!l)
		return;
	query_live_busy(l, 0);
	pthread_mutex_lock(&live.mu);
	if (live.running) {
		l->closed = 1;                /* the keep-alive thread frees it */
		l = NULL;
	} else {
		for (p = &live.head; *p && *p != l;)
			p = &(*p)->next;
		if (*p)
			*p = l->next;
	}
	pthread_mutex_unlock(&live.mu);
	if (l) {
		pthread_mutex_destroy(&l->wlock);
		free(l);
	}
}

void query_live_busy(struct qlive *l, int busy)
{
	pthread_mutex_lock(&l->wlock);
	l->busy = busy;
	l->since = l->last_tx = monotime_ms();
	pthread_mutex_unlock(&l->wlock);
}

ssize_t query_live_read(void *ctx, void *buf, size_t len, int timeout_ms)
{
	struct qlive *l = ctx;

	return tls_io_read(l->tc, buf, len, timeout_ms);
}

ssize_t query_live_write(void *ctx, const void *buf, size_t len, int timeout_ms)
{
	struct qlive *l = ctx;
	ssize_t n;

	pthread_mutex_lock(&l->wlock);
	n = tls_io_write(l->tc, buf, len, timeout_ms);
	l->last_tx = monotime_ms();
	pthread_mutex_unlock(&l->wlock);
	return n;
}

/* One connection: a keep-alive when it is in an answer and silent. */
static void tick_one(struct qlive *l, int64_t now)
{
	struct buf b = { 0 };
	uint8_t hdr[FRAME_HDR_LEN];
	struct frame_hdr h = { .type = WIRE_KEEPALIVE, .len = 4 };

	if (pthread_mutex_trylock(&l->wlock) != 0)
		return;                       /* its thread is writing */
	if (l->busy && now - l->last_tx >= WIRE_KEEPALIVE_MS) {
		frame_hdr_encode(&h, hdr);
		buf_put(&b, hdr, sizeof(hdr));
		wire_keepalive_encode((uint32_t)(now - l->since), &b);
		if (b.oom || tls_io_write(l->tc, b.data, b.len, LIVE_WRITE_MS) < 0) {
			l->busy = 0;
			shutdown(l->fd, SHUT_RDWR);   /* a half-written record: the stream is lost */
		}
		l->last_tx = now;
		buf_free(&b);
	}
	pthread_mutex_unlock(&l->wlock);
}

static void *live_thread(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd p = { .fd = live.stop_fd, .events = POLLIN };
		struct qlive *l, **pp;
		int64_t now;

		if (poll(&p, 1, LIVE_TICK_MS) > 0)
			break;
		now = monotime_ms();
		pthread_mutex_lock(&live.mu);
		l = live.head;
		pthread_mutex_unlock(&live.mu);
		/* only this thread unlinks and frees, so l stays valid unlocked */
		while (l) {
			tick_one(l, now);
			pthread_mutex_lock(&live.mu);
			l = l->next;
			pthread_mutex_unlock(&live.mu);
		}
		pthread_mutex_lock(&live.mu);
		for (pp = &live.head; *pp;) {
			l = *pp;
			if (l->closed) {
				*pp = l->next;
				pthread_mutex_destroy(&l->wlock);
				free(l);
			} else {
				pp = &l->next;
			}
		}
		pthread_mutex_unlock(&live.mu);
	}
	return NULL;
}

int query_live_start(int stop_fd)
{
	live.stop_fd = stop_fd;
	if (pthread_create(&live.thread, NULL, live_thread, NULL) != 0)
		return -EAGAIN;
	pthread_mutex_lock(&live.mu);
	live.running = 1;
	pthread_mutex_unlock(&live.mu);
	return 0;
}

void query_live_stop(void)
{
	if (!live.running)
		return;
	pthread_join(live.thread, NULL);
	pthread_mutex_lock(&live.mu);
	live.running = 0;
	pthread_mutex_unlock(&live.mu);
}
