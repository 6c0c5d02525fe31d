/* lebuf.c: little-endian encoding into a struct buf, and payload readers (see lebuf.h). */
#include "lebuf.h"

#include <errno.h>
#include <string.h>

void lebuf_u8(struct buf *b, unsigned v)
{
	unsigned char c = (unsigned char)v;
	buf_put(b, &c, 1);
}

void lebuf_u16(struct buf *b, unsigned v)
{
	unsigned char c[2] = { (unsigned char)v, (unsigned char)(v >> 8) };
	buf_put(b, c, 2);
}

void lebuf_u24(struct buf *b, uint32_t v)
{
	unsigned char c[3] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16) };
	buf_put(b, c, 3);
}

void lebuf_u32(struct buf *b, uint32_t v)
{
	unsigned char c[4] = { (unsigned char)v, (unsigned char)(v >> 8),
			       (unsigned char)(v >> 16), (unsigned char)(v >> 24) };
	buf_put(b, c, 4);
}

void lebuf_u64(struct buf *b, uint64_t v)
{
	lebuf_u32(b, (uint32_t)v);
	lebuf_u32(b, (uint32_t)(v >> 32));
}

void lerd_init(struct lerd *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->err = 0;
}

size_t lerd_remaining(const struct lerd *r)
{
	return r->err ? 0 : r->len - r->off;
}

const unsigned char *lerd_take(struct lerd *r, size_t n)
{
	const unsigned char *p;

	if (r->err || n > r->len - r->off) {
		r->err = -EBADMSG;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

unsigned lerd_u8(struct lerd *r)
{
	const unsigned char *p = lerd_take(r, 1);
	return p ? p[0] : 0;
}

unsigned lerd_u16(struct lerd *r)
{
	const unsigned char *p = lerd_take(r, 2);
	return p ? (unsigned)p[0] | (unsigned)p[1] << 8 : 0;
}

uint32_t lerd_u32(struct lerd *r)
{
	const unsigned char *p = lerd_take(r, 4);
	return p ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24 : 0;
}

uint64_t lerd_u64(struct lerd *r)
{
	uint64_t lo = lerd_u32(r);
	return lo | (uint64_t)lerd_u32(r) << 32;
}
