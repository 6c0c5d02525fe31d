#!/bin/sh
# alerts.sh: the controller's alerts (qserv/common/alert.h) on a dev
# cluster of 2 workers, level 2, --evict-after 6, chunks under their level
# alerting after 2 s, every sink pointed at a local receiver
# (tools/alert-receiver.py standing in for a JSON webhook, Slack and Sentry).
#
# Checks: `kill worker-2` -> one worker_down alert for it (deduplicated
# over the probes that follow), then one worker_evicted, then one
# under_replicated (one worker cannot hold 2 copies), on the webhook in its
# JSON shape, on Slack and on Sentry; nothing about worker-1; `start
# worker-2` -> it comes back and a second kill alerts again (the
# conditions were cleared); a malformed Sentry DSN is refused at start.
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
. "$REPO/tools/tap.sh"
. "$REPO/tools/dc-test.sh"
dc_init alerts
tap_plan 8

/usr/bin/python3 "$REPO/tools/alert-receiver.py" 0 "$T/alerts.log" > "$T/receiver.port" &
DC_PIDS="$DC_PIDS $!"
wait_until 10 test -s "$T/receiver.port"
RP=$(head -1 "$T/receiver.port")
DB=alr
"$REPO/tools/sample-catalog.sh" "$T" $DB --objects 2000 --sources-per-object 1 --ra 0,20 --dec -10,10 \
	--stripes 12 --sub-stripes 3 > "$T/gen.log" 2>&1 || { cat "$T/gen.log"; exit 1; }
ARGS="--replication-level 2 --alert-cluster dev --alert-under-replicated-after 2
	--alert-webhook http://127.0.0.1:$RP/hook --alert-slack http://127.0.0.1:$RP/slack
	--alert-sentry http://k3y@127.0.0.1:$RP/7"
if QSERV_CONTROLLER_ARGS=$ARGS dc_up 2 --evict-after 6 &&
   "$BIN/qservctl" --url "$QSERV_INGEST_URL" ingest -q -j 2 "$T/ds" > "$T/ingest.log" 2>&1; then
	tap_pass "dev cluster up with alert sinks, catalog at level 2"
else
	tap_fail "dev cluster up with alert sinks, catalog at level 2" "$(tail -n 5 "$T/up.log" "$T/ingest.log")"
	exit 1
fi
hooks() { jq -r 'select(.path == "/hook") | .body | fromjson | "\(.kind) \(.subject)"' "$T/alerts.log" 2> /dev/null; }
count() { hooks | grep -cx "$1"; }

"$DC" kill worker-2 --dir "$T/cluster" > "$T/kill.log" 2>&1
wait_until 60 sh -c "[ \"\$(jq -r 'select(.path == \"/hook\") | .body | fromjson | .kind' '$T/alerts.log' 2>/dev/null |
	grep -c under_replicated)\" -ge 1 ]"
sleep 3   # more probes and heal checks: still one alert each
tap_is "$(count 'worker_down worker-2') $(count 'worker_evicted worker-2') $(count 'under_replicated cluster')" "1 1 1" \
	"kill worker-2: one worker_down, one worker_evicted, one under_replicated on the webhook"
tap_is "$(hooks | grep -c worker-1)" 0 "nothing about worker-1"
ev=$(jq -c 'select(.path == "/hook") | .body | fromjson | select(.kind == "worker_evicted") |
	[.cluster, (.message | test("silent for [0-9]+ s: evicted")), .severity, (.time | test("^20[0-9-]+T[0-9:]+Z$"))]' \
	"$T/alerts.log")
tap_is "$ev" '["dev",true,"error",true]' "the webhook's JSON: cluster, kind, subject, message, severity, time"
tap_is "$(jq -r 'select(.path == "/slack") | .body | fromjson | .text' "$T/alerts.log" | grep -c 'worker-2\|cluster')" 3 \
	"Slack got the same three alerts"
tap_is "$(jq -r 'select(.path == "/api/7/envelope/") | .headers["X-Sentry-Auth"]' "$T/alerts.log" | grep -c 'sentry_key=k3y')" 3 \
	"Sentry got three envelopes with the DSN's key"

"$DC" start worker-2 --dir "$T/cluster" > "$T/start.log" 2>&1
wait_until 90 sh -c "[ \"\$(curl -s --cacert '$QSERV_CA_FILE' '$QSERV_INGEST_URL/replication/status' |
	jq -r '.workers[] | select(.id == \"worker-2\") | .state')\" = up ]"
"$DC" kill worker-2 --dir "$T/cluster" > "$T/kill2.log" 2>&1
wait_until 30 sh -c "[ \"\$(jq -r 'select(.path == \"/hook\") | .body | fromjson | \"\(.kind) \(.subject)\"' '$T/alerts.log' |
	grep -cx 'worker_down worker-2')\" -ge 2 ]"
tap_is "$(count 'worker_down worker-2')" 2 "back up, then killed again: a second worker_down (the condition was cleared)"

out=$("$BIN/qserv-controller" --socket "$T/none.sock" --alert-sentry "not-a-dsn" 2>&1); rc=$?
tap_is "$rc:$(echo "$out" | grep -c 'sentry DSN')" "100:1" "a malformed Sentry DSN: the controller refuses to start"
tap_done
