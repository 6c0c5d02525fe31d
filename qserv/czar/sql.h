/* sql.h: the czar's SQL dialect -- AST, parser and printer.
 *
 * sql_parse turns one statement into a struct sql_stmt whose nodes all live
 * in the statement's arena (freed at once by sql_stmt_free).  The dialect is
 * Qserv's: SELECT with expressions as MySQL evaluates them, comma joins and
 * JOIN ... ON/USING, WHERE/GROUP BY/HAVING/ORDER BY/LIMIT, DISTINCT,
 * qserv_areaspec_* restrictors and scisql functions, plus the client probes
 * (SHOW DATABASES/TABLES/..., DESCRIBE, SET, USE, KILL) and the transaction
 * statements drivers send (BEGIN, COMMIT, ROLLBACK: nothing to do here).  What it refuses
 * (sub-queries, UNION, user variables, DML, DDL, ...) comes back as
 * ER_NOT_SUPPORTED_YET naming the construct; malformed text as ER_PARSE_ERROR
 * with the line and the text near the error.
 *
 * sql_print writes an expression or statement (into a struct buf) back
 * as SQL that MariaDB parses to the same tree: identifiers back-quoted,
 * every compound operand parenthesised, literals as written.  print(parse(print(parse(q)))) equals
 * print(parse(q)). */
#ifndef QSERV_CZAR_SQL_H
#define QSERV_CZAR_SQL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct sql_arena;

enum sql_expr_kind {
	SQL_E_NUM,        /* text: as written (123, 1.5e3, 0x1F) */
	SQL_E_STR,        /* text: raw literal with its quotes ('a''b', X'0A', _binary'x') */
	SQL_E_NULL,
	SQL_E_BOOL,       /* ival 0/1 (FALSE/TRUE) */
	SQL_E_COL,        /* [db.][table.]name; name "*" for t.* */
	SQL_E_STAR,       /* bare * (select list, COUNT(*)) */
	SQL_E_FUNC,       /* name(args); distinct for aggregates; star for COUNT(*) */
	SQL_E_UNARY,      /* op: "-", "+", "~", "!", "NOT" ; args[0] */
	SQL_E_BINARY,     /* op: "+", "AND", "<=>", ... ; args[0] op args[1] */
	SQL_E_BETWEEN,    /* args[0] [NOT] BETWEEN args[1] AND args[2] */
	SQL_E_IN,         /* args[0] [NOT] IN (args[1..]) */
	SQL_E_LIKE,       /* args[0] [NOT] LIKE args[1] [ESCAPE args[2]] ; op LIKE/REGEXP */
	SQL_E_IS,         /* args[0] IS [NOT] text ("NULL","TRUE","FALSE","UNKNOWN") */
	SQL_E_CASE,       /* args[0] operand or NULL, then WHEN/THEN pairs, then ELSE or NULL */
	SQL_E_CAST,       /* CAST(args[0] AS text) */
	SQL_E_SYSVAR,     /* text: @@name or @@session.name as written */
};

struct sql_expr {
	enum sql_expr_kind kind;
	int pos;                      /* byte offset in the statement */
	const char *text;             /* literal text, operator, function name, IS target */
	const char *db, *table, *name;   /* SQL_E_COL */
	int negated;                  /* NOT BETWEEN / NOT IN / NOT LIKE / IS NOT */
	int distinct;                 /* FUNC: COUNT(DISTINCT ...) */
	int64_t ival;
	struct sql_expr **args;
	size_t nargs;
};

struct sql_item {                 /* select-list entry */
	struct sql_expr *e;
	const char *alias;            /* NULL when none */
	int start, end;               /* source text of the expression [start, end) */
};

enum sql_join { SQL_J_FIRST, SQL_J_COMMA, SQL_J_INNER, SQL_J_LEFT, SQL_J_RIGHT, SQL_J_CROSS,
		SQL_J_STRAIGHT };

struct sql_table {
	const char *db;               /* NULL: the session's database */
	const char *name;
	const char *alias;            /* NULL when none */
	const char *derived;          /* rewrites only: a sub-query's SQL printed instead of the name */
	enum sql_join join;           /* how it joins the tables before it */
	struct sql_expr *on;          /* JOIN ... ON */
	const char **using_cols;      /* JOIN ... USING (a, b) */
	size_t nusing;
	int pos;
};

struct sql_order {
	struct sql_expr *e;
	int desc;
};

struct sql_select {
	int distinct;
	struct sql_item *items;
	size_t nitems;
	struct sql_table *from;
	size_t nfrom;
	struct sql_expr *where;
	struct sql_expr **group;
	size_t ngroup;
	struct sql_expr *having;
	struct sql_order *order;
	size_t norder;
	int has_limit;
	int64_t limit, offset;
};

enum sql_stmt_kind {
	SQL_SELECT,
	SQL_SHOW,          /* show_what: "DATABASES", "TABLES", "COLUMNS", "VARIABLES", ...; relayed */
	SQL_SHOW_PROCESSLIST,  /* Qserv's layout: the running distributed queries (history.c) */
	SQL_SHOW_SESSIONS,     /* the czar's extension: MySQL's SHOW PROCESSLIST layout of sessions */
	SQL_DESCRIBE,      /* table */
	SQL_SET,           /* session setting: set_wait_timeout and set_autocommit kept, the rest ignored */
	SQL_USE,           /* db */
	SQL_KILL,          /* kill_id, kill_query */
	SQL_TXN,           /* txn: BEGIN / START TRANSACTION, COMMIT, ROLLBACK; answered OK (read-only) */
	SQL_SUBMIT,        /* SUBMIT <select>: select, submit_pos (sql_parse_async.c) */
	SQL_RESULT_FETCH,  /* SELECT * FROM qserv_result(job_id) */
	SQL_RESULT_DELETE, /* CALL qserv_result_delete(job_id) */
	SQL_CANCEL,        /* CANCEL job_id */
	SQL_SHOW_QUOTA,    /* SHOW QUOTA [FOR 'user']: quota_user (NULL: one's own) */
};

struct sql_stmt {
	enum sql_stmt_kind kind;
	struct sql_select *select;
	const char *show_what;
	int show_full;
	struct sql_table *table;      /* DESCRIBE, SHOW COLUMNS/TABLES FROM */
	const char *db;               /* USE, SHOW TABLES FROM db */
	int64_t kill_id;
	int kill_query;               /* KILL QUERY n (else the whole connection) */
	int64_t set_wait_timeout;     /* SET wait_timeout = n: n, DEFAULT: 0, none: -1 */
	int set_autocommit;           /* SET autocommit = 0|1 (ON, OFF, DEFAULT...): 0 or 1, none: -1 */
	int set_row_counters;         /* SET GLOBAL QSERV_ROW_COUNTER_OPTIMIZATION = 0|1, none: -1 */
	int64_t job_id;               /* SQL_RESULT_FETCH / _DELETE, SQL_CANCEL */
	int submit_pos;               /* SQL_SUBMIT: offset of its SELECT */
	const char *quota_user;       /* SQL_SHOW_QUOTA FOR 'user' */
	const char *txn;              /* SQL_TXN: "BEGIN", "COMMIT" or "ROLLBACK" (static) */
	struct sql_arena *arena;
};

struct sql_error {
	unsigned code;                /* ER_PARSE_ERROR or ER_NOT_SUPPORTED_YET */
	int pos, line;
	char msg[384];
};

/* Parses sql[0..len).  Returns 0 and *ret (free with sql_stmt_free), or
 * -EINVAL with *err filled, or -ENOMEM. */
int sql_parse(const char *sql, size_t len, struct sql_stmt **ret, struct sql_error *err);
void sql_stmt_free(struct sql_stmt *st);

/* Allocation inside the statement's arena (for rewrites): NULL on OOM. */
void *sql_alloc(struct sql_arena *a, size_t n);
char *sql_strdup(struct sql_arena *a, const char *s);
struct sql_expr *sql_expr_new(struct sql_arena *a, enum sql_expr_kind kind, size_t nargs);

/* Printing: appends to a struct buf (lib/buf.h; oom latched there). */
void sql_print_ident(struct buf *o, const char *name);
void sql_print_expr(struct buf *o, const struct sql_expr *e);
void sql_print_select(struct buf *o, const struct sql_select *s);
void sql_print_stmt(struct buf *o, const struct sql_stmt *st);

/* 1 when e is an aggregate call (COUNT, SUM, AVG, MIN, MAX, ...). */
int sql_is_aggregate(const struct sql_expr *e);
/* 1 when e contains an aggregate call anywhere. */
int sql_has_aggregate(const struct sql_expr *e);

#endif
