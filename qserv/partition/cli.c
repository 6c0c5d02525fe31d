/* cli.c: sph-partition's command-line form for both partitioners (cli.h).
 *
 *   PROG --config-file=F ... --in.path=P ... --out.dir=D [--KEY=VALUE ...]
 *
 * Config files merge in the order given (later override earlier), then
 * every --KEY=VALUE (or --KEY VALUE, or a bare --FLAG) on the command line
 * overrides them.  A repeated key accumulates into a list (--in.path, -i,
 * --in, --in.csv.field); --config-file (-c) repeats.  Bad rows are
 * reported on stderr as "PROG: file:line: reason"; the run fails once more
 * than --max-errors (default 0) were seen. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "monotime.h"
#include "cli.h"
#include "config.h"
#include "partition.h"

static void report(void *ctx, const char *msg)
{
	fprintf(stderr, "%s: %s\n", (const char *)ctx, msg);
}

/* Splits "--key=value" / "--key value" / "--flag"; returns the number of
 * argv entries consumed, 0 on a usage error.  "--in" is Qserv's older
 * spelling of --in.path. */
static int option(int argc, char **argv, int i, char *key, size_t keylen, const char **value)
{
	const char *a = argv[i];
	if (!strcmp(a, "-c") || !strcmp(a, "-i")) {
		if (i + 1 >= argc)
			return 0;
		snprintf(key, keylen, "%s", a[1] == 'c' ? "config-file" : "in.path");
		*value = argv[i + 1];
		return 2;
	}
	if (strncmp(a, "--", 2) || !a[2])
		return 0;
	a += 2;
	const char *eq = strchr(a, '=');
	int n = 1;
	if (eq) {
		snprintf(key, keylen, "%.*s", (int)(eq - a), a);
		*value = eq + 1;
	} else {
		snprintf(key, keylen, "%s", a);
		*value = "true";
		if (i + 1 < argc && strncmp(argv[i + 1], "--", 2))
			*value = argv[i + 1], n = 2;
	}
	if (!strcmp(key, "in"))
		snprintf(key, keylen, "in.path");
	return n;
}

/* Pass 1: --help, syntax, and the config files in order. */
static int load_files(int argc, char **argv, const char *prog, void (*usage)(FILE *f),
		      struct qpart_config *cfg)
{
	char err[1024] = "", key[256];
	const char *value;
	for (int i = 1; i < argc;) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 1;
		}
		int n = option(argc, argv, i, key, sizeof(key), &value);
		if (n == 0) {
			fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[i]);
			usage(stderr);
			return 2;
		}
		if (!strcmp(key, "config-file") &&
		    qpart_config_merge_file(cfg, value, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s: %s\n", prog, err);
			return 2;
		}
		i += n;
	}
	return 0;
}

int qpart_cli_config(int argc, char **argv, const char *prog, void (*usage)(FILE *f),
		     struct qpart_config **ret)
{
	struct qpart_config *cfg;
	char key[256] = "";
	const char *value = "";
	if (qpart_config_new(&cfg) < 0)
		return 2;
	int r = load_files(argc, argv, prog, usage, cfg);
	/* pass 2: command-line keys override the files; a key repeated on the
	 * command line accumulates (--in.path=a --in.path=b), the first
	 * occurrence replacing what the files said, as with Boost options */
	for (int i = 1; r == 0 && i < argc;) {
		int n = option(argc, argv, i, key, sizeof(key), &value);
		bool again = false;
		for (int k = 1; k < i && !again;) {
			char prev[256];
			const char *pv;
			int m = option(argc, argv, k, prev, sizeof(prev), &pv);
			again = !strcmp(prev, key);
			k += m;
		}
		i += n;
		if (!strcmp(key, "config-file") || !strcmp(key, "verbose") || !strcmp(key, "v"))
			continue;
		bool list = !strcmp(key, "in.path");
		if (list && !again)
			qpart_config_set(cfg, key, "", false);	/* drop the files' list */
		if (qpart_config_set(cfg, key, value, list || again) < 0) {
			fprintf(stderr, "%s: bad option --%s\n", prog, key);
			r = 2;
		}
	}
	if (r) {
		qpart_config_free(cfg);
		return r;
	}
	*ret = cfg;
	return 0;
}

int qpart_cli_run(struct qpart_config *cfg, const char *prog, bool matches)
{
	char err[1024] = "";
	struct qpart_spec spec;
	int r = qpart_spec_resolve(cfg, matches, &spec, err, sizeof(err));
	qpart_config_free(cfg);
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return 2;
	}
	double t0 = monotime_s();
	struct qpart_stats st;
	r = qpart_run(&spec, report, (void *)prog, &st, err, sizeof(err));
	double secs = monotime_s() - t0;
	if (r < 0) {
		fprintf(stderr, "%s: %s; output in %s is incomplete\n", prog, err, spec.out_dir);
		qpart_spec_free(&spec);
		return 1;
	}
	printf("{\"rows\": %llu, \"bad_rows\": %llu, \"chunk_rows\": %llu, \"overlap_rows\": %llu, "
	       "\"chunks\": %zu, \"overlap_chunks\": %zu, \"bytes\": %llu, \"seconds\": %.3f, "
	       "\"out_dir\": \"%s\"}\n",
	       (unsigned long long)st.rows_in, (unsigned long long)st.rows_bad,
	       (unsigned long long)st.rows_out, (unsigned long long)st.overlap_out, st.chunks,
	       st.overlap_chunks, (unsigned long long)st.bytes_in, secs, spec.out_dir);
	qpart_spec_free(&spec);
	return 0;
}
