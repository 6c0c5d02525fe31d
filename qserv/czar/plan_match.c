/* plan_match.c: queries on match tables (Qserv's ref-match tables), planned
 * as Qserv's RelationGraph and MatchTablePlugin plan them.
 *
 * A match row sits in the chunk of each of its two positions, once (flags
 * 3) when both are in one chunk, else twice (flags 1 in the first
 * director's chunk, 2 in the second's).  So:
 *   - the match table alone (or with regular tables): every chunk query
 *     gets Qserv's duplicate filter `(m.key1 IS NULL OR m.flag <> 2)`,
 *     which keeps exactly one copy of every row;
 *   - joined with one director side (the director and/or its children,
 *     on the match column of that side): chunk-local, no filter -- the
 *     side's rows sit in one chunk, and the match row is in that chunk
 *     too;
 *   - joined with both sides: the side with the children (else the
 *     first) is the anchor, read from the chunk only; the other side must
 *     be its director alone and is read from the chunk plus its
 *     FullOverlap table (deduplicated; ang_sep <= overlap guarantees the
 *     partner is there), as Qserv's rewrite with FullOverlap does.  Every
 *     matched pair then appears once, in the anchor's chunk.
 * Refused (ER_NOT_SUPPORTED_YET): two match tables, outer joins and USING
 * with a match table, a table tied to neither match column or to both,
 * children on both sides, a match table without flags column.
 * Director-index lookups stay correct only when the anchor is the first
 * side (the index of the match table's key is the first director's). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <mariadb/mysqld_error.h>

#include "plan_internal.h"

#define MAX_EDGES 64

static int find_set(struct ctx *c, int i)
{
	while (c->refs[i].set != i)
		i = c->refs[i].set = c->refs[c->refs[i].set].set;
	return i;
}

/* The table instance column e belongs to: the one its qualifier names, or
 * the only partitioned instance with that column (by schema, else by key
 * names); -1 when unknown or ambiguous. */
static int col_owner(struct ctx *c, const struct sql_expr *e)
{
	size_t i, k;
	int found = -1;

	if (!e || e->kind != SQL_E_COL || !strcmp(e->name, "*"))
		return -1;
	for (i = 0; i < c->nrefs; i++) {
		const struct meta_table *mt = c->refs[i].mt;
		int has = 0;
		if (!mt || !mt->partitioned)
			continue;
		if (e->table) {
			if (!strcmp(e->table, c->refs[i].qname))
				return (int)i;
			continue;
		}
		for (k = 0; k < mt->ncols && !has; k++)
			has = !strcasecmp(mt->cols[k], e->name);
		if (!mt->cols)
			has = !strcasecmp(mt->director_key, e->name) || (mt->match && !strcasecmp(mt->director_key2, e->name));
		if (has) {
			if (found >= 0)
				return -1;
			found = (int)i;
		}
	}
	return found;
}

/* What a key column is: for the match instance, side 1 or 2 (*ret_side);
 * for another partitioned instance, its director key (*ret_side 0).  The
 * instance, or -1 when e is not such a key. */
static int key_role(struct ctx *c, const struct sql_expr *e, int *ret_side)
{
	int i = col_owner(c, e);
	const struct meta_table *mt;

	if (i < 0)
		return -1;
	mt = c->refs[i].mt;
	if (mt->match) {
		if (!strcasecmp(e->name, mt->director_key))
			*ret_side = 1;
		else if (!strcasecmp(e->name, mt->director_key2))
			*ret_side = 2;
		else
			return -1;
		return i;
	}
	if (strcasecmp(e->name, mt->director_key))
		return -1;
	*ret_side = 0;
	return i;
}

static const char *family(const struct meta_table *mt)
{
	return mt->director ? mt->name : mt->director_table;
}

/* Director-key equalities: instances of one family are united; an
 * instance tied to the match's column k is recorded in ties[] as (i, k). */
static int collect_edges(struct ctx *c, int mi, struct sql_expr **conj, size_t nconj, int ties[][2], size_t *nties)
{
	const struct meta_table *m = c->refs[mi].mt;
	size_t k;

	for (k = 0; k < nconj; k++) {
		const struct sql_expr *e = conj[k];
		int a, b, sa = 0, sb = 0;
		if (e->kind != SQL_E_BINARY || (strcmp(e->text, "=") && strcmp(e->text, "<=>")))
			continue;
		a = key_role(c, e->args[0], &sa);
		b = key_role(c, e->args[1], &sb);
		if (a < 0 || b < 0 || a == b || (sa && sb))
			continue;
		if (!sa && !sb) {
			if (!strcmp(family(c->refs[a].mt), family(c->refs[b].mt)))
				c->refs[find_set(c, a)].set = find_set(c, b);
			continue;
		}
		if (sb) {                 /* b: the director side, sa: the match column */
			b = a;
			sa = sb;
		}
		if (strcmp(family(c->refs[b].mt), sa == 1 ? m->director_table : m->director_table2))
			return plan_fail(c, ER_NOT_SUPPORTED_YET,
					 "Qserv does not support joining %s to the match table %s on %s: that column holds keys "
					 "of %s", c->refs[b].qname, m->name, sa == 1 ? m->director_key : m->director_key2,
					 sa == 1 ? m->director_table : m->director_table2);
		if (*nties == MAX_EDGES)
			return plan_fail(c, ER_NOT_SUPPORTED_YET, "Qserv does not support this many join terms");
		ties[*nties][0] = b;
		ties[(*nties)++][1] = sa;
	}
	return 0;
}

/* Sides of every other partitioned instance (1, 2) into side[]; 0 and the
 * sides present in *ret_mask, or the refusal. */
static int assign_sides(struct ctx *c, int mi, int ties[][2], size_t nties, int *side, int *ret_mask)
{
	int set_side[MAX_REFS] = { 0 };
	size_t i;
	int mask = 0;

	for (i = 0; i < nties; i++)
		set_side[find_set(c, ties[i][0])] |= ties[i][1];
	for (i = 0; i < c->nrefs; i++) {
		int s;
		if ((int)i == mi || !c->refs[i].mt || !c->refs[i].mt->partitioned)
			continue;
		s = set_side[find_set(c, (int)i)];
		if (s == 0)
			return plan_fail(c, ER_NOT_SUPPORTED_YET,
					 "Qserv does not support this join of %s with the match table %s: %s must be joined on its "
					 "director key to %s.%s or %s.%s", c->refs[i].qname, c->refs[mi].mt->name, c->refs[i].qname,
					 c->refs[mi].qname, c->refs[mi].mt->director_key, c->refs[mi].qname,
					 c->refs[mi].mt->director_key2);
		if (s == 3)
			return plan_fail(c, ER_NOT_SUPPORTED_YET,
					 "Qserv does not support joining %s to both match columns of %s", c->refs[i].qname,
					 c->refs[mi].mt->name);
		side[i] = s;
		mask |= s;
	}
	*ret_mask = mask;
	return 0;
}

/* The instance of side k to read with its overlap: the side's director,
 * alone on its side; -1 when the side has anything else. */
static int overlap_instance(struct ctx *c, const int *side, int k)
{
	size_t i;
	int found = -1;

	for (i = 0; i < c->nrefs; i++) {
		if (side[i] != k)
			continue;
		if (found >= 0 || !c->refs[i].mt->director)
			return -1;
		found = (int)i;
	}
	return found;
}

static int both_sides(struct ctx *c, int mi, const int *side)
{
	const struct meta_table *m = c->refs[mi].mt;
	int o = overlap_instance(c, side, 2), anchor = 1;

	if (o < 0) {
		o = overlap_instance(c, side, 1);
		anchor = 2;
	}
	if (o < 0)
		return plan_fail(c, ER_NOT_SUPPORTED_YET,
				 "Qserv does not support this join of both directors of the match table %s: one side must be "
				 "its director table alone (child tables have no overlap)", m->name);
	if (m->ang_sep > c->db->overlap)
		return plan_fail(c, ER_NOT_SUPPORTED_YET,
				 "Qserv does not support joining both directors of %s: its match distance (%g degrees) is "
				 "larger than the overlap of %s (%g degrees)", m->name, m->ang_sep, c->db->name, c->db->overlap);
	if (!c->refs[o].mt->cols)
		return plan_fail(c, ER_NOT_SUPPORTED_YET, "Qserv does not know the columns of %s: no match join",
				 c->refs[o].mt->name);
	c->nn = 1;
	c->nn_second = (size_t)o;
	c->match_no_index = anchor != 1;
	return 0;
}

int plan_match_joins(struct ctx *c, struct sql_expr **conj, size_t nconj)
{
	int ties[MAX_EDGES][2], side[MAX_REFS] = { 0 };
	size_t i, nties = 0;
	int mi = -1, mask = 0, rc;

	for (i = 0; i < c->nrefs; i++) {
		if (!c->refs[i].mt || !c->refs[i].mt->match)
			continue;
		if (mi >= 0)
			return plan_fail(c, ER_NOT_SUPPORTED_YET, "Qserv does not support joins of two match tables (%s, %s)",
					 c->refs[mi].qname, c->refs[i].qname);
		mi = (int)i;
	}
	if (mi < 0)
		return 0;
	for (i = 0; i < c->nrefs; i++) {
		const struct sql_table *t = c->refs[i].t;
		if (t->join == SQL_J_LEFT || t->join == SQL_J_RIGHT || t->nusing)
			return plan_fail(c, ER_NOT_SUPPORTED_YET,
					 "Qserv does not support outer joins or USING in a query on the match table %s: join "
					 "with ON or WHERE equalities", c->refs[mi].mt->name);
	}
	if ((rc = collect_edges(c, mi, conj, nconj, ties, &nties)) < 0 ||
	    (rc = assign_sides(c, mi, ties, nties, side, &mask)) < 0)
		return rc;
	if (mask == 0) {
		if (!c->refs[mi].mt->flag_key[0] || !c->refs[mi].mt->director_key[0])
			return plan_fail(c, ER_NOT_SUPPORTED_YET,
					 "Qserv does not know the flags column of the match table %s: its rows would be counted "
					 "twice", c->refs[mi].mt->name);
		c->match_filter = mi + 1;
		return 1;
	}
	c->match_no_index = mask == 2;
	if (mask == 3 && (rc = both_sides(c, mi, side)) < 0)
		return rc;
	return 1;
}

/* `(m.key1 IS NULL OR m.flag <> 2)` when the match table is read alone,
 * else NULL. */
struct sql_expr *plan_match_filter(struct ctx *c)
{
	const struct tref *r;
	struct sql_expr *isnull;

	if (!c->match_filter)
		return NULL;
	r = &c->refs[c->match_filter - 1];
	if (!(isnull = sql_expr_new(c->a, SQL_E_IS, 1)))
		return plan_oom(c);
	isnull->text = "NULL";
	isnull->args[0] = plan_col(c, r->qname, r->mt->director_key);
	return plan_bin(c, "OR", isnull, plan_bin(c, "<>", plan_col(c, r->qname, r->mt->flag_key), plan_num(c, "2")));
}
