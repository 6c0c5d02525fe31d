/* netlink_test.c: agent/netlink.c against the real kernel, inside a
 * private network namespace each test makes for itself (unshare), with a
 * veth pair as the "NIC" and its cable.  Needs root; skipped otherwise.
 * Nothing leaves the namespace, which vanishes with the test process. */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "../netlink.h"

static int private_net(void)
{
	if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0)
		return -1;
	return system("ip link add qa0 type veth peer name qb0 2>/dev/null") == 0 ? 0 : -1;
}

static int sh_has(const char *cmd, const char *needle)
{
	char buf[4096];
	FILE *p = popen(cmd, "r");
	size_t n = p ? fread(buf, 1, sizeof(buf) - 1, p) : 0;
	if (p)
		pclose(p);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

#define NEED_NET() do { if (private_net() < 0) SKIP(return, "needs root and veth support"); } while (0)

TEST(links_up_carrier_address_route)
{
	struct netlink_link l;
	NEED_NET();
	ASSERT_EQ(0, netlink_link_get("qa0", &l));
	EXPECT_FALSE(l.up);
	EXPECT_EQ(-ENODEV, netlink_link_get("nope0", &l));
	ASSERT_EQ(0, netlink_link_set_up("qa0", true));
	/* the cable's other end is down: no carrier yet */
	EXPECT_EQ(-ETIMEDOUT, netlink_wait_carrier("qa0", 200));
	ASSERT_EQ(0, netlink_link_set_up("qb0", true));
	ASSERT_EQ(0, netlink_wait_carrier("qa0", 5000));
	ASSERT_EQ(0, netlink_link_get("qa0", &l));
	EXPECT_TRUE(l.up && l.carrier);
	ASSERT_EQ(0, netlink_addr_add("qa0", "10.77.0.2/24"));
	EXPECT_EQ(-EEXIST, netlink_addr_add("qa0", "10.77.0.2/24"));
	EXPECT_EQ(-EINVAL, netlink_addr_add("qa0", "10.77.0.300/24"));
	EXPECT_EQ(-EINVAL, netlink_addr_add("qa0", "10.77.0.3"));
	EXPECT_EQ(-ENODEV, netlink_addr_add("nope0", "10.77.0.3/24"));
	ASSERT_EQ(0, netlink_route_add_default("qa0", "10.77.0.1"));
	EXPECT_EQ(-EEXIST, netlink_route_add_default("qa0", "10.77.0.1"));
	EXPECT_TRUE(sh_has("ip -4 addr show dev qa0", "inet 10.77.0.2/24"));
	EXPECT_TRUE(sh_has("ip route", "default via 10.77.0.1 dev qa0"));
}

TEST(static_spec_applied_idempotently)
{
	char err[256];
	NEED_NET();
	ASSERT_EQ(0, netlink_link_set_up("qb0", true));
	ASSERT_EQ(0, netlink_apply_static("qa0", "10.78.1.5/16,10.78.0.1", err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(0, netlink_apply_static("qa0", "10.78.1.5/16,10.78.0.1", err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_TRUE(sh_has("ip -4 addr show dev qa0", "inet 10.78.1.5/16"));
	EXPECT_TRUE(sh_has("ip route", "default via 10.78.0.1 dev qa0"));
	EXPECT_EQ(-EINVAL, netlink_apply_static("qa0", "10.78.1.5", err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "A.B.C.D/PREFIX"));
	EXPECT_EQ(-EINVAL, netlink_apply_static("qa0", "10.78.1.5/16,gw", err, sizeof(err)));
	EXPECT_EQ(-ENODEV, netlink_apply_static("nope0", "10.78.1.6/16", err, sizeof(err)));
}

TEST(pick_link_with_carrier)
{
	char name[16];
	char cmd[128];
	int pfd[2];
	NEED_NET();
	/* qc0's far end lives in a further namespace where nobody brings it up:
	 * qc0 never gets carrier, the qa0/qb0 pair does */
	ASSERT_EQ(0, system("ip link add qc0 type veth peer name qd0"));
	ASSERT_EQ(0, pipe(pfd));
	pid_t far = fork();
	ASSERT_GE(far, 0);
	if (far == 0) {
		close(pfd[0]);
		if (unshare(CLONE_NEWNET) == 0)
			(void)!write(pfd[1], "x", 1);
		pause();
		_exit(0);
	}
	close(pfd[1]);
	char c;
	ASSERT_EQ(1, read(pfd[0], &c, 1));
	snprintf(cmd, sizeof(cmd), "ip link set qd0 netns %d", (int)far);
	ASSERT_EQ(0, system(cmd));
	ASSERT_EQ(0, netlink_pick_link(name, 5000));
	EXPECT_TRUE(!strcmp(name, "qa0") || !strcmp(name, "qb0")) TH_LOG("picked %s", name);
	struct netlink_link l;
	ASSERT_EQ(0, netlink_link_get("qc0", &l));
	EXPECT_TRUE(l.up && !l.carrier);
	kill(far, SIGKILL);
	waitpid(far, NULL, 0);
}

struct seen {
	int lost, back;
};

static void on_link(void *ctx, const struct netlink_link *l)
{
	struct seen *s = ctx;
	if (strcmp(l->name, "qa0"))
		return;
	if (!l->carrier)
		s->lost++;
	else
		s->back++;
}

TEST(monitor_reports_carrier_changes)
{
	struct seen s = { 0 };
	NEED_NET();
	ASSERT_EQ(0, netlink_link_set_up("qa0", true));
	ASSERT_EQ(0, netlink_link_set_up("qb0", true));
	ASSERT_EQ(0, netlink_wait_carrier("qa0", 5000));
	int fd = netlink_monitor_open();
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, netlink_link_set_up("qb0", false));      /* cable pulled */
	for (int i = 0; i < 50 && !s.lost; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 100) > 0)
			netlink_monitor_read(fd, on_link, &s);
	}
	EXPECT_GE(s.lost, 1);
	ASSERT_EQ(0, netlink_link_set_up("qb0", true));       /* and back */
	for (int i = 0; i < 50 && !s.back; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 100) > 0)
			netlink_monitor_read(fd, on_link, &s);
	}
	EXPECT_GE(s.back, 1);
	close(fd);
}

TEST_HARNESS_MAIN
