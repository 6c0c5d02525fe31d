/* admin.c: qservctl's client of the registry's local admin socket.
 *
 * The registry (inside the czar's qagent) listens on a unix socket, mode
 * 0600, default /run/qagent/registry.sock; qservctl sends one ADMIN frame
 * {"cmd":...} and reads one reply (agent/registry/registry_msg.h).  Being local and
 * root-only is the authentication. */
#include "ctl.h"
#include "agent/registry/registry_msg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

const char *ctl_registry_socket(const char *opt)
{
	if (opt)
		return opt;
	const char *env = getenv("QSERV_REGISTRY_SOCKET");
	return env && env[0] ? env : "/run/qagent/registry.sock";
}

int ctl_registry_call(const char *sock, const char *cmd, json_t **ret_reply)
{
	return ctl_registry_request(sock, json_pack("{s:s}", "cmd", cmd), ret_reply);
}

int ctl_registry_request(const char *sock, json_t *req, json_t **ret_reply)
{
	struct sockaddr_un su = { .sun_family = AF_UNIX };
	char err[256];
	json_t *reply = NULL;
	int type, rc;
	if (strlen(sock) >= sizeof(su.sun_path)) {
		fprintf(stderr, "qservctl: socket path too long: %s\n", sock);
		json_decref(req);
		return -ENAMETOOLONG;
	}
	strcpy(su.sun_path, sock);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&su, sizeof(su)) < 0) {
		rc = -errno;
		fprintf(stderr, "qservctl: cannot reach the registry at %s: %s (run this on the czar node, "
			"or give -s SOCKET)\n", sock, strerror(errno));
		if (fd >= 0)
			close(fd);
		json_decref(req);
		return rc;
	}
	rc = reg_msg_send(frame_fd_write, &fd, REG_MSG_ADMIN, req, REG_MSG_MAX_REQ, 5000);
	if (rc == 0)
		rc = reg_msg_recv(frame_fd_read, &fd, REG_MSG_MAX_REPLY, 10000, &type, &reply, err, sizeof(err));
	close(fd);
	if (rc != 0) {
		fprintf(stderr, "qservctl: registry at %s: %s\n", sock, rc == -ENODATA ? "no answer" : err);
		return rc;
	}
	if (type != REG_MSG_ADMIN_OK) {
		const char *code = json_string_value(json_object_get(reply, "code"));
		const char *msg = json_string_value(json_object_get(reply, "message"));
		fprintf(stderr, "qservctl: registry refused: %s: %s\n", code ? code : "?", msg ? msg : "?");
		json_decref(reply);
		return -EPERM;
	}
	*ret_reply = reply;
	return 0;
}
