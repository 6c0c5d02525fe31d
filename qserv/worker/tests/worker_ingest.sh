#!/bin/sh
# worker_ingest.sh: qserv-worker against a real private mariadbd: table and
# chunk creation, contributions (file://, http://, CSV body, async), bad CSV
# rejected with its line number and nothing loaded, a value MariaDB cannot
# convert poisons the transaction (commit refused, abort cleans), abort
# removes exactly the transaction's rows, a worker killed mid-transaction
# restarts with the transaction still abortable.
top=$(cd "$(dirname "$0")/../../.." && pwd)
. "$top/tools/tap.sh"
. "$top/tools/test-mariadb.sh"
BIN=${QSERV_BIN:-$top/build/bin}
T=$(mktemp -d /tmp/worker_ingest.XXXXXX)
WPID= HPID= KPID=
cleanup() {
	[ -n "$HPID" ] && kill "$HPID" 2>/dev/null
	[ -n "$KPID" ] && kill "$KPID" 2>/dev/null
	[ -n "$WPID" ] && kill "$WPID" 2>/dev/null
	test_mariadb_stop "$T"
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

tap_plan 33

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
sql() { mariadb --no-defaults -S "$T/my.sock" -uroot -N -B -e "$1"; }
test_mariadb_start "$T" --local-infile=1 || tap_diag "mariadbd did not start: $(tail -3 "$T/my.err")"
PORT=$(free_port)
W=http://127.0.0.1:$PORT
start_worker() {
	"$BIN/qserv-worker" --socket "$T/my.sock" --port "$PORT" --bind 127.0.0.1 --id worker-t \
		--staging "$T/staging" >> "$T/worker.log" 2>&1 &
	WPID=$!
	i=0; until curl -sf "$W/status" >/dev/null; do i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.1; done
}
start_worker
tap_ok "worker answers /status" curl -sf -o /dev/null "$W/status"

post() { curl -s -X POST "$W$1" -H 'Content-Type: application/json' -d "$2"; }
ok() { echo "$1" | jq -e '.success == 1' >/dev/null; }
has() { printf '%s' "$1" | grep -q -- "$2"; }

SCHEMA='[{"name":"objectId","type":"BIGINT NOT NULL"},{"name":"ra","type":"DOUBLE"},{"name":"decl","type":"DOUBLE"},{"name":"chunkId","type":"INT"},{"name":"subChunkId","type":"INT"}]'
tap_ok "create database" ok "$(post /worker/database '{"database":"wt"}')"
tap_ok "create director table" ok "$(post /worker/table "{\"database\":\"wt\",\"table\":\"Object\",\"is_partitioned\":1,\"is_director\":1,\"director_key\":\"objectId\",\"schema\":$SCHEMA}")"
tap_ok "create regular table" ok "$(post /worker/table '{"database":"wt","table":"Filter","is_partitioned":0,"schema":[{"name":"id","type":"INT"},{"name":"name","type":"CHAR(1)"}]}')"
tap_ok "place chunk 42" ok "$(post /worker/chunk '{"database":"wt","chunk":42}')"
tap_is "$(sql "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='wt' AND TABLE_NAME IN ('Object_42','ObjectFullOverlap_42')")" 2 \
	"chunk and overlap tables exist"
bad=$(post /worker/table '{"database":"wt","table":"Evil","is_partitioned":0,"schema":[{"name":"a","type":"INT); DROP TABLE x; --"}]}')
tap_is "$(echo "$bad" | jq -r .success)" 0 "a column type that could inject SQL is refused"

tap_ok "begin transaction 7" ok "$(post /worker/trans '{"database":"wt","transaction_id":7,"action":"begin"}')"
printf '1\t10.0\t1.0\t42\t1\n2\t10.1\t1.1\t42\t2\n3\t10.2\t1.2\t42\t3\n' > "$T/c42.txt"
printf '9\t10.3\t1.3\t42\t3\n' > "$T/c42o.txt"
r=$(post /ingest/file "{\"transaction_id\":7,\"table\":\"Object\",\"chunk\":42,\"overlap\":0,\"url\":\"file://$T/c42.txt\"}")
tap_is "$(echo "$r" | jq -r '.contrib.num_rows')" 3 "file:// contribution loads 3 rows"
r=$(post /ingest/file "{\"transaction_id\":7,\"table\":\"Object\",\"chunk\":42,\"overlap\":1,\"url\":\"file://$T/c42o.txt\"}")
tap_is "$(sql 'SELECT COUNT(*) FROM wt.ObjectFullOverlap_42')" 1 "overlap rows go to ObjectFullOverlap_42"
r=$(post /ingest/file "{\"transaction_id\":7,\"table\":\"Object\",\"chunk\":43,\"url\":\"file://$T/c42.txt\"}")
tap_ok "a chunk not placed here is refused" has "$r" 'not placed on this worker'

# http:// source served on loopback
mkdir -p "$T/www" && printf '1\tu\n2\tg\n' > "$T/www/filter.tsv"
HP=$(free_port)
(cd "$T/www" && exec python3 -m http.server "$HP" --bind 127.0.0.1) > /dev/null 2>&1 &
HPID=$!
i=0; until curl -sf "http://127.0.0.1:$HP/filter.tsv" >/dev/null; do i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.1; done
r=$(post /ingest/file "{\"transaction_id\":7,\"table\":\"Filter\",\"url\":\"http://127.0.0.1:$HP/filter.tsv\"}")
tap_is "$(echo "$r" | jq -r '.contrib.num_rows')" 2 "http:// contribution downloads and loads"

# rows in the request body, with a malformed third line
printf '3\tr\n4\ti\n5\n6\tz\n' > "$T/bad.tsv"
r=$(curl -s -X POST "$W/ingest/csv?transaction_id=7&table=Filter" --data-binary @"$T/bad.tsv")
tap_ok "bad CSV rejected naming line 3" has "$(echo "$r" | jq -r .error)" 'line 3: 1 fields, expected 2'
tap_is "$(sql 'SELECT COUNT(*) FROM wt.Filter')" 2 "nothing of the bad CSV was loaded"
r=$(printf '3\tr\n4\ti\n' | curl -s -X POST "$W/ingest/csv?transaction_id=7&table=Filter" --data-binary @-)
tap_is "$(echo "$r" | jq -r '.contrib.num_rows')" 2 "CSV body contribution loads after a rejected one"

# async
r=$(post /ingest/file-async "{\"transaction_id\":7,\"table\":\"Filter\",\"url\":\"file://$T/www/filter.tsv\"}")
id=$(echo "$r" | jq -r .contrib.id)
st=; i=0
while [ $i -lt 100 ]; do
	st=$(curl -s "$W/ingest/file-async/$id" | jq -r .contrib.status)
	[ "$st" = FINISHED ] || [ "$st" = FAILED ] && break
	i=$((i + 1)); sleep 0.1
done
tap_is "$st" FINISHED "async contribution finishes and reports its status"

tap_ok "commit 7" ok "$(post /worker/trans '{"database":"wt","transaction_id":7,"action":"commit"}')"
r=$(post /ingest/file "{\"transaction_id\":7,\"table\":\"Filter\",\"url\":\"file://$T/www/filter.tsv\"}")
tap_ok "a committed transaction takes no more rows" has "$r" 'is committed'

# transaction 8: a value MariaDB cannot convert -> poisoned, commit refused, abort cleans
post /worker/trans '{"database":"wt","transaction_id":8,"action":"begin"}' >/dev/null
printf '10\tx\nabc\ty\n' | curl -s -X POST "$W/ingest/csv?transaction_id=8&table=Filter" --data-binary @- > "$T/r8"
tap_ok "a value that does not convert fails the contribution" has "$(jq -r .error "$T/r8")" 'Incorrect integer value'
r=$(post /worker/trans '{"database":"wt","transaction_id":8,"action":"commit"}')
tap_ok "commit of a poisoned transaction is refused" has "$r" 'abort it'
tap_ok "abort 8" ok "$(post /worker/trans '{"database":"wt","transaction_id":8,"action":"abort"}')"
tap_is "$(sql 'SELECT COUNT(*) FROM wt.Filter WHERE qserv_trans_id=8')" 0 "abort removed the poisoned rows"

# transaction 9: worker killed after a load, restarted, abort still removes the rows
post /worker/trans '{"database":"wt","transaction_id":9,"action":"begin"}' >/dev/null
post /ingest/file "{\"transaction_id\":9,\"table\":\"Object\",\"chunk\":42,\"url\":\"file://$T/c42.txt\"}" >/dev/null
kill -9 "$WPID"; wait "$WPID" 2>/dev/null; WPID=
start_worker
r=$(post /worker/trans '{"database":"wt","transaction_id":9,"action":"abort"}')
tap_ok "after a worker crash the transaction is still known and aborts" ok "$r"
tap_is "$(sql 'SELECT COUNT(*) FROM wt.Object_42')" 3 "only the committed rows of chunk 42 remain"

# transaction 10: worker killed while MariaDB is loading a big file
awk 'BEGIN { for (i = 0; i < 2000000; i++) printf "%d\tq\n", i }' > "$T/big.tsv"
post /worker/trans '{"database":"wt","transaction_id":10,"action":"begin"}' >/dev/null
post /ingest/file-async "{\"transaction_id\":10,\"table\":\"Filter\",\"url\":\"file://$T/big.tsv\"}" >/dev/null
i=0
until [ "$(sql "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'LOAD DATA%'")" -gt 0 ] || [ $i -gt 200 ]; do
	i=$((i + 1)); sleep 0.02
done
kill -9 "$WPID"; wait "$WPID" 2>/dev/null; WPID=
start_worker
tap_diag "rows of the interrupted load before the abort: $(sql 'SELECT COUNT(*) FROM wt.Filter WHERE qserv_trans_id=10')"
tap_ok "abort after a crash in the middle of a load" ok "$(post /worker/trans '{"database":"wt","transaction_id":10,"action":"abort"}')"
tap_is "$(sql 'SELECT COUNT(*) FROM wt.Filter WHERE qserv_trans_id=10')" 0 "no partial row of the interrupted load is left"

# sub-chunk tables for near-neighbour queries
tap_ok "build sub-chunks 1 and 3 of chunk 42" ok "$(post /worker/subchunks '{"database":"wt","table":"Object","chunk":42,"sub_chunks":[1,3]}')"
tap_is "$(sql 'SELECT (SELECT GROUP_CONCAT(objectId) FROM Subchunks_wt_42.Object_42_1), (SELECT GROUP_CONCAT(objectId) FROM Subchunks_wt_42.Object_42_3), (SELECT GROUP_CONCAT(objectId) FROM Subchunks_wt_42.ObjectFullOverlap_42_3)')" \
	"$(printf '1\t3\t9')" "sub-chunk tables hold exactly their sub-chunk's rows and overlap"
curl -s -X DELETE "$W/worker/subchunks/wt/42" > /dev/null
tap_is "$(sql "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME='Subchunks_wt_42'")" 0 "sub-chunk database dropped"

# a second worker with an auth key and a file root
echo s3cret > "$T/key"
KP=$(free_port)
mkdir -p "$T/root"
"$BIN/qserv-worker" --socket "$T/my.sock" --port "$KP" --bind 127.0.0.1 --id worker-k \
	--staging "$T/staging" --auth-key-file "$T/key" --file-root "$T/root" >> "$T/worker-k.log" 2>&1 &
KPID=$!
i=0; until curl -sf "http://127.0.0.1:$KP/status" >/dev/null; do i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.1; done
tap_is "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$KP/worker/count?database=wt&table=Filter")" 401 \
	"with an auth key, a request without it is refused"
tap_is "$(curl -s -H 'X-Qserv-Auth-Key: s3cret' "http://127.0.0.1:$KP/worker/count?database=wt&table=Filter" | jq -r .success)" 1 \
	"and accepted with it"
curl -s -X POST "http://127.0.0.1:$KP/worker/trans" -H 'X-Qserv-Auth-Key: s3cret' \
	-d '{"database":"wt","transaction_id":11,"action":"begin"}' >/dev/null
r=$(curl -s -X POST "http://127.0.0.1:$KP/ingest/file" -d "{\"auth_key\":\"s3cret\",\"transaction_id\":11,\"table\":\"Filter\",\"url\":\"file:///etc/passwd\"}")
tap_ok "file:// outside --file-root is refused" has "$r" "not under the worker's --file-root"
cp "$T/www/filter.tsv" "$T/root/"
r=$(curl -s -X POST "http://127.0.0.1:$KP/ingest/file" -d "{\"auth_key\":\"s3cret\",\"transaction_id\":11,\"table\":\"Filter\",\"url\":\"file://$T/root/../root/filter.tsv\"}")
tap_is "$(echo "$r" | jq -r .contrib.num_rows)" 2 "file:// inside --file-root loads"
tap_done
