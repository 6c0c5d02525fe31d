/* join.h: the agent side of cluster membership.
 *
 * Owns the node's credentials in state_dir (node.key 0600 generated here and
 * never sent anywhere, node.crt, ca.crt, identity.json, cluster-map.json) and
 * one thread that keeps the node in the cluster:
 *
 *   START -> (no certificate) JOINING --JOINED--> CONNECTING
 *         -> (certificate)    CONNECTING --WELCOME--> READY (heartbeats)
 *   any failure -> RETRY (back-off 0.5 s doubling to 10 s) -> previous step
 *   registry says unknown_node (state wiped, certificate superseded) -> JOINING
 *   registry says node_removed (operator decommissioned it) -> REMOVED: logged
 *         once, credentials kept, asked again every 10 s (re-admission)
 *
 * The first join trusts the registry only through the CA pin (qserv.ca);
 * the CA received then is stored and every later session is mutual TLS
 * against it.  A node with a stored certificate never needs the token
 * again, so rotating the token does not disturb it.  Wrong token, wrong pin
 * or a refused join are reported in the status (last_error) and retried
 * slowly; nothing in state_dir is changed by a failed attempt.
 *
 * The node's failure zone (opts->zone) goes with every JOIN and HELLO: the
 * registry keeps the newest, so a zone changed in the configuration
 * reaches it at the next boot or reconnection without a new join.
 *
 * Events go through opts->event (the daemon logs them); the agent's main
 * loop hands over fresh health data with join_set_health(). */
#ifndef AGENT_JOIN_H
#define AGENT_JOIN_H

#include <jansson.h>
#include <stdbool.h>

#include "registry.h"

struct join_opts {
	const char *state_dir;     /* created 0700 if missing */
	const char *registry;      /* "host:port" (port defaults to 7070) */
	const char *token;
	const char *pin;           /* "sha256:..." ; required until ca.crt is stored */
	const char *uuid;          /* machine UUID (identity.h) */
	const char *role;          /* "worker" | "czar" */
	json_t *inventory;         /* sent with JOIN; copied */
	const char *zone;          /* failure zone, NULL or "" = none: sent with JOIN and HELLO */
	int heartbeat_ms;          /* 0 -> 2000 */
	bool set_hostname;         /* sethostname(name) once joined (image mode) */
	reg_event_fn event;
	void *event_ctx;
};

struct join;

int join_start(const struct join_opts *opts, struct join **ret_j, char *err, size_t errlen);
void join_stop(struct join *j);      /* accepts NULL */

/* The network changed (link back up, new address): drop the current
 * session and reconnect at once, re-announcing the node's address. */
void join_reconnect(struct join *j);

/* Replace the health object sent with the next heartbeats (stolen). */
void join_set_health(struct join *j, json_t *health);

/* {"state","registry","name","ordinal","role","zone","last_error",
 *  "map_version","heartbeats_sent","acks","joins","sessions"} (new
 *  reference). */
json_t *join_status_json(struct join *j);

/* Copy the current cluster map (new reference, or NULL before the first). */
json_t *join_cluster_map(struct join *j);

/* One synchronous join attempt (used by join's thread and by tests):
 * on success the credentials are stored in state_dir.  -EKEYREVOKED when
 * the operator removed this machine (err: "node NAME was removed ..."). */
int join_once(const struct join_opts *opts, char *err, size_t errlen);

#endif
