/* qhttp_test.c: the HTTP layer of the ingest services, server (qhttp over
 * libmicrohttpd) and client (qhttpc over libcurl) against each other on
 * loopback: JSON requests and Qserv-style replies, errors carried back to
 * the caller, bodies spooled to a file, the shared auth key, downloads. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "../qhttp.h"
#include "../qhttpc.h"

static const char *KEY = "k3y";

static int free_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t n = sizeof a;
	bind(s, (struct sockaddr *)&a, sizeof a);
	getsockname(s, (struct sockaddr *)&a, &n);
	close(s);
	return ntohs(a.sin_port);
}

struct app {
	char spool_dir[64];
	long long spooled;
	const char *key;
};

static int spool(void *ud, const char *method, const char *url, char *ret_path, size_t len)
{
	struct app *a = ud;
	if (strcmp(url, "/upload"))
		return 0;
	snprintf(ret_path, len, "%s/body", a->spool_dir);
	return 1;
}

static void handle(void *ud, struct qhttp_req *r)
{
	struct app *a = ud;
	char err[256];
	if (!qhttp_auth_ok(r, a->key)) {
		qhttp_reply_error(r, 401, "missing or wrong auth_key");
	} else if (!strcmp(r->url, "/echo")) {
		json_t *b = qhttp_body_json(r, err, sizeof err);
		if (!b)
			qhttp_reply_error(r, 400, "%s", err);
		else
			qhttp_reply_ok(r, json_pack("{s:o, s:s}", "echo", b, "arg",
						    qhttp_arg(r, "x") ? qhttp_arg(r, "x") : ""));
	} else if (!strcmp(r->url, "/upload")) {
		struct stat st;
		stat(r->spool_path, &st);
		a->spooled = (long long)st.st_size;
		qhttp_reply_ok(r, json_pack("{s:I}", "bytes", (json_int_t)st.st_size));
	} else if (!strcmp(r->url, "/file")) {
		char path[sizeof a->spool_dir + sizeof "/data"];
		snprintf(path, sizeof path, "%s/data", a->spool_dir);
		int out = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		if (out < 0 || write(out, "a\tb\n", 4) != 4) {
			qhttp_reply_error(r, 500, "cannot write %s", path);
			return;
		}
		lseek(out, 0, SEEK_SET);
		qhttp_reply_fd(r, 200, out, 4, "text/plain");
	} else {
		/* no reply: the layer must answer 500 */
	}
}

FIXTURE(srv) {
	struct app app;
	struct qhttp_server *s;
	char base[64];
};

FIXTURE_SETUP(srv)
{
	char err[256];
	strcpy(self->app.spool_dir, "/tmp/qhttp_test.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->app.spool_dir));
	self->app.key = KEY;
	int port = free_port();
	self->s = qhttp_start("127.0.0.1", port, handle, spool, &self->app, err, sizeof err);
	ASSERT_NE(NULL, self->s) TH_LOG("%s", err);
	snprintf(self->base, sizeof self->base, "http://127.0.0.1:%d", port);
	ASSERT_EQ(0, qhttpc_init());
	qhttpc_set_auth_key(KEY);
}

FIXTURE_TEARDOWN(srv)
{
	char cmd[128];
	qhttp_stop(self->s);
	snprintf(cmd, sizeof cmd, "rm -rf %s", self->app.spool_dir);
	if (system(cmd) != 0)
		TH_LOG("cannot remove %s", self->app.spool_dir);
}

TEST_F(srv, json_round_trip)
{
	char url[128], err[256];
	json_t *rep = NULL, *body = json_pack("{s:i, s:s}", "n", 42, "s", "x\ty");
	snprintf(url, sizeof url, "%s/echo?x=7", self->base);
	ASSERT_EQ(0, qhttpc_json("POST", url, body, &rep, err, sizeof err)) TH_LOG("%s", err);
	EXPECT_EQ(42, json_integer_value(json_object_get(json_object_get(rep, "echo"), "n")));
	EXPECT_STREQ("x\ty", json_string_value(json_object_get(json_object_get(rep, "echo"), "s")));
	EXPECT_STREQ("7", json_string_value(json_object_get(rep, "arg")));
	json_decref(rep);
	json_decref(body);
}

TEST_F(srv, server_error_reaches_the_caller)
{
	char url[128], err[256];
	snprintf(url, sizeof url, "%s/echo", self->base);
	json_t *not_object = json_pack("[i]", 1);
	EXPECT_EQ(-EIO, qhttpc_json("POST", url, not_object, NULL, err, sizeof err));
	EXPECT_NE(NULL, strstr(err, "not a JSON object"));
	json_decref(not_object);
	snprintf(url, sizeof url, "%s/nothing", self->base);
	EXPECT_EQ(-EIO, qhttpc_json("GET", url, NULL, NULL, err, sizeof err));
	EXPECT_NE(NULL, strstr(err, "no reply for GET /nothing"));
}

TEST_F(srv, unreachable_server_is_an_error)
{
	char url[128], err[256];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/echo", free_port());
	EXPECT_EQ(-EIO, qhttpc_json("GET", url, NULL, NULL, err, sizeof err));
	EXPECT_NE(NULL, strstr(err, "127.0.0.1"));
}

TEST_F(srv, body_spooled_to_a_file)
{
	char url[128], err[256], path[128];
	snprintf(path, sizeof path, "%s/src", self->app.spool_dir);
	FILE *f = fopen(path, "w");
	ASSERT_NE(NULL, f);
	for (int i = 0; i < 100000; i++)
		fprintf(f, "%d\trow\n", i);
	fclose(f);
	struct stat st;
	stat(path, &st);
	json_t *rep = NULL;
	snprintf(url, sizeof url, "%s/upload", self->base);
	ASSERT_EQ(0, qhttpc_post_file(url, path, &rep, err, sizeof err)) TH_LOG("%s", err);
	EXPECT_EQ(st.st_size, json_integer_value(json_object_get(rep, "bytes")));
	EXPECT_EQ(st.st_size, self->app.spooled);
	json_decref(rep);
}

TEST_F(srv, auth_key_required)
{
	char url[128], err[256];
	snprintf(url, sizeof url, "%s/echo", self->base);
	qhttpc_set_auth_key("wrong");
	EXPECT_EQ(-EIO, qhttpc_json("GET", url, NULL, NULL, err, sizeof err));
	EXPECT_NE(NULL, strstr(err, "auth_key"));
	qhttpc_set_auth_key(NULL);
	EXPECT_EQ(-EIO, qhttpc_json("GET", url, NULL, NULL, err, sizeof err));
	/* the key in the JSON body, as Qserv's loaders send it */
	json_t *b = json_pack("{s:s}", "auth_key", KEY);
	EXPECT_EQ(0, qhttpc_json("POST", url, b, NULL, err, sizeof err)) TH_LOG("%s", err);
	json_decref(b);
	snprintf(url, sizeof url, "%s/echo?auth_key=%s", self->base, KEY);
	EXPECT_EQ(0, qhttpc_json("GET", url, NULL, NULL, err, sizeof err)) TH_LOG("%s", err);
}

TEST_F(srv, download_to_fd)
{
	char url[128], err[256], path[128], buf[16] = "";
	snprintf(path, sizeof path, "%s/dl", self->app.spool_dir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	unsigned long long n = 0;
	snprintf(url, sizeof url, "%s/file", self->base);
	ASSERT_EQ(0, qhttpc_download_ours(url, fd, &n, err, sizeof err)) TH_LOG("%s", err);
	EXPECT_EQ(4, n);
	EXPECT_EQ(4, pread(fd, buf, sizeof buf, 0));
	EXPECT_STREQ("a\tb\n", buf);
	/* a data source never gets the key: this server then refuses */
	EXPECT_NE(0, qhttpc_download(url, fd, &n, err, sizeof err));
	close(fd);
}

TEST(route_patterns)
{
	const char *rest = "x";
	ASSERT_TRUE(qhttp_path_match("/status", "/status", &rest));
	ASSERT_EQ(NULL, rest);
	ASSERT_FALSE(qhttp_path_match("/status", "/status/", &rest));
	ASSERT_FALSE(qhttp_path_match("/ingest/trans", "/ingest/transX", &rest));
	ASSERT_TRUE(qhttp_path_match("/ingest/trans/*", "/ingest/trans/42", &rest));
	ASSERT_STREQ("42", rest);
	ASSERT_TRUE(qhttp_path_match("/ingest/trans/*", "/ingest/trans/", &rest));
	ASSERT_STREQ("", rest);
	ASSERT_FALSE(qhttp_path_match("/ingest/trans/*", "/ingest/trans", &rest));
	ASSERT_TRUE(qhttp_path_match("table/*", "table/db/t", &rest));
	ASSERT_STREQ("db/t", rest);
}

TEST_HARNESS_MAIN
