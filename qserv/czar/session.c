/* session.c: handshake, authentication and the command loop of one client. */
#include "session.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mariadb/mysql.h>
#include <mariadb/mysqld_error.h>

#include "log.h"
#include "monotime.h"
#include "myproto.h"
#include "query.h"

struct sess *sess_new(struct czar *cz, int fd, const char *host)
{
	struct sess *s;

	pthread_mutex_lock(&cz->lock);
	if (cz->nsessions >= cz->max_connections) {
		pthread_mutex_unlock(&cz->lock);
		struct pkt_conn c;
		pkt_conn_init(&c, fd);
		myp_err(&c, ER_CON_COUNT_ERROR, NULL, "Too many connections");
		pkt_flush(&c);
		pkt_conn_free(&c);
		close(fd);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		pthread_mutex_unlock(&cz->lock);
		close(fd);
		return NULL;
	}
	s->cz = cz;
	pkt_conn_init(&s->conn, fd);
	s->id = ++cz->next_id;
	snprintf(s->host, sizeof(s->host), "%s", host);
	s->command = "Connect";
	s->since = time(NULL);
	s->next = cz->sessions;
	if (s->next)
		s->next->prev = s;
	cz->sessions = s;
	cz->nsessions++;
	pthread_mutex_unlock(&cz->lock);
	return s;
}

static void sess_free(struct sess *s)
{
	struct czar *cz = s->cz;

	pthread_mutex_lock(&cz->lock);
	if (s->prev)
		s->prev->next = s->next;
	else
		cz->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	cz->nsessions--;
	free(s->info);
	pthread_mutex_unlock(&cz->lock);
	close(s->conn.fd);
	pkt_conn_free(&s->conn);
	free(s);
}

void sess_set_state(struct sess *s, const char *command, const char *info, size_t len)
{
	char *copy = NULL;

	if (info && (copy = malloc(len + 1))) {
		memcpy(copy, info, len);
		copy[len] = 0;
	}
	pthread_mutex_lock(&s->cz->lock);
	free(s->info);
	s->info = copy;
	s->command = command;
	s->since = time(NULL);
	pthread_mutex_unlock(&s->cz->lock);
}

/* Returns 0 when the client is in, -1 after answering with an error. */
static int authenticate(struct sess *s)
{
	unsigned char scramble[AUTH_SCRAMBLE_LEN];
	struct buf in;
	struct myp_login login;
	const struct auth_user *u;
	const unsigned char *token;
	size_t toklen;
	int rc, ok;

	if ((rc = auth_scramble(scramble)) < 0)
		return rc;
	s->conn.seq = 0;
	myp_handshake(&s->conn, s->id, scramble);
	if ((rc = pkt_flush(&s->conn)) < 0)
		return rc;
	buf_init(&in);
	rc = pkt_read(&s->conn, &in, 64 * 1024, 1);
	if (rc < 0)
		goto out;
	rc = myp_parse_login(in.data, in.len, &login);
	if (rc < 0) {
		myp_err(&s->conn, ER_HANDSHAKE_ERROR, NULL,
			rc == -EPROTO ? "Client does not speak protocol 4.1" : "Bad handshake");
		goto out_flush;
	}
	if (login.caps & CLIENT_SSL) {
		myp_err(&s->conn, ER_HANDSHAKE_ERROR, NULL, "SSL is not offered on this port");
		rc = -EPROTO;
		goto out_flush;
	}
	snprintf(s->user, sizeof(s->user), "%s", login.user);
	token = login.auth;
	toklen = login.auth_len;
	if (login.plugin[0] && strcmp(login.plugin, "mysql_native_password") != 0) {
		/* The client began with another plugin: switch it to ours and
		 * read its new answer, computed over the same scramble. */
		myp_auth_switch(&s->conn, scramble);
		if ((rc = pkt_flush(&s->conn)) < 0 || (rc = pkt_read(&s->conn, &in, 1024, 1)) < 0)
			goto out;
		token = in.data;
		toklen = in.len;
	}
	u = auth_users_find(&s->cz->users, s->user);
	ok = u && auth_native_check(u, scramble, token, toklen);
	if (!ok) {
		myp_err(&s->conn, ER_ACCESS_DENIED_ERROR, NULL,
			"Access denied for user '%s'@'%s' (using password: %s)", s->user, s->host,
			toklen ? "YES" : "NO");
		rc = -EACCES;
		goto out_flush;
	}
	if (login.db[0]) {
		unsigned e = query_check_db(s, login.db);
		if (e) {
			rc = -ENOENT;
			goto out_flush;       /* query_check_db wrote the error */
		}
		snprintf(s->db, sizeof(s->db), "%s", login.db);
	}
	myp_ok(&s->conn, 0, SERVER_STATUS_AUTOCOMMIT, NULL);
out_flush:
	if (pkt_flush(&s->conn) < 0 && rc == 0)
		rc = -EIO;
out:
	buf_free(&in);
	return rc < 0 ? -1 : 0;
}

static void com_init_db(struct sess *s, const char *db, size_t len)
{
	char name[65];

	if (len == 0 || len >= sizeof(name) || memchr(db, 0, len)) {
		myp_err(&s->conn, ER_BAD_DB_ERROR, NULL, "Unknown database '%.*s'", (int)(len > 64 ? 64 : len), db);
		return;
	}
	memcpy(name, db, len);
	name[len] = 0;
	if (query_check_db(s, name) == 0) {
		snprintf(s->db, sizeof(s->db), "%s", name);
		myp_ok(&s->conn, 0, SERVER_STATUS_AUTOCOMMIT, NULL);
	}
}

/* One command; returns 0 to go on, -ECONNRESET when the client quits. */
static int command(struct sess *s, struct buf *in)
{
	const char *arg = (const char *)in->data + 1;
	size_t n = in->len - 1;

	s->killed = 0;
	switch (in->data[0]) {
	case MYP_COM_QUIT:
		return -ECONNRESET;
	case MYP_COM_PING:
		myp_ok(&s->conn, 0, SERVER_STATUS_AUTOCOMMIT, NULL);
		break;
	case MYP_COM_INIT_DB:
		com_init_db(s, arg, n);
		break;
	case MYP_COM_QUERY: {
		int64_t t0 = monotime_ms();
		long long ms;
		sess_set_state(s, "Query", arg, n);
		query_run(s, arg, n);
		ms = (long long)(monotime_ms() - t0);
		pthread_mutex_lock(&s->cz->lock);
		s->cz->statement_ms += (uint64_t)ms;
		/* an answer that starts with an ERR packet is a failed statement */
		if (s->conn.out.len > 4 && s->conn.out.data[4] == 0xff)
			s->cz->errors++;
		pthread_mutex_unlock(&s->cz->lock);
		if (s->cz->slow_ms && ms >= s->cz->slow_ms)
			log_warn("slow query: session %u user %s: %lld ms, %u/%u chunks: %.300s", s->id, s->user, ms,
				 s->progress.done, s->progress.total, arg);
		break;
	}
	case MYP_COM_FIELD_LIST:
		sess_set_state(s, "Field List", arg, strnlen(arg, n));
		query_field_list(s, arg, n);
		break;
	case MYP_COM_RESET_CONNECTION:
		myp_ok(&s->conn, 0, SERVER_STATUS_AUTOCOMMIT, NULL);
		break;
	default:
		myp_err(&s->conn, ER_UNKNOWN_COM_ERROR, NULL, "Unknown command %u (qserv-czar speaks the text protocol)",
			in->data[0]);
		break;
	}
	sess_set_state(s, "Sleep", NULL, 0);
	return pkt_flush(&s->conn) < 0 ? -1 : 0;
}

void *sess_thread(void *arg)
{
	struct sess *s = arg;
	struct buf in;
	int rc;

	buf_init(&in);
	if (authenticate(s) < 0)
		goto out;
	sess_set_state(s, "Sleep", NULL, 0);
	for (;;) {
		s->conn.seq = 0;
		rc = pkt_read(&s->conn, &in, s->cz->max_packet, 1);
		if (rc == -EMSGSIZE) {
			myp_err(&s->conn, ER_NET_PACKET_TOO_LARGE, NULL,
				"Got a packet bigger than 'max_allowed_packet' bytes (%zu)", s->cz->max_packet);
			pkt_flush(&s->conn);
			break;
		}
		if (rc < 0 || in.len == 0)
			break;
		if (command(s, &in) < 0)
			break;
	}
out:
	buf_free(&in);
	sess_free(s);
	return NULL;
}

void sess_thread_abort(struct sess *s)
{
	sess_free(s);
}
