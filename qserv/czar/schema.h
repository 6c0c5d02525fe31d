/* schema.h: the published Qserv schema, mirrored into the czar's MariaDB.
 *
 * For every published database and table in a metadata snapshot the czar
 * keeps an empty table of the same name and columns in its own MariaDB
 * (CREATE ... IF NOT EXISTS, MyISAM), so that USE, SHOW DATABASES, SHOW
 * TABLES, DESCRIBE and COM_FIELD_LIST answer as a client expects without
 * reaching a worker.  Column names must be identifiers and types may use
 * only [A-Za-z0-9_ (),'] -- anything else is skipped, never pasted into
 * SQL.  A mirror whose catalog is no longer published (deleted, or
 * un-published) is dropped; only databases carrying the mirror comment
 * are ever dropped.  Returns the number of tables skipped (0 when all
 * mirrored); *ret_created and *ret_dropped count the databases created
 * and dropped by this call (the caller grants or revokes them for the
 * users' account, account.h). */
#ifndef QSERV_CZAR_SCHEMA_H
#define QSERV_CZAR_SCHEMA_H

#include <stddef.h>

#include <mariadb/mysql.h>

#include "meta.h"

/* The comment every mirror database carries (CREATE DATABASE ... COMMENT):
 * only databases with it are dropped here or granted to the users' account. */
#define SCHEMA_MIRROR_COMMENT "qserv-czar schema mirror"

int schema_sync(MYSQL *my, const struct meta *m, unsigned *ret_created, unsigned *ret_dropped, char *err,
		size_t errlen);

#endif
