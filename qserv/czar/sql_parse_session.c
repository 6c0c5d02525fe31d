/* sql_parse_session.c: the statements that set up a session rather than
 * read data -- SET, and the transaction statements drivers send on their
 * own (SQLAlchemy's ROLLBACK at connect and when a pooled connection comes
 * back, JDBC's COMMIT/ROLLBACK around setAutoCommit(false), BEGIN from
 * ORMs).
 *
 * The czar is read-only and every statement stands alone, so a transaction
 * has nothing to commit or undo: BEGIN, START TRANSACTION [READ ONLY | READ
 * WRITE | WITH CONSISTENT SNAPSHOT], COMMIT and ROLLBACK [WORK] [AND [NO]
 * CHAIN] [NO RELEASE] parse to SQL_TXN, answered with OK as a read-only
 * MySQL server answers them.  A write inside such a "transaction" is
 * still refused at the write, by sql_parse.  What would need state the czar
 * does not keep is refused: savepoints (ROLLBACK TO, SAVEPOINT, RELEASE
 * SAVEPOINT), COMMIT/ROLLBACK RELEASE (closes the connection), XA. */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <mariadb/mysqld_error.h>

#include "sql_parser.h"

/* wait_timeout, @@wait_timeout, @@session.wait_timeout or @@local.wait_timeout. */
static int is_wait_timeout(const struct parser *p)
{
	const char *t = p->t.text;

	if (p->t.kind == TK_IDENT)
		return !strcasecmp(t, "wait_timeout");
	if (p->t.kind != TK_VAR)
		return 0;
	return !strcasecmp(t, "@@wait_timeout") || !strcasecmp(t, "@@session.wait_timeout") ||
	       !strcasecmp(t, "@@local.wait_timeout");
}

/* autocommit, @@autocommit, @@session.autocommit or @@local.autocommit. */
static int is_autocommit(const struct parser *p)
{
	const char *t = p->t.text;

	if (p->t.kind == TK_IDENT)
		return !strcasecmp(t, "autocommit");
	if (p->t.kind != TK_VAR)
		return 0;
	return !strcasecmp(t, "@@autocommit") || !strcasecmp(t, "@@session.autocommit") ||
	       !strcasecmp(t, "@@local.autocommit");
}

/* = 0 | 1 | ON | OFF | TRUE | FALSE | DEFAULT (1), as MySQL takes it. */
static int autocommit_value(struct parser *p, struct sql_stmt *st)
{
	int64_t v;

	sqlp_next(p);
	if (!sqlp_accept_op(p, "=") && !sqlp_accept_op(p, ":="))
		return sqlp_syntax(p, p->t.pos, "expected = after autocommit");
	if (sqlp_accept_kw(p, "ON") || sqlp_accept_kw(p, "TRUE") || sqlp_accept_kw(p, "DEFAULT"))
		st->set_autocommit = 1;
	else if (sqlp_accept_kw(p, "OFF") || sqlp_accept_kw(p, "FALSE"))
		st->set_autocommit = 0;
	else if (sqlp_int(p, &v) < 0)
		return p->rc;
	else if (v > 1)
		return sqlp_syntax(p, p->t.pos, "autocommit takes 0 or 1");
	else
		st->set_autocommit = (int)v;
	return p->rc;
}

/* SET GLOBAL QSERV_ROW_COUNTER_OPTIMIZATION = 0|1 (or @@global.): the one
 * global variable of the czar, as Qserv's; any other SET GLOBAL refused. */
static int set_global(struct parser *p, struct sql_stmt *st)
{
	int pos = p->t.pos;
	int64_t v;

	if (sqlp_accept_kw(p, "GLOBAL")) {
		if (p->t.kind != TK_IDENT || strcasecmp(p->t.text, "QSERV_ROW_COUNTER_OPTIMIZATION"))
			return sqlp_refuse(p, pos, "SET GLOBAL (except QSERV_ROW_COUNTER_OPTIMIZATION)");
	} else if (strcasecmp(p->t.text, "@@global.QSERV_ROW_COUNTER_OPTIMIZATION")) {
		return sqlp_refuse(p, pos, "SET GLOBAL (except QSERV_ROW_COUNTER_OPTIMIZATION)");
	}
	sqlp_next(p);
	if (!sqlp_accept_op(p, "=") && !sqlp_accept_op(p, ":="))
		return sqlp_syntax(p, p->t.pos, "expected = after QSERV_ROW_COUNTER_OPTIMIZATION");
	if (sqlp_accept_kw(p, "ON") || sqlp_accept_kw(p, "TRUE") || sqlp_accept_kw(p, "DEFAULT"))
		v = 1;
	else if (sqlp_accept_kw(p, "OFF") || sqlp_accept_kw(p, "FALSE"))
		v = 0;
	else if (sqlp_int(p, &v) < 0)
		return p->rc;
	else if (v > 1)
		return sqlp_syntax(p, p->t.pos, "QSERV_ROW_COUNTER_OPTIMIZATION takes 0 or 1");
	if (p->t.kind != TK_END && !sqlp_is_op(p, ";"))
		return sqlp_syntax(p, p->t.pos, "SET GLOBAL QSERV_ROW_COUNTER_OPTIMIZATION takes one value");
	st->set_row_counters = (int)v;
	st->kind = SQL_SET;
	return 0;
}

/* SET: the czar keeps wait_timeout (set_wait_timeout, 0 for DEFAULT) and
 * autocommit (set_autocommit: what OK and EOF report, session.h);
 * everything else (NAMES, autocommit, SESSION TRANSACTION ISOLATION LEVEL
 * ..., sql_mode, the JDBC drivers' session settings) is accepted and
 * ignored, user variables and sub-queries refused. */
int sqlp_set_stmt(struct parser *p, struct sql_stmt *st)
{
	sqlp_next(p);   /* SET */
	st->set_wait_timeout = -1;
	st->set_autocommit = -1;
	st->set_row_counters = -1;
	if (sqlp_is_kw(p, "GLOBAL") || (p->t.kind == TK_VAR && !strncasecmp(p->t.text, "@@global.", 9)))
		return set_global(p, st);
	if (sqlp_is_kw(p, "PASSWORD"))
		return sqlp_refuse(p, p->t.pos, "SET PASSWORD");
	while (!p->rc && p->t.kind != TK_END && !sqlp_is_op(p, ";")) {
		int64_t v;
		if (is_autocommit(p)) {
			if (autocommit_value(p, st) < 0)
				return p->rc;
			continue;
		}
		if (!is_wait_timeout(p)) {
			if (p->t.kind == TK_VAR && p->t.text[1] != '@')
				return sqlp_refuse(p, p->t.pos, "user variables");
			if (sqlp_is_kw(p, "SELECT"))
				return sqlp_refuse(p, p->t.pos, "sub-queries");
			sqlp_next(p);
			continue;
		}
		sqlp_next(p);
		if (!sqlp_accept_op(p, "=") && !sqlp_accept_op(p, ":="))
			return sqlp_syntax(p, p->t.pos, "expected = after wait_timeout");
		if (sqlp_accept_kw(p, "DEFAULT"))
			st->set_wait_timeout = 0;
		else if (sqlp_int(p, &v) < 0)
			return p->rc;
		else   /* MySQL's range, clamped like MySQL */
			st->set_wait_timeout = v < 1 ? 1 : v > 31536000 ? 31536000 : v;
	}
	if (p->rc)
		return p->rc;
	st->kind = SQL_SET;
	return 0;
}

/* START TRANSACTION's characteristics: WITH CONSISTENT SNAPSHOT, READ ONLY,
 * READ WRITE, comma separated. */
static int txn_characteristics(struct parser *p)
{
	do {
		if (sqlp_accept_kw(p, "WITH")) {
			sqlp_expect_kw(p, "CONSISTENT");
			sqlp_expect_kw(p, "SNAPSHOT");
		} else if (sqlp_accept_kw(p, "READ")) {
			if (!sqlp_accept_kw(p, "ONLY") && !sqlp_accept_kw(p, "WRITE"))
				return sqlp_syntax(p, p->t.pos, "expected ONLY or WRITE after READ");
		} else {
			return sqlp_syntax(p, p->t.pos, "expected READ ONLY, READ WRITE or WITH CONSISTENT SNAPSHOT");
		}
	} while (!p->rc && sqlp_accept_op(p, ","));
	return p->rc;
}

/* COMMIT / ROLLBACK's tail: [WORK] [AND [NO] CHAIN] [NO RELEASE]. */
static int txn_end(struct parser *p, const char *what)
{
	sqlp_accept_kw(p, "WORK");
	if (sqlp_is_kw(p, "TO"))
		return sqlp_refuse(p, p->t.pos, "savepoints (%s TO): the czar is read-only and has no transactions", what);
	if (sqlp_accept_kw(p, "AND")) {
		sqlp_accept_kw(p, "NO");
		sqlp_expect_kw(p, "CHAIN");
	}
	if (sqlp_is_kw(p, "RELEASE"))
		return sqlp_refuse(p, p->t.pos, "%s RELEASE (QUIT closes the connection)", what);
	if (sqlp_accept_kw(p, "NO"))
		sqlp_expect_kw(p, "RELEASE");
	return p->rc;
}

int sqlp_txn_stmt(struct parser *p, struct sql_stmt *st)
{
	st->kind = SQL_TXN;
	if (sqlp_accept_kw(p, "BEGIN")) {
		st->txn = "BEGIN";
		sqlp_accept_kw(p, "WORK");
	} else if (sqlp_accept_kw(p, "START")) {
		st->txn = "BEGIN";
		sqlp_expect_kw(p, "TRANSACTION");
		if (p->t.kind == TK_IDENT)
			txn_characteristics(p);
	} else if (sqlp_accept_kw(p, "COMMIT")) {
		st->txn = "COMMIT";
		txn_end(p, "COMMIT");
	} else {
		sqlp_expect_kw(p, "ROLLBACK");
		st->txn = "ROLLBACK";
		txn_end(p, "ROLLBACK");
	}
	return p->rc;
}
