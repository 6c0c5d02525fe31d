/* nodes.c: `qservctl nodes`, the cluster as the registry sees it.
 *
 *   qservctl nodes [-s SOCKET] [--json]
 *   qservctl --url http://CZAR:9400 nodes [--json]
 *
 * The first form asks the registry over its local admin socket (on the
 * czar node); the second reads the registry view from the czar agent's
 * /status, from anywhere that reaches port 9400.
 * One line per node: name, role, state (ready|down|joined), address,
 * seconds since its last heartbeat, heartbeats this registry run, machine
 * UUID.  --json prints the registry's answer as is.  Exit 0 on success, 1
 * when the registry cannot be reached or refuses. */
#include "ctl.h"

#include "../qserv/controller/qhttpc.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* GET <url>/status -> its "registry" member in the admin reply's shape. */
static int nodes_from_status(const char *url, json_t **ret)
{
	char full[1024], err[256];
	json_error_t je;
	snprintf(full, sizeof(full), "%s%sstatus", url, url[0] && url[strlen(url) - 1] == '/' ? "" : "/");
	FILE *f = tmpfile();
	if (!f || qhttpc_init() < 0 || qhttpc_download(full, fileno(f), NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "qservctl: %s: %s\n", full, f ? err : "no temporary file");
		if (f)
			fclose(f);
		return -1;
	}
	rewind(f);
	json_t *doc = json_loadf(f, 0, &je);
	fclose(f);
	json_t *reg = json_object_get(doc, "registry");
	if (!json_is_object(reg)) {
		fprintf(stderr, "qservctl: %s has no registry view (not the czar, or not JSON%s%s)\n", full,
			doc ? "" : ": ", doc ? "" : je.text);
		json_decref(doc);
		return -1;
	}
	*ret = json_incref(reg);
	json_decref(doc);
	return 0;
}

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
	if (ctl_url && !sock) {
		if (nodes_from_status(ctl_url, &reply) < 0)
			return 1;
	} else if (ctl_registry_call(ctl_registry_socket(sock), "nodes", &reply) < 0) {
		return 1;
	}
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
