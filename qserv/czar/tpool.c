/* tpool.c: the reusable thread pool (see tpool.h).
 *
 * Each idle thread waits on its own slot (struct idle, on its stack) in the
 * idle list; tpool_run pops one, stores the task in it and signals it, so
 * a task is never taken by two threads and never left behind.  p->lock
 * guards the list and the counters; tasks run without it.  The pool lives
 * as long as the process (the czar has one, made at start). */
#include "tpool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#define IDLE_MS 30000

struct idle {
	struct idle *next;
	pthread_cond_t cond;
	void (*fn)(void *);
	void *arg;
};

struct tpool {
	pthread_mutex_t lock;
	pthread_attr_t attr;
	struct idle *idle;           /* threads waiting for a task */
	unsigned nidle, max_idle;
	unsigned long long started, reused;
};

struct start {
	struct tpool *p;
	void (*fn)(void *);
	void *arg;
};

/* Waits up to IDLE_MS for a task; 1 with it in *w, 0 to exit. */
static int wait_task(struct tpool *p, struct idle *w)
{
	struct timespec ts;
	struct idle **pp;

	pthread_mutex_lock(&p->lock);
	if (p->nidle >= p->max_idle) {
		pthread_mutex_unlock(&p->lock);
		return 0;
	}
	w->fn = NULL;
	w->next = p->idle;
	p->idle = w;
	p->nidle++;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += IDLE_MS / 1000;
	while (!w->fn)
		if (pthread_cond_timedwait(&w->cond, &p->lock, &ts) == ETIMEDOUT && !w->fn)
			break;
	if (!w->fn) {                      /* timed out: still on the list */
		for (pp = &p->idle; *pp; pp = &(*pp)->next)
			if (*pp == w) {
				*pp = w->next;
				p->nidle--;
				break;
			}
	}
	pthread_mutex_unlock(&p->lock);
	return w->fn != NULL;
}

static void *thread_main(void *arg)
{
	struct start st = *(struct start *)arg;
	struct idle w;

	free(arg);
	pthread_cond_init(&w.cond, NULL);
	st.fn(st.arg);
	while (wait_task(st.p, &w))
		w.fn(w.arg);
	pthread_cond_destroy(&w.cond);
	return NULL;
}

int tpool_new(unsigned long stack, unsigned max_idle, struct tpool **ret)
{
	struct tpool *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	pthread_attr_init(&p->attr);
	pthread_attr_setstacksize(&p->attr, stack);
	pthread_attr_setdetachstate(&p->attr, PTHREAD_CREATE_DETACHED);
	p->max_idle = max_idle;
	*ret = p;
	return 0;
}

int tpool_run(struct tpool *p, void (*fn)(void *), void *arg)
{
	struct start *st;
	struct idle *w;
	pthread_t t;

	pthread_mutex_lock(&p->lock);
	if ((w = p->idle)) {
		p->idle = w->next;
		p->nidle--;
		p->reused++;
		w->fn = fn;
		w->arg = arg;
		pthread_cond_signal(&w->cond);
		pthread_mutex_unlock(&p->lock);
		return 0;
	}
	p->started++;
	pthread_mutex_unlock(&p->lock);
	if (!(st = malloc(sizeof(*st))))
		return -EAGAIN;
	*st = (struct start){ p, fn, arg };
	if (pthread_create(&t, &p->attr, thread_main, st) != 0) {
		free(st);
		return -EAGAIN;
	}
	return 0;
}

void tpool_get_stats(struct tpool *p, unsigned long long *ret_started, unsigned long long *ret_reused)
{
	pthread_mutex_lock(&p->lock);
	*ret_started = p->started;
	*ret_reused = p->reused;
	pthread_mutex_unlock(&p->lock);
}
