/* ctl.h: qservctl subcommands.  Each is `int ctl_NAME(int argc, char
 * **argv)` with argv[0] the subcommand name; it returns the exit status.
 * Global options parsed by the dispatcher before the subcommand: --url
 * (ctl_url, NULL when not given). */
#ifndef QSERV_CTL_H
#define QSERV_CTL_H

extern const char *ctl_url;

int ctl_ingest(int argc, char **argv);
int ctl_nodes(int argc, char **argv);
int ctl_token(int argc, char **argv);
int ctl_replicas(int argc, char **argv);

/* Registry admin socket (admin.c): the path from -s, else
 * $QSERV_REGISTRY_SOCKET, else /run/qagent/registry.sock; one request ->
 * one reply (new reference).  Errors are printed; returns <0 on failure. */
#include <jansson.h>
const char *ctl_registry_socket(const char *opt);
int ctl_registry_call(const char *sock, const char *cmd, json_t **ret_reply);
/* Same with a whole request {"cmd": ..., ...} (stolen). */
int ctl_registry_request(const char *sock, json_t *req, json_t **ret_reply);

#endif
