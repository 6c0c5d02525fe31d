/* notify.h: the czar's metadata notice (qserv/controller/META.md, "The
 * czar's metadata notice"): a unix datagram socket the controller sends
 * `reload` (or `reload chunks`) to after it changes qservMeta; the czar's
 * snapshot is then stale and the next statement loads a new one. */
#ifndef QSERV_CZAR_NOTIFY_H
#define QSERV_CZAR_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "czar.h"

/* Binds a datagram socket at path (a stale socket there is removed; any
 * other file is refused), mode 0600, and starts the thread that receives
 * on it.  0, or -errno with err filled. */
int notify_start(struct czar *cz, const char *path, char *err, size_t errlen);

/* Marks cz's snapshot stale (what a notice does); with catalog, the
 * director indexes held in memory too. */
void notify_meta_stale(struct czar *cz, bool catalog);

#endif
