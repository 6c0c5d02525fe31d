/* frame.c: length-prefixed, length-checked messages (see frame.h).
 *
 * The only allocation happens after the header has been checked against
 * the caller's maximum, so a peer can never make us allocate more than the
 * protocol allows.  Deadlines are computed once per frame from the
 * monotonic clock and the remaining time is passed to each transport call. */
#include "frame.h"
#include "monotime.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Remaining milliseconds before deadline (-1: none); 0 once past. */
static int remaining(int64_t deadline)
{
	if (deadline < 0)
		return -1;
	int64_t left = deadline - monotime_ms();
	return left > 0 ? (int)left : 0;
}

void frame_hdr_encode(const struct frame_hdr *h, uint8_t out[FRAME_HDR_LEN])
{
	out[0] = 'Q';
	out[1] = 'F';
	out[2] = h->type;
	out[3] = h->flags;
	out[4] = (uint8_t)(h->len >> 24);
	out[5] = (uint8_t)(h->len >> 16);
	out[6] = (uint8_t)(h->len >> 8);
	out[7] = (uint8_t)h->len;
}

int frame_hdr_decode(const uint8_t in[FRAME_HDR_LEN], size_t max, struct frame_hdr *ret_h)
{
	if (in[0] != 'Q' || in[1] != 'F')
		return -EPROTO;
	uint32_t len = (uint32_t)in[4] << 24 | (uint32_t)in[5] << 16 |
		       (uint32_t)in[6] << 8 | in[7];
	if (len > max || len > FRAME_MAX_ABS)
		return -EMSGSIZE;
	ret_h->type = in[2];
	ret_h->flags = in[3];
	ret_h->len = len;
	return 0;
}

/* Read exactly len bytes.  Returns 0, -ENODATA if EOF came before the
 * first byte, -ECONNRESET if EOF came later, or the transport's error. */
static int read_full(frame_read_fn rd, void *ctx, void *buf, size_t len, int64_t deadline)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = rd(ctx, (char *)buf + got, len - got, remaining(deadline));
		if (n == 0)
			return got == 0 ? -ENODATA : -ECONNRESET;
		if (n < 0)
			return (int)n;
		got += (size_t)n;
	}
	return 0;
}

int frame_read(frame_read_fn rd, void *ctx, size_t max, int timeout_ms,
	       struct frame_hdr *ret_h, void **ret_buf)
{
	int64_t deadline = timeout_ms < 0 ? -1 : monotime_ms() + timeout_ms;
	uint8_t hdr[FRAME_HDR_LEN];
	struct frame_hdr h;
	int r = read_full(rd, ctx, hdr, sizeof(hdr), deadline);
	if (r < 0)
		return r;
	r = frame_hdr_decode(hdr, max, &h);
	if (r < 0)
		return r;
	char *buf = malloc((size_t)h.len + 1);
	if (!buf)
		return -ENOMEM;
	r = read_full(rd, ctx, buf, h.len, deadline);
	if (r < 0) {
		free(buf);
		return r == -ENODATA ? -ECONNRESET : r;
	}
	buf[h.len] = '\0';
	*ret_h = h;
	*ret_buf = buf;
	return 0;
}

int frame_write(frame_write_fn wr, void *ctx, uint8_t type, uint8_t flags,
		const void *buf, size_t len, size_t max, int timeout_ms)
{
	if (len > max || len > FRAME_MAX_ABS)
		return -EMSGSIZE;
	int64_t deadline = timeout_ms < 0 ? -1 : monotime_ms() + timeout_ms;
	struct frame_hdr h = { .type = type, .flags = flags, .len = (uint32_t)len };
	/* One buffer, one write: small frames go out in one TLS record. */
	uint8_t *out = malloc(FRAME_HDR_LEN + len);
	if (!out)
		return -ENOMEM;
	frame_hdr_encode(&h, out);
	if (len)
		memcpy(out + FRAME_HDR_LEN, buf, len);
	size_t done = 0, total = FRAME_HDR_LEN + len;
	int r = 0;
	while (done < total) {
		ssize_t n = wr(ctx, out + done, total - done, remaining(deadline));
		if (n <= 0) {
			r = n < 0 ? (int)n : -EPIPE;
			break;
		}
		done += (size_t)n;
	}
	free(out);
	return r;
}

static int fd_wait(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	for (;;) {
		int r = poll(&p, 1, timeout_ms);
		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

ssize_t frame_fd_read(void *ctx, void *buf, size_t len, int timeout_ms)
{
	int fd = *(int *)ctx;
	int r = fd_wait(fd, POLLIN, timeout_ms);
	if (r < 0)
		return r;
	for (;;) {
		ssize_t n = read(fd, buf, len);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return -ETIMEDOUT;
		return -errno;
	}
}

ssize_t frame_fd_write(void *ctx, const void *buf, size_t len, int timeout_ms)
{
	int fd = *(int *)ctx;
	int r = fd_wait(fd, POLLOUT, timeout_ms);
	if (r < 0)
		return r;
	for (;;) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == ENOTSOCK)
			n = write(fd, buf, len);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		return -errno;
	}
}
