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
 * Who gets a certificate: the join token (or a single-use token) admits
 * new machines only.  A machine the registry knows already must prove it
 * holds the key of its current certificate (CHALLENGE/PROOF,
 * registry_proof.h); otherwise the join is refused (code
 * node_key_required) unless the operator re-admitted it
 * (registry_node_readmit: one join without proof).  JOINs are rate-limited
 * per source address (token bucket, join_burst then join_per_min;
 * loopback peers, processes of the czar machine itself, are exempt unless
 * limit_loopback).  A connection must send its TLS hello within a few
 * seconds before it takes one of the bounded handshake slots, and the
 * handshake plus first message must finish within a few seconds too; one
 * source address has at most 4 connections before their first message at
 * once (more are closed at accept, counted as handshakes_capped; loopback
 * exempt unless limit_loopback), so idle sockets cannot lock joins out.
 *
 * Node certificates carry subjectAltName DNS:<name> and IP:<the address
 * the registry records> (the czar's also its machine's addresses), so
 * clients that check host names accept them; the join client renews one
 * that lacks them (join_renew.h).
 *
 * The registry never logs: it reports what happened through opts->event
 * (the daemon logs it once, with the peer's address; a refused takeover of
 * a known machine is a REG_EV_WARN naming the node and the peer). */
#ifndef AGENT_REGISTRY_H
#define AGENT_REGISTRY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tls.h"

#define REGISTRY_PORT 7070

enum reg_event_level { REG_EV_INFO, REG_EV_WARN, REG_EV_ERROR };
typedef void (*reg_event_fn)(void *ctx, enum reg_event_level lvl, const char *msg);
/* A disk problem a node's heartbeat reports (health.storage.problems: a
 * disk in state foreign or error, registry_disks.c): raise when it first
 * appears, !raise when the node no longer reports it.  kind "disk_foreign"
 * or "disk_error", subject "<node>/<disk id>".  Called with the
 * registry's lock held: it must not block (alert_raise does not). */
typedef void (*reg_disk_alert_fn)(void *ctx, bool raise, const char *kind, const char *subject,
				  const char *message);

struct registry_opts {
	const char *state_dir;      /* CA, keys, state.json (created 0700) */
	const char *cluster;        /* cluster name on first start; [A-Za-z0-9._-] */
	const char *listen_addr;    /* IPv4 address, NULL = any */
	uint16_t port;              /* 0 = ephemeral (tests); see registry_port() */
	const char *admin_socket;   /* unix socket path for qservctl, NULL = none */
	const char *self_uuid;      /* the czar machine: the only one allowed role "czar" */
	int down_after_ms;          /* 0 -> 10000 */
	int join_burst;             /* JOINs per address at once: 0 -> 10, <0 no limit */
	int join_per_min;           /* then this many per minute: 0 -> 6 */
	bool limit_loopback;        /* rate-limit 127.x peers too (tests) */
	reg_event_fn event;
	void *event_ctx;
	reg_disk_alert_fn disk_alert;   /* NULL: disk problems only in the nodes' health */
	void *disk_alert_ctx;
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

/* A token valid for one join (of the machine uuid when uuid is non-empty)
 * within ttl_s seconds (0 -> 3600), kept in the state until used or
 * expired.  -EINVAL bad uuid or ttl, -ENOSPC too many outstanding, or a
 * save failure (nothing changed then). */
int registry_token_issue(struct registry *r, const char *uuid, int ttl_s, char ret_token[128],
			 char *err, size_t errlen);

/* Decommission the node called name: persisted; its joins, sessions and
 * heartbeats are refused (code node_removed) until it is re-admitted, and
 * the map shows it "removed".  -ENOENT unknown, -EPERM the czar, -EALREADY
 * already removed (err says which), other <0 when the state cannot be saved
 * (nothing changed then). */
int registry_node_remove(struct registry *r, const char *name, char *err, size_t errlen);
/* The same machine may come back under its name: a removed node is
 * re-admitted, and the machine may join once without proving its node key
 * (its disk was replaced).  -ENOENT, -EALREADY (not removed and already
 * allowed), or a save failure. */
int registry_node_readmit(struct registry *r, const char *name, char *err, size_t errlen);

/* {"cluster","ca_pin","token_id","map_version","nodes":[...]} (new reference). */
json_t *registry_status_json(struct registry *r);
/* Prometheus lines (qserv_registry_*). */
void registry_metrics(struct registry *r, FILE *out);

#endif
