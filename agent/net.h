/* net.h: first network bring-up of the image.
 *
 * ip=dhcp: one supervised BusyBox `udhcpc -f` per NIC with carrier (all NICs
 * when none reports carrier yet); the lease script /etc/udhcpc.script applies
 * address and routes.  ip=A.B.C.D/P[,GW]: the address goes on the first NIC.
 * The rtnetlink (libmnl) version of link and address handling replaces the
 * BusyBox calls in the agent issue; this keeps the image reachable meanwhile. */
#ifndef AGENT_NET_H
#define AGENT_NET_H

#include "config.h"
#include "inventory.h"
#include "supervise.h"

/* Returns the number of interfaces configured or supervised, or a negative errno. */
int net_bring_up(const struct agent_config *cfg, const struct inventory *inv,
		 struct supervisor *sup, char *err, size_t errlen);

#endif
