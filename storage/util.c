/* util.c: helpers private to libqstorage (see util.h). */
#include "util.h"

#include "errbuf.h"
#include "fileio.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int qs_errf(char *err, size_t errlen, int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errbuf_vprintf(err, errlen, fmt, ap);
	va_end(ap);
	return e;
}

void qs_line(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(dst, size, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n >= size && size > 4)
		memcpy(dst + size - 4, "...", 4);
}

int qs_path(char *dst, size_t size, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(dst, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size)
		return qs_err(err, errlen, -ENAMETOOLONG, "path too long: %.80s...", dst);
	return 0;
}

size_t qs_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size) {
		size_t c = n < size - 1 ? n : size - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

int qs_read_line(const char *root, const char *rel, char *buf, size_t size)
{
	char path[4096];
	int n;

	if (snprintf(path, sizeof(path), "%s/%s", root, rel) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	n = fileio_read_line(path, buf, size);
	return n < 0 ? n : 0;
}

uint64_t qs_read_u64(const char *root, const char *rel, uint64_t def)
{
	char buf[64], *end;
	unsigned long long v;

	if (qs_read_line(root, rel, buf, sizeof(buf)) < 0 || !buf[0])
		return def;
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (errno || *end)
		return def;
	return v;
}

bool qs_in_list(const char *list, const char *name)
{
	size_t len = strlen(name);
	const char *p = list;

	if (!list || !len)
		return false;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		while (l && isspace((unsigned char)*p))
			p++, l--;
		while (l && isspace((unsigned char)p[l - 1]))
			l--;
		if (l == len && !memcmp(p, name, len))
			return true;
		if (!e)
			break;
		p = e + 1;
	}
	return false;
}

void qs_tidy(char *s)
{
	char *r = s, *w = s;
	bool space = false;

	while (*r && isspace((unsigned char)*r))
		r++;
	for (; *r; r++) {
		if (isspace((unsigned char)*r) || !isprint((unsigned char)*r)) {
			space = true;
			continue;
		}
		if (space && w != s)
			*w++ = '_';
		space = false;
		*w++ = *r;
	}
	*w = '\0';
}
