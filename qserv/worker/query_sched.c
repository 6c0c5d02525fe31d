/* query_sched.c: interactive chunk queries ahead of scans, and scans
 * sharing each chunk's pass in one walk over the chunks (see
 * query_sched.h).
 *
 * Invariants (under lock): running <= slots; a node is in `scans` iff it
 * is waiting and not granted; active[0..nactive) holds the chunks with
 * running scans, each n > 0, nactive <= max_chunks unless fifo.  The pick
 * is O(waiting scans * nactive), fine for the few hundred threads a
 * worker has. */
#include "query_sched.h"

#include <stddef.h>

void query_sched_init(struct query_sched *s, unsigned slots, unsigned max_chunks)
{
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->slots = slots ? slots : 1;
	if (s->slots > QUERY_SCHED_MAX_SLOTS)
		s->slots = QUERY_SCHED_MAX_SLOTS;
	s->max_chunks = max_chunks ? max_chunks : 2;
	if (s->max_chunks > s->slots)
		s->max_chunks = s->slots;
	s->running = s->waiting_interactive = s->waiting_scans = 0;
	s->scans = NULL;
	s->cursor = INT32_MIN;
	s->nactive = 0;
	s->fifo = 0;
	s->started_interactive = s->started_scans = s->shared_scans = 0;
}

void query_sched_destroy(struct query_sched *s)
{
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
}

static int active_at(const struct query_sched *s, int32_t chunk)
{
	for (unsigned i = 0; i < s->nactive; i++)
		if (s->active[i].chunk == chunk)
			return (int)i;
	return -1;
}

/* May w start now (the chunk limit)? */
static int eligible(const struct query_sched *s, const struct query_sched_wait *w)
{
	return s->fifo || active_at(s, w->chunk) >= 0 || s->nactive < s->max_chunks;
}

/* The next scan to start (its link in the list), or NULL: none may. */
static struct query_sched_wait **pick(struct query_sched *s)
{
	struct query_sched_wait **p, **ahead = NULL, **low = NULL;
	if (s->fifo || s->scans->passed >= QUERY_SCHED_MAX_PASS)
		return eligible(s, s->scans) ? &s->scans : NULL;
	for (p = &s->scans; *p; p = &(*p)->next)
		if (active_at(s, (*p)->chunk) >= 0)
			return p;               /* joins a pass in progress */
	if (s->nactive >= s->max_chunks)
		return NULL;
	for (p = &s->scans; *p; p = &(*p)->next) {
		int32_t c = (*p)->chunk;
		if (c >= s->cursor && (!ahead || c < (*ahead)->chunk))
			ahead = p;
		if (!low || c < (*low)->chunk)
			low = p;
	}
	return ahead ? ahead : low;
}

static void start_scan(struct query_sched *s, struct query_sched_wait *w)
{
	int i = active_at(s, w->chunk);
	if (i >= 0) {
		s->active[i].n++;
		s->shared_scans++;
	} else {
		s->active[s->nactive].chunk = w->chunk;
		s->active[s->nactive++].n = 1;
	}
	for (struct query_sched_wait *o = s->scans; o; o = o->next)
		o->passed++;
	s->cursor = w->chunk;
	s->started_scans++;
	w->granted = 1;
	s->running++;
}

/* Grants free slots to waiting scans while no interactive query waits. */
static void dispatch(struct query_sched *s)
{
	int woke = 0;
	struct query_sched_wait **p;
	while (s->running < s->slots && !s->waiting_interactive && s->scans && (p = pick(s))) {
		struct query_sched_wait *w = *p;
		*p = w->next;
		start_scan(s, w);
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

void query_sched_release(struct query_sched *s, int scan, int32_t chunk)
{
	pthread_mutex_lock(&s->lock);
	s->running--;
	int i = scan ? active_at(s, chunk) : -1;
	if (i >= 0 && --s->active[i].n == 0)
		s->active[i] = s->active[--s->nactive];
	dispatch(s);
	/* interactive waiters re-check: one of them wins the free slot */
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}
