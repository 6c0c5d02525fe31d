/* plan_internal.h: the planner's working state, shared by its four files
 * only (plan.c drives, plan_analyze.c reads the query, plan_match.c plans
 * match tables, plan_rewrite.c and
 * plan_merge.c write the worker and merge queries).
 *
 * Errors: the first failure wins.  It sets c->rc (a negative errno:
 * -EINVAL for anything the client is told about, -ENOMEM) and fills c->err
 * with the MySQL error code and message the client receives; every later
 * failure is ignored, and every step returns c->rc (or NULL) once it is
 * set.  Nodes the rewrite creates live in the statement's arena. */
#ifndef QSERV_CZAR_PLAN_INTERNAL_H
#define QSERV_CZAR_PLAN_INTERNAL_H

#include "plan.h"

#define MAX_REFS 64
#define MAX_COLS 1024
#define MAX_DISTINCT 16            /* DISTINCT aggregate arguments per query */

struct tref {
	struct sql_table *t;
	const struct meta_table *mt;  /* NULL: not a Qserv table */
	const char *qname;            /* name columns qualify it by (alias or table name) */
	int set;                      /* union-find parent, for chunk-local joins */
};

struct ctx {
	struct sql_stmt *st;
	struct sql_select *s;
	struct sql_arena *a;
	const char *src;
	const struct meta *m;
	const struct meta_db *db;
	const char *dbname;
	struct tref refs[MAX_REFS];
	size_t nrefs;
	struct sql_error *err;
	int rc;                       /* 0, or the first failure's negative errno */
	/* worker select list under construction */
	struct sql_item w[MAX_COLS];
	size_t nw;
	int nqa;
	/* group expressions, printed, for matching */
	char **group_txt;
	size_t ngroup;
	struct plan *p;
	struct sql_expr **wgroup;     /* worker GROUP BY: the query's, then DISTINCT aggregate arguments */
	size_t nwgroup, cwgroup;
	size_t nw_distinct[MAX_DISTINCT];   /* worker column of each DISTINCT argument */
	int nn;                       /* near-neighbour self-join: refs[nn_second] reads chunk + overlap */
	size_t nn_second;
	int nn_sub;                   /* a self-join (not a match table): run per sub-chunk (plan_nn.c) */
	struct qchunk_region nn_reg[4];   /* the director restrictors' regions (sub-chunk pruning) */
	int nn_nreg;
	int match_filter;             /* 1 + the match table instance read alone (duplicate filter), or 0 */
	int match_no_index;           /* the match table's key may not narrow chunks (plan_match.c) */
};

/* plan.c: failures and AST builders (NULL after a failure). */
int plan_fail(struct ctx *c, unsigned code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int plan_enomem(struct ctx *c);
void *plan_oom(struct ctx *c);
char *plan_text(struct ctx *c, const struct sql_expr *e);
struct sql_expr *plan_col(struct ctx *c, const char *table, const char *name);
struct sql_expr *plan_func(struct ctx *c, const char *name, size_t nargs);
struct sql_expr *plan_bin(struct ctx *c, const char *op, struct sql_expr *l, struct sql_expr *r);
struct sql_expr *plan_num(struct ctx *c, const char *lit);
char *plan_print_select(struct ctx *c, const struct sql_select *s);

/* plan_analyze.c: what the query reads and which chunks. */
int plan_resolve_tables(struct ctx *c, const char *session_db);
int plan_check_joins(struct ctx *c, struct sql_expr **conj, size_t nconj);
void plan_conjuncts(struct sql_expr *e, struct sql_expr **v, size_t *n, size_t cap);
struct sql_expr *plan_and_all(struct ctx *c, struct sql_expr **v, size_t n);
int plan_is_areaspec(const struct sql_expr *e);
int plan_has_areaspec(const struct sql_expr *e);
void plan_bare_areaspec(struct sql_expr **slot);
int plan_literal_double(const struct sql_expr *e, double *ret);
int plan_restrictor(struct ctx *c, struct sql_expr **slot);
void plan_index_lookup(struct ctx *c, const struct sql_expr *e);

/* plan_match.c: match tables.  1 when the query has one (planned), 0
 * when not, or the failure. */
int plan_match_joins(struct ctx *c, struct sql_expr **conj, size_t nconj);
struct sql_expr *plan_match_filter(struct ctx *c);

/* plan_rewrite.c: the query as the workers run it. */
void plan_strip_db(struct sql_expr *e);
struct sql_table *plan_worker_from(struct ctx *c);
int plan_expand_stars(struct ctx *c);

/* plan_nn.c: a near-neighbour plan's sub-chunks per candidate chunk. */
int plan_nn_subchunks(struct ctx *c);

/* plan_merge.c: worker select lists and the merge query. */
const char *plan_final_name(struct ctx *c, const struct sql_item *it);
int plan_merge_aggregate(struct ctx *c, struct sql_select *wk);
int plan_merge_rows(struct ctx *c, struct sql_select *wk);

#endif
