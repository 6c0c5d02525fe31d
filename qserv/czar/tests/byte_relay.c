/* byte_relay.c: a TCP relay that does nothing but copy bytes, for
 * peer_bench.sh's floor: one MariaDB behind two of these has the hops of
 * the czar's point-lookup chain (client -> czar -> worker -> MariaDB)
 * without any of their work (no parsing, planning, TLS or history), so its
 * ratio to one MariaDB is what the topology alone costs on this machine.
 *
 *   byte-relay TARGET      TARGET: /path/to/unix.sock or PORT on 127.0.0.1
 *
 * Listens on 127.0.0.1 at a free port, prints that port on stdout (one
 * line, then stdout is closed) and serves until killed: per accepted
 * connection one connection to TARGET and two threads, each copying one
 * direction with blocking recv/send (no Nagle on TCP), the way a relay
 * spends the fewest system calls.  A side that ends or fails shuts the
 * other down; nothing is buffered beyond one read.  Bench tool only: no
 * authentication, loopback only. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* One relayed connection: the client's and the upstream descriptors,
 * closed (and this freed) by the second of its two copiers to end. */
struct relay {
	int fd[2];
	int refs;
};

struct copier {
	struct relay *r;
	int from, to;                /* indexes into r->fd */
};

static const char *target;

static void *copy_bytes(void *arg)
{
	struct copier *cp = arg;
	struct relay *r = cp->r;
	int from = r->fd[cp->from], to = r->fd[cp->to];
	char buf[65536];
	ssize_t n;

	free(cp);
	while ((n = recv(from, buf, sizeof(buf), 0)) > 0) {
		ssize_t off = 0;
		while (off < n) {
			ssize_t w = send(to, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
			if (w <= 0)
				goto out;
			off += w;
		}
	}
out:
	shutdown(to, SHUT_WR);
	shutdown(from, SHUT_RD);
	if (__atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		close(r->fd[0]);
		close(r->fd[1]);
		free(r);
	}
	return NULL;
}

static int dial(void)
{
	int fd, one = 1;

	if (target[0] == '/') {
		struct sockaddr_un u = { .sun_family = AF_UNIX };
		if (strlen(target) >= sizeof(u.sun_path))
			return -1;
		strcpy(u.sun_path, target);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&u, sizeof(u)) == 0)
			return fd;
	} else {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(target)),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0 &&
		    connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
			return fd;
	}
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Two detached copiers for client c and upstream u (they close both
 * when done); -1 (nothing started, nothing closed) when none could start. */
static int start_pair(int c, int u)
{
	struct relay *r = malloc(sizeof(*r));
	struct copier *up = malloc(sizeof(*up)), *down = malloc(sizeof(*down));
	pthread_attr_t attr;
	pthread_t t;
	int rc = -1;

	if (!r || !up || !down) {
		free(r);
		free(up);
		free(down);
		return -1;
	}
	*r = (struct relay){ { c, u }, 2 };
	*up = (struct copier){ r, 0, 1 };
	*down = (struct copier){ r, 1, 0 };
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, copy_bytes, up) == 0) {
		rc = 0;
		if (pthread_create(&t, &attr, copy_bytes, down) != 0) {
			free(down);
			/* the started copier ends at the shutdown; the second
			 * reference is dropped here */
			shutdown(c, SHUT_RDWR);
			if (__atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) == 0) {
				close(c);
				close(u);
				free(r);
			}
		}
	} else {
		free(r);
		free(up);
		free(down);
	}
	pthread_attr_destroy(&attr);
	return rc;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int l, one = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: byte-relay /path/to/unix.sock | PORT\n");
		return 2;
	}
	target = argv[1];
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 128) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &len) < 0) {
		perror("byte-relay: listen");
		return 1;
	}
	printf("%u\n", ntohs(a.sin_port));
	fclose(stdout);
	for (;;) {
		int c = accept4(l, NULL, NULL, SOCK_CLOEXEC), u;
		if (c < 0) {
			if (errno != EINTR && errno != ECONNABORTED)
				perror("byte-relay: accept");
			continue;
		}
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if ((u = dial()) < 0) {
			close(c);
			continue;
		}
		if (start_pair(c, u) < 0) {
			close(c);
			close(u);
		}
	}
}
