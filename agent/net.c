/* net.c: DHCP through supervised udhcpc, static addresses through BusyBox ip
 * (see net.h). */
#include "net.h"

#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

static int run(char *const argv[])
{
	pid_t pid;
	int status;

	if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) != 0)
		return -errno;
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

static int static_address(const struct agent_config *cfg, const char *nic, char *err, size_t errlen)
{
	char addr[64], gw[64] = "";
	const char *comma = strchr(cfg->ip, ',');
	size_t alen = comma ? (size_t)(comma - cfg->ip) : strlen(cfg->ip);

	snprintf(addr, sizeof(addr), "%.*s", (int)alen, cfg->ip);
	if (comma)
		snprintf(gw, sizeof(gw), "%s", comma + 1);
	{
		char *up[] = { "/sbin/ip", "link", "set", (char *)nic, "up", NULL };
		char *add[] = { "/sbin/ip", "addr", "add", addr, "dev", (char *)nic, NULL };
		char *route[] = { "/sbin/ip", "route", "add", "default", "via", gw, NULL };

		if (run(up) < 0 || run(add) < 0 || (gw[0] && run(route) < 0)) {
			snprintf(err, errlen, "ip %s on %s failed", cfg->ip, nic);
			return -EIO;
		}
	}
	return 1;
}

int net_bring_up(const struct agent_config *cfg, const struct inventory *inv,
		 struct supervisor *sup, char *err, size_t errlen)
{
	size_t with_carrier = 0;
	int n = 0;

	if (inv->n_nics == 0) {
		snprintf(err, errlen, "no network interface found");
		return -ENODEV;
	}
	if (strcmp(cfg->ip, "dhcp"))
		return static_address(cfg, inv->nics[0].name, err, errlen);
	for (size_t i = 0; i < inv->n_nics; i++)
		with_carrier += inv->nics[i].carrier == 1;
	for (size_t i = 0; i < inv->n_nics; i++) {
		const char *nic = inv->nics[i].name;
		char name[32];
		char *argv[] = { "/sbin/udhcpc", "-f", "-S", "-i", (char *)nic, "-s",
				 "/etc/udhcpc.script", "-x", "hostname:qserv-node", NULL };

		if (with_carrier && inv->nics[i].carrier != 1)
			continue;
		snprintf(name, sizeof(name), "dhcp-%s", nic);
		if (sup_add(sup, name, argv) >= 0)
			n++;
	}
	return n;
}
