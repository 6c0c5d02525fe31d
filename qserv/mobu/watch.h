/* watch.h: the firefighter's alert: every window a flock's success rate
 * over that window is compared with a threshold; under it, an alert
 * (qserv/common/alert.h, kind "firefighter", subject the flock) names the
 * rate, the runs and the last error; at or above it again, the condition
 * is cleared so that the next fall alerts anew. */
#ifndef QSERV_MOBU_WATCH_H
#define QSERV_MOBU_WATCH_H

#include "flock.h"

struct watch {
	double below;           /* 0..1; 0: no alert */
	double window_s;        /* default 60 */
	double last_s;
	unsigned long long ok[64], failed[64];   /* per flock at the window's start */
};

void watch_tick(struct watch *w, struct flock *f, int n, double elapsed_s);

#endif
