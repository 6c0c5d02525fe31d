/* fuzz_csvd.c: libFuzzer target for the contribution CSV dialect and its
 * streaming field counter (csvd.h).  Input: 4 bytes choosing the dialect
 * strings (FIELDS TERMINATED/ENCLOSED/ESCAPED BY, LINES TERMINATED BY) as
 * a request spells them, 1 byte the expected field count, then the file.
 * Invariant: the counter's verdict, row count and bad line do not depend
 * on how the file is cut into reads (whole vs one byte at a time). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qserv/common/csvd.h"

static const char *const spell[] = { NULL, "", "\\t", ",", "\"", "\\\\", "\\n", "\\r", "|", "'",
				     "\\0", "\\'", "\\\"", "\\x", "ab" };
#define NSPELL (sizeof(spell) / sizeof(spell[0]))

static int count(const struct csvd *d, unsigned expect, const char *p, size_t n, size_t step,
		 struct csvd_counter *c)
{
	size_t off;
	int rc = 0;

	csvd_counter_init(c, d, expect);
	for (off = 0; off < n && rc == 0; off += step)
		rc = csvd_counter_feed(c, p + off, n - off < step ? n - off : step);
	return rc ? rc : csvd_counter_end(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[4][2], err[256], sql[256];
	const char *arg[4];
	struct csvd d;
	struct csvd_counter a, b;
	int i, ra, rb;

	if (size < 5)
		return 0;
	for (i = 0; i < 4; i++) {
		s[i][0] = (char)data[i];
		s[i][1] = 0;
		arg[i] = data[i] < 0x80 && data[i] % 0x20 < NSPELL ? spell[data[i] % 0x20] : s[i];
	}
	if (csvd_parse(&d, arg[0], arg[1], arg[2], arg[3], err, sizeof(err)) < 0)
		return 0;
	csvd_sql(&d, sql, sizeof(sql));
	ra = count(&d, data[4] % 17, (const char *)data + 5, size - 5, size, &a);
	rb = count(&d, data[4] % 17, (const char *)data + 5, size - 5, 1, &b);
	if (ra != rb || a.rows != b.rows || (ra && (a.bad_line != b.bad_line || a.bad_fields != b.bad_fields)))
		abort();
	return 0;
}
