#!/bin/sh
# ingest_e2e.sh: the whole ingest path on a 2-worker dev cluster: qserv-gen
# catalog -> qserv-partition -> qserv-ingest dataset -> `qservctl ingest`;
# then the workers' tables, the director index and the chunk placement are
# read back from every MariaDB and compared with the input.  Also: publish
# refused while a transaction is open, abort leaves no row (and no index
# row), a bad CSV row fails the ingest naming file and line and leaves
# nothing, resume after a crash (before and after a commit, and a kill -9)
# without duplicated or lost rows, DELETE of a database.  The APIs are
# HTTPS with the cluster CA and the admin key (cluster.env); section 10
# checks the refusals (no key, wrong key, plain HTTP, a worker's
# certificate, a controller without a key) and an ingest with
# --auth-key-file and --ca instead of the environment.
top=$(cd "$(dirname "$0")/../../.." && pwd)
. "$top/tools/tap.sh"
BIN=${QSERV_BIN:-$top/build/bin}
TD=$top/qserv/controller/tests
T=$(mktemp -d /tmp/ingest_e2e.XXXXXX)
BGPID= KPID= HPID=
cleanup() {
	[ -n "$HPID" ] && kill "$HPID" 2>/dev/null
	[ -n "$BGPID" ] && kill -9 "$BGPID" 2>/dev/null
	[ -n "$KPID" ] && kill "$KPID" 2>/dev/null
	"$top/tools/dev-cluster" down --dir "$T/cluster" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

tap_plan 63

for b in qserv-gen qserv-partition qserv-worker qserv-controller qservctl; do
	[ -x "$BIN/$b" ] || { echo "Bail out! $BIN/$b is not built"; exit 1; }
done
"$BIN/qserv-gen" --objects 3000 --sources-per-object 2 --out-dir "$T/gen" --ra 0,12 --dec -6,6 \
	--num-stripes 85 --num-sub-stripes 12 --overlap 0.01667 > "$T/gen.log" 2>&1
for t in Object Source; do
	"$BIN/qserv-partition" --config-file="$T/gen/$t.json" --in.path="$T/gen/$t.tsv" \
		--out.dir="$T/part/$t" > "$T/part-$t.log" 2>&1
done
printf '1\tu\n2\tg\n3\tr\n4\ti\n5\tz\n6\ty\n' > "$T/Filter.tsv"
NOBJ=$(wc -l < "$T/gen/Object.tsv")
NSRC=$(wc -l < "$T/gen/Source.tsv")
mkds() { /usr/bin/python3 "$TD/mkdataset.py" --db "$1" --gen "$T/gen" --part "$T/part" --out "$T/$1" --regular "$T/Filter.tsv"; }

# replica level 1: the layout checks count each chunk table once (copies: replication.sh)
tap_ok "dev cluster with 2 workers comes up" env QSERV_CONTROLLER_ARGS="--replication-level 1 ${QSERV_CONTROLLER_ARGS:-}" \
	"$top/tools/dev-cluster" up --workers 2 --dir "$T/cluster"
set -a; . "$T/cluster/cluster.env"; set +a
U=$QSERV_INGEST_URL
. "$TD/qcurl.sh"
api() { qcurl -s -X "$1" "$U$2" -H 'Content-Type: application/json' ${3:+-d "$3"}; }
layout() { /usr/bin/python3 "$TD/check_layout.py" "$T/cluster/cluster.env" "$1" Filter > "$T/layout-$1"; }
val() { sed -n "s/^$1|//p" "$T/layout-$2"; }
has() { printf '%s' "$1" | grep -q -- "$2"; }

# 1. a whole dataset
mkds e2e
tap_ok "qservctl ingest loads the dataset" "$BIN/qservctl" ingest -j 3 --batch 40 -q "$T/e2e"
layout e2e
tap_is "$(val object_rows e2e)" "$NOBJ" "every Object row is on a worker"
tap_is "$(val object_distinct e2e)" "$NOBJ" "no Object row is duplicated"
tap_is "$(val object_chunk_ok e2e)" "$NOBJ" "every Object row is in its own chunk's table"
tap_is "$(val source_rows e2e)" "$NSRC" "every Source row is on a worker"
tap_is "$(val index_rows e2e)" "$NOBJ" "director index has one row per object"
tap_is "$(val index_match e2e)" "$NOBJ" "director index chunk/sub-chunk match the rows"
tap_is "$(val placement_ok e2e)" 1 "chunk tables exist exactly where qservMeta.chunks says"
tap_ok "chunks are spread evenly (max-min <= 1)" test "$(val placement_spread e2e)" -le 1
tap_is "$(val regular_worker-1 e2e)/$(val regular_worker-2 e2e)" "6/6" "regular table on every worker"
tap_is "$(api GET /ingest/database | jq -r '.databases[] | select(.database=="e2e") | .is_published')" 1 \
	"database is published"
tap_ok "a second run finds it published and only validates" "$BIN/qservctl" ingest -q "$T/e2e"
mariadb --no-defaults -S "$QSERV_CZAR_DB_SOCKET" -uroot -e 'TRUNCATE TABLE qservMeta.e2e__Object'
tap_is "$(api POST /ingest/index/secondary '{"database":"e2e"}' | jq -r .index_rows)" "$NOBJ" \
	"director index rebuilt on request"
layout e2e
tap_is "$(val index_match e2e)" "$NOBJ" "rebuilt index matches the rows"
mariadb --no-defaults -S "$QSERV_WORKER_1_SOCKET" -uroot -e 'DELETE FROM e2e.Filter LIMIT 1'
"$BIN/qservctl" ingest -q "$T/e2e" > "$T/out-val" 2>&1
tap_is "$?" 1 "validation fails when a worker lost a row"
tap_ok "and names the table and worker" grep -q "e2e.Filter: 5 rows on worker-1, input 6" "$T/out-val"

# 2. publish refused while a transaction is open; abort leaves nothing
api POST /ingest/database '{"database":"e2a","num_stripes":85,"num_sub_stripes":12,"overlap":0.01667}' >/dev/null
api POST /ingest/table "$(jq -c '.database="e2a"' "$T/e2e/Object.json")" > "$T/r"
tap_is "$(jq -r .success "$T/r")" 1 "register a director table"
tid=$(api POST /ingest/trans '{"database":"e2a"}' | jq -r .transaction.id)
chunk=$(jq -r '.tables[0].data[0].chunks[0]' "$T/e2e/metadata.json")
loc=$(api POST /ingest/chunk "{\"transaction_id\":$tid,\"chunk\":$chunk}")
wurl="https://$(echo "$loc" | jq -r .location.http_host):$(echo "$loc" | jq -r .location.http_port)"
r=$(qcurl -s -X POST "$wurl/ingest/file" -d "{\"transaction_id\":$tid,\"table\":\"Object\",\"chunk\":$chunk,\"url\":\"file://$T/e2e/chunks/Object/chunk_$chunk.txt\"}")
tap_ok "contribution into the open transaction" test "$(echo "$r" | jq -r .contrib.num_rows)" -gt 0
r=$(api PUT /ingest/database/e2a)
tap_ok "publish refused while a transaction is open" has "$r" "open transaction"
tap_is "$(api PUT "/ingest/trans/$tid?abort=1" | jq -r .transaction.state)" ABORTED "abort"
layout e2a
tap_is "$(val object_rows e2a)" 0 "no row of the aborted transaction is left"
tap_is "$(val index_rows e2a)" 0 "no index row of the aborted transaction"
tap_is "$(api PUT /ingest/database/e2a | jq -r .success)" 1 "publish after the abort"
tap_ok "no transaction on a published database" has "$(api POST /ingest/trans '{"database":"e2a"}')" "published"
tap_is "$(api DELETE /ingest/database/e2a | jq -r .success)" 0 "a published database is not deleted"
tap_is "$(api PUT /ingest/database/e2a '{"publish":false}' | jq -r .success)" 1 "the operator un-publishes it"
tap_is "$(api DELETE /ingest/database/e2a | jq -r .success)" 1 "delete the database"
n=$(mariadb --no-defaults -S "$QSERV_WORKER_1_SOCKET" -uroot -N -e "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME='e2a'")
tap_is "$n" 0 "the deleted database is gone from the workers"

# 3. a bad row fails the ingest naming the file and line, and leaves nothing
mkds e2b
f=$(ls -S "$T/e2b/chunks/Source/" | head -1)
awk 'NR == 5 { sub(/\t[^\t]*$/, "") } { print }' "$T/e2b/chunks/Source/$f" > "$T/x" && mv "$T/x" "$T/e2b/chunks/Source/$f"
"$BIN/qservctl" ingest -q --batch 1000 "$T/e2b" > "$T/out-e2b" 2> "$T/err-e2b"
tap_is "$?" 1 "ingest with a bad row fails"
tap_ok "the error names the file and line 5" grep -q "chunks/Source/$f.*line 5:" "$T/err-e2b"
layout e2b
tap_is "$(val object_rows e2b)+$(val source_rows e2b)" "0+0" "the failed transaction left no row"
tap_is "$(api GET '/ingest/trans?database=e2b' | jq -r '.transactions[-1].state')" ABORTED "and was aborted"

# 4. resume: a transaction left open after a load (crash before commit) and
#    one committed whose commit never reached the state file
mkds e2r
api POST /ingest/database "$(cat "$T/e2r/db.json")" >/dev/null
for t in Object Source Filter; do api POST /ingest/table "$(cat "$T/e2r/$t.json")" >/dev/null; done
c1=$(jq -r '.tables[0].data[0].chunks[0]' "$T/e2r/metadata.json")
c2=$(jq -r '.tables[0].data[0].chunks[1]' "$T/e2r/metadata.json")
load_one() { # trans chunk
	l=$(api POST /ingest/chunk "{\"transaction_id\":$1,\"chunk\":$2}")
	qcurl -s -X POST "https://127.0.0.1:$(echo "$l" | jq -r .location.http_port)/ingest/file" \
		-d "{\"transaction_id\":$1,\"table\":\"Object\",\"chunk\":$2,\"url\":\"file://$T/e2r/chunks/Object/chunk_$2.txt\"}" >/dev/null
}
t1=$(api POST /ingest/trans '{"database":"e2r"}' | jq -r .transaction.id)
load_one "$t1" "$c1"
t2=$(api POST /ingest/trans '{"database":"e2r"}' | jq -r .transaction.id)
load_one "$t2" "$c2"
api PUT "/ingest/trans/$t2?abort=0" >/dev/null
t3=$(api POST /ingest/trans '{"database":"e2r","context":{"qservctl":"tok-killed-before-open"}}' | jq -r .transaction.id)
printf 'open %s\nfile %s Object chunks/Object/chunk_%s.txt\nopen %s\nfile %s Object chunks/Object/chunk_%s.txt\nbegin tok-killed-before-open\n' \
	"$t1" "$t1" "$c1" "$t2" "$t2" "$c2" > "$T/e2r/.qservctl-ingest.state"
tap_ok "resumed ingest succeeds (validation included)" "$BIN/qservctl" ingest -q "$T/e2r"
layout e2r
tap_is "$(val object_rows e2r)/$(val object_distinct e2r)" "$NOBJ/$NOBJ" "resume: no Object row lost or duplicated"
tap_is "$(api GET "/ingest/trans/$t1" | jq -r .transaction.state)" ABORTED "the transaction left open was aborted"
tap_is "$(api GET "/ingest/trans/$t3" | jq -r .transaction.state)" ABORTED \
	"a transaction created just before the kill is found by its context and aborted"

# 5. kill -9 in the middle of a run, then run again
mkds e2k
"$BIN/qservctl" ingest -q -j 1 --batch 20 "$T/e2k" > /dev/null 2>&1 &
BGPID=$!
i=0; until grep -q '^commit' "$T/e2k/.qservctl-ingest.state" 2>/dev/null || [ $i -gt 300 ]; do i=$((i + 1)); sleep 0.05; done
kill -9 "$BGPID" 2>/dev/null; wait "$BGPID" 2>/dev/null; BGPID=
tap_ok "rerun after kill -9 succeeds" "$BIN/qservctl" ingest -q "$T/e2k"
# an input file that changed after the load: only the input count notices
f=$(ls "$T"/e2k/chunks/Object/chunk_*[0-9].txt | head -1)
tail -1 "$f" >> "$f"
"$BIN/qservctl" ingest --validate loaded "$T/e2k" > "$T/out-loaded" 2>&1
tap_is "$?" 0 "validation against the rows the workers reported (--validate loaded)"
tap_is "$(grep -c ': ok$' "$T/out-loaded")" 3 "all three tables match the recorded loads"
"$BIN/qservctl" ingest -q "$T/e2k" > /dev/null 2>&1
tap_is "$?" 1 "validation against the input files sees the changed file"

layout e2k
tap_is "$(val object_rows e2k)/$(val object_distinct e2k)/$(val source_rows e2k)" "$NOBJ/$NOBJ/$NSRC" \
	"after kill -9 and resume: exact row counts"

# 6. rows uploaded in the request body instead of file:// URLs
mkds e2u
tap_ok "ingest with --transfer upload" "$BIN/qservctl" ingest -q --transfer upload "$T/e2u"
layout e2u
tap_is "$(val object_rows e2u)/$(val source_rows e2u)/$(val index_rows e2u)" "$NOBJ/$NSRC/$NOBJ" "upload: exact row counts and index"

# 7. LZ4-framed chunk files (qserv-partition's out.lz4 names: chunk_<id>.txt.lz4)
mkds e2l
"$BIN/qserv-partition" --config-file="$T/gen/Object.json" --in.path="$T/gen/Object.tsv" \
	--out.dir="$T/lz4" --out.lz4=true > /dev/null 2>&1
rm -f "$T"/e2l/chunks/Object/*.txt && cp "$T"/lz4/*.lz4 "$T/e2l/chunks/Object/"
tap_ok "ingest of .txt.lz4 chunk files" "$BIN/qservctl" ingest -q "$T/e2l"
layout e2l
tap_is "$(val object_rows e2l)/$(val object_distinct e2l)/$(val index_match e2l)" "$NOBJ/$NOBJ/$NOBJ" "lz4: exact rows and index"

# 8. qserv-ingest "formats" (comma-separated .txt files) and "indexes"
mkds e2f
for f in "$T"/e2f/chunks/*/*.txt; do tr '\t' ',' < "$f" > "$f.x" && mv "$f.x" "$f"; done
cat > "$T/e2f/idx_Object.json" <<'JSON'
{"version": 12, "database": "e2f", "table": "Object", "index": "objectId", "spec": "UNIQUE",
 "comment": "object id", "columns": [{"column": "objectId", "length": 0, "ascending": 1}]}
JSON
jq '.formats = {"txt": {"fields_terminated_by": ","}} | .tables[0].indexes = ["idx_Object.json"]' \
	"$T/e2f/metadata.json" > "$T/x" && mv "$T/x" "$T/e2f/metadata.json"
tap_ok "ingest of comma-separated files named by metadata \"formats\"" "$BIN/qservctl" ingest -q "$T/e2f"
layout e2f
tap_is "$(val object_rows e2f)/$(val source_rows e2f)" "$NOBJ/$NSRC" "formats: exact row counts"
q="SELECT COUNT(*) = (SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='e2f' AND TABLE_NAME REGEXP '^Object(_[0-9]+)?$')
   FROM information_schema.STATISTICS WHERE TABLE_SCHEMA='e2f' AND INDEX_NAME='objectId' AND NON_UNIQUE=0"
tap_is "$(mariadb --no-defaults -S "$QSERV_WORKER_1_SOCKET" -uroot -N -e "$q")/$(mariadb --no-defaults -S "$QSERV_WORKER_2_SOCKET" -uroot -N -e "$q")" \
	"1/1" "indexes: Object and every Object chunk table on every worker have the unique objectId index"

# 9. a dataset served over HTTP, as qserv-ingest does: the workers fetch the files
mkds e2h
HP=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd "$T/e2h" && exec python3 -m http.server "$HP" --bind 127.0.0.1) > /dev/null 2>&1 &
HPID=$!
i=0; until curl -sf -o /dev/null "http://127.0.0.1:$HP/metadata.json" || [ $i -gt 100 ]; do i=$((i + 1)); sleep 0.1; done
tap_ok "ingest of a dataset given as an http:// URL" "$BIN/qservctl" ingest -q --state "$T/e2h.state" "http://127.0.0.1:$HP/"
layout e2h
tap_is "$(val object_rows e2h)/$(val source_rows e2h)/$(val index_match e2h)" "$NOBJ/$NSRC/$NOBJ" "http dataset: exact rows and index"
kill "$HPID"; HPID=

# 9b. a director key that is a string: the index keeps every byte of it
# (a tab, a backslash, a quote, a newline travel escaped from the worker
# and go in as hex), and a key loaded twice counts as a duplicate
api POST /ingest/database '{"database":"e2s","num_stripes":8,"num_sub_stripes":4,"overlap":0.01,"auto_build_secondary_index":1}' >/dev/null
api POST /ingest/table '{"database":"e2s","table":"Obj","is_partitioned":1,"director_key":"name","latitude_key":"decl","longitude_key":"ra","schema":[{"name":"name","type":"VARCHAR(32) NOT NULL"},{"name":"ra","type":"DOUBLE NOT NULL"},{"name":"decl","type":"DOUBLE NOT NULL"},{"name":"chunkId","type":"INT NOT NULL"},{"name":"subChunkId","type":"INT NOT NULL"}]}' >/dev/null
printf '%s\t%s\t%s\t%s\t%s\n' 'a\tb' 10 1 5 50 'back\\slash' 11 1 5 50 "it's" 12 1 5 50 'new\nline' 13 1 5 50 \
	plain 14 1 5 50 > "$T/e2s-5.tsv"
printf '%s\t%s\t%s\t%s\t%s\n' plain 15 1 6 60 other 16 1 6 60 > "$T/e2s-6.tsv"
load_str() { # trans chunk
	l=$(api POST /ingest/chunk "{\"transaction_id\":$1,\"chunk\":$2}")
	qcurl -s -X POST "https://127.0.0.1:$(echo "$l" | jq -r .location.http_port)/ingest/file" \
		-d "{\"transaction_id\":$1,\"table\":\"Obj\",\"chunk\":$2,\"url\":\"file://$T/e2s-$2.tsv\"}" | jq -r .contrib.num_rows_loaded
}
ts=$(api POST /ingest/trans '{"database":"e2s"}' | jq -r .transaction.id)
tap_is "$(load_str "$ts" 5)" 5 "string keys: five rows with a tab, a backslash, a quote and a newline in them loaded"
r=$(api PUT "/ingest/trans/$ts?abort=0")
tap_is "$(echo "$r" | jq -r '"\(.index_rows)/\(.index_duplicates)"')" 5/0 "their commit indexed five keys"
n=$(mariadb --no-defaults -S "$QSERV_CZAR_DB_SOCKET" -uroot -N -e "SELECT COUNT(*) FROM qservMeta.e2s__Obj WHERE chunkId = 5 AND name IN ('a\\tb', 'back\\\\slash', 'it\\'s', 'new\\nline', 'plain')")
tap_is "$n" 5 "the index holds each key byte for byte"
ts=$(api POST /ingest/trans '{"database":"e2s"}' | jq -r .transaction.id)
load_str "$ts" 6 >/dev/null
r=$(api PUT "/ingest/trans/$ts?abort=0")
tap_is "$(echo "$r" | jq -r '"\(.index_rows)/\(.index_duplicates)"')" 1/1 "a key already indexed is skipped and counted as a duplicate"

# 10. credentials: the cluster's controller refuses what has none
code() { qcurl -s -o /dev/null -w '%{http_code}' "$@"; }
tap_is "$(QSERV_AUTH_KEY= code -X POST "$U/ingest/trans" -d '{"database":"e2k"}')" 401 \
	"auth key: a write without it is refused (401)"
tap_is "$(QSERV_AUTH_KEY=0000 code -X POST "$U/ingest/trans" -d '{"database":"e2k"}')" 401 \
	"auth key: a wrong key is refused (401)"
tap_is "$(QSERV_AUTH_KEY= qcurl -s "$U/ingest/database" | jq -r .success)" 1 "auth key: listing needs none"
tap_is "$(curl -s -o /dev/null -w '%{http_code}' "http://${U#https://}/status")" 000 \
	"plain HTTP to the HTTPS port gets no HTTP answer"
QCURL_CERT_DIR=$QSERV_DEV_DIR/pki
qcurl_cert worker-1
tap_is "$(QSERV_AUTH_KEY= code -X DELETE "$U/ingest/database/e2e")" 403 \
	"a worker's certificate cannot call the controller's admin API (403)"
qcurl_cert ""
KP=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN/qserv-controller" --socket "$QSERV_CZAR_DB_SOCKET" --port "$KP" --bind 127.0.0.1 --staging "$T" \
	--tls-dir "$QSERV_DEV_DIR/pki" --tls-name czar > "$T/controller-k.log" 2>&1 &
KPID=$!
i=0; until qcurl -sf "https://127.0.0.1:$KP/status" >/dev/null; do i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.1; done
tap_is "$(code -X POST "https://127.0.0.1:$KP/ingest/trans" -d '{"database":"e2k"}')" 403 \
	"a controller without an admin key refuses every write, even with a key (403)"
mkds e2z
echo "$QSERV_AUTH_KEY" > "$T/key"
env -u QSERV_AUTH_KEY -u QSERV_CA_FILE "$BIN/qservctl" --auth-key-file "$T/key" ingest --ca "$QSERV_CA_FILE" \
	-q "$T/e2z" > "$T/out-k" 2>&1
tap_is "$?" 0 "a whole ingest with --auth-key-file and --ca works"
env -u QSERV_AUTH_KEY -u QSERV_CA_FILE "$BIN/qservctl" ingest -q "$T/e2z" > "$T/out-n" 2>&1
tap_is "$?" 1 "without the key and the CA, qservctl ingest fails"
tap_done
