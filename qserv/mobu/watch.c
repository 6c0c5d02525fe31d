/* watch.c: the firefighter's success-rate alert (watch.h). */
#include "watch.h"

#include "qserv/common/alert.h"

void watch_tick(struct watch *w, struct flock *f, int n, double elapsed_s)
{
	if (w->below <= 0 || elapsed_s - w->last_s < w->window_s)
		return;
	w->last_s = elapsed_s;
	for (int i = 0; i < n && i < 64; i++) {
		struct stats s;
		stats_snapshot(&f[i].st, &s);
		unsigned long long ok = s.ok - w->ok[i], failed = s.failed - w->failed[i];
		w->ok[i] = s.ok;
		w->failed[i] = s.failed;
		if (ok + failed == 0)
			continue;
		double rate = (double)ok / (double)(ok + failed);
		if (rate >= w->below) {
			alert_clear("firefighter", f[i].name);
			continue;
		}
		const char *last = s.nerrors ? s.errors[(s.nerrors - 1) % STATS_ERRORS].text : "";
		alert_raise("firefighter", f[i].name,
			    "flock %s (%s): %.1f%% of %llu run(s) succeeded in the last %.0f s (threshold %.1f%%); "
			    "last error: %s", f[i].name, business_name(f[i].kind), rate * 100, ok + failed,
			    w->window_s, w->below * 100, last);
	}
}
