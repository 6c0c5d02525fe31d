#!/bin/sh
# worker_pool.sh: the czar's connections to a worker are bounded and
# reused (dispatch_pool.h).  A dev cluster of 2 workers, the czar with
# --worker-connections 2; 40 sessions doing checked point lookups at once
# and 12 concurrent full-table counts (8 chunk queries in flight each)
# all answer right: the chunk queries beyond 2 per worker wait for a
# connection to come back instead of opening more, so the czar's
# /metrics show at most 2 connections open to one worker, waits, and no
# more handshakes than 2 per worker (the old pool opened one per waiting
# chunk query and closed the extras again: a churn of TLS handshakes that
# made QEMU workers cut them under 200 clients).
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
. "$REPO/tools/tap.sh"
. "$REPO/tools/dc-test.sh"
dc_init pool
tap_plan 6

DB=pool
export QSERV_CZAR_ARGS="--worker-connections 2"
dc_catalog $DB 2 --objects 3000 --sources-per-object 1 --ra 0,40 --dec -20,20 --stripes 12 --sub-stripes 4
metric() { curl -s -m 10 "$QSERV_CZAR_METRICS_URL" | awk -v m="$1" '$1 == m { print $2 }'; }
CL="$REPO/build/tests/czar-client -h $QSERV_CZAR_HOST -P $QSERV_CZAR_PORT -u $QSERV_USER -p $QSERV_PASSWORD -D $DB"
out=$($CL lookups 40 5 3000 2>&1)
tap_ok "40 sessions of point lookups through 2 connections per worker: no error ($out)" \
	sh -c "echo '$out' | grep -Eq '^queries [1-9][0-9]* errors 0 '"

want=$(sql "SELECT COUNT(*), ROUND(SUM(ra), 3) FROM $DB.Object")
i=0
while [ $i -lt 12 ]; do
	sql "SELECT COUNT(*), ROUND(SUM(ra), 3) FROM $DB.Object" > "$T/scan.$i" &
	i=$((i + 1))
done
wait
right=0
for f in "$T"/scan.*; do [ "$(cat "$f")" = "$want" ] && right=$((right + 1)); done
tap_is "$right" 12 "12 concurrent full-table counts, each answered right ($want)"

tap_is "$(metric qserv_czar_worker_connections_open_max)" 2 "at most 2 connections were open to one worker"
tap_ok "chunk queries waited for a connection ($(metric qserv_czar_worker_connection_waits_total) times)" \
	test "$(metric qserv_czar_worker_connection_waits_total)" -gt 0
opened=$(metric qserv_czar_worker_connections_opened_total)
tap_ok "connections kept and reused: $opened handshakes in all (at most 2 per worker)" test "$opened" -le 4
tap_done
