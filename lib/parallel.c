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
