/* myproto.h: MySQL protocol messages the czar sends and receives.
 *
 * Builds the server side of the text protocol on a struct pkt_conn: the v10
 * handshake, OK / ERR / EOF packets, column definitions and text rows; and
 * decodes the client's handshake response.  Classic EOF packets are used
 * (CLIENT_DEPRECATE_EOF is never offered), so every client speaks one form.
 * Nothing here blocks except pkt_flush, called by the session. */
#ifndef QSERV_CZAR_MYPROTO_H
#define QSERV_CZAR_MYPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "packet.h"

#define MYP_SERVER_VERSION "5.7.0-qserv-node"
#define MYP_CHARSET_UTF8MB4 45      /* utf8mb4_general_ci */
#define MYP_CHARSET_BINARY 63

/* Commands (first payload byte). */
enum {
	MYP_COM_QUIT = 0x01, MYP_COM_INIT_DB = 0x02, MYP_COM_QUERY = 0x03,
	MYP_COM_FIELD_LIST = 0x04, MYP_COM_STATISTICS = 0x09, MYP_COM_PROCESS_KILL = 0x0c,
	MYP_COM_PING = 0x0e, MYP_COM_RESET_CONNECTION = 0x1f,
};

/* Capabilities offered by the czar. */
uint32_t myp_server_caps(void);

/* extra_caps: CLIENT_SSL when this port offers TLS. */
void myp_handshake(struct pkt_conn *c, uint32_t conn_id, const unsigned char scramble[20], uint32_t extra_caps);

struct myp_login {
	uint32_t caps;
	unsigned charset;
	char user[65];
	const unsigned char *auth;   /* inside the payload */
	size_t auth_len;
	char db[65];
	char plugin[65];
};

/* Decodes a HandshakeResponse41.  Returns 0, -EBADMSG on a malformed
 * packet, -EPROTO when the client lacks CLIENT_PROTOCOL_41, -ENAMETOOLONG
 * for an over-long user, database or plugin name. */
int myp_parse_login(const void *payload, size_t len, struct myp_login *ret);

/* AuthSwitchRequest to mysql_native_password with the same scramble. */
void myp_auth_switch(struct pkt_conn *c, const unsigned char scramble[20]);

void myp_ok(struct pkt_conn *c, uint64_t affected, uint16_t status, const char *info);
void myp_eof(struct pkt_conn *c, uint16_t status);
/* ERR packet; sqlstate NULL picks the one MySQL uses for code. */
void myp_err(struct pkt_conn *c, unsigned code, const char *sqlstate, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
const char *myp_sqlstate(unsigned code);

struct myp_column {
	const char *db, *table, *org_table, *name, *org_name;
	unsigned charset;
	uint32_t length;
	unsigned type;               /* enum enum_field_types */
	unsigned flags;
	unsigned decimals;
};

void myp_column_count(struct pkt_conn *c, unsigned n);
/* One column definition; with_default appends the (empty) default value
 * COM_FIELD_LIST answers carry. */
void myp_column(struct pkt_conn *c, const struct myp_column *col, int with_default);
/* One text row: vals[i] NULL means SQL NULL. */
void myp_row(struct pkt_conn *c, const char *const *vals, const unsigned long *lens, unsigned n);

#endif
