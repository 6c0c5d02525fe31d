/* query.c: what the czar does with a client's statement (see query.h). */
#include "query.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <mariadb/mysql.h>
#include <mariadb/mysqld_error.h>

#include "myproto.h"
#include "relay.h"
#include "session.h"

static size_t first_word(const char *sql, size_t len, char *w, size_t cap)
{
	size_t i = 0, n = 0;

	while (i < len && isspace((unsigned char)sql[i]))
		i++;
	while (i < len && n + 1 < cap && isalpha((unsigned char)sql[i]))
		w[n++] = sql[i++];
	w[n] = 0;
	return n;
}

void query_run(struct sess *s, const char *sql, size_t len)
{
	char w[16];

	first_word(sql, len, w, sizeof(w));
	if (!strcasecmp(w, "SET")) {
		/* Session settings from client libraries (autocommit, names):
		 * the czar is read-only and always answers in utf8mb4. */
		myp_ok(&s->conn, 0, SERVER_STATUS_AUTOCOMMIT, NULL);
		return;
	}
	static const char *const refused[] = { "INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP",
		"ALTER", "TRUNCATE", "RENAME", "LOAD", "GRANT", "REVOKE", "CALL", "DO", "HANDLER", "LOCK",
		"UNLOCK", "FLUSH", "INSTALL", "UNINSTALL", "OPTIMIZE", "REPAIR", "ANALYZE", "PREPARE",
		"EXECUTE", "DEALLOCATE", "START", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "XA", NULL };
	size_t i;

	for (i = 0; refused[i]; i++)
		if (!strcasecmp(w, refused[i])) {
			myp_err(&s->conn, ER_NOT_SUPPORTED_YET, NULL,
				"qserv-czar is read-only and answers SELECT, SHOW and DESCRIBE; %s is refused", refused[i]);
			return;
		}
	if (strcasecmp(w, "SELECT") && strcasecmp(w, "SHOW") && strcasecmp(w, "DESCRIBE") &&
	    strcasecmp(w, "DESC")) {
		myp_err(&s->conn, ER_PARSE_ERROR, NULL,
			"You have an error in your SQL syntax near '%.40s' at line 1", sql);
		return;
	}
	relay_run(s, sql, len);
}

void query_field_list(struct sess *s, const char *arg, size_t len)
{
	char table[65];
	size_t n = strnlen(arg, len);

	if (n >= sizeof(table)) {
		myp_err(&s->conn, ER_NO_SUCH_TABLE, NULL, "Table name too long");
		return;
	}
	memcpy(table, arg, n);
	table[n] = 0;
	relay_field_list(s, table);
}

unsigned query_check_db(struct sess *s, const char *db)
{
	return relay_check_db(s, db);
}
