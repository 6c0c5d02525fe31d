/* status.c: the node's /status and /metrics on port 9400 (see status.h),
 * an httpd.h listener. */
#include "status.h"
#include "httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct status_server {
	struct MHD_Daemon *mhd;
	pthread_mutex_t lock;
	char *status_json;  /* owned; replaced whole by status_publish */
	char *public_json;  /* owned: status_json without secrets */
	char *metrics_text; /* owned */
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned code, const char *type,
			     const char *body)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

/* The peer is this node: 127.0.0.0/8 or ::1. */
static bool peer_is_local(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	if (!sa)
		return false;
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return false;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct status_server *s = cls;
	const char *type;
	char *copy = NULL;
	enum MHD_Result ret;

	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply(conn, 405, "text/plain", "only GET\n");
	pthread_mutex_lock(&s->lock);
	if (!strcmp(url, "/status")) {
		const char *doc = peer_is_local(conn) ? s->status_json : s->public_json;

		copy = strdup(doc ? doc : "{}");
		type = "application/json";
	} else if (!strcmp(url, "/metrics")) {
		copy = strdup(s->metrics_text ? s->metrics_text : "");
		type = "text/plain; version=0.0.4";
	} else {
		type = NULL;
	}
	pthread_mutex_unlock(&s->lock);
	if (!type)
		return reply(conn, 404, "text/plain", "not found: try /status or /metrics\n");
	if (!copy)
		return reply(conn, 500, "text/plain", "out of memory\n");
	ret = reply(conn, 200, type, copy);
	free(copy);
	return ret;
}

int status_start(const char *addr, uint16_t port, struct status_server **ret, char *err, size_t errlen)
{
	struct status_server *s = calloc(1, sizeof(*s));
	struct httpd_opts o = { .bind = addr, .port = port, .connection_timeout_s = 10, .handler = handle };
	int r;

	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	o.handler_cls = s;
	r = httpd_start(&o, &s->mhd, err, errlen);
	if (r < 0) {
		pthread_mutex_destroy(&s->lock);
		free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void status_publish(struct status_server *s, const char *status_json, const char *public_json,
		    const char *metrics_text)
{
	char *a = strdup(status_json), *p = strdup(public_json), *b = strdup(metrics_text);
	char *old_a, *old_p, *old_b;

	if (!a || !p || !b) {
		free(a);
		free(p);
		free(b);
		return;
	}
	pthread_mutex_lock(&s->lock);
	old_a = s->status_json;
	old_p = s->public_json;
	old_b = s->metrics_text;
	s->status_json = a;
	s->public_json = p;
	s->metrics_text = b;
	pthread_mutex_unlock(&s->lock);
	free(old_a);
	free(old_p);
	free(old_b);
}

void status_stop(struct status_server *s)
{
	if (!s)
		return;
	httpd_stop(s->mhd);
	pthread_mutex_destroy(&s->lock);
	free(s->status_json);
	free(s->public_json);
	free(s->metrics_text);
	free(s);
}
