/* cmetrics.c: GET /metrics of the controller, Prometheus text format 0.0.4.
 *
 * Everything comes from what GET /replication/status reports
 * (crepl_status: levels, under-replicated chunks and worker states from
 * qservMeta, copy and eviction counters from chealth.c, verify counters
 * from cverify.c), so the two never disagree; names follow the agent's
 * qserv_node_* and the czar's qserv_czar_* (agent/status.c,
 * qserv/czar/metrics.c): qserv_replication_*, counters ending in _total,
 * seconds and bytes in the unit's name.  Label values (database and worker
 * names) are escaped as the format says (backslash, double quote,
 * newline).  The route is open like /replication/status: it reveals the
 * same counts and names, no row and no credential.
 *
 * The text is rendered into an unlinked file of the staging directory
 * (qhttp replies a file descriptor), a few kB even with thousands of
 * databases; no lock is held while rendering beyond the short ones of
 * chealth_json and cverify_json. */
#include "controller.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* s as a label value (between the quotes) on f. */
static void label(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static long long num(json_t *o, const char *path1, const char *path2)
{
	json_t *v = json_object_get(o, path1);
	if (path2)
		v = json_object_get(v, path2);
	return json_is_integer(v) ? json_integer_value(v) : (long long)json_number_value(v);
}

/* One metric without labels. */
static void one(FILE *f, const char *name, const char *type, const char *help, double v)
{
	head(f, name, type, help);
	fprintf(f, "%s %.10g\n", name, v);
}

static void per_database(FILE *f, json_t *st)
{
	static const struct { const char *name, *key, *help; } m[] = {
		{ "qserv_replication_under_replicated_chunks", "under_replicated",
		  "Chunks with fewer replicas on enabled workers than the database's level." },
		{ "qserv_replication_chunks", "chunks", "Chunks of the database in qservMeta.chunks." },
		{ "qserv_replication_level", "level", "Replicas wanted per chunk of the database." },
	};
	for (size_t k = 0; k < sizeof m / sizeof m[0]; k++) {
		size_t i;
		json_t *d;
		head(f, m[k].name, "gauge", m[k].help);
		json_array_foreach(json_object_get(st, "databases"), i, d) {
			fprintf(f, "%s{database=\"", m[k].name);
			label(f, json_string_value(json_object_get(d, "database")));
			fprintf(f, "\"} %lld\n", num(d, m[k].key, NULL));
		}
	}
}

static void workers(FILE *f, json_t *st)
{
	static const char *const states[] = { "up", "down", "evicted", "maintenance", "draining" };
	size_t i;
	json_t *w;
	head(f, "qserv_replication_workers", "gauge", "Enabled and draining workers by state as the controller sees them.");
	for (size_t k = 0; k < sizeof states / sizeof states[0]; k++) {
		long long n = 0;
		json_array_foreach(json_object_get(st, "workers"), i, w) {
			const char *s = json_string_value(json_object_get(w, "state"));
			n += s && !strcmp(s, states[k]);
		}
		fprintf(f, "qserv_replication_workers{state=\"%s\"} %lld\n", states[k], n);
	}
	head(f, "qserv_replication_worker_chunks", "gauge", "Replicas each worker holds in qservMeta.chunks.");
	json_array_foreach(json_object_get(st, "workers"), i, w) {
		fputs("qserv_replication_worker_chunks{worker=\"", f);
		label(f, json_string_value(json_object_get(w, "id")));
		fprintf(f, "\"} %lld\n", num(w, "chunks", NULL));
	}
}

static void copies(FILE *f, json_t *h)
{
	json_t *cp = json_object_get(h, "copies");
	one(f, "qserv_replication_copies_in_flight", "gauge", "Chunk copies running now.", (double)num(cp, "in_flight", NULL));
	head(f, "qserv_replication_copies_total", "counter",
	     "Chunk copies ended since the controller started (publish, level, heal).");
	fprintf(f, "qserv_replication_copies_total{result=\"ok\"} %lld\n", num(cp, "done", NULL));
	fprintf(f, "qserv_replication_copies_total{result=\"failed\"} %lld\n", num(cp, "failed", NULL));
	one(f, "qserv_replication_bytes_copied_total", "counter", "Bytes of chunk copies on the wire (LZ4).",
	    (double)num(cp, "bytes", NULL));
	one(f, "qserv_replication_plain_bytes_copied_total", "counter", "Bytes of chunk copies before compression.",
	    (double)num(cp, "plain_bytes", NULL));
	one(f, "qserv_replication_heal_passes_total", "counter", "Heal passes run.", (double)num(cp, "heal_passes", NULL));
	one(f, "qserv_replication_last_heal_seconds", "gauge", "Duration of the last heal pass that copied.",
	    json_number_value(json_object_get(cp, "last_heal_seconds")));
	one(f, "qserv_replication_evictions_total", "counter", "Workers evicted after evict-after seconds of silence.",
	    (double)num(h, "evictions", NULL));
	one(f, "qserv_replication_evict_after_seconds", "gauge", "Silence that evicts a worker.",
	    (double)num(h, "evict_after", NULL));
}

static void verify(FILE *f, json_t *v)
{
	one(f, "qserv_replication_verify_passes_total", "counter", "Verify passes run.", (double)num(v, "passes", NULL));
	one(f, "qserv_replication_verified_replicas_total", "counter", "Replicas compared with their reference checksums.",
	    (double)num(v, "replicas", NULL));
	one(f, "qserv_replication_verify_mismatches_total", "counter", "Replicas that did not match their reference.",
	    (double)num(v, "mismatches", NULL));
	one(f, "qserv_replication_verify_repaired_total", "counter", "Mismatching replicas removed for a good copy.",
	    (double)num(v, "repaired", NULL));
	one(f, "qserv_replication_last_verify_seconds", "gauge", "Duration of the last verify pass.",
	    json_number_value(json_object_get(json_object_get(v, "last"), "seconds")));
	one(f, "qserv_replication_verify_interval_seconds", "gauge", "Period of the verify pass (0: none).",
	    (double)num(v, "interval", NULL));
	one(f, "qserv_replication_returning_reused_replicas_total", "counter",
	    "Replicas of returning workers registered again (they matched).", (double)num(v, "reused", NULL));
	one(f, "qserv_replication_returning_dropped_replicas_total", "counter",
	    "Replicas of returning workers dropped (mismatching, unknown database, no reference).",
	    (double)num(v, "dropped", NULL));
}

/* An unlinked file in dir holding text[0..n). */
static int to_fd(const char *dir, const char *text, size_t n, int *ret_fd, char *err, size_t errlen)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	size_t off = 0;
	while (fd >= 0 && off < n) {
		ssize_t w = write(fd, text + off, n - off);
		if (w <= 0) {
			close(fd);
			fd = -1;
			break;
		}
		off += (size_t)w;
	}
	if (fd < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "cannot write the metrics to the staging directory");
		return -EIO;
	}
	*ret_fd = fd;
	return 0;
}

int cmetrics_render(struct ctl *c, MYSQL *m, const char *dir, int *ret_fd, long long *ret_size,
		    char *err, size_t errlen)
{
	json_t *st = NULL;
	char *text = NULL;
	size_t n = 0;
	int r = crepl_status(c, m, &st, err, errlen);
	if (r)
		return r;
	FILE *f = open_memstream(&text, &n);
	if (!f) {
		json_decref(st);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	per_database(f, st);
	workers(f, st);
	copies(f, json_object_get(st, "health"));
	verify(f, json_object_get(st, "verify"));
	fclose(f);
	json_decref(st);
	r = to_fd(dir, text, n, ret_fd, err, errlen);
	free(text);
	if (!r)
		*ret_size = (long long)n;
	return r;
}
