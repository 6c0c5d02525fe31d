/* packet.c: MySQL packet framing and field codecs (see packet.h). */
#include "packet.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "monotime.h"
#include "tls.h"

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
	c->read_timeout_ms = -1;
	c->write_timeout_ms = 60000;
	buf_init(&c->out);
}

void pkt_conn_free(struct pkt_conn *c)
{
	if (c)
		buf_free(&c->out);
}

/* Milliseconds left before deadline (-1: no deadline). */
static int left_ms(int64_t deadline)
{
	int64_t now;

	if (deadline < 0)
		return -1;
	now = monotime_ms();
	return now >= deadline ? 0 : (int)(deadline - now > 86400000 ? 86400000 : deadline - now);
}

static int read_full(struct pkt_conn *c, void *buf, size_t n, int64_t deadline)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t k;
		int ms = left_ms(deadline);

		if (c->tls) {
			k = tls_io_read(c->tls, p, n, ms);
			if (k < 0)
				return (int)k;
		} else {
			/* what has arrived is read at once; poll only to wait */
			k = recv(c->fd, p, n, MSG_DONTWAIT);
			if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				return -errno;
			if (k < 0) {
				struct pollfd pf = { .fd = c->fd, .events = POLLIN };
				int r = poll(&pf, 1, ms);
				if (r < 0 && errno != EINTR)
					return -errno;
				if (r == 0)
					return -ETIMEDOUT;
				continue;
			}
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

	int64_t deadline = c->read_timeout_ms < 0 ? -1 : monotime_ms() + c->read_timeout_ms;

	payload->len = 0;
	payload->oom = 0;
	for (;;) {
		rc = read_full(c, h, 4, deadline);
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
		rc = read_full(c, payload->data + payload->len, n, deadline);
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

#define PKT_SLICE_MS 250      /* how often a blocked write looks at *cancel */
#define PKT_TLS_PIECE 16384    /* one TLS record: a timed-out write is retried whole */

/* One step of a flush: >0 bytes written, 0 when the socket stayed full for
 * a slice, or -errno. */
static ssize_t write_some(struct pkt_conn *c, const unsigned char *p, size_t n)
{
	if (c->tls) {
		ssize_t k = tls_io_write(c->tls, p, n < PKT_TLS_PIECE ? n : PKT_TLS_PIECE, PKT_SLICE_MS);
		return k == -ETIMEDOUT ? 0 : k;
	}
	for (int waited = 0;; waited = 1) {
		/* the socket usually has room: send first, poll only when full */
		ssize_t k = send(c->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		struct pollfd pf = { .fd = c->fd, .events = POLLOUT };

		if (k >= 0)
			return k;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		if (waited)
			return 0;
		if (poll(&pf, 1, PKT_SLICE_MS) < 0 && errno != EINTR)
			return -errno;
	}
}

int pkt_flush(struct pkt_conn *c)
{
	size_t off = 0;
	int64_t stall = -1;          /* when the current stall began */

	if (c->out.oom) {
		c->out.len = 0;
		c->out.oom = 0;
		return -ENOMEM;
	}
	while (off < c->out.len) {
		ssize_t k = write_some(c, c->out.data + off, c->out.len - off);
		int rc = 0;

		if (k > 0) {
			off += (size_t)k;
			stall = -1;
			continue;
		}
		if (k < 0)
			rc = (int)k;
		else if (c->cancel && *c->cancel)
			rc = -ECANCELED;
		else if (stall < 0)
			stall = monotime_ms();
		else if (c->write_timeout_ms >= 0 && monotime_ms() - stall >= c->write_timeout_ms)
			rc = -ETIMEDOUT;
		if (rc < 0) {
			c->out.len = 0;
			return rc;
		}
	}
	c->out.len = 0;
	return 0;
}
