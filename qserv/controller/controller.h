/* controller.h: the ingest controller (qserv-controller) on the czar node.
 *
 * It owns the metadata database qservMeta of the czar node's MariaDB (see
 * META.md for the contract with the czar) and drives the workers through
 * their management API.  Files: cmeta.c (qservMeta SQL), cplace.c (chunk
 * placement), crepl.c (replica levels, copies at publish), ctrans.c (transactions and the director index), capi.c
 * (HTTP API), creq.c (its request bodies, parsed without MariaDB), chealth.c
 * (probing the workers, eviction, healing, maintenance), cconfig.c (Qserv's
 * ingest configuration), cjoin.c (a
 * worker joining: the cluster's databases and tables), crebal.c (trim,
 * drain, rebalance: replica moves), cverify.c (replicas checked against
 * reference checksums, returning workers), cmetrics.c (GET /metrics),
 * cnotify.c (the czar's metadata notice), cstats.c (row counters),
 * csqlidx.c (MariaDB indexes of the chunk tables, the default index), main.c.
 *
 * Invariants: a transaction's state only moves STARTED -> IS_FINISHING ->
 * FINISHED or {STARTED, IS_FINISHING, IS_ABORTING} -> IS_ABORTING ->
 * ABORTED, and is written to qservMeta before the workers are told, so a
 * crash leaves it in a state whose retry is safe; a database with a
 * transaction not FINISHED/ABORTED cannot be published; placement of a
 * chunk is decided under `place_mu` and never changes once recorded
 * while the database takes loads (replicas of published databases move:
 * crebal.c, never below their level). */
#ifndef QSERV_CONTROLLER_H
#define QSERV_CONTROLLER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "qserv/common/qhttp.h"
#include "qserv/common/qsql.h"

#define CTL_MAX_PENDING 256
#define CTL_MAX_WORKERS 256

/* What the health thread knows of one worker (chealth.c). */
struct chealth_w {
	char id[65];
	int64_t last_ok_ms;     /* monotonic ms of its last answer (or when first seen) */
	bool down, evicted;     /* silent now; replicas dropped (until it answers again) */
	bool returning;         /* evicted, answering again: cverify.c judges its replicas */
	int64_t hold_until_ms;  /* not a copy source or target before (chealth_hold) */
};

/* Health and healing state (chealth.c); every field under mu. */
struct chealth {
	pthread_mutex_t mu;
	pthread_cond_t cv;      /* wakes both threads: stop, heal wanted */
	bool stop, heal_wanted, started;
	bool probe_now;         /* the registry reported a worker up: probe without waiting */
	int evict_after_s;      /* --evict-after (PUT /replication/evict-after) */
	struct chealth_w w[CTL_MAX_WORKERS];
	size_t nw;
	long long in_flight, done, failed, bytes, plain_bytes, heals, evictions;
	double last_heal_s;     /* duration of the last heal pass that copied */
	long long last_heal_copies, last_heal_plain_bytes;
	int alert_under_s;      /* --alert-under-replicated-after: alert when chunks stay under the level this long */
	int64_t under_since_ms; /* monotonic time the healer first saw chunks under the level; 0: none */
	pthread_t probe_t, heal_t;
};

/* The verify thread's state (cverify.c); every field under mu. */
struct cverify {
	pthread_mutex_t mu;
	pthread_cond_t cv;      /* wakes the thread (stop, a pass wanted, a worker returning) and waiters */
	bool stop, started, wanted, wake, running;
	int interval_s;         /* --verify-interval (PUT /replication/verify-interval); 0 = none */
	int64_t last_end_ms;    /* monotonic end of the last pass (or the start) */
	long long passes, replicas, mismatches, repaired, reused, dropped;   /* totals */
	json_t *last;           /* the last pass's summary (owned) */
	pthread_t t;
};

/* Replica moves (crebal.c); every field under mu.  `busy` is the one
 * trim or rebalance running (a flag, not a lock held across calls). */
struct crebal {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool busy, wanted;      /* wanted: a rebalance check asked for (worker added, drain) */
	long long seen_done;    /* h.done when the healer last trimmed */
	long long trimmed, drop_failed, moves, move_failed, passes;
	long long last_moves;
	double last_s;          /* duration of the last rebalance that moved */
};

struct ctl {
	struct qsql_conf sql;
	const char *bind;
	int port;
	const char *staging;
	char auth_key[256];     /* required on every non-GET request ("" = none) */
	int repl_level;         /* --replication-level: 0 = auto (2 with 2 enabled workers, else 1) */
	int heal_max_mbps;      /* --heal-max-mbps: a heal pass's plain MB/s (0 = no cap) */
	bool tls;               /* the workers' APIs are HTTPS (chunk copies' source URLs) */
	const char *czar_notify; /* --czar-notify: the czar's unix datagram socket (NULL = none) */
	bool no_default_index;  /* --no-default-index: publish adds no index on the director keys */
#define CTL_MAX_INCLUDE 8
	const char *backup_include[CTL_MAX_INCLUDE];   /* --backup-include: files every backup carries */
	int nbackup_include;
	pthread_mutex_t place_mu;
	pthread_cond_t place_cv;
	struct { char db[65]; int32_t chunk; } pending[CTL_MAX_PENDING];
	int npending;
	/* trans_mu guards only the state changes of transaction ends and index
	 * rebuilds and `busy`, the ones running now (id 0: a rebuild of db's
	 * director index); the calls to the workers run outside it (ctrans.c) */
	pthread_mutex_t trans_mu;
	struct { char db[65]; long long id; } busy[CTL_MAX_PENDING];
	int nbusy;
	struct chealth h;
	struct cverify v;
	struct crebal rb;
};

struct cworker {
	char id[65], host[256];
	int ingest_port, query_port;
	bool maint;             /* in maintenance: never evicted, never a copy target */
	char zone[65];          /* failure zone, "" = none (replicas of a chunk: distinct zones) */
	bool enabled;           /* 0: draining (a copy source only, crebal.c) */
};

struct cdb {
	char name[65];
	int num_stripes, num_sub_stripes;
	double overlap;
	bool auto_index, published;
};

/* cmeta.c */
int cmeta_init(MYSQL *m, char *err, size_t errlen);
int cmeta_add_worker(MYSQL *m, const struct cworker *w, char *err, size_t errlen);
/* Decommission worker id (DELETE /meta/worker/<id>): -ENOENT unknown;
 * -EBUSY (nothing changed, err counts the chunks per database) while it is
 * the only enabled holder of any chunk, unless force; with force those
 * chunks move to qservMeta.lost_chunks (the czar then refuses queries that
 * need them).  Its placements and its row go in one MariaDB transaction.
 * *ret: {worker, chunks_dropped, chunks_lost, lost_chunks: {db: n}}. */
int cmeta_remove_worker(struct ctl *c, MYSQL *m, const char *id, bool force, json_t **ret,
			char *err, size_t errlen);
/* All enabled workers; caller frees *ret. */
/* The chunks of db whose loads go to worker id (their first holder, the
 * lowest worker_id): a JSON object chunk -> true (NULL on error, err set);
 * a chunk's other replicas are copies. */
json_t *cmeta_first_held(MYSQL *m, const char *db, const char *id, char *err, size_t errlen);
int cmeta_workers(MYSQL *m, struct cworker **ret, size_t *ret_n, char *err, size_t errlen);
/* Every registered worker, draining ones too (enabled=0); caller frees *ret. */
int cmeta_workers_all(MYSQL *m, struct cworker **ret, size_t *ret_n, char *err, size_t errlen);
/* qservMeta.workers.enabled of id; -ENOENT unknown. */
int cmeta_set_enabled(MYSQL *m, const char *id, bool on, char *err, size_t errlen);
int cmeta_worker(MYSQL *m, const char *id, struct cworker *ret, char *err, size_t errlen);
int cmeta_db(MYSQL *m, const char *name, struct cdb *ret, char *err, size_t errlen);
/* Number of transactions of db not FINISHED/ABORTED. */
int cmeta_open_trans(MYSQL *m, const char *db, long long *ret_n, char *err, size_t errlen);
json_t *cmeta_trans_json(MYSQL *m, long long id, const char *db_filter, char *err, size_t errlen);
int cmeta_trans(MYSQL *m, long long id, char *ret_db, char *ret_state, char *err, size_t errlen);
int cmeta_set_trans(MYSQL *m, long long id, const char *state, char *err, size_t errlen);

/* Eviction of a silent worker (chealth.c): its chunks rows go, those no
 * other enabled worker holds to lost_chunks (as a forced removal), its
 * workers row stays; one MariaDB transaction under place_mu. */
int cmeta_evict_worker(struct ctl *c, MYSQL *m, const char *id, long long *ret_dropped, long long *ret_lost,
		       char *err, size_t errlen);
/* qservMeta.workers.maintenance of id; -ENOENT unknown. */
int cmeta_set_maintenance(MYSQL *m, const char *id, bool on, char *err, size_t errlen);

/* Calls method /worker/<path> on every enabled worker (body borrowed);
 * stops at the first failure, naming the worker in err. */
int ctl_all_workers(MYSQL *m, const char *method, const char *path, json_t *body, char *err, size_t errlen);
/* Same, on one worker. */
int ctl_worker_call(const struct cworker *w, const char *method, const char *path, json_t *body,
		    json_t **ret, char *err, size_t errlen);
/* The index of worker id in w[0..nw), nw when it is not there (or id is NULL). */
size_t ctl_worker_index(const struct cworker *w, size_t nw, const char *id);

/* cjoin.c: a registered worker given every database, table and (for the
 * published databases) regular table's rows of the cluster; *ret {worker,
 * databases}. */
int cjoin_worker(struct ctl *c, MYSQL *m, const struct cworker *w, json_t **ret, char *err, size_t errlen);
/* The same for database db only (a restore, cbackup_restore.c). */
int cjoin_database(struct ctl *c, MYSQL *m, const struct cworker *w, const char *db, char *err, size_t errlen);

/* cconfig.c: GET/PUT /ingest/config (*ret: every key of db, set or
 * default); cconfig_apply sends a joining worker what it applies. */
int cconfig_get(MYSQL *m, const char *db, json_t **ret, char *err, size_t errlen);
int cconfig_put(MYSQL *m, json_t *b, json_t **ret, char *err, size_t errlen);
int cconfig_apply(const struct cworker *w, MYSQL *m, const char *db, char *err, size_t errlen);

/* cplace.c: where chunk `chunk` of db lives (placing it when new). */
int cplace_chunk(struct ctl *c, MYSQL *m, const char *db, int32_t chunk, struct cworker *ret,
		 char *err, size_t errlen);
json_t *cplace_location(const struct cworker *w);

/* ctrans.c */
/* context: the request's "context" (any JSON, kept with the transaction and
 * returned by GET /ingest/trans, as in Qserv), may be NULL. */
int ctrans_begin(struct ctl *c, MYSQL *m, const char *db, json_t *context, long long *ret_id,
		 char *err, size_t errlen);
int ctrans_end(struct ctl *c, MYSQL *m, long long id, bool abort, json_t **ret_info, char *err, size_t errlen);
/* Publishes db (want false: un-publishes it: writes are accepted again and
 * the czar stops serving it), the operator's PUT /ingest/database/<db>
 * [{"publish": true|false}] (body parsed by creq_publish; cpublish.c);
 * deploy_counters: Qserv's row_counters_deploy_at_qserv (cstats.c). */
int cpublish_request(struct ctl *c, MYSQL *m, const char *db, bool want, bool deploy_counters, json_t **ret,
		     char *err, size_t errlen);
/* (Re)builds db's director index for table (all its rows). */
int cindex_rebuild(struct ctl *c, MYSQL *m, const char *db, const char *table, json_t **ret_info,
		   char *err, size_t errlen);

/* crepl.c: replica levels (qservMeta.replication) and copies to reach them */
int crepl_init(MYSQL *m, char *err, size_t errlen);
/* The level of db ("" = the cluster's default). */
int crepl_level(struct ctl *c, MYSQL *m, const char *db, int *ret, char *err, size_t errlen);
/* PUT /replication/level: db "" sets the cluster's, then the published
 * databases it concerns are brought to it; *ret {level, database,
 * replication: {copies, seconds}}. */
int crepl_set_level(struct ctl *c, MYSQL *m, const char *db, int level, json_t **ret, char *err, size_t errlen);
/* GET /replication/status */
int crepl_status(struct ctl *c, MYSQL *m, json_t **ret, char *err, size_t errlen);
/* Copies every chunk of db below its level (at publish); *ret {copies,
 * bytes, plain_bytes, rows, seconds}; a failed copy -EIO naming it. */
int crepl_bring(struct ctl *c, MYSQL *m, const char *db, json_t **ret, char *err, size_t errlen);

/* Every published database brought to its level with the usable workers
 * (the heal pass); *ret_copies planned, *ret_failed failed. */
int crepl_heal(struct ctl *c, MYSQL *m, long long *ret_copies, long long *ret_failed, char *err, size_t errlen);
/* Published chunks below their level, over every database. */
int crepl_under_total(struct ctl *c, MYSQL *m, long long *ret, char *err, size_t errlen);
/* One chunk copy: chunk of db from w[src] to w[dst] (POST /worker/replica);
 * rc, err and out (the worker's reply, caller decrefs) filled by crepl_copy. */
struct crepl_job {
	int32_t chunk;
	size_t src, dst;
	int rc;
	char err[768];
	json_t *out;
};
/* Runs the n copies, CREPL_PARALLEL at once, their plain MB/s over the
 * batch capped at cap_mbps (0: no cap); records nothing. */
void crepl_copy(struct ctl *c, const char *db, struct cworker *w, struct crepl_job *jobs, size_t n, int cap_mbps);

/* crebal.c: trim, drain, rebalance (every wait bounded, no lock across a
 * network or MariaDB call) */
void crebal_init(struct ctl *c);
/* The token of replica moves (level changes, heal passes, trims,
 * rebalances: one at a time), waiting up to ms; -EBUSY when another still
 * holds it.  A flag, not a lock: held across calls, never blocking long. */
#define CREBAL_API_WAIT_MS 60000  /* what a request waits */
#define CREBAL_HEAL_WAIT_MS 1000  /* what the healer waits (then next time) */
int crebal_enter(struct ctl *c, int wait_ms);
void crebal_leave(struct ctl *c);
/* Drops the replicas of db ("" = every published database) above its
 * level, draining workers' first; *ret_n replicas trimmed.  The caller
 * holds the token (crebal_enter). */
int crebal_trim(struct ctl *c, MYSQL *m, const char *db, long long *ret_n, char *err, size_t errlen);
/* PUT /replication/drain {"worker", "drain"}; *ret {worker, drain, chunks}. */
int crebal_drain(struct ctl *c, MYSQL *m, const char *id, bool on, json_t **ret, char *err, size_t errlen);
/* POST /replication/rebalance: moves until every usable worker is within
 * 10% of its database's mean; *ret {moves, failed, seconds}; -EBUSY while
 * another trim or rebalance runs. */
int crebal_rebalance(struct ctl *c, MYSQL *m, json_t **ret, char *err, size_t errlen);
/* Asks the healer for a trim and a rebalance check (worker added, drain). */
void crebal_wake(struct ctl *c);
/* The healer's turn (chealth.c), after each heal check. */
void crebal_after_heal(struct ctl *c);
/* {trim: {...}, rebalance: {...}} members for GET /replication/status. */
json_t *crebal_json(struct ctl *c);

/* chealth.c: the prober and healer threads (every wait bounded, no lock
 * across a network call) */
int chealth_start(struct ctl *c, char *err, size_t errlen);
void chealth_stop(struct ctl *c);
/* May id be a copy source or target: answering, not evicted, not in
 * maintenance (maint: its qservMeta flag). */
bool chealth_usable(struct ctl *c, const char *id, bool maint);
bool chealth_evicted(struct ctl *c, const char *id);
/* "up", "down", "evicted", "maintenance" or "draining". */
const char *chealth_state(struct ctl *c, const char *id, bool enabled, bool maint);
void chealth_copy_begin(struct ctl *c);
void chealth_copy_end(struct ctl *c, int rc, json_t *out);
/* PUT /replication/maintenance {"worker", "maintenance"}; *ret {worker, maintenance}. */
int chealth_maintenance(struct ctl *c, MYSQL *m, const char *id, bool on, json_t **ret, char *err, size_t errlen);
/* POST /replication/health {"worker", "up"}: the registry's word on a
 * worker (the czar's agent); -ENOENT unknown.  *ret {worker, up}. */
int chealth_registry(struct ctl *c, MYSQL *m, const char *id, bool up, json_t **ret, char *err, size_t errlen);
/* PUT /replication/evict-after {"seconds"}. */
void chealth_set_evict_after(struct ctl *c, int seconds);
/* {evict_after, probes..., heal: {...}} for GET /replication/status. */
json_t *chealth_json(struct ctl *c);

/* chealth.c, for cverify.c: the evicted workers that answer again (at
 * most max ids); cverify_returning is done with id (ok: its replicas were
 * judged): true when it is up now, false when it stays evicted (it went
 * silent meanwhile, or !ok: tried again at its next answer). */
size_t chealth_returning(struct ctl *c, char (*ret)[65], size_t max);
bool chealth_return_done(struct ctl *c, const char *id, bool ok);
/* Keeps id out of copy plans for ms (0: from now on usable again). */
void chealth_hold(struct ctl *c, const char *id, int ms);
void chealth_wake_heal(struct ctl *c);

/* cverify.c: reference checksums (qservMeta.chunk_checksums), the verify
 * pass and returning workers (one thread; no lock across a call) */
int cverify_init(MYSQL *m, char *err, size_t errlen);
int cverify_start(struct ctl *c, char *err, size_t errlen);
void cverify_stop(struct ctl *c);
/* A worker returns (chealth.c's prober; cheap: wakes the thread). */
void cverify_wake(struct ctl *c);
/* POST /replication/verify: one pass now, waited for; *ret {chunks,
 * replicas, mismatches, repaired, seconds, mismatched: [...], complete}. */
int cverify_run(struct ctl *c, json_t **ret, char *err, size_t errlen);
void cverify_set_interval(struct ctl *c, int seconds);
/* {interval, running, passes, replicas, mismatches, repaired, reused, dropped, last} */
json_t *cverify_json(struct ctl *c);
/* A copy's reply (its "checksums") as the reference of a chunk without one. */
void cverify_note_copy(MYSQL *m, const char *db, int32_t chunk, json_t *out);
/* At publish: the chunks of db without a reference read from their first holder (logs, never fails). */
int cverify_record(struct ctl *c, MYSQL *m, const char *db);
/* Un-publish, drop: db's references go. */
int cverify_forget(MYSQL *m, const char *db, char *err, size_t errlen);

/* cmetrics.c: GET /metrics (Prometheus text 0.0.4) into a new file
 * descriptor (an unlinked file in dir) and its size. */
int cmetrics_render(struct ctl *c, MYSQL *m, const char *dir, int *ret_fd, long long *ret_size,
		    char *err, size_t errlen);

/* cnotify.c: one datagram to the czar (--czar-notify), after a committed
 * change of what the czar reads (META.md): CNOTIFY_CATALOG ("reload": the
 * published catalog may have changed: publish, un-publish, drops) or
 * CNOTIFY_CHUNKS ("reload chunks": only where chunks live or their row
 * counters; every published director index is as it was, so the czar
 * keeps the copy it holds in memory).  Never blocks, never fails (a czar
 * not listening is logged at debug); why: for the log. */
enum cnotify_what { CNOTIFY_CATALOG, CNOTIFY_CHUNKS };
void cnotify_czar(const struct ctl *c, enum cnotify_what what, const char *why);

/* cstats.c: Qserv's row counters (qservMeta.row_counters): POST
 * /ingest/table-stats (body b), GET and DELETE /ingest/table-stats/<db>/<t>
 * (DELETE's body b: overlap_selector, qserv_only). */
int cstats_post(struct ctl *c, MYSQL *m, json_t *b, json_t **ret, char *err, size_t errlen);
int cstats_get(MYSQL *m, const char *db, const char *t, json_t **ret, char *err, size_t errlen);
int cstats_delete(struct ctl *c, MYSQL *m, const char *db, const char *t, json_t *b, json_t **ret,
		  char *err, size_t errlen);
/* At publish with row_counters_deploy_at_qserv: every table of db scanned and deployed. */
int cstats_deploy_db(struct ctl *c, MYSQL *m, const char *db, char *err, size_t errlen);
/* A transaction starts on db: its counters are not deployed any more. */
int cstats_stale(struct ctl *c, MYSQL *m, const char *db, char *err, size_t errlen);
/* A table (t) or the whole database (t NULL) dropped: its counters go. */
int cstats_forget(MYSQL *m, const char *db, const char *t, char *err, size_t errlen);

/* csqlidx.c: Qserv's /replication/sql/index on every worker: POST (body
 * b), GET (*ret Qserv's {status: {indexes: [...]}}), DELETE (body b). */
int csqlidx_post(MYSQL *m, json_t *b, char *err, size_t errlen);
int csqlidx_get(MYSQL *m, const char *db, const char *table, bool overlap, json_t **ret, char *err, size_t errlen);
int csqlidx_delete(MYSQL *m, json_t *b, json_t **ret, char *err, size_t errlen);
/* The default indexes on the director keys of db's partitioned tables
 * (table only, unless NULL), on w (NULL: every enabled worker, at once),
 * where missing; nothing with --no-default-index. */
int csqlidx_defaults(const struct ctl *c, MYSQL *m, const char *db, const char *table, const struct cworker *w,
		     char *err, size_t errlen);

/* capi.c */
void capi_handle(void *app, struct qhttp_req *r);
enum qhttp_auth capi_policy(void *app, const char *method, const char *url);

#endif
