/* relay.c: statements on the czar's MariaDB, answers relayed (see relay.h). */
#include "relay.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <mariadb/errmsg.h>
#include <mariadb/mysql.h>
#include <mariadb/mysqld_error.h>

#include "account.h"
#include "myproto.h"
#include "session.h"

#define RELAY_FLUSH_BYTES (64 * 1024)

static void forward_error(struct sess *s, MYSQL *my)
{
	unsigned code = mysql_errno(my);

	if (code >= CR_MIN_ERROR && code <= CR_MAX_ERROR)
		myp_err(&s->conn, ER_UNKNOWN_ERROR, NULL, "czar MariaDB: %s", mysql_error(my));
	else
		myp_err(&s->conn, code, mysql_sqlstate(my), "%s", mysql_error(my));
}

static int is_client_error(MYSQL *my)
{
	unsigned code = mysql_errno(my);
	return code >= CR_MIN_ERROR && code <= CR_MAX_ERROR;
}

/* The pool users' statements run on: the restricted account (account.h). */
static struct backend *users(struct czar *cz)
{
	return cz->user_backend ? cz->user_backend : cz->backend;
}

/* The account was refused a database or table: perhaps one created since
 * its last grants (a catalog just published).  1 when account_sync granted
 * something worth a retry. */
static int denied_sync(struct czar *cz, unsigned code)
{
	char err[256];

	if (!cz->user_backend || (code != ER_DBACCESS_DENIED_ERROR && code != ER_TABLEACCESS_DENIED_ERROR &&
				  code != ER_COLUMNACCESS_DENIED_ERROR && code != ER_ACCESS_DENIED_ERROR))
		return 0;
	return account_sync(cz, 0, err, sizeof(err)) == 0;
}

/* Runs sql; a statement the users' account is refused is run once more
 * when account_sync granted something (a catalog published since its
 * last grants).  MariaDB applies database-level privileges to a session
 * at its next USE, so the connection's database is selected again
 * before the retry.  0, or -1 with the error on bc->my. */
static int query_granting(struct czar *cz, struct backend_conn *bc, const char *sql, size_t len, int retry_denied)
{
	if (mysql_real_query(bc->my, sql, len) == 0)
		return 0;
	if (!retry_denied || !denied_sync(cz, mysql_errno(bc->my)))
		return -1;
	if (bc->db[0] && mysql_select_db(bc->my, bc->db) != 0)
		return -1;
	return mysql_real_query(bc->my, sql, len) == 0 ? 0 : -1;
}

/* A connection of the users' pool with db selected, or NULL after writing
 * the error. */
static struct backend_conn *lend(struct sess *s, const char *db)
{
	char err[256];
	struct backend *b = users(s->cz);
	struct backend_conn *bc = backend_get(b, err, sizeof(err));
	unsigned code;

	if (!bc && s->cz->user_backend && account_sync(s->cz, 1, err, sizeof(err)) == 0)
		bc = backend_get(b, err, sizeof(err));   /* MariaDB was down at start, or lost the account */
	if (!bc) {
		myp_err(&s->conn, ER_UNKNOWN_ERROR, NULL, "%s", err);
		return NULL;
	}
	code = backend_use_db(b, bc, db);
	if (code && denied_sync(s->cz, code))
		code = backend_use_db(b, bc, db);
	if (code == ER_DBACCESS_DENIED_ERROR)   /* missing, or internal: to the user alike */
		myp_err(&s->conn, ER_BAD_DB_ERROR, NULL, "Unknown database '%.64s'", db);
	else if (code)
		forward_error(s, bc->my);
	if (code) {
		backend_put(b, bc, is_client_error(bc->my));
		return NULL;
	}
	return bc;
}

static void field_to_column(const MYSQL_FIELD *f, struct myp_column *c)
{
	memset(c, 0, sizeof(*c));
	c->db = f->db;
	c->table = f->table;
	c->org_table = f->org_table;
	c->name = f->name;
	c->org_name = f->org_name;
	c->charset = f->charsetnr;
	c->length = (uint32_t)f->length;
	c->type = f->type;
	c->flags = f->flags;
	c->decimals = f->decimals;
}

/* Streams res to the client.  Returns a negative errno when the client
 * went away. */
static int relay_rows(struct sess *s, MYSQL *my, MYSQL_RES *res)
{
	unsigned i, n = mysql_num_fields(res);
	int rc;
	MYSQL_FIELD *fields = mysql_fetch_fields(res);
	struct myp_column col;
	MYSQL_ROW row;

	myp_column_count(&s->conn, n);
	for (i = 0; i < n; i++) {
		field_to_column(&fields[i], &col);
		myp_column(&s->conn, &col, 0);
	}
	myp_eof(&s->conn, s->status);
	while ((row = mysql_fetch_row(res))) {
		unsigned long *lens = mysql_fetch_lengths(res);
		myp_row(&s->conn, (const char *const *)row, lens, n);
		s->rows_sent++;
		for (unsigned k = 0; k < n; k++)
			s->bytes_sent += lens[k];
		if (s->conn.out.len >= RELAY_FLUSH_BYTES && (rc = pkt_flush(&s->conn)) < 0)
			return rc;
	}
	if (mysql_errno(my))
		forward_error(s, my);   /* an ERR replaces the final EOF */
	else
		myp_eof(&s->conn, s->status);
	return 0;
}

static int run_conn(struct sess *s, struct backend_conn *bc, const char *sql, size_t len, int retry_denied)
{
	MYSQL_RES *res;
	int broken = 0;

	pthread_mutex_lock(&s->cz->lock);
	s->backend_tid = bc->thread_id;
	pthread_mutex_unlock(&s->cz->lock);
	if (query_granting(s->cz, bc, sql, len, retry_denied) < 0) {
		forward_error(s, bc->my);
		broken = is_client_error(bc->my);
		goto out;
	}
	res = mysql_use_result(bc->my);
	if (!res) {
		if (mysql_errno(bc->my) == 0 && mysql_field_count(bc->my) == 0) {
			myp_ok(&s->conn, mysql_affected_rows(bc->my), s->status, NULL);
		} else {
			forward_error(s, bc->my);
			broken = is_client_error(bc->my);
		}
		goto out;
	}
	if (relay_rows(s, bc->my, res) < 0) {
		/* The client left mid-result: stop the statement, so freeing
		 * the result does not drain every remaining row. */
		backend_kill_query(s->cz->backend, bc->thread_id);
		broken = 1;
	} else {
		broken = is_client_error(bc->my);
	}
	mysql_free_result(res);
out:
	pthread_mutex_lock(&s->cz->lock);
	s->backend_tid = 0;
	pthread_mutex_unlock(&s->cz->lock);
	return broken;
}

int relay_run_conn(struct sess *s, struct backend_conn *bc, const char *sql, size_t len)
{
	return run_conn(s, bc, sql, len, 0);
}

void relay_run(struct sess *s, const char *sql, size_t len)
{
	struct backend_conn *bc;

	bc = lend(s, s->db);
	if (!bc)
		return;
	backend_put(users(s->cz), bc, run_conn(s, bc, sql, len, 1));
}

void relay_field_list(struct sess *s, const char *table)
{
	struct backend_conn *bc;
	MYSQL_RES *res;
	char sql[256];
	unsigned i, n;
	int broken = 0;

	if (strchr(table, '`') || strlen(table) > 64) {
		myp_err(&s->conn, ER_NO_SUCH_TABLE, NULL, "Table '%s.%.64s' doesn't exist", s->db, table);
		return;
	}
	if (!s->db[0]) {
		myp_err(&s->conn, ER_NO_DB_ERROR, NULL, "No database selected");
		return;
	}
	bc = lend(s, s->db);
	if (!bc)
		return;
	snprintf(sql, sizeof(sql), "SELECT * FROM `%s` LIMIT 0", table);
	if (query_granting(s->cz, bc, sql, strlen(sql), 1) < 0 || !(res = mysql_store_result(bc->my))) {
		forward_error(s, bc->my);
		broken = is_client_error(bc->my);
		goto out;
	}
	n = mysql_num_fields(res);
	for (i = 0; i < n; i++) {
		struct myp_column col;
		field_to_column(mysql_fetch_field_direct(res, i), &col);
		myp_column(&s->conn, &col, 1);
	}
	myp_eof(&s->conn, s->status);
	mysql_free_result(res);
out:
	backend_put(users(s->cz), bc, broken);
}

/* lend writes the error, if any. */
unsigned relay_check_db(struct sess *s, const char *db)
{
	struct backend_conn *bc;

	bc = lend(s, db);
	if (!bc)
		return ER_BAD_DB_ERROR;
	backend_put(users(s->cz), bc, 0);
	return 0;
}
