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

int qhttpc_init(void);

/* Sends key in the X-Qserv-Auth-Key header of every later request to our
 * own services (not of downloads from data sources).  Call before threads
 * start; NULL or "" turns it off. */
void qhttpc_set_auth_key(const char *key);

/* method + url with an optional JSON body (borrowed).  On success (HTTP
 * 2xx, JSON object, success == 1) returns 0 and, if ret_reply is not
 * NULL, the reply object (caller owns it). */
int qhttpc_json(const char *method, const char *url, json_t *body, json_t **ret_reply,
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
