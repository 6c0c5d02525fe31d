/* business.h: what a qserv-mobu monkey does in its loop, and how it knows
 * the answer is right.  Every business checks answers, not only that a
 * statement returned:
 *
 *   lookup   SELECT id, ra, decl FROM <director> WHERE id = <a sampled id>:
 *            exactly the sampled row;
 *   cone     SELECT COUNT(*) ... WHERE qserv_areaspec_circle(ra, decl, r)
 *            around a sampled object: the count a full scan with
 *            scisql_s2PtInCircle gave at setup (another plan, same answer);
 *   join     the director joined with its child table for one sampled id:
 *            the count the child table alone gave at setup;
 *   scan     SELECT COUNT(*), MAX(decl) over the director with a filter:
 *            the answer at setup;
 *   async    SUBMIT of a lookup of three sampled ids, polled in
 *            information_schema.queries until COMPLETED, read with
 *            qserv_result(id), deleted: the three sampled rows;
 *   sql      a statement of the operator's (--flock NAME:sql:N:STATEMENT):
 *            the answer of its first success.
 *
 * The reference answers are taken once (business_setup) on a connection
 * of its own before the monkeys start; monkeys only read them. */
#ifndef QSERV_MOBU_BUSINESS_H
#define QSERV_MOBU_BUSINESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mariadb/mysql.h>

enum business_kind { BIZ_LOOKUP, BIZ_CONE, BIZ_JOIN, BIZ_SCAN, BIZ_ASYNC, BIZ_SQL };

/* The catalog the businesses read (qserv-gen's layout by default). */
struct catalog {
	const char *director, *key, *ra, *decl, *child;
	double cone_radius;         /* degrees */
};

#define SAMPLE_MAX 200

struct sample {
	char id[32], ra[40], decl[40];
	long long cone_count;       /* BIZ_CONE's reference */
	long long child_count;      /* BIZ_JOIN's reference */
};

struct reference {
	struct sample s[SAMPLE_MAX];
	int n;
	uint64_t scan_hash;
	bool scan_ok;
};

struct flock_sql {              /* BIZ_SQL: the statement and its first answer */
	char *statement;
	pthread_mutex_t mu;
	bool have;
	uint64_t hash;
};

int business_parse(const char *name, enum business_kind *ret);
const char *business_name(enum business_kind k);
/* Reference answers for every business (one connection, before the run):
 * 0, or -1 with err (no sampled object, a failed reference statement). */
int business_setup(MYSQL *my, const struct catalog *cat, struct reference *ref, char *err, size_t errlen);
/* One iteration with a random sample (seed: the monkey's own): 0 when the
 * answer is right, -1 with why (a MySQL error or a wrong answer); *lost is
 * set when the connection is gone and must be made again. */
int business_run(MYSQL *my, enum business_kind k, const struct catalog *cat, const struct reference *ref,
		 struct flock_sql *fs, unsigned *seed, int *lost, char *why, size_t whylen);

#endif
