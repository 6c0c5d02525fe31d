/* main.c: qagent, the node agent (PID 1's one respawned child).
 *
 * main() is a straight list of steps, each logging its own failure once:
 * configuration, identity, inventory, network, storage, status server,
 * supervised processes, then one event loop (signalfd + a 1 s timerfd +
 * power-button evdev fds) until SIGTERM or the power button.  Shutdown
 * stops the role daemon first and MariaDB last (supervise.c), then asks
 * BusyBox init to power off.
 *
 * Host mode (--host) runs the same agent on an ordinary Linux machine for
 * tests: no hostname, network or power handling; paths come from options. */
#include "bootmedium.h"
#include "config.h"
#include "disks.h"
#include "heartbeat.h"
#include "identity.h"
#include "inventory.h"
#include "join_agent.h"
#include "netlink.h"
#include "node_alerts.h"
#include "mariadb.h"
#include "net.h"
#include "power.h"
#include "roles.h"
#include "status.h"
#include "supervise.h"

#include "fileio.h"
#include "log.h"
#include "monotime.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define AGENT_VERSION "0.1"

struct agent {
	struct agent_config cfg;
	int config_problems;
	bool host_mode;
	const char *sysfs, *proc, *cmdline_path, *conf_path, *pidfile, *status_addr;
	unsigned status_port;
	char uuid[40];
	char hostname[64];
	struct inventory inv;
	struct agent_disks disks;
	struct supervisor sup;
	struct status_server *status;
	struct power_buttons power;
	struct bootmedium boot;
	uint64_t start_ms;
	const char *data_dir_opt, *admin_socket;
	unsigned registry_port;
	char data_dir[256];
	struct join_agent *member;    /* cluster membership (registry on the czar) */
	struct roles roles;           /* the Qserv role daemons (roles.c) */
	bool mariadb_started, mariadb_ready;
	char mariadb_dir[256];
};

static void warn_config(void *ctx, const char *src, int pos, const char *msg)
{
	struct agent *a = ctx;

	if (!strcmp(src, "config"))
		a->config_problems++;
	if (pos > 0)
		log_warn("config %s:%d: %s", src, pos, msg);
	else
		log_warn("config %s: %s", src, msg);
}

static void read_config(struct agent *a)
{
	char *text;

	config_defaults(&a->cfg);
	text = fileio_read_all(a->cmdline_path, 65536, NULL);
	if (text) {
		config_parse_cmdline(&a->cfg, text, warn_config, a);
		free(text);
	} else {
		log_warn("cannot read %s: %s", a->cmdline_path, strerror(errno));
	}
	text = fileio_read_all(a->conf_path, 65536, NULL);
	if (text) {
		log_info("reading %s", a->conf_path);
		config_parse_file(&a->cfg, a->conf_path, text, warn_config, a);
		free(text);
	}
	config_verify(&a->cfg, warn_config, a);
	log_info("role %s, cluster %s, ip %s%s%s%s%s", config_role_name(a->cfg.role), a->cfg.cluster,
		 a->cfg.ip, a->cfg.join[0] ? ", join " : "", a->cfg.join, a->cfg.zone[0] ? ", zone " : "", a->cfg.zone);
}

/* The boot stick's config partition, mounted read-only: its qserv.conf is
 * the one read, and its disk is never provisioned (bootmedium.h). */
static void open_boot_medium(struct agent *a)
{
	char err[256];

	if (bootmedium_open(&a->boot, a->sysfs, "/dev", a->cmdline_path, BOOTMEDIUM_DIR,
			    BOOTMEDIUM_WAIT_MS, err, sizeof(err)) < 0 && (a->boot.wanted || a->boot.disk[0]))
		log_warn("boot medium: %s", err);
	if (a->boot.disk[0])
		log_info("boot medium: disk %s, partition %s (%s)%s%s%s%s", a->boot.disk, a->boot.part,
			 a->boot.label, a->boot.esp_part[0] ? ", boot partition " : "", a->boot.esp_part,
			 a->boot.slot[0] ? ", slot " : "", a->boot.slot);
	if (a->boot.conf_path[0])
		a->conf_path = a->boot.conf_path;
}

/* A boot-counted entry (a slot on trial after an upgrade) got as far as
 * the network and /status: the boot counts as good (bootmedium_bless). */
static void bless_boot_entry(struct agent *a)
{
	char entry[64], err[256];
	int r = bootmedium_bless(&a->boot, "/dev", BOOTMEDIUM_INSTALL_DIR, entry, sizeof(entry), err,
				 sizeof(err));

	if (r < 0)
		log_warn("boot slot %s: %s", a->boot.slot, err);
	else if (r > 0)
		log_info("boot slot %s: boot counted good, entry %s is now qserv-%s.conf", a->boot.slot,
			 entry, a->boot.slot);
}

/* install=SELECTOR: copies the boot medium onto that internal disk, before
 * the storage pass could take it for data (bootmedium_install). */
static void install_boot_files(struct agent *a)
{
	char target[32], err[256];
	int r = bootmedium_install(&a->boot, a->sysfs, "/dev", a->cfg.install, target, sizeof(target),
				   err, sizeof(err));

	if (r < 0)
		log_error("install: %s", err);
	else if (r > 0)
		log_info("install: nothing to do: %s", err);
	else
		log_info("install: boot medium %s copied to %s, boot slots a and b; the node boots from it "
			 "without the stick", a->boot.disk, target);
}

/* SMBIOS product UUID; else a random one kept for this boot (the agent
 * issue keeps it on the node's own disk). */
/* ip=dhcp: supervised udhcpc per NIC (net.c).  A static ip= goes through
 * rtnetlink (netlink.c): the first NIC that gets carrier, its address and
 * the default route. */
static int bring_up_network(struct agent *a, char *err, size_t errlen)
{
	char nic[16];
	int rc;

	if (!strcmp(a->cfg.ip, "dhcp"))
		return net_bring_up(&a->cfg, &a->inv, &a->sup, err, errlen);
	rc = netlink_pick_link(nic, 10000);
	if (rc < 0) {
		snprintf(err, errlen, "ip=%s: no interface got carrier within 10 s", a->cfg.ip);
		return rc;
	}
	rc = netlink_apply_static(nic, a->cfg.ip, err, errlen);
	return rc < 0 ? rc : 1;
}

/* A link came back (join_agent's link watch): ask its udhcpc to renew the
 * lease at once (SIGUSR1), as the network behind the cable may have changed. */
static void renew_dhcp(struct agent *a)
{
	char nic[16], name[32];

	while (join_agent_link_regained(a->member, nic)) {
		snprintf(name, sizeof(name), "dhcp-%s", nic);
		for (int i = 0; i < a->sup.n; i++) {
			if (!strcmp(a->sup.svc[i].name, name) && a->sup.svc[i].state == SUP_UP) {
				log_info("network: %s is back; renewing its DHCP lease", nic);
				kill(a->sup.svc[i].pid, SIGUSR1);
			}
		}
	}
}

static void read_identity(struct agent *a)
{
	if (!a->host_mode && identity_uuid_usable(a->inv.uuid))
		snprintf(a->uuid, sizeof(a->uuid), "%s", a->inv.uuid);
}

/* Cluster membership, once storage has a place for the node's state: the
 * data dir is <fast pool>/qserv (next to MariaDB's), or --data-dir. */
static void start_membership(struct agent *a)
{
	const char *mdir = a->disks.report ? a->disks.report->mariadb_dir : "";
	char agentdir[300], err[256];
	enum identity_source src;

	if (a->data_dir_opt)
		snprintf(a->data_dir, sizeof(a->data_dir), "%s", a->data_dir_opt);
	else if (mdir[0] && strrchr(mdir, '/'))
		snprintf(a->data_dir, sizeof(a->data_dir), "%.*s/qserv", (int)(strrchr(mdir, '/') - mdir), mdir);
	else
		snprintf(a->data_dir, sizeof(a->data_dir), "/var/lib/qserv");
	snprintf(agentdir, sizeof(agentdir), "%s/agent", a->data_dir);
	mkdir(a->data_dir, 0700);
	if (identity_machine_uuid(a->host_mode ? NULL : a->inv.uuid, agentdir, a->uuid, &src, err, sizeof(err)) < 0) {
		log_error("machine identity: %s; not joining the cluster", err);
		return;
	}
	log_info("machine %s (%s UUID), state in %s", a->uuid, identity_source_name(src), a->data_dir);
	if (a->cfg.role == ROLE_NONE)
		return;
	json_t *inv = json_pack("{s:i, s:I, s:o}", "cpus", a->inv.cpus, "mem_bytes", (json_int_t)a->inv.mem_bytes,
				"disks", disks_json(&a->disks));
	struct join_agent_opts o = { .czar = a->cfg.role == ROLE_CZAR, .cluster = a->cfg.cluster,
				     .join = a->cfg.join, .token = a->cfg.token, .pin = a->cfg.ca,
				     .uuid = a->uuid, .data_dir = a->data_dir,
				     .registry_port = (uint16_t)a->registry_port, .admin_socket = a->admin_socket,
				     .set_hostname = !a->host_mode, .watch_links = !a->host_mode, .inventory = inv,
				     .zone = a->cfg.zone, .disk_alert = node_alerts_disk };
	node_alerts_start(&a->cfg);
	if (join_agent_start(&o, &a->member, err, sizeof(err)) < 0)
		log_error("cluster: %s", err);
	json_decref(inv);
}

static json_t *addresses_json(const struct inventory *inv)
{
	json_t *all = json_array();

	for (size_t i = 0; i < inv->n_nics; i++)
		for (size_t j = 0; j < inv->nics[i].n_addrs; j++)
			json_array_append_new(all, json_string(inv->nics[i].addrs[j]));
	return all;
}

static json_t *nics_json(const struct inventory *inv)
{
	json_t *nics = json_array();

	for (size_t i = 0; i < inv->n_nics; i++) {
		const struct inv_nic *n = &inv->nics[i];
		json_t *addrs = json_array();

		for (size_t j = 0; j < n->n_addrs; j++)
			json_array_append_new(addrs, json_string(n->addrs[j]));
		json_array_append_new(nics, json_pack("{s:s, s:s, s:s, s:o, s:i, s:o}",
			"name", n->name, "mac", n->mac, "operstate", n->operstate,
			"carrier", n->carrier < 0 ? json_null() : json_boolean(n->carrier),
			"speed_mbps", (int)n->speed_mbps, "addresses", addrs));
	}
	return nics;
}

static void start_mariadb(struct agent *a)
{
	const char *dir = disks_mariadb_dir(&a->disks);
	char *argv[] = { MARIADB_RUN, a->mariadb_dir, (char *)config_role_name(a->cfg.role), NULL };

	if (a->host_mode || a->cfg.role == ROLE_NONE || access(MARIADB_RUN, X_OK) < 0)
		return;
	if (!dir) {
		log_error("mariadb: the storage pass chose no data directory; not starting");
		return;
	}
	snprintf(a->mariadb_dir, sizeof(a->mariadb_dir), "%s", dir);
	if (sup_add(&a->sup, "mariadb", argv) >= 0) {
		a->mariadb_started = true;
		log_info("mariadb: data directory %s", a->mariadb_dir);
	}
}

static void check_mariadb(struct agent *a)
{
	char err[256];

	if (a->mariadb_ready)
		roles_tick(&a->roles, &a->sup, monotime_ms());
	if (!a->mariadb_started || a->mariadb_ready || !mariadb_answers(MARIADB_SOCKET, 50))
		return;
	a->mariadb_ready = true;
	log_info("mariadb: ready on %s", MARIADB_SOCKET);
	if (mariadb_apply_sql(MARIADB_SOCKET, a->mariadb_dir, err, sizeof(err)) < 0)
		log_error("mariadb: %s", err);
	roles_tick(&a->roles, &a->sup, monotime_ms());
	sup_tick(&a->sup, monotime_ms());
}

static void publish(struct agent *a)
{
	uint64_t now = monotime_ms();
	json_t *doc;
	char *json, *public_json, *metrics = NULL;
	size_t mlen = 0;
	FILE *m;

	if (!a->status)
		return;
	inventory_refresh_nics(&a->inv, a->sysfs);
	if (!a->host_mode)      /* the registry's name, once joined (join.c sets it) */
		gethostname(a->hostname, sizeof(a->hostname));
	doc = json_pack("{s:s, s:s, s:s, s:s, s:I, s:f, s:o, s:o, s:i, s:I, s:o, s:o, s:o, s:{s:s, s:b}, s:i}",
		"version", AGENT_VERSION, "uuid", a->uuid, "role", config_role_name(a->cfg.role),
		"hostname", a->hostname, "uptime_s", (json_int_t)(now / 1000),
		"agent_start_s", a->start_ms / 1000.0,
		"addresses", addresses_json(&a->inv), "nics", nics_json(&a->inv),
		"cpus", a->inv.cpus, "mem_bytes", (json_int_t)a->inv.mem_bytes,
		"disks", disks_json(&a->disks), "storage", disks_storage_json(&a->disks),
		"processes", sup_json(&a->sup, now),
		"mariadb", "dir", a->mariadb_dir, "ready", a->mariadb_ready,
		"config_problems", a->config_problems);
	json_object_set_new(doc, "cluster", json_string(a->cfg.cluster));
	json_object_set_new(doc, "zone", json_string(a->cfg.zone));     /* "" = none (qserv.zone) */
	join_agent_status(a->member, doc);
	roles_status(&a->roles, doc);
	json_t *health = heartbeat_health(a->proc, sup_json(&a->sup, now), disks_storage_json(&a->disks));
	/* for the registry's view of the node (the czar's dashboard) */
	json_object_set_new(health, "image_version", json_string(AGENT_VERSION));
	json_object_set_new(health, "boot_slot", a->boot.slot[0] ? json_string(a->boot.slot) : json_null());
	join_agent_tick(a->member, health);
	json_object_set_new(doc, "boot_medium", a->boot.disk[0] ? json_string(a->boot.disk) : json_null());
	json_object_set_new(doc, "boot_slot", a->boot.slot[0] ? json_string(a->boot.slot) : json_null());
	json = json_dumps(doc, JSON_COMPACT);
	/* the public copy: no join token, no SQL password, no admin key (status.h) */
	json_object_del(json_object_get(doc, "registry"), "token");
	json_object_del(json_object_get(doc, "qserv"), "password");
	json_object_del(json_object_get(doc, "qserv"), "admin_key");
	public_json = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);

	m = open_memstream(&metrics, &mlen);
	if (m) {
		fprintf(m, "# TYPE qserv_node_uptime_seconds gauge\nqserv_node_uptime_seconds %.3f\n",
			now / 1000.0);
		fprintf(m, "# TYPE qserv_node_info gauge\nqserv_node_info{role=\"%s\",uuid=\"%s\",hostname=\"%s\",version=\"%s\","
			"zone=\"%s\"} 1\n", config_role_name(a->cfg.role), a->uuid, a->hostname, AGENT_VERSION, a->cfg.zone);
		char *dm = disks_metrics(&a->disks);

		if (dm)
			fputs(dm, m);
		free(dm);
		join_agent_metrics(a->member, m);
		fprintf(m, "# TYPE qserv_process_up gauge\n");
		for (int i = 0; i < a->sup.n; i++)
			fprintf(m, "qserv_process_up{name=\"%s\"} %d\n", a->sup.svc[i].name,
				a->sup.svc[i].state == SUP_UP);
		fprintf(m, "# TYPE qserv_process_restarts_total counter\n");
		for (int i = 0; i < a->sup.n; i++)
			fprintf(m, "qserv_process_restarts_total{name=\"%s\"} %u\n", a->sup.svc[i].name,
				a->sup.svc[i].restarts);
		fprintf(m, "# TYPE qserv_process_crash_loop gauge\n");
		for (int i = 0; i < a->sup.n; i++)
			fprintf(m, "qserv_process_crash_loop{name=\"%s\"} %d\n", a->sup.svc[i].name,
				a->sup.svc[i].crash_loop);
		fclose(m);
	}
	if (json && public_json && metrics)
		status_publish(a->status, json, public_json, metrics);
	free(json);
	free(public_json);
	free(metrics);
}

static void on_service_event(void *ctx, const struct sup_service *svc, const char *event)
{
	if (svc->pid)
		log_info("process %s (pid %d): %s", svc->name, (int)svc->pid, event);
	else
		log_info("process %s: %s", svc->name, event);
}

static int write_pidfile(const char *path)
{
	char buf[32];
	int fd, n;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (write(fd, buf, n) != n) {
		close(fd);
		return -EIO;
	}
	close(fd);
	return 0;
}

/* qagent --stop: ask the running agent to shut down in order and wait for it
 * (BusyBox init runs this as its shutdown action before killing everything). */
static int stop_running_agent(const char *pidfile, unsigned timeout_s)
{
	char buf[32];
	pid_t pid;

	if (fileio_read_line(pidfile, buf, sizeof(buf)) <= 0)
		return 0;
	pid = (pid_t)atoi(buf);
	if (pid <= 1 || kill(pid, SIGTERM) < 0)
		return 0;
	for (unsigned i = 0; i < timeout_s * 10; i++) {
		if (kill(pid, 0) < 0)
			return 0;
		usleep(100000);
	}
	fprintf(stderr, "qagent --stop: agent %d still running after %u s\n", (int)pid, timeout_s);
	return 1;
}

static void shutdown_node(struct agent *a, bool poweroff)
{
	log_info("shutting down: stopping processes in order");
	sup_stop_all(&a->sup, 30000);
	join_agent_stop(a->member);
	a->member = NULL;
	sync();
	status_stop(a->status);
	a->status = NULL;
	unlink(a->pidfile);
	if (poweroff && !a->host_mode) {
		log_info("asking init to power off");
		kill(1, SIGUSR2);
	}
	log_info("stopped");
}

/* A worker's chunk tables follow the disks of MariaDB's pool, also when
 * one is hot-added (qserv-worker reads the list again, no restart). */
static void update_chunk_dirs(struct agent *a)
{
	const struct qstorage_report *rep = a->disks.report;

	if (a->cfg.role == ROLE_WORKER && rep)
		roles_set_chunk_dirs(&a->roles, rep->chunk_dirs, rep->n_chunk_dirs);
}

static int event_loop(struct agent *a)
{
	struct itimerspec tick = { .it_interval = { 1, 0 }, .it_value = { 0, 1000000 } };
	struct pollfd pfd[3 + POWER_MAX_FDS];
	sigset_t mask;
	int sfd, tfd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGHUP);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (sfd < 0 || tfd < 0 || timerfd_settime(tfd, 0, &tick, NULL) < 0) {
		log_error("event loop setup: %s", strerror(errno));
		return 111;
	}
	pfd[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = tfd, .events = POLLIN };
	pfd[2] = (struct pollfd){ .fd = disks_watch_fd(&a->disks), .events = POLLIN };
	for (size_t i = 0; i < a->power.n; i++)
		pfd[3 + i] = (struct pollfd){ .fd = a->power.fds[i], .events = POLLIN };

	for (;;) {
		struct signalfd_siginfo si;
		uint64_t ticks;

		if (poll(pfd, 3 + a->power.n, -1) < 0 && errno != EINTR) {
			log_error("poll: %s", strerror(errno));
			return 111;
		}
		while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGCHLD) {
				sup_reap(&a->sup, monotime_ms());
			} else if (si.ssi_signo == SIGHUP) {
				disks_rescan(&a->disks);
				update_chunk_dirs(a);
			} else {
				log_info("signal %d", (int)si.ssi_signo);
				shutdown_node(a, false);
				return 0;
			}
		}
		if (read(tfd, &ticks, sizeof(ticks)) == sizeof(ticks)) {
			sup_tick(&a->sup, monotime_ms());
			check_mariadb(a);
			renew_dhcp(a);
			publish(a);
		}
		if (pfd[2].revents & POLLIN) {
			disks_on_event(&a->disks);
			update_chunk_dirs(a);
		}
		for (size_t i = 0; i < a->power.n; i++) {
			if (pfd[3 + i].revents & POLLIN && power_pressed(a->power.fds[i])) {
				log_info("power button pressed");
				shutdown_node(a, true);
				pause();
				return 0;
			}
		}
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: qagent [options]\n"
		"  --host              run on an ordinary host (no network/hostname/power handling)\n"
		"  --cmdline FILE      kernel command line to read (default /proc/cmdline)\n"
		"  --conf FILE         KEY=VALUE config file (default /qserv.conf)\n"
		"  --sysfs DIR         sysfs root (default /sys)\n"
		"  --proc DIR          procfs root (default /proc)\n"
		"  --status-port N     port of /status and /metrics (default 9400)\n"
		"  --status-addr A     listen address (default all)\n"
		"  --pidfile FILE      (default /run/qagent.pid)\n"
		"  --data-dir DIR      node state: identity, certificates, registry (default <fast pool>/qserv)\n"
		"  --registry-port N   czar: registry port (default 7070)\n"
		"  --admin-socket P    czar: qservctl socket (default /run/qagent/registry.sock)\n"
		"  -n, --check-config  parse and verify the configuration, then exit\n"
		"  --stop              stop the running agent in order and wait for it\n");
}

/* Command-line options into *a; -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, struct agent *a, bool *ret_check_only)
{
	static const struct option opts[] = {
		{ "host", no_argument, NULL, 'H' }, { "cmdline", required_argument, NULL, 'c' },
		{ "conf", required_argument, NULL, 'f' }, { "sysfs", required_argument, NULL, 's' },
		{ "proc", required_argument, NULL, 'p' }, { "status-port", required_argument, NULL, 'P' },
		{ "status-addr", required_argument, NULL, 'A' }, { "pidfile", required_argument, NULL, 'i' },
		{ "data-dir", required_argument, NULL, 'D' }, { "registry-port", required_argument, NULL, 'R' },
		{ "admin-socket", required_argument, NULL, 'M' },
		{ "check-config", no_argument, NULL, 'n' }, { "stop", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' }, { 0 }
	};
	bool stop = false;
	int c;

	while ((c = getopt_long(argc, argv, "nh", opts, NULL)) != -1) {
		switch (c) {
		case 'H': a->host_mode = true; break;
		case 'c': a->cmdline_path = optarg; break;
		case 'f': a->conf_path = optarg; break;
		case 's': a->sysfs = optarg; break;
		case 'p': a->proc = optarg; break;
		case 'P': a->status_port = (unsigned)atoi(optarg); break;
		case 'A': a->status_addr = optarg; break;
		case 'i': a->pidfile = optarg; break;
		case 'D': a->data_dir_opt = optarg; break;
		case 'R': a->registry_port = (unsigned)atoi(optarg); break;
		case 'M': a->admin_socket = optarg; break;
		case 'n': *ret_check_only = true; break;
		case 'S': stop = true; break;
		default: usage(); return c == 'h' ? 0 : 100;
		}
	}
	return stop ? stop_running_agent(a->pidfile, 120) : -1;
}

/* The machine itself: signals to the event loop, pidfile, inventory,
 * identity, hostname, and (image mode) the network. */
static void setup_node(struct agent *a)
{
	sigset_t mask;
	char err[256];
	int n;

	/* Signals arrive through the signalfd of the event loop, never in handlers. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if (write_pidfile(a->pidfile) < 0)
		log_warn("cannot write %s: %s", a->pidfile, strerror(errno));

	if (inventory_read(a->sysfs, a->proc, &a->inv) < 0)
		log_warn("inventory of %s incomplete: %s", a->sysfs, strerror(errno));
	read_identity(a);
	snprintf(a->hostname, sizeof(a->hostname), "%s", a->cfg.hostname);
	if (a->host_mode)
		gethostname(a->hostname, sizeof(a->hostname));
	else if (sethostname(a->hostname, strlen(a->hostname)) < 0)
		log_warn("sethostname %s: %s", a->hostname, strerror(errno));
	log_info("machine %s: %d cpus, %llu MiB memory, %zu nics", a->uuid, a->inv.cpus,
		 (unsigned long long)(a->inv.mem_bytes >> 20), a->inv.n_nics);

	sup_init(&a->sup, on_service_event, a);
	if (!a->host_mode) {
		n = bring_up_network(a, err, sizeof(err));
		if (n < 0)
			log_error("network: %s", err);
		else
			log_info("network: %d interface(s) configured (%s)", n, a->cfg.ip);
	}
}

/* What the node runs: disks, membership, MariaDB and the role. */
static void start_node(struct agent *a)
{
	/* Disks after the status server, so a long first provisioning is
	 * visible from outside.  Host mode only discovers. */
	if (!a->host_mode && a->cfg.install[0])
		install_boot_files(a);
	a->disks.provision = !a->host_mode;
	a->disks.opts = (struct qstorage_opts){ .sysfs_root = a->sysfs, .selector = a->cfg.disks,
		.wipe = a->cfg.wipe, .node_uuid = a->uuid, .flags = QSTORAGE_F_TMPFS,
		.boot_device = a->boot.disk };
	disks_start(&a->disks);
	start_membership(a);
	roles_init(&a->roles, a->cfg.role, a->cfg.role == ROLE_CZAR || a->cfg.join[0], a->data_dir,
		   a->disks.report ? a->disks.report->staging_dir : "", MARIADB_SOCKET, a->hostname);
	roles_set_ops(&a->roles, a->cfg.cluster, a->cfg.alert_webhook, a->cfg.alert_slack, a->cfg.alert_sentry,
		      a->cfg.firefighter);
	update_chunk_dirs(a);
	start_mariadb(a);
	sup_tick(&a->sup, monotime_ms());
	publish(a);
}

int main(int argc, char **argv)
{
	struct agent a = { .sysfs = "/sys", .proc = "/proc", .cmdline_path = "/proc/cmdline",
			   .conf_path = "/qserv.conf", .pidfile = "/run/qagent.pid",
			   .status_port = ROLES_AGENT_STATUS_PORT };
	bool check_only = false;
	char err[256];
	int n;

	if ((n = parse_args(argc, argv, &a, &check_only)) >= 0)
		return n;
	a.start_ms = monotime_ms();
	log_init("qagent", LOG_LVL_INFO);
	log_info("qserv-node agent %s starting", AGENT_VERSION);
	if (!a.host_mode)
		open_boot_medium(&a);
	read_config(&a);
	if (check_only) {
		printf(a.config_problems ? "configuration has %d problem(s)\n" : "configuration OK\n",
		       a.config_problems);
		return a.config_problems ? 1 : 0;
	}
	setup_node(&a);
	if (!a.host_mode)
		power_open(&a.power, "/dev/input");
	if (status_start(a.status_addr, (uint16_t)a.status_port, &a.status, err, sizeof(err)) < 0) {
		log_error("status server: %s", err);
		return 111;
	}
	publish(&a);
	log_info("agent ready: /status on port %u", a.status_port);
	if (!a.host_mode)
		bless_boot_entry(&a);
	start_node(&a);

	n = event_loop(&a);
	node_alerts_stop();
	power_close(&a.power);
	sup_free(&a.sup);
	disks_stop(&a.disks);
	return n;
}
