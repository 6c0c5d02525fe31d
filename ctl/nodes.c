/* nodes.c: `qservctl nodes`, the cluster as the registry sees it, and
 * decommissioning.
 *
 *   qservctl nodes [-s SOCKET] [--json]
 *   qservctl --url http://CZAR:9400 nodes [--json]
 *   qservctl nodes remove NAME [--force] [-s SOCKET] [--controller URL] [--auth-key-file F]
 *   qservctl nodes readmit NAME [-s SOCKET]
 *   qservctl nodes maintenance NAME on|off [--controller URL]
 *   qservctl nodes drain NAME [--off] [--wait] [--timeout S] [--controller URL]
 *
 * The first form asks the registry over its local admin socket (on the
 * czar node); the second reads the registry view from the czar agent's
 * /status, from anywhere that reaches port 9400.
 * One line per node: name, role, state (ready|down|joined|removed),
 * address, seconds since its last heartbeat, heartbeats this registry run,
 * machine UUID.  Removed nodes stay listed as `removed` (their names stay
 * reserved).  --json prints the registry's answer as is.
 * remove --controller-only: only the controller's step, for clusters
 * without a registry (tools/dev-cluster).
 *
 * remove: the controller first (DELETE /meta/worker/NAME[?force=1]; it
 * refuses, changing nothing, while the worker holds the only replica of a
 * chunk), then the registry (node-remove: the machine is refused from now
 * on).  That order makes a refusal leave everything as it was; the czar's
 * agent deletes removed workers from the controller too, as a backstop.
 * Controller URL: --controller, else $QSERV_INGEST_URL, else
 * http://127.0.0.1:25081 (the czar node's own); auth key: --auth-key-file,
 * else $QSERV_AUTH_KEY.  readmit undoes a remove in the registry (the same
 * machine comes back under its name and is registered into the controller
 * again, without its old chunks).
 * maintenance: while on, the controller never evicts the worker nor picks
 * it for a chunk copy, so planned work (a reboot, an upgrade) triggers no
 * copies (PUT /replication/maintenance, the admin key; `qservctl replicas`
 * shows the state).
 * drain: the controller copies every chunk of the worker to the enabled
 * workers, then drops its replicas (PUT /replication/drain, the admin key;
 * --off enables it again); --wait polls GET /replication/status every 2 s,
 * printing the chunks it still holds, until it holds none (then `nodes
 * remove` needs no --force), for at most --timeout seconds (default 3600:
 * exit 1 when they pass).
 * Exit 0 on success, 1 when the registry or controller cannot be reached
 * or refuses, 2 on a usage error. */
#include "ctl.h"

#include "qserv/common/qhttpc.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

/* The registry's record of name (new reference), or NULL (printed why). */
static json_t *registry_node(const char *sock, const char *name)
{
	json_t *reply, *n, *found = NULL;
	size_t i;
	if (ctl_registry_call(sock, "nodes", &reply) < 0)
		return NULL;
	json_array_foreach(json_object_get(reply, "nodes"), i, n)
		if (!strcmp(json_string_value(json_object_get(n, "name")), name))
			found = json_incref(n);
	json_decref(reply);
	if (!found)
		fprintf(stderr, "qservctl nodes: no node named '%s' in the registry (see qservctl nodes)\n", name);
	return found;
}

static int read_key(const char *path, char *key, size_t len)
{
	FILE *f = fopen(path, "r");
	if (!f || !fgets(key, (int)len, f)) {
		fprintf(stderr, "qservctl nodes: %s: cannot read the auth key\n", path);
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	key[strcspn(key, "\r\n")] = '\0';
	return 0;
}

/* Step 1 of remove: the controller.  0 when it dropped the worker or never
 * had it, -1 when it refused or could not be asked (printed). */
static int controller_remove(const char *url, const char *name, bool force)
{
	char full[1024], err[2048];
	json_t *reply = NULL, *per, *v;
	const char *db;
	snprintf(full, sizeof(full), "%s%smeta/worker/%s%s", url, url[0] && url[strlen(url) - 1] == '/' ? "" : "/",
		 name, force ? "?force=1" : "");
	int rc = qhttpc_json("DELETE", full, NULL, &reply, err, sizeof(err));
	if (rc == -ENOENT && !strstr(err, "no such endpoint")) {
		printf("controller: %s was not registered there\n", name);
		return 0;
	}
	if (rc == -EBUSY) {
		fprintf(stderr, "qservctl nodes remove: the controller refuses: %s\n", err);
		return -1;
	}
	if (rc < 0) {
		fprintf(stderr, "qservctl nodes remove: controller %s: %s\nnothing was changed: the controller must "
			"confirm that no chunk is lost (give --controller URL or QSERV_INGEST_URL)\n", url, err);
		return -1;
	}
	printf("controller: %s dropped (%lld chunk placement(s)", name,
	       (long long)json_integer_value(json_object_get(reply, "chunks_dropped")));
	per = json_object_get(reply, "lost_chunks");
	if (json_integer_value(json_object_get(reply, "chunks_lost")) > 0) {
		printf("; %lld chunk(s) LOST, no other replica:", (long long)json_integer_value(json_object_get(reply, "chunks_lost")));
		json_object_foreach(per, db, v)
			printf(" %s: %lld", db, (long long)json_integer_value(v));
		printf("; queries that need them fail naming them");
	}
	printf(")\n");
	json_decref(reply);
	return 0;
}

/* remove --controller-only: the controller's step alone (no registry). */
static int controller_step(const char *url, const char *keyfile, const char *name, bool force)
{
	char key[256] = "";
	if (keyfile && read_key(keyfile, key, sizeof(key)) < 0)
		return 2;
	if (ctl_controller_init("nodes remove", keyfile ? key : NULL) < 0)
		return 1;
	return controller_remove(ctl_controller_url(url), name, force) < 0 ? 1 : 0;
}

static int nodes_remove(int argc, char **argv, const char *sock, bool readmit)
{
	static const struct option opts[] = { { "socket", required_argument, NULL, 's' },
					      { "force", no_argument, NULL, 'f' },
					      { "controller", required_argument, NULL, 'c' },
					      { "controller-only", no_argument, NULL, 'C' },
					      { "auth-key-file", required_argument, NULL, 'k' }, { 0 } };
	const char *curl_ = NULL, *keyfile = NULL, *name;
	bool force = false, only = false;
	int c, rc;
	json_t *node, *reply;
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:fc:k:C", opts, NULL)) != -1) {
		if (c == 's')
			sock = optarg;
		else if (c == 'f' && !readmit)
			force = true;
		else if (c == 'C' && !readmit)
			only = true;
		else if (c == 'c' && !readmit)
			curl_ = optarg;
		else if (c == 'k' && !readmit)
			keyfile = optarg;
		else
			goto usage;
	}
	if (optind + 1 != argc)
		goto usage;
	name = argv[optind];
	sock = ctl_registry_socket(sock);
	if (readmit) {
		if (ctl_registry_request(sock, json_pack("{s:s, s:s}", "cmd", "node-readmit", "name", name), &reply) < 0)
			return 1;
		printf("%s %s: the same machine may rejoin under its name\n", name,
		       json_is_true(json_object_get(reply, "changed")) ? "re-admitted" : "was not removed");
		json_decref(reply);
		return 0;
	}
	if (only)
		return controller_step(curl_, keyfile, name, force);
	if (!(node = registry_node(sock, name)))
		return 1;
	if (!strcmp(json_string_value(json_object_get(node, "role")), "czar")) {
		fprintf(stderr, "qservctl nodes remove: %s is the czar: the cluster cannot remove its own registry\n", name);
		json_decref(node);
		return 1;
	}
	if (!strcmp(json_string_value(json_object_get(node, "state")), "removed"))
		printf("%s is already removed in the registry; making sure the controller dropped it\n", name);
	json_decref(node);
	if ((rc = controller_step(curl_, keyfile, name, force)) != 0)
		return rc;
	if (ctl_registry_request(sock, json_pack("{s:s, s:s}", "cmd", "node-remove", "name", name), &reply) < 0) {
		fprintf(stderr, "qservctl nodes remove: the controller already dropped %s; run the same command "
			"again once the registry answers\n", name);
		return 1;
	}
	json_decref(reply);
	printf("%s removed from the cluster: the registry refuses its certificate, heartbeats and re-joins from "
	       "now on, and never gives its name to another machine (undo: qservctl nodes readmit %s)\n", name, name);
	return 0;
usage:
	fprintf(stderr, "usage: qservctl nodes remove NAME [--force] [-s SOCKET] [--controller URL] [--auth-key-file F]\n"
		"                                [--controller-only]\n"
		"       qservctl nodes readmit NAME [-s SOCKET]\n");
	return 2;
}

/* qservctl nodes maintenance NAME on|off [--controller URL] */
static int nodes_maintenance(int argc, char **argv)
{
	static const struct option opts[] = { { "controller", required_argument, NULL, 'c' }, { 0 } };
	const char *url = NULL;
	json_t *reply;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		if (c != 'c')
			goto usage;
		url = optarg;
	}
	if (optind + 2 != argc || (strcmp(argv[optind + 1], "on") && strcmp(argv[optind + 1], "off")))
		goto usage;
	bool on = !strcmp(argv[optind + 1], "on");
	if (ctl_controller_init("nodes maintenance", NULL) < 0 ||
	    ctl_controller_call("nodes maintenance", ctl_controller_url(url), "PUT", "replication/maintenance",
				json_pack("{s:s, s:b}", "worker", argv[optind], "maintenance", on), &reply) < 0)
		return 1;
	printf("%s: maintenance %s%s\n", argv[optind], argv[optind + 1],
	       on ? " (never evicted, never a copy target)" : "");
	json_decref(reply);
	return 0;
usage:
	fprintf(stderr, "usage: qservctl nodes maintenance NAME on|off [--controller URL]\n");
	return 2;
}

/* The chunks worker name holds in GET /replication/status, -1 if unknown. */
static long long drain_left(const char *url, const char *name, char *state, size_t slen)
{
	json_t *reply, *w;
	size_t i;
	long long n = -1;
	if (ctl_controller_call("nodes drain", url, "GET", "replication/status", NULL, &reply) < 0)
		return -1;
	json_array_foreach(json_object_get(reply, "workers"), i, w)
		if (!strcmp(json_string_value(json_object_get(w, "id")), name)) {
			n = json_integer_value(json_object_get(w, "chunks"));
			snprintf(state, slen, "%s", json_string_value(json_object_get(w, "state")));
		}
	json_decref(reply);
	return n;
}

/* --wait: until name holds no chunk or timeout_s pass; 0 when drained. */
static int drain_wait(const char *url, const char *name, long timeout_s)
{
	time_t end = time(NULL) + timeout_s, t0 = time(NULL);
	long long last = -2, n;
	char state[32] = "";
	for (;;) {
		n = drain_left(url, name, state, sizeof(state));
		if (n != last && n >= 0)
			printf("%s: %s, %lld chunk(s) left (%lds)\n", name, state, n, (long)(time(NULL) - t0));
		fflush(stdout);
		last = n;
		if (n == 0)
			return 0;
		if (time(NULL) >= end) {
			fprintf(stderr, "qservctl nodes drain: %s still holds %lld chunk(s) after %ld s\n", name, n, timeout_s);
			return -1;
		}
		sleep(2);
	}
}

/* qservctl nodes drain NAME [--off] [--wait] [--timeout S] [--controller URL] */
static int nodes_drain(int argc, char **argv)
{
	static const struct option opts[] = { { "controller", required_argument, NULL, 'c' },
					      { "off", no_argument, NULL, 'o' }, { "wait", no_argument, NULL, 'w' },
					      { "timeout", required_argument, NULL, 't' }, { 0 } };
	const char *url = NULL;
	char *end;
	bool off = false, wait = false;
	long timeout_s = 3600;
	json_t *reply;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:owt:", opts, NULL)) != -1) {
		if (c == 'c')
			url = optarg;
		else if (c == 'o')
			off = true;
		else if (c == 'w')
			wait = true;
		else if (c == 't' && (timeout_s = strtol(optarg, &end, 10)) > 0 && !*end)
			continue;
		else
			goto usage;
	}
	if (optind + 1 != argc)
		goto usage;
	url = ctl_controller_url(url);
	if (ctl_controller_init("nodes drain", NULL) < 0 ||
	    ctl_controller_call("nodes drain", url, "PUT", "replication/drain",
				json_pack("{s:s, s:b}", "worker", argv[optind], "drain", !off), &reply) < 0)
		return 1;
	printf("%s: %s (%lld chunk(s) held)\n", argv[optind], off ? "enabled again" : "draining: its chunks move to the "
	       "enabled workers", (long long)json_integer_value(json_object_get(reply, "chunks")));
	json_decref(reply);
	if (!wait || off)
		return 0;
	return drain_wait(url, argv[optind], timeout_s) < 0 ? 1 : 0;
usage:
	fprintf(stderr, "usage: qservctl nodes drain NAME [--off] [--wait] [--timeout S] [--controller URL]\n");
	return 2;
}

int ctl_nodes(int argc, char **argv)
{
	static const struct option opts[] = { { "socket", required_argument, NULL, 's' },
					      { "json", no_argument, NULL, 'j' }, { 0 } };
	const char *sock = NULL;
	int as_json = 0, c;
	json_t *reply, *n;
	size_t i;
	/* subcommands come first: qservctl nodes remove|readmit|maintenance NAME ... */
	if (argc > 1 && !strcmp(argv[1], "maintenance"))
		return nodes_maintenance(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "drain"))
		return nodes_drain(argc - 1, argv + 1);
	if (argc > 1 && (!strcmp(argv[1], "remove") || !strcmp(argv[1], "readmit")))
		return nodes_remove(argc - 1, argv + 1, NULL, !strcmp(argv[1], "readmit"));
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:j", opts, NULL)) != -1) {
		if (c == 's')
			sock = optarg;
		else if (c == 'j')
			as_json = 1;
		else {
			fprintf(stderr, "usage: qservctl nodes [-s SOCKET] [--json]\n"
				"       qservctl nodes remove NAME [--force] [-s SOCKET] [--controller URL]\n"
				"       qservctl nodes readmit NAME [-s SOCKET]\n"
				"       qservctl nodes maintenance NAME on|off [--controller URL]\n"
				"       qservctl nodes drain NAME [--off] [--wait] [--timeout S] [--controller URL]\n");
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
