/* httpd_test.c: lib/httpd.h over real sockets: plain HTTP with a bearer
 * key, HTTPS with the cluster's ECDSA certificates, client certificates of
 * the cluster CA identified, and certificates of another CA refused.  The
 * client is libcurl (what the daemons and qservctl use). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <kselftest_harness.h>

#include "httpd.h"
#include "tls.h"

struct cert { char *key, *crt; };
struct pki { char *ca, *cakey; struct cert server, worker; char *other_ca, *other_cakey; struct cert stranger; };

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

static void pki_make(struct pki *p)
{
	char err[256];

	if (tls_ca_create("test", 30, &p->ca, &p->cakey, err, sizeof(err)) < 0 ||
	    tls_ca_create("other", 30, &p->other_ca, &p->other_cakey, err, sizeof(err)) < 0)
		abort();
	issue(p->ca, p->cakey, "czar-0", "czar", 2, &p->server);
	issue(p->ca, p->cakey, "worker-1", "worker", 3, &p->worker);
	issue(p->other_ca, p->other_cakey, "worker-1", "worker", 4, &p->stranger);
}

/* Answers "<peer identity result> <name> <role> bearer=<0|1>". */
static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *data, size_t *size, void **con_cls)
{
	struct tls_identity id = { 0 };
	char text[256];
	struct MHD_Response *resp;
	enum MHD_Result r;
	int rc = httpd_peer_identity(c, &id);

	snprintf(text, sizeof(text), "%d %s %s bearer=%d", rc, rc == 0 ? id.name : "-", rc == 0 ? id.role : "-",
		 httpd_bearer_ok(c, "s3cret-key"));
	resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_COPY);
	r = MHD_queue_response(c, 200, resp);
	MHD_destroy_response(resp);
	return r;
}

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
	strncat(ud, p, 255 - strlen(ud) < size * n ? 255 - strlen(ud) : size * n);
	return size * n;
}

static struct curl_blob blob(const char *pem)
{
	return (struct curl_blob){ (void *)pem, strlen(pem), CURL_BLOB_COPY };
}

/* GET url; ca/cert may be NULL.  Returns curl's code, the body in out. */
static int get(const char *url, const char *ca, const struct cert *cert, const char *auth, char out[256])
{
	CURL *h = curl_easy_init();
	struct curl_slist *hdr = NULL;
	struct curl_blob b;
	int rc;

	out[0] = '\0';
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	if (ca) {
		b = blob(ca);
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &b);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);      /* the test certificate names no host */
	}
	if (cert) {
		struct curl_blob c = blob(cert->crt), k = blob(cert->key);
		curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &c);
		curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &k);
	}
	if (auth)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr = curl_slist_append(NULL, auth));
	rc = (int)curl_easy_perform(h);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	return rc;
}

FIXTURE(srv) { struct pki p; struct MHD_Daemon *plain, *tls; char plain_url[64], tls_url[64]; };

FIXTURE_SETUP(srv)
{
	struct httpd_opts o = { .bind = "127.0.0.1", .handler = answer, .connection_timeout_s = 10 };
	char err[256];

	pki_make(&self->p);
	ASSERT_EQ(0, httpd_start(&o, &self->plain, err, sizeof(err))) TH_LOG("%s", err);
	o.tls_cert_pem = self->p.server.crt;
	o.tls_key_pem = self->p.server.key;
	o.tls_client_ca_pem = self->p.ca;
	ASSERT_EQ(0, httpd_start(&o, &self->tls, err, sizeof(err))) TH_LOG("%s", err);
	snprintf(self->plain_url, sizeof(self->plain_url), "http://127.0.0.1:%u/",
		 MHD_get_daemon_info(self->plain, MHD_DAEMON_INFO_BIND_PORT)->port);
	snprintf(self->tls_url, sizeof(self->tls_url), "https://127.0.0.1:%u/",
		 MHD_get_daemon_info(self->tls, MHD_DAEMON_INFO_BIND_PORT)->port);
}

FIXTURE_TEARDOWN(srv)
{
	httpd_stop(self->plain);
	httpd_stop(self->tls);
}

TEST_F(srv, plain_http_checks_the_bearer_key)
{
	char out[256];

	ASSERT_EQ(0, get(self->plain_url, NULL, NULL, "Authorization: Bearer s3cret-key", out));
	EXPECT_STREQ("-2 - - bearer=1", out);                /* -ENOENT: no TLS, no peer */
	ASSERT_EQ(0, get(self->plain_url, NULL, NULL, "Authorization: Bearer s3cret-kez", out));
	EXPECT_STREQ("-2 - - bearer=0", out);
	ASSERT_EQ(0, get(self->plain_url, NULL, NULL, "Authorization: s3cret-key", out));
	EXPECT_STREQ("-2 - - bearer=0", out);
	ASSERT_EQ(0, get(self->plain_url, NULL, NULL, NULL, out));
	EXPECT_STREQ("-2 - - bearer=0", out);
}

TEST_F(srv, https_without_a_client_certificate)
{
	char out[256];

	ASSERT_EQ(0, get(self->tls_url, self->p.ca, NULL, "Authorization: Bearer s3cret-key", out));
	EXPECT_STREQ("-2 - - bearer=1", out);
	/* A client that trusts another CA refuses the server. */
	EXPECT_NE(0, get(self->tls_url, self->p.other_ca, NULL, NULL, out));
	/* Plain HTTP to the HTTPS port gets no answer. */
	char url[80];
	snprintf(url, sizeof(url), "http%s", self->tls_url + 5);
	get(url, NULL, NULL, NULL, out);
	EXPECT_STREQ("", out);
}

TEST_F(srv, https_client_certificate_of_the_cluster_ca_is_identified)
{
	char out[256];

	ASSERT_EQ(0, get(self->tls_url, self->p.ca, &self->p.worker, NULL, out));
	EXPECT_STREQ("0 worker-1 worker bearer=0", out);
}

TEST_F(srv, https_client_certificate_of_another_ca_is_refused)
{
	char out[256];
	int rc = get(self->tls_url, self->p.ca, &self->p.stranger, NULL, out);

	/* Either the handshake fails or the connection has no identity. */
	if (rc == 0)
		EXPECT_STREQ("-1 - - bearer=0", out);       /* -EPERM */
}

int main(int argc, char **argv)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return test_harness_run(argc, argv);
}
