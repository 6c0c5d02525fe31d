/* httpd.c: starting and stopping libmicrohttpd listeners (see httpd.h). */
#include "httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "errbuf.h"

int httpd_start(const struct httpd_opts *o, struct MHD_Daemon **ret_daemon, char *err, size_t errlen)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(o->port) };
	/* MHD_USE_AUTO: epoll or poll, never select(), which cannot watch a
	 * descriptor above 1023 (a czar under a flood of 4040 sockets dropped
	 * its /metrics requests). */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
	struct MHD_OptionItem opts[12];
	struct MHD_Daemon *d;
	int n = 0;

	if (o->bind && inet_pton(AF_INET, o->bind, &sin.sin_addr) != 1) {
		errbuf_printf(err, errlen, "bad listen address '%s'", o->bind);
		return -EINVAL;
	}
	if (o->thread_per_connection)
		flags |= MHD_USE_THREAD_PER_CONNECTION;
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0, &sin };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT, o->connection_timeout_s, NULL };
	if (o->connection_limit)
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT, o->connection_limit, NULL };
	if (o->per_ip_limit)
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->per_ip_limit, NULL };
	if (o->reuse_address)
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL };
	if (o->tls_cert_pem && o->tls_key_pem) {
		flags |= MHD_USE_TLS;
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)o->tls_cert_pem };
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)o->tls_key_pem };
		if (o->tls_client_ca_pem)
			opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_TRUST, 0,
							      (void *)o->tls_client_ca_pem };
	} else if (o->tls_cert_pem || o->tls_key_pem || o->tls_client_ca_pem) {
		errbuf_printf(err, errlen, "HTTPS needs both a certificate and its key");
		return -EINVAL;
	}
	if (o->completed)
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_COMPLETED,
						      (intptr_t)o->completed, o->completed_cls };
	opts[n] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	errno = 0;
	d = MHD_start_daemon(flags, o->port, NULL, NULL, o->handler, o->handler_cls,
			     MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (!d) {
		int e = errno ? errno : EADDRINUSE;

		errbuf_printf(err, errlen, "cannot listen on %s:%u: %s", o->bind ? o->bind : "0.0.0.0",
			      o->port, strerror(e));
		return -e;
	}
	*ret_daemon = d;
	return 0;
}

void httpd_stop(struct MHD_Daemon *d)
{
	if (d)
		MHD_stop_daemon(d);
}
