/* czar.h: state shared by every session of one qserv-czar process.
 *
 * struct czar is created by main before the first accept and lives until
 * exit.  lock guards the session list and the counters; everything else is
 * read-only after start.  A session is on the list from its first byte to
 * its close, so SHOW PROCESSLIST and KILL see every connection.
 *
 * Connections are counted in two pools: npending (accepted, not logged in;
 * at most max_pending, the oldest evicted for a new one, each closed after
 * login_timeout_ms) and nsessions (logged in; at most max_connections, and
 * max_user_connections per user), so idle or slow sockets that never log
 * in cannot take the places of users. */
#ifndef QSERV_CZAR_CZAR_H
#define QSERV_CZAR_CZAR_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "backend.h"
#include "dispatch.h"
#include "meta.h"

struct sess;
struct users_db;
struct async_job;
struct history_queue;
struct tls_config;
struct quota;

struct czar {
	struct auth_users users;      /* under users_db's lock (users.h) */
	struct users_db *users_db;    /* roles, grants, limits (users.h) */
	struct backend *backend;
	size_t max_packet;            /* largest client packet accepted */
	unsigned max_connections;     /* logged-in sessions */
	unsigned max_user_connections;   /* per user (0: no limit) unless its users line says */
	unsigned max_pending;         /* connections not logged in yet */
	int login_timeout_ms;         /* handshake to login */
	unsigned wait_timeout;        /* default idle timeout of a session (s) */
	int write_timeout_ms;         /* a client that reads nothing for that long is dropped */
	struct tls_config *tls;       /* TLS offered on the port (NULL: plain only) */
	struct backend *user_backend; /* users' local statements: restricted account */
	char account_name[32];        /* its MariaDB user, qserv_sql_<port> (account.h) */
	char account_pw[33];          /* its password, in memory only */
	unsigned local_timeout;       /* its statements' time limit (s) */
	struct backend *merge_backend;   /* merge SELECTs: the merge account (account.h) */
	char merge_name[32];          /* its MariaDB user, qserv_merge_<port> */
	char merge_pw[33];            /* its password, in memory only */

	pthread_mutex_t lock;
	struct sess *sessions;        /* doubly linked, newest first */
	unsigned nsessions;           /* logged in */
	unsigned npending;            /* not yet logged in */
	uint32_t next_id;
	uint64_t queries, errors;     /* totals since start */
	uint64_t chunk_queries;       /* chunk queries completed since start */
	uint64_t statement_ms;        /* time spent answering statements */
	uint64_t next_qid;            /* atomic; query ids (start time << 24 | n) */

	struct dispatch *dispatch;    /* NULL: no worker TLS configured */
	uint64_t max_result_rows;     /* merge-table limit per query */
	uint64_t max_result_bytes;    /* result bytes (values) per query, Qserv's FAILED_LR (0: none) */
	size_t http_max_bytes;        /* an HTTP frontend result's JSON bound (http.h) */
	int port;                     /* CZAR_ID of its query history rows (async.h) */
	unsigned result_ttl;          /* s an unclaimed SUBMIT result is kept */
	unsigned history_max;         /* query history rows kept */
	struct history_queue *hq;     /* the history writer (history_queue.h); NULL: write inline */
	unsigned hq_ends;             /* atomic; finished rows written, for pruning every 32 */
	struct async_job *jobs;       /* running SUBMITs, under lock */
	struct backend *async_backend;   /* admin connections SUBMIT results are written on */
	unsigned slow_ms;             /* slow-query log threshold (0: off) */
	int row_counters;             /* atomic; SET GLOBAL QSERV_ROW_COUNTER_OPTIMIZATION (default 1) */

	struct index_cache *index_cache;   /* director-index answers (index_cache.h); NULL: off */
	uint64_t index_epoch;         /* atomic; the cache's epoch, bumped when published databases change */
	struct dmap *dmap;            /* director indexes in memory (director_map.h); NULL: off */

	pthread_mutex_t meta_lock;    /* meta, meta_ms */
	struct meta *meta;            /* latest snapshot of qservMeta */
	int64_t meta_ms;              /* when it was loaded (monotonic ms) */
	uint64_t meta_gen;            /* atomic; bumped by each metadata notice (notify.h) */
	uint64_t meta_loaded_gen;     /* meta_gen when meta's load began */
	uint64_t catalog_gen;         /* atomic; bumped by each notice that the published catalog changed */
	uint64_t meta_loaded_catalog_gen;   /* catalog_gen when meta's load began */
	uint64_t meta_print;          /* meta_fingerprint of meta */

	struct quota *quota;          /* per-user quotas (quota.h); NULL: none enforced */
};

#endif
