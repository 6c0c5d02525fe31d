/* report.c: qserv-mobu's progress lines, summary and /metrics (report.h). */
#include "report.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "httpd.h"

static struct flock *M_flocks;
static int M_n;
static double M_started;

static double pct(uint64_t part, uint64_t all)
{
	return all ? 100.0 * (double)part / (double)all : 0;
}

static void line(FILE *out, const struct flock *f, const struct stats *s, double elapsed_s)
{
	uint64_t runs = s->ok + s->failed;

	fprintf(out, "flock %s (%s): %d monkey(s), %llu run(s), %llu success(es), %llu failure(s) (%.2f%%), %.1f/s, "
		"latency ms p50 %.2f p95 %.2f p99 %.2f max %.2f\n", f->name, business_name(f->kind), f->monkeys,
		(unsigned long long)runs, (unsigned long long)s->ok, (unsigned long long)s->failed, pct(s->failed, runs),
		elapsed_s > 0 ? (double)runs / elapsed_s : 0, stats_quantile(s, 0.5), stats_quantile(s, 0.95),
		stats_quantile(s, 0.99), s->max_ms);
}

static void last_errors(FILE *out, const struct stats *s)
{
	uint64_t first = s->nerrors > STATS_ERRORS ? s->nerrors - STATS_ERRORS : 0;

	for (uint64_t i = first; i < s->nerrors; i++) {
		const struct stats_error *e = &s->errors[i % STATS_ERRORS];
		char when[32];
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&e->when));
		fprintf(out, "  last error %s: %s\n", when, e->text);
	}
}

static json_t *flock_json(const struct flock *f, const struct stats *s, double elapsed_s)
{
	json_t *errs = json_array();
	uint64_t first = s->nerrors > STATS_ERRORS ? s->nerrors - STATS_ERRORS : 0;

	for (uint64_t i = first; i < s->nerrors; i++)
		json_array_append_new(errs, json_pack("{s:I,s:s}", "time", (json_int_t)s->errors[i % STATS_ERRORS].when,
						      "error", s->errors[i % STATS_ERRORS].text));
	return json_pack("{s:s,s:s,s:i,s:I,s:I,s:f,s:{s:f,s:f,s:f,s:f,s:f},s:o}", "flock", f->name, "business",
			 business_name(f->kind), "monkeys", f->monkeys, "successes", (json_int_t)s->ok, "failures",
			 (json_int_t)s->failed, "per_second", elapsed_s > 0 ? (double)(s->ok + s->failed) / elapsed_s : 0,
			 "latency_ms", "p50", stats_quantile(s, 0.5), "p95", stats_quantile(s, 0.95), "p99",
			 stats_quantile(s, 0.99), "max", s->max_ms, "mean",
			 s->ok + s->failed ? s->sum_ms / (double)(s->ok + s->failed) : 0, "last_errors", errs);
}

/* GET /metrics: Prometheus text, one series per flock. */
static enum MHD_Result metrics(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			       const char *version, const char *data, size_t *size, void **state)
{
	static char buf[65536];
	size_t len = 0;
	struct MHD_Response *r;
	enum MHD_Result ret;
	struct timespec t;

	(void)cls, (void)version, (void)data, (void)state;
	*size = 0;
	if (strcmp(method, "GET") || strcmp(url, "/metrics"))
		return MHD_NO;
	clock_gettime(CLOCK_MONOTONIC, &t);
	len += (size_t)snprintf(buf + len, sizeof(buf) - len,
				"# TYPE qserv_mobu_runs_total counter\n# TYPE qserv_mobu_latency_ms gauge\n"
				"# TYPE qserv_mobu_success_ratio gauge\n# TYPE qserv_mobu_monkeys gauge\n");
	for (int i = 0; i < M_n && len < sizeof(buf) - 1024; i++) {
		struct stats s;
		const char *n = M_flocks[i].name, *b = business_name(M_flocks[i].kind);
		stats_snapshot(&M_flocks[i].st, &s);
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
			"qserv_mobu_runs_total{flock=\"%s\",business=\"%s\",result=\"success\"} %llu\n"
			"qserv_mobu_runs_total{flock=\"%s\",business=\"%s\",result=\"failure\"} %llu\n"
			"qserv_mobu_success_ratio{flock=\"%s\"} %.4f\n"
			"qserv_mobu_monkeys{flock=\"%s\"} %d\n"
			"qserv_mobu_latency_ms{flock=\"%s\",quantile=\"0.5\"} %.3f\n"
			"qserv_mobu_latency_ms{flock=\"%s\",quantile=\"0.95\"} %.3f\n"
			"qserv_mobu_latency_ms{flock=\"%s\",quantile=\"0.99\"} %.3f\n",
			n, b, (unsigned long long)s.ok, n, b, (unsigned long long)s.failed, n,
			s.ok + s.failed ? (double)s.ok / (double)(s.ok + s.failed) : 1.0, n, M_flocks[i].monkeys,
			n, stats_quantile(&s, 0.5), n, stats_quantile(&s, 0.95), n, stats_quantile(&s, 0.99));
	}
	r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	(void)M_started;
	return ret;
}

int report_start(struct report_opts *o, struct flock *f, int n, char *err, size_t errlen)
{
	struct httpd_opts h = { 0 };
	struct MHD_Daemon *d = NULL;

	M_flocks = f;
	M_n = n;
	if (!o->metrics_port)
		return 0;
	h.bind = o->metrics_bind;
	h.port = (uint16_t)o->metrics_port;
	h.connection_timeout_s = 10;
	h.connection_limit = 16;
	h.handler = metrics;
	if (httpd_start(&h, &d, err, errlen) < 0)
		return -1;
	o->daemon = d;
	return 0;
}

void report_tick(struct report_opts *o, struct flock *f, int n, double elapsed_s)
{
	if (o->every_s <= 0 || elapsed_s - o->last_s < o->every_s)
		return;
	o->last_s = elapsed_s;
	for (int i = 0; i < n; i++) {
		struct stats s;
		stats_snapshot(&f[i].st, &s);
		line(stderr, &f[i], &s, elapsed_s);
	}
}

int report_final(struct report_opts *o, struct flock *f, int n, double elapsed_s)
{
	json_t *all = json_array();
	int failed = 0;

	for (int i = 0; i < n; i++) {
		struct stats s;
		stats_snapshot(&f[i].st, &s);
		failed |= s.failed > 0;
		if (o->json) {
			json_array_append_new(all, flock_json(&f[i], &s, elapsed_s));
		} else {
			line(stdout, &f[i], &s, elapsed_s);
			last_errors(stdout, &s);
		}
	}
	if (o->json) {
		json_dumpf(json_pack("{s:f,s:o}", "seconds", elapsed_s, "flocks", all), stdout, JSON_INDENT(1));
		printf("\n");
	} else {
		json_decref(all);
	}
	fflush(stdout);
	return failed;
}

void report_stop(struct report_opts *o)
{
	httpd_stop(o->daemon);
	o->daemon = NULL;
}
