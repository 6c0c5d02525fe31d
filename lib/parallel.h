/* parallel.h: the one way to run a job list on a few threads at once.
 * parallel_each hands out the indexes of a list of n jobs itself;
 * parallel_run runs one function on every thread, which takes jobs from
 * its argument (under the caller's lock) until none is left.  Used where
 * the controller and the loader call several workers at once. */
#ifndef QSERV_PARALLEL_H
#define QSERV_PARALLEL_H

#include <stddef.h>

#define PARALLEL_MAX 64

/* Runs fn(arg) on nthreads threads at once (at most PARALLEL_MAX; fewer
 * when a thread cannot start), or once on the caller's thread when none
 * starts, and returns when every one has returned. */
void parallel_run(void *(*fn)(void *), void *arg, size_t nthreads);

/* Runs fn(arg, i) once for every i in [0, n), in order of i, on at most
 * max_threads threads at once (no more than n); once a call returns
 * nonzero no further i is started (those running finish).  Returns when
 * every call has returned. */
void parallel_each(size_t n, size_t max_threads, int (*fn)(void *arg, size_t i), void *arg);

#endif
