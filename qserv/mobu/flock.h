/* flock.h: a flock of qserv-mobu, the monkeys that run one business and
 * the stats they share. */
#ifndef QSERV_MOBU_FLOCK_H
#define QSERV_MOBU_FLOCK_H

#include "business.h"
#include "stats.h"

struct flock {
	char name[64];
	enum business_kind kind;
	int monkeys;
	struct flock_sql sql;   /* BIZ_SQL only */
	struct stats st;
};

#endif
