/* backend.c: pool of Connector/C connections to the czar's MariaDB. */
#include "backend.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct backend {
	char *socket, *user, *password;
	unsigned size;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned lent;                   /* connections outside the pool */
	struct backend_conn **idle;      /* up to size */
	unsigned nidle;
};

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int backend_new(const struct backend_cfg *cfg, struct backend **ret)
{
	struct backend *b = calloc(1, sizeof(*b));

	if (!b)
		return -ENOMEM;
	b->size = cfg->size ? cfg->size : 8;
	b->socket = dup_or_null(cfg->socket);
	b->user = dup_or_null(cfg->user ? cfg->user : "root");
	b->password = dup_or_null(cfg->password);
	b->idle = calloc(b->size, sizeof(*b->idle));
	if (!b->idle || !b->user || (cfg->socket && !b->socket) || (cfg->password && !b->password)) {
		backend_free(b);
		return -ENOMEM;
	}
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->cond, NULL);
	*ret = b;
	return 0;
}

static void conn_close(struct backend_conn *c)
{
	if (!c)
		return;
	if (c->my)
		mysql_close(c->my);
	free(c);
}

void backend_free(struct backend *b)
{
	unsigned i;

	if (!b)
		return;
	for (i = 0; i < b->nidle; i++)
		conn_close(b->idle[i]);
	free(b->idle);
	free(b->socket);
	free(b->user);
	free(b->password);
	pthread_mutex_destroy(&b->lock);
	pthread_cond_destroy(&b->cond);
	free(b);
}

static MYSQL *connect_one(struct backend *b, char *err, size_t errlen)
{
	MYSQL *my = mysql_init(NULL);
	unsigned timeout = 10;

	if (!my) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (!mysql_real_connect(my, NULL, b->user, b->password, NULL, 0, b->socket, 0)) {
		snprintf(err, errlen, "czar MariaDB at %s: %s", b->socket ? b->socket : "(default socket)",
			 mysql_error(my));
		mysql_close(my);
		return NULL;
	}
	return my;
}

struct backend_conn *backend_get(struct backend *b, char *err, size_t errlen)
{
	struct backend_conn *c = NULL;

	pthread_mutex_lock(&b->lock);
	while (b->nidle == 0 && b->lent >= b->size)
		pthread_cond_wait(&b->cond, &b->lock);
	if (b->nidle > 0)
		c = b->idle[--b->nidle];
	b->lent++;
	pthread_mutex_unlock(&b->lock);
	if (c)
		return c;
	c = calloc(1, sizeof(*c));
	if (c)
		c->my = connect_one(b, err, errlen);
	else
		snprintf(err, errlen, "out of memory");
	if (!c || !c->my) {
		free(c);
		backend_put(b, NULL, 1);
		return NULL;
	}
	c->thread_id = mysql_thread_id(c->my);
	return c;
}

void backend_put(struct backend *b, struct backend_conn *c, int broken)
{
	if (c && broken) {
		conn_close(c);
		c = NULL;
	}
	pthread_mutex_lock(&b->lock);
	b->lent--;
	if (c)
		b->idle[b->nidle++] = c;
	pthread_cond_signal(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

unsigned backend_use_db(struct backend *b, struct backend_conn *c, const char *db)
{
	if (!strcmp(c->db, db))
		return 0;
	if (!*db) {
		/* MariaDB cannot deselect a database; a change of user to the
		 * same account resets the session without one. */
		if (mysql_change_user(c->my, b->user, b->password, NULL) != 0)
			return mysql_errno(c->my);
		c->db[0] = 0;
		return 0;
	}
	if (mysql_select_db(c->my, db) != 0)
		return mysql_errno(c->my);
	snprintf(c->db, sizeof(c->db), "%s", db);
	return 0;
}

int backend_kill_query(struct backend *b, unsigned long thread_id)
{
	char err[256], q[64];
	MYSQL *my = connect_one(b, err, sizeof(err));
	int rc = 0;

	if (!my)
		return -ECONNREFUSED;
	snprintf(q, sizeof(q), "KILL QUERY %lu", thread_id);
	if (mysql_query(my, q) != 0)
		rc = -EIO;
	mysql_close(my);
	return rc;
}
