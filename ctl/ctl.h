/* ctl.h: qservctl subcommands.  Each is `int ctl_NAME(int argc, char
 * **argv)` with argv[0] the subcommand name; it returns the exit status.
 * Global options parsed by the dispatcher before the subcommand: --url
 * (ctl_url, NULL when not given). */
#ifndef QSERV_CTL_H
#define QSERV_CTL_H

extern const char *ctl_url;

int ctl_ingest(int argc, char **argv);

#endif
