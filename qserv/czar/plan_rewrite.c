/* plan_rewrite.c: the statement as the workers run it -- SELECT * and t.*
 * expanded to the registered columns, column references without database
 * names, and the FROM list on chunk tables (`T_%CC%` aliased back to T; a
 * near-neighbour join on sub-chunk tables, `Subchunks_D_%CC%`.`T_%CC%_%SS%`
 * and, for the second instance, that table UNION its full overlap).  The select
 * lists, GROUP BY and ORDER BY the workers get are plan_merge.c's. */
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

/* The second instance of a near-neighbour or match join: the chunk table
 * UNION its full overlap (deduplicated: an overlap row can repeat one of
 * the chunk's own), without the chunk and sub-chunk columns, which differ
 * between a row and its overlap copies; per sub-chunk (sub) the sub-chunk
 * table and its full overlap.  NULL: out of memory. */
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
		buf_printf(&o, "%s%s FROM ", i ? " UNION " : "", buf_str(&cols));
		if (sub) {
			buf_printf(&o, "`Subchunks_%s_%%CC%%`.`%s%s_%%CC%%_%%SS%%`", c->db->name, r->mt->name,
				   i ? "FullOverlap" : "");
		} else {
			sql_print_ident(&o, c->db->name);
			buf_printf(&o, ".`%s%s_%%CC%%`", r->t->name, i ? "FullOverlap" : "");
		}
	}
	ret = o.oom || cols.oom ? NULL : sql_strdup(c->a, buf_str(&o));
	buf_free(&o);
	buf_free(&cols);
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
			char *d = sql_alloc(c->a, strlen(c->db->name) + 20);
			char *n = sql_alloc(c->a, strlen(r->mt->name) + 16);
			if (!d || !n)
				return plan_oom(c);
			sprintf(d, "Subchunks_%s_%%CC%%", c->db->name);
			sprintf(n, "%s_%%CC%%_%%SS%%", r->mt->name);
			f[i].db = d;
			f[i].name = n;
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
