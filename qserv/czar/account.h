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
 * Merges.  A distributed query's merge SELECT (its select list carries the
 * user's expressions) runs as qserv_merge_<port>@localhost (cz->merge_name,
 * random in-memory password too), which holds USAGE only, plus SELECT on
 * qservResult.r_<qid> while that query's merge runs: account_merge_grant
 * before the SELECT, account_merge_revoke after, both on the admin
 * connection that created the table.  MariaDB keeps a table grant after
 * DROP TABLE (mysql.tables_priv), so the revoke comes before the drop, and
 * account_merge_start (czar start) revokes everything the account holds,
 * which clears what a crashed czar left.  No MAX_STATEMENT_TIME: a merge
 * of a big query runs as long as it did on the admin account (KILL QUERY
 * still ends it).  Trade-off not taken: one account per query (CREATE USER
 * and a fresh login per merge); the shared account can read the result
 * table of another query only while that one merges too, and the merge
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

/* Creates or resets the merge account and revokes all it holds.  0 or -EIO. */
int account_merge_start(struct czar *cz, char *err, size_t errlen);
/* Creates the merge account if it is missing (MariaDB lost it, or was
 * down at start), without touching the grants of merges in flight. */
int account_merge_ensure(struct czar *cz, MYSQL *admin, char *err, size_t errlen);
/* SELECT on qservResult.<table> to the merge account, and back. */
int account_merge_grant(struct czar *cz, MYSQL *admin, const char *table, char *err, size_t errlen);
int account_merge_revoke(struct czar *cz, MYSQL *admin, const char *table, char *err, size_t errlen);

#endif
