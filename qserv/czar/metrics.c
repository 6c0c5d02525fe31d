/* metrics.c: GET /metrics of qserv-czar (see metrics.h). */
#include "metrics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "buf.h"
#include "httpd.h"

#include "history_queue.h"
#include "director_map.h"
#include "index_cache.h"
#include "session.h"
#include "stages.h"

struct metrics {
	struct MHD_Daemon *d;
	struct czar *cz;
};

/* Label values: user names are [^"\\\n] in practice; escape anyway. */
static void label(char *dst, size_t cap, const char *s)
{
	size_t o = 0;

	for (; *s && o + 3 < cap; s++) {
		if (*s == '"' || *s == '\\')
			dst[o++] = '\\';
		dst[o++] = *s == '\n' ? ' ' : *s;
	}
	dst[o] = 0;
}

/* The lookup path's counters: stage histograms, the director-index cache
 * and map,
 * the history writer's queue. */
static void perf_metrics(struct czar *cz, struct buf *t)
{
	struct index_cache_stats ic;
	struct history_queue_stats hq;

	stages_metrics(t);
	index_cache_get_stats(cz->index_cache, &ic);
	buf_printf(t, "# HELP qserv_czar_index_cache_total Director-index lookups answered from the cache (hit) "
		"or by the czar MariaDB (miss).\n# TYPE qserv_czar_index_cache_total counter\n"
		"qserv_czar_index_cache_total{result=\"hit\"} %llu\nqserv_czar_index_cache_total{result=\"miss\"} %llu\n",
		ic.hits, ic.misses);
	buf_printf(t, "# HELP qserv_czar_index_cache_entries Director-index answers held.\n"
		"# TYPE qserv_czar_index_cache_entries gauge\nqserv_czar_index_cache_entries %llu\n", ic.entries);
	struct dmap_stats dm;
	dmap_get_stats(cz->dmap, &dm);
	buf_printf(t, "# HELP qserv_czar_director_map_keys_total Point-lookup keys answered from the director "
		"indexes in memory (hit) or sent to the director index (miss).\n"
		"# TYPE qserv_czar_director_map_keys_total counter\n"
		"qserv_czar_director_map_keys_total{result=\"hit\"} %llu\n"
		"qserv_czar_director_map_keys_total{result=\"miss\"} %llu\n", dm.hits, dm.misses);
	buf_printf(t, "# HELP qserv_czar_director_map_loads_total Director-index sets loaded into memory.\n"
		"# TYPE qserv_czar_director_map_loads_total counter\nqserv_czar_director_map_loads_total %llu\n"
		"# HELP qserv_czar_director_map_keys Director-index keys held in memory.\n"
		"# TYPE qserv_czar_director_map_keys gauge\nqserv_czar_director_map_keys %llu\n"
		"# HELP qserv_czar_director_map_bytes Memory the director indexes held take.\n"
		"# TYPE qserv_czar_director_map_bytes gauge\nqserv_czar_director_map_bytes %llu\n"
		"# HELP qserv_czar_director_map_skipped Directors of the last load left on SQL lookups.\n"
		"# TYPE qserv_czar_director_map_skipped gauge\nqserv_czar_director_map_skipped %llu\n",
		dm.loads, dm.keys, dm.bytes, dm.skipped);
	history_queue_get_stats(cz, &hq);
	buf_printf(t, "# HELP qserv_czar_history_events_total Query history events (row begins and ends) by "
		"what became of them.\n# TYPE qserv_czar_history_events_total counter\n"
		"qserv_czar_history_events_total{result=\"written\"} %llu\n"
		"qserv_czar_history_events_total{result=\"dropped\"} %llu\n", hq.written, hq.dropped);
	buf_printf(t, "# HELP qserv_czar_history_queue_depth History events waiting for the writer.\n"
		"# TYPE qserv_czar_history_queue_depth gauge\nqserv_czar_history_queue_depth %u\n", hq.depth);
}

char *metrics_text(struct czar *cz)
{
	struct buf t = { 0 };
	struct sess *s;
	time_t now = time(NULL);
	unsigned running = 0;

	pthread_mutex_lock(&cz->lock);
	buf_printf(&t, "# HELP qserv_czar_connections Logged-in client sessions open now.\n"
		"# TYPE qserv_czar_connections gauge\nqserv_czar_connections %u\n", cz->nsessions);
	buf_printf(&t, "# HELP qserv_czar_pending_logins Connections not logged in yet.\n"
		"# TYPE qserv_czar_pending_logins gauge\nqserv_czar_pending_logins %u\n", cz->npending);
	buf_printf(&t, "# HELP qserv_czar_statements_total Statements received since start.\n"
		"# TYPE qserv_czar_statements_total counter\nqserv_czar_statements_total %llu\n",
	    (unsigned long long)cz->queries);
	buf_printf(&t, "# HELP qserv_czar_statement_errors_total Statements answered with an error.\n"
		"# TYPE qserv_czar_statement_errors_total counter\nqserv_czar_statement_errors_total %llu\n",
	    (unsigned long long)cz->errors);
	buf_printf(&t, "# HELP qserv_czar_statement_seconds_total Time spent answering statements.\n"
		"# TYPE qserv_czar_statement_seconds_total counter\nqserv_czar_statement_seconds_total %.3f\n",
	    cz->statement_ms / 1000.0);
	buf_printf(&t, "# HELP qserv_czar_chunk_queries_total Chunk queries completed on workers.\n"
		"# TYPE qserv_czar_chunk_queries_total counter\nqserv_czar_chunk_queries_total %llu\n",
	    (unsigned long long)cz->chunk_queries);
	if (cz->dispatch) {
		struct dispatch_stats ds;
		dispatch_get_stats(cz->dispatch, &ds);
		buf_printf(&t, "# HELP qserv_czar_chunk_failovers_total Chunk attempts that failed and moved to"
			" another replica (or gave up), by why the worker failed.\n"
			"# TYPE qserv_czar_chunk_failovers_total counter\n"
			"qserv_czar_chunk_failovers_total{reason=\"unreachable\"} %llu\n"
			"qserv_czar_chunk_failovers_total{reason=\"silent\"} %llu\n"
			"qserv_czar_chunk_failovers_total{reason=\"lost\"} %llu\n", ds.unreachable, ds.silent, ds.lost);
		buf_printf(&t, "# HELP qserv_czar_worker_connections_opened_total Worker connections opened (TLS handshakes).\n"
			"# TYPE qserv_czar_worker_connections_opened_total counter\n"
			"qserv_czar_worker_connections_opened_total %llu\n"
			"# HELP qserv_czar_worker_connection_waits_total Chunk queries that waited for a worker connection.\n"
			"# TYPE qserv_czar_worker_connection_waits_total counter\n"
			"qserv_czar_worker_connection_waits_total %llu\n"
			"# HELP qserv_czar_worker_connections_open_max Most connections open to one worker at once.\n"
			"# TYPE qserv_czar_worker_connections_open_max gauge\n"
			"qserv_czar_worker_connections_open_max %llu\n", ds.opened, ds.waits, ds.open_max);
		buf_printf(&t, "# HELP qserv_czar_chunk_spills_total Chunk answers held in a spill file (past 8 MiB).\n"
			"# TYPE qserv_czar_chunk_spills_total counter\nqserv_czar_chunk_spills_total %llu\n",
			ds.spilled);
	}
	buf_printf(&t, "# HELP qserv_czar_query_chunks_done Chunks finished of a running distributed query.\n"
		"# TYPE qserv_czar_query_chunks_done gauge\n"
		"# HELP qserv_czar_query_chunks_total Chunks of a running distributed query.\n"
		"# TYPE qserv_czar_query_chunks_total gauge\n"
		"# HELP qserv_czar_query_seconds Age of a running distributed query.\n"
		"# TYPE qserv_czar_query_seconds gauge\n");
	for (s = cz->sessions; s; s = s->next) {
		char user[2 * AUTH_NAME_MAX + 2], labels[256];
		if (!s->qid)
			continue;
		running++;
		label(user, sizeof(user), s->user);
		snprintf(labels, sizeof(labels), "{qid=\"%llu\",session=\"%u\",user=\"%s\"}",
			 (unsigned long long)s->qid, s->id, user);
		buf_printf(&t, "qserv_czar_query_chunks_done%s %u\n", labels, s->progress.done);
		buf_printf(&t, "qserv_czar_query_chunks_total%s %u\n", labels, s->progress.total);
		buf_printf(&t, "qserv_czar_query_seconds%s %lld\n", labels, (long long)(now - s->since));
	}
	buf_printf(&t, "# HELP qserv_czar_queries_running Distributed queries running now.\n"
		"# TYPE qserv_czar_queries_running gauge\nqserv_czar_queries_running %u\n", running);
	pthread_mutex_unlock(&cz->lock);
	perf_metrics(cz, &t);
	return buf_steal(&t);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *data, size_t *size, void **state)
{
	struct metrics *m = cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *body;
	int status = MHD_HTTP_OK;

	(void)version; (void)data; (void)size; (void)state;
	if (strcmp(method, "GET") != 0) {
		body = strdup("only GET\n");
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
	} else if (strcmp(url, "/metrics") != 0) {
		body = strdup("not found: try /metrics\n");
		status = MHD_HTTP_NOT_FOUND;
	} else {
		body = metrics_text(m->cz);
	}
	if (!body)
		return MHD_NO;
	r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", status == MHD_HTTP_OK ? "text/plain; version=0.0.4" : "text/plain");
	ret = MHD_queue_response(c, (unsigned)status, r);
	MHD_destroy_response(r);
	return ret;
}

struct metrics *metrics_start(struct czar *cz, const char *bind, int port, char *err, size_t errlen)
{
	struct metrics *m = calloc(1, sizeof(*m));
	struct httpd_opts o = { .bind = bind, .port = (uint16_t)port, .handler = handle,
				.connection_timeout_s = 10, .connection_limit = 64 };   /* scrapers are brief */
	int rc;

	if (!m) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->cz = cz;
	o.handler_cls = m;
	rc = httpd_start(&o, &m->d, NULL, 0);
	if (rc == -EINVAL)
		snprintf(err, errlen, "bad address %s", bind);
	else if (rc < 0)
		snprintf(err, errlen, "cannot serve /metrics on %s:%d", bind, port);
	if (rc < 0) {
		free(m);
		return NULL;
	}
	return m;
}

void metrics_stop(struct metrics *m)
{
	if (!m)
		return;
	httpd_stop(m->d);
	free(m);
}
