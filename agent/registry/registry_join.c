/* registry_join.c: what the registry does on a node's connection: the JOIN
 * (token + CSR -> identity + certificate + map) and the node's session
 * (HELLO -> WELCOME, then HEARTBEAT -> ACK every few seconds).
 *
 * A join is rate-limited per address, then, for a machine the registry
 * knows already, proves the node key (CHALLENGE/PROOF against the key of
 * its last certificate, without the lock), then is one atomic step under
 * the lock: admit (token, role, identity, proof or readmit allowance),
 * sign, persist; a failure anywhere rolls the identity, the serial, the
 * stored key, the single-use token and the allowance back, so a refused
 * join changes no state.  A session certificate must be the
 * newest one issued to that machine (serial check), so a re-join retires
 * older certificates; a removed machine is refused on every path (join,
 * HELLO, heartbeat) with code node_removed, naming the node.  Every
 * refusal sends an ERROR with a code and a sentence and reports it through
 * the event callback.
 *
 * A node's failure zone comes with its JOIN and its HELLO (a node with a
 * certificate only says HELLO after a reboot): the newest wins, is logged
 * when it changes, persisted with the node's record and shown in the map.
 * A zone breaking reg_zone_valid() is refused (bad_request, naming the
 * field) on either path. */
#include "registry_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monotime.h"
#include "registry_proof.h"

#define CSR_MAX 16384

/* ---- join ------------------------------------------------------------------ */

/* The refusal a removed machine gets, on every path (join, session,
 * heartbeat): its log must say plainly what happened and what undoes it. */
void reg_removed_message(const char *name, char *buf, size_t len)
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

struct join_req {
	char token[128], uuid[TLS_ID_MAX], role[16];
	char zone[REG_ZONE_MAX + 1];      /* "" = none */
	char csr[CSR_MAX];
	char pubkey[REG_PUBKEY_MAX];      /* the CSR's key */
};

/* Why a join was refused: the ERROR code, the sentence the joiner reads,
 * and what the event says after "refused: ". */
struct refusal {
	const char *code;
	char what[2 * TLS_ID_MAX + 256];
	const char *log;                  /* NULL: the same as what */
	bool machine;                     /* the event names the machine */
};

/* What admission decided: the node (new or known) and what the issue
 * consumes (a single-use token, the operator's readmit allowance). */
struct admit {
	struct reg_node *n;
	bool is_new;
	int single_use;                   /* index in st.single_use, or -1 */
	char zone_was[REG_ZONE_MAX + 1];  /* the node's zone before this join */
};

static void join_refused(struct conn *c, struct tls_conn *t, const struct join_req *q, const struct refusal *f)
{
	const char *log = f->log ? f->log : f->what;

	if (f->machine)
		reg_ev(c->r, REG_EV_WARN, "join from %s (machine %s) refused: %s", c->peer, q->uuid, log);
	else
		reg_ev(c->r, REG_EV_WARN, "join from %s refused: %s", c->peer, log);
	reg_refuse(c, t, f->code, f->what);
}

/* The refusal of a known machine that did not prove its node key: the
 * joiner reads what undoes it, the event names the node and the peer (a
 * stolen token used to take over a node's identity looks like this). */
static void takeover_refused(struct conn *c, struct tls_conn *t, const struct join_req *q, const char *name,
			     const char *why)
{
	char what[2 * TLS_ID_MAX + 256];

	pthread_mutex_lock(&c->r->lock);
	c->r->takeovers_refused++;
	c->r->joins_refused++;
	pthread_mutex_unlock(&c->r->lock);
	snprintf(what, sizeof(what), "machine %s is already %s: it must prove its node key, or the operator "
		 "re-admits it with `qservctl nodes readmit %s`", q->uuid, name, name);
	reg_ev(c->r, REG_EV_WARN, "join from %s refused: takeover of %s (machine %s) refused: %s", c->peer, name,
	       q->uuid, why);
	reg_refuse(c, t, "node_key_required", what);
}

/* The cluster token or a single-use one admitting q->uuid: true, with
 * *ret_once the single-use index or -1.  Caller holds the lock. */
static bool token_ok_locked(struct registry *r, const struct join_req *q, int *ret_once)
{
	bool cluster = tls_secret_equal(q->token, r->st.token);
	int once = reg_state_single_use_find(&r->st, q->token, q->uuid);

	*ret_once = cluster ? -1 : once;
	return cluster || once >= 0;
}

/* A known member machine (not removed, no readmit allowance) with a valid
 * token must prove its node key: CHALLENGE, PROOF, verified against the
 * key of the certificate issued before.  1 proven, 0 no proof asked (new,
 * removed, re-admitted machine or bad token: admission decides), -1
 * refused (answered). */
static int join_prove(struct conn *c, struct tls_conn *t, const struct join_req *q)
{
	struct registry *r = c->r;
	char pubkey[REG_PUBKEY_MAX], name[TLS_ID_MAX], nonce[REG_NONCE_HEX + 1], sig[REG_SIG_MAX], why[256];
	json_t *msg = NULL;
	int once, type, rc;

	pthread_mutex_lock(&r->lock);
	struct reg_node *n = reg_state_find(&r->st, q->uuid);
	bool need = n && !reg_node_removed(n) && !n->readmit && token_ok_locked(r, q, &once);
	if (need) {
		snprintf(pubkey, sizeof(pubkey), "%s", n->pubkey);
		snprintf(name, sizeof(name), "%s", n->name);
	}
	pthread_mutex_unlock(&r->lock);
	if (!need)
		return 0;
	if (!pubkey[0]) {
		takeover_refused(c, t, q, name, "the registry holds no key for it (state from before key proofs)");
		return -1;
	}
	if (tls_random_hex(REG_NONCE_HEX / 2, nonce) < 0) {
		reg_refuse(c, t, "internal", "cannot make a challenge");
		return -1;
	}
	rc = reg_msg_send(tls_io_write, t, REG_MSG_CHALLENGE, json_pack("{s:s, s:s}", "nonce", nonce, "name", name),
			  REG_MSG_MAX_REPLY, FIRST_MSG_MS);
	if (rc == 0)
		rc = reg_msg_recv(tls_io_read, t, REG_MSG_MAX_REQ, FIRST_MSG_MS, &type, &msg, why, sizeof(why));
	if (rc == 0 && type != REG_MSG_PROOF) {
		snprintf(why, sizeof(why), "answered the challenge with %s", reg_msg_name(type));
		rc = -EPROTO;
	}
	if (rc == 0)
		rc = reg_msg_str(msg, "sig", sig, sizeof(sig), 1, why, sizeof(why));
	if (rc == 0)
		rc = reg_proof_verify(pubkey, q->uuid, nonce, sig, why, sizeof(why));
	json_decref(msg);
	if (rc < 0) {
		if (rc == -ENODATA || rc == -ECONNRESET)
			snprintf(why, sizeof(why), "no proof of the node key (the joiner hung up)");
		takeover_refused(c, t, q, name, why);
		return -1;
	}
	return 1;
}

/* Token, role and identity: 0 with *a filled (new or known node), or -1
 * with *f filled.  A known member machine is admitted only with its key
 * proven or the operator's readmit allowance.  Caller holds the lock. */
static int join_admit_locked(struct registry *r, const struct join_req *q, bool proven, struct admit *a,
			     struct refusal *f)
{
	int rc;

	f->machine = true;
	if (!token_ok_locked(r, q, &a->single_use)) {
		f->code = "bad_token";
		f->log = "wrong token";
		snprintf(f->what, sizeof(f->what), "wrong join token (check qserv.token; it may have been rotated, "
			 "or a single-use token was used or expired)");
		return -1;
	}
	if (!strcmp(q->role, "czar") && strcmp(q->uuid, r->self_uuid)) {
		f->code = "role_conflict";
		f->log = "asks for role czar";
		snprintf(f->what, sizeof(f->what), "this cluster already has its czar; join as a worker");
		return -1;
	}
	rc = reg_state_assign(&r->st, q->uuid, q->role, &a->n, &a->is_new);
	if (rc == -EKEYREVOKED) {
		f->code = "node_removed";
		reg_removed_message(a->n->name, f->what, sizeof(f->what));
		return -1;
	}
	if (rc == -ENOSPC) {
		f->code = "registry_full";
		snprintf(f->what, sizeof(f->what), "the registry holds %d machines already", REG_MAX_NODES);
		return -1;
	}
	if (rc < 0) {
		f->machine = false;
		f->code = rc == -EEXIST ? "role_conflict" : "bad_request";
		if (rc == -EEXIST)
			snprintf(f->what, sizeof(f->what), "machine %s is registered as %s; it cannot join as %s",
				 q->uuid, a->n->name, q->role);
		else
			snprintf(f->what, sizeof(f->what), "invalid machine uuid or role");
		return -1;
	}
	if (!a->is_new && !proven && !a->n->readmit) {      /* it became known while we asked */
		f->code = "node_key_required";
		f->log = "takeover refused: no proof of the node key";
		snprintf(f->what, sizeof(f->what), "machine %s is already %s: it must prove its node key, or the "
			 "operator re-admits it with `qservctl nodes readmit %s`", q->uuid, a->n->name, a->n->name);
		return -1;
	}
	snprintf(a->zone_was, sizeof(a->zone_was), "%s", a->n->zone);
	return 0;
}

/* Sign node a->n's certificate with the next serial, note its key, use up
 * the single-use token and the readmit allowance, and persist the state;
 * on failure everything is as before (a new node is dropped).  Caller
 * holds the lock. */
static int join_issue_locked(struct registry *r, const struct admit *a, const struct join_req *q, const char *addr,
			     uint64_t *ret_serial, char **ret_cert, struct refusal *f)
{
	struct reg_node *n = a->n;
	struct reg_single_use once = { .expires = 0 };
	uint64_t old_serial = n->serial, serial = reg_state_next_serial(&r->st);
	char err[256], old_pubkey[REG_PUBKEY_MAX], old_zone[REG_ZONE_MAX + 1];
	bool old_readmit = n->readmit;
	int rc;

	snprintf(old_pubkey, sizeof(old_pubkey), "%s", n->pubkey);
	snprintf(old_zone, sizeof(old_zone), "%s", n->zone);
	rc = reg_ca_sign_node(r, n, addr, q->csr, serial, ret_cert, f->what, sizeof(f->what));
	if (rc == 0) {
		n->serial = serial;
		snprintf(n->pubkey, sizeof(n->pubkey), "%s", q->pubkey);
		snprintf(n->zone, sizeof(n->zone), "%s", q->zone);     /* the newest wins */
		n->readmit = false;
		if (a->single_use >= 0) {
			once = r->st.single_use[a->single_use];
			reg_state_single_use_del(&r->st, a->single_use);
		}
		rc = reg_state_save(r->state_path, &r->st, err, sizeof(err));
		if (rc < 0)
			snprintf(f->what, sizeof(f->what), "cannot persist the registry: %s", err);
	}
	if (rc < 0) {
		free(*ret_cert);
		*ret_cert = NULL;
		n->serial = old_serial;
		snprintf(n->pubkey, sizeof(n->pubkey), "%s", old_pubkey);
		snprintf(n->zone, sizeof(n->zone), "%s", old_zone);
		n->readmit = old_readmit;
		if (once.expires)
			r->st.single_use[r->st.n_single_use++] = once;
		r->st.next_serial--;
		if (a->is_new)
			unassign_new(&r->st, n);
		f->code = rc == -EIO || rc == -ENOSPC || rc == -EFBIG ? "internal" : "bad_csr";
		f->machine = true;
		return rc;
	}
	*ret_serial = serial;
	return 0;
}

/* The event of node name's zone changing from was to now (the newest
 * wins: the configuration it booted with last). */
static void zone_changed_ev(struct registry *r, const char *name, const char *was, const char *now)
{
	reg_ev(r, REG_EV_INFO, "%s's failure zone changed from %s%s%s to %s%s%s (the newest wins)", name,
	       was[0] ? "'" : "", was[0] ? was : "none", was[0] ? "'" : "",
	       now[0] ? "'" : "", now[0] ? now : "none", now[0] ? "'" : "");
}

/* The optional "zone" of a JOIN or HELLO into zone ("" when absent or
 * empty): 0, or -EBADMSG with what naming the field (the value is not
 * echoed: it may be anything). */
static int zone_of(json_t *msg, char zone[REG_ZONE_MAX + 1], char *what, size_t len)
{
	if (reg_msg_str(msg, "zone", zone, REG_ZONE_MAX + 1, 0, what, len) < 0 || (zone[0] && !reg_zone_valid(zone))) {
		snprintf(what, len, "field 'zone' must be a string of 1-%d characters of [A-Za-z0-9._-] "
			 "(qserv.zone), or empty for none", REG_ZONE_MAX);
		zone[0] = '\0';
		return -EBADMSG;
	}
	return 0;
}

/* Fields of a JOIN into q (the CSR's key included): 0, or -1 after
 * refusing. */
static int join_parse(struct conn *c, struct tls_conn *t, json_t *req, struct join_req *q)
{
	char what[256];
	const char *code = "bad_request";

	if (reg_msg_str(req, "token", q->token, sizeof(q->token), 1, what, sizeof(what)) < 0 ||
	    reg_msg_str(req, "uuid", q->uuid, sizeof(q->uuid), 1, what, sizeof(what)) < 0 ||
	    reg_msg_str(req, "role", q->role, sizeof(q->role), 1, what, sizeof(what)) < 0 ||
	    reg_msg_str(req, "csr", q->csr, sizeof(q->csr), 1, what, sizeof(what)) < 0 ||
	    zone_of(req, q->zone, what, sizeof(what)) < 0 ||
	    (code = "bad_csr",
	     reg_proof_pubkey_of_csr(q->csr, q->pubkey, sizeof(q->pubkey), what, sizeof(what))) < 0) {
		pthread_mutex_lock(&c->r->lock);
		c->r->joins_refused++;
		pthread_mutex_unlock(&c->r->lock);
		reg_ev(c->r, REG_EV_WARN, "join from %s refused: bad request: %s", c->peer, what);
		reg_refuse(c, t, code, what);
		return -1;
	}
	return 0;
}

/* The JOIN rate limit of the peer's address: true to go on, false after
 * refusing. */
static bool join_rate_ok(struct conn *c, struct tls_conn *t)
{
	struct registry *r = c->r;
	char what[160];

	pthread_mutex_lock(&r->lock);
	bool ok = reg_rate_take_locked(r, c->peer, (uint64_t)monotime_ms());
	if (!ok) {
		r->rate_limited++;
		r->joins_refused++;
	}
	int per_min = r->join_per_min;
	pthread_mutex_unlock(&r->lock);
	if (ok)
		return true;
	snprintf(what, sizeof(what), "too many join attempts from %s (at most %d a minute): try again later",
		 c->peer, per_min);
	reg_ev(r, REG_EV_WARN, "join from %s refused: rate limited", c->peer);
	reg_refuse(c, t, "rate_limited", what);
	return false;
}

void reg_handle_join(struct conn *c, struct tls_conn *t, json_t *req)
{
	struct registry *r = c->r;
	struct join_req *q = malloc(sizeof(*q));
	struct refusal f = { .code = NULL };
	struct admit a = { .single_use = -1 };
	struct tls_identity id;
	char *cert = NULL;
	uint64_t serial = 0;
	int rc, proven;

	if (!q)
		return;
	if (!join_rate_ok(c, t) || join_parse(c, t, req, q) < 0 || (proven = join_prove(c, t, q)) < 0)
		goto out;
	pthread_mutex_lock(&r->lock);
	reg_learn_self_addr_locked(r, c);
	if (join_admit_locked(r, q, proven > 0, &a, &f) < 0 ||
	    join_issue_locked(r, &a, q, reg_node_addr(r, c, a.n), &serial, &cert, &f) < 0) {
		r->joins_refused++;
		pthread_mutex_unlock(&r->lock);
		join_refused(c, t, q, &f);
		goto out;
	}
	struct reg_node *n = a.n;
	snprintf(n->addr, sizeof(n->addr), "%s", reg_node_addr(r, c, n));
	reg_map_changed_locked(r, n);
	r->joins_ok++;
	json_t *resp = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:o}", "name", n->name,
				 "ordinal", n->ordinal, "role", n->role, "cluster", r->st.cluster,
				 "cert", cert, "ca", r->ca_pem, "map", reg_map_get_locked(r));
	reg_ca_node_identity(r, n, &id);
	pthread_mutex_unlock(&r->lock);
	rc = reg_msg_send(tls_io_write, t, REG_MSG_JOINED, resp, REG_MSG_MAX_REPLY, JOIN_TIMEOUT_MS);
	reg_ev(r, rc < 0 ? REG_EV_WARN : REG_EV_INFO, "%s %s (machine %s) from %s%s%s%s%s", id.name,
	       a.is_new ? "joined" : "re-joined", q->uuid, c->peer, q->zone[0] ? " in zone " : "", q->zone,
	       a.is_new ? "" : proven > 0 ? " (node key proven)" : " (re-admitted by the operator)",
	       rc < 0 ? ": reply not delivered" : "");
	if (!a.is_new && strcmp(a.zone_was, q->zone))
		zone_changed_ev(r, id.name, a.zone_was, q->zone);
	/* The joiner may go on with HELLO on this connection: the token
	 * authenticated it and it now holds the certificate just issued, so
	 * it is that node's session (one handshake instead of two at boot).
	 * Reconnections use mutual TLS with the certificate. */
	if (rc == 0) {
		reg_slot_give(c);      /* the costly part is done */
		snprintf(id.serial, sizeof(id.serial), "%llx", (unsigned long long)serial);
		free(cert);
		free(q);
		reg_handle_session(c, t, &id, true);
		return;
	}
out:
	free(cert);
	free(q);
}

/* ---- sessions -------------------------------------------------------------- */

/* The node a session certificate belongs to, or NULL when it is not that
 * machine's newest certificate.  Caller holds the lock. */
static struct reg_node *session_node_locked(struct registry *r, const struct tls_identity *id)
{
	struct reg_node *n = reg_state_find(&r->st, id->uuid);
	if (!n || strcmp(n->name, id->name) || strtoull(id->serial, NULL, 16) != n->serial)
		return NULL;
	return n;
}

/* The first message of a session must be HELLO; its zone into ret_zone.
 * 0, or <0 after refusing (or silently when a one-shot joiner hung up). */
static int session_hello(struct conn *c, struct tls_conn *t, const struct tls_identity *id, bool after_join,
			 char ret_zone[REG_ZONE_MAX + 1])
{
	char err[256];
	json_t *msg = NULL;
	int type, rc;

	/* after a join the slot is given back already and the node may be
	 * slow storing its credentials: the longer timeout */
	rc = reg_msg_recv(tls_io_read, t, REG_MSG_MAX_REQ, after_join ? JOIN_TIMEOUT_MS : FIRST_MSG_MS, &type, &msg,
			  err, sizeof(err));
	if (rc == 0 && type == REG_MSG_HELLO && zone_of(msg, ret_zone, err, sizeof(err)) < 0) {
		json_decref(msg);
		reg_ev(c->r, REG_EV_WARN, "session of %s from %s refused: bad HELLO: %s", id->name, c->peer, err);
		reg_refuse(c, t, "bad_request", err);
		return -1;
	}
	json_decref(msg);
	if (after_join && (rc == -ENODATA || rc == -ECONNRESET))
		return -1;     /* a one-shot join (join_once, qregistry-sim): it hung up */
	if (rc < 0 || type != REG_MSG_HELLO) {
		reg_ev(c->r, REG_EV_WARN, "session of %s from %s: expected HELLO: %s", id->name, c->peer,
		       rc < 0 ? err : reg_msg_name(type));
		reg_refuse(c, t, rc == -EMSGSIZE ? "too_large" : "bad_request", rc < 0 ? err : "expected HELLO");
		return -1;
	}
	return 0;
}

/* Node n said zone in its HELLO: the newest wins, persisted; a change
 * that cannot be persisted is undone (the registry never serves what its
 * file would forget).  1 when n's zone changed (ret_was: the old one), 0
 * when it did not, -1 when it could not (why says so).  Caller holds the
 * lock. */
static int session_zone_locked(struct registry *r, struct reg_node *n, const char *zone,
			       char ret_was[REG_ZONE_MAX + 1], char *why, size_t whylen)
{
	if (!strcmp(n->zone, zone))
		return 0;
	snprintf(ret_was, REG_ZONE_MAX + 1, "%s", n->zone);
	snprintf(n->zone, sizeof(n->zone), "%s", zone);
	if (reg_state_save(r->state_path, &r->st, why, whylen) < 0) {
		snprintf(n->zone, sizeof(n->zone), "%s", ret_was);
		return -1;
	}
	return 1;
}

/* After HELLO: the node is ready (its address and zone noted), and gets
 * WELCOME with its identity and the map.  0, or <0 when refused or not
 * sent. */
static int session_welcome(struct conn *c, struct tls_conn *t, const struct tls_identity *id, const char *zone)
{
	struct registry *r = c->r;
	char why[2 * TLS_ID_MAX + 256], zone_was[REG_ZONE_MAX + 1];

	pthread_mutex_lock(&r->lock);
	struct reg_node *n = session_node_locked(r, id);
	if (n && reg_node_removed(n)) {
		reg_removed_message(n->name, why, sizeof(why));
		r->joins_refused++;
		pthread_mutex_unlock(&r->lock);
		reg_ev(r, REG_EV_WARN, "session from %s refused: %s", c->peer, why);
		reg_refuse(c, t, "node_removed", why);
		return -1;
	}
	if (!n) {
		pthread_mutex_unlock(&r->lock);
		reg_ev(r, REG_EV_WARN, "session from %s refused: certificate of %s (machine %s, serial %s) is not current",
		       c->peer, id->name, id->uuid, id->serial);
		reg_refuse(c, t, "unknown_node", "certificate unknown or superseded: join again with the token");
		return -1;
	}
	if (n->readmit) {         /* it proved itself with its current certificate */
		n->readmit = false;
		if (reg_state_save(r->state_path, &r->st, why, sizeof(why)) < 0)
			n->readmit = true;
	}
	reg_learn_self_addr_locked(r, c);
	int rezoned = session_zone_locked(r, n, zone, zone_was, why, sizeof(why));
	bool changed = rezoned > 0 || n->state != REG_NODE_READY || strcmp(n->addr, reg_node_addr(r, c, n));
	n->state = REG_NODE_READY;
	n->last_seen_ms = (uint64_t)monotime_ms();
	n->sessions++;
	r->sessions++;
	snprintf(n->addr, sizeof(n->addr), "%s", reg_node_addr(r, c, n));
	if (changed)
		reg_map_changed_locked(r, n);
	json_t *w = json_pack("{s:s, s:i, s:s, s:o}", "name", n->name, "ordinal", n->ordinal,
			      "role", n->role, "map", reg_map_get_locked(r));
	pthread_mutex_unlock(&r->lock);
	if (rezoned > 0)
		zone_changed_ev(r, id->name, zone_was, zone);
	else if (rezoned < 0)
		reg_ev(r, REG_EV_WARN, "%s's failure zone stays as it was: cannot persist the registry: %s", id->name,
		       why);
	if (changed)
		reg_ev(r, REG_EV_INFO, "%s is ready (session from %s)", id->name, c->peer);
	return reg_msg_send(tls_io_write, t, REG_MSG_WELCOME, w, REG_MSG_MAX_REPLY, JOIN_TIMEOUT_MS);
}

/* The ACK of heartbeat hb, built as text around the cached map: with a
 * thousand nodes the map is ~100 KB and re-encoding it per ACK would cost
 * more than the rest of the heartbeat.  Current map version: no map; a
 * version of this run the change log still reaches: the changed entries;
 * else the whole map.  *ret_ack is malloc'd; its length or <0.  Caller
 * holds the lock. */
static int ack_text_locked(struct registry *r, json_t *hb, char **ret_ack)
{
	json_t *seq = json_object_get(hb, "seq"), *mv = json_object_get(hb, "map_version");
	long long sq = json_is_integer(seq) ? (long long)json_integer_value(seq) : -1;
	unsigned long long ver = (unsigned long long)r->map_version;
	const char *ep = json_string_value(json_object_get(hb, "map_epoch"));
	bool current = json_is_integer(mv) && (uint64_t)json_integer_value(mv) == r->map_version;
	json_t *delta = !current && json_is_integer(mv) && ep && !strcmp(ep, r->epoch) ?
			reg_map_delta_locked(r, (uint64_t)json_integer_value(mv)) : NULL;
	char *dtext = delta ? json_dumps(delta, JSON_COMPACT) : NULL;
	int len;

	json_decref(delta);
	*ret_ack = NULL;
	if (current)
		len = asprintf(ret_ack, "{\"seq\":%lld,\"map_version\":%llu}", sq, ver);
	else if (dtext)
		len = asprintf(ret_ack, "{\"seq\":%lld,\"map_version\":%llu,\"map_epoch\":\"%s\",\"changes\":%s}",
			       sq, ver, r->epoch, dtext);
	else
		len = asprintf(ret_ack, "{\"seq\":%lld,\"map_version\":%llu,\"map\":%s}", sq, ver,
			       reg_map_text_locked(r));
	free(dtext);
	return len;
}

/* Node n spoke: note when, its health, and that it is ready.  Caller
 * holds the lock. */
static void heartbeat_seen_locked(struct registry *r, struct reg_node *n, json_t *hb)
{
	json_t *health = json_object_get(hb, "health");

	n->last_seen_ms = (uint64_t)monotime_ms();
	n->heartbeats++;
	r->heartbeats++;
	if (json_is_object(health)) {
		reg_disk_problems_locked(r, n->name, n->health, health);
		json_decref(n->health);
		n->health = json_incref(health);
	}
	if (n->state != REG_NODE_READY) {
		n->state = REG_NODE_READY;
		reg_map_changed_locked(r, n);
		reg_ev(r, REG_EV_INFO, "%s is ready again", n->name);
	}
}

/* One HEARTBEAT: recorded and acknowledged.  0, or <0 when the session
 * ends (refused, or the ACK could not be sent). */
static int session_heartbeat(struct conn *c, struct tls_conn *t, const struct tls_identity *id, json_t *hb)
{
	struct registry *r = c->r;
	char why[2 * TLS_ID_MAX + 256], *ack = NULL;
	int len, rc;

	pthread_mutex_lock(&r->lock);
	struct reg_node *n = session_node_locked(r, id);    /* a re-join may have retired this cert */
	if (n && reg_node_removed(n)) {
		reg_removed_message(n->name, why, sizeof(why));
		pthread_mutex_unlock(&r->lock);
		reg_ev(r, REG_EV_INFO, "session of %s from %s closed: the node was removed", id->name, c->peer);
		reg_refuse(c, t, "node_removed", why);
		return -1;
	}
	if (!n) {
		pthread_mutex_unlock(&r->lock);
		reg_refuse(c, t, "unknown_node", "certificate superseded by a newer join");
		return -1;
	}
	heartbeat_seen_locked(r, n, hb);
	len = ack_text_locked(r, hb, &ack);
	pthread_mutex_unlock(&r->lock);
	if (len < 0)
		return -1;
	rc = frame_write(tls_io_write, t, REG_MSG_ACK, 0, ack, (size_t)len, REG_MSG_MAX_REPLY, JOIN_TIMEOUT_MS);
	free(ack);
	return rc;
}

/* A node's session: HELLO, WELCOME, then heartbeats until it hangs up,
 * falls silent for 3x the down timeout, or breaks the protocol. */
void reg_handle_session(struct conn *c, struct tls_conn *t, const struct tls_identity *id, bool after_join)
{
	struct registry *r = c->r;
	char err[256];
	char zone[REG_ZONE_MAX + 1] = "";
	json_t *msg = NULL;
	int type, rc;

	if (session_hello(c, t, id, after_join, zone) < 0 || session_welcome(c, t, id, zone) < 0)
		return;
	reg_slot_give(c);     /* heartbeats are cheap: the slot goes to the next handshake */
	for (;;) {
		rc = reg_msg_recv(tls_io_read, t, REG_MSG_MAX_REQ, 3 * r->down_after_ms, &type, &msg,
				  err, sizeof(err));
		if (rc < 0) {
			if (rc != -ENODATA && rc != -ECONNRESET && !r->stopping) {
				reg_ev(r, REG_EV_WARN, "session of %s from %s: %s", id->name, c->peer, err);
				if (rc == -EMSGSIZE || rc == -EBADMSG || rc == -EPROTO)
					reg_refuse(c, t, rc == -EMSGSIZE ? "too_large" : "bad_request", err);
			}
			return;
		}
		if (type != REG_MSG_HEARTBEAT) {
			reg_ev(r, REG_EV_WARN, "session of %s: unexpected %s", id->name, reg_msg_name(type));
			reg_refuse(c, t, "bad_request", "expected HEARTBEAT");
			json_decref(msg);
			return;
		}
		rc = session_heartbeat(c, t, id, msg);
		json_decref(msg);
		if (rc < 0)
			return;
	}
}
