/* quota_json.c: one quota entry to and from JSON (quota.h), for the
 * API's bodies and the stored file alike: {"queries":n, "scans":n,
 * "concurrent":n, "result_bytes":n, "window":s}, every field optional,
 * null unsetting it.  Values are integers 0..2^53 (window 1..31536000);
 * an unknown field is refused (a typo must not silently set nothing). */
#include "quota.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define QUOTA_MAX_VALUE 9007199254740992LL   /* 2^53: exact in every JSON reader */
#define QUOTA_MAX_WINDOW 31536000LL

int quota_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > QUOTA_NAME_MAX)
		return 0;
	return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.@-") == n;
}

/* One field's value into *v: 0 or -EINVAL with err. */
static int field(const char *key, const json_t *val, int64_t min, int64_t max, int64_t *v, char *err,
		 size_t errlen)
{
	json_int_t x;

	if (json_is_null(val)) {
		*v = QUOTA_UNSET;
		return 0;
	}
	if (!json_is_integer(val) || (x = json_integer_value(val)) < min || x > max)
		return snprintf(err, errlen, "\"%s\" must be null or an integer %lld..%lld", key, (long long)min,
				(long long)max), -EINVAL;
	*v = (int64_t)x;
	return 0;
}

int quota_limits_parse(const json_t *body, int replace, struct quota_limits *l, char *err, size_t errlen)
{
	struct quota_limits n = *l;
	const char *key;
	json_t *val;
	int k;

	if (!json_is_object(body))
		return snprintf(err, errlen, "the body must be a JSON object"), -EINVAL;
	if (replace) {
		for (k = 0; k < QUOTA_NKINDS; k++)
			n.v[k] = QUOTA_UNSET;
		n.window = QUOTA_UNSET;
	}
	json_object_foreach((json_t *)body, key, val) {
		for (k = 0; k < QUOTA_NKINDS; k++)
			if (!strcmp(key, quota_names[k]))
				break;
		if (k < QUOTA_NKINDS) {
			if (field(key, val, 0, QUOTA_MAX_VALUE, &n.v[k], err, errlen) < 0)
				return -EINVAL;
		} else if (!strcmp(key, "window")) {
			if (field(key, val, 1, QUOTA_MAX_WINDOW, &n.window, err, errlen) < 0)
				return -EINVAL;
		} else {
			return snprintf(err, errlen, "unknown field \"%.64s\" (queries, scans, concurrent, result_bytes, "
					"window)", key), -EINVAL;
		}
	}
	*l = n;
	return 0;
}

json_t *quota_limits_json(const struct quota_limits *l)
{
	json_t *o = json_object();

	for (int k = 0; o && k < QUOTA_NKINDS; k++)
		if (l->v[k] != QUOTA_UNSET)
			json_object_set_new(o, quota_names[k], json_integer(l->v[k]));
	if (o && l->window != QUOTA_UNSET)
		json_object_set_new(o, "window", json_integer(l->window));
	return o;
}
