/* plan.c: the planner's driver (see plan.h) and its error and AST helpers.
 *
 * Steps, each refusing what it cannot do exactly: resolve the FROM tables
 * against the metadata; check that partitioned tables join chunk-locally;
 * take the restrictors out of WHERE and pick the candidate chunks; find a
 * director-index predicate (plan_analyze.c); expand stars and point FROM at
 * chunk tables (plan_rewrite.c); then write the worker and merge queries
 * (plan_merge.c).  The AST is rewritten in place (its arena owns every new
 * node); the plan's strings are malloc'd. */
#include "plan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mariadb/mysqld_error.h>

#include "plan_internal.h"

#define MAX_CONJ 256               /* AND terms of WHERE (one slot tells "too many") */

/* Records the first failure: the client's error code and message; returns
 * the negative errno plan_build will return (-EINVAL). */
int plan_fail(struct ctx *c, unsigned code, const char *fmt, ...)
{
	va_list ap;

	if (c->rc)
		return c->rc;
	c->rc = -EINVAL;
	c->err->code = code;
	va_start(ap, fmt);
	vsnprintf(c->err->msg, sizeof(c->err->msg), fmt, ap);
	va_end(ap);
	return c->rc;
}

/* Records running out of memory (when nothing failed before): -ENOMEM. */
int plan_enomem(struct ctx *c)
{
	if (!c->rc) {
		c->rc = -ENOMEM;
		c->err->code = ER_OUT_OF_RESOURCES;
		snprintf(c->err->msg, sizeof(c->err->msg), "Out of memory planning the query");
	}
	return c->rc;
}

/* plan_enomem for functions returning a pointer: NULL. */
void *plan_oom(struct ctx *c)
{
	plan_enomem(c);
	return NULL;
}

/* Printed form of e (arena), for comparing expressions structurally. */
char *plan_text(struct ctx *c, const struct sql_expr *e)
{
	struct buf o = { 0 };
	char *s;

	sql_print_expr(&o, e);
	if (o.oom) {
		buf_free(&o);
		return plan_oom(c);
	}
	s = sql_strdup(c->a, buf_str(&o));
	buf_free(&o);
	return s ? s : plan_oom(c);
}

struct sql_expr *plan_col(struct ctx *c, const char *table, const char *name)
{
	struct sql_expr *e = sql_expr_new(c->a, SQL_E_COL, 0);

	if (!e)
		return plan_oom(c);
	e->table = table;
	e->name = name;
	return e;
}

struct sql_expr *plan_func(struct ctx *c, const char *name, size_t nargs)
{
	struct sql_expr *e = sql_expr_new(c->a, SQL_E_FUNC, nargs);

	if (!e)
		return plan_oom(c);
	e->text = name;
	return e;
}

struct sql_expr *plan_bin(struct ctx *c, const char *op, struct sql_expr *l, struct sql_expr *r)
{
	struct sql_expr *e = sql_expr_new(c->a, SQL_E_BINARY, 2);

	if (!e || !l || !r)
		return plan_oom(c);
	e->text = op;
	e->args[0] = l;
	e->args[1] = r;
	return e;
}

struct sql_expr *plan_num(struct ctx *c, const char *lit)
{
	struct sql_expr *e = sql_expr_new(c->a, SQL_E_NUM, 0);

	if (!e)
		return plan_oom(c);
	e->text = lit;
	return e;
}

char *plan_print_select(struct ctx *c, const struct sql_select *s)
{
	struct buf o = { 0 };

	sql_print_select(&o, s);
	if (o.oom) {
		buf_free(&o);
		return plan_oom(c);
	}
	return buf_steal(&o);
}

void plan_free(struct plan *p)
{
	if (!p)
		return;
	free(p->sql);
	free(p->worker_sql);
	free(p->merge_sql);
	free(p->chunks);
	free(p->index_sql);
	free(p->index_keys);
	free(p->area);
	free(p->nn_table);
	free(p->nn_sub);
	free(p->nn_off);
	free(p);
}

/* The plan starts as every placed chunk of the database; the number of
 * partitioned table instances in *ret_npart. */
static int start_chunks(struct ctx *c, int *ret_npart)
{
	size_t i;
	int npart = 0;

	for (i = 0; i < c->nrefs; i++)
		npart += c->refs[i].mt->partitioned;
	c->p->kind = PLAN_CHUNKS;
	c->p->db = c->db;
	c->p->regular_only = npart == 0;
	c->p->stream_limit = c->p->stream_offset = -1;
	c->p->chunks = malloc((c->db->nchunks + 1) * sizeof(int32_t));
	if (!c->p->chunks)
		return plan_enomem(c);
	for (i = 0; i < c->db->nchunks; i++)
		c->p->chunks[i] = c->db->chunks[i].id;
	c->p->nchunks = c->db->nchunks;
	*ret_npart = npart;
	return 0;
}

/* The AND terms of WHERE into conj; the joins checked for chunk locality
 * against them and the ON conditions. */
static int where_terms(struct ctx *c, struct sql_expr **conj, size_t *nconj)
{
	struct sql_select *s = c->s;
	struct sql_expr *all[2 * MAX_CONJ];
	size_t nall = 0, i;

	plan_conjuncts(s->where, conj, nconj, MAX_CONJ);
	if (*nconj == MAX_CONJ)
		return plan_fail(c, ER_NOT_SUPPORTED_YET, "Qserv does not support more than 255 AND terms in WHERE");
	for (i = 0; i < s->nfrom; i++) {
		if (plan_has_areaspec(s->from[i].on))
			return plan_fail(c, ER_NOT_SUPPORTED_YET, "Qserv does not support qserv_areaspec_* in ON");
	}
	/* ON conditions count for chunk-locality too */
	for (i = 0; i < *nconj; i++)
		all[nall++] = conj[i];
	for (i = 0; i < s->nfrom; i++)
		plan_conjuncts(s->from[i].on, all, &nall, 2 * MAX_CONJ);
	return plan_check_joins(c, all, nall);
}

/* Restrictors (AND terms of WHERE only: the bare call, or compared = 1 as
 * Qserv's own queries write them) become scisql tests on every partitioned
 * table and narrow the chunks; a director-key term yields the index lookup;
 * WHERE is rebuilt from the terms. */
static int restrict_where(struct ctx *c, struct sql_expr **conj, size_t nconj, int npart)
{
	struct sql_select *s = c->s;
	size_t i;
	int rc;

	for (i = 0; i < nconj; i++) {
		plan_bare_areaspec(&conj[i]);
		if (plan_is_areaspec(conj[i])) {
			if (npart == 0)
				return plan_fail(c, ER_NOT_SUPPORTED_YET, "Qserv does not support %s on regular tables",
						 conj[i]->text);
			if ((rc = plan_restrictor(c, &conj[i])) < 0)
				return rc;
		}
	}
	for (i = 0; i < nconj; i++)
		if (plan_has_areaspec(conj[i]))
			return plan_fail(c, ER_NOT_SUPPORTED_YET,
					 "Qserv does not support qserv_areaspec_* inside OR, NOT or other expressions: it must be "
					 "an AND term of WHERE");
	for (i = 0; i < s->nitems; i++)
		if (plan_has_areaspec(s->items[i].e) || plan_has_areaspec(s->having))
			return plan_fail(c, ER_NOT_SUPPORTED_YET, "Qserv does not support qserv_areaspec_* outside WHERE");
	if (npart)
		for (i = 0; i < nconj; i++)
			plan_index_lookup(c, conj[i]);
	s->where = plan_and_all(c, conj, nconj);
	return c->rc;
}

/* Column references may not name the database: tables are aliased. */
static void strip_db_all(struct sql_select *s)
{
	size_t i;

	plan_strip_db(s->where);
	plan_strip_db(s->having);
	for (i = 0; i < s->nitems; i++)
		plan_strip_db(s->items[i].e);
	for (i = 0; i < s->ngroup; i++)
		plan_strip_db(s->group[i]);
	for (i = 0; i < s->norder; i++)
		plan_strip_db(s->order[i].e);
}

/* Only regular tables: one worker holds the whole of every one of them and
 * runs the statement as it is. */
static int worker_query_regular(struct ctx *c)
{
	struct sql_select *s = c->s, wk = *s;
	size_t i;

	if (!(wk.from = plan_worker_from(c)))
		return c->rc;
	for (i = 0; i < s->nitems; i++) {
		c->w[i] = s->items[i];
		if (s->items[i].e->kind != SQL_E_COL && s->items[i].e->kind != SQL_E_STAR)
			c->w[i].alias = plan_final_name(c, &s->items[i]);
	}
	wk.items = c->w;
	c->p->worker_sql = plan_print_select(c, &wk);
	return c->p->worker_sql ? 0 : c->rc;
}

/* The chunk query, with the merge query when the rows need one. */
static int worker_query(struct ctx *c)
{
	struct sql_select *s = c->s, wk;
	size_t i;
	int agg, rc;

	if (c->p->regular_only)
		return worker_query_regular(c);
	memset(&wk, 0, sizeof(wk));
	if (!(wk.from = plan_worker_from(c)))
		return c->rc;
	wk.nfrom = s->nfrom;
	wk.where = s->where;
	agg = s->ngroup > 0 || s->having != NULL;
	for (i = 0; i < s->nitems; i++)
		agg |= sql_has_aggregate(s->items[i].e);
	rc = agg ? plan_merge_aggregate(c, &wk) : plan_merge_rows(c, &wk);
	if (rc < 0)
		return rc;
	c->p->worker_sql = plan_print_select(c, &wk);
	return c->p->worker_sql ? 0 : c->rc;
}

static int plan_chunks(struct ctx *c)
{
	struct sql_expr *conj[MAX_CONJ];
	size_t nconj = 0;
	int npart = 0, rc;

	if ((rc = start_chunks(c, &npart)) < 0 || (rc = where_terms(c, conj, &nconj)) < 0 ||
	    (rc = plan_expand_stars(c)) < 0)
		return rc;
	if (c->match_filter) {           /* Qserv's duplicate filter goes first */
		struct sql_expr *f = plan_match_filter(c);
		if (!f)
			return c->rc;
		memmove(conj + 1, conj, nconj * sizeof(*conj));
		conj[0] = f;
		nconj++;
	}
	if ((rc = restrict_where(c, conj, nconj, npart)) < 0 || (c->nn_sub && (rc = plan_nn_subchunks(c)) < 0))
		return rc;
	strip_db_all(c->s);
	return worker_query(c);
}

/* The statement as printed, for the czar's own MariaDB. */
static int plan_local(struct ctx *c)
{
	struct buf o = { 0 };

	c->p->kind = PLAN_LOCAL;
	sql_print_select(&o, c->s);
	if (o.oom) {
		buf_free(&o);
		return plan_enomem(c);
	}
	c->p->sql = buf_steal(&o);
	return 0;
}

int plan_build(struct sql_stmt *st, const char *src, const char *session_db, const struct meta *m,
	       struct plan **ret, struct sql_error *err)
{
	struct ctx *c = calloc(1, sizeof(*c));
	struct plan *p = calloc(1, sizeof(*p));
	int nq, rc;

	memset(err, 0, sizeof(*err));
	if (!c || !p) {
		free(c);
		free(p);
		return -ENOMEM;
	}
	c->st = st;
	c->s = st->select;
	c->a = st->arena;
	c->src = src;
	c->m = m;
	c->err = err;
	c->p = p;
	nq = plan_resolve_tables(c, session_db ? session_db : "");
	if (nq == 0)
		plan_local(c);
	else if (nq > 0)
		plan_chunks(c);
	rc = c->rc;
	if (rc < 0)
		plan_free(p);
	else
		*ret = p;
	free(c);
	return rc;
}
