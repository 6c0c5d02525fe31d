/* parallel.h: the one way to run a job list on a few threads at once --
 * every thread runs the same function, which takes jobs from its argument
 * (under the caller's lock) until none is left.  Used where the controller
 * and the loader call several workers at once. */
#ifndef QSERV_PARALLEL_H
#define QSERV_PARALLEL_H

#include <stddef.h>

#define PARALLEL_MAX 64

/* Runs fn(arg) on nthreads threads at once (at most PARALLEL_MAX; fewer
 * when a thread cannot start), or once on the caller's thread when none
 * starts, and returns when every one has returned. */
void parallel_run(void *(*fn)(void *), void *arg, size_t nthreads);

#endif
