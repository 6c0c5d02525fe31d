/* index.h: sph-partition's object index (part.id / part.id-url).
 *
 * A director table partitioned with --part.id=ID next to --part.pos also
 * writes <out.dir>/<prefix>_object_index.txt: one "id chunkId subChunkId"
 * line per row (not per overlap copy), in the output dialect.  A child
 * table without position columns is then placed through that file:
 * --part.id=FOREIGN_KEY --part.id-url=file:///abs/path/chunk_object_index.txt.
 * This module loads such a file into memory (a hash table of the raw id
 * bytes -> chunk, sub-chunk; the whole index is held, as Qserv does). */
#ifndef QPART_INDEX_H
#define QPART_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "csv.h"

struct qpart_index;

/* Loads the index; url is "file:///absolute/path".  0 or a negative errno
 * with "file:line: reason" in err. */
int qpart_index_load(const char *url, const struct qpart_dialect *d, struct qpart_index **ret,
		     char *err, size_t errlen);

/* Looks an id (raw field bytes) up: 0 with the location, or -ENOENT. */
int qpart_index_find(const struct qpart_index *ix, const char *id, size_t len, int32_t *ret_chunk,
		     int32_t *ret_sub);

size_t qpart_index_size(const struct qpart_index *ix);
void qpart_index_free(struct qpart_index *ix);

#endif
