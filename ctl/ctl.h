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
int ctl_quota(int argc, char **argv);
int ctl_backup(int argc, char **argv);
int ctl_restore(int argc, char **argv);

/* Registry admin socket (admin.c): the path from -s, else
 * $QSERV_REGISTRY_SOCKET, else /run/qagent/registry.sock; one request ->
 * one reply (new reference).  Errors are printed; returns <0 on failure. */
#include <jansson.h>
const char *ctl_registry_socket(const char *opt);
int ctl_registry_call(const char *sock, const char *cmd, json_t **ret_reply);
/* Same with a whole request {"cmd": ..., ...} (stolen). */
int ctl_registry_request(const char *sock, json_t *req, json_t **ret_reply);

/* The ingest controller (controller.c): the URL from --controller (opt),
 * else $QSERV_INGEST_URL, else http://127.0.0.1:25081; the HTTP client set
 * up with the admin key (key NULL: $QSERV_AUTH_KEY), -1 printed on failure;
 * one request to URL/PATH with body (stolen, may be NULL), the reply a new
 * reference, a negative errno with the error printed as "qservctl WHO: ...". */
const char *ctl_controller_url(const char *opt);
int ctl_controller_init(const char *who, const char *key);
int ctl_controller_call(const char *who, const char *url, const char *method, const char *path, json_t *body,
			json_t **ret_reply);

#endif
