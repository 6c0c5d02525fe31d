/* query_live.h: keep-alives of the chunk-query service (query_live.c).
 *
 * A czar reads every frame of an answer with a silence deadline, so a
 * worker must say it is alive while a chunk query has nothing to send:
 * it waits for a slot (query_sched.h) or MariaDB works on the statement.
 * The connection's thread is blocked in Connector/C then, so one
 * keep-alive thread for the whole service writes a WIRE_KEEPALIVE frame on
 * every connection in an answer that sent nothing for WIRE_KEEPALIVE_MS.
 *
 * Why a helper thread and not Connector/C's non-blocking API
 * (mysql_real_query_start/_cont polled on mysql_get_socket): every
 * blocking step of an answer (the scheduler's wait, the statement, each
 * mysql_fetch_row) would have to become a polled state machine; a helper
 * leaves query.c's straight-line code as it is.  One thread for all
 * connections (not one each) keeps the thread count bounded.
 *
 * Writes on one connection are serialised by its write lock (an mbedTLS
 * context is not thread-safe); its thread never reads while an answer is
 * open, so a keep-alive never races a read.  The keep-alive thread only
 * try-locks: a holder is writing (not silent), and a write blocked on one
 * czar must not hold back the keep-alives of the others.  A keep-alive
 * that cannot be written within a second shuts the socket down (the czar is
 * gone; the query's next write fails and its statement is killed).
 * A struct qlive is freed only by the keep-alive thread, after its
 * connection said it is done (query_live_close). */
#ifndef QSERV_WORKER_QUERY_LIVE_H
#define QSERV_WORKER_QUERY_LIVE_H

#include <sys/types.h>

struct tls_conn;
struct qlive;

/* Starts the keep-alive thread; stop_fd readable = stop.  0 or -errno. */
int query_live_start(int stop_fd);
void query_live_stop(void);

/* A connection's keep-alive state (NULL: out of memory). */
struct qlive *query_live_open(struct tls_conn *tc, int fd);
/* The connection is done: after this, nothing touches tc. */
void query_live_close(struct qlive *l);
/* An answer begins (keep-alives on) or ended (off). */
void query_live_busy(struct qlive *l, int busy);

/* frame_read_fn / frame_write_fn over the connection (ctx: struct qlive);
 * writes hold its write lock. */
ssize_t query_live_read(void *ctx, void *buf, size_t len, int timeout_ms);
ssize_t query_live_write(void *ctx, const void *buf, size_t len, int timeout_ms);

#endif
