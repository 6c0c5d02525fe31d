/* frame.h: length-prefixed, length-checked messages over any byte stream.
 *
 * A frame is an 8-byte header then `len` payload bytes:
 *     'Q' 'F'  type(u8)  flags(u8)  len(u32, big-endian)
 * The magic catches a peer speaking something else (an HTTP client, a TLS
 * record on a plain socket) with a clear error instead of a huge length.
 * Every reader passes the maximum payload it accepts; a larger header is
 * refused before any allocation (-EMSGSIZE) and the stream is then unusable
 * (the caller closes it).  `type` and `flags` belong to the protocol using
 * frames (FRAME_F_LZ4 is reserved for LZ4-compressed payloads).
 *
 * Transport: a read/write callback pair (tls.h's tls_io_read/tls_io_write,
 * or frame_fd_read/frame_fd_write for plain sockets and pipes).  Nothing
 * here logs; errors are negative errno values. */
#ifndef QSERV_FRAME_H
#define QSERV_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FRAME_HDR_LEN  8
#define FRAME_MAX_ABS  (64u << 20)   /* no protocol may allow more than 64 MiB */
#define FRAME_F_LZ4    0x01

/* >0: bytes moved, 0: EOF (read only), <0: -errno (-ETIMEDOUT on timeout). */
typedef ssize_t (*frame_read_fn)(void *ctx, void *buf, size_t len, int timeout_ms);
typedef ssize_t (*frame_write_fn)(void *ctx, const void *buf, size_t len, int timeout_ms);

struct frame_hdr {
	uint8_t type;
	uint8_t flags;
	uint32_t len;
};

void frame_hdr_encode(const struct frame_hdr *h, uint8_t out[FRAME_HDR_LEN]);
/* -EPROTO: bad magic; -EMSGSIZE: len > max. */
int frame_hdr_decode(const uint8_t in[FRAME_HDR_LEN], size_t max, struct frame_hdr *ret_h);

/* Read one frame with payload <= max: *ret_buf is malloc'd (len+1 bytes, a
 * NUL appended for text payloads; caller frees).  0 on success, -ENODATA on
 * clean EOF before a header, -ECONNRESET on EOF inside a frame, -EPROTO,
 * -EMSGSIZE, -ETIMEDOUT (timeout_ms covers the whole frame; <0 = forever). */
int frame_read(frame_read_fn rd, void *ctx, size_t max, int timeout_ms,
	       struct frame_hdr *ret_h, void **ret_buf);

/* Write one frame (header + payload); -EMSGSIZE if len > max. */
int frame_write(frame_write_fn wr, void *ctx, uint8_t type, uint8_t flags,
		const void *buf, size_t len, size_t max, int timeout_ms);

/* Plain fd transport: ctx is a pointer to the int fd. */
ssize_t frame_fd_read(void *ctx, void *buf, size_t len, int timeout_ms);
ssize_t frame_fd_write(void *ctx, const void *buf, size_t len, int timeout_ms);

#endif
