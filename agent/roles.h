/* roles.h: the node's Qserv role daemons, started once MariaDB answers and
 * (when the node is in a cluster) the node has joined.
 *
 *   czar node:   qserv-controller (ingest API, :25081) and qserv-czar (SQL,
 *                :4040), supervised; the czar's users file is made on first
 *                boot with a generated password kept on the node's data dir;
 *                ready workers of the cluster map are registered into the
 *                controller (POST /meta/worker {id, host, ingest_port,
 *                query_port, zone}, zone "" when the map gives none) and
 *                re-registered when their address or failure zone changes; workers the registry marks removed are
 *                deleted from it (DELETE /meta/worker/<name>) and from
 *                /status qserv.registered_workers.
 *                The czar also makes the cluster admin key on first boot
 *                (<data_dir>/czar/admin.key, 0600, printed on the console
 *                as "admin key: ..."): qserv-controller takes it with
 *                --auth-key-file and serves HTTPS with the czar's
 *                certificate; this agent calls it on its loopback copy
 *                (:25082) with the key.
 *   worker node: qserv-worker --id <registry name> (ingest :25004 over
 *                HTTPS with the node's certificate, chunk queries over
 *                mutual TLS :25005).  The worker learns the admin key's
 *                SHA-256, never the key: this agent fetches GET
 *                /meta/auth-key-sha256 from the czar's controller over
 *                HTTPS (the cluster CA and the role "czar" checked) into
 *                <data_dir>/worker/admin.key.sha256, which qserv-worker
 *                reads (--auth-key-sha256-file) once it is there.
 *
 * The TLS dir the Qserv daemons read (<data_dir>/tls: ca.pem, NAME.pem,
 * NAME.key) is made of symlinks to the join credentials in <data_dir>/agent.
 * This is daemon-side code: it logs.  roles_tick is called from the agent's
 * 1 s tick; it never blocks longer than a local HTTP request (2 s bound). */
#ifndef AGENT_ROLES_H
#define AGENT_ROLES_H

#include "config.h"
#include "supervise.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define ROLES_AGENT_STATUS_PORT 9400   /* the agent's /status (qagent --status-port default) */
#define ROLES_SQL_PORT 4040
#define ROLES_HTTP_PORT 4041        /* the czar's HTTPS query frontend (Qserv's port) */
#define ROLES_CONTROLLER_PORT 25081
#define ROLES_CONTROLLER_LOCAL_PORT 25082   /* the controller's loopback copy, for this agent */
#define ROLES_WORKER_INGEST_PORT 25004
#define ROLES_WORKER_QUERY_PORT 25005
#define ROLES_CZAR_USER "qsmaster"

#define ROLES_MAX_CHUNK_DIRS 8
#define ROLES_CHUNK_DIRS_FILE "chunk-dirs"   /* under data_dir: qserv-worker --chunk-dirs-file */

struct roles {
	enum agent_role role;
	bool in_cluster;            /* a registry to join (czar: always) */
	char data_dir[256];         /* <data_dir>/agent holds the join credentials */
	char staging[256];
	char socket[128];           /* the local MariaDB */
	char hostname[64];          /* worker id when not in a cluster */
	bool started, told_waiting;
	char name[64];              /* registry name once joined */
	char password[64];          /* czar: the SQL user's password */
	char admin_key[72];         /* czar: the cluster admin key (64 hex) */
	bool have_key_sha;          /* worker: the admin key's SHA-256 is on disk */
	uint64_t next_key_fetch_ms; /* worker: next try to fetch it from the controller */
	json_t *registered;         /* czar: {worker name: addr} in the controller */
	json_t *registered_zone;    /* czar: {worker name: zone} in the controller ("" none) */
	json_t *removed;            /* czar: {worker name: dropped from the controller?} */
	json_t *health;             /* czar: {worker name: "down"|"up"} last told to the controller */
	uint64_t next_sync_ms;
	char bin[128];              /* where the daemons are (/usr/bin; tests change it) */
	char chunk_dirs[ROLES_MAX_CHUNK_DIRS][256]; /* worker: chunk tables spread over these */
	size_t n_chunk_dirs;
	int controller_port;        /* ROLES_CONTROLLER_LOCAL_PORT; tests change it */
	/* czar: alert sinks and the firefighter flock's catalog (roles_set_ops) */
	char cluster[64], alert_webhook[256], alert_slack[256], alert_sentry[256], firefighter[65];
};

/* The czar node's operations settings (config keys alert_webhook,
 * alert_slack, alert_sentry, firefighter; docs/operations.md): the
 * controller sends its alerts there, and with a firefighter catalog a
 * qserv-mobu flock runs on the node for ever (ROLES_FIREFIGHTER_METRICS_PORT,
 * loopback), alerting below a 95% success rate.  Before roles_tick starts
 * the role. */
void roles_set_ops(struct roles *r, const char *cluster, const char *webhook, const char *slack, const char *sentry,
		   const char *firefighter);
#define ROLES_FIREFIGHTER_METRICS_PORT 9402

/* Fills r (nothing starts yet).  data_dir may be "" (no membership). */
void roles_init(struct roles *r, enum agent_role role, bool in_cluster, const char *data_dir,
		const char *staging, const char *socket, const char *hostname);
/* Worker: the chunk directories of MariaDB's pool (storage report), one per
 * disk; created and given to MariaDB's user and written (when more than
 * one) to <data_dir>/ROLES_CHUNK_DIRS_FILE, which qserv-worker reads again
 * whenever it changes.  Call again after a disk joins or leaves the pool. */
void roles_set_chunk_dirs(struct roles *r, char *const *dirs, size_t n);
/* Called every tick once MariaDB answers: starts the daemons when the
 * credentials are there, keeps the controller's worker list in step. */
void roles_tick(struct roles *r, struct supervisor *sup, uint64_t now_ms);
/* Czar: one pass of the sync of the cluster map's ready workers into the
 * controller (roles_tick runs it every few seconds once started; public
 * for qroles-sync, the host test's driver against a real controller). */
void roles_sync_workers(struct roles *r);
/* Adds "qserv": {...} (role state, czar SQL endpoint and user) to status. */
void roles_status(const struct roles *r, json_t *status);
void roles_free(struct roles *r);

#endif
