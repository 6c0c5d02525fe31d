/* notify.c: the metadata notice's receiving end (see notify.h).
 *
 * One thread, one socket: each datagram of at most NOTIFY_MAX bytes that
 * reads `reload` or `reload chunks` (a trailing newline allowed) bumps
 * cz->meta_gen; a snapshot loaded under an older generation is not served
 * again (exec_meta_since), so the next statement reloads.  `reload` (the
 * published catalog may have changed) bumps cz->catalog_gen first, and the
 * reload then drops the director indexes held in memory and the
 * director-index cache; `reload chunks` (only replicas, workers or row
 * counters changed: qserv/controller/cnotify.c) keeps them.  The thread
 * holds no lock: the generations are atomic counters, and a load running
 * while a notice arrives is simply stale at once (it may predate the
 * change).  Other datagrams are ignored; the socket is 0600, so only the
 * czar's own user (and root) can send.  The receive wait is bounded (1 s)
 * only so the thread never sleeps on a socket forever unnoticed; it lives
 * as long as the process. */
#include "notify.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

#define NOTIFY_MAX 64

struct notify {
	struct czar *cz;
	int fd;
};

void notify_meta_stale(struct czar *cz, bool catalog)
{
	if (catalog)
		__atomic_add_fetch(&cz->catalog_gen, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&cz->meta_gen, 1, __ATOMIC_SEQ_CST);
}

/* 2: `reload`, 1: `reload chunks`, 0: anything else. */
static int reload_kind(const char *b, ssize_t n)
{
	while (n > 0 && (b[n - 1] == '\n' || b[n - 1] == '\r'))
		n--;
	if (n == 6 && !memcmp(b, "reload", 6))
		return 2;
	return n == 13 && !memcmp(b, "reload chunks", 13);
}

static void *notify_thread(void *arg)
{
	struct notify *nt = arg;
	char b[NOTIFY_MAX + 1];

	for (;;) {
		ssize_t n = recv(nt->fd, b, sizeof(b), 0);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				log_warn("metadata notice: %s", strerror(errno));
				sleep(1);
			}
			continue;
		}
		int kind = n <= NOTIFY_MAX ? reload_kind(b, n) : 0;
		if (kind)
			notify_meta_stale(nt->cz, kind == 2);
	}
	return NULL;
}

/* Removes what a previous czar left at path: a socket only. */
static int remove_stale(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : (snprintf(err, errlen, "%s: %s", path, strerror(errno)), -errno);
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket: not removed", path);
		return -EEXIST;
	}
	if (unlink(path) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

static int bind_socket(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct timeval tv = { .tv_sec = 1 };
	int fd, e;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "--meta-notify: path too long");
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	if ((e = remove_stale(path, err, errlen)) < 0)
		return e;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -errno;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0) {
		e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

int notify_start(struct czar *cz, const char *path, char *err, size_t errlen)
{
	static struct notify nt;      /* one per process, for its lifetime */
	pthread_t t;
	int fd = bind_socket(path, err, errlen), e;

	if (fd < 0)
		return fd;
	nt.cz = cz;
	nt.fd = fd;
	if ((e = pthread_create(&t, NULL, notify_thread, &nt)) != 0) {
		snprintf(err, errlen, "metadata notice thread: %s", strerror(e));
		close(fd);
		return -e;
	}
	pthread_detach(t);
	return 0;
}
