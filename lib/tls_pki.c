/* tls_pki.c: the cluster PKI half of tls.h: the process-wide RNG, secrets,
 * node identities, keys, CSRs, the CA, signing, CA pins, and PEM files.
 *
 * Choices: ECDSA P-256 everywhere (key generation in ~1 ms, so 1000 joining
 * nodes cost the registry little).  One process-wide CTR-DRBG, seeded once
 * (pthread_once); mbedTLS is built with MBEDTLS_THREADING_C so the DRBG
 * carries its own mutex.  Connections are tls_conn.c's.  mbedTLS 2.28
 * (Debian 12) cannot write a subjectAltName, so san_der() encodes the
 * extension itself and tls_cert_san() walks the entries mbedTLS keeps raw. */
#include "tls.h"
#include "tls_internal.h"
#include "errbuf.h"
#include "fileio.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_csr.h>

/* ---- error text and RNG -------------------------------------------------- */

const char *tls__mbed_str(int r, char *buf, size_t len)
{
	mbedtls_strerror(r, buf, len);
	return buf;
}

static mbedtls_entropy_context g_entropy;
mbedtls_ctr_drbg_context tls__drbg;
static pthread_once_t g_rng_once = PTHREAD_ONCE_INIT;
static int g_rng_err;

static void rng_init(void)
{
	static const char pers[] = "qserv-node tls";
	mbedtls_entropy_init(&g_entropy);
	mbedtls_ctr_drbg_init(&tls__drbg);
	g_rng_err = mbedtls_ctr_drbg_seed(&tls__drbg, mbedtls_entropy_func, &g_entropy,
					  (const unsigned char *)pers, sizeof(pers) - 1);
}

int tls__rng(void)
{
	pthread_once(&g_rng_once, rng_init);
	return g_rng_err ? -EIO : 0;
}

int tls_random_hex(size_t len, char *ret_hex)
{
	unsigned char b[256];
	if (len > sizeof(b) || tls__rng() < 0)
		return -EINVAL;
	if (mbedtls_ctr_drbg_random(&tls__drbg, b, len) != 0)
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

void tls__crt_identity(const mbedtls_x509_crt *crt, struct tls_identity *id)
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

int tls__parse_crt(mbedtls_x509_crt *crt, const char *pem, const char *what,
		     char *err, size_t errlen)
{
	char e[128];
	if (!pem) {
		errbuf_printf(err, errlen, "%s: missing certificate", what);
		return -EINVAL;
	}
	int r = mbedtls_x509_crt_parse(crt, (const unsigned char *)pem, strlen(pem) + 1);
	if (r != 0) {
		errbuf_printf(err, errlen, "%s: bad certificate: %s", what, tls__mbed_str(r, e, sizeof(e)));
		return -EBADMSG;
	}
	return 0;
}

int tls__parse_key(mbedtls_pk_context *pk, const char *pem, const char *what,
		     char *err, size_t errlen)
{
	char e[128];
	if (!pem) {
		errbuf_printf(err, errlen, "%s: missing private key", what);
		return -EINVAL;
	}
	int r = mbedtls_pk_parse_key(pk, (const unsigned char *)pem, strlen(pem) + 1, NULL, 0);
	if (r != 0) {
		errbuf_printf(err, errlen, "%s: bad private key: %s", what, tls__mbed_str(r, e, sizeof(e)));
		return -EBADMSG;
	}
	return 0;
}

static int gen_key(mbedtls_pk_context *pk)
{
	if (tls__rng() < 0)
		return -EIO;
	if (mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0)
		return -ENOMEM;
	if (mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*pk),
				mbedtls_ctr_drbg_random, &tls__drbg) != 0)
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
	if (tls__rng() < 0)
		return -EIO;
	mbedtls_pk_init(&pk);
	mbedtls_x509write_csr_init(&w);
	if ((r = tls__parse_key(&pk, key_pem, "CSR", err, errlen)) < 0)
		goto out;
	mbedtls_x509write_csr_set_md_alg(&w, MBEDTLS_MD_SHA256);
	mbedtls_x509write_csr_set_key(&w, &pk);
	r = -EIO;
	if (mbedtls_x509write_csr_set_subject_name(&w, dn) != 0) {
		errbuf_printf(err, errlen, "CSR: bad subject %s", dn);
		goto out;
	}
	if (mbedtls_x509write_csr_pem(&w, buf, sizeof(buf), mbedtls_ctr_drbg_random, &tls__drbg) != 0) {
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
	mbedtls_ctr_drbg_random(&tls__drbg, (unsigned char *)&serial, sizeof(serial));
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
	    mbedtls_x509write_crt_pem(&w, buf, sizeof(buf), mbedtls_ctr_drbg_random, &tls__drbg) != 0 ||
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

/* ---- subjectAltName ------------------------------------------------------ */

/* Room for TLS_SAN_MAX entries of TLS_SAN_NAME_MAX bytes with their headers. */
#define SAN_DER_MAX (TLS_SAN_MAX * (TLS_SAN_NAME_MAX + 4))
#define SAN_DNS 0x82           /* [2] IMPLICIT IA5String */
#define SAN_IP  0x87           /* [7] IMPLICIT OCTET STRING */

/* A host name fit for a dNSName (tls.h): 0, -ENAMETOOLONG or -EINVAL. */
static int dns_name_ok(const char *s)
{
	size_t n = strnlen(s, TLS_SAN_NAME_MAX + 1), label = 0;

	if (n == 0)
		return -EINVAL;
	if (n > TLS_SAN_NAME_MAX)
		return -ENAMETOOLONG;
	for (size_t i = 0; i <= n; i++) {
		char c = s[i];
		if (c == '.' || c == '\0') {
			if (label == 0 || s[i - 1] == '-')
				return -EINVAL;
			label = 0;
			continue;
		}
		if (++label > 63)
			return -ENAMETOOLONG;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || (c == '-' && label > 1)))
			return -EINVAL;
	}
	return 0;
}

/* DER length octets of len at out (short form, or 0x81/0x82 long form). */
static size_t der_len(unsigned char *out, size_t len)
{
	if (len < 0x80) {
		out[0] = (unsigned char)len;
		return 1;
	}
	if (len < 0x100) {
		out[0] = 0x81;
		out[1] = (unsigned char)len;
		return 2;
	}
	out[0] = 0x82;
	out[1] = (unsigned char)(len >> 8);
	out[2] = (unsigned char)len;
	return 3;
}

/* The extension's value, SEQUENCE OF GeneralName, into out[SAN_DER_MAX + 4]:
 * its length, or -EINVAL / -ENAMETOOLONG for a bad entry (err names it). */
static int san_der(const char *const *san, size_t nsan, unsigned char *out, char *err, size_t errlen)
{
	unsigned char body[SAN_DER_MAX];
	size_t o = 0;

	if (nsan > TLS_SAN_MAX) {
		errbuf_printf(err, errlen, "too many subjectAltName entries (%zu, at most %d)", nsan, TLS_SAN_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < nsan; i++) {
		unsigned char ip[16];
		const unsigned char *val = ip;
		unsigned char tag = SAN_IP;
		size_t len = 4;
		int rc = 0;
		if (inet_pton(AF_INET, san[i], ip) == 1) {
			len = 4;
		} else if (inet_pton(AF_INET6, san[i], ip) == 1) {
			len = 16;
		} else if ((rc = dns_name_ok(san[i])) == 0) {
			tag = SAN_DNS;
			val = (const unsigned char *)san[i];
			len = strlen(san[i]);
		} else {
			errbuf_printf(err, errlen, "subjectAltName %.64s%s: %s", san[i],
				      strnlen(san[i], 65) > 64 ? "..." : "",
				      rc == -ENAMETOOLONG ? "name or label too long" : "not a host name or IP address");
			return rc;
		}
		body[o++] = tag;
		o += der_len(body + o, len);
		memcpy(body + o, val, len);
		o += len;
	}
	out[0] = 0x30;   /* SEQUENCE */
	size_t h = 1 + der_len(out + 1, o);
	memcpy(out + h, body, o);
	return (int)(h + o);
}

int tls_cert_san(const char *cert_pem, char *ret, size_t retlen, char *err, size_t errlen)
{
	mbedtls_x509_crt crt;
	size_t o = 0;
	int r;

	mbedtls_x509_crt_init(&crt);
	if ((r = tls__parse_crt(&crt, cert_pem, "certificate", err, errlen)) < 0)
		goto out;
	r = -ENOENT;
	if (!(crt.ext_types & MBEDTLS_X509_EXT_SUBJECT_ALT_NAME)) {
		errbuf_printf(err, errlen, "the certificate has no subjectAltName");
		goto out;
	}
	if (retlen)
		ret[0] = '\0';
	for (const mbedtls_x509_sequence *s = &crt.subject_alt_names; s && s->buf.p; s = s->next) {
		char one[TLS_SAN_NAME_MAX + 16];
		int tag = s->buf.tag & 0x1f;
		if (tag == 2 && s->buf.len <= TLS_SAN_NAME_MAX)
			snprintf(one, sizeof(one), "DNS:%.*s", (int)s->buf.len, (const char *)s->buf.p);
		else if (tag == 7 && (s->buf.len == 4 || s->buf.len == 16)) {
			memcpy(one, "IP:", 3);
			inet_ntop(s->buf.len == 4 ? AF_INET : AF_INET6, s->buf.p, one + 3, sizeof(one) - 3);
		} else
			snprintf(one, sizeof(one), "OTHER:%d", tag);
		int n = snprintf(ret + o, retlen > o ? retlen - o : 0, "%s%s", o ? "," : "", one);
		if (n < 0 || o + (size_t)n >= retlen) {
			errbuf_printf(err, errlen, "subjectAltName list longer than %zu bytes", retlen);
			r = -ENOSPC;
			goto out;
		}
		o += (size_t)n;
	}
	r = 0;
out:
	mbedtls_x509_crt_free(&crt);
	return r;
}

int tls_csr_sign(const char *ca_cert_pem, const char *ca_key_pem,
		 const char *csr_pem, const struct tls_identity *id,
		 uint64_t serial, int days, char **ret_cert_pem,
		 char *err, size_t errlen)
{
	return tls_csr_sign_san(ca_cert_pem, ca_key_pem, csr_pem, id, NULL, 0, serial, days, ret_cert_pem,
				err, errlen);
}

int tls_csr_sign_san(const char *ca_cert_pem, const char *ca_key_pem,
		     const char *csr_pem, const struct tls_identity *id,
		     const char *const *san, size_t nsan,
		     uint64_t serial, int days, char **ret_cert_pem,
		     char *err, size_t errlen)
{
	mbedtls_x509_crt ca;
	mbedtls_pk_context cakey;
	mbedtls_x509_csr csr;
	mbedtls_x509write_cert w;
	unsigned char buf[PEM_MAX], ext[SAN_DER_MAX + 4];
	char dn[512], issuer[256], e[128];
	struct tls_identity caid;
	int r, extlen = 0;
	if (tls_identity_valid(id) < 0 || identity_dn(id, dn, sizeof(dn)) < 0 || serial == 0) {
		errbuf_printf(err, errlen, "invalid identity or serial for the certificate");
		return -EINVAL;
	}
	if (nsan && (extlen = san_der(san, nsan, ext, err, errlen)) < 0)
		return extlen;
	if (tls__rng() < 0)
		return -EIO;
	mbedtls_x509_crt_init(&ca);
	mbedtls_pk_init(&cakey);
	mbedtls_x509_csr_init(&csr);
	mbedtls_x509write_crt_init(&w);
	if ((r = tls__parse_crt(&ca, ca_cert_pem, "CA", err, errlen)) < 0 ||
	    (r = tls__parse_key(&cakey, ca_key_pem, "CA", err, errlen)) < 0)
		goto out;
	if (!csr_pem || (r = mbedtls_x509_csr_parse(&csr, (const unsigned char *)csr_pem,
						    strlen(csr_pem) + 1)) != 0) {
		errbuf_printf(err, errlen, "unparsable CSR: %s", csr_pem ? tls__mbed_str(r, e, sizeof(e)) : "none");
		r = -EBADMSG;
		goto out;
	}
	if ((r = csr_verify(&csr)) < 0) {
		errbuf_printf(err, errlen, "CSR rejected: its signature does not match its key (or not an EC key)");
		goto out;
	}
	tls__crt_identity(&ca, &caid);
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
	    (extlen > 0 && mbedtls_x509write_crt_set_extension(&w, MBEDTLS_OID_SUBJECT_ALT_NAME,
							       MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0,
							       ext, (size_t)extlen) != 0) ||
	    mbedtls_x509write_crt_pem(&w, buf, sizeof(buf), mbedtls_ctr_drbg_random, &tls__drbg) != 0)
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
	int r = tls__parse_crt(&crt, cert_pem, "certificate", err, errlen);
	if (r == 0)
		tls__crt_identity(&crt, ret_id);
	mbedtls_x509_crt_free(&crt);
	return r;
}

/* ---- pins ---------------------------------------------------------------- */

void tls__der_pin(const unsigned char *der, size_t len, char out[TLS_PIN_LEN])
{
	unsigned char h[32];
	mbedtls_sha256_ret(der, len, h, 0);
	memcpy(out, "sha256:", 7);
	for (int i = 0; i < 32; i++)
		sprintf(out + 7 + 2 * i, "%02x", h[i]);
}

int tls__pin_normalize(const char *pin, char out[TLS_PIN_LEN])
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
	int r = tls__parse_crt(&crt, cert_pem, "pin", err, errlen);
	if (r == 0)
		tls__der_pin(crt.raw.p, crt.raw.len, ret_pin);
	mbedtls_x509_crt_free(&crt);
	return r;
}

int tls_pin_check(const char *cert_pem, const char *pin, char *err, size_t errlen)
{
	char want[TLS_PIN_LEN], got[TLS_PIN_LEN];
	if (tls__pin_normalize(pin, want) < 0) {
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
	return fileio_write_atomic(path, text, strlen(text), (mode_t)mode);
}

int tls_dir_load(const char *dir, const char *name, char **ret_ca, char **ret_cert, char **ret_key,
		 char *err, size_t errlen)
{
	const char *file[3] = { "ca", name, name }, *ext[3] = { "pem", "pem", "key" };
	char *text[3] = { NULL, NULL, NULL }, path[4096];
	int i, rc = 0;

	for (i = 0; i < 3 && rc == 0; i++) {
		if (snprintf(path, sizeof(path), "%s/%s.%s", dir, file[i], ext[i]) >= (int)sizeof(path))
			rc = -ENAMETOOLONG;
		else
			rc = tls_file_read(path, &text[i]);
		if (rc < 0)
			errbuf_printf(err, errlen, "%s: %s", path, strerror(-rc));
	}
	if (rc < 0) {
		for (i = 0; i < 3; i++)
			free(text[i]);
		return rc;
	}
	*ret_ca = text[0];
	*ret_cert = text[1];
	*ret_key = text[2];
	return 0;
}
