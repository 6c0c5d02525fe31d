/* tls.c: mbedTLS helpers: cluster PKI, CA pins, TLS 1.2 connections (tls.h).
 *
 * Choices: ECDSA P-256 everywhere (key generation in ~1 ms, so 1000 joining
 * nodes cost the registry little), TLS 1.2 with ECDHE-ECDSA AEAD suites only
 * (mbedTLS 2.28's TLS 1.3 is experimental).  One process-wide CTR-DRBG,
 * seeded once (pthread_once); mbedTLS is built with MBEDTLS_THREADING_C so
 * the DRBG carries its own mutex.  The socket BIO never blocks (MSG_DONTWAIT)
 * and every wait goes through poll() with the caller's deadline, so a silent
 * peer can hold a thread only as long as the caller allowed.
 *
 * Pinned bootstrap (TLS_PEER_PIN): the client accepts the handshake with
 * verification optional, then, before sending a byte of application data,
 * looks for a certificate in the server's chain whose SHA-256 equals the pin,
 * and verifies the leaf against exactly that CA.  The CA found is kept on the
 * connection so the caller can store it. */
#include "tls.h"
#include "errbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/md.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>

#define PEM_MAX 8192

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

/* ---- error text and RNG -------------------------------------------------- */

static const char *mbed_str(int r, char *buf, size_t len)
{
	mbedtls_strerror(r, buf, len);
	return buf;
}

static mbedtls_entropy_context g_entropy;
static mbedtls_ctr_drbg_context g_drbg;
static pthread_once_t g_rng_once = PTHREAD_ONCE_INIT;
static int g_rng_err;

static void rng_init(void)
{
	static const char pers[] = "qserv-node tls";
	mbedtls_entropy_init(&g_entropy);
	mbedtls_ctr_drbg_init(&g_drbg);
	g_rng_err = mbedtls_ctr_drbg_seed(&g_drbg, mbedtls_entropy_func, &g_entropy,
					  (const unsigned char *)pers, sizeof(pers) - 1);
}

static int rng(void)
{
	pthread_once(&g_rng_once, rng_init);
	return g_rng_err ? -EIO : 0;
}

int tls_random_hex(size_t len, char *ret_hex)
{
	unsigned char b[256];
	if (len > sizeof(b) || rng() < 0)
		return -EINVAL;
	if (mbedtls_ctr_drbg_random(&g_drbg, b, len) != 0)
		return -EIO;
	for (size_t i = 0; i < len; i++)
		sprintf(ret_hex + 2 * i, "%02x", b[i]);
	ret_hex[2 * len] = '\0';
	mbedtls_platform_zeroize(b, sizeof(b));
	return 0;
}

bool tls_secret_equal(const char *given, const char *expected)
{
	size_t glen = strlen(given), elen = strlen(expected);
	unsigned char diff = glen != elen;
	for (size_t i = 0; i < elen; i++) {
		unsigned char g = i < glen ? (unsigned char)given[i] : 0;
		diff |= g ^ (unsigned char)expected[i];
	}
	return diff == 0;
}

/* ---- identities ---------------------------------------------------------- */

static bool field_ok(const char *s, bool required)
{
	size_t n = strnlen(s, TLS_ID_MAX);
	if (n == TLS_ID_MAX || (required && n == 0))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

int tls_identity_valid(const struct tls_identity *id)
{
	if (!field_ok(id->name, true) || !field_ok(id->role, true) ||
	    !field_ok(id->cluster, false) || !field_ok(id->uuid, false))
		return -EINVAL;
	return 0;
}

static int identity_dn(const struct tls_identity *id, char *out, size_t len)
{
	int n = snprintf(out, len, "CN=%s,OU=%s", id->name, id->role);
	if (id->cluster[0])
		n += snprintf(out + n, len - (size_t)n, ",O=%s", id->cluster);
	if (id->uuid[0])
		n += snprintf(out + n, len - (size_t)n, ",serialNumber=%s", id->uuid);
	return (size_t)n < len ? 0 : -ENAMETOOLONG;
}

static void copy_val(char *dst, const mbedtls_x509_buf *v)
{
	size_t n = v->len < TLS_ID_MAX - 1 ? v->len : TLS_ID_MAX - 1;
	memcpy(dst, v->p, n);
	dst[n] = '\0';
}

static void crt_identity(const mbedtls_x509_crt *crt, struct tls_identity *id)
{
	memset(id, 0, sizeof(*id));
	for (const mbedtls_x509_name *n = &crt->subject; n; n = n->next) {
		if (!n->oid.p)
			continue;
		if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0)
			copy_val(id->name, &n->val);
		else if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_ORG_UNIT, &n->oid) == 0)
			copy_val(id->role, &n->val);
		else if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_ORGANIZATION, &n->oid) == 0)
			copy_val(id->cluster, &n->val);
		else if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_SERIAL_NUMBER, &n->oid) == 0)
			copy_val(id->uuid, &n->val);
	}
	size_t o = 0;
	for (size_t i = 0; i < crt->serial.len && o + 3 <= sizeof(id->serial); i++)
		o += (size_t)sprintf(id->serial + o, "%02x", crt->serial.p[i]);
}

/* ---- parsing helpers ----------------------------------------------------- */

static int parse_crt(mbedtls_x509_crt *crt, const char *pem, const char *what,
		     char *err, size_t errlen)
{
	char e[128];
	if (!pem) {
		errbuf_printf(err, errlen, "%s: missing certificate", what);
		return -EINVAL;
	}
	int r = mbedtls_x509_crt_parse(crt, (const unsigned char *)pem, strlen(pem) + 1);
	if (r != 0) {
		errbuf_printf(err, errlen, "%s: bad certificate: %s", what, mbed_str(r, e, sizeof(e)));
		return -EBADMSG;
	}
	return 0;
}

static int parse_key(mbedtls_pk_context *pk, const char *pem, const char *what,
		     char *err, size_t errlen)
{
	char e[128];
	if (!pem) {
		errbuf_printf(err, errlen, "%s: missing private key", what);
		return -EINVAL;
	}
	int r = mbedtls_pk_parse_key(pk, (const unsigned char *)pem, strlen(pem) + 1, NULL, 0);
	if (r != 0) {
		errbuf_printf(err, errlen, "%s: bad private key: %s", what, mbed_str(r, e, sizeof(e)));
		return -EBADMSG;
	}
	return 0;
}

static int gen_key(mbedtls_pk_context *pk)
{
	if (rng() < 0)
		return -EIO;
	if (mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0)
		return -ENOMEM;
	if (mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*pk),
				mbedtls_ctr_drbg_random, &g_drbg) != 0)
		return -EIO;
	return 0;
}

static char *pem_dup(const unsigned char *buf)
{
	return strdup((const char *)buf);
}

int tls_key_generate(char **ret_key_pem, char *err, size_t errlen)
{
	mbedtls_pk_context pk;
	unsigned char buf[PEM_MAX];
	int r;
	mbedtls_pk_init(&pk);
	if ((r = gen_key(&pk)) < 0) {
		errbuf_printf(err, errlen, "key generation failed");
	} else if (mbedtls_pk_write_key_pem(&pk, buf, sizeof(buf)) != 0) {
		errbuf_printf(err, errlen, "key encoding failed");
		r = -EIO;
	} else if (!(*ret_key_pem = pem_dup(buf))) {
		r = -ENOMEM;
	}
	mbedtls_platform_zeroize(buf, sizeof(buf));
	mbedtls_pk_free(&pk);
	return r;
}

int tls_csr_create(const char *key_pem, const struct tls_identity *id,
		   char **ret_csr_pem, char *err, size_t errlen)
{
	mbedtls_pk_context pk;
	mbedtls_x509write_csr w;
	unsigned char buf[PEM_MAX];
	char dn[512];
	int r;
	if (tls_identity_valid(id) < 0 || identity_dn(id, dn, sizeof(dn)) < 0) {
		errbuf_printf(err, errlen, "invalid identity for CSR");
		return -EINVAL;
	}
	if (rng() < 0)
		return -EIO;
	mbedtls_pk_init(&pk);
	mbedtls_x509write_csr_init(&w);
	if ((r = parse_key(&pk, key_pem, "CSR", err, errlen)) < 0)
		goto out;
	mbedtls_x509write_csr_set_md_alg(&w, MBEDTLS_MD_SHA256);
	mbedtls_x509write_csr_set_key(&w, &pk);
	r = -EIO;
	if (mbedtls_x509write_csr_set_subject_name(&w, dn) != 0) {
		errbuf_printf(err, errlen, "CSR: bad subject %s", dn);
		goto out;
	}
	if (mbedtls_x509write_csr_pem(&w, buf, sizeof(buf), mbedtls_ctr_drbg_random, &g_drbg) != 0) {
		errbuf_printf(err, errlen, "CSR encoding failed");
		goto out;
	}
	r = (*ret_csr_pem = pem_dup(buf)) ? 0 : -ENOMEM;
out:
	mbedtls_x509write_csr_free(&w);
	mbedtls_pk_free(&pk);
	return r;
}

/* "YYYYMMDDhhmmss" for now + days (UTC). */
static void validity_time(int days, char out[16])
{
	time_t t = time(NULL) + (time_t)days * 86400;
	struct tm tm;
	gmtime_r(&t, &tm);
	if (tm.tm_year + 1900 > 9999)
		tm.tm_year = 9999 - 1900;
	strftime(out, 16, "%Y%m%d%H%M%S", &tm);
}

/* Fill the common parts of a certificate being written. */
static int crt_common(mbedtls_x509write_cert *w, uint64_t serial, int days)
{
	unsigned char sb[8];
	mbedtls_mpi mpi;
	char nb[16], na[16];
	for (int i = 0; i < 8; i++)
		sb[i] = (unsigned char)(serial >> (56 - 8 * i));
	mbedtls_mpi_init(&mpi);
	int r = mbedtls_mpi_read_binary(&mpi, sb, sizeof(sb));
	if (r == 0)
		r = mbedtls_x509write_crt_set_serial(w, &mpi);
	mbedtls_mpi_free(&mpi);
	/* One day back: a node whose clock lags a little still accepts. */
	validity_time(-1, nb);
	validity_time(days, na);
	if (r == 0)
		r = mbedtls_x509write_crt_set_validity(w, nb, na);
	mbedtls_x509write_crt_set_version(w, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(w, MBEDTLS_MD_SHA256);
	return r == 0 ? 0 : -EIO;
}

int tls_ca_create(const char *cluster, int days, char **ret_cert_pem,
		  char **ret_key_pem, char *err, size_t errlen)
{
	mbedtls_pk_context pk;
	mbedtls_x509write_cert w;
	unsigned char buf[PEM_MAX], kbuf[PEM_MAX];
	char dn[256];
	uint64_t serial;
	int r;
	if (!field_ok(cluster, true)) {
		errbuf_printf(err, errlen, "invalid cluster name '%s' (use [A-Za-z0-9._-])", cluster);
		return -EINVAL;
	}
	snprintf(dn, sizeof(dn), "CN=%s-ca,O=%s", cluster, cluster);
	mbedtls_pk_init(&pk);
	mbedtls_x509write_crt_init(&w);
	if ((r = gen_key(&pk)) < 0) {
		errbuf_printf(err, errlen, "CA key generation failed");
		goto out;
	}
	mbedtls_ctr_drbg_random(&g_drbg, (unsigned char *)&serial, sizeof(serial));
	serial = (serial >> 1) | 1;    /* positive, non-zero */
	r = -EIO;
	if (crt_common(&w, serial, days) < 0)
		goto fail;
	mbedtls_x509write_crt_set_subject_key(&w, &pk);
	mbedtls_x509write_crt_set_issuer_key(&w, &pk);
	if (mbedtls_x509write_crt_set_subject_name(&w, dn) != 0 ||
	    mbedtls_x509write_crt_set_issuer_name(&w, dn) != 0 ||
	    mbedtls_x509write_crt_set_basic_constraints(&w, 1, 0) != 0 ||
	    mbedtls_x509write_crt_set_key_usage(&w, MBEDTLS_X509_KU_KEY_CERT_SIGN |
						    MBEDTLS_X509_KU_CRL_SIGN) != 0 ||
	    mbedtls_x509write_crt_set_subject_key_identifier(&w) != 0 ||
	    mbedtls_x509write_crt_set_authority_key_identifier(&w) != 0 ||
	    mbedtls_x509write_crt_pem(&w, buf, sizeof(buf), mbedtls_ctr_drbg_random, &g_drbg) != 0 ||
	    mbedtls_pk_write_key_pem(&pk, kbuf, sizeof(kbuf)) != 0)
		goto fail;
	char *c = pem_dup(buf), *k = pem_dup(kbuf);
	if (!c || !k) {
		free(c);
		free(k);
		r = -ENOMEM;
		goto out;
	}
	*ret_cert_pem = c;
	*ret_key_pem = k;
	r = 0;
	goto out;
fail:
	errbuf_printf(err, errlen, "CA certificate creation failed");
out:
	mbedtls_platform_zeroize(kbuf, sizeof(kbuf));
	mbedtls_x509write_crt_free(&w);
	mbedtls_pk_free(&pk);
	return r;
}

/* Proof of possession: the CSR must be signed by the key it carries. */
static int csr_verify(mbedtls_x509_csr *csr)
{
	unsigned char hash[MBEDTLS_MD_MAX_SIZE];
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(csr->sig_md);
	if (!md || mbedtls_md(md, csr->cri.p, csr->cri.len, hash) != 0)
		return -EKEYREJECTED;
	if (mbedtls_pk_verify_ext(csr->sig_pk, csr->sig_opts, &csr->pk, csr->sig_md, hash,
				  mbedtls_md_get_size(md), csr->sig.p, csr->sig.len) != 0)
		return -EKEYREJECTED;
	if (!mbedtls_pk_can_do(&csr->pk, MBEDTLS_PK_ECKEY))
		return -EKEYREJECTED;
	return 0;
}

int tls_csr_sign(const char *ca_cert_pem, const char *ca_key_pem,
		 const char *csr_pem, const struct tls_identity *id,
		 uint64_t serial, int days, char **ret_cert_pem,
		 char *err, size_t errlen)
{
	mbedtls_x509_crt ca;
	mbedtls_pk_context cakey;
	mbedtls_x509_csr csr;
	mbedtls_x509write_cert w;
	unsigned char buf[PEM_MAX];
	char dn[512], issuer[256], e[128];
	struct tls_identity caid;
	int r;
	if (tls_identity_valid(id) < 0 || identity_dn(id, dn, sizeof(dn)) < 0 || serial == 0) {
		errbuf_printf(err, errlen, "invalid identity or serial for the certificate");
		return -EINVAL;
	}
	if (rng() < 0)
		return -EIO;
	mbedtls_x509_crt_init(&ca);
	mbedtls_pk_init(&cakey);
	mbedtls_x509_csr_init(&csr);
	mbedtls_x509write_crt_init(&w);
	if ((r = parse_crt(&ca, ca_cert_pem, "CA", err, errlen)) < 0 ||
	    (r = parse_key(&cakey, ca_key_pem, "CA", err, errlen)) < 0)
		goto out;
	if (!csr_pem || (r = mbedtls_x509_csr_parse(&csr, (const unsigned char *)csr_pem,
						    strlen(csr_pem) + 1)) != 0) {
		errbuf_printf(err, errlen, "unparsable CSR: %s", csr_pem ? mbed_str(r, e, sizeof(e)) : "none");
		r = -EBADMSG;
		goto out;
	}
	if ((r = csr_verify(&csr)) < 0) {
		errbuf_printf(err, errlen, "CSR rejected: its signature does not match its key (or not an EC key)");
		goto out;
	}
	crt_identity(&ca, &caid);
	if (snprintf(issuer, sizeof(issuer), "CN=%s%s%s", caid.name,
		     caid.cluster[0] ? ",O=" : "", caid.cluster) >= (int)sizeof(issuer)) {
		r = -EINVAL;
		goto out;
	}
	r = -EIO;
	if (crt_common(&w, serial, days) < 0)
		goto fail;
	mbedtls_x509write_crt_set_subject_key(&w, &csr.pk);
	mbedtls_x509write_crt_set_issuer_key(&w, &cakey);
	if (mbedtls_x509write_crt_set_subject_name(&w, dn) != 0 ||
	    mbedtls_x509write_crt_set_issuer_name(&w, issuer) != 0 ||
	    mbedtls_x509write_crt_set_basic_constraints(&w, 0, -1) != 0 ||
	    mbedtls_x509write_crt_set_key_usage(&w, MBEDTLS_X509_KU_DIGITAL_SIGNATURE |
						    MBEDTLS_X509_KU_KEY_AGREEMENT) != 0 ||
	    mbedtls_x509write_crt_set_subject_key_identifier(&w) != 0 ||
	    mbedtls_x509write_crt_set_authority_key_identifier(&w) != 0 ||
	    mbedtls_x509write_crt_pem(&w, buf, sizeof(buf), mbedtls_ctr_drbg_random, &g_drbg) != 0)
		goto fail;
	r = (*ret_cert_pem = pem_dup(buf)) ? 0 : -ENOMEM;
	goto out;
fail:
	errbuf_printf(err, errlen, "certificate signing failed");
out:
	mbedtls_x509write_crt_free(&w);
	mbedtls_x509_csr_free(&csr);
	mbedtls_pk_free(&cakey);
	mbedtls_x509_crt_free(&ca);
	return r;
}

int tls_cert_identity(const char *cert_pem, struct tls_identity *ret_id,
		      char *err, size_t errlen)
{
	mbedtls_x509_crt crt;
	mbedtls_x509_crt_init(&crt);
	int r = parse_crt(&crt, cert_pem, "certificate", err, errlen);
	if (r == 0)
		crt_identity(&crt, ret_id);
	mbedtls_x509_crt_free(&crt);
	return r;
}

/* ---- pins ---------------------------------------------------------------- */

static void der_pin(const unsigned char *der, size_t len, char out[TLS_PIN_LEN])
{
	unsigned char h[32];
	mbedtls_sha256_ret(der, len, h, 0);
	memcpy(out, "sha256:", 7);
	for (int i = 0; i < 32; i++)
		sprintf(out + 7 + 2 * i, "%02x", h[i]);
}

static int pin_normalize(const char *pin, char out[TLS_PIN_LEN])
{
	if (!pin || strncmp(pin, "sha256:", 7) != 0 || strlen(pin) != TLS_PIN_LEN - 1)
		return -EINVAL;
	memcpy(out, "sha256:", 7);
	for (int i = 7; i < TLS_PIN_LEN - 1; i++) {
		char c = pin[i];
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return -EINVAL;
		out[i] = c;
	}
	out[TLS_PIN_LEN - 1] = '\0';
	return 0;
}

int tls_pin(const char *cert_pem, char ret_pin[TLS_PIN_LEN], char *err, size_t errlen)
{
	mbedtls_x509_crt crt;
	mbedtls_x509_crt_init(&crt);
	int r = parse_crt(&crt, cert_pem, "pin", err, errlen);
	if (r == 0)
		der_pin(crt.raw.p, crt.raw.len, ret_pin);
	mbedtls_x509_crt_free(&crt);
	return r;
}

int tls_pin_check(const char *cert_pem, const char *pin, char *err, size_t errlen)
{
	char want[TLS_PIN_LEN], got[TLS_PIN_LEN];
	if (pin_normalize(pin, want) < 0) {
		errbuf_printf(err, errlen, "malformed CA pin (want sha256:<64 hex digits>)");
		return -EINVAL;
	}
	int r = tls_pin(cert_pem, got, err, errlen);
	if (r < 0)
		return r;
	if (!tls_secret_equal(got, want)) {
		errbuf_printf(err, errlen, "CA pin mismatch: certificate has %s", got);
		return -EPERM;
	}
	return 0;
}

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
	if (rng() < 0) {
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
	if (o->peer_auth == TLS_PEER_PIN && pin_normalize(o->pin, cfg->pin) < 0) {
		errbuf_printf(err, errlen, "malformed CA pin (want sha256:<64 hex digits>)");
		r = -EINVAL;
		goto fail;
	}
	if ((o->peer_auth == TLS_PEER_CA || o->peer_auth == TLS_PEER_CA_OPTIONAL) &&
	    (r = parse_crt(&cfg->ca, o->ca_pem, "CA", err, errlen)) < 0)
		goto fail;
	if (o->cert_pem && ((r = parse_crt(&cfg->own, o->cert_pem, "own", err, errlen)) < 0 ||
			    (r = parse_key(&cfg->key, o->key_pem, "own", err, errlen)) < 0))
		goto fail;
	r = mbedtls_ssl_config_defaults(&cfg->conf,
					o->server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
					MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
	if (r != 0)
		goto mbedfail;
	mbedtls_ssl_conf_rng(&cfg->conf, mbedtls_ctr_drbg_random, &g_drbg);
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
	errbuf_printf(err, errlen, "TLS configuration failed: %s", mbed_str(r, e, sizeof(e)));
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

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for the fd as mbedTLS asked (r = WANT_READ/WANT_WRITE) until deadline
 * (<0: forever).  0 or -ETIMEDOUT. */
static int wait_io(int fd, int r, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = r == MBEDTLS_ERR_SSL_WANT_WRITE ? POLLOUT : POLLIN };
	for (;;) {
		int t = -1;
		if (deadline >= 0) {
			int64_t left = deadline - now_ms();
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
		der_pin(p->raw.p, p->raw.len, got);
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
		errbuf_printf(err, errlen, "TLS setup failed: %s", mbed_str(r, e, sizeof(e)));
		r = -ENOMEM;
		goto fail;
	}
	mbedtls_ssl_set_bio(&c->ssl, c, bio_send, bio_recv, NULL);
	int64_t deadline = now_ms() + cfg->timeout_ms;
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
			errbuf_printf(err, errlen, "TLS handshake: %s", mbed_str(r, e, sizeof(e)));
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
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
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
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
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
	crt_identity(peer, ret_id);
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
	char *s = pem_dup(buf);
	if (!s)
		return -ENOMEM;
	*ret_ca_pem = s;
	return 0;
}

int tls_conn_fd(const struct tls_conn *c)
{
	return c->fd;
}

/* ---- files --------------------------------------------------------------- */

int tls_file_read(const char *path, char **ret_text)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size > (1 << 20)) {
		int r = st.st_size > (1 << 20) ? -EFBIG : -errno;
		close(fd);
		return r;
	}
	char *buf = malloc((size_t)st.st_size + 1);
	size_t got = 0;
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*ret_text = buf;
	return 0;
}

int tls_file_write(const char *path, const char *text, unsigned mode)
{
	static atomic_uint seq;
	char tmp[PATH_MAX], dir[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d.%u", path, (int)getpid(),
		     atomic_fetch_add(&seq, 1)) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	size_t len = strlen(text), done = 0;
	int r = 0;
	if (fchmod(fd, mode) < 0)
		r = -errno;
	while (r == 0 && done < len) {
		ssize_t n = write(fd, text + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			r = -errno;
		else
			done += (size_t)n;
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}
