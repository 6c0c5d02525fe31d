/* creq_test.c: the controller's request-body parsers (creq.c), table-driven:
 * the real bodies the tests and the loader send are accepted with the
 * values the handlers used before creq.c existed, and each refused body
 * names its field; numbers past int range are refused, never narrowed to
 * a valid value (a chunk, a stripe count, a port), and an overlap of NaN
 * or 1e300 is refused. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include <kselftest_harness.h>

#include "qserv/controller/creq.h"

enum kind { DB, TABLE, TRANS, CHUNK, CHUNKS, REBUILD, INDEX, PUBLISH, WORKER, LEVEL, MAINT, EVICT, VERIFY, DRAIN, HEALTH,
	    STATS, STATS_DEL };

#define MSCHEMA "\"schema\":[{\"name\":\"objectId\",\"type\":\"BIGINT\"},{\"name\":\"sourceId\",\"type\":\"BIGINT\"}," \
	"{\"name\":\"flags\",\"type\":\"INT\"},{\"name\":\"chunkId\",\"type\":\"INT\"},{\"name\":\"subChunkId\",\"type\":\"INT\"}]"
#define MATCH(d1, d2, k2, flag, sep) "{\"database\":\"ms\",\"table\":\"Match\",\"is_partitioned\":1," \
	"\"director_table\":\"" d1 "\",\"director_key\":\"objectId\",\"director_table2\":\"" d2 "\"," \
	"\"director_key2\":\"" k2 "\",\"flag\":\"" flag "\",\"ang_sep\":" sep "," MSCHEMA "}"

static const struct body_case {
	enum kind kind;
	const char *json;
	const char *field;      /* NULL: accepted; else part of the error */
} cases[] = {
	{ DB, "{\"database\":\"e2e\",\"num_stripes\":85,\"num_sub_stripes\":12,\"overlap\":0.01667,\"auth_key\":\"\"}", NULL },
	{ DB, "{\"database\":\"e2e\",\"num_stripes\":\"85\",\"num_sub_stripes\":\"12\",\"overlap\":\"0.01\"}", NULL },
	{ DB, "{\"database\":\"e2e\",\"num_stripes\":4294967381,\"num_sub_stripes\":12,\"overlap\":0.01}", "num_stripes" },
	{ DB, "{\"database\":\"e2e\",\"num_stripes\":1e300,\"num_sub_stripes\":12,\"overlap\":0.01}", "num_stripes" },
	{ DB, "{\"database\":\"e2e\",\"num_stripes\":85,\"num_sub_stripes\":12,\"overlap\":\"nan\"}", "overlap" },
	{ DB, "{\"database\":\"e2e\",\"num_stripes\":85,\"num_sub_stripes\":12,\"overlap\":1e300}", "overlap" },
	{ DB, "{\"database\":\"x' OR 1=1 -- \",\"num_stripes\":85,\"num_sub_stripes\":12,\"overlap\":0.01}", "database" },
	{ TABLE, "{\"database\":\"e2e\",\"table\":\"Object\",\"is_partitioned\":1,\"director_key\":\"objectId\","
		 "\"latitude_key\":\"decl\",\"longitude_key\":\"ra\",\"schema\":[{\"name\":\"objectId\",\"type\":\"BIGINT\"},"
		 "{\"name\":\"ra\",\"type\":\"DOUBLE\"},{\"name\":\"decl\",\"type\":\"DOUBLE\"},"
		 "{\"name\":\"chunkId\",\"type\":\"INT\"},{\"name\":\"subChunkId\",\"type\":\"INT\"}]}", NULL },
	{ TABLE, "{\"database\":\"e2e\",\"table\":\"Filter\",\"is_partitioned\":0,"
		 "\"schema\":[{\"name\":\"filterId\",\"type\":\"TINYINT\"}]}", NULL },
	{ TABLE, "{\"database\":\"e2e\",\"table\":\"Object\",\"is_partitioned\":1,\"director_key\":\"objectId\","
		 "\"latitude_key\":\"decl\",\"longitude_key\":\"ra\",\"schema\":[{\"name\":\"objectId\",\"type\":\"BIGINT\"}]}",
	  "chunk_id_key" },
	{ TABLE, "{\"database\":\"e2e\",\"table\":\"Filter\",\"longitude_key\":\"x' AND EXTRACTVALUE(1,@@version) AND '\","
		 "\"schema\":[{\"name\":\"filterId\",\"type\":\"TINYINT\"}]}", "longitude_key" },
	{ TABLE, "{\"database\":\"e2e\",\"table\":\"Filter\",\"schema\":[{\"name\":\"a\",\"type\":\"INT); DROP TABLE x; --\"}]}",
	  "schema[0].type" },
	{ TABLE, "{\"database\":\"e2e\",\"table\":\"Filter\",\"schema\":[]}", "schema" },
	{ TRANS, "{\"database\":\"e2e\",\"context\":{\"qservctl\":\"tok\"}}", NULL },
	{ TRANS, "{}", "database" },
	{ CHUNK, "{\"transaction_id\":3,\"chunk\":57871}", NULL },
	{ CHUNK, "{\"database\":\"e2e\"}", "chunk" },
	{ CHUNK, "{\"chunk\":5}", "transaction_id" },
	{ CHUNKS, "{\"database\":\"e2e\",\"chunks\":[1,\"2\"]}", NULL },
	{ REBUILD, "{\"database\":\"e2e\",\"director_table\":\"Obj`ect\"}", "director_table" },
	{ REBUILD, "{\"transaction_id\":\"4\"}", NULL },
	{ INDEX, "{\"database\":\"e2e\",\"table\":\"Object\",\"index\":\"idx_ra\",\"columns\":[{\"column\":\"ra\"}]}", NULL },
	{ INDEX, "{\"database\":\"e2e\",\"table\":\"Object\",\"index\":\"idx_ra\",\"columns\":[{\"column\":\"r a\"}]}",
	  "columns[0].column" },
	{ PUBLISH, "{}", NULL },
	{ PUBLISH, "{\"publish\":\"false\"}", "publish" },
	{ WORKER, "{\"id\":\"worker-1\",\"host\":\"10.0.0.7\",\"ingest_port\":25004,\"query_port\":25002}", NULL },
	{ WORKER, "{\"id\":\"worker-1\",\"host\":\"10.0.0.7\",\"ingest_port\":4294992300}", "ingest_port" },
	{ WORKER, "{\"id\":\"worker-1\",\"host\":\"h/../x\"}", "host" },
	{ WORKER, "{\"id\":\"worker-1\",\"host\":\"10.0.0.7\",\"zone\":\"rack-1.b_2\"}", NULL },
	{ WORKER, "{\"id\":\"worker-1\",\"host\":\"10.0.0.7\",\"zone\":\"\"}", NULL },
	{ WORKER, "{\"id\":\"worker-1\",\"host\":\"10.0.0.7\",\"zone\":\"rack 1\"}", "zone" },
	{ WORKER, "{\"id\":\"worker-1\",\"host\":\"10.0.0.7\",\"zone\":\"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\"}", "zone" },
	{ WORKER, "{\"id\":\"worker-1\",\"host\":\"10.0.0.7\",\"zone\":7}", "zone" },
	{ LEVEL, "{\"level\":2}", NULL },
	{ LEVEL, "{\"level\":3,\"database\":\"e2e\"}", NULL },
	{ LEVEL, "{\"level\":2,\"database\":\"\"}", NULL },
	{ LEVEL, "{\"level\":0}", "level" },
	{ LEVEL, "{\"level\":\"2\"}", "level" },
	{ LEVEL, "{\"level\":17}", "level" },
	{ LEVEL, "{\"level\":2,\"database\":\"mysql\"}", "database" },
	{ LEVEL, "{\"level\":2,\"database\":7}", "database" },
	{ MAINT, "{\"worker\":\"worker-2\",\"maintenance\":true}", NULL },
	{ MAINT, "{\"worker\":\"worker-2\",\"maintenance\":false}", NULL },
	{ MAINT, "{\"worker\":\"worker-2\",\"maintenance\":1}", "maintenance" },
	{ MAINT, "{\"worker\":\"worker-2\"}", "maintenance" },
	{ MAINT, "{\"worker\":\"w'; DROP\",\"maintenance\":true}", "worker" },
	{ MAINT, "{\"maintenance\":true}", "worker" },
	{ DRAIN, "{\"worker\":\"worker-3\",\"drain\":true}", NULL },
	{ DRAIN, "{\"worker\":\"worker-3\",\"drain\":false}", NULL },
	{ DRAIN, "{\"worker\":\"worker-3\",\"drain\":\"yes\"}", "drain" },
	{ DRAIN, "{\"worker\":\"worker-3\",\"maintenance\":true}", "drain" },
	{ DRAIN, "{\"worker\":\"../x\",\"drain\":true}", "worker" },
	{ DRAIN, "{\"drain\":true}", "worker" },
	{ HEALTH, "{\"worker\":\"worker-3\",\"up\":false}", NULL },
	{ HEALTH, "{\"worker\":\"worker-3\",\"up\":true}", NULL },
	{ HEALTH, "{\"worker\":\"worker-3\",\"up\":\"down\"}", "up" },
	{ HEALTH, "{\"worker\":\"w'; DROP\",\"up\":false}", "worker" },
	{ EVICT, "{\"seconds\":10}", NULL },
	{ EVICT, "{\"seconds\":0}", "seconds" },
	{ EVICT, "{\"seconds\":86401}", "seconds" },
	{ EVICT, "{\"seconds\":\"10\"}", "seconds" },
	{ EVICT, "{\"seconds\":4294967306}", "seconds" },
	{ VERIFY, "{\"seconds\":0}", NULL },
	{ VERIFY, "{\"seconds\":86400}", NULL },
	{ VERIFY, "{\"seconds\":-1}", "seconds" },
	{ VERIFY, "{\"seconds\":31622401}", "seconds" },
	{ VERIFY, "{\"seconds\":\"60\"}", "seconds" },
	{ VERIFY, "{}", "seconds" },
	/* ref-match tables (Qserv's ref-match.rst) */
	{ TABLE, MATCH("Object", "Source", "sourceId", "flags", "0.01"), NULL },
	{ TABLE, MATCH("ms.Object", "ms.Source", "sourceId", "flags", "0.01"), NULL },
	{ TABLE, MATCH("Object", "other.Source", "sourceId", "flags", "0.01"), "names a table of database other" },
	{ TABLE, MATCH("Object", "x`y.Source", "sourceId", "flags", "0.01"), "director_table2: not a valid" },
	{ TABLE, MATCH("Object", "Source", "nope", "flags", "0.01"), "director_key2: nope is not a column" },
	{ TABLE, MATCH("Object", "Source", "objectId", "flags", "0.01"), "distinct" },
	{ TABLE, MATCH("Object", "Source", "sourceId", "", "0.01"), "flag is required" },
	{ TABLE, MATCH("Object", "Source", "sourceId", "flags", "0"), "ang_sep" },
	{ TABLE, MATCH("Object", "Source", "sourceId", "flags", "\"nan\""), "ang_sep" },
	{ TABLE, MATCH("Match", "Source", "sourceId", "flags", "0.01"), "must be other tables" },
	{ TABLE, "{\"database\":\"ms\",\"table\":\"R\",\"ang_sep\":1,\"schema\":[{\"name\":\"a\",\"type\":\"INT\"}]}",
	  "ref-match tables only" },
	/* row counters (Qserv's /ingest/table-stats) */
	{ STATS, "{\"database\":\"test101\",\"table\":\"Object\",\"overlap_selector\":\"CHUNK_AND_OVERLAP\","
		 "\"force_rescan\":1,\"row_counters_state_update_policy\":\"ENABLED\",\"row_counters_deploy_at_qserv\":1}", NULL },
	{ STATS, "{\"database\":\"test101\",\"table\":\"Object\"}", NULL },
	{ STATS, "{\"database\":\"test101\",\"table\":\"Object\",\"overlap_selector\":\"BOTH\"}", "overlap_selector" },
	{ STATS, "{\"database\":\"test101\",\"table\":\"Object\",\"row_counters_state_update_policy\":\"YES\"}",
	  "row_counters_state_update_policy" },
	{ STATS, "{\"database\":\"test101\"}", "table" },
	{ STATS_DEL, "{\"overlap_selector\":\"OVERLAP\",\"qserv_only\":1}", NULL },
	{ STATS_DEL, "{\"overlap_selector\":3}", "overlap_selector" },
};

static int parse(enum kind k, json_t *b, char *err, size_t errlen)
{
	union {
		struct creq_database d; struct creq_table t; struct creq_trans tr; struct creq_chunk c;
		struct creq_target g; struct creq_rebuild r; struct creq_index i; struct creq_worker w;
		struct creq_level l; struct creq_maint m;
	} u;
	int32_t *chunks = NULL;
	size_t n;
	bool p;
	int rc, secs;
	struct creq_stats st;
	enum creq_overlap ov;
	switch (k) {
	case DB: return creq_database(b, &u.d, err, errlen);
	case TABLE: return creq_table(b, &u.t, err, errlen);
	case TRANS: return creq_trans(b, &u.tr, err, errlen);
	case CHUNK: return creq_chunk(b, &u.c, err, errlen);
	case CHUNKS:
		rc = creq_chunks(b, &u.g, &chunks, &n, err, errlen);
		free(chunks);
		return rc;
	case REBUILD: return creq_rebuild(b, &u.r, err, errlen);
	case INDEX: return creq_index(b, &u.i, err, errlen);
	case PUBLISH: return creq_publish(b, &p, err, errlen);
	case LEVEL: return creq_level(b, &u.l, err, errlen);
	case MAINT: return creq_maint(b, &u.m, err, errlen);
	case EVICT: return creq_evict_after(b, &secs, err, errlen);
	case VERIFY: return creq_verify_interval(b, &secs, err, errlen);
	case DRAIN: return creq_drain(b, &u.m, err, errlen);
	case HEALTH: return creq_health(b, &u.m, err, errlen);
	case STATS: return creq_stats(b, &st, err, errlen);
	case STATS_DEL: return creq_stats_delete(b, &ov, &p, err, errlen);
	default: return creq_worker(b, &u.w, err, errlen);
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

/* the values the handlers use, as they read them before */
TEST(values)
{
	char err[256];
	struct creq_table t;
	struct creq_chunk c;
	json_t *b = json_loads("{\"database\":\"e2e\",\"table\":\"Source\",\"is_partitioned\":\"1\","
			       "\"director_table\":\"Object\",\"director_key\":\"objectId\",\"schema\":"
			       "[{\"name\":\"objectId\",\"type\":\"BIGINT\"},{\"name\":\"chunkId\",\"type\":\"INT\"},"
			       "{\"name\":\"subChunkId\",\"type\":\"INT\"}]}", 0, NULL);
	ASSERT_EQ(0, creq_table(b, &t, err, sizeof err));
	EXPECT_TRUE(t.partitioned);
	EXPECT_FALSE(t.director);
	EXPECT_STREQ("chunkId", t.chunk_key);
	EXPECT_STREQ("subChunkId", t.sub_chunk_key);
	EXPECT_STREQ("Object", t.director_table);
	json_decref(b);
	b = json_loads("{\"database\":\"e2e\",\"chunk\":4294967301}", 0, NULL);
	ASSERT_EQ(0, creq_chunk(b, &c, err, sizeof err));
	EXPECT_EQ(-1, c.chunk);         /* cplace_chunk refuses it; never chunk 5 */
	EXPECT_STREQ("e2e", c.target.db);
	json_decref(b);
}

/* PUT /ingest/config: Qserv's keys as loaders send them (numbers as
 * integers or digit strings), others ignored, bad values named; the path
 * ids digits only and in range. */
TEST(config)
{
	static struct creq_config q;    /* ~1 MB */
	static const struct { const char *json; const char *field; } cases[] = {
		{ "{\"database\":\"e2e\",\"SSL_VERIFYHOST\":0,\"CAINFO\":\"/x.pem\",\"LOW_SPEED_LIMIT\":\"100\","
		  "\"auth_key\":\"k\",\"version\":39,\"num_retries\":3}", NULL },
		{ "{\"database\":\"e2e\"}", NULL },
		{ "{\"SSL_VERIFYHOST\":0}", "database" },
		{ "{\"database\":\"e2e\",\"TIMEOUT\":-1}", "TIMEOUT" },
		{ "{\"database\":\"e2e\",\"TIMEOUT\":\"1x\"}", "TIMEOUT" },
		{ "{\"database\":\"e2e\",\"TIMEOUT\":2147483648}", "TIMEOUT" },
		{ "{\"database\":\"e2e\",\"TIMEOUT\":1.5}", "TIMEOUT" },
		{ "{\"database\":\"e2e\",\"CAINFO\":5}", "CAINFO" },
		{ "{\"database\":\"e2e\",\"CAPATH\":\"a\\u0000b\"}", "CAPATH" },
	};
	char err[256];
	size_t n;
	const struct creq_config_key *k = creq_config_keys(&n);
	ASSERT_EQ(CREQ_CONFIG_KEYS, n);
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		json_t *b = json_loads(cases[i].json, JSON_ALLOW_NUL, NULL);
		ASSERT_NE(NULL, b);
		int rc = creq_config(b, &q, err, sizeof err);
		json_decref(b);
		if (!cases[i].field) {
			EXPECT_EQ(0, rc) TH_LOG("case %zu refused: %s", i, err);
		} else {
			EXPECT_NE(NULL, strstr(err, cases[i].field)) TH_LOG("case %zu: %s", i, err);
		}
	}
	json_t *b = json_loads(cases[0].json, 0, NULL);
	ASSERT_EQ(0, creq_config(b, &q, err, sizeof err));
	json_decref(b);
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(k[i].name, "SSL_VERIFYHOST")) {
			EXPECT_STREQ("0", q.value[i]);
		}
		if (!strcmp(k[i].name, "LOW_SPEED_LIMIT")) {
			EXPECT_STREQ("100", q.value[i]);
		}
		if (!strcmp(k[i].name, "CAINFO")) {
			EXPECT_STREQ("/x.pem", q.value[i]);
		}
		EXPECT_EQ(!strcmp(k[i].name, "SSL_VERIFYHOST") || !strcmp(k[i].name, "LOW_SPEED_LIMIT") ||
			  !strcmp(k[i].name, "CAINFO"), q.set[i]);
	}
	long long id = 0;
	EXPECT_EQ(0, creq_contrib_id("4294967295", &id, err, sizeof err));
	EXPECT_EQ(4294967295LL, id);
	EXPECT_EQ(-EINVAL, creq_contrib_id("4294967296", &id, err, sizeof err));
	EXPECT_EQ(-EINVAL, creq_contrib_id("0", &id, err, sizeof err));
	EXPECT_EQ(-EINVAL, creq_contrib_id("1/2", &id, err, sizeof err));
	EXPECT_EQ(-EINVAL, creq_contrib_id(NULL, &id, err, sizeof err));
	EXPECT_EQ(0, creq_trans_id("2147483647", &id, err, sizeof err));
	EXPECT_EQ(-EINVAL, creq_trans_id("2147483648", &id, err, sizeof err));
	EXPECT_EQ(-EINVAL, creq_trans_id("-1", &id, err, sizeof err));
}

TEST_HARNESS_MAIN
