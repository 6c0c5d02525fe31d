/* registry_int.h: the registry server's insides, shared by its files and
 * private to agent/registry/ (the public API is registry.h).
 *
 *   registry.c          start/stop, listeners, accept and monitor threads,
 *                       one thread per connection, handshake slots
 *   registry_map.c      the cluster map: JSON, change log, deltas, cache
 *   registry_join.c     a node's connection: JOIN, then the HELLO/HEARTBEAT
 *                       session
 *   registry_ca.c       the cluster CA, the server certificate, signing
 *                       node certificates
 *   registry_admin.c    the admin socket (qservctl) and the operator API
 *                       behind it: token, remove/readmit, status, metrics
 *   registry_limit.c    per-address limits: the JOIN rate limit and the
 *                       cap on connections not past their first message
 *   registry_proof.c    the node-key proof of a known machine's re-join
 *
 * struct registry: everything below `lock` is guarded by it, except what is
 * set once at start (tls, ca_pem, ca_key_pem, pin, state_path, port,
 * down_after_ms, event).  Functions named *_locked expect it held. */
#ifndef AGENT_REGISTRY_INT_H
#define AGENT_REGISTRY_INT_H

#include "registry.h"
#include "registry_msg.h"
#include "registry_state.h"

#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdint.h>

#define MAX_CONNS 8192
/* Handshakes (and join signing) in progress at once.  A rack powering on
 * opens hundreds of connections together; with every handshake sharing the
 * CPU fairly none would finish before its deadline.  Queued connections wait
 * for a slot first, so the work is done in arrival order. */
#define HANDSHAKE_SLOTS 32
/* A connection must send its first bytes (TLS ClientHello) within
 * HELLO_WAIT_MS before it queues for a slot; once holding one it has
 * HANDSHAKE_MS for the handshake and FIRST_MSG_MS for its first message
 * (JOIN, HELLO, PROOF): an idle or trickling socket holds a slot a few
 * seconds at most. */
/* Connections of one source address not past their first message (from
 * accept until the handshake slot is given back): beyond this many the
 * registry closes a new one at once, so one address cannot hold the slots
 * (or threads) with idle sockets.  A booting node needs one. */
#define HANDSHAKES_PER_ADDR 4
#define HELLO_WAIT_MS 5000
#define HANDSHAKE_MS 5000
#define FIRST_MSG_MS 5000
#define MAP_LOG 512        /* map changes remembered for deltas */
#define JOIN_TIMEOUT_MS 10000
#define RATE_TABLE 1024    /* source addresses the JOIN rate limit remembers */
#define CERT_DAYS (10 * 365)
#define CA_DAYS (20 * 365)

struct map_change {
	uint64_t version;
	size_t node;            /* index in st.nodes (records are never removed) */
};

struct rate_entry {
	char addr[64];
	double tokens;
	uint64_t last_ms;       /* 0 = free */
};

struct pending_addr {
	uint32_t addr;          /* IPv4, network order */
	int n;                  /* its connections not past their first message */
};

struct registry {
	pthread_mutex_t lock;
	pthread_cond_t idle;              /* nconns reached 0 */
	struct reg_state st;
	char state_path[512];
	char *ca_pem, *ca_key_pem;
	char pin[TLS_PIN_LEN];
	struct tls_config *tls;
	char self_uuid[TLS_ID_MAX];
	char self_addr[64];               /* the czar's address as workers reach it */
	int down_after_ms;
	uint64_t map_version;
	char epoch[17];                   /* random per run: versions of another run differ */
	struct map_change changes[MAP_LOG];
	char *map_cache;                  /* JSON of the map at map_cache_version */
	uint64_t map_cache_version;
	int lfd, afd, wake[2];
	uint16_t port;
	char admin_path[108];
	bool stopping;
	int conn_fds[MAX_CONNS];
	int nconns;
	pthread_t accept_th, monitor_th;
	sem_t slots;
	int join_burst, join_per_min;     /* join_burst < 0: no limit */
	bool limit_loopback;
	struct rate_entry rate[RATE_TABLE];
	struct pending_addr pending[MAX_CONNS];   /* addresses with n > 0, first npending */
	int npending;
	reg_event_fn event;
	void *event_ctx;
	reg_disk_alert_fn disk_alert;
	void *disk_alert_ctx;
	/* counters */
	uint64_t joins_ok, joins_refused, heartbeats, sessions, handshake_failures;
	uint64_t takeovers_refused, rate_limited, idle_closed, handshakes_capped;
};

struct conn {
	struct registry *r;
	int fd;
	bool admin;
	bool slot;          /* holds a handshake slot */
	bool pending;       /* counted in r->pending (until its slot is given back) */
	uint32_t addr4;     /* peer IPv4, network order */
	char peer[64];
	char local[64];     /* our address on this connection */
};

/* registry_disks.c: tell opts.disk_alert what changed between a node's
 * previous health and its new one.  Caller holds the lock. */
void reg_disk_problems_locked(struct registry *r, const char *node, json_t *old_health, json_t *new_health);

/* registry.c */
void reg_ev(struct registry *r, enum reg_event_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Send an ERROR, then drain the connection so the peer reads it. */
void reg_refuse(struct conn *c, struct tls_conn *t, const char *code, const char *what);
/* Give the connection's handshake slot to the next one (idempotent). */
void reg_slot_give(struct conn *c);
void reg_learn_self_addr_locked(struct registry *r, const struct conn *c);
/* Address to record for node n seen on connection c. */
const char *reg_node_addr(const struct registry *r, const struct conn *c, const struct reg_node *n);

/* registry_map.c */
json_t *reg_map_node_json(const struct reg_node *n);
void reg_map_changed_locked(struct registry *r, const struct reg_node *n);
json_t *reg_map_delta_locked(struct registry *r, uint64_t since);
const char *reg_map_text_locked(struct registry *r);
json_t *reg_map_get_locked(struct registry *r);

/* registry_join.c */
void reg_handle_join(struct conn *c, struct tls_conn *t, json_t *req);
void reg_handle_session(struct conn *c, struct tls_conn *t, const struct tls_identity *id, bool after_join);
void reg_removed_message(const char *name, char *buf, size_t len);

/* registry_ca.c */
int reg_ca_load_or_create(struct registry *r, const char *dir, const char *cluster, char *err, size_t errlen);
int reg_ca_server_tls(struct registry *r, char *err, size_t errlen);
/* The identity a certificate of node n carries. */
void reg_ca_node_identity(const struct registry *r, const struct reg_node *n, struct tls_identity *ret_id);
/* The subjectAltName entries of node n reached at addr (TLS_SAN_MAX at
 * most): its name, addr, for the czar also this machine's addresses. */
size_t reg_ca_node_san(const struct registry *r, const struct reg_node *n, const char *addr,
		       char (*list)[64]);
int reg_ca_sign_node(struct registry *r, const struct reg_node *n, const char *addr, const char *csr,
		     uint64_t serial, char **ret_cert, char *err, size_t errlen);

/* registry_limit.c: true when a JOIN from addr may go on (a token taken);
 * caller holds the lock. */
bool reg_rate_take_locked(struct registry *r, const char *addr, uint64_t now_ms);
/* A new connection from addr (IPv4, network order) not past its first
 * message: true when counted, false when addr has HANDSHAKES_PER_ADDR
 * already (handshakes_capped counted; loopback exempt unless
 * limit_loopback).  reg_pending_give_locked undoes a true.  Caller holds
 * the lock. */
bool reg_pending_take_locked(struct registry *r, uint32_t addr);
void reg_pending_give_locked(struct registry *r, uint32_t addr);

/* registry_admin.c */
void reg_handle_admin(struct conn *c);
json_t *reg_nodes_json_locked(struct registry *r);

#endif
