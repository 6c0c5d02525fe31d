/* udf.h: helpers shared by the scisql UDFs of qserv_scisql.so (MariaDB's
 * UDF API from Connector/C's headers).
 *
 * Conventions, as scisql's: every argument is coerced to REAL in _init;
 * a real-valued function returns NULL when an argument is NULL or when the
 * result is NaN or infinite (SQL has neither); the s2PtIn* predicates
 * return 0 for a NULL argument and NULL for an invalid one (latitude out of
 * [-90, 90], NaN, bad shape).  Every function has an _init (MariaDB
 * refuses a UDF library without one unless --allow-suspicious-udfs). */
#ifndef QSCISQL_UDF_H
#define QSCISQL_UDF_H

#include <math.h>
#include <stdio.h>

#include <mariadb/mysql.h>

#define QSCISQL_API __attribute__((visibility("default")))

/* Checks the argument count (lo..hi), coerces all to REAL, sets
 * maybe_null and const_item; 0 or 1 with a message for MariaDB. */
static inline my_bool qscisql_init_real(UDF_INIT *initid, UDF_ARGS *args, char *message,
					const char *name, unsigned lo, unsigned hi)
{
	if (args->arg_count < lo || args->arg_count > hi) {
		if (lo == hi)
			snprintf(message, MYSQL_ERRMSG_SIZE, "%s() expects exactly %u arguments", name, lo);
		else
			snprintf(message, MYSQL_ERRMSG_SIZE, "%s() expects %u to %u arguments", name, lo, hi);
		return 1;
	}
	my_bool const_item = 1;
	for (unsigned i = 0; i < args->arg_count; ++i) {
		args->arg_type[i] = REAL_RESULT;
		if (!args->args[i])
			const_item = 0;
	}
	initid->maybe_null = 1;
	initid->const_item = const_item;
	initid->decimals = 31;
	return 0;
}

/* Argument i as a double; false if it is NULL. */
static inline int qscisql_arg(UDF_ARGS *args, unsigned i, double *ret)
{
	if (!args->args[i])
		return 0;
	*ret = *(double *)args->args[i];
	return 1;
}

/* Returns v, or NULL (is_null) if v is not finite. */
static inline double qscisql_real(double v, char *is_null)
{
	if (!isfinite(v)) {
		*is_null = 1;
		return 0.0;
	}
	return v;
}

#endif
