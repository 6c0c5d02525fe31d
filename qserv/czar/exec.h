/* exec.h: running a planned distributed query -- chunk selection through
 * the director index, dispatch to the workers, and either streaming the
 * rows to the client or merging them on the czar's MariaDB.  Leaves one
 * complete response (result set or ERR) in the session's output. */
#ifndef QSERV_CZAR_EXEC_H
#define QSERV_CZAR_EXEC_H

#include <stddef.h>

#include "meta.h"
#include "plan.h"

struct sess;
struct czar;

/* The current qservMeta snapshot (reloaded after META_TTL_MS), referenced:
 * the caller meta_unref()s it.  NULL with err when it cannot be read. */
struct meta *exec_meta(struct czar *cz, char *err, size_t errlen);
/* The same, but loaded at or after since_ms (monotonic): for a statement
 * that names a database or table the snapshot it was planned with lacks,
 * so a catalog published just before it is seen (one reload serves every
 * statement that began before it). */
struct meta *exec_meta_since(struct czar *cz, int64_t since_ms, char *err, size_t errlen);
void exec_distributed(struct sess *s, const struct plan *p, const struct meta *m);

#endif
