/* inventory.h: what the node is made of, read from sysfs and procfs.
 *
 * CPUs, memory, network interfaces (MAC, link state, carrier, addresses)
 * and the machine UUID.  Block devices come from the storage library
 * (storage/qstorage.h), which owns disk discovery.  Roots are parameters so
 * unit tests read fake trees. */
#ifndef AGENT_INVENTORY_H
#define AGENT_INVENTORY_H

#include <stddef.h>
#include <stdint.h>

#define INV_MAX_NICS 16
#define INV_MAX_ADDRS 8

struct inv_nic {
	char name[32];
	char mac[18];
	char operstate[16];
	int carrier;                         /* 1 up, 0 down, -1 unknown */
	uint32_t speed_mbps;                 /* 0 when unknown */
	size_t n_addrs;
	char addrs[INV_MAX_ADDRS][64];       /* "A.B.C.D/prefix" */
};

struct inventory {
	int cpus;
	uint64_t mem_bytes;
	char uuid[40];                       /* SMBIOS product UUID, "" if none */
	size_t n_nics;
	struct inv_nic nics[INV_MAX_NICS];
};

/* Reads CPUs, memory, UUID and NICs (without addresses) from the trees. */
int inventory_read(const char *sysfs_root, const char *proc_root, struct inventory *ret);
/* Re-reads link state and carrier of each NIC and adds its live IPv4
 * addresses (getifaddrs). */
void inventory_refresh_nics(struct inventory *inv, const char *sysfs_root);

#endif
