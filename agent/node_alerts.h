/* node_alerts.h: the alerts the czar node's agent raises itself, through
 * the cluster's one alert interface (qserv/common/alert.h) and the sinks
 * of the node's configuration (alert_webhook, alert_slack, alert_sentry):
 * the disk problems the registry hears of in the nodes' heartbeats
 * (disk_foreign, disk_error: agent/registry/registry_disks.c). */
#ifndef AGENT_NODE_ALERTS_H
#define AGENT_NODE_ALERTS_H

#include <stdbool.h>

#include "config.h"

/* Starts the sender on the czar node (the log sink at least); a malformed
 * sink is logged and the others kept.  Other roles: nothing. */
void node_alerts_start(const struct agent_config *cfg);
/* registry.h's reg_disk_alert_fn. */
void node_alerts_disk(void *ctx, bool raise, const char *kind, const char *subject, const char *message);
void node_alerts_stop(void);

#endif
