/* myproto.c: MySQL protocol messages (see myproto.h). */
#include "myproto.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <mariadb/mysql.h>
#include <mariadb/mysqld_error.h>

uint32_t myp_server_caps(void)
{
	return CLIENT_MYSQL | CLIENT_FOUND_ROWS | CLIENT_LONG_FLAG | CLIENT_CONNECT_WITH_DB |
	       CLIENT_NO_SCHEMA | CLIENT_PROTOCOL_41 | CLIENT_INTERACTIVE | CLIENT_TRANSACTIONS |
	       CLIENT_SECURE_CONNECTION | CLIENT_MULTI_RESULTS | CLIENT_PLUGIN_AUTH |
	       CLIENT_CONNECT_ATTRS | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA | CLIENT_IGNORE_SPACE;
}

void myp_handshake(struct pkt_conn *c, uint32_t conn_id, const unsigned char scramble[20], uint32_t extra_caps)
{
	struct buf *b = &c->out;
	uint32_t caps = myp_server_caps() | extra_caps;

	pkt_begin(c);
	lebuf_u8(b, 10);
	pkt_put_nulstr(b, MYP_SERVER_VERSION);
	lebuf_u32(b, conn_id);
	buf_put(b, scramble, 8);
	lebuf_u8(b, 0);
	lebuf_u16(b, caps & 0xffff);
	lebuf_u8(b, MYP_CHARSET_UTF8MB4);
	lebuf_u16(b, SERVER_STATUS_AUTOCOMMIT);
	lebuf_u16(b, caps >> 16);
	lebuf_u8(b, 21);
	buf_put(b, "\0\0\0\0\0\0\0\0\0\0", 10);
	buf_put(b, scramble + 8, 12);
	lebuf_u8(b, 0);
	pkt_put_nulstr(b, "mysql_native_password");
	pkt_end(c);
}

static int copy_name(char *dst, size_t cap, const void *src, size_t n)
{
	if (n >= cap)
		return -ENAMETOOLONG;
	memcpy(dst, src, n);
	dst[n] = 0;
	if (strlen(dst) != n)        /* embedded NUL */
		return -EBADMSG;
	return 0;
}

/* The next NUL-terminated name of a payload into dst[cap]: 0, -EBADMSG
 * (payload ends first) or copy_name's error. */
static int get_name(struct lerd *r, char *dst, size_t cap)
{
	size_t n;
	const char *s = pkt_get_nulstr(r, &n);

	if (r->err)
		return -EBADMSG;
	return copy_name(dst, cap, s, n);
}

int myp_parse_login(const void *payload, size_t len, struct myp_login *ret)
{
	struct myp_login l;
	struct lerd r;
	int rc;

	memset(&l, 0, sizeof(l));
	lerd_init(&r, payload, len);
	l.caps = lerd_u32(&r);
	if (r.err)
		return -EBADMSG;
	if (!(l.caps & CLIENT_PROTOCOL_41))
		return -EPROTO;
	lerd_u32(&r);                       /* max packet size */
	l.charset = lerd_u8(&r);
	lerd_take(&r, 23);
	if ((rc = get_name(&r, l.user, sizeof(l.user))) < 0)
		return rc;
	if (l.caps & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA) {
		l.auth = pkt_get_lenstr(&r, &l.auth_len);
	} else if (l.caps & CLIENT_SECURE_CONNECTION) {
		l.auth_len = lerd_u8(&r);
		l.auth = lerd_take(&r, l.auth_len);
	} else {
		l.auth = (const unsigned char *)pkt_get_nulstr(&r, &l.auth_len);
	}
	if (r.err)
		return -EBADMSG;
	if ((l.caps & CLIENT_CONNECT_WITH_DB) && lerd_remaining(&r) > 0 &&
	    (rc = get_name(&r, l.db, sizeof(l.db))) < 0)
		return rc;
	if ((l.caps & CLIENT_PLUGIN_AUTH) && lerd_remaining(&r) > 0 &&
	    (rc = get_name(&r, l.plugin, sizeof(l.plugin))) < 0)
		return rc;
	/* Connection attributes, if any, are not used. */
	*ret = l;
	return 0;
}

void myp_auth_switch(struct pkt_conn *c, const unsigned char scramble[20])
{
	pkt_begin(c);
	lebuf_u8(&c->out, 0xfe);
	pkt_put_nulstr(&c->out, "mysql_native_password");
	buf_put(&c->out, scramble, 20);
	lebuf_u8(&c->out, 0);
	pkt_end(c);
}

void myp_ok(struct pkt_conn *c, uint64_t affected, uint16_t status, const char *info)
{
	pkt_begin(c);
	lebuf_u8(&c->out, 0);
	pkt_put_lenenc(&c->out, affected);
	pkt_put_lenenc(&c->out, 0);
	lebuf_u16(&c->out, status);
	lebuf_u16(&c->out, 0);
	if (info && *info)
		buf_put(&c->out, info, strlen(info));
	pkt_end(c);
}

void myp_eof(struct pkt_conn *c, uint16_t status)
{
	pkt_begin(c);
	lebuf_u8(&c->out, 0xfe);
	lebuf_u16(&c->out, 0);
	lebuf_u16(&c->out, status);
	pkt_end(c);
}

const char *myp_sqlstate(unsigned code)
{
	static const struct { unsigned code; const char *state; } map[] = {
		{ ER_CON_COUNT_ERROR, "08004" },     { ER_OUT_OF_RESOURCES, "HY000" },
		{ ER_ACCESS_DENIED_ERROR, "28000" }, { ER_NO_DB_ERROR, "3D000" },
		{ ER_UNKNOWN_COM_ERROR, "08S01" },   { ER_BAD_DB_ERROR, "42000" },
		{ ER_BAD_FIELD_ERROR, "42S22" },     { ER_PARSE_ERROR, "42000" },
		{ ER_NO_SUCH_TABLE, "42S02" },       { ER_NOT_SUPPORTED_YET, "42000" },
		{ ER_NET_PACKET_TOO_LARGE, "08S01" }, { ER_QUERY_INTERRUPTED, "70100" },
		{ ER_NON_UNIQ_ERROR, "23000" },      { ER_SYNTAX_ERROR, "42000" },
		{ ER_HANDSHAKE_ERROR, "08S01" },     { ER_NET_READ_ERROR, "08S01" },
		{ ER_DBACCESS_DENIED_ERROR, "42000" }, { ER_WRONG_VALUE_COUNT, "21S01" },
		{ ER_NO_SUCH_THREAD, "HY000" },       { ER_SPECIFIC_ACCESS_DENIED_ERROR, "42000" },
		{ ER_TABLE_EXISTS_ERROR, "42S01" },   { ER_OPTION_PREVENTS_STATEMENT, "HY000" },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].code == code)
			return map[i].state;
	return "HY000";
}

void myp_err(struct pkt_conn *c, unsigned code, const char *sqlstate, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	pkt_begin(c);
	lebuf_u8(&c->out, 0xff);
	lebuf_u16(&c->out, code);
	lebuf_u8(&c->out, '#');
	buf_put(&c->out, sqlstate ? sqlstate : myp_sqlstate(code), 5);
	buf_put(&c->out, msg, (size_t)n);
	pkt_end(c);
}

void myp_column_count(struct pkt_conn *c, unsigned n)
{
	pkt_begin(c);
	pkt_put_lenenc(&c->out, n);
	pkt_end(c);
}

static void put_s(struct buf *b, const char *s)
{
	pkt_put_lenstr(b, s ? s : "", s ? strlen(s) : 0);
}

void myp_column(struct pkt_conn *c, const struct myp_column *col, int with_default)
{
	struct buf *b = &c->out;

	pkt_begin(c);
	put_s(b, "def");
	put_s(b, col->db);
	put_s(b, col->table);
	put_s(b, col->org_table);
	put_s(b, col->name);
	put_s(b, col->org_name);
	lebuf_u8(b, 0x0c);
	lebuf_u16(b, col->charset);
	lebuf_u32(b, col->length);
	lebuf_u8(b, col->type);
	lebuf_u16(b, col->flags);
	lebuf_u8(b, col->decimals);
	lebuf_u16(b, 0);
	if (with_default)
		pkt_put_lenenc(b, 0);
	pkt_end(c);
}

void myp_row(struct pkt_conn *c, const char *const *vals, const unsigned long *lens, unsigned n)
{
	unsigned i;

	pkt_begin(c);
	for (i = 0; i < n; i++) {
		if (!vals[i])
			lebuf_u8(&c->out, 0xfb);
		else
			pkt_put_lenstr(&c->out, vals[i], lens[i]);
	}
	pkt_end(c);
}
