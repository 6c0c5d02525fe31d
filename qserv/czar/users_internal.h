/* users_internal.h: the state users.c and users_change.c share (users.h). */
#ifndef QSERV_CZAR_USERS_INTERNAL_H
#define QSERV_CZAR_USERS_INTERNAL_H

#include <pthread.h>
#include <time.h>

#include "users.h"

/* One account's hourly counters (MySQL's use of mysql.user's max_* columns). */
struct hourly {
	char name[AUTH_NAME_MAX + 1];
	time_t q_start, c_start;
	unsigned questions, conns;
};

/* cz->users (auth.h) and g change only under lock. */
struct users_db {
	pthread_mutex_t lock;
	char path[4096], gpath[4200];   /* the users file and its .grants */
	struct users_grants g;
	struct hourly *h;
	size_t nh;
};

#endif
