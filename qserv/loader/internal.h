/* internal.h: libqloader's private state, shared by its files (not part of
 * the API: consumers include only loader.h).
 *
 * struct ing is one qloader_run(): the dataset as read (tables, one job
 * per input file), the open state file, the controller's answers that are
 * cached (worker locations, chunk placement), the running batch and the
 * progress counters.  mu guards the batch cursor, failed/err, the chunk
 * cache, the progress counters, the jobs' results and the state file's
 * unsynced "rows" lines while loader threads run. */
#ifndef QLOADER_INTERNAL_H
#define QLOADER_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "loader.h"
#include "qserv/common/csvd.h"

struct tbl {
	char name[65];
	json_t *json;               /* the table JSON as read */
	bool partitioned, director;
	bool match;                 /* a match table (director_table2): no overlaps */
	unsigned long long expect_rows, expect_overlap;
};

struct job {
	size_t t;                   /* index in ing.t */
	char *path;                 /* absolute path or URL (owned) */
	char *rel;                  /* relative to DIR: the resume key (owned) */
	int32_t chunk;
	bool overlap, done;
	unsigned long long bytes;
	long long loaded_rows;      /* rows the worker reported loading, -1 unknown */
};

struct ing {
	struct qloader_opts o;      /* o.dir and o.state_path point into dir, state_path */
	char dir[4096], state_path[4096];
	qloader_report_fn report;
	void *ctx;
	char db[65];
	json_t *dbjson;
	const char *charset;
	json_t *meta;
	struct tbl *t;
	size_t nt;
	struct job *j;
	size_t nj;
	FILE *state;
	json_t *regular;            /* locations of every worker */
	json_t *chunk_loc;          /* "chunk" -> location (cache) */
	pthread_mutex_t mu;
	/* the running batch */
	size_t *batch_v, batch_n, next;
	long long trans;
	bool failed;
	char err[2048];
	struct qloader_progress progress;
};

/* loader.c */
int ldr_api(struct ing *g, const char *method, const char *path, json_t *body, json_t **ret, char *err,
	    size_t errlen);
void ldr_emit(struct ing *g, const struct qloader_event *ev);

/* dataset.c: reading the dataset (local or over HTTP) */
bool ldr_is_url(const char *s);
json_t *ldr_load_json(const char *dir, const char *name, char *err, size_t errlen);
int ldr_read_dataset(struct ing *g, char *err, size_t errlen);
/* The registration pass a table JSON belongs to: directors, then children
 * and regular tables, then match tables (after both their directors). */
enum { LDR_PASS_DIRECTORS, LDR_PASS_OTHERS, LDR_PASS_MATCHES };
int ldr_table_pass(json_t *tj);
int ldr_count_rows(const char *path, const struct csvd *d, unsigned ncols, unsigned long long *ret,
		   char *err, size_t errlen);

/* journal.c: the state file */
int ldr_journal_open(struct ing *g, char *err, size_t errlen);
int ldr_journal_write(struct ing *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ldr_journal_note(struct ing *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ldr_journal_resume(struct ing *g, char *err, size_t errlen);

/* contrib.c: transactions of contributions, loader threads */
int ldr_dialect(struct ing *g, struct job *j, struct csvd *ret, char *err, size_t errlen);
/* Whether a contribution that failed with r and message e may succeed if sent again. */
bool ldr_transient(int r, const char *e);
int ldr_load_all(struct ing *g, char *err, size_t errlen);

/* publish.c: registration, publishing, validation */
int ldr_is_published(struct ing *g, bool *ret, char *err, size_t errlen);
int ldr_register_all(struct ing *g, char *err, size_t errlen);
int ldr_publish(struct ing *g, char *err, size_t errlen);
int ldr_validate(struct ing *g, char *err, size_t errlen);

#endif
