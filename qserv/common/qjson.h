/* qjson.h: lenient getters for request fields, shared by the controller and
 * qservctl.  Qserv's own clients send numbers as strings or integers and
 * flags as 0/1, true/false or "0"/"1"; all are accepted. */
#ifndef QSERV_QJSON_H
#define QSERV_QJSON_H

#include <jansson.h>
#include <limits.h>
#include <stdlib.h>

static inline const char *qjson_str(json_t *o, const char *k, const char *dflt)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : dflt;
}

static inline long long qjson_int(json_t *o, const char *k, long long dflt)
{
	json_t *v = json_object_get(o, k);
	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_real(v)) {   /* clamped: a cast out of range is undefined (1e300, NaN) */
		double d = json_real_value(v);
		return d != d ? dflt : d >= 9.2e18 ? LLONG_MAX : d <= -9.2e18 ? LLONG_MIN : (long long)d;
	}
	if (json_is_boolean(v))
		return json_is_true(v);
	if (json_is_string(v) && *json_string_value(v))
		return strtoll(json_string_value(v), NULL, 10);
	return dflt;
}

static inline double qjson_real(json_t *o, const char *k, double dflt)
{
	json_t *v = json_object_get(o, k);
	if (json_is_number(v))
		return json_number_value(v);
	if (json_is_string(v) && *json_string_value(v))
		return strtod(json_string_value(v), NULL);
	return dflt;
}

#endif
