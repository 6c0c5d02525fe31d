/* wcopy_fmt.c: the plain-text chunk-copy stream (format in wcopy.h): the
 * field escaper of the source and the decoder of the target.  No MariaDB,
 * no network: the decoder sees bytes from another node, so it is fuzzed
 * (tests/fuzz_wcopy.c).
 *
 * Decoder states: at a line start (LS), after a backslash at a line start
 * (BS), inside a control line (CTL, at most WCOPY_CTL_MAX bytes kept),
 * inside a row (ROW, streamed to on_rows without being kept).  Rows are
 * only accepted inside a \#table ... \#end section; the first line must be
 * \#chunk or \#regular, nothing may follow \#done. */
#include "wcopy.h"
#include "errbuf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { LS, BS, CTL, ROW };

void wcopy_dec_init(struct wcopy_dec *d, char *err, size_t errlen)
{
	d->err = err;
	d->errlen = errlen;
	d->st = LS;
	d->nctl = 0;
	d->db[0] = d->table[0] = '\0';
	d->chunk = -1;
	d->in_table = d->started = d->done = false;
	d->ntables = 0;
	d->rows = 0;
}

static int bad(struct wcopy_dec *d, const char *what)
{
	snprintf(d->err, d->errlen, "copy stream: %s", what);
	return -EPROTO;
}

/* A name as the worker's own tables have them: [A-Za-z0-9_]{1,64}. */
static bool plain_name(const char *s)
{
	size_t n = strlen(s);
	return n >= 1 && n <= 64 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

/* A decimal number of at most 20 digits into *ret. */
static bool number(const char *s, unsigned long long *ret)
{
	size_t n = strlen(s);
	if (n < 1 || n > 20 || strspn(s, "0123456789") != n)
		return false;
	errno = 0;
	*ret = strtoull(s, NULL, 10);
	return errno == 0;
}

/* One control line (without "\#" and the newline), NUL-terminated in d->ctl. */
static int control(struct wcopy_dec *d)
{
	char *words[4];
	int nw = 0;
	for (char *save = NULL, *t = strtok_r(d->ctl, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		if (nw == 4)
			return bad(d, "too many words in a control line");
		words[nw++] = t;
	}
	if (nw == 0)
		return bad(d, "empty control line");
	unsigned long long a, b;
	if (!d->started) {
		bool regular = !strcmp(words[0], "regular") && nw == 2 && plain_name(words[1]);
		if (!regular && (strcmp(words[0], "chunk") || nw != 3 || !plain_name(words[1]) ||
				 !number(words[2], &a) || a > INT32_MAX))
			return bad(d, "it does not start with \\#chunk <database> <chunk> or \\#regular <database>");
		snprintf(d->db, sizeof d->db, "%s", words[1]);
		d->chunk = regular ? WCOPY_REGULAR : (int32_t)a;
		d->started = true;
		return 0;
	}
	if (d->done)
		return bad(d, "data after \\#done");
	if (!strcmp(words[0], "table") && nw == 2) {
		if (d->in_table)
			return bad(d, "\\#table inside a table");
		if (!plain_name(words[1]))
			return bad(d, "a table name that is not a plain name");
		snprintf(d->table, sizeof d->table, "%s", words[1]);
		d->in_table = true;
		d->rows = 0;
		return d->on_table ? d->on_table(d->ud, d->table) : 0;
	}
	if (!strcmp(words[0], "end") && nw == 3) {
		if (!d->in_table || !number(words[1], &a) || !number(words[2], &b))
			return bad(d, "a malformed \\#end line");
		if (a != d->rows)
			return bad(d, "the row count of a table does not match its rows");
		d->in_table = false;
		d->ntables++;
		return d->on_end ? d->on_end(d->ud, d->table, a, b) : 0;
	}
	if (!strcmp(words[0], "done") && nw == 2) {
		if (d->in_table || !number(words[1], &a) || a != d->ntables)
			return bad(d, "\\#done does not match the tables sent");
		d->done = true;
		return 0;
	}
	return bad(d, "an unknown control line");
}

/* Streams row bytes p[0..n) (no newline among them) of the current table. */
static int row_bytes(struct wcopy_dec *d, const char *p, size_t n)
{
	if (!d->in_table)
		return bad(d, "a row outside a table");
	return n && d->on_rows ? d->on_rows(d->ud, p, n) : 0;
}

int wcopy_dec_feed(struct wcopy_dec *d, const char *p, size_t n)
{
	size_t i = 0;
	int r = 0;
	while (!r && i < n) {
		if (d->st == ROW) {
			const char *nl = memchr(p + i, '\n', n - i);
			size_t k = nl ? (size_t)(nl - (p + i)) + 1 : n - i;
			r = row_bytes(d, p + i, k);
			i += k;
			if (nl) {
				d->rows++;
				d->st = LS;
			}
			continue;
		}
		char c = p[i++];
		if (d->st == LS) {
			if (c == '\\')
				d->st = BS;
			else if (!d->started || d->done)
				r = bad(d, d->done ? "data after \\#done" : "it does not start with \\#chunk");
			else if ((r = row_bytes(d, &c, 1)) == 0 && c == '\n')
				d->rows++;
			else
				d->st = ROW;
		} else if (d->st == BS) {
			if (c == '#') {
				d->st = CTL;
				d->nctl = 0;
			} else if (!d->started || d->done) {
				r = bad(d, "a row before \\#chunk or after \\#done");
			} else {
				/* a row starting with a backslash (a newline ends it
				 * here: fuzz target wcopy found the miscount) */
				char two[2] = { '\\', c };
				r = row_bytes(d, two, 2);
				if (c == '\n')
					d->rows++, d->st = LS;
				else
					d->st = ROW;
			}
		} else if (c == '\n') { /* CTL */
			d->ctl[d->nctl] = '\0';
			d->st = LS;
			r = control(d);
		} else if (d->nctl + 1 >= sizeof d->ctl || c == '\0') {
			r = bad(d, "a control line too long or with a NUL byte");
		} else {
			d->ctl[d->nctl++] = c;
		}
	}
	return r;
}

int wcopy_dec_finish(struct wcopy_dec *d)
{
	if (!d->done || d->st != LS)
		return bad(d, "the stream was cut short (no \\#done)");
	return 0;
}

size_t wcopy_escape(const char *p, size_t n, char *out)
{
	size_t o = 0;
	if (!p) {
		out[0] = '\\';
		out[1] = 'N';
		return 2;
	}
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		switch (c) {
		case '\\': out[o++] = '\\'; out[o++] = '\\'; break;
		case '\t': out[o++] = '\\'; out[o++] = 't'; break;
		case '\n': out[o++] = '\\'; out[o++] = 'n'; break;
		case '\r': out[o++] = '\\'; out[o++] = 'r'; break;
		case '\0': out[o++] = '\\'; out[o++] = '0'; break;
		default: out[o++] = c;
		}
	}
	return o;
}
