/* roles_sync.c: qroles-sync, one pass of the czar agent's sync of the
 * cluster map's ready workers into a controller (roles_sync_workers,
 * roles.h), for host tests against a real qserv-controller (tests only,
 * not in the image).
 *
 *   qroles-sync --data-dir D --port P --key-file F
 *
 * D/agent/cluster-map.json is the map, P the controller's plain loopback
 * port (its --local-port), F the cluster admin key.  Prints
 * {"registered_workers": {...}, "registered_zones": {...}} (what the
 * controller accepted) and exits 0, 2 for bad usage. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/roles.h"
#include "fileio.h"

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data-dir", required_argument, NULL, 'd' }, { "port", required_argument, NULL, 'p' },
		{ "key-file", required_argument, NULL, 'k' }, { 0 }
	};
	const char *dir = NULL, *keyfile = NULL;
	struct roles r;
	json_t *st, *q, *out;
	char key[80] = "";
	int port = 0, c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'k': keyfile = optarg; break;
		default: return 2;
		}
	}
	if (!dir || port <= 0 || !keyfile || fileio_read_line(keyfile, key, sizeof(key)) <= 0) {
		fprintf(stderr, "usage: qroles-sync --data-dir D --port P --key-file F (a readable key)\n");
		return 2;
	}
	roles_init(&r, ROLE_CZAR, true, dir, "/tmp", "/nonexistent.sock", "czar");
	r.controller_port = port;
	snprintf(r.admin_key, sizeof(r.admin_key), "%s", key);
	roles_sync_workers(&r);
	st = json_object();
	roles_status(&r, st);
	q = json_object_get(st, "qserv");
	out = json_pack("{s:O, s:O, s:O}", "registered_workers", json_object_get(q, "registered_workers"),
			"registered_zones", json_object_get(q, "registered_zones"), "registry_health",
			json_object_get(q, "registry_health"));
	json_dumpf(out, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(out);
	json_decref(st);
	roles_free(&r);
	return 0;
}
