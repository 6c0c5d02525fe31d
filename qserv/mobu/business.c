/* business.c: the monkeys' businesses and their reference answers
 * (business.h).  An answer is compared as a multiset of rows: the sum of
 * each row's FNV-1a hash plus the row count, so the order of rows from
 * different chunks does not matter and a lost or doubled row does. */
#include "business.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mariadb/errmsg.h>

static const char *const names[] = { "lookup", "cone", "join", "scan", "async", "sql" };

int business_parse(const char *name, enum business_kind *ret)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i])) {
			*ret = (enum business_kind)i;
			return 0;
		}
	return -1;
}

const char *business_name(enum business_kind k)
{
	return names[k];
}

static uint64_t fnv(uint64_t h, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
	return h;
}

static uint64_t row_hash(char **row, unsigned long *len, unsigned n)
{
	uint64_t h = 14695981039346656037ULL;

	for (unsigned i = 0; i < n; i++) {
		h = row[i] ? fnv(h, row[i], len ? len[i] : strlen(row[i])) : fnv(h, "\\N", 2);
		h = fnv(h, "\t", 1);
	}
	return h;
}

static int lost_conn(MYSQL *my)
{
	unsigned e = mysql_errno(my);

	return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST || e == CR_CONNECTION_ERROR ||
	       e == CR_CONN_HOST_ERROR || e == CR_SERVER_LOST_EXTENDED || e == 1927 /* ER_CONNECTION_KILLED */;
}

/* Runs sql: 0 and the answer's hash (*h) and row count (*rows), or -1 with
 * MySQL's error in why.  first (may be NULL) gets the first row's first
 * column. */
static int run(MYSQL *my, const char *sql, uint64_t *h, long long *rows, char *first, size_t flen, int *lost,
	       char *why, size_t whylen)
{
	MYSQL_RES *res;
	MYSQL_ROW row;

	*h = 0;
	*rows = 0;
	if (first)
		first[0] = '\0';
	if (mysql_real_query(my, sql, strlen(sql)) != 0 || (!(res = mysql_store_result(my)) && mysql_field_count(my))) {
		snprintf(why, whylen, "ERROR %u: %s", mysql_errno(my), mysql_error(my));
		if (lost)
			*lost = lost_conn(my);
		return -1;
	}
	if (!res)
		return 0;
	while ((row = mysql_fetch_row(res))) {
		if (first && *rows == 0 && row[0])
			snprintf(first, flen, "%s", row[0]);
		*h += row_hash(row, mysql_fetch_lengths(res), mysql_num_fields(res));
		(*rows)++;
	}
	mysql_free_result(res);
	return 0;
}

static long long count_of(MYSQL *my, const char *sql, char *err, size_t errlen)
{
	char first[64];
	uint64_t h;
	long long rows;

	if (run(my, sql, &h, &rows, first, sizeof(first), NULL, err, errlen) < 0 || rows != 1)
		return -1;
	return strtoll(first, NULL, 10);
}

static int setup_samples(MYSQL *my, const struct catalog *c, struct reference *ref, char *err, size_t errlen)
{
	char sql[512];
	MYSQL_RES *res;
	MYSQL_ROW row;

	snprintf(sql, sizeof(sql), "SELECT `%s`, `%s`, `%s` FROM `%s` LIMIT %d", c->key, c->ra, c->decl, c->director,
		 SAMPLE_MAX);
	if (mysql_real_query(my, sql, strlen(sql)) != 0 || !(res = mysql_store_result(my))) {
		snprintf(err, errlen, "sampling %s: ERROR %u: %s", c->director, mysql_errno(my), mysql_error(my));
		return -1;
	}
	for (ref->n = 0; ref->n < SAMPLE_MAX && (row = mysql_fetch_row(res));)
		if (row[0] && row[1] && row[2]) {
			struct sample *s = &ref->s[ref->n++];
			snprintf(s->id, sizeof(s->id), "%s", row[0]);
			snprintf(s->ra, sizeof(s->ra), "%s", row[1]);
			snprintf(s->decl, sizeof(s->decl), "%s", row[2]);
		}
	mysql_free_result(res);
	if (ref->n == 0) {
		snprintf(err, errlen, "%s holds no object to sample", c->director);
		return -1;
	}
	return 0;
}

/* How many samples the cone and join businesses use (each costs a full
 * scan or a lookup at setup). */
#define REF_SAMPLES 16
static int nref(const struct reference *ref)
{
	return ref->n < REF_SAMPLES ? ref->n : REF_SAMPLES;
}

int business_setup(MYSQL *my, const struct catalog *c, struct reference *ref, char *err, size_t errlen)
{
	char sql[768], why[256];
	long long rows;

	if (setup_samples(my, c, ref, err, errlen) < 0)
		return -1;
	for (int i = 0; i < nref(ref); i++) {
		struct sample *s = &ref->s[i];
		snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM `%s` WHERE scisql_s2PtInCircle(`%s`, `%s`, %s, %s, %g) = 1",
			 c->director, c->ra, c->decl, s->ra, s->decl, c->cone_radius);
		if ((s->cone_count = count_of(my, sql, why, sizeof(why))) < 0) {
			snprintf(err, errlen, "cone reference: %s", why);
			return -1;
		}
		s->child_count = -1;
		if (c->child && c->child[0]) {
			snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM `%s` WHERE `%s` = %s", c->child, c->key, s->id);
			if ((s->child_count = count_of(my, sql, why, sizeof(why))) < 0) {
				snprintf(err, errlen, "join reference: %s", why);
				return -1;
			}
		}
	}
	snprintf(sql, sizeof(sql), "SELECT COUNT(*), MAX(`%s`) FROM `%s` WHERE `%s` > 0", c->decl, c->director, c->decl);
	ref->scan_ok = run(my, sql, &ref->scan_hash, &rows, NULL, 0, NULL, why, sizeof(why)) == 0;
	if (!ref->scan_ok) {
		snprintf(err, errlen, "scan reference: %s", why);
		return -1;
	}
	return 0;
}

static uint64_t sample_hash(const struct sample *s)
{
	char *row[3] = { (char *)s->id, (char *)s->ra, (char *)s->decl };

	return row_hash(row, NULL, 3);
}

/* SUBMIT, poll, read, delete: the three samples' rows. */
static int run_async(MYSQL *my, const struct catalog *c, const struct reference *ref, unsigned *seed, int *lost,
		     char *why, size_t whylen)
{
	const struct sample *s[3];
	char sql[512], id[32], status[32];
	uint64_t h, want = 0;
	long long rows;
	struct timespec nap = { 0, 20 * 1000000 };

	unsigned first = (unsigned)rand_r(seed);
	for (unsigned i = 0; i < 3; i++) {   /* three consecutive samples */
		s[i] = &ref->s[(first + i) % (unsigned)ref->n];
		want += sample_hash(s[i]);
	}
	if (s[0] == s[1] || s[1] == s[2] || s[0] == s[2])
		return 0;   /* fewer than 3 distinct samples: nothing to check */
	snprintf(sql, sizeof(sql), "SUBMIT SELECT `%s`, `%s`, `%s` FROM `%s` WHERE `%s` IN (%s, %s, %s)", c->key, c->ra,
		 c->decl, c->director, c->key, s[0]->id, s[1]->id, s[2]->id);
	if (run(my, sql, &h, &rows, id, sizeof(id), lost, why, whylen) < 0)
		return -1;
	for (int tries = 0;; tries++) {
		snprintf(sql, sizeof(sql), "SELECT STATUS FROM information_schema.queries WHERE ID = %s", id);
		if (run(my, sql, &h, &rows, status, sizeof(status), lost, why, whylen) < 0)
			return -1;
		if (strcmp(status, "EXECUTING") && status[0])
			break;
		if (tries >= 3000) {   /* 60 s */
			snprintf(why, whylen, "async query %s still %s after 60 s", id, status);
			return -1;
		}
		nanosleep(&nap, NULL);
	}
	if (strcmp(status, "COMPLETED")) {
		snprintf(why, whylen, "async query %s ended %s", id, status);
		return -1;
	}
	snprintf(sql, sizeof(sql), "SELECT * FROM qserv_result(%s)", id);
	if (run(my, sql, &h, &rows, NULL, 0, lost, why, whylen) < 0)
		return -1;
	if (rows != 3 || h != want) {
		snprintf(why, whylen, "async query %s: %lld row(s), not the 3 sampled objects", id, rows);
		return -1;
	}
	snprintf(sql, sizeof(sql), "CALL qserv_result_delete(%s)", id);
	return run(my, sql, &h, &rows, NULL, 0, lost, why, whylen);
}

static int check_count(long long got, long long want, const char *what, char *why, size_t whylen)
{
	if (got == want)
		return 0;
	snprintf(why, whylen, "wrong answer: %s counted %lld, the reference %lld", what, got, want);
	return -1;
}

static int run_sql(MYSQL *my, struct flock_sql *fs, int *lost, char *why, size_t whylen)
{
	uint64_t h;
	long long rows;
	int rc = 0;

	if (run(my, fs->statement, &h, &rows, NULL, 0, lost, why, whylen) < 0)
		return -1;
	pthread_mutex_lock(&fs->mu);
	if (!fs->have) {
		fs->have = true;
		fs->hash = h;
	} else if (fs->hash != h) {
		snprintf(why, whylen, "wrong answer: %lld row(s) unlike the statement's first answer", rows);
		rc = -1;
	}
	pthread_mutex_unlock(&fs->mu);
	return rc;
}

int business_run(MYSQL *my, enum business_kind k, const struct catalog *c, const struct reference *ref,
		 struct flock_sql *fs, unsigned *seed, int *lost, char *why, size_t whylen)
{
	const struct sample *s = &ref->s[rand_r(seed) % (unsigned)(k == BIZ_LOOKUP ? ref->n : nref(ref))];
	char sql[768], first[64];
	uint64_t h;
	long long rows;

	*lost = 0;
	switch (k) {
	case BIZ_LOOKUP:
		snprintf(sql, sizeof(sql), "SELECT `%s`, `%s`, `%s` FROM `%s` WHERE `%s` = %s", c->key, c->ra, c->decl,
			 c->director, c->key, s->id);
		if (run(my, sql, &h, &rows, NULL, 0, lost, why, whylen) < 0)
			return -1;
		if (rows != 1 || h != sample_hash(s)) {
			snprintf(why, whylen, "wrong answer: lookup of %s gave %lld row(s), not the sampled one", s->id, rows);
			return -1;
		}
		return 0;
	case BIZ_CONE:
		snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM `%s` WHERE qserv_areaspec_circle(%s, %s, %g)",
			 c->director, s->ra, s->decl, c->cone_radius);
		if (run(my, sql, &h, &rows, first, sizeof(first), lost, why, whylen) < 0)
			return -1;
		return check_count(strtoll(first, NULL, 10), s->cone_count, "a cone search", why, whylen);
	case BIZ_JOIN:
		snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM `%s` o JOIN `%s` s ON o.`%s` = s.`%s` WHERE o.`%s` = %s",
			 c->director, c->child, c->key, c->key, c->key, s->id);
		if (run(my, sql, &h, &rows, first, sizeof(first), lost, why, whylen) < 0)
			return -1;
		return check_count(strtoll(first, NULL, 10), s->child_count, "a director-child join", why, whylen);
	case BIZ_SCAN:
		snprintf(sql, sizeof(sql), "SELECT COUNT(*), MAX(`%s`) FROM `%s` WHERE `%s` > 0", c->decl, c->director,
			 c->decl);
		if (run(my, sql, &h, &rows, NULL, 0, lost, why, whylen) < 0)
			return -1;
		if (h != ref->scan_hash) {
			snprintf(why, whylen, "wrong answer: the scan differs from its reference");
			return -1;
		}
		return 0;
	case BIZ_ASYNC:
		return run_async(my, c, ref, seed, lost, why, whylen);
	case BIZ_SQL:
		return run_sql(my, fs, lost, why, whylen);
	}
	snprintf(why, whylen, "unknown business");
	return -1;
}
