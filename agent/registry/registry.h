/* registry.h: the cluster registry, served by the czar node's agent.
 *
 * Owns the cluster CA (created on first start in state_dir, key mode 0600),
 * the join token, the node table (registry_state.h) and the TCP/TLS
 * listener on port 7070 that agents join through and keep their mutual-TLS
 * heartbeat sessions on, plus a local admin unix socket for qservctl.
 *
 * Threads: one accept thread, one monitor thread (marks nodes down after
 * down_after_ms of silence and bumps the cluster map version), one thread
 * per connection.  All shared state sits behind one mutex; certificate
 * signing happens under it too (a few ms), which serializes joins but keeps
 * "assign ordinal, sign, persist" one atomic step.
 *
 * The registry never logs: it reports what happened through opts->event
 * (the daemon logs it once, with the peer's address). */
#ifndef AGENT_REGISTRY_H
#define AGENT_REGISTRY_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "tls.h"

#define REGISTRY_PORT 7070

enum reg_event_level { REG_EV_INFO, REG_EV_WARN, REG_EV_ERROR };
typedef void (*reg_event_fn)(void *ctx, enum reg_event_level lvl, const char *msg);

struct registry_opts {
	const char *state_dir;      /* CA, keys, state.json (created 0700) */
	const char *cluster;        /* cluster name on first start; [A-Za-z0-9._-] */
	const char *listen_addr;    /* IPv4 address, NULL = any */
	uint16_t port;              /* 0 = ephemeral (tests); see registry_port() */
	const char *admin_socket;   /* unix socket path for qservctl, NULL = none */
	const char *self_uuid;      /* the czar machine: the only one allowed role "czar" */
	int down_after_ms;          /* 0 -> 10000 */
	reg_event_fn event;
	void *event_ctx;
};

struct registry;

int registry_start(const struct registry_opts *opts, struct registry **ret_reg,
		   char *err, size_t errlen);
/* Stops listening, closes every session, waits for the threads, frees. */
void registry_stop(struct registry *r);

uint16_t registry_port(const struct registry *r);
/* Current token and the CA pin (both NUL-terminated). */
void registry_secrets(struct registry *r, char ret_token[128], char ret_pin[TLS_PIN_LEN]);
/* New token for new joins; joined nodes keep their certificates. */
int registry_token_rotate(struct registry *r, char ret_token[128], char *err, size_t errlen);

/* Decommission the node called name: persisted; its joins, sessions and
 * heartbeats are refused (code node_removed) until it is re-admitted, and
 * the map shows it "removed".  -ENOENT unknown, -EPERM the czar, -EALREADY
 * already removed (err says which), other <0 when the state cannot be saved
 * (nothing changed then). */
int registry_node_remove(struct registry *r, const char *name, char *err, size_t errlen);
/* The same machine may come back under its name.  -ENOENT, -EALREADY (not
 * removed), or a save failure. */
int registry_node_readmit(struct registry *r, const char *name, char *err, size_t errlen);

/* {"cluster","ca_pin","token_id","map_version","nodes":[...]} (new reference). */
json_t *registry_status_json(struct registry *r);
/* Prometheus lines (qserv_registry_*). */
void registry_metrics(struct registry *r, FILE *out);

#endif
