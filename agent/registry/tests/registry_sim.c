/* registry_sim.c: qregistry-sim, N simulated agents against one registry.
 *
 *   qregistry-sim --registry HOST:PORT --token T --pin P [--nodes 1000]
 *                 [--heartbeats 3] [--interval-ms 2000] [--registry-pid PID]
 *                 [--admin-socket PATH] [--baseline N] [--prefix NAME]
 *
 * Each simulated node is one thread speaking the real protocol with the
 * real crypto: its own P-256 key and CSR (made before the clock starts),
 * a pinned-TLS JOIN, then a mutual-TLS session (HELLO) and --heartbeats
 * heartbeats --interval-ms apart, each acknowledged.  All nodes start their
 * join at the same moment, as a rack powering on would.
 *
 * Prints TAP: every node joined, every session opened, no heartbeat lost
 * (acks == sent, and, given --admin-socket, the registry counted exactly as
 * many and lists every node ready).  Measurements go to "# " lines and to
 * stdout as key=value for the benchmark script: join time and rate, the
 * registry's CPU seconds per 1000 joins and per 1000 heartbeats (from
 * /proc/PID/stat with --registry-pid), and --baseline N bare pinned TLS
 * handshakes, the floor a join cannot go under. */
#include "../registry_msg.h"
#include "frame.h"
#include "monotime.h"
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Generous: a thousand joins queue behind the registry's handshake slots, and
 * the machine may be busy; the test is about correctness, not speed. */
#define SIM_TIMEOUT_MS 300000

struct sim {
	struct sockaddr_in addr;
	const char *token, *pin, *prefix;
	int nodes, heartbeats, interval_ms;
	pthread_barrier_t go, joined_all;
	atomic_int stop;
	atomic_int joined, sessions, failures;
	atomic_long hb_sent, hb_acked;
	atomic_long join_done_ns_max;
	long t0_ns;
	char *ca_pem;
	pthread_mutex_t lock;
};

struct node {
	struct sim *s;
	int idx;
	char uuid[64];
	char *key, *csr, *cert;
	char err[256];
};

static int dial(struct sim *s)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	if (fd < 0)
		return -errno;
	for (int tries = 0; connect(fd, (struct sockaddr *)&s->addr, sizeof(s->addr)) < 0; tries++) {
		if ((errno != EAGAIN && errno != ECONNREFUSED) || tries > 50) {
			int e = errno;
			close(fd);
			return -e;
		}
		usleep(20000);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int do_join(struct node *n)
{
	struct sim *s = n->s;
	struct tls_config *cfg = NULL;
	struct tls_conn *t = NULL;
	json_t *reply = NULL;
	int type, rc, fd = dial(s);
	if (fd < 0) {
		snprintf(n->err, sizeof(n->err), "connect: %s", strerror(-fd));
		return fd;
	}
	struct tls_config_opts co = { .peer_auth = TLS_PEER_PIN, .pin = s->pin, .timeout_ms = SIM_TIMEOUT_MS };
	rc = tls_config_new(&co, &cfg, n->err, sizeof(n->err));
	if (rc == 0)
		rc = tls_conn_new(cfg, fd, "registry", &t, n->err, sizeof(n->err));
	if (rc == 0)
		rc = reg_msg_send(tls_io_write, t, REG_MSG_JOIN,
				  json_pack("{s:s, s:s, s:s, s:s, s:{s:b}}", "token", s->token, "uuid", n->uuid,
					    "role", "worker", "csr", n->csr, "inventory", "simulated", 1),
				  REG_MSG_MAX_REQ, SIM_TIMEOUT_MS);
	if (rc == 0)
		rc = reg_msg_recv(tls_io_read, t, REG_MSG_MAX_REPLY, SIM_TIMEOUT_MS, &type, &reply, n->err, sizeof(n->err));
	if (rc == 0 && type != REG_MSG_JOINED) {
		snprintf(n->err, sizeof(n->err), "registry answered %s: %s", reg_msg_name(type),
			 json_string_value(json_object_get(reply, "message")));
		rc = -EPERM;
	}
	if (rc == 0) {
		n->cert = strdup(json_string_value(json_object_get(reply, "cert")));
		pthread_mutex_lock(&s->lock);
		if (!s->ca_pem)
			s->ca_pem = strdup(json_string_value(json_object_get(reply, "ca")));
		pthread_mutex_unlock(&s->lock);
	}
	json_decref(reply);
	tls_conn_free(t);
	tls_config_free(cfg);
	close(fd);
	return rc;
}

static int do_session(struct node *n, bool joined)
{
	struct sim *s = n->s;
	struct tls_config *cfg = NULL;
	struct tls_conn *t = NULL;
	json_t *msg = NULL;
	int type, rc, fd;
	json_int_t mv = 0;
	pthread_barrier_wait(&s->joined_all);
	fd = joined ? dial(s) : -EPERM;
	if (fd < 0) {
		snprintf(n->err, sizeof(n->err), "connect: %s", strerror(-fd));
		return fd;
	}
	struct tls_config_opts co = { .peer_auth = TLS_PEER_CA, .ca_pem = s->ca_pem, .cert_pem = n->cert,
				      .key_pem = n->key, .timeout_ms = SIM_TIMEOUT_MS };
	rc = tls_config_new(&co, &cfg, n->err, sizeof(n->err));
	if (rc == 0)
		rc = tls_conn_new(cfg, fd, "registry", &t, n->err, sizeof(n->err));
	if (rc == 0)
		rc = reg_msg_send(tls_io_write, t, REG_MSG_HELLO, json_pack("{s:I}", "map_version", mv),
				  REG_MSG_MAX_REQ, SIM_TIMEOUT_MS);
	if (rc == 0)
		rc = reg_msg_recv(tls_io_read, t, REG_MSG_MAX_REPLY, SIM_TIMEOUT_MS, &type, &msg, n->err, sizeof(n->err));
	if (rc == 0 && type != REG_MSG_WELCOME) {
		snprintf(n->err, sizeof(n->err), "HELLO answered by %s", reg_msg_name(type));
		rc = -EPROTO;
	}
	char epoch[32] = "";
	if (rc == 0) {
		json_t *m = json_object_get(msg, "map");
		mv = json_integer_value(json_object_get(m, "version"));
		snprintf(epoch, sizeof(epoch), "%s", json_string_value(json_object_get(m, "epoch")) ?
			 json_string_value(json_object_get(m, "epoch")) : "");
		atomic_fetch_add(&s->sessions, 1);
	}
	json_decref(msg);
	msg = NULL;
	/* spread the first heartbeat over the interval, like real boots would */
	if (rc == 0)
		usleep((useconds_t)((n->idx * 7919L) % (s->interval_ms > 0 ? s->interval_ms : 1)) * 1000);
	for (int k = 1; rc == 0 && !atomic_load(&s->stop); k++) {
		if (k > 1)
			for (int w = 0; w < s->interval_ms / 50 && !atomic_load(&s->stop); w++)
				usleep(50000);
		if (atomic_load(&s->stop))
			break;
		rc = reg_msg_send(tls_io_write, t, REG_MSG_HEARTBEAT,
				  json_pack("{s:i, s:s, s:I, s:s, s:{s:f}}", "seq", k, "state", "ready", "map_version", mv,
					    "map_epoch", epoch, "health", "load1", 0.5),
				  REG_MSG_MAX_REQ, SIM_TIMEOUT_MS);
		if (rc < 0)
			break;
		atomic_fetch_add(&s->hb_sent, 1);
		rc = reg_msg_recv(tls_io_read, t, REG_MSG_MAX_REPLY, SIM_TIMEOUT_MS, &type, &msg, n->err, sizeof(n->err));
		if (rc == 0 && (type != REG_MSG_ACK || json_integer_value(json_object_get(msg, "seq")) != k)) {
			snprintf(n->err, sizeof(n->err), "heartbeat %d answered by %s", k, reg_msg_name(type));
			rc = -EPROTO;
		}
		if (rc == 0) {
			atomic_fetch_add(&s->hb_acked, 1);
			mv = json_integer_value(json_object_get(msg, "map_version"));   /* map or changes applied */
			json_t *m = json_object_get(msg, "map");
			if (json_is_string(json_object_get(m, "epoch")))
				snprintf(epoch, sizeof(epoch), "%s", json_string_value(json_object_get(m, "epoch")));
		}
		json_decref(msg);
		msg = NULL;
	}
	tls_conn_free(t);
	tls_config_free(cfg);
	close(fd);
	return rc;
}

static void *node_main(void *arg)
{
	struct node *n = arg;
	struct sim *s = n->s;
	pthread_barrier_wait(&s->go);
	int rc = do_join(n);
	if (rc == 0) {
		atomic_fetch_add(&s->joined, 1);
		long done = monotime_ns() - s->t0_ns, prev = atomic_load(&s->join_done_ns_max);
		while (done > prev && !atomic_compare_exchange_weak(&s->join_done_ns_max, &prev, done))
			;
	}
	int rs = do_session(n, rc == 0);   /* waits for every join, then every session */
	if (rc == 0)
		rc = rs;
	if (rc < 0) {
		atomic_fetch_add(&s->failures, 1);
		if (atomic_load(&s->failures) <= 5)
			fprintf(stderr, "# node %d: %s\n", n->idx, n->err);
	}
	return NULL;
}

/* utime+stime of a process in seconds (0 when unknown). */
static double proc_cpu(int pid)
{
	char path[64], buf[2048];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = pid > 0 ? fopen(path, "re") : NULL;
	if (!f)
		return 0;
	size_t len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	char *p = strrchr(buf, ')');
	unsigned long ut = 0, st = 0;
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int admin_nodes(const char *sock, json_t **ret)
{
	struct sockaddr_un su = { .sun_family = AF_UNIX };
	char err[256];
	int type, fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(su.sun_path, sizeof(su.sun_path), "%s", sock);
	if (fd < 0 || connect(fd, (struct sockaddr *)&su, sizeof(su)) < 0) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	int rc = reg_msg_send(frame_fd_write, &fd, REG_MSG_ADMIN, json_pack("{s:s}", "cmd", "nodes"),
			      REG_MSG_MAX_REQ, 5000);
	if (rc == 0)
		rc = reg_msg_recv(frame_fd_read, &fd, REG_MSG_MAX_REPLY, 20000, &type, ret, err, sizeof(err));
	close(fd);
	return rc;
}

static double baseline_handshakes(struct sim *s, int count)
{
	struct tls_config *cfg;
	char err[256];
	struct tls_config_opts co = { .peer_auth = TLS_PEER_PIN, .pin = s->pin };
	if (count <= 0 || tls_config_new(&co, &cfg, err, sizeof(err)) < 0)
		return 0;
	long t0 = monotime_ns();
	int ok = 0;
	for (int i = 0; i < count; i++) {
		struct tls_conn *t;
		int fd = dial(s);
		if (fd >= 0 && tls_conn_new(cfg, fd, "registry", &t, err, sizeof(err)) == 0) {
			ok++;
			tls_conn_free(t);
		}
		if (fd >= 0)
			close(fd);
	}
	tls_config_free(cfg);
	return ok ? (double)(monotime_ns() - t0) / 1e9 / ok : 0;
}

static int parse_addr(const char *hp, struct sockaddr_in *sa)
{
	char host[128];
	const char *c = strrchr(hp, ':');
	if (!c || (size_t)(c - hp) >= sizeof(host))
		return -1;
	memcpy(host, hp, (size_t)(c - hp));
	host[c - hp] = '\0';
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(c + 1));
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "registry", required_argument, NULL, 'r' }, { "token", required_argument, NULL, 't' },
		{ "pin", required_argument, NULL, 'p' }, { "nodes", required_argument, NULL, 'n' },
		{ "heartbeats", required_argument, NULL, 'b' }, { "interval-ms", required_argument, NULL, 'i' },
		{ "registry-pid", required_argument, NULL, 'P' }, { "admin-socket", required_argument, NULL, 'a' },
		{ "baseline", required_argument, NULL, 'B' }, { "prefix", required_argument, NULL, 'x' }, { 0 }
	};
	struct sim s = { .nodes = 1000, .heartbeats = 3, .interval_ms = 2000, .prefix = "sim" };
	const char *registry = NULL, *admin = NULL;
	int c, rpid = 0, baseline = 0;
	char err[256];
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r': registry = optarg; break;
		case 't': s.token = optarg; break;
		case 'p': s.pin = optarg; break;
		case 'n': s.nodes = atoi(optarg); break;
		case 'b': s.heartbeats = atoi(optarg); break;
		case 'i': s.interval_ms = atoi(optarg); break;
		case 'P': rpid = atoi(optarg); break;
		case 'a': admin = optarg; break;
		case 'B': baseline = atoi(optarg); break;
		case 'x': s.prefix = optarg; break;
		default: return 2;
		}
	}
	if (!registry || !s.token || !s.pin || s.nodes <= 0 || parse_addr(registry, &s.addr) < 0) {
		fprintf(stderr, "usage: qregistry-sim --registry A.B.C.D:PORT --token T --pin P [--nodes N] ...\n");
		return 2;
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	pthread_mutex_init(&s.lock, NULL);
	struct node *nodes = calloc((size_t)s.nodes, sizeof(*nodes));
	pthread_t *th = calloc((size_t)s.nodes, sizeof(*th));
	for (int i = 0; i < s.nodes; i++) {
		struct tls_identity id = { .name = "joining", .role = "worker" };
		nodes[i].s = &s;
		nodes[i].idx = i;
		snprintf(nodes[i].uuid, sizeof(nodes[i].uuid), "%s-%08d-0000-4000-8000-000000000000", s.prefix, i);
		snprintf(id.uuid, sizeof(id.uuid), "%s", nodes[i].uuid);
		if (tls_key_generate(&nodes[i].key, err, sizeof(err)) < 0 ||
		    tls_csr_create(nodes[i].key, &id, &nodes[i].csr, err, sizeof(err)) < 0) {
			fprintf(stderr, "qregistry-sim: %s\n", err);
			free(nodes);
			free(th);
			return 1;
		}
	}
	double base = baseline_handshakes(&s, baseline);
	pthread_barrier_init(&s.go, NULL, (unsigned)s.nodes + 1);
	pthread_barrier_init(&s.joined_all, NULL, (unsigned)s.nodes + 1);
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 256 << 10);
	for (int i = 0; i < s.nodes; i++) {
		if (pthread_create(&th[i], &at, node_main, &nodes[i]) != 0) {
			fprintf(stderr, "qregistry-sim: cannot start thread %d\n", i);
			return 1;
		}
	}
	double cpu0 = proc_cpu(rpid);
	s.t0_ns = monotime_ns();
	pthread_barrier_wait(&s.go);
	pthread_barrier_wait(&s.joined_all);       /* every join finished */
	double join_s = (double)atomic_load(&s.join_done_ns_max) / 1e9;
	double cpu1 = proc_cpu(rpid);
	/* sessions: every node opened one (or failed) */
	while (atomic_load(&s.sessions) + atomic_load(&s.failures) < s.nodes)
		usleep(5000);
	double cpu2 = proc_cpu(rpid);
	long hb2 = atomic_load(&s.hb_sent);
	/* steady state: everyone heartbeating for --heartbeats intervals */
	usleep((useconds_t)s.heartbeats * (useconds_t)s.interval_ms * 1000);
	double cpu3 = proc_cpu(rpid);
	long hb3 = atomic_load(&s.hb_sent);
	/* every node should be ready now; on a starved machine a late heartbeat
	 * may have marked one down for a moment: give them a few intervals */
	json_t *live = NULL;
	int live_rc = -1;
	for (int tries = 0; admin && tries < 8; tries++) {
		json_decref(live);
		live = NULL;
		live_rc = admin_nodes(admin, &live);
		int ready = 0;
		size_t i;
		json_t *nd;
		json_array_foreach(live_rc == 0 ? json_object_get(live, "nodes") : NULL, i, nd) {
			const char *u = json_string_value(json_object_get(nd, "uuid"));
			if (u && !strncmp(u, s.prefix, strlen(s.prefix)) && u[strlen(s.prefix)] == '-')
				ready += !strcmp(json_string_value(json_object_get(nd, "state")), "ready");
		}
		if (ready >= s.nodes)
			break;
		usleep((useconds_t)s.interval_ms * 1000);
	}
	atomic_store(&s.stop, 1);
	for (int i = 0; i < s.nodes; i++)
		pthread_join(th[i], NULL);
	double total_s = (double)(monotime_ns() - s.t0_ns) / 1e9;
	int joined = atomic_load(&s.joined), sessions = atomic_load(&s.sessions);
	long sent = atomic_load(&s.hb_sent), acked = atomic_load(&s.hb_acked);
	long steady = hb3 - hb2;
	int n = 0, failed = 0;
	printf("1..%d\n", admin ? 5 : 3);
#define CHECK(cond, ...) do { n++; if (cond) printf("ok %d - ", n); else { printf("not ok %d - ", n); failed++; } \
	printf(__VA_ARGS__); printf("\n"); } while (0)
	CHECK(joined == s.nodes, "%d of %d simulated nodes joined", joined, s.nodes);
	CHECK(sessions == s.nodes, "%d of %d mutual-TLS sessions opened", sessions, s.nodes);
	CHECK(acked == sent, "no heartbeat lost: %ld sent, %ld acknowledged", sent, acked);
	printf("# steady state: %ld heartbeats in %d intervals of %d ms from %d nodes\n", steady, s.heartbeats,
	       s.interval_ms, s.nodes);
	if (admin) {
		json_t *reply = NULL, *nd;
		size_t i;
		long reg_hb = 0;
		int ready = 0, ours = 0;
		json_array_foreach(live_rc == 0 ? json_object_get(live, "nodes") : NULL, i, nd) {
			const char *u = json_string_value(json_object_get(nd, "uuid"));
			if (u && !strncmp(u, s.prefix, strlen(s.prefix)) && u[strlen(s.prefix)] == '-')
				ready += !strcmp(json_string_value(json_object_get(nd, "state")), "ready");
		}
		json_decref(live);
		if (admin_nodes(admin, &reply) == 0) {
			json_array_foreach(json_object_get(reply, "nodes"), i, nd) {
				const char *u = json_string_value(json_object_get(nd, "uuid"));
				if (!u || strncmp(u, s.prefix, strlen(s.prefix)) || u[strlen(s.prefix)] != '-')
					continue;
				ours++;
				reg_hb += (long)json_integer_value(json_object_get(nd, "heartbeats"));
			}
		}
		json_decref(reply);
		CHECK(ours == s.nodes && ready == s.nodes, "registry lists %d of our nodes, %d ready while heartbeating",
		      ours, ready);
		CHECK(reg_hb == sent, "registry counted %ld heartbeats of %ld sent", reg_hb, sent);
	}
	double per_join_cpu = joined ? (cpu1 - cpu0) / joined * 1000 : 0;
	double sess_cpu = sessions ? (cpu2 - cpu1) / sessions * 1000 : 0;
	double hb_cpu = steady ? (cpu3 - cpu2) / (double)steady * 1000 : 0;
	printf("# %d nodes joined in %.2f s (%.0f joins/s); all done in %.1f s\n", joined, join_s,
	       join_s > 0 ? joined / join_s : 0, total_s);
	if (rpid)
		printf("# registry CPU: %.2f s per 1000 joins, %.2f s per 1000 session openings (with their first heartbeats), "
		       "%.3f s per 1000 steady-state heartbeats\n",
		       per_join_cpu, sess_cpu, hb_cpu);
	if (base > 0)
		printf("# bare pinned TLS handshake: %.2f ms; one join costs %.2fx that in wall time at this concurrency\n",
		       base * 1000, joined ? join_s / joined / base : 0);
	fprintf(stderr, "join_seconds=%.3f joins_per_s=%.1f registry_cpu_per_1000_joins=%.3f "
		"registry_cpu_per_1000_sessions=%.3f registry_cpu_per_1000_heartbeats=%.4f handshake_ms=%.3f\n", join_s,
		join_s > 0 ? joined / join_s : 0, per_join_cpu, sess_cpu, hb_cpu, base * 1000);
	for (int i = 0; i < s.nodes; i++) {
		free(nodes[i].key);
		free(nodes[i].csr);
		free(nodes[i].cert);
	}
	free(nodes);
	free(th);
	free(s.ca_pem);
	return failed ? 1 : 0;
}
