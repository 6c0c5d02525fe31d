/* identity.c: machine UUID from SMBIOS or kept on the node's disk (identity.h). */
#include "identity.h"
#include "tls.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const placeholders[] = {
	"00000000-0000-0000-0000-000000000000",
	"ffffffff-ffff-ffff-ffff-ffffffffffff",
	"03000200-0400-0500-0006-000700080009",   /* common unset OEM value */
	"12345678-1234-5678-90ab-cddeefaabbcc",
};

static bool uuid_syntax(const char *u)
{
	if (strlen(u) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (u[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)u[i])) {
			return false;
		}
	}
	return true;
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

bool identity_uuid_usable(const char *uuid)
{
	char u[IDENTITY_UUID_LEN];
	if (!uuid || !uuid_syntax(uuid))
		return false;
	memcpy(u, uuid, sizeof(u));
	lower(u);
	for (size_t i = 0; i < sizeof(placeholders) / sizeof(placeholders[0]); i++)
		if (!strcmp(u, placeholders[i]))
			return false;
	return true;
}

const char *identity_source_name(enum identity_source s)
{
	return s == IDENTITY_SMBIOS ? "smbios" : s == IDENTITY_STORED ? "stored" : "generated";
}

int identity_machine_uuid(const char *smbios_uuid, const char *state_dir,
			  char ret_uuid[IDENTITY_UUID_LEN], enum identity_source *ret_source,
			  char *err, size_t errlen)
{
	char path[512], hex[33], u[IDENTITY_UUID_LEN], *text = NULL;
	if (identity_uuid_usable(smbios_uuid)) {
		memcpy(ret_uuid, smbios_uuid, IDENTITY_UUID_LEN);
		lower(ret_uuid);
		*ret_source = IDENTITY_SMBIOS;
		return 0;
	}
	snprintf(path, sizeof(path), "%s/machine-uuid", state_dir);
	int rc = tls_file_read(path, &text);
	if (rc == 0) {
		text[strcspn(text, "\r\n")] = '\0';
		if (identity_uuid_usable(text)) {
			memcpy(ret_uuid, text, IDENTITY_UUID_LEN);
			lower(ret_uuid);
			*ret_source = IDENTITY_STORED;
			free(text);
			return 0;
		}
		free(text);
		snprintf(err, errlen, "%s does not hold a UUID; refusing to replace it", path);
		return -EBADMSG;
	}
	if (rc != -ENOENT) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	if (mkdir(state_dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", state_dir, strerror(errno));
		return -errno;
	}
	if ((rc = tls_random_hex(16, hex)) < 0)
		return rc;
	hex[12] = '4';                                     /* version 4 */
	hex[16] = "89ab"[(hex[16] - '0') & 3];             /* RFC 4122 variant */
	snprintf(u, sizeof(u), "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
	char line[IDENTITY_UUID_LEN + 1];
	snprintf(line, sizeof(line), "%s\n", u);
	if ((rc = tls_file_write(path, line, 0644)) < 0) {
		snprintf(err, errlen, "cannot store %s: %s", path, strerror(-rc));
		return rc;
	}
	memcpy(ret_uuid, u, IDENTITY_UUID_LEN);
	*ret_source = IDENTITY_GENERATED;
	return 0;
}
