/* wire.c: chunk-query messages (see wire.h). */
#include "wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <lz4.h>

int wire_tcp_tune(int fd)
{
	int one = 1, idle = 10, intvl = 5, cnt = 3;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt)) < 0)
		return -errno;
	return 0;
}

int wire_send(const struct wire_io *io, uint8_t type, uint8_t flags, const void *p, size_t n)
{
	return frame_write(io->wr, io->ctx, type, flags, p, n, WIRE_MAX_FRAME, io->timeout_ms);
}

int wire_recv(const struct wire_io *io, struct frame_hdr *ret_h, void **ret_buf)
{
	return frame_read(io->rd, io->ctx, WIRE_MAX_FRAME, io->timeout_ms, ret_h, ret_buf);
}

int wire_query_encode(const struct wire_query *q, struct buf *out)
{
	uint32_t i;

	if (q->sql_len > WIRE_MAX_FRAME - 64 || q->nsub > WIRE_MAX_SUBS || q->sub_db_len > 0xffff ||
	    q->sub_table_len > 0xffff)
		return -EMSGSIZE;
	lebuf_u16(out, q->nsub ? WIRE_VERSION : 1);
	lebuf_u64(out, q->query_id);
	lebuf_u32(out, (uint32_t)q->chunk_id);
	lebuf_u32(out, q->flags);
	lebuf_u32(out, (uint32_t)q->sql_len);
	buf_put(out, q->sql, q->sql_len);
	if (q->nsub) {
		lebuf_u16(out, (unsigned)q->sub_db_len);
		buf_put(out, q->sub_db, q->sub_db_len);
		lebuf_u16(out, (unsigned)q->sub_table_len);
		buf_put(out, q->sub_table, q->sub_table_len);
		lebuf_u32(out, q->nsub);
		for (i = 0; i < q->nsub; i++)
			lebuf_u32(out, (uint32_t)q->sub[i]);
	}
	return out->oom ? -ENOMEM : 0;
}

int32_t wire_query_sub(const struct wire_query *q, uint32_t i)
{
	const uint8_t *b = q->sub_raw + 4 * (size_t)i;
	return (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
}

int wire_query_decode(const void *p, size_t n, struct wire_query *ret)
{
	struct lerd r = { p, n, 0, 0 };
	struct wire_query q = { 0 };
	unsigned version = lerd_u16(&r);

	if (!r.err && version != 1 && version != WIRE_VERSION)
		return -EPROTONOSUPPORT;
	q.query_id = lerd_u64(&r);
	q.chunk_id = (int32_t)lerd_u32(&r);
	q.flags = lerd_u32(&r);
	q.sql_len = lerd_u32(&r);
	q.sql = (const char *)lerd_take(&r, q.sql_len);
	if (!r.err && version == 2) {
		q.sub_db_len = lerd_u16(&r);
		q.sub_db = (const char *)lerd_take(&r, q.sub_db_len);
		q.sub_table_len = lerd_u16(&r);
		q.sub_table = (const char *)lerd_take(&r, q.sub_table_len);
		q.nsub = lerd_u32(&r);
		if (!r.err && (q.nsub == 0 || q.nsub > WIRE_MAX_SUBS))
			return -EBADMSG;
		q.sub_raw = lerd_take(&r, 4 * (size_t)q.nsub);
	}
	if (r.err || r.off != n)
		return -EBADMSG;
	*ret = q;
	return 0;
}

static void put_str16(struct buf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n > 0xffff)
		n = 0xffff;
	lebuf_u16(b, (unsigned)n);
	buf_put(b, s, n);
}

int wire_cols_encode(const struct wire_col *c, unsigned n, struct buf *out)
{
	unsigned i;

	if (n == 0 || n > WIRE_MAX_COLS)
		return -EINVAL;
	lebuf_u16(out, n);
	for (i = 0; i < n; i++) {
		lebuf_u8(out, c[i].type);
		lebuf_u16(out, c[i].flags);
		lebuf_u8(out, c[i].decimals);
		lebuf_u16(out, c[i].charset);
		lebuf_u32(out, c[i].length);
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
	struct lerd r = { p, n, 0, 0 };
	struct wire_cols c = { 0 };
	unsigned i, k;
	char *s;

	c.n = lerd_u16(&r);
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
		c.v[i].type = (uint8_t)lerd_u8(&r);
		c.v[i].flags = (uint16_t)lerd_u16(&r);
		c.v[i].decimals = (uint8_t)lerd_u8(&r);
		c.v[i].charset = (uint16_t)lerd_u16(&r);
		c.v[i].length = lerd_u32(&r);
		for (k = 0; k < 5; k++) {
			unsigned len = lerd_u16(&r);
			const unsigned char *b = lerd_take(&r, len);
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
	buf_free(&b->raw);
}

int wire_batch_add(struct wire_batch *b, const char *const *vals, const unsigned long *lens)
{
	unsigned i;

	if (b->raw.len == 0)
		lebuf_u32(&b->raw, 0);           /* row count, patched at seal */
	for (i = 0; i < b->ncols; i++) {
		if (!vals[i]) {
			lebuf_u32(&b->raw, WIRE_NULL_LEN);
			continue;
		}
		if (lens[i] >= WIRE_NULL_LEN)
			return -EMSGSIZE;
		lebuf_u32(&b->raw, (uint32_t)lens[i]);
		buf_put(&b->raw, vals[i], lens[i]);
	}
	if (b->raw.oom)
		return -ENOMEM;
	if (b->raw.len > WIRE_MAX_FRAME / 2)
		return -EMSGSIZE;                    /* one row larger than a frame */
	b->nrows++;
	return 0;
}

int wire_batch_seal(struct wire_batch *b, struct buf *out)
{
	int bound, k;

	if (b->raw.len == 0)
		lebuf_u32(&b->raw, 0);
	if (b->raw.oom)
		return -ENOMEM;
	b->raw.data[0] = (unsigned char)b->nrows;
	b->raw.data[1] = (unsigned char)(b->nrows >> 8);
	b->raw.data[2] = (unsigned char)(b->nrows >> 16);
	b->raw.data[3] = (unsigned char)(b->nrows >> 24);
	bound = LZ4_compressBound((int)b->raw.len);
	out->len = 0;
	lebuf_u32(out, (uint32_t)b->raw.len);
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
	struct lerd r = { p, n, 0, 0 };
	struct wire_rows w = { 0 };
	uint32_t raw_len = lerd_u32(&r), i;
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
	r.len = raw_len;
	r.off = 0;
	w.nrows = lerd_u32(&r);
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
		uint32_t len = lerd_u32(&r);
		if (len == WIRE_NULL_LEN) {
			w.vals[i] = NULL;
			w.lens[i] = 0;
			continue;
		}
		w.vals[i] = (const char *)lerd_take(&r, len);
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

int wire_end_encode(uint64_t rows, struct buf *out)
{
	lebuf_u64(out, rows);
	return out->oom ? -ENOMEM : 0;
}

int wire_end_decode(const void *p, size_t n, uint64_t *ret_rows)
{
	struct lerd r = { p, n, 0, 0 };
	uint64_t v = lerd_u64(&r);

	if (r.err || r.off != n)
		return -EBADMSG;
	*ret_rows = v;
	return 0;
}

int wire_keepalive_encode(uint32_t elapsed_ms, struct buf *out)
{
	lebuf_u32(out, elapsed_ms);
	return out->oom ? -ENOMEM : 0;
}

int wire_keepalive_decode(const void *p, size_t n, uint32_t *ret_elapsed_ms)
{
	struct lerd r = { p, n, 0, 0 };
	uint32_t v = lerd_u32(&r);

	if (r.err || r.off != n)
		return -EBADMSG;
	*ret_elapsed_ms = v;
	return 0;
}

int wire_error_encode(const struct wire_error *e, struct buf *out)
{
	size_t n = strnlen(e->msg, sizeof(e->msg));

	lebuf_u16(out, e->code);
	buf_put(out, e->sqlstate[0] ? e->sqlstate : "HY000", 5);
	lebuf_u16(out, (unsigned)n);
	buf_put(out, e->msg, n);
	return out->oom ? -ENOMEM : 0;
}

int wire_error_decode(const void *p, size_t n, struct wire_error *ret)
{
	struct lerd r = { p, n, 0, 0 };
	struct wire_error e;
	const unsigned char *s;
	unsigned len;

	memset(&e, 0, sizeof(e));
	e.code = lerd_u16(&r);
	s = lerd_take(&r, 5);
	if (s)
		memcpy(e.sqlstate, s, 5);
	len = lerd_u16(&r);
	if (len >= sizeof(e.msg))
		return -EBADMSG;
	s = lerd_take(&r, len);
	if (r.err || r.off != n)
		return -EBADMSG;
	memcpy(e.msg, s, len);
	*ret = e;
	return 0;
}
