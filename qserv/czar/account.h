/* account.h: the restricted MariaDB accounts the czar runs SQL as.
 *
 * Users' statements.  SHOW, DESCRIBE, COM_FIELD_LIST and SELECTs that
 * touch no partitioned table run on the czar's MariaDB, but not as the
 * czar's admin account: they run as qserv_sql_<port>@localhost
 * (cz->account_name; one per czar port, so two czars sharing a MariaDB
 * never reset each other's password), which the czar creates (or resets)
 * on its admin connection with a random password it keeps in memory only.
 * Its statements stop after cz->local_timeout seconds (MAX_STATEMENT_TIME,
 * MariaDB's error 1969), so none holds a pooled connection for ever.
 * The account holds SELECT and SHOW VIEW on the catalog databases (every
 * database but MariaDB's and the czar's own; granted with `_` and `%`
 * escaped, which are wildcards in a grant's database name) and
 * nothing else: no FILE, no PROCESS, no access to mysql, qservMeta,
 * qservResult, performance_schema or sys.  A database created later (a
 * newly published catalog's schema mirror) is granted when the mirror is
 * made (exec_meta calls account_grant_new), and the grant of a dropped
 * mirror (a catalog deleted or un-published) is revoked then too;
 * account_sync runs the same again when the account is refused something
 * (the relay retries once).
 *
 * Merges.  A distributed query's merge (its select list carries the
 * user's expressions) runs as qserv_merge_<port>@localhost (cz->merge_name,
 * random in-memory password too), which holds USAGE and CREATE TEMPORARY
 * TABLES on qservResult only: the query's rows are collected in a
 * TEMPORARY table of the account's own session (merge.h), and the merge
 * SELECT runs in that session.  MariaDB checks no privilege on a session's
 * own temporary table and shows it to no other session, so the account
 * reads that query's rows and nothing else, with no grant, no DDL on disk
 * and nothing left after a crash.  account_merge_start (czar start)
 * revokes everything else the account holds (an older czar's table grants
 * included).  No MAX_STATEMENT_TIME: a merge of a big query runs as long
 * as it did on the admin account (KILL QUERY still ends it).  The merge
 * SQL names one table, the czar's own (the parser refuses sub-queries).
 *
 * Locking: callers hold an admin connection before an account function
 * takes the module's lock, never the reverse, so no thread waits for a
 * connection while holding the lock. */
#ifndef QSERV_CZAR_ACCOUNT_H
#define QSERV_CZAR_ACCOUNT_H

#include <stddef.h>

#include <mariadb/mysql.h>

struct czar;

/* A fresh random password into ret (33 bytes).  0 or -errno. */
int account_password(char ret[33]);
/* Creates or resets the users' account with cz->account_pw (once, or
 * again when reset: the account refused our password), then grants what
 * it lacks on every catalog database and revokes its grants on databases
 * that are gone.  0, or -EIO with err filled. */
int account_sync(struct czar *cz, int reset, char *err, size_t errlen);
/* The same (without reset) on an admin connection the caller holds. */
int account_grant_new(struct czar *cz, MYSQL *admin, char *err, size_t errlen);

/* Creates or resets the merge account, revokes all it holds and grants
 * CREATE TEMPORARY TABLES on qservResult.  0 or -EIO. */
int account_merge_start(struct czar *cz, char *err, size_t errlen);
/* Creates the merge account if it is missing (MariaDB lost it, or was
 * down at start) with that grant, without touching sessions in flight. */
int account_merge_ensure(struct czar *cz, MYSQL *admin, char *err, size_t errlen);

#endif
