/* csvd_test.c: the contribution CSV dialect and the field counter that
 * rejects a malformed file (with its line number) before anything loads. */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "../csvd.h"

static int count(const struct csvd *d, unsigned expect, const char *s, unsigned long long *rows,
		 unsigned long long *bad_line)
{
	struct csvd_counter c;
	csvd_counter_init(&c, d, expect);
	int r = csvd_counter_feed(&c, s, strlen(s));
	if (!r)
		r = csvd_counter_end(&c);
	*rows = c.rows;
	*bad_line = c.bad_line;
	return r;
}

TEST(default_dialect_counts_rows)
{
	unsigned long long rows, bad;
	struct csvd d = CSVD_DEFAULT;
	ASSERT_EQ(0, count(&d, 3, "1\t2\t3\n4\t\\N\t6\n", &rows, &bad));
	EXPECT_EQ(2, rows);
}

TEST(short_row_reports_its_line)
{
	unsigned long long rows, bad;
	struct csvd d = CSVD_DEFAULT;
	ASSERT_EQ(-EBADMSG, count(&d, 2, "a\tb\nc\td\ne\nf\tg\n", &rows, &bad));
	EXPECT_EQ(3, bad);
	EXPECT_EQ(2, rows);
}

TEST(long_row_reports_its_line)
{
	unsigned long long rows, bad;
	struct csvd d = CSVD_DEFAULT;
	ASSERT_EQ(-EBADMSG, count(&d, 2, "a\tb\tc\n", &rows, &bad));
	EXPECT_EQ(1, bad);
}

TEST(escaped_terminators_are_data)
{
	unsigned long long rows, bad;
	struct csvd d = CSVD_DEFAULT;
	/* an escaped tab and an escaped newline inside the first field */
	ASSERT_EQ(0, count(&d, 2, "a\\\tb\\\nc\td\n", &rows, &bad));
	EXPECT_EQ(1, rows);
}

TEST(enclosed_fields_hide_terminators)
{
	unsigned long long rows, bad;
	struct csvd d;
	char err[128];
	ASSERT_EQ(0, csvd_parse(&d, ",", "\"", "\\\\", "\\n", err, sizeof err));
	ASSERT_EQ(0, count(&d, 2, "\"a,b\",c\n\"x\ny\",z\n", &rows, &bad));
	EXPECT_EQ(2, rows);
}

TEST(last_line_without_terminator_counts)
{
	unsigned long long rows, bad;
	struct csvd d = CSVD_DEFAULT;
	ASSERT_EQ(0, count(&d, 2, "a\tb\nc\td", &rows, &bad));
	EXPECT_EQ(2, rows);
	ASSERT_EQ(0, count(&d, 2, "", &rows, &bad));
	EXPECT_EQ(0, rows);
}

TEST(byte_by_byte_feeding_matches)
{
	const char *s = "1\t\"2\t3\"\n4\\\t5\t6\n7\t8\n";
	struct csvd d = CSVD_DEFAULT;
	d.enclosed = '"';
	struct csvd_counter c;
	csvd_counter_init(&c, &d, 2);
	for (size_t i = 0; s[i]; i++)
		ASSERT_EQ(0, csvd_counter_feed(&c, s + i, 1));
	ASSERT_EQ(0, csvd_counter_end(&c));
	EXPECT_EQ(3, c.rows);
}

TEST(parse_rejects_bad_dialects)
{
	struct csvd d;
	char err[128];
	EXPECT_EQ(-EINVAL, csvd_parse(&d, "ab", NULL, NULL, NULL, err, sizeof err));
	EXPECT_NE(NULL, strstr(err, "fields_terminated_by"));
	EXPECT_EQ(-EINVAL, csvd_parse(&d, ",", NULL, NULL, ",", err, sizeof err));
	EXPECT_EQ(-EINVAL, csvd_parse(&d, "", NULL, NULL, NULL, err, sizeof err));
	ASSERT_EQ(0, csvd_parse(&d, "\\t", "", "\\\\", "\\n", err, sizeof err));
	EXPECT_EQ('\t', d.field_term);
	EXPECT_EQ(0, d.enclosed);
	EXPECT_EQ('\\', d.escape);
	EXPECT_EQ('\n', d.line_term);
}

TEST(sql_clause)
{
	char buf[256];
	struct csvd d = CSVD_DEFAULT;
	csvd_sql(&d, buf, sizeof buf);
	EXPECT_STREQ("FIELDS TERMINATED BY '\\t' ENCLOSED BY '' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n'", buf);
	d.enclosed = '"';
	d.field_term = ',';
	csvd_sql(&d, buf, sizeof buf);
	EXPECT_NE(NULL, strstr(buf, "TERMINATED BY ','"));
	EXPECT_NE(NULL, strstr(buf, "ENCLOSED BY '\"'"));
}

TEST(check_fd_names_the_line)
{
	char path[] = "/tmp/csvd_test.XXXXXX";
	int fd = mkstemp(path);
	ASSERT_GE(fd, 0);
	unlink(path);
	const char *s = "1\t2\n3\t4\n5\n";
	ASSERT_EQ((ssize_t)strlen(s), write(fd, s, strlen(s)));
	lseek(fd, 0, SEEK_SET);
	struct csvd d = CSVD_DEFAULT;
	unsigned long long rows = 0;
	char err[128];
	EXPECT_EQ(-EBADMSG, csvd_check_fd(fd, &d, 2, &rows, err, sizeof err));
	EXPECT_STREQ("line 3: 1 fields, expected 2", err);
	lseek(fd, 0, SEEK_SET);
	EXPECT_EQ(-EBADMSG, csvd_check_fd(fd, &d, 1, &rows, err, sizeof err));
	EXPECT_STREQ("line 1: 2 fields, expected 1", err);
	close(fd);
}

/* Property: however the input is split into feeds, the counter reaches the
 * same verdict (rows, bad line) as with one feed.  Random inputs over the
 * bytes that matter (terminators, escape, enclosure, data), fixed seed. */
TEST(split_invariance_on_random_input)
{
	static const char alphabet[] = "\t\n\\\"ab,";
	unsigned seed = 12345;
	struct csvd d = CSVD_DEFAULT;
	d.enclosed = '"';
	for (int iter = 0; iter < 2000; iter++) {
		char buf[64];
		size_t n = (size_t)(rand_r(&seed) % sizeof buf);
		for (size_t i = 0; i < n; i++)
			buf[i] = alphabet[rand_r(&seed) % (sizeof alphabet - 1)];
		unsigned expect = 1 + (unsigned)(rand_r(&seed) % 3);
		struct csvd_counter a, b;
		csvd_counter_init(&a, &d, expect);
		int ra = csvd_counter_feed(&a, buf, n);
		if (!ra)
			ra = csvd_counter_end(&a);
		csvd_counter_init(&b, &d, expect);
		int rb = 0;
		for (size_t off = 0; off < n && !rb;) {
			size_t k = 1 + (size_t)(rand_r(&seed) % 5);
			if (k > n - off)
				k = n - off;
			rb = csvd_counter_feed(&b, buf + off, k);
			off += k;
		}
		if (!rb)
			rb = csvd_counter_end(&b);
		ASSERT_EQ(ra, rb);
		ASSERT_EQ(a.rows, b.rows);
		ASSERT_EQ(a.bad_line, b.bad_line);
	}
}

TEST_HARNESS_MAIN
