/* session.c: handshake, authentication and the command loop of one client. */
#include "session.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mariadb/mysql.h>
#include <mariadb/mysqld_error.h>

#include "log.h"
#include "monotime.h"
#include "myproto.h"
#include "query.h"
#include "tls.h"
#include "users.h"

static void refuse(int fd, unsigned code, const char *msg)
{
	struct pkt_conn c;

	pkt_conn_init(&c, fd);
	c.write_timeout_ms = 0;       /* never wait for a client we turn away */
	myp_err(&c, code, NULL, "%s", msg);
	pkt_flush(&c);
	pkt_conn_free(&c);
	close(fd);
}

/* Shuts down the oldest pending connection (the list is newest first) to
 * make room: its thread then fails its read and frees it.  Under cz->lock. */
static int evict_oldest_pending(struct czar *cz)
{
	struct sess *x, *oldest = NULL;

	for (x = cz->sessions; x; x = x->next)
		if (!x->logged_in && !x->evicted)
			oldest = x;
	if (!oldest)
		return -EAGAIN;
	oldest->evicted = 1;
	shutdown(oldest->conn.fd, SHUT_RDWR);
	return 0;
}

struct sess *sess_new(struct czar *cz, int fd, const char *host)
{
	struct sess *s;

	pthread_mutex_lock(&cz->lock);
	if (cz->nsessions >= cz->max_connections ||
	    (cz->npending >= cz->max_pending && evict_oldest_pending(cz) < 0)) {
		pthread_mutex_unlock(&cz->lock);
		refuse(fd, ER_CON_COUNT_ERROR, "Too many connections");
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
	s->conn.cancel = &s->killed;
	s->wait_timeout = cz->wait_timeout;
	s->status = SERVER_STATUS_AUTOCOMMIT;
	s->id = ++cz->next_id;
	snprintf(s->host, sizeof(s->host), "%s", host);
	s->command = "Connect";
	s->since = time(NULL);
	s->next = cz->sessions;
	if (s->next)
		s->next->prev = s;
	cz->sessions = s;
	cz->npending++;
	pthread_mutex_unlock(&cz->lock);
	return s;
}

int sess_evict_pending(struct czar *cz)
{
	int rc;

	pthread_mutex_lock(&cz->lock);
	rc = evict_oldest_pending(cz);
	pthread_mutex_unlock(&cz->lock);
	return rc;
}

static void sess_free(struct sess *s)
{
	sess_detach(s);
	tls_conn_free(s->tls);
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

/* Reads one packet of the login before the deadline. */
static int login_read(struct sess *s, struct buf *in, size_t max, int64_t deadline)
{
	int64_t left = deadline - monotime_ms();

	s->conn.read_timeout_ms = left > 0 ? (int)left : 0;
	return pkt_read(&s->conn, in, max, 1);
}

/* The client's login packet into *login, after a TLS handshake when the
 * client asked for one with an SSL request.  0, a negative errno after
 * answering with an error (rc -EPROTO), or a negative errno silently (the
 * connection failed or timed out). */
static int read_login(struct sess *s, struct buf *in, struct myp_login *login, int64_t deadline)
{
	char err[256];
	int rc = login_read(s, in, 64 * 1024, deadline);

	if (rc < 0)
		return rc;
	if (in->len >= 4 && (in->data[1] << 8 & CLIENT_SSL)) {
		if (!s->cz->tls) {
			myp_err(&s->conn, ER_HANDSHAKE_ERROR, NULL, "SSL is not offered on this port");
			return -EPROTO;
		}
		if (in->len != 32) {        /* a login claiming SSL without the handshake */
			myp_err(&s->conn, ER_HANDSHAKE_ERROR, NULL, "Bad handshake");
			return -EPROTO;
		}
		rc = tls_conn_new(s->cz->tls, s->conn.fd, NULL, &s->tls, err, sizeof(err));
		if (rc < 0) {
			log_debug("session %u from %s: %s", s->id, s->host, err);
			return rc;
		}
		s->conn.tls = s->tls;
		if ((rc = login_read(s, in, 64 * 1024, deadline)) < 0)
			return rc;
	}
	rc = myp_parse_login(in->data, in->len, login);
	if (rc < 0) {
		myp_err(&s->conn, ER_HANDSHAKE_ERROR, NULL,
			rc == -EPROTO ? "Client does not speak protocol 4.1" : "Bad handshake");
		return -EPROTO;
	}
	return 0;
}

/* Counts s among the logged-in sessions, within the czar's and the
 * user's limits.  0, or the MySQL error written (1040, 1226). */
static unsigned admit(struct sess *s, const struct auth_user *u)
{
	struct czar *cz = s->cz;
	unsigned limit = u->max_connections ? u->max_connections : cz->max_user_connections, mine = 0;
	unsigned code = 0;
	struct sess *x;

	pthread_mutex_lock(&cz->lock);
	for (x = cz->sessions; x; x = x->next)
		if (x->logged_in && !strcmp(x->user, s->user))
			mine++;
	if (cz->nsessions >= cz->max_connections) {
		code = ER_CON_COUNT_ERROR;
	} else if (limit && mine >= limit) {
		code = ER_USER_LIMIT_REACHED;
	} else {
		s->logged_in = 1;
		cz->npending--;
		cz->nsessions++;
	}
	pthread_mutex_unlock(&cz->lock);
	if (code == ER_CON_COUNT_ERROR)
		myp_err(&s->conn, code, NULL, "Too many connections");
	else if (code)
		myp_err(&s->conn, code, "42000", "User '%s' has exceeded the 'max_user_connections' resource "
			"(current value: %u)", s->user, limit);
	return code;
}

unsigned sess_attach(struct sess *s, const struct auth_user *u)
{
	struct czar *cz = s->cz;
	unsigned code;

	pthread_mutex_lock(&cz->lock);
	s->id = ++cz->next_id;
	s->next = cz->sessions;
	if (s->next)
		s->next->prev = s;
	cz->sessions = s;
	cz->npending++;
	pthread_mutex_unlock(&cz->lock);
	if ((code = admit(s, u)) != 0)
		sess_detach(s);
	return code;
}

void sess_detach(struct sess *s)
{
	struct czar *cz = s->cz;

	pthread_mutex_lock(&cz->lock);
	if (s->prev)
		s->prev->next = s->next;
	else
		cz->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	if (s->logged_in)
		cz->nsessions--;
	else
		cz->npending--;
	s->prev = s->next = NULL;
	s->logged_in = 0;
	free(s->info);
	s->info = NULL;
	pthread_mutex_unlock(&cz->lock);
}

/* Returns 0 when the client is in, -1 after answering with an error or
 * when the connection failed or the login timed out. */
static int authenticate(struct sess *s)
{
	unsigned char scramble[AUTH_SCRAMBLE_LEN];
	int64_t deadline = monotime_ms() + s->cz->login_timeout_ms;
	struct buf in;
	struct myp_login login;
	const struct auth_user *u;
	struct auth_user acct;
	const unsigned char *token;
	size_t toklen;
	int rc, ok;

	if ((rc = auth_scramble(scramble)) < 0)
		return rc;
	s->conn.seq = 0;
	s->conn.write_timeout_ms = s->cz->login_timeout_ms;
	myp_handshake(&s->conn, s->id, scramble, s->cz->tls ? CLIENT_SSL : 0);
	if ((rc = pkt_flush(&s->conn)) < 0)
		return rc;
	buf_init(&in);
	rc = read_login(s, &in, &login, deadline);
	if (rc == -EPROTO)
		goto out_flush;
	if (rc < 0)
		goto out;
	snprintf(s->user, sizeof(s->user), "%s", login.user);
	token = login.auth;
	toklen = login.auth_len;
	if (login.plugin[0] && strcmp(login.plugin, "mysql_native_password") != 0) {
		/* The client began with another plugin: switch it to ours and
		 * read its new answer, computed over the same scramble. */
		myp_auth_switch(&s->conn, scramble);
		if ((rc = pkt_flush(&s->conn)) < 0 || (rc = login_read(s, &in, 1024, deadline)) < 0)
			goto out;
		token = in.data;
		toklen = in.len;
	}
	u = users_get(s->cz, s->user, &acct) == 0 ? &acct : NULL;
	ok = u && auth_native_check(u, scramble, token, toklen);
	if (!ok || (u->require_ssl && !s->tls)) {
		/* MySQL answers a REQUIRE SSL user's plain-text login so too */
		myp_err(&s->conn, ER_ACCESS_DENIED_ERROR, NULL,
			"Access denied for user '%s'@'%s' (using password: %s)", s->user, s->host,
			toklen ? "YES" : "NO");
		rc = -EACCES;
		goto out_flush;
	}
	if (users_check_login(s, u) || admit(s, u)) {
		rc = -EUSERS;
		goto out_flush;
	}
	s->admin = u->admin;
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
		myp_ok(&s->conn, 0, s->status, NULL);
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
		myp_ok(&s->conn, 0, s->status, NULL);
		break;
	case MYP_COM_INIT_DB:
		com_init_db(s, arg, n);
		break;
	case MYP_COM_QUERY: {
		int64_t t0 = monotime_ms();
		long long ms;
		sess_set_state(s, "Query", arg, n);
		stages_start(&s->stages);
		query_run(s, arg, n);
		stages_finish(&s->stages);
		ms = (long long)(monotime_ms() - t0);
		pthread_mutex_lock(&s->cz->lock);
		s->cz->statement_ms += (uint64_t)ms;
		/* an answer that starts with an ERR packet is a failed statement */
		if (s->conn.out.len > 4 && s->conn.out.data[4] == 0xff)
			s->cz->errors++;
		pthread_mutex_unlock(&s->cz->lock);
		if (s->cz->slow_ms && ms >= s->cz->slow_ms) {
			char st[200];
			stages_format(&s->stages, st, sizeof(st));
			log_warn("slow query: session %u user %s: %lld ms, %u/%u chunks (%s): %.300s", s->id, s->user,
				 ms, s->progress.done, s->progress.total, st, s->info ? s->info : "");   /* an account
				 * statement's info is its summary, without the password (users.h) */
		}
		break;
	}
	case MYP_COM_FIELD_LIST:
		sess_set_state(s, "Field List", arg, strnlen(arg, n));
		query_field_list(s, arg, n);
		break;
	case MYP_COM_RESET_CONNECTION:
		s->status = SERVER_STATUS_AUTOCOMMIT;   /* session settings back to their defaults */
		s->wait_timeout = s->cz->wait_timeout;
		myp_ok(&s->conn, 0, s->status, NULL);
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
	s->conn.write_timeout_ms = s->cz->write_timeout_ms;
	for (;;) {
		s->conn.seq = 0;
		s->conn.read_timeout_ms = s->wait_timeout > 2000000 ? 2000000000 : (int)s->wait_timeout * 1000;
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
