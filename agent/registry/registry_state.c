/* registry_state.c: node table, ordinal assignment and the state file
 * (see registry_state.h).  The file is JSON:
 *   {"format":1, "cluster":"...", "token":"...", "next_serial":N,
 *    "next_ordinal":{"worker":N,"czar":N},
 *    "nodes":[{"uuid","name","role","ordinal","serial","addr","joined_at"[,"removed_at"]
 *              [,"pubkey"][,"readmit"][,"zone"]}],
 *    "single_use":[{"token","uuid","expires"}]}
 * ("removed_at" only on decommissioned nodes, "pubkey" once a certificate
 * was issued, "readmit" while the operator's allowance is unused, "zone"
 * when the node has one (reg_zone_valid), "single_use" optional: files
 * written before they existed load unchanged, a node without "zone" has
 * none).  Written compact, one node per ~300 bytes: REG_MAX_NODES
 * records fit in REG_STATE_MAX_BYTES, and the writer refuses a file the
 * reader would refuse.
 * Loading re-checks every invariant, so a hand-edited file that would give
 * two machines one name is refused with the reason rather than served. */
#include "registry_state.h"

#include "fileio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static bool uuid_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= TLS_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-'))
			return false;
	}
	return true;
}

static bool role_ok(const char *r)
{
	return !strcmp(r, "worker") || !strcmp(r, "czar");
}

void reg_state_init(struct reg_state *st, const char *cluster)
{
	memset(st, 0, sizeof(*st));
	snprintf(st->cluster, sizeof(st->cluster), "%s", cluster);
	st->next_serial = 2;    /* 1 is the registry's own certificate */
}

static void node_free(struct reg_node *n)
{
	if (!n)
		return;
	json_decref(n->health);
	free(n);
}

void reg_state_free(struct reg_state *st)
{
	for (size_t i = 0; i < st->n; i++)
		node_free(st->nodes[i]);
	free(st->nodes);
	st->nodes = NULL;
	st->n = st->cap = 0;
}

struct reg_node *reg_state_find(const struct reg_state *st, const char *uuid)
{
	for (size_t i = 0; i < st->n; i++)
		if (!strcmp(st->nodes[i]->uuid, uuid))
			return st->nodes[i];
	return NULL;
}

struct reg_node *reg_state_find_name(const struct reg_state *st, const char *name)
{
	for (size_t i = 0; i < st->n; i++)
		if (!strcmp(st->nodes[i]->name, name))
			return st->nodes[i];
	return NULL;
}

static int push(struct reg_state *st, struct reg_node *n)
{
	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 16;
		struct reg_node **p = realloc(st->nodes, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		st->nodes = p;
		st->cap = cap;
	}
	st->nodes[st->n++] = n;
	return 0;
}

int reg_state_assign(struct reg_state *st, const char *uuid, const char *role,
		     struct reg_node **ret_node, bool *ret_new)
{
	if (!uuid_ok(uuid) || !role_ok(role))
		return -EINVAL;
	struct reg_node *n = reg_state_find(st, uuid);
	if (n) {
		*ret_node = n;
		*ret_new = false;
		if (reg_node_removed(n))
			return -EKEYREVOKED;
		return strcmp(n->role, role) ? -EEXIST : 0;
	}
	if (st->n >= REG_MAX_NODES)
		return -ENOSPC;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	snprintf(n->uuid, sizeof(n->uuid), "%s", uuid);
	snprintf(n->role, sizeof(n->role), "%s", role);
	n->ordinal = !strcmp(role, "czar") ? st->next_czar : st->next_worker;
	snprintf(n->name, sizeof(n->name), "%s-%d", role, n->ordinal);
	n->joined_at = (int64_t)time(NULL);
	n->state = REG_NODE_JOINED;
	/* A hand-edited file could hold the name already: skip forward. */
	while (reg_state_find_name(st, n->name)) {
		n->ordinal++;
		snprintf(n->name, sizeof(n->name), "%s-%d", role, n->ordinal);
	}
	if (push(st, n) < 0) {
		free(n);
		return -ENOMEM;
	}
	if (!strcmp(role, "czar"))
		st->next_czar = n->ordinal + 1;
	else
		st->next_worker = n->ordinal + 1;
	*ret_node = n;
	*ret_new = true;
	return 0;
}

int reg_state_remove(struct reg_state *st, const char *name, struct reg_node **ret_node)
{
	struct reg_node *n = reg_state_find_name(st, name);
	if (!n)
		return -ENOENT;
	*ret_node = n;
	if (!strcmp(n->role, "czar"))
		return -EPERM;
	if (reg_node_removed(n))
		return -EALREADY;
	n->removed_at = (int64_t)time(NULL);
	if (n->removed_at <= 0)
		n->removed_at = 1;
	n->state = REG_NODE_REMOVED;
	return 0;
}

int reg_state_readmit(struct reg_state *st, const char *name, struct reg_node **ret_node)
{
	struct reg_node *n = reg_state_find_name(st, name);
	if (!n)
		return -ENOENT;
	*ret_node = n;
	if (!reg_node_removed(n)) {
		if (n->readmit)
			return -EALREADY;
		n->readmit = true;
		return 0;
	}
	n->removed_at = 0;
	n->readmit = true;
	n->state = REG_NODE_DOWN;
	n->last_seen_ms = 0;
	return 0;
}

/* Add a single-use token expiring at `expires` (unix seconds), after
 * dropping the expired ones. */
static int single_use_put(struct reg_state *st, const char *token, const char *uuid, int64_t expires)
{
	int64_t now = (int64_t)time(NULL);
	size_t k = 0;

	for (size_t i = 0; i < st->n_single_use; i++)
		if (st->single_use[i].expires > now)
			st->single_use[k++] = st->single_use[i];
	st->n_single_use = k;
	if (k >= REG_SINGLE_USE_MAX)
		return -ENOSPC;
	if (strlen(token) >= sizeof(st->single_use[k].token) || strlen(uuid) >= TLS_ID_MAX ||
	    (uuid[0] && !uuid_ok(uuid)))
		return -EINVAL;
	snprintf(st->single_use[k].token, sizeof(st->single_use[k].token), "%s", token);
	snprintf(st->single_use[k].uuid, sizeof(st->single_use[k].uuid), "%s", uuid);
	st->single_use[k].expires = expires;
	st->n_single_use++;
	return 0;
}

int reg_state_single_use_add(struct reg_state *st, const char *token, const char *uuid, int64_t ttl_s)
{
	if (ttl_s <= 0)
		return -EINVAL;
	return single_use_put(st, token, uuid, (int64_t)time(NULL) + ttl_s);
}

int reg_state_single_use_find(struct reg_state *st, const char *token, const char *uuid)
{
	int64_t now = (int64_t)time(NULL);
	int found = -1;

	for (size_t i = 0; i < st->n_single_use; i++) {      /* every entry compared: constant time */
		const struct reg_single_use *u = &st->single_use[i];
		if (tls_secret_equal(token, u->token) && u->expires > now && (!u->uuid[0] || !strcmp(u->uuid, uuid)))
			found = (int)i;
	}
	return found;
}

void reg_state_single_use_del(struct reg_state *st, int idx)
{
	if (idx < 0 || (size_t)idx >= st->n_single_use)
		return;
	st->single_use[idx] = st->single_use[--st->n_single_use];
}

uint64_t reg_state_next_serial(struct reg_state *st)
{
	return st->next_serial++;
}

const char *reg_node_state_name(enum reg_node_state s)
{
	switch (s) {
	case REG_NODE_JOINED: return "joined";
	case REG_NODE_READY: return "ready";
	case REG_NODE_DOWN: return "down";
	case REG_NODE_REMOVED: return "removed";
	}
	return "?";
}

int reg_token_generate(char ret_token[24])
{
	char id[7], secret[17];
	if (tls_random_hex(3, id) < 0 || tls_random_hex(8, secret) < 0)
		return -EIO;
	snprintf(ret_token, 24, "%s.%s", id, secret);
	return 0;
}

json_t *reg_state_to_json(const struct reg_state *st)
{
	json_t *nodes = json_array();
	for (size_t i = 0; i < st->n; i++) {
		const struct reg_node *n = st->nodes[i];
		json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:I, s:s, s:I}",
			"uuid", n->uuid, "name", n->name, "role", n->role, "ordinal", n->ordinal,
			"serial", (json_int_t)n->serial, "addr", n->addr, "joined_at", (json_int_t)n->joined_at);
		if (reg_node_removed(n))
			json_object_set_new(o, "removed_at", json_integer((json_int_t)n->removed_at));
		if (n->pubkey[0])
			json_object_set_new(o, "pubkey", json_string(n->pubkey));
		if (n->readmit)
			json_object_set_new(o, "readmit", json_true());
		if (n->zone[0])
			json_object_set_new(o, "zone", json_string(n->zone));
		json_array_append_new(nodes, o);
	}
	json_t *once = json_array();
	int64_t now = (int64_t)time(NULL);
	for (size_t i = 0; i < st->n_single_use; i++) {
		const struct reg_single_use *u = &st->single_use[i];
		if (u->expires > now)
			json_array_append_new(once, json_pack("{s:s, s:s, s:I}", "token", u->token, "uuid", u->uuid,
							      "expires", (json_int_t)u->expires));
	}
	return json_pack("{s:i, s:s, s:s, s:I, s:{s:i, s:i}, s:o, s:o}",
		"format", REG_STATE_FORMAT, "cluster", st->cluster, "token", st->token,
		"next_serial", (json_int_t)st->next_serial,
		"next_ordinal", "worker", st->next_worker, "czar", st->next_czar, "nodes", nodes,
		"single_use", once);
}

static int copy_str(char *dst, size_t size, const char *src)
{
	if (!src || strlen(src) >= size)
		return -1;
	strcpy(dst, src);
	return 0;
}

static int node_from_json(json_t *j, size_t idx, struct reg_node **ret, char *err, size_t errlen)
{
	const char *uuid, *name, *role, *addr = "", *pubkey = "", *zone = "";
	int ordinal, readmit = 0;
	json_int_t serial, joined = 0, removed = 0;
	json_error_t je;
	if (json_unpack_ex(j, &je, JSON_STRICT, "{s:s, s:s, s:s, s:i, s:I, s?s, s?I, s?I, s?s, s?b, s?s}",
			   "uuid", &uuid, "name", &name, "role", &role, "ordinal", &ordinal,
			   "serial", &serial, "addr", &addr, "joined_at", &joined, "removed_at", &removed,
			   "pubkey", &pubkey, "readmit", &readmit, "zone", &zone) < 0) {
		snprintf(err, errlen, "nodes[%zu]: %s", idx, je.text);
		return -EBADMSG;
	}
	if (zone[0] && !reg_zone_valid(zone)) {
		snprintf(err, errlen, "nodes[%zu]: zone must be 1-%d characters of [A-Za-z0-9._-]", idx, REG_ZONE_MAX);
		return -EBADMSG;
	}
	struct reg_node *n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	char want[TLS_ID_MAX];
	snprintf(want, sizeof(want), "%s-%d", role, ordinal);
	if (!uuid_ok(uuid) || !role_ok(role) || ordinal < 0 || serial < 0 || removed < 0 || strcmp(want, name) ||
	    (removed && !strcmp(role, "czar")) ||
	    copy_str(n->uuid, sizeof(n->uuid), uuid) || copy_str(n->name, sizeof(n->name), name) ||
	    copy_str(n->role, sizeof(n->role), role) || copy_str(n->addr, sizeof(n->addr), addr) ||
	    copy_str(n->pubkey, sizeof(n->pubkey), pubkey)) {
		snprintf(err, errlen, "nodes[%zu]: invalid uuid, role, ordinal, name, removed_at or pubkey", idx);
		free(n);
		return -EBADMSG;
	}
	n->ordinal = ordinal;
	n->serial = (uint64_t)serial;
	n->joined_at = joined;
	n->removed_at = removed;
	n->readmit = readmit != 0;
	snprintf(n->zone, sizeof(n->zone), "%s", zone);
	n->state = removed ? REG_NODE_REMOVED : REG_NODE_DOWN;
	*ret = n;
	return 0;
}

/* The "single_use" array (may be NULL): expired entries are dropped. */
static int single_use_from_json(struct reg_state *st, json_t *once, char *err, size_t errlen)
{
	int64_t now = (int64_t)time(NULL);
	json_t *u;
	size_t i;

	json_array_foreach(once, i, u) {
		const char *token, *uuid;
		json_int_t expires;
		json_error_t je;
		if (json_unpack_ex(u, &je, JSON_STRICT, "{s:s, s:s, s:I}", "token", &token, "uuid", &uuid,
				   "expires", &expires) < 0) {
			snprintf(err, errlen, "single_use[%zu]: %s", i, je.text);
			return -EBADMSG;
		}
		if (expires <= now)
			continue;
		if (single_use_put(st, token, uuid, expires) < 0) {
			snprintf(err, errlen, "single_use[%zu]: bad token or uuid, or too many", i);
			return -EBADMSG;
		}
	}
	return 0;
}

int reg_state_from_json(json_t *doc, struct reg_state *ret_st, char *err, size_t errlen)
{
	const char *cluster, *token;
	json_int_t next_serial;
	int format, nw, nc;
	json_t *nodes, *once = NULL;
	json_error_t je;
	struct reg_state st;
	int r;
	if (json_unpack_ex(doc, &je, JSON_STRICT, "{s:i, s:s, s:s, s:I, s:{s:i, s:i}, s:o, s?o}",
			   "format", &format, "cluster", &cluster, "token", &token,
			   "next_serial", &next_serial, "next_ordinal", "worker", &nw, "czar", &nc,
			   "nodes", &nodes, "single_use", &once) < 0) {
		snprintf(err, errlen, "%s", je.text);
		return -EBADMSG;
	}
	if (format != REG_STATE_FORMAT || !json_is_array(nodes) || nw < 0 || nc < 0 || next_serial < 2 ||
	    (once && !json_is_array(once)) || json_array_size(nodes) > REG_MAX_NODES) {
		snprintf(err, errlen, "unsupported format %d or bad counters", format);
		return -EBADMSG;
	}
	reg_state_init(&st, cluster);
	if (copy_str(st.cluster, sizeof(st.cluster), cluster) || copy_str(st.token, sizeof(st.token), token)) {
		snprintf(err, errlen, "cluster or token too long");
		return -EBADMSG;
	}
	st.next_serial = (uint64_t)next_serial;
	st.next_worker = nw;
	st.next_czar = nc;
	for (size_t i = 0; i < json_array_size(nodes); i++) {
		struct reg_node *n;
		if ((r = node_from_json(json_array_get(nodes, i), i, &n, err, errlen)) < 0)
			goto fail;
		if (reg_state_find(&st, n->uuid) || reg_state_find_name(&st, n->name)) {
			snprintf(err, errlen, "nodes[%zu]: duplicate uuid %s or name %s", i, n->uuid, n->name);
			node_free(n);
			r = -EBADMSG;
			goto fail;
		}
		int *next = !strcmp(n->role, "czar") ? &st.next_czar : &st.next_worker;
		if (n->ordinal >= *next)
			*next = n->ordinal + 1;     /* never hand out an ordinal in use */
		if (n->serial >= st.next_serial)
			st.next_serial = n->serial + 1;
		if ((r = push(&st, n)) < 0) {
			node_free(n);
			goto fail;
		}
	}
	if ((r = single_use_from_json(&st, once, err, errlen)) < 0)
		goto fail;
	*ret_st = st;
	return 0;
fail:
	reg_state_free(&st);
	return r;
}

int reg_state_load(const char *path, struct reg_state *ret_st, char *err, size_t errlen)
{
	size_t len = 0;
	json_error_t je;
	int r;
	char *text = fileio_read_all(path, REG_STATE_MAX_BYTES + 1, &len);
	if (!text) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	if (len > REG_STATE_MAX_BYTES) {
		free(text);
		snprintf(err, errlen, "%s: larger than the %u bytes a registry state may have", path,
			 REG_STATE_MAX_BYTES);
		return -EFBIG;
	}
	json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	free(text);
	if (!doc) {
		snprintf(err, errlen, "%s:%d: %s", path, je.line, je.text);
		return -EBADMSG;
	}
	char why[200];
	r = reg_state_from_json(doc, ret_st, why, sizeof(why));
	json_decref(doc);
	if (r < 0)
		snprintf(err, errlen, "%s: %s", path, why);
	return r;
}

int reg_state_save(const char *path, const struct reg_state *st, char *err, size_t errlen)
{
	json_t *doc = reg_state_to_json(st);
	char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(doc);
	if (!text) {
		snprintf(err, errlen, "cannot encode the registry state");
		return -ENOMEM;
	}
	size_t len = strlen(text);
	if (len + 1 > REG_STATE_MAX_BYTES) {
		free(text);
		snprintf(err, errlen, "%s: the registry state would be %zu bytes, more than the %u it may have",
			 path, len + 1, REG_STATE_MAX_BYTES);
		return -EFBIG;
	}
	char *withnl = realloc(text, len + 2);
	if (withnl) {
		text = withnl;
		strcpy(text + len, "\n");
	}
	int r = tls_file_write(path, text, 0600);
	free(text);
	if (r < 0)
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
	return r;
}
