/* supervise.h: the agent's process supervisor.
 *
 * Services are started in the order they were added and stopped in reverse
 * (role daemon first, MariaDB last).  Each service is a small state machine:
 *
 *   DOWN --start--> UP --exit--> BACKOFF --delay--> UP ...
 *   any  --stop---> STOPPING --exit--> DOWN
 *
 * A service that exits is restarted after an exponential back-off (1 s
 * doubling to 60 s, reset once it stayed up 30 s); three quick exits in a
 * row mark it crash-looping (it keeps being retried).  Times are monotonic
 * milliseconds supplied by the caller, so the logic is testable without
 * sleeping.  The supervisor never logs; it reports events through a callback. */
#ifndef AGENT_SUPERVISE_H
#define AGENT_SUPERVISE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#define SUP_MAX_SERVICES 8
#define SUP_MAX_ARGS 64    /* sup_add refuses a longer argv (-E2BIG), never truncates */

enum sup_state { SUP_DOWN, SUP_UP, SUP_BACKOFF, SUP_STOPPING };

struct sup_service {
	char name[32];
	char *argv[SUP_MAX_ARGS + 1];   /* owned copies */
	enum sup_state state;
	pid_t pid;
	unsigned restarts;
	unsigned quick_exits;           /* consecutive exits within 10 s of start */
	bool crash_loop;
	int last_status;                /* wait status of the last exit, -1 none */
	uint64_t started_ms, next_start_ms, backoff_ms;
};

typedef void (*sup_event_fn)(void *ctx, const struct sup_service *svc, const char *event);

struct supervisor {
	struct sup_service svc[SUP_MAX_SERVICES];
	int n;
	bool stopping;                  /* after sup_stop_all: nothing restarts */
	sup_event_fn event;
	void *ctx;
};

void sup_init(struct supervisor *s, sup_event_fn event, void *ctx);
/* Adds a service; argv is copied.  Returns its index or -ENOSPC/-ENOMEM,
 * -E2BIG for more than SUP_MAX_ARGS words. */
int sup_add(struct supervisor *s, const char *name, char *const argv[]);
/* Starts services that are DOWN (first call) or whose back-off expired.
 * Returns ms until the next due start (or -1 if none pending). */
int64_t sup_tick(struct supervisor *s, uint64_t now_ms);
/* Reaps exited children (call on SIGCHLD); schedules restarts. */
void sup_reap(struct supervisor *s, uint64_t now_ms);
/* Stops every service in reverse order: SIGTERM, up to timeout_ms each, then
 * SIGKILL.  Blocks until all are gone.  Nothing restarts afterwards. */
void sup_stop_all(struct supervisor *s, unsigned timeout_ms);
void sup_free(struct supervisor *s);
/* [{"name","state","pid","restarts","crash_loop","last_exit"}...] */
json_t *sup_json(const struct supervisor *s, uint64_t now_ms);
const char *sup_state_name(enum sup_state st);

#endif
