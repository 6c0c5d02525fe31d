/* log.c: timestamped console logging (see log.h).  One write(2) per line so
 * lines from several processes sharing the console do not interleave. */
#include "log.h"
#include "monotime.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *log_prog = "qserv";
static enum log_level log_min = LOG_LVL_INFO;

void log_init(const char *progname, enum log_level min_level)
{
	log_prog = progname;
	log_min = min_level;
}

void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
	static const char *names[] = { "debug", "info", "warn", "error" };
	char line[2048];
	int64_t us;
	int n, m;

	if (lvl < log_min)
		return;
	us = monotime_ns() / 1000;
	n = snprintf(line, sizeof(line), "[%5lld.%06lld] %s: %s: ", (long long)(us / 1000000),
		     (long long)(us % 1000000), log_prog, names[lvl]);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, fmt, ap);
	va_end(ap);
}
