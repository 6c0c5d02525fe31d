/* join_agent.c: registry + join wired for the agent daemon (join_agent.h). */
#include "join_agent.h"
#include "netlink.h"

#include "agent/registry/join.h"
#include "agent/registry/registry.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct join_agent {
	struct registry *reg;
	struct join *join;
	bool czar;
	int mon_fd, stop[2];
	pthread_t watch;
	bool watching;
	char carrier[8][16];     /* links last seen with carrier */
	pthread_mutex_t lock;
	char regained[8][16];    /* links that came back, for the main loop */
};

static void on_link(void *ctx, const struct netlink_link *l)
{
	struct join_agent *a = ctx;
	int idx = -1, free_slot = -1;
	if (l->loopback)
		return;
	for (int i = 0; i < 8; i++) {
		if (!strcmp(a->carrier[i], l->name))
			idx = i;
		else if (!a->carrier[i][0] && free_slot < 0)
			free_slot = i;
	}
	if (l->carrier && idx < 0) {
		if (free_slot >= 0)
			snprintf(a->carrier[free_slot], sizeof(a->carrier[free_slot]), "%s", l->name);
		log_info("network: %s has carrier; re-announcing to the registry", l->name);
		join_reconnect(a->join);
		pthread_mutex_lock(&a->lock);
		for (int i = 0; i < 8; i++) {
			if (!a->regained[i][0] || !strcmp(a->regained[i], l->name)) {
				snprintf(a->regained[i], sizeof(a->regained[i]), "%s", l->name);
				break;
			}
		}
		pthread_mutex_unlock(&a->lock);
	} else if (!l->carrier && idx >= 0) {
		a->carrier[idx][0] = '\0';
		log_warn("network: %s lost carrier", l->name);
	}
}

static void *watch_main(void *arg)
{
	struct join_agent *a = arg;
	struct pollfd p[2] = { { .fd = a->stop[0], .events = POLLIN }, { .fd = a->mon_fd, .events = POLLIN } };
	while (poll(p, 2, -1) >= 0 && !p[0].revents) {
		if (p[1].revents & POLLIN)
			netlink_monitor_read(a->mon_fd, on_link, a);
	}
	return NULL;
}

static void watch_start(struct join_agent *a)
{
	struct netlink_link *links;
	size_t n;
	if ((a->mon_fd = netlink_monitor_open()) < 0 || pipe2(a->stop, O_CLOEXEC) < 0) {
		log_warn("network: cannot follow link changes: %s", strerror(errno));
		return;
	}
	if (netlink_links(&links, &n) == 0) {
		for (size_t i = 0, k = 0; i < n && k < 8; i++)
			if (!links[i].loopback && links[i].carrier)
				snprintf(a->carrier[k++], sizeof(a->carrier[0]), "%s", links[i].name);
		free(links);
	}
	a->watching = pthread_create(&a->watch, NULL, watch_main, a) == 0;
}

static void on_event(void *ctx, enum reg_event_level lvl, const char *msg)
{
	const char *who = ctx;
	if (lvl == REG_EV_ERROR)
		log_error("%s: %s", who, msg);
	else if (lvl == REG_EV_WARN)
		log_warn("%s: %s", who, msg);
	else
		log_info("%s: %s", who, msg);
}

static void mkdir_p(const char *path)
{
	char tmp[512];
	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(tmp, 0755);
			*p = '/';
		}
	}
	mkdir(tmp, 0700);
}

int join_agent_start(const struct join_agent_opts *o, struct join_agent **ret, char *err, size_t errlen)
{
	char regdir[512], agentdir[512], addr[64], token[128], pin[TLS_PIN_LEN];
	uint16_t port = o->registry_port ? o->registry_port : REGISTRY_PORT;
	struct join_agent *a = calloc(1, sizeof(*a));
	int rc;
	if (!a)
		return -ENOMEM;
	pthread_mutex_init(&a->lock, NULL);
	a->czar = o->czar;
	mkdir_p(o->data_dir);
	snprintf(regdir, sizeof(regdir), "%s/registry", o->data_dir);
	snprintf(agentdir, sizeof(agentdir), "%s/agent", o->data_dir);
	struct join_opts jo = { .state_dir = agentdir, .uuid = o->uuid, .role = o->czar ? "czar" : "worker",
				.inventory = o->inventory, .heartbeat_ms = o->heartbeat_ms,
				.set_hostname = o->set_hostname, .zone = o->zone, .event = on_event,
				.event_ctx = "cluster" };
	if (o->czar) {
		const char *sock = o->admin_socket ? o->admin_socket : "/run/qagent/registry.sock";
		char sockdir[256];
		snprintf(sockdir, sizeof(sockdir), "%s", sock);
		char *slash = strrchr(sockdir, '/');
		if (slash && slash != sockdir) {
			*slash = '\0';
			mkdir_p(sockdir);
		}
		struct registry_opts ro = { .state_dir = regdir, .cluster = o->cluster && o->cluster[0] ? o->cluster : "qserv",
					    .port = port, .admin_socket = sock, .self_uuid = o->uuid,
					    .down_after_ms = o->down_after_ms, .event = on_event,
					    .event_ctx = "registry", .disk_alert = o->disk_alert };
		if ((rc = registry_start(&ro, &a->reg, err, errlen)) < 0) {
			free(a);
			return rc;
		}
		registry_secrets(a->reg, token, pin);
		/* The operator reads these on the console (and in /status). */
		log_info("registry: listening on port %u; boot workers with:", registry_port(a->reg));
		log_info("registry:   qserv.token=%s qserv.ca=%s", token, pin);
		snprintf(addr, sizeof(addr), "127.0.0.1:%u", registry_port(a->reg));
		jo.registry = addr;
		jo.token = token;
		jo.pin = pin;
	} else {
		if (!o->join || !o->join[0]) {
			snprintf(err, errlen, "no registry address (qserv.join) for this worker");
			free(a);
			return -EINVAL;
		}
		jo.registry = o->join;
		jo.token = o->token;
		jo.pin = o->pin;
	}
	if ((rc = join_start(&jo, &a->join, err, errlen)) < 0) {
		registry_stop(a->reg);
		free(a);
		return rc;
	}
	a->mon_fd = a->stop[0] = a->stop[1] = -1;
	if (o->watch_links)
		watch_start(a);
	*ret = a;
	return 0;
}

void join_agent_tick(struct join_agent *a, json_t *health)
{
	if (a && a->join)
		join_set_health(a->join, health);
	else
		json_decref(health);
}

void join_agent_status(struct join_agent *a, json_t *status)
{
	if (!a)
		return;
	json_object_set_new(status, "membership", join_status_json(a->join));
	json_t *map = join_cluster_map(a->join);
	json_object_set_new(status, "cluster_map", map ? map : json_null());
	if (a->reg)
		json_object_set_new(status, "registry", registry_status_json(a->reg));
}

void join_agent_metrics(struct join_agent *a, FILE *out)
{
	if (!a)
		return;
	json_t *s = join_status_json(a->join);
	const char *st = json_string_value(json_object_get(s, "state"));
	fprintf(out, "# TYPE qserv_node_joined gauge\nqserv_node_joined %d\n", st && !strcmp(st, "ready"));
	fprintf(out, "# TYPE qserv_node_heartbeats_sent_total counter\nqserv_node_heartbeats_sent_total %lld\n",
		(long long)json_integer_value(json_object_get(s, "heartbeats_sent")));
	fprintf(out, "# TYPE qserv_node_heartbeat_acks_total counter\nqserv_node_heartbeat_acks_total %lld\n",
		(long long)json_integer_value(json_object_get(s, "acks")));
	json_decref(s);
	if (a->reg)
		registry_metrics(a->reg, out);
}

bool join_agent_link_regained(struct join_agent *a, char ret_ifname[16])
{
	bool found = false;
	if (!a)
		return false;
	pthread_mutex_lock(&a->lock);
	for (int i = 0; i < 8 && !found; i++) {
		if (a->regained[i][0]) {
			memcpy(ret_ifname, a->regained[i], 16);
			a->regained[i][0] = '\0';
			found = true;
		}
	}
	pthread_mutex_unlock(&a->lock);
	return found;
}

void join_agent_stop(struct join_agent *a)
{
	if (!a)
		return;
	if (a->watching) {
		(void)!write(a->stop[1], "x", 1);
		pthread_join(a->watch, NULL);
	}
	if (a->mon_fd >= 0)
		close(a->mon_fd);
	if (a->stop[0] >= 0) {
		close(a->stop[0]);
		close(a->stop[1]);
	}
	join_stop(a->join);
	registry_stop(a->reg);
	pthread_mutex_destroy(&a->lock);
	free(a);
}
