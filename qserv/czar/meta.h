/* meta.h: what the czar knows about Qserv databases, tables, chunks and
 * workers -- a snapshot of qservMeta (qserv/controller/META.md).
 *
 * A struct meta is immutable once built and reference counted: a query
 * keeps the snapshot it was planned with while a newer one replaces it for
 * later queries (meta_get reloads at most every META_TTL_MS).  Only
 * published databases are in it.  Chunk lists are sorted ascending; every
 * chunk has at least one replica (a worker index), except lost chunks
 * (nworkers 0: their only worker was decommissioned by force, see
 * qservMeta.lost_chunks), which queries must refuse, never skip. */
#ifndef QSERV_CZAR_META_H
#define QSERV_CZAR_META_H

#include <stddef.h>
#include <stdint.h>

#include <mariadb/mysql.h>

#include "qserv/chunk/chunk.h"

#define META_TTL_MS 2000

struct meta_table {
	char name[65];
	int partitioned, director;
	char director_table[65];     /* directors: own name */
	char director_key[65];       /* directors: unique id; children: foreign key */
	char lat_key[65], lon_key[65];
	char chunk_key[65], sub_chunk_key[65];
	/* match tables (Qserv's ref-match tables; partitioned, not a
	 * director): director_table/director_key name the first director and
	 * the column holding its key, these the second; flag_key holds the
	 * partitioner's flags (bit 0: the first director's object is in this
	 * chunk, bit 1: the second's); ang_sep <= the overlap */
	int match;
	char director_table2[65], director_key2[65], flag_key[65];
	double ang_sep;
	char *schema_json;           /* [{"name":..,"type":..},...] as registered (owned) */
	char **cols;                 /* its column names, in order (owned; NULL if unknown) */
	size_t ncols;
};

struct meta_chunk {
	int32_t id;
	unsigned worker[4];          /* replicas: indexes into meta.workers */
	unsigned nworkers;
};

struct meta_db {
	char name[65];
	int32_t num_stripes, num_sub_stripes;
	double overlap;
	struct qchunk *chunker;
	struct meta_table *tables;
	size_t ntables;
	struct meta_chunk *chunks;   /* ascending id */
	size_t nchunks, cchunks;
};

struct meta_worker {
	char id[65];
	char host[256];
	int query_port;
};

struct meta {
	int refs;                    /* atomic */
	struct meta_db *dbs;
	size_t ndbs;
	struct meta_worker *workers;
	size_t nworkers;
};

/* Reads qservMeta through my.  An absent qservMeta is an empty snapshot.
 * 0 or -errno with err filled. */
int meta_load(MYSQL *my, struct meta **ret, char *err, size_t errlen);
struct meta *meta_ref(struct meta *m);
void meta_unref(struct meta *m);

/* Builders (tests, meta_load). */
struct meta *meta_new(void);
struct meta_db *meta_add_db(struct meta *m, const char *name, int32_t s, int32_t ss, double overlap,
			    char *err, size_t errlen);
struct meta_table *meta_add_table(struct meta_db *d, const char *name);
/* Sets t's schema (and column names) from the registered JSON. 0, -EINVAL, -ENOMEM. */
int meta_table_schema(struct meta_table *t, const char *schema_json);
int meta_add_worker(struct meta *m, const char *id, const char *host, int port);
int meta_add_chunk(struct meta_db *d, int32_t chunk, unsigned worker);
/* A chunk with no replica left (qservMeta.lost_chunks). */
int meta_add_lost_chunk(struct meta_db *d, int32_t chunk);
/* Sorts chunk lists; call once after the last meta_add_chunk. */
void meta_finish(struct meta *m);

/* A hash of the published databases, their tables and chunk ids (not of
 * replicas): equal for two snapshots of the same published catalog. */
uint64_t meta_fingerprint(const struct meta *m);

const struct meta_db *meta_find_db(const struct meta *m, const char *name);
const struct meta_table *meta_find_table(const struct meta_db *d, const char *name);
const struct meta_chunk *meta_find_chunk(const struct meta_db *d, int32_t id);

#endif
