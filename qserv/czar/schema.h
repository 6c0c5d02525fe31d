/* schema.h: the published Qserv schema, mirrored into the czar's MariaDB.
 *
 * For every published database and table in a metadata snapshot the czar
 * keeps an empty table of the same name and columns in its own MariaDB
 * (CREATE ... IF NOT EXISTS, MyISAM), so that USE, SHOW DATABASES, SHOW
 * TABLES, DESCRIBE and COM_FIELD_LIST answer as a client expects without
 * reaching a worker.  Column names must be identifiers and types may use
 * only [A-Za-z0-9_ (),'] -- anything else is skipped, never pasted into
 * SQL.  Returns the number of tables skipped (0 when all mirrored);
 * *ret_created counts the databases created by this call (the caller
 * grants them to the users' account, account.h). */
#ifndef QSERV_CZAR_SCHEMA_H
#define QSERV_CZAR_SCHEMA_H

#include <stddef.h>

#include <mariadb/mysql.h>

#include "meta.h"

int schema_sync(MYSQL *my, const struct meta *m, unsigned *ret_created, char *err, size_t errlen);

#endif
