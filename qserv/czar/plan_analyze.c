/* plan_analyze.c: query analysis -- what a SELECT reads and where.
 *
 * Resolves the FROM tables against the metadata; checks that partitioned
 * tables join chunk-locally (one director family, children tied by
 * director-key equalities, or a near-neighbour self-join bounded by the
 * overlap); replaces the qserv_areaspec_* restrictors by scisql tests and
 * narrows the candidate chunks with them; finds a director-key predicate
 * for the director-index lookup.  Nothing here writes the worker or merge
 * queries (plan_rewrite.c, plan_merge.c). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mariadb/mysqld_error.h>

#include "director_map.h"
#include "plan_internal.h"

/* ---- tables -------------------------------------------------------------- */

static int find_set(struct ctx *c, int i)
{
	while (c->refs[i].set != i)
		i = c->refs[i].set = c->refs[c->refs[i].set].set;
	return i;
}

static void join_sets(struct ctx *c, int i, int j)
{
	c->refs[find_set(c, i)].set = find_set(c, j);
}

int plan_resolve_tables(struct ctx *c, const char *session_db)
{
	size_t i, nq = 0;

	for (i = 0; i < c->s->nfrom; i++) {
		struct sql_table *t = &c->s->from[i];
		const char *dbn = t->db ? t->db : session_db;
		const struct meta_db *d = dbn && *dbn ? meta_find_db(c->m, dbn) : NULL;
		struct tref *r = &c->refs[c->nrefs++];

		r->t = t;
		r->set = (int)i;
		r->qname = t->alias ? t->alias : t->name;
		if (!d)
			continue;
		r->mt = meta_find_table(d, t->name);
		if (!r->mt)
			return plan_fail(c, ER_NO_SUCH_TABLE, "Table '%s.%s' doesn't exist", d->name, t->name);
		if (c->db && c->db != d)
			return plan_fail(c, ER_NOT_SUPPORTED_YET, "Qserv does not support joins across databases (%s and %s)",
					 c->db->name, d->name);
		c->db = d;
		nq++;
	}
	if (nq && nq != c->s->nfrom) {
		for (i = 0; i < c->nrefs; i++)
			if (!c->refs[i].mt)
				break;
		return plan_fail(c, ER_NOT_SUPPORTED_YET,
				 "Qserv does not support joins of Qserv tables with '%s', which is not a table of a published "
				 "Qserv database", c->refs[i].t->name);
	}
	if (!nq && session_db && *session_db == 0 && c->s->nfrom) {
		for (i = 0; i < c->s->nfrom; i++)
			if (!c->s->from[i].db)
				return plan_fail(c, ER_NO_DB_ERROR, "No database selected");
	}
	return (int)nq;
}

/* The partitioned table instance whose director key e names, or -1 (none).
 * Qualified names must match the instance; a bare name must be the key of
 * exactly one partitioned instance. */
static int key_ref(struct ctx *c, const struct sql_expr *e)
{
	size_t i;
	int found = -1;

	if (!e || e->kind != SQL_E_COL || !strcmp(e->name, "*"))
		return -1;
	for (i = 0; i < c->nrefs; i++) {
		const struct tref *r = &c->refs[i];
		if (!r->mt || !r->mt->partitioned || strcasecmp(r->mt->director_key, e->name))
			continue;
		if (c->nn && i == c->nn_second)
			continue;        /* its rows also come from other chunks' overlap */
		if (r->mt->match && c->match_no_index)
			continue;        /* its rows are found in the other side's chunks */
		if (e->table && strcmp(e->table, r->qname))
			continue;
		if (found >= 0)
			return -1;            /* ambiguous */
		found = (int)i;
	}
	return found;
}

void plan_conjuncts(struct sql_expr *e, struct sql_expr **v, size_t *n, size_t cap)
{
	if (!e)
		return;
	if (e->kind == SQL_E_BINARY && !strcmp(e->text, "AND")) {
		plan_conjuncts(e->args[0], v, n, cap);
		plan_conjuncts(e->args[1], v, n, cap);
	} else if (*n < cap) {
		v[(*n)++] = e;
	}
}

struct sql_expr *plan_and_all(struct ctx *c, struct sql_expr **v, size_t n)
{
	struct sql_expr *e = NULL;
	size_t i;

	for (i = 0; i < n; i++)
		e = e ? plan_bin(c, "AND", e, v[i]) : v[i];
	return e;
}

static int is_col_of(struct ctx *c, const struct sql_expr *e, size_t r, const char *name)
{
	if (!e || e->kind != SQL_E_COL || strcasecmp(e->name, name))
		return 0;
	if (e->table)
		return !strcmp(e->table, c->refs[r].qname);
	return 0;                        /* both instances have it: must be qualified */
}

/* `scisql_angSep(a.lon, a.lat, b.lon, b.lat) < X` (or <=, or X > ...) with
 * a and b the two instances; the bound in *ret. */
static int ang_sep_bound(struct ctx *c, const struct sql_expr *e, size_t i, size_t j, double *ret)
{
	const struct sql_expr *f, *x;
	const struct meta_table *mt = c->refs[i].mt;
	int flip;

	if (e->kind != SQL_E_BINARY)
		return 0;
	if (!strcmp(e->text, "<") || !strcmp(e->text, "<="))
		flip = 0;
	else if (!strcmp(e->text, ">") || !strcmp(e->text, ">="))
		flip = 1;
	else
		return 0;
	f = e->args[flip];
	x = e->args[!flip];
	if (!f || f->kind != SQL_E_FUNC || strcasecmp(f->text, "scisql_angSep") || f->nargs != 4 ||
	    plan_literal_double(x, ret) < 0)
		return 0;
	return (is_col_of(c, f->args[0], i, mt->lon_key) && is_col_of(c, f->args[1], i, mt->lat_key) &&
		is_col_of(c, f->args[2], j, mt->lon_key) && is_col_of(c, f->args[3], j, mt->lat_key)) ||
	       (is_col_of(c, f->args[0], j, mt->lon_key) && is_col_of(c, f->args[1], j, mt->lat_key) &&
		is_col_of(c, f->args[2], i, mt->lon_key) && is_col_of(c, f->args[3], i, mt->lat_key));
}

/* Two instances of one director: every pair closer than R <= overlap is
 * found once, in the chunk of the first instance's row, by joining that
 * chunk with the second instance read from the same chunk plus its overlap
 * table (deduplicated: overlap rows can repeat a chunk's own rows). */
static int near_neighbour(struct ctx *c, struct sql_expr **conj, size_t nconj)
{
	size_t i, j = 0, k, first = (size_t)-1;
	double bound = -1, b;

	for (i = 0; i < c->nrefs; i++)
		if (c->refs[i].mt && c->refs[i].mt->director) {
			if (first == (size_t)-1)
				first = i;
			else
				j = i;
		}
	if (c->refs[j].t->join == SQL_J_LEFT || c->refs[j].t->join == SQL_J_RIGHT || c->refs[j].t->nusing)
		return plan_fail(c, ER_NOT_SUPPORTED_YET, "Qserv does not support outer or USING near-neighbour joins");
	for (k = 0; k < nconj; k++)
		if (ang_sep_bound(c, conj[k], first, j, &b) && (bound < 0 || b < bound))
			bound = b;
	if (bound < 0)
		return plan_fail(c, ER_NOT_SUPPORTED_YET,
				 "Qserv does not support this self-join of %s: a near-neighbour join needs the AND term "
				 "scisql_angSep(%s.%s, %s.%s, %s.%s, %s.%s) < R with R no larger than the overlap (%g)",
				 c->refs[first].mt->name, c->refs[first].qname, c->refs[first].mt->lon_key, c->refs[first].qname,
				 c->refs[first].mt->lat_key, c->refs[j].qname, c->refs[j].mt->lon_key, c->refs[j].qname,
				 c->refs[j].mt->lat_key, c->db->overlap);
	if (bound > c->db->overlap)
		return plan_fail(c, ER_NOT_SUPPORTED_YET,
				 "Qserv does not support a near-neighbour distance of %g degrees: it is larger than the overlap "
				 "of %s (%g degrees), so pairs across chunks could be missed", bound, c->db->name, c->db->overlap);
	if (!c->refs[j].mt->cols)
		return plan_fail(c, ER_NOT_SUPPORTED_YET, "Qserv does not know the columns of %s: no near-neighbour join",
				 c->refs[j].mt->name);
	c->nn = 1;
	c->nn_second = j;
	c->nn_sub = 1;
	return 0;
}

/* Partitioned tables must join inside a chunk: one director family, at
 * most one director instance, and every instance tied to the others by
 * director-key equalities (WHERE, ON or USING). */
int plan_check_joins(struct ctx *c, struct sql_expr **conj, size_t nconj)
{
	const char *family = NULL;
	size_t i, k, npart = 0, ndir = 0;
	int first = -1, rc;

	if ((rc = plan_match_joins(c, conj, nconj)) != 0)
		return rc < 0 ? rc : 0;
	for (i = 0; i < c->nrefs; i++) {
		const struct meta_table *mt = c->refs[i].mt;
		const char *fam;
		if (!mt || !mt->partitioned)
			continue;
		fam = mt->director ? mt->name : mt->director_table;
		if (family && strcmp(family, fam))
			return plan_fail(c, ER_NOT_SUPPORTED_YET,
					 "Qserv does not support joins of %s and %s: they are partitioned by different director "
					 "tables, so matching rows may sit in different chunks", family, fam);
		family = fam;
		npart++;
		if (mt->director)
			ndir++;
	}
	if (ndir > 1) {
		if (ndir > 2 || npart > 2)
			return plan_fail(c, ER_NOT_SUPPORTED_YET,
					 "Qserv does not support joins of more than two instances of %s, or a near-neighbour "
					 "join together with other partitioned tables", family);
		return near_neighbour(c, conj, nconj);
	}
	if (npart < 2)
		return 0;
	for (k = 0; k < nconj; k++) {
		struct sql_expr *e = conj[k];
		int a, b;
		if (e->kind != SQL_E_BINARY || (strcmp(e->text, "=") && strcmp(e->text, "<=>")))
			continue;
		a = key_ref(c, e->args[0]);
		b = key_ref(c, e->args[1]);
		if (a >= 0 && b >= 0 && a != b)
			join_sets(c, a, b);
	}
	for (i = 1; i < c->nrefs; i++) {
		const struct sql_table *t = c->refs[i].t;
		size_t u, j;
		if (!c->refs[i].mt || !c->refs[i].mt->partitioned)
			continue;
		for (u = 0; u < t->nusing; u++) {
			if (strcasecmp(t->using_cols[u], c->refs[i].mt->director_key))
				continue;
			for (j = 0; j < i; j++)
				if (c->refs[j].mt && c->refs[j].mt->partitioned &&
				    !strcasecmp(c->refs[j].mt->director_key, t->using_cols[u]))
					join_sets(c, (int)i, (int)j);
		}
	}
	for (i = 0; i < c->nrefs; i++) {
		if (!c->refs[i].mt || !c->refs[i].mt->partitioned)
			continue;
		if (first < 0)
			first = (int)i;
		else if (find_set(c, (int)i) != find_set(c, first)) {
			return plan_fail(c, ER_NOT_SUPPORTED_YET,
					 "Qserv does not support this join of %s and %s: partitioned tables must be joined on "
					 "their director key (%s = %s) to stay inside a chunk", c->refs[first].qname,
					 c->refs[i].qname, c->refs[first].mt->director_key, c->refs[i].mt->director_key);
		}
	}
	return 0;
}

/* ---- restrictors --------------------------------------------------------- */

int plan_is_areaspec(const struct sql_expr *e)
{
	return e && e->kind == SQL_E_FUNC && !strncasecmp(e->text, "qserv_areaspec_", 15);
}

/* `qserv_areaspec_*(...) = 1` or `1 = qserv_areaspec_*(...)` (an AND
 * term of WHERE, as Qserv's integration queries write it): *slot becomes
 * the bare call.  Any other comparison stays as it is (and is refused). */
void plan_bare_areaspec(struct sql_expr **slot)
{
	struct sql_expr *e = *slot;
	double v;
	int k;

	if (e->kind != SQL_E_BINARY || strcmp(e->text, "="))
		return;
	for (k = 0; k < 2; k++)
		if (plan_is_areaspec(e->args[k]) && plan_literal_double(e->args[1 - k], &v) == 0 && v == 1) {
			*slot = e->args[k];
			return;
		}
}

int plan_has_areaspec(const struct sql_expr *e)
{
	size_t i;

	if (!e)
		return 0;
	if (plan_is_areaspec(e))
		return 1;
	for (i = 0; i < e->nargs; i++)
		if (plan_has_areaspec(e->args[i]))
			return 1;
	return 0;
}

/* e as a finite number (a decimal literal, signs allowed): 0 and *ret, or
 * -EINVAL when it is not one. */
int plan_literal_double(const struct sql_expr *e, double *ret)
{
	char *end;
	double v;
	int neg = 0;

	while (e && e->kind == SQL_E_UNARY && (!strcmp(e->text, "-") || !strcmp(e->text, "+"))) {
		neg ^= !strcmp(e->text, "-");
		e = e->args[0];
	}
	if (!e || e->kind != SQL_E_NUM || !strncmp(e->text, "0x", 2) || !strncmp(e->text, "0b", 2))
		return -EINVAL;
	v = strtod(e->text, &end);
	if (*end || !isfinite(v))
		return -EINVAL;
	*ret = neg ? -v : v;
	return 0;
}

/* Whether a restrictor applies to table instance r: as Qserv's
 * QservRestrictorPlugin does, to every partitioned table of the FROM list
 * (here: those with positions of their own; a child without them sits in
 * its director's chunk and is restricted through the join). */
static int area_applies(const struct ctx *c, size_t r)
{
	return c->refs[r].mt && c->refs[r].mt->partitioned && c->refs[r].mt->lon_key[0];
}

/* `udf(r.lon, r.lat, args of e) = 1` for table instance r. */
static struct sql_expr *area_test(struct ctx *c, const char *udf, const struct sql_expr *e, size_t r)
{
	struct sql_expr *call = plan_func(c, udf, e->nargs + 2);
	size_t i;

	if (!call)
		return NULL;
	call->args[0] = plan_col(c, c->refs[r].qname, c->refs[r].mt->lon_key);
	call->args[1] = plan_col(c, c->refs[r].qname, c->refs[r].mt->lat_key);
	for (i = 0; i < e->nargs; i++)
		call->args[i + 2] = e->args[i];
	return plan_bin(c, "=", call, plan_num(c, "1"));
}

static int intersect(int32_t *a, size_t na, const int32_t *b, size_t nb)
{
	size_t i = 0, j = 0, n = 0;

	while (i < na && j < nb) {
		if (a[i] < b[j])
			i++;
		else if (a[i] > b[j])
			j++;
		else {
			a[n++] = a[i];
			i++;
			j++;
		}
	}
	return (int)n;
}

/* Replaces conj[k] (a qserv_areaspec_* call) by the scisql test and
 * narrows the plan's chunks. */
int plan_restrictor(struct ctx *c, struct sql_expr **slot)
{
	static const struct { const char *name, *udf; int min, max; } kinds[] = {
		{ "qserv_areaspec_box", "scisql_s2PtInBox", 4, 4 },
		{ "qserv_areaspec_circle", "scisql_s2PtInCircle", 3, 3 },
		{ "qserv_areaspec_ellipse", "scisql_s2PtInEllipse", 5, 5 },
		{ "qserv_areaspec_poly", "scisql_s2PtInCPoly", 6, 2 * QCHUNK_POLY_MAX },
	};
	struct sql_expr *e = *slot, *all = NULL, *test;
	struct qchunk_region reg;
	struct qchunk_ids ids = { 0 };
	double v[2 * QCHUNK_POLY_MAX];
	char why[256] = "";
	size_t i, k;
	int prune = 0, rc;

	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (!strcasecmp(e->text, kinds[k].name))
			break;
	if (k == sizeof(kinds) / sizeof(kinds[0]))
		return plan_fail(c, ER_NOT_SUPPORTED_YET, "Qserv does not support the restrictor %s", e->text);
	if (e->nargs < (size_t)kinds[k].min || e->nargs > (size_t)kinds[k].max || (k == 3 && e->nargs % 2))
		return plan_fail(c, ER_WRONG_PARAMCOUNT_TO_NATIVE_FCT, "Incorrect parameter count in the call to %s", e->text);
	for (i = 0; i < e->nargs; i++)
		if (plan_literal_double(e->args[i], &v[i]) < 0)
			return plan_fail(c, ER_NOT_SUPPORTED_YET, "Qserv does not support %s with arguments that are not numbers",
					 e->text);
	switch (k) {
	case 0: rc = qchunk_region_box(&reg, v[0], v[1], v[2], v[3], why, sizeof(why)); break;
	case 1: rc = qchunk_region_circle(&reg, v[0], v[1], v[2], why, sizeof(why)); break;
	case 2: rc = qchunk_region_ellipse(&reg, v[0], v[1], v[2], v[3], v[4], why, sizeof(why)); break;
	default: {
		double lon[QCHUNK_POLY_MAX], lat[QCHUNK_POLY_MAX];
		for (i = 0; i < e->nargs / 2; i++) {
			lon[i] = v[2 * i];
			lat[i] = v[2 * i + 1];
		}
		rc = qchunk_region_poly(&reg, lon, lat, (int)(e->nargs / 2), why, sizeof(why));
	}
	}
	if (rc < 0)
		return plan_fail(c, ER_WRONG_ARGUMENTS, "Incorrect arguments to %s: %s", e->text, why);
	for (i = 0; i < c->nrefs; i++) {
		if (!area_applies(c, i))
			continue;
		if (!(test = area_test(c, kinds[k].udf, e, i)))
			return c->rc;
		all = all ? plan_bin(c, "AND", all, test) : test;
		/* Children sit in their director's chunk, not their own
		 * position's: only a director's restrictor may prune chunks. */
		prune |= c->refs[i].mt->director;
	}
	if (!all)
		return c->rc ? c->rc : plan_fail(c, ER_NOT_SUPPORTED_YET,
					       "Qserv does not support %s here: no table in FROM has positions", e->text);
	*slot = all;
	if (!c->p->area)
		c->p->area = strdup(plan_text(c, e) ? plan_text(c, e) : "");
	if (!prune)
		return 0;
	if (c->nn_nreg < (int)(sizeof(c->nn_reg) / sizeof(c->nn_reg[0])))
		c->nn_reg[c->nn_nreg++] = reg;
	if (qchunk_chunks_in(c->db->chunker, &reg, &ids) < 0) {
		qchunk_ids_free(&ids);
		return plan_enomem(c);
	}
	c->p->nchunks = (size_t)intersect(c->p->chunks, c->p->nchunks, ids.v, ids.n);
	qchunk_ids_free(&ids);
	return 0;
}

/* ---- director index ------------------------------------------------------ */

static int const_literal(const struct sql_expr *e)
{
	double d;
	return e && (e->kind == SQL_E_STR || plan_literal_double(e, &d) == 0);
}

/* A decimal integer literal (no sign, point, exponent or base) into *v. */
static int int_literal(const struct sql_expr *e, int64_t *v)
{
	const char *t = e && e->kind == SQL_E_NUM ? e->text : NULL;

	return t && strspn(t, "0123456789") == strlen(t) && dmap_int_key(t, v);
}

/* The integer keys of `key = v` / `key IN (...)` e into the plan
 * (index_keys); none when a value is anything else. */
static void int_keys(struct ctx *c, const struct sql_expr *e, const struct meta_table *dir)
{
	int64_t *v = malloc(e->nargs * sizeof(*v));
	size_t n = 0;

	if (!v)
		return;
	for (size_t i = 0; i < e->nargs; i++) {
		if (key_ref(c, e->args[i]) >= 0)
			continue;
		if (!int_literal(e->args[i], &v[n])) {
			free(v);
			return;
		}
		n++;
	}
	c->p->index_keys = v;
	c->p->nindex_keys = n;
	c->p->index_table = dir->name;
}

/* If e is `key = v`, `key IN (...)` or `key BETWEEN a AND b` on a director
 * key (or a child's foreign key), writes the index lookup. */
void plan_index_lookup(struct ctx *c, const struct sql_expr *e)
{
	const struct meta_table *dir;
	struct buf o = { 0 };
	const struct sql_expr *val = NULL;
	struct sql_expr *copy;
	int r = -1;
	size_t i;

	if (c->p->index_sql)
		return;
	if (e->kind == SQL_E_BINARY && !strcmp(e->text, "=")) {
		if ((r = key_ref(c, e->args[0])) >= 0 && const_literal(e->args[1]))
			val = e->args[1];
		else if ((r = key_ref(c, e->args[1])) >= 0 && const_literal(e->args[0]))
			val = e->args[0];
		if (!val)
			return;
	} else if (e->kind == SQL_E_IN && !e->negated) {
		if ((r = key_ref(c, e->args[0])) < 0)
			return;
		for (i = 1; i < e->nargs; i++)
			if (!const_literal(e->args[i]))
				return;
	} else if (e->kind == SQL_E_BETWEEN && !e->negated) {
		if ((r = key_ref(c, e->args[0])) < 0 || !const_literal(e->args[1]) || !const_literal(e->args[2]))
			return;
	} else {
		return;
	}
	dir = c->refs[r].mt->director ? c->refs[r].mt : meta_find_table(c->db, c->refs[r].mt->director_table);
	if (!dir || !dir->director)
		return;
	/* the same predicate on the index table's key column */
	copy = sql_expr_new(c->a, e->kind, e->nargs);
	if (!copy) {
		plan_oom(c);
		return;
	}
	*copy = *e;
	copy->args = sql_alloc(c->a, e->nargs * sizeof(*copy->args));
	if (!copy->args) {
		plan_oom(c);
		return;
	}
	for (i = 0; i < e->nargs; i++)
		copy->args[i] = key_ref(c, e->args[i]) >= 0 ? plan_col(c, NULL, dir->director_key) : e->args[i];
	buf_puts(&o, "SELECT DISTINCT `chunkId` FROM `qservMeta`.");
	{
		char name[140];
		snprintf(name, sizeof(name), "%s__%s", c->db->name, dir->name);
		sql_print_ident(&o, name);
	}
	buf_puts(&o, " WHERE ");
	sql_print_expr(&o, copy);
	if (o.oom) {
		buf_free(&o);
		plan_oom(c);
		return;
	}
	c->p->index_sql = buf_steal(&o);
	c->p->index_eq = e->kind == SQL_E_BINARY;
	if (e->kind != SQL_E_BETWEEN)
		int_keys(c, e, dir);
}
