/* lebuf.h: little-endian binary encoding for the byte protocols (MySQL's
 * client protocol in the czar, the czar <-> worker chunk-query messages).
 *
 * The lebuf_u* encoders append to a struct buf (buf.h: growable, oom
 * latched, so an encoder appends a whole message and tests oom once).
 * struct lerd reads a received payload: every
 * getter checks what is left first and latches err (-EBADMSG) on a short
 * field, returning 0 or NULL, so a decoder reads a whole message and tests
 * err once; nothing ever reads past len.  Nothing here logs. */
#ifndef QSERV_LEBUF_H
#define QSERV_LEBUF_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

void lebuf_u8(struct buf *b, unsigned v);
void lebuf_u16(struct buf *b, unsigned v);
void lebuf_u24(struct buf *b, uint32_t v);
void lebuf_u32(struct buf *b, uint32_t v);
void lebuf_u64(struct buf *b, uint64_t v);

struct lerd {
	const unsigned char *p;
	size_t len, off;
	int err;                     /* -EBADMSG once a getter ran past the end */
};

void lerd_init(struct lerd *r, const void *p, size_t len);
size_t lerd_remaining(const struct lerd *r);      /* 0 after an error */
/* Points at the next n bytes and steps over them (NULL: too few left). */
const unsigned char *lerd_take(struct lerd *r, size_t n);
unsigned lerd_u8(struct lerd *r);
unsigned lerd_u16(struct lerd *r);
uint32_t lerd_u32(struct lerd *r);
uint64_t lerd_u64(struct lerd *r);

#endif
