#!/bin/sh
# verify.sh: reference checksums, the verify pass, a returning worker's
# replicas and GET /metrics of the controller (qserv/controller/cverify.c,
# cmetrics.c) on a dev cluster of 3 workers, level 2, --evict-after 10.
#
# Checks: after publish qservMeta.chunk_checksums holds every chunk table
# of every chunk with the input's rows; POST /replication/verify: 401
# without the key, 0 mismatches over every replica; one row of one
# replica changed in its worker's MariaDB -> the next pass reports 1
# mismatch naming that chunk and worker, the replica's qservMeta.chunks
# row is gone, and within a bounded wait a good copy is back (level 2, the
# new replica's CHECKSUM TABLE equal to the reference, a pass finds 0
# mismatches); `kill worker-1` -> evicted, healed; one of its chunk tables
# changed while it is down (its MariaDB started by hand on its own data
# directory, no qserv-worker: nobody can query it, which is what a disk
# corrupted while the server was off looks like) -> `start worker-1`: its
# matching replicas are registered again (the log says reused), the
# changed one is dropped, not reused, every chunk at level 2; GET
# /metrics 200, every sample line `name{labels} value`, under-replicated
# 0, verify mismatches >= 1; PUT /replication/verify-interval's checks;
# un-publish, a row changed on a chunk's first holder (a load), publish
# again at level 1: that chunk's reference is new (read from the first
# holder: the cost printed) and a pass finds 0 mismatches.
# The czar's COUNT(*) and GROUP BY are right in a loop from before the
# first corruption to the end.  Verify pass seconds and MB/s are printed,
# never asserted.  OBJECTS=N grows the catalog (default 8000).
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
. "$REPO/tools/tap.sh"
. "$REPO/tools/dc-test.sh"
dc_init verify
EVICT=10
tap_plan 18

DB=vfy
"$REPO/tools/sample-catalog.sh" "$T" $DB --objects "${OBJECTS:-8000}" --sources-per-object 2 --ra 0,40 --dec -20,20 \
	--stripes 12 --sub-stripes 4 > "$T/gen.log" 2>&1 || { cat "$T/gen.log"; exit 1; }
if QSERV_CONTROLLER_ARGS="--replication-level 2 --verify-interval 0" dc_up 3 --evict-after $EVICT; then
	tap_pass "dev cluster with 3 workers up (level 2, --evict-after $EVICT, --verify-interval 0)"
else
	tap_fail "dev cluster with 3 workers up" "$(tail -n 5 "$T/up.log")"
	exit 1
fi
C=$QSERV_INGEST_URL
CLOG=$T/cluster/czar/controller.log
under() { status | jq -r --arg db $DB '.databases[] | select(.database == $db) | .under_replicated'; }
sock() { eval echo "\$QSERV_WORKER_$1_SOCKET"; }
# verify_pass NAME: POST /replication/verify with the key, reply in $T/NAME.json
verify_pass() { api POST /replication/verify '' -H "$(key)" > "$T/$1.code"; cp "$T/r" "$T/$1.json"; }
# replica_mb: MB of the chunk tables of every registered replica (information_schema)
replica_mb() {
	_t=0
	for i in 1 2 3; do
		_l=$(meta "SELECT GROUP_CONCAT(chunk) FROM qservMeta.chunks WHERE db='$DB' AND worker_id='worker-$i'")
		[ -n "$_l" ] && [ "$_l" != NULL ] || continue
		_b=$(my "$(sock $i)" -e "SELECT IFNULL(SUM(DATA_LENGTH), 0) FROM information_schema.TABLES WHERE TABLE_SCHEMA='$DB' AND SUBSTRING_INDEX(TABLE_NAME, '_', -1) IN ($_l)")
		_t=$((_t + _b))
	done
	echo "$_t"
}
print_pass() { # NAME BYTES
	tap_diag "$(jq -r --arg b "$2" '"verify pass: \(.chunks) chunks, \(.replicas) replicas, \($b | tonumber / 1e6 * 100 | floor / 100) MB of chunk tables in \(.seconds) s: \(if .seconds > 0 then ($b | tonumber) / .seconds / 1e6 * 10 | floor / 10 else "-" end) MB/s"' "$T/$1.json")"
}

t0=$(now)
if "$BIN/qservctl" ingest -q --no-publish "$T/ds" > "$T/ingest.log" 2>&1 &&
	[ "$(api PUT "/ingest/database/$DB" '' -H "$(key)")" = 200 ]; then
	tap_pass "catalog ingested and published at level 2"
else
	tap_fail "catalog ingested and published at level 2" "$(tail -n 5 "$T/ingest.log"; cat "$T/r")"
	exit 1
fi
tap_diag "publish: $(jq -c .replication "$T/r"); $(grep 'reference checksums of' "$CLOG" | tail -n 1 | sed 's/.*reference/reference/')"
NCH=$(meta "SELECT COUNT(DISTINCT chunk) FROM qservMeta.chunks WHERE db='$DB'")
NOBJ=$(wc -l < "$T/gen/Object.tsv")
NSRC=$(wc -l < "$T/gen/Source.tsv")
got=$(meta "SELECT COUNT(DISTINCT chunk), COUNT(*), SUM(IF(tbl LIKE 'Object\\_%', \`rows\`, 0)), SUM(IF(tbl LIKE 'Source\\_%', \`rows\`, 0)) FROM qservMeta.chunk_checksums WHERE db='$DB'" | tr '\t' ' ')
tap_is "$got" "$NCH $((3 * NCH)) $NOBJ $NSRC" \
	"reference checksums after publish: $NCH chunks x 3 tables (Object, ObjectFullOverlap, Source), $NOBJ Object and $NSRC Source rows"

Q1="SELECT COUNT(*) FROM $DB.Object"
Q2="SELECT chunkId, COUNT(*) FROM $DB.Source GROUP BY chunkId ORDER BY chunkId"
sql "$Q2" > "$T/q2.want"
query_loop() {
	while :; do
		a=$(sql "$Q1") b=$(sql "$Q2")
		if [ "$a" = "$NOBJ" ] && [ "$b" = "$(cat "$T/q2.want")" ]; then echo ok
		elif echo "$a$b" | grep -q ERROR; then echo "err $a $b" | head -c 300; echo
		else echo wrong; fi
		sleep 0.3
	done
}
tap_is "$(sql "$Q1")|$(awk '{ s += $2 } END { print s }' "$T/q2.want")" "$NOBJ|$NSRC" \
	"the czar's COUNT(*) and GROUP BY sums equal the input's ($NOBJ objects, $NSRC sources)"
query_loop > "$T/during" 2>&1 &
LOOP=$!
DC_PIDS="$DC_PIDS $LOOP"

got="$(api POST /replication/verify '') $(api POST /replication/verify '' -H 'Authorization: Bearer 0000')"
verify_pass v1
tap_is "$got $(cat "$T/v1.code") $(jq -r '"\(.chunks) \(.replicas) \(.mismatches)"' "$T/v1.json")" "401 401 200 $NCH $((2 * NCH)) 0" \
	"POST /replication/verify: 401 without the key and with a wrong one; with it every replica matches (0 mismatches)"
print_pass v1 "$(replica_mb)"

# one row of one replica of worker-2 changed behind the controller's back
CH=$(meta "SELECT MIN(chunk) FROM qservMeta.chunks WHERE db='$DB' AND worker_id='worker-2'")
my "$(sock 2)" -e "UPDATE $DB.Object_$CH SET ra = ra + 0.001 LIMIT 1" > "$T/upd.out"
verify_pass v2
tap_is "$(jq -r '"\(.mismatches) \(.repaired) \(.mismatched[0].database) \(.mismatched[0].chunk) \(.mismatched[0].worker)"' "$T/v2.json") $(meta "SELECT COUNT(*) FROM qservMeta.chunks WHERE db='$DB' AND chunk=$CH AND worker_id='worker-2'")" \
	"1 1 $DB $CH worker-2 0" "Object_$CH changed on worker-2: the pass reports 1 mismatch naming chunk $CH and worker-2, its row leaves qservMeta.chunks"
healed() { [ "$(under)" = 0 ] && [ "$(meta "SELECT COUNT(*) FROM qservMeta.chunks WHERE db='$DB'")" = $((2 * NCH)) ]; }
wait_until 60 healed
# the reference and every holder's CHECKSUM TABLE of the chunk's tables
ref_sums() { meta "SELECT GROUP_CONCAT(CONCAT(tbl, ':', checksum) ORDER BY tbl) FROM qservMeta.chunk_checksums WHERE db='$DB' AND chunk=$1"; }
holder_sums() { # CHUNK WORKER-INDEX
	my "$(sock "$2")" -e "CHECKSUM TABLE $DB.ObjectFullOverlap_$1, $DB.Object_$1, $DB.Source_$1" |
		awk '{ sub(/.*\./, "", $1); printf "%s%s:%s", (NR > 1 ? "," : ""), $1, $2 } END { print "" }'
}
ok=1 holders=
for w in $(meta "SELECT worker_id FROM qservMeta.chunks WHERE db='$DB' AND chunk=$CH"); do
	holders="$holders $w"
	[ "$(holder_sums "$CH" "${w#worker-}")" = "$(ref_sums "$CH")" ] || ok=0
done
tap_is "$(under) $(echo $holders | wc -w) $ok" "0 2 1" "a good copy of chunk $CH is back (on$holders): 2 replicas, both CHECKSUM TABLE equal to the reference"
verify_pass v3
tap_is "$(jq -r .mismatches "$T/v3.json")" 0 "a verify pass after the repair: 0 mismatches"
print_pass v3 "$(replica_mb)"

# a returning worker: its replicas that still match are reused
K1=$(meta "SELECT COUNT(*) FROM qservMeta.chunks WHERE db='$DB' AND worker_id='worker-1'")
"$DC" kill worker-1 --dir "$T/cluster" > "$T/kill.log" 2>&1
evicted() { [ "$(wstate worker-1)" = evicted ]; }
wait_until 90 evicted
wait_until 90 healed
tap_is "$(wstate worker-1) $(meta "SELECT COUNT(*) FROM qservMeta.chunks WHERE worker_id='worker-1'") $(under)" "evicted 0 0" \
	"kill worker-1 (it held $K1 replicas): evicted, healed to level 2 without it"
# its MariaDB alone, by hand, on its data directory: one of its chunk tables changed
W1=$T/cluster/worker-1
mariadbd --no-defaults --datadir="$W1/data" --socket="$T/w1.sock" --skip-networking --skip-log-bin \
	--pid-file="$T/w1.pid" --log-error="$T/w1.err" --plugin-dir="${QSERV_LIB:-$REPO/build/lib}" \
	$( [ "$(id -u)" -eq 0 ] && echo --user=root ) > /dev/null 2>&1 &
MPID=$!
DC_PIDS="$DC_PIDS $MPID"
wait_until 60 mariadb-admin --no-defaults -S "$T/w1.sock" -uroot ping
CH1=$(my "$T/w1.sock" -e "SELECT MIN(CAST(SUBSTRING(TABLE_NAME, 8) AS UNSIGNED)) FROM information_schema.TABLES WHERE TABLE_SCHEMA='$DB' AND TABLE_NAME LIKE 'Object\\_%' AND TABLE_NAME NOT IN ('Object_1234567890', 'Object_$CH')")
my "$T/w1.sock" -e "UPDATE $DB.Object_$CH1 SET decl = decl + 0.001 LIMIT 1" > "$T/upd1.out"
mariadb-admin --no-defaults -S "$T/w1.sock" -uroot shutdown > /dev/null 2>&1
wait "$MPID" 2> /dev/null; MPID=
"$DC" start worker-1 --dir "$T/cluster" > "$T/start1.log" 2>&1
up1() { [ "$(wstate worker-1)" = up ]; }
wait_until 60 up1
# (counted from the log: a trim after the heal pass may move some away at once)
R1=$(meta "SELECT COUNT(*) FROM qservMeta.chunks WHERE db='$DB' AND worker_id='worker-1'")
tap_is "$(wstate worker-1) $(grep -c "returning worker worker-1: $((K1 - 1)) replica(s) reused.* 1 mismatching" "$CLOG") $(meta "SELECT COUNT(*) FROM qservMeta.chunks WHERE db='$DB' AND worker_id='worker-1' AND chunk=$CH1")" \
	"up 1 0" "start worker-1: up, $((K1 - 1)) of its $K1 replicas registered again (the log says reused; $R1 rows now); chunk $CH1 (changed while it was down) is not"
tap_diag "$(grep "returning worker worker-1" "$CLOG" | tail -n 1 | sed 's/.*returning/returning/')"
tap_is "$(my "$(sock 1)" -e "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='$DB' AND TABLE_NAME LIKE '%\\_$CH1'")" \
	"0" "chunk $CH1's tables (mismatching) are dropped on worker-1, not reused"
wait_until 30 healed
tap_is "$(under) $(meta "SELECT COUNT(*) FROM (SELECT chunk FROM qservMeta.chunks WHERE db='$DB' GROUP BY chunk HAVING COUNT(*) < 2) x")" "0 0" \
	"every chunk at level 2 or above (the chunks worker-1 brought back are above it until a trim)"
verify_pass v4
tap_is "$(jq -r '"\(.mismatches) \(.replicas >= '$((2 * NCH))')"' "$T/v4.json")" "0 true" \
	"a verify pass with worker-1 back: every replica ($(jq -r .replicas "$T/v4.json"), reused ones included) matches"

curl -s -D "$T/mh" -o "$T/metrics" --cacert "$QSERV_CA_FILE" "$C/metrics"
bad=$(grep -v '^#' "$T/metrics" | grep -cvE '^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? -?[0-9.eE+-]+$')
m() { awk -v n="$1" '$1 == n { print $2 }' "$T/metrics"; }
tap_is "$(head -n 1 "$T/mh" | cut -d' ' -f2) $bad $(m "qserv_replication_under_replicated_chunks{database=\"$DB\"}") $(m qserv_replication_verify_mismatches_total) $(m 'qserv_replication_workers{state="up"}')" \
	"200 0 0 1 3" "GET /metrics (no key): Prometheus text, under-replicated 0, verify mismatches 1, 3 workers up"
tap_diag "$(grep -E '^qserv_replication_(copies_total|verified|evictions|returning|last_)' "$T/metrics" | tr '\n' ' ')"

got="$(api PUT /replication/verify-interval '{"seconds":60}') $(api PUT /replication/verify-interval '{"seconds":-1}' -H "$(key)") $(api PUT /replication/verify-interval '{"seconds":3600}' -H "$(key)")"
tap_is "$got $(status | jq -r .verify.interval)" "401 400 200 3600" \
	"PUT /replication/verify-interval: no key 401, -1 400, 3600 with the key 200 and in the status"

kill "$LOOP" 2> /dev/null; wait "$LOOP" 2> /dev/null; LOOP=
tap_is "$(grep -c -v '^ok$' "$T/during")" 0 \
	"the czar answered right throughout ($(grep -c '^ok$' "$T/during") rounds of COUNT(*) and GROUP BY; $(grep -v '^ok$' "$T/during" | head -n 1))"
"$BIN/qservctl" replicas > "$T/tbl.out" 2>&1
tap_diag "$(cat "$T/tbl.out")"

# references follow loads: un-publish, change a row on a chunk's first
# holder (what a load does), publish again at level 1 (no copy: every
# reference is read from the first holder, the publish's cost measured)
CH2=$(meta "SELECT MIN(chunk) FROM qservMeta.chunks WHERE db='$DB'")
old=$(ref_sums "$CH2")
api PUT /replication/level "{\"level\":1,\"database\":\"$DB\"}" -H "$(key)" > /dev/null
api PUT "/ingest/database/$DB" '{"publish":false}' -H "$(key)" > /dev/null
F2=$(meta "SELECT worker_id FROM qservMeta.chunks WHERE db='$DB' AND chunk=$CH2")
my "$(sock "${F2#worker-}")" -e "UPDATE $DB.Source_$CH2 SET qserv_trans_id = qserv_trans_id LIMIT 1; UPDATE $DB.Object_$CH2 SET ra = ra - 0.002 LIMIT 1" > "$T/upd2.out"
code=$(api PUT "/ingest/database/$DB" '' -H "$(key)")
verify_pass v5
tap_is "$code $([ "$(ref_sums "$CH2")" != "$old" ] && echo new) $(jq -r '"\(.mismatches) \(.replicas)"' "$T/v5.json")" "200 new 0 $NCH" \
	"un-publish, a row of chunk $CH2 changed on its first holder, publish at level 1: its reference is new, a pass finds 0 mismatches"
tap_diag "publish at level 1: $(grep 'reference checksums of' "$CLOG" | tail -n 1 | sed 's/.*reference/reference/')"
tap_ok "dev cluster down" "$DC" down --dir "$T/cluster"
tap_done
