/* records.h: counting an input file's records (rows) with its CSV dialect,
 * for validation: a value may hold an escaped line terminator (MySQL's
 * default dialect: backslash + newline) or, with an enclosing quote, a
 * quoted one, so records are not lines.  Streaming (files can be GBs),
 * with qserv/common/csvd.h's counter doing the reading rules.
 *
 * Fast paths (a file can be GBs; measured on 3 M rows, 117-139 MB: line
 * counting 0.05 s, csvd's byte-by-byte counter 0.3 s):
 *  - no enclosure (MySQL's default dialect): a line terminator ends a
 *    record unless an odd run of escape bytes precedes it; memchr speed,
 *    \N in every row or not;
 *  - an enclosure: at a record start, the bytes up to the next escape or
 *    enclosure byte hold no surprise, so their terminators are counted
 *    with memchr and only records holding such a byte go through csvd's
 *    byte-by-byte counter.
 * Field counts are checked only by the byte-by-byte counter (the worker
 * checked every record's when it loaded it). */
#ifndef QLOADER_RECORDS_H
#define QLOADER_RECORDS_H

#include <stdbool.h>
#include <stddef.h>

#include "qserv/common/csvd.h"

struct ldr_records {
	struct csvd_counter c;       /* the slow path; its rows are records too */
	unsigned long long fast;     /* records counted by the fast path */
	const char *esc_at, *enc_at; /* next escape / enclosure byte in the buffer fed */
	bool esc_odd;                /* no enclosure: the input so far ends in an odd escape run */
	bool partial;                /* no enclosure: a record has begun since the last end */
};

/* expect: the table's column count (rows the counter reads fully are
 * checked against it). */
void ldr_records_init(struct ldr_records *r, const struct csvd *d, unsigned expect);
/* 0, or -EBADMSG at a record with the wrong field count (r->c.bad_line,
 * r->c.bad_fields say which). */
int ldr_records_feed(struct ldr_records *r, const char *buf, size_t n);
/* Ends the input: a last record without terminator counts. */
int ldr_records_end(struct ldr_records *r);
unsigned long long ldr_records_count(const struct ldr_records *r);

#endif
