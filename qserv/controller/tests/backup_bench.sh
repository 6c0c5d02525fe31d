#!/bin/sh
# backup_bench.sh: backup and restore MB/s (qservctl backup / restore,
# cbackup*.c) against mariadb-dump of the same tables and its reload, in
# the same run, on a dev cluster of 3 workers (level 2).
#
# A catalog of OBJECTS (default 100000) objects with 2 sources each (about
# 300,000 rows) is ingested and published.  MB is the database's plain
# table data on one replica set (information_schema DATA_LENGTH of the
# chunk, overlap and regular tables: what both sides read).  Measured:
#   backup:  qservctl backup DB (to the workers' pools)
#   dump:    mariadb-dump of DB on each of the 3 workers in turn (every
#            chunk is on 2 of them: the time is halved to count one replica
#            set, as the backup reads)
#   restore: qservctl restore after the database was dropped (includes the
#            publish: the second replica of every chunk copied)
#   reload:  the dumps loaded into a new database on each worker (halved)
# Printed: MB/s of each and the ratios backup/dump, restore/reload.
# Asserts nothing.
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
BIN=${BUILD:-$REPO/build}/bin
T=$(mktemp -d /tmp/qserv-backupbench.XXXXXX)
DC="$REPO/tools/dev-cluster"
cleanup() {
	"$DC" down --dir "$T/cluster" > /dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM
command -v mariadbd > /dev/null && command -v jq > /dev/null && command -v mariadb-dump > /dev/null ||
	{ echo "backup_bench: needs mariadbd, mariadb-dump and jq"; exit 0; }
OBJECTS=${OBJECTS:-100000}
DB=bb
now() { date +%s.%N | cut -c1-14; }
since() { echo "$1" | awk -v t="$(now)" '{ printf "%.2f", t - $1 }'; }
rate() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", (s > 0 ? b / s / 1e6 : 0) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
my() { _s=$1; shift; mariadb --no-defaults -S "$_s" -uroot -N -B "$@"; }

"$REPO/tools/sample-catalog.sh" "$T/cat" $DB --objects "$OBJECTS" --sources-per-object 2 --ra 0,40 --dec -20,20 \
	--stripes 12 --sub-stripes 4 > "$T/gen.log" 2>&1 || { tail -3 "$T/gen.log"; exit 1; }
"$DC" up --workers 3 --dir "$T/cluster" > "$T/up.log" 2>&1 || { tail -3 "$T/up.log"; exit 1; }
set -a; . "$T/cluster/cluster.env"; set +a
"$BIN/qservctl" ingest -q "$T/cat/ds" > "$T/ingest.log" 2>&1 || { tail -3 "$T/ingest.log"; exit 1; }
ROWS=$(( $(wc -l < "$T/cat/gen/Object.tsv") + $(wc -l < "$T/cat/gen/Source.tsv") ))

# plain bytes of one replica set: every worker's tables summed, over the level (2)
bytes=0
for i in 1 2 3; do
	eval "s=\$QSERV_WORKER_${i}_SOCKET"
	b=$(my "$s" -e "SELECT IFNULL(SUM(DATA_LENGTH), 0) FROM information_schema.TABLES WHERE TABLE_SCHEMA='$DB'")
	bytes=$((bytes + b))
done
bytes=$((bytes / 2))
echo "catalog: $ROWS rows, $(rate "$bytes" 1) MB of table data per replica set, 3 workers, level 2"

t0=$(now)
"$BIN/qservctl" backup $DB --name bench > "$T/backup.log" 2>&1 || { tail -3 "$T/backup.log"; exit 1; }
tb=$(since "$t0")
packed=$(curl -s --cacert "$QSERV_CA_FILE" "$QSERV_INGEST_URL/backup/status" | jq '[.manifest.files[].bytes] | add')

# the baseline: mariadb-dump of each worker's copy, halved (each chunk is on 2 workers)
t0=$(now)
for i in 1 2 3; do
	eval "s=\$QSERV_WORKER_${i}_SOCKET"
	mariadb-dump --no-defaults -S "$s" -uroot --skip-lock-tables $DB > "$T/dump$i.sql" || exit 1
done
td=$(awk -v s="$(since "$t0")" 'BEGIN { printf "%.2f", s / 2 }')
dumpb=$(cat "$T"/dump?.sql | wc -c)

curl -s -o /dev/null --cacert "$QSERV_CA_FILE" -X PUT -H "Authorization: Bearer $QSERV_AUTH_KEY" \
	-H 'Content-Type: application/json' -d '{"publish":false}' "$QSERV_INGEST_URL/ingest/database/$DB"
curl -s -o /dev/null --cacert "$QSERV_CA_FILE" -X DELETE -H "Authorization: Bearer $QSERV_AUTH_KEY" \
	"$QSERV_INGEST_URL/ingest/database/$DB"
t0=$(now)
"$BIN/qservctl" restore bench > "$T/restore.log" 2>&1 || { tail -3 "$T/restore.log"; exit 1; }
tr=$(since "$t0")

t0=$(now)
for i in 1 2 3; do
	eval "s=\$QSERV_WORKER_${i}_SOCKET"
	my "$s" -e "CREATE DATABASE reload" && my "$s" reload < "$T/dump$i.sql" || exit 1
done
tl=$(awk -v s="$(since "$t0")" 'BEGIN { printf "%.2f", s / 2 }')

echo "backup:  $tb s, $(rate "$bytes" "$tb") MB/s plain ($(rate "$packed" 1) MB of LZ4 files)"
echo "dump:    $td s, $(rate "$bytes" "$td") MB/s plain ($(rate "$dumpb" 1) MB of SQL for all 3 workers; time halved)"
echo "restore: $tr s, $(rate "$bytes" "$tr") MB/s plain (loads, checksums, director index, publish with the second replicas)"
tl2=$(awk -v s="$tl" 'BEGIN { printf "%.2f", s * 2 }')
echo "reload:  $tl s, $(rate "$bytes" "$tl") MB/s plain (time halved; every replica: $tl2 s, as the restore ends with both)"
echo "ratios: backup/dump $(ratio "$(rate "$bytes" "$tb")" "$(rate "$bytes" "$td")"), restore/reload $(ratio "$(rate "$bytes" "$tr")" "$(rate "$bytes" "$tl")") (against the reload of every replica $(ratio "$tl2" "$tr"))"
