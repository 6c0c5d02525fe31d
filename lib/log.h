/* log.h: console logging for the daemons (qagent, qserv-czar, qserv-worker).
 *
 * Lines go to stderr as "<monotonic seconds> <program>: <level>: message",
 * the monotonic clock matching the kernel's printk timestamps so a boot can
 * be read as one timeline.  Libraries never call these: they return errors
 * and the daemon logs once, at the boundary, with context. */
#ifndef QSERV_LOG_H
#define QSERV_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERROR };

void log_init(const char *progname, enum log_level min_level);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level lvl, const char *fmt, va_list ap);

#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)

#endif
