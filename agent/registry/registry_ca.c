/* registry_ca.c: the cluster CA and the certificates the registry issues.
 *
 * The CA (ca.crt 0644, ca.key 0600 in the state directory) is created on
 * the registry's first start and kept forever: every node's pin is its
 * hash.  The registry's own server certificate is signed anew at each
 * start (serial 1, never written to disk).  Node certificates carry the
 * node's identity (name, role, cluster, machine uuid) and a serial from the
 * state, so the registry can tell the newest certificate of a machine from
 * a retired one, and a subjectAltName so that clients checking host names
 * accept it: DNS:<node name> and IP:<the address the registry records for
 * the node>; the czar's also names every address of this machine (its
 * agent joins over loopback before any worker showed which address it is
 * reached at) and 127.0.0.1.  Certificates issued before the SAN carry
 * none; the join client renews them (join.c). */
#include "registry_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
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

/* Append addr to list (n entries of 64 bytes, up to TLS_SAN_MAX) unless
 * it is empty or there already. */
static void san_add(char (*list)[64], size_t *n, const char *addr)
{
	if (!addr[0] || *n >= TLS_SAN_MAX)
		return;
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(list[i], addr))
			return;
	snprintf(list[(*n)++], 64, "%s", addr);
}

/* The addresses of this machine's interfaces that are up (the czar's). */
static void san_add_local(char (*list)[64], size_t *n)
{
	struct ifaddrs *ifa = NULL;

	if (getifaddrs(&ifa) < 0)
		return;
	for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
		char a[64] = "";
		if (!i->ifa_addr || !(i->ifa_flags & IFF_UP))
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, a, sizeof(a));
		else if (i->ifa_addr->sa_family == AF_INET6 &&
			 !IN6_IS_ADDR_LINKLOCAL(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr))
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, a, sizeof(a));
		san_add(list, n, a);
	}
	freeifaddrs(ifa);
}

/* The subjectAltName entries of node n reached at addr into list: its
 * name, addr, and for the czar the machine's own addresses. */
size_t reg_ca_node_san(const struct registry *r, const struct reg_node *n, const char *addr,
		       char (*list)[64])
{
	size_t k = 0;
	unsigned char ip[16];

	san_add(list, &k, n->name);
	if (inet_pton(AF_INET, addr, ip) == 1 || inet_pton(AF_INET6, addr, ip) == 1)
		san_add(list, &k, addr);
	if (r->self_uuid[0] && !strcmp(n->uuid, r->self_uuid)) {
		san_add(list, &k, r->self_addr);
		san_add(list, &k, "127.0.0.1");
		san_add_local(list, &k);
	}
	return k;
}

/* Signs csr (the node's own key) as node n's certificate with `serial`,
 * valid CERT_DAYS, for a node reached at addr: *ret_cert (PEM, caller
 * frees).  Caller holds the lock. */
int reg_ca_sign_node(struct registry *r, const struct reg_node *n, const char *addr, const char *csr,
		     uint64_t serial, char **ret_cert, char *err, size_t errlen)
{
	struct tls_identity id;
	char list[TLS_SAN_MAX][64];
	const char *san[TLS_SAN_MAX];
	size_t k = reg_ca_node_san(r, n, addr, list);

	for (size_t i = 0; i < k; i++)
		san[i] = list[i];
	reg_ca_node_identity(r, n, &id);
	return tls_csr_sign_san(r->ca_pem, r->ca_key_pem, csr, &id, san, k, serial, CERT_DAYS, ret_cert,
				err, errlen);
}
