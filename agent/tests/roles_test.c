/* roles_test.c: what roles.c starts on each role, with fake daemons (shell
 * scripts in a temp bin dir) and fake join credentials: nothing before the
 * credentials, the TLS dir links, the czar's users file and password kept
 * across restarts, the worker's argv and environment, and the sync of the
 * cluster map's ready workers into a fake controller on loopback (again
 * when a worker moves or changes failure zone), and removed workers
 * deleted from it. */
#include <kselftest_harness.h>

#include "agent/roles.h"
#include "monotime.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static void put(const char *dir, const char *name, const char *text, mode_t mode)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	chmod(path, mode);
}

/* A temp tree: bin/ with fake daemons, data/agent/ with credentials when
 * joined is true. */
static void make_tree(char *root, size_t len, bool joined, const char *name)
{
	char d[512];

	snprintf(root, len, "/tmp/roles_test.XXXXXX");
	if (!mkdtemp(root))
		abort();
	snprintf(d, sizeof(d), "%s/bin", root);
	mkdir(d, 0755);
	put(d, "qserv-czar", "#!/bin/sh\n[ \"$1\" = --hash-password ] && { read pw; echo \"*HASH-$pw\"; exit 0; }\nexec sleep 30\n", 0755);
	put(d, "qserv-controller", "#!/bin/sh\nexec sleep 30\n", 0755);
	put(d, "qserv-worker", "#!/bin/sh\nexec sleep 30\n", 0755);
	snprintf(d, sizeof(d), "%s/data", root);
	mkdir(d, 0700);
	snprintf(d, sizeof(d), "%s/data/agent", root);
	mkdir(d, 0700);
	if (joined) {
		char ident[128];

		snprintf(ident, sizeof(ident), "{\"name\": \"%s\"}\n", name);
		put(d, "identity.json", ident, 0644);
		put(d, "ca.crt", "CA\n", 0644);
		put(d, "node.key", "KEY\n", 0600);
		put(d, "node.crt", "CERT\n", 0644);
	}
}

static void start(struct roles *r, const char *root, enum agent_role role)
{
	char data[512], staging[512];

	snprintf(data, sizeof(data), "%s/data", root);
	snprintf(staging, sizeof(staging), "%s", root);
	roles_init(r, role, true, data, staging, "/run/test.sock", "host1");
	snprintf(r->bin, sizeof(r->bin), "%s/bin", root);
}

static int find(const struct supervisor *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->svc[i].name, name))
			return i;
	return -1;
}

static bool has_arg(const struct sup_service *svc, const char *a)
{
	for (int i = 0; svc->argv[i]; i++)
		if (!strcmp(svc->argv[i], a))
			return true;
	return false;
}

/* The word after flag in svc's argv, NULL when flag is absent or last. */
static const char *arg_after(const struct sup_service *svc, const char *flag)
{
	for (int i = 0; svc->argv[i]; i++)
		if (!strcmp(svc->argv[i], flag))
			return svc->argv[i + 1];
	return NULL;
}

static void rmtree(const char *root)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		fprintf(stderr, "# cannot remove %s\n", root);
}

TEST(nothing_before_the_credentials)
{
	char root[256];
	struct roles r;
	struct supervisor s;

	make_tree(root, sizeof(root), false, "");
	sup_init(&s, NULL, NULL);
	start(&r, root, ROLE_WORKER);
	roles_tick(&r, &s, monotime_ms());
	EXPECT_EQ(0, s.n);
	EXPECT_FALSE(r.started);
	roles_free(&r);
	sup_free(&s);
	rmtree(root);
}

TEST(worker_argv_env_and_tls_links)
{
	char root[256], link[600], target[600];
	struct roles r;
	struct supervisor s;
	ssize_t n;
	int i;

	make_tree(root, sizeof(root), true, "worker-3");
	sup_init(&s, NULL, NULL);
	start(&r, root, ROLE_WORKER);
	roles_tick(&r, &s, monotime_ms());
	i = find(&s, "qserv-worker");
	ASSERT_GE(i, 0);
	EXPECT_STREQ("/usr/bin/env", s.svc[i].argv[0]);
	EXPECT_STREQ("QSERV_QUERY_PORT=25005", s.svc[i].argv[1]);
	EXPECT_TRUE(has_arg(&s.svc[i], "worker-3"));
	snprintf(link, sizeof(link), "QSERV_TLS_DIR=%s/data/tls", root);
	EXPECT_STREQ(link, s.svc[i].argv[2]);
	snprintf(link, sizeof(link), "%s/data/tls/worker-3.key", root);
	n = readlink(link, target, sizeof(target) - 1);
	ASSERT_GT(n, 0);
	target[n] = '\0';
	snprintf(link, sizeof(link), "%s/data/agent/node.key", root);
	EXPECT_STREQ(link, target);
	snprintf(link, sizeof(link), "%s/data/tls/ca.pem", root);
	EXPECT_EQ(0, access(link, R_OK));
	sup_stop_all(&s, 2000);
	roles_free(&r);
	sup_free(&s);
	rmtree(root);
}

/* Every option reaches the daemons whole (a supervisor that cut argv at 16
 * words once left the czar's --meta-notify without its path); the
 * firefighter flock and the alert sinks of the node's configuration. */
TEST(czar_node_daemons_get_every_option)
{
	char root[256];
	struct roles r;
	struct supervisor s;
	int z, c, m;

	make_tree(root, sizeof(root), true, "czar-0");
	put(root, "bin/qserv-mobu", "#!/bin/sh\nexec sleep 30\n", 0755);
	sup_init(&s, NULL, NULL);
	start(&r, root, ROLE_CZAR);
	roles_set_ops(&r, "rubin", "https://hooks.example/h", "", "https://k@sentry.example/3", "dp1");
	roles_tick(&r, &s, monotime_ms());
	ASSERT_GE(z = find(&s, "qserv-czar"), 0);
	ASSERT_GE(c = find(&s, "qserv-controller"), 0);
	ASSERT_GE(m = find(&s, "qserv-mobu"), 0);
	ASSERT_NE(NULL, arg_after(&s.svc[z], "--meta-notify"));
	EXPECT_NE(NULL, strstr(arg_after(&s.svc[z], "--meta-notify"), "czar/meta.sock"));
	EXPECT_STREQ("4041", arg_after(&s.svc[z], "--http-port"));
	ASSERT_NE(NULL, arg_after(&s.svc[z], "--ingest-key-file"));
	EXPECT_STREQ(arg_after(&s.svc[z], "--meta-notify"), arg_after(&s.svc[c], "--czar-notify"));
	EXPECT_NE(NULL, arg_after(&s.svc[c], "--auth-key-file"));
	ASSERT_NE(NULL, arg_after(&s.svc[c], "--backup-include"));   /* the czar's users file first */
	EXPECT_NE(NULL, strstr(arg_after(&s.svc[c], "--backup-include"), "users"));
	EXPECT_STREQ("https://hooks.example/h", arg_after(&s.svc[c], "--alert-webhook"));
	EXPECT_STREQ("https://k@sentry.example/3", arg_after(&s.svc[c], "--alert-sentry"));
	EXPECT_STREQ("rubin", arg_after(&s.svc[c], "--alert-cluster"));
	EXPECT_EQ(NULL, arg_after(&s.svc[c], "--alert-slack"));   /* not configured */
	EXPECT_STREQ("https://hooks.example/h", arg_after(&s.svc[z], "--alert-webhook"));   /* quota blocks */
	EXPECT_STREQ("rubin", arg_after(&s.svc[z], "--alert-cluster"));
	EXPECT_NE(NULL, arg_after(&s.svc[z], "--ingest-url"));
	EXPECT_STREQ("http://127.0.0.1:9400/status", arg_after(&s.svc[z], "--registry-url"));   /* dashboard */
	EXPECT_STREQ("http://127.0.0.1:9402", arg_after(&s.svc[z], "--mobu-url"));
	EXPECT_STREQ("dp1", arg_after(&s.svc[m], "-D"));
	EXPECT_STREQ(r.password, arg_after(&s.svc[m], "-p"));
	EXPECT_STREQ("0.95", arg_after(&s.svc[m], "--alert-below"));
	EXPECT_STREQ("https://hooks.example/h", arg_after(&s.svc[m], "--alert-webhook"));
	sup_stop_all(&s, 2000);
	roles_free(&r);
	sup_free(&s);
	rmtree(root);
}

TEST(czar_users_file_and_password_kept)
{
	char root[256], path[600], line[256], first[64];
	struct roles r;
	struct supervisor s;
	FILE *f;
	int i;

	make_tree(root, sizeof(root), true, "czar-0");
	sup_init(&s, NULL, NULL);
	start(&r, root, ROLE_CZAR);
	roles_tick(&r, &s, monotime_ms());
	ASSERT_GE(find(&s, "qserv-controller"), 0);
	i = find(&s, "qserv-czar");
	ASSERT_GE(i, 0);
	EXPECT_TRUE(has_arg(&s.svc[i], "czar-0"));
	ASSERT_EQ(18, (int)strlen(r.password));
	snprintf(path, sizeof(path), "%s/data/czar/users", root);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(line, sizeof(line), f));
	fclose(f);
	EXPECT_TRUE(has_arg(&s.svc[i], "--ssl-cert"));      /* MySQL SSL on 4040 with the node's certificate */
	snprintf(path, sizeof(path), "qsmaster:*HASH-%s:admin\n", r.password);
	EXPECT_STREQ(path, line);
	snprintf(first, sizeof(first), "%s", r.password);
	sup_stop_all(&s, 2000);
	roles_free(&r);
	sup_free(&s);

	/* a restarted agent finds the same password */
	sup_init(&s, NULL, NULL);
	start(&r, root, ROLE_CZAR);
	roles_tick(&r, &s, monotime_ms());
	EXPECT_STREQ(first, r.password);
	sup_stop_all(&s, 2000);
	roles_free(&r);
	sup_free(&s);
	rmtree(root);
}

/* A fake controller: answers 200 to each request (DELETE: delete_status),
 * keeps the bodies and the request lines. */
struct fake_ctl {
	int lfd, port;
	int delete_status;
	char bodies[4096];
	char lines[4096];
};

static void *serve(void *arg)
{
	struct fake_ctl *c = arg;
	char buf[2048];
	int fd;

	while ((fd = accept(c->lfd, NULL, NULL)) >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		const char *ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
		const char *busy = "HTTP/1.1 409 Conflict\r\nContent-Length: 50\r\nConnection: close\r\n\r\n"
				   "{\"success\":0,\"error\":\"holds the only replica x\"}";
		const char *gone = "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";

		if (n > 0) {
			buf[n] = '\0';
			if (!strncmp(buf, "DELETE ", 7))
				ok = c->delete_status == 409 ? busy : c->delete_status == 404 ? gone : ok;
			snprintf(c->lines + strlen(c->lines), sizeof(c->lines) - strlen(c->lines), "%.*s;",
				 (int)(strstr(buf, " HTTP/") ? strstr(buf, " HTTP/") - buf : 0), buf);
			char *body = strstr(buf, "\r\n\r\n");
			if (body)
				snprintf(c->bodies + strlen(c->bodies), sizeof(c->bodies) - strlen(c->bodies), "%s;", body + 4);
		}
		if (write(fd, ok, strlen(ok)) < 0)
			break;
		close(fd);
	}
	return NULL;
}

/* The map: worker-0 without "zone" (a registry from before zones),
 * worker-1 at w1addr in zone w1zone. */
static void write_map_zone(const char *root, const char *w1addr, const char *w0state, const char *w1zone)
{
	char d[512], text[1024];

	snprintf(d, sizeof(d), "%s/data/agent", root);
	snprintf(text, sizeof(text), "{\"nodes\": ["
		 "{\"name\": \"czar-0\", \"role\": \"czar\", \"addr\": \"10.0.0.1\", \"state\": \"ready\"},"
		 "{\"name\": \"worker-0\", \"role\": \"worker\", \"addr\": \"10.0.0.2\", \"state\": \"%s\"},"
		 "{\"name\": \"worker-1\", \"role\": \"worker\", \"addr\": \"%s\", \"state\": \"ready\", "
		 "\"zone\": \"%s\"},"
		 "{\"name\": \"worker-2\", \"role\": \"worker\", \"addr\": \"10.0.0.4\", \"state\": \"down\"}]}",
		 w0state, w1addr, w1zone);
	put(d, "cluster-map.json", text, 0644);
}

static void write_map_states(const char *root, const char *w1addr, const char *w0state)
{
	write_map_zone(root, w1addr, w0state, "");
}

static void write_map(const char *root, const char *w1addr)
{
	write_map_states(root, w1addr, "ready");
}

static void fake_up(struct __test_metadata *_metadata, struct fake_ctl *c, pthread_t *th)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);

	c->lfd = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_EQ(0, bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_EQ(0, listen(c->lfd, 8));
	getsockname(c->lfd, (struct sockaddr *)&sa, &sl);
	c->port = ntohs(sa.sin_port);
	ASSERT_EQ(0, pthread_create(th, NULL, serve, c));
}

static void fake_down(struct fake_ctl *c, pthread_t th)
{
	shutdown(c->lfd, SHUT_RDWR);
	close(c->lfd);
	pthread_join(th, NULL);
}

TEST(removed_worker_dropped_from_controller_and_status)
{
	char root[256];
	struct roles r;
	struct supervisor s;
	struct fake_ctl c = { 0 };
	pthread_t th;
	uint64_t t = monotime_ms();
	json_t *st;

	fake_up(_metadata, &c, &th);
	make_tree(root, sizeof(root), true, "czar-0");
	write_map(root, "10.0.0.3");
	sup_init(&s, NULL, NULL);
	start(&r, root, ROLE_CZAR);
	r.controller_port = c.port;
	roles_tick(&r, &s, t);
	roles_tick(&r, &s, t + 1);
	ASSERT_NE(NULL, json_object_get(r.registered, "worker-0"));
	/* worker-0 removed, the controller refuses (sole replica): kept, asked again */
	c.lines[0] = '\0';
	c.delete_status = 409;
	write_map_states(root, "10.0.0.3", "removed");
	roles_tick(&r, &s, t + 10000);
	EXPECT_STREQ("DELETE /meta/worker/worker-0;", c.lines);
	EXPECT_NE(NULL, json_object_get(r.registered, "worker-0"));
	c.lines[0] = '\0';
	roles_tick(&r, &s, t + 20000);
	EXPECT_STREQ("DELETE /meta/worker/worker-0;", c.lines);
	/* the controller agrees: gone from the list /status shows, asked no more */
	c.delete_status = 200;
	roles_tick(&r, &s, t + 30000);
	EXPECT_EQ(NULL, json_object_get(r.registered, "worker-0"));
	st = json_object();
	roles_status(&r, st);
	EXPECT_EQ(NULL, json_object_get(json_object_get(json_object_get(st, "qserv"), "registered_workers"), "worker-0"));
	EXPECT_NE(NULL, json_object_get(json_object_get(json_object_get(st, "qserv"), "registered_workers"), "worker-1"));
	json_decref(st);
	c.lines[0] = '\0';
	roles_tick(&r, &s, t + 40000);
	EXPECT_STREQ("", c.lines);
	/* re-admitted and ready again: registered again */
	write_map_states(root, "10.0.0.3", "ready");
	roles_tick(&r, &s, t + 50000);
	EXPECT_STREQ("POST /meta/worker;", c.lines);
	EXPECT_NE(NULL, json_object_get(r.registered, "worker-0"));
	/* removed while the controller never knew it (404): dropped all the same */
	c.delete_status = 404;
	write_map_states(root, "10.0.0.3", "removed");
	roles_tick(&r, &s, t + 60000);
	EXPECT_EQ(NULL, json_object_get(r.registered, "worker-0"));

	fake_down(&c, th);
	sup_stop_all(&s, 2000);
	roles_free(&r);
	sup_free(&s);
	rmtree(root);
}

TEST(ready_workers_registered_once_and_again_when_moved)
{
	char root[256];
	struct roles r;
	struct supervisor s;
	struct fake_ctl c = { 0 };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	pthread_t th;
	uint64_t t = monotime_ms();

	c.lfd = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_EQ(0, bind(c.lfd, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_EQ(0, listen(c.lfd, 8));
	getsockname(c.lfd, (struct sockaddr *)&sa, &sl);
	ASSERT_EQ(0, pthread_create(&th, NULL, serve, &c));

	make_tree(root, sizeof(root), true, "czar-0");
	write_map(root, "10.0.0.3");
	sup_init(&s, NULL, NULL);
	start(&r, root, ROLE_CZAR);
	r.controller_port = ntohs(sa.sin_port);
	roles_tick(&r, &s, t);                /* starts the daemons */
	roles_tick(&r, &s, t + 1);            /* first sync; worker-2 is down in the map: told once */
	EXPECT_STREQ("{\"id\":\"worker-0\",\"host\":\"10.0.0.2\",\"ingest_port\":25004,\"query_port\":25005,\"zone\":\"\"};"
		     "{\"id\":\"worker-1\",\"host\":\"10.0.0.3\",\"ingest_port\":25004,\"query_port\":25005,\"zone\":\"\"};"
		     "{\"worker\":\"worker-2\",\"up\":false};",
		     c.bodies);
	c.bodies[0] = '\0';
	roles_tick(&r, &s, t + 10000);        /* nothing changed: nothing sent */
	EXPECT_STREQ("", c.bodies);
	write_map(root, "10.0.0.9");
	roles_tick(&r, &s, t + 20000);
	EXPECT_STREQ("{\"id\":\"worker-1\",\"host\":\"10.0.0.9\",\"ingest_port\":25004,\"query_port\":25005,\"zone\":\"\"};",
		     c.bodies);
	EXPECT_STREQ("10.0.0.9", json_string_value(json_object_get(r.registered, "worker-1")));
	/* worker-1 declares a zone (same address): registered again with it */
	c.bodies[0] = '\0';
	write_map_zone(root, "10.0.0.9", "ready", "rack-1");
	roles_tick(&r, &s, t + 30000);
	EXPECT_STREQ("{\"id\":\"worker-1\",\"host\":\"10.0.0.9\",\"ingest_port\":25004,\"query_port\":25005,"
		     "\"zone\":\"rack-1\"};", c.bodies);
	EXPECT_STREQ("rack-1", json_string_value(json_object_get(r.registered_zone, "worker-1")));
	c.bodies[0] = '\0';
	roles_tick(&r, &s, t + 40000);        /* same zone: nothing sent */
	EXPECT_STREQ("", c.bodies);
	/* another zone: again; a zone the map should never hold is sent as none */
	write_map_zone(root, "10.0.0.9", "ready", "rack_2.b");
	roles_tick(&r, &s, t + 50000);
	EXPECT_STREQ("{\"id\":\"worker-1\",\"host\":\"10.0.0.9\",\"ingest_port\":25004,\"query_port\":25005,"
		     "\"zone\":\"rack_2.b\"};", c.bodies);
	c.bodies[0] = '\0';
	write_map_zone(root, "10.0.0.9", "ready", "rack\\\"x");
	roles_tick(&r, &s, t + 60000);
	EXPECT_STREQ("{\"id\":\"worker-1\",\"host\":\"10.0.0.9\",\"ingest_port\":25004,\"query_port\":25005,"
		     "\"zone\":\"\"};", c.bodies);
	json_t *st = json_object();
	roles_status(&r, st);
	EXPECT_STREQ("", json_string_value(json_object_get(json_object_get(json_object_get(st, "qserv"),
						"registered_zones"), "worker-1")));
	json_decref(st);

	shutdown(c.lfd, SHUT_RDWR);
	close(c.lfd);
	pthread_join(th, NULL);
	sup_stop_all(&s, 2000);
	roles_free(&r);
	sup_free(&s);
	rmtree(root);
}

TEST_HARNESS_MAIN
