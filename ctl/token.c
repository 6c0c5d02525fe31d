/* token.c: `qservctl token`, the join tokens and CA pin of the cluster.
 *
 *   qservctl token [show] [-s SOCKET]   prints qserv.token=... qserv.ca=...
 *   qservctl token rotate [-s SOCKET]   new token for new joins; nodes that
 *                                       already joined keep working (they use
 *                                       their certificates, not the token)
 *   qservctl token issue [--uuid UUID] [--ttl SECONDS] [-s SOCKET]
 *                                       a single-use token: admits one new
 *                                       machine (only UUID when given) within
 *                                       SECONDS (default 3600), then is spent
 * Exit 0 on success, 1 on failure, 2 on bad usage. */
#include "ctl.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(void)
{
	fprintf(stderr, "usage: qservctl token [show|rotate] [-s SOCKET]\n"
			"       qservctl token issue [--uuid UUID] [--ttl SECONDS] [-s SOCKET]\n");
	return 2;
}

static json_t *request(const char *what, const char *uuid, long ttl)
{
	if (!strcmp(what, "show"))
		return json_pack("{s:s}", "cmd", "token");
	if (!strcmp(what, "rotate"))
		return json_pack("{s:s}", "cmd", "token-rotate");
	return json_pack("{s:s, s:s, s:I}", "cmd", "token-issue", "uuid", uuid ? uuid : "",
			 "ttl", (json_int_t)(ttl ? ttl : 3600));
}

int ctl_token(int argc, char **argv)
{
	static const struct option opts[] = { { "socket", required_argument, NULL, 's' },
					      { "uuid", required_argument, NULL, 'u' },
					      { "ttl", required_argument, NULL, 't' }, { 0 } };
	const char *sock = NULL, *what = "show", *uuid = NULL;
	json_t *reply;
	long ttl = 0;
	char *end;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "s:", opts, NULL)) != -1) {
		if (c == 's')
			sock = optarg;
		else if (c == 'u')
			uuid = optarg;
		else if (c == 't' && (ttl = strtol(optarg, &end, 10)) > 0 && !*end)
			;
		else
			return usage();
	}
	if (optind < argc)
		what = argv[optind];
	if (strcmp(what, "show") && strcmp(what, "rotate") && strcmp(what, "issue")) {
		fprintf(stderr, "qservctl token: unknown action '%s' (show, rotate or issue)\n", what);
		return 2;
	}
	if (strcmp(what, "issue") && (uuid || ttl))
		return usage();
	if (ctl_registry_request(ctl_registry_socket(sock), request(what, uuid, ttl), &reply) < 0)
		return 1;
	if (!strcmp(what, "show"))
		printf("qserv.token=%s qserv.ca=%s\n", json_string_value(json_object_get(reply, "token")),
		       json_string_value(json_object_get(reply, "ca_pin")));
	else
		printf("qserv.token=%s\n", json_string_value(json_object_get(reply, "token")));
	json_decref(reply);
	return 0;
}
