/* daemon.c: the stop signals of the threaded qserv daemons (see daemon.h). */
#include "daemon.h"

#include <pthread.h>

void daemon_block_stop_signals(sigset_t *ret_set)
{
	sigemptyset(ret_set);
	sigaddset(ret_set, SIGTERM);
	sigaddset(ret_set, SIGINT);
	pthread_sigmask(SIG_BLOCK, ret_set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int daemon_wait_stop_signal(const sigset_t *set)
{
	int sig = 0;

	sigwait(set, &sig);
	return sig;
}
