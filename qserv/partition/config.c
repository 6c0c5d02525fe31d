/* config.c: the partitioner's configuration store over a jansson object.
 * See config.h.  Invariant: cfg->root is always a JSON object. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "errbuf.h"

struct qpart_config {
	json_t *root;
};

int qpart_config_new(struct qpart_config **ret)
{
	struct qpart_config *cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return -ENOMEM;
	cfg->root = json_object();
	if (!cfg->root) {
		free(cfg);
		return -ENOMEM;
	}
	*ret = cfg;
	return 0;
}

void qpart_config_free(struct qpart_config *cfg)
{
	if (!cfg)
		return;
	json_decref(cfg->root);
	free(cfg);
}

/* RFC 7386 merge patch of patch into target (both objects). */
static int merge_patch(json_t *target, json_t *patch)
{
	const char *k;
	json_t *v;
	json_object_foreach(patch, k, v) {
		if (json_is_null(v)) {
			json_object_del(target, k);
			continue;
		}
		json_t *cur = json_object_get(target, k);
		if (json_is_object(v) && json_is_object(cur)) {
			if (merge_patch(cur, v) < 0)
				return -ENOMEM;
		} else if (json_is_object(v)) {
			json_t *o = json_object();
			if (!o || json_object_set_new(target, k, o) < 0 || merge_patch(o, v) < 0)
				return -ENOMEM;
		} else if (json_object_set(target, k, v) < 0) {
			return -ENOMEM;
		}
	}
	return 0;
}

static int merge_json(struct qpart_config *cfg, json_t *j, const char *src, char *err, size_t errlen)
{
	if (!json_is_object(j)) {
		errbuf_printf(err, errlen, "%s: the configuration must be a JSON object", src);
		json_decref(j);
		return -EINVAL;
	}
	int r = merge_patch(cfg->root, j);
	json_decref(j);
	return r;
}

int qpart_config_merge_file(struct qpart_config *cfg, const char *path, char *err, size_t errlen)
{
	json_error_t je;
	FILE *f = fopen(path, "r");
	if (!f) {
		int e = errno;
		errbuf_printf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	json_t *j = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
	fclose(f);
	if (!j) {
		errbuf_printf(err, errlen, "%s:%d:%d: %s", path, je.line, je.column, je.text);
		return -EINVAL;
	}
	return merge_json(cfg, j, path, err, errlen);
}

int qpart_config_merge_text(struct qpart_config *cfg, const char *text, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	if (!j) {
		errbuf_printf(err, errlen, "JSON:%d:%d: %s", je.line, je.column, je.text);
		return -EINVAL;
	}
	return merge_json(cfg, j, "JSON", err, errlen);
}

/* Walks the dotted key; with create, makes intermediate objects. */
static json_t *walk(json_t *root, const char *key, bool create, char *last, size_t lastlen)
{
	json_t *o = root;
	const char *p = key;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (n == 0 || n >= lastlen)
			return NULL;
		memcpy(last, p, n);
		last[n] = '\0';
		if (!dot)
			return o;
		json_t *next = json_object_get(o, last);
		if (!json_is_object(next)) {
			if (!create)
				return NULL;
			next = json_object();
			if (!next || json_object_set_new(o, last, next) < 0)
				return NULL;
		}
		o = next;
		p = dot + 1;
	}
}

static json_t *lookup(const struct qpart_config *cfg, const char *key)
{
	char last[256];
	json_t *o = walk(cfg->root, key, false, last, sizeof(last));
	return o ? json_object_get(o, last) : NULL;
}

int qpart_config_set(struct qpart_config *cfg, const char *key, const char *value, bool append)
{
	char last[256];
	json_t *o = walk(cfg->root, key, true, last, sizeof(last));
	if (!o)
		return -EINVAL;
	json_t *s = json_string(value);
	if (!s)
		return -ENOMEM;
	if (!append)
		return json_object_set_new(o, last, s) < 0 ? -ENOMEM : 0;
	json_t *cur = json_object_get(o, last);
	if (!json_is_array(cur)) {
		/* a single value becomes the first element; "" is a placeholder */
		json_t *a = json_array();
		if (a && json_is_string(cur) && json_string_length(cur) > 0 &&
		    json_array_append(a, cur) < 0) {
			json_decref(a);
			a = NULL;
		}
		if (!a || json_object_set_new(o, last, a) < 0) {
			json_decref(s);
			return -ENOMEM;
		}
		cur = a;
	}
	return json_array_append_new(cur, s) < 0 ? -ENOMEM : 0;
}

bool qpart_config_has(const struct qpart_config *cfg, const char *key)
{
	json_t *v = lookup(cfg, key);
	return v && !json_is_null(v);
}

/* The value a single-valued key reads: NULL when unset (absent or null);
 * of a key given several times (an array), the last one given wins. */
static json_t *scalar(const struct qpart_config *cfg, const char *key)
{
	json_t *v = lookup(cfg, key);
	if (!v || json_is_null(v))
		return NULL;
	if (json_is_array(v) && json_array_size(v) > 0)
		v = json_array_get(v, json_array_size(v) - 1);
	return v;
}

int qpart_config_str(const struct qpart_config *cfg, const char *key, const char **ret,
		     char *err, size_t errlen)
{
	json_t *v = scalar(cfg, key);
	if (!v)
		return -ENOENT;
	if (!json_is_string(v)) {
		errbuf_printf(err, errlen, "--%s: expected a string", key);
		return -EINVAL;
	}
	*ret = json_string_value(v);
	return 0;
}

int qpart_config_double(const struct qpart_config *cfg, const char *key, double *ret,
			char *err, size_t errlen)
{
	json_t *v = scalar(cfg, key);
	if (!v)
		return -ENOENT;
	if (json_is_number(v)) {
		*ret = json_number_value(v);
		return 0;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end;
		errno = 0;
		double d = strtod(s, &end);
		while (*end == ' ')
			end++;
		if (end != s && *end == '\0' && errno == 0 && isfinite(d)) {
			*ret = d;
			return 0;
		}
	}
	errbuf_printf(err, errlen, "--%s: expected a number", key);
	return -EINVAL;
}

int qpart_config_int(const struct qpart_config *cfg, const char *key, long *ret,
		     char *err, size_t errlen)
{
	double d;
	int r = qpart_config_double(cfg, key, &d, err, errlen);
	if (r < 0)
		return r;
	if (d != floor(d) || fabs(d) > 2e9) {
		errbuf_printf(err, errlen, "--%s: expected an integer", key);
		return -EINVAL;
	}
	*ret = (long)d;
	return 0;
}

int qpart_config_bool(const struct qpart_config *cfg, const char *key, bool *ret,
		      char *err, size_t errlen)
{
	json_t *v = scalar(cfg, key);
	if (!v)
		return -ENOENT;
	if (json_is_boolean(v)) {
		*ret = json_is_true(v);
		return 0;
	}
	if (json_is_integer(v)) {
		*ret = json_integer_value(v) != 0;
		return 0;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		if (!strcmp(s, "") || !strcmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "yes")) {
			*ret = true;
			return 0;
		}
		if (!strcmp(s, "0") || !strcasecmp(s, "false") || !strcasecmp(s, "no")) {
			*ret = false;
			return 0;
		}
	}
	errbuf_printf(err, errlen, "--%s: expected true or false", key);
	return -EINVAL;
}

int qpart_config_char(const struct qpart_config *cfg, const char *key, char *ret,
		      char *err, size_t errlen)
{
	const char *s;
	int r = qpart_config_str(cfg, key, &s, err, errlen);
	if (r < 0)
		return r;
	if (strlen(s) == 1) {
		*ret = s[0];
		return 0;
	}
	if (!strcmp(s, "\\t") || !strcmp(s, "tab")) {
		*ret = '\t';
		return 0;
	}
	if (!strcmp(s, "\\\\")) {
		*ret = '\\';
		return 0;
	}
	errbuf_printf(err, errlen, "--%s: expected a single character, got \"%s\"", key, s);
	return -EINVAL;
}

void qpart_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; ++p)
		free(*p);
	free(v);
}

/* Appends the comma-separated items of s (or s whole) to the vector. */
static int split_push(char ***v, size_t *n, const char *s, bool split)
{
	while (*s) {
		const char *comma = split ? strchr(s, ',') : NULL;
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		const char *a = s, *b = s + len;
		while (a < b && (*a == ' ' || *a == '\t'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		if (b > a) {
			char **nv = realloc(*v, (*n + 2) * sizeof(char *));
			if (!nv)
				return -ENOMEM;
			*v = nv;
			nv[*n] = strndup(a, b - a);
			if (!nv[*n])
				return -ENOMEM;
			nv[++*n] = NULL;
		}
		s += len + (comma ? 1 : 0);
	}
	return 0;
}

static int list(const struct qpart_config *cfg, const char *key, bool split, char ***ret,
		size_t *ret_n, char *err, size_t errlen)
{
	json_t *v = lookup(cfg, key);
	if (!v || json_is_null(v))
		return -ENOENT;
	char **out = calloc(1, sizeof(char *));
	size_t n = 0;
	int r = 0;
	if (!out)
		return -ENOMEM;
	if (json_is_string(v)) {
		r = split_push(&out, &n, json_string_value(v), split);
	} else if (json_is_array(v)) {
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e) {
			if (!json_is_string(e)) {
				errbuf_printf(err, errlen, "--%s: expected a list of strings", key);
				r = -EINVAL;
				break;
			}
			if ((r = split_push(&out, &n, json_string_value(e), split)) < 0)
				break;
		}
	} else {
		errbuf_printf(err, errlen, "--%s: expected a list of strings", key);
		r = -EINVAL;
	}
	if (r < 0) {
		qpart_strv_free(out);
		return r;
	}
	*ret = out;
	*ret_n = n;
	return 0;
}

int qpart_config_list(const struct qpart_config *cfg, const char *key, char ***ret, size_t *ret_n,
		      char *err, size_t errlen)
{
	return list(cfg, key, true, ret, ret_n, err, errlen);
}

int qpart_config_paths(const struct qpart_config *cfg, const char *key, char ***ret, size_t *ret_n,
		       char *err, size_t errlen)
{
	return list(cfg, key, false, ret, ret_n, err, errlen);
}
