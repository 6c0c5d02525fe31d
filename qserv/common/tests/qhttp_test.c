/* qhttp_test.c: the HTTP layer of the ingest services, server (qhttp over
 * libmicrohttpd) and client (qhttpc over libcurl) against each other on
 * loopback: JSON requests and Qserv-style replies, errors carried back to
 * the caller, bodies spooled to a file, downloads; the route policy (admin
 * key in a header, in a JSON body, as its SHA-256; no key configured means
 * refused), refusals before any body byte is spooled, 413 from
 * Content-Length, HTTPS with client certificates of the cluster CA (role
 * czar allowed where the policy says, worker refused), plain HTTP to the
 * HTTPS port refused, idle connections closed while a slow handler is
 * not cut. */
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
#include "tls.h"

#include <curl/curl.h>

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

/* /open: anyone; /czar: key or czar certificate; the rest: the key. */
static enum qhttp_auth policy(void *ud, const char *method, const char *url)
{
	if (!strcmp(url, "/open"))
		return QHTTP_OPEN;
	return !strcmp(url, "/czar") ? QHTTP_KEY_OR_CZAR : QHTTP_KEY;
}

static void handle(void *ud, struct qhttp_req *r)
{
	struct app *a = ud;
	char err[256];
	if (!strcmp(r->url, "/open") || !strcmp(r->url, "/czar")) {
		qhttp_reply_ok(r, json_pack("{s:s}", "role", r->peer_role));
	} else if (!strcmp(r->url, "/slow")) {
		sleep(3);
		qhttp_reply_ok(r, NULL);
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
	struct qhttp_conf c = { .bind = "127.0.0.1", .port = port, .handler = handle, .spool = spool,
				.policy = policy, .app = &self->app, .admin_key = KEY, .timeout_s = 1 };
	self->s = qhttp_start(&c, err, sizeof err);
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
	EXPECT_EQ(-EAGAIN, qhttpc_json("GET", url, NULL, NULL, err, sizeof err));   /* a 5xx */
	EXPECT_NE(NULL, strstr(err, "no reply for GET /nothing"));
}

TEST_F(srv, unreachable_server_is_an_error)
{
	char url[128], err[256];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/echo", free_port());
	EXPECT_EQ(-ECONNREFUSED, qhttpc_json("GET", url, NULL, NULL, err, sizeof err));
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
	EXPECT_NE(NULL, strstr(err, "wrong admin key"));
	qhttpc_set_auth_key(NULL);
	EXPECT_EQ(-EIO, qhttpc_json("GET", url, NULL, NULL, err, sizeof err));
	/* the key in the JSON body, as Qserv's loaders send it */
	json_t *b = json_pack("{s:s}", "auth_key", KEY);
	EXPECT_EQ(0, qhttpc_json("POST", url, b, NULL, err, sizeof err)) TH_LOG("%s", err);
	json_decref(b);
	b = json_pack("{s:s}", "admin_auth_key", KEY);
	EXPECT_EQ(0, qhttpc_json("POST", url, b, NULL, err, sizeof err)) TH_LOG("%s", err);
	json_decref(b);
	b = json_pack("{s:s}", "auth_key", "wrong");
	EXPECT_EQ(-EIO, qhttpc_json("POST", url, b, NULL, err, sizeof err));
	json_decref(b);
	snprintf(url, sizeof url, "%s/echo?auth_key=%s", self->base, KEY);
	EXPECT_EQ(0, qhttpc_json("GET", url, NULL, NULL, err, sizeof err)) TH_LOG("%s", err);
	snprintf(url, sizeof url, "%s/open", self->base);
	EXPECT_EQ(0, qhttpc_json("GET", url, NULL, NULL, err, sizeof err)) TH_LOG("%s", err);
	qhttpc_set_auth_key(KEY);
}

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
	char *out = ud;
	size_t have = strlen(out), k = size * n;
	if (k > 255 - have)
		k = 255 - have;
	memcpy(out + have, p, k);
	out[have + k] = '\0';
	return size * n;
}

/* curl's status for method url with extra header hdr (may be NULL) and a
 * body of n bytes; the reply body into out. */
static long raw(const char *method, const char *url, const char *hdr, size_t n, char out[256])
{
	CURL *h = curl_easy_init();
	/* Expect: 100-continue, so a server that refuses on the headers is
	 * heard before the body is sent (else a refusal can race the upload
	 * and reach curl as a reset) */
	struct curl_slist *hl = curl_slist_append(NULL, "Expect: 100-continue");
	char *body = calloc(1, n + 1);
	long code = 0;
	memset(body, 'x', n);
	out[0] = '\0';
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	if (hdr)
		hl = curl_slist_append(hl, hdr);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_EXPECT_100_TIMEOUT_MS, 10000L);
	curl_easy_perform(h);      /* a reply read before a send error still counts */
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(hl);
	curl_easy_cleanup(h);
	free(body);
	return code;
}

TEST_F(srv, refused_before_the_body_is_spooled)
{
	char url[128], out[256], path[160];
	snprintf(url, sizeof url, "%s/upload", self->base);
	snprintf(path, sizeof path, "%s/body", self->app.spool_dir);
	/* a large body without a key: 401, the spool file never opened (a
	 * file already there is neither truncated nor removed) */
	char keep[8] = "";
	FILE *f = fopen(path, "w");
	ASSERT_NE(NULL, f);
	fputs("keep", f);
	fclose(f);
	EXPECT_EQ(401, raw("POST", url, NULL, 1 << 20, out));
	EXPECT_NE(NULL, strstr(out, "missing admin key"));
	EXPECT_EQ(401, raw("POST", url, "Authorization: Bearer nope", 100, out));
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	EXPECT_NE(NULL, fgets(keep, sizeof keep, f));
	fclose(f);
	EXPECT_STREQ("keep", keep);
	EXPECT_EQ(200, raw("POST", url, "Authorization: Bearer k3y", 100, out));
	EXPECT_EQ(100, self->app.spooled);
	/* an in-memory body past the cap: 413 from Content-Length alone */
	snprintf(url, sizeof url, "%s/echo", self->base);
	EXPECT_EQ(413, raw("POST", url, "Authorization: Bearer k3y", QHTTP_MAX_MEM_BODY + 1, out));
	/* without a header key, a JSON body over QHTTP_AUTH_BODY_MAX is not read */
	EXPECT_EQ(401, raw("POST", url, NULL, QHTTP_AUTH_BODY_MAX + 1, out));
}

TEST_F(srv, idle_connections_closed_slow_handler_not_cut)
{
	char url[128], err[256];
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int port = atoi(strrchr(self->base, ':') + 1);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_port = htons((uint16_t)port);
	ASSERT_EQ(0, connect(fd, (struct sockaddr *)&a, sizeof a));
	struct timeval tv = { 10, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	char c;
	/* the server closes the idle connection (timeout 1 s) well before 10 s */
	EXPECT_EQ(0, read(fd, &c, 1));
	close(fd);
	/* a handler longer than the idle timeout still answers */
	snprintf(url, sizeof url, "%s/slow", self->base);
	EXPECT_EQ(0, qhttpc_json("GET", url, NULL, NULL, err, sizeof err)) TH_LOG("%s", err);
}

TEST(no_key_configured_refuses)
{
	char err[256], url[128], out[256];
	int port = free_port();
	struct app app = { .key = NULL };
	struct qhttp_conf c = { .bind = "127.0.0.1", .port = port, .handler = handle, .policy = policy,
				.app = &app };
	struct qhttp_server *s = qhttp_start(&c, err, sizeof err);
	ASSERT_NE(NULL, s) TH_LOG("%s", err);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/echo", port);
	EXPECT_EQ(403, raw("POST", url, NULL, 2, out));
	EXPECT_NE(NULL, strstr(out, "no admin key configured"));
	EXPECT_EQ(403, raw("POST", url, "Authorization: Bearer ", 2, out));
	snprintf(url, sizeof url, "http://127.0.0.1:%d/open", port);
	EXPECT_EQ(200, raw("GET", url, NULL, 0, out));
	qhttp_stop(s);
}

TEST(key_as_sha256)
{
	char err[256], url[128], out[256], hex[65];
	int port = free_port();
	struct app app = { .key = NULL };
	qhttp_sha256_hex("abc", hex);
	EXPECT_STREQ("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", hex);
	qhttp_sha256_hex(KEY, hex);
	struct qhttp_conf c = { .bind = "127.0.0.1", .port = port, .handler = handle, .policy = policy,
				.app = &app, .admin_key_sha256 = hex };
	struct qhttp_server *s = qhttp_start(&c, err, sizeof err);
	ASSERT_NE(NULL, s) TH_LOG("%s", err);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/czar", port);
	EXPECT_EQ(200, raw("POST", url, "Authorization: Bearer k3y", 2, out)) TH_LOG("%s", out);
	EXPECT_EQ(401, raw("POST", url, "Authorization: Bearer k3z", 2, out));
	/* the digest itself is not the key */
	char h[128];
	snprintf(h, sizeof h, "Authorization: Bearer %s", hex);
	EXPECT_EQ(401, raw("POST", url, h, 2, out));
	qhttp_stop(s);
}

TEST(key_sha256_file_read_once_it_is_there)
{
	char err[256], url[128], out[256], hex[65], path[] = "/tmp/qhttp_test_sha.XXXXXX";
	int fd = mkstemp(path);
	int port = free_port();
	struct app app = { .key = NULL };
	ASSERT_LE(0, fd);
	close(fd);
	unlink(path);
	struct qhttp_conf c = { .bind = "127.0.0.1", .port = port, .handler = handle, .policy = policy,
				.app = &app, .admin_key_sha256_file = path };
	struct qhttp_server *s = qhttp_start(&c, err, sizeof err);
	ASSERT_NE(NULL, s) TH_LOG("%s", err);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/czar", port);
	EXPECT_EQ(403, raw("POST", url, "Authorization: Bearer k3y", 2, out));
	EXPECT_NE(NULL, strstr(out, "no admin key configured"));
	qhttp_sha256_hex(KEY, hex);
	FILE *f = fopen(path, "w");
	ASSERT_NE(NULL, f);
	fprintf(f, "%s\n", hex);
	fclose(f);
	EXPECT_EQ(200, raw("POST", url, "Authorization: Bearer k3y", 2, out)) TH_LOG("%s", out);
	EXPECT_EQ(401, raw("POST", url, "Authorization: Bearer k3z", 2, out));
	qhttp_stop(s);
	unlink(path);
}

struct cert { char *key, *crt; };

static void issue(const char *ca, const char *cakey, const char *name, const char *role, uint64_t serial,
		  struct cert *ret)
{
	struct tls_identity id = { 0 };
	char err[256], *csr = NULL;
	snprintf(id.name, sizeof(id.name), "%s", name);
	snprintf(id.role, sizeof(id.role), "%s", role);
	snprintf(id.cluster, sizeof(id.cluster), "test");
	if (tls_key_generate(&ret->key, err, sizeof(err)) < 0 ||
	    tls_csr_create(ret->key, &id, &csr, err, sizeof(err)) < 0 ||
	    tls_csr_sign(ca, cakey, csr, &id, serial, 30, &ret->crt, err, sizeof(err)) < 0) {
		fprintf(stderr, "pki: %s\n", err);
		abort();
	}
	free(csr);
}

TEST(https_roles_from_certificates)
{
	char err[256], url[128], out[256], *ca, *cakey, *oca, *ocakey;
	struct cert srv, czar, worker, stranger;
	int port = free_port();
	struct app app = { .key = NULL };
	ASSERT_EQ(0, tls_ca_create("test", 30, &ca, &cakey, err, sizeof err));
	ASSERT_EQ(0, tls_ca_create("other", 30, &oca, &ocakey, err, sizeof err));
	issue(ca, cakey, "worker-0", "worker", 2, &srv);
	issue(ca, cakey, "czar-0", "czar", 3, &czar);
	issue(ca, cakey, "worker-1", "worker", 4, &worker);
	issue(oca, ocakey, "czar-0", "czar", 5, &stranger);
	struct qhttp_conf c = { .bind = "127.0.0.1", .port = port, .handler = handle, .policy = policy,
				.app = &app, .admin_key = KEY, .cert_pem = srv.crt, .key_pem = srv.key,
				.ca_pem = ca };
	struct qhttp_server *s = qhttp_start(&c, err, sizeof err);
	ASSERT_NE(NULL, s) TH_LOG("%s", err);
	ASSERT_EQ(0, qhttpc_init());
	/* the czar's certificate: /czar yes, the key-only /echo no (403) */
	ASSERT_EQ(0, qhttpc_set_tls(ca, czar.crt, czar.key));
	qhttpc_set_auth_key(NULL);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/czar", port);    /* upgraded to https */
	json_t *rep = NULL;
	EXPECT_EQ(0, qhttpc_json("POST", url, NULL, &rep, err, sizeof err)) TH_LOG("%s", err);
	EXPECT_STREQ("czar", json_string_value(json_object_get(rep, "role")));
	json_decref(rep);
	snprintf(url, sizeof url, "https://127.0.0.1:%d/echo", port);
	EXPECT_EQ(-EIO, qhttpc_json("POST", url, NULL, NULL, err, sizeof err));
	EXPECT_NE(NULL, strstr(err, "czar certificate may not call")) TH_LOG("%s", err);
	/* a worker's certificate: refused on /czar (403) */
	ASSERT_EQ(0, qhttpc_set_tls(ca, worker.crt, worker.key));
	snprintf(url, sizeof url, "https://127.0.0.1:%d/czar", port);
	EXPECT_EQ(-EIO, qhttpc_json("POST", url, NULL, NULL, err, sizeof err));
	EXPECT_NE(NULL, strstr(err, "worker certificate may not call")) TH_LOG("%s", err);
	/* no certificate, the key: fine */
	ASSERT_EQ(0, qhttpc_set_tls(ca, NULL, NULL));
	qhttpc_set_auth_key(KEY);
	EXPECT_EQ(0, qhttpc_json("POST", url, NULL, NULL, err, sizeof err)) TH_LOG("%s", err);
	/* a certificate of another CA: refused, even with the key */
	ASSERT_EQ(0, qhttpc_set_tls(ca, stranger.crt, stranger.key));
	EXPECT_EQ(-EIO, qhttpc_json("POST", url, NULL, NULL, err, sizeof err));
	EXPECT_NE(NULL, strstr(err, "not one of this cluster's")) TH_LOG("%s", err);
	/* a server not of the pinned CA: refused by the client */
	ASSERT_EQ(0, qhttpc_set_tls(oca, NULL, NULL));
	EXPECT_EQ(-EIO, qhttpc_json("GET", url, NULL, NULL, err, sizeof err));
	/* plain HTTP to the HTTPS port gets no HTTP answer */
	qhttpc_set_tls(NULL, NULL, NULL);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/open", port);
	EXPECT_EQ(0, raw("GET", url, NULL, 0, out));
	qhttp_stop(s);
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
