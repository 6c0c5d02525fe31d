#!/bin/sh
# mobu.sh: qserv-mobu, the load runner, against a 2-worker dev cluster
# with a generated catalog (tools/sample-catalog.sh).
#
# Checks: flocks of every business (lookup, cone, join, scan, async, sql)
# run for a few seconds with successes and no failure, while one flock whose
# statement names a missing table fails every run with MySQL's 1146 in its
# last errors, and the exit status says a run failed; GET /metrics while it
# runs has each flock's runs and latency quantiles; the answers are checked:
# rows deleted behind the czar's back from one chunk table on both workers
# during a run make the flocks reading them report wrong answers; usage
# errors exit 2 and a catalog that cannot be sampled exits 3.
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
. "$REPO/tools/tap.sh"
. "$REPO/tools/dc-test.sh"
dc_init mobu
tap_plan 16
[ -x "$BIN/qserv-mobu" ] || { echo "Bail out! $BIN/qserv-mobu is not built"; exit 1; }

DB=mobu
"$REPO/tools/sample-catalog.sh" "$T" $DB --objects 6000 --sources-per-object 2 --ra 0,30 --dec -15,15 \
	--stripes 18 --sub-stripes 4 > "$T/gen.log" 2>&1 || { cat "$T/gen.log"; exit 1; }
if dc_up 2 && "$BIN/qservctl" --url "$QSERV_INGEST_URL" ingest -q -j 3 "$T/ds" > "$T/ingest.log" 2>&1; then
	tap_pass "dev cluster up, catalog ingested"
else
	tap_fail "dev cluster up, catalog ingested" "$(tail -n 5 "$T/up.log" "$T/ingest.log")"
	exit 1
fi
mobu() { "$BIN/qserv-mobu" -h "$QSERV_CZAR_HOST" -P "$QSERV_CZAR_PORT" -u "$QSERV_USER" -p "$QSERV_PASSWORD" -D $DB "$@"; }
flock() { jq -c --arg f "$1" '.flocks[] | select(.flock == $f)' "$T/run.json"; }
MP=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

mobu --duration 8 --ramp 1 --json --metrics-port "$MP" \
	--flock lookups:lookup:8 --flock cones:cone:3 --flock joins:join:3 --flock scans:scan:2 \
	--flock async:async:2 --flock filters:sql:2:"SELECT name FROM Filter" \
	--flock broken:sql:2:"SELECT COUNT(*) FROM NoSuchTable" > "$T/run.json" 2> "$T/run.err" &
pid=$!
sleep 5
curl -s "http://127.0.0.1:$MP/metrics" > "$T/metrics"
wait $pid
tap_is "$?" 1 "a run with a failing flock exits 1"
good=$(jq -c '[.flocks[] | select(.flock != "broken") | select(.successes > 0 and .failures == 0) | .flock]' "$T/run.json")
tap_is "$good" '["lookups","cones","joins","scans","async","filters"]' \
	"every business succeeds with checked answers and no failure"
tap_ok "the broken flock fails every run, MySQL's 1146 among its last errors" \
	sh -c "flock() { jq -c --arg f \"\$1\" '.flocks[] | select(.flock == \$f)' '$T/run.json'; }
	       flock broken | jq -en 'input | .successes == 0 and .failures > 0 and (.last_errors[0].error | test(\"1146\"))' > /dev/null"
tap_ok "latency percentiles are ordered (p50 <= p95 <= p99 <= max)" \
	sh -c "jq -en 'input | [.flocks[] | .latency_ms | .p50 <= .p95 and .p95 <= .p99 and .p99 <= .max] | all' '$T/run.json' > /dev/null"
tap_ok "GET /metrics while running: runs and latency per flock" \
	sh -c "grep -q 'qserv_mobu_runs_total{flock=\"lookups\",business=\"lookup\",result=\"success\"} [1-9]' '$T/metrics' &&
	       grep -q 'qserv_mobu_latency_ms{flock=\"cones\",quantile=\"0.99\"}' '$T/metrics' &&
	       grep -q 'qserv_mobu_success_ratio{flock=\"broken\"} 0.0000' '$T/metrics'"

# rows lost behind the czar's back: one chunk table emptied on both workers
# while flocks run; their checked answers turn wrong
chunk=$(sql "SELECT chunkId FROM $DB.Object WHERE decl > 5 LIMIT 1")   # the scan reads decl > 0
mobu --duration 8 --ramp 0 --json --flock scans:scan:2 --flock counts:sql:2:"SELECT COUNT(*) FROM Object" \
	> "$T/run.json" 2> "$T/run.err" &
pid=$!
sleep 3
for i in 1 2; do
	eval "sock=\$QSERV_WORKER_${i}_SOCKET"
	my "$sock" -e "DELETE FROM $DB.Object_$chunk" > /dev/null
done
wait $pid
tap_is "$?" 1 "a run whose answers turned wrong exits 1"
tap_ok "the scan flock reports a wrong answer, not an error" \
	sh -c "jq -en 'input | .flocks[] | select(.flock == \"scans\") | .successes > 0 and .failures > 0 and
	       (.last_errors[-1].error | test(\"wrong answer\"))' '$T/run.json' > /dev/null"
tap_ok "so does the sql flock against its first answer" \
	sh -c "jq -en 'input | .flocks[] | select(.flock == \"counts\") | .failures > 0 and (.last_errors[-1].error | test(\"wrong answer\"))' '$T/run.json' > /dev/null"

# the firefighter's alert, to a local receiver standing in for a webhook,
# Slack and Sentry: one alert per failing flock (deduplicated), none for
# the healthy one
/usr/bin/python3 "$REPO/tools/alert-receiver.py" 0 "$T/alerts.log" > "$T/receiver.port" &
DC_PIDS="$DC_PIDS $!"
wait_until 10 test -s "$T/receiver.port"
RP=$(head -1 "$T/receiver.port")
mobu --duration 7 --ramp 0 --alert-below 0.9 --alert-window 2 --alert-cluster test \
	--alert-webhook "http://127.0.0.1:$RP/hook" --alert-slack "http://127.0.0.1:$RP/slack" \
	--alert-sentry "http://pubkey1@127.0.0.1:$RP/42" \
	--flock fine:lookup:2 --flock broken:sql:1:"SELECT COUNT(*) FROM NoSuchTable" > "$T/ff.out" 2> "$T/ff.err"
hook=$(jq -c 'select(.path == "/hook") | .body | fromjson | [.cluster, .kind, .subject, (.message | test("1146"))]' "$T/alerts.log")
tap_is "$hook" '["test","firefighter","broken",true]' \
	"webhook: one firefighter alert for the failing flock (deduplicated across windows), its last error named"
tap_ok "Slack: one incoming-webhook text naming the flock" \
	sh -c "[ \"\$(jq -r 'select(.path == \"/slack\") | .body | fromjson | .text' '$T/alerts.log' | grep -c 'firefighter.*broken')\" = 1 ]"
tap_ok "Sentry: one envelope to /api/42/envelope/ with the DSN's key and an error event" \
	sh -c "jq -e -s '[.[] | select(.path == \"/api/42/envelope/\")] | length == 1 and
		(.[0].headers[\"X-Sentry-Auth\"] | test(\"sentry_key=pubkey1\")) and
		(.[0].body | split(\"\\n\") | (.[1] | fromjson | .type == \"event\") and
		 (.[2] | fromjson | .level == \"error\" and .tags.kind == \"firefighter\"))' '$T/alerts.log' > /dev/null"

out=$(mobu --flock x:nosuch:3 2>&1); rc=$?
tap_is "$rc:$(echo "$out" | grep -c 'BUSINESS one of')" "2:1" "an unknown business: exit 2, the businesses named"
out=$(mobu --flock x:sql:3 2>&1); rc=$?
tap_is "$rc:$(echo "$out" | grep -c 'STATEMENT')" "2:1" "the sql business without a statement: exit 2"
out=$(mobu --director NoSuch --flock x:lookup:1 2>&1); rc=$?
tap_is "$rc:$(echo "$out" | grep -c 'reference answers')" "3:1" "a catalog that cannot be sampled: exit 3"
out=$(mobu --director 'Object`;' --flock x:lookup:1 2>&1); rc=$?
tap_is "$rc" 2 "a table name that is not an identifier: exit 2"
tap_done
