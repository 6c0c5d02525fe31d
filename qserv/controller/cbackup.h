/* cbackup.h: backups and restores of a published database (cbackup.c: the
 * request, its job and the backup; cbackup_meta.c: the metadata and
 * director-index files; cbackup_restore.c: the restore).  Docs:
 * docs/operations.md "Backups". */
#ifndef QSERV_CBACKUP_H
#define QSERV_CBACKUP_H

#include "controller.h"

#define CBACKUP_NAME_MAX 100

/* POST /backup {database, [name]} and POST /restore {name, [as]}: start
 * the one job (409 while another runs); *ret {name, kind, state}.
 * GET /backup/status: the job {name, kind, database, state (running, done,
 * failed), done, total, reason (why it failed), manifest}. */
int cbackup_start(struct ctl *c, MYSQL *m, json_t *b, json_t **ret, char *err, size_t errlen);
int crestore_start(struct ctl *c, MYSQL *m, json_t *b, json_t **ret, char *err, size_t errlen);
json_t *cbackup_status(void);
/* Whether db is being backed up: no new transaction then (ctrans_begin). */
bool cbackup_locked(const char *db);

/* The job's progress (cbackup.c), for cbackup_restore.c. */
void cbackup_progress(long long done, long long total);
/* Names: 1..CBACKUP_NAME_MAX letters, digits, '_', '-', '.', not first '.'. */
bool cbackup_name_ok(const char *s);

/* cbackup_meta.c.  The database's qservMeta rows as
 * {table: [{column: value|null}...]} (dbs, tables, chunks, trans,
 * row_counters, replication, ingest_config, chunk_checksums) plus
 * "index_create": {table: CREATE TABLE of its director index}. */
json_t *cbackup_meta_dump(MYSQL *m, const char *db, char *err, size_t errlen);
/* The rows again under database name as (dbs and tables unpublished; not
 * chunks nor chunk_checksums: placement and checksums are new). */
int cbackup_meta_load(MYSQL *m, json_t *meta, const char *as, char *err, size_t errlen);
/* The director index of table as TSV in an LZ4 frame, in a new file at
 * path; *ret_rows. */
int cbackup_index_dump(MYSQL *m, const char *db, const char *table, const char *path, long long *ret_rows,
		       char *err, size_t errlen);
/* The director index of table of as from the LZ4 TSV file at path (its
 * table created by meta's index_create). */
int cbackup_index_load(struct ctl *c, MYSQL *m, json_t *meta, const char *as, const char *table,
		       const char *path, long long *ret_rows, char *err, size_t errlen);
/* data[0..n) as one LZ4 frame in a new file at path. */
int cbackup_lz4_write(const char *path, const void *data, size_t n, char *err, size_t errlen);

/* One worker call of a batch (cbackup_calls). */
struct cbackup_call {
	struct cworker w;
	const char *path;       /* POST /worker/<path> */
	json_t *body;           /* freed by cbackup_calls */
	json_t *out;            /* the reply, caller decrefs */
	int rc;
	char err[768];
	int32_t chunk;          /* the caller's: the chunk, or -1 */
	size_t src;             /* the caller's: the source worker's index */
};
#define CBACKUP_PARALLEL 4
/* Runs the n calls, CBACKUP_PARALLEL at once (each bounded by qhttpc's
 * timeouts), the progress done0 + those ended / total. */
void cbackup_calls(struct cbackup_call *v, size_t n, long long done0, long long total);

/* The base URL of worker w's API (https when the cluster has TLS). */
void cbackup_worker_url(const struct ctl *c, const struct cworker *w, char *ret, size_t len);

/* cbackup_restore.c: the restore job's body (a thread of cbackup.c). */
int crestore_run(struct ctl *c, MYSQL *m, const char *name, const char *as, json_t **ret_manifest,
		 char *err, size_t errlen);

#endif
