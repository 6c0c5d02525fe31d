/* tls_test.c: unit tests of lib/tls.c: CA, CSR signing with the signer's
 * identity, subjectAltName (parsed back by mbedTLS and, when installed,
 * checked by `openssl x509`/`openssl verify`), pins, and real TLS
 * handshakes over socketpairs (pinned bootstrap, mutual TLS, refusals). */
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "tls.h"
#include "frame.h"

static struct tls_identity mkid(const char *name, const char *role, const char *uuid)
{
	struct tls_identity id = { 0 };
	strcpy(id.name, name);
	strcpy(id.role, role);
	strcpy(id.cluster, "test");
	strcpy(id.uuid, uuid);
	return id;
}

struct pki {
	char *ca, *cakey, *srv, *srvkey, *cli, *clikey;
};

static void pki_make(struct pki *p)
{
	char err[256];
	struct tls_identity sid = mkid("registry", "registry", "");
	struct tls_identity cid = mkid("worker-1", "worker", "11111111-2222-3333-4444-555555555555");
	char *csr;
	memset(p, 0, sizeof(*p));
	if (tls_ca_create("test", 30, &p->ca, &p->cakey, err, sizeof(err)) < 0)
		abort();
	if (tls_key_generate(&p->srvkey, err, sizeof(err)) < 0 ||
	    tls_csr_create(p->srvkey, &sid, &csr, err, sizeof(err)) < 0 ||
	    tls_csr_sign(p->ca, p->cakey, csr, &sid, 2, 30, &p->srv, err, sizeof(err)) < 0)
		abort();
	free(csr);
	if (tls_key_generate(&p->clikey, err, sizeof(err)) < 0 ||
	    tls_csr_create(p->clikey, &cid, &csr, err, sizeof(err)) < 0 ||
	    tls_csr_sign(p->ca, p->cakey, csr, &cid, 3, 30, &p->cli, err, sizeof(err)) < 0)
		abort();
	free(csr);
	/* Server sends its chain: leaf then CA (pinned clients need the CA). */
	char *chain = malloc(strlen(p->srv) + strlen(p->ca) + 1);
	strcpy(chain, p->srv);
	strcat(chain, p->ca);
	free(p->srv);
	p->srv = chain;
}

static void pki_free(struct pki *p)
{
	free(p->ca); free(p->cakey); free(p->srv); free(p->srvkey); free(p->cli); free(p->clikey);
}

TEST(ca_pin_format_and_check)
{
	char *ca, *key, pin[TLS_PIN_LEN], err[256];
	ASSERT_EQ(0, tls_ca_create("test", 30, &ca, &key, err, sizeof(err)));
	ASSERT_EQ(0, tls_pin(ca, pin, err, sizeof(err)));
	EXPECT_EQ(0, strncmp(pin, "sha256:", 7));
	EXPECT_EQ(TLS_PIN_LEN - 1, strlen(pin));
	EXPECT_EQ(0, tls_pin_check(ca, pin, err, sizeof(err)));
	for (char *c = pin + 7; *c; c++)
		if (*c >= 'a' && *c <= 'f')
			*c = (char)(*c - 'a' + 'A');
	EXPECT_EQ(0, tls_pin_check(ca, pin, err, sizeof(err)));   /* hex case-insensitive */
	pin[10] = pin[10] == '0' ? '1' : '0';
	EXPECT_EQ(-EPERM, tls_pin_check(ca, pin, err, sizeof(err)));
	EXPECT_EQ(-EINVAL, tls_pin_check(ca, "sha256:abc", err, sizeof(err)));
	EXPECT_EQ(-EINVAL, tls_pin_check(ca, "md5:00", err, sizeof(err)));
	EXPECT_EQ(-EINVAL, tls_ca_create("bad,name", 30, &ca, &key, err, sizeof(err)));
	free(ca);
	free(key);
}

TEST(sign_uses_signer_identity_not_csr_subject)
{
	char *ca, *cakey, *key, *csr, *crt, err[256];
	struct tls_identity asked = mkid("czar-0", "czar", "aaaa");
	struct tls_identity given = mkid("worker-7", "worker", "bbbb-cccc");
	struct tls_identity got;
	ASSERT_EQ(0, tls_ca_create("test", 30, &ca, &cakey, err, sizeof(err)));
	ASSERT_EQ(0, tls_key_generate(&key, err, sizeof(err)));
	ASSERT_EQ(0, tls_csr_create(key, &asked, &csr, err, sizeof(err)));
	ASSERT_EQ(0, tls_csr_sign(ca, cakey, csr, &given, 0x1234, 30, &crt, err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(0, tls_cert_identity(crt, &got, err, sizeof(err)));
	EXPECT_STREQ("worker-7", got.name);
	EXPECT_STREQ("worker", got.role);
	EXPECT_STREQ("test", got.cluster);
	EXPECT_STREQ("bbbb-cccc", got.uuid);
	EXPECT_EQ(0, strcmp(got.serial + strlen(got.serial) - 4, "1234"));
	free(crt);
	/* identity fields that could inject DN syntax are refused */
	struct tls_identity bad = mkid("worker-1,O=evil", "worker", "");
	EXPECT_EQ(-EINVAL, tls_csr_sign(ca, cakey, csr, &bad, 5, 30, &crt, err, sizeof(err)));
	EXPECT_EQ(-EINVAL, tls_csr_sign(ca, cakey, csr, &given, 0, 30, &crt, err, sizeof(err)));
	free(ca); free(cakey); free(key); free(csr);
}

/* A 253-byte name of 63-byte labels (the longest a dNSName may be). */
static void long_name(char out[TLS_SAN_NAME_MAX + 2], size_t len)
{
	for (size_t i = 0; i < len; i++)
		out[i] = (i % 64 == 63) ? '.' : (char)('a' + i % 26);
	out[len] = '\0';
}

static char *sign_with_san(const char *const *san, size_t n, int *rc, char *err, size_t errlen)
{
	char *ca, *cakey, *key, *csr, *crt = NULL;
	struct tls_identity id = mkid("worker-1", "worker", "");
	if (tls_ca_create("test", 30, &ca, &cakey, err, errlen) < 0 || tls_key_generate(&key, err, errlen) < 0 ||
	    tls_csr_create(key, &id, &csr, err, errlen) < 0)
		abort();
	*rc = tls_csr_sign_san(ca, cakey, csr, &id, san, n, 9, 30, &crt, err, errlen);
	free(ca); free(cakey); free(key); free(csr);
	return crt;
}

/* `cmd` run by the shell with file's path as $1: its exit status, and the
 * first line containing `want` (if given) copied into line. */
static int run_on(const char *cmd, const char *text, const char *want, char *line, size_t linelen)
{
	char path[] = "/tmp/tls_test_san.XXXXXX", sh[1024];
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
	snprintf(sh, sizeof(sh), "set -- %s; %s 2>&1", path, cmd);
	FILE *p = popen(sh, "r");
	char buf[4096];
	if (line)
		line[0] = '\0';
	while (p && fgets(buf, sizeof(buf), p))
		if (want && line && !line[0] && strstr(buf, want))
			snprintf(line, linelen, "%.*s", (int)(linelen - 1), buf);
	int st = p ? pclose(p) : -1;
	unlink(path);
	return st;
}

TEST(san_ipv4_ipv6_long_names_parse_back)
{
	char err[256], name[TLS_SAN_NAME_MAX + 2], got[2048], want[2048], line[1024];
	int rc;
	long_name(name, TLS_SAN_NAME_MAX);
	const char *san[] = { "worker-1", "10.1.2.3", "fd00::5", name, "127.0.0.1" };
	char *crt = sign_with_san(san, 5, &rc, err, sizeof(err));
	ASSERT_EQ(0, rc) TH_LOG("%s", err);
	ASSERT_EQ(0, tls_cert_san(crt, got, sizeof(got), err, sizeof(err))) TH_LOG("%s", err);
	snprintf(want, sizeof(want), "DNS:worker-1,IP:10.1.2.3,IP:fd00::5,DNS:%s,IP:127.0.0.1", name);
	EXPECT_STREQ(want, got);
	EXPECT_EQ(-ENOSPC, tls_cert_san(crt, got, 20, err, sizeof(err)));
	struct tls_identity id;
	ASSERT_EQ(0, tls_cert_identity(crt, &id, err, sizeof(err)));
	EXPECT_STREQ("worker-1", id.name);      /* the subject is unchanged */
	if (system("command -v openssl >/dev/null 2>&1") != 0) {
		TH_LOG("openssl not installed: checked with mbedTLS only");
	} else {
		EXPECT_EQ(0, run_on("openssl x509 -noout -ext subjectAltName -in \"$1\"", crt, "DNS:worker-1",
				    line, sizeof(line)));
		EXPECT_NE(NULL, strstr(line, "IP Address:10.1.2.3")) TH_LOG("openssl: %s", line);
		EXPECT_NE(NULL, strstr(line, "IP Address:FD00:0:0:0:0:0:0:5")) TH_LOG("openssl: %s", line);
		EXPECT_NE(NULL, strstr(line, name)) TH_LOG("openssl: %s", line);
	}
	free(crt);
	/* no SAN asked: no extension, as before */
	crt = sign_with_san(NULL, 0, &rc, err, sizeof(err));
	ASSERT_EQ(0, rc);
	EXPECT_EQ(-ENOENT, tls_cert_san(crt, got, sizeof(got), err, sizeof(err)));
	free(crt);
}

TEST(san_refuses_names_that_do_not_fit)
{
	char err[256], name[TLS_SAN_NAME_MAX + 2], label[70];
	int rc;
	long_name(name, TLS_SAN_NAME_MAX + 1);
	memset(label, 'a', 64);
	label[64] = '\0';
	const char *cases[][2] = { { name, "253+1 bytes" }, { label, "64-byte label" } };
	for (size_t i = 0; i < 2; i++) {
		const char *san[] = { "worker-1", cases[i][0] };
		char *crt = sign_with_san(san, 2, &rc, err, sizeof(err));
		EXPECT_EQ(-ENAMETOOLONG, rc) TH_LOG("%s", cases[i][1]);
		EXPECT_EQ(NULL, crt);
	}
	const char *bad[] = { "", "a..b", ".a", "a.", "-a", "a-", "*.example", "a b", "a,b", "é", "10.0.0.1/8",
			      "fd00::5%eth0" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *san[] = { bad[i] };
		char *crt = sign_with_san(san, 1, &rc, err, sizeof(err));
		EXPECT_EQ(-EINVAL, rc) TH_LOG("'%s' accepted", bad[i]);
		EXPECT_EQ(NULL, crt);
	}
	const char *many[TLS_SAN_MAX + 1];
	for (size_t i = 0; i <= TLS_SAN_MAX; i++)
		many[i] = "worker-1";
	char *crt = sign_with_san(many, TLS_SAN_MAX + 1, &rc, err, sizeof(err));
	EXPECT_EQ(-EINVAL, rc);
	EXPECT_EQ(NULL, crt);
	/* TLS_SAN_MAX names of the longest size still fit in a certificate */
	long_name(name, TLS_SAN_NAME_MAX);
	for (size_t i = 0; i < TLS_SAN_MAX; i++)
		many[i] = name;
	crt = sign_with_san(many, TLS_SAN_MAX, &rc, err, sizeof(err));
	EXPECT_EQ(0, rc) TH_LOG("%s", err);
	free(crt);
}

/* openssl's own host name and IP checks accept the certificate for its
 * name and address and refuse another address or name. */
TEST(san_openssl_verify_hostname_and_ip)
{
	char err[256], *ca, *cakey, *key, *csr, *crt, cmd[512], path[] = "/tmp/tls_test_ca.XXXXXX";
	struct tls_identity id = mkid("worker-1", "worker", "");
	const char *san[] = { "worker-1", "10.1.2.3", "fd00::5" };

	if (system("command -v openssl >/dev/null 2>&1") != 0)
		SKIP(return, "openssl not installed");
	ASSERT_EQ(0, tls_ca_create("test", 30, &ca, &cakey, err, sizeof(err)));
	ASSERT_EQ(0, tls_key_generate(&key, err, sizeof(err)));
	ASSERT_EQ(0, tls_csr_create(key, &id, &csr, err, sizeof(err)));
	ASSERT_EQ(0, tls_csr_sign_san(ca, cakey, csr, &id, san, 3, 9, 30, &crt, err, sizeof(err))) TH_LOG("%s", err);
	int fd = mkstemp(path);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)strlen(ca), write(fd, ca, strlen(ca)));
	close(fd);
	const struct { const char *opt; int ok; } c[] = {
		{ "-verify_hostname worker-1", 1 }, { "-verify_ip 10.1.2.3", 1 }, { "-verify_ip fd00::5", 1 },
		{ "-verify_ip 10.1.2.4", 0 }, { "-verify_hostname worker-2", 0 }, { "-verify_ip 127.0.0.1", 0 },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		snprintf(cmd, sizeof(cmd), "openssl verify -CAfile %s %s \"$1\"", path, c[i].opt);
		int st = run_on(cmd, crt, NULL, NULL, 0);
		EXPECT_EQ(c[i].ok, st == 0) TH_LOG("%s: exit %d", c[i].opt, st);
	}
	unlink(path);
	free(ca); free(cakey); free(key); free(csr); free(crt);
}

TEST(tampered_or_garbage_csr_rejected)
{
	char *ca, *cakey, *key, *csr, *crt = NULL, err[256];
	struct tls_identity id = mkid("worker-1", "worker", "");
	ASSERT_EQ(0, tls_ca_create("test", 30, &ca, &cakey, err, sizeof(err)));
	ASSERT_EQ(0, tls_key_generate(&key, err, sizeof(err)));
	ASSERT_EQ(0, tls_csr_create(key, &id, &csr, err, sizeof(err)));
	EXPECT_EQ(-EBADMSG, tls_csr_sign(ca, cakey, "not a csr", &id, 5, 30, &crt, err, sizeof(err)));
	EXPECT_EQ(-EBADMSG, tls_csr_sign(ca, cakey, NULL, &id, 5, 30, &crt, err, sizeof(err)));
	/* Flip one base64 character inside the signed body: either the DER
	 * breaks or the self-signature no longer verifies; never signed. */
	char *body = strstr(csr, "\n") + 40;
	*body = *body == 'A' ? 'B' : 'A';
	int r = tls_csr_sign(ca, cakey, csr, &id, 5, 30, &crt, err, sizeof(err));
	EXPECT_TRUE(r == -EBADMSG || r == -EKEYREJECTED) TH_LOG("r=%d %s", r, err);
	EXPECT_EQ(NULL, crt);
	free(ca); free(cakey); free(key); free(csr);
}

TEST(secret_equal)
{
	EXPECT_TRUE(tls_secret_equal("abc", "abc"));
	EXPECT_FALSE(tls_secret_equal("abd", "abc"));
	EXPECT_FALSE(tls_secret_equal("ab", "abc"));
	EXPECT_FALSE(tls_secret_equal("abcd", "abc"));
	EXPECT_FALSE(tls_secret_equal("", "abc"));
	char a[65], b[65];
	ASSERT_EQ(0, tls_random_hex(32, a));
	ASSERT_EQ(0, tls_random_hex(32, b));
	EXPECT_EQ(64, strlen(a));
	EXPECT_NE(0, strcmp(a, b));
}

/* ---- handshakes over a socketpair ---- */

struct side {
	struct tls_config *cfg;
	int fd;
	const char *expect;
	int rc;
	char err[256];
	struct tls_identity peer;
	char msg[64];
};

static void *server_main(void *arg)
{
	struct side *s = arg;
	struct tls_conn *c;
	s->rc = tls_conn_new(s->cfg, s->fd, s->expect, &c, s->err, sizeof(s->err));
	if (s->rc == 0) {
		struct frame_hdr h;
		void *buf;
		tls_conn_peer(c, &s->peer);
		s->rc = frame_read(tls_io_read, c, 1024, 5000, &h, &buf);
		if (s->rc == 0) {
			snprintf(s->msg, sizeof(s->msg), "%s", (char *)buf);
			s->rc = frame_write(tls_io_write, c, h.type + 1, 0, "pong", 4, 1024, 5000);
			free(buf);
		}
		tls_conn_free(c);
	}
	close(s->fd);
	return NULL;
}

/* Runs server opts vs client opts; returns client rc, fills sides. */
static int run_pair(const struct tls_config_opts *so, const struct tls_config_opts *co,
		    const char *cli_expect, struct side *srv, struct side *cli, char **ret_ca)
{
	int sv[2];
	pthread_t th;
	char err[256];
	memset(srv, 0, sizeof(*srv));
	memset(cli, 0, sizeof(*cli));
	if (tls_config_new(so, &srv->cfg, err, sizeof(err)) < 0 ||
	    tls_config_new(co, &cli->cfg, err, sizeof(err)) < 0)
		abort();
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	srv->fd = sv[0];
	cli->fd = sv[1];
	pthread_create(&th, NULL, server_main, srv);
	struct tls_conn *c;
	cli->rc = tls_conn_new(cli->cfg, cli->fd, cli_expect, &c, cli->err, sizeof(cli->err));
	if (cli->rc == 0) {
		struct frame_hdr h;
		void *buf;
		tls_conn_peer(c, &cli->peer);
		if (ret_ca)
			tls_conn_pinned_ca(c, ret_ca);
		cli->rc = frame_write(tls_io_write, c, 7, 0, "ping", 4, 1024, 5000);
		if (cli->rc == 0 && (cli->rc = frame_read(tls_io_read, c, 1024, 5000, &h, &buf)) == 0) {
			snprintf(cli->msg, sizeof(cli->msg), "%s", (char *)buf);
			if (h.type != 8)
				cli->rc = -EBADMSG;
			free(buf);
		}
		tls_conn_free(c);
	}
	close(cli->fd);
	pthread_join(th, NULL);
	tls_config_free(srv->cfg);
	tls_config_free(cli->cfg);
	return cli->rc;
}

TEST(pinned_bootstrap_ok_and_wrong_pin_refused)
{
	struct pki p;
	struct side s, c;
	char pin[TLS_PIN_LEN], err[256], *got_ca = NULL;
	pki_make(&p);
	ASSERT_EQ(0, tls_pin(p.ca, pin, err, sizeof(err)));
	struct tls_config_opts so = { .server = true, .peer_auth = TLS_PEER_NONE,
				      .cert_pem = p.srv, .key_pem = p.srvkey };
	struct tls_config_opts co = { .peer_auth = TLS_PEER_PIN, .pin = pin };
	ASSERT_EQ(0, run_pair(&so, &co, "registry", &s, &c, &got_ca)) TH_LOG("%s", c.err);
	EXPECT_STREQ("pong", c.msg);
	EXPECT_STREQ("ping", s.msg);
	EXPECT_STREQ("registry", c.peer.name);
	ASSERT_NE(NULL, got_ca);
	EXPECT_EQ(0, tls_pin_check(got_ca, pin, err, sizeof(err)));
	free(got_ca);

	/* same pin, wrong expected name */
	EXPECT_EQ(-EPERM, run_pair(&so, &co, "someone-else", &s, &c, NULL));

	/* a different cluster's CA pin: refused before any data is sent */
	char *ca2, *key2, pin2[TLS_PIN_LEN];
	ASSERT_EQ(0, tls_ca_create("other", 30, &ca2, &key2, err, sizeof(err)));
	ASSERT_EQ(0, tls_pin(ca2, pin2, err, sizeof(err)));
	co.pin = pin2;
	EXPECT_EQ(-EPERM, run_pair(&so, &co, NULL, &s, &c, NULL));
	EXPECT_NE(NULL, strstr(c.err, "pinned"));
	EXPECT_EQ(0, s.msg[0]);
	free(ca2); free(key2);
	pki_free(&p);
}

TEST(mutual_tls_identity_and_refusals)
{
	struct pki p, q;
	struct side s, c;
	pki_make(&p);
	pki_make(&q);   /* another cluster */
	struct tls_config_opts so = { .server = true, .peer_auth = TLS_PEER_CA, .ca_pem = p.ca,
				      .cert_pem = p.srv, .key_pem = p.srvkey };
	struct tls_config_opts co = { .peer_auth = TLS_PEER_CA, .ca_pem = p.ca,
				      .cert_pem = p.cli, .key_pem = p.clikey };
	ASSERT_EQ(0, run_pair(&so, &co, "registry", &s, &c, NULL)) TH_LOG("%s", c.err);
	EXPECT_EQ(0, s.rc);
	EXPECT_STREQ("worker-1", s.peer.name);
	EXPECT_STREQ("worker", s.peer.role);
	EXPECT_STREQ("11111111-2222-3333-4444-555555555555", s.peer.uuid);
	EXPECT_NE(0, s.peer.serial[0]);

	/* client without a certificate: the server refuses */
	struct tls_config_opts nocert = { .peer_auth = TLS_PEER_CA, .ca_pem = p.ca };
	EXPECT_NE(0, run_pair(&so, &nocert, NULL, &s, &c, NULL));
	EXPECT_NE(0, s.rc);

	/* client certificate from another CA: refused by the server */
	struct tls_config_opts foreign = { .peer_auth = TLS_PEER_CA, .ca_pem = p.ca,
					   .cert_pem = q.cli, .key_pem = q.clikey };
	EXPECT_NE(0, run_pair(&so, &foreign, NULL, &s, &c, NULL));
	EXPECT_EQ(-EPERM, s.rc) TH_LOG("%s", s.err);

	/* client trusting another CA refuses our server */
	struct tls_config_opts wrongca = { .peer_auth = TLS_PEER_CA, .ca_pem = q.ca,
					   .cert_pem = q.cli, .key_pem = q.clikey };
	EXPECT_EQ(-EPERM, run_pair(&so, &wrongca, NULL, &s, &c, NULL));
	pki_free(&p);
	pki_free(&q);
}

TEST(optional_client_certificate)
{
	struct pki p, q;
	struct side s, c;
	pki_make(&p);
	pki_make(&q);
	struct tls_config_opts so = { .server = true, .peer_auth = TLS_PEER_CA_OPTIONAL, .ca_pem = p.ca,
				      .cert_pem = p.srv, .key_pem = p.srvkey };
	struct tls_config_opts nocert = { .peer_auth = TLS_PEER_CA, .ca_pem = p.ca };
	ASSERT_EQ(0, run_pair(&so, &nocert, NULL, &s, &c, NULL)) TH_LOG("%s", c.err);
	EXPECT_EQ(0, s.peer.name[0]);          /* no identity without a certificate */
	struct tls_config_opts good = { .peer_auth = TLS_PEER_CA, .ca_pem = p.ca,
					.cert_pem = p.cli, .key_pem = p.clikey };
	ASSERT_EQ(0, run_pair(&so, &good, NULL, &s, &c, NULL));
	EXPECT_STREQ("worker-1", s.peer.name);
	struct tls_config_opts foreign = { .peer_auth = TLS_PEER_CA, .ca_pem = p.ca,
					   .cert_pem = q.cli, .key_pem = q.clikey };
	EXPECT_NE(0, run_pair(&so, &foreign, NULL, &s, &c, NULL));
	EXPECT_EQ(-EPERM, s.rc);
	pki_free(&p);
	pki_free(&q);
}

TEST(handshake_timeout_on_silent_peer)
{
	struct pki p;
	char err[256];
	struct tls_config *cfg;
	struct tls_conn *c;
	int sv[2];
	pki_make(&p);
	struct tls_config_opts co = { .peer_auth = TLS_PEER_CA, .ca_pem = p.ca, .timeout_ms = 200 };
	ASSERT_EQ(0, tls_config_new(&co, &cfg, err, sizeof(err)));
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	EXPECT_EQ(-ETIMEDOUT, tls_conn_new(cfg, sv[0], NULL, &c, err, sizeof(err)));
	close(sv[0]);
	close(sv[1]);
	tls_config_free(cfg);
	/* peer that speaks plain text instead of TLS */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	struct tls_config_opts so = { .server = true, .peer_auth = TLS_PEER_NONE,
				      .cert_pem = p.srv, .key_pem = p.srvkey, .timeout_ms = 500 };
	ASSERT_EQ(0, tls_config_new(&so, &cfg, err, sizeof(err)));
	ASSERT_EQ(12, write(sv[1], "GET / HTTP/1", 12));
	EXPECT_EQ(-EPROTO, tls_conn_new(cfg, sv[0], NULL, &c, err, sizeof(err)));
	close(sv[0]);
	close(sv[1]);
	tls_config_free(cfg);
	pki_free(&p);
}

TEST(file_write_atomic_mode)
{
	char dir[] = "/tmp/tls_test.XXXXXX", path[256], *text;
	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	ASSERT_EQ(0, tls_file_write(path, "one\n", 0600));
	ASSERT_EQ(0, tls_file_write(path, "two\n", 0600));
	ASSERT_EQ(0, tls_file_read(path, &text));
	EXPECT_STREQ("two\n", text);
	free(text);
	struct stat st;
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_EQ(0600, st.st_mode & 0777);
	EXPECT_EQ(-ENOENT, tls_file_read("/nonexistent/x", &text));
	unlink(path);
	rmdir(dir);
}

TEST_HARNESS_MAIN
