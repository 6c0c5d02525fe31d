/* sql_parser.h: the parser state and the token/error plumbing shared by
 * the statement rules (sql_parse.c, sql_parse_session.c) and the
 * expression rules (sql_parse_expr.c) only.
 *
 * Errors: the first one wins.  sqlp_syntax (ER_PARSE_ERROR) and
 * sqlp_refuse (ER_NOT_SUPPORTED_YET) fill p->err and set p->rc to -EINVAL,
 * sqlp_nomem sets ER_OUT_OF_RESOURCES and -ENOMEM; later errors change
 * nothing, and every rule stops once p->rc is set (the token helpers then
 * match nothing).  Rules returning a pointer return NULL after an error,
 * rules returning int return p->rc. */
#ifndef QSERV_CZAR_SQL_PARSER_H
#define QSERV_CZAR_SQL_PARSER_H

#include "sql_internal.h"

struct parser {
	struct sql_lexer lx;
	struct sql_token t;          /* current token */
	struct sql_arena *a;
	struct sql_error *err;
	int rc;                      /* 0, or the first error's negative errno */
	int depth;
	int chained;                 /* operators applied to an earlier operand */
	int prev_end;                /* end offset of the last consumed token */
};

/* A growable array of pointers in the arena. */
struct vec {
	void **v;
	size_t n, cap;
};

int sqlp_syntax(struct parser *p, int pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int sqlp_refuse(struct parser *p, int pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int sqlp_nomem(struct parser *p);
void *sqlp_oom(struct parser *p);            /* sqlp_nomem, returning NULL */

/* Tokens: the current one is p->t. */
void sqlp_next(struct parser *p);
struct sql_token sqlp_peek(struct parser *p);   /* the one after p->t */
int sqlp_is_kw(const struct parser *p, const char *kw);
int sqlp_accept_kw(struct parser *p, const char *kw);
int sqlp_is_op(const struct parser *p, const char *op);
int sqlp_accept_op(struct parser *p, const char *op);
void sqlp_expect_kw(struct parser *p, const char *kw);
void sqlp_expect_op(struct parser *p, const char *op);
const char *sqlp_describe(const struct sql_token *t);
int sqlp_is_reserved(const char *s);
/* Identifier (plain non-reserved or back-quoted), or NULL after an error. */
const char *sqlp_ident(struct parser *p, const char *what);

struct sql_expr *sqlp_mk(struct parser *p, enum sql_expr_kind kind, size_t nargs, int pos);
int sqlp_vec_push(struct parser *p, struct vec *v, void *x);

/* A non-negative decimal integer literal (LIMIT, KILL, SET values). */
int sqlp_int(struct parser *p, int64_t *ret);

/* sql_parse_session.c: SET, and BEGIN / START TRANSACTION / COMMIT /
 * ROLLBACK (p->t is the statement's first keyword). */
int sqlp_set_stmt(struct parser *p, struct sql_stmt *st);
int sqlp_txn_stmt(struct parser *p, struct sql_stmt *st);
/* sql_parse_async.c: at SELECT, 1 (and SQL_RESULT_FETCH) for exactly
 * SELECT * FROM qserv_result(<id>), 0 with p untouched otherwise, or
 * p->rc; and SUBMIT / CANCEL / CALL qserv_result_delete. */
int sqlp_result_fetch(struct parser *p, struct sql_stmt *st);
struct sql_select;
int sqlp_async_stmt(struct parser *p, struct sql_stmt *st, struct sql_select *(*select)(struct parser *));

/* sql_parse_user.c: 1 when p->t starts an account statement (CREATE/DROP
 * USER or ROLE, ALTER USER, GRANT, REVOKE, SET PASSWORD, SHOW GRANTS), and
 * the rule parsing it. */
int sqlp_is_user_stmt(struct parser *p);
int sqlp_user_stmt(struct parser *p, struct sql_stmt *st);
/* Called at each token of a SHOW's tail: notes in st->db the database it
 * names (FROM|IN db of SHOW TABLES / TABLE STATUS, the second FROM|IN of
 * SHOW COLUMNS / INDEX, the db of any db.table), and LIKE / WHERE.
 * *froms counts the FROM|IN seen. */
void sqlp_show_note(struct parser *p, struct sql_stmt *st, int *froms);

/* sql_parse_expr.c: one expression (the OR level). */
struct sql_expr *sqlp_expr(struct parser *p);

#endif
