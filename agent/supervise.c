/* supervise.c: start, restart with back-off, and ordered stop of the node's
 * processes (see supervise.h for the state machine). */
#include "supervise.h"

#include "monotime.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SUP_BACKOFF_MIN_MS 1000
#define SUP_BACKOFF_MAX_MS 60000
#define SUP_STABLE_MS 30000
#define SUP_QUICK_MS 10000
#define SUP_CRASH_LOOP_EXITS 3

const char *sup_state_name(enum sup_state st)
{
	static const char *names[] = { "down", "up", "backoff", "stopping" };

	return names[st];
}

void sup_init(struct supervisor *s, sup_event_fn event, void *ctx)
{
	memset(s, 0, sizeof(*s));
	s->event = event;
	s->ctx = ctx;
}

int sup_add(struct supervisor *s, const char *name, char *const argv[])
{
	struct sup_service *svc;
	int i;

	if (s->n >= SUP_MAX_SERVICES)
		return -ENOSPC;
	for (i = 0; argv[i]; i++)
		if (i == SUP_MAX_ARGS)
			return -E2BIG;   /* a daemon started without its last options would be worse */
	svc = &s->svc[s->n];
	memset(svc, 0, sizeof(*svc));
	snprintf(svc->name, sizeof(svc->name), "%s", name);
	for (i = 0; argv[i] && i < SUP_MAX_ARGS; i++) {
		svc->argv[i] = strdup(argv[i]);
		if (!svc->argv[i]) {
			while (i--)
				free(svc->argv[i]);
			return -ENOMEM;
		}
	}
	svc->last_status = -1;
	svc->backoff_ms = SUP_BACKOFF_MIN_MS;
	return s->n++;
}

static void emit(struct supervisor *s, const struct sup_service *svc, const char *event)
{
	if (s->event)
		s->event(s->ctx, svc, event);
}

static void start(struct supervisor *s, struct sup_service *svc, uint64_t now_ms)
{
	pid_t pid = fork();

	if (pid == 0) {
		sigset_t all;

		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		setsid();
		execv(svc->argv[0], svc->argv);
		fprintf(stderr, "qagent: cannot execute %s: %s\n", svc->argv[0], strerror(errno));
		_exit(127);
	}
	if (pid < 0) {
		svc->state = SUP_BACKOFF;
		svc->next_start_ms = now_ms + svc->backoff_ms;
		emit(s, svc, "fork failed");
		return;
	}
	svc->pid = pid;
	svc->state = SUP_UP;
	svc->started_ms = now_ms;
	emit(s, svc, "started");
}

int64_t sup_tick(struct supervisor *s, uint64_t now_ms)
{
	int64_t next = -1;

	if (s->stopping)
		return -1;
	for (int i = 0; i < s->n; i++) {
		struct sup_service *svc = &s->svc[i];

		if (svc->state == SUP_UP && svc->quick_exits &&
		    now_ms - svc->started_ms >= SUP_STABLE_MS) {
			svc->quick_exits = 0;
			svc->crash_loop = false;
			svc->backoff_ms = SUP_BACKOFF_MIN_MS;
		}
		if (svc->state == SUP_DOWN ||
		    (svc->state == SUP_BACKOFF && now_ms >= svc->next_start_ms))
			start(s, svc, now_ms);
		if (svc->state == SUP_BACKOFF) {
			int64_t wait = (int64_t)(svc->next_start_ms - now_ms);

			if (next < 0 || wait < next)
				next = wait;
		}
	}
	return next;
}

static struct sup_service *by_pid(struct supervisor *s, pid_t pid)
{
	for (int i = 0; i < s->n; i++)
		if (s->svc[i].pid == pid)
			return &s->svc[i];
	return NULL;
}

static void exited(struct supervisor *s, struct sup_service *svc, int status, uint64_t now_ms)
{
	svc->pid = 0;
	svc->last_status = status;
	if (s->stopping || svc->state == SUP_STOPPING) {
		svc->state = SUP_DOWN;
		emit(s, svc, "stopped");
		return;
	}
	svc->restarts++;
	if (now_ms - svc->started_ms < SUP_QUICK_MS) {
		if (++svc->quick_exits >= SUP_CRASH_LOOP_EXITS)
			svc->crash_loop = true;
	} else {
		svc->quick_exits = 0;
		svc->backoff_ms = SUP_BACKOFF_MIN_MS;
	}
	svc->state = SUP_BACKOFF;
	svc->next_start_ms = now_ms + svc->backoff_ms;
	emit(s, svc, svc->crash_loop ? "exited (crash loop)" : "exited");
	svc->backoff_ms *= 2;
	if (svc->backoff_ms > SUP_BACKOFF_MAX_MS)
		svc->backoff_ms = SUP_BACKOFF_MAX_MS;
}

void sup_reap(struct supervisor *s, uint64_t now_ms)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct sup_service *svc = by_pid(s, pid);

		if (svc)
			exited(s, svc, status, now_ms);
	}
}

void sup_stop_all(struct supervisor *s, unsigned timeout_ms)
{
	s->stopping = true;
	for (int i = s->n - 1; i >= 0; i--) {
		struct sup_service *svc = &s->svc[i];
		uint64_t deadline;
		int status;

		if (svc->state != SUP_UP) {
			svc->state = SUP_DOWN;
			continue;
		}
		svc->state = SUP_STOPPING;
		emit(s, svc, "stopping");
		kill(svc->pid, SIGTERM);
		deadline = (uint64_t)monotime_ms() + timeout_ms;
		while (svc->pid) {
			pid_t pid = waitpid(svc->pid, &status, WNOHANG);

			if (pid == svc->pid) {
				exited(s, svc, status, (uint64_t)monotime_ms());
				break;
			}
			if (pid < 0 && errno == ECHILD) {
				exited(s, svc, -1, (uint64_t)monotime_ms());
				break;
			}
			if ((uint64_t)monotime_ms() >= deadline) {
				emit(s, svc, "did not stop in time, killing");
				kill(svc->pid, SIGKILL);
				deadline = (uint64_t)-1;
			}
			usleep(20000);
		}
	}
}

void sup_free(struct supervisor *s)
{
	for (int i = 0; i < s->n; i++)
		for (int j = 0; s->svc[i].argv[j]; j++)
			free(s->svc[i].argv[j]);
	s->n = 0;
}

json_t *sup_json(const struct supervisor *s, uint64_t now_ms)
{
	json_t *a = json_array();

	for (int i = 0; i < s->n; i++) {
		const struct sup_service *svc = &s->svc[i];
		int st = svc->last_status;
		json_t *last = st < 0 ? json_null() :
			       WIFEXITED(st) ? json_sprintf("exit %d", WEXITSTATUS(st)) :
			       json_sprintf("signal %d", WTERMSIG(st));

		json_array_append_new(a, json_pack("{s:s, s:s, s:i, s:i, s:b, s:o, s:I}",
			"name", svc->name, "state", sup_state_name(svc->state),
			"pid", (int)svc->pid, "restarts", (int)svc->restarts,
			"crash_loop", svc->crash_loop, "last_exit", last,
			"up_s", (json_int_t)(svc->state == SUP_UP ? (now_ms - svc->started_ms) / 1000 : 0)));
	}
	return a;
}
