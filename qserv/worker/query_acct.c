/* query_acct.c: the least-privileged MariaDB account chunk queries run as.
 *
 * The czar's chunk queries are SQL the worker runs as given, so they run
 * as `qserv_query_<worker id>`@`localhost`, not as the worker's admin
 * account: SELECT on the catalog databases and the sub-chunk databases
 * (`Subchunks\_%`) only.  No FILE (LOAD_FILE, INTO OUTFILE/DUMPFILE are
 * refused by MariaDB), nothing on mysql.* or qservWorker, no write, no
 * PROCESS.  qserv-worker creates or updates it at start through its admin
 * connection, with a random password that lives only in this process's
 * memory (a new one at every start, so nothing is kept on disk), revokes
 * whatever it had and grants SELECT on every database qservWorker knows;
 * wmeta.c grants each database it creates afterwards (query_acct_grant).
 * The account is per worker id so two workers sharing one MariaDB (tests)
 * do not reset each other's password.
 *
 * Trade-off: per-database grants instead of SELECT ON *.* minus the system
 * schemas, which MariaDB cannot express (a global grant covers mysql.*). */
#include "worker.h"
#include "query.h"
#include "qserv/common/sqlid.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static struct {
	pthread_mutex_t mu;
	bool ready;
	char user[96], password[65];
	struct qsql_conf conf;
} acct = { .mu = PTHREAD_MUTEX_INITIALIZER };

static int make_password(char *out, size_t len)
{
	unsigned char b[24];
	if (len < 2 * sizeof b + 1 || getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
		return -EIO;
	for (size_t i = 0; i < sizeof b; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return 0;
}

/* GRANT SELECT ON one database: '_' is a wildcard in a GRANT's database
 * name (a catalog "mysq_" would cover mysql), so it goes escaped. */
static int grant_db(MYSQL *m, const char *db, char *err, size_t errlen)
{
	char esc[140];
	size_t n = 0;
	if (!sqlid_ok(db)) {
		snprintf(err, errlen, "database %s: not a valid name", db);
		return -EINVAL;
	}
	for (const char *p = db; *p && n + 3 < sizeof esc; p++) {
		if (*p == '_' || *p == '%')
			esc[n++] = '\\';
		esc[n++] = *p;
	}
	esc[n] = '\0';
	return qsql_exec(m, err, errlen, "GRANT SELECT ON `%s`.* TO '%s'@'localhost'", esc, acct.user) ? -EIO : 0;
}

/* GRANT SELECT on every database qservWorker knows (acct.mu held). */
static int grant_known(MYSQL *m, char *err, size_t errlen)
{
	MYSQL_RES *res = qsql_query(m, err, errlen, "SELECT db FROM qservWorker.tables UNION"
				    " SELECT db FROM qservWorker.chunks UNION SELECT db FROM qservWorker.dbs");
	MYSQL_ROW row;
	int r = 0;
	if (!res)
		return -EIO;
	while (!r && (row = mysql_fetch_row(res)))
		r = grant_db(m, row[0], err, errlen);
	mysql_free_result(res);
	return r;
}

int query_acct_setup(struct worker *w, const struct qsql_conf **ret_conf, char *err, size_t errlen)
{
	const char *id = w->id;
	char e2[256];
	int r = -EIO;
	if (strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != strlen(id) ||
	    strlen(id) > 64) {
		snprintf(err, errlen, "worker id %s: letters, digits, '_', '-' and '.' only", id);
		return -EINVAL;
	}
	MYSQL *m = qsql_connect(&w->sql, err, errlen);
	if (!m)
		return -EIO;
	pthread_mutex_lock(&acct.mu);
	snprintf(acct.user, sizeof acct.user, "qserv_query_%s", id);
	if (make_password(acct.password, sizeof acct.password)) {
		snprintf(err, errlen, "no random bytes for the query account's password");
		goto out;
	}
	if (qsql_exec(m, err, errlen, "CREATE USER IF NOT EXISTS '%s'@'localhost' IDENTIFIED BY '%s'",
		      acct.user, acct.password) ||
	    qsql_exec(m, err, errlen, "ALTER USER '%s'@'localhost' IDENTIFIED BY '%s'", acct.user, acct.password))
		goto out;
	/* nothing left from an older version of the account */
	qsql_exec(m, e2, sizeof e2, "REVOKE ALL PRIVILEGES, GRANT OPTION FROM '%s'@'localhost'", acct.user);
	if (qsql_exec(m, err, errlen, "GRANT SELECT ON `Subchunks\\_%%`.* TO '%s'@'localhost'", acct.user) ||
	    grant_known(m, err, errlen))
		goto out;
	acct.conf = (struct qsql_conf){ .socket = w->sql.socket, .user = acct.user, .password = acct.password };
	acct.ready = true;
	*ret_conf = &acct.conf;
	r = 0;
out:
	pthread_mutex_unlock(&acct.mu);
	mysql_close(m);
	return r;
}

int query_acct_grant(MYSQL *m, const char *db, char *err, size_t errlen)
{
	int r = 0;
	pthread_mutex_lock(&acct.mu);
	if (acct.ready)
		r = grant_db(m, db, err, errlen);
	pthread_mutex_unlock(&acct.mu);
	return r;
}
