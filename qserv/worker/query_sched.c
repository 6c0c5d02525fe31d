/* query_sched.c: interactive chunk queries ahead of scans, and scans of
 * one chunk together in one walk over the chunks (see query_sched.h).
 *
 * Invariants (under lock): running <= slots; a node is in `scans` iff it
 * is waiting and not granted; waiting_scans counts the nodes in `scans`
 * plus the granted ones whose thread has not woken yet.  The pick is
 * O(waiting scans), fine for the few hundred threads a worker has. */
#include "query_sched.h"

#include <stddef.h>

void query_sched_init(struct query_sched *s, unsigned slots)
{
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->slots = slots ? slots : 1;
	s->running = s->waiting_interactive = s->waiting_scans = 0;
	s->scans = NULL;
	s->cursor = INT32_MIN;
	s->started_interactive = s->started_scans = s->shared_scans = 0;
	s->fifo = 0;
}

void query_sched_destroy(struct query_sched *s)
{
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
}

/* The next scan: the oldest one passed over too often, else the lowest
 * chunk at or after the cursor (oldest first), else the lowest chunk. */
static struct query_sched_wait **pick(struct query_sched *s)
{
	struct query_sched_wait **p, **ahead = NULL, **low = NULL;
	if (s->fifo || s->scans->passed >= QUERY_SCHED_MAX_PASS)
		return &s->scans;
	for (p = &s->scans; *p; p = &(*p)->next) {
		int32_t c = (*p)->chunk;
		if (c >= s->cursor && (!ahead || c < (*ahead)->chunk))
			ahead = p;
		if (!low || c < (*low)->chunk)
			low = p;
	}
	return ahead ? ahead : low;
}

/* Grants free slots to waiting scans while no interactive query waits. */
static void dispatch(struct query_sched *s)
{
	int woke = 0;
	while (s->running < s->slots && !s->waiting_interactive && s->scans) {
		struct query_sched_wait **p = pick(s), *w = *p;
		*p = w->next;
		for (struct query_sched_wait *o = s->scans; o; o = o->next)
			o->passed++;
		if (s->started_scans && w->chunk == s->cursor)
			s->shared_scans++;
		s->cursor = w->chunk;
		s->started_scans++;
		w->granted = 1;
		s->running++;
		woke = 1;
	}
	if (woke)
		pthread_cond_broadcast(&s->cond);
}

void query_sched_acquire(struct query_sched *s, int scan, int32_t chunk)
{
	pthread_mutex_lock(&s->lock);
	if (scan) {
		struct query_sched_wait w = { .chunk = chunk }, **tail = &s->scans;
		while (*tail)
			tail = &(*tail)->next;
		*tail = &w;
		s->waiting_scans++;
		dispatch(s);
		while (!w.granted)
			pthread_cond_wait(&s->cond, &s->lock);
		s->waiting_scans--;
	} else {
		s->waiting_interactive++;
		while (s->running >= s->slots)
			pthread_cond_wait(&s->cond, &s->lock);
		s->waiting_interactive--;
		s->started_interactive++;
		s->running++;
		dispatch(s);   /* the last interactive one in: scans may take what is left */
	}
	pthread_mutex_unlock(&s->lock);
}

void query_sched_release(struct query_sched *s)
{
	pthread_mutex_lock(&s->lock);
	s->running--;
	dispatch(s);
	/* interactive waiters re-check: one of them wins the free slot */
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}
