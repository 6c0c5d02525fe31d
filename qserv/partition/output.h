/* output.h: the chunk files of one partitioning run.
 *
 * <dir>/<prefix>_<chunkId>.txt holds a chunk's own rows and
 * <dir>/<prefix>_<chunkId>_overlap.txt its overlap rows (with LZ4 on, the
 * same names plus ".lz4", each file a sequence of LZ4 frames that `lz4 -d`
 * reads as one stream).  Files are opened for appending, so a data set can
 * be built up by several runs over disjoint inputs, as with sph-partition.
 * qpart_out_write() is thread-safe; a bounded cache of open descriptors
 * keeps a run over thousands of chunks from exhausting file descriptors. */
#ifndef QPART_OUTPUT_H
#define QPART_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct qpart_out;

/* Creates dir (and parents) if needed.  With num_nodes > 1 the files of
 * a chunk go to dir/node_NNNNN/, NNNNN = hash(chunkId) % num_nodes with
 * Qserv's 32-bit Mulvey hash, as sph-partition's out.num-nodes does.
 * 0 or -errno (message in err). */
int qpart_out_open(const char *dir, const char *prefix, bool lz4, uint32_t num_nodes,
		   struct qpart_out **ret, char *err, size_t errlen);

/* Qserv's hash of a chunk id (src/partition/Hash.h). */
uint32_t qpart_hash32(uint32_t x);

/* Appends len bytes holding rows whole rows to a chunk's file.  0 or
 * -errno (message in err naming the file). */
int qpart_out_write(struct qpart_out *out, int32_t chunk_id, bool overlap, const char *data,
		    size_t len, uint64_t rows, char *err, size_t errlen);

/* Number of distinct chunks that received own rows / overlap rows. */
size_t qpart_out_num_chunks(const struct qpart_out *out, bool overlap);

/* Calls fn for every chunk written, ascending, with its own and overlap row
 * counts. */
void qpart_out_foreach(const struct qpart_out *out,
		       void (*fn)(void *ctx, int32_t chunk_id, uint64_t rows, uint64_t overlap_rows),
		       void *ctx);

/* Closes every file.  0 or the first close error (-errno, message in
 * err).  Frees out in all cases. */
int qpart_out_close(struct qpart_out *out, char *err, size_t errlen);

#endif
