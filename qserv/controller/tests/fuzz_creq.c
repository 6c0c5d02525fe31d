/* fuzz_creq.c: libFuzzer target for the request bodies of the controller's
 * API, through the real parsers (creq.c).  The first input byte picks the
 * body kind (modulo 12: database, table (and table-stats), trans, chunk, chunks, rebuild,
 * index, publish, worker, replication level, maintenance and drain, evict-after), the rest is the body as qhttp_body_json parses it.
 * Invariants of an accepted body (creq.h): every name in the result is
 * NUL-terminated and passes sqlid_check of its kind, every schema type
 * sqlid's grammar, a partitioned table's key columns are in its schema and
 * its chunk and index table names fit in 64 bytes, numbers are in range
 * (overlap in [0, 10], never NaN), a worker's id, host and ports pass the
 * same rules --worker does.  A violation aborts. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qserv/common/sqlid.h"
#include "qserv/controller/creq.h"

static char err[1024];

static void need(int ok)
{
	if (!ok)
		abort();
}

/* s is a NUL-terminated name of that kind, or "" when empty is allowed. */
static void name(enum sqlid_kind kind, const char *s, int empty_ok)
{
	need(strnlen(s, CREQ_NAME) < CREQ_NAME);
	need((empty_ok && !*s) || sqlid_check(kind, "f", s, err, sizeof err) == 0);
}

static int in_schema(json_t *schema, const char *col)
{
	size_t i;
	json_t *c;
	json_array_foreach(schema, i, c)
		if (!strcmp(json_string_value(json_object_get(c, "name")), col))
			return 1;
	return 0;
}

static void table(json_t *b)
{
	struct creq_table t;
	char canon[2 * SQLID_TYPE_MAX + 16];
	size_t i;
	json_t *c;
	if (creq_table(b, &t, err, sizeof err))
		return;
	name(SQLID_DATABASE, t.db, 0);
	name(SQLID_TABLE, t.table, 0);
	name(SQLID_TABLE, t.director_table, 1);
	const char *keys[5] = { t.director_key, t.latitude_key, t.longitude_key, t.chunk_key, t.sub_chunk_key };
	for (i = 0; i < 5; i++) {
		name(SQLID_COLUMN, keys[i], 1);
		/* a regular table's director_key is kept as sent and never used */
		need(!*keys[i] || in_schema(t.schema, keys[i]) || (i == 0 && !t.partitioned));
	}
	need(!t.partitioned || (*t.director_key && *t.chunk_key && *t.sub_chunk_key));
	need(t.partitioned || (!*t.chunk_key && !*t.sub_chunk_key));
	need(!t.director || t.partitioned);
	need(!t.director || (*t.latitude_key && *t.longitude_key));
	need(!t.partitioned || strlen(t.table) <= 42);
	need(!t.director || strlen(t.db) + 2 + strlen(t.table) <= 64);
	/* a ref-match table: both keys and the flags column distinct columns of
	 * the schema, a second director, 0 < ang_sep <= 10; else none of it */
	name(SQLID_TABLE, t.director_table2, 1);
	name(SQLID_COLUMN, t.director_key2, 1);
	name(SQLID_COLUMN, t.flag, 1);
	need(t.match == (t.partitioned && *t.director_table2));
	need(t.match || (!*t.director_table2 && !*t.director_key2 && !*t.flag && t.ang_sep == 0));
	need(!t.match || (!t.director && *t.director_table && in_schema(t.schema, t.director_key2) &&
			  in_schema(t.schema, t.flag) && strcmp(t.director_key, t.director_key2) &&
			  strcmp(t.director_key, t.flag) && strcmp(t.director_key2, t.flag) &&
			  t.ang_sep > 0 && t.ang_sep <= 10));
	need(json_array_size(t.schema) > 0);
	json_array_foreach(t.schema, i, c) {
		name(SQLID_COLUMN, json_string_value(json_object_get(c, "name")), 0);
		need(sqlid_type("t", json_string_value(json_object_get(c, "type")), canon, sizeof canon,
				err, sizeof err) == 0);
	}
}

/* POST /ingest/table-stats, DELETE's body: names checked, enums in range. */
static void stats(json_t *b)
{
	struct creq_stats q;
	enum creq_overlap o;
	bool only;
	if (!creq_stats(b, &q, err, sizeof err)) {
		name(SQLID_DATABASE, q.db, 0);
		name(SQLID_TABLE, q.table, 0);
		need(q.overlap >= CREQ_CHUNK && q.overlap <= CREQ_CHUNK_AND_OVERLAP);
		need(q.policy >= CREQ_POLICY_DISABLED && q.policy <= CREQ_POLICY_FORCED);
	}
	if (!creq_stats_delete(b, &o, &only, err, sizeof err))
		need(o >= CREQ_CHUNK && o <= CREQ_CHUNK_AND_OVERLAP);
}

static void target(const struct creq_target *t)
{
	need(t->trans_id >= 0);
	if (t->trans_id == 0)
		name(SQLID_DATABASE, t->db, 0);
}

/* PUT /ingest/config, and the path ids (the database string as a path
 * rest): numbers come out as digits in range, strings within their cap. */
static void config(json_t *b)
{
	static struct creq_config q;    /* ~1 MB */
	size_t n;
	const struct creq_config_key *k = creq_config_keys(&n);
	long long id;
	const char *s = json_string_value(json_object_get(b, "database"));
	need(n == CREQ_CONFIG_KEYS);
	if (!creq_config(b, &q, err, sizeof err)) {
		name(SQLID_DATABASE, q.db, 0);
		for (size_t i = 0; i < n; i++) {
			need(q.set[i] == (json_object_get(b, k[i].name) != NULL));
			need(strlen(q.value[i]) <= CREQ_CONFIG_VALUE);
			need(!k[i].numeric || (strspn(q.value[i], "0123456789") == strlen(q.value[i]) &&
					       (!q.set[i] || (q.value[i][0] && atoll(q.value[i]) <= INT32_MAX))));
		}
	}
	if (!creq_contrib_id(s, &id, err, sizeof err))
		need(id >= 1 && id <= 0xffffffffLL && strspn(s, "0123456789") == strlen(s));
	if (!creq_trans_id(s, &id, err, sizeof err))
		need(id >= 1 && id <= 0x7fffffffLL);
}

static void body(uint8_t kind, json_t *b)
{
	union {
		struct creq_database d; struct creq_trans t; struct creq_chunk c; struct creq_target g;
		struct creq_rebuild r; struct creq_index i; struct creq_worker w; struct creq_level l;
		struct creq_maint m;
	} u;
	int32_t *chunks;
	size_t n;
	bool pub;
	int secs;
	switch (kind % 12) {
	case 0:
		if (!creq_database(b, &u.d, err, sizeof err)) {
			name(SQLID_DATABASE, u.d.name, 0);
			need(u.d.num_stripes >= 1 && u.d.num_sub_stripes >= 1);
			need(u.d.overlap >= 0 && u.d.overlap <= 10);
		}
		break;
	case 1:    /* table and table-stats bodies share a kind ({database, table, ...}) */
		table(b);
		stats(b);
		break;
	case 2:    /* trans, config bodies and path ids share a kind ({database, ...}) */
		if (!creq_trans(b, &u.t, err, sizeof err))
			name(SQLID_DATABASE, u.t.db, 0);
		config(b);
		break;
	case 3:
		if (!creq_chunk(b, &u.c, err, sizeof err))
			target(&u.c.target);
		break;
	case 4:
		if (!creq_chunks(b, &u.g, &chunks, &n, err, sizeof err)) {
			target(&u.g);
			need(n == json_array_size(json_object_get(b, "chunks")));
			free(chunks);
		}
		break;
	case 5:
		if (!creq_rebuild(b, &u.r, err, sizeof err)) {
			target(&u.r.target);
			name(SQLID_TABLE, u.r.director_table, 1);
		}
		break;
	case 6:
		if (!creq_index(b, &u.i, err, sizeof err)) {
			name(SQLID_DATABASE, u.i.db, 0);
			name(SQLID_TABLE, u.i.table, 0);
			name(SQLID_INDEX, u.i.index, 0);
		}
		if (!creq_index_drop(b, &u.i, &pub, err, sizeof err)) {   /* DELETE's body: the same kind */
			name(SQLID_DATABASE, u.i.db, 0);
			name(SQLID_TABLE, u.i.table, 0);
			name(SQLID_INDEX, u.i.index, 0);
		}
		break;
	case 7:
		if (!creq_publish(b, &pub, err, sizeof err))
			need(pub == !json_is_false(json_object_get(b, "publish")));
		break;
	case 9:
		if (!creq_level(b, &u.l, err, sizeof err)) {
			need(u.l.level >= 1 && u.l.level <= CREQ_MAX_LEVEL);
			name(SQLID_DATABASE, u.l.db, 1);
		}
		break;
	case 10:   /* maintenance, drain and health bodies share a kind (the corpus keeps its meaning) */
		if (!creq_maint(b, &u.m, err, sizeof err))
			need(creq_worker_id_ok(u.m.worker) && u.m.on == json_is_true(json_object_get(b, "maintenance")));
		if (!creq_drain(b, &u.m, err, sizeof err))
			need(creq_worker_id_ok(u.m.worker) && u.m.on == json_is_true(json_object_get(b, "drain")));
		if (!creq_health(b, &u.m, err, sizeof err))
			need(creq_worker_id_ok(u.m.worker) && u.m.on == json_is_true(json_object_get(b, "up")));
		break;
	case 11:   /* evict-after and verify-interval bodies share a kind */
		if (!creq_evict_after(b, &secs, err, sizeof err))
			need(secs >= 1 && secs <= CREQ_MAX_EVICT_AFTER);
		if (!creq_verify_interval(b, &secs, err, sizeof err))
			need(secs >= 0 && secs <= CREQ_MAX_VERIFY_INTERVAL);
		break;
	default:
		if (!creq_worker(b, &u.w, err, sizeof err)) {
			need(strnlen(u.w.host, sizeof u.w.host) < sizeof u.w.host);
			need(creq_worker_check(u.w.id, u.w.host, u.w.ingest_port, u.w.query_port, err, sizeof err) == 0);
			need(creq_worker_id_ok(u.w.id) && !strpbrk(u.w.host, "'\"\\/ ?#@%"));
			need(creq_zone_ok(u.w.zone));
		}
	}
	need(strnlen(err, sizeof err) < sizeof err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	json_error_t je;
	json_t *b = json_loadb((const char *)data + 1, size - 1, 0, &je);
	if (json_is_object(b))
		body(data[0], b);
	json_decref(b);
	return 0;
}
