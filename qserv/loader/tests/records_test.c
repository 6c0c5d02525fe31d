/* records_test.c: the loader's record counter (records.h) against tricky
 * inputs, each fed whole and split at every byte (so the fast path and the
 * byte-by-byte counter meet at every boundary): escaped newline, escaped
 * escape before a newline, quoted newline, CRLF, a last line without
 * terminator, escape runs of every length, a wrong field count (checked
 * with an enclosure only); and
 * ldr_count_rows() on a file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "qserv/loader/internal.h"
#include "qserv/loader/records.h"

/* Records of s (3 fields each) with dialect d, fed whole and then in two
 * pieces split at every offset: -1 when two ways disagree, -2 on error. */
static long long count(const struct csvd *d, const char *s, unsigned expect)
{
	size_t n = strlen(s);
	long long first = -3;
	for (size_t cut = 0; cut <= n; cut++) {
		struct ldr_records r;
		ldr_records_init(&r, d, expect);
		if (ldr_records_feed(&r, s, cut) || ldr_records_feed(&r, s + cut, n - cut) || ldr_records_end(&r))
			return -2;
		long long c = (long long)ldr_records_count(&r);
		if (first == -3)
			first = c;
		else if (c != first)
			return -1;
	}
	return first;
}

static struct csvd dialect(const char *ft, const char *enc, const char *esc, const char *lt)
{
	struct csvd d;
	char err[256];
	if (csvd_parse(&d, ft, enc, esc, lt, err, sizeof err))
		abort();
	return d;
}

TEST(plain_lines)
{
	struct csvd d = CSVD_DEFAULT;
	EXPECT_EQ(3, count(&d, "1\ta\tb\n2\tc\td\n3\te\tf\n", 3));
	EXPECT_EQ(0, count(&d, "", 3));
}

TEST(escaped_newline_is_inside_a_value)
{
	struct csvd d = CSVD_DEFAULT;
	EXPECT_EQ(2, count(&d, "1\tline one\\\nline two\tx\n2\ty\tz\n", 3));
	EXPECT_EQ(3, count(&d, "1\t\\N\tx\n2\ta\\\n\\\nb\ty\n3\t\\N\t\\N\n", 3));
}

TEST(escaped_escape_before_newline_ends_the_record)
{
	struct csvd d = CSVD_DEFAULT;
	EXPECT_EQ(2, count(&d, "1\tx\ta\\\\\n2\tb\tc\n", 3));
	/* \\ then \<newline>: one record of 5 fields */
	EXPECT_EQ(1, count(&d, "1\tx\ta\\\\\\\n2\tb\tc\n", 5));
}

TEST(escape_runs_of_every_length)
{
	struct csvd d = CSVD_DEFAULT;
	char s[64];
	for (int k = 0; k <= 6; k++) {
		/* "1\tx\ta" + k backslashes + "\n2\tb\tc\n": odd k escapes the newline */
		int n = snprintf(s, sizeof s, "1\tx\ta");
		for (int i = 0; i < k; i++)
			s[n++] = '\\';
		snprintf(s + n, sizeof s - (size_t)n, "\n2\tb\tc\n");
		EXPECT_EQ(k % 2 ? 1 : 2, count(&d, s, k % 2 ? 5 : 3)) TH_LOG("%d backslashes", k);
	}
}

/* LOAD DATA's rule without an enclosure, byte by byte: the reference. */
static unsigned long long reference(const char *s, size_t n)
{
	unsigned long long rows = 0;
	int esc = 0, partial = 0;
	for (size_t i = 0; i < n; i++) {
		if (esc)
			esc = 0, partial = 1;
		else if (s[i] == '\\')
			esc = 1;
		else if (s[i] == '\n')
			rows++, partial = 0;
		else
			partial = 1;
	}
	return rows + (partial || esc);
}

TEST(random_inputs_match_the_byte_by_byte_rule)
{
	static const char alphabet[] = "a\t\n\\\\\n";
	struct csvd d = CSVD_DEFAULT;
	char s[256];
	unsigned seed = 12345;
	for (int round = 0; round < 20000; round++) {
		size_t n = (seed = seed * 1103515245u + 12345u) >> 16 & 255;
		for (size_t i = 0; i < n; i++)
			s[i] = alphabet[((seed = seed * 1103515245u + 12345u) >> 16) % (sizeof alphabet - 1)];
		struct ldr_records r;
		ldr_records_init(&r, &d, 3);
		for (size_t i = 0, k; i < n; i += k) {
			k = 1 + (((seed = seed * 1103515245u + 12345u) >> 16) % 40);
			if (k > n - i)
				k = n - i;
			ASSERT_EQ(0, ldr_records_feed(&r, s + i, k));
		}
		ASSERT_EQ(0, ldr_records_end(&r));
		ASSERT_EQ(reference(s, n), ldr_records_count(&r)) TH_LOG("round %d, %zu bytes", round, n);
	}
}

TEST(quoted_newline_with_an_enclosure)
{
	struct csvd d = dialect(",", "\"", "\\\\", NULL);
	EXPECT_EQ(2, count(&d, "1,\"two\nlines\",x\n2,\"a,\"\"b\"\"\",y\n", 3));
	/* without an enclosure the quote is a plain byte: two records */
	struct csvd nq = dialect(",", "", "\\\\", NULL);
	EXPECT_EQ(2, count(&nq, "1,\"two\nlines\",x\n", 3));
}

TEST(crlf_terminators)
{
	struct csvd d = CSVD_DEFAULT;
	EXPECT_EQ(3, count(&d, "1\ta\tb\r\n2\tc\td\r\n3\te\tf\r\n", 3));
	struct csvd cr = dialect(NULL, NULL, NULL, "\\r");
	EXPECT_EQ(2, count(&cr, "1\ta\tb\r2\tc\\\rd\te\r", 3));
}

TEST(last_line_without_terminator)
{
	struct csvd d = CSVD_DEFAULT;
	EXPECT_EQ(2, count(&d, "1\ta\tb\n2\tc\td", 3));
	EXPECT_EQ(2, count(&d, "1\ta\tb\n2\tc\\\nd\te", 3));
}

TEST(wrong_field_count_named)
{
	struct csvd d = dialect(NULL, "\"", NULL, NULL);
	struct ldr_records r;
	const char *s = "1\t\\N\tb\n2\t\\N\n";
	ldr_records_init(&r, &d, 3);
	EXPECT_EQ(-EBADMSG, ldr_records_feed(&r, s, strlen(s)));
	EXPECT_EQ(2, (int)r.c.bad_line);
	EXPECT_EQ(2, (int)r.c.bad_fields);
}

TEST(count_rows_of_a_file)
{
	char path[] = "/tmp/qloader_records_XXXXXX", err[512] = "";
	int fd = mkstemp(path);
	ASSERT_LE(0, fd);
	/* 50,000 records, every tenth with an escaped newline, some NULLs */
	FILE *f = fdopen(fd, "w");
	for (int i = 0; i < 50000; i++)
		fprintf(f, i % 10 ? "%d\tname %d\t\\N\n" : "%d\tline\\\nbreak %d\tx\n", i, i);
	fclose(f);
	struct csvd d = CSVD_DEFAULT;
	unsigned long long n = 0;
	EXPECT_EQ(0, ldr_count_rows(path, &d, 3, &n, err, sizeof err)) TH_LOG("%s", err);
	EXPECT_EQ(50000ULL, n);
	struct csvd q = dialect(NULL, "\"", NULL, NULL);
	EXPECT_EQ(0, ldr_count_rows(path, &q, 3, &n, err, sizeof err)) TH_LOG("%s", err);
	EXPECT_EQ(50000ULL, n);
	EXPECT_EQ(-EBADMSG, ldr_count_rows(path, &q, 4, &n, err, sizeof err));
	EXPECT_NE(NULL, strstr(err, "expected 4")) TH_LOG("%s", err);
	unlink(path);
}

TEST_HARNESS_MAIN
