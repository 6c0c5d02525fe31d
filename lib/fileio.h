/* fileio.h: reading small files whole (sysfs attributes, /proc/cmdline,
 * configuration files), writing them durably, and write loops that survive
 * EINTR and short writes.  Errors are negative errno values; nothing logs. */
#ifndef QSERV_FILEIO_H
#define QSERV_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/* Reads the first size-1 bytes of path into buf, NUL-terminated, trailing
 * white space removed.  Returns the length kept or a negative errno. */
int fileio_read_line(const char *path, char *buf, size_t size);
/* Reads at most max bytes of path into a malloc'd NUL-terminated buffer
 * (caller frees).  Returns NULL with errno set on failure; *ret_len (may
 * be NULL) gets the length.  A longer file is cut at max bytes. */
char *fileio_read_all(const char *path, size_t max, size_t *ret_len);
/* Writes all n bytes to fd, retrying on EINTR and short writes: 0 or a
 * negative errno. */
int fileio_write_full(int fd, const void *p, size_t n);
/* The one durable replace of a file: writes data to a new temporary file
 * beside path (created with `mode`, so a secret is never readable by
 * others, not even for an instant), fsyncs it, renames it over path, then
 * fsyncs the directory.  On failure the temporary file is removed and
 * path is left as it was.  Returns 0 or a negative errno. */
int fileio_write_atomic(const char *path, const void *data, size_t n, mode_t mode);

#endif
