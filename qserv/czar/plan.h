/* plan.h: query analysis and rewrite -- one SELECT into chunk queries for
 * the workers and, when needed, a merge query for the czar's MariaDB.
 *
 * The plan says where the statement runs:
 *   PLAN_LOCAL   no Qserv table: the czar's own MariaDB answers it
 *                (client probes, constant expressions, information_schema);
 *   PLAN_CHUNKS  chunk queries: worker_sql with "%CC%" standing for the
 *                chunk id, sent once per candidate chunk (or once to one
 *                worker when only regular tables are involved);
 *                merge_sql, with "%RT%" for the result table the worker
 *                rows were collected in, computes the final answer; when
 *                merge_sql is NULL the worker rows stream to the client
 *                as they arrive (at most stream_limit of them after
 *                skipping stream_offset, when those are >= 0).
 * Restrictors (qserv_areaspec_*) pick the candidate chunks and become
 * scisql_s2PtIn*(...) = 1 on the table holding positions; director-key
 * predicates (=, IN, BETWEEN) produce index_sql, a lookup in the director
 * index that narrows the chunks further at run time.  Aggregates split into
 * worker parts (COUNT, SUM, MIN, MAX, and SUM + COUNT for AVG) and merge
 * parts; GROUP BY, HAVING, ORDER BY, LIMIT and DISTINCT are applied at the
 * merge.  What cannot be answered exactly is refused with
 * ER_NOT_SUPPORTED_YET naming the problem. */
#ifndef QSERV_CZAR_PLAN_H
#define QSERV_CZAR_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "meta.h"
#include "sql.h"

enum plan_kind { PLAN_LOCAL, PLAN_CHUNKS };

struct plan {
	enum plan_kind kind;
	char *sql;                    /* PLAN_LOCAL: the statement as printed */
	const struct meta_db *db;     /* PLAN_CHUNKS */
	char *worker_sql;
	char *merge_sql;              /* NULL: stream */
	int64_t stream_limit, stream_offset;   /* -1: none */
	int regular_only;             /* one query on one worker, no %CC% */
	int32_t *chunks;              /* candidate chunks, ascending */
	size_t nchunks;
	char *index_sql;              /* NULL, or returns chunk ids in column 1 */
	int index_eq;                 /* index_sql is one `key = literal` (its answer may be cached) */
	/* `key = v` or `key IN (v, ...)` with integer literals only: those
	 * keys, for the in-memory director index (director_map.h) of
	 * director index_table of db; nindex_keys 0 otherwise */
	int64_t *index_keys;
	size_t nindex_keys;
	const char *index_table;
	char *area;                   /* the restrictor applied, for logs/tests */
	/* A near-neighbour plan (plan_nn.c): the director whose sub-chunk
	 * tables the workers build, and for chunks[i] the sub-chunks to run,
	 * nn_sub[nn_off[i] .. nn_off[i + 1]); worker_sql then has "%SS%" for
	 * the sub-chunk id.  nn_table NULL: not one. */
	char *nn_table;
	int32_t *nn_sub;
	size_t *nn_off;
};
/* The sub-chunks of candidate chunk `chunk` of a near-neighbour plan
 * (NULL and *ret_n 0 when p is not one or chunk is not a candidate). */
const int32_t *plan_nn_sub_chunks(const struct plan *p, int32_t chunk, uint32_t *ret_n);

/* Plans st (whose AST it rewrites in place) against meta m, with the
 * session's current database (may be ""), src being the statement text
 * (for column names).  Returns 0 and *ret (plan_free), -EINVAL with err
 * (a MySQL error code and message), or -ENOMEM. */
int plan_build(struct sql_stmt *st, const char *src, const char *session_db, const struct meta *m,
	       struct plan **ret, struct sql_error *err);
void plan_free(struct plan *p);

#endif
