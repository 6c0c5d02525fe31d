/* packet.h: MySQL client/server protocol framing and field codecs.
 *
 * A MySQL packet is a 3-byte little-endian payload length, a 1-byte sequence
 * id and the payload; payloads of 0xffffff bytes or more continue in the next
 * packet.  struct pkt_conn owns one socket, the expected sequence id and an
 * output buffer: responses are built in place (pkt_begin .. pkt_end) and sent
 * with pkt_flush, so a result set goes out in few write() calls.
 *
 * Payloads are built in a struct buf and read with a struct lerd
 * (lib/lebuf.h: fixed-size little-endian fields, errors latched); this file
 * adds MySQL's own field codecs on top: length-encoded integers and strings,
 * NUL-terminated strings. */
#ifndef QSERV_CZAR_PACKET_H
#define QSERV_CZAR_PACKET_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "lebuf.h"

#define PKT_MAX_PAYLOAD 0xffffffu

/* Length-encoded integer. */
void pkt_put_lenenc(struct buf *b, uint64_t v);
/* NUL-terminated string (s may be NULL: an empty one). */
void pkt_put_nulstr(struct buf *b, const char *s);
/* Length-encoded string of n bytes. */
void pkt_put_lenstr(struct buf *b, const void *s, size_t n);

/* Length-encoded integer (0xfb NULL and 0xff error markers are malformed). */
uint64_t pkt_get_lenenc(struct lerd *r);
/* NUL-terminated string inside the payload (NUL required); length in *ret_len. */
const char *pkt_get_nulstr(struct lerd *r, size_t *ret_len);
/* Length-encoded string; the bytes are not NUL-terminated. */
const unsigned char *pkt_get_lenstr(struct lerd *r, size_t *ret_len);

/* One client connection: plain TCP, or TLS once tls is set (the
 * connection then reads and writes through it; tls is the caller's).
 * read_timeout_ms bounds the wait for each packet (<0: none; the session
 * sets the pre-login timeout, then wait_timeout); write_timeout_ms bounds a
 * flush that makes no progress (MySQL's net_write_timeout).  A flush also
 * gives up, with -ECANCELED, once *cancel is set (KILL QUERY of a client
 * that stopped reading): the caller then drops the connection, whose
 * result was cut mid-way. */
struct tls_conn;
struct pkt_conn {
	int fd;
	uint8_t seq;        /* sequence id of the next packet to send */
	size_t start;       /* offset of the packet under construction in out */
	struct buf out;
	struct tls_conn *tls;
	int read_timeout_ms, write_timeout_ms;
	volatile sig_atomic_t *cancel;
};

void pkt_conn_init(struct pkt_conn *c, int fd);
void pkt_conn_free(struct pkt_conn *c);
/* Reads one logical packet (joining continuations) into *payload (replaced).
 * Returns 0, -ECONNRESET at end of stream, -EMSGSIZE above max bytes,
 * -EPROTO on a sequence id mismatch when check_seq, -ETIMEDOUT when no
 * packet came within read_timeout_ms, or -errno. */
int pkt_read(struct pkt_conn *c, struct buf *payload, size_t max, int check_seq);
/* Starts a packet in c->out; its payload is appended with lebuf_* and
 * pkt_put_* (&c->out). */
void pkt_begin(struct pkt_conn *c);
/* Closes the packet started by pkt_begin (splits payloads >= 16 MiB). */
int pkt_end(struct pkt_conn *c);
/* Writes out everything buffered.  Returns 0, -ETIMEDOUT (no progress
 * for write_timeout_ms), -ECANCELED (*cancel set while the client did
 * not read) or -errno; on failure the rest of the buffer is dropped. */
int pkt_flush(struct pkt_conn *c);

#endif
