/* cindex_rows_test.c: a worker's director-index TSV lines as SQL values
 * (cindex_rows.c): numbers stay numbers, every other key becomes a hex
 * literal with its escapes undone, and a malformed line is refused with
 * what is wrong and leaves the statement as it was. */
#include <errno.h>
#include <string.h>

#include <kselftest_harness.h>

#include "qserv/controller/cindex_rows.h"

static const struct row_case {
	const char *line;
	size_t len;             /* 0: strlen(line) */
	const char *want;       /* NULL: refused */
	const char *why;        /* part of the refusal */
} cases[] = {
	{ "26\t0\t41\t7", 0, "(26,0,41,7)", NULL },
	{ "-5\t12\t-1\t3", 0, "(-5,12,-1,3)", NULL },
	{ "18446744073709551615\t1\t2\t3", 0, "(18446744073709551615,1,2,3)", NULL },
	{ "abc\t1\t2\t3", 0, "(X'616263',1,2,3)", NULL },
	{ "x' OR 1=1 -- \t1\t2\t3", 0, "(X'7827204F5220313D31202D2D20',1,2,3)", NULL },
	{ "a\\tb\\\\c\\nd\\0e\\r\t1\t2\t3", 0, "(X'6109625C630A6400650D',1,2,3)", NULL },
	{ "12\\\\\t1\t2\t3", 0, "(X'31325C',1,2,3)", NULL },
	{ "\t1\t2\t3", 0, "(X'',1,2,3)", NULL },
	{ "\\N\t1\t2\t3", 0, NULL, "NULL key" },
	{ "a\\\t1\t2\t3", 0, NULL, "lone backslash" },
	{ "a\\x\t1\t2\t3", 0, NULL, "unknown escape" },
	{ "1\t2\t3", 0, NULL, "3 field(s)" },
	{ "1\t2\t3\t4\t5", 0, NULL, "more than 4" },
	{ "1\tx\t3\t4", 0, NULL, "chunkId" },
	{ "1\t2\t\\N\t4", 0, NULL, "subChunkId" },
	{ "1\t2\t3\t", 0, NULL, "qserv_trans_id" },
	{ "1\t2\t3\t123456789012345678901", 0, NULL, "qserv_trans_id" },
	{ "1\t2\t3\t4); DROP TABLE x; --", 0, NULL, "qserv_trans_id" },
	{ "-\t2\t3\t4", 0, "(X'2D',2,3,4)", NULL },
	{ "a\0b\t1\t2\t3", 9, "(X'610062',1,2,3)", NULL },
};

TEST(rows)
{
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		const struct row_case *c = &cases[i];
		struct buf b;
		char err[256] = "";
		buf_init(&b);
		buf_puts(&b, "VALUES ");
		int r = cindex_row_values(&b, c->line, c->len ? c->len : strlen(c->line), err, sizeof err);
		if (c->want) {
			EXPECT_EQ(0, r) TH_LOG("case %zu: %s", i, err);
			EXPECT_STREQ(c->want, buf_str(&b) + 7) TH_LOG("case %zu", i);
		} else {
			EXPECT_EQ(-EINVAL, r) TH_LOG("case %zu accepted: %s", i, buf_str(&b));
			EXPECT_NE(NULL, strstr(err, c->why)) TH_LOG("case %zu: %s", i, err);
			EXPECT_STREQ("VALUES ", buf_str(&b)) TH_LOG("case %zu", i);
		}
		buf_free(&b);
	}
}

TEST_HARNESS_MAIN
