/* mariadb.h: the node's local MariaDB as one supervised service.
 *
 * /usr/lib/qserv/mariadb-run (in the image) initializes the data directory
 * on the pool the storage library chose and execs mariadbd on a unix socket.
 * The agent considers MariaDB ready once the socket answers with a server
 * greeting; only then does it start the role daemon. */
#ifndef AGENT_MARIADB_H
#define AGENT_MARIADB_H

#include <stdbool.h>
#include <stddef.h>

#define MARIADB_SOCKET "/run/mysqld/mysqld.sock"
#define MARIADB_RUN "/usr/lib/qserv/mariadb-run"

/* True when a server greeting (protocol version 10) arrives on the socket
 * within timeout_ms. */
bool mariadb_answers(const char *socket_path, int timeout_ms);

/* Runs the SQL files /usr/share/mysql/qserv_*.sql (the scisql UDF
 * registration) through the mariadb client as root on the socket, once per
 * data directory: a marker file "<datadir>/qserv-sql.applied" records it.
 * UDFs cannot be created in bootstrap mode, hence after start.  Returns 0,
 * or -EIO with err naming the file that failed. */
int mariadb_apply_sql(const char *socket_path, const char *datadir, char *err, size_t errlen);

#endif
