/* registry.c: the cluster registry server (see registry.h).
 *
 * One port, two kinds of connection, told apart by the TLS handshake:
 * without a client certificate the only accepted message is JOIN (token +
 * CSR -> identity + certificate + map); with a certificate our CA signed,
 * the connection is the node's session (HELLO, then HEARTBEAT/ACK every
 * few seconds).  A session certificate must be the newest one issued to
 * that machine (serial check), so a re-join retires older certificates.
 *
 * Decommissioning: `qservctl nodes remove NAME` marks the record removed
 * (persisted); from then on a join, a session or a heartbeat of that machine
 * is refused with code node_removed, naming the node, until an operator
 * re-admits it (`qservctl nodes readmit NAME`).  The record stays, so the
 * name and ordinal are never handed to another machine.
 *
 * Failure handling: every refusal sends an ERROR message with a code and a
 * sentence, reports it through the event callback, and changes no state; a
 * join whose signing or persisting fails is rolled back.  After an error the
 * connection is drained briefly before close so the peer reads our ERROR
 * instead of a TCP reset.
 *
 * State file layout in state_dir: ca.crt, ca.key (0600), state.json (0600). */
#include "registry.h"
#include "registry_msg.h"
#include "registry_state.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 8192
/* Handshakes (and join signing) in progress at once.  A rack powering on
 * opens hundreds of connections together; with every handshake sharing the
 * CPU fairly none would finish before its deadline.  Queued connections wait
 * for a slot first, so the work is done in arrival order. */
#define HANDSHAKE_SLOTS 8
#define MAP_LOG 512        /* map changes remembered for deltas */

struct map_change {
	uint64_t version;
	size_t node;            /* index in st.nodes (records are never removed) */
};
#define JOIN_TIMEOUT_MS 10000
#define CERT_DAYS (10 * 365)
#define CA_DAYS (20 * 365)

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
	reg_event_fn event;
	void *event_ctx;
	/* counters */
	uint64_t joins_ok, joins_refused, heartbeats, sessions, handshake_failures;
};

struct conn {
	struct registry *r;
	int fd;
	bool admin;
	bool slot;          /* holds a handshake slot */
	char peer[64];
	char local[64];     /* our address on this connection */
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void ev(struct registry *r, enum reg_event_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void ev(struct registry *r, enum reg_event_level lvl, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	if (!r->event)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->event(r->event_ctx, lvl, msg);
}

/* ---- cluster map ----------------------------------------------------------- */

/* The map's entry for one node. */
static json_t *map_node_json(const struct reg_node *n)
{
	return json_pack("{s:s, s:s, s:i, s:s, s:s}", "name", n->name, "role", n->role,
			 "ordinal", n->ordinal, "addr", n->addr, "state", reg_node_state_name(n->state));
}

/* Caller holds the lock. */
static json_t *map_json_locked(struct registry *r)
{
	json_t *nodes = json_array(), *czar = json_null();
	for (size_t i = 0; i < r->st.n; i++) {
		const struct reg_node *n = r->st.nodes[i];
		if (!strcmp(n->role, "czar") && json_is_null(czar))
			czar = json_pack("{s:s, s:s, s:s}", "name", n->name, "addr", n->addr,
					 "state", reg_node_state_name(n->state));
		json_array_append_new(nodes, map_node_json(n));
	}
	return json_pack("{s:I, s:s, s:s, s:o, s:o}", "version", (json_int_t)r->map_version,
			 "epoch", r->epoch, "cluster", r->st.cluster, "czar", czar, "nodes", nodes);
}

/* Every change to the map is one node's entry: log which, so a node that
 * is a few versions behind gets only the entries that changed (a delta)
 * instead of the whole map.  With a thousand nodes booting, full maps in
 * every acknowledgement would cost O(nodes^2) bytes. */
static void map_changed_locked(struct registry *r, const struct reg_node *n)
{
	r->map_version++;
	for (size_t i = 0; i < r->st.n; i++) {
		if (r->st.nodes[i] == n) {
			r->changes[r->map_version % MAP_LOG].version = r->map_version;
			r->changes[r->map_version % MAP_LOG].node = i;
			break;
		}
	}
}

/* Entries changed after version `since`, as a JSON array (new reference),
 * or NULL when the log no longer reaches back that far. */
static json_t *map_delta_locked(struct registry *r, uint64_t since)
{
	if (since >= r->map_version || r->map_version - since >= MAP_LOG)
		return NULL;
	unsigned char *seen = calloc(r->st.n ? r->st.n : 1, 1);
	json_t *a = json_array();
	/* newest first, one entry per node (its current state) */
	for (uint64_t v = r->map_version; v > since && seen; v--) {
		const struct map_change *c = &r->changes[v % MAP_LOG];
		if (c->version != v || c->node >= r->st.n) {
			json_decref(a);
			free(seen);
			return NULL;
		}
		if (!seen[c->node]) {
			seen[c->node] = 1;
			json_array_append_new(a, map_node_json(r->st.nodes[c->node]));
		}
	}
	if (!seen) {
		json_decref(a);
		return NULL;
	}
	free(seen);
	return a;
}

/* Map as JSON text, rebuilt only when it changed (owned by the registry,
 * valid until the lock is released). */
static const char *map_text_locked(struct registry *r)
{
	if (!r->map_cache || r->map_cache_version != r->map_version) {
		json_t *m = map_json_locked(r);
		free(r->map_cache);
		r->map_cache = json_dumps(m, JSON_COMPACT);
		r->map_cache_version = r->map_version;
		json_decref(m);
	}
	return r->map_cache ? r->map_cache : "null";
}

/* Map as a JSON object (new reference). */
static json_t *map_get_locked(struct registry *r)
{
	return json_loads(map_text_locked(r), 0, NULL);
}

/* ---- connection bookkeeping ------------------------------------------------ */

static int conn_register(struct registry *r, int fd)
{
	int ok = -1;
	pthread_mutex_lock(&r->lock);
	if (!r->stopping && r->nconns < MAX_CONNS) {
		r->conn_fds[r->nconns++] = fd;
		ok = 0;
	}
	pthread_mutex_unlock(&r->lock);
	return ok;
}

static void conn_unregister(struct registry *r, int fd)
{
	pthread_mutex_lock(&r->lock);
	for (int i = 0; i < r->nconns; i++) {
		if (r->conn_fds[i] == fd) {
			r->conn_fds[i] = r->conn_fds[--r->nconns];
			break;
		}
	}
	if (r->nconns == 0)
		pthread_cond_broadcast(&r->idle);
	pthread_mutex_unlock(&r->lock);
}

/* After an ERROR: stop sending, swallow what the peer still sends for a
 * moment, so closing does not turn into a reset that eats our ERROR. */
static void drain(int fd)
{
	char buf[4096];
	uint64_t end = mono_ms() + 500;
	size_t total = 0;
	shutdown(fd, SHUT_WR);
	while (total < (4u << 20)) {
		uint64_t now = mono_ms();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (now >= end || poll(&p, 1, (int)(end - now)) <= 0)
			break;
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n <= 0)
			break;
		total += (size_t)n;
	}
}

static void refuse(struct conn *c, struct tls_conn *t, const char *code, const char *what)
{
	reg_msg_send_error(tls_io_write, t, code, what);
	drain(c->fd);
}

/* Wait for a handshake slot; false when the registry is stopping. */
static bool slot_take(struct registry *r)
{
	while (!r->stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		if (sem_timedwait(&r->slots, &ts) == 0)
			return true;
	}
	return false;
}

static void slot_give(struct conn *c)
{
	if (c->slot) {
		c->slot = false;
		sem_post(&c->r->slots);
	}
}

/* The czar joins its own registry over loopback; the map must show the
 * address workers reach it at, which the registry learns from the local
 * end of their connections.  Caller holds the lock. */
static bool loopback(const char *a)
{
	return !strncmp(a, "127.", 4);
}

static void learn_self_addr_locked(struct registry *r, const struct conn *c)
{
	if (!c->local[0] || loopback(c->local) || !strcmp(r->self_addr, c->local))
		return;
	snprintf(r->self_addr, sizeof(r->self_addr), "%s", c->local);
	struct reg_node *self = r->self_uuid[0] ? reg_state_find(&r->st, r->self_uuid) : NULL;
	if (self && strcmp(self->addr, r->self_addr)) {
		snprintf(self->addr, sizeof(self->addr), "%s", r->self_addr);
		map_changed_locked(r, self);
	}
}

/* Address to record for node n seen on connection c. */
static const char *node_addr(const struct registry *r, const struct conn *c, const struct reg_node *n)
{
	if (loopback(c->peer) && r->self_addr[0] && !strcmp(n->uuid, r->self_uuid))
		return r->self_addr;
	return c->peer;
}

static void handle_session(struct conn *c, struct tls_conn *t, const struct tls_identity *id, bool after_join);

/* ---- join ------------------------------------------------------------------ */

/* The refusal a removed machine gets, on every path (join, session,
 * heartbeat): its log must say plainly what happened and what undoes it. */
static void removed_message(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "node %s was removed from the cluster (qservctl nodes remove); "
		 "the operator can re-admit it with: qservctl nodes readmit %s", name, name);
}

/* Undo a new node added by reg_state_assign (it is the last one). */
static void unassign_new(struct reg_state *st, struct reg_node *n)
{
	if (st->n && st->nodes[st->n - 1] == n) {
		st->n--;
		if (!strcmp(n->role, "czar"))
			st->next_czar = n->ordinal;
		else
			st->next_worker = n->ordinal;
		json_decref(n->health);
		free(n);
	}
}

static void handle_join(struct conn *c, struct tls_conn *t, json_t *req)
{
	struct registry *r = c->r;
	char token[128], uuid[TLS_ID_MAX], role[16], err[256], serr[256];
	char *csr = malloc(16384), *cert = NULL;
	struct reg_node *n = NULL;
	bool is_new = false;
	int rc;

	if (!csr)
		return;
	if (reg_msg_str(req, "token", token, sizeof(token), 1, err, sizeof(err)) < 0 ||
	    reg_msg_str(req, "uuid", uuid, sizeof(uuid), 1, err, sizeof(err)) < 0 ||
	    reg_msg_str(req, "role", role, sizeof(role), 1, err, sizeof(err)) < 0 ||
	    reg_msg_str(req, "csr", csr, 16384, 1, err, sizeof(err)) < 0) {
		ev(r, REG_EV_WARN, "join from %s refused: bad request: %s", c->peer, err);
		refuse(c, t, "bad_request", err);
		goto out;
	}
	pthread_mutex_lock(&r->lock);
	if (!tls_secret_equal(token, r->st.token)) {
		r->joins_refused++;
		pthread_mutex_unlock(&r->lock);
		ev(r, REG_EV_WARN, "join from %s (machine %s) refused: wrong token", c->peer, uuid);
		refuse(c, t, "bad_token", "wrong join token (check qserv.token; it may have been rotated)");
		goto out;
	}
	if (!strcmp(role, "czar") && strcmp(uuid, r->self_uuid)) {
		r->joins_refused++;
		pthread_mutex_unlock(&r->lock);
		ev(r, REG_EV_WARN, "join from %s (machine %s) refused: asks for role czar", c->peer, uuid);
		refuse(c, t, "role_conflict", "this cluster already has its czar; join as a worker");
		goto out;
	}
	rc = reg_state_assign(&r->st, uuid, role, &n, &is_new);
	if (rc == -EKEYREVOKED) {
		r->joins_refused++;
		removed_message(n->name, err, sizeof(err));
		pthread_mutex_unlock(&r->lock);
		ev(r, REG_EV_WARN, "join from %s (machine %s) refused: %s", c->peer, uuid, err);
		refuse(c, t, "node_removed", err);
		goto out;
	}
	if (rc < 0) {
		r->joins_refused++;
		pthread_mutex_unlock(&r->lock);
		if (rc == -EEXIST)
			snprintf(err, sizeof(err), "machine %s is registered as %s; it cannot join as %s",
				 uuid, n->name, role);
		else
			snprintf(err, sizeof(err), "invalid machine uuid or role");
		ev(r, REG_EV_WARN, "join from %s refused: %s", c->peer, err);
		refuse(c, t, rc == -EEXIST ? "role_conflict" : "bad_request", err);
		goto out;
	}
	uint64_t old_serial = n->serial, serial = reg_state_next_serial(&r->st);
	struct tls_identity id = { 0 };
	snprintf(id.name, sizeof(id.name), "%s", n->name);
	snprintf(id.role, sizeof(id.role), "%s", n->role);
	snprintf(id.cluster, sizeof(id.cluster), "%s", r->st.cluster);
	snprintf(id.uuid, sizeof(id.uuid), "%s", n->uuid);
	rc = tls_csr_sign(r->ca_pem, r->ca_key_pem, csr, &id, serial, CERT_DAYS, &cert, serr, sizeof(serr));
	if (rc == 0) {
		n->serial = serial;
		rc = reg_state_save(r->state_path, &r->st, err, sizeof(err));
		if (rc < 0)
			snprintf(serr, sizeof(serr), "cannot persist the registry: %s", err);
	}
	if (rc < 0) {
		n->serial = old_serial;
		r->st.next_serial--;
		if (is_new)
			unassign_new(&r->st, n);
		r->joins_refused++;
		pthread_mutex_unlock(&r->lock);
		ev(r, REG_EV_WARN, "join from %s (machine %s) refused: %s", c->peer, uuid, serr);
		refuse(c, t, rc == -EIO || rc == -ENOSPC ? "internal" : "bad_csr", serr);
		goto out;
	}
	learn_self_addr_locked(r, c);
	snprintf(n->addr, sizeof(n->addr), "%s", node_addr(r, c, n));
	map_changed_locked(r, n);
	r->joins_ok++;
	json_t *resp = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:o}", "name", n->name,
				 "ordinal", n->ordinal, "role", n->role, "cluster", r->st.cluster,
				 "cert", cert, "ca", r->ca_pem, "map", map_get_locked(r));
	snprintf(id.name, sizeof(id.name), "%s", n->name);
	pthread_mutex_unlock(&r->lock);
	rc = reg_msg_send(tls_io_write, t, REG_MSG_JOINED, resp, REG_MSG_MAX_REPLY, JOIN_TIMEOUT_MS);
	ev(r, rc < 0 ? REG_EV_WARN : REG_EV_INFO, "%s %s (machine %s) from %s%s", id.name,
	   is_new ? "joined" : "re-joined", uuid, c->peer, rc < 0 ? ": reply not delivered" : "");
	/* The joiner may go on with HELLO on this connection: the token
	 * authenticated it and it now holds the certificate just issued, so
	 * it is that node's session (one handshake instead of two at boot).
	 * Reconnections use mutual TLS with the certificate. */
	if (rc == 0) {
		snprintf(id.serial, sizeof(id.serial), "%llx", (unsigned long long)serial);
		free(cert);
		free(csr);
		handle_session(c, t, &id, true);
		return;
	}
out:
	free(cert);
	free(csr);
}

/* ---- sessions -------------------------------------------------------------- */

/* Checks the session certificate against the table; returns the node under
 * the lock's protection by name (caller holds the lock). */
static struct reg_node *session_node_locked(struct registry *r, const struct tls_identity *id)
{
	struct reg_node *n = reg_state_find(&r->st, id->uuid);
	if (!n || strcmp(n->name, id->name) || strtoull(id->serial, NULL, 16) != n->serial)
		return NULL;
	return n;
}

static void handle_session(struct conn *c, struct tls_conn *t, const struct tls_identity *id, bool after_join)
{
	struct registry *r = c->r;
	char err[256];
	int type, rc;
	json_t *msg = NULL;

	rc = reg_msg_recv(tls_io_read, t, REG_MSG_MAX_REQ, JOIN_TIMEOUT_MS, &type, &msg, err, sizeof(err));
	if (after_join && (rc == -ENODATA || rc == -ECONNRESET))
		return;     /* a one-shot join (join_once, qregistry-sim): it hung up */
	if (rc < 0 || type != REG_MSG_HELLO) {
		ev(r, REG_EV_WARN, "session of %s from %s: expected HELLO: %s", id->name, c->peer,
		   rc < 0 ? err : reg_msg_name(type));
		refuse(c, t, rc == -EMSGSIZE ? "too_large" : "bad_request", rc < 0 ? err : "expected HELLO");
		json_decref(msg);
		return;
	}
	json_decref(msg);
	pthread_mutex_lock(&r->lock);
	struct reg_node *n = session_node_locked(r, id);
	if (n && reg_node_removed(n)) {
		removed_message(n->name, err, sizeof(err));
		r->joins_refused++;
		pthread_mutex_unlock(&r->lock);
		ev(r, REG_EV_WARN, "session from %s refused: %s", c->peer, err);
		refuse(c, t, "node_removed", err);
		return;
	}
	if (!n) {
		pthread_mutex_unlock(&r->lock);
		ev(r, REG_EV_WARN, "session from %s refused: certificate of %s (machine %s, serial %s) is not current",
		   c->peer, id->name, id->uuid, id->serial);
		refuse(c, t, "unknown_node", "certificate unknown or superseded: join again with the token");
		return;
	}
	learn_self_addr_locked(r, c);
	bool changed = n->state != REG_NODE_READY || strcmp(n->addr, node_addr(r, c, n));
	n->state = REG_NODE_READY;
	n->last_seen_ms = mono_ms();
	n->sessions++;
	r->sessions++;
	snprintf(n->addr, sizeof(n->addr), "%s", node_addr(r, c, n));
	if (changed)
		map_changed_locked(r, n);
	json_t *w = json_pack("{s:s, s:i, s:s, s:o}", "name", n->name, "ordinal", n->ordinal,
			      "role", n->role, "map", map_get_locked(r));
	pthread_mutex_unlock(&r->lock);
	if (changed)
		ev(r, REG_EV_INFO, "%s is ready (session from %s)", id->name, c->peer);
	if (reg_msg_send(tls_io_write, t, REG_MSG_WELCOME, w, REG_MSG_MAX_REPLY, JOIN_TIMEOUT_MS) < 0)
		return;
	slot_give(c);     /* heartbeats are cheap: the slot goes to the next handshake */

	for (;;) {
		/* A node silent for 3x the down timeout has a dead session. */
		rc = reg_msg_recv(tls_io_read, t, REG_MSG_MAX_REQ, 3 * r->down_after_ms, &type, &msg,
				  err, sizeof(err));
		if (rc < 0) {
			if (rc != -ENODATA && rc != -ECONNRESET && !r->stopping) {
				ev(r, REG_EV_WARN, "session of %s from %s: %s", id->name, c->peer, err);
				if (rc == -EMSGSIZE || rc == -EBADMSG || rc == -EPROTO)
					refuse(c, t, rc == -EMSGSIZE ? "too_large" : "bad_request", err);
			}
			return;
		}
		if (type != REG_MSG_HEARTBEAT) {
			ev(r, REG_EV_WARN, "session of %s: unexpected %s", id->name, reg_msg_name(type));
			refuse(c, t, "bad_request", "expected HEARTBEAT");
			json_decref(msg);
			return;
		}
		json_t *seq = json_object_get(msg, "seq"), *mv = json_object_get(msg, "map_version");
		json_t *health = json_object_get(msg, "health");
		pthread_mutex_lock(&r->lock);
		n = session_node_locked(r, id);    /* a re-join may have retired this cert */
		if (n && reg_node_removed(n)) {
			removed_message(n->name, err, sizeof(err));
			pthread_mutex_unlock(&r->lock);
			json_decref(msg);
			ev(r, REG_EV_INFO, "session of %s from %s closed: the node was removed", id->name, c->peer);
			refuse(c, t, "node_removed", err);
			return;
		}
		if (!n) {
			pthread_mutex_unlock(&r->lock);
			json_decref(msg);
			refuse(c, t, "unknown_node", "certificate superseded by a newer join");
			return;
		}
		n->last_seen_ms = mono_ms();
		n->heartbeats++;
		r->heartbeats++;
		if (json_is_object(health)) {
			json_decref(n->health);
			n->health = json_incref(health);
		}
		if (n->state != REG_NODE_READY) {
			n->state = REG_NODE_READY;
			map_changed_locked(r, n);
			ev(r, REG_EV_INFO, "%s is ready again", n->name);
		}
		/* The ACK is built as text around the cached map: with a thousand
		 * nodes the map is ~100 KB and re-encoding it per ACK would cost
		 * more than the rest of the heartbeat. */
		long long sq = json_is_integer(seq) ? (long long)json_integer_value(seq) : -1;
		unsigned long long ver = (unsigned long long)r->map_version;
		const char *ep = json_string_value(json_object_get(msg, "map_epoch"));
		bool current = json_is_integer(mv) && (uint64_t)json_integer_value(mv) == r->map_version;
		json_t *delta = !current && json_is_integer(mv) && ep && !strcmp(ep, r->epoch) ?
				map_delta_locked(r, (uint64_t)json_integer_value(mv)) : NULL;
		char *ack = NULL, *dtext = delta ? json_dumps(delta, JSON_COMPACT) : NULL;
		json_decref(delta);
		int len;
		if (current)
			len = asprintf(&ack, "{\"seq\":%lld,\"map_version\":%llu}", sq, ver);
		else if (dtext)
			len = asprintf(&ack, "{\"seq\":%lld,\"map_version\":%llu,\"map_epoch\":\"%s\",\"changes\":%s}",
				       sq, ver, r->epoch, dtext);
		else
			len = asprintf(&ack, "{\"seq\":%lld,\"map_version\":%llu,\"map\":%s}", sq, ver,
				       map_text_locked(r));
		free(dtext);
		pthread_mutex_unlock(&r->lock);
		json_decref(msg);
		if (len < 0)
			return;
		rc = frame_write(tls_io_write, t, REG_MSG_ACK, 0, ack, (size_t)len, REG_MSG_MAX_REPLY, JOIN_TIMEOUT_MS);
		free(ack);
		if (rc < 0)
			return;
	}
}

/* ---- admin (unix socket) --------------------------------------------------- */

static json_t *nodes_json_locked(struct registry *r)
{
	json_t *a = json_array();
	uint64_t now = mono_ms();
	for (size_t i = 0; i < r->st.n; i++) {
		const struct reg_node *n = r->st.nodes[i];
		json_t *o = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:I, s:I, s:I}", "name", n->name,
				      "role", n->role, "ordinal", n->ordinal, "uuid", n->uuid, "addr", n->addr,
				      "state", reg_node_state_name(n->state),
				      "heartbeats", (json_int_t)n->heartbeats,
				      "sessions", (json_int_t)n->sessions, "joined_at", (json_int_t)n->joined_at);
		json_object_set_new(o, "last_seen_ms_ago", n->last_seen_ms ?
				    json_integer((json_int_t)(now - n->last_seen_ms)) : json_null());
		if (n->health)
			json_object_set(o, "health", n->health);
		if (reg_node_removed(n))
			json_object_set_new(o, "removed_at", json_integer((json_int_t)n->removed_at));
		json_array_append_new(a, o);
	}
	return a;
}

static void handle_admin(struct conn *c)
{
	struct registry *r = c->r;
	char cmd[32], err[256], token[128], name[TLS_ID_MAX] = "";
	int type, fd = c->fd;
	json_t *req = NULL, *resp = NULL;
	if (reg_msg_recv(frame_fd_read, &fd, REG_MSG_MAX_REQ, 5000, &type, &req, err, sizeof(err)) < 0 ||
	    type != REG_MSG_ADMIN || reg_msg_str(req, "cmd", cmd, sizeof(cmd), 1, err, sizeof(err)) < 0 ||
	    reg_msg_str(req, "name", name, sizeof(name), 0, err, sizeof(err)) < 0) {
		reg_msg_send_error(frame_fd_write, &fd, "bad_request", "expected ADMIN {cmd[, name]}");
		json_decref(req);
		return;
	}
	json_decref(req);
	if (!strcmp(cmd, "nodes")) {
		pthread_mutex_lock(&r->lock);
		resp = json_pack("{s:s, s:I, s:o}", "cluster", r->st.cluster,
				 "map_version", (json_int_t)r->map_version, "nodes", nodes_json_locked(r));
		pthread_mutex_unlock(&r->lock);
	} else if (!strcmp(cmd, "token")) {
		char pin[TLS_PIN_LEN];
		registry_secrets(r, token, pin);
		resp = json_pack("{s:s, s:s}", "token", token, "ca_pin", pin);
	} else if (!strcmp(cmd, "token-rotate")) {
		if (registry_token_rotate(r, token, err, sizeof(err)) < 0) {
			reg_msg_send_error(frame_fd_write, &fd, "internal", err);
			return;
		}
		ev(r, REG_EV_INFO, "join token rotated (new id %.6s); joined nodes are unaffected", token);
		resp = json_pack("{s:s}", "token", token);
	} else if (!strcmp(cmd, "node-remove") || !strcmp(cmd, "node-readmit")) {
		bool rm = !strcmp(cmd, "node-remove");
		int rc = rm ? registry_node_remove(r, name, err, sizeof(err)) :
			      registry_node_readmit(r, name, err, sizeof(err));
		if (rc < 0 && rc != -EALREADY) {
			reg_msg_send_error(frame_fd_write, &fd, rc == -ENOENT ? "unknown_node" :
					   rc == -EPERM ? "refused" : "internal", err);
			return;
		}
		resp = json_pack("{s:s, s:s, s:b}", "name", name, "state", rm ? "removed" : "readmitted",
				 "changed", rc == 0);
	} else {
		reg_msg_send_error(frame_fd_write, &fd, "bad_request", "unknown command");
		return;
	}
	reg_msg_send(frame_fd_write, &fd, REG_MSG_ADMIN_OK, resp, REG_MSG_MAX_REPLY, 5000);
}

/* ---- threads ---------------------------------------------------------------- */

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	struct registry *r = c->r;
	char err[256];
	struct tls_conn *t = NULL;
	struct tls_identity id;

	if (c->admin) {
		handle_admin(c);
		goto out;
	}
	if (!slot_take(r))
		goto out;
	c->slot = true;
	if (tls_conn_new(r->tls, c->fd, NULL, &t, err, sizeof(err)) < 0) {
		pthread_mutex_lock(&r->lock);
		r->handshake_failures++;
		pthread_mutex_unlock(&r->lock);
		if (!r->stopping)
			ev(r, REG_EV_WARN, "TLS from %s failed: %s", c->peer, err);
		goto out;
	}
	if (tls_conn_peer(t, &id) == 0) {
		handle_session(c, t, &id, false);
	} else {
		int type, rc;
		json_t *req = NULL;
		rc = reg_msg_recv(tls_io_read, t, REG_MSG_MAX_REQ, JOIN_TIMEOUT_MS, &type, &req, err, sizeof(err));
		if (rc < 0 || type != REG_MSG_JOIN) {
			if (rc == -ENODATA) {
				/* probe or pinned client that refused us: nothing to answer */
			} else {
				ev(r, REG_EV_WARN, "join from %s refused: %s", c->peer,
				   rc < 0 ? err : "first message is not JOIN");
				pthread_mutex_lock(&r->lock);
				r->joins_refused++;
				pthread_mutex_unlock(&r->lock);
				refuse(c, t, rc == -EMSGSIZE ? "too_large" : "bad_request",
				       rc < 0 ? err : "first message must be JOIN (no client certificate)");
			}
		} else {
			handle_join(c, t, req);
		}
		json_decref(req);
	}
out:
	slot_give(c);
	tls_conn_free(t);
	conn_unregister(r, c->fd);
	close(c->fd);
	free(c);
	return NULL;
}

static void spawn_conn(struct registry *r, int fd, bool admin, const struct sockaddr_in *sa)
{
	pthread_attr_t at;
	pthread_t th;
	struct conn *c = calloc(1, sizeof(*c));
	if (!c || conn_register(r, fd) < 0) {
		free(c);
		close(fd);
		return;
	}
	c->r = r;
	c->fd = fd;
	c->admin = admin;
	if (admin)
		snprintf(c->peer, sizeof(c->peer), "admin socket");
	else
		inet_ntop(AF_INET, &sa->sin_addr, c->peer, sizeof(c->peer));
	struct sockaddr_in la;
	socklen_t ll = sizeof(la);
	if (!admin && getsockname(fd, (struct sockaddr *)&la, &ll) == 0)
		inet_ntop(AF_INET, &la.sin_addr, c->local, sizeof(c->local));
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 256 << 10);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &at, conn_main, c) != 0) {
		conn_unregister(r, fd);
		close(fd);
		free(c);
	}
	pthread_attr_destroy(&at);
}

static void *accept_main(void *arg)
{
	struct registry *r = arg;
	struct pollfd p[3] = { { .fd = r->wake[0], .events = POLLIN }, { .fd = r->lfd, .events = POLLIN },
			       { .fd = r->afd, .events = POLLIN } };
	int np = r->afd >= 0 ? 3 : 2;
	for (;;) {
		if (poll(p, (nfds_t)np, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents)
			break;
		if (p[1].revents & POLLIN) {
			struct sockaddr_in sa;
			socklen_t sl = sizeof(sa);
			int fd = accept4(r->lfd, (struct sockaddr *)&sa, &sl, SOCK_CLOEXEC);
			if (fd >= 0) {
				int one = 1;
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				spawn_conn(r, fd, false, &sa);
			} else if (errno == EMFILE || errno == ENFILE) {
				usleep(100000);
			}
		}
		if (np == 3 && (p[2].revents & POLLIN)) {
			int fd = accept4(r->afd, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0)
				spawn_conn(r, fd, true, NULL);
		}
	}
	return NULL;
}

static void *monitor_main(void *arg)
{
	struct registry *r = arg;
	for (;;) {
		struct pollfd p = { .fd = r->wake[0], .events = POLLIN };
		if (poll(&p, 1, 250) > 0)
			break;
		pthread_mutex_lock(&r->lock);
		uint64_t now = mono_ms();    /* read under the lock: never before a last_seen */
		for (size_t i = 0; i < r->st.n; i++) {
			struct reg_node *n = r->st.nodes[i];
			if (n->state != REG_NODE_DOWN && !reg_node_removed(n) && n->last_seen_ms && now > n->last_seen_ms &&
			    now - n->last_seen_ms > (uint64_t)r->down_after_ms) {
				n->state = REG_NODE_DOWN;
				map_changed_locked(r, n);
				ev(r, REG_EV_WARN, "%s is down: silent for %llu ms", n->name,
				   (unsigned long long)(now - n->last_seen_ms));
			}
		}
		pthread_mutex_unlock(&r->lock);
	}
	return NULL;
}

/* ---- start / stop ------------------------------------------------------------ */

static int load_or_create_ca(struct registry *r, const char *dir, const char *cluster,
			     char *err, size_t errlen)
{
	char cpath[512], kpath[512];
	snprintf(cpath, sizeof(cpath), "%s/ca.crt", dir);
	snprintf(kpath, sizeof(kpath), "%s/ca.key", dir);
	int rc = tls_file_read(cpath, &r->ca_pem);
	if (rc == 0) {
		if ((rc = tls_file_read(kpath, &r->ca_key_pem)) < 0) {
			snprintf(err, errlen, "%s exists but %s: %s", cpath, kpath, strerror(-rc));
			return rc;
		}
		return 0;
	}
	if (rc != -ENOENT) {
		snprintf(err, errlen, "%s: %s", cpath, strerror(-rc));
		return rc;
	}
	if ((rc = tls_ca_create(cluster, CA_DAYS, &r->ca_pem, &r->ca_key_pem, err, errlen)) < 0)
		return rc;
	/* key first: a crash in between leaves no certificate without its key */
	if ((rc = tls_file_write(kpath, r->ca_key_pem, 0600)) < 0 ||
	    (rc = tls_file_write(cpath, r->ca_pem, 0644)) < 0) {
		snprintf(err, errlen, "cannot write the CA into %s: %s", dir, strerror(-rc));
		return rc;
	}
	return 1;
}

static int make_server_tls(struct registry *r, char *err, size_t errlen)
{
	char *key = NULL, *csr = NULL, *cert = NULL, *chain = NULL;
	struct tls_identity id = { .name = "registry", .role = "registry" };
	snprintf(id.cluster, sizeof(id.cluster), "%s", r->st.cluster);
	int rc = tls_key_generate(&key, err, errlen);
	if (rc == 0)
		rc = tls_csr_create(key, &id, &csr, err, errlen);
	if (rc == 0)
		rc = tls_csr_sign(r->ca_pem, r->ca_key_pem, csr, &id, 1, CA_DAYS, &cert, err, errlen);
	if (rc == 0 && !(chain = malloc(strlen(cert) + strlen(r->ca_pem) + 1)))
		rc = -ENOMEM;
	if (rc == 0) {
		strcpy(chain, cert);
		strcat(chain, r->ca_pem);
		struct tls_config_opts o = { .server = true, .peer_auth = TLS_PEER_CA_OPTIONAL,
					     .ca_pem = r->ca_pem, .cert_pem = chain, .key_pem = key };
		rc = tls_config_new(&o, &r->tls, err, errlen);
	}
	free(key);
	free(csr);
	free(cert);
	free(chain);
	return rc;
}

static int listen_tcp(struct registry *r, const char *addr, uint16_t port, char *err, size_t errlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1;
	if (addr && inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		snprintf(err, errlen, "listen address '%s' is not an IPv4 address", addr);
		return -EINVAL;
	}
	r->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (r->lfd < 0)
		return -errno;
	setsockopt(r->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	socklen_t sl = sizeof(sa);
	if (bind(r->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(r->lfd, 4096) < 0 ||
	    getsockname(r->lfd, (struct sockaddr *)&sa, &sl) < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot listen on %s:%u: %s", addr ? addr : "*", port, strerror(e));
		return -e;
	}
	r->port = ntohs(sa.sin_port);
	return 0;
}

static int listen_admin(struct registry *r, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un su = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(su.sun_path)) {
		snprintf(err, errlen, "admin socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(su.sun_path, path);
	snprintf(r->admin_path, sizeof(r->admin_path), "%s", path);
	unlink(path);
	r->afd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	mode_t old = umask(0077);
	int rc = r->afd < 0 || bind(r->afd, (struct sockaddr *)&su, sizeof(su)) < 0 || listen(r->afd, 16) < 0;
	umask(old);
	if (rc) {
		int e = errno;
		snprintf(err, errlen, "admin socket %s: %s", path, strerror(e));
		return -e;
	}
	return 0;
}

/* A crash during an atomic write leaves "<file>.tmp.<pid>.<n>" behind (the
 * file itself is intact); remove such leftovers at start. */
static void remove_stale_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[1024];
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (strstr(e->d_name, ".tmp.")) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
	}
	closedir(d);
}

static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max && rl.rlim_cur < 65536) {
		rl.rlim_cur = rl.rlim_max < 65536 ? rl.rlim_max : 65536;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void free_registry(struct registry *r)
{
	if (r->lfd >= 0)
		close(r->lfd);
	if (r->afd >= 0) {
		close(r->afd);
		unlink(r->admin_path);
	}
	if (r->wake[0] >= 0) {
		close(r->wake[0]);
		close(r->wake[1]);
	}
	tls_config_free(r->tls);
	free(r->ca_pem);
	free(r->ca_key_pem);
	free(r->map_cache);
	reg_state_free(&r->st);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->idle);
	sem_destroy(&r->slots);
	free(r);
}

int registry_start(const struct registry_opts *o, struct registry **ret_reg, char *err, size_t errlen)
{
	char why[256];
	int rc;
	struct registry *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->idle, NULL);
	sem_init(&r->slots, 0, HANDSHAKE_SLOTS);
	r->lfd = r->afd = r->wake[0] = r->wake[1] = -1;
	r->down_after_ms = o->down_after_ms > 0 ? o->down_after_ms : 10000;
	r->event = o->event;
	r->event_ctx = o->event_ctx;
	r->map_version = 1;
	tls_random_hex(8, r->epoch);
	snprintf(r->self_uuid, sizeof(r->self_uuid), "%s", o->self_uuid ? o->self_uuid : "");
	if (mkdir(o->state_dir, 0700) < 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "cannot create %s: %s", o->state_dir, strerror(errno));
		goto fail;
	}
	snprintf(r->state_path, sizeof(r->state_path), "%s/state.json", o->state_dir);
	remove_stale_tmp(o->state_dir);
	rc = reg_state_load(r->state_path, &r->st, why, sizeof(why));
	if (rc == -ENOENT) {
		reg_state_init(&r->st, o->cluster);
		if ((rc = reg_token_generate(r->st.token)) < 0 ||
		    (rc = reg_state_save(r->state_path, &r->st, why, sizeof(why))) < 0) {
			snprintf(err, errlen, "cannot create the registry state: %s", why);
			goto fail;
		}
	} else if (rc < 0) {
		/* Never overwrite a state we cannot read: identities would be lost. */
		snprintf(err, errlen, "registry state unreadable, refusing to start: %s", why);
		goto fail;
	} else if (strcmp(r->st.cluster, o->cluster)) {
		ev(r, REG_EV_WARN, "configured cluster '%s' differs from the registry's '%s'; keeping '%s'",
		   o->cluster, r->st.cluster, r->st.cluster);
	}
	if ((rc = load_or_create_ca(r, o->state_dir, r->st.cluster, err, errlen)) < 0)
		goto fail;
	if (rc == 1)
		ev(r, REG_EV_INFO, "created the cluster CA for '%s' in %s", r->st.cluster, o->state_dir);
	if ((rc = tls_pin(r->ca_pem, r->pin, err, errlen)) < 0 || (rc = make_server_tls(r, err, errlen)) < 0)
		goto fail;
	raise_nofile();
	if (pipe2(r->wake, O_CLOEXEC) < 0) {
		rc = -errno;
		goto fail;
	}
	if ((rc = listen_tcp(r, o->listen_addr, o->port, err, errlen)) < 0)
		goto fail;
	if (o->admin_socket && (rc = listen_admin(r, o->admin_socket, err, errlen)) < 0)
		goto fail;
	if (pthread_create(&r->accept_th, NULL, accept_main, r) != 0) {
		rc = -EAGAIN;
		goto fail;
	}
	if (pthread_create(&r->monitor_th, NULL, monitor_main, r) != 0) {
		(void)!write(r->wake[1], "x", 1);
		pthread_join(r->accept_th, NULL);
		rc = -EAGAIN;
		goto fail;
	}
	*ret_reg = r;
	return 0;
fail:
	free_registry(r);
	return rc;
}

void registry_stop(struct registry *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->stopping = true;
	for (int i = 0; i < r->nconns; i++)
		shutdown(r->conn_fds[i], SHUT_RDWR);
	pthread_mutex_unlock(&r->lock);
	(void)!write(r->wake[1], "x", 1);
	pthread_join(r->accept_th, NULL);
	pthread_join(r->monitor_th, NULL);
	pthread_mutex_lock(&r->lock);
	while (r->nconns > 0) {
		for (int i = 0; i < r->nconns; i++)
			shutdown(r->conn_fds[i], SHUT_RDWR);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&r->idle, &r->lock, &ts);
	}
	pthread_mutex_unlock(&r->lock);
	free_registry(r);
}

uint16_t registry_port(const struct registry *r)
{
	return r->port;
}

void registry_secrets(struct registry *r, char ret_token[128], char ret_pin[TLS_PIN_LEN])
{
	pthread_mutex_lock(&r->lock);
	snprintf(ret_token, 128, "%s", r->st.token);
	memcpy(ret_pin, r->pin, TLS_PIN_LEN);
	pthread_mutex_unlock(&r->lock);
}

int registry_token_rotate(struct registry *r, char ret_token[128], char *err, size_t errlen)
{
	char tok[24], old[128];
	int rc = reg_token_generate(tok);
	if (rc < 0) {
		snprintf(err, errlen, "cannot generate a token");
		return rc;
	}
	pthread_mutex_lock(&r->lock);
	snprintf(old, sizeof(old), "%s", r->st.token);
	snprintf(r->st.token, sizeof(r->st.token), "%s", tok);
	rc = reg_state_save(r->state_path, &r->st, err, errlen);
	if (rc < 0)
		snprintf(r->st.token, sizeof(r->st.token), "%s", old);   /* unchanged on failure */
	pthread_mutex_unlock(&r->lock);
	if (rc == 0)
		snprintf(ret_token, 128, "%s", tok);
	return rc;
}

int registry_node_remove(struct registry *r, const char *name, char *err, size_t errlen)
{
	struct reg_node *n = NULL;
	char why[256];
	pthread_mutex_lock(&r->lock);
	int rc = reg_state_remove(&r->st, name, &n);
	if (rc == 0) {
		enum reg_node_state was = n->state;
		if ((rc = reg_state_save(r->state_path, &r->st, why, sizeof(why))) < 0) {
			n->removed_at = 0;         /* unchanged on failure */
			n->state = was;
			snprintf(err, errlen, "cannot persist the registry: %s", why);
		} else {
			map_changed_locked(r, n);
		}
	} else if (rc == -ENOENT) {
		snprintf(err, errlen, "no node named '%s' in the registry", name);
	} else if (rc == -EPERM) {
		snprintf(err, errlen, "%s is the czar: the cluster cannot remove its own registry", name);
	} else if (rc == -EALREADY) {
		snprintf(err, errlen, "%s was already removed", name);
	}
	pthread_mutex_unlock(&r->lock);
	if (rc == 0)
		ev(r, REG_EV_INFO, "%s removed from the cluster by the operator: its certificate, heartbeats "
		   "and re-joins are refused from now on; the name is never reused", name);
	return rc;
}

int registry_node_readmit(struct registry *r, const char *name, char *err, size_t errlen)
{
	struct reg_node *n = NULL;
	char why[256];
	pthread_mutex_lock(&r->lock);
	int rc = reg_state_readmit(&r->st, name, &n);
	if (rc == 0) {
		if ((rc = reg_state_save(r->state_path, &r->st, why, sizeof(why))) < 0) {
			reg_state_remove(&r->st, name, &n);    /* unchanged on failure */
			snprintf(err, errlen, "cannot persist the registry: %s", why);
		} else {
			map_changed_locked(r, n);
		}
	} else if (rc == -ENOENT) {
		snprintf(err, errlen, "no node named '%s' in the registry", name);
	} else if (rc == -EALREADY) {
		snprintf(err, errlen, "%s is not removed", name);
	}
	pthread_mutex_unlock(&r->lock);
	if (rc == 0)
		ev(r, REG_EV_INFO, "%s re-admitted by the operator: the same machine may rejoin under that name", name);
	return rc;
}

json_t *registry_status_json(struct registry *r)
{
	pthread_mutex_lock(&r->lock);
	json_t *j = json_pack("{s:s, s:s, s:s, s:i, s:I, s:o, s:{s:I, s:I, s:I, s:I, s:I}}",
			      "cluster", r->st.cluster, "ca_pin", r->pin, "token", r->st.token,
			      "port", r->port, "map_version", (json_int_t)r->map_version,
			      "nodes", nodes_json_locked(r), "counters",
			      "joins", (json_int_t)r->joins_ok, "joins_refused", (json_int_t)r->joins_refused,
			      "sessions", (json_int_t)r->sessions, "heartbeats", (json_int_t)r->heartbeats,
			      "tls_failures", (json_int_t)r->handshake_failures);
	pthread_mutex_unlock(&r->lock);
	return j;
}

void registry_metrics(struct registry *r, FILE *out)
{
	size_t ready = 0, down = 0, joined = 0, removed = 0;
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->st.n; i++) {
		enum reg_node_state s = r->st.nodes[i]->state;
		ready += s == REG_NODE_READY;
		down += s == REG_NODE_DOWN;
		joined += s == REG_NODE_JOINED;
		removed += s == REG_NODE_REMOVED;
	}
	fprintf(out, "# TYPE qserv_registry_nodes gauge\n"
		"qserv_registry_nodes{state=\"ready\"} %zu\nqserv_registry_nodes{state=\"down\"} %zu\n"
		"qserv_registry_nodes{state=\"joined\"} %zu\nqserv_registry_nodes{state=\"removed\"} %zu\n",
		ready, down, joined, removed);
	fprintf(out, "# TYPE qserv_registry_joins_total counter\nqserv_registry_joins_total %llu\n"
		"# TYPE qserv_registry_joins_refused_total counter\nqserv_registry_joins_refused_total %llu\n"
		"# TYPE qserv_registry_heartbeats_total counter\nqserv_registry_heartbeats_total %llu\n"
		"# TYPE qserv_registry_map_version gauge\nqserv_registry_map_version %llu\n",
		(unsigned long long)r->joins_ok, (unsigned long long)r->joins_refused,
		(unsigned long long)r->heartbeats, (unsigned long long)r->map_version);
	pthread_mutex_unlock(&r->lock);
}
