/* wquery.c: qserv-wquery, a one-statement client of a worker's chunk-query
 * port, as the czar talks to it (mutual TLS, qserv/wire/wire.h), for
 * tests.
 *
 *   qserv-wquery --tls-dir D --name N --port P [--host 127.0.0.1]
 *                [--keepalives] [--chunk C] [--subs DB.TABLE:S,S,...] SQL
 *
 * Uses D/N.pem + D/N.key (qserv-certs) and D/ca.pem; prints the rows as
 * TSV (\N for NULL) and exits 0, or prints "ERROR <code> <sqlstate>:
 * <message>" and exits 1 for the worker's error, 2 for a failure of the
 * connection.  --keepalives: each KEEPALIVE frame of the answer is told on
 * stderr ("KEEPALIVE <ms>"); without it they are skipped silently.
 * --chunk: the QUERY's chunk id (0); --subs: a near-neighbour QUERY (wire
 * version 2) of those sub-chunks of DB.TABLE, run once per sub-chunk. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tls.h"
#include "qserv/wire/wire.h"

static int connect_to(const char *host, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Reads the answer to one query; 0 rows printed, 1 error, 2 broken. */
static int show_keepalives;

static int answer(const struct wire_io *io)
{
	unsigned ncols = 0;
	for (;;) {
		struct frame_hdr h;
		void *p = NULL;
		if (wire_recv(io, &h, &p) < 0)
			return 2;
		int rc = -1;
		if (h.type == WIRE_COLUMNS) {
			struct wire_cols c;
			if ((rc = wire_cols_decode(p, h.len, &c)) == 0) {
				ncols = c.n;
				wire_cols_free(&c);
			}
		} else if (h.type == WIRE_ROWS) {
			struct wire_rows r;
			if ((rc = wire_rows_decode(p, h.len, ncols, &r)) == 0) {
				for (uint32_t i = 0; i < r.nrows; i++)
					for (unsigned j = 0; j < ncols; j++) {
						const char *v = r.vals[i * ncols + j];
						if (v)
							fwrite(v, 1, r.lens[i * ncols + j], stdout);
						else
							fputs("\\N", stdout);
						putchar(j + 1 < ncols ? '\t' : '\n');
					}
				wire_rows_free(&r);
			}
		} else if (h.type == WIRE_KEEPALIVE) {
			uint32_t ms;
			if ((rc = wire_keepalive_decode(p, h.len, &ms)) == 0 && show_keepalives)
				fprintf(stderr, "KEEPALIVE %u\n", (unsigned)ms);
		} else if (h.type == WIRE_END || h.type == WIRE_ERROR) {
			struct wire_error e;
			if (h.type == WIRE_ERROR && wire_error_decode(p, h.len, &e) == 0)
				printf("ERROR %u %s: %s\n", e.code, e.sqlstate, e.msg);
			free(p);
			return h.type == WIRE_END ? 0 : 1;
		}
		free(p);
		if (rc < 0)
			return 2;
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tls-dir", required_argument, 0, 'd' }, { "name", required_argument, 0, 'n' },
		{ "port", required_argument, 0, 'p' }, { "host", required_argument, 0, 'H' },
		{ "keepalives", no_argument, 0, 'k' }, { "chunk", required_argument, 0, 'c' },
		{ "subs", required_argument, 0, 's' }, { 0, 0, 0, 0 },
	};
	const char *dir = NULL, *name = NULL, *host = "127.0.0.1";
	int port = 0, o, chunk = 0;
	char *subs = NULL;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'd': dir = optarg; break;
		case 'n': name = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'H': host = optarg; break;
		case 'k': show_keepalives = 1; break;
		case 'c': chunk = atoi(optarg); break;
		case 's': subs = optarg; break;
		default: return 2;
		}
	}
	if (!dir || !name || port <= 0 || optind + 1 != argc) {
		fprintf(stderr, "usage: qserv-wquery --tls-dir D --name N --port P [--host H] [--keepalives] [--chunk C] [--subs DB.TABLE:S,S,...] SQL\n");
		return 2;
	}
	char err[512];
	struct tls_config *cfg;
	struct tls_conn *tc = NULL;
	int fd = -1;
	if (wire_tls_config(dir, name, false, 10000, &cfg, err, sizeof err) < 0 ||
	    (fd = connect_to(host, port)) < 0 || tls_conn_new(cfg, fd, NULL, &tc, err, sizeof err) < 0) {
		fprintf(stderr, "qserv-wquery: %s\n", fd < 0 ? "cannot connect" : err);
		return 2;
	}
	struct wire_io io = { tls_io_read, tls_io_write, tc, 30000 };
	struct wire_query q = { .query_id = 1, .chunk_id = chunk, .sql = argv[optind], .sql_len = strlen(argv[optind]) };
	int32_t sub[1024];
	char *dot = subs ? strchr(subs, '.') : NULL, *colon = dot ? strchr(dot, ':') : NULL;
	if (subs && (!dot || !colon)) {
		fprintf(stderr, "qserv-wquery: --subs DB.TABLE:S,S,...\n");
		return 2;
	}
	if (subs) {
		q.sub_db = subs;
		q.sub_db_len = (size_t)(dot - subs);
		q.sub_table = dot + 1;
		q.sub_table_len = (size_t)(colon - dot - 1);
		for (char *t = strtok(colon + 1, ","); t && q.nsub < 1024; t = strtok(NULL, ","))
			sub[q.nsub++] = atoi(t);
		q.sub = sub;
	}
	struct buf b = { 0 };
	int rc = 2;
	if (wire_query_encode(&q, &b) == 0 && wire_send(&io, WIRE_QUERY, 0, b.data, b.len) == 0)
		rc = answer(&io);
	buf_free(&b);
	tls_conn_free(tc);
	close(fd);
	tls_config_free(cfg);
	if (rc == 2)
		fprintf(stderr, "qserv-wquery: the connection broke\n");
	return rc;
}
