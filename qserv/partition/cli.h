/* cli.h: the command line shared by qserv-partition and
 * qserv-partition-matches (sph-partition's form): config files merged in
 * order, then --KEY=VALUE options overriding them; and the run with its
 * JSON summary on stdout.  Both programs are a usage text and a mode. */
#ifndef QPART_CLI_H
#define QPART_CLI_H

#include <stdbool.h>
#include <stdio.h>

struct qpart_config;

/* Builds the configuration from argv.  Returns 0 with *ret set (free with
 * qpart_config_free), 1 when --help was asked (usage printed on stdout),
 * or 2 after printing "PROG: reason" and the usage on stderr. */
int qpart_cli_config(int argc, char **argv, const char *prog, void (*usage)(FILE *f),
		     struct qpart_config **ret);

/* Resolves the configuration (matches: qserv-partition-matches' keys),
 * runs it, prints the JSON summary.  Returns the exit status: 0 ok, 1 bad
 * rows or I/O error, 2 configuration error.  Frees cfg. */
int qpart_cli_run(struct qpart_config *cfg, const char *prog, bool matches);

#endif
