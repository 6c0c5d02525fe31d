/* worker.h: state of the qserv-worker daemon and the interface between its
 * files: wmeta.c (tables, chunks, transactions in the local MariaDB),
 * wtrans.c (transaction states), wingest.c (contributions), wsub.c
 * (sub-chunk tables), wapi.c (the HTTP API), wreq.c (its request bodies,
 * parsed without MariaDB), wcopy.c / wcopy_in.c / wcopy_fmt.c (copies of a
 * chunk or of a database's regular tables worker to worker, wcopy.h),
 * wreplica.c (the replicas held: list, rows and checksums, drop), main.c; query.c is the
 * chunk-query service (query.h), query_sched.c its slot scheduler.
 *
 * Invariants: a contribution loads only while its transaction is STARTED
 * on this worker and counts itself in the transaction's `inflight`; commit
 * and abort first flip the state (no new loads), then wait for inflight to
 * drop to 0, then act.  Every table the worker owns has the last column
 * qserv_trans_id, and qservWorker.trans_tables lists the tables each
 * transaction wrote to, so abort = DELETE WHERE qserv_trans_id = <id> on
 * those (see wmeta.c for why not a partition per transaction).  The
 * worker's own bookkeeping lives in the database `qservWorker` of its
 * MariaDB so a restart resumes. */
#ifndef QSERV_WORKER_H
#define QSERV_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "qserv/common/qhttp.h"
#include "qserv/common/qsql.h"
#include "wreq.h"

#define WORKER_DUMMY_CHUNK 1234567890

enum wtrans_state { WT_STARTED, WT_FINISHED, WT_ABORTED };

struct wtrans {
	uint32_t id;
	char db[65];
	enum wtrans_state state;
	int inflight;   /* contributions loading now */
	bool poisoned;  /* a contribution left rows it could not vouch for
			   (kept in qservWorker.trans; see wstore.c) */
};

enum wcontrib_status { WC_QUEUED, WC_IN_PROGRESS, WC_FINISHED, WC_FAILED };

struct wcontrib {
	uint32_t id;
	uint32_t trans_id;
	char db[65], table[65];
	int32_t chunk;
	bool overlap;
	char url[1024];
	char spool[256];        /* local copy to load (csv body / http download) */
	char charset[33];
	char ft[4], enc[4], esc[4], lt[4];
	enum wcontrib_status status;
	unsigned long long num_bytes, num_rows;  /* num_rows: rows parsed in the input */
	unsigned long long num_rows_loaded;      /* what LOAD DATA reported */
	unsigned max_warnings;                   /* max_num_warnings: kept in `warnings` */
	unsigned long long num_warnings;         /* MariaDB's count, all of them */
	json_t *warnings;       /* [{level, code, message}...], at most max_warnings; owned,
				   replaced (under w->mu) only when the contribution ends */
	bool async;             /* came through a -async route */
	bool partial;           /* failed during LOAD DATA: rows may be in (no retry) */
	unsigned retries;       /* failed attempts retried: manual (PUT /ingest/file[-async]/<id>)
				   and automatic (Qserv's num_failed_retries) */
	unsigned max_retries;   /* automatic retries of a transient read failure (Qserv's
				   num_retries, bounded by the worker's max; 0 for sync) */
	json_t *failed_retries; /* [{start_time, read_time, tmp_file, num_bytes, num_rows,
				   http_error, system_error, error}...]; owned like warnings */
	long timeout_s;         /* the database's TIMEOUT (0: the worker's limit) */
	long async_limit;       /* the database's ASYNC_PROC_LIMIT (0: none) */
	int64_t create_ms, start_ms, read_ms, load_ms;
	char error[1024];
	int http_status;        /* for a failed sync request */
};

struct worker {
	struct qsql_conf sql;
	const char *id;
	const char *staging;
	const char *bind;
	int port;
	const char *file_root;  /* file:// sources must be under it (NULL: staging) */
	char auth_key[256];     /* shared secret of the API ("" = none) */
	const char *auth_sha_file;  /* or the file holding its SHA-256 (wcopy.c checks it) */
	const char *tls_ca, *tls_cert, *tls_key;  /* PEM of the API, also the client side of
						     chunk copies (NULL: plain HTTP) */
	int async_max;          /* asynchronous loads at once; more wait QUEUED */
	int async_active;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct wtrans *trans;
	size_t ntrans, ctrans;
	struct wcontrib **contribs;
	size_t ncontribs, ccontribs;
	uint32_t next_contrib;
};

int64_t worker_now_ms(void);

/* wmeta.c -- everything SQL about the worker's tables.  All return 0 or a
 * negative errno with err filled; m is a connection of the caller. */
int wmeta_init(MYSQL *m, struct worker *w, char *err, size_t errlen);
/* Spreads new chunk tables over dirs (absolute, MariaDB-writable), or over
 * the directories listed in file (one a line; read again when it changes;
 * must outlive the worker) when file is not NULL.  Call once before serving. */
int wmeta_set_chunk_dirs(const char *const *dirs, size_t n, const char *file, char *err, size_t errlen);
int wmeta_create_db(MYSQL *m, const char *db, char *err, size_t errlen);
int wmeta_drop_db(MYSQL *m, const char *db, char *err, size_t errlen);
int wmeta_create_table(MYSQL *m, const struct wreq_table *req, char *err, size_t errlen);
int wmeta_drop_table(MYSQL *m, const char *db, const char *table, char *err, size_t errlen);
/* CREATE TABLE db.name like db.proto in chunk's data directory, or where
 * MariaDB puts the regular tables for chunk WREQ_REGULAR (wcopy_in.c's
 * staging tables); an existing table is kept. */
int wmeta_create_like(MYSQL *m, const char *db, const char *proto, const char *name, int32_t chunk,
		      char *err, size_t errlen);
int wmeta_add_chunk(MYSQL *m, const char *db, int32_t chunk, char *err, size_t errlen);
int wmeta_publish(MYSQL *m, const char *db, char *err, size_t errlen);
/* The operator's un-publish (POST /worker/unpublish {database}, sent by
 * the controller's cpublish.c): writes to db are accepted again. */
int wmeta_unpublish(MYSQL *m, const char *db, char *err, size_t errlen);

/* windex.c -- MariaDB indexes of a table's prototype and chunk tables. */
/* Creates an index (POST /worker/sqlindex, parsed by wreq_index) on a
 * table and all its chunk (and overlap) tables, where it is missing. */
int windex_add(MYSQL *m, const struct wreq_index *req, char *err, size_t errlen);
/* GET /worker/sqlindex: *ret {database, table, overlap, tables (how many
 * chunk tables, or overlap ones), indexes: {name: {name, unique, type,
 * comment, columns, def, tables, consistent}}}. */
int windex_get(MYSQL *m, const char *db, const char *table, bool overlap, json_t **ret, char *err, size_t errlen);
/* DELETE /worker/sqlindex: *ret {tables} (how many lost the index). */
int windex_drop(MYSQL *m, const char *db, const char *table, const char *index, bool overlap, json_t **ret,
		char *err, size_t errlen);

struct wtable {
	char db[65], name[65];
	bool partitioned, director;
	char director_key[65], chunk_key[65], sub_chunk_key[65];
	unsigned ncols;
	char *cols;             /* "`a`,`b`,..." (caller frees) */
};
int wmeta_table(MYSQL *m, const char *db, const char *table, struct wtable *ret, char *err, size_t errlen);
bool wmeta_has_chunk(MYSQL *m, const char *db, int32_t chunk);
/* Records that transaction trans writes to db.table (before it loads). */
int wmeta_touch(MYSQL *m, const char *db, const char *table, uint32_t trans, char *err, size_t errlen);
/* Abort: deletes the transaction's rows from every table it touched. */
int wmeta_drop_trans(MYSQL *m, const char *db, uint32_t trans, char *err, size_t errlen);
int wmeta_save_trans(MYSQL *m, const struct wtrans *t, char *err, size_t errlen);
/* Writes "key\tchunkId\tsubChunkId\tqserv_trans_id\n" of the table's non-overlap rows
 * (of one transaction, or all when trans == 0) to fd. */
int wmeta_index_export(MYSQL *m, const char *db, const char *table, uint32_t trans, int fd,
		       unsigned long long *ret_rows, char *err, size_t errlen);
/* {"rows": N, "overlap_rows": N, "chunks": {"<id>": N, ...}} of committed
 * and open rows alike. */
int wmeta_count(MYSQL *m, const char *db, const char *table, json_t **ret, char *err, size_t errlen);

/* wstore.c -- durable contribution records and published marks in
 * qservWorker (see wstore.c for the crash invariant). */
int wstore_save(MYSQL *m, const struct wcontrib *c, bool loading, char *err, size_t errlen);
/* At start, after the transactions are known: reads the records back into
 * w->contribs; a contribution caught in a load poisons its transaction. */
int wstore_load(MYSQL *m, struct worker *w, char *err, size_t errlen);
int wstore_set_published(MYSQL *m, const char *db, bool published, char *err, size_t errlen);
/* 0 when db is not published, -EPERM (err names db) when it is, -EIO. */
int wstore_published(MYSQL *m, const char *db, char *err, size_t errlen);

/* wguard.c -- what requests may not change (see wguard.c). */
bool wguard_has_col(const char *cols, const char *name);
/* The key columns of t (director, chunk, sub-chunk) are columns of t. */
int wguard_keys(const struct wtable *t, char *err, size_t errlen);
/* 0 when want->db.want->name is new or registered exactly as want says,
 * -EEXIST naming the first field that differs. */
int wguard_table(MYSQL *m, const struct wtable *want, char *err, size_t errlen);
/* 0 when db takes writes, -EPERM when it is published. */
int wguard_writable(MYSQL *m, const char *db, char *err, size_t errlen);

/* wfetch.c -- http(s):// contributions downloaded within limits. */
struct wfetch_limits {
	long timeout_s;                 /* whole download */
	unsigned long long max_bytes;   /* announced or counted */
	/* automatic retries of async contributions (Qserv's worker keys
	 * ingest-num-retries, ingest-max-retries): QSERV_INGEST_NUM_RETRIES
	 * (default 1) when a request gives no num_retries, and
	 * QSERV_INGEST_MAX_RETRIES (default 10, at most WFETCH_RETRIES_CAP)
	 * above which a request's num_retries is lowered */
	unsigned num_retries, max_retries;
};
#define WFETCH_RETRIES_CAP 100
const struct wfetch_limits *wfetch_limits(void);
/* url into fd; -ETIMEDOUT, -EFBIG, -EIO... with err starting "url: ";
 * *ret_http (may be NULL) the source's HTTP status when it answered one. */
int wfetch(const char *url, int fd, const struct wfetch_limits *lim, unsigned long long *ret_bytes,
	   long *ret_http, char *err, size_t errlen);
/* Worth retrying: the source refused, reset, timed out or answered 5xx. */
bool wfetch_transient(int rc, long http);

/* wsub.c -- sub-chunk tables Subchunks_<db>_<chunk>.<T>_<chunk>_<sc> (and
 * <T>FullOverlap_<chunk>_<sc> for directors) for near-neighbour queries. */
int wsub_build(MYSQL *m, const char *db, const char *table, int32_t chunk, const int32_t *sub, size_t n,
	       char *err, size_t errlen);
int wsub_drop(MYSQL *m, const char *db, int32_t chunk, char *err, size_t errlen);

/* wreplica.c -- the replicas this worker holds: chunks, and a database's
 * regular tables as the replica WREQ_REGULAR (see wreplica.c). */
/* MariaDB's CHECKSUM TABLE of db.t (-ENOENT when the table is missing). */
int wreplica_checksum(MYSQL *m, const char *db, const char *t, unsigned long long *ret, char *err, size_t errlen);
/* One table of a replica: its name and the registered table it is made
 * like (a chunk table's partitioned table; a regular table is its own). */
struct wreplica_table {
	char name[WREQ_NAME], proto[WREQ_NAME];
};
/* The tables of a replica of db, in strcmp order of their names, into
 * *ret (malloc'ed, caller frees; untouched on failure): for a chunk (0 or
 * more) T_<chunk> and TFullOverlap_<chunk> (directors) of db's registered
 * partitioned tables; for WREQ_REGULAR db's registered regular tables. */
int wreplica_tables(MYSQL *m, const char *db, int32_t chunk, struct wreplica_table **ret, size_t *ret_n,
		    char *err, size_t errlen);
/* This worker holds the replica: the chunk is in qservWorker.chunks, or
 * (WREQ_REGULAR) the database exists here. */
bool wreplica_held(MYSQL *m, const char *db, int32_t chunk);
/* {"replicas": [{"database", "chunk"}...]} of db ("" = every database). */
int wreplica_list(MYSQL *m, const char *db, json_t **ret, char *err, size_t errlen);
/* {"database", "chunk" (or "regular": true), "tables": [{"table", "rows",
 * "checksum"}...]}; -ENOENT when the replica is not held here. */
int wreplica_describe(MYSQL *m, const char *db, int32_t chunk, json_t **ret, char *err, size_t errlen);
/* {"database", "chunk", "tables_dropped"}; -EINVAL for the dummy chunk
 * and WREQ_REGULAR,
 * -EBUSY while the chunk is copied here, -ETIMEDOUT when queries held a
 * table for 60 s. */
int wreplica_drop(MYSQL *m, const char *db, int32_t chunk, json_t **ret, char *err, size_t errlen);

/* worker transactions (main state, under w->mu) */
struct wtrans *worker_trans_find(struct worker *w, uint32_t id);
int worker_trans_begin(struct worker *w, uint32_t id, const char *db, char *err, size_t errlen);
int worker_trans_end(struct worker *w, uint32_t id, bool commit, char *err, size_t errlen);

/* wingest.c -- a contribution from start to end; fills c's status/error. */
struct wcontrib *worker_contrib_new(struct worker *w);
struct wcontrib *worker_contrib_find(struct worker *w, uint32_t id);
json_t *wcontrib_json(const struct wcontrib *c);
/* wcontrib_json() of a consistent copy (c may be loading in another thread). */
json_t *worker_contrib_snapshot(struct worker *w, const struct wcontrib *c);
void wingest_run(struct worker *w, struct wcontrib *c);
/* Runs c in a detached thread. */
int wingest_start_async(struct worker *w, struct wcontrib *c);
/* The contributions of transaction trans (or the one numbered id), each
 * with "worker" (w->id), "warnings" empty unless warnings: a new array. */
json_t *worker_contribs_json(struct worker *w, uint32_t trans, uint32_t id, bool warnings);
/* POST /worker/config: the database's applied ingest configuration
 * (TIMEOUT, ASYNC_PROC_LIMIT) kept in qservWorker.ingest_config. */
int wingest_config_save(MYSQL *m, const struct wreq_config *q, char *err, size_t errlen);
/* PUT /ingest/file[-async]/<id>: makes failed contribution id QUEUED
 * again (*ret) when Qserv's rules allow; -ENOENT, or -EBUSY naming why
 * not.  The caller runs it (wingest_run or wingest_start_async). */
int wingest_retry(struct worker *w, uint32_t id, struct wcontrib **ret, char *err, size_t errlen);

/* wapi.c */
struct qhttp_req;
/* The query-string arguments keys[0..n) of r as a JSON object of strings
 * (absent ones left out; bytes as sent, for wreq.c to check); NULL when
 * out of memory. */
json_t *wapi_args(struct qhttp_req *r, const char *const *keys, size_t n);
void wapi_handle(void *app, struct qhttp_req *r);
int wapi_spool(void *app, const char *method, const char *url, char *ret_path, size_t len);

/* wbackup.c: backup files on the bulk pool (<staging>/backups/NAME/) */
int wbackup_take(struct worker *w, json_t *b, json_t **ret, char *err, size_t errlen);
int wbackup_verify(struct worker *w, json_t *b, json_t **ret, char *err, size_t errlen);
int wbackup_remove(struct worker *w, const char *name, json_t **ret, char *err, size_t errlen);
void wbackup_get(struct worker *w, struct qhttp_req *r, const char *rest);
void wbackup_put(struct worker *w, struct qhttp_req *r, const char *rest);
bool wbackup_upload_url(const char *method, const char *url);
enum qhttp_auth wapi_policy(void *app, const char *method, const char *url);

#endif
