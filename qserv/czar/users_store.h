/* users_store.h: the czar's roles and grants file, parsed and formatted.
 *
 * The file sits next to the users file (--users FILE: FILE.grants) and is
 * rewritten whole (fileio_write_atomic: fsync and an atomic rename) after
 * every CREATE/DROP ROLE, GRANT and REVOKE.  Lines, '#' comments and blank
 * lines aside:
 *   role NAME              a role (CREATE ROLE)
 *   member USER ROLE       GRANT ROLE TO USER
 *   select WHO DB          GRANT SELECT ON DB.* TO WHO (a user or a role);
 *                          DB "*" is GRANT SELECT ON *.*
 * Names follow the users file's rules: 1..64 bytes of ASCII letters,
 * digits and '_' (sqlid_ok), databases too (or "*").  A missing file is
 * an empty one. */
#ifndef QSERV_CZAR_USERS_STORE_H
#define QSERV_CZAR_USERS_STORE_H

#include <stddef.h>

#include "auth.h"
#include "buf.h"

struct users_member {
	char user[AUTH_NAME_MAX + 1], role[AUTH_NAME_MAX + 1];
};

struct users_priv {
	char who[AUTH_NAME_MAX + 1];
	char db[AUTH_NAME_MAX + 1];   /* "*": every database */
};

struct users_grants {
	char (*roles)[AUTH_NAME_MAX + 1];
	size_t nroles;
	struct users_member *members;
	size_t nmembers;
	struct users_priv *privs;
	size_t nprivs;
};

/* Parses the text of a grants file (NUL-terminated).  0, -ENOMEM, or
 * -EINVAL with "line N: why" in err; *ret untouched on error. */
int users_grants_parse(const char *text, struct users_grants *ret, char *err, size_t errlen);
/* Appends the file's text for g to out (oom latched in out). */
void users_grants_format(const struct users_grants *g, struct buf *out);
/* Reads path (missing: empty) / writes it durably.  0 or -errno with err. */
int users_grants_load(const char *path, struct users_grants *ret, char *err, size_t errlen);
int users_grants_save(const char *path, const struct users_grants *g, char *err, size_t errlen);
void users_grants_free(struct users_grants *g);

/* Index of the entry, or -1. */
long users_grants_role(const struct users_grants *g, const char *role);
long users_grants_member(const struct users_grants *g, const char *user, const char *role);
long users_grants_priv(const struct users_grants *g, const char *who, const char *db);
/* Appends (copies) one entry: 0 or -ENOMEM. */
int users_grants_add_role(struct users_grants *g, const char *role);
int users_grants_add_member(struct users_grants *g, const char *user, const char *role);
int users_grants_add_priv(struct users_grants *g, const char *who, const char *db);
/* Removes every entry naming who (as role, member, user or grantee). */
void users_grants_forget(struct users_grants *g, const char *who);

#endif
