/* util.h: small helpers private to libqstorage (error buffers, bounded
 * string copies, reading one-line files).  Not part of the public API. */
#ifndef QSTORAGE_UTIL_H
#define QSTORAGE_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Formats err (may be NULL) and returns e, a negative errno, or -EIO when e
 * is not negative (an errno that was 0 never turns an error into success):
 * `return qs_err(err, n, -EIO, "...")`.  A macro over qs_errf (which formats
 * and returns e as given) and the inline qs_neg, so that callers, and the
 * static analyzer, see that the result is negative (it does not look into
 * variadic functions).  e is evaluated before the message is formatted. */
#define qs_err(err, errlen, e, ...) qs_neg(qs_errf((err), (errlen), (e), __VA_ARGS__))
int qs_errf(char *err, size_t errlen, int e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static inline int qs_neg(int e)
{
	return e < 0 ? e : -EIO;
}
/* Formats one human-readable line (a disk's reason, a warning) into dst;
 * a line longer than size is cut and ends in "...", so the cut shows. */
void qs_line(char *dst, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Formats a path into dst: 0, or -ENAMETOOLONG (err filled) when it does
 * not fit (a cut path would name another file). */
int qs_path(char *dst, size_t size, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* strlcpy semantics: always NUL-terminates, returns strlen(src). */
size_t qs_strlcpy(char *dst, const char *src, size_t size);
/* Reads the file root/rel into buf, strips trailing whitespace; -errno. */
int qs_read_line(const char *root, const char *rel, char *buf, size_t size);
/* Reads an unsigned decimal from root/rel; returns def when unreadable. */
uint64_t qs_read_u64(const char *root, const char *rel, uint64_t def);
/* Is name one of the comma-separated items of list? */
bool qs_in_list(const char *list, const char *name);
/* Trims whitespace at both ends and collapses inner runs into one '_'. */
void qs_tidy(char *s);

#endif
