/* buf.h: the one growable byte buffer of the project.
 *
 * struct buf holds bytes (binary protocol messages, HTTP bodies, text such
 * as Prometheus metrics or generated SQL).  Every append that cannot grow
 * it latches oom and does nothing more, so a writer appends a whole message
 * and tests oom (or the return of buf_reserve) once.  The text appends
 * (buf_puts, buf_printf) keep data NUL-terminated beyond len, so
 * buf_str() is a C string; the byte appends do not promise that.
 *
 * Ownership: data belongs to the buffer until buf_steal() hands it to the
 * caller.  Nothing here logs. */
#ifndef QSERV_BUF_H
#define QSERV_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	unsigned char *data;
	size_t len, cap;
	int oom;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);                     /* accepts NULL; b is empty again */
/* Room for extra more bytes: 0, or -ENOMEM (oom latched). */
int buf_reserve(struct buf *b, size_t extra);
void buf_put(struct buf *b, const void *p, size_t n);
/* Text appends: data stays NUL-terminated (the NUL is not counted in len). */
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* The text so far ("" when empty); valid until the next append or free. */
const char *buf_str(const struct buf *b);
/* Hands data to the caller (NUL-terminated, caller frees; NULL after oom or
 * when nothing was ever appended) and leaves b empty. */
char *buf_steal(struct buf *b);

#endif
