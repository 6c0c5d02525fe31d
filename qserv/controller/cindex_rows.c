/* cindex_rows.c: a worker's director-index TSV line as SQL values
 * (cindex_rows.h). */
#include "cindex_rows.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* An integer of at most 20 characters: an optional '-' and digits. */
static int is_int(const char *s, size_t n)
{
	size_t i = n && s[0] == '-';
	if (i == n || n > 20)
		return 0;
	for (; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* The key, unescaped, as a number or a hex literal. */
static int key_value(struct buf *out, const char *s, size_t n, char *err, size_t errlen)
{
	static const char hex[] = "0123456789ABCDEF";
	if (!memchr(s, '\\', n) && is_int(s, n)) {
		buf_put(out, s, n);
		return 0;
	}
	if (n == 2 && s[0] == '\\' && s[1] == 'N') {
		snprintf(err, errlen, "a NULL key");
		return -EINVAL;
	}
	buf_puts(out, "X'");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\\') {
			if (++i == n) {
				snprintf(err, errlen, "the key ends in a lone backslash");
				return -EINVAL;
			}
			switch (s[i]) {
			case 't': c = '\t'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case '0': c = '\0'; break;
			case '\\': c = '\\'; break;
			default:
				snprintf(err, errlen, "the key has an unknown escape \\%c", s[i]);
				return -EINVAL;
			}
		}
		char two[2] = { hex[c >> 4], hex[c & 15] };
		buf_put(out, two, 2);
	}
	buf_puts(out, "'");
	return 0;
}

int cindex_row_values(struct buf *out, const char *line, size_t len, char *err, size_t errlen)
{
	static const char *const names[] = { "the key", "chunkId", "subChunkId", "qserv_trans_id" };
	const char *f[4];
	size_t n[4], at = 0;
	for (int i = 0; i < 4; i++) {
		const char *tab = i < 3 ? memchr(line + at, '\t', len - at) : NULL;
		if (i < 3 && !tab) {
			snprintf(err, errlen, "%d field(s), expected 4", i + 1);
			return -EINVAL;
		}
		f[i] = line + at;
		n[i] = tab ? (size_t)(tab - f[i]) : len - at;
		at += n[i] + 1;
	}
	if (memchr(f[3], '\t', n[3])) {
		snprintf(err, errlen, "more than 4 fields");
		return -EINVAL;
	}
	for (int i = 1; i < 4; i++)
		if (!is_int(f[i], n[i])) {
			snprintf(err, errlen, "%s is not an integer", names[i]);
			return -EINVAL;
		}
	size_t mark = out->len;
	buf_puts(out, "(");
	if (key_value(out, f[0], n[0], err, errlen)) {
		out->len = mark;
		buf_puts(out, "");
		return -EINVAL;
	}
	for (int i = 1; i < 4; i++) {
		buf_puts(out, ",");
		buf_put(out, f[i], n[i]);
	}
	buf_puts(out, ")");
	return 0;
}
