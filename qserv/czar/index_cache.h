/* index_cache.h: director-index answers kept in memory.
 *
 * A point lookup (`objectId = v`) asks the director index of the czar's
 * MariaDB which chunk holds v; the answer is kept here, keyed by the
 * lookup's SQL text (database, index table, key and value all in it), so
 * the next lookup of v skips the round trip.  Only single-chunk answers
 * of an equality are kept: a key not found (yet) is asked again, and an
 * IN list or a range may gain rows with a later transaction.
 *
 * Safety: the czar serves published databases only, and a published
 * database takes no transaction (qserv/controller/META.md), so a key's
 * chunk cannot change while its database stays published.  Every entry
 * carries the epoch it was filled in; exec.c bumps the epoch on every
 * metadata notice (notify.h) and on every snapshot reload whose published
 * databases differ from the previous snapshot's (meta_fingerprint), so an
 * unpublished, dropped or re-published database never answers from here.
 *
 * Bounded: `cap` entries (--index-cache), 4-way set associative with a
 * clock bit per entry (a hit sets it; a fill takes the first way whose bit
 * is clear, clearing the bits it passes).  One mutex; nothing under it but
 * memory work. */
#ifndef QSERV_CZAR_INDEX_CACHE_H
#define QSERV_CZAR_INDEX_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct index_cache;

struct index_cache_stats {
	unsigned long long hits, misses, fills, entries;
};

/* cap 0: no cache (NULL, every call a no-op). */
int index_cache_new(size_t cap, struct index_cache **ret);
void index_cache_free(struct index_cache *c);
/* 1 and *ret_chunk when key was filled in epoch, else 0. */
int index_cache_get(struct index_cache *c, uint64_t epoch, const char *key, int32_t *ret_chunk);
void index_cache_put(struct index_cache *c, uint64_t epoch, const char *key, int32_t chunk);
void index_cache_get_stats(struct index_cache *c, struct index_cache_stats *ret);

#endif
