/* registry_limit.c: per source address limits (registry.h): the JOIN rate
 * limit and the cap on connections not past their first message.
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

#include <arpa/inet.h>
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

/* The cap on connections before their first message.  An address gets
 * HANDSHAKES_PER_ADDR such connections at once: it cannot hold the
 * HANDSHAKE_SLOTS (nor MAX_CONNS threads) with idle or trickling sockets,
 * while every other address still has its own.  The table holds only the
 * addresses with such connections (at most MAX_CONNS, one per connection). */
bool reg_pending_take_locked(struct registry *r, uint32_t addr)
{
	int i;

	if (!r->limit_loopback && (ntohl(addr) >> 24) == 127)
		return true;
	for (i = 0; i < r->npending && r->pending[i].addr != addr; i++)
		;
	if (i < r->npending && r->pending[i].n >= HANDSHAKES_PER_ADDR) {
		r->handshakes_capped++;
		return false;
	}
	if (i == r->npending) {
		if (r->npending == MAX_CONNS)
			return false;
		r->pending[r->npending++] = (struct pending_addr){ .addr = addr, .n = 0 };
	}
	r->pending[i].n++;
	return true;
}

void reg_pending_give_locked(struct registry *r, uint32_t addr)
{
	for (int i = 0; i < r->npending; i++) {
		if (r->pending[i].addr == addr) {
			if (--r->pending[i].n <= 0)
				r->pending[i] = r->pending[--r->npending];
			return;
		}
	}
}
