/* sql_ast.c: the arena every AST node lives in and small AST predicates.
 * An arena is a list of blocks; nodes are never freed one by one, so a
 * statement and its rewrites go away in one call. */
#include "sql.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct sql_block {
	struct sql_block *next;
	size_t used, cap;
	max_align_t data[];
};

struct sql_arena {
	struct sql_block *head;
};

struct sql_arena *sql_arena_new(void)
{
	return calloc(1, sizeof(struct sql_arena));
}

void sql_arena_free(struct sql_arena *a)
{
	struct sql_block *b, *n;

	if (!a)
		return;
	for (b = a->head; b; b = n) {
		n = b->next;
		free(b);
	}
	free(a);
}

void *sql_alloc(struct sql_arena *a, size_t n)
{
	struct sql_block *b = a->head;
	size_t al = sizeof(max_align_t);
	void *p;

	n = (n + al - 1) / al * al;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > 8192 ? n : 8192;
		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->used = 0;
		b->cap = cap;
		b->next = a->head;
		a->head = b;
	}
	p = (char *)b->data + b->used;
	b->used += n;
	memset(p, 0, n);
	return p;
}

char *sql_strdup(struct sql_arena *a, const char *s)
{
	size_t n = strlen(s);
	char *p = sql_alloc(a, n + 1);

	if (p)
		memcpy(p, s, n + 1);
	return p;
}

struct sql_expr *sql_expr_new(struct sql_arena *a, enum sql_expr_kind kind, size_t nargs)
{
	struct sql_expr *e = sql_alloc(a, sizeof(*e));

	if (!e)
		return NULL;
	e->kind = kind;
	e->nargs = nargs;
	if (nargs && !(e->args = sql_alloc(a, nargs * sizeof(*e->args))))
		return NULL;
	return e;
}

void sql_stmt_free(struct sql_stmt *st)
{
	if (st)
		sql_arena_free(st->arena);   /* st itself lives in the arena */
}

int sql_is_aggregate(const struct sql_expr *e)
{
	static const char *const aggs[] = { "COUNT", "SUM", "AVG", "MIN", "MAX", "STD", "STDDEV",
		"STDDEV_POP", "STDDEV_SAMP", "VARIANCE", "VAR_POP", "VAR_SAMP", "BIT_AND", "BIT_OR",
		"BIT_XOR", "GROUP_CONCAT", NULL };
	size_t i;

	if (!e || e->kind != SQL_E_FUNC)
		return 0;
	for (i = 0; aggs[i]; i++)
		if (!strcasecmp(e->text, aggs[i]))
			return 1;
	return 0;
}

int sql_has_aggregate(const struct sql_expr *e)
{
	size_t i;

	if (!e)
		return 0;
	if (sql_is_aggregate(e))
		return 1;
	for (i = 0; i < e->nargs; i++)
		if (sql_has_aggregate(e->args[i]))
			return 1;
	return 0;
}
