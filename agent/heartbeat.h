/* heartbeat.h: the health a node reports to the registry every 2 s.
 *
 * {"load1","load5","mem_total_bytes","mem_available_bytes","uptime_s",
 *  "processes":[...supervisor view...], "storage":{...}|null, "role_state"}
 * role_state summarizes the processes: "running" when every supervised
 * process is up, "degraded" when one is backing off or crash-looping,
 * "idle" when nothing is supervised.  Built by the agent's main loop
 * (which owns the supervisor) and handed to the join thread. */
#ifndef AGENT_HEARTBEAT_H
#define AGENT_HEARTBEAT_H

#include <jansson.h>

/* proc_root: "/proc" (tests pass a fake tree).  processes and storage are
 * stolen (may be NULL).  Returns a new object. */
json_t *heartbeat_health(const char *proc_root, json_t *processes, json_t *storage);

#endif
