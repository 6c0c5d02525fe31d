/* httpd.h: the one place a libmicrohttpd listener is started and stopped
 * (the agent's /status, the czar's /metrics, the ingest and worker APIs).
 *
 * The caller describes the listener in a struct httpd_opts (zeroed fields
 * take libmicrohttpd's defaults) and gets the MHD daemon back; its request
 * handler is a plain MHD_AccessHandlerCallback.  Trade-off: one options
 * struct rather than MHD's variadic option list, so every listener's
 * limits (connection timeout, connection cap, threads) are visible in one
 * place and a listener cannot forget MHD_OPTION_END.  Nothing here logs.
 *
 * HTTPS: with tls_cert_pem/tls_key_pem the listener speaks TLS only
 * (libmicrohttpd's GnuTLS back end; the cluster's ECDSA certificates from
 * tls.h load as they are).  With tls_client_ca_pem it also asks every
 * client for a certificate (optional: a loader with a bearer key needs
 * none); httpd_peer_identity() then tells who a connection is. */
#ifndef QSERV_HTTPD_H
#define QSERV_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <microhttpd.h>

struct httpd_opts {
	const char *bind;                    /* IPv4 address; NULL: every address */
	uint16_t port;
	bool thread_per_connection;          /* else one internal polling thread */
	bool reuse_address;                  /* SO_REUSEADDR on the listening socket */
	unsigned connection_timeout_s;       /* idle connection closed after; 0: never */
	unsigned connection_limit;           /* 0: libmicrohttpd's default */
	unsigned per_ip_limit;               /* connections from one address; 0: no limit */
	MHD_AccessHandlerCallback handler;
	void *handler_cls;
	MHD_RequestCompletedCallback completed;   /* may be NULL */
	void *completed_cls;
	const char *tls_cert_pem;            /* HTTPS: own certificate (chain), PEM */
	const char *tls_key_pem;             /* HTTPS: own private key, PEM */
	const char *tls_client_ca_pem;       /* HTTPS: ask clients for a certificate of this CA */
};

struct tls_identity;

/* Starts the listener: 0 and *ret_daemon, or a negative errno (-EINVAL for
 * a bad bind address, -EADDRINUSE when it cannot listen) with err filled. */
int httpd_start(const struct httpd_opts *o, struct MHD_Daemon **ret_daemon, char *err, size_t errlen);
/* Stops it and waits for its threads; accepts NULL. */
void httpd_stop(struct MHD_Daemon *d);

/* The identity (tls.h) of the client certificate of connection c, verified
 * against the listener's tls_client_ca_pem: 0; -ENOENT when the client sent
 * none (or the listener is plain HTTP); -EPERM when it does not verify. */
int httpd_peer_identity(struct MHD_Connection *c, struct tls_identity *ret_id);
/* True when the request carries "Authorization: Bearer <key>" with exactly
 * `key` (compared in constant time).  Always false for an empty key. */
bool httpd_bearer_ok(struct MHD_Connection *c, const char *key);

#endif
