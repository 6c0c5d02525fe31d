/* qsql.c: Connector/C helpers (see qsql.h).  Statements are formatted
 * into a growable struct buf (lib/buf.h), so a long schema or IN list
 * never truncates silently.  A failure's MariaDB message and statement go
 * to a per-thread detail record, the caller's err gets a plain sentence. */
#include "qsql.h"

#include "buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static __thread char detail[1024];

const char *qsql_detail(void)
{
	return detail;
}

void qsql_detail_clear(void)
{
	detail[0] = '\0';
}

void qsql_note_failure(MYSQL *m, const char *q)
{
	snprintf(detail, sizeof detail, "MariaDB error %u (%s): %s [%.300s]", mysql_errno(m), mysql_sqlstate(m),
		 mysql_error(m), q ? q : "");
}

MYSQL *qsql_connect(const struct qsql_conf *c, char *err, size_t errlen)
{
	MYSQL *m = mysql_init(NULL);
	if (!m) {
		snprintf(err, errlen, "mysql_init: out of memory");
		return NULL;
	}
	unsigned int proto = MYSQL_PROTOCOL_SOCKET;
	my_bool on = 1;
	mysql_optionsv(m, MYSQL_OPT_PROTOCOL, &proto);
	mysql_optionsv(m, MYSQL_OPT_LOCAL_INFILE, &on);
	mysql_optionsv(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (!mysql_real_connect(m, NULL, c->user ? c->user : "root", c->password ? c->password : "",
				NULL, 0, c->socket, CLIENT_LOCAL_FILES)) {
		snprintf(detail, sizeof detail, "cannot connect to MariaDB at %s: %s", c->socket, mysql_error(m));
		snprintf(err, errlen, "the database is not reachable");
		mysql_close(m);
		return NULL;
	}
	return m;
}

static char *vformat(const char *fmt, va_list ap)
{
	struct buf b;
	buf_init(&b);
	buf_vprintf(&b, fmt, ap);
	return buf_steal(&b);
}

static int vexec(MYSQL *m, unsigned long long *ret_affected, char *err, size_t errlen,
		 const char *fmt, va_list ap)
{
	char *q = vformat(fmt, ap);
	if (!q) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int ret = 0;
	if (mysql_real_query(m, q, strlen(q))) {
		qsql_note_failure(m, q);
		snprintf(err, errlen, "the database refused the statement");
		ret = -EIO;
	} else {
		MYSQL_RES *res = mysql_store_result(m);
		if (ret_affected)
			*ret_affected = mysql_affected_rows(m);
		mysql_free_result(res);
	}
	free(q);
	return ret;
}

int qsql_exec(MYSQL *m, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vexec(m, NULL, err, errlen, fmt, ap);
	va_end(ap);
	return r;
}

int qsql_exec_n(MYSQL *m, unsigned long long *ret_affected, char *err, size_t errlen,
		const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vexec(m, ret_affected, err, errlen, fmt, ap);
	va_end(ap);
	return r;
}

static MYSQL_RES *vquery(MYSQL *m, char *err, size_t errlen, const char *fmt, va_list ap)
{
	char *q = vformat(fmt, ap);
	if (!q) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	MYSQL_RES *res = NULL;
	if (mysql_real_query(m, q, strlen(q)) || !(res = mysql_store_result(m))) {
		qsql_note_failure(m, q);
		snprintf(err, errlen, "the database refused the query");
	}
	free(q);
	return res;
}

MYSQL_RES *qsql_query(MYSQL *m, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	MYSQL_RES *r = vquery(m, err, errlen, fmt, ap);
	va_end(ap);
	return r;
}

int qsql_int(MYSQL *m, long long *ret_value, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	MYSQL_RES *res = vquery(m, err, errlen, fmt, ap);
	va_end(ap);
	if (!res)
		return -EIO;
	MYSQL_ROW row = mysql_fetch_row(res);
	int ret = -ENOENT;
	if (row && row[0]) {
		*ret_value = strtoll(row[0], NULL, 10);
		ret = 0;
	}
	mysql_free_result(res);
	return ret;
}

char *qsql_quote(MYSQL *m, const char *s)
{
	size_t n = strlen(s);
	char *o = malloc(2 * n + 1);
	if (o)
		mysql_real_escape_string(m, o, s, (unsigned long)n);
	return o;
}
