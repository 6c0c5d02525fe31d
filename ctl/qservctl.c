/* qservctl.c: the operator's command-line tool, a table of subcommands.
 *
 *   qservctl [--url URL] [--auth-key-file F] [--ca F] COMMAND [ARGS...]
 *
 * --auth-key-file and --ca are every command's admin key and cluster CA
 * (they become $QSERV_AUTH_KEY and $QSERV_CA_FILE, what the commands and
 * qserv/common/qhttpc.h read).
 * Each subcommand lives in its own file (ingest.c, ...) and is one row of
 * the table below. */
#include "ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ctl_url;

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "backup", ctl_backup, "backup DB [--to DIR] [--name NAME]: a consistent backup of a published database "
				"(on the workers' bulk pools, or downloaded to DIR)" },
	{ "restore", ctl_restore, "restore NAME|DIR [--as DB]: a backup back into the cluster (the database must not "
				  "exist), published" },
	{ "ingest", ctl_ingest, "ingest DIR: load a qserv-ingest dataset (metadata.json) through the controller" },
	{ "nodes", ctl_nodes, "nodes [--json] | nodes remove NAME [--force] | nodes readmit NAME: the cluster's "
	  "nodes as the registry sees them; decommission a node (on the czar)" },
	{ "replicas", ctl_replicas, "replicas [--json] | replicas level N [DB]: replica levels, chunks under level, "
				    "workers (the controller's view)" },
	{ "quota", ctl_quota, "quota show|set|delete ...: the czar's per-user quotas (its HTTPS /quota API, an admin)" },
	{ "token", ctl_token, "token [show|rotate]: print the join token and CA pin, or rotate the token" },
};

static int usage(FILE *f)
{
	fprintf(f, "usage: qservctl [--url URL] [--auth-key-file F] [--ca F] COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	return f == stderr ? 2 : 0;
}

/* The first line of path into $QSERV_AUTH_KEY. */
static int key_to_env(const char *path)
{
	char key[320] = "";
	FILE *f = fopen(path, "r");
	if (!f || !fgets(key, sizeof key, f)) {
		fprintf(stderr, "qservctl: %s: cannot read the admin key\n", path);
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	key[strcspn(key, "\r\n")] = '\0';
	return setenv("QSERV_AUTH_KEY", key, 1);
}

int main(int argc, char **argv)
{
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--auth-key-file") && i + 1 < argc) {
			if (key_to_env(argv[++i]) < 0)
				return 2;
		} else if (!strcmp(argv[i], "--ca") && i + 1 < argc) {
			setenv("QSERV_CA_FILE", argv[++i], 1);
		} else if (!strcmp(argv[i], "--url") && i + 1 < argc)
			ctl_url = argv[++i];
		else if (!strncmp(argv[i], "--url=", 6))
			ctl_url = argv[i] + 6;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return usage(stdout);
		else
			return usage(stderr);
	}
	if (i >= argc)
		return usage(stderr);
	for (size_t k = 0; k < sizeof commands / sizeof *commands; k++)
		if (!strcmp(argv[i], commands[k].name))
			return commands[k].fn(argc - i, argv + i);
	fprintf(stderr, "qservctl: unknown command '%s'\n", argv[i]);
	return usage(stderr);
}
