#!/bin/sh
# copy_bench.sh: chunk copy throughput worker to worker (POST
# /worker/replica, qserv/worker/wcopy*.c) on a dev cluster of 2 workers,
# against a baseline of the same run: the same chunk tables copied inside
# the source's own MariaDB (CREATE ... LIKE + INSERT ... SELECT), the
# cheapest copy there is.  Prints, per chunk and in total, MB/s of plain
# rows and the ratio to the baseline.  Chunk sizes grow with OBJECTS
# (default 150000 objects x 3 sources over 40x40 degrees, 6 stripes).
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
BIN=${BUILD:-$REPO/build}/bin
T=$(mktemp -d /tmp/qserv-copybench.XXXXXX)
DC="$REPO/tools/dev-cluster"
cleanup() { "$DC" down --dir "$T/cluster" > /dev/null 2>&1; rm -rf "$T"; }
trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM
command -v mariadbd > /dev/null && command -v jq > /dev/null || { echo "copy_bench: needs mariadbd and jq"; exit 0; }

DB=cpb
"$REPO/tools/sample-catalog.sh" "$T" $DB --objects "${OBJECTS:-150000}" --sources-per-object 3 --ra 0,40 \
	--dec -20,20 --stripes 6 --sub-stripes 4 > /dev/null || exit 1
"$DC" up --workers 2 --dir "$T/cluster" > "$T/up.log" 2>&1 || { tail "$T/up.log"; exit 1; }
set -a; . "$T/cluster/cluster.env"; set +a
"$BIN/qservctl" ingest -q "$T/ds" > "$T/ingest.log" 2>&1 || { tail "$T/ingest.log"; exit 1; }
W1=https://127.0.0.1:$QSERV_WORKER_1_INGEST_PORT
W2=https://127.0.0.1:$QSERV_WORKER_2_INGEST_PORT
my() { mariadb --no-defaults -S "$QSERV_WORKER_1_SOCKET" -uroot -N -B -e "$1"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

tb=0 tms=0 lms=0
for c in $(my "SELECT chunk FROM qservWorker.chunks WHERE db='$DB' ORDER BY chunk"); do
	# baseline: the chunk's tables copied inside worker-1's MariaDB
	t0=$(now_ms)
	for t in $(my "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA='$DB' AND TABLE_NAME REGEXP '_${c}\$'"); do
		my "CREATE TABLE $DB.${t}__bench LIKE $DB.$t; INSERT INTO $DB.${t}__bench SELECT * FROM $DB.$t; DROP TABLE $DB.${t}__bench"
	done
	local_ms=$(($(now_ms) - t0))
	curl -s --cacert "$QSERV_CA_FILE" -H "Authorization: Bearer $QSERV_AUTH_KEY" -X POST -H 'Content-Type: application/json' \
		-d "{\"database\":\"$DB\",\"chunk\":$c,\"source_id\":\"worker-1\",\"source_url\":\"$W1\"}" \
		"$W2/worker/replica" > "$T/r"
	jq -en 'input | .success' "$T/r" > /dev/null || { echo "copy of chunk $c failed: $(cat "$T/r")"; exit 1; }
	set -- $(jq -r '"\(.plain_bytes) \(.bytes) \(.rows) \(.seconds * 1000 | floor)"' "$T/r")
	[ "$4" -gt 0 ] || set -- "$1" "$2" "$3" 1
	[ "$local_ms" -gt 0 ] || local_ms=1
	echo "chunk $c: $3 rows, $(($1 / 1000)) kB plain ($(($2 / 1000)) kB LZ4): $4 ms, $(($1 / $4 / 1000)) MB/s;" \
		"in-MariaDB copy $local_ms ms; ratio $(awk -v a="$4" -v b="$local_ms" 'BEGIN { printf "%.2f", a / b }')"
	tb=$((tb + $1)) tms=$((tms + $4)) lms=$((lms + local_ms))
done
[ "$tms" -gt 0 ] || tms=1
echo "total: $((tb / 1000)) kB plain in $tms ms = $((tb / tms / 1000)) MB/s worker to worker" \
	"(verified, one copy at a time); in-MariaDB baseline $lms ms; ratio" \
	"$(awk -v a="$tms" -v b="$lms" 'BEGIN { printf "%.2f", a / (b > 0 ? b : 1) }')"
