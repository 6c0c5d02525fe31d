/* qhttpc.h: the HTTP client side of the ingest system (controller ->
 * workers, qservctl -> controller and workers, worker -> http:// sources),
 * over libcurl.  Replies follow the Qserv replication-system convention: a
 * JSON object with "success" (0/1) and "error".  Functions return 0 or a
 * negative errno and fill err with the reason (the server's "error" text
 * when it sent one); they never log.  qhttpc_init() once per process,
 * before threads start. */
#ifndef QSERV_QHTTPC_H
#define QSERV_QHTTPC_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

/* Also, as a client's default, trusts the PEM file $QSERV_CA_FILE (when
 * set) for our own services (qhttpc_set_tls_files). */
int qhttpc_init(void);

/* An operator's or loader's credentials: the key is the first line of
 * keyfile, else $QSERV_AUTH_KEY; the cluster CA is the PEM file cafile,
 * else $QSERV_CA_FILE.  Either may be missing (then the services refuse
 * writes, or an https:// URL is checked against the system's CAs).  -errno
 * with err naming the file. */
int qhttpc_client_setup(const char *keyfile, const char *cafile, char *err, size_t errlen);

/* Sends key as "Authorization: Bearer <key>" with every later request to
 * our own services (not with downloads from data sources).  Call before
 * threads start; NULL or "" turns it off. */
void qhttpc_set_auth_key(const char *key);

/* HTTPS to our own services: the server must have a certificate of ca_pem
 * (the cluster CA, pinned; the node certificates name no host, so the host
 * name is not checked); cert_pem/key_pem (may be NULL) are sent as the
 * client certificate.  From then on an http:// URL of our own services is
 * sent as https:// (the key never goes in clear).  The strings are copied.
 * Call before threads start; ca_pem NULL turns it off.  -ENOMEM. */
int qhttpc_set_tls(const char *ca_pem, const char *cert_pem, const char *key_pem);
/* Reads the PEM file at ca_path (and, when not NULL, cert and key files)
 * and calls qhttpc_set_tls; -errno with err naming the file. */
int qhttpc_set_tls_files(const char *ca_path, const char *cert_path, const char *key_path,
			 char *err, size_t errlen);

/* From then on, requests to our own services keep their connections (and
 * TLS sessions) open in one cache the process's threads share, and a
 * later request to the same service reuses one: for a client that sends
 * many, such as the loader (one TLS handshake per file otherwise; the
 * services close a connection idle for their timeout).  Call before
 * threads start.  -ENOMEM. */
int qhttpc_keep_connections(void);

/* method + url with an optional JSON body (borrowed).  On success (HTTP
 * 2xx, JSON object, success == 1) returns 0 and, if ret_reply is not
 * NULL, the reply object (caller owns it).  Failures: the peer refused
 * (-ECONNREFUSED), reset or sent nothing (-ECONNRESET), timed out
 * (-ETIMEDOUT), cannot be resolved (-EHOSTUNREACH): worth a retry; a JSON
 * error reply -ENOENT (404), -EBUSY (409), -EAGAIN (5xx: the server's own
 * trouble, worth a retry), -EIO (other 4xx); a reply that is not JSON
 * -EPROTO; other transport failures (TLS) -EIO; err says which. */
int qhttpc_json(const char *method, const char *url, json_t *body, json_t **ret_reply,
		char *err, size_t errlen);

/* GET url of one of our services (the pinned CA and client certificate,
 * as qhttpc_json) within timeout_ms for the whole request, the body
 * dropped: 0 and the HTTP status in *ret_code, or a negative errno as
 * qhttpc_json's transport failures.  For health probes. */
int qhttpc_probe(const char *url, long timeout_ms, long *ret_code);

/* POSTs a JSON body to an outside service (an alert sink: no auth key,
 * no pinned CA -- https:// is checked against the system's CAs; http and
 * https only), with one more header line when extra_header is not NULL,
 * bounded by 5 s (or timeout_ms if less) to connect and timeout_ms in all,
 * the reply dropped: 0 on HTTP 2xx; a transport failure as qhttpc_json's,
 * another status -EIO ("HTTP <code>" in err). */
int qhttpc_post_out(const char *url, const char *body, const char *extra_header, long timeout_ms,
		    char *err, size_t errlen);

/* POSTs the file at path as the request body (streamed), then as above. */
int qhttpc_post_file(const char *url, const char *path, json_t **ret_reply, char *err, size_t errlen);

/* GETs url into fd (HTTP 2xx required, redirects followed); ret_bytes may
 * be NULL.  For data sources: the auth key is not sent. */
int qhttpc_download(const char *url, int fd, unsigned long long *ret_bytes, char *err, size_t errlen);
/* Same from one of our own services: the auth key is sent, no redirects. */
int qhttpc_download_ours(const char *url, int fd, unsigned long long *ret_bytes, char *err, size_t errlen);

/* Percent-encodes s into a new string (caller frees), NULL on ENOMEM. */
char *qhttpc_escape(const char *s);

#endif
