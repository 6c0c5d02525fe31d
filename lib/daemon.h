/* daemon.h: the stop signals of the threaded qserv daemons (qserv-worker,
 * qserv-controller).
 *
 * SIGTERM and SIGINT are blocked in the main thread before any other thread
 * starts, so every thread inherits the mask and the main thread alone takes
 * them, synchronously, with sigwait(); SIGPIPE is ignored, so a peer that
 * closes early is an EPIPE return, not the daemon's death.  Nothing logs. */
#ifndef QSERV_DAEMON_H
#define QSERV_DAEMON_H

#include <signal.h>

/* Blocks SIGTERM and SIGINT (ret_set gets them) and ignores SIGPIPE.  Call
 * before starting any thread. */
void daemon_block_stop_signals(sigset_t *ret_set);
/* Waits for one of the signals of set; returns its number. */
int daemon_wait_stop_signal(const sigset_t *set);

#endif
