/* registry_ca.c: the cluster CA and the certificates the registry issues.
 *
 * The CA (ca.crt 0644, ca.key 0600 in the state directory) is created on
 * the registry's first start and kept forever: every node's pin is its
 * hash.  The registry's own server certificate is signed anew at each
 * start (serial 1, never written to disk).  Node certificates carry the
 * node's identity (name, role, cluster, machine uuid) and a serial from the
 * state, so the registry can tell the newest certificate of a machine from
 * a retired one. */
#include "registry_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 0 when the CA was loaded, 1 when it was created, <0 on error. */
int reg_ca_load_or_create(struct registry *r, const char *dir, const char *cluster, char *err, size_t errlen)
{
	char cpath[512], kpath[512];
	if (snprintf(cpath, sizeof(cpath), "%s/ca.crt", dir) >= (int)sizeof(cpath) ||
	    snprintf(kpath, sizeof(kpath), "%s/ca.key", dir) >= (int)sizeof(kpath)) {
		snprintf(err, errlen, "state directory name too long: %s", dir);
		return -ENAMETOOLONG;
	}
	int rc = tls_file_read(cpath, &r->ca_pem);
	if (rc == 0) {
		if ((rc = tls_file_read(kpath, &r->ca_key_pem)) < 0) {
			snprintf(err, errlen, "%s exists but %s: %s", cpath, kpath, strerror(-rc));
			return rc;
		}
		return 0;
	}
	if (rc != -ENOENT) {
		snprintf(err, errlen, "%s: %s", cpath, strerror(-rc));
		return rc;
	}
	if ((rc = tls_ca_create(cluster, CA_DAYS, &r->ca_pem, &r->ca_key_pem, err, errlen)) < 0)
		return rc;
	/* key first: a crash in between leaves no certificate without its key */
	if ((rc = tls_file_write(kpath, r->ca_key_pem, 0600)) < 0 ||
	    (rc = tls_file_write(cpath, r->ca_pem, 0644)) < 0) {
		snprintf(err, errlen, "cannot write the CA into %s: %s", dir, strerror(-rc));
		return rc;
	}
	return 1;
}

/* The registry's TLS server configuration: a fresh key and certificate
 * (chain: it + the CA); a client certificate is optional (joins have none). */
int reg_ca_server_tls(struct registry *r, char *err, size_t errlen)
{
	char *key = NULL, *csr = NULL, *cert = NULL, *chain = NULL;
	struct tls_identity id = { .name = "registry", .role = "registry" };
	snprintf(id.cluster, sizeof(id.cluster), "%s", r->st.cluster);
	int rc = tls_key_generate(&key, err, errlen);
	if (rc == 0)
		rc = tls_csr_create(key, &id, &csr, err, errlen);
	if (rc == 0)
		rc = tls_csr_sign(r->ca_pem, r->ca_key_pem, csr, &id, 1, CA_DAYS, &cert, err, errlen);
	if (rc == 0 && !(chain = malloc(strlen(cert) + strlen(r->ca_pem) + 1)))
		rc = -ENOMEM;
	if (rc == 0) {
		strcpy(chain, cert);
		strcat(chain, r->ca_pem);
		struct tls_config_opts o = { .server = true, .peer_auth = TLS_PEER_CA_OPTIONAL,
					     .ca_pem = r->ca_pem, .cert_pem = chain, .key_pem = key,
					     .timeout_ms = HANDSHAKE_MS };
		rc = tls_config_new(&o, &r->tls, err, errlen);
	}
	free(key);
	free(csr);
	free(cert);
	free(chain);
	return rc;
}

void reg_ca_node_identity(const struct registry *r, const struct reg_node *n, struct tls_identity *ret_id)
{
	memset(ret_id, 0, sizeof(*ret_id));
	snprintf(ret_id->name, sizeof(ret_id->name), "%s", n->name);
	snprintf(ret_id->role, sizeof(ret_id->role), "%s", n->role);
	snprintf(ret_id->cluster, sizeof(ret_id->cluster), "%s", r->st.cluster);
	snprintf(ret_id->uuid, sizeof(ret_id->uuid), "%s", n->uuid);
}

/* Signs csr (the node's own key) as node n's certificate with `serial`,
 * valid CERT_DAYS: *ret_cert (PEM, caller frees).  Caller holds the lock. */
int reg_ca_sign_node(struct registry *r, const struct reg_node *n, const char *csr, uint64_t serial,
		     char **ret_cert, char *err, size_t errlen)
{
	struct tls_identity id;

	reg_ca_node_identity(r, n, &id);
	return tls_csr_sign(r->ca_pem, r->ca_key_pem, csr, &id, serial, CERT_DAYS, ret_cert, err, errlen);
}
