/* identity.h: the machine's stable UUID, the key of its cluster identity.
 *
 * Order: the SMBIOS product UUID when the firmware gives a real one (not
 * all zeros, all Fs, or a well-known placeholder); else a UUID stored in
 * state_dir/machine-uuid; else a fresh random UUID written there (atomic,
 * fsync'd) so the node keeps it across reboots as long as its disk lives.
 * Host mode passes no SMBIOS value, so several agents on one host each keep
 * their own UUID in their own data directory. */
#ifndef AGENT_IDENTITY_H
#define AGENT_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

#define IDENTITY_UUID_LEN 37   /* 36 chars + NUL */

enum identity_source { IDENTITY_SMBIOS, IDENTITY_STORED, IDENTITY_GENERATED };

/* True for a syntactically valid UUID that is not a firmware placeholder. */
bool identity_uuid_usable(const char *uuid);

/* smbios_uuid may be NULL or "".  Lowercases the result. */
int identity_machine_uuid(const char *smbios_uuid, const char *state_dir,
			  char ret_uuid[IDENTITY_UUID_LEN], enum identity_source *ret_source,
			  char *err, size_t errlen);

const char *identity_source_name(enum identity_source s);

#endif
