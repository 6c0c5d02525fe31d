/* replicas.c: `qservctl replicas`, replica levels as the controller sees
 * them (qserv/controller/crepl.c, docs/replication.md).
 *
 *   qservctl replicas [--controller URL] [--json]
 *   qservctl replicas level N [DB] [--controller URL]
 *   qservctl replicas verify [--controller URL] [--json]
 *   qservctl replicas rebalance [--controller URL]
 *
 * The first prints GET /replication/status as two tables (databases:
 * level, chunks, under-replicated; workers: state, chunks) and the trim
 * and rebalance counters; --json prints the reply as is.  The second sets
 * the cluster's level, or DB's, and the controller copies the chunks of
 * published databases up to it or trims them down to it (PUT
 * /replication/level, the admin key from the global --auth-key-file or
 * $QSERV_AUTH_KEY).  The third runs one verify pass now (POST
 * /replication/verify, the admin key): every replica's checksums against
 * the reference, mismatching ones replaced; it prints the pass's counts.
 * The fourth moves chunks now until every worker holds within 10% of the
 * mean (POST /replication/rebalance, the admin key).  Controller URL: --controller, else $QSERV_INGEST_URL,
 * else http://127.0.0.1:25081; the cluster CA from the global --ca or
 * $QSERV_CA_FILE.  Exit 0 on success, 1 when the controller cannot be
 * reached or refuses, 2 on a usage error. */
#include "ctl.h"

#include "qserv/common/qhttpc.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_status(json_t *r)
{
	size_t i;
	json_t *v;
	printf("cluster level %lld\n\n%-32s %5s %8s %16s\n", json_integer_value(json_object_get(r, "level")),
	       "DATABASE", "LEVEL", "CHUNKS", "UNDER-REPLICATED");
	json_array_foreach(json_object_get(r, "databases"), i, v)
		printf("%-32s %5lld %8lld %16lld\n", json_string_value(json_object_get(v, "database")),
		       json_integer_value(json_object_get(v, "level")), json_integer_value(json_object_get(v, "chunks")),
		       json_integer_value(json_object_get(v, "under_replicated")));
	printf("\n%-32s %-12s %8s\n", "WORKER", "STATE", "CHUNKS");
	json_array_foreach(json_object_get(r, "workers"), i, v)
		printf("%-32s %-12s %8lld\n", json_string_value(json_object_get(v, "id")),
		       json_string_value(json_object_get(v, "state")), json_integer_value(json_object_get(v, "chunks")));
	json_t *h = json_object_get(r, "health"), *cp = json_object_get(h, "copies");
	if (h)
		printf("\nevict after %lld s, %lld eviction(s); copies: %lld in flight, %lld done, %lld failed,"
		       " %.1f MB copied; last heal %.1f s (%lld copies)\n",
		       json_integer_value(json_object_get(h, "evict_after")),
		       json_integer_value(json_object_get(h, "evictions")),
		       json_integer_value(json_object_get(cp, "in_flight")), json_integer_value(json_object_get(cp, "done")),
		       json_integer_value(json_object_get(cp, "failed")),
		       (double)json_integer_value(json_object_get(cp, "plain_bytes")) / 1e6,
		       json_real_value(json_object_get(cp, "last_heal_seconds")),
		       json_integer_value(json_object_get(cp, "last_heal_copies")));
	json_t *t = json_object_get(r, "trim"), *b = json_object_get(r, "rebalance");
	if (t && b)
		printf("trim: %lld replica(s) dropped, %lld worker drop(s) failed; rebalance%s: %lld move(s) (%lld failed),"
		       " last %lld in %.1f s\n", json_integer_value(json_object_get(t, "replicas_dropped")),
		       json_integer_value(json_object_get(t, "drop_failed")),
		       json_is_true(json_object_get(b, "running")) ? " (running)" : "",
		       json_integer_value(json_object_get(b, "moves")), json_integer_value(json_object_get(b, "failed")),
		       json_integer_value(json_object_get(b, "last_moves")),
		       json_real_value(json_object_get(b, "last_seconds")));
	json_t *vf = json_object_get(r, "verify");
	if (vf)
		printf("verify every %lld s (0: never): %lld pass(es), %lld replicas verified, %lld mismatch(es), %lld"
		       " repaired; returning workers: %lld replicas reused, %lld dropped\n",
		       json_integer_value(json_object_get(vf, "interval")), json_integer_value(json_object_get(vf, "passes")),
		       json_integer_value(json_object_get(vf, "replicas")), json_integer_value(json_object_get(vf, "mismatches")),
		       json_integer_value(json_object_get(vf, "repaired")), json_integer_value(json_object_get(vf, "reused")),
		       json_integer_value(json_object_get(vf, "dropped")));
}

static void print_verify(json_t *r)
{
	size_t i;
	json_t *b;
	printf("verified %lld chunks, %lld replicas in %.2f s: %lld mismatch(es), %lld repaired\n",
	       json_integer_value(json_object_get(r, "chunks")), json_integer_value(json_object_get(r, "replicas")),
	       json_real_value(json_object_get(r, "seconds")), json_integer_value(json_object_get(r, "mismatches")),
	       json_integer_value(json_object_get(r, "repaired")));
	json_array_foreach(json_object_get(r, "mismatched"), i, b)
		printf("  %s chunk %lld on %s%s\n", json_string_value(json_object_get(b, "database")),
		       json_integer_value(json_object_get(b, "chunk")), json_string_value(json_object_get(b, "worker")),
		       json_is_true(json_object_get(b, "missing")) ? " (missing)" : "");
}

static int usage(void)
{
	fprintf(stderr, "usage: qservctl replicas [--controller URL] [--json]\n"
			"       qservctl replicas level N [DB] [--controller URL]\n"
			"       qservctl replicas verify [--controller URL] [--json]\n"
			"       qservctl replicas rebalance [--controller URL]\n");
	return 2;
}

int ctl_replicas(int argc, char **argv)
{
	static const struct option opts[] = { { "controller", required_argument, NULL, 'c' },
					      { "json", no_argument, NULL, 'j' }, { 0 } };
	const char *url = NULL;
	bool as_json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:j", opts, NULL)) != -1) {
		if (c == 'c')
			url = optarg;
		else if (c == 'j')
			as_json = true;
		else
			return usage();
	}
	int nargs = argc - optind;
	bool set = nargs >= 1 && !strcmp(argv[optind], "level");
	bool verify = nargs == 1 && !strcmp(argv[optind], "verify");
	bool rebal = nargs == 1 && !strcmp(argv[optind], "rebalance");
	if ((!set && !verify && !rebal && nargs != 0) || (set && (nargs < 2 || nargs > 3)))
		return usage();
	char *end;
	long level = set ? strtol(argv[optind + 1], &end, 10) : 0;
	if (set && (*end || level < 1))
		return usage();
	json_t *body = NULL, *reply;
	if (set)
		body = json_pack("{s:i, s:s}", "level", (int)level, "database", nargs == 3 ? argv[optind + 2] : "");
	else if (rebal)
		body = json_object();
	if (ctl_controller_init("replicas", NULL) < 0 ||
	    ctl_controller_call("replicas", ctl_controller_url(url), set ? "PUT" : verify || rebal ? "POST" : "GET",
				set ? "replication/level" : verify ? "replication/verify" : rebal ? "replication/rebalance" :
				"replication/status", body, &reply) < 0)
		return 1;
	if (set) {
		const char *db = json_string_value(json_object_get(reply, "database"));
		json_t *rp = json_object_get(reply, "replication");
		printf("replica level of %s%s set to %ld: %lld chunk copies made (%.1f s), %lld replica(s) trimmed\n",
		       db && db[0] ? "" : "the cluster", db ? db : "", level, json_integer_value(json_object_get(rp, "copies")),
		       json_real_value(json_object_get(rp, "seconds")), json_integer_value(json_object_get(rp, "trimmed")));
	} else if (verify && !as_json) {
		print_verify(reply);
	} else if (rebal) {
		printf("rebalance: %lld chunk(s) moved, %lld failed, in %.1f s\n",
		       json_integer_value(json_object_get(reply, "moves")), json_integer_value(json_object_get(reply, "failed")),
		       json_real_value(json_object_get(reply, "seconds")));
	} else if (as_json) {
		json_dumpf(reply, stdout, JSON_INDENT(2));
		printf("\n");
	} else {
		print_status(reply);
	}
	json_decref(reply);
	return 0;
}
