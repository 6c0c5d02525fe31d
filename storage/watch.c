/* watch.c: kernel uevents for hot-plug, over a NETLINK_KOBJECT_UEVENT
 * socket opened with libmnl (the kernel's multicast group 1, the same
 * messages udev reads).  It only answers "did a whole disk come, go or
 * change?": the caller then runs a full, idempotent provisioning pass, which
 * is simpler and safer than acting on a single event (events can be lost or
 * reordered; a rescan converges).  Partition events are ignored, so our own
 * partitioning does not retrigger work, except through the disk's own
 * "change" which at worst costs one more no-op rescan. */
#include "internal.h"
#include "util.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct qstorage_watch {
	struct mnl_socket *nl;
};

int qstorage_watch_open(struct qstorage_watch **ret_w, char *err, size_t errlen)
{
	struct qstorage_watch *w = calloc(1, sizeof(*w));
	int buf = 4 << 20;

	if (!w)
		return qs_err(err, errlen, -ENOMEM, "out of memory");
	w->nl = mnl_socket_open2(NETLINK_KOBJECT_UEVENT, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!w->nl) {
		int e = errno;
		free(w);
		return qs_err(err, errlen, -e, "uevent socket: %s", strerror(e));
	}
	/* a burst of disks (a shelf powering up) must not overflow */
	setsockopt(mnl_socket_get_fd(w->nl), SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
	if (mnl_socket_bind(w->nl, 1 /* kernel uevents */, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;
		mnl_socket_close(w->nl);
		free(w);
		return qs_err(err, errlen, -e, "uevent bind: %s", strerror(e));
	}
	*ret_w = w;
	return 0;
}

int qstorage_watch_fd(const struct qstorage_watch *w)
{
	return mnl_socket_get_fd(w->nl);
}

/* A kernel uevent: "ACTION@DEVPATH\0KEY=VALUE\0...". */
bool qs_uevent_is_disk(const char *raw, size_t len)
{
	const char *action = NULL, *subsystem = NULL, *devtype = NULL;
	char buf[8192];

	/* work on a NUL-terminated copy: a datagram need not end with one */
	if (len < 2 || len >= sizeof(buf))
		return false;
	memcpy(buf, raw, len);
	buf[len] = '\0';
	if (!strchr(buf, '@'))
		return false; /* not from the kernel (libudev's messages start "libudev") */
	for (size_t off = strlen(buf) + 1; off < len; off += strlen(buf + off) + 1) {
		const char *kv = buf + off;
		if (!strncmp(kv, "ACTION=", 7))
			action = kv + 7;
		else if (!strncmp(kv, "SUBSYSTEM=", 10))
			subsystem = kv + 10;
		else if (!strncmp(kv, "DEVTYPE=", 8))
			devtype = kv + 8;
	}
	if (!action || !subsystem || !devtype || strcmp(subsystem, "block") || strcmp(devtype, "disk"))
		return false;
	return !strcmp(action, "add") || !strcmp(action, "remove") || !strcmp(action, "change");
}

int qstorage_watch_read(struct qstorage_watch *w, bool *ret_rescan, char *err, size_t errlen)
{
	static char buf[8192]; /* uevents are at most 2 KiB (UEVENT_BUFFER_SIZE) */
	bool rescan = false;

	for (;;) {
		ssize_t n = mnl_socket_recvfrom(w->nl, buf, sizeof(buf) - 1);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) { /* lost events: rescan to be safe */
				rescan = true;
				continue;
			}
			return qs_err(err, errlen, -errno, "uevent read: %s", strerror(errno));
		}
		buf[n] = '\0';
		if (qs_uevent_is_disk(buf, (size_t)n))
			rescan = true;
	}
	*ret_rescan = rescan;
	return 0;
}

void qstorage_watch_close(struct qstorage_watch *w)
{
	if (!w)
		return;
	mnl_socket_close(w->nl);
	free(w);
}
