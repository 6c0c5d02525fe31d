/* identity_test.c: machine UUID selection: SMBIOS when real, else the one
 * kept in the data directory, else a new one written there once. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kselftest_harness.h>

#include "../identity.h"

FIXTURE(dir) { char path[64]; };
FIXTURE_SETUP(dir) { strcpy(self->path, "/tmp/ident.XXXXXX"); ASSERT_NE(NULL, mkdtemp(self->path)); }
FIXTURE_TEARDOWN(dir)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->path);
	(void)!system(cmd);
}

TEST(placeholders_unusable)
{
	EXPECT_FALSE(identity_uuid_usable("00000000-0000-0000-0000-000000000000"));
	EXPECT_FALSE(identity_uuid_usable("FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"));
	EXPECT_FALSE(identity_uuid_usable("03000200-0400-0500-0006-000700080009"));
	EXPECT_FALSE(identity_uuid_usable("Not Settable"));
	EXPECT_FALSE(identity_uuid_usable(""));
	EXPECT_FALSE(identity_uuid_usable(NULL));
	EXPECT_FALSE(identity_uuid_usable("4c4c4544-0042-3510-8058-b4c04f4e3732x"));
	EXPECT_TRUE(identity_uuid_usable("4C4C4544-0042-3510-8058-B4C04F4E3732"));
}

TEST_F(dir, smbios_wins_and_is_lowercased)
{
	char u[IDENTITY_UUID_LEN], err[256];
	enum identity_source src;
	ASSERT_EQ(0, identity_machine_uuid("4C4C4544-0042-3510-8058-B4C04F4E3732", self->path, u, &src, err, sizeof(err)));
	EXPECT_STREQ("4c4c4544-0042-3510-8058-b4c04f4e3732", u);
	EXPECT_EQ(IDENTITY_SMBIOS, src);
}

TEST_F(dir, generated_once_then_stored)
{
	char u1[IDENTITY_UUID_LEN], u2[IDENTITY_UUID_LEN], err[256], path[128];
	enum identity_source src;
	ASSERT_EQ(0, identity_machine_uuid("00000000-0000-0000-0000-000000000000", self->path, u1, &src, err, sizeof(err)));
	EXPECT_EQ(IDENTITY_GENERATED, src);
	EXPECT_TRUE(identity_uuid_usable(u1));
	EXPECT_EQ('4', u1[14]);
	ASSERT_EQ(0, identity_machine_uuid(NULL, self->path, u2, &src, err, sizeof(err)));
	EXPECT_EQ(IDENTITY_STORED, src);
	EXPECT_STREQ(u1, u2);
	/* a damaged file is reported, never silently replaced */
	snprintf(path, sizeof(path), "%s/machine-uuid", self->path);
	FILE *f = fopen(path, "w");
	fputs("garbage\n", f);
	fclose(f);
	EXPECT_EQ(-EBADMSG, identity_machine_uuid(NULL, self->path, u2, &src, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "machine-uuid"));
}

TEST_HARNESS_MAIN
