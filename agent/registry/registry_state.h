/* registry_state.h: the cluster registry's table of nodes and its file.
 *
 * Owns: identities (machine UUID -> role, ordinal, name, certificate
 * serial), the per-role ordinal counters, the join token, and the JSON file
 * that keeps them across czar reboots.  Runtime facts (last heartbeat,
 * ready/down, health) live in the same records but are never persisted: a
 * registry that restarts sees every node as unknown until it speaks again.
 *
 * Invariants: a UUID appears at most once; (role, ordinal) pairs and names
 * are unique; ordinals are never reused (counters only grow), so the same
 * machine always gets its own ordinal back and a new machine never inherits
 * another's name.  Records are never deleted: a decommissioned node keeps
 * its record marked removed (persisted), which is what keeps its name
 * reserved and lets the registry refuse that machine by name.  Node records are heap objects whose addresses stay valid
 * while the state lives (the array holds pointers).
 *
 * Persistence: write to a temporary file, fsync, rename over the old one,
 * fsync the directory (tls_file_write): a crash leaves the old state or the
 * new one, never a torn file.  Not thread-safe: the registry holds its lock. */
#ifndef AGENT_REGISTRY_STATE_H
#define AGENT_REGISTRY_STATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "registry_msg.h"
#include "registry_proof.h"
#include "tls.h"

#define REG_STATE_FORMAT 1
/* The state file is written compact and never larger than this: the writer
 * refuses (-EFBIG) what the reader would refuse, so the registry can always
 * read back what it wrote.  REG_MAX_NODES records of the largest size fit. */
#define REG_STATE_MAX_BYTES (8u << 20)
#define REG_MAX_NODES 8192
#define REG_SINGLE_USE_MAX 256   /* single-use tokens outstanding at once */

/* REMOVED is the only persisted state (the record's `removed` mark); the
 * others are runtime facts. */
enum reg_node_state { REG_NODE_JOINED, REG_NODE_READY, REG_NODE_DOWN, REG_NODE_REMOVED };

struct reg_node {
	/* persisted */
	char uuid[TLS_ID_MAX];
	char name[TLS_ID_MAX];
	char role[16];
	int ordinal;
	uint64_t serial;            /* serial of the newest certificate issued */
	char addr[64];              /* last address seen (peer address) */
	int64_t joined_at;          /* unix seconds of the first join */
	int64_t removed_at;         /* unix seconds of `nodes remove`, 0 = a member */
	char pubkey[REG_PUBKEY_MAX]; /* key of the newest certificate (base64 SPKI), "" unknown */
	bool readmit;               /* the operator allowed one join without the key proof */
	char zone[REG_ZONE_MAX + 1]; /* failure zone the node last said (JOIN, HELLO), "" = none */
	/* runtime */
	enum reg_node_state state;
	uint64_t last_seen_ms;      /* monotonic, 0 = never in this run */
	uint64_t heartbeats;        /* received in this run */
	uint64_t sessions;          /* mTLS sessions opened in this run */
	json_t *health;             /* last reported health (owned), or NULL */
};

/* A token valid for one join (of one machine when uuid is set) until
 * expires (unix seconds). */
struct reg_single_use {
	char token[24];
	char uuid[TLS_ID_MAX];
	int64_t expires;
};

struct reg_state {
	char cluster[TLS_ID_MAX];
	char token[128];
	struct reg_single_use single_use[REG_SINGLE_USE_MAX];
	size_t n_single_use;
	uint64_t next_serial;
	int next_worker, next_czar;
	struct reg_node **nodes;
	size_t n, cap;
};

void reg_state_init(struct reg_state *st, const char *cluster);
void reg_state_free(struct reg_state *st);   /* frees nodes; st may be zeroed */

/* Load path into *ret_st (initialized here).  -ENOENT when absent,
 * -EBADMSG (err says where) when it does not parse or breaks an invariant,
 * -EFBIG when larger than REG_STATE_MAX_BYTES. */
int reg_state_load(const char *path, struct reg_state *ret_st, char *err, size_t errlen);
/* Atomically replace path (mode 0600), compact JSON, expired single-use
 * tokens dropped.  -EFBIG (nothing written) when the text would exceed
 * REG_STATE_MAX_BYTES. */
int reg_state_save(const char *path, const struct reg_state *st, char *err, size_t errlen);

json_t *reg_state_to_json(const struct reg_state *st);
int reg_state_from_json(json_t *doc, struct reg_state *ret_st, char *err, size_t errlen);

struct reg_node *reg_state_find(const struct reg_state *st, const char *uuid);
struct reg_node *reg_state_find_name(const struct reg_state *st, const char *name);

/* Identity for uuid asking for role ("worker" or "czar"): the existing
 * record (role must match: -EEXIST otherwise, *ret_node set to it), or a new
 * record with the next ordinal of that role and name "<role>-<ordinal>".
 * *ret_new tells which.  -EINVAL for a bad uuid or role; -EKEYREVOKED
 * (*ret_node set) when the machine's record was removed; -ENOSPC when
 * REG_MAX_NODES records exist.  A known record is only returned: whether
 * that machine may have a certificate again (key proof, readmit) is the
 * caller's decision. */
int reg_state_assign(struct reg_state *st, const char *uuid, const char *role,
		     struct reg_node **ret_node, bool *ret_new);

/* Decommission: mark the node called name removed (removed_at = now,
 * state REMOVED).  -ENOENT unknown name, -EPERM for a czar (the cluster
 * cannot remove its own registry), -EALREADY when already removed (the
 * record is returned in every case but -ENOENT).  Persist afterwards. */
int reg_state_remove(struct reg_state *st, const char *name, struct reg_node **ret_node);
/* Re-admission of the node called name: undoes reg_state_remove (state
 * DOWN until it speaks) and allows one join of that machine without the
 * key proof (a machine whose disk was replaced).  -ENOENT, or -EALREADY
 * when it is neither removed nor lacking that allowance.  Persist
 * afterwards. */
int reg_state_readmit(struct reg_state *st, const char *name, struct reg_node **ret_node);
static inline bool reg_node_removed(const struct reg_node *n)
{
	return n->removed_at != 0;
}

/* Single-use tokens: add one (uuid may be "" for any machine) valid for
 * ttl_s seconds (-ENOSPC when REG_SINGLE_USE_MAX are outstanding), or find
 * the unexpired one equal to token that admits uuid (its index, or -1). */
int reg_state_single_use_add(struct reg_state *st, const char *token, const char *uuid, int64_t ttl_s);
int reg_state_single_use_find(struct reg_state *st, const char *token, const char *uuid);
void reg_state_single_use_del(struct reg_state *st, int idx);

/* Next certificate serial (persist the state after using it). */
uint64_t reg_state_next_serial(struct reg_state *st);

const char *reg_node_state_name(enum reg_node_state s);

/* "<6 hex>.<16 hex>" (kubeadm-like: the id part may be logged, the whole is
 * the secret). */
int reg_token_generate(char ret_token[24]);

#endif
