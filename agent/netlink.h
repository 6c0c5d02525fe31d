/* netlink.h: links, addresses and routes over rtnetlink (libmnl).
 *
 * Owns the agent's network bring-up primitives: set a link up, read its
 * carrier, wait for carrier, add an IPv4 address and a default route, flush
 * addresses, list links, and a monitor socket reporting link changes
 * (carrier lost/regained) so the agent can re-run DHCP or re-announce
 * itself.  DHCP itself stays with BusyBox udhcpc; the static case
 * (qserv.ip=A.B.C.D/P[,GW]) is done entirely here.
 *
 * Every call opens its own short-lived NETLINK_ROUTE socket, sends one
 * request with NLM_F_ACK and checks the kernel's answer: errors come back
 * as negative errno (-EEXIST for an address already present is reported,
 * callers decide).  Nothing here logs.  Works in whatever network namespace
 * the calling thread is in, which is how the tests use it. */
#ifndef AGENT_NETLINK_H
#define AGENT_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct netlink_link {
	char name[16];
	int index;
	bool up;          /* IFF_UP */
	bool carrier;     /* IFF_LOWER_UP */
	bool loopback;
};

/* Links of the namespace (loopback included, flagged). *ret_links is malloc'd. */
int netlink_links(struct netlink_link **ret_links, size_t *ret_n);
int netlink_link_get(const char *ifname, struct netlink_link *ret_link);
int netlink_link_set_up(const char *ifname, bool up);
/* Waits until ifname has carrier: 0, or -ETIMEDOUT. */
int netlink_wait_carrier(const char *ifname, int timeout_ms);

/* "A.B.C.D/P" on ifname (-EEXIST when present). */
int netlink_addr_add(const char *ifname, const char *cidr);
/* Default route via gw on ifname (-EEXIST when one exists). */
int netlink_route_add_default(const char *ifname, const char *gw);

/* qserv.ip static form "A.B.C.D/P[,GW]": link up, address, route.  Returns 0
 * or -errno with err saying which step failed. */
int netlink_apply_static(const char *ifname, const char *spec, char *err, size_t errlen);

/* First non-loopback link with carrier after bringing all of them up and
 * waiting up to timeout_ms; -ENODEV when none gets carrier. */
int netlink_pick_link(char ret_ifname[16], int timeout_ms);

/* Monitor: an fd readable when links change; netlink_monitor_read drains
 * it and calls fn for each link event. */
int netlink_monitor_open(void);
typedef void (*netlink_link_fn)(void *ctx, const struct netlink_link *link);
int netlink_monitor_read(int fd, netlink_link_fn fn, void *ctx);

#endif
