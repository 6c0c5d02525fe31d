/* join_agent.h: cluster membership as the agent's main loop sees it.
 *
 * One call at start, one per tick, one at stop.  On the czar it starts the
 * registry (state in <data_dir>/registry, port 7070, admin socket for
 * qservctl), prints the join token and CA pin on the console, and joins its
 * own registry over loopback like any node (so czar-0 has a certificate for
 * czar<->worker mutual TLS too).  On a worker it joins <join> with the
 * token and pin from the configuration.  Credentials and the cluster map
 * end up in <data_dir>/agent (join.h): node.key, node.crt, ca.crt,
 * identity.json, cluster-map.json.
 *
 * With watch_links, a thread follows rtnetlink link events (netlink.h):
 * a link losing or regaining carrier is logged, and on regaining it the
 * session is re-opened at once so the registry records the node's current
 * address (DHCP renewal itself stays with udhcpc).
 *
 * Logging happens here (this is the daemon side); registry and join report
 * through callbacks routed to lib/log.h. */
#ifndef AGENT_JOIN_AGENT_H
#define AGENT_JOIN_AGENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "agent/registry/registry.h"

struct join_agent_opts {
	bool czar;                  /* run the registry here */
	const char *cluster;        /* czar: cluster name on first start */
	const char *join;           /* worker: registry host:port */
	const char *token, *pin;    /* worker: from qserv.token / qserv.ca */
	const char *uuid;           /* machine UUID (identity.h) */
	const char *data_dir;
	uint16_t registry_port;     /* 0 -> 7070 */
	const char *admin_socket;   /* czar: NULL -> /run/qagent/registry.sock */
	int heartbeat_ms, down_after_ms;   /* 0 -> 2000, 10000 */
	bool set_hostname;
	bool watch_links;           /* image mode: reconnect when a link comes back */
	json_t *inventory;          /* borrowed, copied */
	const char *zone;           /* failure zone (qserv.zone), NULL or "" = none */
	reg_disk_alert_fn disk_alert;   /* czar: the nodes' disk problems (registry.h), NULL = none */
};

struct join_agent;

int join_agent_start(const struct join_agent_opts *o, struct join_agent **ret, char *err, size_t errlen);
/* Hand the newest health to the heartbeat thread (health stolen). */
void join_agent_tick(struct join_agent *a, json_t *health);
/* {"membership": join status, "registry": registry status (czar only)} members
 * added to the agent's /status document. */
void join_agent_status(struct join_agent *a, json_t *status);
void join_agent_metrics(struct join_agent *a, FILE *out);
/* A link that regained carrier since the last call (watch_links), for the
 * main loop to renew DHCP on it; false when none is pending. */
bool join_agent_link_regained(struct join_agent *a, char ret_ifname[16]);
void join_agent_stop(struct join_agent *a);   /* accepts NULL */

#endif
