#!/bin/sh
# heal.sh: health probes, eviction, healing and maintenance of the
# controller (qserv/controller/chealth.c) on a dev cluster of 3 workers,
# level 2, --evict-after 10.
#
# Checks: a catalog published at level 2 (every chunk on 2 workers);
# `kill worker-1` -> within a bounded wait worker-1 is `evicted` in GET
# /replication/status and holds no chunk in qservMeta.chunks; every chunk
# is back at level 2 on worker-2 and worker-3, and their MariaDBs hold
# every chunk table qservMeta lists with all the rows; the czar's COUNT(*)
# and a GROUP BY are right during (a query loop from the kill on: no wrong
# answer, no error) and after; `start worker-1` -> `up` again, its
# replicas (unchanged while it was down) registered again (cverify.c: they
# match the reference checksums; the log says how many were reused), every
# chunk at level 2 or above; then the extra replicas trimmed and worker-1
# back to its share (rebalanced: chunk counts within 2);
# maintenance refused without the key and for a bad body; `qservctl nodes
# maintenance worker-2 on`, then `kill worker-2` -> no eviction and no
# copy within 2x evict-after (worker-1 is up: a copy target), the czar
# still right; PUT /replication/evict-after's key and range checks; the
# qserv-worker of worker-1 stopped (SIGSTOP: it accepts connections and
# never answers) -> evicted within a bounded wait while the others stay up
# (a hung worker does not stall the probes), SIGCONT -> up.  Detection time, healing time and copy MB/s are printed,
# never asserted.  OBJECTS=N grows the catalog (default 8000) to measure
# healing on bigger chunks; QSERV_CONTROLLER_ARGS="--heal-max-mbps N" caps it.
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
. "$REPO/tools/tap.sh"
. "$REPO/tools/dc-test.sh"
dc_init heal
EVICT=10
tap_plan 18

DB=heal
"$REPO/tools/sample-catalog.sh" "$T" $DB --objects "${OBJECTS:-8000}" --sources-per-object 2 --ra 0,40 --dec -20,20 \
	--stripes 12 --sub-stripes 4 > "$T/gen.log" 2>&1 || { cat "$T/gen.log"; exit 1; }
if dc_up 3 --evict-after $EVICT; then
	tap_pass "dev cluster with 3 workers up (--evict-after $EVICT)"
else
	tap_fail "dev cluster with 3 workers up (--evict-after $EVICT)" "$(tail -n 5 "$T/up.log")"
	exit 1
fi
C=$QSERV_INGEST_URL

api PUT /replication/level '{"level":2}' -H "$(key)" > /dev/null
# published by the API: qservctl ingest's row check after its own publish
# counts every replica
if "$BIN/qservctl" ingest -q --no-publish "$T/ds" > "$T/ingest.log" 2>&1 &&
	[ "$(api PUT "/ingest/database/$DB" '' -H "$(key)")" = 200 ]; then
	tap_pass "catalog ingested and published at level 2"
else
	tap_fail "catalog ingested and published at level 2" "$(tail -n 5 "$T/ingest.log"; cat "$T/r")"
	exit 1
fi
NCH=$(meta "SELECT COUNT(DISTINCT chunk) FROM qservMeta.chunks WHERE db='$DB'")
NOBJ=$(wc -l < "$T/gen/Object.tsv")
Q1="SELECT COUNT(*) FROM $DB.Object"
Q2="SELECT chunkId, COUNT(*) FROM $DB.Source GROUP BY chunkId ORDER BY chunkId"
sql "$Q2" > "$T/q2.want"
tap_is "$(sql "$Q1")|$(meta "SELECT COUNT(*) FROM qservMeta.chunks WHERE db='$DB'")|$(awk '{ s += $2 } END { print s }' "$T/q2.want")" \
	"$NOBJ|$((2 * NCH))|$(wc -l < "$T/gen/Source.tsv")" \
	"$NCH chunks at level 2 ($((2 * NCH)) replicas); the czar's COUNT(*) and GROUP BY sums are right"

# the czar's answers from the kill on, one line per query: ok / wrong / err
query_loop() {
	while :; do
		a=$(sql "$Q1") b=$(sql "$Q2")
		if [ "$a" = "$NOBJ" ] && [ "$b" = "$(cat "$T/q2.want")" ]; then echo ok
		elif echo "$a$b" | grep -q ERROR; then echo "err $a $b" | head -c 300; echo
		else echo wrong; fi
		sleep 0.2
	done
}

K1=$(meta "SELECT COUNT(*) FROM qservMeta.chunks WHERE db='$DB' AND worker_id='worker-1'")
t0=$(now)
"$DC" kill worker-1 --dir "$T/cluster" > "$T/kill.log" 2>&1
query_loop > "$T/during" 2>&1 &
LOOP=$!
DC_PIDS="$DC_PIDS $LOOP"
evicted() { [ "$(wstate worker-1)" = evicted ]; }
if wait_until 120 evicted; then
	t1=$(now)
	tap_is "$(meta "SELECT COUNT(*) FROM qservMeta.chunks WHERE worker_id='worker-1'")" 0 \
		"kill worker-1: it is evicted and holds no chunk in qservMeta.chunks"
else
	t1=$(now)
	tap_fail "kill worker-1: it is evicted and holds no chunk in qservMeta.chunks" "$(status)"
fi
healed() {
	[ "$(status | jq -r --arg db $DB '.databases[] | select(.database == $db) | .under_replicated')" = 0 ] &&
		[ "$(meta "SELECT COUNT(*) FROM qservMeta.chunks WHERE db='$DB'")" = $((2 * NCH)) ]
}
wait_until 120 healed
t2=$(now)
bad=$(meta "SELECT COUNT(*) FROM (SELECT chunk, GROUP_CONCAT(worker_id ORDER BY worker_id) w FROM qservMeta.chunks WHERE db='$DB' GROUP BY chunk) x WHERE w <> 'worker-2,worker-3'")
tap_is "$bad $(status | jq -r --arg db $DB '.databases[] | select(.database == $db) | .under_replicated')" "0 0" \
	"healed: every one of the $NCH chunks is on worker-2 and worker-3, 0 under-replicated"
status > "$T/st.json"
tap_diag "detection (kill to evicted): $(echo "$t1 - $t0" | bc) s with --evict-after $EVICT"
tap_diag "healing (evicted to level 2, seen by polling every 0.5 s): $(echo "$t2 - $t1" | bc) s; kill to level 2: $(echo "$t2 - $t0" | bc) s"
tap_diag "health: $(jq -c .health "$T/st.json")"
tap_diag "$(jq -r '.health.copies | if .last_heal_seconds > 0 then "heal pass: \(.last_heal_copies) copies, \(.last_heal_plain_bytes / 1e6 * 100 | floor / 100) MB plain in \(.last_heal_seconds) s: \(.last_heal_plain_bytes / .last_heal_seconds / 1e6 * 10 | floor / 10) MB/s" else "no heal pass copied" end' "$T/st.json")"

# every chunk table qservMeta lists on a worker is in its MariaDB, all rows
rows_listed() { # N: Object rows of worker-N's listed chunks, and how many chunk tables
	_s=$(eval echo "\$QSERV_WORKER_$1_SOCKET")
	_l=$(meta "SELECT GROUP_CONCAT(CONCAT('''Object_', chunk, '''')) FROM qservMeta.chunks WHERE db='$DB' AND worker_id='worker-$1'")
	my "$_s" -e "SELECT IFNULL(SUM(TABLE_ROWS), 0), COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='$DB' AND TABLE_NAME IN ($_l)"
}
r2=$(rows_listed 2) r3=$(rows_listed 3)
n2=$(meta "SELECT COUNT(*) FROM qservMeta.chunks WHERE db='$DB' AND worker_id='worker-2'")
n3=$(meta "SELECT COUNT(*) FROM qservMeta.chunks WHERE db='$DB' AND worker_id='worker-3'")
tap_is "$(echo "$r2" | cut -f2) $(echo "$r3" | cut -f2) $(($(echo "$r2" | cut -f1) + $(echo "$r3" | cut -f1)))" \
	"$n2 $n3 $((2 * NOBJ))" "worker-2's and worker-3's MariaDBs hold every chunk table qservMeta lists, $((2 * NOBJ)) Object rows in all"
kill "$LOOP" 2> /dev/null; wait "$LOOP" 2> /dev/null; LOOP=
tap_is "$(grep -c -v '^ok$' "$T/during")" 0 \
	"the czar answered right from the kill to the heal ($(grep -c '^ok$' "$T/during") rounds of COUNT(*) and GROUP BY; $(grep -v '^ok$' "$T/during" | head -n 1))"
tap_is "$(sql "$Q1")|$(sql "$Q2" | cmp -s - "$T/q2.want" && echo same)" "$NOBJ|same" \
	"after the heal the czar's COUNT(*) and GROUP BY are right"

"$DC" start worker-1 --dir "$T/cluster" > "$T/start1.log" 2>&1
up1() { [ "$(wstate worker-1)" = up ]; }
wait_until 60 up1
tap_is "$(wstate worker-1) $(grep -c "returning worker worker-1: $K1 replica(s) reused" "$T/cluster/czar/controller.log") $(status | jq -r --arg db $DB '.databases[] | select(.database == $db) | .under_replicated')" \
	"up 1 0" "start worker-1: up again, its $K1 replicas reused (they match the reference checksums), 0 under-replicated"
# then the replicas above level are trimmed and worker-1 gets its share
# again: every chunk on exactly 2 workers, worker chunk counts within 2
balanced() {
	[ "$(meta "SELECT GROUP_CONCAT(DISTINCT n) FROM (SELECT COUNT(*) n FROM qservMeta.chunks WHERE db='$DB' GROUP BY chunk) x")" = 2 ] &&
		[ "$(meta "SELECT MAX(n) - MIN(n) <= 2 AND COUNT(*) = 3 FROM (SELECT COUNT(*) n FROM qservMeta.chunks WHERE db='$DB' GROUP BY worker_id) x")" = 1 ]
}
if wait_until 90 balanced; then
	tap_pass "extra replicas trimmed, every chunk on 2 workers, worker-1 back to its share ($(meta "SELECT GROUP_CONCAT(n ORDER BY w) FROM (SELECT worker_id w, COUNT(*) n FROM qservMeta.chunks WHERE db='$DB' GROUP BY worker_id) x"))"
else
	tap_fail "extra replicas trimmed, every chunk on 2 workers, worker-1 back to its share" \
		"$(meta "SELECT worker_id, COUNT(*) FROM qservMeta.chunks WHERE db='$DB' GROUP BY worker_id" | tr '\n' ' ')"
fi

got="$(api PUT /replication/maintenance '{"worker":"worker-2","maintenance":true}') $(api PUT /replication/maintenance '{"worker":"a b","maintenance":true}' -H "$(key)") $(api PUT /replication/maintenance '{"worker":"worker-2","maintenance":1}' -H "$(key)") $(api PUT /replication/maintenance '{"worker":"worker-9","maintenance":true}' -H "$(key)")"
tap_is "$got" "401 400 400 404" "PUT /replication/maintenance: no key 401, a bad id 400, a non-boolean 400, an unknown worker 404"

"$BIN/qservctl" nodes maintenance worker-2 on > "$T/maint.out" 2>&1
tap_is "$? $(wstate worker-2)" "0 maintenance" "qservctl nodes maintenance worker-2 on: the status says maintenance"
before=$(status | jq -c '[.health.evictions, .health.copies.done, .health.copies.failed]')
r2=$(meta "SELECT COUNT(*) FROM qservMeta.chunks WHERE worker_id='worker-2'")
"$DC" kill worker-2 --dir "$T/cluster" > "$T/kill2.log" 2>&1
sleep $((2 * EVICT + 4))
after=$(status | jq -c '[.health.evictions, .health.copies.done, .health.copies.failed]')
tap_is "$(wstate worker-2) $after $(meta "SELECT COUNT(*) FROM qservMeta.chunks WHERE worker_id='worker-2'")" \
	"maintenance $before $r2" "kill worker-2 in maintenance: after $((2 * EVICT + 4)) s no eviction, no copy, its $r2 replicas kept"
tap_is "$(sql "$Q1")|$(sql "$Q2" | cmp -s - "$T/q2.want" && echo same)" "$NOBJ|same" \
	"with worker-2 down in maintenance the czar's COUNT(*) and GROUP BY are right"
"$DC" start worker-2 --dir "$T/cluster" > "$T/start2.log" 2>&1
"$BIN/qservctl" nodes maintenance worker-2 off > /dev/null 2>&1
got="$(api PUT /replication/evict-after '{"seconds":10}') $(api PUT /replication/evict-after '{"seconds":0}' -H "$(key)") $(api PUT /replication/evict-after '{"seconds":"10"}' -H "$(key)") $(api PUT /replication/evict-after "{\"seconds\":$EVICT}" -H "$(key)")"
tap_is "$got $(status | jq -r .health.evict_after)" "401 400 400 200 $EVICT" \
	"PUT /replication/evict-after: no key 401, 0 and a string 400, $EVICT with the key 200 and in the status"

# a hung worker: connections accepted, no answer
STOPPED=$(awk '$1 == "worker-1" { p = $2 } END { print p }' "$T/cluster/pids")
t0=$(now)
[ -n "$STOPPED" ] && kill -STOP "$STOPPED" && DC_STOPPED=$STOPPED
wait_until 90 evicted
t1=$(now)
tap_is "$(wstate worker-1) $(wstate worker-3)" "evicted up" \
	"worker-1's qserv-worker stopped (SIGSTOP): evicted, worker-3 still up (probes are bounded)"
tap_diag "detection of a hung worker (SIGSTOP to evicted): $(echo "$t1 - $t0" | bc) s"
[ -n "$STOPPED" ] && kill -CONT "$STOPPED"
STOPPED= DC_STOPPED=
wait_until 60 up1
tap_is "$(wstate worker-1)" up "SIGCONT: worker-1 is up again"

"$BIN/qservctl" replicas > "$T/tbl.out" 2>&1
tap_diag "$(cat "$T/tbl.out")"
tap_ok "dev cluster down" "$DC" down --dir "$T/cluster"
tap_done
