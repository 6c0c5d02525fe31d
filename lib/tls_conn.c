/* tls_conn.c: the connection half of tls.h: TLS 1.2 configurations
 * (server, client, mutual TLS, pinned bootstrap) and connections over a
 * caller's socket.
 *
 * Choices: TLS 1.2 with ECDHE-ECDSA AEAD suites only (mbedTLS 2.28's TLS 1.3
 * is experimental).  The socket BIO never blocks (MSG_DONTWAIT) and every
 * wait goes through poll() with the caller's deadline, so a silent peer can
 * hold a thread only as long as the caller allowed.
 *
 * Pinned bootstrap (TLS_PEER_PIN): the client accepts the handshake with
 * verification optional, then, before sending a byte of application data,
 * looks for a certificate in the server's chain whose SHA-256 equals the pin,
 * and verifies the leaf against exactly that CA.  The CA found is kept on the
 * connection so the caller can store it.
 *
 * Invariants: a struct tls_config is read-only once built; a tls_conn never
 * owns its fd. */
#include "tls.h"
#include "tls_internal.h"
#include "errbuf.h"
#include "monotime.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pem.h>
#include <mbedtls/ssl.h>

struct tls_config {
	mbedtls_ssl_config conf;
	mbedtls_x509_crt ca;
	mbedtls_x509_crt own;
	mbedtls_pk_context key;
	enum tls_peer_auth auth;
	bool server;
	char pin[TLS_PIN_LEN];
	int timeout_ms;
};

struct tls_conn {
	mbedtls_ssl_context ssl;
	struct tls_config *cfg;
	int fd;
	bool has_pinned;
	mbedtls_x509_crt pinned_ca;
};

/* ---- configurations ------------------------------------------------------ */

static const int g_suites[] = {
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	0
};

void tls_config_free(struct tls_config *cfg)
{
	if (!cfg)
		return;
	mbedtls_ssl_config_free(&cfg->conf);
	mbedtls_x509_crt_free(&cfg->ca);
	mbedtls_x509_crt_free(&cfg->own);
	mbedtls_pk_free(&cfg->key);
	free(cfg);
}

int tls_config_new(const struct tls_config_opts *o, struct tls_config **ret_cfg,
		   char *err, size_t errlen)
{
	char e[128];
	int r;
	if (tls__rng() < 0) {
		errbuf_printf(err, errlen, "random generator failed to seed");
		return -EIO;
	}
	if ((o->server && (!o->cert_pem || o->peer_auth == TLS_PEER_PIN)) ||
	    (!o->server && o->peer_auth == TLS_PEER_NONE) ||
	    (!o->server && o->peer_auth == TLS_PEER_CA_OPTIONAL) ||
	    ((o->peer_auth == TLS_PEER_CA || o->peer_auth == TLS_PEER_CA_OPTIONAL) && !o->ca_pem) || (!o->cert_pem != !o->key_pem)) {
		errbuf_printf(err, errlen, "inconsistent TLS options");
		return -EINVAL;
	}
	struct tls_config *cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return -ENOMEM;
	mbedtls_ssl_config_init(&cfg->conf);
	mbedtls_x509_crt_init(&cfg->ca);
	mbedtls_x509_crt_init(&cfg->own);
	mbedtls_pk_init(&cfg->key);
	cfg->auth = o->peer_auth;
	cfg->server = o->server;
	cfg->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 10000;
	if (o->peer_auth == TLS_PEER_PIN && tls__pin_normalize(o->pin, cfg->pin) < 0) {
		errbuf_printf(err, errlen, "malformed CA pin (want sha256:<64 hex digits>)");
		r = -EINVAL;
		goto fail;
	}
	if ((o->peer_auth == TLS_PEER_CA || o->peer_auth == TLS_PEER_CA_OPTIONAL) &&
	    (r = tls__parse_crt(&cfg->ca, o->ca_pem, "CA", err, errlen)) < 0)
		goto fail;
	if (o->cert_pem && ((r = tls__parse_crt(&cfg->own, o->cert_pem, "own", err, errlen)) < 0 ||
			    (r = tls__parse_key(&cfg->key, o->key_pem, "own", err, errlen)) < 0))
		goto fail;
	r = mbedtls_ssl_config_defaults(&cfg->conf,
					o->server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
					MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
	if (r != 0)
		goto mbedfail;
	mbedtls_ssl_conf_rng(&cfg->conf, mbedtls_ctr_drbg_random, &tls__drbg);
	mbedtls_ssl_conf_min_version(&cfg->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_ciphersuites(&cfg->conf, g_suites);
	switch (o->peer_auth) {
	case TLS_PEER_NONE:
		mbedtls_ssl_conf_authmode(&cfg->conf, MBEDTLS_SSL_VERIFY_NONE);
		break;
	case TLS_PEER_CA:
		mbedtls_ssl_conf_authmode(&cfg->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
		mbedtls_ssl_conf_ca_chain(&cfg->conf, &cfg->ca, NULL);
		break;
	case TLS_PEER_CA_OPTIONAL:
		mbedtls_ssl_conf_authmode(&cfg->conf, MBEDTLS_SSL_VERIFY_OPTIONAL);
		mbedtls_ssl_conf_ca_chain(&cfg->conf, &cfg->ca, NULL);
		break;
	case TLS_PEER_PIN:
		mbedtls_ssl_conf_authmode(&cfg->conf, MBEDTLS_SSL_VERIFY_OPTIONAL);
		break;
	}
	if (o->cert_pem && (r = mbedtls_ssl_conf_own_cert(&cfg->conf, &cfg->own, &cfg->key)) != 0)
		goto mbedfail;
	*ret_cfg = cfg;
	return 0;
mbedfail:
	errbuf_printf(err, errlen, "TLS configuration failed: %s", tls__mbed_str(r, e, sizeof(e)));
	r = -EIO;
fail:
	tls_config_free(cfg);
	return r;
}

/* ---- connections --------------------------------------------------------- */

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct tls_conn *c = ctx;
	for (;;) {
		ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0)
			return (int)n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return MBEDTLS_ERR_SSL_WANT_WRITE;
		if (errno == EPIPE || errno == ECONNRESET)
			return MBEDTLS_ERR_NET_CONN_RESET;
		return MBEDTLS_ERR_NET_SEND_FAILED;
	}
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct tls_conn *c = ctx;
	for (;;) {
		ssize_t n = recv(c->fd, buf, len, MSG_DONTWAIT);
		if (n >= 0)
			return (int)n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return MBEDTLS_ERR_SSL_WANT_READ;
		if (errno == ECONNRESET || errno == EPIPE)
			return MBEDTLS_ERR_NET_CONN_RESET;
		return MBEDTLS_ERR_NET_RECV_FAILED;
	}
}

/* Wait for the fd as mbedTLS asked (r = WANT_READ/WANT_WRITE) until deadline
 * (<0: forever).  0 or -ETIMEDOUT. */
static int wait_io(int fd, int r, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = r == MBEDTLS_ERR_SSL_WANT_WRITE ? POLLOUT : POLLIN };
	for (;;) {
		int t = -1;
		if (deadline >= 0) {
			int64_t left = deadline - monotime_ms();
			if (left <= 0)
				return -ETIMEDOUT;
			t = left > INT_MAX ? INT_MAX : (int)left;
		}
		int n = poll(&p, 1, t);
		if (n > 0)
			return 0;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

static int map_err(int r)
{
	switch (r) {
	case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY:
	case MBEDTLS_ERR_SSL_CONN_EOF:
	case MBEDTLS_ERR_NET_CONN_RESET:
		return -ECONNRESET;
	case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED:
		return -EPERM;
	default:
		return -EPROTO;
	}
}

static int check_pinned(struct tls_conn *c, char *err, size_t errlen)
{
	const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&c->ssl);
	char got[TLS_PIN_LEN], info[256];
	const mbedtls_x509_crt *ca = NULL;
	uint32_t flags = 0;
	for (const mbedtls_x509_crt *p = peer; p && !ca; p = p->next) {
		tls__der_pin(p->raw.p, p->raw.len, got);
		if (tls_secret_equal(got, c->cfg->pin) && p->ca_istrue)
			ca = p;
	}
	if (!ca) {
		errbuf_printf(err, errlen, "server's CA does not match the pinned %s (wrong qserv.ca, or not our cluster)",
			      c->cfg->pin);
		return -EPERM;
	}
	if (mbedtls_x509_crt_parse_der(&c->pinned_ca, ca->raw.p, ca->raw.len) != 0)
		return -EPROTO;
	c->has_pinned = true;
	if (mbedtls_x509_crt_verify((mbedtls_x509_crt *)peer, &c->pinned_ca, NULL, NULL,
				    &flags, NULL, NULL) != 0) {
		mbedtls_x509_crt_verify_info(info, sizeof(info), "", flags);
		errbuf_printf(err, errlen, "server certificate not signed by the pinned CA: %s", info);
		return -EPERM;
	}
	return 0;
}

int tls_conn_new(struct tls_config *cfg, int fd, const char *expect_name,
		 struct tls_conn **ret_conn, char *err, size_t errlen)
{
	char e[128], info[256];
	int r;
	struct tls_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->cfg = cfg;
	c->fd = fd;
	mbedtls_ssl_init(&c->ssl);
	mbedtls_x509_crt_init(&c->pinned_ca);
	if ((r = mbedtls_ssl_setup(&c->ssl, &cfg->conf)) != 0) {
		errbuf_printf(err, errlen, "TLS setup failed: %s", tls__mbed_str(r, e, sizeof(e)));
		r = -ENOMEM;
		goto fail;
	}
	mbedtls_ssl_set_bio(&c->ssl, c, bio_send, bio_recv, NULL);
	int64_t deadline = monotime_ms() + cfg->timeout_ms;
	while ((r = mbedtls_ssl_handshake(&c->ssl)) != 0) {
		if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) {
			if ((r = wait_io(fd, r, deadline)) < 0) {
				errbuf_printf(err, errlen, "TLS handshake: %s", r == -ETIMEDOUT ? "timed out" : strerror(-r));
				goto fail;
			}
			continue;
		}
		if (r == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
			mbedtls_x509_crt_verify_info(info, sizeof(info), "",
						     mbedtls_ssl_get_verify_result(&c->ssl));
			errbuf_printf(err, errlen, "peer certificate rejected: %s", info);
		} else if (r == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) {
			errbuf_printf(err, errlen, "TLS handshake: the peer refused us (fatal alert; our certificate?)");
		} else {
			errbuf_printf(err, errlen, "TLS handshake: %s", tls__mbed_str(r, e, sizeof(e)));
		}
		r = map_err(r);
		goto fail;
	}
	if (cfg->auth == TLS_PEER_PIN && (r = check_pinned(c, err, errlen)) < 0)
		goto fail;
	if (cfg->auth == TLS_PEER_CA_OPTIONAL && mbedtls_ssl_get_peer_cert(&c->ssl) &&
	    mbedtls_ssl_get_verify_result(&c->ssl) != 0) {
		mbedtls_x509_crt_verify_info(info, sizeof(info), "",
					     mbedtls_ssl_get_verify_result(&c->ssl));
		errbuf_printf(err, errlen, "peer certificate rejected: %s", info);
		r = -EPERM;
		goto fail;
	}
	if (expect_name) {
		struct tls_identity id;
		if (tls_conn_peer(c, &id) < 0 || strcmp(id.name, expect_name) != 0) {
			errbuf_printf(err, errlen, "peer is '%s', expected '%s'",
				      mbedtls_ssl_get_peer_cert(&c->ssl) ? id.name : "(no certificate)", expect_name);
			r = -EPERM;
			goto fail;
		}
	}
	*ret_conn = c;
	return 0;
fail:
	tls_conn_free(c);
	return r;
}

void tls_conn_free(struct tls_conn *c)
{
	if (!c)
		return;
	mbedtls_ssl_close_notify(&c->ssl);   /* one try, never blocks */
	mbedtls_ssl_free(&c->ssl);
	mbedtls_x509_crt_free(&c->pinned_ca);
	free(c);
}

ssize_t tls_io_read(void *conn, void *buf, size_t len, int timeout_ms)
{
	struct tls_conn *c = conn;
	int64_t deadline = timeout_ms < 0 ? -1 : monotime_ms() + timeout_ms;
	for (;;) {
		int r = mbedtls_ssl_read(&c->ssl, buf, len);
		if (r > 0)
			return r;
		if (r == 0 || r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || r == MBEDTLS_ERR_SSL_CONN_EOF)
			return 0;
		if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) {
			int w = wait_io(c->fd, r, deadline);
			if (w < 0)
				return w;
			continue;
		}
		return map_err(r);
	}
}

ssize_t tls_io_write(void *conn, const void *buf, size_t len, int timeout_ms)
{
	struct tls_conn *c = conn;
	int64_t deadline = timeout_ms < 0 ? -1 : monotime_ms() + timeout_ms;
	size_t done = 0;
	while (done < len) {
		int r = mbedtls_ssl_write(&c->ssl, (const unsigned char *)buf + done, len - done);
		if (r > 0) {
			done += (size_t)r;
			continue;
		}
		if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) {
			int w = wait_io(c->fd, r, deadline);
			if (w < 0)
				return w;
			continue;
		}
		r = map_err(r);
		return r == -ECONNRESET ? -EPIPE : r;
	}
	return (ssize_t)len;
}

int tls_conn_peer(struct tls_conn *c, struct tls_identity *ret_id)
{
	const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&c->ssl);
	if (!peer)
		return -ENOENT;
	tls__crt_identity(peer, ret_id);
	return 0;
}

int tls_conn_pinned_ca(struct tls_conn *c, char **ret_ca_pem)
{
	unsigned char buf[PEM_MAX];
	size_t olen;
	if (!c->has_pinned)
		return -ENOENT;
	if (mbedtls_pem_write_buffer("-----BEGIN CERTIFICATE-----\n", "-----END CERTIFICATE-----\n",
				     c->pinned_ca.raw.p, c->pinned_ca.raw.len, buf, sizeof(buf), &olen) != 0)
		return -EIO;
	char *s = strdup((const char *)buf);
	if (!s)
		return -ENOMEM;
	*ret_ca_pem = s;
	return 0;
}

int tls_conn_fd(const struct tls_conn *c)
{
	return c->fd;
}
