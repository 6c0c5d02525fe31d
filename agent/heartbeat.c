/* heartbeat.c: node health for heartbeats (see heartbeat.h).  Missing
 * /proc files leave their fields null rather than failing the heartbeat:
 * a heartbeat is proof of life first, details second. */
#include "heartbeat.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static json_t *meminfo(const char *proc, const char *key)
{
	char path[256], line[256];
	size_t kl = strlen(key);
	snprintf(path, sizeof(path), "%s/meminfo", proc);
	FILE *f = fopen(path, "re");
	if (!f)
		return json_null();
	json_t *v = json_null();
	while (fgets(line, sizeof(line), f)) {
		unsigned long long kb;
		if (!strncmp(line, key, kl) && line[kl] == ':' && sscanf(line + kl + 1, "%llu", &kb) == 1) {
			v = json_integer((json_int_t)(kb * 1024));
			break;
		}
	}
	fclose(f);
	return v;
}

static const char *role_state(json_t *processes)
{
	size_t i, n = 0;
	json_t *p;
	bool degraded = false;
	json_array_foreach(processes, i, p) {
		const char *st = json_string_value(json_object_get(p, "state"));
		n++;
		if ((st && strcmp(st, "up")) || json_is_true(json_object_get(p, "crash_loop")))
			degraded = true;
	}
	return n == 0 ? "idle" : degraded ? "degraded" : "running";
}

json_t *heartbeat_health(const char *proc, json_t *processes, json_t *storage)
{
	char path[256];
	double l1 = -1, l5 = -1, up = -1;
	FILE *f;
	snprintf(path, sizeof(path), "%s/loadavg", proc);
	if ((f = fopen(path, "re"))) {
		if (fscanf(f, "%lf %lf", &l1, &l5) != 2)
			l1 = l5 = -1;
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/uptime", proc);
	if ((f = fopen(path, "re"))) {
		if (fscanf(f, "%lf", &up) != 1)
			up = -1;
		fclose(f);
	}
	if (!processes)
		processes = json_array();
	json_t *h = json_pack("{s:o, s:o, s:o, s:o, s:o, s:s}",
			      "load1", l1 >= 0 ? json_real(l1) : json_null(),
			      "load5", l5 >= 0 ? json_real(l5) : json_null(),
			      "uptime_s", up >= 0 ? json_real(up) : json_null(),
			      "mem_total_bytes", meminfo(proc, "MemTotal"),
			      "mem_available_bytes", meminfo(proc, "MemAvailable"),
			      "role_state", role_state(processes));
	json_object_set_new(h, "processes", processes);
	json_object_set_new(h, "storage", storage ? storage : json_null());
	return h;
}
