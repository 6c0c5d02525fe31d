/* chunkbuf.c: a chunk's row batches in memory, then in a spill file (see
 * chunkbuf.h). */
#include "chunkbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errbuf.h"
#include "lebuf.h"

void chunkbuf_init(struct chunkbuf *b, size_t mem_max, const char *spill_dir)
{
	memset(b, 0, sizeof(*b));
	b->mem_max = mem_max;
	b->spill_dir = spill_dir;
	b->fd = -1;
}

/* An unlinked file in the spill directory: O_TMPFILE where the file
 * system has it, else mkstemp + unlink. */
static int spill_open(const char *dir, char *err, size_t errlen)
{
	const char *tmp = getenv("TMPDIR");
	char path[4096];
	int fd;

	if (!dir || !*dir)
		dir = tmp && *tmp ? tmp : "/tmp";
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	snprintf(path, sizeof(path), "%s/qserv-chunk.XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		errbuf_printf(err, errlen, "czar: cannot spill a chunk's rows to %s: %s", dir, strerror(e));
		return -e;
	}
	unlink(path);
	return fd;
}

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t k = write(fd, c, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		c += k;
		n -= (size_t)k;
	}
	return 0;
}

void chunkbuf_share(struct chunkbuf *b, uint64_t *held, uint64_t max)
{
	b->shared = held;
	b->shared_max = max;
}

/* Takes n bytes of the shared budget: 1, or 0 when it has no room. */
static int charge(struct chunkbuf *b, size_t n)
{
	if (!b->shared)
		return 1;
	if (__atomic_add_fetch(b->shared, n, __ATOMIC_RELAXED) > b->shared_max) {
		__atomic_sub_fetch(b->shared, n, __ATOMIC_RELAXED);
		return 0;
	}
	b->charged += n;
	return 1;
}

int chunkbuf_add(struct chunkbuf *b, const void *p, uint32_t len, char *err, size_t errlen)
{
	unsigned char hdr[4] = { len & 0xff, (len >> 8) & 0xff, (len >> 16) & 0xff, len >> 24 };
	int rc;

	if (b->fd < 0 && b->mem.len + 4 + len <= b->mem_max && charge(b, 4 + (size_t)len)) {
		buf_put(&b->mem, hdr, 4);
		buf_put(&b->mem, p, len);
		if (b->mem.oom) {
			errbuf_printf(err, errlen, "czar out of memory");
			return -ENOMEM;
		}
	} else {
		if (b->fd < 0 && (b->fd = spill_open(b->spill_dir, err, errlen)) < 0) {
			rc = b->fd;
			b->fd = -1;
			return rc;
		}
		if ((rc = write_all(b->fd, hdr, 4)) < 0 || (rc = write_all(b->fd, p, len)) < 0) {
			errbuf_printf(err, errlen, "czar: spilling a chunk's rows: %s", strerror(-rc));
			return rc;
		}
		b->spilled += 4 + (uint64_t)len;
	}
	b->frames++;
	b->bytes += len;
	return 0;
}

static int read_all(int fd, void *p, size_t n)
{
	char *c = p;

	while (n > 0) {
		ssize_t k = read(fd, c, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			return -EIO;             /* shorter than what was written */
		c += k;
		n -= (size_t)k;
	}
	return 0;
}

/* The spilled payloads, in order. */
static int each_spilled(struct chunkbuf *b, int (*fn)(void *, const void *, uint32_t), void *ctx, char *err,
			size_t errlen)
{
	uint64_t off = 0;
	char *p = NULL;
	int rc = 0;

	if (lseek(b->fd, 0, SEEK_SET) < 0)
		rc = -errno;
	while (rc == 0 && off < b->spilled) {
		unsigned char hdr[4];
		uint32_t len;
		char *q;

		if ((rc = read_all(b->fd, hdr, 4)) < 0)
			break;
		len = (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 | (uint32_t)hdr[2] << 16 | (uint32_t)hdr[3] << 24;
		if (!(q = realloc(p, len ? len : 1))) {
			rc = -ENOMEM;
			break;
		}
		p = q;
		if ((rc = read_all(b->fd, p, len)) < 0)
			break;
		off += 4 + (uint64_t)len;
		rc = fn(ctx, p, len);
		if (rc != 0) {
			free(p);
			return rc;
		}
	}
	free(p);
	if (rc < 0)
		errbuf_printf(err, errlen, "czar: reading a chunk's spilled rows: %s", strerror(-rc));
	return rc;
}

int chunkbuf_each(struct chunkbuf *b, int (*fn)(void *ctx, const void *p, uint32_t len), void *ctx, char *err,
		  size_t errlen)
{
	struct lerd r;
	int rc;

	lerd_init(&r, b->mem.data, b->mem.len);
	while (r.off < b->mem.len) {
		uint32_t len = lerd_u32(&r);
		const void *p = lerd_take(&r, len);

		if (r.err) {
			errbuf_printf(err, errlen, "czar: a chunk's buffered rows are corrupt");
			return -EIO;
		}
		if ((rc = fn(ctx, p, len)) != 0)
			return rc;
	}
	return b->fd >= 0 ? each_spilled(b, fn, ctx, err, errlen) : 0;
}

void chunkbuf_reset(struct chunkbuf *b)
{
	b->mem.len = 0;
	b->mem.oom = 0;
	if (b->shared && b->charged)
		__atomic_sub_fetch(b->shared, b->charged, __ATOMIC_RELAXED);
	b->charged = 0;
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
	b->spilled = b->frames = b->bytes = 0;
}

void chunkbuf_free(struct chunkbuf *b)
{
	chunkbuf_reset(b);
	buf_free(&b->mem);
}
