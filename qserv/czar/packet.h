/* packet.h: MySQL client/server protocol framing and field codecs.
 *
 * A MySQL packet is a 3-byte little-endian payload length, a 1-byte sequence
 * id and the payload; payloads of 0xffffff bytes or more continue in the next
 * packet.  struct pkt_conn owns one socket, the expected sequence id and an
 * output buffer: responses are built in place (pkt_begin .. pkt_end) and sent
 * with pkt_flush, so a result set goes out in few write() calls.
 *
 * struct pkt_reader decodes a received payload; every getter checks the
 * remaining length first and latches r->err on a short or malformed field,
 * so callers may decode a whole message and test r->err once. */
#ifndef QSERV_CZAR_PACKET_H
#define QSERV_CZAR_PACKET_H

#include <stddef.h>
#include <stdint.h>

#define PKT_MAX_PAYLOAD 0xffffffu

/* Growable byte buffer; oom is latched on allocation failure. */
struct pkt_buf {
	unsigned char *data;
	size_t len, cap;
	int oom;
};

void pkt_buf_init(struct pkt_buf *b);
void pkt_buf_free(struct pkt_buf *b);
int pkt_buf_reserve(struct pkt_buf *b, size_t extra);
void pkt_put_bytes(struct pkt_buf *b, const void *p, size_t n);
void pkt_put_u8(struct pkt_buf *b, unsigned v);
void pkt_put_u16(struct pkt_buf *b, unsigned v);
void pkt_put_u24(struct pkt_buf *b, uint32_t v);
void pkt_put_u32(struct pkt_buf *b, uint32_t v);
void pkt_put_lenenc(struct pkt_buf *b, uint64_t v);
/* NUL-terminated string (s may be NULL: an empty one). */
void pkt_put_nulstr(struct pkt_buf *b, const char *s);
/* Length-encoded string of n bytes. */
void pkt_put_lenstr(struct pkt_buf *b, const void *s, size_t n);

struct pkt_reader {
	const unsigned char *p;
	size_t len, off;
	int err;            /* -EBADMSG once any getter ran past the end */
};

void pkt_reader_init(struct pkt_reader *r, const void *p, size_t len);
size_t pkt_remaining(const struct pkt_reader *r);
unsigned pkt_get_u8(struct pkt_reader *r);
unsigned pkt_get_u16(struct pkt_reader *r);
uint32_t pkt_get_u32(struct pkt_reader *r);
uint64_t pkt_get_lenenc(struct pkt_reader *r);
/* Points *ret at n bytes inside the payload. */
const unsigned char *pkt_get_fixed(struct pkt_reader *r, size_t n);
/* NUL-terminated string inside the payload (NUL required); length in *ret_len. */
const char *pkt_get_nulstr(struct pkt_reader *r, size_t *ret_len);
/* Length-encoded string; the bytes are not NUL-terminated. */
const unsigned char *pkt_get_lenstr(struct pkt_reader *r, size_t *ret_len);

/* One client connection. */
struct pkt_conn {
	int fd;
	uint8_t seq;        /* sequence id of the next packet to send */
	size_t start;       /* offset of the packet under construction in out */
	struct pkt_buf out;
};

void pkt_conn_init(struct pkt_conn *c, int fd);
void pkt_conn_free(struct pkt_conn *c);
/* Reads one logical packet (joining continuations) into *payload (replaced).
 * Returns 0, -ECONNRESET at end of stream, -EMSGSIZE above max bytes,
 * -EPROTO on a sequence id mismatch when check_seq, or -errno. */
int pkt_read(struct pkt_conn *c, struct pkt_buf *payload, size_t max, int check_seq);
/* Starts a packet in c->out; its payload is appended with pkt_put_*(&c->out). */
void pkt_begin(struct pkt_conn *c);
/* Closes the packet started by pkt_begin (splits payloads >= 16 MiB). */
int pkt_end(struct pkt_conn *c);
/* Writes out everything buffered.  Returns 0 or -errno. */
int pkt_flush(struct pkt_conn *c);

#endif
