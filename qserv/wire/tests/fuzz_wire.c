/* fuzz_wire.c: libFuzzer target for the czar <-> worker protocol decoders
 * (wire.h), both ends: arbitrary bytes as a stream of frames (wire_recv),
 * each decoded by its type as the worker (QUERY) or the czar (COLUMNS,
 * ROWS with LZ4, END, ERROR, KEEPALIVE) does; ROWS use the column count of the last
 * COLUMNS (3 before any).  Invariants: decoded COLUMNS and ROWS encode
 * (wire_cols_encode, wire_batch_add + wire_batch_seal) into payloads that
 * decode to the same values, and so does a decoded QUERY (with its
 * sub-chunk list, version 2); an ERROR's strings are NUL-terminated. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "qserv/wire/wire.h"

struct stream { const uint8_t *p; size_t len, off; };

static ssize_t mem_read(void *ctx, void *buf, size_t len, int timeout_ms)
{
	struct stream *s = ctx;
	size_t n = s->len - s->off < len ? s->len - s->off : len;

	(void)timeout_ms;
	memcpy(buf, s->p + s->off, n);
	s->off += n;
	return (ssize_t)n;
}

static void rows_round_trip(const struct wire_rows *w)
{
	struct wire_batch b;
	struct wire_rows w2;
	struct buf out = { 0 };
	size_t i, cells = (size_t)w->nrows * w->ncols;

	wire_batch_init(&b, w->ncols);
	for (i = 0; i < w->nrows; i++)
		if (wire_batch_add(&b, w->vals + i * w->ncols, w->lens + i * w->ncols) < 0)
			abort();
	if (wire_batch_seal(&b, &out) < 0 || wire_rows_decode(out.data, out.len, w->ncols, &w2) < 0 ||
	    w2.nrows != w->nrows)
		abort();
	for (i = 0; i < cells; i++)
		if (w2.lens[i] != w->lens[i] || !w2.vals[i] != !w->vals[i] ||
		    (w->vals[i] && memcmp(w2.vals[i], w->vals[i], w->lens[i])))
			abort();
	wire_rows_free(&w2);
	wire_batch_free(&b);
	buf_free(&out);
}

static void query_round_trip(const struct wire_query *q)
{
	struct wire_query q2;
	struct buf out = { 0 };
	int32_t *sub = q->nsub ? malloc(q->nsub * sizeof(*sub)) : NULL;
	uint32_t i;
	struct wire_query e = *q;

	if (q->nsub && !sub)
		return;
	for (i = 0; i < q->nsub; i++)
		sub[i] = wire_query_sub(q, i);
	e.sub = sub;
	if (wire_query_encode(&e, &out) < 0 || wire_query_decode(out.data, out.len, &q2) < 0 ||
	    q2.chunk_id != q->chunk_id || q2.sql_len != q->sql_len || memcmp(q2.sql, q->sql, q->sql_len) ||
	    q2.nsub != q->nsub || q2.sub_db_len != q->sub_db_len || q2.sub_table_len != q->sub_table_len)
		abort();
	for (i = 0; i < q->nsub; i++)
		if (wire_query_sub(&q2, i) != sub[i])
			abort();
	free(sub);
	buf_free(&out);
}

static void cols_round_trip(const struct wire_cols *c)
{
	struct wire_cols c2;
	struct buf out = { 0 };
	unsigned i;

	if (wire_cols_encode(c->v, c->n, &out) < 0 || wire_cols_decode(out.data, out.len, &c2) < 0 || c2.n != c->n)
		abort();
	for (i = 0; i < c->n; i++)
		if (strcmp(c2.v[i].name, c->v[i].name) || strcmp(c2.v[i].db, c->v[i].db) ||
		    c2.v[i].type != c->v[i].type || c2.v[i].length != c->v[i].length)
			abort();
	wire_cols_free(&c2);
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stream s = { data, size, 0 };
	struct wire_io io = { mem_read, NULL, &s, 1000 };
	struct frame_hdr h;
	unsigned ncols = 3;
	void *p;

	while (wire_recv(&io, &h, &p) == 0) {
		struct wire_query q;
		struct wire_cols c;
		struct wire_rows w;
		struct wire_error e;
		uint64_t rows;
		uint32_t ms;

		if (h.type == WIRE_QUERY && wire_query_decode(p, h.len, &q) == 0) {
			query_round_trip(&q);
		} else if (h.type == WIRE_COLUMNS && wire_cols_decode(p, h.len, &c) == 0) {
			cols_round_trip(&c);
			ncols = c.n;
			wire_cols_free(&c);
		} else if (h.type == WIRE_ROWS && wire_rows_decode(p, h.len, ncols, &w) == 0) {
			rows_round_trip(&w);
			wire_rows_free(&w);
		} else if (h.type == WIRE_END) {
			wire_end_decode(p, h.len, &rows);
		} else if (h.type == WIRE_KEEPALIVE && wire_keepalive_decode(p, h.len, &ms) == 0 && h.len != 4) {
			abort();
		} else if (h.type == WIRE_ERROR && wire_error_decode(p, h.len, &e) == 0 &&
			   (!memchr(e.sqlstate, 0, sizeof(e.sqlstate)) || !memchr(e.msg, 0, sizeof(e.msg)))) {
			abort();
		}
		free(p);
	}
	return 0;
}
