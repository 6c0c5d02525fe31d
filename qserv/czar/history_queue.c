/* history_queue.c: the history writer thread and its bounded queue (see
 * history_queue.h).
 *
 * hq.lock guards the list, the counters and the sequence numbers: put_seq
 * counts events queued, done_seq those the writer has finished (written
 * or given up on), so a reader waits for done_seq >= the put_seq it saw.
 * The lock is never held while writing: the writer takes the whole list
 * (at most BATCH_MAX events) and writes it on one admin connection inside
 * one transaction (one InnoDB commit per batch, not per event). */
#include "history_queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#include "czar.h"

#define BATCH_MAX 256
#define END_WAIT_MS 2000
#define LINGER_MS 5

struct history_queue {
	pthread_mutex_t lock;
	pthread_cond_t more;         /* writer: something queued, or stop */
	pthread_cond_t done;         /* readers and waiting ends: progress */
	struct history_op *head, *tail;
	unsigned depth;
	uint64_t put_seq, done_seq;
	int stop;
	unsigned syncing;            /* readers waiting in history_queue_sync */
	pthread_t thread;
	struct history_queue_stats stats;
};

static void deadline(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Writes the batch in one transaction; ops freed. */
static void write_batch(struct czar *cz, struct history_op *ops, unsigned n)
{
	char err[256];
	struct backend_conn *bc = backend_get(cz->backend, err, sizeof(err));
	struct history_op *op, *next;

	if (!bc) {
		log_warn("query history: %u event(s) not written: %s", n, err);
		if (cz->hq) {   /* the writer's own queue: always there while it writes */
			pthread_mutex_lock(&cz->hq->lock);
			cz->hq->stats.dropped += n;
			pthread_mutex_unlock(&cz->hq->lock);
		}
	} else {
		int txn = n > 1 && mysql_query(bc->my, "START TRANSACTION") == 0;
		history_write_batch(cz, bc->my, ops);
		if (txn && mysql_query(bc->my, "COMMIT") != 0)
			log_warn("query history: COMMIT: %s", mysql_error(bc->my));
		backend_put(cz->backend, bc, mysql_errno(bc->my) >= 2000);
	}
	for (op = ops; op; op = next) {
		next = op->next;
		history_op_free(op);
	}
}

/* Lets a batch gather for LINGER_MS (not when stopping, not when full,
 * not when a reader waits for it). */
static void linger(struct history_queue *q)
{
	struct timespec ts;

	deadline(&ts, LINGER_MS);
	while (!q->stop && !q->syncing && q->depth < BATCH_MAX)
		if (pthread_cond_timedwait(&q->more, &q->lock, &ts) == ETIMEDOUT)
			break;
}

static void *writer(void *arg)
{
	struct czar *cz = arg;
	struct history_queue *q = cz->hq;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		struct history_op *ops, *last;
		unsigned n = 1;

		while (!q->head && !q->stop) {
			struct timespec ts;
			deadline(&ts, 1000);
			pthread_cond_timedwait(&q->more, &q->lock, &ts);
		}
		if (!q->head)
			break;                   /* stopping, all written */
		linger(q);
		ops = last = q->head;
		while (last->next && n < BATCH_MAX) {
			last = last->next;
			n++;
		}
		q->head = last->next;
		if (!q->head)
			q->tail = NULL;
		last->next = NULL;
		q->depth -= n;
		pthread_mutex_unlock(&q->lock);
		write_batch(cz, ops, n);
		pthread_mutex_lock(&q->lock);
		q->done_seq += n;
		q->stats.written += n;
		q->stats.batches++;
		pthread_cond_broadcast(&q->done);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

int history_queue_start(struct czar *cz)
{
	struct history_queue *q = calloc(1, sizeof(*q));

	if (!q)
		return -ENOMEM;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->more, NULL);
	pthread_cond_init(&q->done, NULL);
	cz->hq = q;
	if (pthread_create(&q->thread, NULL, writer, cz) != 0) {
		cz->hq = NULL;
		free(q);
		return -EAGAIN;
	}
	return 0;
}

void history_queue_stop(struct czar *cz)
{
	struct history_queue *q = cz->hq;

	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	q->stop = 1;
	pthread_cond_signal(&q->more);
	pthread_mutex_unlock(&q->lock);
	pthread_join(q->thread, NULL);   /* it writes what is queued first */
	/* q stays: sessions still finishing may read cz->hq; their events are
	 * written on their own thread from now on (history_queue_put) */
}

/* Whether op may wait for room (an end), and until when it is queued. */
static int room(struct history_queue *q, const struct history_op *op)
{
	struct timespec ts;

	if (q->depth < HQ_MAX)
		return 1;
	if (!op->end)
		return 0;
	deadline(&ts, END_WAIT_MS);
	while (q->depth >= HQ_MAX && !q->stop)
		if (pthread_cond_timedwait(&q->done, &q->lock, &ts) == ETIMEDOUT)
			break;
	return q->depth < HQ_MAX;
}

void history_queue_put(struct czar *cz, struct history_op *op, int queued)
{
	struct history_queue *q = cz->hq;

	op->next = NULL;
	if (!q || !queued) {
		write_batch(cz, op, 1);
		return;
	}
	pthread_mutex_lock(&q->lock);
	if (q->stop) {                     /* the writer is gone: write it here */
		pthread_mutex_unlock(&q->lock);
		write_batch(cz, op, 1);
		return;
	}
	if (!room(q, op)) {
		q->stats.dropped++;
		pthread_mutex_unlock(&q->lock);
		log_warn("query %llu: history event dropped (queue full)", (unsigned long long)op->id);
		history_op_free(op);
		return;
	}
	if (q->tail)
		q->tail->next = op;
	else
		q->head = op;
	q->tail = op;
	q->depth++;
	q->put_seq++;
	q->stats.queued++;
	/* the writer waits for a first event, or lingers until a batch is
	 * full: a wake-up for any other event would only put it back to
	 * sleep (a context switch per query under load) */
	if (q->depth == 1 || q->depth >= BATCH_MAX)
		pthread_cond_signal(&q->more);
	pthread_mutex_unlock(&q->lock);
}

void history_queue_sync(struct czar *cz, int timeout_ms)
{
	struct history_queue *q = cz->hq;
	struct timespec ts;
	uint64_t want;

	if (!q)
		return;
	deadline(&ts, timeout_ms);
	pthread_mutex_lock(&q->lock);
	want = q->put_seq;
	q->syncing++;
	pthread_cond_signal(&q->more);   /* no lingering: a reader waits */
	while (q->done_seq < want)
		if (pthread_cond_timedwait(&q->done, &q->lock, &ts) == ETIMEDOUT)
			break;
	q->syncing--;
	pthread_mutex_unlock(&q->lock);
}

void history_queue_get_stats(struct czar *cz, struct history_queue_stats *ret)
{
	struct history_queue *q = cz->hq;

	memset(ret, 0, sizeof(*ret));
	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	*ret = q->stats;
	ret->depth = q->depth;
	pthread_mutex_unlock(&q->lock);
}
