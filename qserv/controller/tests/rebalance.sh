#!/bin/sh
# rebalance.sh: replica moves of the controller (qserv/controller/crebal.c):
# trim, drain and rebalance on a dev cluster of 3 workers at level 2.
#
# Checks: a catalog published at level 2; PUT /replication/drain and POST
# /replication/rebalance refused without the key (401), for bad bodies
# (400) and an unknown worker (404); PUT /replication/level 1 -> every
# chunk on exactly 1 worker in qservMeta.chunks, each worker's MariaDB
# holding exactly the chunk tables listed for it (the trimmed ones are
# gone), the czar's answers right; level 2 again -> every chunk on 2
# workers; `qservctl nodes drain worker-3 --wait` with a query loop
# running -> worker-3 holds no chunk ("drained", no chunk table left),
# every chunk on worker-1 and worker-2, no wrong answer and no error;
# `qservctl nodes remove worker-3 --controller-only` (the dev cluster has
# no registry) succeeds without --force; `tools/dev-cluster add` (worker-4)
# with a query storm (2 loops) -> within a bounded wait every worker holds within
# 10% of the mean replicas (or 1 of each other), the tables follow the
# rows, no wrong answer and no error; POST /replication/rebalance then
# moves nothing.  Drain and rebalance times are printed, never asserted.
# OBJECTS=N grows the catalog (default 8000).
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
. "$REPO/tools/tap.sh"
. "$REPO/tools/dc-test.sh"
dc_init rebal
tap_plan 18

DB=rebal
"$REPO/tools/sample-catalog.sh" "$T" $DB --objects "${OBJECTS:-8000}" --sources-per-object 2 --ra 0,40 --dec -20,20 \
	--stripes 24 --sub-stripes 4 > "$T/gen.log" 2>&1 || { cat "$T/gen.log"; exit 1; }
if QSERV_CONTROLLER_ARGS="--replication-level 2" dc_up 3; then
	tap_pass "dev cluster with 3 workers up (--replication-level 2)"
else
	tap_fail "dev cluster with 3 workers up (--replication-level 2)" "$(tail -n 5 "$T/up.log")"
	exit 1
fi
C=$QSERV_INGEST_URL
# holders: "worker-a,worker-b" per chunk -> how many chunks are held otherwise than $1
held_other() {
	meta "SELECT COUNT(*) FROM (SELECT chunk, GROUP_CONCAT(worker_id ORDER BY worker_id) w FROM qservMeta.chunks WHERE db='$DB' GROUP BY chunk) x WHERE w <> '$1'"
}
# chunks per chunk count: "N" when every chunk has exactly N replicas
replicas_each() {
	meta "SELECT GROUP_CONCAT(DISTINCT n) FROM (SELECT COUNT(*) n FROM qservMeta.chunks WHERE db='$DB' GROUP BY chunk) x"
}
# tables_match I: 0 when worker-I's MariaDB holds exactly the Object and
# Source chunk tables qservMeta lists for it (the dummy chunk aside)
tables_match() {
	_s=$(eval echo "\$QSERV_WORKER_$1_SOCKET")
	_want=$(meta "SELECT CONCAT(t, '_', chunk) FROM qservMeta.chunks, (SELECT 'Object' t UNION SELECT 'Source') tt WHERE db='$DB' AND worker_id='worker-$1' ORDER BY 1")
	_got=$(my "$_s" -e "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA='$DB' AND TABLE_NAME REGEXP '^(Object|Source)_[0-9]+\$' AND TABLE_NAME NOT LIKE '%_1234567890' ORDER BY 1")
	[ "$_want" = "$_got" ]
}
all_match() { for _i in "$@"; do tables_match $_i || return 1; done; }

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
NSRC=$(wc -l < "$T/gen/Source.tsv")
Q1="SELECT COUNT(*) FROM $DB.Object"
Q2="SELECT chunkId, COUNT(*) FROM $DB.Source GROUP BY chunkId ORDER BY chunkId"
sql "$Q2" > "$T/q2.want"
tap_is "$(sql "$Q1")|$(replicas_each)|$(awk '{ s += $2 } END { print s }' "$T/q2.want")" "$NOBJ|2|$NSRC" \
	"$NCH chunks, each on 2 workers; the czar's COUNT(*) and GROUP BY sums match the input ($NOBJ objects, $NSRC sources)"
right() { [ "$(sql "$Q1")" = "$NOBJ" ] && sql "$Q2" | cmp -s - "$T/q2.want"; }

# the czar's answers, one line per round: ok / wrong / err
query_loop() {
	while :; do
		a=$(sql "$Q1") b=$(sql "$Q2")
		if [ "$a" = "$NOBJ" ] && [ "$b" = "$(cat "$T/q2.want")" ]; then echo ok
		elif echo "$a$b" | grep -q ERROR; then echo "err $a $b" | head -c 300; echo
		else echo wrong; fi
		sleep 0.1
	done
}
# loop_start NAME: a storm of 2 query loops, their lines in $T/NAME
loop_start() {
	DC_PIDS=
	for _k in 1 2; do query_loop > "$T/$1.$_k" 2>&1 & DC_PIDS="$DC_PIDS $!"; done
	LOOPNAME=$1
}
loop_stop() {
	kill $DC_PIDS 2> /dev/null; wait $DC_PIDS 2> /dev/null; DC_PIDS=
	cat "$T/$LOOPNAME".? > "$T/$LOOPNAME"
}

got="$(api PUT /replication/drain '{"worker":"worker-3","drain":true}') $(api PUT /replication/drain '{"worker":"worker-3","drain":"yes"}' -H "$(key)") $(api PUT /replication/drain '{"worker":"a b","drain":true}' -H "$(key)") $(api PUT /replication/drain '{"worker":"worker-9","drain":true}' -H "$(key)") $(api POST /replication/rebalance '{}')"
tap_is "$got" "401 400 400 404 401" \
	"PUT /replication/drain: no key 401, a non-boolean 400, a bad id 400, an unknown worker 404; POST /replication/rebalance: no key 401"

# ---- trim: level 1, then 2 again ----
code=$(api PUT /replication/level '{"level":1}' -H "$(key)")
tap_is "$code $(jq -r .replication.trimmed "$T/r") $(replicas_each) $(meta "SELECT COUNT(*) FROM qservMeta.chunks WHERE db='$DB'")" \
	"200 $NCH 1 $NCH" "PUT /replication/level 1: $NCH replicas trimmed, every chunk on exactly 1 worker in qservMeta.chunks"
wait_until 30 all_match 1 2 3
ok=0
for i in 1 2 3; do tables_match $i && ok=$((ok + 1)); done
tap_is "$ok" 3 "each worker's MariaDB holds exactly the chunk tables qservMeta lists for it (the trimmed ones are gone)"
tap_ok "at level 1 the czar's COUNT(*) and GROUP BY are right" wait_until 20 right
code=$(api PUT /replication/level '{"level":2}' -H "$(key)")
tap_is "$code $(jq -r .replication.copies "$T/r") $(replicas_each)" "200 $NCH 2" \
	"PUT /replication/level 2: $NCH copies, every chunk on 2 workers again"

# ---- drain worker-3 under queries ----
loop_start during-drain
t0=$(now)
"$BIN/qservctl" nodes drain worker-3 --wait --timeout 300 > "$T/drain.out" 2>&1
rc=$?
t1=$(now)
sleep 1
loop_stop
tap_is "$rc $(wstate worker-3) $(meta "SELECT COUNT(*) FROM qservMeta.chunks WHERE worker_id='worker-3'") $(held_other worker-1,worker-2)" \
	"0 drained 0 0" "qservctl nodes drain worker-3 --wait: drained, it holds no chunk, every chunk on worker-1 and worker-2"
sed "s/^/# /" "$T/drain.out"
# the last batch's tables go after the grace (5 s) and the workers' drops
wait_until 30 all_match 1 2 3
ok=0
for i in 1 2 3; do tables_match $i && ok=$((ok + 1)); done
tap_is "$ok" 3 "the MariaDBs follow: worker-3 holds no chunk table, workers 1-2 exactly theirs"
tap_is "$(grep -c -v '^ok$' "$T/during-drain")" 0 \
	"the czar answered right during the drain ($(grep -c '^ok$' "$T/during-drain") rounds; $(grep -v '^ok$' "$T/during-drain" | head -n 1))"
tap_diag "drain worker-3 ($NCH chunks at level 2, 3 -> 2 workers): $(echo "$t1 - $t0" | bc) s"
"$BIN/qservctl" nodes remove worker-3 --controller-only > "$T/remove.out" 2>&1
rc=$?
tap_is "$rc $(curl -s --cacert "$QSERV_CA_FILE" "$C/meta/workers" | jq -r '[.locations[].worker] | join(",")')" \
	"0 worker-1,worker-2" "qservctl nodes remove worker-3 (no --force) succeeds: the controller drops it"

# ---- scale-out: worker-4 under a query storm ----
# within 10% of the mean, or 1 of each other (small counts), per database
balanced() {
	meta "SELECT IF(MAX(n) - MIN(n) <= 1 OR (MIN(n) >= 0.9 * AVG(n) AND MAX(n) <= 1.1 * AVG(n)), 'yes', 'no') FROM (SELECT w.id, COUNT(c.chunk) n FROM qservMeta.workers w LEFT JOIN qservMeta.chunks c ON c.worker_id = w.id AND c.db='$DB' WHERE w.enabled=1 GROUP BY w.id) x" | grep -q yes
}
moves0=$(status | jq -r .rebalance.moves)
loop_start during-rebalance
t0=$(now)
if "$DC" add --dir "$T/cluster" > "$T/add.log" 2>&1 && set -a && . "$T/cluster/cluster.env" && set +a; then
	tap_pass "tools/dev-cluster add: worker-4 registered"
else
	tap_fail "tools/dev-cluster add: worker-4 registered" "$(tail -n 5 "$T/add.log")"
fi
wait_until 300 balanced
t1=$(now)
wait_until 30 all_match 1 2 4   # the last batch's grace and table drops, queries still running
loop_stop
counts=$(meta "SELECT GROUP_CONCAT(CONCAT(worker_id, ':', n) ORDER BY worker_id) FROM (SELECT worker_id, COUNT(*) n FROM qservMeta.chunks WHERE db='$DB' GROUP BY worker_id) x")
moves=$(( $(status | jq -r .rebalance.moves) - moves0 ))
if balanced && [ "$(replicas_each)" = 2 ] && [ "$(meta "SELECT COUNT(*) FROM qservMeta.chunks WHERE worker_id='worker-4'")" -gt 0 ]; then
	tap_pass "rebalanced: every worker within 10% of the mean ($counts), every chunk still on 2 workers"
else
	tap_fail "rebalanced: every worker within 10% of the mean, every chunk still on 2 workers" "$counts $(status | jq -c .rebalance)"
fi
wait_until 30 all_match 1 2 4
ok=0
for i in 1 2 4; do tables_match $i && ok=$((ok + 1)); done
tap_is "$ok" 3 "the MariaDBs follow: workers 1, 2 and 4 hold exactly the chunk tables qservMeta lists"
tap_is "$(grep -c -v '^ok$' "$T/during-rebalance")" 0 \
	"the czar answered right during the rebalance ($(grep -c '^ok$' "$T/during-rebalance") rounds; $(grep -v '^ok$' "$T/during-rebalance" | head -n 1))"
tap_diag "rebalance 2->3 workers: $moves moves in $(echo "$t1 - $t0" | bc) s (add to balanced, polled every 0.5 s)"
code=$(api POST /replication/rebalance '{}' -H "$(key)")
tap_is "$code $(jq -r .moves "$T/r")" "200 0" "POST /replication/rebalance once balanced: 200, nothing moves"

"$BIN/qservctl" replicas 2>&1 | sed "s/^/# /"
tap_ok "dev cluster down" "$DC" down --dir "$T/cluster"
tap_done
