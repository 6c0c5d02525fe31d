/* controller.c: how qservctl's subcommands (nodes, replicas) reach the
 * ingest controller's REST API: which URL (--controller, else
 * $QSERV_INGEST_URL, else the czar node's own http://127.0.0.1:25081), the
 * HTTP client set up once with the admin key, and one JSON request whose
 * failure is printed in the subcommand's name. */
#include "ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qserv/common/qhttpc.h"

const char *ctl_controller_url(const char *opt)
{
	const char *url = opt && opt[0] ? opt : getenv("QSERV_INGEST_URL");

	return url && url[0] ? url : "http://127.0.0.1:25081";
}

int ctl_controller_init(const char *who, const char *key)
{
	if (qhttpc_init() < 0) {
		fprintf(stderr, "qservctl %s: cannot initialize the HTTP client\n", who);
		return -1;
	}
	qhttpc_set_auth_key(key ? key : getenv("QSERV_AUTH_KEY"));
	return 0;
}

int ctl_controller_call(const char *who, const char *url, const char *method, const char *path, json_t *body,
			json_t **ret_reply)
{
	char full[1024], err[2048];
	size_t n = strlen(url);
	int rc;

	snprintf(full, sizeof(full), "%s%s%s", url, n && url[n - 1] == '/' ? "" : "/", path[0] == '/' ? path + 1 : path);
	*ret_reply = NULL;
	rc = qhttpc_json(method, full, body, ret_reply, err, sizeof(err));
	json_decref(body);
	if (rc < 0)
		fprintf(stderr, "qservctl %s: %s\n", who, err);
	return rc;
}
