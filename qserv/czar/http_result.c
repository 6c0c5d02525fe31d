/* http_result.c: one statement of the HTTP frontend (http.h) run exactly
 * as on the SQL port, and its answer as Qserv's result JSON.
 *
 * The statement runs in a detached session (struct sess, as a SUBMIT's
 * job in async.c) through query_run -- the same parser, planner,
 * least-privilege accounts and limits as a MySQL session -- on a thread of
 * its own; its MySQL packets come back over a socketpair and are turned
 * into Qserv's "schema" + "rows" here, binary columns in the caller's
 * binary_encoding.  Trade-off: decoding packets costs a copy per value but
 * keeps one code path for every statement; the JSON is bounded by
 * cz->http_max_bytes (the query is killed past it, with an error saying
 * so), and a client that hangs up kills its query too. */
#include "http.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mariadb/mysql.h>
#include <mariadb/mysqld_error.h>
#include <mbedtls/base64.h>

#include "czar.h"
#include "myproto.h"
#include "packet.h"
#include "query.h"
#include "session.h"

#define HTTP_VALUE_OVERHEAD 48   /* bytes counted per value for jansson's nodes */

struct run {
	struct sess fake;
	int fds[2];
	const char *sql;
	size_t len;
	const char *db;
	const struct auth_user *u;
	int client_fd;                /* the caller's connection, watched for a hang-up (-1: none) */
	struct pkt_conn in;
	struct buf p;
	unsigned ncols;
	unsigned char *binary;        /* per column: its values are binary */
	size_t bytes;
	enum http_binenc enc;
	json_t *schema, *rows;
};

static void *runner(void *arg)
{
	struct run *r = arg;

	if (sess_attach(&r->fake, r->u) == 0) {
		sess_set_state(&r->fake, "Query", r->sql, r->len);
		if (!r->db || !r->db[0] || query_check_db(&r->fake, r->db) == 0) {
			if (r->db)
				snprintf(r->fake.db, sizeof(r->fake.db), "%s", r->db);
			query_run(&r->fake, r->sql, r->len);
		}
		pkt_flush(&r->fake.conn);
		sess_detach(&r->fake);
	}
	pkt_flush(&r->fake.conn);
	shutdown(r->fds[0], SHUT_WR);
	return NULL;
}

/* The CREATE TABLE name of a column's MySQL type. */
static const char *type_name(unsigned type, int binary)
{
	switch (type) {
	case MYSQL_TYPE_TINY: return "TINYINT";
	case MYSQL_TYPE_SHORT: return "SMALLINT";
	case MYSQL_TYPE_INT24: return "MEDIUMINT";
	case MYSQL_TYPE_LONG: return "INT";
	case MYSQL_TYPE_LONGLONG: return "BIGINT";
	case MYSQL_TYPE_FLOAT: return "FLOAT";
	case MYSQL_TYPE_DOUBLE: return "DOUBLE";
	case MYSQL_TYPE_DECIMAL: case MYSQL_TYPE_NEWDECIMAL: return "DECIMAL";
	case MYSQL_TYPE_DATE: case MYSQL_TYPE_NEWDATE: return "DATE";
	case MYSQL_TYPE_TIME: return "TIME";
	case MYSQL_TYPE_DATETIME: return "DATETIME";
	case MYSQL_TYPE_TIMESTAMP: return "TIMESTAMP";
	case MYSQL_TYPE_YEAR: return "YEAR";
	case MYSQL_TYPE_BIT: return "BIT";
	case MYSQL_TYPE_NULL: return "NULL";
	case MYSQL_TYPE_ENUM: return "ENUM";
	case MYSQL_TYPE_SET: return "SET";
	case MYSQL_TYPE_JSON: return "JSON";
	case MYSQL_TYPE_GEOMETRY: return "GEOMETRY";
	case MYSQL_TYPE_STRING: return binary ? "BINARY" : "CHAR";
	case MYSQL_TYPE_TINY_BLOB: case MYSQL_TYPE_MEDIUM_BLOB: case MYSQL_TYPE_LONG_BLOB:
	case MYSQL_TYPE_BLOB: return binary ? "BLOB" : "TEXT";
	default: return binary ? "VARBINARY" : "VARCHAR";
	}
}

static int is_binary_type(unsigned type, unsigned charset)
{
	if (type == MYSQL_TYPE_BIT)
		return 1;
	if (charset != MYP_CHARSET_BINARY)
		return 0;
	switch (type) {
	case MYSQL_TYPE_STRING: case MYSQL_TYPE_VAR_STRING: case MYSQL_TYPE_VARCHAR:
	case MYSQL_TYPE_TINY_BLOB: case MYSQL_TYPE_MEDIUM_BLOB: case MYSQL_TYPE_LONG_BLOB:
	case MYSQL_TYPE_BLOB: case MYSQL_TYPE_GEOMETRY:
		return 1;
	default:
		return 0;
	}
}

/* One column definition packet into the schema. */
static int take_column(struct run *r, unsigned i)
{
	struct lerd rd;
	const unsigned char *f[6];
	size_t n[6], k;
	unsigned charset, type;
	json_t *col;

	lerd_init(&rd, r->p.data, r->p.len);
	for (k = 0; k < 6; k++)
		if (!(f[k] = pkt_get_lenstr(&rd, &n[k])))
			return -EPROTO;
	pkt_get_lenenc(&rd);
	charset = lerd_u16(&rd);
	lerd_u32(&rd);
	type = lerd_u8(&rd);
	if (rd.err)
		return -EPROTO;
	r->binary[i] = (unsigned char)is_binary_type(type, charset);
	col = json_pack("{s:s%,s:s%,s:s,s:i}", "table", (const char *)f[2], n[2], "column", (const char *)f[4], n[4],
			"type", type_name(type, r->binary[i]), "is_binary", (int)r->binary[i]);
	if (!col)   /* not UTF-8: the names are the czar's or MariaDB's, never expected */
		col = json_pack("{s:s,s:s,s:s,s:i}", "table", "", "column", "?", "type", type_name(type, r->binary[i]),
				"is_binary", (int)r->binary[i]);
	return col && json_array_append_new(r->schema, col) == 0 ? 0 : -ENOMEM;
}

/* A binary value in the caller's encoding. */
static json_t *encode_binary(const unsigned char *v, size_t n, enum http_binenc enc)
{
	static const char hex[] = "0123456789ABCDEF";
	json_t *j;
	char *s;
	size_t k, out;

	if (enc == HTTP_BIN_ARRAY) {
		j = json_array();
		for (k = 0; j && k < n; k++)
			if (json_array_append_new(j, json_integer(v[k])) < 0) {
				json_decref(j);
				return NULL;
			}
		return j;
	}
	if (enc == HTTP_BIN_B64) {
		mbedtls_base64_encode(NULL, 0, &out, v, n);
		if (!(s = malloc(out + 1)) || mbedtls_base64_encode((unsigned char *)s, out + 1, &out, v, n) != 0) {
			free(s);
			return NULL;
		}
	} else {
		if (!(s = malloc(2 * n + 1)))
			return NULL;
		for (k = 0; k < n; k++) {
			s[2 * k] = hex[v[k] >> 4];
			s[2 * k + 1] = hex[v[k] & 15];
		}
		out = 2 * n;
	}
	j = json_stringn(s, out);
	free(s);
	return j;
}

/* One text row: 0, -E2BIG past the byte bound, -EPROTO, -ENOMEM. */
static int take_row(struct run *r, size_t max_bytes)
{
	struct lerd rd;
	json_t *row = json_array();
	unsigned i;

	if (!row)
		return -ENOMEM;
	lerd_init(&rd, r->p.data, r->p.len);
	for (i = 0; i < r->ncols; i++) {
		const unsigned char *v;
		size_t n = 0;
		json_t *val;

		if (lerd_remaining(&rd) && r->p.data[r->p.len - lerd_remaining(&rd)] == 0xfb) {
			lerd_u8(&rd);
			val = json_null();
		} else if (!(v = pkt_get_lenstr(&rd, &n))) {
			json_decref(row);
			return -EPROTO;
		} else if (r->binary[i]) {
			val = encode_binary(v, n, r->enc);
			n = r->enc == HTTP_BIN_ARRAY ? 4 * n : 2 * n;
		} else if (!(val = json_stringn((const char *)v, n))) {
			val = encode_binary(v, n, HTTP_BIN_HEX);   /* not UTF-8: its bytes in hex */
			n *= 2;
		}
		r->bytes += n + HTTP_VALUE_OVERHEAD;
		if (!val || json_array_append_new(row, val) < 0) {
			json_decref(row);
			return -ENOMEM;
		}
	}
	if (json_array_append_new(r->rows, row) < 0)
		return -ENOMEM;
	return r->bytes > max_bytes ? -E2BIG : 0;
}

/* The session's next packet; first waits for it, watching the caller's
 * connection: -ECONNABORTED when the client hung up. */
static int next_packet(struct run *r)
{
	struct pollfd pf[2] = { { .fd = r->in.fd, .events = POLLIN }, { .fd = r->client_fd, .events = POLLRDHUP } };

	for (;;) {
		int n = poll(pf, r->client_fd >= 0 ? 2 : 1, -1);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0 && (pf[1].revents & (POLLRDHUP | POLLHUP | POLLERR)))
			return -ECONNABORTED;
		if (n > 0 && pf[0].revents)
			return pkt_read(&r->in, &r->p, 1u << 30, 0);
	}
}

static void err_packet(struct run *r, struct http_answer *a)
{
	struct lerd rd;
	size_t n = r->p.len > 9 ? r->p.len - 9 : 0;

	lerd_init(&rd, r->p.data, r->p.len);
	lerd_u8(&rd);
	a->code = lerd_u16(&rd);
	snprintf(a->error, sizeof(a->error), "%.*s", (int)n, n ? (const char *)r->p.data + 9 : "error");
}

/* Reads the session's whole answer into a; 0 or -EIO with a->error. */
static int read_answer(struct run *r, struct http_answer *a, size_t max_bytes)
{
	struct lerd rd;
	unsigned i;
	int rc = next_packet(r);

	if (rc == -ECONNABORTED)
		return snprintf(a->error, sizeof(a->error), "the client hung up"), -EIO;
	if (rc < 0 || r->p.len == 0)
		return snprintf(a->error, sizeof(a->error), "no answer"), -EIO;
	if (r->p.data[0] == 0xff)
		return err_packet(r, a), -EIO;
	if (r->p.data[0] == 0x00)
		return 0;   /* OK: no result set, empty schema and rows */
	lerd_init(&rd, r->p.data, r->p.len);
	r->ncols = (unsigned)pkt_get_lenenc(&rd);
	if (rd.err || r->ncols == 0 || r->ncols > 4096 || !(r->binary = calloc(r->ncols, 1)))
		return snprintf(a->error, sizeof(a->error), "malformed answer"), -EIO;
	for (i = 0; rc == 0 && i < r->ncols; i++)
		if ((rc = next_packet(r)) == 0)
			rc = take_column(r, i);
	if (rc == 0)
		rc = next_packet(r);   /* EOF */
	while (rc == 0 && (rc = next_packet(r)) == 0) {
		if (r->p.len > 0 && r->p.len < 9 && r->p.data[0] == 0xfe)
			return 0;
		if (r->p.len > 0 && r->p.data[0] == 0xff)
			return err_packet(r, a), -EIO;
		rc = take_row(r, max_bytes);
	}
	if (rc == -E2BIG) {
		a->code = ER_TOO_BIG_SELECT;
		snprintf(a->error, sizeof(a->error), "The result is larger than the HTTP frontend's limit of %zu bytes "
			 "(%zu rows read); add a LIMIT, or use SUBMIT on the SQL port", max_bytes,
			 json_array_size(r->rows));
	} else {
		snprintf(a->error, sizeof(a->error), "%s", rc == -ENOMEM ? "out of memory" :
			 rc == -ECONNABORTED ? "the client hung up" : "answer cut");
	}
	return -EIO;
}

static void run_init(struct run *r, struct czar *cz, const struct http_who *who)
{
	r->fake.cz = cz;
	r->u = who->u;
	r->client_fd = who->fd;
	r->fake.admin = who->admin;
	r->fake.command = "Query";
	r->fake.status = SERVER_STATUS_AUTOCOMMIT;
	r->fake.since = time(NULL);
	r->fake.wait_timeout = cz->wait_timeout;
	snprintf(r->fake.user, sizeof(r->fake.user), "%s", who->user);
	snprintf(r->fake.host, sizeof(r->fake.host), "%s", who->host);
	pkt_conn_init(&r->fake.conn, r->fds[0]);
	r->fake.conn.write_timeout_ms = -1;   /* its reader is this thread, which drains */
	pkt_conn_init(&r->in, r->fds[1]);
	buf_init(&r->p);
}

int http_run(struct czar *cz, const struct http_who *who, const char *db, const char *sql, size_t len,
	     enum http_binenc enc, struct http_answer *a)
{
	struct run *r = calloc(1, sizeof(*r));
	pthread_t t;
	int rc;

	memset(a, 0, sizeof(*a));
	if (!r || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, r->fds) < 0) {
		free(r);
		snprintf(a->error, sizeof(a->error), "out of resources");
		return -ENOMEM;
	}
	r->sql = sql;
	r->len = len;
	r->db = db;
	r->enc = enc;
	r->schema = json_array();
	r->rows = json_array();
	run_init(r, cz, who);
	if (!r->schema || !r->rows || pthread_create(&t, NULL, runner, r) != 0) {
		snprintf(a->error, sizeof(a->error), "out of resources");
		rc = -ENOMEM;
	} else {
		rc = read_answer(r, a, cz->http_max_bytes);
		if (rc < 0)
			r->fake.killed = 1;   /* stop the query; drain what it still sends */
		while (pkt_read(&r->in, &r->p, 1u << 30, 0) == 0)
			;
		pthread_join(t, NULL);
		a->retry_after = r->fake.quota_retry_s;
	}
	if (rc == 0) {
		a->schema = r->schema;
		a->rows = r->rows;
	} else {
		json_decref(r->schema);
		json_decref(r->rows);
	}
	close(r->fds[0]);
	close(r->fds[1]);
	r->in.fd = r->fake.conn.fd = -1;
	pkt_conn_free(&r->fake.conn);
	pkt_conn_free(&r->in);
	buf_free(&r->p);
	free(r->binary);
	free(r);
	return rc;
}
