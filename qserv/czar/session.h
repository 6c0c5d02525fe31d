/* session.h: one client connection of the czar, from handshake to close.
 *
 * A session runs on its own thread: handshake, authentication, then the
 * command loop (COM_QUERY, COM_INIT_DB, COM_PING, COM_FIELD_LIST, COM_QUIT;
 * anything else gets ER_UNKNOWN_COM_ERROR).  Fields shown by SHOW
 * PROCESSLIST (command, info, start) change only under czar.lock.
 *
 * Limits: the whole login (TLS handshake included) must finish within the
 * czar's login timeout; a logged-in session idle for wait_timeout seconds
 * (SET [SESSION] wait_timeout = N changes it) is closed; a client that
 * reads nothing of an answer for the write timeout, or whose statement is
 * killed while it does not read, is dropped. */
#ifndef QSERV_CZAR_SESSION_H
#define QSERV_CZAR_SESSION_H

#include <signal.h>
#include <stdint.h>
#include <time.h>

#include "czar.h"
#include "stages.h"
#include "packet.h"

struct sess {
	struct czar *cz;
	struct pkt_conn conn;
	uint32_t id;
	char user[AUTH_NAME_MAX + 1];
	char db[65];
	char host[64];
	struct tls_conn *tls;         /* the session's TLS (NULL: plain text) */
	int admin;                    /* its user may see and KILL every session */
	unsigned wait_timeout;        /* idle seconds before the czar closes it */
	uint16_t status;              /* server status of OK/EOF: SERVER_STATUS_AUTOCOMMIT unless SET autocommit = 0 */
	/* under cz->lock */
	const char *command;          /* "Connect", "Sleep", "Query", ... */
	int logged_in;                /* counted in nsessions (else npending) */
	int evicted;                  /* shut down to make room for a newer login */
	char *info;                   /* current statement (owned) or NULL */
	time_t since;
	unsigned long backend_tid;    /* czar MariaDB thread running our query */
	volatile sig_atomic_t killed; /* KILL QUERY from another session */
	uint64_t qid;                 /* Qserv query id of the running statement (0: none) */
	uint64_t hist_id;             /* its history id, set before it runs (async.h) */
	int async;                    /* a SUBMIT's detached session (no SYNC history row) */
	struct dispatch_progress progress;   /* its chunks done/total */
	struct stage_times stages;    /* the running statement's stage timers (stages.h) */
	uint64_t rows_sent, bytes_sent;      /* result rows (and their value bytes) written for it */
	int quota_held;               /* its statement holds a concurrent slot (quota_czar.h) */
	unsigned quota_retry_s;       /* a quota refused its statement: seconds to wait */
	char lr_error[300];           /* a streamed result stopped by --max-result-bytes: Qserv's message */
	struct sess *prev, *next;
};

/* Registers a session for fd (the connection is owned from here on) as
 * pending login; when max_pending are pending the oldest one is shut down.
 * Returns NULL when max_connections users are logged in (fd then closed
 * after an ER_CON_COUNT_ERROR packet) or out of memory. */
struct sess *sess_new(struct czar *cz, int fd, const char *host);
/* Sets what SHOW PROCESSLIST shows (info copied; NULL clears it). */
void sess_set_state(struct sess *s, const char *command, const char *info, size_t len);
/* Thread body: serves the connection, closes it and frees s. */
void *sess_thread(void *s);

/* Shuts down the oldest connection still waiting for its login (the
 * accept loop's answer to running out of descriptors).  0, or -EAGAIN
 * when none is left to evict. */
int sess_evict_pending(struct czar *cz);

/* A detached session (an HTTP frontend statement, http.h) joins the list
 * as a logged-in session of user u: in SHOW PROCESSLIST, KILL-able,
 * counted against max_connections and u's max_user_connections.  0, or
 * the MySQL error (ER_CON_COUNT_ERROR, ER_USER_LIMIT_REACHED) written to
 * s->conn and s left off the list.  sess_detach takes it off again (and
 * frees its info). */
unsigned sess_attach(struct sess *s, const struct auth_user *u);
void sess_detach(struct sess *s);

/* Closes and frees a session whose thread could not start. */
void sess_thread_abort(struct sess *s);

#endif
