/* auth.h: the czar's users and mysql_native_password.
 *
 * The czar stores, per user, only SHA1(SHA1(password)) -- the same value
 * MySQL prints as PASSWORD('pw') = '*<40 hex digits>' -- never the password.
 * A client proves knowledge of SHA1(password) by sending
 * SHA1(pw) XOR SHA1(scramble . SHA1(SHA1(pw))) for the server's 20-byte
 * random scramble.  The users file holds "name:*HEX" lines (or "name:" for
 * an empty password), '#' comments and blank lines.  A third field lists
 * options, comma separated: "name:*HEX:require_ssl,admin,max_user_connections=N"
 *   require_ssl               plain-text logins refused (MySQL's REQUIRE SSL)
 *   admin                     sees and may KILL every session (PROCESS, SUPER)
 *   max_user_connections=N    this user's own session limit (0: the default)
 *   max_questions=N           statements per hour (MySQL's MAX_QUERIES_PER_HOUR; 0: none)
 *   max_connections_per_hour=N  logins per hour (0: none)
 *   locked                    logins refused (ALTER USER .. ACCOUNT LOCK, error 4151)
 *   restricted                reads only the databases granted to it (users.h);
 *                             without it a non-admin reads every catalog
 * The czar rewrites the file (auth_users_save: fsync, then an atomic
 * rename) when CREATE/DROP/ALTER USER or SET PASSWORD change it (users.h). */
#ifndef QSERV_CZAR_AUTH_H
#define QSERV_CZAR_AUTH_H

#include <stddef.h>

#define AUTH_SCRAMBLE_LEN 20
#define AUTH_HASH_LEN 20
#define AUTH_NAME_MAX 64

struct auth_user {
	char name[AUTH_NAME_MAX + 1];
	int has_password;
	unsigned char hash[AUTH_HASH_LEN];     /* SHA1(SHA1(pw)) when has_password */
	int require_ssl, admin;
	unsigned max_connections;              /* 0: the czar's --max-user-connections */
	unsigned max_questions;                /* statements per hour (0: no limit) */
	unsigned max_conn_hour;                /* logins per hour (0: no limit) */
	int locked;                            /* ACCOUNT LOCK */
	int restricted;                        /* reads granted databases only */
};

struct auth_users {
	struct auth_user *v;
	size_t n;
};

/* SHA1(SHA1(pw)) into ret_hash. */
void auth_hash_password(const char *pw, size_t len, unsigned char ret_hash[AUTH_HASH_LEN]);
/* "*" + 40 upper-case hex digits + NUL into ret (42 bytes). */
void auth_hash_format(const unsigned char hash[AUTH_HASH_LEN], char ret[42]);
/* Parses "*HEX40" (case-insensitive).  Returns 0 or -EINVAL. */
int auth_hash_parse(const char *s, unsigned char ret_hash[AUTH_HASH_LEN]);
/* Client side of the scramble, for tests: ret_token gets 20 bytes. */
void auth_native_token(const char *pw, size_t len, const unsigned char scramble[AUTH_SCRAMBLE_LEN],
		       unsigned char ret_token[AUTH_HASH_LEN]);
/* 1 when token (toklen bytes) proves u's password for scramble, else 0. */
int auth_native_check(const struct auth_user *u, const unsigned char scramble[AUTH_SCRAMBLE_LEN],
		      const unsigned char *token, size_t toklen);
/* Fills scramble with random printable-safe bytes (no NUL; clients
 * NUL-terminate it).  Returns 0 or -errno. */
int auth_scramble(unsigned char ret[AUTH_SCRAMBLE_LEN]);

/* Loads a users file.  On error returns -EINVAL/-errno and writes
 * "path:line: reason" into err; *ret is untouched. */
int auth_users_load(const char *path, struct auth_users *ret, char *err, size_t errlen);
void auth_users_free(struct auth_users *u);
const struct auth_user *auth_users_find(const struct auth_users *u, const char *name);
/* One users-file line of x (no newline) into line.  Returns its length,
 * or -ENOSPC when it does not fit. */
int auth_user_format(const struct auth_user *x, char *line, size_t len);
/* Writes every user to path (a temporary file next to it, fsync, rename,
 * fsync of the directory).  0, or -errno with err filled. */
int auth_users_save(const char *path, const struct auth_users *u, char *err, size_t errlen);

#endif
