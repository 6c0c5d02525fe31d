#!/bin/sh
# retry.sh: qservctl ingest's contribution retries against fake_api.py (a
# controller and worker in one plain-HTTP process that fails the first
# contributions as told): a 503 and a connection closed unanswered are
# retried (Qserv's default num_retries: 1) and the rows are right, the retry
# is in the state file with its attempt number; a 503 that lasts fails
# after one retry; a 400 fails at once with the worker's message.
top=$(cd "$(dirname "$0")/../../.." && pwd)
. "$top/tools/tap.sh"
BIN=${QSERV_BIN:-$top/build/bin}
T=$(mktemp -d /tmp/qloader_retry.XXXXXX)
SPID=
cleanup() { [ -n "$SPID" ] && kill "$SPID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT INT TERM
command -v python3 >/dev/null || tap_skip_all "no python3"

tap_plan 13

dataset() { # DIR: one regular table of 5 rows
	mkdir -p "$1"
	echo '{"version": 12, "database": "db.json", "tables": [{"schema": "Band.json", "data": [{"directory": "", "files": ["Band.tsv"]}]}]}' > "$1/metadata.json"
	echo '{"database": "rt"}' > "$1/db.json"
	echo '{"database": "rt", "table": "Band", "is_partitioned": 0, "schema": [{"name": "id", "type": "INT"}, {"name": "name", "type": "CHAR(1)"}, {"name": "w", "type": "DOUBLE"}]}' > "$1/Band.json"
	printf '1\tu\t3.5\n2\tg\t4.8\n3\tr\t6.2\n4\ti\t7.5\n5\tz\t8.7\n' > "$1/Band.tsv"
}
serve() { # MODE FAILS: starts fake_api.py, sets URL
	rm -f "$T/port"
	[ -n "$SPID" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
	python3 "$top/qserv/loader/tests/fake_api.py" "$T/port" "$1" "$2" & SPID=$!
	i=0; until [ -s "$T/port" ] || [ $i -gt 100 ]; do i=$((i + 1)); sleep 0.1; done
	URL=http://127.0.0.1:$(cat "$T/port")
}
attempts() { curl -s --max-time 5 "$URL/fake/attempts"; }
ingest() { # DIR: exit status in $rc, stdout+stderr in $T/out
	env -u QSERV_CA_FILE -u QSERV_AUTH_KEY timeout 60 "$BIN/qservctl" --url "$URL" ingest -j 1 "$1" > "$T/out" 2>&1
	rc=$?
}

dataset "$T/a"; serve 503 1; ingest "$T/a"
tap_is "$rc" 0 "a 503 then OK: the ingest succeeds"
tap_is "$(attempts)" 2 "after one retry"
tap_ok "the validated rows are right" grep -q "rt.Band: 5 rows over all workers, input 5: ok" "$T/out"
tap_ok "the state file records the retry with its attempt number" grep -q '^retry 7 Band 1 Band.tsv$' "$T/a/.qservctl-ingest.state"

dataset "$T/b"; serve reset 1; ingest "$T/b"
tap_is "$rc" 0 "a connection closed unanswered, then OK: the ingest succeeds"
tap_is "$(attempts)" 2 "after one retry"
tap_ok "the validated rows are right" grep -q "rt.Band: 5 rows over all workers, input 5: ok" "$T/out"

dataset "$T/c"; serve 503 100; ingest "$T/c"
tap_is "$rc" 1 "a 503 that lasts fails the ingest"
tap_is "$(attempts)" 2 "after num_retries (1) retry"
tap_ok "naming the 503" grep -q "HTTP 503" "$T/out"

dataset "$T/d"; serve 400 0; ingest "$T/d"
tap_is "$rc" 1 "a 400 fails the ingest"
tap_is "$(attempts)" 1 "at once, without a retry"
tap_ok "with the worker's message" grep -q "line 2: 2 fields, expected 3 (fake worker)" "$T/out"

tap_done
