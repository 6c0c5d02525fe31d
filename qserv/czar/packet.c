/* packet.c: MySQL packet framing and field codecs (see packet.h). */
#include "packet.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void pkt_put_lenenc(struct buf *b, uint64_t v)
{
	unsigned char c[9];
	int i;

	if (v < 251) {
		lebuf_u8(b, (unsigned)v);
		return;
	}
	if (v < 0x10000) {
		lebuf_u8(b, 0xfc);
		lebuf_u16(b, (unsigned)v);
		return;
	}
	if (v < 0x1000000) {
		lebuf_u8(b, 0xfd);
		lebuf_u24(b, (uint32_t)v);
		return;
	}
	c[0] = 0xfe;
	for (i = 0; i < 8; i++)
		c[1 + i] = (unsigned char)(v >> (8 * i));
	buf_put(b, c, 9);
}

void pkt_put_nulstr(struct buf *b, const char *s)
{
	if (s)
		buf_put(b, s, strlen(s));
	lebuf_u8(b, 0);
}

void pkt_put_lenstr(struct buf *b, const void *s, size_t n)
{
	pkt_put_lenenc(b, n);
	buf_put(b, s, n);
}

uint64_t pkt_get_lenenc(struct lerd *r)
{
	unsigned first = lerd_u8(r);
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
	p = lerd_take(r, (size_t)n);
	if (!p)
		return 0;
	for (i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

const char *pkt_get_nulstr(struct lerd *r, size_t *ret_len)
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

const unsigned char *pkt_get_lenstr(struct lerd *r, size_t *ret_len)
{
	uint64_t n = pkt_get_lenenc(r);
	const unsigned char *p;

	if (r->err)
		return NULL;
	if (n > r->len - r->off) {
		r->err = -EBADMSG;
		return NULL;
	}
	p = lerd_take(r, (size_t)n);
	if (p && ret_len)
		*ret_len = (size_t)n;
	return p;
}

void pkt_conn_init(struct pkt_conn *c, int fd)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	buf_init(&c->out);
}

void pkt_conn_free(struct pkt_conn *c)
{
	if (c)
		buf_free(&c->out);
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

int pkt_read(struct pkt_conn *c, struct buf *payload, size_t max, int check_seq)
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
		if (buf_reserve(payload, n + 1) < 0)
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
	buf_put(&c->out, "\0\0\0\0", 4);
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
		buf_put(&c->out, h, 4);
		buf_put(&c->out, copy + off, k);
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
