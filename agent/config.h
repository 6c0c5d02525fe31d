/* config.h: the node's configuration keys and where they come from.
 *
 * Sources, later overriding earlier: the kernel command line
 * (`qserv.KEY=VALUE` words of /proc/cmdline), then `/qserv.conf` on the boot
 * medium (`KEY=VALUE` lines, `#` comments).  Keys are declared once in a table
 * (config.c) with their parser; unknown keys and malformed lines are reported
 * with their source and position and otherwise ignored, so a typo never
 * stops a node from booting.  config_verify() then checks the combination. */
#ifndef AGENT_CONFIG_H
#define AGENT_CONFIG_H

#include <stddef.h>

enum agent_role { ROLE_NONE, ROLE_CZAR, ROLE_WORKER };

struct agent_config {
	enum agent_role role;
	char join[256];     /* registry host:port; empty on the czar */
	char token[128];    /* join token */
	char ca[80];        /* "sha256:<hex>" pin of the cluster CA */
	char cluster[64];   /* cluster name */
	char disks[512];    /* storage selector expression */
	char wipe[512];     /* comma-separated disk ids the operator allows wiping */
	char install[512];  /* disk selector to install the boot files onto */
	char ip[128];       /* "dhcp" (default) or addr/prefix[,gateway] */
	char debug[32];     /* "shell" adds a console shell */
	char hostname[64];  /* initial hostname (the registry assigns the real one) */
	char zone[65];      /* failure zone (e.g. a rack), "" = none: 1-64 of [A-Za-z0-9._-] */
	char alert_webhook[256];   /* czar: where alerts go (docs/operations.md), "" = none */
	char alert_slack[256];
	char alert_sentry[256];
	char firefighter[65];      /* czar: the catalog the firefighter flock reads, "" = no flock */
};

/* Called once per problem found while parsing; src is "cmdline" or a path,
 * pos the word (cmdline) or line (file) number. */
typedef void (*config_warn_fn)(void *ctx, const char *src, int pos, const char *msg);

void config_defaults(struct agent_config *cfg);
/* Parse a kernel command line; only `qserv.` words are considered. */
void config_parse_cmdline(struct agent_config *cfg, const char *cmdline,
			  config_warn_fn warn, void *ctx);
/* Parse KEY=VALUE lines of a config file held in memory. */
void config_parse_file(struct agent_config *cfg, const char *src, const char *text,
		       config_warn_fn warn, void *ctx);
/* Set one key; returns 0, -ENOENT for an unknown key, -EINVAL for a bad value
 * (err filled in).  Used by both parsers. */
int config_set(struct agent_config *cfg, const char *key, const char *value,
	       char *err, size_t errlen);
/* Check the whole configuration; returns the number of problems, each
 * reported through warn with src "config". */
int config_verify(const struct agent_config *cfg, config_warn_fn warn, void *ctx);
const char *config_role_name(enum agent_role role);

#endif
