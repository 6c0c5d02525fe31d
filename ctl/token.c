/* token.c: `qservctl token`, the join token and CA pin of the cluster.
 *
 *   qservctl token [show] [-s SOCKET]   prints qserv.token=... qserv.ca=...
 *   qservctl token rotate [-s SOCKET]   new token for new joins; nodes that
 *                                       already joined keep working (they use
 *                                       their certificates, not the token)
 * Exit 0 on success, 1 on failure. */
#include "ctl.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

int ctl_token(int argc, char **argv)
{
	static const struct option opts[] = { { "socket", required_argument, NULL, 's' }, { 0 } };
	const char *sock = NULL, *what = "show";
	json_t *reply;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:", opts, NULL)) != -1) {
		if (c != 's') {
			fprintf(stderr, "usage: qservctl token [show|rotate] [-s SOCKET]\n");
			return 2;
		}
		sock = optarg;
	}
	if (optind < argc)
		what = argv[optind];
	if (strcmp(what, "show") && strcmp(what, "rotate")) {
		fprintf(stderr, "qservctl token: unknown action '%s' (show or rotate)\n", what);
		return 2;
	}
	if (ctl_registry_call(ctl_registry_socket(sock), !strcmp(what, "show") ? "token" : "token-rotate",
			      &reply) < 0)
		return 1;
	if (!strcmp(what, "show"))
		printf("qserv.token=%s qserv.ca=%s\n", json_string_value(json_object_get(reply, "token")),
		       json_string_value(json_object_get(reply, "ca_pin")));
	else
		printf("qserv.token=%s\n", json_string_value(json_object_get(reply, "token")));
	json_decref(reply);
	return 0;
}
