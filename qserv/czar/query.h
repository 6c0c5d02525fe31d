/* query.h: what the czar does with a client's statement.
 *
 * query_run answers one COM_QUERY on the session's connection: it parses
 * the statement, refuses what the czar cannot answer exactly (with a MySQL
 * error naming the problem), and runs the rest -- on the czar's own MariaDB
 * for statements that touch no partitioned data, on the workers otherwise.
 * Every path leaves exactly one complete response in s->conn.out. */
#ifndef QSERV_CZAR_QUERY_H
#define QSERV_CZAR_QUERY_H

#include <stddef.h>

struct sess;

void query_run(struct sess *s, const char *sql, size_t len);
/* A SELECT's text as query_run runs it (a SUBMIT's detached session). */
void query_select(struct sess *s, const char *sql, size_t len);
/* 0 when the SELECT parses and plans, else an ERR written and < 0. */
int query_check_select(struct sess *s, const char *sql, size_t len);
/* COM_FIELD_LIST: "table\0wildcard". */
void query_field_list(struct sess *s, const char *arg, size_t len);
/* 0 when db exists; otherwise writes an ERR packet and returns its code. */
unsigned query_check_db(struct sess *s, const char *db);

#endif
