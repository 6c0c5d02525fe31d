/* qlz4.h: reading LZ4-framed contribution files (qserv-partition's
 * out.lz4 output, chunk_<id>.txt.lz4) as a stream of plain bytes, in
 * bounded memory.  Errors: negative errno + err; no logging. */
#ifndef QSERV_QLZ4_H
#define QSERV_QLZ4_H

#include <stdbool.h>
#include <stddef.h>

/* True when the file open at fd starts with the LZ4 frame magic; the file
 * offset is restored. */
bool qlz4_is_frame(int fd);

/* Decompresses the LZ4 frames read from fd, calling cb for every piece of
 * output (cb returns 0 or a negative errno that stops the stream). */
int qlz4_stream(int fd, int (*cb)(void *ud, const char *data, size_t len), void *ud,
		char *err, size_t errlen);

/* Decompresses fd into out_fd; *ret_bytes (may be NULL) the plain size. */
int qlz4_decompress_fd(int fd, int out_fd, unsigned long long *ret_bytes, char *err, size_t errlen);

#endif
