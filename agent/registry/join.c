/* join.c: joining the cluster and keeping the heartbeat session (join.h).
 *
 * Files in state_dir (each written atomically): node.key (0600, created
 * once, reused by later joins), node.crt, ca.crt, identity.json,
 * cluster-map.json (the newest map, for the role daemons to read).
 * The thread's state lives in struct join under its mutex; the blocking
 * work (connect, handshake, messages) runs without the lock, and join_stop
 * interrupts it by shutting the current socket down.
 *
 * Size: ~800 lines on purpose.  The one-shot JOIN exchange (with the
 * node-key proof) and the session thread stay in one file because both run
 * on the thread's tracked socket (track_fd), which is what join_stop()
 * shuts down to interrupt either; split, that invariant would live in two
 * files. */
#include "join.h"
#include "join_renew.h"
#include "registry_msg.h"
#include "registry_proof.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define IO_TIMEOUT_MS 10000
/* The registry queues handshakes when a whole rack boots at once: waiting
 * in that queue is normal, giving up would only make it redo the work. */
#define HANDSHAKE_TIMEOUT_MS 60000
#define UNKNOWN_NODE (-10001)   /* internal: registry wants a fresh join */
#define NODE_REMOVED (-10002)   /* internal: the operator removed this node */
#define RENEW (-10003)          /* internal: the certificate is stale (join_renew.h) */
/* A removed node asks again this often (an operator may re-admit it);
 * it says why in the log once, not at every attempt. */
#define REMOVED_RETRY_MS 10000

enum join_state { J_START, J_JOINING, J_CONNECTING, J_READY, J_RETRY, J_STOPPED, J_REMOVED };

struct join {
	struct join_opts o;
	char *state_dir, *registry, *token, *pin, *uuid, *role, *zone;
	json_t *inventory;
	pthread_t th;
	pthread_mutex_t lock;
	int wake[2];
	int cur_fd;
	bool stopping;
	bool kick;              /* join_reconnect: retry without back-off */
	enum join_state state;
	char last_error[256];
	bool removed_told;      /* the removal is in the log already */
	char name[TLS_ID_MAX];
	char renewed_for[256];  /* why the last renewal was asked: asked once per reason */
	int ordinal;
	json_t *health, *map;
	uint64_t map_version, hb_sent, acks, joins, sessions;
};

static const char *state_name(enum join_state s)
{
	static const char *const n[] = { "starting", "joining", "connecting", "ready", "retrying", "stopped", "removed" };
	return n[s];
}

static void jev(struct join *j, enum reg_event_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void jev(struct join *j, enum reg_event_level lvl, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	if (!j->o.event)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	j->o.event(j->o.event_ctx, lvl, msg);
}

static void path_of(char *out, size_t len, const char *dir, const char *file)
{
	snprintf(out, len, "%s/%s", dir, file);
}

/* ---- TCP ------------------------------------------------------------------ */

static int connect_registry(const char *hostport, int timeout_ms, char *err, size_t errlen)
{
	char host[256], port[16] = "7070";
	const char *colon = strrchr(hostport, ':');
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *ai;
	size_t hl = colon ? (size_t)(colon - hostport) : strlen(hostport);
	if (hl == 0 || hl >= sizeof(host)) {
		snprintf(err, errlen, "bad registry address '%s' (want host:port)", hostport);
		return -EINVAL;
	}
	memcpy(host, hostport, hl);
	host[hl] = '\0';
	if (colon)
		snprintf(port, sizeof(port), "%s", colon + 1);
	int rc = getaddrinfo(host, port, &hints, &ai);
	if (rc != 0) {
		snprintf(err, errlen, "registry %s: %s", hostport, gai_strerror(rc));
		return -EHOSTUNREACH;
	}
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		freeaddrinfo(ai);
		return -errno;
	}
	rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	if (rc < 0 && errno == EINPROGRESS) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int e = 0;
		socklen_t el = sizeof(e);
		rc = poll(&p, 1, timeout_ms);
		if (rc == 0)
			e = ETIMEDOUT;
		else if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0)
			e = errno;
		errno = e;
		rc = e ? -1 : 0;
	}
	if (rc < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot connect to the registry %s: %s", hostport, strerror(e));
		close(fd);
		return -e;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* ---- credentials ---------------------------------------------------------- */

static int get_or_make_key(const char *dir, char **ret_key, char *err, size_t errlen)
{
	char path[512];
	path_of(path, sizeof(path), dir, "node.key");
	int rc = tls_file_read(path, ret_key);
	if (rc != -ENOENT)
		return rc;
	if ((rc = tls_key_generate(ret_key, err, errlen)) < 0)
		return rc;
	if ((rc = tls_file_write(path, *ret_key, 0600)) < 0) {
		snprintf(err, errlen, "cannot store %s: %s", path, strerror(-rc));
		free(*ret_key);
		*ret_key = NULL;
	}
	return rc;
}

static int store_map(const char *dir, json_t *map)
{
	char path[512];
	char *text = json_dumps(map, JSON_INDENT(1) | JSON_SORT_KEYS);
	if (!text)
		return -ENOMEM;
	path_of(path, sizeof(path), dir, "cluster-map.json");
	int rc = tls_file_write(path, text, 0644);
	free(text);
	return rc;
}

static int refused(json_t *msg, char *err, size_t errlen)
{
	char code[32], text[200], e[64];
	reg_msg_str(msg, "code", code, sizeof(code), 0, e, sizeof(e));
	reg_msg_str(msg, "message", text, sizeof(text), 0, e, sizeof(e));
	snprintf(err, errlen, "registry refused: %s: %s", code, text);
	if (!strcmp(code, "bad_token"))
		return -EACCES;
	if (!strcmp(code, "unknown_node"))
		return UNKNOWN_NODE;
	if (!strcmp(code, "node_removed")) {
		snprintf(err, errlen, "%s", text);    /* "node worker-2 was removed from the cluster ..." */
		return NODE_REMOVED;
	}
	return -EPERM;
}

static int join_io(const struct join_opts *o, int fd, const char *key, const char *csr, json_t **ret_reply,
		   struct tls_config **keep_cfg, struct tls_conn **keep_t, char *err, size_t errlen)
{
	struct tls_config *cfg = NULL;
	struct tls_conn *t = NULL;
	struct tls_config_opts co = { .peer_auth = TLS_PEER_PIN, .pin = o->pin, .timeout_ms = HANDSHAKE_TIMEOUT_MS };
	json_t *reply = NULL;
	int type, rc = tls_config_new(&co, &cfg, err, errlen);
	if (rc == 0)
		rc = tls_conn_new(cfg, fd, "registry", &t, err, errlen);
	if (rc == 0) {
		json_t *req = json_pack("{s:s, s:s, s:s, s:s, s:s}", "token", o->token ? o->token : "",
					"uuid", o->uuid, "role", o->role, "csr", csr, "zone", o->zone ? o->zone : "");
		if (o->inventory)
			json_object_set(req, "inventory", o->inventory);
		rc = reg_msg_send(tls_io_write, t, REG_MSG_JOIN, req, REG_MSG_MAX_REQ, IO_TIMEOUT_MS);
		/* even if sending failed, the registry may have said why */
		int rr = reg_msg_recv(tls_io_read, t, REG_MSG_MAX_REPLY, IO_TIMEOUT_MS, &type, &reply, err, errlen);
		if (rr == 0 && rc == 0 && type == REG_MSG_CHALLENGE) {    /* known machine: prove node.key */
			rc = reg_proof_reply(t, key, o->uuid, reply, err, errlen);
			json_decref(reply);
			reply = NULL;
			rr = reg_msg_recv(tls_io_read, t, REG_MSG_MAX_REPLY, IO_TIMEOUT_MS, &type, &reply, err, errlen);
		}
		if (rr == 0 && type == REG_MSG_ERROR) {
			rc = refused(reply, err, errlen);
		} else if (rr == 0 && type != REG_MSG_JOINED) {
			snprintf(err, errlen, "unexpected %s from the registry", reg_msg_name(type));
			rc = -EPROTO;
		} else if (rr < 0 && rc == 0) {
			rc = rr;
		} else if (rr < 0) {
			snprintf(err, errlen, "sending JOIN failed: %s", strerror(-rc));
		}
	}
	if (rc == 0 && keep_t) {
		*keep_cfg = cfg;     /* the caller continues the session on it */
		*keep_t = t;
	} else {
		tls_conn_free(t);
		tls_config_free(cfg);
	}
	if (rc == 0)
		*ret_reply = reply;
	else
		json_decref(reply);
	return rc;
}

static int store_join(const struct join_opts *o, json_t *reply, char *err, size_t errlen)
{
	char cert[16384], ca[16384], name[TLS_ID_MAX], role[16], path[512];
	struct tls_identity id;
	json_t *map = json_object_get(reply, "map");
	json_t *ord = json_object_get(reply, "ordinal");
	if (reg_msg_str(reply, "cert", cert, sizeof(cert), 1, err, errlen) < 0 ||
	    reg_msg_str(reply, "ca", ca, sizeof(ca), 1, err, errlen) < 0 ||
	    reg_msg_str(reply, "name", name, sizeof(name), 1, err, errlen) < 0 ||
	    reg_msg_str(reply, "role", role, sizeof(role), 1, err, errlen) < 0 || !json_is_integer(ord))
		return -EBADMSG;
	/* the CA must be the pinned one, the certificate ours and for us */
	if (tls_pin_check(ca, o->pin, err, errlen) < 0)
		return -EPERM;
	if (tls_cert_identity(cert, &id, err, errlen) < 0)
		return -EBADMSG;
	if (strcmp(id.uuid, o->uuid) || strcmp(id.name, name)) {
		snprintf(err, errlen, "registry issued a certificate for %s/%s, not this machine", id.name, id.uuid);
		return -EPERM;
	}
	json_t *ident = json_pack("{s:s, s:I, s:s, s:s, s:s}", "name", name,
				  "ordinal", json_integer_value(ord), "role", role, "uuid", o->uuid,
				  "cluster", id.cluster);
	char *itext = json_dumps(ident, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(ident);
	int rc = 0;
	path_of(path, sizeof(path), o->state_dir, "ca.crt");
	if ((rc = tls_file_write(path, ca, 0644)) == 0) {
		path_of(path, sizeof(path), o->state_dir, "identity.json");
		rc = tls_file_write(path, itext ? itext : "{}", 0644);
	}
	if (rc == 0) {
		path_of(path, sizeof(path), o->state_dir, "node.crt");
		rc = tls_file_write(path, cert, 0644);
	}
	free(itext);
	if (rc == 0 && json_is_object(map))
		rc = store_map(o->state_dir, map);
	if (rc < 0)
		snprintf(err, errlen, "cannot store the credentials in %s: %s", o->state_dir, strerror(-rc));
	return rc;
}

/* Join; with keep_* the TLS connection stays open for the session (the
 * registry accepts HELLO on it), saving a second handshake. */
struct join;
static bool track_fd(struct join *j, int fd);

static int join_run(const struct join_opts *o, struct join *j, int *keep_fd, struct tls_config **keep_cfg,
		    struct tls_conn **keep_t, char *err, size_t errlen)
{
	char *key = NULL, *csr = NULL;
	json_t *reply = NULL;
	struct tls_identity id = { .name = "joining" };
	int fd = -1, rc;
	if (!o->pin || !o->pin[0]) {
		snprintf(err, errlen, "no CA pin (qserv.ca) given: cannot verify the registry");
		return -EINVAL;
	}
	if (mkdir(o->state_dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", o->state_dir, strerror(errno));
		return -errno;
	}
	snprintf(id.role, sizeof(id.role), "%s", o->role);
	snprintf(id.uuid, sizeof(id.uuid), "%s", o->uuid);
	if ((rc = get_or_make_key(o->state_dir, &key, err, errlen)) < 0 ||
	    (rc = tls_csr_create(key, &id, &csr, err, errlen)) < 0)
		goto out;
	if ((fd = rc = connect_registry(o->registry, IO_TIMEOUT_MS, err, errlen)) < 0)
		goto out;
	if (j && !track_fd(j, fd)) {      /* stopping: join_stop can interrupt us now */
		snprintf(err, errlen, "stopping");
		rc = -ECANCELED;
		goto out;
	}
	if ((rc = join_io(o, fd, key, csr, &reply, keep_cfg, keep_t, err, errlen)) < 0)
		goto out;
	rc = store_join(o, reply, err, errlen);
	if (rc < 0 && keep_t) {
		tls_conn_free(*keep_t);
		tls_config_free(*keep_cfg);
	}
out:
	if (rc == 0 && keep_fd)
		*keep_fd = fd;
	else if (fd >= 0)
		close(fd);
	json_decref(reply);
	free(key);
	free(csr);
	return rc;
}

int join_once(const struct join_opts *o, char *err, size_t errlen)
{
	int rc = join_run(o, NULL, NULL, NULL, NULL, err, errlen);
	return rc == NODE_REMOVED ? -EKEYREVOKED : rc;
}

/* ---- the thread ------------------------------------------------------------- */

/* Make fd the one join_stop shuts down; false when already stopping. */
static bool track_fd(struct join *j, int fd)
{
	pthread_mutex_lock(&j->lock);
	bool ok = !j->stopping;
	j->cur_fd = fd;
	pthread_mutex_unlock(&j->lock);
	return ok;
}

static void set_state(struct join *j, enum join_state s, const char *error)
{
	pthread_mutex_lock(&j->lock);
	j->state = s;
	if (error)
		snprintf(j->last_error, sizeof(j->last_error), "%s", error);
	pthread_mutex_unlock(&j->lock);
}

/* Sleep ms unless stopping; returns true when stopping. */
static bool nap(struct join *j, int ms)
{
	struct pollfd p = { .fd = j->wake[0], .events = POLLIN };
	return poll(&p, 1, ms) > 0;
}

static void take_map(struct join *j, json_t *map)
{
	if (!json_is_object(map))
		return;
	json_int_t v = json_integer_value(json_object_get(map, "version"));
	pthread_mutex_lock(&j->lock);
	bool changed = !j->map || (uint64_t)v != j->map_version;
	if (changed) {
		json_decref(j->map);
		j->map = json_incref(map);
		j->map_version = (uint64_t)v;
	}
	pthread_mutex_unlock(&j->lock);
	if (changed)
		store_map(j->state_dir, map);
}

/* Apply an ACK's "changes" (entries of nodes changed since our version) to
 * our map: replace entries by name, append new ones, refresh "czar". */
static void take_changes(struct join *j, json_t *ack)
{
	json_t *changes = json_object_get(ack, "changes"), *c, *n;
	json_int_t v = json_integer_value(json_object_get(ack, "map_version"));
	size_t i, k;
	if (!json_is_array(changes))
		return;
	pthread_mutex_lock(&j->lock);
	if (!j->map) {
		pthread_mutex_unlock(&j->lock);
		return;
	}
	json_t *map = json_deep_copy(j->map), *nodes = json_object_get(map, "nodes");
	json_array_foreach(changes, i, c) {
		const char *name = json_string_value(json_object_get(c, "name"));
		bool found = false;
		if (!name)
			continue;
		json_array_foreach(nodes, k, n) {
			const char *have = json_string_value(json_object_get(n, "name"));
			if (have && !strcmp(have, name)) {
				json_array_set(nodes, k, c);
				found = true;
				break;
			}
		}
		if (!found)
			json_array_append(nodes, c);
		const char *role = json_string_value(json_object_get(c, "role"));
		if (role && !strcmp(role, "czar"))
			json_object_set_new(map, "czar", json_pack("{s:O, s:O, s:O}", "name", json_object_get(c, "name"),
							      "addr", json_object_get(c, "addr"),
							      "state", json_object_get(c, "state")));
	}
	json_object_set_new(map, "version", json_integer(v));
	json_decref(j->map);
	j->map = map;
	j->map_version = (uint64_t)v;
	json_t *copy = json_incref(map);
	pthread_mutex_unlock(&j->lock);
	store_map(j->state_dir, copy);
	json_decref(copy);
}

static void take_identity(struct join *j, json_t *msg)
{
	char name[TLS_ID_MAX], e[64];
	if (reg_msg_str(msg, "name", name, sizeof(name), 1, e, sizeof(e)) < 0)
		return;
	pthread_mutex_lock(&j->lock);
	bool changed = strcmp(j->name, name) != 0;
	snprintf(j->name, sizeof(j->name), "%s", name);
	j->ordinal = (int)json_integer_value(json_object_get(msg, "ordinal"));
	pthread_mutex_unlock(&j->lock);
	if (changed && j->o.set_hostname && sethostname(name, strlen(name)) < 0)
		jev(j, REG_EV_WARN, "sethostname %s: %s", name, strerror(errno));
}

/* Load stored credentials; -ENOENT when the node must join first. */
static int load_creds(struct join *j, char **cert, char **key, char **ca)
{
	char p1[512], p2[512], p3[512], e[128];
	path_of(p1, sizeof(p1), j->state_dir, "node.crt");
	path_of(p2, sizeof(p2), j->state_dir, "node.key");
	path_of(p3, sizeof(p3), j->state_dir, "ca.crt");
	*cert = *key = *ca = NULL;
	if (tls_file_read(p1, cert) < 0 || tls_file_read(p2, key) < 0 || tls_file_read(p3, ca) < 0 ||
	    (j->pin && j->pin[0] && tls_pin_check(*ca, j->pin, e, sizeof(e)) < 0)) {
		free(*cert);
		free(*key);
		free(*ca);
		*cert = *key = *ca = NULL;
		return -ENOENT;
	}
	return 0;
}

static void forget_cert(struct join *j)
{
	char p[512];
	path_of(p, sizeof(p), j->state_dir, "node.crt");
	unlink(p);
}

/* A new mutual-TLS connection to the registry with the stored
 * credentials.  *fd, *cfg and *t are set as far as it got (the caller
 * frees them); -ENOENT without credentials, -ECANCELED when stopping. */
static int session_connect(struct join *j, int *fd, struct tls_config **cfg, struct tls_conn **t,
			   char *err, size_t errlen)
{
	char *cert, *key, *ca;
	int rc;

	if (load_creds(j, &cert, &key, &ca) < 0)
		return -ENOENT;
	struct tls_config_opts co = { .peer_auth = TLS_PEER_CA, .ca_pem = ca, .cert_pem = cert,
				      .key_pem = key, .timeout_ms = HANDSHAKE_TIMEOUT_MS };
	rc = tls_config_new(&co, cfg, err, errlen);
	free(cert);
	free(key);
	free(ca);
	if (rc < 0)
		return rc;
	if ((*fd = rc = connect_registry(j->registry, IO_TIMEOUT_MS, err, errlen)) < 0)
		return rc;
	if (!track_fd(j, *fd))
		return -ECANCELED;
	return tls_conn_new(*cfg, *fd, "registry", t, err, errlen);
}

/* HELLO -> WELCOME: our identity and the map.  0 or <0 (err filled for a
 * refusal). */
static int session_hello(struct join *j, struct tls_conn *t, char *err, size_t errlen)
{
	json_t *msg = NULL;
	int type, rc;
	uint64_t mv;

	pthread_mutex_lock(&j->lock);
	mv = j->map_version;
	pthread_mutex_unlock(&j->lock);
	rc = reg_msg_send(tls_io_write, t, REG_MSG_HELLO, json_pack("{s:I, s:s}", "map_version", (json_int_t)mv,
								   "zone", j->zone), REG_MSG_MAX_REQ, IO_TIMEOUT_MS);
	if (rc == 0)
		rc = reg_msg_recv(tls_io_read, t, REG_MSG_MAX_REPLY, IO_TIMEOUT_MS, &type, &msg, err, errlen);
	if (rc == 0 && type == REG_MSG_ERROR)
		rc = refused(msg, err, errlen);
	else if (rc == 0 && type != REG_MSG_WELCOME)
		rc = -EPROTO;
	if (rc == 0) {
		take_identity(j, msg);
		take_map(j, json_object_get(msg, "map"));
	}
	json_decref(msg);
	return rc;
}

static void session_ready(struct join *j)
{
	pthread_mutex_lock(&j->lock);
	j->sessions++;
	j->state = J_READY;
	j->last_error[0] = '\0';
	pthread_mutex_unlock(&j->lock);
	jev(j, REG_EV_INFO, "session with the registry %s up as %s%s", j->registry, j->name,
	    j->removed_told ? " (re-admitted by the operator)" : "");
	j->removed_told = false;
}

/* HEARTBEAT number seq, with our map version and the newest health. */
static json_t *heartbeat_msg(struct join *j, uint64_t seq)
{
	pthread_mutex_lock(&j->lock);
	json_t *hb = json_pack("{s:I, s:s, s:I}", "seq", (json_int_t)seq, "state", "ready",
			       "map_version", (json_int_t)j->map_version);
	json_t *epoch = j->map ? json_object_get(j->map, "epoch") : NULL;
	if (json_is_string(epoch))
		json_object_set(hb, "map_epoch", epoch);
	json_object_set_new(hb, "health", j->health ? json_deep_copy(j->health) : json_object());
	j->hb_sent++;
	pthread_mutex_unlock(&j->lock);
	return hb;
}

/* One heartbeat and its ACK (which may carry the map or changes to it). */
static int heartbeat(struct join *j, struct tls_conn *t, uint64_t seq, char *err, size_t errlen)
{
	json_t *msg = NULL;
	int type, rc;

	rc = reg_msg_send(tls_io_write, t, REG_MSG_HEARTBEAT, heartbeat_msg(j, seq), REG_MSG_MAX_REQ, IO_TIMEOUT_MS);
	if (rc < 0) {
		snprintf(err, errlen, "heartbeat: %s", strerror(-rc));
		return rc;
	}
	rc = reg_msg_recv(tls_io_read, t, REG_MSG_MAX_REPLY, IO_TIMEOUT_MS, &type, &msg, err, errlen);
	if (rc == 0 && type == REG_MSG_ERROR)
		rc = refused(msg, err, errlen);
	else if (rc == 0 && (type != REG_MSG_ACK ||
			     json_integer_value(json_object_get(msg, "seq")) != (json_int_t)seq)) {
		snprintf(err, errlen, "bad heartbeat acknowledgement");
		rc = -EPROTO;
	}
	if (rc == 0) {
		pthread_mutex_lock(&j->lock);
		j->acks++;
		pthread_mutex_unlock(&j->lock);
		take_map(j, json_object_get(msg, "map"));
		take_changes(j, msg);
	}
	json_decref(msg);
	return rc;
}

/* True when our certificate does not name us as the map shows us and no
 * renewal was asked for that reason yet (err says why). */
static bool renew_wanted(struct join *j, char *err, size_t errlen)
{
	char p[512], why[256], *crt = NULL;
	int stale = 0;

	path_of(p, sizeof(p), j->state_dir, "node.crt");
	if (tls_file_read(p, &crt) < 0)
		return false;
	pthread_mutex_lock(&j->lock);
	if (j->map && j->name[0] && (stale = join_cert_stale(crt, j->map, j->name, why, sizeof(why))) > 0) {
		stale = strcmp(why, j->renewed_for) != 0;
		snprintf(j->renewed_for, sizeof(j->renewed_for), "%s", why);
	}
	pthread_mutex_unlock(&j->lock);
	free(crt);
	if (stale > 0)
		snprintf(err, errlen, "%s", why);
	return stale > 0;
}

/* Mutual-TLS session: HELLO, then heartbeats until something fails or
 * join_stop.  On the join's connection (t given) or a new one.  Owns fd,
 * cfg and t.  Returns <0 (err filled), 0 when stopped; sets *ret_ready
 * when the session got ready. */
static int session(struct join *j, int fd, struct tls_config *cfg, struct tls_conn *t,
		   bool *ret_ready, char *err, size_t errlen)
{
	int hb_ms = j->o.heartbeat_ms > 0 ? j->o.heartbeat_ms : 2000, rc = 0;

	if (t)                 /* continuing on the join's connection */
		track_fd(j, fd);
	else
		rc = session_connect(j, &fd, &cfg, &t, err, errlen);
	if (rc == 0)
		rc = session_hello(j, t, err, errlen);
	if (rc == 0 && renew_wanted(j, err, errlen))
		rc = RENEW;
	if (rc == 0) {
		session_ready(j);
		*ret_ready = true;
		for (uint64_t seq = 1; rc == 0 && !nap(j, hb_ms); seq++)
			rc = heartbeat(j, t, seq, err, errlen);
	}
	tls_conn_free(t);
	tls_config_free(cfg);
	track_fd(j, -1);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* The registry refused this machine because the operator removed it: say
 * so once, plainly, keep the credentials (a re-admitted node comes back
 * with them) and ask again every REMOVED_RETRY_MS.  True when stopping. */
static bool removed(struct join *j, const char *err)
{
	if (!j->removed_told)
		jev(j, REG_EV_ERROR, "%s; not rejoining (asking the registry %s again every %d s)", err,
		    j->registry, REMOVED_RETRY_MS / 1000);
	j->removed_told = true;
	set_state(j, J_REMOVED, err);
	return nap(j, REMOVED_RETRY_MS);
}

static void *join_main(void *arg)
{
	struct join *j = arg;
	char err[256];
	int backoff = 500;
	bool renew = false;     /* join again although we hold a certificate */
	while (!j->stopping) {
		bool ready = false, have;
		char *c, *k, *a;
		int rc;
		if ((have = load_creds(j, &c, &k, &a) == 0)) {
			free(c);
			free(k);
			free(a);
		}
		if (!have || renew) {
			set_state(j, J_JOINING, NULL);
			int kfd = -1;
			struct tls_config *kcfg = NULL;
			struct tls_conn *kt = NULL;
			rc = join_run(&j->o, j, &kfd, &kcfg, &kt, err, sizeof(err));
			track_fd(j, -1);
			if (rc == 0) {
				pthread_mutex_lock(&j->lock);
				j->joins++;
				pthread_mutex_unlock(&j->lock);
				jev(j, REG_EV_INFO, "%s the cluster through %s", renew ? "certificate renewed: re-joined" :
				    "joined", j->registry);
				renew = false;
				set_state(j, J_CONNECTING, NULL);
				err[0] = '\0';
				rc = session(j, kfd, kcfg, kt, &ready, err, sizeof(err));
				goto ended;
			}
			if (j->stopping)
				break;
			if (rc == NODE_REMOVED) {
				if (removed(j, err))
					break;
				continue;
			}
			if (renew) {    /* e.g. the token was rotated: the old certificate still works */
				jev(j, REG_EV_WARN, "certificate renewal through %s failed: %s; keeping the current "
				    "certificate", j->registry, err);
				renew = false;
				continue;
			}
			jev(j, REG_EV_ERROR, "join through %s failed: %s", j->registry, err);
			set_state(j, J_RETRY, err);
			if (nap(j, rc == -EACCES || rc == -EPERM || rc == -EINVAL ? 10000 : backoff))
				break;
			backoff = backoff < 5000 ? backoff * 2 : 10000;
			continue;
		}
		set_state(j, J_CONNECTING, NULL);
		err[0] = '\0';
		rc = session(j, -1, NULL, NULL, &ready, err, sizeof(err));
ended:
		if (j->stopping)
			break;
		if (ready)
			backoff = 500;
		if (rc == NODE_REMOVED) {
			if (removed(j, err))
				break;
			continue;
		}
		if (rc == RENEW) {
			jev(j, REG_EV_INFO, "%s: renewing it (a join proving the node key)", err);
			renew = true;
			continue;
		}
		if (rc == UNKNOWN_NODE) {
			jev(j, REG_EV_WARN, "%s; joining again", err);
			forget_cert(j);
			continue;
		}
		pthread_mutex_lock(&j->lock);
		bool kicked = j->kick;
		j->kick = false;
		pthread_mutex_unlock(&j->lock);
		if (kicked) {
			jev(j, REG_EV_INFO, "network changed: reconnecting to the registry %s", j->registry);
			continue;
		}
		jev(j, REG_EV_WARN, "session with the registry %s ended: %s", j->registry,
		    err[0] ? err : strerror(-rc));
		set_state(j, J_RETRY, err[0] ? err : strerror(-rc));
		if (nap(j, backoff))
			break;
		backoff = backoff < 5000 ? backoff * 2 : 10000;
	}
	set_state(j, J_STOPPED, NULL);
	return NULL;
}

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

int join_start(const struct join_opts *o, struct join **ret_j, char *err, size_t errlen)
{
	if (!o->state_dir || !o->registry || !o->uuid || !o->role) {
		snprintf(err, errlen, "join needs a state dir, registry address, machine uuid and role");
		return -EINVAL;
	}
	struct join *j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	pthread_mutex_init(&j->lock, NULL);
	j->cur_fd = -1;
	j->state_dir = dup_or_empty(o->state_dir);
	j->registry = dup_or_empty(o->registry);
	j->token = dup_or_empty(o->token);
	j->pin = dup_or_empty(o->pin);
	j->uuid = dup_or_empty(o->uuid);
	j->role = dup_or_empty(o->role);
	j->zone = dup_or_empty(o->zone);
	j->inventory = o->inventory ? json_deep_copy(o->inventory) : NULL;
	j->o = *o;
	j->o.state_dir = j->state_dir;
	j->o.registry = j->registry;
	j->o.token = j->token;
	j->o.pin = j->pin;
	j->o.uuid = j->uuid;
	j->o.role = j->role;
	j->o.zone = j->zone;
	j->o.inventory = j->inventory;
	if (mkdir(o->state_dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", o->state_dir, strerror(errno));
		j->wake[0] = j->wake[1] = -1;
		join_stop(j);
		return -EIO;
	}
	if (pipe2(j->wake, O_CLOEXEC) < 0 || pthread_create(&j->th, NULL, join_main, j) != 0) {
		snprintf(err, errlen, "cannot start the join thread");
		j->wake[0] = j->wake[1] = -1;
		join_stop(j);
		return -EAGAIN;
	}
	*ret_j = j;
	return 0;
}

void join_stop(struct join *j)
{
	if (!j)
		return;
	if (j->wake[1] >= 0) {
		pthread_mutex_lock(&j->lock);
		j->stopping = true;
		if (j->cur_fd >= 0)
			shutdown(j->cur_fd, SHUT_RDWR);
		pthread_mutex_unlock(&j->lock);
		(void)!write(j->wake[1], "x", 1);
		pthread_join(j->th, NULL);
		close(j->wake[0]);
		close(j->wake[1]);
	}
	json_decref(j->health);
	json_decref(j->map);
	json_decref(j->inventory);
	free(j->state_dir);
	free(j->registry);
	free(j->token);
	free(j->pin);
	free(j->uuid);
	free(j->role);
	free(j->zone);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

void join_reconnect(struct join *j)
{
	pthread_mutex_lock(&j->lock);
	if (j->cur_fd >= 0) {
		j->kick = true;
		shutdown(j->cur_fd, SHUT_RDWR);
	}
	pthread_mutex_unlock(&j->lock);
}

void join_set_health(struct join *j, json_t *health)
{
	pthread_mutex_lock(&j->lock);
	json_decref(j->health);
	j->health = health;
	pthread_mutex_unlock(&j->lock);
}

json_t *join_status_json(struct join *j)
{
	pthread_mutex_lock(&j->lock);
	json_t *s = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I}",
			      "state", state_name(j->state), "registry", j->registry, "name", j->name,
			      "role", j->role, "zone", j->zone, "last_error", j->last_error,
			      "map_version", (json_int_t)j->map_version, "heartbeats_sent", (json_int_t)j->hb_sent,
			      "acks", (json_int_t)j->acks, "joins", (json_int_t)j->joins,
			      "sessions", (json_int_t)j->sessions);
	json_object_set_new(s, "ordinal", j->name[0] ? json_integer(j->ordinal) : json_null());
	pthread_mutex_unlock(&j->lock);
	return s;
}

json_t *join_cluster_map(struct join *j)
{
	pthread_mutex_lock(&j->lock);
	json_t *m = j->map ? json_deep_copy(j->map) : NULL;
	pthread_mutex_unlock(&j->lock);
	return m;
}
