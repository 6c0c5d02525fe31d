/* sql_print.c: AST -> SQL text that MariaDB parses back to the same tree.
 *
 * Identifiers are back-quoted, literals printed as written, and every
 * compound operand of an operator is parenthesised, so MySQL's precedence
 * rules never decide the meaning of printed SQL.  Operators are normalised
 * (&& -> AND, || -> OR, != -> <>, MOD -> %). */
#include <string.h>

#include "sql.h"

void sql_print_ident(struct buf *o, const char *name)
{
	const char *p;

	buf_puts(o, "`");
	for (p = name; *p; p++) {
		char c[3] = { *p, 0, 0 };
		if (*p == '`')
			c[1] = '`';
		buf_puts(o, c);
	}
	buf_puts(o, "`");
}

static int compound(const struct sql_expr *e)
{
	switch (e->kind) {
	case SQL_E_UNARY: case SQL_E_BINARY: case SQL_E_BETWEEN: case SQL_E_IN: case SQL_E_LIKE:
	case SQL_E_IS:
		return 1;
	default:
		return 0;
	}
}

static void operand(struct buf *o, const struct sql_expr *e)
{
	if (compound(e)) {
		buf_puts(o, "(");
		sql_print_expr(o, e);
		buf_puts(o, ")");
	} else {
		sql_print_expr(o, e);
	}
}

static void column(struct buf *o, const struct sql_expr *e)
{
	if (e->db) {
		sql_print_ident(o, e->db);
		buf_puts(o, ".");
	}
	if (e->table) {
		sql_print_ident(o, e->table);
		buf_puts(o, ".");
	}
	if (!strcmp(e->name, "*") && e->table)
		buf_puts(o, "*");
	else
		sql_print_ident(o, e->name);
}

void sql_print_expr(struct buf *o, const struct sql_expr *e)
{
	size_t i;

	switch (e->kind) {
	case SQL_E_NUM: case SQL_E_STR: case SQL_E_SYSVAR:
		buf_puts(o, e->text);
		break;
	case SQL_E_NULL:
		buf_puts(o, "NULL");
		break;
	case SQL_E_BOOL:
		buf_puts(o, e->ival ? "TRUE" : "FALSE");
		break;
	case SQL_E_COL:
		column(o, e);
		break;
	case SQL_E_STAR:
		buf_puts(o, "*");
		break;
	case SQL_E_FUNC:
		buf_puts(o, e->text);
		buf_puts(o, "(");
		if (e->distinct)
			buf_puts(o, "DISTINCT ");
		for (i = 0; i < e->nargs; i++) {
			if (i)
				buf_puts(o, ", ");
			sql_print_expr(o, e->args[i]);
		}
		buf_puts(o, ")");
		break;
	case SQL_E_UNARY:
		buf_puts(o, e->text);
		if (!strcmp(e->text, "NOT") || !strcmp(e->text, "BINARY"))
			buf_puts(o, " ");
		operand(o, e->args[0]);
		break;
	case SQL_E_BINARY:
		operand(o, e->args[0]);
		buf_printf(o, " %s ", e->text);
		operand(o, e->args[1]);
		break;
	case SQL_E_BETWEEN:
		operand(o, e->args[0]);
		buf_puts(o, e->negated ? " NOT BETWEEN " : " BETWEEN ");
		operand(o, e->args[1]);
		buf_puts(o, " AND ");
		operand(o, e->args[2]);
		break;
	case SQL_E_IN:
		operand(o, e->args[0]);
		buf_puts(o, e->negated ? " NOT IN (" : " IN (");
		for (i = 1; i < e->nargs; i++) {
			if (i > 1)
				buf_puts(o, ", ");
			sql_print_expr(o, e->args[i]);
		}
		buf_puts(o, ")");
		break;
	case SQL_E_LIKE:
		operand(o, e->args[0]);
		buf_printf(o, " %s%s ", e->negated ? "NOT " : "", e->text);
		operand(o, e->args[1]);
		if (e->nargs == 3) {
			buf_puts(o, " ESCAPE ");
			operand(o, e->args[2]);
		}
		break;
	case SQL_E_IS:
		operand(o, e->args[0]);
		buf_printf(o, " IS %s%s", e->negated ? "NOT " : "", e->text);
		break;
	case SQL_E_CASE:
		buf_puts(o, "CASE");
		if (e->args[0]) {
			buf_puts(o, " ");
			sql_print_expr(o, e->args[0]);
		}
		for (i = 1; i + 2 <= e->nargs - 1; i += 2) {   /* [operand, (when, then)..., else] */
			buf_puts(o, " WHEN ");
			sql_print_expr(o, e->args[i]);
			buf_puts(o, " THEN ");
			sql_print_expr(o, e->args[i + 1]);
		}
		if (e->args[e->nargs - 1]) {
			buf_puts(o, " ELSE ");
			sql_print_expr(o, e->args[e->nargs - 1]);
		}
		buf_puts(o, " END");
		break;
	case SQL_E_CAST:
		buf_puts(o, "CAST(");
		sql_print_expr(o, e->args[0]);
		buf_printf(o, " AS %s)", e->text);
		break;
	}
}

static void table_ref(struct buf *o, const struct sql_table *t)
{
	if (t->derived) {
		buf_printf(o, "(%s) AS ", t->derived);
		sql_print_ident(o, t->alias);
		return;
	}
	if (t->db) {
		sql_print_ident(o, t->db);
		buf_puts(o, ".");
	}
	sql_print_ident(o, t->name);
	if (t->alias) {
		buf_puts(o, " AS ");
		sql_print_ident(o, t->alias);
	}
}

static const char *join_word(enum sql_join j)
{
	switch (j) {
	case SQL_J_COMMA: return ", ";
	case SQL_J_INNER: return " JOIN ";
	case SQL_J_LEFT: return " LEFT JOIN ";
	case SQL_J_RIGHT: return " RIGHT JOIN ";
	case SQL_J_CROSS: return " CROSS JOIN ";
	case SQL_J_STRAIGHT: return " STRAIGHT_JOIN ";
	default: return "";
	}
}

void sql_print_select(struct buf *o, const struct sql_select *s)
{
	size_t i, k;

	buf_puts(o, s->distinct ? "SELECT DISTINCT " : "SELECT ");
	for (i = 0; i < s->nitems; i++) {
		if (i)
			buf_puts(o, ", ");
		sql_print_expr(o, s->items[i].e);
		if (s->items[i].alias) {
			buf_puts(o, " AS ");
			sql_print_ident(o, s->items[i].alias);
		}
	}
	for (i = 0; i < s->nfrom; i++) {
		const struct sql_table *t = &s->from[i];
		buf_puts(o, i ? join_word(t->join) : " FROM ");
		table_ref(o, t);
		if (t->on) {
			buf_puts(o, " ON ");
			sql_print_expr(o, t->on);
		}
		if (t->nusing) {
			buf_puts(o, " USING (");
			for (k = 0; k < t->nusing; k++) {
				if (k)
					buf_puts(o, ", ");
				sql_print_ident(o, t->using_cols[k]);
			}
			buf_puts(o, ")");
		}
	}
	if (s->where) {
		buf_puts(o, " WHERE ");
		sql_print_expr(o, s->where);
	}
	for (i = 0; i < s->ngroup; i++) {
		buf_puts(o, i ? ", " : " GROUP BY ");
		sql_print_expr(o, s->group[i]);
	}
	if (s->having) {
		buf_puts(o, " HAVING ");
		sql_print_expr(o, s->having);
	}
	for (i = 0; i < s->norder; i++) {
		buf_puts(o, i ? ", " : " ORDER BY ");
		sql_print_expr(o, s->order[i].e);
		if (s->order[i].desc)
			buf_puts(o, " DESC");
	}
	if (s->has_limit) {
		buf_printf(o, " LIMIT %lld", (long long)s->limit);
		if (s->offset)
			buf_printf(o, " OFFSET %lld", (long long)s->offset);
	}
}

void sql_print_stmt(struct buf *o, const struct sql_stmt *st)
{
	switch (st->kind) {
	case SQL_SELECT:
		sql_print_select(o, st->select);
		break;
	case SQL_SHOW:
		buf_printf(o, "SHOW %s...", st->show_what);
		break;
	case SQL_SHOW_PROCESSLIST:
		buf_puts(o, st->show_full ? "SHOW FULL PROCESSLIST" : "SHOW PROCESSLIST");
		break;
	case SQL_SHOW_SESSIONS:
		buf_puts(o, st->show_full ? "SHOW FULL SESSIONS" : "SHOW SESSIONS");
		break;
	case SQL_DESCRIBE:
		buf_puts(o, "DESCRIBE ");
		table_ref(o, st->table);
		break;
	case SQL_SET:
		buf_puts(o, "SET ...");
		break;
	case SQL_USE:
		buf_puts(o, "USE ");
		sql_print_ident(o, st->db);
		break;
	case SQL_KILL:
		buf_printf(o, "KILL %s%lld", st->kill_query ? "QUERY " : "", (long long)st->kill_id);
		break;
	case SQL_TXN:
		buf_puts(o, st->txn);
		break;
	case SQL_SUBMIT:
		buf_puts(o, "SUBMIT ");
		sql_print_select(o, st->select);
		break;
	case SQL_RESULT_FETCH:
		buf_printf(o, "SELECT * FROM qserv_result(%lld)", (long long)st->job_id);
		break;
	case SQL_RESULT_DELETE:
		buf_printf(o, "CALL qserv_result_delete(%lld)", (long long)st->job_id);
		break;
	case SQL_CANCEL:
		buf_printf(o, "CANCEL %lld", (long long)st->job_id);
		break;
	case SQL_SHOW_QUOTA:
		buf_puts(o, "SHOW QUOTA");
		if (st->quota_user)
			buf_printf(o, " FOR '%s'", st->quota_user);   /* [A-Za-z0-9_.@-] or an identifier */
		break;
	}
}
