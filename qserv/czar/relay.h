/* relay.h: runs a statement on the czar's own MariaDB and relays the answer.
 *
 * The result set streams: rows are read with mysql_use_result and written
 * to the client in 64 KiB batches, so nothing is materialised on the czar.
 * MariaDB errors are forwarded with their code and SQLSTATE; Connector/C
 * (client side) failures become ER_UNKNOWN_ERROR naming the czar MariaDB. */
#ifndef QSERV_CZAR_RELAY_H
#define QSERV_CZAR_RELAY_H

#include <stddef.h>

struct sess;

void relay_run(struct sess *s, const char *sql, size_t len);
struct backend_conn;
/* The same on a connection the caller holds; returns 1 when the connection
 * must be discarded (broken), else 0. */
int relay_run_conn(struct sess *s, struct backend_conn *bc, const char *sql, size_t len);
/* COM_FIELD_LIST answer for table (column definitions, then EOF). */
void relay_field_list(struct sess *s, const char *table);
/* 0 when db exists on the czar MariaDB, else writes ERR and returns its code. */
unsigned relay_check_db(struct sess *s, const char *db);

#endif
