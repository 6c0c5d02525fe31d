/* fuzz_packet.c: libFuzzer target for the czar's MySQL protocol input side,
 * as session.c drives it: the bytes a client sends on port 4040, read as a
 * stream of packets (pkt_read, continuations and length limits included);
 * the first is the HandshakeResponse41 (myp_parse_login; after an SSL
 * request the next one is), a non-native plugin's answer is read as the
 * token, the token checked (auth_native_check), then every further packet
 * is a command whose arguments are decoded with the packet field codecs.
 * The bytes come through a socketpair (pkt_read uses recv).
 * Invariants: a parsed login's names are NUL-terminated within their
 * buffers and its auth token lies inside the payload. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mariadb/mysql.h>

#include "qserv/czar/auth.h"
#include "qserv/czar/myproto.h"
#include "qserv/czar/packet.h"

static void decode_command(const struct buf *in)
{
	struct lerd r;
	size_t n;

	lerd_init(&r, in->data + 1, in->len - 1);
	switch (in->data[0]) {
	case MYP_COM_PROCESS_KILL:
		lerd_u32(&r);
		break;
	case MYP_COM_INIT_DB:
	case MYP_COM_FIELD_LIST:
		pkt_get_nulstr(&r, &n);
		break;
	default:                   /* the length-encoded codecs, on anything */
		while (!r.err && lerd_remaining(&r) > 0) {
			pkt_get_lenenc(&r);
			pkt_get_lenstr(&r, &n);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char scramble[AUTH_SCRAMBLE_LEN] = "0123456789abcdefghij";
	struct auth_user u = { .name = "qsmaster", .has_password = 1 };
	struct pkt_conn c;
	struct myp_login l;
	struct buf in;
	int sv[2], fd;

	if (size > 64 * 1024)         /* fits a socket buffer: written before reading */
		size = 64 * 1024;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || write(sv[1], data, size) != (ssize_t)size)
		abort();
	close(sv[1]);
	fd = sv[0];
	auth_hash_password("secret", 6, u.hash);
	pkt_conn_init(&c, fd);
	buf_init(&in);
	if (pkt_read(&c, &in, 64 * 1024, 0) < 0)
		goto out;
	if (in.len >= 4 && (in.data[1] << 8 & CLIENT_SSL) && in.len == 32 &&
	    pkt_read(&c, &in, 64 * 1024, 0) < 0)
		goto out;
	if (myp_parse_login(in.data, in.len, &l) == 0) {
		if (memchr(l.user, 0, sizeof(l.user)) == NULL || memchr(l.db, 0, sizeof(l.db)) == NULL ||
		    memchr(l.plugin, 0, sizeof(l.plugin)) == NULL)
			abort();
		if (l.auth_len && (l.auth < in.data || l.auth + l.auth_len > in.data + in.len))
			abort();
		if (l.plugin[0] && strcmp(l.plugin, "mysql_native_password") != 0) {
			if (pkt_read(&c, &in, 1024, 0) < 0)
				goto out;
			auth_native_check(&u, scramble, in.data, in.len);
		} else {
			auth_native_check(&u, scramble, l.auth, l.auth_len);
		}
	}
	while (pkt_read(&c, &in, 64 * 1024, 0) == 0 && in.len > 0)
		decode_command(&in);
out:
	buf_free(&in);
	pkt_conn_free(&c);
	close(fd);
	return 0;
}
