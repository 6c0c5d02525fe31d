/* wire_tls.c: the certificate directory of the chunk-query protocol and the
 * mutual-TLS configuration built from it (see wire.h).  The layout is what
 * qserv-certs writes: DIR/ca.pem, the cluster CA both ends trust, and
 * DIR/NAME.pem + DIR/NAME.key, this node's certificate and key. */
#include "wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls.h"

int wire_tls_config(const char *dir, const char *name, bool server, int timeout_ms,
		    struct tls_config **ret_cfg, char *err, size_t errlen)
{
	struct tls_config_opts o;
	char *ca = NULL, *cert = NULL, *key = NULL;
	int rc;

	if ((rc = tls_dir_load(dir, name, &ca, &cert, &key, err, errlen)) < 0)
		goto out;
	memset(&o, 0, sizeof(o));
	o.server = server;
	o.peer_auth = TLS_PEER_CA;
	o.ca_pem = ca;
	o.cert_pem = cert;
	o.key_pem = key;
	o.timeout_ms = timeout_ms;
	rc = tls_config_new(&o, ret_cfg, err, errlen);
out:
	free(ca);
	free(cert);
	free(key);
	return rc;
}
