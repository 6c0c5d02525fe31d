/* qlz4.c: LZ4 frame decoding for contributions (see qlz4.h), over
 * liblz4's frame API with 64 KiB input and 256 KiB output buffers. */
#include "qlz4.h"

#include "fileio.h"

#include <errno.h>
#include <lz4frame.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool qlz4_is_frame(int fd)
{
	unsigned char m[4];
	off_t pos = lseek(fd, 0, SEEK_CUR);
	ssize_t n = pread(fd, m, sizeof m, pos < 0 ? 0 : pos);
	return n == 4 && m[0] == 0x04 && m[1] == 0x22 && m[2] == 0x4d && m[3] == 0x18;
}

int qlz4_stream(int fd, int (*cb)(void *ud, const char *data, size_t len), void *ud,
		char *err, size_t errlen)
{
	LZ4F_dctx *dc = NULL;
	if (LZ4F_isError(LZ4F_createDecompressionContext(&dc, LZ4F_VERSION))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	enum { IN = 64 << 10, OUT = 256 << 10 };
	char *in = malloc(IN), *out = malloc(OUT);
	int r = in && out ? 0 : -ENOMEM;
	size_t hint = 0; /* 0 between frames (files hold concatenated frames) */
	while (!r) {
		ssize_t n = read(fd, in, IN);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			snprintf(err, errlen, "read: %s", strerror(errno));
			break;
		}
		if (n == 0) {
			if (hint) {
				snprintf(err, errlen, "truncated LZ4 frame");
				r = -EBADMSG;
			}
			break;
		}
		size_t off = 0;
		bool full = false;
		while (!r && (off < (size_t)n || full)) {
			size_t src = (size_t)n - off, dst = OUT;
			hint = LZ4F_decompress(dc, out, &dst, in + off, &src, NULL);
			if (LZ4F_isError(hint)) {
				snprintf(err, errlen, "bad LZ4 data: %s", LZ4F_getErrorName(hint));
				r = -EBADMSG;
				break;
			}
			off += src;
			full = dst == OUT;
			if (dst)
				r = cb(ud, out, dst);
		}
	}
	free(in);
	free(out);
	LZ4F_freeDecompressionContext(dc);
	if (r < 0 && !err[0])
		snprintf(err, errlen, "%s", strerror(-r));
	return r;
}

struct sink {
	int fd;
	unsigned long long n;
};

static int to_fd(void *ud, const char *data, size_t len)
{
	struct sink *s = ud;
	int r = fileio_write_full(s->fd, data, len);
	if (r == 0)
		s->n += len;
	return r;
}

int qlz4_decompress_fd(int fd, int out_fd, unsigned long long *ret_bytes, char *err, size_t errlen)
{
	struct sink s = { .fd = out_fd };
	err[0] = '\0';
	int r = qlz4_stream(fd, to_fd, &s, err, errlen);
	if (!r && ret_bytes)
		*ret_bytes = s.n;
	return r;
}
