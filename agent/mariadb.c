/* mariadb.c: readiness check of the local MariaDB (see mariadb.h).  Reads
 * the first packet of the MySQL protocol: 3-byte length, sequence id, then
 * the protocol version byte, 10 for every MariaDB and MySQL server. */
#include "mariadb.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

bool mariadb_answers(const char *socket_path, int timeout_ms)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	unsigned char hdr[5];
	struct pollfd pfd;
	bool ok = false;
	int fd;

	if (strlen(socket_path) >= sizeof(sun.sun_path))
		return false;
	strcpy(sun.sun_path, socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
		if (poll(&pfd, 1, timeout_ms) == 1 && recv(fd, hdr, sizeof(hdr), MSG_WAITALL) == sizeof(hdr))
			ok = hdr[4] == 10;
	}
	close(fd);
	return ok;
}

extern char **environ;

static int run_sql(const char *socket_path, const char *file)
{
	char sockarg[160];
	char *argv[] = { "/usr/bin/mariadb", "--no-defaults", sockarg, "-uroot", "--batch", NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status, rc;

	snprintf(sockarg, sizeof(sockarg), "--socket=%s", socket_path);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, file, O_RDONLY, 0);
	rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return -rc;
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

int mariadb_apply_sql(const char *socket_path, const char *datadir, char *err, size_t errlen)
{
	char marker[512];
	glob_t g;
	int fd;

	snprintf(marker, sizeof(marker), "%s/qserv-sql.applied", datadir);
	if (access(marker, F_OK) == 0)
		return 0;
	if (glob("/usr/share/mysql/qserv_*.sql", 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			if (run_sql(socket_path, g.gl_pathv[i]) < 0) {
				snprintf(err, errlen, "%s failed", g.gl_pathv[i]);
				globfree(&g);
				return -EIO;
			}
		}
		globfree(&g);
	}
	fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}
