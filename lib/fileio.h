/* fileio.h: reading small files whole: sysfs attributes, /proc/cmdline,
 * configuration files.  Errors are negative errno values; nothing logs. */
#ifndef QSERV_FILEIO_H
#define QSERV_FILEIO_H

#include <stddef.h>

/* Reads the first size-1 bytes of path into buf, NUL-terminated, trailing
 * white space removed.  Returns the length kept or a negative errno. */
int fileio_read_line(const char *path, char *buf, size_t size);
/* Reads at most max bytes of path into a malloc'd NUL-terminated buffer
 * (caller frees).  Returns NULL with errno set on failure; *ret_len (may
 * be NULL) gets the length.  A longer file is cut at max bytes. */
char *fileio_read_all(const char *path, size_t max, size_t *ret_len);

#endif
