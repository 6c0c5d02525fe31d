#!/bin/sh
# mobu_bench.sh: issue 16's scale test on this machine: qserv-mobu with
# BENCH_MONKEYS (1,000) concurrent monkeys against a 2-worker dev cluster
# (each monkey its own connection to the czar, ramped up over 10 s),
# BENCH_SECONDS (30) s of checked point lookups by most of them and a few
# cone searches, joins and async queries beside; printed: runs per second,
# p50/p95/p99/max latency and errors per flock (errors must be 0; the
# bench exits 1 otherwise).  Asserts no timing.
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
. "$REPO/tools/tap.sh"
. "$REPO/tools/dc-test.sh"
dc_init mobu-bench
N=${BENCH_MONKEYS:-1000}
SECS=${BENCH_SECONDS:-30}
ulimit -n 65536 2> /dev/null || ulimit -n 4096
DB=mobu
"$REPO/tools/sample-catalog.sh" "$T" $DB --objects 100000 --sources-per-object 2 --ra 0,40 --dec -20,20 \
	--stripes 12 --sub-stripes 4 > "$T/gen.log" 2>&1 || { cat "$T/gen.log"; exit 1; }
QSERV_CZAR_ARGS="--max-connections $((N + 100)) ${QSERV_CZAR_ARGS:-}" dc_up 2 || { tail -5 "$T/up.log"; exit 1; }
"$BIN/qservctl" --url "$QSERV_INGEST_URL" ingest -q -j 3 "$T/ds" > "$T/ingest.log" 2>&1 || { tail -5 "$T/ingest.log"; exit 1; }
small=$((N / 50 + 1))
echo "qserv-mobu: $N monkeys for $SECS s against a 2-worker dev cluster (100,000 objects, $(meta \
	"SELECT COUNT(DISTINCT chunk) FROM qservMeta.chunks WHERE db = '$DB'") chunks)"
"$BIN/qserv-mobu" -h "$QSERV_CZAR_HOST" -P "$QSERV_CZAR_PORT" -u "$QSERV_USER" -p "$QSERV_PASSWORD" -D $DB \
	--duration "$((SECS + 10))" --ramp 10 \
	--flock lookups:lookup:$((N - 3 * small)) --flock cones:cone:$small --flock joins:join:$small \
	--flock async:async:$small
