/* run_test.c: qpart_run() under ASan/UBSan: a run over records longer than
 * a block boundary, escaped newlines, CRLF, bad rows reported with file
 * and line (also under a path longer than any fixed message buffer), the
 * --max-errors limit, and dialect conversion. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "../config.h"
#include "../partition.h"

struct msgs {
	char text[8][256];
	int n;
};

static void collect(void *ctx, const char *msg)
{
	struct msgs *m = ctx;
	if (m->n < 8)
		snprintf(m->text[m->n], sizeof(m->text[0]), "%s", msg);
	m->n++;
}

static int spec_for(const char *dir, const char *in, const char *extra, struct qpart_spec *s,
		    char *err, size_t errlen)
{
	struct qpart_config *c;
	char json[8192];
	snprintf(json, sizeof(json),
		 "{\"in\": {\"path\": \"%s\", \"csv\": {\"field\": [\"id\", \"ra\", \"decl\", \"txt\"],"
		 " \"no-quote\": true}},"
		 " \"out\": {\"dir\": \"%s/out\", \"csv\": {\"no-quote\": true}},"
		 " \"part\": {\"num-stripes\": 85, \"num-sub-stripes\": 12, \"overlap\": 0.01667,"
		 " \"pos\": \"ra,decl\"}}", in, dir);
	if (qpart_config_new(&c) < 0 || qpart_config_merge_text(c, json, err, errlen) < 0 ||
	    (extra && qpart_config_merge_text(c, extra, err, errlen) < 0))
		return -1;
	int r = qpart_spec_from_config(c, s, err, errlen);
	qpart_config_free(c);
	return r;
}

static size_t slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
	return n;
}

TEST(bad_rows_reported_with_lines)
{
	char dir[] = "/tmp/qpart_run_XXXXXX", in[300], err[512], cmd[400];
	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(in, sizeof(in), "%s/in.tsv", dir);
	FILE *f = fopen(in, "w");
	fputs("1\t10\t20\ta\n", f);		/* 1 ok */
	fputs("2\t10\t20\n", f);		/* 2 too few fields */
	fputs("3\t10\t95\tb\n", f);		/* 3 latitude out of range */
	fputs("4\tabc\t20\tc\n", f);		/* 4 unparsable */
	fputs("5\t10\t20\tline\\\nbreak\n", f);	/* 5-6 escaped newline: one record */
	fputs("6\t\\N\t20\td\n", f);		/* 7 NULL position */
	fputs("7\t370\t-20\te\r\n", f);		/* 8 ok, RA wraps, CRLF */
	fclose(f);
	struct qpart_spec s;
	struct qpart_stats st;
	struct msgs m = { .n = 0 };
	ASSERT_EQ(0, spec_for(dir, in, "{\"max-errors\": 4}", &s, err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(0, qpart_run(&s, collect, &m, &st, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(7, st.rows_in);
	EXPECT_EQ(4, st.rows_bad);
	EXPECT_EQ(3, st.rows_out);
	ASSERT_EQ(4, m.n);
	int seen[8] = { 0 };
	for (int i = 0; i < m.n; ++i) {
		char *colon = strstr(m.text[i], "in.tsv:");
		ASSERT_NE(NULL, colon);
		int line = atoi(colon + 7);
		ASSERT_TRUE(line >= 1 && line < 8);
		seen[line] = 1;
	}
	EXPECT_TRUE(seen[2] && seen[3] && seen[4] && seen[7]);
	qpart_spec_free(&s);
	/* one error fewer allowed: the run fails */
	m.n = 0;
	ASSERT_EQ(0, spec_for(dir, in, "{\"max-errors\": 3}", &s, err, sizeof(err)));
	EXPECT_EQ(-ECANCELED, qpart_run(&s, collect, &m, &st, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "max-errors"));
	qpart_spec_free(&s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ASSERT_EQ(0, system(cmd));
}

struct long_msg {
	char *text;
	int n;
};

static void keep_whole(void *ctx, const char *msg)
{
	struct long_msg *m = ctx;
	free(m->text);
	m->text = strdup(msg);
	m->n++;
}

/* A bad row under an input path of ~1,800 bytes: the report once went
 * through a 600-byte stack buffer, "path:line: " first, then the reason
 * written at msg + n past its end (ASan: stack-buffer-overflow). */
TEST(bad_row_under_a_very_long_path)
{
	char dir[] = "/tmp/qpart_run_XXXXXX", in[4096], err[512], cmd[4200], seg[201];
	ASSERT_NE(NULL, mkdtemp(dir));
	memset(seg, 'd', 200);
	seg[200] = '\0';
	int n = snprintf(in, sizeof(in), "%s", dir);
	for (int i = 0; i < 9; ++i) {
		n += snprintf(in + n, sizeof(in) - n, "/%s", seg);
		ASSERT_EQ(0, mkdir(in, 0700));
	}
	snprintf(in + n, sizeof(in) - n, "/in.tsv");
	ASSERT_GT(strlen(in), 1800);
	FILE *f = fopen(in, "w");
	ASSERT_NE(NULL, f);
	fputs("1\t10\t20\ta\n", f);
	fputs("2\tabc\t20\tb\n", f);		/* 2 unparsable */
	fclose(f);
	struct qpart_spec s;
	struct qpart_stats st;
	struct long_msg m = { NULL, 0 };
	ASSERT_EQ(0, spec_for(dir, in, "{\"max-errors\": 1}", &s, err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(0, qpart_run(&s, keep_whole, &m, &st, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(1, st.rows_bad);
	ASSERT_EQ(1, m.n);
	/* the whole path, the line, then the reason */
	EXPECT_EQ(0, strncmp(m.text, in, strlen(in)));
	EXPECT_EQ(0, strncmp(m.text + strlen(in), ":2: ", 4)) TH_LOG("%s", m.text + strlen(in));
	EXPECT_GT(strlen(m.text), strlen(in) + 5);
	free(m.text);
	qpart_spec_free(&s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ASSERT_EQ(0, system(cmd));
}

TEST(long_records_across_blocks_and_dialect_change)
{
	char dir[] = "/tmp/qpart_run_XXXXXX", in[300], err[512], cmd[400], out[400];
	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(in, sizeof(in), "%s/in.tsv", dir);
	FILE *f = fopen(in, "w");
	/* 3 MiB of records, one 1.5 MiB long, with a 1 MiB block size */
	char *big = malloc(1536 * 1024 + 1);
	memset(big, 'x', 1536 * 1024);
	big[1536 * 1024] = '\0';
	int rows = 0;
	for (; rows < 20000; ++rows)
		fprintf(f, "%d\t%.6f\t%.6f\tv,%d\n", rows, 1.0 + rows * 1e-5, 0.5, rows);
	fprintf(f, "%d\t1.0\t0.5\t%s\n", rows++, big);
	for (; rows < 40000; ++rows)
		fprintf(f, "%d\t%.6f\t%.6f\tv,%d\n", rows, 1.0 + rows * 1e-5, 0.5, rows);
	fclose(f);
	free(big);
	struct qpart_spec s;
	struct qpart_stats st;
	ASSERT_EQ(0, spec_for(dir, in,
			      "{\"mr\": {\"block-size\": 1}, \"out\": {\"csv\": {\"delimiter\": \",\"}}}",
			      &s, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_FALSE(s.fast);
	ASSERT_EQ(0, qpart_run(&s, NULL, NULL, &st, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(40000, st.rows_in);
	EXPECT_EQ(0, st.rows_bad);
	EXPECT_EQ(40000, st.rows_out);
	qpart_spec_free(&s);
	/* (1, 0.5) with S=85, SS=12 is chunk 7140; the comma in "v,0" is
	 * escaped in the comma-delimited output.  Row 0 need not come first:
	 * the workers' batches reach the file in the order they finish. */
	snprintf(out, sizeof(out), "%s/out/chunk_7140.txt", dir);
	static char buf[4 << 20];
	static const char row0[] = "0,1.000000,0.500000,v\\,0,7140,";
	ASSERT_GT(slurp(out, buf, sizeof(buf)), 0);
	const char *at = buf;
	while (at && strncmp(at, row0, strlen(row0)))
		at = (at = strchr(at, '\n')) ? at + 1 : NULL;
	EXPECT_NE(NULL, at) TH_LOG("no line starts %s: %.60s", row0, buf);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ASSERT_EQ(0, system(cmd));
}

/* Fuzz-style: random bytes and mutated records through the whole run path
 * (split, decode, locate, emit) under ASan; every record is either
 * partitioned or reported, never both, and nothing crashes. */
TEST(random_input_is_reported_not_fatal)
{
	char dir[] = "/tmp/qpart_run_XXXXXX", in[300], err[512], cmd[400];
	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(in, sizeof(in), "%s/in.tsv", dir);
	FILE *f = fopen(in, "w");
	srand(5);
	static const char alphabet[] = "0123456789.-+eE\t\\\"\r\n,NaIif x";
	uint64_t lines = 0;
	for (int i = 0; i < 20000; ++i) {
		if (rand() % 3 == 0) {	/* a valid record, then mutate a byte */
			char rec[128];
			int n = snprintf(rec, sizeof(rec), "%d\t%.5f\t%.5f\tt%d\n", i, 360.0 * rand() / RAND_MAX,
					 180.0 * rand() / RAND_MAX - 90.0, i);
			if (rand() % 2)
				rec[rand() % (n - 1)] = alphabet[rand() % (sizeof(alphabet) - 1)];
			fwrite(rec, 1, strlen(rec), f);
		} else {		/* random bytes */
			int n = rand() % 40;
			for (int k = 0; k < n; ++k)
				fputc(rand() % 4 ? alphabet[rand() % (sizeof(alphabet) - 1)] : rand() % 256, f);
			fputc('\n', f);
		}
	}
	fclose(f);
	(void)lines;
	struct qpart_spec s;
	struct qpart_stats st;
	struct msgs m = { .n = 0 };
	ASSERT_EQ(0, spec_for(dir, in, "{\"max-errors\": 1000000}", &s, err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(0, qpart_run(&s, collect, &m, &st, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(st.rows_in, st.rows_bad + st.rows_out);
	EXPECT_GT(st.rows_out, 3000);
	EXPECT_GT(st.rows_bad, 3000);
	EXPECT_EQ((int)st.rows_bad, m.n);
	qpart_spec_free(&s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ASSERT_EQ(0, system(cmd));
}

TEST_HARNESS_MAIN
