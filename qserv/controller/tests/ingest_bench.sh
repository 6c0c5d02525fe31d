#!/bin/sh
# ingest_bench.sh: ingest throughput through the API vs a raw LOAD DATA of
# the same files into one MariaDB, and the director-index build rate, all
# measured in this run on this machine.
#
# Data: qserv-gen catalog (BENCH_OBJECTS objects, 2 sources each, a
# 10x10 degree field) partitioned by qserv-partition with S=85, SS=12
# (Qserv's test-dataset parameters).  API: `qservctl ingest -j 4` into a
# 2-worker dev cluster (each worker its own mariadbd), director index
# built afterwards by POST /ingest/index/secondary.  Baseline: one private
# mariadbd, one client, LOAD DATA LOCAL INFILE of every chunk and overlap
# file into one MyISAM table per catalog table (same column types).
# The cost of TLS on the ingest path: the same `qservctl ingest` into a
# second 2-worker dev cluster whose ingest APIs speak plain HTTP
# (dev-cluster --plain-http), MB/s of both in this run.  The publish's
# time, and the default index (qserv_director_key on Object, its
# FullOverlap tables and Source; built with the loads) timed alone: dropped, then built again
# through POST /replication/sql/index on both workers.
top=$(cd "$(dirname "$0")/../../.." && pwd)
BIN=${QSERV_BIN:-$top/build/bin}
TD=$top/qserv/controller/tests
N=${BENCH_OBJECTS:-400000}
T=$(mktemp -d /tmp/ingest_bench.XXXXXX)
RPID=
cleanup() {
	"$top/tools/dev-cluster" down --dir "$T/cluster" >/dev/null 2>&1
	"$top/tools/dev-cluster" down --dir "$T/plain" >/dev/null 2>&1
	if [ -n "$RPID" ]; then kill "$RPID" 2>/dev/null; sleep 1; kill -9 "$RPID" 2>/dev/null; fi
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
now() { date +%s.%N; }
calc() { echo "scale=3; $*" | bc; }
f2() { printf "%.2f" "$1"; }

"$top/tools/sample-catalog.sh" "$T" bench --objects "$N" --ra 0,10 --dec -5,5 --no-filter --no-auto-index || exit 1
rm -rf "$T/gen" "$T/part"
files=$(find "$T/ds/chunks" -name 'chunk_*.txt' | sort)
nfiles=$(echo "$files" | wc -l)
bytes=$(cat $files | wc -c)
rows=$(cat $files | wc -l)
mb=$(calc "$bytes / 1000000")
echo "# data: $N objects, $rows rows in $nfiles chunk/overlap files, $mb MB (mean $(calc "$mb / $nfiles") MB/file)"

# baseline: one MariaDB, raw LOAD DATA
"$top/tools/dev-cluster" up --workers 2 --dir "$T/cluster" > /dev/null || exit 1
mkdir -p "$T/raw"
cp -a "$T/cluster/template" "$T/raw/data"
userarg=; [ "$(id -u)" -eq 0 ] && userarg=--user=root
mariadbd --no-defaults --datadir="$T/raw/data" --socket="$T/raw/sock" --skip-networking $userarg \
	--local-infile=1 --skip-log-bin --innodb-buffer-pool-size=64M --key-buffer-size=128M \
	--bulk-insert-buffer-size=64M --log-error="$T/raw/err" > /dev/null 2>&1 &
RPID=$!
i=0; until mariadb-admin --no-defaults -S "$T/raw/sock" -uroot ping >/dev/null 2>&1; do i=$((i + 1)); [ $i -gt 300 ] && exit 1; sleep 0.1; done
cols() { jq -r '[.schema[] | "`\(.name)` \(.type)"] | join(", ")' "$T/ds/$1.json"; }
mariadb --no-defaults -S "$T/raw/sock" -uroot -e "CREATE DATABASE raw; CREATE TABLE raw.Object ($(cols Object)) ENGINE=MyISAM;
	CREATE TABLE raw.Source ($(cols Source)) ENGINE=MyISAM;"
for f in $files; do
	case $f in */Object/*) t=Object ;; *) t=Source ;; esac
	echo "LOAD DATA LOCAL INFILE '$f' INTO TABLE raw.$t;"
done > "$T/load.sql"
s=$(now)
mariadb --no-defaults --local-infile=1 -S "$T/raw/sock" -uroot < "$T/load.sql" || exit 1
raw_s=$(calc "$(now) - $s")
kill "$RPID"; wait "$RPID" 2>/dev/null; RPID=

# the API: qservctl ingest into the 2-worker dev cluster
set -a; . "$T/cluster/cluster.env"; set +a
. "$top/qserv/controller/tests/qcurl.sh"   # HTTPS with the cluster CA and the admin key
s=$(now)
"$BIN/qservctl" ingest -q -j 4 --no-publish "$T/ds" > "$T/ingest.out" || { cat "$T/ingest.out"; exit 1; }
api_s=$(calc "$(now) - $s")
s=$(now)
qcurl -sf -X PUT "$QSERV_INGEST_URL/ingest/database/bench" > /dev/null || exit 1
pub_s=$(calc "$(now) - $s")
# the default index publish builds (csqlidx.c), dropped and built again alone
sqlidx() { # METHOD TABLE OVERLAP [COLUMN]
	_cols=
	[ -n "${4:-}" ] && _cols=",\"spec\":\"DEFAULT\",\"comment\":\"\",\"columns\":[{\"column\":\"$4\"}]"
	qcurl -sf -X "$1" "$QSERV_INGEST_URL/replication/sql/index" -H 'Content-Type: application/json' -d \
		"{\"database\":\"bench\",\"table\":\"$2\",\"index\":\"qserv_director_key\",\"overlap\":$3$_cols}" > /dev/null
}
sqlidx DELETE Object 0 && sqlidx DELETE Object 1 && sqlidx DELETE Source 0 || exit 1
s=$(now)
sqlidx POST Object 1 objectId && sqlidx POST Source 0 objectId || exit 1
dix_s=$(calc "$(now) - $s")
s=$(now)
idx=$(qcurl -sf -X POST "$QSERV_INGEST_URL/ingest/index/secondary" -H 'Content-Type: application/json' \
	-d '{"database":"bench"}' | jq -r .index_rows)
idx_s=$(calc "$(now) - $s")

# the same ingest with the ingest APIs over plain HTTP (what TLS costs)
"$top/tools/dev-cluster" down --dir "$T/cluster" >/dev/null 2>&1
"$top/tools/dev-cluster" up --workers 2 --plain-http --dir "$T/plain" > /dev/null || exit 1
(
	unset QSERV_CA_FILE
	set -a; . "$T/plain/cluster.env"; set +a
	s=$(now)
	"$BIN/qservctl" ingest -q -j 4 --no-publish --state "$T/plain.state" "$T/ds" > "$T/ingest-plain.out" || { cat "$T/ingest-plain.out"; exit 1; }
	calc "$(now) - $s" > "$T/plain_s"
) || exit 1
plain_s=$(cat "$T/plain_s")

echo "raw LOAD DATA, 1 MariaDB:     $(f2 "$raw_s") s, $(calc "$rows / $raw_s" | cut -d. -f1) rows/s, $(f2 "$(calc "$mb / $raw_s")") MB/s"
echo "API ingest, 2 workers (-j 4): $(f2 "$api_s") s, $(calc "$rows / $api_s" | cut -d. -f1) rows/s, $(f2 "$(calc "$mb / $api_s")") MB/s"
echo "ingest API / raw LOAD DATA:   $(f2 "$(calc "$raw_s / $api_s")")x rows/s and MB/s (target >= 0.8)"
echo "API ingest over plain HTTP:   $(f2 "$plain_s") s, $(f2 "$(calc "$mb / $plain_s")") MB/s"
echo "HTTPS / plain HTTP ingest:    $(f2 "$(calc "$plain_s / $api_s")")x MB/s (the cost of TLS on the ingest path)"
echo "director index build:         $idx rows in $(f2 "$idx_s") s, $(calc "$idx / $idx_s" | cut -d. -f1) rows/s"
echo "publish (copies to level 2): $(f2 "$pub_s") s; the default index built by ALTER TABLE after the load instead (Object, its overlap, Source): $(f2 "$dix_s") s, $(f2 "$(calc "$dix_s / $api_s")")x the ingest time"
