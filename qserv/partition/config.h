/* config.h: sph-partition style configuration (a JSON object).
 *
 * Keys are dotted paths into nested JSON objects: "part.num-stripes" is
 * {"part": {"num-stripes": ...}}.  Config files are merged in the order
 * given (JSON merge-patch, so later files override earlier ones), then
 * command-line "--key=value" options override both, as Qserv's ConfigStore
 * does.  Values given on the command line are strings; the typed getters
 * convert, so "340" and 340 both read as an integer. */
#ifndef QPART_CONFIG_H
#define QPART_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct qpart_config;

/* 0 or -ENOMEM. */
int qpart_config_new(struct qpart_config **ret);
void qpart_config_free(struct qpart_config *cfg);

/* Merges a JSON config file.  0, or -errno / -EINVAL with the reason
 * (file name and line:column for syntax errors) in err. */
int qpart_config_merge_file(struct qpart_config *cfg, const char *path, char *err, size_t errlen);
/* Merges JSON text (same semantics). */
int qpart_config_merge_text(struct qpart_config *cfg, const char *text, char *err, size_t errlen);

/* Sets key (dotted path) to a string; append=true turns the value into a
 * list and appends (repeatable options such as in.path).  0, -EINVAL (bad
 * key) or -ENOMEM. */
int qpart_config_set(struct qpart_config *cfg, const char *key, const char *value, bool append);

bool qpart_config_has(const struct qpart_config *cfg, const char *key);

/* Typed getters: 0, -ENOENT (absent) or -EINVAL (wrong type, message in
 * err naming the key).  Outputs untouched on failure. */
int qpart_config_str(const struct qpart_config *cfg, const char *key, const char **ret,
		     char *err, size_t errlen);
int qpart_config_int(const struct qpart_config *cfg, const char *key, long *ret,
		     char *err, size_t errlen);
int qpart_config_double(const struct qpart_config *cfg, const char *key, double *ret,
			char *err, size_t errlen);
int qpart_config_bool(const struct qpart_config *cfg, const char *key, bool *ret,
		      char *err, size_t errlen);
/* A single character; accepts the escapes "\t", "\\", "\n"-free forms
 * written as two characters on a command line. */
int qpart_config_char(const struct qpart_config *cfg, const char *key, char *ret,
		      char *err, size_t errlen);
/* A list of strings: a JSON array of strings, or one string split on commas
 * (surrounding blanks trimmed).  *ret is a NULL-terminated array owned by
 * the caller: free with qpart_strv_free(). */
int qpart_config_list(const struct qpart_config *cfg, const char *key, char ***ret, size_t *ret_n,
		      char *err, size_t errlen);
/* The same without splitting strings on commas (file names). */
int qpart_config_paths(const struct qpart_config *cfg, const char *key, char ***ret, size_t *ret_n,
		       char *err, size_t errlen);
void qpart_strv_free(char **v);

#endif
