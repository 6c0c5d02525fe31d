/* buf.c: the growable byte buffer (see buf.h). */
#include "buf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b)
{
	memset(b, 0, sizeof(*b));
}

void buf_free(struct buf *b)
{
	if (!b)
		return;
	free(b->data);
	memset(b, 0, sizeof(*b));
}

int buf_reserve(struct buf *b, size_t extra)
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

void buf_put(struct buf *b, const void *p, size_t n)
{
	if (n == 0 || buf_reserve(b, n) < 0)
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void buf_puts(struct buf *b, const char *s)
{
	size_t n = strlen(s);

	if (buf_reserve(b, n + 1) < 0)
		return;
	memcpy(b->data + b->len, s, n + 1);
	b->len += n;
}

void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		b->oom = 1;
		return;
	}
	if (buf_reserve(b, (size_t)n + 1) < 0)
		return;
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

const char *buf_str(const struct buf *b)
{
	return b->data && !b->oom ? (const char *)b->data : "";
}

char *buf_steal(struct buf *b)
{
	char *s = NULL;

	if (!b->oom && b->data && buf_reserve(b, 1) == 0) {
		b->data[b->len] = '\0';
		s = (char *)b->data;
		b->data = NULL;
	}
	buf_free(b);
	return s;
}
