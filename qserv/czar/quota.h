/* quota.h: per-user quotas of the czar, as Rubin's Gafaelfawr keeps them.
 *
 * Four quotas, counted per user over a fixed window (default 900 s):
 *   queries       statements that read a table (SELECT with FROM, SUBMIT)
 *   scans         distributed queries with no spatial restrictor and no
 *                 director-key predicate (every chunk of a table)
 *   concurrent    statements running at once (a level, not a count)
 *   result_bytes  result value bytes sent to the user
 * The configuration: a default entry, an entry per group (a SQL role) and
 * an override per user, each {"queries","scans","concurrent",
 * "result_bytes","window"} with any field absent (unset).  A user's limit
 * of one quota is its override's value when set; else, as Gafaelfawr adds
 * them, the default's value plus the sum of its groups' grants, counting
 * only the entries that set it; no entry setting it: unlimited.  A limit
 * of 0 is an administrative block.  The window: the user's override, else
 * its first group saying one, else the default's, else the czar's
 * --quota-window.
 *
 * A user's window starts at its first charge and ends window seconds
 * later (then the counts restart); concurrent is never reset by it.
 * Trade-offs: fixed windows rather than sliding ones (one start time per
 * user, the reset time is exact to tell the user); entries and users are
 * arrays searched linearly (tens of groups, hundreds of users).
 *
 * The configuration is kept in a JSON file (the czar's data disk, next to
 * its users file) rewritten with fsync + rename at each change, so a
 * restart keeps it; usage lives in memory only.  struct quota has its own
 * lock; every function is thread-safe.  These functions never log. */
#ifndef QSERV_CZAR_QUOTA_H
#define QSERV_CZAR_QUOTA_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

enum quota_kind { QUOTA_QUERIES, QUOTA_SCANS, QUOTA_CONCURRENT, QUOTA_RESULT_BYTES, QUOTA_NKINDS };

/* "queries", "scans", "concurrent", "result_bytes" */
extern const char *const quota_names[QUOTA_NKINDS];

#define QUOTA_UNSET (-1)
#define QUOTA_NAME_MAX 64
#define QUOTA_DEFAULT_WINDOW 900

/* One entry of the configuration: QUOTA_UNSET or a value >= 0. */
struct quota_limits {
	int64_t v[QUOTA_NKINDS];
	int64_t window;               /* seconds (>= 1), or QUOTA_UNSET */
};

/* Why quota_admit refused. */
struct quota_refusal {
	enum quota_kind kind;
	int blocked;                  /* its limit is 0 */
	int64_t limit;
	unsigned window_s;
	unsigned resets_in_s;         /* 0 for concurrent (a slot frees when a statement ends) */
};

/* One quota of one user, for SHOW QUOTA and GET /quota. */
struct quota_row {
	int64_t limit;                /* QUOTA_UNSET: unlimited */
	uint64_t used;
	unsigned window_s, resets_in_s;
};

struct quota;

/* What quota_admit charges. */
#define QUOTA_ADMIT_QUERY 1u      /* one query and one concurrent slot (quota_release) */
#define QUOTA_ADMIT_SCAN 2u       /* one scan */

/* Loads path (a missing file: no quotas) with window_s as the window
 * when no entry says one.  0 and *ret, or -errno with err. */
int quota_open(const char *path, unsigned window_s, struct quota **ret, char *err, size_t errlen);
void quota_free(struct quota *q);

/* Charges what (QUOTA_ADMIT_*) to user (member of groups[0..ngroups)) when
 * every quota it touches allows it: 0; else -EDQUOT and *ret (nothing
 * charged).  A query is also refused once result_bytes are used up. */
int quota_admit(struct quota *q, const char *user, const char *const *groups, size_t ngroups, unsigned what,
		struct quota_refusal *ret);
/* Gives back the concurrent slot a QUOTA_ADMIT_QUERY took. */
void quota_release(struct quota *q, const char *user);
/* Counts n result bytes sent to user (groups as quota_admit's, for the
 * window a first charge begins). */
void quota_charge_bytes(struct quota *q, const char *user, const char *const *groups, size_t ngroups, uint64_t n);
/* user's four quotas now. */
void quota_status(struct quota *q, const char *user, const char *const *groups, size_t ngroups,
		  struct quota_row ret[QUOTA_NKINDS]);

/* Sets an entry (scope "default", "group" or "user"; name NULL for the
 * default) from a JSON object body: replace 1 drops the fields it lacks
 * (PUT), else only its fields change (POST); a field null unsets.  The
 * file is rewritten.  0, -EINVAL (bad scope/name/body, err says which),
 * or -errno of the write (the change is then undone). */
int quota_set(struct quota *q, const char *scope, const char *name, const json_t *body, int replace, char *err,
	      size_t errlen);
/* Removes a group or user entry: 0, -ENOENT, -EINVAL, or -errno of the write. */
int quota_delete(struct quota *q, const char *scope, const char *name, char *err, size_t errlen);
/* The configuration as stored: {"window": s, "default": {...}, "groups":
 * {name: {...}}, "users": {name: {...}}} (new reference, NULL on OOM). */
json_t *quota_config_json(struct quota *q);
/* The users with usage (names into a new array of strings, NULL on OOM). */
json_t *quota_users_json(struct quota *q);

/* ---- quota_json.c: an entry to and from JSON ------------------------- */

/* body's fields into *l (replace: start from all unset): 0 or -EINVAL
 * with err naming the field. */
int quota_limits_parse(const json_t *body, int replace, struct quota_limits *l, char *err, size_t errlen);
/* l as an object of its set fields (new reference). */
json_t *quota_limits_json(const struct quota_limits *l);
/* 1 when name may name a user or group (1..64 bytes of [A-Za-z0-9_.@-]). */
int quota_name_ok(const char *name);

#endif
