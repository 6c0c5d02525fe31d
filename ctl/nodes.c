/* nodes.c: `qservctl nodes`, the cluster as the registry sees it.
 *
 *   qservctl nodes [-s SOCKET] [--json]
 *
 * One line per node: name, role, state (ready|down|joined), address,
 * seconds since its last heartbeat, heartbeats this registry run, machine
 * UUID.  --json prints the registry's answer as is.  Exit 0 on success, 1
 * when the registry cannot be reached or refuses. */
#include "ctl.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

int ctl_nodes(int argc, char **argv)
{
	static const struct option opts[] = { { "socket", required_argument, NULL, 's' },
					      { "json", no_argument, NULL, 'j' }, { 0 } };
	const char *sock = NULL;
	int as_json = 0, c;
	json_t *reply, *n;
	size_t i;
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:j", opts, NULL)) != -1) {
		if (c == 's')
			sock = optarg;
		else if (c == 'j')
			as_json = 1;
		else {
			fprintf(stderr, "usage: qservctl nodes [-s SOCKET] [--json]\n");
			return 2;
		}
	}
	if (ctl_registry_call(ctl_registry_socket(sock), "nodes", &reply) < 0)
		return 1;
	if (as_json) {
		json_dumpf(reply, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		putchar('\n');
		json_decref(reply);
		return 0;
	}
	printf("cluster %s (map version %lld)\n", json_string_value(json_object_get(reply, "cluster")),
	       (long long)json_integer_value(json_object_get(reply, "map_version")));
	printf("%-12s %-7s %-7s %-16s %9s %10s  %s\n", "NAME", "ROLE", "STATE", "ADDRESS", "LAST-SEEN",
	       "HEARTBEATS", "MACHINE");
	json_array_foreach(json_object_get(reply, "nodes"), i, n) {
		json_t *ls = json_object_get(n, "last_seen_ms_ago");
		char seen[32] = "never";
		if (json_is_integer(ls))
			snprintf(seen, sizeof(seen), "%.1fs", json_integer_value(ls) / 1000.0);
		printf("%-12s %-7s %-7s %-16s %9s %10lld  %s\n", json_string_value(json_object_get(n, "name")),
		       json_string_value(json_object_get(n, "role")), json_string_value(json_object_get(n, "state")),
		       json_string_value(json_object_get(n, "addr")), seen,
		       (long long)json_integer_value(json_object_get(n, "heartbeats")),
		       json_string_value(json_object_get(n, "uuid")));
	}
	json_decref(reply);
	return 0;
}
