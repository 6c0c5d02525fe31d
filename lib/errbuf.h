/* errbuf.h: filling a caller's error buffer, the `char *err, size_t errlen`
 * convention of the libraries here (err NULL or errlen 0: no text wanted).
 *
 * Header-only on purpose: libqchunk (also compiled into the scisql UDF
 * plugin) and libqpartition link no libqcommon, and need no archive for
 * this. */
#ifndef QSERV_ERRBUF_H
#define QSERV_ERRBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

static inline void errbuf_vprintf(char *err, size_t errlen, const char *fmt, va_list ap)
{
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
}

static inline void errbuf_printf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline void errbuf_printf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errbuf_vprintf(err, errlen, fmt, ap);
	va_end(ap);
}

#endif
