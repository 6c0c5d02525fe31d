/* join_renew.c: whether a node's certificate still names it (join_renew.h).
 *
 * Certificates carry DNS:<node name> and IP:<the node's address as the
 * registry records it> so that clients checking host names accept them.
 * One issued before that (no subjectAltName) or before the node's address
 * changed is stale: join.c then renews it with a join that proves the node
 * key, once per reason, keeping the old certificate when that fails. */
#include "join_renew.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tls.h"

/* True when the comma-separated list has the element `want`. */
static int list_has(const char *list, const char *want)
{
	size_t n = strlen(want);

	for (const char *p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (!strncmp(p, want, n) && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

/* The address map records for name ("" when none). */
static const char *map_addr(json_t *map, const char *name)
{
	json_t *n;
	size_t i;

	json_array_foreach(json_object_get(map, "nodes"), i, n) {
		const char *have = json_string_value(json_object_get(n, "name"));
		const char *addr = json_string_value(json_object_get(n, "addr"));
		if (have && !strcmp(have, name))
			return addr ? addr : "";
	}
	return "";
}

int join_cert_stale(const char *cert_pem, json_t *map, const char *name, char *why, size_t whylen)
{
	char san[2048], want[TLS_SAN_NAME_MAX + 8], err[160];
	const char *addr = map_addr(map, name);
	int rc = tls_cert_san(cert_pem, san, sizeof(san), err, sizeof(err));

	if (rc == -ENOENT) {
		snprintf(why, whylen, "the certificate of %s names no host (issued before subjectAltNames)", name);
		return 1;
	}
	if (rc < 0) {
		snprintf(why, whylen, "%s", err);
		return rc;
	}
	snprintf(want, sizeof(want), "DNS:%s", name);
	if (!list_has(san, want)) {
		snprintf(why, whylen, "the certificate does not name %s (it names %.120s)", name, san);
		return 1;
	}
	snprintf(want, sizeof(want), "IP:%s", addr);
	if (addr[0] && !list_has(san, want)) {
		snprintf(why, whylen, "the certificate of %s does not name its address %s (it names %.120s)", name,
			 addr, san);
		return 1;
	}
	return 0;
}
