#!/bin/sh
# chunk_dirs.sh: with several --chunk-dir disks, qserv-worker spreads its
# chunk tables over them (chunk id modulo the count, MyISAM DATA/INDEX
# DIRECTORY) and keeps the prototype's indexes; rows load and read back, and
# dropping the database removes the files from those disks too.  With
# --chunk-dirs-file the list is read again when the file changes (a disk
# hot-added to the pool): new chunks follow it, without a restart.
top=$(cd "$(dirname "$0")/../../.." && pwd)
. "$top/tools/tap.sh"
. "$top/tools/test-mariadb.sh"
BIN=${QSERV_BIN:-$top/build/bin}
T=$(mktemp -d /tmp/worker_chunkdirs.XXXXXX)
WPID= W2PID=
cleanup() {
	[ -n "$WPID" ] && kill "$WPID" 2>/dev/null
	[ -n "$W2PID" ] && kill "$W2PID" 2>/dev/null
	test_mariadb_stop "$T"
	[ -n "$KEEP" ] || rm -rf "$T"
}
trap cleanup EXIT INT TERM
tap_plan 13

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
sql() { mariadb --no-defaults -S "$T/my.sock" -uroot -N -B -e "$1"; }
test_mariadb_start "$T" --local-infile=1 || tap_diag "mariadbd did not start: $(tail -3 "$T/my.err")"
mkdir -p "$T/disk0/chunks" "$T/disk1/chunks" "$T/staging"
PORT=$(free_port)
W=http://127.0.0.1:$PORT
KEY=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n'); echo "$KEY" > "$T/admin.key"   # the admin key writes need
"$BIN/qserv-worker" --socket "$T/my.sock" --port "$PORT" --bind 127.0.0.1 --id worker-cd \
	--staging "$T/staging" --file-root "$T" --auth-key-file "$T/admin.key" --chunk-dir "$T/disk0/chunks" --chunk-dir "$T/disk1/chunks" > "$T/worker.log" 2>&1 &
WPID=$!
i=0; until curl -sf "$W/status" >/dev/null; do i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.1; done
post() { curl -s -H "Authorization: Bearer $KEY" -X POST "$W$1" -H 'Content-Type: application/json' -d "$2"; }
ok() { echo "$1" | jq -en 'input | .success == 1' >/dev/null; }

SCHEMA='[{"name":"objectId","type":"BIGINT NOT NULL"},{"name":"ra","type":"DOUBLE"},{"name":"decl","type":"DOUBLE"},{"name":"chunkId","type":"INT"},{"name":"subChunkId","type":"INT"}]'
post /worker/database '{"database":"cd"}' > /dev/null
post /worker/table "{\"database\":\"cd\",\"table\":\"Object\",\"is_partitioned\":1,\"is_director\":1,\"director_key\":\"objectId\",\"schema\":$SCHEMA}" > /dev/null
tap_ok "index on the prototype" ok "$(post /worker/sqlindex '{"database":"cd","table":"Object","index":"idx_oid","spec":"DEFAULT","comment":"","columns":[{"column":"objectId","length":0,"ascending":1}]}')"
tap_ok "chunks 100 and 101 placed" ok "$(post /worker/chunk '{"database":"cd","chunk":100}')"
post /worker/chunk '{"database":"cd","chunk":101}' > /dev/null
tap_is "$(ls "$T/disk0/chunks/cd" 2>/dev/null | grep -c 'Object.*_100\.MYD')" 2 \
	"chunk 100 (even) data files on the first disk (chunk and overlap table)"
tap_is "$(ls "$T/disk1/chunks/cd" 2>/dev/null | grep -c 'Object.*_101\.MYD')" 2 \
	"chunk 101 (odd) data files on the second disk"
tap_is "$(find "$T/data/cd" -name '*_10[01].MYD' -type l | wc -l)" 4 "MariaDB's data directory holds only links to them"
tap_is "$(sql "SHOW CREATE TABLE cd.Object_101" | grep -c 'KEY `idx_oid`')" 1 "chunk table keeps the prototype's index"

post /worker/trans '{"database":"cd","transaction_id":1,"action":"begin"}' > /dev/null
printf '1\t10.0\t1.0\t101\t1\n2\t10.1\t1.1\t101\t2\n' > "$T/c101.txt"
r=$(post /ingest/file "{\"transaction_id\":1,\"table\":\"Object\",\"chunk\":101,\"overlap\":0,\"url\":\"file://$T/c101.txt\"}")
tap_is "$(echo "$r" | jq -r '.contrib.num_rows')" 2 "rows load into a chunk table on the second disk"
tap_is "$(sql 'SELECT COUNT(*) FROM cd.Object_101')" 2 "and read back"

# a second worker on the same MariaDB, its disks listed in a file
echo "$T/disk0/chunks" > "$T/dirs"
P2=$(free_port)
"$BIN/qserv-worker" --socket "$T/my.sock" --port "$P2" --bind 127.0.0.1 --id worker-cd2 \
	--staging "$T/staging" --auth-key-file "$T/admin.key" --chunk-dirs-file "$T/dirs" > "$T/worker2.log" 2>&1 &
W2PID=$!
i=0; until curl -sf "http://127.0.0.1:$P2/status" >/dev/null; do i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.1; done
post2() { curl -s -H "Authorization: Bearer $KEY" -X POST "http://127.0.0.1:$P2$1" -H 'Content-Type: application/json' -d "$2"; }
post2 /worker/chunk '{"database":"cd","chunk":103}' > /dev/null
tap_is "$(ls "$T/disk0/chunks/cd" 2>/dev/null | grep -c 'Object.*_103\.MYD')" 2 "one disk listed in the file: chunk 103 on it"
# the agent rewrites the file when a disk joins the pool (write + rename)
printf '%s\n%s\n' "$T/disk0/chunks" "$T/disk1/chunks" > "$T/dirs.tmp" && mv "$T/dirs.tmp" "$T/dirs"
post2 /worker/chunk '{"database":"cd","chunk":105}' > /dev/null
tap_is "$(ls "$T/disk1/chunks/cd" 2>/dev/null | grep -c 'Object.*_105\.MYD')" 2 "a second disk added to the file: chunk 105 (odd) on it, no restart"
tap_is "$(sql 'SELECT COUNT(*) FROM cd.Object_103') $(sql 'SELECT COUNT(*) FROM cd.Object_105')" "0 0" "both chunk tables answer"
printf 'relative/dir\n' > "$T/dirs.tmp" && mv "$T/dirs.tmp" "$T/dirs"
r=$(post2 /worker/chunk '{"database":"cd","chunk":107}')
case "$r$(sql "SHOW TABLES FROM cd LIKE 'Object_107'")" in *"absolute path"*"}") tap_pass "a bad line in the file: a clear error, no table" ;;
	*) tap_fail "a bad line in the file: a clear error, no table" "$r" ;; esac
post /worker/trans '{"database":"cd","transaction_id":1,"action":"abort"}' > /dev/null
curl -s -H "Authorization: Bearer $KEY" -X DELETE "$W/worker/database/cd" > /dev/null
sql "DROP DATABASE IF EXISTS cd" > /dev/null 2>&1
tap_is "$(find "$T/disk0/chunks" "$T/disk1/chunks" -name '*.MYD' | wc -l)" 0 "dropping the database removes the files on the disks"
tap_done
