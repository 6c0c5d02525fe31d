/* cnotify.c: the czar's metadata notice (META.md, "The czar's metadata
 * notice").  After the controller commits a change the czar must see at
 * its very next statement it sends one datagram to the czar's unix
 * datagram socket (--czar-notify PATH): "reload" after a publish, an
 * un-publish, a database or table drop (the published catalog changed);
 * "reload chunks" after a change of qservMeta.chunks or workers or of the
 * row counters only (replicas copied, trimmed, moved, lost; counters
 * deployed), which leaves every published director index as it was, so
 * the czar keeps the copy it holds in memory (director_map.h) instead of
 * reading it again during every heal.  Sending never blocks (MSG_DONTWAIT)
 * and never fails the caller: a czar that is not listening (no socket,
 * nobody bound, its queue full) only loses a hint; it re-reads its
 * snapshot every 2 s anyway.  A new socket per notice: notices are rare
 * (one per committed change), and no descriptor is shared between the
 * API's threads. */
#include "controller.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

void cnotify_czar(const struct ctl *c, enum cnotify_what what, const char *why)
{
	const char *msg = what == CNOTIFY_CHUNKS ? "reload chunks" : "reload";

	if (!c->czar_notify || !c->czar_notify[0])
		return;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(c->czar_notify) >= sizeof a.sun_path) {
		log_debug("czar notice (%s): path too long", why);
		return;
	}
	memcpy(a.sun_path, c->czar_notify, strlen(c->czar_notify) + 1);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_debug("czar notice (%s): socket: %s", why, strerror(errno));
		return;
	}
	if (sendto(fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&a, sizeof a) < 0)
		log_debug("czar notice (%s) to %s: %s (czar not listening)", why, c->czar_notify, strerror(errno));
	else
		log_debug("czar notice '%s' (%s) sent", msg, why);
	close(fd);
}
