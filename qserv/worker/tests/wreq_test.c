/* wreq_test.c: the worker's request-body parsers (wreq.c), table-driven:
 * the bodies the controller and the loaders send are accepted with the
 * values the handlers used before wreq.c existed (defaults of the
 * contribution dialect and charset, of the chunk key columns, canonical
 * column types), and each refused body names its field; the same for the
 * query strings of the replica routes; a replica of the regular tables
 * (WREQ_REGULAR) from a body and from a query string. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include <kselftest_harness.h>

#include "qserv/common/mpart.h"
#include "qserv/worker/wreq.h"

enum kind { CONTRIB, TRANS, DB, CHUNK, TABLE, INDEX, SUB, REPLICA, DBARG, CHUNKARG, CONFIG };

static const struct body_case {
	enum kind kind;
	const char *json;
	const char *field;      /* NULL: accepted; else part of the error */
} cases[] = {
	{ CONTRIB, "{\"transaction_id\":7,\"table\":\"Object\",\"chunk\":57871,\"overlap\":0,\"charset_name\":\"latin1\","
		   "\"database\":\"e2e\",\"url\":\"file:///s/chunk_57871.txt\",\"fields_terminated_by\":\",\"}", NULL },
	{ CONTRIB, "{\"transaction_id\":\"7\",\"table\":\"Object\",\"chunk\":\"5\",\"overlap\":\"1\"}", NULL },
	{ CONTRIB, "{\"transaction_id\":7,\"table\":\"Object\",\"url\":\"file:///x' OR 1=1\"}", "url" },
	{ CONTRIB, "{\"transaction_id\":7,\"table\":\"Object\",\"url\":\"ftp://h/x\"}", "url" },
	{ CONTRIB, "{\"transaction_id\":2147483648,\"table\":\"Object\"}", "transaction_id" },
	{ CONTRIB, "{\"transaction_id\":7,\"table\":\"Object\",\"charset_name\":\"latin1; --\"}", "charset_name" },
	{ CONTRIB, "{\"transaction_id\":7,\"table\":\"Object\",\"fields_enclosed_by\":\"abc\"}", "fields_enclosed_by" },
	{ CONTRIB, "{\"transaction_id\":7,\"table\":\"Object\",\"max_num_warnings\":65535}", NULL },
	{ CONTRIB, "{\"transaction_id\":7,\"table\":\"Object\",\"max_num_warnings\":\"0\"}", NULL },
	{ CONTRIB, "{\"transaction_id\":7,\"table\":\"Object\",\"max_num_warnings\":65536}", "max_num_warnings" },
	{ CONTRIB, "{\"transaction_id\":7,\"table\":\"Object\",\"max_num_warnings\":-1}", "max_num_warnings" },
	{ TRANS, "{\"database\":\"e2e\",\"transaction_id\":7,\"action\":\"begin\"}", NULL },
	{ TRANS, "{\"transaction_id\":7,\"action\":\"commit\"}", NULL },
	{ TRANS, "{\"transaction_id\":7,\"action\":\"begin\"}", "database" },
	{ TRANS, "{\"database\":\"e2e\",\"transaction_id\":7,\"action\":\"drop\"}", "action" },
	{ DB, "{\"database\":\"mysql\"}", "database" },
	{ CHUNK, "{\"database\":\"e2e\",\"chunk\":4294967301}", "chunk" },
	{ CHUNK, "{\"database\":\"e2e\",\"chunk\":0}", NULL },
	{ TABLE, "{\"database\":\"e2e\",\"table\":\"Object\",\"is_partitioned\":1,\"is_director\":1,"
		 "\"director_key\":\"objectId\",\"schema\":[{\"name\":\"objectId\",\"type\":\"bigint not null\"}]}", NULL },
	{ TABLE, "{\"database\":\"e2e\",\"table\":\"Object\",\"is_partitioned\":1,\"chunk_id_key\":\"\","
		 "\"schema\":[{\"name\":\"a\",\"type\":\"INT\"}]}", "chunk_id_key" },
	{ TABLE, "{\"database\":\"e2e\",\"table\":\"Object\",\"schema\":[{\"name\":\"a\",\"type\":\"INT, `evil` TEXT\"}]}",
	  "schema[0].type" },
	{ INDEX, "{\"database\":\"e2e\",\"table\":\"Object\",\"index\":\"i\",\"spec\":\"unique\","
		 "\"columns\":[{\"column\":\"ra\",\"length\":10,\"ascending\":0}]}", NULL },
	{ INDEX, "{\"database\":\"e2e\",\"table\":\"Object\",\"index\":\"i\",\"spec\":\"HASH\",\"columns\":[{\"column\":\"ra\"}]}",
	  "spec" },
	{ INDEX, "{\"database\":\"e2e\",\"table\":\"Object\",\"index\":\"i\",\"columns\":[{\"column\":\"ra\",\"length\":65536}]}",
	  "columns[0].length" },
	{ SUB, "{\"database\":\"e2e\",\"table\":\"Object\",\"chunk\":5,\"sub_chunks\":[1,2]}", NULL },
	{ SUB, "{\"table\":\"Object\",\"chunk\":5,\"sub_chunks\":[1]}", "database" },
	{ REPLICA, "{\"database\":\"e2e\",\"chunk\":5,\"source_id\":\"worker-1\",\"source_url\":\"https://10.0.0.1:25004/\"}",
	  NULL },
	{ REPLICA, "{\"database\":\"e2e\",\"chunk\":5,\"source_id\":\"w1\",\"source_url\":\"http://h\"}", NULL },
	{ REPLICA, "{\"database\":\"e2e\",\"chunk\":5,\"source_id\":\"w'1\",\"source_url\":\"http://h\"}", "source_id" },
	{ REPLICA, "{\"database\":\"e2e\",\"chunk\":5,\"source_id\":\"w1\",\"source_url\":\"file:///etc/passwd\"}",
	  "source_url" },
	{ REPLICA, "{\"database\":\"e2e\",\"chunk\":5,\"source_id\":\"w1\",\"source_url\":\"https://u@h/\"}", "source_url" },
	{ REPLICA, "{\"database\":\"e2e\",\"chunk\":5,\"source_id\":\"w1\",\"source_url\":\"https://h:99999\"}", "source_url" },
	{ REPLICA, "{\"database\":\"e2e\",\"chunk\":-5,\"source_id\":\"w1\",\"source_url\":\"https://h\"}", "chunk" },
	/* the regular tables: "regular": true instead of a chunk, exactly one of the two */
	{ REPLICA, "{\"database\":\"e2e\",\"regular\":true,\"source_id\":\"w1\",\"source_url\":\"https://h:25004\"}", NULL },
	{ REPLICA, "{\"database\":\"e2e\",\"regular\":1,\"source_id\":\"w1\",\"source_url\":\"http://h\"}", NULL },
	{ REPLICA, "{\"database\":\"e2e\",\"regular\":\"1\",\"chunk\":null,\"source_id\":\"w1\",\"source_url\":\"http://h\"}",
	  NULL },
	{ REPLICA, "{\"database\":\"e2e\",\"regular\":false,\"chunk\":5,\"source_id\":\"w1\",\"source_url\":\"http://h\"}", NULL },
	{ REPLICA, "{\"database\":\"e2e\",\"regular\":true,\"chunk\":5,\"source_id\":\"w1\",\"source_url\":\"http://h\"}",
	  "regular" },
	{ REPLICA, "{\"database\":\"e2e\",\"regular\":false,\"source_id\":\"w1\",\"source_url\":\"http://h\"}", "chunk" },
	{ REPLICA, "{\"database\":\"e2e\",\"source_id\":\"w1\",\"source_url\":\"http://h\"}", "regular" },
	{ REPLICA, "{\"database\":\"e2e\",\"regular\":\"yes\",\"source_id\":\"w1\",\"source_url\":\"http://h\"}", "regular" },
	{ REPLICA, "{\"database\":\"e2e\",\"regular\":2,\"source_id\":\"w1\",\"source_url\":\"http://h\"}", "regular" },
	{ REPLICA, "{\"database\":\"mysql\",\"regular\":true,\"source_id\":\"w1\",\"source_url\":\"http://h\"}", "database" },
	{ REPLICA, "{\"database\":\"e2e\",\"regular\":true,\"source_id\":\"w1\",\"source_url\":\"http://h/x\"}",
	  "source_url" },
	/* query strings: ?database= (optional), ?database=&chunk= */
	{ DBARG, "{}", NULL },
	{ DBARG, "{\"database\":\"e2e\"}", NULL },
	{ DBARG, "{\"database\":\"x;drop\"}", "database" },
	{ DBARG, "{\"database\":\"qservMeta\"}", "database" },
	{ CHUNKARG, "{\"database\":\"e2e\",\"chunk\":\"57\"}", NULL },
	{ CHUNKARG, "{\"database\":\"e2e\",\"chunk\":\"0\"}", NULL },
	{ CHUNKARG, "{\"database\":\"e2e\",\"chunk\":\"1x\"}", "chunk" },
	{ CHUNKARG, "{\"database\":\"e2e\",\"chunk\":\"-1\"}", "chunk" },
	{ CHUNKARG, "{\"database\":\"e2e\",\"chunk\":\" 5\"}", "chunk" },
	{ CHUNKARG, "{\"database\":\"e2e\",\"chunk\":\"\"}", "chunk" },
	{ CHUNKARG, "{\"database\":\"e2e\",\"chunk\":\"2147483648\"}", "chunk" },
	{ CHUNKARG, "{\"database\":\"e2e\",\"chunk\":\"12345678901\"}", "chunk" },
	{ CHUNKARG, "{\"database\":\"e2e\"}", "chunk" },
	{ CHUNKARG, "{\"chunk\":\"5\"}", "database" },
	{ CHUNKARG, "{\"database\":\"mysql\",\"chunk\":\"5\"}", "database" },
	{ CHUNKARG, "{\"database\":\"e2e`x\",\"chunk\":\"5\"}", "database" },
	/* ?database=&regular=1: the regular tables, instead of a chunk */
	{ CHUNKARG, "{\"database\":\"e2e\",\"regular\":\"1\"}", NULL },
	{ CHUNKARG, "{\"database\":\"e2e\",\"regular\":\"0\",\"chunk\":\"5\"}", NULL },
	{ CHUNKARG, "{\"database\":\"e2e\",\"regular\":\"\",\"chunk\":\"5\"}", NULL },
	{ CHUNKARG, "{\"database\":\"e2e\",\"regular\":\"1\",\"chunk\":\"5\"}", "regular" },
	{ CHUNKARG, "{\"database\":\"e2e\",\"regular\":\"1\",\"chunk\":\"\"}", "regular" },
	{ CHUNKARG, "{\"database\":\"e2e\",\"regular\":\"0\"}", "chunk" },
	{ CHUNKARG, "{\"database\":\"e2e\",\"regular\":\"true\"}", "regular" },
	{ CHUNKARG, "{\"database\":\"e2e\",\"regular\":\"01\"}", "regular" },
	{ CHUNKARG, "{\"regular\":\"1\"}", "database" },
	/* POST /worker/config: the applied ingest keys */
	{ CONFIG, "{\"database\":\"e2e\",\"TIMEOUT\":2,\"ASYNC_PROC_LIMIT\":\"4\"}", NULL },
	{ CONFIG, "{\"database\":\"e2e\"}", NULL },
	{ CONFIG, "{\"TIMEOUT\":2}", "database" },
	{ CONFIG, "{\"database\":\"e2e\",\"TIMEOUT\":-1}", "TIMEOUT" },
	{ CONFIG, "{\"database\":\"e2e\",\"ASYNC_PROC_LIMIT\":\"4x\"}", "ASYNC_PROC_LIMIT" },
	{ CONFIG, "{\"database\":\"e2e\",\"ASYNC_PROC_LIMIT\":2147483648}", "ASYNC_PROC_LIMIT" },
};

static int parse(enum kind k, json_t *b, char *err, size_t errlen)
{
	union { struct wreq_contrib c; struct wreq_trans t; struct wreq_index i; struct wreq_subchunks s;
		struct wreq_replica r; struct wreq_config g; } u;
	struct wreq_table t;
	char db[WREQ_NAME];
	int32_t chunk;
	int rc;
	switch (k) {
	case CONTRIB: return wreq_contrib(b, &u.c, err, errlen);
	case TRANS: return wreq_trans(b, &u.t, err, errlen);
	case DB: return wreq_db(b, db, err, errlen);
	case CHUNK: return wreq_chunk(b, db, &chunk, err, errlen);
	case TABLE:
		rc = wreq_table(b, &t, err, errlen);
		wreq_table_free(&t);
		return rc;
	case INDEX: return wreq_index(b, &u.i, err, errlen);
	case REPLICA:
		rc = wreq_replica(b, &u.r, err, errlen);
		if (!rc && strchr(u.r.source_url + 8, '/'))
			rc = -EBADMSG; /* the trailing '/' must be gone */
		return rc;
	case DBARG: return wreq_db_arg(b, db, err, errlen);
	case CHUNKARG: return wreq_chunk_arg(b, db, &chunk, err, errlen);
	case CONFIG: return wreq_config(b, &u.g, err, errlen);
	default:
		rc = wreq_subchunks(b, &u.s, err, errlen);
		free(u.s.sub);
		return rc;
	}
}

TEST(bodies)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char err[1024] = "";
		json_t *b = json_loads(cases[i].json, 0, NULL);
		ASSERT_NE(NULL, b);
		int rc = parse(cases[i].kind, b, err, sizeof err);
		json_decref(b);
		if (!cases[i].field) {
			EXPECT_EQ(0, rc) TH_LOG("case %zu refused: %s", i, err);
		} else {
			EXPECT_EQ(-EINVAL, rc) TH_LOG("case %zu accepted", i);
			EXPECT_NE(NULL, strstr(err, cases[i].field)) TH_LOG("case %zu: \"%s\" lacks %s", i, err,
									   cases[i].field);
		}
	}
}

TEST(values)
{
	char err[256];
	struct wreq_contrib c;
	struct wreq_table t;
	struct wreq_index x;
	json_t *b = json_loads("{\"transaction_id\":7,\"table\":\"Object\"}", 0, NULL);
	ASSERT_EQ(0, wreq_contrib(b, &c, err, sizeof err));
	EXPECT_EQ(-1, c.chunk);
	EXPECT_STREQ("", c.charset);    /* the worker's default (latin1) stays */
	EXPECT_STREQ("", c.ft);
	EXPECT_STREQ("", c.enc);
	EXPECT_STREQ("\\\\", c.esc);
	EXPECT_STREQ("", c.url);
	EXPECT_EQ(WREQ_MAX_WARNINGS, c.max_warnings);   /* Qserv's default */
	json_decref(b);
	b = json_loads("{\"database\":\"e2e\",\"table\":\"F\",\"chunk_id_key\":\"\",\"schema\":"
		       "[{\"name\":\"a\",\"type\":\"decimal(10, 2) unsigned\"},{\"name\":\"b\",\"type\":\"INT\"}]}", 0, NULL);
	ASSERT_EQ(0, wreq_table(b, &t, err, sizeof err));
	EXPECT_STREQ("`a` DECIMAL(10,2) UNSIGNED,`b` INT,", buf_str(&t.defs));
	EXPECT_STREQ("`a`,`b`", buf_str(&t.cols));
	EXPECT_EQ(2, t.ncols);
	EXPECT_STREQ("", t.chunk_key);          /* as sent: a regular table */
	EXPECT_STREQ("subChunkId", t.sub_chunk_key);
	wreq_table_free(&t);
	json_decref(b);
	b = json_loads("{\"database\":\"e2e\",\"table\":\"O\",\"index\":\"i\",\"comment\":\"it's\",\"columns\":"
		       "[{\"column\":\"a\",\"length\":3},{\"column\":\"b\",\"ascending\":false}]}", 0, NULL);
	ASSERT_EQ(0, wreq_index(b, &x, err, sizeof err));
	EXPECT_STREQ("`a`(3),`b` DESC", x.list);
	EXPECT_STREQ("", x.kind);
	EXPECT_STREQ("it's", x.comment);
	json_decref(b);
}

/* The query-string parsers: values as the handlers use them, and bytes
 * that are not UTF-8 (wapi_args keeps them) refused by name. */
TEST(args)
{
	char err[256], db[WREQ_NAME] = "x";
	int32_t chunk = 0;
	json_t *q = json_loads("{\"database\":\"e2e\",\"chunk\":\"2147483647\"}", 0, NULL);
	ASSERT_EQ(0, wreq_chunk_arg(q, db, &chunk, err, sizeof err));
	EXPECT_STREQ("e2e", db);
	EXPECT_EQ(INT32_MAX, chunk);
	json_decref(q);
	q = json_object();
	ASSERT_EQ(0, wreq_db_arg(q, db, err, sizeof err));
	EXPECT_STREQ("", db);
	json_object_set_new(q, "database", json_string_nocheck("e2e\xff"));
	json_object_set_new(q, "chunk", json_string("5"));
	EXPECT_EQ(-EINVAL, wreq_db_arg(q, db, err, sizeof err));
	EXPECT_NE(NULL, strstr(err, "database"));
	EXPECT_EQ(-EINVAL, wreq_chunk_arg(q, db, &chunk, err, sizeof err));
	EXPECT_NE(NULL, strstr(err, "database"));
	EXPECT_EQ(-1, chunk);
	json_decref(q);
}

/* The regular tables: chunk WREQ_REGULAR, never a real chunk nor the -1
 * of a refused one, from a body and from a query string. */
TEST(regular)
{
	char err[256], db[WREQ_NAME] = "";
	int32_t chunk = 0;
	struct wreq_replica r;
	json_t *b = json_loads("{\"database\":\"e2e\",\"regular\":true,\"source_id\":\"worker-1\","
			       "\"source_url\":\"https://10.0.0.1:25004/\"}", 0, NULL);
	ASSERT_EQ(0, wreq_replica(b, &r, err, sizeof err));
	EXPECT_EQ(WREQ_REGULAR, r.chunk);
	EXPECT_STREQ("e2e", r.db);
	EXPECT_STREQ("https://10.0.0.1:25004", r.source_url);
	EXPECT_NE(-1, WREQ_REGULAR);
	json_decref(b);
	b = json_loads("{\"database\":\"e2e\",\"regular\":0,\"chunk\":\"7\",\"source_id\":\"w\",\"source_url\":\"http://h\"}",
		       0, NULL);
	ASSERT_EQ(0, wreq_replica(b, &r, err, sizeof err));
	EXPECT_EQ(7, r.chunk);
	json_decref(b);
	json_t *q = json_loads("{\"database\":\"e2e\",\"regular\":\"1\"}", 0, NULL);
	ASSERT_EQ(0, wreq_chunk_arg(q, db, &chunk, err, sizeof err));
	EXPECT_EQ(WREQ_REGULAR, chunk);
	EXPECT_STREQ("e2e", db);
	json_object_set_new(q, "chunk", json_string("3"));
	EXPECT_EQ(-EINVAL, wreq_chunk_arg(q, db, &chunk, err, sizeof err));
	EXPECT_EQ(-1, chunk);
	json_decref(q);
}

/* multipart/form-data of POST /ingest/csv: what curl -F and requests'
 * MultipartEncoder send is taken (fields, the file part's bytes exactly),
 * and each malformed form is refused naming what is wrong. */
static int form(const char *body, json_t **f, size_t *off, size_t *len, char *err, size_t errlen)
{
	return mpart_form(body, strlen(body), "XyZ", f, off, len, err, errlen);
}

TEST(multipart)
{
	char err[256], b[MPART_BOUNDARY];
	json_t *f = NULL;
	size_t off = 0, len = 0;
	const char *ok = "--XyZ\r\nContent-Disposition: form-data; name=\"transaction_id\"\r\n\r\n7\r\n"
			 "--XyZ\r\nContent-Disposition: form-data; name=\"table\"\r\n\r\nObject\r\n"
			 "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n"
			 "Content-Type: text/csv\r\n\r\n1,2\r\n3,4\n\r\n--XyZ--\r\n";
	ASSERT_EQ(0, form(ok, &f, &off, &len, err, sizeof err)) TH_LOG("%s", err);
	EXPECT_STREQ("7", json_string_value(json_object_get(f, "transaction_id")));
	EXPECT_STREQ("Object", json_string_value(json_object_get(f, "table")));
	EXPECT_EQ(9, len);
	EXPECT_EQ(0, memcmp(ok + off, "1,2\r\n3,4\n", 9));
	struct wreq_contrib c;
	EXPECT_EQ(0, wreq_contrib(f, &c, err, sizeof err));
	EXPECT_EQ(7, c.trans_id);
	json_decref(f);
	/* an empty file part, a preamble before the first boundary */
	ASSERT_EQ(0, form("junk\r\n--XyZ\r\nContent-Disposition: form-data; name=file; filename=x\r\n\r\n"
			  "\r\n--XyZ--", &f, &off, &len, err, sizeof err)) TH_LOG("%s", err);
	EXPECT_EQ(0, len);
	json_decref(f);
	static const struct { const char *body, *why; } bad[] = {
		{ "no boundary at all", "no boundary line" },
		{ "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--XyZ--", "file part" },
		{ "--XyZ\r\nContent-Disposition: form-data; name=f; filename=a\r\n\r\n1\r\n"
		  "--XyZ\r\nContent-Disposition: form-data; name=g; filename=b\r\n\r\n2\r\n--XyZ--", "one file part" },
		{ "--XyZ\r\nContent-Disposition: form-data; name=f; filename=a\r\n\r\n1,2\n", "not closed" },
		{ "--XyZ\r\nContent-Type: text/plain\r\n\r\nv\r\n--XyZ--", "Content-Disposition" },
		{ "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
		  "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n2\r\n--XyZ--", "repeated" },
		{ "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n", "headers do not end" },
		{ "--XyZx\r\n", "not followed by CRLF" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		err[0] = '\0';
		EXPECT_EQ(-EINVAL, form(bad[i].body, &f, &off, &len, err, sizeof err)) TH_LOG("case %zu accepted", i);
		EXPECT_NE(NULL, strstr(err, bad[i].why)) TH_LOG("case %zu: \"%s\" lacks %s", i, err, bad[i].why);
		EXPECT_EQ(NULL, f);
	}
	EXPECT_EQ(0, mpart_boundary("multipart/form-data; boundary=------------------------abc", b, err, sizeof err));
	EXPECT_STREQ("------------------------abc", b);
	EXPECT_EQ(0, mpart_boundary("Multipart/Form-Data; charset=utf-8; boundary=\"a b\"", b, err, sizeof err));
	EXPECT_STREQ("a b", b);
	EXPECT_EQ(-EINVAL, mpart_boundary("multipart/form-data", b, err, sizeof err));
	EXPECT_EQ(-EINVAL, mpart_boundary("multipart/mixed; boundary=x", b, err, sizeof err));
	EXPECT_EQ(-EINVAL, mpart_boundary("multipart/form-data; boundary=\"unclosed", b, err, sizeof err));
	EXPECT_EQ(-EINVAL, mpart_boundary(NULL, b, err, sizeof err));
}

/* ids of the retry and report routes */
TEST(ids)
{
	char err[256];
	uint32_t id = 0, tr = 0;
	EXPECT_EQ(0, wreq_id("4294967295", &id, err, sizeof err));
	EXPECT_EQ(4294967295u, id);
	EXPECT_EQ(-EINVAL, wreq_id("4294967296", &id, err, sizeof err));
	EXPECT_EQ(-EINVAL, wreq_id("0", &id, err, sizeof err));
	EXPECT_EQ(-EINVAL, wreq_id("trans/5", &id, err, sizeof err));
	EXPECT_EQ(-EINVAL, wreq_id("", &id, err, sizeof err));
	json_t *q = json_loads("{\"transaction_id\":\"5\"}", 0, NULL);
	EXPECT_EQ(0, wreq_contribs_arg(q, &tr, &id, err, sizeof err));
	EXPECT_EQ(5, tr);
	EXPECT_EQ(0, id);
	json_decref(q);
	q = json_loads("{\"transaction_id\":\"5\",\"id\":\"6\"}", 0, NULL);
	EXPECT_EQ(-EINVAL, wreq_contribs_arg(q, &tr, &id, err, sizeof err));
	json_decref(q);
	q = json_loads("{\"transaction_id\":\"2147483648\"}", 0, NULL);
	EXPECT_EQ(-EINVAL, wreq_contribs_arg(q, &tr, &id, err, sizeof err));
	json_decref(q);
	q = json_loads("{}", 0, NULL);
	EXPECT_EQ(-EINVAL, wreq_contribs_arg(q, &tr, &id, err, sizeof err));
	json_decref(q);
}

TEST_HARNESS_MAIN
