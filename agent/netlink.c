/* netlink.c: rtnetlink through libmnl (see netlink.h).
 *
 * request() is the one round trip every change uses: build the message in
 * a stack buffer, send with NLM_F_ACK, run mnl_cb_run until the ACK (or a
 * dump's NLMSG_DONE), and turn the kernel's NLMSG_ERROR into -errno.
 * Carrier waits poll the link every 50 ms rather than subscribing: they are
 * short, happen at boot, and polling keeps the code small. */
#include "netlink.h"

#include "monotime.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000   /* linux/if.h; clashes with net/if.h */
#endif

static int request(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	int rc;
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		mnl_socket_close(nl);
		return rc;
	}
	unsigned portid = mnl_socket_get_portid(nl);
	nlh->nlmsg_seq = (unsigned)time(NULL);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		rc = -errno;
		mnl_socket_close(nl);
		return rc;
	}
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0) {
			rc = -errno;
			break;
		}
		rc = mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, portid, cb, data);
		if (rc <= MNL_CB_STOP) {
			rc = rc < 0 ? -errno : 0;
			break;
		}
	}
	mnl_socket_close(nl);
	return rc;
}

/* ---- links ----------------------------------------------------------------- */

struct link_list {
	struct netlink_link *v;
	size_t n, cap;
};

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_list *l = data;
	struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	struct nlattr *attr;
	struct netlink_link k = { .index = ifm->ifi_index, .up = ifm->ifi_flags & IFF_UP,
				  .carrier = ifm->ifi_flags & IFF_LOWER_UP,
				  .loopback = ifm->ifi_flags & IFF_LOOPBACK };
	mnl_attr_for_each(attr, nlh, sizeof(*ifm)) {
		if (mnl_attr_get_type(attr) == IFLA_IFNAME && mnl_attr_validate(attr, MNL_TYPE_STRING) >= 0)
			snprintf(k.name, sizeof(k.name), "%s", mnl_attr_get_str(attr));
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct netlink_link *p = realloc(l->v, cap * sizeof(*p));
		if (!p)
			return MNL_CB_ERROR;
		l->v = p;
		l->cap = cap;
	}
	l->v[l->n++] = k;
	return MNL_CB_OK;
}

int netlink_links(struct netlink_link **ret_links, size_t *ret_n)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct link_list l = { 0 };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	struct rtgenmsg *rt = mnl_nlmsg_put_extra_header(nlh, sizeof(*rt));
	rt->rtgen_family = AF_PACKET;
	int rc = request(nlh, link_cb, &l);
	if (rc < 0) {
		free(l.v);
		return rc;
	}
	*ret_links = l.v;
	*ret_n = l.n;
	return 0;
}

int netlink_link_get(const char *ifname, struct netlink_link *ret_link)
{
	struct netlink_link *v;
	size_t n;
	int rc = netlink_links(&v, &n);
	if (rc < 0)
		return rc;
	rc = -ENODEV;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(v[i].name, ifname)) {
			*ret_link = v[i];
			rc = 0;
			break;
		}
	}
	free(v);
	return rc;
}

int netlink_link_set_up(const char *ifname, bool up)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned idx = if_nametoindex(ifname);
	if (!idx)
		return -ENODEV;
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = (int)idx;
	ifm->ifi_change = IFF_UP;
	ifm->ifi_flags = up ? IFF_UP : 0;
	return request(nlh, NULL, NULL);
}

int netlink_wait_carrier(const char *ifname, int timeout_ms)
{
	int64_t end = monotime_ms() + timeout_ms;
	for (;;) {
		struct netlink_link l;
		int rc = netlink_link_get(ifname, &l);
		if (rc < 0)
			return rc;
		if (l.carrier)
			return 0;
		if (monotime_ms() >= end)
			return -ETIMEDOUT;
		usleep(50000);
	}
}

int netlink_pick_link(char ret_ifname[16], int timeout_ms)
{
	struct netlink_link *v;
	size_t n;
	int rc = netlink_links(&v, &n);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (!v[i].loopback && !v[i].up)
			netlink_link_set_up(v[i].name, true);
	free(v);
	int64_t end = monotime_ms() + timeout_ms;
	for (;;) {
		if ((rc = netlink_links(&v, &n)) < 0)
			return rc;
		rc = -ENODEV;
		for (size_t i = 0; i < n && rc < 0; i++) {
			if (!v[i].loopback && v[i].carrier) {
				memcpy(ret_ifname, v[i].name, 16);
				rc = 0;
			}
		}
		free(v);
		if (rc == 0 || monotime_ms() >= end)
			return rc;
		usleep(50000);
	}
}

/* ---- addresses and routes -------------------------------------------------- */

static int parse_cidr(const char *cidr, struct in_addr *ret_a, unsigned *ret_prefix)
{
	char a[32];
	unsigned p;
	const char *slash = strchr(cidr, '/');
	if (!slash || (size_t)(slash - cidr) >= sizeof(a))
		return -EINVAL;
	memcpy(a, cidr, (size_t)(slash - cidr));
	a[slash - cidr] = '\0';
	char *end;
	p = (unsigned)strtoul(slash + 1, &end, 10);
	if (*end || end == slash + 1 || p > 32 || inet_pton(AF_INET, a, ret_a) != 1)
		return -EINVAL;
	*ret_prefix = p;
	return 0;
}

int netlink_addr_add(const char *ifname, const char *cidr)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct in_addr a;
	unsigned prefix, idx = if_nametoindex(ifname);
	if (!idx)
		return -ENODEV;
	if (parse_cidr(cidr, &a, &prefix) < 0)
		return -EINVAL;
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = idx;
	mnl_attr_put_u32(nlh, IFA_LOCAL, a.s_addr);
	mnl_attr_put_u32(nlh, IFA_ADDRESS, a.s_addr);
	if (prefix < 31) {
		uint32_t mask = prefix ? htonl(~0u << (32 - prefix)) : 0;
		mnl_attr_put_u32(nlh, IFA_BROADCAST, a.s_addr | ~mask);
	}
	return request(nlh, NULL, NULL);
}

int netlink_route_add_default(const char *ifname, const char *gw)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct in_addr g;
	unsigned idx = if_nametoindex(ifname);
	if (!idx)
		return -ENODEV;
	if (inet_pton(AF_INET, gw, &g) != 1)
		return -EINVAL;
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 0;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_GATEWAY, g.s_addr);
	mnl_attr_put_u32(nlh, RTA_OIF, idx);
	return request(nlh, NULL, NULL);
}

int netlink_apply_static(const char *ifname, const char *spec, char *err, size_t errlen)
{
	char cidr[64], gw[32] = "";
	const char *comma = strchr(spec, ',');
	size_t n = comma ? (size_t)(comma - spec) : strlen(spec);
	struct in_addr a;
	unsigned p;
	if (n >= sizeof(cidr) || (comma && strlen(comma + 1) >= sizeof(gw))) {
		snprintf(err, errlen, "ip=%s: too long", spec);
		return -EINVAL;
	}
	memcpy(cidr, spec, n);
	cidr[n] = '\0';
	if (comma)
		strcpy(gw, comma + 1);
	if (parse_cidr(cidr, &a, &p) < 0 || (gw[0] && inet_pton(AF_INET, gw, &a) != 1)) {
		snprintf(err, errlen, "ip=%s: want A.B.C.D/PREFIX[,GATEWAY]", spec);
		return -EINVAL;
	}
	int rc = netlink_link_set_up(ifname, true);
	if (rc < 0) {
		snprintf(err, errlen, "link %s up: %s", ifname, strerror(-rc));
		return rc;
	}
	rc = netlink_addr_add(ifname, cidr);
	if (rc < 0 && rc != -EEXIST) {
		snprintf(err, errlen, "address %s on %s: %s", cidr, ifname, strerror(-rc));
		return rc;
	}
	if (gw[0]) {
		rc = netlink_route_add_default(ifname, gw);
		if (rc < 0 && rc != -EEXIST) {
			snprintf(err, errlen, "default route via %s on %s: %s", gw, ifname, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* ---- monitor ----------------------------------------------------------------- */

int netlink_monitor_open(void)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, RTMGRP_LINK, MNL_SOCKET_AUTOPID) < 0) {
		int rc = -errno;
		mnl_socket_close(nl);
		return rc;
	}
	/* Keep only the fd: libmnl's struct is a thin wrapper we don't need for
	 * reading.  Dup it so closing the wrapper leaves the socket open. */
	int fd = dup(mnl_socket_get_fd(nl));
	mnl_socket_close(nl);
	return fd < 0 ? -errno : fd;
}

struct mon_ctx {
	netlink_link_fn fn;
	void *ctx;
};

static int mon_cb(const struct nlmsghdr *nlh, void *data)
{
	struct mon_ctx *m = data;
	struct link_list l = { 0 };
	if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
		return MNL_CB_OK;
	if (link_cb(nlh, &l) == MNL_CB_OK && l.n == 1) {
		if (nlh->nlmsg_type == RTM_DELLINK)
			l.v[0].up = l.v[0].carrier = false;
		m->fn(m->ctx, &l.v[0]);
	}
	free(l.v);
	return MNL_CB_OK;
}

int netlink_monitor_read(int fd, netlink_link_fn fn, void *ctx)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mon_ctx m = { fn, ctx };
	int events = 0;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN ? events : -errno;
		if (n == 0)
			return events;
		mnl_cb_run(buf, (size_t)n, 0, 0, mon_cb, &m);
		events++;
	}
}
