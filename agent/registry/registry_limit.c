/* registry_limit.c: the JOIN rate limit per source address (registry.h).
 *
 * A token bucket per address: join_burst tokens, refilled at join_per_min
 * per minute; a JOIN takes one or is refused (code rate_limited) before the
 * token is even looked at, so guessing tokens or replaying a stolen one is
 * slow, while every other address keeps its own bucket.  The table is
 * bounded (RATE_TABLE addresses): a new address takes a free entry or the
 * one idle longest; an entry idle long enough to be full again carries no
 * information, so evicting it forgets nothing (an attacker with more
 * addresses than the table resets only its own buckets). */
#include "registry_int.h"

#include <stdio.h>
#include <string.h>

static bool loopback_addr(const char *a)
{
	return !strncmp(a, "127.", 4);
}

bool reg_rate_take_locked(struct registry *r, const char *addr, uint64_t now_ms)
{
	struct rate_entry *e = NULL, *oldest = NULL;

	if (r->join_burst < 0 || (!r->limit_loopback && loopback_addr(addr)))
		return true;
	if (now_ms == 0)
		now_ms = 1;
	for (size_t i = 0; i < RATE_TABLE; i++) {
		struct rate_entry *x = &r->rate[i];
		if (x->last_ms && !strcmp(x->addr, addr)) {
			e = x;
			break;
		}
		if (!oldest || x->last_ms < oldest->last_ms)
			oldest = x;
	}
	if (!e) {
		e = oldest;
		snprintf(e->addr, sizeof(e->addr), "%s", addr);
		e->tokens = r->join_burst;
		e->last_ms = now_ms;
	}
	if (now_ms > e->last_ms) {
		e->tokens += (double)(now_ms - e->last_ms) * r->join_per_min / 60000.0;
		if (e->tokens > r->join_burst)
			e->tokens = r->join_burst;
	}
	e->last_ms = now_ms;
	if (e->tokens < 1.0)
		return false;
	e->tokens -= 1.0;
	return true;
}
