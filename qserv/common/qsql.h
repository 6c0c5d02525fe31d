/* qsql.h: MariaDB Connector/C helpers shared by the worker and the
 * controller: connecting over the local unix socket (LOCAL INFILE on),
 * statements formatted printf-style, single-value queries, and string
 * literals escaped by the server's rules (qsql_quote).  Names reach a
 * statement only after qserv/common/sqlid.h accepted them.
 *
 * Errors: negative errno + err buffer; no logging.  The err text of a
 * failed statement is a plain sentence fit for an HTTP client ("the
 * database refused the statement"): it never holds MariaDB's message or
 * the statement.  Those go to qsql_detail(), a per-thread record of the
 * last failure that the daemon logs at its boundary. */
#ifndef QSERV_QSQL_H
#define QSERV_QSQL_H

#include <mariadb/mysql.h>
#include <stdbool.h>
#include <stddef.h>

struct qsql_conf {
	const char *socket;   /* unix socket of the local mariadbd */
	const char *user;     /* default root */
	const char *password; /* default "" */
};

/* Connects; returns the handle or NULL with err filled. */
MYSQL *qsql_connect(const struct qsql_conf *c, char *err, size_t errlen);

/* Formats and runs one statement, discarding any result.  ret_affected may
 * be NULL.  Returns 0 or -EIO (err: "the database refused the statement";
 * MariaDB's errno stays readable with mysql_errno(m)). */
int qsql_exec(MYSQL *m, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int qsql_exec_n(MYSQL *m, unsigned long long *ret_affected, char *err, size_t errlen,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Runs a query whose first row's first column is an integer; returns 0
 * with *ret_value set, -ENOENT when there is no row (or NULL), -EIO. */
int qsql_int(MYSQL *m, long long *ret_value, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Runs a query and returns its stored result (caller frees), NULL + err. */
MYSQL_RES *qsql_query(MYSQL *m, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Escapes s (mysql_real_escape_string: quotes, backslash, NUL, newlines
 * by the connection's character set) for a single-quoted SQL string
 * literal into a new string (caller frees), NULL when out of memory. */
char *qsql_quote(MYSQL *m, const char *s);

/* The last failure of this thread: MariaDB's error number and message and
 * the start of the statement, for the daemon's log ("" when none since
 * qsql_detail_clear()).  Never for a client. */
const char *qsql_detail(void);
void qsql_detail_clear(void);
/* Records m's current error and the start of statement q as this thread's
 * detail (for statements run without qsql_exec/qsql_query, e.g. streamed
 * with mysql_use_result). */
void qsql_note_failure(MYSQL *m, const char *q);

#endif
