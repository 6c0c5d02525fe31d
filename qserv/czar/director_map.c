/* director_map.c: the director indexes of published databases, in memory
 * (director_map.h): the loader thread, the sets it swaps in, bisection. */
#include "director_map.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mariadb/mysql.h>

#include "log.h"
#include "qserv/common/sqlid.h"

struct pair {
	int64_t key;
	int32_t chunk;
};

struct dir {
	char db[65], table[65];
	struct pair *v;               /* ascending key */
	size_t n;
};

/* What one load made: every director that fit, for one epoch. */
struct set {
	uint64_t epoch;
	struct dir *dirs;
	size_t ndirs;
	size_t keys, bytes, skipped;
};

struct dmap {
	struct backend *backend;
	size_t max_bytes;
	pthread_rwlock_t rw;          /* cur */
	struct set *cur;
	pthread_mutex_t mu;           /* want, want_epoch, stop, stats but those of cur */
	pthread_cond_t cv;
	struct meta *want;            /* the snapshot to load next (a reference) */
	uint64_t want_epoch;
	bool stop;
	pthread_t thread;
	unsigned long long hits, misses, loads;   /* atomic */
};

static void set_free(struct set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->ndirs; i++)
		free(s->dirs[i].v);
	free(s->dirs);
	free(s);
}

static int cmp_pair(const void *a, const void *b)
{
	int64_t x = ((const struct pair *)a)->key, y = ((const struct pair *)b)->key;
	return (x > y) - (x < y);
}

static bool int_column(enum enum_field_types t)
{
	return t == MYSQL_TYPE_TINY || t == MYSQL_TYPE_SHORT || t == MYSQL_TYPE_INT24 || t == MYSQL_TYPE_LONG ||
	       t == MYSQL_TYPE_LONGLONG;
}

/* The newest snapshot asked for moved past epoch: this load is moot. */
static bool superseded(struct dmap *d, uint64_t epoch)
{
	pthread_mutex_lock(&d->mu);
	bool moot = d->stop || d->want_epoch != epoch;
	pthread_mutex_unlock(&d->mu);
	return moot;
}

/* Reads director t of db into *o within *budget bytes: 0, or -1 (left
 * out: too big, a key not an integer, an error; logged). */
static int load_dir(MYSQL *my, const char *db, const struct meta_table *t, size_t *budget,
		    struct dir *o)
{
	char sql[400];
	long long count = -1;
	MYSQL_ROW row;
	MYSQL_RES *res;
	const char *why = NULL;

	memset(o, 0, sizeof *o);
	if (!sqlid_ok(t->director_key) || !sqlid_ok(t->name) || !sqlid_ok(db))
		return -1;        /* (registration refuses such names) */
	snprintf(o->db, sizeof o->db, "%s", db);
	snprintf(o->table, sizeof o->table, "%s", t->name);
	/* its size first (the index is MyISAM: an exact count for free), so
	 * an index too large is left out without reading a row of it */
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM qservMeta.`%s__%s`", db, t->name);
	if (!mysql_query(my, sql) && (res = mysql_store_result(my))) {
		if ((row = mysql_fetch_row(res)) && row[0])
			count = atoll(row[0]);
		mysql_free_result(res);
	}
	if (count < 0) {
		log_warn("director map: %s.%s: %s", db, t->name, mysql_error(my));
		return -1;
	}
	if ((unsigned long long)count > *budget / sizeof *o->v) {
		log_info("director map: %s.%s stays on SQL lookups: %lld keys, more than --director-map-mb holds",
			 db, t->name, count);
		return -1;
	}
	size_t slots = count ? (size_t)count : 1;   /* what the budget pays for */
	if (!(o->v = malloc(slots * sizeof *o->v)))
		return -1;
	snprintf(sql, sizeof sql, "SELECT `%s`, chunkId FROM qservMeta.`%s__%s`", t->director_key, db, t->name);
	res = mysql_query(my, sql) ? NULL : mysql_use_result(my);
	if (!res)
		why = mysql_error(my);
	else if (!int_column(mysql_fetch_fields(res)[0].type))
		why = "its key is not an integer column";
	while (!why && (row = mysql_fetch_row(res))) {
		if (!row[1])
			continue;
		if (o->n == (size_t)count)
			why = "keys were added while it was read";
		else if (!dmap_int_key(row[0], &o->v[o->n].key))
			why = "a key is not a 64-bit integer";
		else
			o->v[o->n++].chunk = (int32_t)atol(row[1]);
	}
	if (!why && mysql_errno(my))
		why = mysql_error(my);
	if (res)
		mysql_free_result(res);   /* reads what is left when stopped early (at most count rows) */
	if (why) {
		log_info("director map: %s.%s stays on SQL lookups: %s", db, t->name, why);
		free(o->v);
		o->v = NULL;
		o->n = 0;
		return -1;
	}
	qsort(o->v, o->n, sizeof *o->v, cmp_pair);
	*budget -= slots * sizeof *o->v;
	return 0;
}

/* Every director of snapshot m (NULL: none); NULL when superseded or out
 * of memory. */
static struct set *load_set(struct dmap *d, struct meta *m, uint64_t epoch)
{
	char err[256];
	struct set *s = calloc(1, sizeof *s);
	size_t budget = d->max_bytes, ndir = 0;
	struct backend_conn *bc = NULL;

	for (size_t i = 0; m && i < m->ndbs; i++)
		for (size_t j = 0; j < m->dbs[i].ntables; j++)
			ndir += m->dbs[i].tables[j].director && m->dbs[i].tables[j].director_key[0];
	if (!s || !(s->dirs = calloc(ndir ? ndir : 1, sizeof *s->dirs))) {
		free(s);
		return NULL;
	}
	s->epoch = epoch;
	if (!ndir)
		return s;                 /* no director: an empty set for this epoch */
	if (!(bc = backend_get(d->backend, err, sizeof err))) {
		log_warn("director map: no connection: %s", err);
		s->skipped = ndir;
		return s;
	}
	for (size_t i = 0; m && i < m->ndbs; i++) {
		for (size_t j = 0; j < m->dbs[i].ntables; j++) {
			const struct meta_table *t = &m->dbs[i].tables[j];
			if (!t->director || !t->director_key[0])
				continue;
			if (superseded(d, epoch)) {
				backend_put(d->backend, bc, 0);
				set_free(s);
				return NULL;
			}
			if (load_dir(bc->my, m->dbs[i].name, t, &budget, &s->dirs[s->ndirs]) == 0) {
				s->keys += s->dirs[s->ndirs].n;
				s->ndirs++;
			} else {
				s->skipped++;
			}
		}
	}
	s->bytes = d->max_bytes - budget;
	backend_put(d->backend, bc, mysql_errno(bc->my) >= 2000);
	return s;
}

static void *loader(void *arg)
{
	struct dmap *d = arg;

	pthread_mutex_lock(&d->mu);
	for (;;) {
		while (!d->stop && !d->want)
			pthread_cond_wait(&d->cv, &d->mu);
		if (d->stop)
			break;
		struct meta *m = d->want;
		uint64_t epoch = d->want_epoch;
		d->want = NULL;
		pthread_mutex_unlock(&d->mu);

		struct set *s = load_set(d, m, epoch), *old = NULL;
		meta_unref(m);
		if (s) {
			pthread_rwlock_wrlock(&d->rw);
			old = d->cur;
			d->cur = s;
			pthread_rwlock_unlock(&d->rw);
			__atomic_add_fetch(&d->loads, 1, __ATOMIC_RELAXED);
			log_info("director map: epoch %llu: %zu director(s), %zu keys, %zu bytes, %zu left on SQL",
				 (unsigned long long)epoch, s->ndirs, s->keys, s->bytes, s->skipped);
		}
		set_free(old);
		pthread_mutex_lock(&d->mu);
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

bool dmap_int_key(const char *s, int64_t *v)
{
	char *end;

	if (!s || !*s)
		return false;
	errno = 0;
	long long x = strtoll(s, &end, 10);
	if (errno || *end)
		return false;
	*v = x;
	return true;
}

int dmap_new(struct backend *b, size_t max_bytes, struct dmap **ret)
{
	*ret = NULL;
	if (!max_bytes)
		return 0;
	struct dmap *d = calloc(1, sizeof *d);
	if (!d)
		return -ENOMEM;
	d->backend = b;
	d->max_bytes = max_bytes;
	pthread_rwlock_init(&d->rw, NULL);
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	int r = pthread_create(&d->thread, NULL, loader, d);
	if (r) {
		pthread_rwlock_destroy(&d->rw);
		pthread_mutex_destroy(&d->mu);
		pthread_cond_destroy(&d->cv);
		free(d);
		return -r;
	}
	*ret = d;
	return 0;
}

void dmap_free(struct dmap *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->mu);
	d->stop = true;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
	pthread_join(d->thread, NULL);
	meta_unref(d->want);
	set_free(d->cur);
	pthread_rwlock_destroy(&d->rw);
	pthread_mutex_destroy(&d->mu);
	pthread_cond_destroy(&d->cv);
	free(d);
}

void dmap_kick(struct dmap *d, uint64_t epoch, struct meta *m)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->mu);
	meta_unref(d->want);
	d->want = m ? meta_ref(m) : NULL;
	d->want_epoch = epoch;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

static int find_in(const struct dir *r, int64_t key, int32_t *ret_chunk)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->v[mid].key == key) {
			*ret_chunk = r->v[mid].chunk;
			return 1;
		}
		if (r->v[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

int dmap_find(struct dmap *d, uint64_t epoch, const char *db, const char *table, int64_t key, int32_t *ret_chunk)
{
	int r = -1;

	if (!d)
		return -1;
	pthread_rwlock_rdlock(&d->rw);
	const struct set *s = d->cur;
	for (size_t i = 0; s && s->epoch == epoch && i < s->ndirs; i++)
		if (!strcmp(s->dirs[i].table, table) && !strcmp(s->dirs[i].db, db)) {
			r = find_in(&s->dirs[i], key, ret_chunk);
			break;
		}
	pthread_rwlock_unlock(&d->rw);
	__atomic_add_fetch(r < 0 ? &d->misses : &d->hits, 1, __ATOMIC_RELAXED);
	return r;
}

void dmap_get_stats(struct dmap *d, struct dmap_stats *ret)
{
	memset(ret, 0, sizeof *ret);
	if (!d)
		return;
	ret->hits = __atomic_load_n(&d->hits, __ATOMIC_RELAXED);
	ret->misses = __atomic_load_n(&d->misses, __ATOMIC_RELAXED);
	ret->loads = __atomic_load_n(&d->loads, __ATOMIC_RELAXED);
	pthread_rwlock_rdlock(&d->rw);
	if (d->cur) {
		ret->keys = d->cur->keys;
		ret->bytes = d->cur->bytes;
		ret->skipped = d->cur->skipped;
	}
	pthread_rwlock_unlock(&d->rw);
}
