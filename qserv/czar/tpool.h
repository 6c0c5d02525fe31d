/* tpool.h: reusable threads for the dispatcher's chunk conversations.
 *
 * tpool_run hands fn(arg) to an idle thread, or starts a new one when none
 * is idle: a query's chunk queries no longer pay a clone() (and its stack
 * mapping) each.  A thread that finished its task waits up to IDLE_MS for
 * the next, then exits; at most max_idle wait at once (the others exit at
 * once), so the pool follows the load both ways.  There is no cap on
 * running threads here: the dispatcher's per-worker window bounds them,
 * as before.  The caller learns that a task finished from the task itself
 * (dispatch.c's run.running); there is nothing to join. */
#ifndef QSERV_CZAR_TPOOL_H
#define QSERV_CZAR_TPOOL_H

struct tpool;

/* stack: bytes per thread; max_idle: threads kept waiting.  0 or -ENOMEM. */
int tpool_new(unsigned long stack, unsigned max_idle, struct tpool **ret);
/* Runs fn(arg) on a pool thread.  0, or -EAGAIN (no thread could start). */
int tpool_run(struct tpool *p, void (*fn)(void *), void *arg);
void tpool_get_stats(struct tpool *p, unsigned long long *ret_started, unsigned long long *ret_reused);

#endif
