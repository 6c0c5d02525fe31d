/* loader.h: libqloader, the client side of Qserv's ingest: a whole
 * qserv-ingest dataset loaded through the controller's REST API, the
 * engine `qservctl ingest` drives.
 *
 * A dataset directory (or an http(s):// URL serving one) holds
 * metadata.json (version 12: "database" names the database JSON,
 * "tables"[] each with a "schema" table JSON and "data"[] entries of a
 * "directory" with "chunks"/"overlaps" lists (chunk_<id>.txt,
 * chunk_<id>_overlap.txt) or "files" for regular tables).  qloader_run()
 * registers the database and tables (directors first, then children and
 * regular tables, then match tables: Qserv's ref-match tables, whose
 * table JSON names director_table2; chunk files only), loads the files in
 * transactions of `batch` files with `jobs` contributions in parallel,
 * commits, publishes, builds the director index when the database does not
 * build it at commit, creates the table indexes the dataset lists, then
 * compares the row counts the workers hold with the input.
 *
 * Every step is journaled in a state file (fsync'd before and after each
 * step), so a rerun after an interruption never duplicates or loses rows.
 *
 * The library never prints: what a person should see arrives as events
 * through the caller's callback.  Errors: a negative errno and the
 * caller's err buffer. */
#ifndef QSERV_LOADER_H
#define QSERV_LOADER_H

#include <stdbool.h>
#include <stddef.h>

/* How rows reach a worker: a file:// URL when the worker runs on this host
 * (auto), always a file:// URL (file), always uploaded in the body (upload).
 * A dataset given as a URL is always fetched by the workers themselves. */
enum qloader_transfer { QLOADER_TRANSFER_AUTO, QLOADER_TRANSFER_FILE, QLOADER_TRANSFER_UPLOAD };

/* What the tables' row counts are compared with: the input files'
 * records, read with each file's CSV dialect so that an escaped or quoted
 * line terminator inside a value does not count (reads the whole input
 * again), the rows the workers reported loading
 * (recorded in the state file), or nothing. */
enum qloader_validate { QLOADER_VALIDATE_INPUT, QLOADER_VALIDATE_LOADED, QLOADER_VALIDATE_NONE };

struct qloader_opts {
	const char *url;            /* the controller, "http://host:port" */
	const char *dir;            /* dataset directory or http(s):// URL */
	const char *state_path;     /* NULL: DIR/.qservctl-ingest.state, or
				     * ./.qservctl-ingest-<URL>.state for a URL */
	int jobs;                   /* contributions in parallel, 1..QLOADER_MAX_JOBS */
	int batch;                  /* files per transaction, >= 1 */
	enum qloader_transfer transfer;
	enum qloader_validate validate;
	bool publish;               /* publish (and index) after loading */
	int num_retries;            /* Qserv's num_retries: automatic retries of a contribution
				     * that failed for a transient reason (connection refused or
				     * reset, timeout, HTTP 5xx), 1..QLOADER_MAX_RETRIES;
				     * 0 = Qserv's default (1), QLOADER_NO_RETRIES = none */
	long long max_warnings;     /* MariaDB warnings a contribution may raise (the workers
				     * keep and count them, as Qserv's do); more fail its batch,
				     * which is aborted.  0 (the default): none */
};

#define QLOADER_DEFAULT_RETRIES 1   /* Qserv's worker ingest-num-retries */
#define QLOADER_MAX_RETRIES 10      /* Qserv's worker ingest-max-retries */
#define QLOADER_NO_RETRIES (-1)

#define QLOADER_MAX_JOBS 64

enum qloader_event_kind {
	QLOADER_EV_VERSION,          /* metadata.json is not version 12: version */
	QLOADER_EV_PROGRESS,         /* a file loaded: progress */
	QLOADER_EV_LOADED,           /* the load phase ended: progress */
	QLOADER_EV_RESUME_ABORTED,   /* a transaction of an interrupted run aborted: trans */
	QLOADER_EV_ABORT_FAILED,     /* a failed batch's transaction not aborted: trans, text */
	QLOADER_EV_PUBLISHED,        /* the database is published: db */
	QLOADER_EV_ALREADY_PUBLISHED,/* published before this run: validating only: db */
	QLOADER_EV_NOT_VALIDATED,    /* validate none */
	QLOADER_EV_WORKER_ROWS,      /* a regular table's copy on one worker differs:
				      * db, table, worker, rows, want */
	QLOADER_EV_TABLE_ROWS,       /* one table's rows against the input: db, table,
				      * rows, want, partitioned, director, ok */
	QLOADER_EV_OVERLAP_ROWS,     /* a director's overlap rows differ: db, table,
				      * rows, want */
	QLOADER_EV_RETRY,            /* a contribution failed for a transient reason and is
				      * sent again: table, worker, text (the file and the
				      * error), attempt (the one that failed), trans */
};

struct qloader_progress {
	size_t files_done, files_total;
	unsigned long long rows, bytes;
};

/* Strings are valid only during the callback. */
struct qloader_event {
	enum qloader_event_kind kind;
	const char *db, *table, *worker, *text;
	long long trans, version;
	long long rows;                  /* WORKER_ROWS, TABLE_ROWS, OVERLAP_ROWS */
	int attempt;                     /* RETRY */
	unsigned long long want;
	bool partitioned, director, ok;  /* TABLE_ROWS */
	struct qloader_progress progress;
};

/* Called from the loading threads too, but never two at a time (the
 * engine's lock is held): it must not block for long. */
typedef void (*qloader_report_fn)(void *ctx, const struct qloader_event *ev);

/* The whole ingest of o->dir.  Needs qhttpc_init() (and the auth key set)
 * first.  Returns 0, or a negative errno with err filled. */
int qloader_run(const struct qloader_opts *o, qloader_report_fn report, void *ctx, char *err,
		size_t errlen);

#endif
