#!/bin/sh
# async.sh: Qserv's asynchronous queries and query history on 4040 (async.h)
# on a 2-worker dev cluster with a 3000-object catalog, the czar restarted
# by the test (same command line, same port: its history rows are keyed by
# port) with two more users (alice, bob: not admins) and --max-result-rows
# 2000 (then --max-result-bytes 10000: a SUBMIT, a synchronous merge and a
# streamed synchronous result past it fail as FAILED_LR with Qserv's bytes
# message).  SUBMIT's row (jobId, resultLocation), status polled in
# information_schema.queries until COMPLETED, qserv_result(id) equal to the
# synchronous answer; a slow job (SLEEP per row) in
# information_schema.processlist, CANCELled: ABORTED, its table gone, a
# second CANCEL answered with Qserv's 4005; CALL qserv_result_delete; bob
# can neither see (whatever the WHERE), read, cancel nor delete alice's job (MySQL's 1142 and
# 1095), the admin qsmaster can; a 3000-row result is FAILED_LR with
# Qserv's MERGE_ERROR message, and so is a synchronous merge past it
# (the client's 1104 carries the message); SHOW [FULL] PROCESSLIST in
# Qserv's layout (CLI and pymysql), the caller's rows only; CANCEL of a
# running synchronous query by its id (ABORTED); a czar restart keeps a
# completed result and the history, and turns a running job and a running
# synchronous query ABORTED; pymysql submits and
# fetches; restarted with --async-result-ttl 2 and --query-history 5, an
# unclaimed result expires and the history keeps 5 rows.  Every wait is
# bounded.
top=$(cd "$(dirname "$0")/../../.." && pwd)
. "$top/tools/tap.sh"
BIN=${QSERV_BIN:-$top/build/bin}
PY=/usr/bin/python3
T=$(mktemp -d /tmp/czar-async.XXXXXX)
CZPID=
cleanup() {
	[ -n "$CZPID" ] && kill "$CZPID" 2>/dev/null
	"$top/tools/dev-cluster" down --dir "$T/cluster" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

for b in qserv-gen qserv-partition qserv-worker qserv-controller qservctl qserv-czar qserv-certs; do
	[ -x "$BIN/$b" ] || { echo "Bail out! $BIN/$b is not built"; exit 1; }
done
[ -f "$top/build/lib/qserv_scisql.so" ] || { echo "Bail out! build/lib/qserv_scisql.so is not built"; exit 1; }
command -v mariadbd > /dev/null || tap_skip_all "needs mariadbd"
tap_plan 52

"$top/tools/sample-catalog.sh" "$T" asy --objects 3000 --sources-per-object 1 --ra 0,2 --dec -1,1 > "$T/gen.log" 2>&1 || exit 1
if "$top/tools/dev-cluster" up --workers 2 --dir "$T/cluster" > "$T/up.log" 2>&1 &&
	set -a && . "$T/cluster/cluster.env" && set +a &&
	"$BIN/qservctl" --url "$QSERV_INGEST_URL" ingest -q "$T/ds" > "$T/ingest.log" 2>&1; then
	tap_pass "dev cluster up, catalog ingested"
else
	tap_fail "dev cluster up, catalog ingested" "$(tail -n 5 "$T/up.log" "$T/ingest.log" 2>/dev/null)"
	exit 1
fi
ROOT="mariadb --no-defaults -S $QSERV_CZAR_DB_SOCKET -uroot -N -B"

# The czar's command line, so it can be started again the same way.
pid=$(awk '$1 == "czar" { print $2 }' "$T/cluster/pids")
tr '\0' '\n' < "/proc/$pid/cmdline" > "$T/czar.args"
USERS=$(awk 'p { print; exit } $0 == "--users" { p = 1 }' "$T/czar.args")
hash() { echo "$1" | "$BIN/qserv-czar" --hash-password; }
printf 'alice:%s\nbob:%s\n' "$(hash alice-pw)" "$(hash bob-pw)" >> "$USERS"

# czar_restart [ARGS]: stops the running czar (bounded), starts it with
# its command line and ARGS, waits for its port (bounded).
czar_restart() {
	old=${CZPID:-$pid}
	kill "$old" 2>/dev/null
	i=0
	while kill -0 "$old" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	extra="$*"
	set --
	while IFS= read -r a; do set -- "$@" "$a"; done < "$T/czar.args"
	# shellcheck disable=SC2086
	"$@" $extra >> "$T/czar.log" 2>&1 &
	CZPID=$!
	i=0
	until mariadb --no-defaults -h127.0.0.1 -P"$QSERV_CZAR_PORT" -u"$QSERV_USER" -p"$QSERV_PASSWORD" \
		-e 'SELECT 1' > /dev/null 2>&1; do
		i=$((i + 1))
		[ $i -gt 100 ] && return 1
		sleep 0.1
	done
}
tap_ok "czar restarted with users alice and bob and --max-result-rows 2000" czar_restart --max-result-rows 2000

as() { _u=$1 _p=$2; shift 2; mariadb --no-defaults -h127.0.0.1 -P"$QSERV_CZAR_PORT" -u"$_u" -p"$_p" -D asy -N -B "$@" 2>&1; }
QS() { as "$QSERV_USER" "$QSERV_PASSWORD" "$@"; }
# status ID [USER PW]: the job's STATUS as its user sees it
status() { as "${2:-$QSERV_USER}" "${3:-$QSERV_PASSWORD}" -e "SELECT STATUS FROM information_schema.queries WHERE ID = $1"; }
# wait_done ID [USER PW]: polls until the job is no longer EXECUTING (60 s at most)
wait_done() {
	i=0
	while [ "$(status "$@")" = EXECUTING ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	status "$@"
}

# ---- SUBMIT, status, result
Q="SELECT filterName, COUNT(*), MIN(objectId) FROM Source GROUP BY filterName"
out=$(as "$QSERV_USER" "$QSERV_PASSWORD" --column-names -e "SUBMIT $Q")
id=$(echo "$out" | awk 'NR == 2 { print $1 }')
case "$out" in "jobId	resultLocation
$id	table:result_$id") tap_pass "SUBMIT answers one row: jobId, resultLocation table:result_<id>" ;;
	*) tap_fail "SUBMIT answers one row: jobId, resultLocation table:result_<id>" "$out" ;; esac
tap_is "$(wait_done "$id")" COMPLETED "information_schema.queries: the job becomes COMPLETED"
QS -e "SELECT * FROM qserv_result($id)" | sort > "$T/async.out"
QS -e "$Q" | sort > "$T/sync.out"
if [ -s "$T/sync.out" ] && cmp -s "$T/async.out" "$T/sync.out"; then tap_pass "qserv_result(id) equals the synchronous answer"
else tap_fail "qserv_result(id) equals the synchronous answer" "$(cat "$T/async.out" "$T/sync.out")"; fi
out=$(QS -e "SELECT TYPE, STATUS, DBS, QUERY, \`ROWS\`, CHUNKS > 0 FROM information_schema.queries WHERE ID = $id")
tap_is "$out" "ASYNC	COMPLETED	asy	$Q	$(wc -l < "$T/sync.out")	1" "its history row: TYPE, STATUS, DBS, QUERY, ROWS, CHUNKS"
out=$(QS -e "SELECT TYPE, STATUS, \`ROWS\`, BYTES > 0 FROM information_schema.queries WHERE QUERY = '$Q' AND TYPE = 'SYNC'")
tap_is "$out" "SYNC	COMPLETED	$(wc -l < "$T/sync.out")	1" "the synchronous query is in the history too (TYPE SYNC, ROWS, BYTES)"

# ---- CANCEL
SLOW="SELECT objectId, SLEEP(0.02) FROM Object"
sid=$(QS -e "SUBMIT $SLOW" | cut -f1)
out=$(QS -e "SELECT TYPE, QUERY FROM information_schema.processlist WHERE ID = $sid")
tap_is "$out" "ASYNC	$SLOW" "a running job is in information_schema.processlist"
# SHOW [FULL] PROCESSLIST: Qserv's layout, QUERY cut to 32 characters
# unless FULL (there Qserv's column is its unaliased `query`)
out=$(QS --column-names -e "SHOW PROCESSLIST" | awk -F '\t' -v id="$sid" -v p="$QSERV_CZAR_PORT" \
	'NR == 1 { $1 = $1; print } $1 == id { print $1, $2, $3, ($4 == p), ($7 > 0), $9 }')
tap_is "$out" "ID TYPE CZAR CZAR_ID SUBMITTED UPDATED CHUNKS CHUNKS_COMP QUERY
$sid ASYNC qserv-czar 1 1 $(printf %.32s "$SLOW")" "SHOW PROCESSLIST: Qserv's columns, the running job, QUERY cut to 32 characters"
out=$(QS --column-names -e "SHOW FULL PROCESSLIST" | awk -F '\t' -v id="$sid" 'NR == 1 || $1 == id { print $9 }')
tap_is "$out" "query
$SLOW" "SHOW FULL PROCESSLIST: the whole query, in Qserv's column 'query'"
out=$(QS -e "SHOW PROCESSLIST" | awk -F '\t' '$2 == "SYNC" || $1 !~ /^[0-9]+$/')
tap_is "$out" "" "SHOW PROCESSLIST lists no session, only running queries"
out=$($PY - "$QSERV_CZAR_PORT" "$QSERV_USER" "$QSERV_PASSWORD" "$sid" <<'PYEOF' 2>&1
import sys, pymysql
c = pymysql.connect(host="127.0.0.1", port=int(sys.argv[1]), user=sys.argv[2], password=sys.argv[3], database="asy")
cur = c.cursor()
cur.execute("SHOW FULL PROCESSLIST")
rows = [r for r in cur.fetchall() if str(r[0]) == sys.argv[4]]
print(",".join(d[0] for d in cur.description), len(rows), rows[0][1] if rows else "")
PYEOF
)
tap_is "$out" "ID,TYPE,CZAR,CZAR_ID,SUBMITTED,UPDATED,CHUNKS,CHUNKS_COMP,query 1 ASYNC" "pymysql: SHOW FULL PROCESSLIST's columns and the job's row"
out=$(QS -e "CANCEL $sid")
tap_is "$out" "Trying to kill query: CANCEL $sid" "CANCEL answers as Qserv"
tap_is "$(wait_done "$sid")" ABORTED "the cancelled job is ABORTED"
tap_is "$($ROOT -e "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'qservResult' AND TABLE_NAME = 'result_$sid'")" 0 \
	"the cancelled job's table is gone"
out=$(QS -e "CANCEL $sid")
case "$out" in *"ERROR 4005"*"Unknown or finished query ID: CANCEL $sid"*) tap_pass "CANCEL of a finished job: Qserv's 4005" ;;
	*) tap_fail "CANCEL of a finished job: Qserv's 4005" "$out" ;; esac
out=$(QS -e "SELECT * FROM qserv_result($sid)")
case "$out" in *"ERROR 1146"*"result_$sid"*) tap_pass "qserv_result of a cancelled job: 1146" ;;
	*) tap_fail "qserv_result of a cancelled job: 1146" "$out" ;; esac

# ---- other users
aid=$(as alice alice-pw -e "SUBMIT SELECT COUNT(*) FROM Object" | cut -f1)
tap_is "$(wait_done "$aid" alice alice-pw)" COMPLETED "alice's job completes"
tap_is "$(as bob bob-pw -e "SELECT COUNT(*) FROM information_schema.queries WHERE ID = $aid")" 0 \
	"bob does not see alice's job in information_schema.queries"
tap_is "$(as bob bob-pw -e "SELECT COUNT(*) FROM information_schema.queries WHERE 1 = 1 OR ID = $aid OR TRUE")" 0 \
	"no WHERE reaches another user's rows"
out=$(as bob bob-pw -e "SELECT CONCAT(QUERY) FROM information_schema.queries")
case "$out" in *"ERROR 1235"*"columns, literals, operators and aggregates only"*) tap_pass "information_schema.queries: other functions refused (1235)" ;;
	*) tap_fail "information_schema.queries: other functions refused (1235)" "$out" ;; esac
out=$(as bob bob-pw -e "SELECT * FROM qserv_result($aid)")
case "$out" in *"ERROR 1142"*) tap_pass "bob cannot read alice's result: 1142" ;; *) tap_fail "bob cannot read alice's result: 1142" "$out" ;; esac
out=$(as bob bob-pw -e "CALL qserv_result_delete($aid)")
case "$out" in *"ERROR 1142"*) tap_pass "bob cannot delete alice's result: 1142" ;; *) tap_fail "bob cannot delete alice's result: 1142" "$out" ;; esac
slow_a=$(as alice alice-pw -e "SUBMIT $SLOW" | cut -f1)
out=$(as bob bob-pw -e "CANCEL $slow_a")
case "$out" in *"ERROR 1095"*) tap_pass "bob cannot cancel alice's job: 1095" ;; *) tap_fail "bob cannot cancel alice's job: 1095" "$out" ;; esac
tap_is "$(as bob bob-pw -e "SHOW FULL PROCESSLIST" | awk -F '\t' -v id="$slow_a" '$1 == id')" "" \
	"bob does not see alice's running job in SHOW PROCESSLIST"
tap_is "$(as alice alice-pw -e "SHOW PROCESSLIST" | awk -F '\t' -v id="$slow_a" '$1 == id { print $2 }')	$(QS -e "SHOW PROCESSLIST" | awk -F '\t' -v id="$slow_a" '$1 == id { print $2 }')" \
	"ASYNC	ASYNC" "alice and the admin user see it"
tap_is "$(as alice alice-pw -e "SELECT * FROM qserv_result($aid)")" 3000 "alice reads her result"
tap_is "$(QS -e "SELECT * FROM qserv_result($aid)")" 3000 "the admin user reads it too"
as alice alice-pw -e "CANCEL $slow_a" > /dev/null
wait_done "$slow_a" > /dev/null

# ---- delete
out=$(as alice alice-pw -e "CALL qserv_result_delete($aid)")
tap_is "$out" "" "CALL qserv_result_delete answers OK"
out=$(as alice alice-pw -e "SELECT * FROM qserv_result($aid)")
case "$out" in *"ERROR 1146"*"qservResult.result_$aid"*) tap_pass "a deleted result: 1146" ;; *) tap_fail "a deleted result: 1146" "$out" ;; esac

# ---- large result
lid=$(QS -e "SUBMIT SELECT objectId FROM Object" | cut -f1)
tap_is "$(wait_done "$lid")" FAILED_LR "3000 rows past --max-result-rows 2000: FAILED_LR"
out=$(QS -e "SELECT ERROR FROM information_schema.queries WHERE ID = $lid")
case "$out" in "MERGE_ERROR 1470 (QI=$lid; cancelling the query, queryResult table result_$lid is too large"*)
	tap_pass "its ERROR in Qserv's MERGE_ERROR 1470 shape" ;; *) tap_fail "its ERROR in Qserv's MERGE_ERROR 1470 shape" "$out" ;; esac

# ---- a synchronous query: FAILED_LR past the limit, CANCEL by its query id
out=$(QS -e "SELECT objectId FROM Object ORDER BY objectId")
syid=$(QS -e "SELECT MAX(ID) FROM information_schema.queries WHERE TYPE = 'SYNC' AND QUERY = 'SELECT objectId FROM Object ORDER BY objectId'")
case "$out" in *"ERROR 1104"*"MERGE_ERROR 1470 (QI=$syid; cancelling the query, queryResult table result_$syid is too large at "*" rows, max allowed size is 2000 rows)"*)
	tap_pass "a synchronous query past --max-result-rows: Qserv's MERGE_ERROR 1470 message" ;;
	*) tap_fail "a synchronous query past --max-result-rows: Qserv's MERGE_ERROR 1470 message" "$out (id $syid)" ;; esac
out=$(QS -e "SELECT STATUS, ERROR FROM information_schema.queries WHERE ID = $syid")
case "$out" in "FAILED_LR	MERGE_ERROR 1470 (QI=$syid; cancelling the query, queryResult table result_$syid is too large"*)
	tap_pass "its history row: FAILED_LR, Qserv's ERROR" ;; *) tap_fail "its history row: FAILED_LR, Qserv's ERROR" "$out" ;; esac
QS -e "$SLOW" > "$T/sync_cancel.out" 2>&1 &
spid=$!
i=0
until [ -n "$(QS -e "SHOW PROCESSLIST" | awk -F '\t' '$2 == "SYNC" { print $1 }')" ] || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
syid=$(QS -e "SHOW PROCESSLIST" | awk -F '\t' '$2 == "SYNC" { print $1; exit }')
tap_is "$(as bob bob-pw -e "CANCEL $syid" | grep -c "ERROR 1095")" 1 "bob cannot CANCEL the admin's synchronous query: 1095"
out=$(QS -e "CANCEL $syid")
tap_is "$out" "Trying to kill query: CANCEL $syid" "a running synchronous query in SHOW PROCESSLIST is CANCELled by its ID"
i=0
while kill -0 $spid 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
case "$(cat "$T/sync_cancel.out")" in *ERROR*) tap_pass "its client gets an error" ;; *) tap_fail "its client gets an error" "$(head -c 200 "$T/sync_cancel.out")" ;; esac
tap_is "$(status "$syid")" ABORTED "the cancelled synchronous query is ABORTED in information_schema.queries"

# ---- the byte bound (--max-result-bytes, Qserv's resultdb.maxtablesize_mb):
# 3000 objectIds are more than 10000 bytes; a COUNT(*) is not
tap_ok "czar restarted with --max-result-bytes 10000" czar_restart --max-result-bytes 10000
bid=$(QS -e "SUBMIT SELECT objectId FROM Object" | cut -f1)
st=$(wait_done "$bid")
out=$(QS -e "SELECT ERROR FROM information_schema.queries WHERE ID = $bid")
case "$st $out" in "FAILED_LR MERGE_ERROR 1470 (QI=$bid; cancelling the query, queryResult table result_$bid is too large at "*" bytes, max allowed size is 10000 bytes)")
	tap_pass "a SUBMIT past --max-result-bytes: FAILED_LR, Qserv's bytes message" ;;
	*) tap_fail "a SUBMIT past --max-result-bytes: FAILED_LR, Qserv's bytes message" "$st $out" ;; esac
out=$(QS -e "SELECT objectId FROM Object ORDER BY objectId")
case "$out" in *"ERROR 1104"*"max allowed size is 10000 bytes)"*)
	tap_pass "a synchronous merge past it: 1104 with Qserv's message" ;;
	*) tap_fail "a synchronous merge past it: 1104 with Qserv's message" "$(echo "$out" | tail -c 300)" ;; esac
out=$(QS -e "SELECT objectId FROM Object" 2>&1 | tail -n 1)
syid=$(QS -e "SELECT MAX(ID) FROM information_schema.queries WHERE TYPE = 'SYNC' AND QUERY = 'SELECT objectId FROM Object'")
st=$(QS -e "SELECT STATUS, ERROR FROM information_schema.queries WHERE ID = ${syid:-0}")
case "$out|$st" in *"ERROR 1104"*"max allowed size is 10000 bytes)|FAILED_LR	MERGE_ERROR 1470 (QI=$syid;"*)
	tap_pass "a streamed synchronous result past it ends on 1104; its history row is FAILED_LR" ;;
	*) tap_fail "a streamed synchronous result past it ends on 1104; its history row is FAILED_LR" "$out|$st" ;; esac
tap_is "$(QS -e "SELECT COUNT(*) FROM Object")" 3000 "a small result under the bound is answered"
out="$(as bob bob-pw -e "SET GLOBAL QSERV_ROW_COUNTER_OPTIMIZATION = 0")|$(QS -e "SET GLOBAL QSERV_ROW_COUNTER_OPTIMIZATION = 1")"
case "$out" in *"ERROR 1227"*"SUPER"*"|") tap_pass "SET GLOBAL QSERV_ROW_COUNTER_OPTIMIZATION: bob (not admin) gets 1227, the admin OK" ;;
	*) tap_fail "SET GLOBAL QSERV_ROW_COUNTER_OPTIMIZATION: bob (not admin) gets 1227, the admin OK" "$out" ;; esac

# ---- restart
running=$(QS -e "SUBMIT $SLOW" | cut -f1)
QS -e "$SLOW" > /dev/null 2>&1 &
spid=$!
i=0
until [ -n "$(QS -e "SHOW PROCESSLIST" | awk -F '\t' '$2 == "SYNC" { print $1 }')" ] || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
srun=$(QS -e "SHOW PROCESSLIST" | awk -F '\t' '$2 == "SYNC" { print $1; exit }')
tap_ok "czar restarted while a job and a synchronous query run" czar_restart --max-result-rows 2000
wait $spid 2>/dev/null
QS -e "SELECT * FROM qserv_result($id)" | sort > "$T/after.out"
if cmp -s "$T/after.out" "$T/sync.out"; then tap_pass "a completed result survives the restart"
else tap_fail "a completed result survives the restart" "$(cat "$T/after.out")"; fi
tap_is "$(status "$id")	$(status "$running")" "COMPLETED	ABORTED" "the history survives; the running job is ABORTED"
out=$(QS -e "SELECT TYPE, STATUS, ERROR FROM information_schema.queries WHERE ID = ${srun:-0}")
tap_is "$out" "SYNC	ABORTED	the czar restarted while the query ran" "the running synchronous query is ABORTED too, with the reason"

# ---- pymysql
out=$($PY - "$QSERV_CZAR_PORT" "$QSERV_USER" "$QSERV_PASSWORD" <<'PYEOF' 2>&1
import sys, time, pymysql
c = pymysql.connect(host="127.0.0.1", port=int(sys.argv[1]), user=sys.argv[2], password=sys.argv[3], database="asy")
cur = c.cursor()
cur.execute("SUBMIT SELECT COUNT(*) FROM Object WHERE objectId > 100")
(job, where), = cur.fetchall()
assert [d[0] for d in cur.description] == ["jobId", "resultLocation"] and where == "table:result_%s" % job
for _ in range(600):
    cur.execute("SELECT STATUS FROM information_schema.queries WHERE ID = %s", (job,))
    if cur.fetchone()[0] != "EXECUTING":
        break
    time.sleep(0.1)
cur.execute("SELECT * FROM qserv_result(%s)" % job)
a = cur.fetchall()
cur.execute("SELECT COUNT(*) FROM Object WHERE objectId > 100")
print("same" if a == cur.fetchall() else "differ %r" % (a,))
PYEOF
)
tap_is "$out" same "pymysql: SUBMIT, poll, qserv_result equals the synchronous answer"

# ---- expiry and the history bound
tap_ok "czar restarted with --async-result-ttl 2 --query-history 5" czar_restart --async-result-ttl 2 --query-history 5
eid=$(QS -e "SUBMIT SELECT COUNT(*) FROM Object" | cut -f1)
wait_done "$eid" > /dev/null
i=0
until QS -e "SELECT * FROM qserv_result($eid)" | grep -q "ERROR 1146" || [ $i -gt 300 ]; do sleep 0.1; i=$((i + 1)); done
out=$(QS -e "SELECT * FROM qserv_result($eid)")
case "$out" in *"ERROR 1146"*) tap_pass "an unclaimed result expires" ;; *) tap_fail "an unclaimed result expires" "$out" ;; esac
for n in 1 2 3 4 5 6 7; do QS -e "SELECT COUNT(*) FROM Object WHERE objectId > $n" > /dev/null; done
tap_is "$(QS -e "SELECT COUNT(*) FROM information_schema.queries")" 5 "the history keeps the newest 5 rows"
tap_done
