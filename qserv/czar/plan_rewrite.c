/* plan_rewrite.c: the statement as the workers run it -- SELECT * and t.*
 * expanded to the registered columns, column references without database
 * names, and the FROM list on chunk tables (`T_%CC%` aliased back to T; a
 * near-neighbour join per sub-chunk reads `T_%CC%` restricted to the
 * sub-chunk key = %SS% and, for the second instance, that UNION its full
 * overlap, both through the default index qserv_sub_chunk, csqlidx.c: no
 * table is built).  The select lists, GROUP BY and ORDER BY the workers get
 * are plan_merge.c's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mariadb/mysqld_error.h>

#include "plan_internal.h"

void plan_strip_db(struct sql_expr *e)
{
	size_t i;

	if (!e)
		return;
	if (e->kind == SQL_E_COL)
		e->db = NULL;
	for (i = 0; i < e->nargs; i++)
		plan_strip_db(e->args[i]);
}

/* " FROM `db`.`<name><suffix>_%CC%`", and " WHERE `sck` = %SS%" when sub
 * (one sub-chunk: an index range read on qserv_sub_chunk), onto o. */
static void chunk_from(struct ctx *c, struct buf *o, const struct tref *r, const char *suffix, int sub)
{
	buf_puts(o, " FROM ");
	sql_print_ident(o, c->db->name);
	buf_printf(o, ".`%s%s_%%CC%%`", r->t->name, suffix);
	if (sub) {
		buf_puts(o, " WHERE ");
		sql_print_ident(o, r->mt->sub_chunk_key);
		buf_puts(o, " = %SS%");
	}
}

/* The second instance of a near-neighbour or match join: the chunk table
 * UNION its full overlap (deduplicated: an overlap row can repeat one of
 * the chunk's own), without the chunk and sub-chunk columns, which differ
 * between a row and its overlap copies; per sub-chunk (sub) the rows of
 * sub-chunk %SS% of each.  NULL: out of memory. */
static char *second_from(struct ctx *c, const struct tref *r, int sub)
{
	struct buf o = { 0 }, cols = { 0 };
	size_t k, n = 0;
	int i;
	char *ret;

	for (k = 0; k < r->mt->ncols; k++) {
		if (!strcasecmp(r->mt->cols[k], r->mt->chunk_key) || !strcasecmp(r->mt->cols[k], r->mt->sub_chunk_key))
			continue;
		buf_puts(&cols, n++ ? ", " : "SELECT ");
		sql_print_ident(&cols, r->mt->cols[k]);
	}
	for (i = 0; i < 2; i++) {
		buf_printf(&o, "%s%s", i ? " UNION " : "", buf_str(&cols));
		chunk_from(c, &o, r, i ? "FullOverlap" : "", sub);
	}
	ret = o.oom || cols.oom ? NULL : sql_strdup(c->a, buf_str(&o));
	buf_free(&o);
	buf_free(&cols);
	return ret;
}

/* The first instance per sub-chunk: SELECT * of sub-chunk %SS% of the
 * chunk table, a derived table MariaDB merges into the join (a ref read
 * on qserv_sub_chunk).  NULL: out of memory. */
static char *sub_from(struct ctx *c, const struct tref *r)
{
	struct buf o = { 0 };
	char *ret;

	buf_puts(&o, "SELECT *");
	chunk_from(c, &o, r, "", 1);
	ret = o.oom ? NULL : sql_strdup(c->a, buf_str(&o));
	buf_free(&o);
	return ret;
}

struct sql_table *plan_worker_from(struct ctx *c)
{
	struct sql_table *f = sql_alloc(c->a, c->s->nfrom * sizeof(*f));
	size_t i;

	if (!f)
		return plan_oom(c);
	for (i = 0; i < c->s->nfrom; i++) {
		const struct tref *r = &c->refs[i];
		f[i] = *r->t;
		f[i].db = c->db->name;
		f[i].alias = r->qname;
		if (c->nn && i == c->nn_second) {
			if (!(f[i].derived = second_from(c, r, c->nn_sub)))
				return plan_oom(c);
		} else if (c->nn_sub && r->mt->partitioned) {
			if (!(f[i].derived = sub_from(c, r)))
				return plan_oom(c);
		} else if (r->mt->partitioned) {
			char *n = sql_alloc(c->a, strlen(r->t->name) + 6);
			if (!n)
				return plan_oom(c);
			sprintf(n, "%s_%%CC%%", r->t->name);
			f[i].name = n;
		}
		if (f[i].on)
			plan_strip_db(f[i].on);
	}
	return f;
}

/* SELECT * and t.* become the registered columns, so the worker's own
 * column (qserv_trans_id) stays hidden and merges can name every column.
 * USING columns come first and once, as MariaDB orders them. */
static int in_list(const char *const *v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcasecmp(v[i], s))
			return 1;
	return 0;
}

static int push_col(struct ctx *c, struct sql_item *v, size_t *n, size_t cap, const char *table, const char *name)
{
	if (*n >= cap)
		return plan_fail(c, ER_TOO_MANY_FIELDS, "Too many columns");
	memset(&v[*n], 0, sizeof(v[*n]));
	if (!(v[*n].e = plan_col(c, table, name)))
		return c->rc;
	(*n)++;
	return 0;
}

int plan_expand_stars(struct ctx *c)
{
	struct sql_select *s = c->s;
	struct sql_item *v;
	size_t i, k, t, n = 0, cap = MAX_COLS;
	const char *using_all[64];
	size_t nusing = 0;

	for (i = 0; i < s->nitems; i++)
		if (s->items[i].e->kind == SQL_E_STAR ||
		    (s->items[i].e->kind == SQL_E_COL && !strcmp(s->items[i].e->name, "*")))
			break;
	if (i == s->nitems)
		return 0;
	for (t = 0; t < c->nrefs; t++)
		if (!c->refs[t].mt->cols)
			return 0;            /* schema unknown: leave * to the workers */
	for (t = 1; t < c->nrefs; t++)
		for (k = 0; k < c->refs[t].t->nusing && nusing < 64; k++)
			using_all[nusing++] = c->refs[t].t->using_cols[k];
	v = sql_alloc(c->a, cap * sizeof(*v));
	if (!v)
		return plan_enomem(c);
	for (i = 0; i < s->nitems; i++) {
		const struct sql_expr *e = s->items[i].e;
		if (e->kind == SQL_E_STAR) {
			const struct meta_table *m0 = c->refs[0].mt;
			for (k = 0; k < m0->ncols; k++)      /* coalesced USING columns first */
				if (in_list(using_all, nusing, m0->cols[k]) &&
				    push_col(c, v, &n, cap, c->refs[0].qname, m0->cols[k]) < 0)
					return c->rc;
			for (t = 0; t < c->nrefs; t++) {
				const struct meta_table *mt = c->refs[t].mt;
				for (k = 0; k < mt->ncols; k++) {
					if (t == 0 && in_list(using_all, nusing, mt->cols[k]))
						continue;
					if (c->nn && t == c->nn_second && (!strcasecmp(mt->cols[k], mt->chunk_key) ||
									   !strcasecmp(mt->cols[k], mt->sub_chunk_key)))
						continue;
					if (t > 0 && in_list(c->refs[t].t->using_cols, c->refs[t].t->nusing, mt->cols[k]))
						continue;
					if (push_col(c, v, &n, cap, c->refs[t].qname, mt->cols[k]) < 0)
						return c->rc;
				}
			}
		} else if (e->kind == SQL_E_COL && !strcmp(e->name, "*")) {
			for (t = 0; t < c->nrefs; t++)
				if (!strcmp(c->refs[t].qname, e->table))
					break;
			if (t == c->nrefs)
				return plan_fail(c, ER_BAD_TABLE_ERROR, "Unknown table '%s'", e->table);
			for (k = 0; k < c->refs[t].mt->ncols; k++) {
				const struct meta_table *mt = c->refs[t].mt;
				if (c->nn && t == c->nn_second && (!strcasecmp(mt->cols[k], mt->chunk_key) ||
								   !strcasecmp(mt->cols[k], mt->sub_chunk_key)))
					continue;
				if (push_col(c, v, &n, cap, c->refs[t].qname, mt->cols[k]) < 0)
					return c->rc;
			}
		} else {
			if (n >= cap)
				return plan_fail(c, ER_TOO_MANY_FIELDS, "Too many columns");
			v[n++] = s->items[i];
		}
	}
	s->items = v;
	s->nitems = n;
	return 0;
}
