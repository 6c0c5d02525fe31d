/* csvd.c: dialect parsing and the streaming field counter (see csvd.h).
 * The counter follows LOAD DATA's reading rules closely enough to count
 * fields: an escape byte makes the next byte literal, an enclosure opened
 * at a field's start hides terminators until it is closed (a doubled
 * enclosure byte is literal), and only line terminators outside both end a
 * row.  It does not convert values: type errors are MariaDB's to find. */
#include "csvd.h"

#include "buf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void csvd_escape(struct buf *out, const void *v, size_t n)
{
	const unsigned char *p = v;
	for (size_t i = 0; i < n; i++) {
		switch (p[i]) {
		case '\\': buf_put(out, "\\\\", 2); break;
		case '\t': buf_put(out, "\\t", 2); break;
		case '\n': buf_put(out, "\\n", 2); break;
		case '\r': buf_put(out, "\\r", 2); break;
		case '\0': buf_put(out, "\\0", 2); break;
		default: buf_put(out, &p[i], 1);
		}
	}
}

static int parse_one(const char *s, char dflt, int allow_none, char *ret, const char *what,
		     char *err, size_t errlen)
{
	if (!s) {
		*ret = dflt;
		return 0;
	}
	size_t n = strlen(s);
	if (n == 0 && allow_none) {
		*ret = 0;
		return 0;
	}
	if (n == 1) {
		*ret = s[0];
		return 0;
	}
	if (n == 2 && s[0] == '\\') {
		switch (s[1]) {
		case 't': *ret = '\t'; return 0;
		case 'n': *ret = '\n'; return 0;
		case 'r': *ret = '\r'; return 0;
		case '\\': *ret = '\\'; return 0;
		case '\'': *ret = '\''; return 0;
		case '"': *ret = '"'; return 0;
		case '0': if (allow_none) { *ret = 0; return 0; } break;
		}
	}
	snprintf(err, errlen, "%s: one byte or a backslash escape (\\t, \\n, \\r, \\\\, \\', \\\", \\0)", what);
	return -EINVAL;
}

int csvd_parse(struct csvd *d, const char *ft, const char *enc, const char *esc, const char *lt,
	       char *err, size_t errlen)
{
	struct csvd x;
	if (parse_one(ft, '\t', 0, &x.field_term, "fields_terminated_by", err, errlen) ||
	    parse_one(enc, 0, 1, &x.enclosed, "fields_enclosed_by", err, errlen) ||
	    parse_one(esc, '\\', 1, &x.escape, "fields_escaped_by", err, errlen) ||
	    parse_one(lt, '\n', 0, &x.line_term, "lines_terminated_by", err, errlen))
		return -EINVAL;
	if (x.field_term == x.line_term || (x.enclosed && (x.enclosed == x.field_term || x.enclosed == x.line_term)) ||
	    (x.escape && (x.escape == x.field_term || x.escape == x.line_term || x.escape == x.enclosed))) {
		snprintf(err, errlen, "the CSV dialect uses one byte for two roles");
		return -EINVAL;
	}
	*d = x;
	return 0;
}

static void lit(char c, char *out)
{
	switch (c) {
	case 0: strcpy(out, "''"); break;
	case '\t': strcpy(out, "'\\t'"); break;
	case '\n': strcpy(out, "'\\n'"); break;
	case '\r': strcpy(out, "'\\r'"); break;
	case '\\': strcpy(out, "'\\\\'"); break;
	case '\'': strcpy(out, "'\\''"); break;
	default:
		if (c >= 0x20 && c < 0x7f)
			snprintf(out, 8, "'%c'", c);
		else
			snprintf(out, 8, "X'%02x'", (unsigned char)c);
		break;
	}
}

void csvd_sql(const struct csvd *d, char *buf, size_t len)
{
	char a[8], b[8], c[8], e[8];
	lit(d->field_term, a), lit(d->enclosed, b), lit(d->escape, c), lit(d->line_term, e);
	snprintf(buf, len, "FIELDS TERMINATED BY %s ENCLOSED BY %s ESCAPED BY %s LINES TERMINATED BY %s",
		 a, b, c, e);
}

void csvd_counter_init(struct csvd_counter *c, const struct csvd *d, unsigned expect)
{
	memset(c, 0, sizeof *c);
	c->d = *d;
	c->expect = expect;
	c->line = 1;
	c->field_start = 1;
	c->line_empty = 1;
}

static int end_row(struct csvd_counter *c)
{
	unsigned fields = c->fields + 1;
	if (fields != c->expect) {
		c->bad_line = c->line;
		c->bad_fields = fields;
		return -EBADMSG;
	}
	c->rows++;
	c->line++;
	c->fields = 0;
	c->field_start = 1;
	c->line_empty = 1;
	return 0;
}

int csvd_counter_feed(struct csvd_counter *c, const char *buf, size_t n)
{
	const char ft = c->d.field_term, lt = c->d.line_term, enc = c->d.enclosed, esc = c->d.escape;
	for (size_t i = 0; i < n; i++) {
		char ch = buf[i];
		if (c->after_esc) {
			c->after_esc = 0;
			c->field_start = 0;
			c->line_empty = 0;
			continue;
		}
		if (esc && ch == esc) {
			c->after_esc = 1;
			continue;
		}
		if (c->in_quote) {
			if (ch == enc)
				c->in_quote = 2; /* maybe closing: decided by the next byte */
			else if (c->in_quote == 2 && (ch == ft || ch == lt))
				c->in_quote = 0;
			else
				c->in_quote = 1;
			if (c->in_quote)
				continue;
		} else if (enc && ch == enc && c->field_start) {
			c->in_quote = 1;
			c->field_start = 0;
			c->line_empty = 0;
			continue;
		}
		if (ch == ft) {
			c->fields++;
			c->field_start = 1;
			c->line_empty = 0;
		} else if (ch == lt) {
			int r = end_row(c);
			if (r)
				return r;
		} else {
			c->field_start = 0;
			c->line_empty = 0;
		}
	}
	return 0;
}

int csvd_counter_end(struct csvd_counter *c)
{
	if (c->line_empty && !c->in_quote && !c->after_esc)
		return 0;
	return end_row(c);
}

int csvd_check_fd(int fd, const struct csvd *d, unsigned expect, unsigned long long *ret_rows,
		  char *err, size_t errlen)
{
	static __thread char buf[1 << 16];
	struct csvd_counter c;
	csvd_counter_init(&c, d, expect);
	int r = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			snprintf(err, errlen, "read: %s", strerror(errno));
			return r;
		}
		if (n == 0) {
			r = csvd_counter_end(&c);
			break;
		}
		if ((r = csvd_counter_feed(&c, buf, (size_t)n)))
			break;
	}
	if (r == -EBADMSG) {
		snprintf(err, errlen, "line %llu: %u fields, expected %u", c.bad_line, c.bad_fields, expect);
		return r;
	}
	*ret_rows = c.rows;
	return 0;
}
