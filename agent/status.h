/* status.h: the node's HTTP status endpoint (port 9400).
 *
 * GET /status returns JSON, GET /metrics Prometheus text.  The server runs
 * in libmicrohttpd's own thread; the agent's event loop publishes complete
 * documents (status_publish) and the handler only copies the latest one
 * under a mutex, so a request never sees half-updated agent state and never
 * blocks the event loop.
 *
 * Secrets (the join token, the SQL password) are served only to requests
 * from the node itself (a loopback peer): everyone else on port 9400, which
 * has no authentication, gets the public document without them. */
#ifndef AGENT_STATUS_H
#define AGENT_STATUS_H

#include <stddef.h>
#include <stdint.h>

struct status_server;

/* Listens on addr:port (addr NULL = all addresses). */
int status_start(const char *addr, uint16_t port, struct status_server **ret, char *err, size_t errlen);
/* Replaces the served documents; takes copies of the strings.  status_json
 * goes to loopback peers, public_json (the same without secrets) to others. */
void status_publish(struct status_server *s, const char *status_json, const char *public_json,
		    const char *metrics_text);
void status_stop(struct status_server *s);

#endif
