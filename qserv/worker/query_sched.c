/* query_sched.c: interactive chunk queries ahead of scans (see query_sched.h). */
#include "query_sched.h"

void query_sched_init(struct query_sched *s, unsigned slots)
{
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->slots = slots ? slots : 1;
	s->running = s->waiting_interactive = s->waiting_scans = 0;
	s->started_interactive = s->started_scans = 0;
}

void query_sched_destroy(struct query_sched *s)
{
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
}

void query_sched_acquire(struct query_sched *s, int scan)
{
	pthread_mutex_lock(&s->lock);
	if (scan) {
		s->waiting_scans++;
		while (s->running >= s->slots || s->waiting_interactive > 0)
			pthread_cond_wait(&s->cond, &s->lock);
		s->waiting_scans--;
		s->started_scans++;
	} else {
		s->waiting_interactive++;
		while (s->running >= s->slots)
			pthread_cond_wait(&s->cond, &s->lock);
		s->waiting_interactive--;
		s->started_interactive++;
	}
	s->running++;
	pthread_mutex_unlock(&s->lock);
}

void query_sched_release(struct query_sched *s)
{
	pthread_mutex_lock(&s->lock);
	s->running--;
	/* everyone re-checks: an interactive waiter wins the free slot, and a
	 * scan waits again while one is queued */
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}
