#!/bin/sh
# worker_ingest.sh: qserv-worker against a real private mariadbd: table and
# chunk creation, contributions (file://, http://, CSV body, async), bad CSV
# rejected with its line number and nothing loaded, a value MariaDB cannot
# convert is a warning kept with the contribution (as in Qserv), abort
# removes exactly the transaction's rows, a worker killed mid-transaction
# restarts with the transaction still abortable.  The API is HTTPS (a PKI
# from qserv-certs) and every write carries the admin key (qcurl.sh).
top=$(cd "$(dirname "$0")/../../.." && pwd)
. "$top/tools/tap.sh"
. "$top/tools/test-mariadb.sh"
BIN=${QSERV_BIN:-$top/build/bin}
T=$(mktemp -d /tmp/worker_ingest.XXXXXX)
WPID= HPID= KPID= HUNG=
cleanup() {
	[ -n "$HPID" ] && kill "$HPID" 2>/dev/null
	[ -n "$HUNG" ] && kill "$HUNG" 2>/dev/null
	[ -n "$KPID" ] && kill "$KPID" 2>/dev/null
	[ -n "$WPID" ] && kill "$WPID" 2>/dev/null
	test_mariadb_stop "$T"
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

tap_plan 54

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
sql() { mariadb --no-defaults -S "$T/my.sock" -uroot -N -B -e "$1"; }
test_mariadb_start "$T" --local-infile=1 || tap_diag "mariadbd did not start: $(tail -3 "$T/my.err")"
# the admin key every write needs (qhttp.h); K2 is the second worker's
KEY=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n'); echo "$KEY" > "$T/admin.key"
K2=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n'); echo "$K2" > "$T/key"
acurl() { qcurl -H "Authorization: Bearer $KEY" "$@"; }
PORT=$(free_port)
W=https://127.0.0.1:$PORT
"$BIN/qserv-certs" --dir "$T/pki" --cluster wt --name worker-t --role worker > /dev/null || tap_diag "qserv-certs failed"
# qcurl: HTTPS checked against the CA; the key only where a call says so
QSERV_AUTH_KEY= QSERV_CA_FILE=$T/pki/ca.pem
. "$top/qserv/controller/tests/qcurl.sh"
TLS="--tls-dir $T/pki --tls-name worker-t"
start_worker() {
	QSERV_FETCH_TIMEOUT_S=3 QSERV_CONTRIB_MAX_BYTES=100000 \
	"$BIN/qserv-worker" --socket "$T/my.sock" --port "$PORT" --bind 127.0.0.1 --id worker-t \
		--staging "$T/staging" --file-root "$T" --auth-key-file "$T/admin.key" $TLS >> "$T/worker.log" 2>&1 &
	WPID=$!
	i=0; until qcurl -sf "$W/status" >/dev/null; do i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.1; done
}
start_worker
tap_ok "worker answers /status" qcurl -sf -o /dev/null "$W/status"

post() { acurl -s -X POST "$W$1" -H 'Content-Type: application/json' -d "$2"; }
ok() { echo "$1" | jq -en 'input | .success == 1' >/dev/null; }
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
r=$(acurl -s -X POST "$W/ingest/csv?transaction_id=7&table=Filter" --data-binary @"$T/bad.tsv")
tap_ok "bad CSV rejected naming line 3" has "$(echo "$r" | jq -r .error)" 'line 3: 1 fields, expected 2'
tap_is "$(sql 'SELECT COUNT(*) FROM wt.Filter')" 2 "nothing of the bad CSV was loaded"
r=$(printf '3\tr\n4\ti\n' | acurl -s -X POST "$W/ingest/csv?transaction_id=7&table=Filter" --data-binary @-)
tap_is "$(echo "$r" | jq -r '.contrib.num_rows')" 2 "CSV body contribution loads after a rejected one"

# async
r=$(post /ingest/file-async "{\"transaction_id\":7,\"table\":\"Filter\",\"url\":\"file://$T/www/filter.tsv\"}")
id=$(echo "$r" | jq -r .contrib.id)
st=; i=0
while [ $i -lt 100 ]; do
	st=$(acurl -s "$W/ingest/file-async/$id" | jq -r .contrib.status)
	[ "$st" = FINISHED ] || [ "$st" = FAILED ] && break
	i=$((i + 1)); sleep 0.1
done
tap_is "$st" FINISHED "async contribution finishes and reports its status"

tap_ok "commit 7" ok "$(post /worker/trans '{"database":"wt","transaction_id":7,"action":"commit"}')"
r=$(post /ingest/file "{\"transaction_id\":7,\"table\":\"Filter\",\"url\":\"file://$T/www/filter.tsv\"}")
tap_ok "a committed transaction takes no more rows" has "$r" 'is committed'

# transaction 8: a value MariaDB cannot convert -> a warning counted and kept
# (Qserv's behaviour, issue 14), the contribution FINISHED, the commit goes on
post /worker/trans '{"database":"wt","transaction_id":8,"action":"begin"}' >/dev/null
printf '10\tx\nabc\ty\n' | acurl -s -X POST "$W/ingest/csv?transaction_id=8&table=Filter" --data-binary @- > "$T/r8"
tap_is "$(jq -r '[.contrib.status, .contrib.num_warnings, .contrib.num_rows_loaded] | join(" ")' "$T/r8")" "FINISHED 1 2" \
	"a value that does not convert is a warning, not a failure"
tap_ok "the warning is kept with MariaDB's message" has "$(jq -r '.contrib.warnings[0].message' "$T/r8")" 'Incorrect integer value'
tap_ok "commit 8" ok "$(post /worker/trans '{"database":"wt","transaction_id":8,"action":"commit"}')"
tap_is "$(sql 'SELECT COUNT(*) FROM wt.Filter WHERE qserv_trans_id=8')" 2 "its rows are kept"

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
r=$(post /worker/trans '{"database":"wt","transaction_id":10,"action":"commit"}')
tap_ok "commit after a restart that interrupted a load is refused" has "$r" 'abort it'
tap_ok "the interrupted contribution is known after the restart, FAILED" \
	has "$(acurl -s "$W/ingest/file-async/$(sql 'SELECT MAX(id) FROM qservWorker.contribs WHERE trans=10')")" \
	'"status":"FAILED".*stopped while loading'
tap_ok "abort after a crash in the middle of a load" ok "$(post /worker/trans '{"database":"wt","transaction_id":10,"action":"abort"}')"
tap_is "$(sql 'SELECT COUNT(*) FROM wt.Filter WHERE qserv_trans_id=10')" 0 "no partial row of the interrupted load is left"

# sub-chunk tables for near-neighbour queries
tap_ok "build sub-chunks 1 and 3 of chunk 42" ok "$(post /worker/subchunks '{"database":"wt","table":"Object","chunk":42,"sub_chunks":[1,3]}')"
tap_is "$(sql 'SELECT (SELECT GROUP_CONCAT(objectId) FROM Subchunks_wt_42.Object_42_1), (SELECT GROUP_CONCAT(objectId) FROM Subchunks_wt_42.Object_42_3), (SELECT GROUP_CONCAT(objectId) FROM Subchunks_wt_42.ObjectFullOverlap_42_3)')" \
	"$(printf '1\t3\t9')" "sub-chunk tables hold exactly their sub-chunk's rows and overlap"
acurl -s -X DELETE "$W/worker/subchunks/wt/42" > /dev/null
tap_is "$(sql "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME='Subchunks_wt_42'")" 0 "sub-chunk database dropped"

# a second worker with an auth key and a file root
KP=$(free_port)
mkdir -p "$T/root"
"$BIN/qserv-worker" --socket "$T/my.sock" --port "$KP" --bind 127.0.0.1 --id worker-k \
	--staging "$T/staging" --auth-key-file "$T/key" --file-root "$T/root" $TLS >> "$T/worker-k.log" 2>&1 &
KPID=$!
i=0; until qcurl -sf "https://127.0.0.1:$KP/status" >/dev/null; do i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.1; done
tap_is "$(QSERV_AUTH_KEY= qcurl -s -o /dev/null -w '%{http_code}' "https://127.0.0.1:$KP/worker/count?database=wt&table=Filter")" 401 \
	"with an auth key, a request without it is refused"
tap_is "$(QSERV_AUTH_KEY= qcurl -s -H "X-Qserv-Auth-Key: $K2" "https://127.0.0.1:$KP/worker/count?database=wt&table=Filter" | jq -r .success)" 1 \
	"and accepted with it"
qcurl -s -X POST "https://127.0.0.1:$KP/worker/trans" -H "X-Qserv-Auth-Key: $K2" \
	-d '{"database":"wt","transaction_id":11,"action":"begin"}' >/dev/null
r=$(qcurl -s -X POST "https://127.0.0.1:$KP/ingest/file" -d "{\"auth_key\":\"$K2\",\"transaction_id\":11,\"table\":\"Filter\",\"url\":\"file:///etc/passwd\"}")
tap_ok "file:// outside --file-root is refused naming the field" has "$r" '"error":"url: the file is not under'
ln -s /etc/passwd "$T/root/link.tsv"
r=$(qcurl -s -X POST "https://127.0.0.1:$KP/ingest/file" -d "{\"auth_key\":\"$K2\",\"transaction_id\":11,\"table\":\"Filter\",\"url\":\"file://$T/root/link.tsv\"}")
tap_ok "a symlink out of --file-root is refused" has "$r" '"error":"url: the file is not under'
r=$(qcurl -s -X POST "https://127.0.0.1:$KP/ingest/file" -d "{\"auth_key\":\"$K2\",\"transaction_id\":11,\"table\":\"Filter\",\"url\":\"file://$T/root/../../../../../../etc/passwd\"}")
tap_ok "a .. out of --file-root is refused" has "$r" '"error":"url: the file is not under'
tap_is "$(qcurl -s -o /dev/null -w '%{http_code}' -X POST "https://127.0.0.1:$KP/ingest/file" -d "{\"auth_key\":\"$K2\",\"transaction_id\":11,\"table\":\"Filter\",\"url\":\"file://$T/root/nothere.tsv/../../c42.txt\"}")" 403 \
	"a missing file named through .. is refused as outside (403), not probed"
cp "$T/www/filter.tsv" "$T/root/"
r=$(qcurl -s -X POST "https://127.0.0.1:$KP/ingest/file" -d "{\"auth_key\":\"$K2\",\"transaction_id\":11,\"table\":\"Filter\",\"url\":\"file://$T/root/../root/filter.tsv\"}")
tap_is "$(echo "$r" | jq -r .contrib.num_rows)" 2 "file:// inside --file-root loads"
kill "$KPID"; wait "$KPID" 2>/dev/null; KPID=

# without --file-root, file:// reads only under the staging directory
KP=$(free_port)
"$BIN/qserv-worker" --socket "$T/my.sock" --port "$KP" --bind 127.0.0.1 --id worker-d \
	--staging "$T/staging" --auth-key-file "$T/admin.key" $TLS >> "$T/worker-d.log" 2>&1 &
KPID=$!
i=0; until qcurl -sf "https://127.0.0.1:$KP/status" >/dev/null; do i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.1; done
acurl -s -X POST "https://127.0.0.1:$KP/worker/trans" -d '{"database":"wt","transaction_id":12,"action":"begin"}' >/dev/null
r=$(acurl -s -X POST "https://127.0.0.1:$KP/ingest/file" -d "{\"transaction_id\":12,\"table\":\"Filter\",\"url\":\"file://$T/www/filter.tsv\"}")
tap_ok "the default file root is the staging directory: a file outside is refused" has "$r" '"error":"url: the file is not under'
cp "$T/www/filter.tsv" "$T/staging/in-staging.tsv"
r=$(acurl -s -X POST "https://127.0.0.1:$KP/ingest/file" -d "{\"transaction_id\":12,\"table\":\"Filter\",\"url\":\"file://$T/staging/in-staging.tsv\"}")
tap_is "$(echo "$r" | jq -r .contrib.num_rows)" 2 "and a file in the staging directory loads"
acurl -s -X POST "https://127.0.0.1:$KP/worker/trans" -d '{"database":"wt","transaction_id":12,"action":"abort"}' >/dev/null
kill "$KPID"; wait "$KPID" 2>/dev/null; KPID=

# a registered table is not rewritten; the index exports only its key
obj() { echo "{\"database\":\"wt\",\"table\":\"Object\",\"is_partitioned\":1,\"is_director\":1,\"director_key\":\"$1\",\"schema\":$SCHEMA}"; }
r=$(post /worker/table "$(obj ra)")
tap_ok "POST /worker/table rewriting director_key is refused naming the field" has "$r" '"error":"director_key: table wt.Object is already registered'
tap_is "$(sql "SELECT director_key FROM qservWorker.tables WHERE db='wt' AND name='Object'")" objectId "the registered director_key is unchanged"
tap_ok "the same registration again is accepted" ok "$(post /worker/table "$(obj objectId)")"
r=$(post /worker/table '{"database":"wt","table":"Odd","is_partitioned":1,"is_director":1,"director_key":"nope","schema":[{"name":"a","type":"INT"},{"name":"chunkId","type":"INT"},{"name":"subChunkId","type":"INT"}]}')
tap_ok "a director_key that is not a column is refused" has "$r" '"error":"director_key: nope is not a column'
tap_is "$(acurl -s "$W/worker/index?database=wt&table=Object" | cut -f1 | sort -n | tr '\n' ' ')" "1 2 3 " \
	"GET /worker/index exports the registered director key column"
tap_ok "GET /worker/index of a regular table is refused" has "$(acurl -s "$W/worker/index?database=wt&table=Filter")" 'not a director table'

# http:// sources: a time limit and a size limit
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(8); print(s.getsockname()[1]); sys.stdout.flush()
conns = []
end = time.time() + 120
while time.time() < end:
    s.settimeout(1)
    try: conns.append(s.accept()[0])
    except socket.timeout: pass
' > "$T/hung.port" &
HUNG=$!
i=0; until [ -s "$T/hung.port" ] || [ $i -gt 100 ]; do i=$((i + 1)); sleep 0.1; done
post /worker/trans '{"database":"wt","transaction_id":13,"action":"begin"}' >/dev/null
r=$(post /ingest/file "{\"transaction_id\":13,\"table\":\"Filter\",\"url\":\"http://127.0.0.1:$(cat "$T/hung.port")/x.tsv\"}")
tap_ok "a source that never answers times out (QSERV_FETCH_TIMEOUT_S)" has "$r" 'did not finish within 3 s'
kill "$HUNG" 2>/dev/null; wait "$HUNG" 2>/dev/null
awk 'BEGIN { for (i = 0; i < 30000; i++) printf "%d\tq\n", i }' > "$T/www/big.tsv"
r=$(post /ingest/file "{\"transaction_id\":13,\"table\":\"Filter\",\"url\":\"http://127.0.0.1:$HP/big.tsv\"}")
tap_ok "a source over QSERV_CONTRIB_MAX_BYTES is refused" has "$r" 'larger than the worker.s limit of 100000 bytes'
tap_ok "and the transaction still commits (nothing was loaded)" ok "$(post /worker/trans '{"database":"wt","transaction_id":13,"action":"commit"}')"

# a published database takes no writes
post /worker/database '{"database":"wp"}' >/dev/null
post /worker/table '{"database":"wp","table":"R","is_partitioned":0,"schema":[{"name":"id","type":"INT"},{"name":"name","type":"CHAR(1)"}]}' >/dev/null
post /worker/trans '{"database":"wp","transaction_id":14,"action":"begin"}' >/dev/null
tap_ok "publish wp" ok "$(post /worker/publish '{"database":"wp"}')"
r=$(post /ingest/file "{\"transaction_id\":14,\"table\":\"R\",\"url\":\"file://$T/www/filter.tsv\"}")
tap_is "$(echo "$r" | jq -r .contrib.status)/$(echo "$r" | jq -r .error | cut -c1-24)" "FAILED/database wp is published" \
	"a contribution to a published database is refused naming it"
r=$(post /worker/trans '{"database":"wp","transaction_id":15,"action":"begin"}')
tap_ok "a new transaction in a published database is refused" has "$r" 'database wp is published'
r=$(acurl -s -X DELETE "$W/worker/database/wp")
tap_ok "dropping a published database is refused" has "$r" 'database wp is published'
tap_is "$(sql "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='wp'")" 1 "and its table is still there"
tap_done
