/* registry_msg.h: the messages between agents and the registry (port 7070).
 *
 * Every message is one frame (lib/frame.h) whose type is below and whose
 * payload is a JSON object (jansson; duplicate keys refused).  Requests are
 * small and capped at REG_MSG_MAX_REQ before anything is allocated; replies
 * may carry the cluster map and are capped at REG_MSG_MAX_REPLY.
 *
 *   JOIN      agent -> registry  {token, uuid, role, csr, inventory?, zone?}  (pinned TLS)
 *   CHALLENGE registry -> agent  {nonce, name}  (the uuid is known: prove the node key)
 *   PROOF     agent -> registry  {sig}          (registry_proof.h)
 *   JOINED    registry -> agent  {name, ordinal, role, cluster, cert, ca, map}
 *   HELLO     agent -> registry  {map_version, zone?}                     (mutual TLS)
 *   WELCOME   registry -> agent  {name, ordinal, role, map}
 *   HEARTBEAT agent -> registry  {seq, state, map_version, health{}}
 *   ACK       registry -> agent  {seq, map_version, map?}  (map when versions differ)
 *   ADMIN     qservctl -> registry (unix socket) {cmd, ...}
 *   ADMIN_OK  registry -> qservctl {...}
 *   ERROR     either way         {code, message}; the sender then closes.
 *
 * zone: the node's failure zone (qserv.zone, e.g. a rack): "" or absent =
 * none, else reg_zone_valid().  Sent with every JOIN and HELLO, so the
 * newest one a node booted with wins (a node with a certificate only says
 * HELLO).
 *
 * Error codes: bad_token, bad_request, bad_csr, role_conflict,
 * unknown_node, node_removed, node_key_required (a known machine did not
 * prove its key), rate_limited, registry_full, too_large, internal. */
#ifndef AGENT_REGISTRY_MSG_H
#define AGENT_REGISTRY_MSG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "frame.h"

enum reg_msg_type {
	REG_MSG_JOIN = 1,
	REG_MSG_JOINED = 2,
	REG_MSG_ERROR = 3,
	REG_MSG_HELLO = 4,
	REG_MSG_WELCOME = 5,
	REG_MSG_HEARTBEAT = 6,
	REG_MSG_ACK = 7,
	REG_MSG_ADMIN = 8,
	REG_MSG_ADMIN_OK = 9,
	REG_MSG_CHALLENGE = 10,
	REG_MSG_PROOF = 11,
};
#define REG_MSG_LAST REG_MSG_PROOF

#define REG_MSG_MAX_REQ    (256u << 10)
#define REG_MSG_MAX_REPLY  (16u << 20)

#define REG_ZONE_MAX 64    /* characters of a failure zone */

/* A failure zone: 1..REG_ZONE_MAX characters of [A-Za-z0-9._-], the rule
 * the controller applies to POST /meta/worker's "zone" too (qserv.zone,
 * the JOIN's and HELLO's "zone", the state file).  Inline: the state
 * file's fuzz target links registry_state.c alone. */
static inline bool reg_zone_valid(const char *zone)
{
	size_t n = strlen(zone);

	return n >= 1 && n <= REG_ZONE_MAX &&
	       strspn(zone, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

const char *reg_msg_name(int type);

/* Parse a payload into a JSON object (*ret_obj, caller decrefs).
 * -EBADMSG with err naming the problem. */
int reg_msg_decode(const void *payload, size_t len, json_t **ret_obj, char *err, size_t errlen);

/* Copy the string member `key` into buf: -ENOENT if missing and required,
 * -EBADMSG if not a string, longer than size-1, or holding a control
 * character.  Missing and optional: buf = "" and 0. */
int reg_msg_str(json_t *obj, const char *key, char *buf, size_t size, int required,
		char *err, size_t errlen);

/* Send obj (stolen: decref'd here) as a frame of `type`. */
int reg_msg_send(frame_write_fn wr, void *ctx, int type, json_t *obj, size_t max, int timeout_ms);

/* Receive one message: *ret_type and *ret_obj (caller decrefs). */
int reg_msg_recv(frame_read_fn rd, void *ctx, size_t max, int timeout_ms,
		 int *ret_type, json_t **ret_obj, char *err, size_t errlen);

/* Send an ERROR message (best effort). */
void reg_msg_send_error(frame_write_fn wr, void *ctx, const char *code, const char *message);

#endif
