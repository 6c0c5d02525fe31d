/* query.c: the worker's chunk-query executor (query.h: main.c calls
 * worker_query_start/worker_query_stop).
 *
 * Listens on QSERV_QUERY_PORT (environment; unset = no query service) for
 * mutual-TLS connections whose peer certificate says role "czar", signed by
 * the cluster CA in QSERV_TLS_DIR/ca.pem; the worker's own certificate is
 * QSERV_TLS_DIR/<worker id>.pem/.key.  Each connection gets a thread and
 * one Connector/C session to the local MariaDB (unix socket) and serves
 * chunk queries one after another (qserv/wire/wire.h): the statement runs
 * with mysql_use_result and its rows stream back in LZ4 batches as MariaDB
 * produces them, so worker memory stays at one batch per connection.  When
 * the czar goes away mid-result the statement is killed (KILL QUERY on a
 * second session), not run to completion.  While a chunk query has
 * nothing to send (waiting for a slot, MariaDB still working) the
 * keep-alive thread of query_live.h tells the czar it is alive; sockets
 * have TCP keepalive on (wire_tcp_tune).
 *
 * At most QSERV_QUERY_SLOTS (default 4) statements run on MariaDB at once;
 * interactive chunk queries go ahead of waiting scans, and scans run on
 * at most QSERV_SCAN_MAX_CHUNKS (default 2) chunks at once, joining the
 * pass of a chunk in progress, in one walk over the chunks (Qserv's shared
 * scans: query_sched.h); QSERV_SHARED_SCANS=0 starts the waiting scans
 * oldest first on any chunk instead (for benchmarks: the "before").
 *
 * Least privilege: chunk queries run as the read-only account of
 * query_acct.c (SELECT on the catalog databases only); only KILL QUERY
 * uses the worker's admin account.
 *
 * Bounds on what an unauthenticated peer can hold: at most
 * QSERV_QUERY_HANDSHAKES (default 128) connections are in their TLS
 * handshake at once, each for at most QS_HANDSHAKE_MS; when all are taken
 * the oldest is cut (shutdown) for the newcomer, so idle sockets cannot
 * keep a czar out.  128 so that a czar's own burst (its pool filling up
 * under 100 clients) fits without cutting its own handshakes: with 32, 14
 * of 1,132 bench queries failed.  Authenticated connections (czars) are at most
 * QSERV_QUERY_MAX_CONNS (default 256); beyond that a new one is closed.
 * So the threads of this service are bounded by the sum. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "monotime.h"
#include "tls.h"
#include "query_live.h"
#include "query_sched.h"
#include "worker.h"
#include "query.h"
#include "qserv/wire/wire.h"

static struct {
	int lfd, stop_pipe[2];
	pthread_t thread;
	int running;
	struct tls_config *tls;
	struct worker *w;
	const struct qsql_conf *reader;   /* the read-only account (query_acct.c) */
	struct query_sched sched;
} qs = { .lfd = -1, .stop_pipe = { -1, -1 } };

struct qconn {
	int fd;
	char peer[64];
	int slot;               /* handshake slot while in the handshake, else -1 */
};

#define QS_HANDSHAKE_MS 10000   /* the czar waits 10 s (dispatch.c); TCG VMs need seconds */
#define QS_MAX_HANDSHAKES 1024

/* Handshake slots (oldest evicted) and the authenticated count. */
static struct {
	pthread_mutex_t mu;
	struct qconn *hs[QS_MAX_HANDSHAKES];
	int64_t hs_since[QS_MAX_HANDSHAKES];
	unsigned nslots, nauth, max_auth;
	unsigned long evicted, refused;
} lim = { .mu = PTHREAD_MUTEX_INITIALIZER };

static unsigned env_count(const char *name, unsigned dflt, unsigned max)
{
	const char *v = getenv(name);
	long n = v ? atol(v) : 0;
	return n > 0 && (unsigned long)n <= max ? (unsigned)n : dflt;
}

/* Gives qc a handshake slot, cutting the oldest handshake when all are
 * taken (its thread sees the socket shut and ends). */
static void slot_take(struct qconn *qc)
{
	unsigned i, free_i = lim.nslots, oldest = 0;

	pthread_mutex_lock(&lim.mu);
	for (i = 0; i < lim.nslots; i++) {
		if (!lim.hs[i]) {
			free_i = i;
			break;
		}
		if (lim.hs_since[i] < lim.hs_since[oldest])
			oldest = i;
	}
	if (free_i == lim.nslots) {
		shutdown(lim.hs[oldest]->fd, SHUT_RDWR);
		lim.hs[oldest]->slot = -1;
		lim.evicted++;
		free_i = oldest;
	}
	lim.hs[free_i] = qc;
	lim.hs_since[free_i] = monotime_ms();
	qc->slot = (int)free_i;
	pthread_mutex_unlock(&lim.mu);
}

/* Ends qc's handshake; with ok, counts it authenticated if there is room
 * (0), else -EBUSY. */
static int slot_release(struct qconn *qc, bool ok)
{
	int r = 0;

	pthread_mutex_lock(&lim.mu);
	if (qc->slot >= 0 && lim.hs[qc->slot] == qc)
		lim.hs[qc->slot] = NULL;
	qc->slot = -1;
	if (ok && lim.nauth >= lim.max_auth) {
		lim.refused++;
		r = -EBUSY;
	} else if (ok) {
		lim.nauth++;
	}
	pthread_mutex_unlock(&lim.mu);
	return r;
}

static void auth_release(void)
{
	pthread_mutex_lock(&lim.mu);
	lim.nauth--;
	pthread_mutex_unlock(&lim.mu);
}

/* Frames of one answer are queued and written together: an answer of a
 * few rows (most chunk queries) leaves in one TLS record, big ones in
 * WIRE_BATCH_BYTES pieces as the rows come. */
static struct buf *outq(void)
{
	static _Thread_local struct buf q;
	return &q;
}

static int flush_out(const struct wire_io *io)
{
	struct buf *q = outq();
	ssize_t n;

	if (q->oom) {
		q->len = 0;
		q->oom = 0;
		return -ENOMEM;
	}
	if (q->len == 0)
		return 0;
	n = io->wr(io->ctx, q->data, q->len, io->timeout_ms);
	q->len = 0;
	return n < 0 ? (int)n : 0;
}

static int send_buf(const struct wire_io *io, uint8_t type, uint8_t flags, struct buf *b)
{
	struct frame_hdr h = { .type = type, .flags = flags, .len = (uint32_t)b->len };
	uint8_t hdr[FRAME_HDR_LEN];
	struct buf *q = outq();

	if (b->oom)
		return -ENOMEM;
	if (b->len > WIRE_MAX_FRAME)
		return -EMSGSIZE;
	frame_hdr_encode(&h, hdr);
	buf_put(q, hdr, sizeof(hdr));
	buf_put(q, b->data, b->len);
	if (type == WIRE_END || type == WIRE_ERROR || q->len >= WIRE_BATCH_BYTES)
		return flush_out(io);
	return q->oom ? -ENOMEM : 0;
}

static int send_error(const struct wire_io *io, unsigned code, const char *state, const char *msg)
{
	struct wire_error e;
	struct buf b = { 0 };
	int rc;

	memset(&e, 0, sizeof(e));
	e.code = code;
	snprintf(e.sqlstate, sizeof(e.sqlstate), "%s", state ? state : "HY000");
	snprintf(e.msg, sizeof(e.msg), "%s", msg);
	wire_error_encode(&e, &b);
	rc = send_buf(io, WIRE_ERROR, 0, &b);
	buf_free(&b);
	return rc;
}

static void kill_query(unsigned long tid)
{
	char err[256];
	MYSQL *k = qsql_connect(&qs.w->sql, err, sizeof(err));

	if (!k)
		return;
	qsql_exec(k, err, sizeof(err), "KILL QUERY %lu", tid);
	mysql_close(k);
}

/* One answer under construction: COLUMNS goes once, before the first
 * statement's rows; the rows of every statement go in the same batches. */
struct answer {
	struct buf b;
	struct wire_batch bt;
	unsigned ncols;              /* 0: COLUMNS not sent yet */
	uint64_t nrows;
};

static int send_columns(const struct wire_io *io, struct answer *a, MYSQL_RES *res)
{
	unsigned i, n = mysql_num_fields(res);
	MYSQL_FIELD *f = mysql_fetch_fields(res);
	struct wire_col *cols = calloc(n, sizeof(*cols));
	int rc;

	if (!cols)
		return send_error(io, 1041, "HY000", "worker out of memory") < 0 ? -EPIPE : 1;
	for (i = 0; i < n; i++) {
		cols[i] = (struct wire_col){ .name = f[i].name, .org_name = f[i].org_name, .table = f[i].table,
					     .org_table = f[i].org_table, .db = f[i].db,
					     .length = (uint32_t)f[i].length, .flags = (uint16_t)f[i].flags,
					     .charset = (uint16_t)f[i].charsetnr, .type = (uint8_t)f[i].type,
					     .decimals = (uint8_t)f[i].decimals };
	}
	rc = wire_cols_encode(cols, n, &a->b);
	free(cols);
	if (rc == 0)
		rc = send_buf(io, WIRE_COLUMNS, 0, &a->b);
	a->ncols = n;
	wire_batch_init(&a->bt, n);
	return rc < 0 ? -EPIPE : 0;
}

/* Runs one statement of a chunk query into the answer: 0 done, 1 an ERROR
 * was sent (the answer is over), <0 the connection to the czar is gone. */
static int run_statement(MYSQL *m, const struct wire_io *io, const char *sql, size_t len, struct answer *a)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	int rc = 0;

	if (mysql_real_query(m, sql, len) != 0 || !(res = mysql_use_result(m))) {
		if (mysql_errno(m))
			rc = send_error(io, mysql_errno(m), mysql_sqlstate(m), mysql_error(m));
		else
			rc = send_error(io, 1105, "HY000", "chunk query returned no result set");
		return rc < 0 ? rc : 1;
	}
	if (!a->ncols && (rc = send_columns(io, a, res)) != 0) {
		mysql_free_result(res);
		return rc;
	}
	if (mysql_num_fields(res) != a->ncols) {
		mysql_free_result(res);
		rc = send_error(io, 1105, "HY000", "sub-chunk statements returned different columns");
		return rc < 0 ? rc : 1;
	}
	while (rc == 0 && (row = mysql_fetch_row(res))) {
		rc = wire_batch_add(&a->bt, (const char *const *)row, mysql_fetch_lengths(res));
		a->nrows++;
		if (rc == 0 && a->bt.raw.len >= WIRE_BATCH_BYTES) {
			a->b.len = 0;
			rc = wire_batch_seal(&a->bt, &a->b);
			if (rc == 0)
				rc = send_buf(io, WIRE_ROWS, FRAME_F_LZ4, &a->b);
		}
	}
	if (rc < 0) {
		/* the czar is gone (or a row too large): stop the statement */
		outq()->len = 0;
		kill_query(mysql_thread_id(m));
		mysql_free_result(res);
		return rc == -EMSGSIZE ? (send_error(io, 1153, "08S01", "a row is larger than a wire frame") < 0 ? -EPIPE : 1)
				       : -EPIPE;
	}
	rc = 0;
	if (mysql_errno(m))
		rc = send_error(io, mysql_errno(m), mysql_sqlstate(m), mysql_error(m)) < 0 ? -EPIPE : 1;
	mysql_free_result(res);
	return rc;
}

/* The czar sends nothing while an answer is under way: a readable or
 * hung-up socket means it closed the connection (cancelled the query). */
static bool czar_gone(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };

	return fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR));
}

/* Runs one chunk query -- once, or once per sub-chunk of a near-neighbour
 * query with "%SS%" replaced (query_nn.c; the next sub-chunk only while the
 * czar, on fd, is still there) -- and ends its answer; returns <0 when the
 * connection to the czar is gone. */
static int run_query(MYSQL *m, const struct wire_io *io, const struct wire_query *q, int fd)
{
	struct answer a = { 0 };
	uint32_t i, n = q->nsub ? q->nsub : 1;
	int rc = 0;

	for (i = 0; rc == 0 && i < n; i++) {
		size_t len = q->sql_len;
		if (i && czar_gone(fd)) {
			rc = -EPIPE;
			break;
		}
		char *sql = q->nsub ? query_nn_sql(q, wire_query_sub(q, i), &len) : NULL;
		if (q->nsub && !sql) {
			rc = send_error(io, 1041, "HY000", "worker out of memory") < 0 ? -EPIPE : 1;
			break;
		}
		rc = run_statement(m, io, sql ? sql : q->sql, len, &a);
		free(sql);
	}
	if (rc == 0) {
		if (a.bt.nrows) {
			a.b.len = 0;
			rc = wire_batch_seal(&a.bt, &a.b);
			if (rc == 0)
				rc = send_buf(io, WIRE_ROWS, FRAME_F_LZ4, &a.b);
		}
		a.b.len = 0;
		if (rc == 0 && (rc = wire_end_encode(a.nrows, &a.b)) == 0)
			rc = send_buf(io, WIRE_END, 0, &a.b);
	}
	if (a.ncols)
		wire_batch_free(&a.bt);
	buf_free(&a.b);
	return rc < 0 ? rc : 0;
}

/* A near-neighbour chunk query: its sub-chunk tables built first, dropped
 * after (with the last query of the chunk), whatever the outcome. */
static int run_nn_query(MYSQL *m, const struct wire_io *io, const struct wire_query *q, int fd)
{
	char db[65], table[65], err[512];
	int rc = query_nn_acquire(&qs.w->sql, q, db, table, err, sizeof(err));

	/* the czar tries another replica for a missing chunk or a lost MariaDB */
	if (rc == -ENOENT)
		return send_error(io, 1146, "42S02", err);
	if (rc < 0)
		return send_error(io, rc == -ECONNREFUSED ? 2002 : 1105, "HY000", err);
	rc = run_query(m, io, q, fd);
	query_nn_release(&qs.w->sql, db, q->chunk_id);
	return rc;
}

static void *conn_thread(void *arg)
{
	struct qconn *qc = arg;
	struct tls_conn *tc = NULL;
	struct tls_identity peer;
	struct wire_io io;
	struct qlive *lv = NULL;
	MYSQL *m = NULL;
	char err[512];
	int rc;

	bool counted = false;
	rc = tls_conn_new(qs.tls, qc->fd, NULL, &tc, err, sizeof(err));
	if (rc < 0) {
		slot_release(qc, false);
		log_warn("query service: TLS with %s: %s", qc->peer, err);
		goto out;
	}
	memset(&peer, 0, sizeof(peer));
	if (tls_conn_peer(tc, &peer) < 0 || strcmp(peer.role, "czar") != 0) {
		slot_release(qc, false);
		log_warn("query service: %s is not a czar (role '%s'): refused", qc->peer, peer.role);
		goto out;
	}
	if (slot_release(qc, true) < 0) {
		log_warn("query service: %s: already %u czar connections (QSERV_QUERY_MAX_CONNS): closed",
			 qc->peer, lim.max_auth);
		goto out;
	}
	counted = true;
	if (!(lv = query_live_open(tc, qc->fd)))
		goto out;
	io = (struct wire_io){ query_live_read, query_live_write, lv, -1 };
	for (;;) {
		struct frame_hdr h;
		struct wire_query q;
		void *buf = NULL;

		io.timeout_ms = -1;               /* idle between chunk queries */
		rc = wire_recv(&io, &h, &buf);
		if (rc < 0)
			break;
		io.timeout_ms = 600000;
		if (h.type != WIRE_QUERY || wire_query_decode(buf, h.len, &q) < 0) {
			log_warn("query service: %s sent a malformed message (type %u): closing", qc->peer, h.type);
			free(buf);
			break;
		}
		if (!m && !(m = qsql_connect(qs.reader, err, sizeof(err)))) {
			rc = send_error(&io, 2002, "HY000", err);
			free(buf);
			if (rc < 0)
				break;
			continue;
		}
		query_live_busy(lv, 1);
		query_sched_acquire(&qs.sched, (q.flags & WIRE_Q_SCAN) != 0, q.chunk_id);
		rc = q.nsub && query_nn_builds(&q) ? run_nn_query(m, &io, &q, qc->fd) : run_query(m, &io, &q, qc->fd);
		query_sched_release(&qs.sched, (q.flags & WIRE_Q_SCAN) != 0, q.chunk_id);
		query_live_busy(lv, 0);
		free(buf);
		if (rc < 0)
			break;
	}
out:
	if (counted)
		auth_release();
	buf_free(outq());
	query_live_close(lv);
	if (m)
		mysql_close(m);
	tls_conn_free(tc);
	close(qc->fd);
	free(qc);
	return NULL;
}

static void *accept_thread(void *arg)
{
	pthread_attr_t attr;

	(void)arg;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (;;) {
		struct pollfd p[2] = { { .fd = qs.lfd, .events = POLLIN }, { .fd = qs.stop_pipe[0], .events = POLLIN } };
		struct sockaddr_in sa;
		socklen_t sl = sizeof(sa);
		struct qconn *qc;
		pthread_t t;
		int fd;

		if (poll(p, 2, -1) < 0)
			continue;
		if (p[1].revents)
			break;
		fd = accept4(qs.lfd, (struct sockaddr *)&sa, &sl, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		wire_tcp_tune(fd);
		qc = calloc(1, sizeof(*qc));
		if (!qc) {
			close(fd);
			continue;
		}
		qc->fd = fd;
		inet_ntop(AF_INET, &sa.sin_addr, qc->peer, sizeof(qc->peer));
		slot_take(qc);
		if (pthread_create(&t, &attr, conn_thread, qc) != 0) {
			slot_release(qc, false);
			close(fd);
			free(qc);
		}
	}
	pthread_attr_destroy(&attr);
	return NULL;
}

int worker_query_start(struct worker *w, char *err, size_t errlen)
{
	const char *port = getenv("QSERV_QUERY_PORT"), *dir = getenv("QSERV_TLS_DIR");
	struct sockaddr_in sa;
	int one = 1;

	if (!port || !*port)
		return 0;                         /* no query service configured */
	if (!dir || !*dir) {
		snprintf(err, errlen, "QSERV_QUERY_PORT is set but QSERV_TLS_DIR is not");
		return -EINVAL;
	}
	qs.w = w;
	const char *slots = getenv("QSERV_QUERY_SLOTS");
	const char *maxch = getenv("QSERV_SCAN_MAX_CHUNKS");
	query_sched_init(&qs.sched, slots ? (unsigned)atoi(slots) : 4, maxch ? (unsigned)atoi(maxch) : 0);
	const char *shared = getenv("QSERV_SHARED_SCANS");
	qs.sched.fifo = shared && !strcmp(shared, "0");   /* scan_bench.sh's "before" */
	lim.nslots = env_count("QSERV_QUERY_HANDSHAKES", 128, QS_MAX_HANDSHAKES);
	lim.max_auth = env_count("QSERV_QUERY_MAX_CONNS", 256, 65536);
	if (query_acct_setup(w, &qs.reader, err, errlen) < 0)
		return -1;
	query_nn_sweep(&w->sql);
	if (wire_tls_config(dir, w->id, true, QS_HANDSHAKE_MS, &qs.tls, err, errlen) < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(port));
	if (inet_pton(AF_INET, w->bind ? w->bind : "0.0.0.0", &sa.sin_addr) != 1) {
		snprintf(err, errlen, "bad bind address %s", w->bind);
		return -1;
	}
	qs.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (qs.lfd < 0 || setsockopt(qs.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(qs.lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(qs.lfd, 256) < 0 ||
	    pipe(qs.stop_pipe) < 0) {
		snprintf(err, errlen, "query port %s: %s", port, strerror(errno));
		return -1;
	}
	if (query_live_start(qs.stop_pipe[0]) < 0) {
		snprintf(err, errlen, "cannot start the keep-alive thread");
		return -1;
	}
	if (pthread_create(&qs.thread, NULL, accept_thread, NULL) != 0) {
		snprintf(err, errlen, "cannot start the query service thread");
		return -1;
	}
	qs.running = 1;
	log_info("%s: chunk queries on port %s (mutual TLS, CA %s/ca.pem; as MariaDB user %s;"
		 " %u handshakes, %u czar connections at most)", w->id, port, dir, qs.reader->user, lim.nslots,
		 lim.max_auth);
	return 0;
}

void worker_query_stop(struct worker *w)
{
	(void)w;
	if (!qs.running)
		return;
	if (write(qs.stop_pipe[1], "x", 1) < 0) {
		/* the accept thread then stops with the process */
	}
	pthread_join(qs.thread, NULL);
	query_live_stop();
	close(qs.lfd);
	qs.running = 0;
	pthread_mutex_lock(&qs.sched.lock);
	log_info("query service stopped: %lu interactive and %lu scan chunk queries, %lu scans joined a chunk"
		 " being scanned", qs.sched.started_interactive, qs.sched.started_scans, qs.sched.shared_scans);
	pthread_mutex_unlock(&qs.sched.lock);
}
