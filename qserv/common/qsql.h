/* qsql.h: MariaDB Connector/C helpers shared by the worker and the
 * controller: connecting over the local unix socket (LOCAL INFILE on),
 * statements formatted printf-style, single-value queries, and the
 * identifier check every name coming from the network goes through before
 * it is pasted into SQL.  Errors: negative errno + err buffer; no logging. */
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
 * be NULL.  Returns 0 or -EIO (err holds MariaDB's message and errno in
 * *ret_myerr when not NULL). */
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

/* True for a name safe to quote in backticks: [A-Za-z0-9_$], 1..64 chars. */
bool qsql_ident_ok(const char *name);

/* Escapes s for a single-quoted SQL string literal into a new string. */
char *qsql_quote(MYSQL *m, const char *s);

#endif
