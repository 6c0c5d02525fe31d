/* registry_admin.c: the operator's side of the registry: the admin unix
 * socket qservctl talks to (one ADMIN request {cmd[, name]}, one ADMIN_OK
 * or ERROR reply; commands in a table below), and the public calls behind
 * it (registry.h): token and rotation, decommissioning and re-admission,
 * the /status document and the Prometheus metrics.
 *
 * Decommissioning: `qservctl nodes remove NAME` marks the record removed
 * (persisted); from then on a join, a session or a heartbeat of that
 * machine is refused with code node_removed (registry_join.c) until an
 * operator re-admits it (`qservctl nodes readmit NAME`).  The record stays,
 * so the name and ordinal are never handed to another machine.  A change
 * that cannot be persisted is undone: the registry never serves what its
 * file would forget.  Re-admission also allows that machine one join
 * without proving its node key (a replaced disk), on removed and member
 * nodes alike; single-use tokens (`qservctl token issue`) admit one new
 * join each. */
#include "registry_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "monotime.h"

#define ADMIN_TIMEOUT_MS 5000

/* ---- the operator API -------------------------------------------------------- */

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

int registry_token_issue(struct registry *r, const char *uuid, int ttl_s, char ret_token[128],
			 char *err, size_t errlen)
{
	char tok[24];
	int rc;

	if (ttl_s < 0 || ttl_s > 30 * 86400) {
		snprintf(err, errlen, "ttl must be 1..2592000 seconds");
		return -EINVAL;
	}
	if (reg_token_generate(tok) < 0) {
		snprintf(err, errlen, "cannot generate a token");
		return -EIO;
	}
	pthread_mutex_lock(&r->lock);
	rc = reg_state_single_use_add(&r->st, tok, uuid ? uuid : "", ttl_s ? ttl_s : 3600);
	if (rc == -ENOSPC)
		snprintf(err, errlen, "%d single-use tokens are outstanding already", REG_SINGLE_USE_MAX);
	else if (rc < 0)
		snprintf(err, errlen, "invalid machine uuid '%s'", uuid ? uuid : "");
	if (rc == 0 && (rc = reg_state_save(r->state_path, &r->st, err, errlen)) < 0)
		reg_state_single_use_del(&r->st, (int)r->st.n_single_use - 1);    /* unchanged on failure */
	pthread_mutex_unlock(&r->lock);
	if (rc == 0)
		snprintf(ret_token, 128, "%s", tok);
	return rc;
}

/* Remove (remove) or re-admit the node called name, persisted; a save
 * failure puts the record back as it was.  Caller holds the lock. */
static int set_removed_locked(struct registry *r, const char *name, bool remove, char *err, size_t errlen)
{
	struct reg_node *n = reg_state_find_name(&r->st, name);
	int64_t removed_at = n ? n->removed_at : 0;
	enum reg_node_state state = n ? n->state : REG_NODE_DOWN;
	uint64_t last_seen_ms = n ? n->last_seen_ms : 0;
	bool readmit = n ? n->readmit : false;
	char why[256];
	int rc;

	rc = remove ? reg_state_remove(&r->st, name, &n) : reg_state_readmit(&r->st, name, &n);
	if (rc == -ENOENT)
		snprintf(err, errlen, "no node named '%s' in the registry", name);
	else if (rc == -EPERM)
		snprintf(err, errlen, "%s is the czar: the cluster cannot remove its own registry", name);
	else if (rc == -EALREADY)
		snprintf(err, errlen, remove ? "%s was already removed" :
			 "%s is not removed and may already join once without its key", name);
	if (rc < 0)
		return rc;
	if ((rc = reg_state_save(r->state_path, &r->st, why, sizeof(why))) < 0) {
		n->removed_at = removed_at;          /* unchanged on failure */
		n->state = state;
		n->last_seen_ms = last_seen_ms;
		n->readmit = readmit;
		snprintf(err, errlen, "cannot persist the registry: %s", why);
		return rc;
	}
	reg_map_changed_locked(r, n);
	return 0;
}

int registry_node_remove(struct registry *r, const char *name, char *err, size_t errlen)
{
	pthread_mutex_lock(&r->lock);
	int rc = set_removed_locked(r, name, true, err, errlen);
	pthread_mutex_unlock(&r->lock);
	if (rc == 0)
		reg_ev(r, REG_EV_INFO, "%s removed from the cluster by the operator: its certificate, heartbeats "
		       "and re-joins are refused from now on; the name is never reused", name);
	return rc;
}

int registry_node_readmit(struct registry *r, const char *name, char *err, size_t errlen)
{
	pthread_mutex_lock(&r->lock);
	int rc = set_removed_locked(r, name, false, err, errlen);
	pthread_mutex_unlock(&r->lock);
	if (rc == 0)
		reg_ev(r, REG_EV_INFO, "%s re-admitted by the operator: the machine may rejoin under that name, "
		       "once without proving its node key", name);
	return rc;
}

/* Every node with its runtime facts (the `nodes` view of qservctl and
 * /status).  Caller holds the lock. */
json_t *reg_nodes_json_locked(struct registry *r)
{
	json_t *a = json_array();
	uint64_t now = (uint64_t)monotime_ms();
	for (size_t i = 0; i < r->st.n; i++) {
		const struct reg_node *n = r->st.nodes[i];
		json_t *o = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "name", n->name,
				      "role", n->role, "ordinal", n->ordinal, "uuid", n->uuid, "addr", n->addr,
				      "zone", n->zone, "state", reg_node_state_name(n->state),
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

json_t *registry_status_json(struct registry *r)
{
	pthread_mutex_lock(&r->lock);
	json_t *j = json_pack("{s:s, s:s, s:s, s:i, s:I, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}}",
			      "cluster", r->st.cluster, "ca_pin", r->pin, "token", r->st.token,
			      "port", r->port, "map_version", (json_int_t)r->map_version,
			      "nodes", reg_nodes_json_locked(r), "counters",
			      "joins", (json_int_t)r->joins_ok, "joins_refused", (json_int_t)r->joins_refused,
			      "sessions", (json_int_t)r->sessions, "heartbeats", (json_int_t)r->heartbeats,
			      "tls_failures", (json_int_t)r->handshake_failures,
			      "takeovers_refused", (json_int_t)r->takeovers_refused,
			      "rate_limited", (json_int_t)r->rate_limited, "idle_closed", (json_int_t)r->idle_closed,
			      "handshakes_capped", (json_int_t)r->handshakes_capped);
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
		"# TYPE qserv_registry_map_version gauge\nqserv_registry_map_version %llu\n"
		"# TYPE qserv_registry_takeovers_refused_total counter\nqserv_registry_takeovers_refused_total %llu\n"
		"# TYPE qserv_registry_joins_rate_limited_total counter\nqserv_registry_joins_rate_limited_total %llu\n"
		"# TYPE qserv_registry_idle_closed_total counter\nqserv_registry_idle_closed_total %llu\n"
		"# TYPE qserv_registry_handshakes_capped_total counter\nqserv_registry_handshakes_capped_total %llu\n",
		(unsigned long long)r->joins_ok, (unsigned long long)r->joins_refused,
		(unsigned long long)r->heartbeats, (unsigned long long)r->map_version,
		(unsigned long long)r->takeovers_refused, (unsigned long long)r->rate_limited,
		(unsigned long long)r->idle_closed, (unsigned long long)r->handshakes_capped);
	pthread_mutex_unlock(&r->lock);
}

/* ---- the admin socket ---------------------------------------------------------- */

/* A command's reply (new reference), or NULL with *ret_code and err set
 * for an ERROR reply.  name is "" when the request has none; req is the
 * whole request (borrowed). */
typedef json_t *admin_fn(struct registry *r, const char *name, json_t *req, const char **ret_code, char *err,
			 size_t errlen);

static json_t *admin_nodes(struct registry *r, const char *name, json_t *req, const char **ret_code,
				 char *err, size_t errlen)
{
	pthread_mutex_lock(&r->lock);
	json_t *resp = json_pack("{s:s, s:I, s:o}", "cluster", r->st.cluster,
				 "map_version", (json_int_t)r->map_version, "nodes", reg_nodes_json_locked(r));
	pthread_mutex_unlock(&r->lock);
	return resp;
}

static json_t *admin_token(struct registry *r, const char *name, json_t *req, const char **ret_code,
				 char *err, size_t errlen)
{
	char token[128], pin[TLS_PIN_LEN];

	registry_secrets(r, token, pin);
	return json_pack("{s:s, s:s}", "token", token, "ca_pin", pin);
}

static json_t *admin_token_rotate(struct registry *r, const char *name, json_t *req, const char **ret_code,
				 char *err, size_t errlen)
{
	char token[128];

	if (registry_token_rotate(r, token, err, errlen) < 0) {
		*ret_code = "internal";
		return NULL;
	}
	reg_ev(r, REG_EV_INFO, "join token rotated (new id %.6s); joined nodes are unaffected", token);
	return json_pack("{s:s}", "token", token);
}

/* node-remove and node-readmit: doing what is already done is no error
 * ("changed": false). */
static json_t *admin_membership(struct registry *r, const char *name, bool remove, const char **ret_code,
				char *err, size_t errlen)
{
	int rc = remove ? registry_node_remove(r, name, err, errlen) : registry_node_readmit(r, name, err, errlen);

	if (rc < 0 && rc != -EALREADY) {
		*ret_code = rc == -ENOENT ? "unknown_node" : rc == -EPERM ? "refused" : "internal";
		return NULL;
	}
	return json_pack("{s:s, s:s, s:b}", "name", name, "state", remove ? "removed" : "readmitted",
			 "changed", rc == 0);
}

static json_t *admin_node_remove(struct registry *r, const char *name, json_t *req, const char **ret_code,
				 char *err, size_t errlen)
{
	return admin_membership(r, name, true, ret_code, err, errlen);
}

static json_t *admin_node_readmit(struct registry *r, const char *name, json_t *req, const char **ret_code,
				 char *err, size_t errlen)
{
	return admin_membership(r, name, false, ret_code, err, errlen);
}

/* token-issue {uuid?, ttl?}: a single-use token. */
static json_t *admin_token_issue(struct registry *r, const char *name, json_t *req, const char **ret_code,
				 char *err, size_t errlen)
{
	char uuid[TLS_ID_MAX], token[128];
	json_t *ttl = json_object_get(req, "ttl");
	int rc;

	if (reg_msg_str(req, "uuid", uuid, sizeof(uuid), 0, err, errlen) < 0 ||
	    (ttl && (!json_is_integer(ttl) || json_integer_value(ttl) <= 0 ||
		     json_integer_value(ttl) > 30 * 86400))) {
		if (ttl)
			snprintf(err, errlen, "ttl must be 1..2592000 seconds");
		*ret_code = "bad_request";
		return NULL;
	}
	rc = registry_token_issue(r, uuid, ttl ? (int)json_integer_value(ttl) : 0, token, err, errlen);
	if (rc < 0) {
		*ret_code = rc == -EINVAL || rc == -ENOSPC ? "bad_request" : "internal";
		return NULL;
	}
	reg_ev(r, REG_EV_INFO, "single-use join token %.6s issued%s%s", token, uuid[0] ? " for machine " : "", uuid);
	return json_pack("{s:s, s:s, s:i}", "token", token, "uuid", uuid,
			 "ttl", ttl ? (int)json_integer_value(ttl) : 3600);
}

static const struct {
	const char *cmd;
	admin_fn *fn;
} admin_cmds[] = {
	{ "nodes", admin_nodes },
	{ "token", admin_token },
	{ "token-rotate", admin_token_rotate },
	{ "token-issue", admin_token_issue },
	{ "node-remove", admin_node_remove },
	{ "node-readmit", admin_node_readmit },
};

void reg_handle_admin(struct conn *c)
{
	char cmd[32], err[256], name[TLS_ID_MAX] = "";
	const char *code = "bad_request";
	int type, fd = c->fd;
	json_t *req = NULL, *resp = NULL;

	if (reg_msg_recv(frame_fd_read, &fd, REG_MSG_MAX_REQ, ADMIN_TIMEOUT_MS, &type, &req, err, sizeof(err)) < 0 ||
	    type != REG_MSG_ADMIN || reg_msg_str(req, "cmd", cmd, sizeof(cmd), 1, err, sizeof(err)) < 0 ||
	    reg_msg_str(req, "name", name, sizeof(name), 0, err, sizeof(err)) < 0) {
		reg_msg_send_error(frame_fd_write, &fd, "bad_request", "expected ADMIN {cmd[, name]}");
		json_decref(req);
		return;
	}
	snprintf(err, sizeof(err), "unknown command");
	for (size_t i = 0; i < sizeof(admin_cmds) / sizeof(admin_cmds[0]); i++) {
		if (!strcmp(cmd, admin_cmds[i].cmd)) {
			snprintf(err, sizeof(err), "out of memory");
			code = "internal";
			resp = admin_cmds[i].fn(c->r, name, req, &code, err, sizeof(err));
		}
	}
	json_decref(req);
	if (!resp) {
		reg_msg_send_error(frame_fd_write, &fd, code, err);
		return;
	}
	reg_msg_send(frame_fd_write, &fd, REG_MSG_ADMIN_OK, resp, REG_MSG_MAX_REPLY, ADMIN_TIMEOUT_MS);
}
