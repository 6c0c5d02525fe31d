/* auth.c: users file and mysql_native_password (see auth.h). */
#include "auth.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <mbedtls/sha1.h>

#include "buf.h"
#include "fileio.h"

static void sha1(const void *a, size_t alen, const void *b, size_t blen, unsigned char out[20])
{
	mbedtls_sha1_context ctx;

	mbedtls_sha1_init(&ctx);
	mbedtls_sha1_starts_ret(&ctx);
	mbedtls_sha1_update_ret(&ctx, a, alen);
	if (blen)
		mbedtls_sha1_update_ret(&ctx, b, blen);
	mbedtls_sha1_finish_ret(&ctx, out);
	mbedtls_sha1_free(&ctx);
}

void auth_hash_password(const char *pw, size_t len, unsigned char ret_hash[AUTH_HASH_LEN])
{
	unsigned char h1[20];

	sha1(pw, len, NULL, 0, h1);
	sha1(h1, 20, NULL, 0, ret_hash);
}

void auth_hash_format(const unsigned char hash[AUTH_HASH_LEN], char ret[42])
{
	static const char hex[] = "0123456789ABCDEF";
	int i;

	ret[0] = '*';
	for (i = 0; i < AUTH_HASH_LEN; i++) {
		ret[1 + 2 * i] = hex[hash[i] >> 4];
		ret[2 + 2 * i] = hex[hash[i] & 15];
	}
	ret[41] = 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int auth_hash_parse(const char *s, unsigned char ret_hash[AUTH_HASH_LEN])
{
	unsigned char h[AUTH_HASH_LEN];
	int i;

	if (s[0] != '*' || strlen(s) != 41)
		return -EINVAL;
	for (i = 0; i < AUTH_HASH_LEN; i++) {
		int hi = hexval((unsigned char)s[1 + 2 * i]), lo = hexval((unsigned char)s[2 + 2 * i]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		h[i] = (unsigned char)(hi << 4 | lo);
	}
	memcpy(ret_hash, h, sizeof(h));
	return 0;
}

void auth_native_token(const char *pw, size_t len, const unsigned char scramble[AUTH_SCRAMBLE_LEN],
		       unsigned char ret_token[AUTH_HASH_LEN])
{
	unsigned char h1[20], h2[20], x[20];
	int i;

	sha1(pw, len, NULL, 0, h1);
	sha1(h1, 20, NULL, 0, h2);
	sha1(scramble, AUTH_SCRAMBLE_LEN, h2, 20, x);
	for (i = 0; i < 20; i++)
		ret_token[i] = h1[i] ^ x[i];
}

int auth_native_check(const struct auth_user *u, const unsigned char scramble[AUTH_SCRAMBLE_LEN],
		      const unsigned char *token, size_t toklen)
{
	unsigned char x[20], h1[20], h2[20];
	unsigned diff = 0;
	int i;

	if (!u->has_password)
		return toklen == 0;
	if (toklen != AUTH_HASH_LEN)
		return 0;
	sha1(scramble, AUTH_SCRAMBLE_LEN, u->hash, 20, x);
	for (i = 0; i < 20; i++)
		h1[i] = token[i] ^ x[i];
	sha1(h1, 20, NULL, 0, h2);
	for (i = 0; i < 20; i++)      /* constant time */
		diff |= (unsigned)(h2[i] ^ u->hash[i]);
	return diff == 0;
}

int auth_scramble(unsigned char ret[AUTH_SCRAMBLE_LEN])
{
	unsigned char r[AUTH_SCRAMBLE_LEN];
	size_t got = 0;
	int i;

	while (got < sizeof(r)) {
		ssize_t k = getrandom(r + got, sizeof(r) - got, 0);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)k;
	}
	/* Printable ASCII like MySQL: clients treat the scramble as a C string. */
	for (i = 0; i < AUTH_SCRAMBLE_LEN; i++)
		ret[i] = (unsigned char)(33 + r[i] % 94);
	return 0;
}

/* The options field of a users line into x.  0, or -EINVAL with why. */
static int parse_options(struct auth_user *x, char *opts, char *why, size_t whylen)
{
	char *save = NULL, *o;

	for (o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		unsigned long v;
		char *end;

		while (isspace((unsigned char)*o))
			o++;
		o[strcspn(o, " \t")] = 0;
		if (!strcmp(o, "require_ssl")) {
			x->require_ssl = 1;
		} else if (!strcmp(o, "admin")) {
			x->admin = 1;
		} else if (!strcmp(o, "locked")) {
			x->locked = 1;
		} else if (!strcmp(o, "restricted")) {
			x->restricted = 1;
		} else if (!strncmp(o, "max_user_connections=", 21)) {
			errno = 0;
			v = strtoul(o + 21, &end, 10);
			if (errno || end == o + 21 || *end || v > 100000) {
				snprintf(why, whylen, "max_user_connections wants 0..100000");
				return -EINVAL;
			}
			x->max_connections = (unsigned)v;
		} else if (!strncmp(o, "max_questions=", 14) || !strncmp(o, "max_connections_per_hour=", 25)) {
			const char *num = strchr(o, '=') + 1;
			errno = 0;
			v = strtoul(num, &end, 10);
			if (errno || end == num || *end || v > 4000000000UL) {
				snprintf(why, whylen, "%.*s wants 0..4000000000", (int)(num - 1 - o), o);
				return -EINVAL;
			}
			if (o[4] == 'q')
				x->max_questions = (unsigned)v;
			else
				x->max_conn_hour = (unsigned)v;
		} else if (*o) {
			snprintf(why, whylen, "unknown option '%.40s' (require_ssl, admin, locked, restricted, "
				 "max_user_connections=N, max_questions=N, max_connections_per_hour=N)", o);
			return -EINVAL;
		}
	}
	return 0;
}

static int add_user(struct auth_users *u, const char *name, char *hash, char *why, size_t whylen)
{
	char *opts = strchr(hash, ':');

	struct auth_user *nv, *x;
	size_t i;

	if (!*name || strlen(name) > AUTH_NAME_MAX) {
		snprintf(why, whylen, "user name must be 1..%d bytes", AUTH_NAME_MAX);
		return -EINVAL;
	}
	for (i = 0; i < u->n; i++)
		if (!strcmp(u->v[i].name, name)) {
			snprintf(why, whylen, "duplicate user '%s'", name);
			return -EINVAL;
		}
	nv = realloc(u->v, (u->n + 1) * sizeof(*nv));
	if (!nv) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	u->v = nv;
	x = &nv[u->n];
	memset(x, 0, sizeof(*x));
	strcpy(x->name, name);
	if (opts) {
		*opts++ = 0;
		if (parse_options(x, opts, why, whylen) < 0)
			return -EINVAL;
	}
	if (*hash) {
		if (auth_hash_parse(hash, x->hash) < 0) {
			snprintf(why, whylen, "password hash must be '*' and 40 hex digits");
			return -EINVAL;
		}
		x->has_password = 1;
	}
	u->n++;
	return 0;
}

int auth_users_load(const char *path, struct auth_users *ret, char *err, size_t errlen)
{
	struct auth_users u = { 0 };
	char line[512], why[256];
	int lineno = 0, rc = 0;
	FILE *f = fopen(path, "re");

	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	while (fgets(line, sizeof(line), f)) {
		char *s = line, *colon, *end;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(why, sizeof(why), "line too long");
			rc = -EINVAL;
			break;
		}
		end = s + strcspn(s, "\r\n");
		*end = 0;
		while (isspace((unsigned char)*s))
			s++;
		if (!*s || *s == '#')
			continue;
		colon = strchr(s, ':');
		if (!colon) {
			snprintf(why, sizeof(why), "expected 'user:*HASH'");
			rc = -EINVAL;
			break;
		}
		*colon = 0;
		rc = add_user(&u, s, colon + 1, why, sizeof(why));
		if (rc < 0)
			break;
	}
	fclose(f);
	if (rc < 0) {
		snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
		auth_users_free(&u);
		return rc;
	}
	*ret = u;
	return 0;
}

void auth_users_free(struct auth_users *u)
{
	if (!u)
		return;
	free(u->v);
	u->v = NULL;
	u->n = 0;
}

const struct auth_user *auth_users_find(const struct auth_users *u, const char *name)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		if (!strcmp(u->v[i].name, name))
			return &u->v[i];
	return NULL;
}

int auth_user_format(const struct auth_user *x, char *line, size_t len)
{
	char hash[42] = "";
	int n;

	if (x->has_password)
		auth_hash_format(x->hash, hash);
	n = snprintf(line, len, "%s:%s:%s%s%s%s", x->name, hash, x->admin ? "admin," : "",
		     x->require_ssl ? "require_ssl," : "", x->locked ? "locked," : "", x->restricted ? "restricted," : "");
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	n += snprintf(line + n, len - (size_t)n, "max_user_connections=%u,max_questions=%u,max_connections_per_hour=%u",
		      x->max_connections, x->max_questions, x->max_conn_hour);
	return (size_t)n >= len ? -ENOSPC : n;
}

int auth_users_save(const char *path, const struct auth_users *u, char *err, size_t errlen)
{
	struct buf b;
	char line[512];
	size_t i;
	int rc;

	buf_init(&b);
	buf_puts(&b, "# qserv-czar users (rewritten by CREATE/DROP/ALTER USER and SET PASSWORD)\n");
	for (i = 0; i < u->n; i++)
		if (auth_user_format(&u->v[i], line, sizeof(line)) >= 0)
			buf_printf(&b, "%s\n", line);
	rc = b.oom ? -ENOMEM : fileio_write_atomic(path, b.data, b.len, 0600);   /* hashes: owner only */
	if (rc < 0)
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
	buf_free(&b);
	return rc;
}
