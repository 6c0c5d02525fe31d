/* registry_map.c: the cluster map the registry hands to every node (names,
 * roles, addresses, states, failure zones; "czar" for quick lookup), versioned by
 * map_version and r->epoch.
 *
 * Every change to the map is one node's entry: the change log (MAP_LOG
 * entries, a ring indexed by version) says which, so a node that is a few
 * versions behind gets only the entries that changed (a delta) instead of
 * the whole map.  With a thousand nodes booting, full maps in every
 * acknowledgement would cost O(nodes^2) bytes.  The whole map is kept as
 * JSON text, rebuilt only when the version moved.  All under r->lock. */
#include "registry_int.h"

#include <stdlib.h>
#include <string.h>

/* The map's entry for one node: {name, role, ordinal, addr, state, zone}
 * ("zone" is "" when the node has none). */
json_t *reg_map_node_json(const struct reg_node *n)
{
	return json_pack("{s:s, s:s, s:i, s:s, s:s, s:s}", "name", n->name, "role", n->role,
			 "ordinal", n->ordinal, "addr", n->addr, "state", reg_node_state_name(n->state),
			 "zone", n->zone);
}

static json_t *map_json_locked(struct registry *r)
{
	json_t *nodes = json_array(), *czar = json_null();
	for (size_t i = 0; i < r->st.n; i++) {
		const struct reg_node *n = r->st.nodes[i];
		if (!strcmp(n->role, "czar") && json_is_null(czar))
			czar = json_pack("{s:s, s:s, s:s}", "name", n->name, "addr", n->addr,
					 "state", reg_node_state_name(n->state));
		json_array_append_new(nodes, reg_map_node_json(n));
	}
	return json_pack("{s:I, s:s, s:s, s:o, s:o}", "version", (json_int_t)r->map_version,
			 "epoch", r->epoch, "cluster", r->st.cluster, "czar", czar, "nodes", nodes);
}

/* Node n's entry changed: a new version, logged against n. */
void reg_map_changed_locked(struct registry *r, const struct reg_node *n)
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
json_t *reg_map_delta_locked(struct registry *r, uint64_t since)
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
			json_array_append_new(a, reg_map_node_json(r->st.nodes[c->node]));
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
const char *reg_map_text_locked(struct registry *r)
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
json_t *reg_map_get_locked(struct registry *r)
{
	return json_loads(reg_map_text_locked(r), 0, NULL);
}
