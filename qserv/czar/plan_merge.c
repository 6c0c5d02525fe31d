/* plan_merge.c: the worker select lists and the merge query.
 *
 * Rows that need no merge stream to the client (worker columns carry the
 * final names; LIMIT stops early).  Otherwise the workers' rows land in a
 * result table (%RT%) and a merge query over it answers: aggregates split
 * into worker partials (COUNT, SUM, MIN, MAX; SUM and COUNT for AVG;
 * DISTINCT arguments as extra worker GROUP BY columns) that the merge
 * combines; GROUP BY, HAVING, ORDER BY, LIMIT and DISTINCT are applied at
 * the merge, naming worker columns by their QS_* aliases. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mariadb/mysqld_error.h>

#include "plan_internal.h"

const char *plan_final_name(struct ctx *c, const struct sql_item *it)
{
	char *s;
	int n;

	if (it->alias)
		return it->alias;
	if (it->e->kind == SQL_E_COL)
		return it->e->name;
	n = it->end - it->start;
	if (n <= 0)
		return "?";
	if (n > 255)
		n = 255;
	s = sql_alloc(c->a, (size_t)n + 1);
	if (!s)
		return plan_oom(c);
	memcpy(s, c->src + it->start, (size_t)n);
	return s;
}

static const char *add_worker_col(struct ctx *c, struct sql_expr *e, const char *prefix)
{
	char *alias;

	if (c->nw >= MAX_COLS) {
		plan_fail(c, ER_TOO_MANY_FIELDS, "Too many columns");
		return NULL;
	}
	alias = sql_alloc(c->a, 32);      /* a QS_x prefix + 20 digits */
	if (!alias)
		return plan_oom(c);
	snprintf(alias, 32, "%s%zu", prefix, c->nw + 1);
	c->w[c->nw].e = e;
	c->w[c->nw].alias = alias;
	c->nw++;
	return alias;
}

/* The worker column (QS_Gn) a GROUP BY expression was given, or NULL. */
static struct sql_expr *group_ref(struct ctx *c, const struct sql_expr *e)
{
	const char *t;
	size_t i;

	if (!c->ngroup || e->kind == SQL_E_NUM || e->kind == SQL_E_STR || !(t = plan_text(c, e)))
		return NULL;
	for (i = 0; i < c->ngroup; i++)
		if (!strcmp(t, c->group_txt[i])) {
			char name[32];    /* QS_G + 20 digits */
			snprintf(name, sizeof(name), "QS_G%zu", i + 1);
			return plan_col(c, NULL, sql_strdup(c->a, name));
		}
	return NULL;
}

/* In HAVING and ORDER BY (merged != NULL), a bare name may be a select
 * alias: the merged form of that item, or NULL. */
static struct sql_expr *alias_ref(struct ctx *c, const struct sql_expr *e, struct sql_expr **merged)
{
	size_t i;

	if (!merged || e->kind != SQL_E_COL || e->table)
		return NULL;
	for (i = 0; i < c->s->nitems; i++)
		if (c->s->items[i].alias && !strcasecmp(c->s->items[i].alias, e->name))
			return merged[i];
	return NULL;
}

/* AGG(DISTINCT x): workers also group by x and return its values; the
 * merge applies the DISTINCT aggregate to them.  The other partial
 * aggregates stay exact: they sum over finer groups. */
static struct sql_expr *merge_distinct(struct ctx *c, struct sql_expr *e)
{
	const char *a = NULL, *t;
	struct sql_expr *x;
	size_t i;

	if (e->nargs != 1 || sql_has_aggregate(e->args[0])) {
		plan_fail(c, ER_NOT_SUPPORTED_YET, "Qserv does not support %s(DISTINCT ...) of several "
			  "expressions over partitioned tables", e->text);
		return NULL;
	}
	if (!(t = plan_text(c, e->args[0])))
		return NULL;
	for (i = c->ngroup; i < c->nwgroup; i++)
		if (!strcmp(plan_text(c, c->wgroup[i]), t)) {
			a = c->w[c->nw_distinct[i - c->ngroup]].alias;
			break;
		}
	if (!a) {
		if (c->nwgroup >= c->cwgroup) {
			plan_fail(c, ER_NOT_SUPPORTED_YET, "Qserv does not support more than 16 DISTINCT aggregates");
			return NULL;
		}
		c->nw_distinct[c->nwgroup - c->ngroup] = c->nw;
		if (!(a = add_worker_col(c, e->args[0], "QS_D")))
			return NULL;
		c->wgroup[c->nwgroup++] = e->args[0];
	}
	x = plan_func(c, e->text, 1);
	if (!x)
		return NULL;
	x->distinct = 1;
	x->args[0] = plan_col(c, NULL, a);
	return x;
}

/* AVG(x): workers return SUM(x) and COUNT(x); the merge divides the sums. */
static struct sql_expr *merge_avg(struct ctx *c, struct sql_expr *e)
{
	struct sql_expr *s = plan_func(c, "SUM", 1), *n = plan_func(c, "COUNT", 1);
	const char *a, *b;

	if (!s || !n)
		return NULL;
	s->args[0] = n->args[0] = e->args[0];
	a = add_worker_col(c, s, "QS_A");
	b = add_worker_col(c, n, "QS_A");
	s = plan_func(c, "SUM", 1);
	n = plan_func(c, "SUM", 1);
	if (!a || !b || !s || !n)
		return NULL;
	s->args[0] = plan_col(c, NULL, a);
	n->args[0] = plan_col(c, NULL, b);
	return plan_bin(c, "/", s, n);
}

/* COUNT: the sum of the worker counts, a BIGINT that is 0, not NULL, over
 * no rows. */
static struct sql_expr *merge_count(struct ctx *c, const char *worker_col)
{
	struct sql_expr *s = plan_func(c, "SUM", 1), *z = plan_func(c, "COALESCE", 2), *cast;

	if (!s || !z || !(cast = sql_expr_new(c->a, SQL_E_CAST, 1)))
		return plan_oom(c);
	s->args[0] = plan_col(c, NULL, worker_col);
	z->args[0] = s;
	z->args[1] = plan_num(c, "0");
	cast->args[0] = z;
	cast->text = "SIGNED";
	return cast;
}

/* An aggregate call: its worker partials and their merge. */
static struct sql_expr *merge_aggregate(struct ctx *c, struct sql_expr *e)
{
	struct sql_expr *x;
	const char *a;
	size_t i;

	if (strcasecmp(e->text, "COUNT") && strcasecmp(e->text, "SUM") && strcasecmp(e->text, "MIN") &&
	    strcasecmp(e->text, "MAX") && strcasecmp(e->text, "AVG")) {
		plan_fail(c, ER_NOT_SUPPORTED_YET, "Qserv does not support %s(%s...) over partitioned tables",
			  e->text, e->distinct ? "DISTINCT " : "");
		return NULL;
	}
	if (e->distinct)
		return merge_distinct(c, e);
	for (i = 0; i < e->nargs; i++)
		if (sql_has_aggregate(e->args[i])) {
			plan_fail(c, ER_INVALID_GROUP_FUNC_USE, "Invalid use of group function");
			return NULL;
		}
	if (!strcasecmp(e->text, "AVG"))
		return merge_avg(c, e);
	a = add_worker_col(c, e, "QS_A");
	if (!a)
		return NULL;
	if (!strcasecmp(e->text, "COUNT"))
		return merge_count(c, a);
	x = plan_func(c, strcasecmp(e->text, "SUM") ? e->text : "SUM", 1);
	if (!x)
		return NULL;
	x->args[0] = plan_col(c, NULL, a);
	return x;
}

static struct sql_expr *merge_expr(struct ctx *c, struct sql_expr *e, struct sql_expr **merged);

/* Any other expression: a copy whose operands are merged in turn; bare
 * columns (not grouped) and * have no merge form. */
static struct sql_expr *merge_operands(struct ctx *c, struct sql_expr *e, struct sql_expr **merged)
{
	struct sql_expr *x, **args;
	size_t i;

	if (e->kind == SQL_E_COL) {
		plan_fail(c, ER_NOT_SUPPORTED_YET,
			  "Qserv does not support the column '%s' outside an aggregate here: it is not in GROUP BY, "
			  "so its value would be arbitrary", e->name);
		return NULL;
	}
	if (e->kind == SQL_E_STAR) {
		plan_fail(c, ER_NOT_SUPPORTED_YET, "Qserv does not support SELECT * in an aggregate query");
		return NULL;
	}
	if (!e->nargs)
		return e;
	x = sql_expr_new(c->a, e->kind, e->nargs);
	if (!x)
		return plan_oom(c);
	args = x->args;
	*x = *e;
	x->args = args;
	for (i = 0; i < e->nargs; i++)
		if (e->args[i] && !(x->args[i] = merge_expr(c, e->args[i], merged)))
			return NULL;
	return x;
}

/* Merge form of e in an aggregate query: aggregates become merges of
 * worker partials, group expressions become their worker columns.
 * merged: the select items' merge forms, whose aliases HAVING and ORDER BY
 * may name (NULL in the select list itself). */
static struct sql_expr *merge_expr(struct ctx *c, struct sql_expr *e, struct sql_expr **merged)
{
	struct sql_expr *x;

	if (!e || c->rc)
		return NULL;
	if ((x = group_ref(c, e)) || c->rc)
		return x;
	if ((x = alias_ref(c, e, merged)))
		return x;
	if (sql_is_aggregate(e))
		return merge_aggregate(c, e);
	return merge_operands(c, e, merged);
}

/* Index (0-based) of the select item an ORDER BY / GROUP BY entry names:
 * a position, an alias, or the same expression; -1 otherwise (negative,
 * with c->rc set, on an error). */
static int item_ref(struct ctx *c, const struct sql_expr *e)
{
	const char *t;
	size_t i;
	double d;

	if (e->kind == SQL_E_NUM && plan_literal_double(e, &d) == 0 && !strchr(e->text, '.')) {
		if (d < 1 || d > (double)c->s->nitems)
			return plan_fail(c, ER_BAD_FIELD_ERROR, "Unknown column '%s' in 'order clause'", e->text);
		return (int)d - 1;
	}
	if (e->kind == SQL_E_COL && !e->table)
		for (i = 0; i < c->s->nitems; i++)
			if (c->s->items[i].alias && !strcasecmp(c->s->items[i].alias, e->name))
				return (int)i;
	if (!(t = plan_text(c, e)))
		return -1;
	for (i = 0; i < c->s->nitems; i++)
		if (c->s->items[i].e->kind != SQL_E_STAR && !strcmp(plan_text(c, c->s->items[i].e), t))
			return (int)i;
	return -1;
}

static struct sql_expr *position(struct ctx *c, size_t i)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%zu", i + 1);
	return plan_num(c, sql_strdup(c->a, buf));
}

/* The merge query reads the result table the worker rows went to. */
static int merge_from_result(struct ctx *c, struct sql_select *mg)
{
	mg->from = sql_alloc(c->a, sizeof(*mg->from));
	if (!mg->from)
		return plan_enomem(c);
	mg->from->name = "%RT%";
	mg->nfrom = 1;
	return 0;
}

/* Prints the merge query, once every step succeeded. */
static int finish_merge(struct ctx *c, const struct sql_select *mg)
{
	if (c->rc)
		return c->rc;
	c->p->merge_sql = plan_print_select(c, mg);
	return c->p->merge_sql ? 0 : c->rc;
}

/* GROUP BY: each group expression (or the select item it names) becomes
 * one of the first worker columns, QS_G1..n, and the workers group by it. */
static int group_columns(struct ctx *c, struct sql_expr **wgroup)
{
	struct sql_select *s = c->s;
	size_t i;

	for (i = 0; i < s->ngroup; i++) {
		struct sql_expr *g = s->group[i];
		int k = item_ref(c, g);
		if (c->rc)
			return c->rc;
		if (k >= 0)
			g = s->items[k].e;
		if (sql_has_aggregate(g))
			return plan_fail(c, ER_WRONG_GROUP_FIELD, "Can't group on an aggregate");
		wgroup[i] = g;
		c->group_txt[i] = plan_text(c, g);
		add_worker_col(c, g, "QS_G");
	}
	c->ngroup = s->ngroup;
	c->wgroup = wgroup;
	c->nwgroup = s->ngroup;
	c->cwgroup = s->ngroup + MAX_DISTINCT;
	return 0;
}

/* ORDER BY of an aggregate query: a select item by position, else the
 * merge form of the expression. */
static int aggregate_order(struct ctx *c, struct sql_select *mg, struct sql_expr **merged)
{
	struct sql_select *s = c->s;
	size_t i;

	mg->order = sql_alloc(c->a, s->norder * sizeof(*mg->order));
	if (!mg->order)
		return plan_enomem(c);
	for (i = 0; i < s->norder; i++) {
		int k = item_ref(c, s->order[i].e);
		if (c->rc)
			return c->rc;
		mg->order[i].desc = s->order[i].desc;
		mg->order[i].e = k >= 0 ? position(c, (size_t)k) : merge_expr(c, s->order[i].e, merged);
		if (!mg->order[i].e)
			return c->rc;
	}
	mg->norder = s->norder;
	return 0;
}

int plan_merge_aggregate(struct ctx *c, struct sql_select *wk)
{
	struct sql_select *s = c->s, mg;
	struct sql_expr **merged, **wgroup;
	struct sql_item *mitems;
	size_t i;
	int rc;

	memset(&mg, 0, sizeof(mg));
	merged = sql_alloc(c->a, (s->nitems + 1) * sizeof(*merged));
	mitems = sql_alloc(c->a, (s->nitems + 1) * sizeof(*mitems));
	wgroup = sql_alloc(c->a, (s->ngroup + MAX_DISTINCT) * sizeof(*wgroup));
	c->group_txt = sql_alloc(c->a, (s->ngroup + 1) * sizeof(*c->group_txt));
	if (!merged || !mitems || !wgroup || !c->group_txt)
		return plan_enomem(c);
	if ((rc = group_columns(c, wgroup)) < 0)
		return rc;
	for (i = 0; i < s->nitems; i++) {
		if (!(merged[i] = merge_expr(c, s->items[i].e, NULL)))
			return c->rc;
		mitems[i].e = merged[i];
		mitems[i].alias = plan_final_name(c, &s->items[i]);
	}
	mg.distinct = s->distinct;
	mg.items = mitems;
	mg.nitems = s->nitems;
	if (s->having && !(mg.having = merge_expr(c, s->having, merged)))
		return c->rc;
	if (s->norder && (rc = aggregate_order(c, &mg, merged)) < 0)
		return rc;
	if (s->ngroup) {
		mg.group = sql_alloc(c->a, s->ngroup * sizeof(*mg.group));
		if (!mg.group)
			return plan_enomem(c);
		for (i = 0; i < s->ngroup; i++)
			mg.group[i] = plan_col(c, NULL, c->w[i].alias);
		mg.ngroup = s->ngroup;
	}
	mg.has_limit = s->has_limit;
	mg.limit = s->limit;
	mg.offset = s->offset;
	if ((rc = merge_from_result(c, &mg)) < 0)
		return rc;
	if (c->nw == 0)        /* e.g. SELECT 1 FROM T HAVING 1: keep one column */
		add_worker_col(c, plan_num(c, "1"), "QS_C");
	wk->items = c->w;
	wk->nitems = c->nw;
	wk->group = wgroup;
	wk->ngroup = c->nwgroup;
	return finish_merge(c, &mg);
}

/* Rows in any order, no DISTINCT: they stream to the client; the worker
 * columns carry the final names, and LIMIT stops early. */
static int rows_stream(struct ctx *c, struct sql_select *wk, int star)
{
	struct sql_select *s = c->s;
	size_t i;

	for (i = 0; i < s->nitems; i++) {
		c->w[i] = s->items[i];
		if (!star && s->items[i].e->kind != SQL_E_COL)
			c->w[i].alias = plan_final_name(c, &s->items[i]);
	}
	wk->items = c->w;
	wk->nitems = s->nitems;
	if (s->has_limit) {
		/* any LIMIT rows will do: stop early */
		wk->has_limit = 1;
		wk->limit = s->limit + s->offset;
		c->p->stream_limit = s->limit;
		c->p->stream_offset = s->offset;
	}
	return c->rc;
}

/* The merge select list: * again, or each worker column QS_Cn under the
 * item's final name. */
static int rows_items(struct ctx *c, struct sql_select *mg, int star)
{
	struct sql_select *s = c->s;
	struct sql_item *mitems;
	size_t i;

	mitems = sql_alloc(c->a, (s->nitems + 1) * sizeof(*mitems));
	if (!mitems)
		return plan_enomem(c);
	if (star) {
		for (i = 0; i < s->nitems; i++)
			c->w[c->nw++] = s->items[i];
		mitems[0].e = sql_expr_new(c->a, SQL_E_STAR, 0);
		if (!mitems[0].e)
			return plan_enomem(c);
		mg->nitems = 1;
	} else {
		for (i = 0; i < s->nitems; i++) {
			const char *a = add_worker_col(c, s->items[i].e, "QS_C");
			if (!a)
				return c->rc;
			mitems[i].e = plan_col(c, NULL, a);
			mitems[i].alias = plan_final_name(c, &s->items[i]);
		}
		mg->nitems = s->nitems;
	}
	mg->items = mitems;
	mg->distinct = s->distinct;
	return 0;
}

/* One ORDER BY entry of a row query, for the workers (each chunk sorted,
 * for its LIMIT) and the merge: a select item by position, a column of
 * SELECT *, or an extra worker column QS_On. */
static int rows_order_entry(struct ctx *c, struct sql_select *wk, struct sql_select *mg, size_t i, int star)
{
	struct sql_select *s = c->s;
	struct sql_expr *e = s->order[i].e;
	int k = star ? -1 : item_ref(c, e);
	const char *a;

	if (c->rc)
		return c->rc;
	mg->order[i].desc = wk->order[i].desc = s->order[i].desc;
	wk->order[i].e = e;
	if (k >= 0) {
		mg->order[i].e = position(c, (size_t)k);
		wk->order[i].e = s->items[k].e;
	} else if (star) {
		if (e->kind != SQL_E_COL)
			return plan_fail(c, ER_NOT_SUPPORTED_YET,
					 "Qserv does not support ORDER BY an expression together with SELECT *");
		mg->order[i].e = plan_col(c, NULL, e->name);
	} else {
		if (s->distinct)
			return plan_fail(c, ER_NOT_SUPPORTED_YET,
					 "Qserv does not support ORDER BY an expression outside the select list "
					 "together with DISTINCT");
		if (!(a = add_worker_col(c, e, "QS_O")))
			return c->rc;
		mg->order[i].e = plan_col(c, NULL, a);
	}
	return 0;
}

int plan_merge_rows(struct ctx *c, struct sql_select *wk)
{
	struct sql_select *s = c->s, mg;
	size_t i;
	int star = 0, rc;

	for (i = 0; i < s->nitems; i++)
		if (s->items[i].e->kind == SQL_E_STAR ||
		    (s->items[i].e->kind == SQL_E_COL && !strcmp(s->items[i].e->name, "*")))
			star = 1;
	wk->distinct = s->distinct;
	if (!s->distinct && !s->norder)
		return rows_stream(c, wk, star);
	memset(&mg, 0, sizeof(mg));
	if ((rc = rows_items(c, &mg, star)) < 0)
		return rc;
	if (s->norder) {
		mg.order = sql_alloc(c->a, s->norder * sizeof(*mg.order));
		wk->order = sql_alloc(c->a, s->norder * sizeof(*wk->order));
		if (!mg.order || !wk->order)
			return plan_enomem(c);
		for (i = 0; i < s->norder; i++)
			if ((rc = rows_order_entry(c, wk, &mg, i, star)) < 0)
				return rc;
		mg.norder = wk->norder = s->norder;
	}
	if (s->has_limit) {
		mg.has_limit = 1;
		mg.limit = s->limit;
		mg.offset = s->offset;
		wk->has_limit = 1;       /* each chunk needs at most offset + limit rows */
		wk->limit = s->limit + s->offset;
	}
	if ((rc = merge_from_result(c, &mg)) < 0)
		return rc;
	wk->items = c->w;
	wk->nitems = c->nw;
	return finish_merge(c, &mg);
}
