/* index_cache.c: the director-index cache (see index_cache.h).
 *
 * slots[] holds nsets * WAYS entries; a key's set is its FNV-1a hash
 * modulo nsets.  An entry is live when key != NULL; its epoch decides
 * whether a lookup may use it (an entry of an older epoch is a miss and
 * the first to be replaced). */
#include "index_cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define WAYS 4

struct entry {
	uint64_t hash, epoch;
	char *key;
	int32_t chunk;
	unsigned char ref;
};

struct index_cache {
	pthread_mutex_t lock;
	size_t nsets;
	struct entry *slots;
	struct index_cache_stats stats;
};

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

int index_cache_new(size_t cap, struct index_cache **ret)
{
	struct index_cache *c;

	*ret = NULL;
	if (!cap)
		return 0;
	if (!(c = calloc(1, sizeof(*c))))
		return -ENOMEM;
	c->nsets = (cap + WAYS - 1) / WAYS;
	if (!(c->slots = calloc(c->nsets * WAYS, sizeof(*c->slots)))) {
		free(c);
		return -ENOMEM;
	}
	pthread_mutex_init(&c->lock, NULL);
	*ret = c;
	return 0;
}

void index_cache_free(struct index_cache *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->nsets * WAYS; i++)
		free(c->slots[i].key);
	pthread_mutex_destroy(&c->lock);
	free(c->slots);
	free(c);
}

int index_cache_get(struct index_cache *c, uint64_t epoch, const char *key, int32_t *ret_chunk)
{
	uint64_t h;
	struct entry *set;
	int hit = 0;
	unsigned w;

	if (!c)
		return 0;
	h = fnv(key);
	set = &c->slots[(h % c->nsets) * WAYS];
	pthread_mutex_lock(&c->lock);
	for (w = 0; w < WAYS; w++)
		if (set[w].key && set[w].hash == h && set[w].epoch == epoch && !strcmp(set[w].key, key)) {
			set[w].ref = 1;
			*ret_chunk = set[w].chunk;
			hit = 1;
			break;
		}
	if (hit)
		c->stats.hits++;
	else
		c->stats.misses++;
	pthread_mutex_unlock(&c->lock);
	return hit;
}

/* The way to fill: the key's own, a free or stale one, else the clock's pick. */
static struct entry *victim(struct entry *set, uint64_t h, uint64_t epoch, const char *key)
{
	unsigned w;

	for (w = 0; w < WAYS; w++)
		if (set[w].key && set[w].hash == h && !strcmp(set[w].key, key))
			return &set[w];
	for (w = 0; w < WAYS; w++)
		if (!set[w].key || set[w].epoch != epoch)
			return &set[w];
	for (w = 0; w < 2 * WAYS; w++) {
		struct entry *e = &set[w % WAYS];
		if (!e->ref)
			return e;
		e->ref = 0;
	}
	return &set[0];
}

void index_cache_put(struct index_cache *c, uint64_t epoch, const char *key, int32_t chunk)
{
	uint64_t h;
	struct entry *set, *e;
	char *copy;

	if (!c || !(copy = strdup(key)))
		return;
	h = fnv(key);
	set = &c->slots[(h % c->nsets) * WAYS];
	pthread_mutex_lock(&c->lock);
	e = victim(set, h, epoch, key);
	if (!e->key)
		c->stats.entries++;
	free(e->key);
	*e = (struct entry){ .hash = h, .epoch = epoch, .key = copy, .chunk = chunk, .ref = 0 };
	c->stats.fills++;
	pthread_mutex_unlock(&c->lock);
}

void index_cache_get_stats(struct index_cache *c, struct index_cache_stats *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	*ret = c->stats;
	pthread_mutex_unlock(&c->lock);
}
