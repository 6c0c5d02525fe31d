/* director_map.h: the director indexes of published databases, in memory.
 *
 * A point lookup (`key = v` or `key IN (v, ...)` on a director key or a
 * child's foreign key, integer literals) needs the chunk holding v.  The
 * director index is a MyISAM table of the czar's MariaDB
 * (qservMeta.<db>__<director>, qserv/controller/ctrans.c); asking it costs
 * a round trip and that MariaDB's CPU on every lookup, the largest stage
 * of a lookup before this (docs/benchmarks.md).  Here each published
 * director's (key, chunk) pairs are one array sorted by key, read by a
 * loader thread after the published catalog changed (dmap_kick, from
 * exec.c's snapshot reload) and searched by bisection.
 *
 * Bounded: at most max_bytes for all directors together (--director-map-mb,
 * 16 bytes a key); a director that does not fit, or whose keys are not
 * integers, stays on the SQL lookup (and index_cache.h), as does every
 * lookup while a load runs.  A lookup never waits for a load: the loader
 * builds a whole new set of arrays and swaps it in under the write lock.
 *
 * Safety as index_cache.h's: a published database takes no transaction
 * (qserv/controller/META.md), so its index does not change while it stays
 * published; a set is tagged with the epoch (cz->index_epoch) of the
 * snapshot it was loaded for and answers only while the caller's epoch is
 * that one, so an unpublished, dropped or re-published database never
 * answers from here.  A key absent from a loaded director is in no chunk. */
#ifndef QSERV_CZAR_DIRECTOR_MAP_H
#define QSERV_CZAR_DIRECTOR_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "meta.h"

struct dmap;

struct dmap_stats {
	unsigned long long hits;      /* keys answered here */
	unsigned long long misses;    /* keys sent to the SQL lookup (director not loaded) */
	unsigned long long loads;     /* sets loaded */
	unsigned long long keys, bytes;   /* held now */
	unsigned long long skipped;   /* directors left out of the last set (too big, not integers, errors) */
};

/* max_bytes 0: off (*ret NULL, every call a no-op or -1).  The loader reads
 * through connections of b. */
int dmap_new(struct backend *b, size_t max_bytes, struct dmap **ret);
void dmap_free(struct dmap *d);
/* The published catalog of snapshot m (a reference is taken) is that of
 * epoch: load its directors (in the background; a later kick wins). */
void dmap_kick(struct dmap *d, uint64_t epoch, struct meta *m);
/* For key of director table of db in epoch: 1 and *ret_chunk (found),
 * 0 (in no chunk), -1 (not known here: ask the director index). */
int dmap_find(struct dmap *d, uint64_t epoch, const char *db, const char *table, int64_t key, int32_t *ret_chunk);
void dmap_get_stats(struct dmap *d, struct dmap_stats *ret);
/* A key as the map holds it: s, all of it, a decimal 64-bit integer. */
bool dmap_int_key(const char *s, int64_t *v);

#endif
