/* csvd.h: the CSV/TSV dialect of a contribution (LOAD DATA's FIELDS
 * TERMINATED/ENCLOSED/ESCAPED BY and LINES TERMINATED BY, single bytes) and
 * a streaming field counter that checks every row has the table's column
 * count before anything is loaded, so a malformed file is rejected with its
 * line number and leaves no row behind.
 *
 * Dialect strings come from requests in MySQL's notation: "" (none), one
 * byte, or a backslash escape (\t \n \r \0 \\ \' \").  Defaults are
 * Qserv's: tab, none, backslash, newline. */
#ifndef QSERV_CSVD_H
#define QSERV_CSVD_H

#include <stddef.h>

struct csvd {
	char field_term, enclosed, escape, line_term; /* 0 = none (field/line: required) */
};

#define CSVD_DEFAULT ((struct csvd){ '\t', 0, '\\', '\n' })

/* Fills d from the four request strings (NULL = default).  -EINVAL + err. */
int csvd_parse(struct csvd *d, const char *fields_terminated_by, const char *fields_enclosed_by,
	       const char *fields_escaped_by, const char *lines_terminated_by, char *err, size_t errlen);

/* The LOAD DATA clause for d ("FIELDS TERMINATED BY '\t' ... LINES ...")
 * into buf (at least 128 bytes). */
void csvd_sql(const struct csvd *d, char *buf, size_t len);

struct buf;
/* Appends n bytes of v to out as one field of Qserv's default dialect
 * reads it (LOAD DATA's backslash escapes): a backslash, tab, newline, CR
 * or NUL byte escaped, every other byte as it is. */
void csvd_escape(struct buf *out, const void *v, size_t n);

/* Streaming field counter. */
struct csvd_counter {
	struct csvd d;
	unsigned expect;          /* fields each row must have */
	unsigned long long line;  /* 1-based line being read */
	unsigned long long rows;  /* complete rows seen */
	unsigned fields;          /* field terminators seen on this line */
	int in_quote, after_esc, field_start, line_empty;
	unsigned long long bad_line;
	unsigned bad_fields;
};

void csvd_counter_init(struct csvd_counter *c, const struct csvd *d, unsigned expect);
/* Feeds n bytes; returns 0, or -EBADMSG at the first row with the wrong
 * field count (bad_line / bad_fields say which). */
int csvd_counter_feed(struct csvd_counter *c, const char *buf, size_t n);
/* Ends the input (a last line without terminator counts as a row). */
int csvd_counter_end(struct csvd_counter *c);

/* Checks a whole file: 0 with *ret_rows, or -EBADMSG / -errno with err
 * naming the line ("line 7: 3 fields, expected 5"). */
int csvd_check_fd(int fd, const struct csvd *d, unsigned expect, unsigned long long *ret_rows,
		  char *err, size_t errlen);

#endif
