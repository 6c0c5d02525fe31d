#!/bin/sh
# scan_bench.sh: shared scans on the worker (qserv/worker/query_sched.c)
# against the same worker starting waiting scans oldest first
# on any chunk (QSERV_SHARED_SCANS=0, the scheduler before shared scans),
# with more data
# than the cache holds.
#
# A 1-worker dev cluster holds BENCH_ROWS (400,000) Object rows (objectId,
# ra, decl, 20 doubles; num-stripes BENCH_STRIPES (3: 7 chunks of ~11 MB,
# big beside the cache as Qserv's chunks are), MyISAM); the worker's
# MariaDB runs in a memory cgroup (v1) capped at what it holds already +
# BENCH_CACHE_MB (32) so its page cache cannot keep the table, its
# key_buffer_size is 8 MB, and before each run the cgroup's page cache is
# dropped (memory.force_empty: only this MariaDB's pages, nobody else's;
# the machine's page cache is dropped once, after the load).
# A run: BENCH_SCANS (4) different full scans
#   SELECT COUNT(*), ROUND(AVG(c0K), 4) FROM Object WHERE c0K > 100*K
# started together through the czar; measured: the time until all are
# done, and the bytes the worker's mariadbd read from disk (/proc/PID/io
# read_bytes).  BENCH_ROUNDS (2) runs per mode, alternating, the worker
# restarted in between (kill/start: same data).  BENCH_WINDOW: the czar's
# --window (chunk queries in flight per worker and query; its default 8;
# Qserv sends a scan's every chunk query at once, a window of at least
# the chunk count).  Needs root (the cgroup).
# Prints both modes and the ratios; the answers of the two modes must be
# equal (exit 1 otherwise).  Then point lookups by objectId straight on the
# worker's MariaDB (BENCH_LOOKUPS (200) SELECTs in one session, best of 3):
# with the default index publish built (qserv_director_key), then after
# DELETE /replication/sql/index dropped it.  Asserts no timing.
top=$(cd "$(dirname "$0")/../../.." && pwd)
BIN=${QSERV_BIN:-$top/build/bin}
DC=$top/tools/dev-cluster
N=${BENCH_ROWS:-400000}
S=${BENCH_STRIPES:-3}
CACHE_MB=${BENCH_CACHE_MB:-32}
SCANS=${BENCH_SCANS:-4}
ROUNDS=${BENCH_ROUNDS:-2}
CG=/sys/fs/cgroup/memory/qserv-scan-bench.$$
[ "$(id -u)" = 0 ] && [ -d /sys/fs/cgroup/memory ] || { echo "scan_bench: needs root and the cgroup v1 memory controller: skipped"; exit 0; }
T=$(mktemp -d /tmp/scan_bench.XXXXXX)
cleanup() {
	if [ -d "$CG" ]; then
		for p in $(cat "$CG/cgroup.procs" 2>/dev/null); do echo "$p" > /sys/fs/cgroup/memory/cgroup.procs; done
		rmdir "$CG" 2>/dev/null
	fi
	"$DC" down --dir "$T/cluster" > /dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
now() { date +%s.%N; }
calc() { echo "scale=4; $*" | bc; }

cols='"objectId", "ra", "decl"'
schema='{"name": "objectId", "type": "BIGINT NOT NULL"}, {"name": "ra", "type": "DOUBLE NOT NULL"}, {"name": "decl", "type": "DOUBLE NOT NULL"}'
for k in $(seq -w 1 20); do
	cols="$cols, \"c$k\""; schema="$schema, {\"name\": \"c$k\", \"type\": \"DOUBLE\"}"
done
awk -v n="$N" 'BEGIN { srand(15); pi = 3.141592653589793
	for (i = 1; i <= n; i++) {
		z = 2 * rand() - 1
		printf "%d\t%.8f\t%.8f", i, rand() * 360, atan2(z, sqrt(1 - z * z)) * 180 / pi
		for (k = 0; k < 20; k++) printf "\t%.6f", rand() * 1000
		printf "\n"
	} }' > "$T/Object.tsv"
cat > "$T/Object.cfg" <<EOF
{"part": {"num-stripes": $S, "num-sub-stripes": 4, "overlap": 0.01667, "pos": "ra,decl", "id": "objectId",
          "chunk": "chunkId", "sub-chunk": "subChunkId"},
 "in": {"csv": {"delimiter": "\t", "null": "\\\\N", "escape": "\\\\", "no-quote": true, "field": [$cols]}},
 "out": {"csv": {"delimiter": "\t", "null": "\\\\N", "escape": "\\\\", "no-quote": true}}}
EOF
"$BIN/qserv-partition" --config-file="$T/Object.cfg" --in.path="$T/Object.tsv" --out.dir="$T/ds/chunks/Object" \
	> "$T/part.log" 2>&1 || { echo "qserv-partition: $(tail -3 "$T/part.log")"; exit 1; }
/usr/bin/python3 "$top/tools/director-dataset.py" "$T/ds" scan Object "$S" 4 "[$schema]"
rm -f "$T/Object.tsv"
QSERV_CZAR_ARGS="${QSERV_CZAR_ARGS:-} ${BENCH_WINDOW:+--window $BENCH_WINDOW}" \
	"$DC" up --workers 1 --dir "$T/cluster" > "$T/up.log" 2>&1 || { echo "dev cluster: $(tail -5 "$T/up.log")"; exit 1; }
set -a; . "$T/cluster/cluster.env"; set +a
"$BIN/qservctl" --url "$QSERV_INGEST_URL" ingest -q -j 2 "$T/ds" > "$T/ingest.log" 2>&1 ||
	{ echo "qservctl ingest: $(tail -5 "$T/ingest.log")"; exit 1; }
rm -rf "$T/ds"
W=$QSERV_WORKER_1_SOCKET
my() { mariadb --no-defaults -S "$W" -uroot -N -B "$@"; }
mb=$(my -e "SELECT ROUND(SUM(DATA_LENGTH) / 1048576) FROM information_schema.TABLES WHERE TABLE_SCHEMA='scan' AND TABLE_NAME REGEXP '^Object_[0-9]+\$'")
nch=$(my -e "SELECT COUNT(*) - 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA='scan' AND TABLE_NAME REGEXP '^Object_[0-9]+\$'")
echo "data: $N Object rows in $nch chunk tables, $mb MB of MyISAM data on 1 worker; page cache of its MariaDB capped at +$CACHE_MB MB"
CZ="mariadb --no-defaults -h127.0.0.1 -P$QSERV_CZAR_PORT -u$QSERV_USER -p$QSERV_PASSWORD -D scan -N -B"

# the pages the load left in the page cache are charged to no cgroup of
# ours: dropped once (sync first); from then on the worker's mariadbd,
# in the capped cgroup (after one warm-up run: what it holds then +
# CACHE_MB), is charged for what it reads, and each run drops only those
# (memory.force_empty)
sync
echo 3 > /proc/sys/vm/drop_caches
mkdir -p "$CG" || exit 1
cap() {
	my -e "SET GLOBAL key_buffer_size = 8388608" || exit 1
	pid=$(cat "$T/cluster/worker-1/mariadbd.pid")
	echo -1 > "$CG/memory.limit_in_bytes"
	echo "$pid" > "$CG/cgroup.procs" || exit 1
	run warm > /dev/null   # its threads' buffers and open tables, charged here
	echo 0 > "$CG/memory.force_empty" 2>/dev/null
	use=$(cat "$CG/memory.usage_in_bytes")
	echo $((use + CACHE_MB * 1048576)) > "$CG/memory.limit_in_bytes" || exit 1
}
# mode NAME: one run of SCANS scans together; prints "seconds read_MB"
run() {
	echo 0 > "$CG/memory.force_empty" 2>/dev/null
	r0=$(awk '/^read_bytes/ { print $2 }' "/proc/$pid/io")
	t0=$(now)
	for k in $(seq 1 "$SCANS"); do
		c=$(printf 'c%02d' "$k")
		$CZ -e "SELECT COUNT(*), ROUND(AVG($c), 4) FROM Object WHERE $c > $((k * 100))" > "$T/ans.$1.$k" 2>&1 &
	done
	wait
	t1=$(now)
	r1=$(awk '/^read_bytes/ { print $2 }' "/proc/$pid/io")
	echo "$(calc "$t1 - $t0") $(((r1 - r0) / 1048576))"
}
restart() { # ENV=VALUE for the worker
	my -e "FLUSH TABLES" # MyISAM files closed cleanly before the SIGKILL
	"$DC" kill worker-1 --dir "$T/cluster" > "$T/kill.log" 2>&1
	env "$1" "$DC" start worker-1 --dir "$T/cluster" > "$T/start.log" 2>&1 || { echo "start: $(tail -3 "$T/start.log")"; exit 1; }
	i=0   # the czar reconnects (bounded); then the cap, on a warm mariadbd
	until [ "$($CZ -e "SELECT COUNT(*) FROM Object" 2>/dev/null)" = "$N" ] || [ $i -ge 40 ]; do i=$((i + 1)); sleep 0.5; done
	cap
}

bad=0
for r in $(seq 1 "$ROUNDS"); do
	for mode in fifo shared; do
		if [ "$mode" = fifo ]; then restart QSERV_SHARED_SCANS=0; else restart QSERV_SHARED_SCANS=1; fi
		set -- $(run "$mode")
		echo "round $r, $mode: $SCANS scans done in $1 s, $2 MB read from disk"
		eval "s_$mode=\"\${s_$mode:-} $1\" m_$mode=\"\${m_$mode:-} $2\""
		for k in $(seq 1 "$SCANS"); do
			if [ -f "$T/ans.ref.$k" ]; then
				cmp -s "$T/ans.ref.$k" "$T/ans.$mode.$k" || { echo "ANSWER DIFFERS (scan $k, $mode): $(cat "$T/ans.$mode.$k")"; bad=1; }
			else
				cp "$T/ans.$mode.$k" "$T/ans.ref.$k"
			fi
		done
	done
done

# point lookups on the worker's MariaDB (the default index, qserv_director_key,
# then without it): LOOKUPS statements in one session, uncapped, warm
echo -1 > "$CG/memory.limit_in_bytes"
LOOKUPS=${BENCH_LOOKUPS:-200}
my -e "SELECT CONCAT('SELECT * FROM scan.', TABLE_NAME, ' WHERE objectId=') FROM information_schema.TABLES
	WHERE TABLE_SCHEMA='scan' AND TABLE_NAME REGEXP '^Object_[0-9]+\$' AND TABLE_ROWS > 0" > "$T/tables"
: > "$T/lookups.sql"
while read -r q; do
	t=${q#SELECT \* FROM }; t=${t%% *}
	my -e "SELECT objectId FROM $t ORDER BY RAND(1) LIMIT $((LOOKUPS / $(wc -l < "$T/tables") + 1))" |
		while read -r id; do echo "$q$id;"; done >> "$T/lookups.sql"
done < "$T/tables"
nl=$(wc -l < "$T/lookups.sql")
lookups() { # prints ms per lookup (best of 3)
	b=
	for _ in 1 2 3; do
		t0=$(now); my < "$T/lookups.sql" > /dev/null || exit 1; t1=$(now)
		d=$(calc "($t1 - $t0) * 1000 / $nl")
		if [ -z "$b" ] || [ "$(echo "$d < $b" | bc)" = 1 ]; then b=$d; fi
	done
	echo "$b"
}
rows=$(my -e "SELECT ROUND(AVG(TABLE_ROWS)) FROM information_schema.TABLES WHERE TABLE_SCHEMA='scan' AND TABLE_NAME REGEXP '^Object_[0-9]+\$' AND TABLE_ROWS > 0")
l_idx=$(lookups)
code=$(curl -s -o "$T/r" -w '%{http_code}' --cacert "$QSERV_CA_FILE" -X DELETE -H "Authorization: Bearer $QSERV_AUTH_KEY" \
	-H 'Content-Type: application/json' -d '{"database":"scan","table":"Object","index":"qserv_director_key"}' \
	"$QSERV_INGEST_URL/replication/sql/index")
[ "$code" = 200 ] || { echo "DELETE /replication/sql/index: $code $(cat "$T/r")"; bad=1; }
l_scan=$(lookups)
grep -h "joined a chunk" "$T/cluster/worker-1/worker.log" | tail -n 2 | sed 's/^/worker log: /'
sum() { echo "$*" | tr ' ' '\n' | awk 'NF { s += $1 } END { printf "%.2f", s }'; }
sf=$(sum $s_fifo) ss=$(sum $s_shared) mf=$(sum $m_fifo) ms=$(sum $m_shared)
echo
echo "| $SCANS concurrent full scans, $mb MB, cache +$CACHE_MB MB | oldest first | shared scans | ratio |"
echo "|---|---|---|---|"
echo "| time to all done, sum of $ROUNDS runs (s) | $sf | $ss | $(printf %.2f "$(calc "$ss / $sf")")x |"
echo "| read from disk, sum of $ROUNDS runs (MB) | $(printf %.0f "$mf") | $(printf %.0f "$ms") | $(printf %.2f "$(calc "$ms / ($mf + 0.001)")")x |"
echo
echo "| point lookup by objectId on a chunk table of ~$rows rows, on the worker's MariaDB ($nl lookups, one session) | no index | qserv_director_key | ratio |"
echo "|---|---|---|---|"
echo "| ms per lookup (best of 3) | $(printf %.3f "$l_scan") | $(printf %.3f "$l_idx") | $(printf %.3f "$(calc "$l_idx / $l_scan")")x |"
[ "$bad" = 0 ] && echo "answers: the same in both modes"
exit $bad
