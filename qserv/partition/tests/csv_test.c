/* csv_test.c: dialects (Qserv's defaults and checks), record splitting,
 * decoding/encoding, and configuration merging / overriding. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "../config.h"
#include "../csv.h"
#include "../index.h"
#include "../partition.h"

static struct qpart_config *cfg_of(const char *json)
{
	struct qpart_config *c;
	char err[256];
	if (qpart_config_new(&c) < 0)
		return NULL;
	if (json && qpart_config_merge_text(c, json, err, sizeof(err)) < 0) {
		fprintf(stderr, "# %s\n", err);
		qpart_config_free(c);
		return NULL;
	}
	return c;
}

TEST(default_dialect_is_qserv)
{
	struct qpart_config *c = cfg_of("{}");
	struct qpart_dialect d;
	char err[256];
	ASSERT_EQ(0, qpart_dialect_from_config(c, "in.csv.", &d, err, sizeof(err)));
	EXPECT_EQ('\t', d.delim);
	EXPECT_EQ('"', d.quote);
	EXPECT_EQ('\\', d.escape);
	EXPECT_STREQ("NULL", d.null);	/* quoting on: NULL */
	qpart_config_free(c);
	c = cfg_of("{\"in\": {\"csv\": {\"no-quote\": true}}}");
	ASSERT_EQ(0, qpart_dialect_from_config(c, "in.csv.", &d, err, sizeof(err)));
	EXPECT_STREQ("\\N", d.null);	/* escaping only: \N */
	qpart_config_free(c);
}

TEST(dialect_checks)
{
	struct qpart_dialect d;
	char err[256];
	struct qpart_config *c = cfg_of("{\"in\": {\"csv\": {\"delimiter\": \",\", \"escape\": \",\"}}}");
	EXPECT_EQ(-EINVAL, qpart_dialect_from_config(c, "in.csv.", &d, err, sizeof(err)));
	qpart_config_free(c);
	c = cfg_of("{\"in\": {\"csv\": {\"delimiter\": \"n\"}}}");
	EXPECT_EQ(-EINVAL, qpart_dialect_from_config(c, "in.csv.", &d, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "standard escape"));
	qpart_config_free(c);
	c = cfg_of("{\"in\": {\"csv\": {\"delimiter\": \"ab\"}}}");
	EXPECT_EQ(-EINVAL, qpart_dialect_from_config(c, "in.csv.", &d, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "in.csv.delimiter"));
	qpart_config_free(c);
}

TEST(split_and_decode)
{
	struct qpart_config *c = cfg_of("{\"in\": {\"csv\": {\"delimiter\": \",\"}}}");
	struct qpart_dialect d;
	char err[256], buf[64];
	ASSERT_EQ(0, qpart_dialect_from_config(c, "in.csv.", &d, err, sizeof(err)));
	const char *rec = "1,\"a,b\",c\\,d,NULL,\"x\"\"y\",,\\n";
	struct qpart_field f[16];
	size_t n = qpart_csv_split(&d, rec, strlen(rec), f, 16);
	ASSERT_EQ(7, n);
	ASSERT_EQ(1, qpart_csv_decode(&d, &f[0], buf, sizeof(buf)));
	EXPECT_STREQ("1", buf);
	ASSERT_EQ(3, qpart_csv_decode(&d, &f[1], buf, sizeof(buf)));
	EXPECT_STREQ("a,b", buf);
	ASSERT_EQ(3, qpart_csv_decode(&d, &f[2], buf, sizeof(buf)));
	EXPECT_STREQ("c,d", buf);
	EXPECT_TRUE(qpart_csv_is_null(&d, &f[3]));
	EXPECT_FALSE(qpart_csv_is_null(&d, &f[0]));
	ASSERT_EQ(3, qpart_csv_decode(&d, &f[4], buf, sizeof(buf)));
	EXPECT_STREQ("x\"y", buf);
	EXPECT_EQ(0, f[5].len);
	ASSERT_EQ(1, qpart_csv_decode(&d, &f[6], buf, sizeof(buf)));
	EXPECT_STREQ("\n", buf);
	/* too small a buffer is reported, not overrun */
	EXPECT_EQ(-1, qpart_csv_decode(&d, &f[1], buf, 2));
	/* more fields than room: counted, not stored */
	EXPECT_EQ(7, qpart_csv_split(&d, rec, strlen(rec), f, 2));
	qpart_config_free(c);
}

TEST(encode_round_trip)
{
	struct qpart_config *c = cfg_of("{\"out\": {\"csv\": {\"delimiter\": \",\", \"no-quote\": true}}}");
	struct qpart_dialect d;
	char err[256], buf[64], back[64];
	ASSERT_EQ(0, qpart_dialect_from_config(c, "out.csv.", &d, err, sizeof(err)));
	const char *v = "a,b\\c\nd";
	long n = qpart_csv_encode(&d, v, strlen(v), buf, sizeof(buf));
	ASSERT_GT(n, 0);
	buf[n] = '\0';
	EXPECT_STREQ("a\\,b\\\\c\\nd", buf);
	struct qpart_field f = { buf, (size_t)n };
	ASSERT_EQ((long)strlen(v), qpart_csv_decode(&d, &f, back, sizeof(back)));
	EXPECT_STREQ(v, back);
	n = qpart_csv_encode(&d, NULL, 0, buf, sizeof(buf));
	ASSERT_EQ(2, n);
	EXPECT_EQ(0, memcmp(buf, "\\N", 2));
	EXPECT_EQ(-1, qpart_csv_encode(&d, v, strlen(v), buf, 4));
	qpart_config_free(c);
}

TEST(config_merge_and_override)
{
	struct qpart_config *c = cfg_of("{\"part\": {\"num-stripes\": 85, \"num-sub-stripes\": 12}}");
	char err[256];
	long v;
	ASSERT_EQ(0, qpart_config_merge_text(c, "{\"part\": {\"num-stripes\": 340}}", err, sizeof(err)));
	ASSERT_EQ(0, qpart_config_int(c, "part.num-stripes", &v, err, sizeof(err)));
	EXPECT_EQ(340, v);	/* later file wins */
	ASSERT_EQ(0, qpart_config_int(c, "part.num-sub-stripes", &v, err, sizeof(err)));
	EXPECT_EQ(12, v);	/* siblings kept */
	ASSERT_EQ(0, qpart_config_set(c, "part.num-stripes", "18", false));
	ASSERT_EQ(0, qpart_config_int(c, "part.num-stripes", &v, err, sizeof(err)));
	EXPECT_EQ(18, v);	/* command line wins */
	ASSERT_EQ(0, qpart_config_set(c, "part.num-stripes", "x8", false));
	EXPECT_EQ(-EINVAL, qpart_config_int(c, "part.num-stripes", &v, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "part.num-stripes"));
	EXPECT_EQ(-ENOENT, qpart_config_int(c, "part.nothing", &v, err, sizeof(err)));
	char **list;
	size_t n;
	ASSERT_EQ(0, qpart_config_set(c, "in.csv.field", "a, b ,c", false));
	ASSERT_EQ(0, qpart_config_list(c, "in.csv.field", &list, &n, err, sizeof(err)));
	ASSERT_EQ(3, n);
	EXPECT_STREQ("b", list[1]);
	qpart_strv_free(list);
	ASSERT_EQ(0, qpart_config_set(c, "in.path", "x", true));
	ASSERT_EQ(0, qpart_config_set(c, "in.path", "y", true));
	ASSERT_EQ(0, qpart_config_list(c, "in.path", &list, &n, err, sizeof(err)));
	ASSERT_EQ(2, n);
	EXPECT_STREQ("y", list[1]);
	qpart_strv_free(list);
	EXPECT_EQ(-EINVAL, qpart_config_merge_text(c, "{\"a\": ", err, sizeof(err)));
	EXPECT_EQ(-EINVAL, qpart_config_merge_text(c, "[1]", err, sizeof(err)));
	qpart_config_free(c);
}

TEST(spec_checks)
{
	char dir[] = "/tmp/qpart_spec_XXXXXX", in[300], err[512];
	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(in, sizeof(in), "%s/in.tsv", dir);
	FILE *f = fopen(in, "w");
	fputs("1\t10\t20\n", f);
	fclose(f);
	char json[1024];
	snprintf(json, sizeof(json),
		 "{\"in\": {\"path\": \"%s\", \"csv\": {\"field\": [\"id\", \"ra\", \"decl\"]}},"
		 " \"out\": {\"dir\": \"%s/out\"}, \"part\": {\"num-stripes\": 85,"
		 " \"num-sub-stripes\": 12, \"overlap\": 0.01667, \"pos\": \"ra, decl\"}}", in, dir);
	struct qpart_config *c = cfg_of(json);
	struct qpart_spec s;
	ASSERT_EQ(0, qpart_spec_from_config(c, &s, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(1, s.lon_idx);
	EXPECT_EQ(2, s.lat_idx);
	EXPECT_EQ(5, s.nout);
	EXPECT_TRUE(s.fast);
	EXPECT_EQ(2, s.workers);
	qpart_spec_free(&s);
	qpart_config_set(c, "part.pos", "ra,dec", false);
	EXPECT_EQ(-EINVAL, qpart_spec_from_config(c, &s, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "dec is not an input field"));
	qpart_config_set(c, "part.pos", "ra,decl", false);
	qpart_config_set(c, "part.overlap", "11", false);
	EXPECT_EQ(-EINVAL, qpart_spec_from_config(c, &s, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "[0, 10]"));
	qpart_config_set(c, "part.overlap", "0", false);
	qpart_config_set(c, "out.csv.field", "decl,id", false);
	ASSERT_EQ(0, qpart_spec_from_config(c, &s, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_FALSE(s.fast);
	ASSERT_EQ(4, s.nout);
	EXPECT_EQ(2, s.out_map[0]);
	EXPECT_EQ(0, s.out_map[1]);
	EXPECT_EQ(QPART_COL_CHUNK, s.out_map[2]);
	EXPECT_EQ(QPART_COL_SUB, s.out_map[3]);
	qpart_spec_free(&s);
	qpart_config_free(c);
	unlink(in);
	rmdir(dir);
}

TEST(object_index_load)
{
	char dir[] = "/tmp/qpart_idx_XXXXXX", path[300], url[320], err[512];
	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/chunk_object_index.txt", dir);
	FILE *f = fopen(path, "w");
	fputs("17\t7140\t554\n42\t10713\t624\n17\t7140\t554\n", f);
	fclose(f);
	struct qpart_config *c = cfg_of("{\"in\": {\"csv\": {\"no-quote\": true}}}");
	struct qpart_dialect d;
	ASSERT_EQ(0, qpart_dialect_from_config(c, "in.csv.", &d, err, sizeof(err)));
	struct qpart_index *ix;
	snprintf(url, sizeof(url), "file://%s", path);
	ASSERT_EQ(0, qpart_index_load(url, &d, &ix, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(2, qpart_index_size(ix));
	int32_t ch, sub;
	ASSERT_EQ(0, qpart_index_find(ix, "42", 2, &ch, &sub));
	EXPECT_EQ(10713, ch);
	EXPECT_EQ(624, sub);
	EXPECT_EQ(-ENOENT, qpart_index_find(ix, "4", 1, &ch, &sub));
	qpart_index_free(ix);
	EXPECT_EQ(-EINVAL, qpart_index_load(path, &d, &ix, err, sizeof(err)));	/* not a URL */
	f = fopen(path, "a");
	fputs("43\tx\t1\n", f);
	fclose(f);
	EXPECT_EQ(-EINVAL, qpart_index_load(url, &d, &ix, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "chunk_object_index.txt:4:"));
	qpart_config_free(c);
	unlink(path);
	rmdir(dir);
}

TEST_HARNESS_MAIN
