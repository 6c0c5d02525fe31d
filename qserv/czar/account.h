/* account.h: the restricted MariaDB account users' local statements run as.
 *
 * SHOW, DESCRIBE, COM_FIELD_LIST and SELECTs that touch no partitioned
 * table run on the czar's MariaDB, but not as the czar's admin account:
 * they run as qserv_sql_<port>@localhost (cz->account_name; one per czar
 * port, so two czars sharing a MariaDB never reset each other's password),
 * which the czar creates (or resets) on its admin connection with a random
 * password it keeps in memory only.
 * Its statements stop after cz->local_timeout seconds (MAX_STATEMENT_TIME,
 * MariaDB's error 1969), so none holds a pooled connection for ever.
 * The account holds SELECT and SHOW VIEW on the catalog databases and
 * nothing else: no FILE, no PROCESS, no access to mysql, qservMeta,
 * qservResult, performance_schema or sys.  Databases created later (a
 * newly published catalog) are granted by account_sync, which the relay
 * calls when the account is refused something, then retries once. */
#ifndef QSERV_CZAR_ACCOUNT_H
#define QSERV_CZAR_ACCOUNT_H

#include <stddef.h>

struct czar;

/* A fresh random password into ret (33 bytes).  0 or -errno. */
int account_password(char ret[33]);
/* Creates or resets the account with cz->account_pw (once, or again when
 * reset: the account refused our password), then grants what it lacks on
 * every catalog database.  0, or -EIO with err filled.  Thread-safe
 * (serialised on an internal lock). */
int account_sync(struct czar *cz, int reset, char *err, size_t errlen);

#endif
