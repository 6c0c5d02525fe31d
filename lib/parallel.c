/* parallel.c: a job list on a few threads at once (see parallel.h). */
#include "parallel.h"

#include <pthread.h>

void parallel_run(void *(*fn)(void *), void *arg, size_t nthreads)
{
	pthread_t t[PARALLEL_MAX];
	size_t started = 0;

	for (size_t i = 0; i < nthreads && i < PARALLEL_MAX; i++)
		if (pthread_create(&t[started], NULL, fn, arg) == 0)
			started++;
	if (!started)
		fn(arg);
	for (size_t i = 0; i < started; i++)
		pthread_join(t[i], NULL);
}

struct each {
	pthread_mutex_t mu;
	size_t next, n;             /* under mu, with stop */
	int stop;
	int (*fn)(void *arg, size_t i);
	void *arg;
};

static void *each_thread(void *arg)
{
	struct each *e = arg;

	for (;;) {
		pthread_mutex_lock(&e->mu);
		size_t i = e->next < e->n && !e->stop ? e->next++ : e->n;
		pthread_mutex_unlock(&e->mu);
		if (i == e->n)
			return NULL;
		if (e->fn(e->arg, i)) {
			pthread_mutex_lock(&e->mu);
			e->stop = 1;
			pthread_mutex_unlock(&e->mu);
		}
	}
}

void parallel_each(size_t n, size_t max_threads, int (*fn)(void *arg, size_t i), void *arg)
{
	struct each e = { .n = n, .fn = fn, .arg = arg };

	pthread_mutex_init(&e.mu, NULL);
	parallel_run(each_thread, &e, n < max_threads ? n : max_threads);
	pthread_mutex_destroy(&e.mu);
}
