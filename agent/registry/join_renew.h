/* join_renew.h: when a node's stored certificate no longer names the node
 * as the cluster sees it (private to agent/registry/; join.c uses it). */
#ifndef AGENT_JOIN_RENEW_H
#define AGENT_JOIN_RENEW_H

#include <jansson.h>
#include <stddef.h>

/* 1 when cert_pem's subjectAltName lacks DNS:<name> or IP:<the address
 * `map` (the cluster map) records for name>, with why saying which: a
 * certificate issued before subjectAltNames, or the node's address
 * changed.  0 when it names both (an address the map does not have is not
 * checked); <0 when the certificate cannot be read (why filled). */
int join_cert_stale(const char *cert_pem, json_t *map, const char *name, char *why, size_t whylen);

#endif
