/* wire.h: the czar <-> worker chunk-query protocol (libqwire.a).
 *
 * Messages are lib/frame.h frames (length-checked before any allocation)
 * over mutual TLS (lib/tls.h) between node certificates: the czar's role
 * is "czar", a worker's CN is its worker id.  One connection carries one
 * chunk query at a time and is reused for the next:
 *
 *   czar   -> worker   QUERY   query id, chunk id, flags, SQL; version 2
 *                      adds the sub-chunks of a near-neighbour query
 *                      (database, director table, sub-chunk ids): the
 *                      worker builds their tables and runs the SQL once
 *                      per sub-chunk, "%SS%" standing for its id, the
 *                      answers concatenated into one result
 *   worker -> czar     COLUMNS column definitions of the result
 *                      ROWS*   row batches, LZ4-compressed (FRAME_F_LZ4)
 *                      END     row count           -- or --
 *                      ERROR   MariaDB errno, SQLSTATE and message
 *                      KEEPALIVE*  anywhere in the answer, before END or
 *                              ERROR: the worker is alive but had nothing
 *                              to send for WIRE_KEEPALIVE_MS (the statement
 *                              waits for a slot or MariaDB is still working);
 *                              payload: u32 ms since the chunk query arrived
 *
 * The czar reads each frame of an answer with a silence deadline (a few
 * keep-alive intervals): a worker whose host hangs, or whose cable is
 * pulled, is then told from one whose MariaDB is slow, and the czar moves
 * the chunk to another replica instead of waiting for ever.
 * Cancelling a chunk query is closing its connection: the worker stops
 * its statement when it next writes, and the czar opens a new connection
 * for the next chunk.  Encoding is little-endian; strings are a u16 or u32
 * length then bytes.  Every decoder checks each length against what is
 * left and fails with -EBADMSG, never reads past the payload; messages are
 * built in a lib/lebuf.h buffer. */
#ifndef QSERV_WIRE_H
#define QSERV_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "lebuf.h"

enum wire_type {
	WIRE_QUERY = 1, WIRE_COLUMNS = 2, WIRE_ROWS = 3, WIRE_END = 4, WIRE_ERROR = 5,
	WIRE_KEEPALIVE = 6,
};

#define WIRE_VERSION 2           /* sent only with sub-chunks; 1 otherwise */
#define WIRE_MAX_SUBS 65536      /* sub-chunks in one QUERY */
#define WIRE_MAX_FRAME (16u << 20)     /* any frame payload */
#define WIRE_BATCH_BYTES (64u << 10)   /* raw rows per ROWS frame, before LZ4 */
#define WIRE_MAX_COLS 4096
#define WIRE_NULL_LEN 0xffffffffu
#define WIRE_KEEPALIVE_MS 2000       /* the worker's longest silence in an answer */

/* I/O over any transport (tls_io_read/tls_io_write, frame_fd_*). */
struct wire_io {
	frame_read_fn rd;
	frame_write_fn wr;
	void *ctx;
	int timeout_ms;              /* per frame; <0 forever */
};
int wire_send(const struct wire_io *io, uint8_t type, uint8_t flags, const void *p, size_t n);
/* One frame into *ret_buf (malloc'd, caller frees). */
int wire_recv(const struct wire_io *io, struct frame_hdr *ret_h, void **ret_buf);

/* QUERY */
struct wire_query {
	uint64_t query_id;
	int32_t chunk_id;
	uint32_t flags;              /* WIRE_Q_SCAN: a full-scan query (lower priority) */
	const char *sql;             /* not NUL-terminated when decoded: use sql_len */
	size_t sql_len;
	/* version 2: nsub > 0 sub-chunks of sub_db.sub_table (not
	 * NUL-terminated when decoded: use the lengths); encode from sub,
	 * decoded ids through wire_query_sub() */
	const char *sub_db, *sub_table;
	size_t sub_db_len, sub_table_len;
	uint32_t nsub;
	const int32_t *sub;
	const uint8_t *sub_raw;
};
/* The i-th sub-chunk id of a decoded QUERY (i < nsub). */
int32_t wire_query_sub(const struct wire_query *q, uint32_t i);
#define WIRE_Q_SCAN 1u
int wire_query_encode(const struct wire_query *q, struct buf *out);
/* q->sql points into p. */
int wire_query_decode(const void *p, size_t n, struct wire_query *ret);

/* COLUMNS: what MYSQL_FIELD says of each result column. */
struct wire_col {
	char *name, *org_name, *table, *org_table, *db;
	uint32_t length;
	uint16_t flags, charset;
	uint8_t type, decimals;
};
struct wire_cols {
	struct wire_col *v;
	unsigned n;
	char *strings;               /* one block holding every name */
};
int wire_cols_encode(const struct wire_col *c, unsigned n, struct buf *out);
int wire_cols_decode(const void *p, size_t n, struct wire_cols *ret);
void wire_cols_free(struct wire_cols *c);

/* ROWS: rows are appended to a batch, which is sent LZ4-compressed when
 * it reaches WIRE_BATCH_BYTES (and at the end). */
struct wire_batch {
	struct buf raw;         /* u32 nrows, then per value u32 len + bytes */
	uint32_t nrows;
	unsigned ncols;
};
void wire_batch_init(struct wire_batch *b, unsigned ncols);
void wire_batch_free(struct wire_batch *b);
int wire_batch_add(struct wire_batch *b, const char *const *vals, const unsigned long *lens);
/* Compresses the batch into out (u32 raw length + LZ4 block) and empties it. */
int wire_batch_seal(struct wire_batch *b, struct buf *out);

/* Decoded batch: row r, column i is vals[r*ncols+i] (NULL for SQL NULL),
 * lens likewise; everything points into data. */
struct wire_rows {
	uint32_t nrows;
	unsigned ncols;
	char *data;
	const char **vals;
	unsigned long *lens;
};
int wire_rows_decode(const void *p, size_t n, unsigned ncols, struct wire_rows *ret);
void wire_rows_free(struct wire_rows *r);

/* END / ERROR */
int wire_end_encode(uint64_t rows, struct buf *out);
int wire_end_decode(const void *p, size_t n, uint64_t *ret_rows);
struct wire_error {
	unsigned code;
	char sqlstate[6];
	char msg[512];
};
int wire_error_encode(const struct wire_error *e, struct buf *out);
int wire_error_decode(const void *p, size_t n, struct wire_error *ret);
/* KEEPALIVE: u32 ms the chunk query has been running (for logs only). */
int wire_keepalive_encode(uint32_t elapsed_ms, struct buf *out);
int wire_keepalive_decode(const void *p, size_t n, uint32_t *ret_elapsed_ms);

/* Socket options of every czar <-> worker connection, both ends: no Nagle
 * delay, and TCP keepalive (first probe after 10 s idle, then every 5 s, 3
 * unanswered probes end it) so that an idle pooled connection to a host
 * that vanished is found dead by the kernel.  0 or a negative errno. */
int wire_tcp_tune(int fd);

/* The mutual-TLS configuration of one end (wire_tls.c): its certificate
 * and key from dir/NAME.pem and dir/NAME.key, the peer's checked against
 * dir/ca.pem (the files qserv-certs writes).  server: the worker's end;
 * timeout_ms: the handshake deadline (0: lib/tls.h's default).  Returns 0
 * or a negative errno with err filled; *ret_cfg: free with tls_config_free. */
struct tls_config;
int wire_tls_config(const char *dir, const char *name, bool server, int timeout_ms,
		    struct tls_config **ret_cfg, char *err, size_t errlen);

#endif
