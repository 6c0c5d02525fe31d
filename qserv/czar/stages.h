/* stages.h: per-stage timers of a distributed statement.
 *
 * A statement's stages, each the time since the previous mark (monotonic
 * microseconds; a mark not reached counts as the previous one):
 *   parse      the SQL text to a tree (sql_parse)
 *   plan       the metadata snapshot and the plan (plan_build)
 *   index      the director-index lookup (or its cache hit) and the chunk jobs
 *   dispatch   to the first chunk query written to a worker connection
 *   first_row  to the first answer frame of a worker (its MariaDB's work)
 *   done       to the end of the answer (rows, merge, history queued)
 * Every distributed statement adds them to a histogram per stage
 * (qserv_czar_stage_seconds{stage=...} in /metrics); the slow-query log
 * (--slow-ms) prints them.  The histograms are process-wide counters
 * updated with atomics: nothing here takes a lock. */
#ifndef QSERV_CZAR_STAGES_H
#define QSERV_CZAR_STAGES_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum stage { STAGE_PARSE, STAGE_PLAN, STAGE_INDEX, STAGE_DISPATCH, STAGE_FIRST_ROW, STAGE_DONE, STAGE_N };

struct stage_times {
	int64_t mark[STAGE_N];       /* monotonic us at the end of each stage (0: not reached) */
	int64_t t0;                  /* the statement arrived */
	int distributed;             /* it ran chunk queries (only those are recorded) */
	int index_hit;               /* the director index answered from the cache */
};

int64_t stages_now_us(void);
void stages_start(struct stage_times *t);
/* Sets mark k to now. */
void stages_mark(struct stage_times *t, enum stage k);
/* Marks done, then adds a distributed statement's stages to the histograms. */
void stages_finish(struct stage_times *t);
/* "parse 12 plan 80 index 5 (cache) dispatch 40 first_row 900 done 30 us". */
void stages_format(const struct stage_times *t, char *out, size_t n);
/* The histograms in Prometheus text. */
void stages_metrics(struct buf *b);

#endif
