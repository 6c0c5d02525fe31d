/* registry.c: the cluster registry server's frame (see registry.h,
 * registry_int.h for how its files divide the work): start and stop, the
 * TCP and admin listeners, the accept thread, the monitor thread that marks
 * silent nodes down, and one thread per connection.
 *
 * One port, two kinds of connection, told apart by the TLS handshake:
 * without a client certificate the only accepted message is JOIN; with a
 * certificate our CA signed, the connection is the node's session
 * (registry_join.c).  The admin socket serves qservctl (registry_admin.c).
 *
 * Failure handling: after an ERROR the connection is drained briefly
 * before close so the peer reads our ERROR instead of a TCP reset.
 *
 * State file layout in state_dir: ca.crt, ca.key (0600), state.json (0600). */
#include "registry_int.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "monotime.h"

void reg_ev(struct registry *r, enum reg_event_level lvl, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	if (!r->event)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->event(r->event_ctx, lvl, msg);
}

/* ---- connection bookkeeping ------------------------------------------------ */

/* Track c's fd; a TCP connection is also counted among its address's
 * connections before their first message (registry_limit.c).  -1 when
 * stopping, full, or that address is at its cap. */
static int conn_register(struct registry *r, struct conn *c)
{
	int ok = -1;
	pthread_mutex_lock(&r->lock);
	if (!r->stopping && r->nconns < MAX_CONNS && (c->admin || reg_pending_take_locked(r, c->addr4))) {
		r->conn_fds[r->nconns++] = c->fd;
		c->pending = !c->admin;
		ok = 0;
	}
	pthread_mutex_unlock(&r->lock);
	return ok;
}

static void conn_unregister(struct registry *r, int fd)
{
	pthread_mutex_lock(&r->lock);
	for (int i = 0; i < r->nconns; i++) {
		if (r->conn_fds[i] == fd) {
			r->conn_fds[i] = r->conn_fds[--r->nconns];
			break;
		}
	}
	if (r->nconns == 0)
		pthread_cond_broadcast(&r->idle);
	pthread_mutex_unlock(&r->lock);
}

/* After an ERROR: stop sending, swallow what the peer still sends for a
 * moment, so closing does not turn into a reset that eats our ERROR. */
static void drain(int fd)
{
	char buf[4096];
	uint64_t end = (uint64_t)monotime_ms() + 500;
	size_t total = 0;
	shutdown(fd, SHUT_WR);
	while (total < (4u << 20)) {
		uint64_t now = (uint64_t)monotime_ms();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (now >= end || poll(&p, 1, (int)(end - now)) <= 0)
			break;
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n <= 0)
			break;
		total += (size_t)n;
	}
}

void reg_refuse(struct conn *c, struct tls_conn *t, const char *code, const char *what)
{
	reg_msg_send_error(tls_io_write, t, code, what);
	drain(c->fd);
}

/* The wall-clock time ms from now: the deadline sem_timedwait and
 * pthread_cond_timedwait take (CLOCK_REALTIME by POSIX). */
static struct timespec realtime_in(long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += ms * 1000000;
	while (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

/* Wait for a handshake slot; false when the registry is stopping. */
static bool slot_take(struct registry *r)
{
	while (!r->stopping) {
		struct timespec ts = realtime_in(200);

		if (sem_timedwait(&r->slots, &ts) == 0)
			return true;
	}
	return false;
}

void reg_slot_give(struct conn *c)
{
	if (c->slot) {
		c->slot = false;
		sem_post(&c->r->slots);
	}
	if (c->pending) {
		c->pending = false;
		pthread_mutex_lock(&c->r->lock);
		reg_pending_give_locked(c->r, c->addr4);
		pthread_mutex_unlock(&c->r->lock);
	}
}

/* The czar joins its own registry over loopback; the map must show the
 * address workers reach it at, which the registry learns from the local
 * end of their connections.  Caller holds the lock. */
static bool loopback(const char *a)
{
	return !strncmp(a, "127.", 4);
}

void reg_learn_self_addr_locked(struct registry *r, const struct conn *c)
{
	if (!c->local[0] || loopback(c->local) || !strcmp(r->self_addr, c->local))
		return;
	snprintf(r->self_addr, sizeof(r->self_addr), "%s", c->local);
	struct reg_node *self = r->self_uuid[0] ? reg_state_find(&r->st, r->self_uuid) : NULL;
	if (self && strcmp(self->addr, r->self_addr)) {
		snprintf(self->addr, sizeof(self->addr), "%s", r->self_addr);
		reg_map_changed_locked(r, self);
	}
}

/* Address to record for node n seen on connection c. */
const char *reg_node_addr(const struct registry *r, const struct conn *c, const struct reg_node *n)
{
	if (loopback(c->peer) && r->self_addr[0] && !strcmp(n->uuid, r->self_uuid))
		return r->self_addr;
	return c->peer;
}

/* ---- threads ---------------------------------------------------------------- */

/* Wait up to HELLO_WAIT_MS for the peer's first bytes (its TLS hello)
 * without holding a slot: a socket that says nothing never takes one.
 * False when it stayed silent (or the registry is stopping). */
static bool first_bytes(struct conn *c)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	int rc;

	do
		rc = poll(&p, 1, HELLO_WAIT_MS);
	while (rc < 0 && errno == EINTR);
	if (rc > 0 && !c->r->stopping)
		return true;
	if (rc == 0) {
		pthread_mutex_lock(&c->r->lock);
		c->r->idle_closed++;
		pthread_mutex_unlock(&c->r->lock);
	}
	return false;
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	struct registry *r = c->r;
	char err[256];
	struct tls_conn *t = NULL;
	struct tls_identity id;

	if (c->admin) {
		reg_handle_admin(c);
		goto out;
	}
	if (!first_bytes(c) || !slot_take(r))
		goto out;
	c->slot = true;
	if (tls_conn_new(r->tls, c->fd, NULL, &t, err, sizeof(err)) < 0) {
		pthread_mutex_lock(&r->lock);
		r->handshake_failures++;
		pthread_mutex_unlock(&r->lock);
		if (!r->stopping)
			reg_ev(r, REG_EV_WARN, "TLS from %s failed: %s", c->peer, err);
		goto out;
	}
	if (tls_conn_peer(t, &id) == 0) {
		reg_handle_session(c, t, &id, false);
	} else {
		int type, rc;
		json_t *req = NULL;
		rc = reg_msg_recv(tls_io_read, t, REG_MSG_MAX_REQ, FIRST_MSG_MS, &type, &req, err, sizeof(err));
		if (rc < 0 || type != REG_MSG_JOIN) {
			if (rc == -ENODATA) {
				/* probe or pinned client that refused us: nothing to answer */
			} else {
				reg_ev(r, REG_EV_WARN, "join from %s refused: %s", c->peer,
				   rc < 0 ? err : "first message is not JOIN");
				pthread_mutex_lock(&r->lock);
				r->joins_refused++;
				pthread_mutex_unlock(&r->lock);
				reg_refuse(c, t, rc == -EMSGSIZE ? "too_large" : "bad_request",
				       rc < 0 ? err : "first message must be JOIN (no client certificate)");
			}
		} else {
			reg_handle_join(c, t, req);
		}
		json_decref(req);
	}
out:
	reg_slot_give(c);
	tls_conn_free(t);
	conn_unregister(r, c->fd);
	close(c->fd);
	free(c);
	return NULL;
}

static void spawn_conn(struct registry *r, int fd, bool admin, const struct sockaddr_in *sa)
{
	pthread_attr_t at;
	pthread_t th;
	struct conn *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->r = r;
	c->fd = fd;
	c->admin = admin;
	if (!admin)
		c->addr4 = sa->sin_addr.s_addr;
	if (conn_register(r, c) < 0) {      /* at a cap: closed at once */
		free(c);
		close(fd);
		return;
	}
	if (admin)
		snprintf(c->peer, sizeof(c->peer), "admin socket");
	else
		inet_ntop(AF_INET, &sa->sin_addr, c->peer, sizeof(c->peer));
	struct sockaddr_in la;
	socklen_t ll = sizeof(la);
	if (!admin && getsockname(fd, (struct sockaddr *)&la, &ll) == 0)
		inet_ntop(AF_INET, &la.sin_addr, c->local, sizeof(c->local));
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 256 << 10);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &at, conn_main, c) != 0) {
		reg_slot_give(c);
		conn_unregister(r, fd);
		close(fd);
		free(c);
	}
	pthread_attr_destroy(&at);
}

static void *accept_main(void *arg)
{
	struct registry *r = arg;
	struct pollfd p[3] = { { .fd = r->wake[0], .events = POLLIN }, { .fd = r->lfd, .events = POLLIN },
			       { .fd = r->afd, .events = POLLIN } };
	int np = r->afd >= 0 ? 3 : 2;
	for (;;) {
		if (poll(p, (nfds_t)np, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents)
			break;
		if (p[1].revents & POLLIN) {
			struct sockaddr_in sa = { 0 };   /* accept4 fills it; set for the analyzer */
			socklen_t sl = sizeof(sa);
			int fd = accept4(r->lfd, (struct sockaddr *)&sa, &sl, SOCK_CLOEXEC);
			if (fd >= 0) {
				int one = 1;
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				spawn_conn(r, fd, false, &sa);
			} else if (errno == EMFILE || errno == ENFILE) {
				usleep(100000);
			}
		}
		if (np == 3 && (p[2].revents & POLLIN)) {
			int fd = accept4(r->afd, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0)
				spawn_conn(r, fd, true, NULL);
		}
	}
	return NULL;
}

static void *monitor_main(void *arg)
{
	struct registry *r = arg;
	for (;;) {
		struct pollfd p = { .fd = r->wake[0], .events = POLLIN };
		if (poll(&p, 1, 250) > 0)
			break;
		pthread_mutex_lock(&r->lock);
		uint64_t now = (uint64_t)monotime_ms();    /* read under the lock: never before a last_seen */
		for (size_t i = 0; i < r->st.n; i++) {
			struct reg_node *n = r->st.nodes[i];
			if (n->state != REG_NODE_DOWN && !reg_node_removed(n) && n->last_seen_ms && now > n->last_seen_ms &&
			    now - n->last_seen_ms > (uint64_t)r->down_after_ms) {
				n->state = REG_NODE_DOWN;
				reg_map_changed_locked(r, n);
				reg_ev(r, REG_EV_WARN, "%s is down: silent for %llu ms", n->name,
				   (unsigned long long)(now - n->last_seen_ms));
			}
		}
		pthread_mutex_unlock(&r->lock);
	}
	return NULL;
}
/* ---- start / stop ------------------------------------------------------------ */

static int listen_tcp(struct registry *r, const char *addr, uint16_t port, char *err, size_t errlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1;
	if (addr && inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		snprintf(err, errlen, "listen address '%s' is not an IPv4 address", addr);
		return -EINVAL;
	}
	r->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (r->lfd < 0)
		return -errno;
	setsockopt(r->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	socklen_t sl = sizeof(sa);
	if (bind(r->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(r->lfd, 4096) < 0 ||
	    getsockname(r->lfd, (struct sockaddr *)&sa, &sl) < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot listen on %s:%u: %s", addr ? addr : "*", port, strerror(e));
		return -e;
	}
	r->port = ntohs(sa.sin_port);
	return 0;
}

static int listen_admin(struct registry *r, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un su = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(su.sun_path)) {
		snprintf(err, errlen, "admin socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(su.sun_path, path);
	snprintf(r->admin_path, sizeof(r->admin_path), "%s", path);
	unlink(path);
	r->afd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	mode_t old = umask(0077);
	int rc = r->afd < 0 || bind(r->afd, (struct sockaddr *)&su, sizeof(su)) < 0 || listen(r->afd, 16) < 0;
	umask(old);
	if (rc) {
		int e = errno;
		snprintf(err, errlen, "admin socket %s: %s", path, strerror(e));
		return -e;
	}
	return 0;
}

/* A crash during an atomic write leaves "<file>.tmp.<pid>.<n>" behind (the
 * file itself is intact); remove such leftovers at start. */
static void remove_stale_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[1024];
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (strstr(e->d_name, ".tmp.")) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
	}
	closedir(d);
}

static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max && rl.rlim_cur < 65536) {
		rl.rlim_cur = rl.rlim_max < 65536 ? rl.rlim_max : 65536;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void free_registry(struct registry *r)
{
	if (r->lfd >= 0)
		close(r->lfd);
	if (r->afd >= 0) {
		close(r->afd);
		unlink(r->admin_path);
	}
	if (r->wake[0] >= 0) {
		close(r->wake[0]);
		close(r->wake[1]);
	}
	tls_config_free(r->tls);
	free(r->ca_pem);
	free(r->ca_key_pem);
	free(r->map_cache);
	reg_state_free(&r->st);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->idle);
	sem_destroy(&r->slots);
	free(r);
}

/* state.json: loaded, or created with a fresh token on first start; an
 * unreadable one stops the start (identities would be lost). */
static int load_or_create_state(struct registry *r, const struct registry_opts *o, char *err, size_t errlen)
{
	char why[256];
	int rc;

	if (snprintf(r->state_path, sizeof(r->state_path), "%s/state.json", o->state_dir) >=
	    (int)sizeof(r->state_path)) {
		snprintf(err, errlen, "state directory name too long: %s", o->state_dir);
		return -ENAMETOOLONG;
	}
	remove_stale_tmp(o->state_dir);
	rc = reg_state_load(r->state_path, &r->st, why, sizeof(why));
	if (rc == -ENOENT) {
		reg_state_init(&r->st, o->cluster);
		if ((rc = reg_token_generate(r->st.token)) < 0 ||
		    (rc = reg_state_save(r->state_path, &r->st, why, sizeof(why))) < 0)
			snprintf(err, errlen, "cannot create the registry state: %s", why);
	} else if (rc < 0) {
		/* Never overwrite a state we cannot read: identities would be lost. */
		snprintf(err, errlen, "registry state unreadable, refusing to start: %s", why);
	} else if (strcmp(r->st.cluster, o->cluster)) {
		reg_ev(r, REG_EV_WARN, "configured cluster '%s' differs from the registry's '%s'; keeping '%s'",
		       o->cluster, r->st.cluster, r->st.cluster);
	}
	return rc;
}

int registry_start(const struct registry_opts *o, struct registry **ret_reg, char *err, size_t errlen)
{
	int rc;
	struct registry *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->idle, NULL);
	sem_init(&r->slots, 0, HANDSHAKE_SLOTS);
	r->lfd = r->afd = r->wake[0] = r->wake[1] = -1;
	r->down_after_ms = o->down_after_ms > 0 ? o->down_after_ms : 10000;
	r->join_burst = o->join_burst ? o->join_burst : 10;
	r->join_per_min = o->join_per_min > 0 ? o->join_per_min : 6;
	r->limit_loopback = o->limit_loopback;
	r->event = o->event;
	r->event_ctx = o->event_ctx;
	r->disk_alert = o->disk_alert;
	r->disk_alert_ctx = o->disk_alert_ctx;
	r->map_version = 1;
	tls_random_hex(8, r->epoch);
	snprintf(r->self_uuid, sizeof(r->self_uuid), "%s", o->self_uuid ? o->self_uuid : "");
	if (mkdir(o->state_dir, 0700) < 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "cannot create %s: %s", o->state_dir, strerror(errno));
		goto fail;
	}
	if ((rc = load_or_create_state(r, o, err, errlen)) < 0)
		goto fail;
	if ((rc = reg_ca_load_or_create(r, o->state_dir, r->st.cluster, err, errlen)) < 0)
		goto fail;
	if (rc == 1)
		reg_ev(r, REG_EV_INFO, "created the cluster CA for '%s' in %s", r->st.cluster, o->state_dir);
	if ((rc = tls_pin(r->ca_pem, r->pin, err, errlen)) < 0 || (rc = reg_ca_server_tls(r, err, errlen)) < 0)
		goto fail;
	raise_nofile();
	if (pipe2(r->wake, O_CLOEXEC) < 0) {
		rc = -errno;
		goto fail;
	}
	if ((rc = listen_tcp(r, o->listen_addr, o->port, err, errlen)) < 0)
		goto fail;
	if (o->admin_socket && (rc = listen_admin(r, o->admin_socket, err, errlen)) < 0)
		goto fail;
	if (pthread_create(&r->accept_th, NULL, accept_main, r) != 0) {
		rc = -EAGAIN;
		goto fail;
	}
	if (pthread_create(&r->monitor_th, NULL, monitor_main, r) != 0) {
		(void)!write(r->wake[1], "x", 1);
		pthread_join(r->accept_th, NULL);
		rc = -EAGAIN;
		goto fail;
	}
	*ret_reg = r;
	return 0;
fail:
	free_registry(r);
	return rc;
}

void registry_stop(struct registry *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->stopping = true;
	for (int i = 0; i < r->nconns; i++)
		shutdown(r->conn_fds[i], SHUT_RDWR);
	pthread_mutex_unlock(&r->lock);
	(void)!write(r->wake[1], "x", 1);
	pthread_join(r->accept_th, NULL);
	pthread_join(r->monitor_th, NULL);
	pthread_mutex_lock(&r->lock);
	while (r->nconns > 0) {
		for (int i = 0; i < r->nconns; i++)
			shutdown(r->conn_fds[i], SHUT_RDWR);
		struct timespec ts = realtime_in(100);

		pthread_cond_timedwait(&r->idle, &r->lock, &ts);
	}
	pthread_mutex_unlock(&r->lock);
	free_registry(r);
}

uint16_t registry_port(const struct registry *r)
{
	return r->port;
}

