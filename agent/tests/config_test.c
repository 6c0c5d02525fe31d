/* config_test.c: the configuration parsers and verify pass, including
 * malformed lines, unknown keys and oversized values (a clear warning,
 * never a crash, never a half-applied value). */
#include <kselftest_harness.h>

#include "agent/config.h"

#include <stdio.h>
#include <string.h>

struct warnings {
	int n;
	char last[512];
};

static void collect(void *ctx, const char *src, int pos, const char *msg)
{
	struct warnings *w = ctx;

	w->n++;
	snprintf(w->last, sizeof(w->last), "%s:%d: %s", src, pos, msg);
}

#define PIN "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

TEST(cmdline_keys)
{
	struct agent_config c;
	struct warnings w = { 0 };

	config_defaults(&c);
	config_parse_cmdline(&c, "console=ttyS0 quiet qserv.role=worker qserv.join=10.0.0.1:7070 "
			     "qserv.token=abc.def qserv.ca=" PIN " qserv.disks=rotational==false\n",
			     collect, &w);
	EXPECT_EQ(0, w.n);
	EXPECT_EQ(ROLE_WORKER, c.role);
	EXPECT_STREQ("10.0.0.1:7070", c.join);
	EXPECT_STREQ("abc.def", c.token);
	EXPECT_STREQ(PIN, c.ca);
	EXPECT_STREQ("rotational==false", c.disks);
	EXPECT_STREQ("dhcp", c.ip);
	EXPECT_EQ(0, config_verify(&c, collect, &w));
}

TEST(file_overrides_cmdline)
{
	struct agent_config c;
	struct warnings w = { 0 };

	config_defaults(&c);
	config_parse_cmdline(&c, "qserv.role=worker qserv.cluster=a", collect, &w);
	config_parse_file(&c, "/qserv.conf", "# comment\n\n  role = czar\nrole=czar\ncluster=b\r\n",
			  collect, &w);
	/* "role = czar" has a key with a space: reported, not applied */
	EXPECT_EQ(1, w.n);
	EXPECT_NE(NULL, strstr(w.last, "/qserv.conf:3"));
	EXPECT_EQ(ROLE_CZAR, c.role);
	EXPECT_STREQ("b", c.cluster);
}

TEST(malformed_and_unknown)
{
	struct agent_config c;
	struct warnings w = { 0 };

	config_defaults(&c);
	config_parse_file(&c, "f", "just-a-word\nflavour=vanilla\n=x\nrole=king\nip=10.1.2.3\n",
			  collect, &w);
	EXPECT_EQ(5, w.n);
	EXPECT_EQ(ROLE_NONE, c.role);
	EXPECT_STREQ("dhcp", c.ip);
	EXPECT_NE(NULL, strstr(w.last, "f:5: ip:"));
}

TEST(oversized_value_refused_whole)
{
	struct agent_config c;
	struct warnings w = { 0 };
	char line[4096];

	config_defaults(&c);
	strcpy(c.token, "old");
	snprintf(line, sizeof(line), "token=%0900d\n", 7);
	config_parse_file(&c, "f", line, collect, &w);
	EXPECT_EQ(1, w.n);
	EXPECT_STREQ("old", c.token);
}

TEST(ca_pin_and_ip_checked)
{
	struct agent_config c;
	char err[160];

	config_defaults(&c);
	EXPECT_EQ(-EINVAL, config_set(&c, "ca", "sha256:xyz", err, sizeof(err)));
	EXPECT_EQ(0, config_set(&c, "ip", "192.168.7.9/24,192.168.7.1", err, sizeof(err)));
	EXPECT_EQ(-EINVAL, config_set(&c, "ip", "192.168.7.900/24", err, sizeof(err)));
	EXPECT_EQ(-ENOENT, config_set(&c, "colour", "red", err, sizeof(err)));
}

/* zone: 1-64 of [A-Za-z0-9._-] (the registry's and the controller's rule);
 * a bad value is reported with its source and position and ignored, the
 * file's value overriding the command line's like any key. */
TEST(zone_checked_and_overridden)
{
	struct agent_config c;
	struct warnings w = { 0 };
	char err[160], long_zone[80];

	config_defaults(&c);
	EXPECT_STREQ("", c.zone);
	config_parse_cmdline(&c, "quiet qserv.role=worker qserv.zone=rack1", collect, &w);
	EXPECT_EQ(0, w.n);
	EXPECT_STREQ("rack1", c.zone);
	config_parse_file(&c, "/qserv.conf", "zone=row-2.rack_07\n", collect, &w);
	EXPECT_EQ(0, w.n);
	EXPECT_STREQ("row-2.rack_07", c.zone);
	/* bad values: reported with the source and position, the old zone kept */
	config_parse_cmdline(&c, "qserv.role=worker qserv.zone=rack/1", collect, &w);
	EXPECT_EQ(1, w.n);
	EXPECT_NE(NULL, strstr(w.last, "cmdline:2: zone: zone must be 1-64 characters")) TH_LOG("%s", w.last);
	EXPECT_NE(NULL, strstr(w.last, "'rack/1'")) TH_LOG("%s", w.last);
	config_parse_file(&c, "/qserv.conf", "# rack\nzone=\nzone=rack 1\n", collect, &w);
	EXPECT_EQ(3, w.n);
	EXPECT_NE(NULL, strstr(w.last, "/qserv.conf:3: zone:")) TH_LOG("%s", w.last);
	EXPECT_STREQ("row-2.rack_07", c.zone);
	/* 64 characters are a zone, 65 are not */
	memset(long_zone, 'z', 64);
	long_zone[64] = '\0';
	EXPECT_EQ(0, config_set(&c, "zone", long_zone, err, sizeof(err)));
	EXPECT_STREQ(long_zone, c.zone);
	strcat(long_zone, "z");
	EXPECT_EQ(-EINVAL, config_set(&c, "zone", long_zone, err, sizeof(err)));
	EXPECT_EQ(-EINVAL, config_set(&c, "zone", "r\xc3\xa4" "ck", err, sizeof(err)));
	EXPECT_EQ(64, strlen(c.zone));
}

TEST(verify_reports_incomplete_join)
{
	struct agent_config c;
	struct warnings w = { 0 };

	config_defaults(&c);
	c.role = ROLE_WORKER;
	EXPECT_EQ(1, config_verify(&c, collect, &w));
	strcpy(c.join, "czar:7070");
	EXPECT_EQ(1, config_verify(&c, collect, &w));
	EXPECT_NE(NULL, strstr(w.last, "token"));
}

TEST(garbage_never_crashes)
{
	struct agent_config c;
	struct warnings w = { 0 };
	char buf[512];
	unsigned seed = 1;

	for (int round = 0; round < 2000; round++) {
		for (size_t i = 0; i < sizeof(buf) - 1; i++) {
			seed = seed * 1103515245 + 12345;
			buf[i] = (char)((seed >> 16) % 96 + 32);
			if ((seed >> 8) % 17 == 0)
				buf[i] = '\n';
			if ((seed >> 9) % 23 == 0)
				buf[i] = '=';
		}
		buf[sizeof(buf) - 1] = '\0';
		config_defaults(&c);
		config_parse_file(&c, "fuzz", buf, collect, &w);
		config_parse_cmdline(&c, buf, collect, &w);
	}
	EXPECT_LT(0, w.n);
}

TEST_HARNESS_MAIN
