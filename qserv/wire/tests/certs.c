/* certs.c: qserv-certs, node certificates for development and test
 * clusters (the registry issues them in a real deployment).
 *
 *   qserv-certs --dir D --cluster C --name N --role R [--san NAME]...
 *
 * Creates D/ca.pem + D/ca.key once (cluster C), then D/N.pem + D/N.key for
 * the node identity CN=N, OU=R, signed by that CA, with a subjectAltName of
 * N and every --san (a host name or an IP address), as the registry signs
 * them, so clients that check host names accept it.  Existing files are kept,
 * so running it again is harmless.  Keys are written mode 0600. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tls.h"

static int write_pair(const char *dir, const char *base, const char *pem, const char *key)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s.pem", dir, base);
	if (tls_file_write(path, pem, 0644) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%s.key", dir, base);
	return tls_file_write(path, key, 0600) < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = { { "dir", 1, 0, 'd' }, { "cluster", 1, 0, 'c' }, { "name", 1, 0, 'n' },
					     { "role", 1, 0, 'r' }, { "san", 1, 0, 's' }, { 0, 0, 0, 0 } };
	const char *dir = NULL, *cluster = "qserv", *name = NULL, *role = NULL;
	char path[4096], err[512], *ca = NULL, *cakey = NULL, *key = NULL, *csr = NULL, *cert = NULL;
	const char *san[TLS_SAN_MAX];
	size_t nsan = 0;
	struct tls_identity id;
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'c': cluster = optarg; break;
		case 'n': name = optarg; break;
		case 'r': role = optarg; break;
		case 's':
			if (nsan + 1 >= TLS_SAN_MAX) {
				fprintf(stderr, "qserv-certs: at most %d --san\n", TLS_SAN_MAX - 1);
				return 2;
			}
			san[1 + nsan++] = optarg;
			break;
		default: return 2;
		}
	}
	if (!dir || !name || !role) {
		fprintf(stderr, "usage: qserv-certs --dir D [--cluster C] --name N --role R [--san NAME]...\n");
		return 2;
	}
	mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/ca.pem", dir);
	if (tls_file_read(path, &ca) < 0) {
		if (tls_ca_create(cluster, 3650, &ca, &cakey, err, sizeof(err)) < 0 ||
		    write_pair(dir, "ca", ca, cakey) < 0) {
			fprintf(stderr, "qserv-certs: CA in %s: %s\n", dir, err);
			return 1;
		}
	} else {
		snprintf(path, sizeof(path), "%s/ca.key", dir);
		if (tls_file_read(path, &cakey) < 0) {
			fprintf(stderr, "qserv-certs: %s: cannot read\n", path);
			return 1;
		}
	}
	snprintf(path, sizeof(path), "%s/%s.pem", dir, name);
	if (access(path, F_OK) == 0)
		return 0;
	san[0] = name;
	memset(&id, 0, sizeof(id));
	snprintf(id.name, sizeof(id.name), "%s", name);
	snprintf(id.role, sizeof(id.role), "%s", role);
	snprintf(id.cluster, sizeof(id.cluster), "%s", cluster);
	if (tls_identity_valid(&id) < 0) {
		fprintf(stderr, "qserv-certs: name, role and cluster may use [A-Za-z0-9._-] only\n");
		return 2;
	}
	if (tls_key_generate(&key, err, sizeof(err)) < 0 || tls_csr_create(key, &id, &csr, err, sizeof(err)) < 0 ||
	    tls_csr_sign_san(ca, cakey, csr, &id, san, nsan + 1, (uint64_t)time(NULL) ^ (uint64_t)rand(), 3650,
			     &cert, err, sizeof(err)) < 0 ||
	    write_pair(dir, name, cert, key) < 0) {
		fprintf(stderr, "qserv-certs: %s: %s\n", name, err);
		return 1;
	}
	free(ca);
	free(cakey);
	free(key);
	free(csr);
	free(cert);
	return 0;
}
