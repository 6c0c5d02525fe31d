/* packet.c: MySQL packet framing and field codecs (see packet.h). */
#include "packet.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void pkt_buf_init(struct pkt_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void pkt_buf_free(struct pkt_buf *b)
{
	if (!b)
		return;
	free(b->data);
	memset(b, 0, sizeof(*b));
}

int pkt_buf_reserve(struct pkt_buf *b, size_t extra)
{
	size_t want, cap;
	unsigned char *p;

	if (b->oom)
		return -ENOMEM;
	if (extra > SIZE_MAX / 2 - b->len) {
		b->oom = 1;
		return -ENOMEM;
	}
	want = b->len + extra;
	if (want <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < want)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p) {
		b->oom = 1;
		return -ENOMEM;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

void pkt_put_bytes(struct pkt_buf *b, const void *p, size_t n)
{
	if (n == 0 || pkt_buf_reserve(b, n) < 0)
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void pkt_put_u8(struct pkt_buf *b, unsigned v)
{
	unsigned char c = (unsigned char)v;
	pkt_put_bytes(b, &c, 1);
}

void pkt_put_u16(struct pkt_buf *b, unsigned v)
{
	unsigned char c[2] = { (unsigned char)v, (unsigned char)(v >> 8) };
	pkt_put_bytes(b, c, 2);
}

void pkt_put_u24(struct pkt_buf *b, uint32_t v)
{
	unsigned char c[3] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16) };
	pkt_put_bytes(b, c, 3);
}

void pkt_put_u32(struct pkt_buf *b, uint32_t v)
{
	unsigned char c[4] = { (unsigned char)v, (unsigned char)(v >> 8),
			       (unsigned char)(v >> 16), (unsigned char)(v >> 24) };
	pkt_put_bytes(b, c, 4);
}

void pkt_put_lenenc(struct pkt_buf *b, uint64_t v)
{
	unsigned char c[9];
	int i;

	if (v < 251) {
		pkt_put_u8(b, (unsigned)v);
		return;
	}
	if (v < 0x10000) {
		pkt_put_u8(b, 0xfc);
		pkt_put_u16(b, (unsigned)v);
		return;
	}
	if (v < 0x1000000) {
		pkt_put_u8(b, 0xfd);
		pkt_put_u24(b, (uint32_t)v);
		return;
	}
	c[0] = 0xfe;
	for (i = 0; i < 8; i++)
		c[1 + i] = (unsigned char)(v >> (8 * i));
	pkt_put_bytes(b, c, 9);
}

void pkt_put_nulstr(struct pkt_buf *b, const char *s)
{
	if (s)
		pkt_put_bytes(b, s, strlen(s));
	pkt_put_u8(b, 0);
}

void pkt_put_lenstr(struct pkt_buf *b, const void *s, size_t n)
{
	pkt_put_lenenc(b, n);
	pkt_put_bytes(b, s, n);
}

void pkt_reader_init(struct pkt_reader *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->err = 0;
}

size_t pkt_remaining(const struct pkt_reader *r)
{
	return r->err ? 0 : r->len - r->off;
}

const unsigned char *pkt_get_fixed(struct pkt_reader *r, size_t n)
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

unsigned pkt_get_u8(struct pkt_reader *r)
{
	const unsigned char *p = pkt_get_fixed(r, 1);
	return p ? p[0] : 0;
}

unsigned pkt_get_u16(struct pkt_reader *r)
{
	const unsigned char *p = pkt_get_fixed(r, 2);
	return p ? (unsigned)p[0] | (unsigned)p[1] << 8 : 0;
}

uint32_t pkt_get_u32(struct pkt_reader *r)
{
	const unsigned char *p = pkt_get_fixed(r, 4);
	return p ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24 : 0;
}

uint64_t pkt_get_lenenc(struct pkt_reader *r)
{
	unsigned first = pkt_get_u8(r);
	const unsigned char *p;
	uint64_t v = 0;
	int n, i;

	if (r->err)
		return 0;
	if (first < 0xfb)
		return first;
	switch (first) {
	case 0xfc: n = 2; break;
	case 0xfd: n = 3; break;
	case 0xfe: n = 8; break;
	default:               /* 0xfb is NULL, 0xff an error marker: not lengths */
		r->err = -EBADMSG;
		return 0;
	}
	p = pkt_get_fixed(r, (size_t)n);
	if (!p)
		return 0;
	for (i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

const char *pkt_get_nulstr(struct pkt_reader *r, size_t *ret_len)
{
	const unsigned char *s, *nul;

	if (r->err)
		return NULL;
	s = r->p + r->off;
	nul = memchr(s, 0, r->len - r->off);
	if (!nul) {
		r->err = -EBADMSG;
		return NULL;
	}
	if (ret_len)
		*ret_len = (size_t)(nul - s);
	r->off += (size_t)(nul - s) + 1;
	return (const char *)s;
}

const unsigned char *pkt_get_lenstr(struct pkt_reader *r, size_t *ret_len)
{
	uint64_t n = pkt_get_lenenc(r);
	const unsigned char *p;

	if (r->err)
		return NULL;
	if (n > r->len - r->off) {
		r->err = -EBADMSG;
		return NULL;
	}
	p = pkt_get_fixed(r, (size_t)n);
	if (p && ret_len)
		*ret_len = (size_t)n;
	return p;
}

void pkt_conn_init(struct pkt_conn *c, int fd)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	pkt_buf_init(&c->out);
}

void pkt_conn_free(struct pkt_conn *c)
{
	if (c)
		pkt_buf_free(&c->out);
}

static int read_full(int fd, void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t k = read(fd, p, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			return -ECONNRESET;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int pkt_read(struct pkt_conn *c, struct pkt_buf *payload, size_t max, int check_seq)
{
	unsigned char h[4];
	size_t n;
	int rc;

	payload->len = 0;
	payload->oom = 0;
	for (;;) {
		rc = read_full(c->fd, h, 4);
		if (rc < 0)
			return rc;
		n = (size_t)h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16;
		if (check_seq && h[3] != c->seq)
			return -EPROTO;
		c->seq = (uint8_t)(h[3] + 1);
		if (n > max || payload->len > max - n)
			return -EMSGSIZE;
		if (pkt_buf_reserve(payload, n + 1) < 0)
			return -ENOMEM;
		rc = read_full(c->fd, payload->data + payload->len, n);
		if (rc < 0)
			return rc;
		payload->len += n;
		if (n < PKT_MAX_PAYLOAD)
			break;
	}
	payload->data[payload->len] = 0;   /* reserved above; handy for text commands */
	return 0;
}

void pkt_begin(struct pkt_conn *c)
{
	c->start = c->out.len;
	pkt_put_bytes(&c->out, "\0\0\0\0", 4);
}

static void put_header(unsigned char *h, size_t n, uint8_t seq)
{
	h[0] = (unsigned char)n;
	h[1] = (unsigned char)(n >> 8);
	h[2] = (unsigned char)(n >> 16);
	h[3] = seq;
}

int pkt_end(struct pkt_conn *c)
{
	size_t n, off;
	unsigned char *copy;

	if (c->out.oom)
		return -ENOMEM;
	n = c->out.len - c->start - 4;
	if (n < PKT_MAX_PAYLOAD) {
		put_header(c->out.data + c->start, n, c->seq++);
		return 0;
	}
	/* Rare: re-frame a payload of 16 MiB or more into continuation packets,
	 * ending with a shorter (possibly empty) one. */
	copy = malloc(n);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, c->out.data + c->start + 4, n);
	c->out.len = c->start;
	for (off = 0;;) {
		size_t k = n - off < PKT_MAX_PAYLOAD ? n - off : PKT_MAX_PAYLOAD;
		unsigned char h[4];
		put_header(h, k, c->seq++);
		pkt_put_bytes(&c->out, h, 4);
		pkt_put_bytes(&c->out, copy + off, k);
		off += k;
		if (k < PKT_MAX_PAYLOAD)
			break;
	}
	free(copy);
	return c->out.oom ? -ENOMEM : 0;
}

int pkt_flush(struct pkt_conn *c)
{
	size_t off = 0;

	if (c->out.oom) {
		c->out.len = 0;
		c->out.oom = 0;
		return -ENOMEM;
	}
	while (off < c->out.len) {
		ssize_t k = write(c->fd, c->out.data + off, c->out.len - off);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			c->out.len = 0;
			return -errno;
		}
		off += (size_t)k;
	}
	c->out.len = 0;
	return 0;
}
