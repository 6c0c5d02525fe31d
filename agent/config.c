/* config.c: the key table and the two parsers (see config.h).
 *
 * Each key maps to a typed parser and an offset into struct agent_config;
 * string values that do not fit their field are refused rather than
 * truncated, since a cut token or CA pin would fail later, far from here. */
#include "config.h"
#include "agent/registry/registry_msg.h"     /* reg_zone_valid: the registry's rule */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

typedef int (*config_parse_fn)(void *field, size_t size, const char *value,
			       char *err, size_t errlen);

struct config_key {
	const char *name;
	config_parse_fn parse;
	size_t offset;
	size_t size;
};

static int parse_string(void *field, size_t size, const char *value, char *err, size_t errlen)
{
	if (strlen(value) >= size) {
		snprintf(err, errlen, "value longer than %zu characters", size - 1);
		return -EINVAL;
	}
	for (const char *p = value; *p; p++) {
		if (!isprint((unsigned char)*p)) {
			snprintf(err, errlen, "value has a control character");
			return -EINVAL;
		}
	}
	strcpy(field, value);
	return 0;
}

static int parse_role(void *field, size_t size, const char *value, char *err, size_t errlen)
{
	enum agent_role *role = field;

	if (!strcmp(value, "czar"))
		*role = ROLE_CZAR;
	else if (!strcmp(value, "worker"))
		*role = ROLE_WORKER;
	else {
		snprintf(err, errlen, "role must be czar or worker, not '%s'", value);
		return -EINVAL;
	}
	return 0;
}

static int parse_ca(void *field, size_t size, const char *value, char *err, size_t errlen)
{
	size_t n = strlen(value);

	if (strncmp(value, "sha256:", 7) || n != 7 + 64 ||
	    strspn(value + 7, "0123456789abcdefABCDEF") != 64) {
		snprintf(err, errlen, "ca must be sha256:<64 hex digits>");
		return -EINVAL;
	}
	return parse_string(field, size, value, err, errlen);
}

static int parse_ip(void *field, size_t size, const char *value, char *err, size_t errlen)
{
	unsigned a, b, c, d, prefix;
	char rest[64] = "";

	if (strcmp(value, "dhcp") &&
	    (sscanf(value, "%u.%u.%u.%u/%u%63s", &a, &b, &c, &d, &prefix, rest) < 5 ||
	     a > 255 || b > 255 || c > 255 || d > 255 || prefix > 32 ||
	     (rest[0] && rest[0] != ','))) {
		snprintf(err, errlen, "ip must be dhcp or A.B.C.D/PREFIX[,GATEWAY]");
		return -EINVAL;
	}
	return parse_string(field, size, value, err, errlen);
}

/* The node's failure zone: replicas of a chunk go to distinct zones, and
 * the registry and the controller apply the same rule (reg_zone_valid). */
static int parse_zone(void *field, size_t size, const char *value, char *err, size_t errlen)
{
	if (!reg_zone_valid(value)) {
		snprintf(err, errlen, "zone must be 1-%d characters of A-Z a-z 0-9 . _ -, not '%.80s'",
			 REG_ZONE_MAX, value);
		return -EINVAL;
	}
	return parse_string(field, size, value, err, errlen);
}

/* An alert sink's address: http:// or https:// (a Sentry DSN carries its
 * key before the host), no blanks. */
static int parse_url(void *field, size_t size, const char *value, char *err, size_t errlen)
{
	if ((strncmp(value, "https://", 8) && strncmp(value, "http://", 7)) || strpbrk(value, " \t\"'\\")) {
		snprintf(err, errlen, "want an http:// or https:// address, not '%.80s'", value);
		return -EINVAL;
	}
	return parse_string(field, size, value, err, errlen);
}

/* The firefighter's catalog: a database name. */
static int parse_db(void *field, size_t size, const char *value, char *err, size_t errlen)
{
	if (!value[0] || strlen(value) > 64 || strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
						  "0123456789_") != strlen(value)) {
		snprintf(err, errlen, "want a database name of 1-64 A-Z a-z 0-9 _, not '%.80s'", value);
		return -EINVAL;
	}
	return parse_string(field, size, value, err, errlen);
}

#define KEY(name, fn, field) \
	{ name, fn, offsetof(struct agent_config, field), sizeof(((struct agent_config *)0)->field) }

static const struct config_key config_keys[] = {
	KEY("role", parse_role, role),
	KEY("join", parse_string, join),
	KEY("token", parse_string, token),
	KEY("ca", parse_ca, ca),
	KEY("cluster", parse_string, cluster),
	KEY("disks", parse_string, disks),
	KEY("wipe", parse_string, wipe),
	KEY("install", parse_string, install),
	KEY("ip", parse_ip, ip),
	KEY("debug", parse_string, debug),
	KEY("hostname", parse_string, hostname),
	KEY("zone", parse_zone, zone),
	KEY("alert_webhook", parse_url, alert_webhook),
	KEY("alert_slack", parse_url, alert_slack),
	KEY("alert_sentry", parse_url, alert_sentry),
	KEY("firefighter", parse_db, firefighter),
};

void config_defaults(struct agent_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->ip, "dhcp");
	strcpy(cfg->cluster, "qserv");
	strcpy(cfg->hostname, "qserv-node");
}

int config_set(struct agent_config *cfg, const char *key, const char *value,
	       char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]); i++) {
		const struct config_key *k = &config_keys[i];

		if (!strcmp(k->name, key))
			return k->parse((char *)cfg + k->offset, k->size, value, err, errlen);
	}
	snprintf(err, errlen, "unknown key '%s'", key);
	return -ENOENT;
}

/* Split "key=value" in place-free fashion into bounded buffers. */
static int split_pair(const char *s, size_t len, char *key, size_t keylen,
		      char *value, size_t valuelen)
{
	const char *eq = memchr(s, '=', len);
	size_t kl, vl;

	if (!eq)
		return -EINVAL;
	kl = eq - s;
	vl = len - kl - 1;
	if (kl == 0 || kl >= keylen || vl >= valuelen)
		return -EINVAL;
	memcpy(key, s, kl);
	key[kl] = '\0';
	memcpy(value, eq + 1, vl);
	value[vl] = '\0';
	return 0;
}

static void apply(struct agent_config *cfg, const char *src, int pos, const char *s,
		  size_t len, config_warn_fn warn, void *ctx)
{
	char key[64], value[1024], err[160], msg[320];

	if (split_pair(s, len, key, sizeof(key), value, sizeof(value)) < 0) {
		snprintf(msg, sizeof(msg), "malformed setting '%.*s' (want KEY=VALUE)",
			 (int)(len > 80 ? 80 : len), s);
		warn(ctx, src, pos, msg);
		return;
	}
	if (config_set(cfg, key, value, err, sizeof(err)) < 0) {
		snprintf(msg, sizeof(msg), "%s: %s, ignored", key, err);
		warn(ctx, src, pos, msg);
	}
}

void config_parse_cmdline(struct agent_config *cfg, const char *cmdline,
			  config_warn_fn warn, void *ctx)
{
	const char *p = cmdline;
	int word = 0;

	while (*p) {
		size_t len;

		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		len = strcspn(p, " \t\n");
		word++;
		if (len > 6 && !strncmp(p, "qserv.", 6))
			apply(cfg, "cmdline", word, p + 6, len - 6, warn, ctx);
		p += len;
	}
}

void config_parse_file(struct agent_config *cfg, const char *src, const char *text,
		       config_warn_fn warn, void *ctx)
{
	const char *p = text;
	int line = 0;

	while (*p) {
		size_t len = strcspn(p, "\n");
		const char *s = p, *e = p + len;

		line++;
		p = *e ? e + 1 : e;
		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		if (s == e || *s == '#')
			continue;
		apply(cfg, src, line, s, e - s, warn, ctx);
	}
}

int config_verify(const struct agent_config *cfg, config_warn_fn warn, void *ctx)
{
	int problems = 0;

	if (cfg->role == ROLE_NONE) {
		warn(ctx, "config", 0, "no role given (qserv.role=czar|worker); the node only reports status");
		problems++;
	}
	if (cfg->role == ROLE_WORKER && !cfg->join[0]) {
		warn(ctx, "config", 0, "worker without join=host:port cannot join a cluster");
		problems++;
	}
	if (cfg->join[0] && !strchr(cfg->join, ':')) {
		warn(ctx, "config", 0, "join must be host:port");
		problems++;
	}
	if (cfg->join[0] && (!cfg->token[0] || !cfg->ca[0])) {
		warn(ctx, "config", 0, "join needs both token= and ca= (the CA pin)");
		problems++;
	}
	return problems;
}

const char *config_role_name(enum agent_role role)
{
	switch (role) {
	case ROLE_CZAR:
		return "czar";
	case ROLE_WORKER:
		return "worker";
	default:
		return "none";
	}
}
