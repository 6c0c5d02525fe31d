/* creq.h: the request bodies of the controller's API (capi.c), parsed and
 * checked without MariaDB: each function takes the parsed JSON body and
 * fills a plain struct, or returns -EINVAL with err naming the field (never
 * quoting the refused value).  Every name that comes out of here passed
 * qserv/common/sqlid.h, every column type its grammar; what is left to the
 * handlers is what needs the database (registered? published? busy?).
 * No globals, no logging; the JSON stays the caller's (pointers into it
 * are borrowed and live as long as the body). */
#ifndef QSERV_CONTROLLER_CREQ_H
#define QSERV_CONTROLLER_CREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define CREQ_NAME 65    /* a name of at most 64 bytes and its NUL */

/* POST /ingest/database {database, num_stripes, num_sub_stripes, overlap,
 * [auto_build_secondary_index]} */
struct creq_database {
	char name[CREQ_NAME];
	int num_stripes, num_sub_stripes;
	double overlap;
	bool auto_index;
};
int creq_database(json_t *b, struct creq_database *ret, char *err, size_t errlen);

/* POST /ingest/table {database, table, is_partitioned, director_table,
 * director_key, latitude_key, longitude_key, schema: [{name, type}...],
 * [chunk_id_key, sub_chunk_id_key], [director_table2, director_key2, flag,
 * ang_sep]}; director_table and director_table2 may be Qserv's
 * `<database>.<table>` of the same database (another one is refused): names, types, and the layout rules
 * that need no lookup (key columns in the schema, lengths of the chunk
 * and index table names). */
struct creq_table {
	char db[CREQ_NAME], table[CREQ_NAME], director_table[CREQ_NAME];
	char director_key[CREQ_NAME], latitude_key[CREQ_NAME], longitude_key[CREQ_NAME];
	char chunk_key[CREQ_NAME], sub_chunk_key[CREQ_NAME];   /* "" unless partitioned */
	bool partitioned, director;
	json_t *schema;         /* borrowed: the body's non-empty array */
	/* a ref-match table (Qserv's director_table2 given): both directors'
	 * keys and the flags column distinct columns of the schema, 0 < ang_sep
	 * (the handler checks <= the database's overlap and the directors) */
	bool match;
	char director_table2[CREQ_NAME], director_key2[CREQ_NAME], flag[CREQ_NAME];
	double ang_sep;
};
int creq_table(json_t *b, struct creq_table *ret, char *err, size_t errlen);

/* POST /ingest/trans {database, [context]} */
struct creq_trans {
	char db[CREQ_NAME];
	json_t *context;        /* borrowed, NULL when absent */
};
int creq_trans(json_t *b, struct creq_trans *ret, char *err, size_t errlen);

/* The database a request names: {transaction_id} (then db is "" and the
 * handler looks the transaction up) or {database}. */
struct creq_target {
	long long trans_id;     /* > 0, or 0 when the body names a database */
	char db[CREQ_NAME];
};
int creq_target(json_t *b, struct creq_target *ret, char *err, size_t errlen);

/* POST /ingest/chunk {transaction_id | database, chunk} */
struct creq_chunk {
	struct creq_target target;
	int32_t chunk;          /* as sent (cplace_chunk refuses a negative one) */
};
int creq_chunk(json_t *b, struct creq_chunk *ret, char *err, size_t errlen);

/* POST /ingest/chunks {transaction_id | database, chunks: [n | "n"...]};
 * *ret_chunks is malloc'ed (caller frees; NULL when there is none). */
int creq_chunks(json_t *b, struct creq_target *ret, int32_t **ret_chunks, size_t *ret_n,
		char *err, size_t errlen);

/* POST /ingest/index/secondary {transaction_id | database, [director_table]} */
struct creq_rebuild {
	struct creq_target target;
	char director_table[CREQ_NAME];     /* "" = every director table */
};
int creq_rebuild(json_t *b, struct creq_rebuild *ret, char *err, size_t errlen);

/* POST /replication/sql/index {database, table, index, columns: [{column}...],
 * ...}: the names (the workers check spec, lengths and the rest again). */
struct creq_index {
	char db[CREQ_NAME], table[CREQ_NAME], index[CREQ_NAME];
};
int creq_index(json_t *b, struct creq_index *ret, char *err, size_t errlen);
/* DELETE /replication/sql/index {database, table, index, [overlap]}
 * (Qserv's body): overlap 1 the FullOverlap tables, 0 the chunk tables. */
int creq_index_drop(json_t *b, struct creq_index *ret, bool *ret_overlap, char *err, size_t errlen);

/* PUT /ingest/database/<db> [{"publish": true|false}]: *ret_publish. */
int creq_publish(json_t *b, bool *ret_publish, char *err, size_t errlen);

/* PUT /replication/level {"level": N, ["database": DB]} (Qserv's shape):
 * level 1..CREQ_MAX_LEVEL; db "" = the cluster's default. */
#define CREQ_MAX_LEVEL 16
struct creq_level {
	int level;
	char db[CREQ_NAME];
};
int creq_level(json_t *b, struct creq_level *ret, char *err, size_t errlen);

/* PUT /replication/maintenance {"worker": ID, "maintenance": true|false} */
struct creq_maint {
	char worker[CREQ_NAME];
	bool on;
};
int creq_maint(json_t *b, struct creq_maint *ret, char *err, size_t errlen);
/* PUT /replication/drain {"worker": ID, "drain": true|false}: ret->on = drain. */
int creq_drain(json_t *b, struct creq_maint *ret, char *err, size_t errlen);
/* POST /replication/health {"worker": ID, "up": true|false}: ret->on = up. */
int creq_health(json_t *b, struct creq_maint *ret, char *err, size_t errlen);

/* PUT /replication/evict-after {"seconds": 1..CREQ_MAX_EVICT_AFTER} */
#define CREQ_MAX_EVICT_AFTER 86400
int creq_evict_after(json_t *b, int *ret_seconds, char *err, size_t errlen);

/* PUT /replication/verify-interval {"seconds": 0..CREQ_MAX_VERIFY_INTERVAL}
 * (0: no periodic verify pass) */
#define CREQ_MAX_VERIFY_INTERVAL (366 * 86400)
int creq_verify_interval(json_t *b, int *ret_seconds, char *err, size_t errlen);

/* POST /meta/worker {id, host, [ingest_port], [query_port]} */
struct creq_worker {
	char id[CREQ_NAME], host[256];
	int ingest_port, query_port;
	char zone[CREQ_NAME];   /* failure zone ("" = none): 1-64 of [A-Za-z0-9_.-] */
};
int creq_worker(json_t *b, struct creq_worker *ret, char *err, size_t errlen);
/* The rules of a worker's id (1-64 of [A-Za-z0-9_.-]), host (1-253 of
 * [A-Za-z0-9.:-]) and ports, shared with --worker (cmeta_add_worker). */
bool creq_worker_id_ok(const char *id);
/* A failure zone: "" (none) or a worker id's rules. */
bool creq_zone_ok(const char *zone);
int creq_worker_check(const char *id, const char *host, int ingest_port, int query_port,
		      char *err, size_t errlen);

/* PUT /ingest/config {database, KEY: value...}: Qserv's per-database keys
 * (creq_config_keys: SSL_VERIFYHOST, CAINFO, LOW_SPEED_LIMIT,
 * ASYNC_PROC_LIMIT, ...); the keys present are set (numbers 0..2^31-1 as
 * integers or digit strings, strings of at most CREQ_CONFIG_VALUE bytes),
 * any other member (auth_key, version, ...) is ignored, as Qserv does. */
struct creq_config_key {
	const char *name;
	bool numeric;
	const char *dflt;       /* Qserv's default, as text */
};
const struct creq_config_key *creq_config_keys(size_t *ret_n);
#define CREQ_CONFIG_KEYS 18
#define CREQ_CONFIG_VALUE 65536          /* a CA bundle (CAINFO_VAL) fits */
struct creq_config {
	char db[CREQ_NAME];
	bool set[CREQ_CONFIG_KEYS];
	char value[CREQ_CONFIG_KEYS][CREQ_CONFIG_VALUE + 1];
};
int creq_config(json_t *b, struct creq_config *ret, char *err, size_t errlen);

/* Path ids: a contribution (GET /ingest/trans/contrib/<id>) 1..2^32-1, a
 * transaction 1..2^31-1; digits only. */
int creq_contrib_id(const char *s, long long *ret, char *err, size_t errlen);
int creq_trans_id(const char *s, long long *ret, char *err, size_t errlen);

/* Row counters (cstats.c).  overlap_selector: CHUNK | OVERLAP |
 * CHUNK_AND_OVERLAP (the default); policy: Qserv's
 * row_counters_state_update_policy DISABLED (the default) | ENABLED | FORCED. */
enum creq_overlap { CREQ_CHUNK = 1, CREQ_OVERLAP = 2, CREQ_CHUNK_AND_OVERLAP = 3 };
enum creq_policy { CREQ_POLICY_DISABLED, CREQ_POLICY_ENABLED, CREQ_POLICY_FORCED };
/* POST /ingest/table-stats {database, table, [overlap_selector], [force_rescan],
 * [row_counters_state_update_policy], [row_counters_deploy_at_qserv]} */
struct creq_stats {
	char db[CREQ_NAME], table[CREQ_NAME];
	enum creq_overlap overlap;
	bool force_rescan, deploy;
	enum creq_policy policy;
};
int creq_stats(json_t *b, struct creq_stats *ret, char *err, size_t errlen);
/* DELETE /ingest/table-stats/<db>/<table> {[overlap_selector], [qserv_only]}
 * (db and table from the path: the caller checks them) */
int creq_stats_delete(json_t *b, enum creq_overlap *ret_overlap, bool *ret_qserv_only, char *err, size_t errlen);
/* PUT /ingest/database/<db> {[publish], [row_counters_deploy_at_qserv]} */
int creq_publish_counters(json_t *b, bool *ret_deploy, char *err, size_t errlen);

#endif
