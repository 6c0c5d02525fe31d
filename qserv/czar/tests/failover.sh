#!/bin/sh
# failover.sh: the czar never hangs on a worker and moves a chunk to its
# other replica (dispatch.h, "Failover").  A 2-worker dev cluster with a
# generated catalog at replica level 1; every chunk of worker-1 is replicated by hand on
# worker-2 (its chunk tables copied with mariadb-dump | mariadb over the
# workers' unix sockets, and a (db, chunk, 'worker-2') row per chunk in
# qservMeta.chunks).  The czar runs with --worker-silence-timeout 3.
# Queries (COUNT(*), a box, a GROUP BY, ORDER BY ... LIMIT, a director-child
# join) are compared with one reference MariaDB holding the unpartitioned
# rows: before any failure, after `dev-cluster kill worker-1`, after it is
# started again, while worker-1's qserv-worker is stopped (SIGSTOP: a hung
# host), after SIGCONT, with worker-1's chunk tables renamed away (a
# replica trimmed under a query); the czar's failover counters (/metrics) show each
# path was taken.  Then the worker answering one of worker-1's chunks
# (either replica: the czar picks the first by the chunk id) is stopped in
# the middle of an answer, after rows of the chunk reached the czar (rows
# of 66 kB that LZ4 cannot shrink, so each fills a ROWS frame and leaves at
# once; one per 0.5 s): the chunk is retried on the other worker and the result is exact, streamed and
# merged (ORDER BY).  Last, with the replicas unregistered, a stopped
# worker-1 makes a query fail with an error naming the chunk and the
# worker.  A failed worker is tried last for 10 s (SUSPECT_MS): the test
# waits that long where the next step must reach worker-1 again.  Every phase counts wrong answers and errors and fails on any;
# each query must return within $BOUND s, a bound that only catches a hang
# (with a 3 s silence deadline and the 10 s TLS handshake deadline a
# failover takes seconds).
top=$(cd "$(dirname "$0")/../../.." && pwd)
. "$top/tools/tap.sh"
BIN=${QSERV_BIN:-$top/build/bin}
BOUND=60
T=$(mktemp -d /tmp/czar-failover.XXXXXX)
STOPPED=
cleanup() {
	[ -n "$STOPPED" ] && kill -CONT "$STOPPED" 2>/dev/null
	"$top/tools/dev-cluster" down --dir "$T/cluster" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

tap_plan 24
for b in qserv-gen qserv-partition qserv-worker qserv-controller qservctl qserv-czar qserv-certs; do
	[ -x "$BIN/$b" ] || { echo "Bail out! $BIN/$b is not built"; exit 1; }
done
[ -f "$top/build/lib/qserv_scisql.so" ] || { echo "Bail out! build/lib/qserv_scisql.so is not built"; exit 1; }

"$top/tools/sample-catalog.sh" "$T" fo --stripes 18 --sub-stripes 4 || exit 1
if ! QSERV_CZAR_ARGS="--worker-silence-timeout 3" QSERV_CONTROLLER_ARGS="--replication-level 1" \
	"$top/tools/dev-cluster" up --workers 2 --dir "$T/cluster" > "$T/up.log" 2>&1; then
	tap_fail "dev cluster with the czar comes up" "$(cat "$T/up.log")"; exit 1
fi
set -a; . "$T/cluster/cluster.env"; set +a
tap_ok "dev cluster with the czar comes up" test -n "$QSERV_CZAR_PORT"
tap_ok "qservctl ingest loads the catalog" "$BIN/qservctl" --url "$QSERV_INGEST_URL" ingest -q -j 3 "$T/ds"

REF="mariadb --no-defaults -S $QSERV_CZAR_DB_SOCKET -uroot --local-infile=1"
cols() { /usr/bin/python3 -c 'import json,sys; print(", ".join("`%s` %s" % (c["name"], c["type"]) for c in json.load(open(sys.argv[1]))["schema"]))' "$1"; }
$REF -e "CREATE DATABASE ref;
	CREATE TABLE ref.Object ($(cols "$T/gen/Object.schema.json"));
	CREATE TABLE ref.Source ($(cols "$T/gen/Source.schema.json"));
	LOAD DATA LOCAL INFILE '$T/gen/Object.tsv' INTO TABLE ref.Object;
	LOAD DATA LOCAL INFILE '$T/gen/Source.tsv' INTO TABLE ref.Source;"

W1="mariadb --no-defaults -S $QSERV_WORKER_1_SOCKET -uroot"
W2="mariadb --no-defaults -S $QSERV_WORKER_2_SOCKET -uroot"
META="$REF -N -B qservMeta"
n1=$($META -e "SELECT COUNT(*) FROM chunks WHERE db = 'fo' AND worker_id = 'worker-1'")
n2=$($META -e "SELECT COUNT(*) FROM chunks WHERE db = 'fo' AND worker_id = 'worker-2'")
tap_diag "chunks: $n1 on worker-1, $n2 on worker-2"
tap_ok "both workers hold chunks" test "$n1" -gt 0 -a "$n2" -gt 0

# Replicate worker-1's chunks on worker-2: the tables of fo that worker-2
# lacks (chunk tables; regular and dummy-chunk tables are on both).
$W1 -N -B -e "SHOW TABLES FROM fo" | sort > "$T/t1"
$W2 -N -B -e "SHOW TABLES FROM fo" | sort > "$T/t2"
comm -23 "$T/t1" "$T/t2" > "$T/copy"
# shellcheck disable=SC2046
mariadb-dump --no-defaults -S "$QSERV_WORKER_1_SOCKET" -uroot fo $(cat "$T/copy") > "$T/copy.sql" &&
	$W2 fo < "$T/copy.sql"
$META -e "INSERT INTO chunks (db, chunk, worker_id)
	SELECT db, chunk, 'worker-2' FROM chunks WHERE db = 'fo' AND worker_id = 'worker-1'"
tap_is "$($META -e "SELECT COUNT(*) FROM chunks WHERE db = 'fo' AND worker_id = 'worker-2'")" $((n1 + n2)) \
	"every chunk of worker-1 is registered on worker-2 too ($(wc -l < "$T/copy") tables copied)"
sleep 3                       # the czar reloads qservMeta within 2 s (META_TTL_MS)

CZ="mariadb --no-defaults -h127.0.0.1 -P$QSERV_CZAR_PORT -u$QSERV_USER -p$QSERV_PASSWORD"
cat > "$T/queries" <<'QEOF'
COUNT(*)|SELECT COUNT(*) FROM Object|
box|SELECT objectId, ra, decl FROM Object WHERE qserv_areaspec_box(10, -20, 40, 10)|SELECT objectId, ra, decl FROM Object WHERE scisql_s2PtInBox(ra, decl, 10, -20, 40, 10) = 1
GROUP BY|SELECT filterName, COUNT(*), MIN(midPointTai) FROM Source GROUP BY filterName|
ORDER BY LIMIT|SELECT objectId, r_psFlux FROM Object WHERE r_psFlux IS NOT NULL ORDER BY r_psFlux DESC, objectId LIMIT 10|
join|SELECT COUNT(*), SUM(s.psFlux > o.r_psFlux) FROM Object o JOIN Source s USING (objectId)|
QEOF

# phase NAME: every query of $T/queries against the reference; one TAP line
# "NAME: 0 wrong, 0 errors, 0 slow" (details as diagnostics).
phase() {
	wrong=0 errs=0 slow=0 longest=0
	while IFS='|' read -r name q r; do
		[ -n "$r" ] || r=$q
		t0=$(date +%s)
		timeout $((BOUND + 30)) $CZ -D fo -N -B -e "$q" > "$T/c.out" 2> "$T/c.err"
		t1=$(date +%s)
		[ $((t1 - t0)) -gt "$longest" ] && longest=$((t1 - t0))
		$REF -D ref -N -B -e "$r" > "$T/r.out" 2> "$T/r.err"
		if [ $((t1 - t0)) -gt "$BOUND" ]; then
			slow=$((slow + 1)); tap_diag "$1: $name took $((t1 - t0)) s"
		fi
		if [ -s "$T/c.err" ] || [ -s "$T/r.err" ]; then
			errs=$((errs + 1)); tap_diag "$1: $name: $(cat "$T/c.err" "$T/r.err")"
		elif ! sort "$T/c.out" | cmp -s - "$(sort "$T/r.out" > "$T/r.sorted"; echo "$T/r.sorted")"; then
			wrong=$((wrong + 1)); tap_diag "$1: $name: wrong answer"
		fi
	done < "$T/queries"
	tap_diag "$1: the longest query took $longest s"
	tap_is "$wrong wrong, $errs errors, $slow slow" "0 wrong, 0 errors, 0 slow" "$1"
}
pid_of() { awk -v n="$1" '$1 == n { print $2 }' "$T/cluster/pids"; }
# failovers REASON...: the sum of the czar's failover counters for the reasons
failovers() {
	curl -sf "$QSERV_CZAR_METRICS_URL" | awk -v want=" $* " '/^qserv_czar_chunk_failovers_total/ {
		r = $1; sub(/.*reason="/, "", r); sub(/".*/, "", r); if (index(want, " " r " ")) n += $2 } END { print n + 0 }'
}
selects() { $W1 -N -B -e "SHOW GLOBAL STATUS LIKE 'Com_select'" | cut -f2; }
SUSPECT_WAIT=11

phase "before any failure"
f0=$(failovers unreachable lost)
"$top/tools/dev-cluster" kill worker-1 --dir "$T/cluster" > /dev/null
phase "worker-1 killed: answers through worker-2"
phase "worker-1 killed, again (the czar knows it is down)"
f1=$(failovers unreachable lost)
tap_ok "the czar counted the failovers from the killed worker ($((f1 - f0)))" test "$f1" -gt "$f0"
"$top/tools/dev-cluster" start worker-1 --dir "$T/cluster" > "$T/start.log" 2>&1
tap_ok "worker-1 starts again" grep -q "started again" "$T/start.log"
sleep $SUSPECT_WAIT
c0=$(selects)
phase "worker-1 back"
tap_ok "worker-1 serves chunk queries again ($(($(selects) - c0)) SELECTs)" test "$(selects)" -gt "$((c0 + 1))"

f0=$(failovers silent unreachable)
STOPPED=$(pid_of worker-1)
kill -STOP "$STOPPED"
phase "worker-1 stopped (SIGSTOP): answers through worker-2"
phase "worker-1 stopped, again"
f1=$(failovers silent unreachable)
tap_ok "the czar counted the failovers from the stopped worker ($((f1 - f0)))" test "$f1" -gt "$f0"
kill -CONT "$STOPPED"; STOPPED=
phase "worker-1 continued"

# A replica that vanished under a query's metadata (the controller trims a
# replica only after the czar can have seen its row go, but a query's
# snapshot may be older): worker-1's chunk tables renamed away, its rows
# kept in qservMeta; MariaDB's "no such table" moves each chunk to worker-2.
grep -E '_[0-9]+$' "$T/t1" | grep -v '_1234567890$' > "$T/gone"
ren() { sed "s/.*/fo.\`&$1\` TO fo.\`&$2\`/" "$T/gone" | paste -sd, | sed 's/^/RENAME TABLE /'; }
$W1 -e "$(ren '' __gone)"
phase "worker-1's chunk tables gone: answers through worker-2"
$W1 -e "$(ren __gone '')"

# Stopped in the middle of an answer: the objects of worker-1's fullest
# chunk, one row per 0.5 s, each with 520 SHA-512 hex digests (66 kB that
# LZ4 cannot shrink: a row fills a ROWS frame and leaves the worker at
# once); worker-1 is stopped once its statement ran 2 s.
big=$($META -e "SELECT chunk FROM chunks WHERE db = 'fo' AND worker_id = 'worker-1'" | while read -r c; do
	echo "$($W1 -N -B -e "SELECT COUNT(*) FROM fo.Object_$c") $c"; done | sort -rn | head -1 | cut -d' ' -f2)
ids=$($W1 -N -B -e "SELECT GROUP_CONCAT(objectId) FROM (SELECT objectId FROM fo.Object_$big ORDER BY objectId LIMIT 8) t")
tap_diag "chunk $big of worker-1, objects $ids"
pad="CONCAT($(python3 -c 'print(", ".join("SHA2(objectId + %d, 512)" % k for k in range(520)))'))"
midway() { # name order-by
	sleep $SUSPECT_WAIT
	f0=$(failovers silent)
	timeout $((BOUND + 30)) $CZ -D fo -N -B -e "SELECT objectId, $pad AS pad, SLEEP(0.5) AS s
		FROM Object WHERE objectId IN ($ids) $2" > "$T/m.out" 2> "$T/m.err" &
	q=$!
	# the chunk's replica the czar tries first is its choice (a hash of
	# the chunk id): stop whichever worker runs the statement
	i=0 who=
	while [ -z "$who" ] && [ $i -lt 300 ]; do
		for k in 1 2; do
			eval "wk=\$W$k"
			[ "$($wk -N -B -e "SELECT MAX(TIME) FROM information_schema.PROCESSLIST
				WHERE INFO LIKE '%SLEEP(0.5)%'")" -ge 2 ] 2>/dev/null && who=worker-$k
		done
		[ -n "$who" ] || sleep 0.1
		i=$((i + 1))
	done
	tap_diag "$1: the statement runs on ${who:-no worker}: stopped"
	STOPPED=$(pid_of "${who:-worker-1}")
	kill -STOP "$STOPPED"
	wait $q
	kill -CONT "$STOPPED"; STOPPED=
	$REF -D ref -N -B -e "SELECT objectId, $pad AS pad, 0 AS s FROM Object WHERE objectId IN ($ids) $2" > "$T/r.out"
	f1=$(failovers silent)
	tap_ok "$1: the worker answering stopped after rows of the chunk came, retried on the other" test "$f1" -gt "$f0"
	if [ -s "$T/m.err" ]; then tap_fail "$1: the answer is exact" "$(cut -c1-300 "$T/m.err")"
	elif [ -n "$2" ]; then tap_ok "$1: the answer is exact ($(wc -l < "$T/r.out") rows, in order)" cmp -s "$T/m.out" "$T/r.out"
	else tap_ok "$1: the answer is exact ($(wc -l < "$T/r.out") rows)" sh -c "sort '$T/m.out' | cmp -s - '$(sort "$T/r.out" > "$T/r.sorted"; echo "$T/r.sorted")'"
	fi
}
midway "streamed" ""
midway "merged" "ORDER BY objectId"
tap_ok "the czar logged nothing about a partial result" sh -c "! grep -q 'cannot be completed exactly' '$T/cluster/czar/czar.log'"

# No replica left: worker-2's copies of worker-1's chunks unregistered.
$META -e "DELETE c2 FROM chunks c2 JOIN chunks c1 ON c1.db = c2.db AND c1.chunk = c2.chunk
	AND c1.worker_id = 'worker-1' WHERE c2.db = 'fo' AND c2.worker_id = 'worker-2'"
sleep 3
STOPPED=$(pid_of worker-1)
kill -STOP "$STOPPED"
t0=$(date +%s)
out=$(timeout $((BOUND + 30)) $CZ -D fo -N -B -e "SELECT COUNT(*) FROM Object" 2>&1)
t1=$(date +%s)
tap_diag "without a replica, worker-1 stopped ($((t1 - t0)) s): $out"
tap_ok "the query fails within $BOUND s" test $((t1 - t0)) -le "$BOUND"
chunk=$(printf '%s' "$out" | sed -n 's/.*chunk \([0-9]*\): no live replica.*/\1/p')
tap_ok "its error names a chunk of worker-1 and the worker" sh -c "[ -n '$chunk' ] &&
	[ \"\$($META -e \"SELECT worker_id FROM chunks WHERE db = 'fo' AND chunk = '$chunk'\")\" = worker-1 ] &&
	printf '%s' '$out' | grep -q 'worker worker-1: '"
kill -CONT "$STOPPED"; STOPPED=
phase "worker-1 continued, no replicas"
tap_done
