/* backend.h: the czar's pool of connections to its local MariaDB.
 *
 * The czar's own MariaDB (unix socket only) answers what needs no worker:
 * client probes (SELECT @@version_comment, DATABASE(), constant
 * expressions), SHOW / DESCRIBE of the published schema, and later the merge
 * step of distributed queries.  The pool holds at most `size` connections,
 * opened lazily; backend_get blocks while all are lent out, so 200 client
 * sessions share a few server threads.  A connection returned as broken is
 * closed and reopened on next use.  Thread-safe. */
#ifndef QSERV_CZAR_BACKEND_H
#define QSERV_CZAR_BACKEND_H

#include <stddef.h>

#include <mariadb/mysql.h>

struct backend_cfg {
	const char *socket;
	const char *user;
	const char *password;
	unsigned size;
};

struct backend;

struct backend_conn {
	MYSQL *my;
	char db[65];         /* database selected on this connection ("" none) */
	unsigned long thread_id;
};

/* Copies cfg; connects nothing yet.  Returns 0 or -ENOMEM. */
int backend_new(const struct backend_cfg *cfg, struct backend **ret);
void backend_free(struct backend *b);
/* Lends a connected connection, or returns NULL with the client error in
 * err (the server is down or refuses us). */
struct backend_conn *backend_get(struct backend *b, char *err, size_t errlen);
/* Gives it back; broken when its state is unknown (lost, interrupted). */
void backend_put(struct backend *b, struct backend_conn *c, int broken);
/* Makes db the current database of c ("" keeps none).  0 or the MariaDB
 * error number (message from mysql_error). */
unsigned backend_use_db(struct backend *b, struct backend_conn *c, const char *db);
/* Runs "KILL QUERY <thread_id>" on a connection of its own. */
int backend_kill_query(struct backend *b, unsigned long thread_id);

#endif
