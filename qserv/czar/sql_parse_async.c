/* sql_parse_async.c: Qserv's asynchronous-query statements (doc/user/
 * async.rst in Qserv):
 *
 *   SUBMIT <select>                  -> SQL_SUBMIT (select parsed as usual,
 *                                       submit_pos: where its text starts)
 *   SELECT * FROM qserv_result(<id>) -> SQL_RESULT_FETCH (job_id)
 *   CALL qserv_result_delete(<id>)   -> SQL_RESULT_DELETE (job_id)
 *   CANCEL <id>                      -> SQL_CANCEL (job_id)
 *
 * qserv_result(<id>) is recognised only in exactly that form (Qserv's
 * proxy matches it the same way); any other use of it is a syntax error
 * of the SELECT, and every other CALL stays refused. */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <mariadb/mysqld_error.h>

#include "sql_parser.h"

/* ( <integer> ) into *id; p->rc on failure. */
static int paren_id(struct parser *p, int64_t *id)
{
	*id = 0;   /* set on every path */
	sqlp_expect_op(p, "(");
	if (p->rc || sqlp_int(p, id) < 0)
		return p->rc ? p->rc : sqlp_syntax(p, p->t.pos, "expected a query id");
	sqlp_expect_op(p, ")");
	return p->rc;
}

int sqlp_result_fetch(struct parser *p, struct sql_stmt *st)
{
	struct parser save = *p;
	int64_t id;

	sqlp_next(p);   /* SELECT */
	if (p->rc || !sqlp_accept_op(p, "*") || !sqlp_accept_kw(p, "FROM") || !sqlp_is_kw(p, "qserv_result") ||
	    sqlp_peek(p).kind != TK_OP || strcmp(sqlp_peek(p).text, "(")) {
		*p = save;
		return 0;
	}
	sqlp_next(p);
	if (paren_id(p, &id) < 0)
		return p->rc;
	st->kind = SQL_RESULT_FETCH;
	st->job_id = id;
	return 1;
}

int sqlp_async_stmt(struct parser *p, struct sql_stmt *st, struct sql_select *(*select)(struct parser *))
{
	int64_t id;

	if (sqlp_accept_kw(p, "SUBMIT")) {
		if (!sqlp_is_kw(p, "SELECT"))
			return sqlp_syntax(p, p->t.pos, "SUBMIT takes a SELECT");
		st->submit_pos = p->t.pos;
		st->kind = SQL_SUBMIT;
		st->select = select(p);
		return p->rc;
	}
	if (sqlp_accept_kw(p, "CANCEL")) {
		if (sqlp_int(p, &id) < 0)
			return p->rc;
		st->kind = SQL_CANCEL;
		st->job_id = id;
		return 0;
	}
	sqlp_expect_kw(p, "CALL");
	if (!sqlp_is_kw(p, "qserv_result_delete"))
		return sqlp_refuse(p, p->t.pos, "CALL other than qserv_result_delete(<id>)");
	sqlp_next(p);
	if (paren_id(p, &id) < 0)
		return p->rc;
	st->kind = SQL_RESULT_DELETE;
	st->job_id = id;
	return 0;
}
