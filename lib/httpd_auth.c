/* httpd_auth.c: who a request to an httpd.h listener comes from: the
 * client certificate of a TLS connection (GnuTLS, libmicrohttpd's TLS back
 * end) or a bearer key.  Apart from httpd.c so that a listener without
 * authentication links neither GnuTLS nor mbedTLS. */
#include "httpd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "tls.h"

/* One RDN attribute of the subject into dst ("" when absent). */
static void dn_field(gnutls_x509_crt_t crt, const char *oid, char *dst, size_t cap)
{
	size_t len = cap;

	if (gnutls_x509_crt_get_dn_by_oid(crt, oid, 0, 0, dst, &len) < 0)
		dst[0] = '\0';
}

/* The certificate's serial number in lowercase hex, as tls_conn_peer gives it. */
static void serial_hex(gnutls_x509_crt_t crt, char *dst, size_t cap)
{
	unsigned char raw[TLS_ID_MAX / 2];
	size_t len = sizeof(raw), i;

	dst[0] = '\0';
	if (gnutls_x509_crt_get_serial(crt, raw, &len) < 0)
		return;
	for (i = 0; i < len && 2 * i + 2 < cap; i++)
		snprintf(dst + 2 * i, 3, "%02x", raw[i]);
}

int httpd_peer_identity(struct MHD_Connection *c, struct tls_identity *ret_id)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	const gnutls_datum_t *chain;
	gnutls_x509_crt_t crt;
	struct tls_identity id;
	unsigned status = 0, n = 0;
	int r;

	if (!ci || !ci->tls_session)
		return -ENOENT;
	chain = gnutls_certificate_get_peers((gnutls_session_t)ci->tls_session, &n);
	if (!chain || n == 0)
		return -ENOENT;
	r = gnutls_certificate_verify_peers2((gnutls_session_t)ci->tls_session, &status);
	if (r < 0 || status != 0)
		return -EPERM;
	if (gnutls_x509_crt_init(&crt) < 0)
		return -ENOMEM;
	if (gnutls_x509_crt_import(crt, &chain[0], GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(crt);
		return -EPERM;
	}
	memset(&id, 0, sizeof(id));
	dn_field(crt, GNUTLS_OID_X520_COMMON_NAME, id.name, sizeof(id.name));
	dn_field(crt, GNUTLS_OID_X520_ORGANIZATIONAL_UNIT_NAME, id.role, sizeof(id.role));
	dn_field(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, id.cluster, sizeof(id.cluster));
	dn_field(crt, "2.5.4.5", id.uuid, sizeof(id.uuid));      /* serialNumber */
	serial_hex(crt, id.serial, sizeof(id.serial));
	gnutls_x509_crt_deinit(crt);
	if (tls_identity_valid(&id) < 0)
		return -EPERM;
	*ret_id = id;
	return 0;
}

bool httpd_bearer_ok(struct MHD_Connection *c, const char *key)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);

	if (!key || !key[0] || !h || strncmp(h, "Bearer ", 7) != 0)
		return false;
	return tls_secret_equal(h + 7, key);
}
