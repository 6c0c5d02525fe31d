/* plan.c: query analysis and rewrite (see plan.h).
 *
 * Steps, each refusing what it cannot do exactly: resolve the FROM tables
 * against the metadata; check that partitioned tables join chunk-locally
 * (one director family, children tied by director-key equalities); take
 * the restrictors out of WHERE; find a director-index predicate; pick the
 * candidate chunks; then write the worker and merge queries.  The AST is
 * rewritten in place (its arena owns every new node); the plan's strings
 * are malloc'd. */
#include "plan.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mariadb/mysqld_error.h>

#define MAX_REFS 64
#define MAX_COLS 1024

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
	int failed;
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
	size_t nw_distinct[16];       /* worker column of each DISTINCT argument */
	int nn;                       /* near-neighbour self-join: refs[nn_second] reads chunk + overlap */
	size_t nn_second;
};

static void fail(struct ctx *c, unsigned code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(struct ctx *c, unsigned code, const char *fmt, ...)
{
	va_list ap;

	if (c->failed)
		return;
	c->failed = 1;
	c->err->code = code;
	va_start(ap, fmt);
	vsnprintf(c->err->msg, sizeof(c->err->msg), fmt, ap);
	va_end(ap);
}

static void *oom(struct ctx *c)
{
	if (!c->failed) {
		c->failed = 1;
		c->err->code = ER_OUT_OF_RESOURCES;
		snprintf(c->err->msg, sizeof(c->err->msg), "Out of memory planning the query");
	}
	return NULL;
}

/* Printed form of e (arena), for comparing expressions structurally. */
static char *text(struct ctx *c, const struct sql_expr *e)
{
	struct buf o = { 0 };
	char *s;

	sql_print_expr(&o, e);
	if (o.oom)
		return oom(c);
	s = sql_strdup(c->a, buf_str(&o));
	buf_free(&o);
	return s ? s : oom(c);
}

static struct sql_expr *col(struct ctx *c, const char *table, const char *name)
{
	struct sql_expr *e = sql_expr_new(c->a, SQL_E_COL, 0);

	if (!e)
		return oom(c);
	e->table = table;
	e->name = name;
	return e;
}

static struct sql_expr *func(struct ctx *c, const char *name, size_t nargs)
{
	struct sql_expr *e = sql_expr_new(c->a, SQL_E_FUNC, nargs);

	if (!e)
		return oom(c);
	e->text = name;
	return e;
}

static struct sql_expr *bin(struct ctx *c, const char *op, struct sql_expr *l, struct sql_expr *r)
{
	struct sql_expr *e = sql_expr_new(c->a, SQL_E_BINARY, 2);

	if (!e || !l || !r)
		return oom(c);
	e->text = op;
	e->args[0] = l;
	e->args[1] = r;
	return e;
}

static struct sql_expr *num(struct ctx *c, const char *lit)
{
	struct sql_expr *e = sql_expr_new(c->a, SQL_E_NUM, 0);

	if (!e)
		return oom(c);
	e->text = lit;
	return e;
}

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

static int resolve_tables(struct ctx *c, const char *session_db)
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
		if (!r->mt) {
			fail(c, ER_NO_SUCH_TABLE, "Table '%s.%s' doesn't exist", d->name, t->name);
			return -1;
		}
		if (c->db && c->db != d) {
			fail(c, ER_NOT_SUPPORTED_YET, "Qserv does not support joins across databases (%s and %s)",
			     c->db->name, d->name);
			return -1;
		}
		c->db = d;
		nq++;
	}
	if (nq && nq != c->s->nfrom) {
		for (i = 0; i < c->nrefs; i++)
			if (!c->refs[i].mt)
				break;
		fail(c, ER_NOT_SUPPORTED_YET,
		     "Qserv does not support joins of Qserv tables with '%s', which is not a table of a published "
		     "Qserv database", c->refs[i].t->name);
		return -1;
	}
	if (!nq && session_db && *session_db == 0 && c->s->nfrom) {
		for (i = 0; i < c->s->nfrom; i++)
			if (!c->s->from[i].db) {
				fail(c, ER_NO_DB_ERROR, "No database selected");
				return -1;
			}
	}
	return (int)nq;
}

/* The partitioned table instance whose director key e names, or -1.
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
		if (e->table && strcmp(e->table, r->qname))
			continue;
		if (found >= 0)
			return -1;            /* ambiguous */
		found = (int)i;
	}
	return found;
}

static void conjuncts(struct sql_expr *e, struct sql_expr **v, size_t *n, size_t cap)
{
	if (!e)
		return;
	if (e->kind == SQL_E_BINARY && !strcmp(e->text, "AND")) {
		conjuncts(e->args[0], v, n, cap);
		conjuncts(e->args[1], v, n, cap);
	} else if (*n < cap) {
		v[(*n)++] = e;
	}
}

static struct sql_expr *and_all(struct ctx *c, struct sql_expr **v, size_t n)
{
	struct sql_expr *e = NULL;
	size_t i;

	for (i = 0; i < n; i++)
		e = e ? bin(c, "AND", e, v[i]) : v[i];
	return e;
}

static int literal_double(const struct sql_expr *e, double *ret);

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
	    literal_double(x, ret) < 0)
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
	if (c->refs[j].t->join == SQL_J_LEFT || c->refs[j].t->join == SQL_J_RIGHT || c->refs[j].t->nusing) {
		fail(c, ER_NOT_SUPPORTED_YET, "Qserv does not support outer or USING near-neighbour joins");
		return -1;
	}
	for (k = 0; k < nconj; k++)
		if (ang_sep_bound(c, conj[k], first, j, &b) && (bound < 0 || b < bound))
			bound = b;
	if (bound < 0) {
		fail(c, ER_NOT_SUPPORTED_YET,
		     "Qserv does not support this self-join of %s: a near-neighbour join needs the AND term "
		     "scisql_angSep(%s.%s, %s.%s, %s.%s, %s.%s) < R with R no larger than the overlap (%g)",
		     c->refs[first].mt->name, c->refs[first].qname, c->refs[first].mt->lon_key, c->refs[first].qname,
		     c->refs[first].mt->lat_key, c->refs[j].qname, c->refs[j].mt->lon_key, c->refs[j].qname,
		     c->refs[j].mt->lat_key, c->db->overlap);
		return -1;
	}
	if (bound > c->db->overlap) {
		fail(c, ER_NOT_SUPPORTED_YET,
		     "Qserv does not support a near-neighbour distance of %g degrees: it is larger than the overlap "
		     "of %s (%g degrees), so pairs across chunks could be missed", bound, c->db->name, c->db->overlap);
		return -1;
	}
	if (!c->refs[j].mt->cols) {
		fail(c, ER_NOT_SUPPORTED_YET, "Qserv does not know the columns of %s: no near-neighbour join",
		     c->refs[j].mt->name);
		return -1;
	}
	c->nn = 1;
	c->nn_second = j;
	return 0;
}

/* Partitioned tables must join inside a chunk: one director family, at
 * most one director instance, and every instance tied to the others by
 * director-key equalities (WHERE, ON or USING). */
static int check_joins(struct ctx *c, struct sql_expr **conj, size_t nconj)
{
	const char *family = NULL;
	size_t i, k, npart = 0, ndir = 0;
	int first = -1;

	for (i = 0; i < c->nrefs; i++) {
		const struct meta_table *mt = c->refs[i].mt;
		const char *fam;
		if (!mt || !mt->partitioned)
			continue;
		fam = mt->director ? mt->name : mt->director_table;
		if (family && strcmp(family, fam)) {
			fail(c, ER_NOT_SUPPORTED_YET,
			     "Qserv does not support joins of %s and %s: they are partitioned by different director "
			     "tables, so matching rows may sit in different chunks", family, fam);
			return -1;
		}
		family = fam;
		npart++;
		if (mt->director)
			ndir++;
	}
	if (ndir > 1) {
		if (ndir > 2 || npart > 2) {
			fail(c, ER_NOT_SUPPORTED_YET,
			     "Qserv does not support joins of more than two instances of %s, or a near-neighbour "
			     "join together with other partitioned tables", family);
			return -1;
		}
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
			fail(c, ER_NOT_SUPPORTED_YET,
			     "Qserv does not support this join of %s and %s: partitioned tables must be joined on "
			     "their director key (%s = %s) to stay inside a chunk", c->refs[first].qname,
			     c->refs[i].qname, c->refs[first].mt->director_key, c->refs[i].mt->director_key);
			return -1;
		}
	}
	return 0;
}

/* ---- restrictors --------------------------------------------------------- */

static int is_areaspec(const struct sql_expr *e)
{
	return e && e->kind == SQL_E_FUNC && !strncasecmp(e->text, "qserv_areaspec_", 15);
}

static int has_areaspec(const struct sql_expr *e)
{
	size_t i;

	if (!e)
		return 0;
	if (is_areaspec(e))
		return 1;
	for (i = 0; i < e->nargs; i++)
		if (has_areaspec(e->args[i]))
			return 1;
	return 0;
}

static int literal_double(const struct sql_expr *e, double *ret)
{
	char *end;
	double v;
	int neg = 0;

	while (e && e->kind == SQL_E_UNARY && (!strcmp(e->text, "-") || !strcmp(e->text, "+"))) {
		neg ^= !strcmp(e->text, "-");
		e = e->args[0];
	}
	if (!e || e->kind != SQL_E_NUM || !strncmp(e->text, "0x", 2) || !strncmp(e->text, "0b", 2))
		return -1;
	v = strtod(e->text, &end);
	if (*end || !isfinite(v))
		return -1;
	*ret = neg ? -v : v;
	return 0;
}

/* Table instance restrictors apply to: the first director, else the first
 * partitioned table with its own positions. */
static int area_target(struct ctx *c)
{
	size_t i;

	for (i = 0; i < c->nrefs; i++)
		if (c->refs[i].mt && c->refs[i].mt->director && c->refs[i].mt->lon_key[0])
			return (int)i;
	for (i = 0; i < c->nrefs; i++)
		if (c->refs[i].mt && c->refs[i].mt->partitioned && c->refs[i].mt->lon_key[0])
			return (int)i;
	return -1;
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
static int restrictor(struct ctx *c, struct sql_expr **slot)
{
	static const struct { const char *name, *udf; int min, max; } kinds[] = {
		{ "qserv_areaspec_box", "scisql_s2PtInBox", 4, 4 },
		{ "qserv_areaspec_circle", "scisql_s2PtInCircle", 3, 3 },
		{ "qserv_areaspec_ellipse", "scisql_s2PtInEllipse", 5, 5 },
		{ "qserv_areaspec_poly", "scisql_s2PtInCPoly", 6, 2 * QCHUNK_POLY_MAX },
	};
	struct sql_expr *e = *slot, *call;
	struct qchunk_region reg;
	struct qchunk_ids ids = { 0 };
	double v[2 * QCHUNK_POLY_MAX];
	char why[256] = "";
	size_t i, k;
	int t, rc;

	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (!strcasecmp(e->text, kinds[k].name))
			break;
	if (k == sizeof(kinds) / sizeof(kinds[0])) {
		fail(c, ER_NOT_SUPPORTED_YET, "Qserv does not support the restrictor %s", e->text);
		return -1;
	}
	if (e->nargs < (size_t)kinds[k].min || e->nargs > (size_t)kinds[k].max || (k == 3 && e->nargs % 2)) {
		fail(c, ER_WRONG_PARAMCOUNT_TO_NATIVE_FCT, "Incorrect parameter count in the call to %s", e->text);
		return -1;
	}
	for (i = 0; i < e->nargs; i++)
		if (literal_double(e->args[i], &v[i]) < 0) {
			fail(c, ER_NOT_SUPPORTED_YET, "Qserv does not support %s with arguments that are not numbers",
			     e->text);
			return -1;
		}
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
	if (rc < 0) {
		fail(c, ER_WRONG_ARGUMENTS, "Incorrect arguments to %s: %s", e->text, why);
		return -1;
	}
	t = area_target(c);
	if (t < 0) {
		fail(c, ER_NOT_SUPPORTED_YET, "Qserv does not support %s here: no table in FROM has positions",
		     e->text);
		return -1;
	}
	call = func(c, kinds[k].udf, e->nargs + 2);
	if (!call)
		return -1;
	call->args[0] = col(c, c->refs[t].qname, c->refs[t].mt->lon_key);
	call->args[1] = col(c, c->refs[t].qname, c->refs[t].mt->lat_key);
	for (i = 0; i < e->nargs; i++)
		call->args[i + 2] = e->args[i];
	*slot = bin(c, "=", call, num(c, "1"));
	if (!c->p->area)
		c->p->area = strdup(text(c, e) ? text(c, e) : "");
	/* Children sit in their director's chunk, not their own position's:
	 * only a director's restrictor may prune chunks. */
	if (!c->refs[t].mt->director)
		return 0;
	if (qchunk_chunks_in(c->db->chunker, &reg, &ids) < 0) {
		qchunk_ids_free(&ids);
		oom(c);
		return -1;
	}
	c->p->nchunks = (size_t)intersect(c->p->chunks, c->p->nchunks, ids.v, ids.n);
	qchunk_ids_free(&ids);
	return 0;
}

/* ---- director index ------------------------------------------------------ */

static int const_literal(const struct sql_expr *e)
{
	double d;
	return e && (e->kind == SQL_E_STR || literal_double(e, &d) == 0);
}

/* If e is `key = v`, `key IN (...)` or `key BETWEEN a AND b` on a director
 * key (or a child's foreign key), writes the index lookup. */
static void index_lookup(struct ctx *c, const struct sql_expr *e)
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
		oom(c);
		return;
	}
	*copy = *e;
	copy->args = sql_alloc(c->a, e->nargs * sizeof(*copy->args));
	if (!copy->args) {
		oom(c);
		return;
	}
	for (i = 0; i < e->nargs; i++)
		copy->args[i] = key_ref(c, e->args[i]) >= 0 ? col(c, NULL, dir->director_key) : e->args[i];
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
		oom(c);
		return;
	}
	c->p->index_sql = buf_steal(&o);
}

/* ---- worker and merge queries -------------------------------------------- */

static void strip_db(struct sql_expr *e)
{
	size_t i;

	if (!e)
		return;
	if (e->kind == SQL_E_COL)
		e->db = NULL;
	for (i = 0; i < e->nargs; i++)
		strip_db(e->args[i]);
}

static struct sql_table *worker_from(struct ctx *c)
{
	struct sql_table *f = sql_alloc(c->a, c->s->nfrom * sizeof(*f));
	size_t i;

	if (!f)
		return oom(c);
	for (i = 0; i < c->s->nfrom; i++) {
		const struct tref *r = &c->refs[i];
		f[i] = *r->t;
		f[i].db = c->db->name;
		f[i].alias = r->qname;
		if (c->nn && i == c->nn_second) {
			struct buf o = { 0 };
			size_t k, n = 0;
			for (k = 0; k < r->mt->ncols; k++) {
				if (!strcasecmp(r->mt->cols[k], r->mt->chunk_key) ||
				    !strcasecmp(r->mt->cols[k], r->mt->sub_chunk_key))
					continue;
				buf_puts(&o, n++ ? ", " : "SELECT ");
				sql_print_ident(&o, r->mt->cols[k]);
			}
			{
				char *cols = strdup(buf_str(&o));
				buf_puts(&o, " FROM ");
				sql_print_ident(&o, c->db->name);
				buf_printf(&o, ".`%s_%%CC%%` UNION %s FROM ", r->t->name, cols ? cols : "");
				sql_print_ident(&o, c->db->name);
				buf_printf(&o, ".`%sFullOverlap_%%CC%%`", r->t->name);
				free(cols);
			}
			if (o.oom || !(f[i].derived = sql_strdup(c->a, buf_str(&o)))) {
				buf_free(&o);
				return oom(c);
			}
			buf_free(&o);
		} else if (r->mt->partitioned) {
			char *n = sql_alloc(c->a, strlen(r->t->name) + 6);
			if (!n)
				return oom(c);
			sprintf(n, "%s_%%CC%%", r->t->name);
			f[i].name = n;
		}
		if (f[i].on)
			strip_db(f[i].on);
	}
	return f;
}

static const char *final_name(struct ctx *c, const struct sql_item *it)
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
		return oom(c);
	memcpy(s, c->src + it->start, (size_t)n);
	return s;
}

static const char *add_worker_col(struct ctx *c, struct sql_expr *e, const char *prefix)
{
	char *alias;

	if (c->nw >= MAX_COLS) {
		fail(c, ER_TOO_MANY_FIELDS, "Too many columns");
		return NULL;
	}
	alias = sql_alloc(c->a, 32);      /* a QS_x prefix + 20 digits */
	if (!alias)
		return oom(c);
	snprintf(alias, 32, "%s%zu", prefix, c->nw + 1);
	c->w[c->nw].e = e;
	c->w[c->nw].alias = alias;
	c->nw++;
	return alias;
}

/* Merge form of e in an aggregate query: aggregates become merges of
 * worker partials, group expressions become their worker columns.
 * items/merged: select aliases usable in HAVING/ORDER BY (NULL otherwise). */
static struct sql_expr *merge_expr(struct ctx *c, struct sql_expr *e, struct sql_expr **merged)
{
	struct sql_expr *x;
	const char *t;
	size_t i;

	if (!e || c->failed)
		return NULL;
	if (c->ngroup && e->kind != SQL_E_NUM && e->kind != SQL_E_STR && (t = text(c, e)))
		for (i = 0; i < c->ngroup; i++)
			if (!strcmp(t, c->group_txt[i])) {
				char name[32];    /* QS_G + 20 digits */
				snprintf(name, sizeof(name), "QS_G%zu", i + 1);
				return col(c, NULL, sql_strdup(c->a, name));
			}
	if (merged && e->kind == SQL_E_COL && !e->table) {
		for (i = 0; i < c->s->nitems; i++)
			if (c->s->items[i].alias && !strcasecmp(c->s->items[i].alias, e->name))
				return merged[i];
	}
	if (sql_is_aggregate(e)) {
		const char *a, *b;
		if (strcasecmp(e->text, "COUNT") && strcasecmp(e->text, "SUM") && strcasecmp(e->text, "MIN") &&
		    strcasecmp(e->text, "MAX") && strcasecmp(e->text, "AVG")) {
			fail(c, ER_NOT_SUPPORTED_YET, "Qserv does not support %s(%s...) over partitioned tables",
			     e->text, e->distinct ? "DISTINCT " : "");
			return NULL;
		}
		if (e->distinct) {
			/* Workers also group by the argument and return its values;
			 * the merge applies the DISTINCT aggregate to them.  The other
			 * partial aggregates stay exact: they sum over finer groups. */
			const char *t = NULL;
			if (e->nargs != 1 || sql_has_aggregate(e->args[0])) {
				fail(c, ER_NOT_SUPPORTED_YET, "Qserv does not support %s(DISTINCT ...) of several "
				     "expressions over partitioned tables", e->text);
				return NULL;
			}
			if (!(t = text(c, e->args[0])))
				return NULL;
			a = NULL;
			for (i = c->ngroup; i < c->nwgroup; i++)
				if (!strcmp(text(c, c->wgroup[i]), t)) {
					a = c->w[c->nw_distinct[i - c->ngroup]].alias;
					break;
				}
			if (!a) {
				if (c->nwgroup >= c->cwgroup) {
					fail(c, ER_NOT_SUPPORTED_YET, "Qserv does not support more than 16 DISTINCT aggregates");
					return NULL;
				}
				c->nw_distinct[c->nwgroup - c->ngroup] = c->nw;
				if (!(a = add_worker_col(c, e->args[0], "QS_D")))
					return NULL;
				c->wgroup[c->nwgroup++] = e->args[0];
			}
			x = func(c, e->text, 1);
			if (!x)
				return NULL;
			x->distinct = 1;
			x->args[0] = col(c, NULL, a);
			return x;
		}
		for (i = 0; i < e->nargs; i++)
			if (sql_has_aggregate(e->args[i])) {
				fail(c, ER_INVALID_GROUP_FUNC_USE, "Invalid use of group function");
				return NULL;
			}
		if (!strcasecmp(e->text, "AVG")) {
			struct sql_expr *s = func(c, "SUM", 1), *n = func(c, "COUNT", 1);
			if (!s || !n)
				return NULL;
			s->args[0] = n->args[0] = e->args[0];
			a = add_worker_col(c, s, "QS_A");
			b = add_worker_col(c, n, "QS_A");
			s = func(c, "SUM", 1);
			n = func(c, "SUM", 1);
			if (!a || !b || !s || !n)
				return NULL;
			s->args[0] = col(c, NULL, a);
			n->args[0] = col(c, NULL, b);
			return bin(c, "/", s, n);
		}
		a = add_worker_col(c, e, "QS_A");
		if (!a)
			return NULL;
		if (!strcasecmp(e->text, "COUNT")) {
			/* COUNT is a BIGINT that is 0, not NULL, over no rows */
			struct sql_expr *s = func(c, "SUM", 1), *z = func(c, "COALESCE", 2), *cast;
			if (!s || !z || !(cast = sql_expr_new(c->a, SQL_E_CAST, 1)))
				return oom(c);
			s->args[0] = col(c, NULL, a);
			z->args[0] = s;
			z->args[1] = num(c, "0");
			cast->args[0] = z;
			cast->text = "SIGNED";
			return cast;
		}
		x = func(c, strcasecmp(e->text, "SUM") ? e->text : "SUM", 1);
		if (!x)
			return NULL;
		x->args[0] = col(c, NULL, a);
		return x;
	}
	if (e->kind == SQL_E_COL) {
		fail(c, ER_NOT_SUPPORTED_YET,
		     "Qserv does not support the column '%s' outside an aggregate here: it is not in GROUP BY, "
		     "so its value would be arbitrary", e->name);
		return NULL;
	}
	if (e->kind == SQL_E_STAR) {
		fail(c, ER_NOT_SUPPORTED_YET, "Qserv does not support SELECT * in an aggregate query");
		return NULL;
	}
	if (!e->nargs)
		return e;
	x = sql_expr_new(c->a, e->kind, e->nargs);
	if (!x)
		return oom(c);
	{
		struct sql_expr **args = x->args;
		*x = *e;
		x->args = args;
	}
	for (i = 0; i < e->nargs; i++)
		if (e->args[i] && !(x->args[i] = merge_expr(c, e->args[i], merged)))
			return NULL;
	return x;
}

/* Index (0-based) of the select item an ORDER BY / GROUP BY entry names:
 * a position, an alias, or the same expression; -1 otherwise. */
static int item_ref(struct ctx *c, const struct sql_expr *e)
{
	const char *t;
	size_t i;
	double d;

	if (e->kind == SQL_E_NUM && literal_double(e, &d) == 0 && !strchr(e->text, '.')) {
		if (d < 1 || d > (double)c->s->nitems) {
			fail(c, ER_BAD_FIELD_ERROR, "Unknown column '%s' in 'order clause'", e->text);
			return -1;
		}
		return (int)d - 1;
	}
	if (e->kind == SQL_E_COL && !e->table)
		for (i = 0; i < c->s->nitems; i++)
			if (c->s->items[i].alias && !strcasecmp(c->s->items[i].alias, e->name))
				return (int)i;
	if (!(t = text(c, e)))
		return -1;
	for (i = 0; i < c->s->nitems; i++)
		if (c->s->items[i].e->kind != SQL_E_STAR && !strcmp(text(c, c->s->items[i].e), t))
			return (int)i;
	return -1;
}

static char *print_select(struct ctx *c, const struct sql_select *s)
{
	struct buf o = { 0 };

	sql_print_select(&o, s);
	if (o.oom) {
		buf_free(&o);
		return oom(c);
	}
	return buf_steal(&o);
}

static struct sql_expr *position(struct ctx *c, size_t i)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%zu", i + 1);
	return num(c, sql_strdup(c->a, buf));
}

static int plan_aggregate(struct ctx *c, struct sql_select *wk)
{
	struct sql_select *s = c->s, mg;
	struct sql_expr **merged, **wgroup;
	struct sql_item *mitems;
	size_t i;

	memset(&mg, 0, sizeof(mg));
	merged = sql_alloc(c->a, (s->nitems + 1) * sizeof(*merged));
	mitems = sql_alloc(c->a, (s->nitems + 1) * sizeof(*mitems));
	wgroup = sql_alloc(c->a, (s->ngroup + 16) * sizeof(*wgroup));
	c->group_txt = sql_alloc(c->a, (s->ngroup + 1) * sizeof(*c->group_txt));
	if (!merged || !mitems || !wgroup || !c->group_txt)
		return oom(c), -1;
	for (i = 0; i < s->ngroup; i++) {
		struct sql_expr *g = s->group[i];
		int k = item_ref(c, g);
		if (c->failed)
			return -1;
		if (k >= 0)
			g = s->items[k].e;
		if (sql_has_aggregate(g)) {
			fail(c, ER_WRONG_GROUP_FIELD, "Can't group on an aggregate");
			return -1;
		}
		wgroup[i] = g;
		c->group_txt[i] = text(c, g);
		add_worker_col(c, g, "QS_G");
		/* group columns are the first worker columns: QS_G1..n */
	}
	c->ngroup = s->ngroup;
	c->wgroup = wgroup;
	c->nwgroup = s->ngroup;
	c->cwgroup = s->ngroup + 16;
	for (i = 0; i < s->nitems; i++) {
		if (!(merged[i] = merge_expr(c, s->items[i].e, NULL)))
			return -1;
		mitems[i].e = merged[i];
		mitems[i].alias = final_name(c, &s->items[i]);
	}
	mg.distinct = s->distinct;
	mg.items = mitems;
	mg.nitems = s->nitems;
	if (s->having && !(mg.having = merge_expr(c, s->having, merged)))
		return -1;
	if (s->norder) {
		mg.order = sql_alloc(c->a, s->norder * sizeof(*mg.order));
		if (!mg.order)
			return oom(c), -1;
		for (i = 0; i < s->norder; i++) {
			int k = item_ref(c, s->order[i].e);
			if (c->failed)
				return -1;
			mg.order[i].desc = s->order[i].desc;
			mg.order[i].e = k >= 0 ? position(c, (size_t)k) : merge_expr(c, s->order[i].e, merged);
			if (!mg.order[i].e)
				return -1;
		}
		mg.norder = s->norder;
	}
	if (s->ngroup) {
		mg.group = sql_alloc(c->a, s->ngroup * sizeof(*mg.group));
		if (!mg.group)
			return oom(c), -1;
		for (i = 0; i < s->ngroup; i++)
			mg.group[i] = col(c, NULL, c->w[i].alias);
		mg.ngroup = s->ngroup;
	}
	mg.has_limit = s->has_limit;
	mg.limit = s->limit;
	mg.offset = s->offset;
	mg.from = sql_alloc(c->a, sizeof(*mg.from));
	if (!mg.from)
		return oom(c), -1;
	mg.from->name = "%RT%";
	mg.nfrom = 1;
	if (c->nw == 0)        /* e.g. SELECT 1 FROM T HAVING 1: keep one column */
		add_worker_col(c, num(c, "1"), "QS_C");
	wk->items = c->w;
	wk->nitems = c->nw;
	wk->group = wgroup;
	wk->ngroup = c->nwgroup;
	if (c->failed)
		return -1;
	c->p->merge_sql = print_select(c, &mg);
	return c->p->merge_sql ? 0 : -1;
}

static int plan_rows(struct ctx *c, struct sql_select *wk)
{
	struct sql_select *s = c->s, mg;
	struct sql_item *mitems;
	size_t i;
	int star = 0;

	for (i = 0; i < s->nitems; i++)
		if (s->items[i].e->kind == SQL_E_STAR ||
		    (s->items[i].e->kind == SQL_E_COL && !strcmp(s->items[i].e->name, "*")))
			star = 1;
	wk->distinct = s->distinct;
	if (!s->distinct && !s->norder) {
		/* stream: worker columns carry the final names */
		for (i = 0; i < s->nitems; i++) {
			c->w[i] = s->items[i];
			if (!star && s->items[i].e->kind != SQL_E_COL)
				c->w[i].alias = final_name(c, &s->items[i]);
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
		return c->failed ? -1 : 0;
	}
	memset(&mg, 0, sizeof(mg));
	mitems = sql_alloc(c->a, (s->nitems + 1) * sizeof(*mitems));
	if (!mitems)
		return oom(c), -1;
	if (star) {
		for (i = 0; i < s->nitems; i++)
			c->w[c->nw++] = s->items[i];
		mitems[0].e = sql_expr_new(c->a, SQL_E_STAR, 0);
		if (!mitems[0].e)
			return oom(c), -1;
		mg.nitems = 1;
	} else {
		for (i = 0; i < s->nitems; i++) {
			const char *a = add_worker_col(c, s->items[i].e, "QS_C");
			if (!a)
				return -1;
			mitems[i].e = col(c, NULL, a);
			mitems[i].alias = final_name(c, &s->items[i]);
		}
		mg.nitems = s->nitems;
	}
	mg.items = mitems;
	mg.distinct = s->distinct;
	if (s->norder) {
		mg.order = sql_alloc(c->a, s->norder * sizeof(*mg.order));
		wk->order = sql_alloc(c->a, s->norder * sizeof(*wk->order));
		if (!mg.order || !wk->order)
			return oom(c), -1;
		for (i = 0; i < s->norder; i++) {
			struct sql_expr *e = s->order[i].e;
			int k = star ? -1 : item_ref(c, e);
			if (c->failed)
				return -1;
			mg.order[i].desc = wk->order[i].desc = s->order[i].desc;
			if (k >= 0) {
				mg.order[i].e = position(c, (size_t)k);
				wk->order[i].e = s->items[k].e;
			} else if (star) {
				if (e->kind != SQL_E_COL) {
					fail(c, ER_NOT_SUPPORTED_YET,
					     "Qserv does not support ORDER BY an expression together with SELECT *");
					return -1;
				}
				mg.order[i].e = col(c, NULL, e->name);
				wk->order[i].e = e;
			} else {
				const char *a;
				if (s->distinct) {
					fail(c, ER_NOT_SUPPORTED_YET,
					     "Qserv does not support ORDER BY an expression outside the select list "
					     "together with DISTINCT");
					return -1;
				}
				if (!(a = add_worker_col(c, e, "QS_O")))
					return -1;
				mg.order[i].e = col(c, NULL, a);
				wk->order[i].e = e;
			}
		}
		mg.norder = wk->norder = s->norder;
	}
	if (s->has_limit) {
		mg.has_limit = 1;
		mg.limit = s->limit;
		mg.offset = s->offset;
		wk->has_limit = 1;       /* each chunk needs at most offset + limit rows */
		wk->limit = s->limit + s->offset;
	}
	mg.from = sql_alloc(c->a, sizeof(*mg.from));
	if (!mg.from)
		return oom(c), -1;
	mg.from->name = "%RT%";
	mg.nfrom = 1;
	wk->items = c->w;
	wk->nitems = c->nw;
	if (c->failed)
		return -1;
	c->p->merge_sql = print_select(c, &mg);
	return c->p->merge_sql ? 0 : -1;
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
	if (*n >= cap) {
		fail(c, ER_TOO_MANY_FIELDS, "Too many columns");
		return -1;
	}
	memset(&v[*n], 0, sizeof(v[*n]));
	if (!(v[*n].e = col(c, table, name)))
		return -1;
	(*n)++;
	return 0;
}

static int expand_stars(struct ctx *c)
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
		return oom(c), -1;
	for (i = 0; i < s->nitems; i++) {
		const struct sql_expr *e = s->items[i].e;
		if (e->kind == SQL_E_STAR) {
			const struct meta_table *m0 = c->refs[0].mt;
			for (k = 0; k < m0->ncols; k++)      /* coalesced USING columns first */
				if (in_list(using_all, nusing, m0->cols[k]) &&
				    push_col(c, v, &n, cap, c->refs[0].qname, m0->cols[k]) < 0)
					return -1;
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
						return -1;
				}
			}
		} else if (e->kind == SQL_E_COL && !strcmp(e->name, "*")) {
			for (t = 0; t < c->nrefs; t++)
				if (!strcmp(c->refs[t].qname, e->table))
					break;
			if (t == c->nrefs) {
				fail(c, ER_BAD_TABLE_ERROR, "Unknown table '%s'", e->table);
				return -1;
			}
			for (k = 0; k < c->refs[t].mt->ncols; k++) {
				const struct meta_table *mt = c->refs[t].mt;
				if (c->nn && t == c->nn_second && (!strcasecmp(mt->cols[k], mt->chunk_key) ||
								   !strcasecmp(mt->cols[k], mt->sub_chunk_key)))
					continue;
				if (push_col(c, v, &n, cap, c->refs[t].qname, mt->cols[k]) < 0)
					return -1;
			}
		} else {
			if (n >= cap) {
				fail(c, ER_TOO_MANY_FIELDS, "Too many columns");
				return -1;
			}
			v[n++] = s->items[i];
		}
	}
	s->items = v;
	s->nitems = n;
	return 0;
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
	free(p->area);
	free(p);
}

static int plan_chunks(struct ctx *c)
{
	struct sql_select *s = c->s, wk;
	struct sql_expr *conj[256];
	size_t nconj = 0, i;
	int npart = 0, rc;

	for (i = 0; i < c->nrefs; i++)
		npart += c->refs[i].mt->partitioned;
	c->p->kind = PLAN_CHUNKS;
	c->p->db = c->db;
	c->p->regular_only = npart == 0;
	c->p->stream_limit = c->p->stream_offset = -1;
	/* candidate chunks start as every placed chunk */
	c->p->chunks = malloc((c->db->nchunks + 1) * sizeof(int32_t));
	if (!c->p->chunks)
		return oom(c), -1;
	for (i = 0; i < c->db->nchunks; i++)
		c->p->chunks[i] = c->db->chunks[i].id;
	c->p->nchunks = c->db->nchunks;

	conjuncts(s->where, conj, &nconj, 256);
	if (nconj == 256) {
		fail(c, ER_NOT_SUPPORTED_YET, "Qserv does not support more than 255 AND terms in WHERE");
		return -1;
	}
	for (i = 0; i < s->nfrom; i++) {
		if (has_areaspec(s->from[i].on)) {
			fail(c, ER_NOT_SUPPORTED_YET, "Qserv does not support qserv_areaspec_* in ON");
			return -1;
		}
	}
	{
		/* ON conditions count for chunk-locality too */
		struct sql_expr *all[512];
		size_t nall = 0;
		for (i = 0; i < nconj; i++)
			all[nall++] = conj[i];
		for (i = 0; i < s->nfrom; i++)
			conjuncts(s->from[i].on, all, &nall, 512);
		if (check_joins(c, all, nall) < 0)
			return -1;
	}
	if (expand_stars(c) < 0)
		return -1;
	for (i = 0; i < nconj; i++)
		if (is_areaspec(conj[i])) {
			if (npart == 0) {
				fail(c, ER_NOT_SUPPORTED_YET, "Qserv does not support %s on regular tables", conj[i]->text);
				return -1;
			}
			if (restrictor(c, &conj[i]) < 0)
				return -1;
		}
	for (i = 0; i < nconj; i++)
		if (has_areaspec(conj[i])) {
			fail(c, ER_NOT_SUPPORTED_YET,
			     "Qserv does not support qserv_areaspec_* inside OR, NOT or other expressions: it must be "
			     "an AND term of WHERE");
			return -1;
		}
	for (i = 0; i < s->nitems; i++)
		if (has_areaspec(s->items[i].e) || has_areaspec(s->having)) {
			fail(c, ER_NOT_SUPPORTED_YET, "Qserv does not support qserv_areaspec_* outside WHERE");
			return -1;
		}
	if (npart)
		for (i = 0; i < nconj; i++)
			index_lookup(c, conj[i]);
	s->where = and_all(c, conj, nconj);
	if (c->failed)
		return -1;
	/* column references may not name the database: tables are aliased */
	strip_db(s->where);
	strip_db(s->having);
	for (i = 0; i < s->nitems; i++)
		strip_db(s->items[i].e);
	for (i = 0; i < s->ngroup; i++)
		strip_db(s->group[i]);
	for (i = 0; i < s->norder; i++)
		strip_db(s->order[i].e);

	memset(&wk, 0, sizeof(wk));
	if (!(wk.from = worker_from(c)))
		return -1;
	wk.nfrom = s->nfrom;
	wk.where = s->where;
	if (c->p->regular_only) {
		/* one worker holds the whole of every regular table */
		*(&wk) = *s;
		wk.from = worker_from(c);
		for (i = 0; i < s->nitems; i++) {
			c->w[i] = s->items[i];
			if (s->items[i].e->kind != SQL_E_COL && s->items[i].e->kind != SQL_E_STAR)
				c->w[i].alias = final_name(c, &s->items[i]);
		}
		wk.items = c->w;
		c->p->worker_sql = print_select(c, &wk);
		return c->p->worker_sql ? 0 : -1;
	}
	rc = 0;
	{
		int agg = s->ngroup > 0 || s->having != NULL;
		for (i = 0; i < s->nitems; i++)
			agg |= sql_has_aggregate(s->items[i].e);
		rc = agg ? plan_aggregate(c, &wk) : plan_rows(c, &wk);
	}
	if (rc < 0)
		return -1;
	c->p->worker_sql = print_select(c, &wk);
	return c->p->worker_sql ? 0 : -1;
}

int plan_build(struct sql_stmt *st, const char *src, const char *session_db, const struct meta *m,
	       struct plan **ret, struct sql_error *err)
{
	struct ctx *c = calloc(1, sizeof(*c));
	struct plan *p = calloc(1, sizeof(*p));
	int nq, rc = 0;

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
	nq = resolve_tables(c, session_db ? session_db : "");
	if (nq < 0)
		goto out;
	if (nq == 0) {
		struct buf o = { 0 };
		p->kind = PLAN_LOCAL;
		sql_print_select(&o, c->s);
		if (o.oom) {
			buf_free(&o);
			oom(c);
		}
		p->sql = buf_steal(&o);
		goto out;
	}
	plan_chunks(c);
out:
	if (c->failed) {
		rc = err->code == ER_OUT_OF_RESOURCES ? -ENOMEM : -EINVAL;
		plan_free(p);
	} else {
		*ret = p;
	}
	free(c);
	return rc;
}
