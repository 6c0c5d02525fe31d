/* wire.c: chunk-query messages (see wire.h). */
#include "wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lz4.h>

void wire_buf_free(struct wire_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void wire_buf_put(struct wire_buf *b, const void *p, size_t n)
{
	if (b->oom || n == 0)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		unsigned char *d;
		while (cap < b->len + n)
			cap *= 2;
		d = realloc(b->data, cap);
		if (!d) {
			b->oom = 1;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void wire_buf_u8(struct wire_buf *b, unsigned v)
{
	unsigned char c = (unsigned char)v;
	wire_buf_put(b, &c, 1);
}

void wire_buf_u16(struct wire_buf *b, unsigned v)
{
	unsigned char c[2] = { (unsigned char)v, (unsigned char)(v >> 8) };
	wire_buf_put(b, c, 2);
}

void wire_buf_u32(struct wire_buf *b, uint32_t v)
{
	unsigned char c[4] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
			       (unsigned char)(v >> 24) };
	wire_buf_put(b, c, 4);
}

void wire_buf_u64(struct wire_buf *b, uint64_t v)
{
	wire_buf_u32(b, (uint32_t)v);
	wire_buf_u32(b, (uint32_t)(v >> 32));
}

/* Bounds-checked reader. */
struct rd {
	const unsigned char *p;
	size_t n, off;
	int err;
};

static const unsigned char *take(struct rd *r, size_t k)
{
	const unsigned char *p;

	if (r->err || k > r->n - r->off) {
		r->err = -EBADMSG;
		return NULL;
	}
	p = r->p + r->off;
	r->off += k;
	return p;
}

static unsigned get_u8(struct rd *r)
{
	const unsigned char *p = take(r, 1);
	return p ? p[0] : 0;
}

static unsigned get_u16(struct rd *r)
{
	const unsigned char *p = take(r, 2);
	return p ? (unsigned)p[0] | (unsigned)p[1] << 8 : 0;
}

static uint32_t get_u32(struct rd *r)
{
	const unsigned char *p = take(r, 4);
	return p ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24 : 0;
}

static uint64_t get_u64(struct rd *r)
{
	uint64_t lo = get_u32(r);
	return lo | (uint64_t)get_u32(r) << 32;
}

int wire_send(const struct wire_io *io, uint8_t type, uint8_t flags, const void *p, size_t n)
{
	return frame_write(io->wr, io->ctx, type, flags, p, n, WIRE_MAX_FRAME, io->timeout_ms);
}

int wire_recv(const struct wire_io *io, struct frame_hdr *ret_h, void **ret_buf)
{
	return frame_read(io->rd, io->ctx, WIRE_MAX_FRAME, io->timeout_ms, ret_h, ret_buf);
}

int wire_query_encode(const struct wire_query *q, struct wire_buf *out)
{
	if (q->sql_len > WIRE_MAX_FRAME - 64)
		return -EMSGSIZE;
	wire_buf_u16(out, WIRE_VERSION);
	wire_buf_u64(out, q->query_id);
	wire_buf_u32(out, (uint32_t)q->chunk_id);
	wire_buf_u32(out, q->flags);
	wire_buf_u32(out, (uint32_t)q->sql_len);
	wire_buf_put(out, q->sql, q->sql_len);
	return out->oom ? -ENOMEM : 0;
}

int wire_query_decode(const void *p, size_t n, struct wire_query *ret)
{
	struct rd r = { p, n, 0, 0 };
	struct wire_query q;
	unsigned version = get_u16(&r);

	if (!r.err && version != WIRE_VERSION)
		return -EPROTONOSUPPORT;
	q.query_id = get_u64(&r);
	q.chunk_id = (int32_t)get_u32(&r);
	q.flags = get_u32(&r);
	q.sql_len = get_u32(&r);
	q.sql = (const char *)take(&r, q.sql_len);
	if (r.err || r.off != n)
		return -EBADMSG;
	*ret = q;
	return 0;
}

static void put_str16(struct wire_buf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n > 0xffff)
		n = 0xffff;
	wire_buf_u16(b, (unsigned)n);
	wire_buf_put(b, s, n);
}

int wire_cols_encode(const struct wire_col *c, unsigned n, struct wire_buf *out)
{
	unsigned i;

	if (n == 0 || n > WIRE_MAX_COLS)
		return -EINVAL;
	wire_buf_u16(out, n);
	for (i = 0; i < n; i++) {
		wire_buf_u8(out, c[i].type);
		wire_buf_u16(out, c[i].flags);
		wire_buf_u8(out, c[i].decimals);
		wire_buf_u16(out, c[i].charset);
		wire_buf_u32(out, c[i].length);
		put_str16(out, c[i].name);
		put_str16(out, c[i].org_name);
		put_str16(out, c[i].table);
		put_str16(out, c[i].org_table);
		put_str16(out, c[i].db);
	}
	return out->oom ? -ENOMEM : 0;
}

int wire_cols_decode(const void *p, size_t n, struct wire_cols *ret)
{
	struct rd r = { p, n, 0, 0 };
	struct wire_cols c = { 0 };
	unsigned i, k;
	char *s;

	c.n = get_u16(&r);
	if (r.err || c.n == 0 || c.n > WIRE_MAX_COLS)
		return -EBADMSG;
	/* every name fits in the payload, plus a NUL each */
	c.v = calloc(c.n, sizeof(*c.v));
	c.strings = malloc(n + 5 * (size_t)c.n + 1);
	if (!c.v || !c.strings) {
		wire_cols_free(&c);
		return -ENOMEM;
	}
	s = c.strings;
	for (i = 0; i < c.n; i++) {
		char **dst[5] = { &c.v[i].name, &c.v[i].org_name, &c.v[i].table, &c.v[i].org_table, &c.v[i].db };
		c.v[i].type = (uint8_t)get_u8(&r);
		c.v[i].flags = (uint16_t)get_u16(&r);
		c.v[i].decimals = (uint8_t)get_u8(&r);
		c.v[i].charset = (uint16_t)get_u16(&r);
		c.v[i].length = get_u32(&r);
		for (k = 0; k < 5; k++) {
			unsigned len = get_u16(&r);
			const unsigned char *b = take(&r, len);
			if (r.err)
				break;
			memcpy(s, b, len);
			s[len] = 0;
			*dst[k] = s;
			s += len + 1;
		}
		if (r.err)
			break;
	}
	if (r.err || r.off != n) {
		wire_cols_free(&c);
		return -EBADMSG;
	}
	*ret = c;
	return 0;
}

void wire_cols_free(struct wire_cols *c)
{
	if (!c)
		return;
	free(c->v);
	free(c->strings);
	memset(c, 0, sizeof(*c));
}

void wire_batch_init(struct wire_batch *b, unsigned ncols)
{
	memset(b, 0, sizeof(*b));
	b->ncols = ncols;
}

void wire_batch_free(struct wire_batch *b)
{
	wire_buf_free(&b->raw);
}

int wire_batch_add(struct wire_batch *b, const char *const *vals, const unsigned long *lens)
{
	unsigned i;

	if (b->raw.len == 0)
		wire_buf_u32(&b->raw, 0);           /* row count, patched at seal */
	for (i = 0; i < b->ncols; i++) {
		if (!vals[i]) {
			wire_buf_u32(&b->raw, WIRE_NULL_LEN);
			continue;
		}
		if (lens[i] >= WIRE_NULL_LEN)
			return -EMSGSIZE;
		wire_buf_u32(&b->raw, (uint32_t)lens[i]);
		wire_buf_put(&b->raw, vals[i], lens[i]);
	}
	if (b->raw.oom)
		return -ENOMEM;
	if (b->raw.len > WIRE_MAX_FRAME / 2)
		return -EMSGSIZE;                    /* one row larger than a frame */
	b->nrows++;
	return 0;
}

int wire_batch_seal(struct wire_batch *b, struct wire_buf *out)
{
	int bound, k;

	if (b->raw.len == 0)
		wire_buf_u32(&b->raw, 0);
	if (b->raw.oom)
		return -ENOMEM;
	b->raw.data[0] = (unsigned char)b->nrows;
	b->raw.data[1] = (unsigned char)(b->nrows >> 8);
	b->raw.data[2] = (unsigned char)(b->nrows >> 16);
	b->raw.data[3] = (unsigned char)(b->nrows >> 24);
	bound = LZ4_compressBound((int)b->raw.len);
	out->len = 0;
	wire_buf_u32(out, (uint32_t)b->raw.len);
	if (!out->oom && out->cap < 4 + (size_t)bound) {
		unsigned char *d = realloc(out->data, 4 + (size_t)bound);
		if (!d)
			out->oom = 1;
		else {
			out->data = d;
			out->cap = 4 + (size_t)bound;
		}
	}
	if (out->oom)
		return -ENOMEM;
	k = LZ4_compress_default((const char *)b->raw.data, (char *)out->data + 4, (int)b->raw.len, bound);
	if (k <= 0)
		return -EIO;
	out->len = 4 + (size_t)k;
	b->raw.len = 0;
	b->nrows = 0;
	return 0;
}

int wire_rows_decode(const void *p, size_t n, unsigned ncols, struct wire_rows *ret)
{
	struct rd r = { p, n, 0, 0 };
	struct wire_rows w = { 0 };
	uint32_t raw_len = get_u32(&r), i;
	size_t cells;
	int k;

	if (r.err || raw_len < 4 || raw_len > WIRE_MAX_FRAME || ncols == 0 || ncols > WIRE_MAX_COLS)
		return -EBADMSG;
	w.data = malloc(raw_len);
	if (!w.data)
		return -ENOMEM;
	k = LZ4_decompress_safe((const char *)p + 4, w.data, (int)(n - 4), (int)raw_len);
	if (k != (int)raw_len) {
		free(w.data);
		return -EBADMSG;
	}
	r.p = (const unsigned char *)w.data;
	r.n = raw_len;
	r.off = 0;
	w.nrows = get_u32(&r);
	w.ncols = ncols;
	/* each value takes at least its 4-byte length */
	if ((uint64_t)w.nrows * ncols > (raw_len - 4) / 4) {
		free(w.data);
		return -EBADMSG;
	}
	cells = (size_t)w.nrows * ncols;
	w.vals = malloc((cells ? cells : 1) * sizeof(*w.vals));
	w.lens = malloc((cells ? cells : 1) * sizeof(*w.lens));
	if (!w.vals || !w.lens) {
		wire_rows_free(&w);
		return -ENOMEM;
	}
	for (i = 0; i < cells; i++) {
		uint32_t len = get_u32(&r);
		if (len == WIRE_NULL_LEN) {
			w.vals[i] = NULL;
			w.lens[i] = 0;
			continue;
		}
		w.vals[i] = (const char *)take(&r, len);
		w.lens[i] = len;
		if (r.err)
			break;
	}
	if (r.err || r.off != raw_len) {
		wire_rows_free(&w);
		return -EBADMSG;
	}
	*ret = w;
	return 0;
}

void wire_rows_free(struct wire_rows *r)
{
	if (!r)
		return;
	free(r->data);
	free(r->vals);
	free(r->lens);
	memset(r, 0, sizeof(*r));
}

int wire_end_encode(uint64_t rows, struct wire_buf *out)
{
	wire_buf_u64(out, rows);
	return out->oom ? -ENOMEM : 0;
}

int wire_end_decode(const void *p, size_t n, uint64_t *ret_rows)
{
	struct rd r = { p, n, 0, 0 };
	uint64_t v = get_u64(&r);

	if (r.err || r.off != n)
		return -EBADMSG;
	*ret_rows = v;
	return 0;
}

int wire_error_encode(const struct wire_error *e, struct wire_buf *out)
{
	size_t n = strnlen(e->msg, sizeof(e->msg));

	wire_buf_u16(out, e->code);
	wire_buf_put(out, e->sqlstate[0] ? e->sqlstate : "HY000", 5);
	wire_buf_u16(out, (unsigned)n);
	wire_buf_put(out, e->msg, n);
	return out->oom ? -ENOMEM : 0;
}

int wire_error_decode(const void *p, size_t n, struct wire_error *ret)
{
	struct rd r = { p, n, 0, 0 };
	struct wire_error e;
	const unsigned char *s;
	unsigned len;

	memset(&e, 0, sizeof(e));
	e.code = get_u16(&r);
	s = take(&r, 5);
	if (s)
		memcpy(e.sqlstate, s, 5);
	len = get_u16(&r);
	if (len >= sizeof(e.msg))
		return -EBADMSG;
	s = take(&r, len);
	if (r.err || r.off != n)
		return -EBADMSG;
	memcpy(e.msg, s, len);
	*ret = e;
	return 0;
}
