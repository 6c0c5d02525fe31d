/* plan_test.c: query analysis and rewrite -- the worker and merge SQL the
 * czar produces for each query shape, chunk selection by restrictors, index
 * lookups, and refusals.  The expected SQL below is also run for real by
 * the end-to-end tests; here it documents and pins the rewrite. */
#include <stdio.h>
#include <string.h>

#include <kselftest_harness.h>

#include <mariadb/mysqld_error.h>

#include "../meta.h"
#include "../plan.h"
#include "../rowcount.h"
#include "../sql.h"

/* LSST: S=85, SS=12, overlap 0.01667; Object director, Source child with
 * own positions, Filter regular.  Chunks placed: every chunk of the sky,
 * alternately on worker-1 and worker-2. */
static struct meta *cached;

static struct meta *test_meta(void)
{
	struct meta *m;

	if (cached)                  /* built once per test process */
		return meta_ref(cached);
	m = meta_new();
	struct meta_db *d;
	struct meta_table *t;
	struct qchunk_ids all = { 0 };
	char err[256];
	size_t i;

	meta_add_worker(m, "worker-1", "127.0.0.1", 1);
	meta_add_worker(m, "worker-2", "127.0.0.1", 2);
	d = meta_add_db(m, "LSST", 85, 12, 0.01667, err, sizeof(err));
	t = meta_add_table(d, "Object");
	t->partitioned = t->director = 1;
	strcpy(t->director_table, "Object");
	strcpy(t->director_key, "objectId");
	strcpy(t->lon_key, "ra");
	strcpy(t->lat_key, "decl");
	meta_table_schema(t, "[{\"name\":\"objectId\",\"type\":\"BIGINT\"},{\"name\":\"ra\",\"type\":\"DOUBLE\"},"
			     "{\"name\":\"decl\",\"type\":\"DOUBLE\"}]");
	t = meta_add_table(d, "Source");
	t->partitioned = 1;
	strcpy(t->director_table, "Object");
	strcpy(t->director_key, "objectId");
	strcpy(t->lon_key, "ra");
	strcpy(t->lat_key, "decl");
	meta_table_schema(t, "[{\"name\":\"sourceId\",\"type\":\"BIGINT\"},{\"name\":\"objectId\",\"type\":\"BIGINT\"},"
			     "{\"name\":\"flux\",\"type\":\"DOUBLE\"}]");
	t = meta_add_table(d, "Filter");
	/* a second director and a match table between it and Object */
	t = meta_add_table(d, "RefObject");
	t->partitioned = t->director = 1;
	strcpy(t->director_table, "RefObject");
	strcpy(t->director_key, "refId");
	strcpy(t->lon_key, "ra");
	strcpy(t->lat_key, "decl");
	meta_table_schema(t, "[{\"name\":\"refId\",\"type\":\"BIGINT\"},{\"name\":\"ra\",\"type\":\"DOUBLE\"},"
			     "{\"name\":\"decl\",\"type\":\"DOUBLE\"},{\"name\":\"chunkId\",\"type\":\"INT\"}]");
	t = meta_add_table(d, "RefMatch");
	t->partitioned = t->match = 1;
	strcpy(t->director_table, "RefObject");
	strcpy(t->director_key, "refId");
	strcpy(t->director_table2, "Object");
	strcpy(t->director_key2, "objId");
	strcpy(t->flag_key, "flags");
	t->ang_sep = 0.01;
	meta_table_schema(t, "[{\"name\":\"refId\",\"type\":\"BIGINT\"},{\"name\":\"objId\",\"type\":\"BIGINT\"},"
			     "{\"name\":\"dist\",\"type\":\"DOUBLE\"},{\"name\":\"flags\",\"type\":\"INT\"}]");
	qchunk_all_chunks(d->chunker, &all);
	for (i = 0; i < all.n; i++)
		meta_add_chunk(d, all.v[i], (unsigned)(i % 2));
	qchunk_ids_free(&all);
	meta_finish(m);
	cached = meta_ref(m);
	return m;
}

struct result {
	int rc;
	char text[4096];
	struct plan *p;
};

static void run(const char *sql, const char *db, struct result *r)
{
	struct meta *m = test_meta();
	struct sql_stmt *st;
	struct sql_error err;

	memset(r, 0, sizeof(*r));
	r->rc = sql_parse(sql, strlen(sql), &st, &err);
	if (r->rc == 0) {
		r->rc = plan_build(st, sql, db, m, &r->p, &err);
		sql_stmt_free(st);
	}
	if (r->rc < 0) {
		snprintf(r->text, sizeof(r->text), "ERROR %u: %s", err.code, err.msg);
	} else if (r->p->kind == PLAN_LOCAL) {
		snprintf(r->text, sizeof(r->text), "LOCAL: %s", r->p->sql);
	} else {
		snprintf(r->text, sizeof(r->text), "WORKER: %s\nMERGE: %s", r->p->worker_sql,
			 r->p->merge_sql ? r->p->merge_sql : "(stream)");
	}
	printf("# %s\n#   -> %s\n", sql, r->text);
	meta_unref(m);
}

static const struct { const char *sql, *want; } shapes[] = {
	{ "SELECT 1 + 1", "LOCAL: SELECT 1 + 1" },
	{ "SELECT objectId, ra, decl FROM Object WHERE objectId = 42",
	  "WORKER: SELECT `objectId`, `ra`, `decl` FROM `LSST`.`Object_%CC%` AS `Object` WHERE `objectId` = 42\n"
	  "MERGE: (stream)" },
	{ "SELECT COUNT(*) FROM LSST.Object",
	  "WORKER: SELECT COUNT(*) AS `QS_A1` FROM `LSST`.`Object_%CC%` AS `Object`\n"
	  "MERGE: SELECT CAST(COALESCE(SUM(`QS_A1`), 0) AS SIGNED) AS `COUNT(*)` FROM `%RT%`" },
	{ "SELECT AVG(ra), MIN(decl), MAX(decl), SUM(flux) AS s FROM Object",
	  "WORKER: SELECT SUM(`ra`) AS `QS_A1`, COUNT(`ra`) AS `QS_A2`, MIN(`decl`) AS `QS_A3`, MAX(`decl`) AS `QS_A4`, "
	  "SUM(`flux`) AS `QS_A5` FROM `LSST`.`Object_%CC%` AS `Object`\n"
	  "MERGE: SELECT SUM(`QS_A1`) / SUM(`QS_A2`) AS `AVG(ra)`, MIN(`QS_A3`) AS `MIN(decl)`, MAX(`QS_A4`) AS `MAX(decl)`, "
	  "SUM(`QS_A5`) AS `s` FROM `%RT%`" },
	{ "SELECT filterId AS f, COUNT(*) AS n, AVG(flux) FROM Source GROUP BY f HAVING n > 10 ORDER BY n DESC LIMIT 3",
	  "WORKER: SELECT `filterId` AS `QS_G1`, COUNT(*) AS `QS_A2`, SUM(`flux`) AS `QS_A3`, COUNT(`flux`) AS `QS_A4` "
	  "FROM `LSST`.`Source_%CC%` AS `Source` GROUP BY `filterId`\n"
	  "MERGE: SELECT `QS_G1` AS `f`, CAST(COALESCE(SUM(`QS_A2`), 0) AS SIGNED) AS `n`, SUM(`QS_A3`) / SUM(`QS_A4`) "
	  "AS `AVG(flux)` FROM `%RT%` GROUP BY `QS_G1` HAVING CAST(COALESCE(SUM(`QS_A2`), 0) AS SIGNED) > 10 "
	  "ORDER BY 2 DESC LIMIT 3" },
	{ "SELECT objectId, ra FROM Object ORDER BY ra DESC LIMIT 5",
	  "WORKER: SELECT `objectId` AS `QS_C1`, `ra` AS `QS_C2` FROM `LSST`.`Object_%CC%` AS `Object` "
	  "ORDER BY `ra` DESC LIMIT 5\n"
	  "MERGE: SELECT `QS_C1` AS `objectId`, `QS_C2` AS `ra` FROM `%RT%` ORDER BY 2 DESC LIMIT 5" },
	{ "SELECT objectId FROM Object ORDER BY decl LIMIT 2, 5",
	  "WORKER: SELECT `objectId` AS `QS_C1`, `decl` AS `QS_O2` FROM `LSST`.`Object_%CC%` AS `Object` "
	  "ORDER BY `decl` LIMIT 7\n"
	  "MERGE: SELECT `QS_C1` AS `objectId` FROM `%RT%` ORDER BY `QS_O2` LIMIT 5 OFFSET 2" },
	{ "SELECT DISTINCT filterId FROM Source",
	  "WORKER: SELECT DISTINCT `filterId` AS `QS_C1` FROM `LSST`.`Source_%CC%` AS `Source`\n"
	  "MERGE: SELECT DISTINCT `QS_C1` AS `filterId` FROM `%RT%`" },
	{ "SELECT ra FROM Object LIMIT 10",
	  "WORKER: SELECT `ra` FROM `LSST`.`Object_%CC%` AS `Object` LIMIT 10\nMERGE: (stream)" },
	{ "SELECT o.objectId, s.flux FROM Object o JOIN Source s ON o.objectId = s.objectId WHERE s.flux > 1",
	  "WORKER: SELECT `o`.`objectId`, `s`.`flux` FROM `LSST`.`Object_%CC%` AS `o` JOIN `LSST`.`Source_%CC%` AS `s` "
	  "ON `o`.`objectId` = `s`.`objectId` WHERE `s`.`flux` > 1\nMERGE: (stream)" },
	{ "SELECT o.objectId, COUNT(*) FROM Object o, Source s WHERE o.objectId = s.objectId GROUP BY o.objectId",
	  "WORKER: SELECT `o`.`objectId` AS `QS_G1`, COUNT(*) AS `QS_A2` FROM `LSST`.`Object_%CC%` AS `o`, "
	  "`LSST`.`Source_%CC%` AS `s` WHERE `o`.`objectId` = `s`.`objectId` GROUP BY `o`.`objectId`\n"
	  "MERGE: SELECT `QS_G1` AS `objectId`, CAST(COALESCE(SUM(`QS_A2`), 0) AS SIGNED) AS `COUNT(*)` FROM `%RT%` "
	  "GROUP BY `QS_G1`" },
	{ "SELECT s.sourceId, f.name FROM Source s JOIN Filter f USING (filterId)",
	  "WORKER: SELECT `s`.`sourceId`, `f`.`name` FROM `LSST`.`Source_%CC%` AS `s` JOIN `LSST`.`Filter` AS `f` "
	  "USING (`filterId`)\nMERGE: (stream)" },
	{ "SELECT name FROM LSST.Filter WHERE filterId < 3",
	  "WORKER: SELECT `name` FROM `LSST`.`Filter` AS `Filter` WHERE `filterId` < 3\nMERGE: (stream)" },
	{ "SELECT objectId FROM Object WHERE qserv_areaspec_box(1, 2, 3, 4) AND decl > 0",
	  "WORKER: SELECT `objectId` FROM `LSST`.`Object_%CC%` AS `Object` WHERE "
	  "(scisql_s2PtInBox(`Object`.`ra`, `Object`.`decl`, 1, 2, 3, 4) = 1) AND (`decl` > 0)\nMERGE: (stream)" },
	{ "SELECT COUNT(*) FROM Object AS o WHERE qserv_areaspec_circle(10, -5, 0.5)",
	  "WORKER: SELECT COUNT(*) AS `QS_A1` FROM `LSST`.`Object_%CC%` AS `o` WHERE "
	  "scisql_s2PtInCircle(`o`.`ra`, `o`.`decl`, 10, -5, 0.5) = 1\n"
	  "MERGE: SELECT CAST(COALESCE(SUM(`QS_A1`), 0) AS SIGNED) AS `COUNT(*)` FROM `%RT%`" },
	{ "SELECT scisql_angSep(ra, decl, 0, 0) AS d, ra*2 FROM Object",
	  "WORKER: SELECT scisql_angSep(`ra`, `decl`, 0, 0) AS `d`, `ra` * 2 AS `ra*2` FROM `LSST`.`Object_%CC%` AS `Object`\n"
	  "MERGE: (stream)" },
	{ "SELECT * FROM Object JOIN Source USING (objectId) WHERE qserv_areaspec_box(0, 0, 1, 1)",
	  "WORKER: SELECT `Object`.`objectId`, `Object`.`ra`, `Object`.`decl`, `Source`.`sourceId`, `Source`.`flux` "
	  "FROM `LSST`.`Object_%CC%` AS `Object` JOIN `LSST`.`Source_%CC%` AS `Source` USING (`objectId`) WHERE "
	  "(scisql_s2PtInBox(`Object`.`ra`, `Object`.`decl`, 0, 0, 1, 1) = 1) AND "
	  "(scisql_s2PtInBox(`Source`.`ra`, `Source`.`decl`, 0, 0, 1, 1) = 1)\nMERGE: (stream)" },
	/* Qserv restricts every partitioned table of FROM: both instances of a
	 * near-neighbour join, per sub-chunk, the second one over sub-chunk + overlap */
	{ "SELECT COUNT(*) FROM Object o1, Object o2 WHERE qserv_areaspec_box(0, 0, 3, 10) "
	  "AND scisql_angSep(o1.ra, o1.decl, o2.ra, o2.decl) < 0.01",
	  "WORKER: SELECT COUNT(*) AS `QS_A1` FROM (SELECT * FROM `LSST`.`Object_%CC%` WHERE `subChunkId` = %SS%) AS `o1`, (SELECT `objectId`, `ra`, `decl` FROM "
	  "`LSST`.`Object_%CC%` WHERE `subChunkId` = %SS% UNION SELECT `objectId`, `ra`, `decl` FROM `LSST`.`ObjectFullOverlap_%CC%` WHERE `subChunkId` = %SS%) AS `o2` WHERE "
	  "((scisql_s2PtInBox(`o1`.`ra`, `o1`.`decl`, 0, 0, 3, 10) = 1) AND (scisql_s2PtInBox(`o2`.`ra`, `o2`.`decl`, 0, 0, "
	  "3, 10) = 1)) AND (scisql_angSep(`o1`.`ra`, `o1`.`decl`, `o2`.`ra`, `o2`.`decl`) < 0.01)\n"
	  "MERGE: SELECT CAST(COALESCE(SUM(`QS_A1`), 0) AS SIGNED) AS `COUNT(*)` FROM `%RT%`" },
	{ "SELECT s.*, o.ra FROM Object o, Source s WHERE o.objectId = s.objectId ORDER BY 1 LIMIT 2",
	  "WORKER: SELECT `s`.`sourceId` AS `QS_C1`, `s`.`objectId` AS `QS_C2`, `s`.`flux` AS `QS_C3`, `o`.`ra` AS `QS_C4` "
	  "FROM `LSST`.`Object_%CC%` AS `o`, `LSST`.`Source_%CC%` AS `s` WHERE `o`.`objectId` = `s`.`objectId` "
	  "ORDER BY `s`.`sourceId` LIMIT 2\n"
	  "MERGE: SELECT `QS_C1` AS `sourceId`, `QS_C2` AS `objectId`, `QS_C3` AS `flux`, `QS_C4` AS `ra` FROM `%RT%` "
	  "ORDER BY 1 LIMIT 2" },
	{ "SELECT o1.objectId, o2.objectId, scisql_angSep(o1.ra, o1.decl, o2.ra, o2.decl) AS d FROM Object o1, Object o2 "
	  "WHERE scisql_angSep(o1.ra, o1.decl, o2.ra, o2.decl) < 0.015 AND o1.objectId <> o2.objectId",
	  "WORKER: SELECT `o1`.`objectId`, `o2`.`objectId`, scisql_angSep(`o1`.`ra`, `o1`.`decl`, `o2`.`ra`, `o2`.`decl`) AS `d` "
	  "FROM (SELECT * FROM `LSST`.`Object_%CC%` WHERE `subChunkId` = %SS%) AS `o1`, (SELECT `objectId`, `ra`, `decl` FROM `LSST`.`Object_%CC%` WHERE `subChunkId` = %SS% UNION "
	  "SELECT `objectId`, `ra`, `decl` FROM `LSST`.`ObjectFullOverlap_%CC%` WHERE `subChunkId` = %SS%) AS `o2` WHERE "
	  "(scisql_angSep(`o1`.`ra`, `o1`.`decl`, `o2`.`ra`, `o2`.`decl`) < 0.015) AND (`o1`.`objectId` <> `o2`.`objectId`)\n"
	  "MERGE: (stream)" },
	{ "SELECT COUNT(*) FROM Object a JOIN Object b ON 0.01 > scisql_angSep(b.ra, b.decl, a.ra, a.decl) WHERE a.objectId = 5",
	  "WORKER: SELECT COUNT(*) AS `QS_A1` FROM (SELECT * FROM `LSST`.`Object_%CC%` WHERE `subChunkId` = %SS%) AS `a` JOIN (SELECT `objectId`, `ra`, `decl` FROM "
	  "`LSST`.`Object_%CC%` WHERE `subChunkId` = %SS% UNION SELECT `objectId`, `ra`, `decl` FROM `LSST`.`ObjectFullOverlap_%CC%` WHERE `subChunkId` = %SS%) AS `b` ON "
	  "0.01 > scisql_angSep(`b`.`ra`, `b`.`decl`, `a`.`ra`, `a`.`decl`) WHERE `a`.`objectId` = 5\n"
	  "MERGE: SELECT CAST(COALESCE(SUM(`QS_A1`), 0) AS SIGNED) AS `COUNT(*)` FROM `%RT%`" },
	{ "SELECT filterId, COUNT(DISTINCT objectId) AS n, COUNT(*), SUM(DISTINCT flux) FROM Source GROUP BY filterId",
	  "WORKER: SELECT `filterId` AS `QS_G1`, `objectId` AS `QS_D2`, COUNT(*) AS `QS_A3`, `flux` AS `QS_D4` FROM "
	  "`LSST`.`Source_%CC%` AS `Source` GROUP BY `filterId`, `objectId`, `flux`\n"
	  "MERGE: SELECT `QS_G1` AS `filterId`, COUNT(DISTINCT `QS_D2`) AS `n`, CAST(COALESCE(SUM(`QS_A3`), 0) AS SIGNED) "
	  "AS `COUNT(*)`, SUM(DISTINCT `QS_D4`) AS `SUM(DISTINCT flux)` FROM `%RT%` GROUP BY `QS_G1`" },
	{ "SELECT * FROM information_schema.SCHEMATA", "LOCAL: SELECT * FROM `information_schema`.`SCHEMATA`" },
};

TEST(worker_and_merge_sql_per_shape)
{
	size_t i;

	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		struct result r;
		run(shapes[i].sql, "LSST", &r);
		EXPECT_STREQ(shapes[i].want, r.text);
		plan_free(r.p);
	}
}

/* A near-neighbour self-join runs per sub-chunk: every sub-chunk of each
 * chunk, or with a restrictor only those its region may meet; a match
 * table join or a plain query has no sub-chunk list. */
TEST(near_neighbour_sub_chunks)
{
	const char *nn = "SELECT COUNT(*) FROM Object o1, Object o2 WHERE scisql_angSep(o1.ra, o1.decl, o2.ra, o2.decl) < 0.01";
	struct qchunk_ids all = { 0 };
	struct qchunk_box b;
	struct result r;
	const int32_t *sub;
	uint32_t n, k;
	size_t i;

	run(nn, "LSST", &r);
	ASSERT_EQ(0, r.rc);
	ASSERT_EQ(8983, r.p->nchunks);
	EXPECT_STREQ("Object", r.p->nn_table);
	for (i = 0; i < r.p->nchunks; i += 997) {
		all.n = 0;
		ASSERT_EQ(0, qchunk_all_sub_chunks(r.p->db->chunker, r.p->chunks[i], &all));
		sub = plan_nn_sub_chunks(r.p, r.p->chunks[i], &n);
		ASSERT_EQ(all.n, n);
		EXPECT_EQ(0, memcmp(all.v, sub, n * sizeof(*sub)));
	}
	EXPECT_EQ(NULL, plan_nn_sub_chunks(r.p, -5, &n));
	plan_free(r.p);

	run("SELECT o1.objectId, o2.objectId FROM Object o1, Object o2 WHERE qserv_areaspec_box(0.5, 0.5, 1.5, 1.5) "
	    "AND scisql_angSep(o1.ra, o1.decl, o2.ra, o2.decl) < 0.01", "LSST", &r);
	ASSERT_EQ(0, r.rc);
	ASSERT_LE(1, r.p->nchunks);
	for (i = 0; i < r.p->nchunks; i++) {
		all.n = 0;
		ASSERT_EQ(0, qchunk_all_sub_chunks(r.p->db->chunker, r.p->chunks[i], &all));
		sub = plan_nn_sub_chunks(r.p, r.p->chunks[i], &n);
		ASSERT_LE(1, n);
		EXPECT_GT(all.n, n);
		for (k = 0; k < n; k++) {
			ASSERT_EQ(0, qchunk_sub_chunk_bounds(r.p->db->chunker, r.p->chunks[i], sub[k], &b));
			EXPECT_EQ(1, b.lon_min <= 1.5 + 1e-9 && b.lon_max >= 0.5 - 1e-9 && b.lat_min <= 1.5 + 1e-9 &&
				     b.lat_max >= 0.5 - 1e-9);
		}
	}
	plan_free(r.p);
	qchunk_ids_free(&all);

	run("SELECT ra FROM Object", "LSST", &r);
	ASSERT_EQ(0, r.rc);
	EXPECT_EQ(NULL, r.p->nn_table);
	EXPECT_EQ(NULL, plan_nn_sub_chunks(r.p, r.p->chunks[0], &n));
	EXPECT_EQ(0, n);
	plan_free(r.p);
}

TEST(restrictors_pick_chunks)
{
	struct result r;

	run("SELECT ra FROM Object", "LSST", &r);
	ASSERT_EQ(0, r.rc);
	EXPECT_EQ(8983, r.p->nchunks);
	plan_free(r.p);

	/* a small box near the equator: a handful of chunks (2.1 deg wide chunks) */
	run("SELECT ra FROM Object WHERE qserv_areaspec_box(0.5, 0.5, 1.5, 1.5)", "LSST", &r);
	ASSERT_EQ(0, r.rc);
	EXPECT_GE(2, r.p->nchunks);
	EXPECT_LE(1, r.p->nchunks);
	plan_free(r.p);

	/* a box crossing RA 0/360 touches chunks on both sides */
	run("SELECT ra FROM Object WHERE qserv_areaspec_box(359.5, -0.5, 0.5, 0.5)", "LSST", &r);
	ASSERT_EQ(0, r.rc);
	EXPECT_LE(2, r.p->nchunks);
	EXPECT_GE(8, r.p->nchunks);
	EXPECT_EQ(1, r.p->chunks[r.p->nchunks - 1] > r.p->chunks[0] + 100);   /* both ends of the stripe */
	plan_free(r.p);

	/* a circle on the pole covers the whole polar stripe */
	run("SELECT ra FROM Object WHERE qserv_areaspec_circle(0, 90, 1)", "LSST", &r);
	ASSERT_EQ(0, r.rc);
	EXPECT_LE(1, r.p->nchunks);
	EXPECT_GT(50, r.p->nchunks);
	plan_free(r.p);

	/* a child's own positions never prune: its rows follow the director */
	run("SELECT sourceId FROM Source WHERE qserv_areaspec_box(0.5, 0.5, 1.5, 1.5)", "LSST", &r);
	ASSERT_EQ(0, r.rc);
	EXPECT_EQ(8983, r.p->nchunks);
	plan_free(r.p);
}

/* `qserv_areaspec_*(...) = 1` and `1 = qserv_areaspec_*(...)` (the form of
 * Qserv's integration queries) plan exactly as the bare call: the same
 * worker SQL, the same chunks. */
TEST(areaspec_compared_to_one_plans_as_the_bare_call)
{
	static const char *const calls[] = {
		"qserv_areaspec_box(0, 0, 3, 10)", "qserv_areaspec_circle(359, 0.5, 2)",
		"qserv_areaspec_ellipse(180, 0, 36000, 18000, 30)", "qserv_areaspec_poly(10, 10, 14, 10, 14, 14, 10, 14)",
	};
	static const char *const forms[] = { "%s = 1", "1 = %s", "(%s) = 1.0", "%s = +1" };
	size_t i, k;

	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		struct result bare, r;
		char sql[256], cond[160];
		snprintf(sql, sizeof(sql), "SELECT objectId FROM Object o JOIN Source s USING (objectId) WHERE %s AND "
			 "s.flux > 2", calls[i]);
		run(sql, "LSST", &bare);
		ASSERT_EQ(0, bare.rc) TH_LOG("%s -> %s", sql, bare.text);
		EXPECT_NE(NULL, strstr(bare.text, "`s`.`ra`")) TH_LOG("the child is restricted too: %s", bare.text);
		EXPECT_GT(8983, bare.p->nchunks) TH_LOG("%s prunes chunks", calls[i]);
		for (k = 0; k < sizeof(forms) / sizeof(forms[0]); k++) {
			snprintf(cond, sizeof(cond), forms[k], calls[i]);
			snprintf(sql, sizeof(sql), "SELECT objectId FROM Object o JOIN Source s USING (objectId) WHERE "
				 "%s AND s.flux > 2", cond);
			run(sql, "LSST", &r);
			ASSERT_EQ(0, r.rc) TH_LOG("%s -> %s", sql, r.text);
			EXPECT_STREQ(bare.text, r.text) TH_LOG("%s", sql);
			EXPECT_EQ(bare.p->nchunks, r.p->nchunks) TH_LOG("%s", sql);
			if (bare.p->nchunks == r.p->nchunks)
				EXPECT_EQ(0, memcmp(bare.p->chunks, r.p->chunks, r.p->nchunks * sizeof(*r.p->chunks)));
			plan_free(r.p);
		}
		plan_free(bare.p);
	}
}

TEST(director_index_lookups)
{
	static const struct { const char *sql, *want; } cases[] = {
		{ "SELECT * FROM Object WHERE objectId = 42",
		  "SELECT DISTINCT `chunkId` FROM `qservMeta`.`LSST__Object` WHERE `objectId` = 42" },
		{ "SELECT * FROM Object o WHERE o.objectId IN (1, 2, 3) AND ra > 0",
		  "SELECT DISTINCT `chunkId` FROM `qservMeta`.`LSST__Object` WHERE `objectId` IN (1, 2, 3)" },
		{ "SELECT * FROM Object WHERE objectId BETWEEN 10 AND 20",
		  "SELECT DISTINCT `chunkId` FROM `qservMeta`.`LSST__Object` WHERE `objectId` BETWEEN 10 AND 20" },
		{ "SELECT * FROM Source WHERE 7 = objectId",
		  "SELECT DISTINCT `chunkId` FROM `qservMeta`.`LSST__Object` WHERE 7 = `objectId`" },
		{ "SELECT * FROM Object WHERE objectId = 1 OR ra > 2", NULL },
		{ "SELECT * FROM Object WHERE objectId NOT IN (1, 2)", NULL },
		{ "SELECT * FROM Object WHERE objectId > 5", NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct result r;
		run(cases[i].sql, "LSST", &r);
		ASSERT_EQ(0, r.rc) TH_LOG("%s", r.text);
		if (cases[i].want) {
			EXPECT_STREQ(cases[i].want, r.p->index_sql ? r.p->index_sql : "(none)");
		} else {
			EXPECT_EQ(NULL, r.p->index_sql);
		}
		plan_free(r.p);
	}
}

TEST(refusals_name_the_problem)
{
	static const struct { const char *sql; unsigned code; const char *msg; } cases[] = {
		{ "SELECT * FROM Object o1, Object o2 WHERE scisql_angSep(o1.ra, o1.decl, o2.ra, o2.decl) < 0.5",
		  ER_NOT_SUPPORTED_YET, "larger than the overlap" },
		{ "SELECT * FROM Object o1, Object o2 WHERE o1.ra = o2.ra", ER_NOT_SUPPORTED_YET,
		  "a near-neighbour join needs the AND term scisql_angSep(o1.ra, o1.decl, o2.ra, o2.decl) < R" },
		{ "SELECT * FROM Object o1, Object o2 WHERE scisql_angSep(ra, decl, ra, decl) < 0.01", ER_NOT_SUPPORTED_YET,
		  "near-neighbour join needs" },
		{ "SELECT * FROM Object o1, Object o2, Object o3 WHERE scisql_angSep(o1.ra, o1.decl, o2.ra, o2.decl) < 0.01",
		  ER_NOT_SUPPORTED_YET, "more than two instances" },
		{ "SELECT * FROM Object o, Source s WHERE o.ra = s.ra", ER_NOT_SUPPORTED_YET, "director key" },
		{ "SELECT * FROM Object WHERE ra > 0 OR qserv_areaspec_box(0, 0, 1, 1)", ER_NOT_SUPPORTED_YET,
		  "AND term of WHERE" },
		{ "SELECT * FROM Object WHERE qserv_areaspec_box(0, 0, 1)", ER_WRONG_PARAMCOUNT_TO_NATIVE_FCT,
		  "qserv_areaspec_box" },
		{ "SELECT * FROM Object WHERE qserv_areaspec_box(0, 10, 1, 5)", ER_WRONG_ARGUMENTS, "Incorrect arguments" },
		{ "SELECT * FROM Object WHERE qserv_areaspec_circle(ra, 0, 1)", ER_NOT_SUPPORTED_YET, "not numbers" },
		{ "SELECT ra, COUNT(*) FROM Object", ER_NOT_SUPPORTED_YET, "not in GROUP BY" },
		{ "SELECT COUNT(DISTINCT ra, decl) FROM Object", ER_NOT_SUPPORTED_YET, "COUNT(DISTINCT ...) of several" },
		{ "SELECT STD(ra) FROM Object", ER_NOT_SUPPORTED_YET, "STD" },
		{ "SELECT * FROM Nope", ER_NO_SUCH_TABLE, "Table 'LSST.Nope' doesn't exist" },
		{ "SELECT * FROM Object, mysql.user", ER_NOT_SUPPORTED_YET, "not a table of a published" },
		{ "SELECT * FROM Filter WHERE qserv_areaspec_box(0, 0, 1, 1)", ER_NOT_SUPPORTED_YET, "regular tables" },
		/* only `= 1` / `1 =` as an AND term is the restrictor */
		{ "SELECT * FROM Object WHERE qserv_areaspec_box(0, 0, 1, 1) = 0", ER_NOT_SUPPORTED_YET, "AND term of WHERE" },
		{ "SELECT * FROM Object WHERE 2 = qserv_areaspec_box(0, 0, 1, 1)", ER_NOT_SUPPORTED_YET, "AND term of WHERE" },
		{ "SELECT * FROM Object WHERE qserv_areaspec_box(0, 0, 1, 1) = ra", ER_NOT_SUPPORTED_YET, "AND term of WHERE" },
		{ "SELECT * FROM Object WHERE qserv_areaspec_box(0, 0, 1, 1) <> 1", ER_NOT_SUPPORTED_YET, "AND term of WHERE" },
		{ "SELECT * FROM Object WHERE NOT qserv_areaspec_box(0, 0, 1, 1) = 1", ER_NOT_SUPPORTED_YET,
		  "AND term of WHERE" },
		{ "SELECT * FROM Object WHERE ra > 0 OR 1 = qserv_areaspec_circle(0, 0, 1)", ER_NOT_SUPPORTED_YET,
		  "AND term of WHERE" },
		{ "SELECT * FROM Filter WHERE qserv_areaspec_box(0, 0, 1, 1) = 1", ER_NOT_SUPPORTED_YET, "regular tables" },
		{ "SELECT * FROM Object WHERE 1 = qserv_areaspec_box(0, 0, 1)", ER_WRONG_PARAMCOUNT_TO_NATIVE_FCT,
		  "qserv_areaspec_box" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct result r;
		run(cases[i].sql, "LSST", &r);
		EXPECT_EQ(-EINVAL, r.rc) TH_LOG("%s", cases[i].sql);
		EXPECT_NE(NULL, strstr(r.text, cases[i].msg)) TH_LOG("%s -> %s", cases[i].sql, r.text);
		if (r.rc == 0)
			plan_free(r.p);
	}
}

/* Match tables: alone with Qserv's duplicate filter; with one side
 * chunk-local; with both sides, the second director from chunk + overlap. */
static const struct { const char *sql, *want; } match_shapes[] = {
	{ "SELECT COUNT(*) FROM RefMatch",
	  "WORKER: SELECT COUNT(*) AS `QS_A1` FROM `LSST`.`RefMatch_%CC%` AS `RefMatch` WHERE "
	  "(`RefMatch`.`refId` IS NULL) OR (`RefMatch`.`flags` <> 2)\n"
	  "MERGE: SELECT CAST(COALESCE(SUM(`QS_A1`), 0) AS SIGNED) AS `COUNT(*)` FROM `%RT%`" },
	{ "SELECT objId, COUNT(*) FROM RefMatch m WHERE dist < 0.001 GROUP BY objId",
	  "WORKER: SELECT `objId` AS `QS_G1`, COUNT(*) AS `QS_A2` FROM `LSST`.`RefMatch_%CC%` AS `m` WHERE "
	  "((`m`.`refId` IS NULL) OR (`m`.`flags` <> 2)) AND (`dist` < 0.001) GROUP BY `objId`\n"
	  "MERGE: SELECT `QS_G1` AS `objId`, CAST(COALESCE(SUM(`QS_A2`), 0) AS SIGNED) AS `COUNT(*)` FROM `%RT%` "
	  "GROUP BY `QS_G1`" },
	{ "SELECT m.refId, f.name FROM RefMatch m, Filter f WHERE m.dist = f.filterId",
	  "WORKER: SELECT `m`.`refId`, `f`.`name` FROM `LSST`.`RefMatch_%CC%` AS `m`, `LSST`.`Filter` AS `f` WHERE "
	  "((`m`.`refId` IS NULL) OR (`m`.`flags` <> 2)) AND (`m`.`dist` = `f`.`filterId`)\nMERGE: (stream)" },
	{ "SELECT r.refId, m.objId FROM RefObject r JOIN RefMatch m ON r.refId = m.refId",
	  "WORKER: SELECT `r`.`refId`, `m`.`objId` FROM `LSST`.`RefObject_%CC%` AS `r` JOIN `LSST`.`RefMatch_%CC%` AS `m` "
	  "ON `r`.`refId` = `m`.`refId`\nMERGE: (stream)" },
	{ "SELECT COUNT(*) FROM Object o, RefMatch m, Source s WHERE m.objId = o.objectId AND s.objectId = o.objectId",
	  "WORKER: SELECT COUNT(*) AS `QS_A1` FROM `LSST`.`Object_%CC%` AS `o`, `LSST`.`RefMatch_%CC%` AS `m`, "
	  "`LSST`.`Source_%CC%` AS `s` WHERE (`m`.`objId` = `o`.`objectId`) AND (`s`.`objectId` = `o`.`objectId`)\n"
	  "MERGE: SELECT CAST(COALESCE(SUM(`QS_A1`), 0) AS SIGNED) AS `COUNT(*)` FROM `%RT%`" },
	{ "SELECT r.refId, s.objectId FROM RefObject r JOIN RefMatch m ON r.refId = m.refId JOIN Object s ON m.objId = s.objectId",
	  "WORKER: SELECT `r`.`refId`, `s`.`objectId` FROM `LSST`.`RefObject_%CC%` AS `r` JOIN `LSST`.`RefMatch_%CC%` AS `m` "
	  "ON `r`.`refId` = `m`.`refId` JOIN (SELECT `objectId`, `ra`, `decl` FROM `LSST`.`Object_%CC%` UNION SELECT "
	  "`objectId`, `ra`, `decl` FROM `LSST`.`ObjectFullOverlap_%CC%`) AS `s` ON `m`.`objId` = `s`.`objectId`\n"
	  "MERGE: (stream)" },
	{ "SELECT COUNT(*) FROM RefObject r, RefMatch m, Object o WHERE r.refId = m.refId AND o.objectId = m.objId",
	  "WORKER: SELECT COUNT(*) AS `QS_A1` FROM `LSST`.`RefObject_%CC%` AS `r`, `LSST`.`RefMatch_%CC%` AS `m`, "
	  "(SELECT `objectId`, `ra`, `decl` FROM `LSST`.`Object_%CC%` UNION SELECT `objectId`, `ra`, `decl` FROM "
	  "`LSST`.`ObjectFullOverlap_%CC%`) AS `o` WHERE (`r`.`refId` = `m`.`refId`) AND (`o`.`objectId` = `m`.`objId`)\n"
	  "MERGE: SELECT CAST(COALESCE(SUM(`QS_A1`), 0) AS SIGNED) AS `COUNT(*)` FROM `%RT%`" },
	/* children on the second side: the first director is read with its overlap */
	{ "SELECT COUNT(*) FROM RefObject r, RefMatch m, Object o, Source s WHERE r.refId = m.refId AND "
	  "o.objectId = m.objId AND s.objectId = o.objectId",
	  "WORKER: SELECT COUNT(*) AS `QS_A1` FROM (SELECT `refId`, `ra`, `decl` FROM `LSST`.`RefObject_%CC%` UNION SELECT "
	  "`refId`, `ra`, `decl` FROM `LSST`.`RefObjectFullOverlap_%CC%`) AS `r`, `LSST`.`RefMatch_%CC%` AS `m`, "
	  "`LSST`.`Object_%CC%` AS `o`, `LSST`.`Source_%CC%` AS `s` WHERE ((`r`.`refId` = `m`.`refId`) AND "
	  "(`o`.`objectId` = `m`.`objId`)) AND (`s`.`objectId` = `o`.`objectId`)\n"
	  "MERGE: SELECT CAST(COALESCE(SUM(`QS_A1`), 0) AS SIGNED) AS `COUNT(*)` FROM `%RT%`" },
};

TEST(match_tables)
{
	size_t i;

	for (i = 0; i < sizeof(match_shapes) / sizeof(match_shapes[0]); i++) {
		struct result r;
		run(match_shapes[i].sql, "LSST", &r);
		EXPECT_STREQ(match_shapes[i].want, r.text);
		plan_free(r.p);
	}
}

/* The match table's key narrows chunks through the first director's index
 * only where the rows are found in that director's chunks. */
TEST(match_table_index_lookups)
{
	static const struct { const char *sql, *want; } cases[] = {
		{ "SELECT * FROM RefMatch WHERE refId = 3",
		  "SELECT DISTINCT `chunkId` FROM `qservMeta`.`LSST__RefObject` WHERE `refId` = 3" },
		{ "SELECT * FROM RefObject r, RefMatch m, Object o WHERE r.refId = m.refId AND o.objectId = m.objId AND "
		  "m.refId = 3", "SELECT DISTINCT `chunkId` FROM `qservMeta`.`LSST__RefObject` WHERE `refId` = 3" },
		{ "SELECT * FROM RefObject r, RefMatch m, Object o WHERE r.refId = m.refId AND o.objectId = m.objId AND "
		  "o.objectId = 3", NULL },
		{ "SELECT * FROM Object o, RefMatch m WHERE o.objectId = m.objId AND m.refId = 3", NULL },
		{ "SELECT * FROM Object o, RefMatch m WHERE o.objectId = m.objId AND o.objectId = 3",
		  "SELECT DISTINCT `chunkId` FROM `qservMeta`.`LSST__Object` WHERE `objectId` = 3" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct result r;
		run(cases[i].sql, "LSST", &r);
		ASSERT_EQ(0, r.rc) TH_LOG("%s", r.text);
		EXPECT_STREQ(cases[i].want ? cases[i].want : "(none)", r.p->index_sql ? r.p->index_sql : "(none)")
			TH_LOG("%s", cases[i].sql);
		plan_free(r.p);
	}
}

TEST(match_table_refusals)
{
	static const struct { const char *sql; const char *msg; } cases[] = {
		{ "SELECT * FROM RefMatch a, RefMatch b WHERE a.refId = b.refId", "two match tables" },
		{ "SELECT * FROM RefObject r LEFT JOIN RefMatch m ON r.refId = m.refId", "outer joins" },
		{ "SELECT * FROM Object o JOIN RefMatch m USING (objectId)", "USING" },
		{ "SELECT * FROM RefObject r, RefMatch m WHERE r.ra = m.dist", "must be joined on its director key" },
		{ "SELECT * FROM Object o, RefMatch m WHERE o.objectId = m.refId", "holds keys of RefObject" },
		{ "SELECT * FROM Object o, RefMatch m WHERE o.objectId = m.objId AND o.objectId = m.refId",
		  "holds keys of RefObject" },
		{ "SELECT * FROM RefObject r, RefMatch m, Object o WHERE r.refId = m.refId", "o must be joined on its "
		  "director key to m.refId or m.objId" },
		{ "SELECT * FROM RefObject r, RefMatch m, Object o WHERE r.refId = m.refId AND o.ra = m.dist",
		  "must be joined on its director key" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct result r;
		run(cases[i].sql, "LSST", &r);
		EXPECT_EQ(-EINVAL, r.rc) TH_LOG("%s", cases[i].sql);
		EXPECT_NE(NULL, strstr(r.text, cases[i].msg)) TH_LOG("%s -> %s", cases[i].sql, r.text);
		if (r.rc == 0)
			plan_free(r.p);
	}
}

/* Only the bare COUNT(*) shape may be answered from row counters. */
TEST(row_counter_shape)
{
	static const struct { const char *sql; int yes; } cases[] = {
		{ "SELECT COUNT(*) FROM Object", 1 },
		{ "select count(*) AS n from LSST.Object LIMIT 1", 1 },
		{ "SELECT COUNT(*) FROM Object o", 1 },
		{ "SELECT COUNT(*) FROM Object WHERE ra > 0", 0 },
		{ "SELECT COUNT(ra) FROM Object", 0 },
		{ "SELECT COUNT(DISTINCT ra) FROM Object", 0 },
		{ "SELECT COUNT(*), 1 FROM Object", 0 },
		{ "SELECT COUNT(*) FROM Object GROUP BY ra", 0 },
		{ "SELECT COUNT(*) FROM Object HAVING COUNT(*) > 1", 0 },
		{ "SELECT COUNT(*) FROM Object o JOIN Source s USING (objectId)", 0 },
		{ "SELECT COUNT(*) FROM Object, Filter", 0 },
		{ "SELECT DISTINCT COUNT(*) FROM Object", 0 },
		{ "SELECT COUNT(*) FROM Object ORDER BY 1", 0 },
		{ "SELECT COUNT(*) + 1 FROM Object", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sql_stmt *st;
		struct sql_error err;
		ASSERT_EQ(0, sql_parse(cases[i].sql, strlen(cases[i].sql), &st, &err)) TH_LOG("%s", cases[i].sql);
		EXPECT_EQ(cases[i].yes, rowcount_table(st) != NULL) TH_LOG("%s", cases[i].sql);
		sql_stmt_free(st);
	}
}

TEST(no_database_selected)
{
	struct result r;

	run("SELECT * FROM Object", "", &r);
	EXPECT_STREQ("ERROR 1046: No database selected", r.text);
}

TEST_HARNESS_MAIN
