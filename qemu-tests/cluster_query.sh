#!/bin/sh
# cluster_query.sh: the main job (tools/cluster, what `make cluster` runs)
# end to end in a namespace of this test: a czar VM boots from a USB stick
# (SeaBIOS) and three worker VMs (NVMe SSD + SCSI HDD each) from the network
# (iPXE ROM, dnsmasq DHCP, iPXE script and boot files over HTTP); all join,
# provision their disks and start their Qserv daemons; the czar registers
# the workers into its controller; a
# generated catalog is ingested with qservctl ingest; queries through the
# czar's port 4040 must give the same rows (sorted) as the same queries on a
# reference MariaDB on the host holding the unpartitioned generated tables.
# Replication: every chunk has 2 replicas; one worker VM loses power (QEMU
# quit): a query storm stays right, the worker is evicted (evict-after 20 s)
# and the level is restored on the survivors (time printed); then the VM
# boots from the network again, comes back under its name with its disks
# mounted as found, and the answers are right again.  Last, a rolling
# upgrade (tools/cluster upgrade: the workers one at a time, then the
# czar) under a query storm: no wrong answer, no error but while the one
# czar reboots.  Operations (issue 16): 200 qserv-mobu monkeys from the
# host's side of the bridge get every answer right (latency percentiles
# printed); the czar node runs the firefighter flock on the catalog
# (firefighter=sample in its qserv.conf) with alerts to a receiver in the
# namespace, and once the catalog is trimmed to one replica and a worker
# loses power, its success rate drops and a firefighter alert arrives (the
# controller's worker_down alert too).
# Boot/join/ready times are printed (tools/cluster's timings), never asserted.
REPO=$(cd "$(dirname "$0")/.." && pwd)
. "$REPO/qemu-tests/lib.sh"
. "$REPO/tools/tap.sh"
. "$REPO/tools/compare-queries.sh"
. "$REPO/tools/test-mariadb.sh"
export QSERV_CLUSTER_NS=qcq$$ QSERV_CLUSTER_DIR=$VM_DIR/cluster QSERV_CLUSTER_NET=10.254.0
export QSERV_CLUSTER_TIMEOUT=300
ALERT_PORT=9099
export QSERV_CLUSTER_CZAR_CONF="firefighter=sample alert_webhook=http://$QSERV_CLUSTER_NET.1:$ALERT_PORT/"
CZAR=$QSERV_CLUSTER_NET.10
REF=$VM_DIR/ref
UP_PID=
RECV_PID=
cleanup() {
	[ -n "$RECV_PID" ] && kill "$RECV_PID" 2>/dev/null
	[ -n "$UP_PID" ] && kill "$UP_PID" 2>/dev/null && wait "$UP_PID" 2>/dev/null
	"$REPO/tools/cluster" down > "$VM_DIR/down.log" 2>&1
	test_mariadb_stop "$REF"
	ip netns del "$QSERV_CLUSTER_NS" 2>/dev/null
	[ -n "${KEEP_VM_DIR:-}" ] || rm -rf "$VM_DIR"
}
trap cleanup EXIT
trap 'trap - EXIT; cleanup; exit 1' INT TERM
if [ "$(id -u)" != 0 ] || [ ! -f "$BUILD/images/qserv-node.img" ] || [ ! -f "$BUILD/images/pxe/initramfs" ] ||
	[ ! -f "$BUILD/lib/qserv_scisql.so" ]; then
	tap_skip_all "needs root, the image and the scisql plugin"
fi
N=43
tap_plan $N
in_ns() { ip netns exec "$QSERV_CLUSTER_NS" "$@"; }
status_of() { in_ns curl -sf -m 10 "http://$1:9400/status"; }

# in the background: a TERM to this test runs its trap at once, not after up
"$REPO/tools/cluster" up --workers 3 --boot media --no-forward --no-queries > "$VM_DIR/up.log" 2>&1 &
UP_PID=$!
wait "$UP_PID"
rc=$?
UP_PID=
if [ $rc = 0 ]; then
	tap_pass "tools/cluster up: czar (USB stick) + 3 workers (PXE) ready, catalog ingested"
else
	tap_fail "tools/cluster up: czar (USB stick) + 3 workers (PXE) ready, catalog ingested" "$(tail -5 "$VM_DIR/up.log")"
	for c in czar w1 w2 w3; do
		tap_diag "$c: $(tail -3 "$QSERV_CLUSTER_DIR/$c/console.log" 2>/dev/null | tr '\n' '|')"
	done
	exit 1
fi
while read -r line; do tap_diag "$line"; done < "$QSERV_CLUSTER_DIR/timings"
# the alert receiver on the host's side of the bridge (the czar's alert_webhook)
: > "$VM_DIR/alerts.log"
in_ns python3 "$REPO/tools/alert-receiver.py" "$ALERT_PORT" "$VM_DIR/alerts.log" "$QSERV_CLUSTER_NET.1" > /dev/null 2>&1 &
RECV_PID=$!

nodes=$(in_ns "$BUILD/bin/qservctl" --url "http://$CZAR:9400" nodes --json 2>/dev/null)
tap_is "$(echo "$nodes" | jq -r '[.nodes[] | "\(.name)=\(.state)"] | sort | join(" ")')" \
	"czar-0=ready worker-0=ready worker-1=ready worker-2=ready" "registry: czar-0 and worker-0..2 joined and ready"
st=$(status_of "$CZAR")
tap_is "$(echo "$st" | jq -r '"\(.boot_medium) \(.boot_slot)"') $(echo "$st" | jq -r '[.disks[] | select(.transport == "usb") | "\(.name) \(.state)"] | join(" ")')" \
	"$(echo "$st" | jq -r '[.disks[] | select(.transport == "usb") | .name] | join(" ")') a $(echo "$st" | jq -r '[.disks[] | select(.transport == "usb") | .name] | join(" ")') boot-medium" \
	"czar: booted slot a of its USB stick, the stick is its boot medium and never provisioned"
pxe=
for v in w1 w2 w3; do
	grep -q "http://$QSERV_CLUSTER_NET.1/worker.ipxe" "$QSERV_CLUSTER_DIR/$v/console.log" &&
		[ "$(status_of "$(cat "$QSERV_CLUSTER_DIR/$v/ip")" | jq -r .boot_medium)" = null ] && pxe="$pxe $v"
done
tap_is "$pxe" " w1 w2 w3" "workers: network boot (iPXE fetched the workers' script over HTTP, no boot medium)"
for v in w1 w2 w3; do
	st=$(status_of "$(cat "$QSERV_CLUSTER_DIR/$v/ip")")
	tap_is "$(echo "$st" | jq -r --arg s "QS-$v-NVME" '.disks[] | select(.serial == $s) | "\(.state | sub("-now$"; "")) \(.pool)"') $(echo "$st" | jq -r --arg s "QS-$v-HDD" '.disks[] | select(.serial == $s) | "\(.state | sub("-now$"; "")) \(.pool)"')" \
		"provisioned fast provisioned bulk" "VM $v: NVMe provisioned into fast, HDD into bulk"
	tap_is "$(echo "$st" | jq -r '[.processes[] | select(.name == "mariadb" or .name == "qserv-worker") | "\(.name)=\(.state)"] | sort | join(" ")') $(echo "$st" | jq -r .qserv.name)" \
		"mariadb=up qserv-worker=up $(echo "$st" | jq -r .membership.name)" "VM $v: MariaDB and qserv-worker up, worker id is its registry name"
done
st=$(status_of "$CZAR")
tap_is "$(echo "$st" | jq -r '[.processes[] | select(.name | test("mariadb|qserv-c")) | "\(.name)=\(.state)"] | sort | join(" ")')" \
	"mariadb=up qserv-controller=up qserv-czar=up" "czar: MariaDB, qserv-controller and qserv-czar up"
tap_is "$(echo "$st" | jq -r '.qserv.registered_workers | to_entries | map("\(.key)@\(.value)") | sort | join(" ")')" \
	"$(echo "$nodes" | jq -r '[.nodes[] | select(.role == "worker") | "\(.name)@\(.addr)"] | sort | join(" ")')" \
	"czar: every worker of the registry registered in the controller at its address"
G=$QSERV_CLUSTER_DIR/catalog/gen
tap_is "$(grep -c ': ok$' "$QSERV_CLUSTER_DIR/ingest.log")" 3 "qservctl ingest validated Object, Source and Filter row counts"

# the reference: the same rows, unpartitioned, in one private MariaDB on the host
mkdir -p "$REF"
TEST_MARIADB_WAIT=120 test_mariadb_start "$REF" --plugin-dir="$BUILD/lib" --local-infile=1 || tap_diag "reference MariaDB did not start: $(tail -3 "$REF/my.err")"
RQ="mariadb --no-defaults -S $REF/my.sock -uroot --local-infile=1"
cols() { python3 -c 'import json,sys; print(", ".join("`%s` %s" % (c["name"], c["type"]) for c in json.load(open(sys.argv[1]))["schema"]))' "$1"; }
$RQ < "$REPO/qserv/scisql/install.sql" > "$REF/scisql.log" 2>&1
$RQ -e "CREATE DATABASE ref;
	CREATE TABLE ref.Object ($(cols "$G/Object.schema.json"));
	CREATE TABLE ref.Source ($(cols "$G/Source.schema.json"));
	CREATE TABLE ref.Filter (id INT NOT NULL, name VARCHAR(32));
	LOAD DATA LOCAL INFILE '$G/Object.tsv' INTO TABLE ref.Object;
	LOAD DATA LOCAL INFILE '$G/Source.tsv' INTO TABLE ref.Source;
	LOAD DATA LOCAL INFILE '$QSERV_CLUSTER_DIR/catalog/Filter.tsv' INTO TABLE ref.Filter;" > "$REF/load.log" 2>&1
tap_is "$($RQ -N -e 'SELECT COUNT(*) FROM ref.Object') $($RQ -N -e 'SELECT COUNT(*) FROM ref.Source')" \
	"$(wc -l < "$G/Object.tsv") $(wc -l < "$G/Source.tsv")" "reference MariaDB holds every generated row"

. "$QSERV_CLUSTER_DIR/cluster.env"
CZ="mariadb --no-defaults -h $CZAR -P 4040 -u $QSERV_USER -p$QSERV_PASSWORD"
COMPARE_NONEMPTY=1 compare_queries "in_ns $CZ -D sample" "$RQ -D ref" "$VM_DIR" <<'QEOF'
COUNT(*) of the director table|SELECT COUNT(*) FROM Object|
COUNT(*) of the child table|SELECT COUNT(*) FROM Source|
objectId lookup (director index)|SELECT objectId, ra, decl, r_psFlux, nSources FROM Object WHERE objectId = 42|
box|SELECT objectId, ra, decl FROM Object WHERE qserv_areaspec_box(10, -20, 40, 10)|SELECT objectId, ra, decl FROM Object WHERE scisql_s2PtInBox(ra, decl, 10, -20, 40, 10) = 1
circle across RA 0|SELECT objectId FROM Object WHERE qserv_areaspec_circle(359, 0, 10)|SELECT objectId FROM Object WHERE scisql_s2PtInCircle(ra, decl, 359, 0, 10) = 1
GROUP BY over the child table|SELECT filterName, COUNT(*), ROUND(AVG(psFlux), 3) FROM Source GROUP BY filterName|
director-child join in a box|SELECT o.objectId, COUNT(*) FROM Object o JOIN Source s USING (objectId) WHERE qserv_areaspec_box(0, 0, 30, 30) GROUP BY o.objectId|SELECT o.objectId, COUNT(*) FROM Object o JOIN Source s USING (objectId) WHERE scisql_s2PtInBox(o.ra, o.decl, 0, 0, 30, 30) = 1 GROUP BY o.objectId
regular-table join|SELECT f.id, f.name, COUNT(*) FROM Source s JOIN Filter f ON f.name = s.filterName GROUP BY f.id, f.name|
QEOF

# the HTTPS query frontend on 4041 (Qserv's port), the SQL users' Basic auth
http_q() { in_ns curl -s -m 60 --cacert "$QSERV_CA_FILE" -u "$1" -H 'Content-Type: application/json' \
	-d '{"query":"SELECT COUNT(*) FROM sample.Object"}' "$QSERV_HTTP_URL/query"; }
tap_is "$(http_q "$QSERV_USER:$QSERV_PASSWORD" | jq -c '[.success, .rows[0][0]]')" \
	"[1,\"$($RQ -N -B -e 'SELECT COUNT(*) FROM ref.Object')\"]" "POST /query on the czar's HTTPS frontend (4041) answers the count"
tap_is "$(in_ns curl -s -m 30 -o /dev/null -w '%{http_code}' --cacert "$QSERV_CA_FILE" -u "$QSERV_USER:wrong" \
	-d '{"query":"SELECT 1"}' "$QSERV_HTTP_URL/query")" 401 "the frontend refuses a wrong password (401)"

# 200 monkeys (issue 16's QEMU scale run): lookups, cone searches and
# director-child joins, every answer checked against the references mobu
# takes at setup; zero errors; throughput and percentiles printed
in_ns "$BUILD/bin/qserv-mobu" -h "$CZAR" -P 4040 -u "$QSERV_USER" -p "$QSERV_PASSWORD" -D sample \
	--duration 30 --ramp 10 --json --flock qemu-lookup:lookup:150 --flock qemu-cone:cone:30 \
	--flock qemu-join:join:20 > "$VM_DIR/mobu.json" 2> "$VM_DIR/mobu.err"
jq -r '.flocks[] | "\(.flock): \(.monkeys) monkeys, \(.successes) ok, \(.failures) failed, \(.per_second | floor)/s, p50 \(.latency_ms.p50 | floor) ms, p95 \(.latency_ms.p95 | floor) ms, p99 \(.latency_ms.p99 | floor) ms"' \
	"$VM_DIR/mobu.json" 2>/dev/null | while read -r line; do tap_diag "$line"; done
tap_is "$(jq -r '[.flocks[] | select(.successes > 0 and .failures == 0)] | length' "$VM_DIR/mobu.json" 2>/dev/null)" 3 \
	"200 qserv-mobu monkeys against the czar: every lookup, cone and join answered right, no error" \
	"$(jq -c '[.flocks[] | .last_errors[0:2]]' "$VM_DIR/mobu.json" 2>/dev/null; tail -2 "$VM_DIR/mobu.err")"
tap_is "$(status_of "$CZAR" | jq -r '.processes[] | select(.name == "qserv-mobu") | .state')" up \
	"czar node: the firefighter flock (qserv-mobu) runs on the catalog"

# replication (issue 13): the catalog at the default level (2 copies with 3
# workers); w1 loses power: answers stay right from the replicas, w1 is
# evicted after evict-after and the survivors copy its chunks back to level
# 2; then w1 boots again (below)
api() { in_ns curl -s -m 30 --cacert "$QSERV_CA_FILE" -H "Authorization: Bearer $QSERV_AUTH_KEY" "$@"; }
repl() { api "$QSERV_INGEST_URL/replication/status"; }
sample_level() { repl | jq -r '.databases[] | select(.database == "sample") | "\(.level) \(.under_replicated)"'; }
tap_is "$(sample_level)" "2 0" "every chunk of the catalog has 2 replicas after the publish"
before=$(status_of "$(cat "$QSERV_CLUSTER_DIR/w1/ip")" | jq -r .membership.name)
api -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/json' -d '{"seconds":20}' \
	"$QSERV_INGEST_URL/replication/evict-after" > "$VM_DIR/evict.code"
"$REPO/tools/cluster" poweroff w1 > "$VM_DIR/poweroff.log" 2>&1
t_off=$(date +%s)
QS="SELECT COUNT(*), SUM(nSources) FROM Object|
SELECT filterName, COUNT(*) FROM Source GROUP BY filterName|
SELECT objectId FROM Object WHERE qserv_areaspec_box(0, -30, 90, 30)|SELECT objectId FROM Object WHERE scisql_s2PtInBox(ra, decl, 0, -30, 90, 30) = 1
SELECT f.name, COUNT(*) FROM Source s JOIN Filter f ON f.name = s.filterName GROUP BY f.name|"
storm() { # rounds: every query of $QS, each compared with the reference; prints "N wrong, N errors"
	# (errors while tools/cluster upgrade reboots the czar, one czar, are
	# counted apart, as "N while the czar reboots")
	_w=0 _e=0 _d=0
	for _r in $(seq "$1"); do
		printf '%s\n' "$QS" > "$VM_DIR/qs"
		while IFS='|' read -r q r; do
			[ -n "$r" ] || r=$q
			# sent while the czar reboots: its connect may fail only
			# after the czar is back and the phase file is gone
			_p=; [ -f "$QSERV_CLUSTER_DIR/upgrade.phase" ] && _p=1
			in_ns $CZ -D sample -N -B -e "$q" 2> "$VM_DIR/s.err" | sort > "$VM_DIR/s.out"
			$RQ -D ref -N -B -e "$r" | sort > "$VM_DIR/s.ref"
			[ -f "$QSERV_CLUSTER_DIR/upgrade.phase" ] && _p=1
			if [ -s "$VM_DIR/s.err" ] && [ -n "$_p" ]; then _d=$((_d + 1))
			elif [ -s "$VM_DIR/s.err" ]; then _e=$((_e + 1)); tap_diag "$(head -c 300 "$VM_DIR/s.err")"
				{ date +%T; cat "$VM_DIR/s.err"; } >> "$VM_DIR/storm.errors"
			elif ! cmp -s "$VM_DIR/s.out" "$VM_DIR/s.ref"; then _w=$((_w + 1)); fi
		done < "$VM_DIR/qs"
	done
	[ "$_d" = 0 ] && echo "$_w wrong, $_e errors" || echo "$_w wrong, $_e errors, $_d while the czar reboots"
}
tap_is "$(cat "$VM_DIR/evict.code") $(grep -c 'powered off' "$VM_DIR/poweroff.log") $(storm 2)" "200 1 0 wrong, 0 errors" \
	"w1 powered off (evict-after 20 s): every answer right from the replicas"
healed() { [ "$(repl | jq -r --arg w "$before" '.workers[] | select(.id == $w) | .state')" = evicted ] &&
	[ "$(sample_level)" = "2 0" ]; }
if wait_until 300 healed; then
	tap_pass "$before evicted and every chunk back at 2 replicas on the survivors"
	tap_diag "level restored $(($(date +%s) - t_off)) s after the power-off: $(repl | jq -c .health.copies)"
else
	tap_fail "$before evicted and every chunk back at 2 replicas on the survivors" "$(repl | jq -c '[.workers, .databases]')"
fi
tap_is "$(storm 1)" "0 wrong, 0 errors" "answers right after the healing"

# the same worker boots again: same name, disks mounted as they were, same answers
if "$REPO/tools/cluster" reboot w1 > "$VM_DIR/reboot.log" 2>&1; then
	tap_pass "w1 power-cycled and ready again"
else
	tap_fail "w1 power-cycled and ready again" "$(tail -3 "$VM_DIR/reboot.log" | tr '\n' '|')"
fi
if grep -q "http://$QSERV_CLUSTER_NET.1/worker.ipxe" "$QSERV_CLUSTER_DIR/w1/console.log"; then
	tap_pass "w1 booted from the network again"
else
	tap_fail "w1 booted from the network again" "$(head -5 "$QSERV_CLUSTER_DIR/w1/console.log" | tr '\n' '|')"
fi
tap_diag "$(grep 'ready again' "$VM_DIR/reboot.log")"
st=$(status_of "$(cat "$QSERV_CLUSTER_DIR/w1/ip")")
tap_is "$(echo "$st" | jq -r '"\(.membership.name) \(.qserv.name)"') $(echo "$st" | jq -r '[.disks[] | select(.serial | test("^QS-w1-")) | "\(.state) \(.pool)"] | sort | join(" ")')" \
	"$before $before ours-mounted bulk ours-mounted fast" "w1 back under its name ($before), its disks mounted as found, not reformatted"
same() { # name sql ref-sql: sorted answers equal, within 60 s (the czar replaces its dead connections)
	in_ns $CZ -D sample -N -B -e "$2" 2>&1 | sort > "$VM_DIR/c.sorted"
	$RQ -D ref -N -B -e "$3" | sort > "$VM_DIR/r.sorted"
	cmp -s "$VM_DIR/c.sorted" "$VM_DIR/r.sorted"
}
for q in "COUNT(*) after the reboot|SELECT COUNT(*), SUM(nSources) FROM Object|" \
	"box after the reboot|SELECT objectId FROM Object WHERE qserv_areaspec_box(0, -30, 90, 30)|SELECT objectId FROM Object WHERE scisql_s2PtInBox(ra, decl, 0, -30, 90, 30) = 1"; do
	name=${q%%|*}; rest=${q#*|}; sql=${rest%%|*}; ref=${rest#*|}; [ -n "$ref" ] || ref=$sql
	if wait_until 60 same "$name" "$sql" "$ref"; then
		tap_pass "$name ($(wc -l < "$VM_DIR/r.sorted") rows)"
	else
		tap_fail "$name" "$(diff "$VM_DIR/c.sorted" "$VM_DIR/r.sorted" | head -4 | tr '\n' '|')"
	fi
done

# the returning worker: what it still holds matches the references, so it
# is used again (verify), and chunks above the level are trimmed
back() { repl | jq -en --arg w "$before" 'input | ([.workers[] | select(.id == $w) | select(.state == "up" and .chunks > 0)]
	| length) == 1 and ([.databases[].under_replicated] | add) == 0' > /dev/null; }
if wait_until 180 back; then
	tap_pass "$before up again and holding replicas, every chunk at level ($(repl | jq -c '[.workers[] | {(.id): .chunks}] | add'))"
else
	tap_fail "$before up again and holding replicas, every chunk at level" "$(repl | jq -c '[.workers, .databases, .verify]')"
fi

# rolling upgrade (issue 13): the workers one at a time, each in
# maintenance, into the boot files PXE serves (the same build here: what
# is checked is the procedure), with a query storm running throughout
storm_bg() { while [ ! -f "$VM_DIR/bg.stop" ]; do storm 1 >> "$VM_DIR/bg"; done; }
rm -f "$VM_DIR/bg.stop"; : > "$VM_DIR/bg"
storm_bg &
BG=$!
"$REPO/tools/cluster" upgrade > "$VM_DIR/upgrade.log" 2>&1
up_rc=$?
touch "$VM_DIR/bg.stop"; wait "$BG"
tap_diag "$(grep 'upgrade' "$VM_DIR/upgrade.log" | tail -2 | tr '\n' '|')"
tap_is "$up_rc $(grep -c 'upgraded, every chunk at level' "$VM_DIR/upgrade.log") $(grep -c 'czar upgraded' "$VM_DIR/upgrade.log")" "0 3 1" \
	"tools/cluster upgrade: 3 workers rebooted one at a time, each back at level before the next, then the czar"
tap_diag "storm during the upgrade: $(awk '/wrong,/ { d += $5 } END { printf "%d", d }' "$VM_DIR/bg") queries failed while the czar rebooted (one czar: expected)"
[ -s "$VM_DIR/storm.errors" ] && tap_diag "storm errors: $(tr '\n' '|' < "$VM_DIR/storm.errors" | head -c 900)"
tap_is "$(awk '/wrong,/ { w += $1; e += $3; n++ } END { printf "%d wrong, %d errors", w, e }' "$VM_DIR/bg")" \
	"0 wrong, 0 errors" "a query storm during the upgrade ($(grep -c 'wrong,' "$VM_DIR/bg") rounds): every answer right, no error but while the czar reboots"
czar_sql() { in_ns $CZ -N -e 'SELECT 1' > /dev/null 2>&1 && [ -n "$(sample_level)" ]; }
wait_until 180 czar_sql || tap_diag "the upgraded czar's SQL or controller did not answer within 180 s"
tap_is "$(storm 1)" "0 wrong, 0 errors" "answers right through the upgraded czar"
tap_is "$(sample_level)" "2 0" "after the upgrade every chunk has 2 replicas"

# the firefighter (issue 16): one replica per chunk, then a worker loses
# power: lookups of its chunks fail, the flock's success rate drops under
# 95 % in its 60 s window and its alert reaches the receiver
alerts() { jq -r '.body | fromjson? | .kind' "$VM_DIR/alerts.log" 2>/dev/null | grep -c "^$1\$" || true; }
one_copy() { [ "$(sample_level)" = "1 0" ] && repl | jq -en 'input | [.workers[] | select(.state == "up") | .chunks] | add > 0' > /dev/null; }
tap_is "$(api -m 300 -X PUT -d '{"level": 1, "database": "sample"}' -o /dev/null -w '%{http_code}' "$QSERV_INGEST_URL/replication/level")" 200 \
	"catalog trimmed to one replica per chunk (PUT /replication/level)"
wait_until 180 one_copy || tap_diag "the trim to one replica did not finish: $(repl | jq -c .databases)"
ff_before=$(alerts firefighter)
"$REPO/tools/cluster" poweroff w2 > "$VM_DIR/poweroff2.log" 2>&1
ff_alert() { [ "$(alerts firefighter)" -gt "$ff_before" ]; }
if wait_until 300 ff_alert; then
	tap_pass "w2 powered off without replicas: the firefighter's success rate dropped and its alert arrived"
	tap_diag "$(jq -r '.body | fromjson? | select(.kind == "firefighter") | .message' "$VM_DIR/alerts.log" | tail -1 | head -c 300)"
else
	tap_fail "w2 powered off without replicas: the firefighter's success rate dropped and its alert arrived" \
		"$(wc -l < "$VM_DIR/alerts.log") alerts: $(tail -c 400 "$VM_DIR/alerts.log")"
fi
wd_alert() { [ "$(alerts worker_down)" -gt 0 ]; }
if wait_until 120 wd_alert; then tap_pass "the controller's worker_down alert reached the same receiver"
else tap_fail "the controller's worker_down alert reached the same receiver" "$(cut -c1-200 "$VM_DIR/alerts.log" | tr '\n' '|')"; fi
tap_done
