/* chunkbuf.h: one chunk's answer held back until the chunk completed
 * (chunkbuf.c).
 *
 * The dispatcher keeps every ROWS payload of a chunk query here, as it
 * came off the wire (LZ4-compressed), and hands them to the result sink
 * only after the worker's END: a chunk that fails half-way (its worker
 * dies, falls silent, loses its MariaDB) is retried on another replica
 * with nothing of the failed attempt delivered, so a retry never
 * duplicates or loses rows.  Up to mem_max bytes stay in memory, and
 * no more than a budget shared by every buffer of the process (set with
 * chunkbuf_share: the bytes all of them hold in memory); past either,
 * the payloads go to an unlinked temporary file in spill_dir (so huge
 * chunks, or many at once, cost disk, not the czar's memory).  Payloads come back in
 * the order they were added.  Not thread-safe: one per chunk attempt. */
#ifndef QSERV_CZAR_CHUNKBUF_H
#define QSERV_CZAR_CHUNKBUF_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct chunkbuf {
	struct buf mem;              /* u32 length + payload, repeated */
	size_t mem_max;
	const char *spill_dir;
	int fd;                      /* the spill file, or -1 */
	uint64_t spilled;            /* bytes in it */
	uint64_t frames, bytes;      /* totals, memory and file */
	uint64_t *shared, shared_max;  /* the common budget (NULL: none), __atomic */
	size_t charged;              /* what this buffer holds of it */
};

/* spill_dir: where the temporary file goes (NULL: $TMPDIR or /tmp). */
void chunkbuf_init(struct chunkbuf *b, size_t mem_max, const char *spill_dir);
/* Counts this buffer's memory in *held (shared by all buffers, updated
 * atomically), and keeps it in memory only while *held stays <= max. */
void chunkbuf_share(struct chunkbuf *b, uint64_t *held, uint64_t max);
/* Appends one payload.  0, or a negative errno (-ENOMEM, a write error
 * of the spill file) with err filled. */
int chunkbuf_add(struct chunkbuf *b, const void *p, uint32_t len, char *err, size_t errlen);
/* Calls fn on each payload in order; stops at fn's first non-zero return
 * and returns it (0 after the last).  A read error of the spill file: a
 * negative errno with err filled. */
int chunkbuf_each(struct chunkbuf *b, int (*fn)(void *ctx, const void *p, uint32_t len), void *ctx, char *err,
		  size_t errlen);
/* Empties it for another attempt (the spill file is closed). */
void chunkbuf_reset(struct chunkbuf *b);
void chunkbuf_free(struct chunkbuf *b);

#endif
