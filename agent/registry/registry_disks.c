/* registry_disks.c: disk problems the nodes report in their heartbeats,
 * turned into alerts (registry.h's disk_alert).  A node's agent lists in
 * health.storage.problems every disk in state foreign or error (agent
 * disks.c: [{"id", "name", "state", "reason"}]); the registry compares
 * that list with the one of the node's previous heartbeat, so an alert is
 * raised once when a problem appears (a disk that turned foreign, a
 * provisioning or mount error) and cleared when it is gone. */
#include "registry_int.h"

#include <stdio.h>
#include <string.h>

static json_t *problems(json_t *health)
{
	json_t *p = json_object_get(json_object_get(health, "storage"), "problems");
	return json_is_array(p) ? p : NULL;
}

/* The entry of list with this disk id and state, or NULL. */
static json_t *find(json_t *list, const char *id, const char *state)
{
	size_t i;
	json_t *d;

	json_array_foreach(list, i, d) {
		const char *did = json_string_value(json_object_get(d, "id"));
		const char *st = json_string_value(json_object_get(d, "state"));
		if (did && st && !strcmp(did, id) && !strcmp(st, state))
			return d;
	}
	return NULL;
}

static void tell(struct registry *r, bool raise, const char *node, json_t *d)
{
	const char *id = json_string_value(json_object_get(d, "id"));
	const char *name = json_string_value(json_object_get(d, "name"));
	const char *st = json_string_value(json_object_get(d, "state"));
	const char *why = json_string_value(json_object_get(d, "reason"));
	char subject[256], msg[512];

	if (!id || !st)
		return;
	snprintf(subject, sizeof(subject), "%s/%s", node, id);
	snprintf(msg, sizeof(msg), "%s: disk %s (%s) is %s: %s", node, name ? name : "?", id, st, why ? why : "");
	r->disk_alert(r->disk_alert_ctx, raise, !strcmp(st, "foreign") ? "disk_foreign" : "disk_error", subject,
		      msg);
}

void reg_disk_problems_locked(struct registry *r, const char *node, json_t *old_health, json_t *new_health)
{
	json_t *was = problems(old_health), *now = problems(new_health), *d;
	size_t i;

	if (!r->disk_alert)
		return;
	json_array_foreach(now, i, d) {
		const char *id = json_string_value(json_object_get(d, "id"));
		const char *st = json_string_value(json_object_get(d, "state"));
		if (id && st && !find(was, id, st))
			tell(r, true, node, d);
	}
	json_array_foreach(was, i, d) {
		const char *id = json_string_value(json_object_get(d, "id"));
		const char *st = json_string_value(json_object_get(d, "state"));
		if (id && st && !find(now, id, st))
			tell(r, false, node, d);
	}
}
