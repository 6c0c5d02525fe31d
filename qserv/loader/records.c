/* records.c: the record counter of records.h.  Invariant between calls:
 * either the csvd counter is at a record start (no quote open, no escape
 * pending, nothing of the record read) or it holds the start of the
 * record being read; the fast path runs only in the first state, so both
 * paths see every record exactly once. */
#include "records.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

void ldr_records_init(struct ldr_records *r, const struct csvd *d, unsigned expect)
{
	memset(r, 0, sizeof *r);
	csvd_counter_init(&r->c, d, expect);
}

static bool at_record_start(const struct csvd_counter *c)
{
	return c->line_empty && !c->in_quote && !c->after_esc;
}

/* The next byte b at or after p (cached in *at; end when there is none). */
static const char *next_byte(const char **at, char b, const char *p, const char *end)
{
	if (!b)
		return end;
	if (!*at || *at < p) {
		const char *q = memchr(p, b, (size_t)(end - p));
		*at = q ? q : end;
	}
	return *at;
}

/* No enclosure: a line terminator ends a record unless an odd run of
 * escape bytes precedes it (an escaped escape is literal), so records are
 * counted at memchr speed; the run's parity carries across buffers. */
static void feed_unquoted(struct ldr_records *r, const char *buf, size_t n)
{
	const char lt = r->c.d.line_term, esc = r->c.d.escape;
	const char *p = buf, *end = buf + n, *q;
	for (; (q = memchr(p, lt, (size_t)(end - p))); p = q + 1) {
		size_t run = 0;
		while (esc && q - run > buf && q[-(ptrdiff_t)run - 1] == esc)
			run++;
		bool odd = (run & 1) ^ (q - run == buf && r->esc_odd);
		if (odd) {
			r->partial = true;
		} else {
			r->fast++;
			r->partial = false;
		}
		r->esc_odd = false;
	}
	if (p == end)
		return;
	size_t run = 0;
	while (esc && end - run > p && end[-(ptrdiff_t)run - 1] == esc)
		run++;
	r->esc_odd = (run & 1) ^ (end - run == p && r->esc_odd && p == buf);
	r->partial = true;
}

int ldr_records_feed(struct ldr_records *r, const char *buf, size_t n)
{
	if (!r->c.d.enclosed) {
		feed_unquoted(r, buf, n);
		return 0;
	}
	const char lt = r->c.d.line_term;
	const char *p = buf, *end = buf + n;
	r->esc_at = r->enc_at = NULL; /* positions in an earlier buffer mean nothing */
	while (p < end) {
		if (at_record_start(&r->c)) {
			const char *s = next_byte(&r->esc_at, r->c.d.escape, p, end);
			const char *e = next_byte(&r->enc_at, r->c.d.enclosed, p, end);
			const char *stop = e < s ? e : s, *last = NULL;
			unsigned long long k = 0;
			for (const char *q = p; (q = memchr(q, lt, (size_t)(stop - q))); q++)
				k++, last = q;
			if (last) {
				r->fast += k;
				r->c.line += k;
				p = last + 1;
				continue;
			}
		}
		/* this record byte by byte, up to its next line terminator */
		const char *q = memchr(p, lt, (size_t)(end - p));
		size_t k = q ? (size_t)(q + 1 - p) : (size_t)(end - p);
		int rc = csvd_counter_feed(&r->c, p, k);
		if (rc)
			return rc;
		p += k;
	}
	return 0;
}

int ldr_records_end(struct ldr_records *r)
{
	if (!r->c.d.enclosed) {
		r->fast += r->partial;
		return 0;
	}
	return csvd_counter_end(&r->c);
}

unsigned long long ldr_records_count(const struct ldr_records *r)
{
	return r->fast + r->c.rows;
}
