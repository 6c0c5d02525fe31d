/* inventory.c: CPUs, memory, NICs and machine UUID from sysfs/procfs. */
#include "inventory.h"

#include "fileio.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* "0-3,6" -> 5 */
static int count_cpu_list(const char *s)
{
	int count = 0;

	while (*s) {
		char *end;
		long a = strtol(s, &end, 10), b = a;

		if (end == s)
			break;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		if (b >= a)
			count += (int)(b - a + 1);
		s = *end == ',' ? end + 1 : end;
	}
	return count;
}

static uint64_t read_mem_total(const char *proc_root)
{
	char path[512], line[256];
	unsigned long long kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/meminfo", proc_root);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return (uint64_t)kb * 1024;
}

static void read_nic(const char *sysfs_root, const char *name, struct inv_nic *nic)
{
	char path[512], buf[64];

	memset(nic, 0, sizeof(*nic));
	snprintf(nic->name, sizeof(nic->name), "%s", name);
	/* read straight into the fields: a longer value keeps its first bytes */
	snprintf(path, sizeof(path), "%s/class/net/%s/address", sysfs_root, name);
	fileio_read_line(path, nic->mac, sizeof(nic->mac));
	snprintf(path, sizeof(path), "%s/class/net/%s/operstate", sysfs_root, name);
	fileio_read_line(path, nic->operstate, sizeof(nic->operstate));
	nic->carrier = -1;
	snprintf(path, sizeof(path), "%s/class/net/%s/carrier", sysfs_root, name);
	if (fileio_read_line(path, buf, sizeof(buf)) > 0)
		nic->carrier = buf[0] == '1';
	snprintf(path, sizeof(path), "%s/class/net/%s/speed", sysfs_root, name);
	if (fileio_read_line(path, buf, sizeof(buf)) > 0 && buf[0] != '-')
		nic->speed_mbps = (uint32_t)strtoul(buf, NULL, 10);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct inv_nic *)a)->name, ((const struct inv_nic *)b)->name);
}

int inventory_read(const char *sysfs_root, const char *proc_root, struct inventory *ret)
{
	char path[512], buf[256];
	struct dirent *de;
	DIR *d;

	memset(ret, 0, sizeof(*ret));
	snprintf(path, sizeof(path), "%s/devices/system/cpu/online", sysfs_root);
	if (fileio_read_line(path, buf, sizeof(buf)) > 0)
		ret->cpus = count_cpu_list(buf);
	ret->mem_bytes = read_mem_total(proc_root);
	snprintf(path, sizeof(path), "%s/class/dmi/id/product_uuid", sysfs_root);
	if (fileio_read_line(path, buf, sizeof(buf)) == 36)
		memcpy(ret->uuid, buf, 37);

	snprintf(path, sizeof(path), "%s/class/net", sysfs_root);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d)) && ret->n_nics < INV_MAX_NICS) {
		char dev[sizeof(path) + sizeof(de->d_name) + sizeof("/device")];

		/* Physical NICs only: they have a backing device (tunnels,
		 * bridges and the loopback do not). */
		snprintf(dev, sizeof(dev), "%s/%s/device", path, de->d_name);
		if (de->d_name[0] == '.' || access(dev, F_OK) < 0)
			continue;
		read_nic(sysfs_root, de->d_name, &ret->nics[ret->n_nics++]);
	}
	closedir(d);
	qsort(ret->nics, ret->n_nics, sizeof(ret->nics[0]), by_name);
	return 0;
}

void inventory_refresh_nics(struct inventory *inv, const char *sysfs_root)
{
	struct ifaddrs *ifa, *i;

	for (size_t n = 0; n < inv->n_nics; n++) {
		char name[32];

		snprintf(name, sizeof(name), "%s", inv->nics[n].name);
		read_nic(sysfs_root, name, &inv->nics[n]);
	}
	if (getifaddrs(&ifa) < 0)
		return;
	for (i = ifa; i; i = i->ifa_next) {
		char addr[INET_ADDRSTRLEN];
		uint32_t mask;
		int prefix;

		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !i->ifa_netmask)
			continue;
		for (size_t n = 0; n < inv->n_nics; n++) {
			struct inv_nic *nic = &inv->nics[n];

			if (strcmp(nic->name, i->ifa_name) || nic->n_addrs >= INV_MAX_ADDRS)
				continue;
			inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, addr, sizeof(addr));
			mask = ntohl(((struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr);
			prefix = __builtin_popcount(mask);
			snprintf(nic->addrs[nic->n_addrs++], sizeof(nic->addrs[0]), "%s/%d", addr, prefix);
		}
	}
	freeifaddrs(ifa);
}
