/* account.c: the restricted MariaDB accounts of users' statements and of
 * merges (see account.h). */
#include "account.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "czar.h"
#include "tls.h"

static pthread_mutex_t account_lock = PTHREAD_MUTEX_INITIALIZER;
static int account_ready;        /* users' account created with the current password */

int account_password(char ret[33])
{
	return tls_random_hex(16, ret);
}

static int run(MYSQL *my, const char *sql, char *err, size_t errlen)
{
	if (mysql_query(my, sql) == 0)
		return 0;
	snprintf(err, errlen, "czar MariaDB: preparing a restricted account: %s", mysql_error(my));
	return -EIO;
}

/* CREATE and ALTER (password, statement time limit: 0 is none), then with
 * revoke_all REVOKE ALL: the account exists with nothing. */
static int create(MYSQL *my, const char *name, const char *pw, unsigned timeout, int revoke_all, char *err,
		  size_t errlen)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "CREATE USER IF NOT EXISTS '%s'@'localhost' IDENTIFIED BY '%s'", name, pw);
	if (run(my, sql, err, errlen) < 0)
		return -EIO;
	/* MAX_STATEMENT_TIME: a statement (SELECT SLEEP(1e9)) cannot hold
	 * one of the pool's few connections for ever */
	snprintf(sql, sizeof(sql), "ALTER USER '%s'@'localhost' IDENTIFIED BY '%s' WITH MAX_STATEMENT_TIME %u",
		 name, pw, timeout);
	if (run(my, sql, err, errlen) < 0)
		return -EIO;
	if (!revoke_all)
		return 0;
	/* also the table grants of dropped tables, which MariaDB keeps */
	snprintf(sql, sizeof(sql), "REVOKE ALL PRIVILEGES, GRANT OPTION FROM '%s'@'localhost'", name);
	return run(my, sql, err, errlen);
}

/* SELECT and SHOW VIEW on each catalog database the account lacks.  The
 * names come from the server; they are quoted with doubled backquotes. */
static int grant_missing(MYSQL *my, const char *account, char *err, size_t errlen)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	int rc = 0;
	char q[512];

	snprintf(q, sizeof(q), "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN "
		 "('mysql', 'information_schema', 'performance_schema', 'sys', 'qservMeta', 'qservResult', 'qservCzar') "
		 "AND REPLACE(REPLACE(SCHEMA_NAME, '_', '\\\\_'), '%%', '\\\\%%') NOT IN "
		 "(SELECT Db FROM mysql.db WHERE User = '%s' AND Host = 'localhost')", account);
	if (run(my, q, err, errlen) < 0 || !(res = mysql_store_result(my))) {
		snprintf(err, errlen, "czar MariaDB: listing databases: %s", mysql_error(my));
		return -EIO;
	}
	while ((row = mysql_fetch_row(res)) && rc == 0) {
		char sql[512], name[200];
		size_t i, n = 0;
		/* `_` and `%` are wildcards in a grant's database name: escaped,
		 * so a catalog `qservMet_` is not a grant on qservMeta */
		for (i = 0; row[0][i] && n + 2 < sizeof(name); i++) {
			if (row[0][i] == '`')
				name[n++] = '`';
			else if (row[0][i] == '_' || row[0][i] == '%')
				name[n++] = '\\';
			name[n++] = row[0][i];
		}
		name[n] = 0;
		snprintf(sql, sizeof(sql), "GRANT SELECT, SHOW VIEW ON `%s`.* TO '%s'@'localhost'", name, account);
		rc = run(my, sql, err, errlen);
	}
	mysql_free_result(res);
	return rc;
}

/* Revokes the account's grants on databases that are gone (a dropped
 * catalog mirror: MariaDB keeps mysql.db rows after DROP DATABASE, and a
 * database of the same name made later would be readable at once). */
static int revoke_gone(MYSQL *my, const char *account, char *err, size_t errlen)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	int rc = 0;
	char q[512];

	snprintf(q, sizeof(q), "SELECT Db FROM mysql.db WHERE User = '%s' AND Host = 'localhost' AND "
		 "REPLACE(REPLACE(Db, '\\\\_', '_'), '\\\\%%', '%%') NOT IN "
		 "(SELECT SCHEMA_NAME FROM information_schema.SCHEMATA)", account);
	if (run(my, q, err, errlen) < 0 || !(res = mysql_store_result(my))) {
		snprintf(err, errlen, "czar MariaDB: listing grants: %s", mysql_error(my));
		return -EIO;
	}
	while ((row = mysql_fetch_row(res)) && rc == 0) {
		char sql[512];
		if (strchr(row[0], '`') || strlen(row[0]) > 64)
			continue;          /* never one of our grants */
		snprintf(sql, sizeof(sql), "REVOKE ALL PRIVILEGES ON `%s`.* FROM '%s'@'localhost'", row[0], account);
		rc = run(my, sql, err, errlen);
	}
	mysql_free_result(res);
	return rc;
}

static int sync_on(struct czar *cz, MYSQL *my, int reset, char *err, size_t errlen)
{
	int rc;

	pthread_mutex_lock(&account_lock);
	if (reset)
		account_ready = 0;
	rc = account_ready ? 0 : create(my, cz->account_name, cz->account_pw, cz->local_timeout, 1, err, errlen);
	if (rc == 0)
		account_ready = 1;
	if (rc == 0)
		rc = grant_missing(my, cz->account_name, err, errlen);
	if (rc == 0)
		rc = revoke_gone(my, cz->account_name, err, errlen);
	pthread_mutex_unlock(&account_lock);
	return rc;
}

int account_grant_new(struct czar *cz, MYSQL *admin, char *err, size_t errlen)
{
	return sync_on(cz, admin, 0, err, errlen);
}

int account_sync(struct czar *cz, int reset, char *err, size_t errlen)
{
	struct backend_conn *bc = backend_get(cz->backend, err, errlen);
	int rc;

	if (!bc)
		return -EIO;
	rc = sync_on(cz, bc->my, reset, err, errlen);
	backend_put(cz->backend, bc, mysql_errno(bc->my) >= 2000);
	return rc;
}

/* The merge account as account.h says: made (cleared of everything else
 * when revoke_all), then allowed its session's own result tables. */
static int merge_account(struct czar *cz, MYSQL *my, int revoke_all, char *err, size_t errlen)
{
	char sql[256];

	if (create(my, cz->merge_name, cz->merge_pw, 0, revoke_all, err, errlen) < 0)
		return -EIO;
	snprintf(sql, sizeof(sql), "GRANT CREATE TEMPORARY TABLES ON `qservResult`.* TO '%s'@'localhost'",
		 cz->merge_name);
	return run(my, sql, err, errlen);
}

int account_merge_start(struct czar *cz, char *err, size_t errlen)
{
	struct backend_conn *bc = backend_get(cz->backend, err, errlen);
	int rc;

	if (!bc)
		return -EIO;
	pthread_mutex_lock(&account_lock);
	rc = merge_account(cz, bc->my, 1, err, errlen);
	pthread_mutex_unlock(&account_lock);
	backend_put(cz->backend, bc, mysql_errno(bc->my) >= 2000);
	return rc;
}

int account_merge_ensure(struct czar *cz, MYSQL *admin, char *err, size_t errlen)
{
	int rc;

	pthread_mutex_lock(&account_lock);
	/* called when the account refused our login: make it exist with our
	 * password again, without touching sessions in flight */
	rc = merge_account(cz, admin, 0, err, errlen);
	pthread_mutex_unlock(&account_lock);
	return rc;
}
